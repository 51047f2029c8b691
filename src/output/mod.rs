//! All output goes through the [`Printer`]: results on stdout, progress and
//! warnings on stderr; colour only on a terminal (anstream strips it
//! otherwise and honours `NO_COLOR`); JSON documents with `--output json`.

mod plan_view;
mod preflight_view;
mod status_view;

use std::io::{IsTerminal, Write};
use std::time::Duration;

use owo_colors::OwoColorize;
use serde::Serialize;

use crate::cli::OutputFormat;

pub use plan_view::render_plan;
pub use preflight_view::{render_policy, render_preflight};
pub use status_view::render_status;

#[derive(Debug, Clone)]
pub struct Printer {
    format: OutputFormat,
    progress: bool,
}

impl Printer {
    pub fn new(format: OutputFormat) -> Self {
        Self {
            format,
            progress: true,
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Text for people, on stdout (nothing in JSON mode).
    pub fn text(&self, text: &str) {
        if !self.is_json() {
            let mut out = anstream::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
    }

    /// One JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        let mut out = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut out, value);
        let _ = writeln!(out);
    }

    pub fn warn(&self, message: &str) {
        anstream::eprintln!("{} {message}", "warning:".yellow().bold());
    }

    pub fn note(&self, message: &str) {
        anstream::eprintln!("{message}");
    }

    pub fn progress_start(&self, what: &str) {
        if self.progress && std::io::stderr().is_terminal() {
            anstream::eprintln!("  {} {what}…", "·".dimmed());
        }
    }

    pub fn progress_done(&self, what: &str, elapsed: Duration) {
        if self.progress {
            if elapsed.is_zero() {
                anstream::eprintln!("  {} {what}", "✓".green());
            } else {
                anstream::eprintln!("  {} {what} ({:.1}s)", "✓".green(), elapsed.as_secs_f64());
            }
        }
    }

    pub fn progress_failed(&self, what: &str, error: &anyhow::Error) {
        anstream::eprintln!("  {} {what}: {error:#}", "✗".red());
    }
}
