//! `trailctl accounts`: an organization integration's accounts. `list`
//! shows them; `add`, `remove` and `set` change which are collected, as a
//! plan of notification-entry changes through the same preflight, confirm
//! and apply path as `setup`. IDs are validated against the organization
//! before anything changes.

use serde::Serialize;

use crate::apply::journal::Journal;
use crate::aws::Clients;
use crate::desired::{self, Names};
use crate::exit::{InvalidInput, Stopped};
use crate::inventory;
use crate::output::Printer;
use crate::plan::{self, Plan};
use crate::resources::{organization, Kind};
use crate::settings::{AccountId, Accounts, AccountsAction, AccountsSettings, Global, OrgSetup};

/// One line of `accounts list`.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    id: &'a str,
    name: &'a str,
    status: &'a str,
    collected: bool,
}

#[derive(Debug, Serialize)]
struct ListReport<'a> {
    integration: &'a str,
    organization: &'a str,
    management_account: &'a str,
    /// `all`, or the IDs selected.
    selection: String,
    accounts: Vec<Listed<'a>>,
    /// Selected IDs that are no longer accounts of the organization.
    not_in_organization: Vec<&'a str>,
}

pub async fn run(
    global: &Global,
    settings: &AccountsSettings,
    clients: &Clients,
    printer: &Printer,
) -> anyhow::Result<()> {
    let caller = super::caller(clients, printer).await?;
    let mut names = super::names_for(global, clients, &caller, settings.bucket_name.as_ref());
    let early = super::start_check(global, clients, &caller, &names, &[Kind::Notification]);
    let (clients, mut inventory) =
        inventory::read_existing(clients, &mut names, settings.bucket_name.is_some()).await?;
    let clients = &clients;
    if !super::organization_in_place(clients, &caller, &mut names, &mut inventory).await? {
        return Err(Stopped::Conflict(format!(
            "integration `{}` is not an organization integration: `trailctl setup --org` sets one up",
            names.integration
        ))
        .into());
    }
    let org = inventory.organization.clone().expect("read above");
    if org.standing == organization::Standing::Member {
        return Err(Stopped::Conflict(format!(
            "the accounts of organization {} can only be managed from its management account {} (or a CloudTrail delegated administrator)",
            org.id, org.management_account
        ))
        .into());
    }
    let current = desired::selection_in_place(&names, &inventory).unwrap_or(Accounts::All);

    let wanted = match &settings.action {
        AccountsAction::List => {
            list(&names, &org, &current, printer);
            return Ok(());
        }
        AccountsAction::Add(ids) => {
            super::validate_members(&org, ids, "accounts add")?;
            match &current {
                Accounts::All => Accounts::All,
                Accounts::Only(selected) => {
                    Accounts::only(selected.iter().chain(ids).cloned().collect())
                }
            }
        }
        AccountsAction::Remove(ids) => remove(&org, &current, ids)?,
        AccountsAction::Set(selection) => {
            if let Accounts::Only(ids) = selection {
                super::validate_members(&org, ids, "accounts set")?;
            }
            selection.clone()
        }
    };

    let (mut setup_settings, external_id) = desired::settings_in_place(&names, &inventory);
    setup_settings.org = Some(OrgSetup {
        accounts: Some(wanted.clone()),
    });
    let desired = desired::desired(&names, &setup_settings, external_id);
    // Only the selection changes here; drift elsewhere is `setup`'s to repair.
    let full = plan::setup(&names, &desired, &inventory, &[]);
    let plan = Plan::new(
        full.steps
            .into_iter()
            .filter(|s| s.kind == Kind::Notification)
            .collect(),
    );
    let heading = format!(
        "Accounts of integration `{}` in organization {} (collected: {current} → {wanted}):",
        names.integration, org.id
    );
    if !printer.is_json() {
        super::show_plan(global, printer, &plan, &heading);
    }
    super::refuse_conflicts(&plan)?;
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
        printer.text("\nNo changes: the selection is already so.");
    } else {
        super::confirm(global, &plan)?;
        let mut journal =
            Journal::open(&caller.account, &names.region, names.integration.as_str())?;
        super::apply(clients, &plan, &mut journal, printer).await?;
        printer.text(&format!("\nApplied. Collected accounts: {wanted}."));
    }
    if printer.is_json() {
        printer.json(&report(!plan.is_empty()));
    }
    Ok(())
}

/// The selection without `ids`. From "all", that is every active account
/// but them. Removing an ID that is not selected is an error (a typo would
/// otherwise pass silently), and so is removing the last one: an empty
/// selection means every account.
fn remove(
    org: &organization::State,
    current: &Accounts,
    ids: &[AccountId],
) -> anyhow::Result<Accounts> {
    let selected: Vec<AccountId> = match current {
        Accounts::All => org
            .active()
            .filter_map(|a| AccountId::parse("account", &a.id).ok())
            .collect(),
        Accounts::Only(ids) => ids.clone(),
    };
    for id in ids {
        if !selected.contains(id) {
            return Err(InvalidInput::new(format!(
                "accounts remove: account {id} is not collected (`trailctl accounts list` shows the selection); nothing was changed"
            ))
            .into());
        }
    }
    let rest: Vec<AccountId> = selected
        .into_iter()
        .filter(|id| !ids.contains(id))
        .collect();
    if rest.is_empty() {
        return Err(InvalidInput::new(
            "accounts remove: that would leave no account selected, which means every account; `trailctl delete` removes the integration. Nothing was changed",
        )
        .into());
    }
    Ok(Accounts::Only(rest))
}

fn list(names: &Names, org: &organization::State, selection: &Accounts, printer: &Printer) {
    let accounts: Vec<Listed> = org
        .accounts
        .iter()
        .map(|a| Listed {
            id: &a.id,
            name: &a.name,
            status: &a.status,
            collected: selection.includes(&a.id),
        })
        .collect();
    let not_in_organization: Vec<&str> = match selection {
        Accounts::All => Vec::new(),
        Accounts::Only(ids) => ids
            .iter()
            .map(AccountId::as_str)
            .filter(|id| org.account(id).is_none())
            .collect(),
    };
    if printer.is_json() {
        printer.json(&ListReport {
            integration: names.integration.as_str(),
            organization: &org.id,
            management_account: &org.management_account,
            selection: selection.to_string(),
            accounts,
            not_in_organization,
        });
        return;
    }
    let collected = accounts.iter().filter(|a| a.collected).count();
    let mut text = format!(
        "Organization {} (management account {}), integration `{}`: collecting {}\n\n  {:<12}  {:<9}  {:<9}  NAME",
        org.id,
        org.management_account,
        names.integration,
        match selection {
            Accounts::All => format!("every account ({collected}), including those that join later"),
            Accounts::Only(_) => format!("{collected} of {} accounts", accounts.len()),
        },
        "ID",
        "STATUS",
        "COLLECTED"
    );
    for a in &accounts {
        text.push_str(&format!(
            "\n  {:<12}  {:<9}  {:<9}  {}",
            a.id,
            a.status,
            if a.collected { "yes" } else { "no" },
            a.name
        ));
    }
    if !not_in_organization.is_empty() {
        text.push_str(&format!(
            "\n\nSelected but no longer in the organization (`trailctl accounts remove` them): {}",
            not_in_organization.join(", ")
        ));
    }
    printer.text(&text);
}
