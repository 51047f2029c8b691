//! `trailctl pause` and `trailctl resume`: stop and restore delivery to the
//! collector, through the same plan → preflight → confirm → apply path as
//! `setup`. `resume` then replays the log files written during the pause.

use serde::Serialize;

use crate::apply::journal::Journal;
use crate::aws::{Caller, Clients};
use crate::desired::{self, Names};
use crate::inventory::{self, Inventory};
use crate::output::Printer;
use crate::plan::{self, Plan};
use crate::replay;
use crate::resources::Kind;
use crate::settings::{BucketName, Global, PauseSettings, ResumeSettings};

/// What `resume` replayed (JSON output).
#[derive(Debug, Default, Serialize)]
struct Replayed {
    since: Option<String>,
    found: usize,
    sent: usize,
    /// Set when the limit left files unsent: resume from here.
    #[serde(skip_serializing_if = "Option::is_none")]
    continue_since: Option<String>,
}

async fn read(
    global: &Global,
    bucket_name: Option<&BucketName>,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<(
    Caller,
    Names,
    Inventory,
    Journal,
    super::EarlyCheck,
    Clients,
)> {
    let caller = super::caller(clients, printer).await?;
    let mut names = super::names_for(global, clients, &caller, bucket_name);
    let early = super::start_check(global, clients, &caller, &names, &Kind::ALL);
    let (clients, mut inventory) =
        inventory::read_existing(clients, &mut names, bucket_name.is_some()).await?;
    super::organization_in_place(&clients, &caller, &mut names, &mut inventory).await?;
    let journal = Journal::open(&caller.account, &names.region, names.integration.as_str())?;
    Ok((caller, names, inventory, journal, early, clients))
}

pub async fn pause(
    global: &Global,
    settings: &PauseSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    let (caller, names, inventory, mut journal, early, clients) =
        read(global, settings.bucket_name.as_ref(), clients, printer).await?;
    let clients = &clients;
    let now = replay::rfc3339(replay::now_in_seconds());
    let plan = plan::pause(&names, &inventory, settings.stop_logging, &now);
    let heading = format!(
        "Pausing delivery of integration `{}` in account {}, home region {} (the trail keeps recording{}):",
        names.integration,
        names.account,
        names.region,
        if settings.stop_logging { " unless stopped" } else { "" }
    );
    let outcome = run_plan(
        global,
        clients,
        &caller,
        &names,
        &plan,
        &[],
        &heading,
        settings.plan_only,
        early,
        &mut journal,
        printer,
    )
    .await?;
    if let Some(applied) = outcome {
        if !applied {
            let since = inventory.pause(names.integration.as_str()).map(|p| p.since);
            printer.text(&format!(
                "\nAlready paused{}: nothing to change.",
                since.map(|s| format!(" since {s}")).unwrap_or_default()
            ));
        } else {
            printer.text("\nPaused. `trailctl resume` restores delivery and replays what was written meanwhile.");
        }
        if printer.is_json() {
            printer.json(&super::Report::<()>::new(
                &names, &plan, None, applied, None,
            ));
        }
    }
    Ok(())
}

pub async fn resume(
    global: &Global,
    settings: &ResumeSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    let (caller, names, inventory, mut journal, early, clients) =
        read(global, settings.bucket_name.as_ref(), clients, printer).await?;
    let clients = &clients;
    let accounts = desired::selection_in_place(&names, &inventory);
    let plan = plan::resume(
        &names,
        &desired::notification_spec(&names, accounts.as_ref()),
        &inventory,
    );
    let paused = inventory.pause(names.integration.as_str());
    let since = settings
        .replay_since
        .clone()
        .or_else(|| paused.as_ref().map(|p| p.since.clone()))
        .filter(|_| settings.replay);
    // A forwarder fed by CloudWatch Logs is not on the topic: it gets the
    // missed files by direct invocation.
    let forwarder_off_topic = inventory.function.is_some()
        && inventory
            .trail_log_group
            .as_ref()
            .is_some_and(|g| crate::resources::owned_by(&g.tags, names.integration.as_str()));
    let mut after: Vec<(Kind, &'static str)> = Vec::new();
    if since.is_some() {
        after.extend([
            (Kind::Bucket, "s3:ListBucket"),
            (Kind::Topic, "sns:Publish"),
        ]);
        if forwarder_off_topic {
            after.push((Kind::Function, "lambda:InvokeFunction"));
        }
    }
    let after = after.as_slice();
    let heading = format!(
        "Resuming delivery of integration `{}` in account {}, home region {}{}:",
        names.integration,
        names.account,
        names.region,
        since
            .as_deref()
            .map(|s| format!(", replaying log files written since {s}"))
            .unwrap_or_default()
    );
    let Some(applied) = run_plan(
        global,
        clients,
        &caller,
        &names,
        &plan,
        after,
        &heading,
        settings.plan_only,
        early,
        &mut journal,
        printer,
    )
    .await?
    else {
        return Ok(());
    };
    if !applied {
        printer.text("\nDelivery is not paused: nothing to restore.");
    }
    let mut replayed = Replayed {
        since: since.clone(),
        ..Replayed::default()
    };
    if let Some(since) = &since {
        let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
        let prefixes = replay::account_prefixes(clients, &names, accounts.as_ref()).await?;
        let files =
            replay::written_since(clients, &names, &prefixes, replay::parse_time(since)?, now)
                .await?;
        replayed.found = files.len();
        let batch = &files[..files.len().min(settings.replay_limit)];
        replayed.continue_since = files.get(batch.len()).map(|f| f.last_modified.clone());
        replayed.sent = replay::publish(clients, &names, batch, printer)
            .await
            .map_err(|e| {
                e.context(format!(
                    "delivery is restored but the replay is incomplete: run `trailctl resume --replay-since {since}` to send the files again"
                ))
            })?;
        if forwarder_off_topic {
            replay::invoke_forwarder(clients, &names, batch)
                .await
                .map_err(|e| {
                    e.context(format!(
                        "delivery is restored but the forwarder's replay is incomplete: run `trailctl resume --replay-since {since}` to send the files again"
                    ))
                })?;
        }
        printer.text(&format!(
            "\nReplayed {} of {} log files written since {since}.",
            replayed.sent, replayed.found
        ));
        if let Some(next) = &replayed.continue_since {
            printer.warn(&format!(
                "--replay-limit {} left {} files unsent: run `trailctl resume --replay-since {next}` to send them",
                settings.replay_limit,
                replayed.found - replayed.sent
            ));
        }
    }
    if printer.is_json() {
        printer.json(&super::Report::new(
            &names,
            &plan,
            None,
            true,
            Some(serde_json::json!({ "replay": replayed })),
        ));
    }
    Ok(())
}

/// Show, check, confirm and apply a pause or resume plan. `None` when it
/// stopped at `--plan`; otherwise whether anything was applied.
#[allow(clippy::too_many_arguments)]
async fn run_plan(
    global: &Global,
    clients: &Clients,
    caller: &Caller,
    names: &Names,
    plan: &Plan,
    after: &[(Kind, &'static str)],
    heading: &str,
    plan_only: bool,
    early: super::EarlyCheck,
    journal: &mut Journal,
    printer: &Printer,
) -> anyhow::Result<Option<bool>> {
    if !printer.is_json() {
        super::show_plan(global, printer, plan, heading);
    }
    super::refuse_conflicts(plan)?;
    let checked =
        super::preflight(global, clients, caller, names, plan, after, early, printer).await?;
    if let Some(stop) = super::stop_before_applying(plan_only, checked.as_ref(), printer, || {
        super::Report::<()>::new(names, plan, checked.as_ref(), false, None)
    }) {
        stop?;
        return Ok(None);
    }
    if plan.is_empty() {
        journal.close()?;
        return Ok(Some(false));
    }
    super::confirm(global, plan)?;
    super::apply(clients, plan, journal, printer).await?;
    Ok(Some(true))
}
