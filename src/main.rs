//! trailctl: connect an AWS account to a log collector so that it receives
//! the account's CloudTrail logs.
//!
//! The pipeline of every mutating command: CLI (`cli`) → validated settings
//! (`settings`) → desired state (`desired`) → current state (`inventory`,
//! through `resources`) → pure plan (`plan`) → permission preflight
//! (`preflight`, with `iam`) → apply with an undo journal
//! (`apply`). `main` only parses, runs and maps the outcome to an exit code
//! (`exit`).
#![forbid(unsafe_code)]

mod apply;
mod aws;
mod cli;
mod commands;
mod desired;
mod exit;
mod iam;
mod inventory;
mod output;
mod plan;
mod preflight;
mod replay;
mod resources;
mod settings;
mod status;
#[cfg(test)]
mod testing;

use std::process::ExitCode;

use clap::Parser;
use owo_colors::OwoColorize;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let settings = match settings::from_cli(cli) {
        Ok(settings) => settings,
        Err(e) => return report(&e.into()),
    };
    let printer = output::Printer::new(settings.global.output);
    // One thread: trailctl waits on the network, and its concurrency is
    // I/O, which a single-threaded runtime interleaves as well.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(&anyhow::Error::new(e).context("starting the async runtime")),
    };
    match runtime.block_on(commands::run(settings, &printer)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn report(error: &anyhow::Error) -> ExitCode {
    if error.downcast_ref::<exit::VerdictCode>().is_some() {
        return ExitCode::from(exit::code_for(error));
    }
    anstream::eprintln!("{} {error:#}", "error:".red().bold());
    ExitCode::from(exit::code_for(error))
}
