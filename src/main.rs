//! The `duet` binary: parses the command line and hands over to `duet::cli`.

use std::future::Future;
use std::process::ExitCode;

use clap::Parser;
use duet::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = match cli::process_env() {
        Ok(env) => env,
        Err(errors) => {
            cli::report(&errors);
            return ExitCode::from(2);
        }
    };
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
            block_on(cli::chat(&cli, &env, &user, cli.verbose))
        }
        Some(Command::Run) | None => block_on(cli::run(&cli, &env)),
    }
}

fn block_on(command: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(error) => {
            eprintln!("duet: cannot start the async runtime: {error}");
            ExitCode::from(2)
        }
    }
}
