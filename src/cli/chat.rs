//! `duet chat`: a conversation in the terminal on the same pipeline and
//! memory as the Discord bot.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use super::Cli;
use super::bootstrap::start;
use crate::chat::{Conversations, Incoming, Outcome};
use crate::config::Purpose;

/// The channel id terminal conversations are stored under.
pub const TERMINAL_CHANNEL: &str = "terminal";

const HELP: &str = "Type a message. Commands: /reset (clear this conversation), /export (show everything stored about you), /forget (delete it), /quit. Ctrl-D ends.";

/// A line typed at the prompt, parsed before anything runs.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Message(&'a str),
    Reset,
    Forget,
    Export,
    Quit,
    Help,
    Empty,
}

fn parse(line: &str) -> Line<'_> {
    match line.trim() {
        "" => Line::Empty,
        "/reset" => Line::Reset,
        "/forget" => Line::Forget,
        "/export" => Line::Export,
        "/quit" | "/exit" => Line::Quit,
        "/help" => Line::Help,
        text => Line::Message(text),
    }
}

pub async fn chat(cli: &Cli, env: &HashMap<String, String>, user: &str, verbose: bool) -> ExitCode {
    let started = match start(cli, env, Purpose::Terminal).await {
        Ok(started) => started,
        Err(code) => return code,
    };
    let service = started.service;
    eprintln!("duet chat as {user:?} — {HELP}");
    let (lines_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    // stdin blocks; read it on its own thread so the runtime stays free.
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    prompt();
    while let Some(line) = lines.recv().await {
        let outcome = match parse(&line) {
            Line::Empty => {
                prompt();
                continue;
            }
            Line::Quit => break,
            Line::Help => Outcome::Notice(HELP.to_string()),
            Line::Reset => service.reset(user, TERMINAL_CHANNEL).await,
            Line::Forget => service.forget(user).await,
            Line::Export => service.export(user).await,
            Line::Message(text) => service.handle(incoming(user, text), None).await,
        };
        print_outcome(&outcome, verbose);
        prompt();
    }
    service
        .drain(started.config.orchestrator.shutdown_grace)
        .await;
    ExitCode::SUCCESS
}

fn incoming(user: &str, text: &str) -> Incoming {
    Incoming {
        user_id: user.to_string(),
        user_name: user.to_string(),
        channel_id: TERMINAL_CHANNEL.to_string(),
        text: text.to_string(),
        forced: None,
        privileged: false,
    }
}

fn prompt() {
    print!("> ");
    // A closed stdout ends the session at the next read anyway.
    let _ = std::io::stdout().flush();
}

fn print_outcome(outcome: &Outcome, verbose: bool) {
    match outcome {
        Outcome::Answer(answer) => {
            println!("[{} · {}]", answer.provider, answer.model);
            if verbose {
                println!("reasons: {}", answer.reasons.join(", "));
            }
            println!("{}\n", answer.rendered);
        }
        Outcome::Notice(text) => println!("{text}\n"),
        Outcome::Silent => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_parsed_before_anything_runs() {
        assert_eq!(parse(" /reset "), Line::Reset);
        assert_eq!(parse("/forget"), Line::Forget);
        assert_eq!(parse("/export"), Line::Export);
        assert_eq!(parse("/quit"), Line::Quit);
        assert_eq!(parse("   "), Line::Empty);
        assert_eq!(
            parse("what is /reset for?"),
            Line::Message("what is /reset for?")
        );
    }
}
