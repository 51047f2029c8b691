//! `trailctl setup`: build or update the integration.

use serde::Serialize;
use serde_json::json;

use crate::apply::journal::Journal;
use crate::aws::Clients;
use crate::desired::{self, Names, Parts};
use crate::inventory;
use crate::output::Printer;
use crate::plan;
use crate::resources::{organization, trail, Kind};
use crate::settings::{Accounts, BucketName, Global, OrgSetup, SetupSettings};

/// What the collector needs to read the logs.
#[derive(Debug, Serialize)]
pub struct CollectorSettings {
    pub role_arn: String,
    pub external_id: String,
    pub bucket: String,
    pub key_prefix: String,
    pub topic_arn: String,
    pub region: String,
    /// A reused bucket in another region than the home region: the topic
    /// and the queue are there too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_region: Option<String>,
    pub partition: String,
    pub account: String,
    /// `--org`: the organization, and the accounts collected (`all`, or
    /// their IDs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<String>,
    /// `--delivery sqs`: the queue the collector polls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_url: Option<String>,
    /// `--delivery https`: where the forwarder posts the records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_url: Option<String>,
}

pub async fn run(
    global: &Global,
    settings: &SetupSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    if settings.exclude_kms_events {
        printer.warn(
            "--exclude-kms-events: a trail that excludes management events fails the CIS and Security Hub \
             multi-region trail controls (CloudTrail.1)",
        );
    }
    let caller = super::caller(clients, printer).await?;
    let mut names = super::names_for(global, clients, &caller, settings.bucket_name.as_ref());
    BucketName::parse("the default bucket name (use --bucket-name)", &names.bucket)?;
    names.reuse(&settings.existing);
    let mut journal = Journal::open(&caller.account, &names.region, names.integration.as_str())?;
    let adopted = journal.adopted(|kind| names_of(&names, kind));

    // The early check covers what these options build; a plan that also
    // removes delivery resources of earlier options is checked afresh.
    let early = super::start_check(global, clients, &caller, &names, &kinds_for(settings));
    // The optional parts these options build are read with the rest, and
    // every part when an interrupted run may have left any; what else the
    // collector role records is read once the role is known. Every trail
    // of the account is listed alongside.
    let mut parts = Parts::of(&settings.delivery);
    if !adopted.is_empty() {
        parts = Parts::ALL;
    }
    let trail_arn = names.trail_arn();
    let (inventory, organization, trails) = tokio::join!(
        inventory::read(clients, &names, parts),
        async {
            match &settings.org {
                Some(_) => organization::read(&clients.organizations, &caller.account)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
        trail::discover(&clients.cloudtrail, &trail_arn)
    );
    let mut inventory = inventory?;
    inventory.trails = trails?;
    // Without --existing-*, a re-run keeps what the collector role records
    // as reused.
    let stale =
        settings.existing.is_empty() && inventory::adopt_recorded_reuse(&mut names, &inventory);
    let (clients, mut inventory) =
        inventory::follow_reuse(clients, &mut names, inventory, stale, parts).await?;
    let clients = &clients;
    let recorded = inventory
        .own_role(names.integration.as_str())
        .map_or(Parts::default(), |r| Parts::recorded(&r.tags));
    let unread = recorded.without(parts);
    if !unread.is_empty() {
        inventory::read_more(clients, &names, unread, &mut inventory).await?;
    }
    let mut settings = settings.clone();
    if let Some(org) = organization? {
        names.org = Some((&org).into());
        // The selection given, else the one in place, else every account.
        let in_place = desired::selection_in_place(&names, &inventory);
        let org_settings = settings.org.get_or_insert(OrgSetup { accounts: None });
        if let (Some(Accounts::Only(ids)), false) = (
            &org_settings.accounts,
            org.standing == organization::Standing::Member,
        ) {
            super::validate_members(&org, ids, "--accounts")?;
        }
        if org_settings.accounts.is_none() {
            org_settings.accounts = Some(in_place.unwrap_or(Accounts::All));
        }
        inventory.organization = Some(org);
    }
    let settings = &settings;
    // Keep the external ID the collector already has, unless a new one is given.
    let external_id = match (
        &settings.external_id,
        inventory.role.as_ref().and_then(|r| r.external_id()),
    ) {
        (Some(given), _) => given.clone(),
        (None, Some(existing)) => existing,
        (None, None) => desired::generate_external_id()?,
    };
    let desired = desired::desired(&names, settings, external_id);
    let plan = plan::setup(&names, &desired, &inventory, &adopted);

    let heading = format!(
        "Integration `{}` in account {} ({}), home region {}:",
        names.integration, names.account, names.partition, names.region
    );
    let collector = CollectorSettings {
        role_arn: names.role_arn(),
        external_id: desired.external_id.clone(),
        bucket: names.bucket.clone(),
        key_prefix: names.log_prefix(),
        topic_arn: names.topic_arn(),
        region: names.region.clone(),
        bucket_region: (names.delivery_region != names.region)
            .then(|| names.delivery_region.clone()),
        partition: names.partition.clone(),
        account: names.account.clone(),
        org_id: names.org.as_ref().map(|o| o.id.clone()),
        accounts: desired.accounts.as_ref().map(ToString::to_string),
        queue_url: desired.queue.as_ref().map(|q| q.url.clone()),
        forward_url: settings.delivery.forward.as_ref().map(|f| f.url.clone()),
    };
    if !printer.is_json() {
        printer.text(&render_trails(&inventory.trails, &names));
        super::show_plan(global, printer, &plan, &heading);
    }
    // Conflicts are known without asking IAM; a plan that cannot be applied
    // needs no permission check.
    let checked = if plan.conflicts().next().is_none() {
        super::preflight(global, clients, &caller, &names, &plan, &[], early, printer).await?
    } else {
        None
    };
    let report = |applied, collector| {
        super::Report::new(&names, &plan, checked.as_ref(), applied, collector)
    };
    if let Some(stop) =
        super::stop_before_applying(settings.plan_only, checked.as_ref(), printer, || {
            report(false, None)
        })
    {
        super::refuse_conflicts(&plan)?;
        return stop;
    }
    if plan.is_empty() && plan.conflicts().next().is_none() {
        printer.text("\nNo changes: the integration is as planned.");
    } else {
        super::confirm(global, &plan)?;
        super::apply(clients, &plan, &mut journal, printer).await?;
        printer.text("\nApplied.");
    }
    if printer.is_json() {
        printer.json(&report(true, Some(json!({ "collector": collector }))));
    } else {
        printer.text(&render_collector(&collector));
    }
    Ok(())
}

/// The trails already in the account, as listed before the plan.
fn render_trails(trails: &[trail::Found], names: &Names) -> String {
    let ours = names.trail_arn();
    let others: Vec<_> = trails
        .iter()
        .filter(|t| t.arn != ours || names.reused.trail.is_some())
        .collect();
    if others.is_empty() {
        return "Trails in the account: none yet.\n".into();
    }
    let mut text = String::from("Trails in the account:\n");
    for t in others {
        let mut traits = Vec::new();
        match t.multi_region {
            Some(true) => traits.push("all regions"),
            Some(false) => traits.push("single region"),
            None => traits.push("single region (other region)"),
        }
        if t.organization == Some(true) {
            traits.push("organization");
        }
        if t.management_events == Some(true) {
            traits.push("management events");
        }
        let reused = if Some(&t.arn) == names.reused.trail.as_ref() {
            "  (reused)"
        } else {
            ""
        };
        text.push_str(&format!(
            "  {}  home {}  {}{}{reused}\n",
            t.name,
            t.home_region,
            traits.join(", "),
            t.bucket
                .as_deref()
                .map(|b| format!("  → s3://{b}"))
                .unwrap_or_default()
        ));
    }
    text
}

/// The kinds a setup with these options may create or change.
fn kinds_for(settings: &SetupSettings) -> Vec<Kind> {
    let mut kinds = vec![
        Kind::Bucket,
        Kind::Topic,
        Kind::Role,
        Kind::Notification,
        Kind::Trail,
    ];
    if settings.org.is_some() {
        kinds.push(Kind::Organization);
    }
    let delivery = &settings.delivery;
    if delivery.sqs {
        kinds.extend([Kind::Queue, Kind::Subscription]);
    }
    if delivery.forward.is_some() {
        kinds.extend([
            Kind::Function,
            Kind::LogGroup,
            Kind::Parameter,
            Kind::Subscription,
        ]);
    }
    kinds
}

/// The names resources of a kind have in this integration, as the plan
/// names its steps (for the journal).
pub fn names_of(names: &Names, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Bucket => vec![names.bucket.clone()],
        Kind::Topic => vec![names.topic()],
        Kind::Role => vec![
            names.role(),
            names.forwarder_role(),
            names.trail_logs_role(),
        ],
        Kind::Trail => vec![names.trail()],
        Kind::Notification => vec![names.notification_id()],
        Kind::Queue => vec![names.queue()],
        Kind::Subscription => Vec::new(),
        Kind::Parameter => vec![names.token_parameter()],
        Kind::LogGroup => vec![names.function_log_group(), names.trail_log_group()],
        Kind::Function => vec![names.function()],
        Kind::Organization => Vec::new(),
    }
}

fn render_collector(c: &CollectorSettings) -> String {
    let mut text = format!(
        "\nGive the collector these settings:\n  role ARN     {}\n  external ID  {}\n  bucket       {}\n  key prefix   {}\n  topic ARN    {}\n  region       {}\n  partition    {}\n  account      {}",
        c.role_arn, c.external_id, c.bucket, c.key_prefix, c.topic_arn, c.region, c.partition, c.account
    );
    if let Some(region) = &c.bucket_region {
        text.push_str(&format!(
            "\n  bucket region {region} (the topic and the queue are there too)"
        ));
    }
    if let (Some(org), Some(accounts)) = (&c.org_id, &c.accounts) {
        text.push_str(&format!(
            "\n  organization {org}\n  accounts     {accounts}"
        ));
    }
    if let Some(url) = &c.queue_url {
        text.push_str(&format!("\n  queue URL    {url}"));
    }
    if let Some(url) = &c.forward_url {
        text.push_str(&format!("\n  records are POSTed to {url}"));
    }
    text
}
