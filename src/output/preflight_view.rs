//! The permission preflight and the bundled policy as people read them.

use std::fmt::Write as _;

use owo_colors::OwoColorize;

use crate::iam::bundled::{self, Target};
use crate::preflight::{fix_snippet, Method, Report, Verdict};

pub fn render_preflight(report: &Report) -> String {
    let mut out = String::new();
    let how = match report.method {
        Method::Simulator => "with iam:SimulatePrincipalPolicy".to_owned(),
        Method::LocalEvaluation => format!(
            "by evaluating its policies locally (the simulator was not available: {}; \
             session policies, SCPs and resource policies are not visible this way)",
            report
                .simulator_unavailable
                .as_deref()
                .unwrap_or("unknown reason")
        ),
        Method::NotCheckedRoot => {
            "not checked: the root user may call everything an SCP does not deny".into()
        }
    };
    let _ = writeln!(out, "\nPermissions of {}, checked {how}:", report.principal);
    if report.passed() {
        let _ = write!(
            out,
            "  {} all {} calls are allowed",
            "✓".green(),
            report.checked
        );
        return out;
    }
    let _ = writeln!(
        out,
        "  {} of {} calls would be refused:",
        report.findings.len(),
        report.checked
    );
    for finding in &report.findings {
        let (mark, why) = match &finding.verdict {
            Verdict::NoAllow { in_boundary: false } => {
                ("✗".red().to_string(), "no policy allows it".to_owned())
            }
            Verdict::NoAllow { in_boundary: true } => (
                "✗".red().to_string(),
                "the permissions boundary does not allow it".to_owned(),
            ),
            Verdict::ExplicitDeny { policy, sid } => (
                "✗".red().to_string(),
                format!("explicitly denied by {policy}{}", statement(sid)),
            ),
            Verdict::DependsOnCondition { policy, sid } => (
                "?".yellow().to_string(),
                format!(
                    "depends on a condition in {policy}{} that cannot be decided before the call",
                    statement(sid)
                ),
            ),
        };
        let _ = writeln!(
            out,
            "  {mark} {} on {}\n      {why}",
            finding.action.bold(),
            finding.resource
        );
    }
    if let Some(snippet) = fix_snippet(&report.findings) {
        let _ = write!(
            out,
            "\nTo grant what is missing, add this to the caller's policies \
             (or give it the bundled policy: `trailctl policy`):\n{}",
            serde_json::to_string_pretty(&snippet).unwrap_or_default()
        );
    }
    out
}

fn statement(sid: &Option<String>) -> String {
    sid.as_deref()
        .map(|s| format!(" (statement {s})"))
        .unwrap_or_default()
}

/// `trailctl policy` in text: by service, each action with why it is needed.
pub fn render_policy(target: &Target, heading: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}");
    let width = bundled::statements()
        .iter()
        .flat_map(|s| s.actions.iter().map(|a| a.len()))
        .max()
        .unwrap_or(0);
    let mut service = "";
    for statement in bundled::statements() {
        if statement.service() != service {
            service = statement.service();
            let _ = writeln!(out, "\n{}", service.bold());
        }
        let _ = writeln!(
            out,
            "  {} on {}",
            statement.sid.dimmed(),
            target.resources(statement.scope).join(", ")
        );
        for action in &statement.actions {
            let _ = writeln!(
                out,
                "    {action:width$}  {}",
                bundled::reason(action).unwrap_or("")
            );
        }
    }
    let _ = write!(out, "\nThe JSON document: `trailctl policy --output json`.");
    out
}
