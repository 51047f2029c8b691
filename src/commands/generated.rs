//! `trailctl completions <shell>` and the hidden `trailctl man`: text
//! generated from the clap definitions, so they never drift from the CLI.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "trailctl", &mut std::io::stdout());
    Ok(())
}

pub fn man_page() -> anyhow::Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    std::io::stdout().write_all(&page)?;
    Ok(())
}
