//! One function per subcommand, called from the one `match` in [`run`], and
//! the plan → confirm → apply path they share.

mod accounts;
mod check;
mod delete;
mod generated;
mod pause;
mod policy;
mod setup;
mod status;

use std::io::{BufRead, IsTerminal, Write};

use crate::apply::{self, journal::Journal};
use serde::Serialize;

use crate::aws::{self, Caller, Clients};
use crate::desired::Names;
use crate::exit::Stopped;
use crate::output::{render_plan, render_preflight, Printer};
use crate::plan::Plan;
use crate::preflight;
use crate::settings::{CommandSettings, Global, Settings};

pub async fn run(settings: Settings, printer: &Printer) -> anyhow::Result<()> {
    // Offline commands: no credentials or region needed.
    match &settings.command {
        CommandSettings::Policy(s) => return policy::run(&settings.global, s, printer),
        CommandSettings::Completions(shell) => return generated::completions(*shell),
        CommandSettings::Man => return generated::man_page(),
        _ => {}
    }
    let clients = aws::connect(&settings.global).await?;
    let result = match &settings.command {
        CommandSettings::Setup(s) => setup::run(&settings.global, s, &clients, printer).await,
        CommandSettings::Delete(s) => delete::run(&settings.global, s, &clients, printer).await,
        CommandSettings::Check(s) => check::run(&settings.global, s, &clients, printer).await,
        CommandSettings::Status(s) => status::run(&settings.global, s, &clients, printer).await,
        CommandSettings::Pause(s) => pause::pause(&settings.global, s, &clients, printer).await,
        CommandSettings::Resume(s) => pause::resume(&settings.global, s, &clients, printer).await,
        CommandSettings::Accounts(s) => accounts::run(&settings.global, s, &clients, printer).await,
        CommandSettings::Policy(_) | CommandSettings::Completions(_) | CommandSettings::Man => {
            unreachable!("offline commands are handled above")
        }
    };
    if settings.global.verbose {
        let calls = clients.calls.snapshot();
        let mutating = calls.iter().filter(|c| c.is_mutating()).count();
        printer.note(&format!("{} API calls, {mutating} mutating", calls.len()));
    }
    result
}

/// What a mutating command prints with `--output json`.
#[derive(Debug, Serialize)]
struct Report<'a, T: Serialize> {
    integration: &'a str,
    account: &'a str,
    region: &'a str,
    plan: &'a Plan,
    /// What applying calls: the permission preflight's input.
    iam_actions: Vec<&'static str>,
    /// The permission preflight's outcome (absent when skipped or when
    /// there was nothing to apply).
    #[serde(skip_serializing_if = "Option::is_none")]
    preflight: Option<&'a preflight::Report>,
    applied: bool,
    /// Command-specific results, as top-level keys (setup: `collector`,
    /// resume: `replay`).
    #[serde(flatten)]
    result: Option<T>,
}

impl<'a, T: Serialize> Report<'a, T> {
    fn new(
        names: &'a Names,
        plan: &'a Plan,
        preflight: Option<&'a preflight::Report>,
        applied: bool,
        result: Option<T>,
    ) -> Self {
        Self {
            integration: names.integration.as_str(),
            account: &names.account,
            region: &names.region,
            plan,
            iam_actions: plan.iam_actions(),
            preflight,
            applied,
            result,
        }
    }
}

/// Who is calling, with the root warning every command gives. The home
/// region must be in the partition the credentials belong to.
async fn caller(clients: &Clients, printer: &Printer) -> anyhow::Result<Caller> {
    let caller = aws::caller(clients).await?;
    let region_partition = clients.region.partition();
    if region_partition != caller.partition {
        return Err(crate::exit::InvalidInput::new(format!(
            "the home region {} is in the `{region_partition}` partition but the credentials are for `{}`",
            clients.region, caller.partition
        ))
        .into());
    }
    if caller.arn.ends_with(":root") {
        printer.warn("running as the account's root user; use an IAM role or user with the trailctl policy instead");
    }
    Ok(caller)
}

