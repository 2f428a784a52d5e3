//! `duet chat`: a conversation in the terminal on the same pipeline and
//! memory as the Discord bot.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;

use super::args::Cli;
use super::bootstrap::{EXIT_SETUP, start};
use super::plain::render_plain;
use crate::app::{App, Role};
use crate::chat::{ChatService, Conversations, Incoming, Outcome, Partial, messages};
use crate::ops::{EXIT_INTERRUPTED, Signal, signals};

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
    /// A `/word` that is not one of the commands above.
    Unknown(&'a str),
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
        text if is_command_like(text) => Line::Unknown(text),
        text => Line::Message(text),
    }
}

pub async fn chat(cli: &Cli, env: &HashMap<String, String>, user: &str, verbose: bool) -> ExitCode {
    let app = match start(cli, env, Role::Terminal).await {
        Ok(started) => Arc::new(started.app),
        Err(code) => return code,
    };
    let signals = match signals() {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("duet: cannot listen for signals: {error}");
            return ExitCode::from(EXIT_SETUP);
        }
    };
    let stopper = tokio::spawn(stop_on_signal(Arc::clone(&app), signals));
    let service = &app.service;
    eprintln!("duet chat as {user:?} — {HELP}");
    let mut lines = read_stdin();
    prompt();
    loop {
        let line = tokio::select! {
            line = lines.recv() => line,
            () = app.shutdown.requested() => None,
        };
        let Some(line) = line else { break };
        let outcome = match parse(&line) {
            Line::Empty => {
                prompt();
                continue;
            }
            Line::Quit => break,
            Line::Help => Outcome::Notice(HELP.to_string()),
            Line::Unknown(command) => {
                Outcome::Notice(format!("{command} is not a command. {HELP}"))
            }
            Line::Reset => service.reset(user, TERMINAL_CHANNEL).await,
            Line::Forget => service.forget(user).await,
            Line::Export => service.export(user).await,
            Line::Message(text) => answer_showing_searches(service, incoming(user, text)).await,
        };
        print_outcome(&outcome, verbose);
        if app.shutdown.is_requested() {
            break;
        }
        prompt();
    }
    if app.shutdown.is_requested() {
        // A signal started the drain; wait for it to end.
        let _ = stopper.await;
    } else {
        stopper.abort();
        app.stop().await;
    }
    ExitCode::SUCCESS
}

/// Answers `message`, showing the web searches the provider runs on one
/// stderr line while the answer is on its way (the answer itself prints
/// whole). Searches seen only in the last update are shown too, so a fast
/// answer never hides them.
async fn answer_showing_searches(service: &ChatService, message: Incoming) -> Outcome {
    let (progress, mut shown) = tokio::sync::watch::channel(Partial::default());
    let handle = service.handle(message, Some(progress));
    tokio::pin!(handle);
    let mut printed: Vec<String> = Vec::new();
    let outcome = loop {
        tokio::select! {
            outcome = &mut handle => break outcome,
            changed = shown.changed() => {
                if changed.is_err() {
                    break handle.await;
                }
                show_searches(&shown.borrow_and_update(), &mut printed);
            }
        }
    };
    show_searches(&shown.borrow(), &mut printed);
    if !printed.is_empty() {
        eprintln!();
    }
    outcome
}

/// Rewrites the stderr line when the searches announced so far changed.
fn show_searches(partial: &Partial, printed: &mut Vec<String>) {
    if partial.searching.is_empty() || partial.searching == *printed {
        return;
    }
    eprint!("\r{}", messages::searching(&partial.searching));
    printed.clone_from(&partial.searching);
}

/// The lines typed at the prompt. stdin blocks; it is read on its own
/// thread so the runtime stays free.
fn read_stdin() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (lines_tx, lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// Ctrl-C (or SIGTERM) goes through the bot's one drain: the answer in
/// progress gets SHUTDOWN_GRACE_SECS, then it is interrupted and says so.
/// A second Ctrl-C quits at once.
async fn stop_on_signal(app: Arc<App>, mut signals: UnboundedReceiver<Signal>) {
    while let Some(signal) = signals.recv().await {
        if signal == Signal::Terminate {
            break;
        }
    }
    eprintln!("\nstopping: finishing the answer in progress (Ctrl-C again to quit now)");
    app.shutdown.request();
    tokio::select! {
        _ = app.stop() => {}
        () = next_terminate(&mut signals) => std::process::exit(EXIT_INTERRUPTED),
    }
}

async fn next_terminate(signals: &mut UnboundedReceiver<Signal>) {
    while let Some(signal) = signals.recv().await {
        if signal == Signal::Terminate {
            return;
        }
    }
    std::future::pending().await
}

fn incoming(user: &str, text: &str) -> Incoming {
    Incoming {
        user_id: user.to_string(),
        user_name: user.to_string(),
        channel_id: TERMINAL_CHANNEL.to_string(),
        guild_id: None,
        settings: None,
        text: text.to_string(),
        forced: None,
        privileged: false,
        attachments: Default::default(),
    }
}

/// `/word` alone: meant as a command, never as a question for the model.
fn is_command_like(text: &str) -> bool {
    text.strip_prefix('/').is_some_and(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
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
            println!("{}\n", render_plain(answer));
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
        assert_eq!(parse("/frobnicate"), Line::Unknown("/frobnicate"));
        assert_eq!(parse("/r/rust is nice"), Line::Message("/r/rust is nice"));
    }
}
