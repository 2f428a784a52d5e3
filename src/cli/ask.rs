//! `duet ask "question"`: one question through the providers' failover (or
//! only the `--provider` named), the answer streamed to stdout, then its
//! numbered sources; what fell back and why goes to stderr. For scripts and
//! for checking a configuration end to end.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use chrono::Datelike;

use super::args::{AskArgs, Cli};
use super::bootstrap::{EXIT_SETUP, Started, start};
use super::plain::format_sources;
use crate::app::{self, App};

use crate::chat::messages;
use crate::chat::prompt::system_message;
use crate::chat::router::{self, RouterConfig};
use crate::config::Config;
use crate::providers::{
    AnswerError, AnswerPlan, Answered, ChatMessage, Completion, CompletionRequest, ErrorKind,
    FailoverNote, Progress, ProviderError, ProviderKind, Providers, Role,
};

/// Exit status when the provider could not answer.
const EXIT_PROVIDER_FAILED: u8 = 1;

/// Exit 0 with the answer printed; 1 when the provider failed; 2 for setup problems.
pub fn ask(cli: &Cli, args: &AskArgs, env: &HashMap<String, String>) -> ExitCode {
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
    runtime.block_on(async {
        let Started {
            app,
            log_file: _log,
        } = match start(cli, env, app::Role::OneShot).await {
            Ok(started) => started,
            Err(code) => return code,
        };
        run(&app, args).await
    })
}

async fn run(app: &App, args: &AskArgs) -> ExitCode {
    let config = &*app.config();
    let providers = app.service.providers();
    let question = args.question.join(" ");
    let Some((plan, question)) = plan(&providers, args.provider, question, config) else {
        eprintln!("duet: {}", not_configured(args.provider));
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
        web_tool: false,
        chat_model: None,
    };
    let answer = if args.no_stream {
        providers
            .answer(plan, &request, None)
            .await
            .inspect(|answered| print!("{}", answered.completion.text))
    } else {
        stream_to_stdout(&providers, plan, &request).await
    };
    match answer {
        Ok(answered) => {
            print_sources(&answered.completion);
            if let Some(note) = answered.note {
                eprint!("{}", describe_failover(note));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            println!();
            tracing::error!(%error, "ask failed");
            for error in error.errors() {
                eprintln!("duet: {}", explain(error));
            }
            if let AnswerError::NotConfigured { provider } = error {
                eprintln!("duet: {}", not_configured(Some(provider)));
            }
            ExitCode::from(EXIT_PROVIDER_FAILED)
        }
    }
}

/// Only the named provider; else the one the router picks for the question
/// (its routing prefix removed), with failover. `None` when nothing usable
/// is configured.
fn plan(
    providers: &Providers,
    wanted: Option<ProviderKind>,
    question: String,
    config: &Config,
) -> Option<(AnswerPlan, String)> {
    if let Some(kind) = wanted {
        return providers
            .get(kind)
            .map(|_| (AnswerPlan::only(kind), question));
    }
    if providers.available().is_empty() {
        return None;
    }
    let router = RouterConfig::from_config(config, chrono::Utc::now().year());
    let route = router::route(&question, &[], &router);
    let reasons: Vec<String> = route.reasons.iter().map(ToString::to_string).collect();
    tracing::info!(provider = %route.provider, reasons = %reasons.join(", "), "routed");
    let mut plan = AnswerPlan::routed(route.provider, config.routing.reroute_cannot_browse);
    if route.outcome == router::Outcome::Undecided {
        plan = plan.with_web_tool(config.routing.web_tool);
    }
    Some((plan, route.question))
}

async fn stream_to_stdout(
    providers: &Providers,
    plan: AnswerPlan,
    request: &CompletionRequest,
) -> Result<Answered, AnswerError> {
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let print = async {
        let mut printed = false;
        while let Some(event) = received.recv().await {
            let text = match event {
                Progress::Delta(delta) => delta,
                // What is on the terminal cannot be taken back: end the line and say so.
                Progress::Restart { provider } if printed => {
                    let _ = writeln!(std::io::stdout().lock());
                    eprintln!("duet: the text above is dropped; {provider} answers from the start");
                    printed = false;
                    continue;
                }
                Progress::Restart { .. } => continue,
                Progress::Searching { queries } => {
                    eprintln!("duet: {}", messages::searching(&queries));
                    continue;
                }
            };
            printed |= !text.is_empty();
            let mut out = std::io::stdout().lock();
            // A closed stdout (`| head`) must not abort the request.
            let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
        }
    };
    let (result, ()) = tokio::join!(providers.answer(plan, request, Some(events)), print);
    result
}

/// What failover did, for stderr: a line saying what happened, then the
/// note a Discord user gets with such an answer, if any.
fn describe_failover(note: FailoverNote) -> String {
    let what = match note {
        FailoverNote::FellBack { from, to, reason } => {
            format!("duet: {from} failed ({reason}); {to} answered instead\n")
        }
        FailoverNote::Rerouted { from, to } => {
            format!("duet: {from} said it cannot browse; {to} answered instead\n")
        }
        FailoverNote::RerouteFailed { from, to, reason } => format!(
            "duet: {from} said it cannot browse; re-asking {to} failed ({reason}), so this is {from}'s answer\n"
        ),
        FailoverNote::WebToolFailed { reason } => format!(
            "duet: openai asked for a web search; perplexity failed ({reason}), so openai answered without it\n"
        ),
    };
    match messages::failover_note(note) {
        Some(user_note) => format!("{what}duet: {user_note}\n"),
        None => what,
    }
}

fn print_sources(completion: &Completion) {
    println!();
    if !completion.sources.is_empty() {
        println!();
        print!("{}", format_sources(&completion.sources));
    }
}

/// Which keys make `provider` (or any provider) usable.
fn not_configured(provider: Option<ProviderKind>) -> String {
    match provider {
        Some(ProviderKind::OpenAi) => {
            "openai is not configured (set OPENAI_API_KEY, or OPENAI_API_URL to a local server)"
                .into()
        }
        Some(ProviderKind::Perplexity) => {
            "perplexity is not configured (set PERPLEXITY_API_KEY, or PERPLEXITY_API_URL to a local server)"
                .into()
        }
        None => "no provider is configured (set OPENAI_API_KEY or PERPLEXITY_API_KEY, or OPENAI_API_URL to a local server)".into(),
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
        ErrorKind::Misconfigured => format!("{provider} is not set up right: {error}"),
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
    }

    #[test]
    fn a_fallback_from_perplexity_carries_the_web_search_note() {
        let text = describe_failover(FailoverNote::FellBack {
            from: ProviderKind::Perplexity,
            to: ProviderKind::OpenAi,
            reason: ErrorKind::Overloaded,
        });
        assert_eq!(
            text,
            "duet: perplexity failed (overloaded); openai answered instead\n\
             duet: Web search is unavailable right now, so this answer has no live sources.\n"
        );
        let rerouted = describe_failover(FailoverNote::Rerouted {
            from: ProviderKind::OpenAi,
            to: ProviderKind::Perplexity,
        });
        assert_eq!(
            rerouted,
            "duet: openai said it cannot browse; perplexity answered instead\n"
        );
    }
}
