//! `status` as people read it: the verdict, then each check with what to do.

use std::fmt::Write as _;

use owo_colors::OwoColorize;

use crate::status::{Status, Verdict};

pub fn render_status(status: &Status, heading: &str) -> String {
    let mut out = String::new();
    let verdict = match status.verdict {
        Verdict::Active => status.summary.green().bold().to_string(),
        Verdict::Paused => status.summary.yellow().bold().to_string(),
        Verdict::Disconnected => status.summary.red().bold().to_string(),
        Verdict::Deleted => status.summary.dimmed().to_string(),
    };
    let _ = writeln!(out, "{heading} {verdict}\n");
    let width = status
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &status.checks {
        let mark = if check.ok {
            "✓".green().to_string()
        } else {
            "✗".red().to_string()
        };
        let _ = writeln!(out, "  {mark} {:width$}  {}", check.name, check.detail);
        if let Some(fix) = &check.fix {
            let _ = writeln!(out, "    {:width$}  → {fix}", "");
        }
    }
    if !status.accounts.is_empty() {
        let _ = writeln!(
            out,
            "\n  collected accounts (newest log file of the last day):"
        );
        for a in &status.accounts {
            let latest = a.latest_log_object.as_deref().unwrap_or("none");
            let name = match (&a.name, a.in_organization) {
                (Some(name), _) => name.clone(),
                (None, false) => "(no longer in the organization)".into(),
                (None, true) => String::new(),
            };
            let _ = writeln!(out, "    {}  {latest:<20}  {name}", a.id);
        }
    }
    out.trim_end().to_owned()
}
