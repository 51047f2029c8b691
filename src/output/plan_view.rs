//! The plan as people read it, in the manner of `terraform plan`.

use std::fmt::Write as _;

use owo_colors::OwoColorize;

use crate::plan::{Action, Plan};

pub fn render_plan(plan: &Plan, heading: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}\n");
    let width = plan
        .steps
        .iter()
        .map(|s| s.kind.label().len())
        .max()
        .unwrap_or(0);
    for step in &plan.steps {
        let (sign, word) = match step.action {
            Action::Create => ("+".green().to_string(), "create".green().to_string()),
            Action::Update => ("~".yellow().to_string(), "update".yellow().to_string()),
            Action::Delete => ("-".red().to_string(), "delete".red().to_string()),
            Action::NoChange => ("=".dimmed().to_string(), "no change".dimmed().to_string()),
            Action::Keep => ("=".dimmed().to_string(), "keep".to_string()),
            Action::Conflict => (
                "!".red().bold().to_string(),
                "conflict".red().bold().to_string(),
            ),
        };
        let _ = writeln!(
            out,
            "  {sign} {:width$}  {}  {word}",
            step.kind.label(),
            step.name.bold()
        );
        for change in &step.changes {
            if change.from.is_empty() {
                let _ = writeln!(out, "        {}: {}", change.field, change.to);
            } else {
                let _ = writeln!(
                    out,
                    "        {}: {} → {}",
                    change.field, change.from, change.to
                );
            }
        }
        if let Some(note) = &step.note {
            let _ = writeln!(out, "        ({note})");
        }
    }
    let s = plan.summary();
    let _ = write!(
        out,
        "\nPlan: {} to create, {} to update, {} to delete, {} unchanged",
        s.create, s.update, s.delete, s.unchanged
    );
    if s.kept > 0 {
        let _ = write!(out, ", {} kept", s.kept);
    }
    if s.conflicts > 0 {
        let _ = write!(out, ", {} in conflict", s.conflicts);
    }
    out.push('.');
    out
}
