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
        None => {
            eprintln!(
                "duet: the Discord bot (`duet run`) is not built yet; try `duet check-config`"
            );
            ExitCode::from(2)
        }
    }
}
