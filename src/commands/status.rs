//! `trailctl status`: the verdict on the integration and every check behind
//! it. Only reads; the exit code tells the verdict.

use serde::Serialize;

use crate::aws::Clients;
use crate::desired::{self, Names};
use crate::exit::VerdictCode;
use crate::inventory;
use crate::output::{render_status, Printer};
use crate::replay;
use crate::resources::{bucket, owned_by};
use crate::settings::{Global, StatusSettings};
use crate::status::{self, Observations, Status};

#[derive(Debug, Serialize)]
struct StatusReport<'a> {
    integration: &'a str,
    account: &'a str,
    region: &'a str,
    bucket: &'a str,
    #[serde(flatten)]
    status: &'a Status,
}

pub async fn run(
    global: &Global,
    settings: &StatusSettings,
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
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    // The newest log file is looked for alongside the reads, in the bucket
    // the integration most likely has; again only if it turns out to be
    // another one.
    let guessed = names.clone();
    let (inventory, latest) = tokio::join!(
        inventory::read_existing(clients, &mut names, settings.bucket_name.is_some()),
        replay::latest(clients, &guessed, now)
    );
    let inventory = inventory?;
    let ours = matches!(&inventory.bucket, bucket::Observed::Present(b)
        if owned_by(&b.tags, names.integration.as_str()));
    let latest = match (ours, names.bucket == guessed.bucket) {
        (false, _) => None,
        (true, true) => latest?,
        (true, false) => replay::latest(clients, &names, now).await?,
    };
    if global.verbose {
        printer
            .note("status: critical path: 2 round trips (who is calling, then every read at once)");
    }
    let seen = Observations {
        latest_log_object: latest,
        day_ago: replay::rfc3339(aws_smithy_types::DateTime::from_secs(now.secs() - 86_400)),
    };
    let (settings_now, external_id) = desired::settings_in_place(&inventory);
    let desired = desired::desired(&names, &settings_now, external_id);
    let status = status::assess(&names, &desired, &inventory, &seen);

    if printer.is_json() {
        printer.json(&StatusReport {
            integration: names.integration.as_str(),
            account: &names.account,
            region: &names.region,
            bucket: &names.bucket,
            status: &status,
        });
    } else {
        let heading = format!(
            "Integration `{}` in account {}, home region {}:",
            names.integration, names.account, names.region
        );
        printer.text(&render_status(&status, &heading));
    }
    match status.verdict.exit_code() {
        0 => Ok(()),
        code => Err(VerdictCode(code).into()),
    }
}
