//! The `duet` binary: parses the command line and hands over to `duet::cli`.

use std::process::ExitCode;

use clap::Parser;
use duet::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = cli::process_env();
    match &cli.command {
        Some(Command::CheckConfig) => cli::check_config(&cli, &env),
        Some(Command::Ask(args)) => cli::ask(&cli, args, &env),
        Some(Command::Route(args)) => cli::route(&cli, args, &env),
        Some(Command::Chat(args)) => {
            let user = args
                .user
                .clone()
                .or_else(|| env.get("USER").cloned())
                .unwrap_or_else(|| "terminal".into());
            runtime().block_on(cli::chat(&cli, &env, &user, args.verbose))
        }
        Some(Command::Run) | None => runtime().block_on(cli::run(&cli, &env)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}
