//! `trailctl delete`: remove what the integration owns, keeping the log
//! bucket unless `--delete-logs`.

use super::setup::name_of;
use crate::apply::journal::Journal;
use crate::aws::Clients;
use crate::desired::Names;
use crate::inventory;
use crate::output::Printer;
use crate::plan;
use crate::resources::trail;
use crate::settings::{DeleteSettings, Global};

pub async fn run(
    global: &Global,
    settings: &DeleteSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    let caller = super::caller(clients, printer).await?;
    let mut names = Names::new(
        global.name.clone(),
        &caller.account,
        &caller.partition,
        clients.region.as_str(),
        settings.bucket_name.as_ref().map(|b| b.as_str().to_owned()),
    );
    // Without --bucket-name, the bucket is the one our trail writes to, if
    // the trail is still there and ours.
    if settings.bucket_name.is_none() {
        let owned_trail = trail::read(&clients.cloudtrail, &names.trail(), &names.trail_arn())
            .await?
            .filter(|t| crate::resources::owned_by(&t.tags, names.integration.as_str()));
        if let Some(bucket) = owned_trail.and_then(|t| t.bucket) {
            names.bucket = bucket;
        }
    }
    let mut journal = Journal::open(&caller.account, &names.region, names.integration.as_str())?;
    let adopted = journal.adopted(|kind| name_of(&names, kind));
    let inventory = inventory::read(clients, &names).await?;
    let plan = plan::delete(&names, &inventory, settings.delete_logs, &adopted);
    let report = |applied| super::Report::<()>::new(&names, &plan, applied, None);

    if !printer.is_json() {
        let heading = format!(
            "Deleting integration `{}` in account {}, home region {}:",
            names.integration, names.account, names.region
        );
        super::show_plan(global, printer, &plan, &heading);
    }
    if settings.plan_only {
        if printer.is_json() {
            printer.json(&report(false));
        }
        return Ok(());
    }
    if plan.is_empty() {
        printer.text("\nNothing to delete.");
    } else {
        super::confirm(global, &plan)?;
        super::apply(clients, &plan, &mut journal, printer).await?;
        printer.text("\nDeleted.");
    }
    // Nothing is pending for this integration any more.
    journal.close()?;
    if printer.is_json() {
        printer.json(&report(true));
    }
    Ok(())
}