/// The integration's names for the caller's account and the home region;
/// `bucket` is `--bucket-name` when given.
fn names_for(
    global: &Global,
    clients: &Clients,
    caller: &Caller,
    bucket: Option<&crate::settings::BucketName>,
) -> Names {
    Names::new(
        global.name.clone(),
        &caller.account,
        &caller.partition,
        clients.region.as_str(),
        bucket.map(|b| b.as_str().to_owned()),
    )
}

/// For an organization integration (the account shows one), read the
/// organization: its ID goes on `names` and its state into the inventory.
/// Returns whether it is one.
async fn organization_in_place(
    clients: &Clients,
    caller: &Caller,
    names: &mut Names,
    inventory: &mut crate::inventory::Inventory,
) -> anyhow::Result<bool> {
    if crate::desired::org_in_place(names, inventory).is_none() {
        return Ok(false);
    }
    let org = crate::resources::organization::read(&clients.organizations, &caller.account).await?;
    names.org = Some((&org).into());
    inventory.organization = Some(org);
    Ok(true)
}

/// Every ID of `ids` must be an active account of the organization: a bad
/// one is named, and nothing changes (exit code 2).
fn validate_members(
    org: &crate::resources::organization::State,
    ids: &[crate::settings::AccountId],
    what: &str,
) -> anyhow::Result<()> {
    for id in ids {
        match org.account(id.as_str()) {
            None => {
                return Err(crate::exit::InvalidInput::new(format!(
                    "{what}: account {id} is not a member of organization {} (`trailctl accounts list` shows its accounts); nothing was changed",
                    org.id
                ))
                .into())
            }
            Some(a) if !a.is_active() => {
                return Err(crate::exit::InvalidInput::new(format!(
                    "{what}: account {id} ({}) is {} in organization {}: it writes no logs; nothing was changed",
                    a.name, a.status, org.id
                ))
                .into())
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Print the plan in the chosen format (text here; JSON by the caller);
/// with `-v`, also what it will call and its critical path.
fn show_plan(global: &Global, printer: &Printer, plan: &Plan, heading: &str) {
    printer.text(&render_plan(plan, heading));
    for warning in &plan.warnings {
        printer.warn(warning);
    }
    if global.verbose {
        // Who is calling, one round of reads (the permission check runs
        // alongside it), then the plan's own chain.
        let bound = 2 + plan.critical_path();
        printer.note(&format!(
            "plan: dependency depth {}; critical path: {bound} round trips; IAM actions: {}",
            plan.dependency_depth(),
            plan.iam_actions().join(" ")
        ));
    }
}

/// A plan with conflicts cannot be applied (exit code 4, with `--plan` too).
fn refuse_conflicts(plan: &Plan) -> anyhow::Result<()> {
    let list: Vec<String> = plan
        .conflicts()
        .map(|s| {
            format!(
                "{} {}: {}",
                s.kind.label(),
                s.name,
                s.note.as_deref().unwrap_or("in conflict")
            )
        })
        .collect();
    if list.is_empty() {
        return Ok(());
    }
    let list = list.join("\n  ");
    Err(Stopped::Conflict(format!(
        "nothing was changed; resolve these first:\n  {list}"
    ))
    .into())
}

/// The permission check of everything this integration may call, started
/// alongside the reads so that it adds no round trip; the plan then only
/// selects what it needs from it.
pub struct EarlyCheck {
    task: Option<tokio::task::JoinHandle<Result<preflight::Report, preflight::CannotRead>>>,
    /// The resources it checked (bucket, delivery region, what is
    /// reused); a plan for others is checked afresh.
    resources: String,
}

/// What an early check's resource ARNs depend on besides the integration.
fn checked_resources(names: &Names) -> String {
    format!(
        "{} {} {:?}",
        names.bucket, names.delivery_region, names.reused
    )
}

/// `kinds`: what the command may change (reads of every kind are included).
fn start_check(
    global: &Global,
    clients: &Clients,
    caller: &Caller,
    names: &Names,
    kinds: &[crate::resources::Kind],
) -> EarlyCheck {
    let task = (!global.skip_preflight).then(|| {
        let (clients, caller) = (clients.clone(), caller.clone());
        let everything = preflight::for_kinds(names, kinds);
        tokio::spawn(async move { preflight::check(&clients, &caller, &everything).await })
    });
    EarlyCheck {
        task,
        resources: checked_resources(names),
    }
}

/// The permission preflight of a plan about to be applied: `None` when
/// skipped or when there is nothing to apply. Prints the outcome (text
/// mode); the caller stops with [`stop_before_applying`].
#[allow(clippy::too_many_arguments)]
async fn preflight(
    global: &Global,
    clients: &Clients,
    caller: &Caller,
    names: &Names,
    plan: &Plan,
    after: &[(crate::resources::Kind, &'static str)],
    early: EarlyCheck,
    printer: &Printer,
) -> anyhow::Result<Option<preflight::Report>> {
    if plan.is_empty() && after.is_empty() {
        if let Some(task) = early.task {
            task.abort();
        }
        return Ok(None);
    }
    if global.skip_preflight {
        printer.warn("--skip-preflight: the caller's permissions were not checked");
        return Ok(None);
    }
    let needed = preflight::for_plan_and(plan, names, after);
    let narrowed = match early.task {
        Some(task) if early.resources == checked_resources(names) => task.await??.subset(&needed),
        Some(task) => {
            task.abort();
            None
        }
        None => None,
    };
    let report = match narrowed {
        Some(report) => report,
        None => preflight::check(clients, caller, &needed).await?,
    };
    printer.text(&render_preflight(&report));
    Ok(Some(report))
}

/// With `--plan`, or when the preflight found refused calls, a command stops
/// before applying, its JSON report saying nothing was applied. `Some` is
/// how it stops (refused calls: exit code 5); `None` means go on.
fn stop_before_applying<'a, T: Serialize>(
    plan_only: bool,
    checked: Option<&'a preflight::Report>,
    printer: &Printer,
    report: impl FnOnce() -> Report<'a, T>,
) -> Option<anyhow::Result<()>> {
    if !plan_only && checked.is_none_or(preflight::Report::passed) {
        return None;
    }
    if printer.is_json() {
        printer.json(&report());
    }
    Some(refuse_denied(checked))
}

/// A preflight that found refused calls stops the command (exit code 5).
fn refuse_denied(report: Option<&preflight::Report>) -> anyhow::Result<()> {
    match report {
        Some(report) if !report.passed() => Err(Stopped::PermissionDenied(format!(
            "the permission preflight found {} of {} calls the caller may not make: nothing was changed",
            report.findings.len(),
            report.checked
        ))
        .into()),
        _ => Ok(()),
    }
}

/// Refuse a plan with conflicts, then ask (or take `--yes`) before applying.
fn confirm(global: &Global, plan: &Plan) -> anyhow::Result<()> {
    refuse_conflicts(plan)?;
    if global.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Stopped::NotConfirmed(
            "no terminal to confirm on and no --yes: nothing was changed (review the plan, then re-run with --yes)".into(),
        )
        .into());
    }
    eprint!("\nApply this plan? Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Stopped::NotConfirmed("not applied: the answer was not 'yes'".into()).into())
    }
}

/// Apply, stopping cleanly on Ctrl-C with the journal kept.
async fn apply(
    clients: &Clients,
    plan: &Plan,
    journal: &mut Journal,
    printer: &Printer,
) -> anyhow::Result<()> {
    if journal.is_pending() {
        printer.note(&format!(
            "continuing an interrupted run (journal {})",
            journal.path().display()
        ));
    }
    tokio::select! {
        result = apply::apply(clients, plan, journal, printer) => result.map_err(Into::into),
        _ = tokio::signal::ctrl_c() => Err(Stopped::Interrupted.into()),
    }
}
