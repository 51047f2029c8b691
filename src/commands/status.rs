//! `trailctl status`: the verdict on the integration and every check behind
//! it. Only reads; the exit code tells the verdict.

use serde::Serialize;

use crate::aws::Clients;
use crate::desired::{self, Names};
use crate::exit::VerdictCode;
use crate::inventory::{self, Inventory};
use crate::output::{render_status, Printer};
use crate::replay;
use crate::resources::{bucket, organization, owned_by};
use crate::settings::Accounts;
use crate::settings::{Global, StatusSettings};
use crate::status::AccountSeen;
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
    let mut names = super::names_for(global, clients, &caller, settings.bucket_name.as_ref());
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
    // The newest log file is looked for alongside the reads, in the bucket
    // the integration most likely has; again only if it turns out to be
    // another one.
    let guessed = names.clone();
    let (inventory, latest) = tokio::join!(
        inventory::read_existing(clients, &mut names, settings.bucket_name.is_some()),
        replay::latest(clients, &guessed, now)
    );
    let (clients, mut inventory) = inventory?;
    let clients = &clients;
    let ours = matches!(&inventory.bucket, bucket::Observed::Present(b)
        if names.reused.bucket || owned_by(&b.tags, names.integration.as_str()));
    let org = super::organization_in_place(clients, &caller, &mut names, &mut inventory).await?;
    let mut accounts = Vec::new();
    let mut latest = match (ours, names.bucket == guessed.bucket, org) {
        (false, _, _) | (true, _, true) => None,
        (true, true, false) => latest?,
        (true, false, false) => replay::latest(clients, &names, now).await?,
    };
    if org && ours {
        accounts = account_freshness(clients, &names, &inventory, now).await?;
        latest = accounts
            .iter()
            .filter_map(|a| a.latest_log_object.clone())
            .max();
    }
    if global.verbose && !org {
        printer
            .note("status: critical path: 2 round trips (who is calling, then every read at once)");
    }
    let seen = Observations {
        latest_log_object: latest,
        day_ago: replay::rfc3339(aws_smithy_types::DateTime::from_secs(now.secs() - 86_400)),
        accounts,
    };
    let (settings_now, external_id) = desired::settings_in_place(&names, &inventory);
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

/// How many accounts' prefixes are listed at once: enough that 1,000
/// accounts take seconds, few enough to stay clear of S3's request rates.
const ACCOUNT_PARALLELISM: usize = 32;

/// The newest log file of each collected account (home region, the last
/// day), listed with bounded parallelism, in account order; selected IDs
/// no longer in the organization are included (they have no name).
async fn account_freshness(
    clients: &Clients,
    names: &Names,
    inventory: &Inventory,
    now: aws_smithy_types::DateTime,
) -> anyhow::Result<Vec<AccountSeen>> {
    use futures::{StreamExt, TryStreamExt};
    let Some(org) = &inventory.organization else {
        return Ok(Vec::new());
    };
    let selection = desired::selection_in_place(names, inventory).unwrap_or(Accounts::All);
    // Both lists are sorted by ID: the organization's accounts as read, a
    // selection by construction.
    let wanted: Vec<(String, Option<&organization::Account>)> = match &selection {
        Accounts::All => org.active().map(|a| (a.id.clone(), Some(a))).collect(),
        Accounts::Only(ids) => ids
            .iter()
            .map(|id| (id.to_string(), org.account(id.as_str())))
            .collect(),
    };
    futures::stream::iter(wanted)
        .map(|(id, account)| async move {
            let latest =
                replay::latest_under(clients, names, &names.account_log_prefix(&id), now).await?;
            Ok::<_, anyhow::Error>(AccountSeen {
                name: account.map(|a| a.name.clone()),
                in_organization: account.is_some(),
                id,
                latest_log_object: latest,
            })
        })
        .buffered(ACCOUNT_PARALLELISM)
        .try_collect()
        .await
}
