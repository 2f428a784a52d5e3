//! `duet ask "question"`: one question through a provider's pooled client,
//! the answer streamed to stdout, then its numbered sources. For scripts and
//! for checking a configuration end to end.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use clap::Args;

use super::plain::format_sources;
use super::{Cli, load_or_report, report};
use chrono::Datelike;

use crate::chat::prompt::system_message;
use crate::chat::router::{self, RouterConfig};
use crate::config::{Config, Purpose};
use crate::providers::{
    ChatMessage, Completion, CompletionRequest, ErrorKind, ProviderClient, ProviderError,
    ProviderKind, Providers, Role,
};

/// Exit status when the provider could not answer.
const EXIT_PROVIDER_FAILED: u8 = 1;
/// Exit status for configuration and usage problems.
const EXIT_SETUP: u8 = 2;

/// Ask one question and print the answer, then its sources.
#[derive(Debug, Args)]
pub struct AskArgs {
    /// openai or perplexity (default: the router decides).
    #[arg(long, value_parser = parse_provider)]
    pub provider: Option<ProviderKind>,
    /// Print the answer once complete instead of as it streams.
    #[arg(long)]
    pub no_stream: bool,
    /// The question (several words are joined with spaces).
    #[arg(required = true, value_name = "QUESTION")]
    pub question: Vec<String>,
}

fn parse_provider(name: &str) -> Result<ProviderKind, String> {
    ProviderKind::parse(name)
        .ok_or_else(|| format!("{name:?} is not a provider (openai or perplexity)"))
}

/// Exit 0 with the answer printed; 1 when the provider failed; 2 for setup problems.
pub fn ask(cli: &Cli, args: &AskArgs, env: &HashMap<String, String>) -> ExitCode {
    let config = match load_or_report(cli, env) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if let Err(errors) = config.require(Purpose::Terminal) {
        report(&errors);
        return ExitCode::from(EXIT_SETUP);
    }
    if let Err(error) = crate::logging::init(&config, env.get("RUST_LOG").map(String::as_str)) {
        eprintln!("duet: cannot open LOG_FILE: {error}");
        return ExitCode::from(EXIT_SETUP);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("duet: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    runtime.block_on(run(&config, args))
}

async fn run(config: &Config, args: &AskArgs) -> ExitCode {
    let providers = match Providers::from_config(config) {
        Ok(providers) => providers,
        Err(error) => {
            eprintln!("duet: cannot set up the providers: {error}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    let question = args.question.join(" ");
    let Some(client) = pick(&providers, args.provider, &question, config) else {
        let name = args.provider.map_or("no provider", ProviderKind::as_str);
        eprintln!("duet: {name} is not configured (set its API key, or a local OPENAI_API_URL)");
        return ExitCode::from(EXIT_SETUP);
    };
    let request = CompletionRequest {
        messages: vec![
            ChatMessage::new(
                Role::System,
                system_message(&config.prompt.system_message, chrono::Utc::now()),
            ),
            ChatMessage::new(Role::User, question),
        ],
        user_hash: None,
    };
    let answer = if args.no_stream {
        client
            .complete(&request)
            .await
            .inspect(|c| print!("{}", c.text))
    } else {
        stream_to_stdout(client, &request).await
    };
    match answer {
        Ok(completion) => {
            print_sources(&completion);
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!();
            tracing::error!(%error, "ask failed");
            eprintln!("duet: {}", explain(&error));
            ExitCode::from(EXIT_PROVIDER_FAILED)
        }
    }
}

/// The named provider, else the one the router picks for the question.
fn pick<'a>(
    providers: &'a Providers,
    wanted: Option<ProviderKind>,
    question: &str,
    config: &Config,
) -> Option<&'a ProviderClient> {
    let kind = wanted.unwrap_or_else(|| {
        let router = RouterConfig::from_config(config, chrono::Utc::now().year());
        let route = router::route(question, &[], &router);
        let reasons: Vec<String> = route.reasons.iter().map(ToString::to_string).collect();
        tracing::info!(provider = %route.provider, reasons = %reasons.join(", "), "routed");
        route.provider
    });
    providers.get(kind)
}

async fn stream_to_stdout(
    client: &ProviderClient,
    request: &CompletionRequest,
) -> Result<Completion, ProviderError> {
    let (deltas, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    let print = async {
        while let Some(delta) = received.recv().await {
            let mut out = std::io::stdout().lock();
            // A closed stdout (`| head`) must not abort the request.
            let _ = out.write_all(delta.as_bytes()).and_then(|()| out.flush());
        }
    };
    let (result, ()) = tokio::join!(client.stream(request, deltas), print);
    result
}

fn print_sources(completion: &Completion) {
    println!();
    if !completion.sources.is_empty() {
        println!();
        print!("{}", format_sources(&completion.sources));
    }
}

/// A short explanation for the terminal; the detail went to the log.
fn explain(error: &ProviderError) -> String {
    let provider = error.provider();
    let key = match provider {
        ProviderKind::OpenAi => "OPENAI_API_KEY",
        ProviderKind::Perplexity => "PERPLEXITY_API_KEY",
    };
    match error.kind() {
        ErrorKind::Unauthorized => format!("{provider} rejected the API key; check {key}"),
        ErrorKind::QuotaExhausted => {
            format!("{provider} says the account's quota or credit is used up")
        }
        ErrorKind::RateLimited => match error.retry_after() {
            Some(wait) => format!(
                "{provider} is rate limiting; try again in {} s",
                wait.as_secs().max(1)
            ),
            None => format!("{provider} is rate limiting; try again shortly"),
        },
        ErrorKind::Timeout => format!("{provider} did not answer in time"),
        ErrorKind::Overloaded => format!("{provider} is overloaded or failing; try again shortly"),
        ErrorKind::BadRequest => format!("{provider} rejected the request: {error}"),
        ErrorKind::Malformed => format!("{provider} sent an answer that could not be read"),
        ErrorKind::Connect => format!("cannot reach {provider}; check the network and its API URL"),
        ErrorKind::PoolExhausted => format!("all connections to {provider} are busy"),
        ErrorKind::EndpointRetired => {
            format!("{provider}'s legacy Sonar endpoint is retired; set PERPLEXITY_API=agent")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unauthorized_error_names_the_key_to_check() {
        let error = ProviderError::Unauthorized {
            provider: ProviderKind::Perplexity,
            status: 401,
            message: "nope".into(),
        };
        assert_eq!(
            explain(&error),
            "perplexity rejected the API key; check PERPLEXITY_API_KEY"
        );
        assert!(parse_provider("OpenAI").is_ok());
        assert!(parse_provider("claude").is_err());
    }
}
