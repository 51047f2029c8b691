//! `trailctl delete`: remove what the integration owns, keeping the log
//! bucket unless `--delete-logs`.

use super::setup::names_of;
use crate::apply::journal::Journal;
use crate::aws::Clients;
use crate::inventory;
use crate::output::Printer;
use crate::plan;
use crate::resources::Kind;
use crate::settings::{DeleteSettings, Global};

pub async fn run(
    global: &Global,
    settings: &DeleteSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    let caller = super::caller(clients, printer).await?;
    let mut names = super::names_for(global, clients, &caller, settings.bucket_name.as_ref());
    let early = super::start_check(global, clients, &caller, &names, &Kind::ALL);
    let (clients, inventory) =
        inventory::read_existing(clients, &mut names, settings.bucket_name.is_some()).await?;
    let clients = &clients;
    let mut journal = Journal::open(&caller.account, &names.region, names.integration.as_str())?;
    let adopted = journal.adopted(|kind| names_of(&names, kind));
    let plan = plan::delete(&names, &inventory, settings.delete_logs, &adopted);
    if !printer.is_json() {
        let heading = format!(
            "Deleting integration `{}` in account {}, home region {}:",
            names.integration, names.account, names.region
        );
        super::show_plan(global, printer, &plan, &heading);
    }
    let checked =
        super::preflight(global, clients, &caller, &names, &plan, &[], early, printer).await?;
    let report = |applied| super::Report::<()>::new(&names, &plan, checked.as_ref(), applied, None);
    if let Some(stop) =
        super::stop_before_applying(settings.plan_only, checked.as_ref(), printer, || {
            report(false)
        })
    {
        return stop;
    }
    if plan.is_empty() {
        // Nothing of an interrupted run is left: its journal is stale.
        journal.close()?;
        printer.text("\nNothing to delete.");
    } else {
        // apply closes the journal when it succeeds.
        super::confirm(global, &plan)?;
        super::apply(clients, &plan, &mut journal, printer).await?;
        printer.text("\nDeleted.");
    }
    if printer.is_json() {
        printer.json(&report(true));
    }
    Ok(())
}
