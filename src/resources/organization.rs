//! The AWS Organization an organization integration (`setup --org`) runs in:
//! who may create its organization trail, its accounts, and CloudTrail's
//! trusted access, the one organization-wide setting trailctl changes.
//!
//! Only the management account, or an account registered as CloudTrail's
//! delegated administrator, may create an organization trail; anything else
//! is refused before any change, with the account to use.

use aws_sdk_organizations::Client;
use serde::Serialize;

use crate::aws::{error_code, AwsResultExt};

/// The service principal whose trusted access an organization trail needs.
pub const CLOUDTRAIL_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

pub const READ_ACTIONS: &[&str] = &[
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListAWSServiceAccessForOrganization",
    "organizations:ListDelegatedAdministrators",
];
pub const ENABLE_ACTIONS: &[&str] = &["organizations:EnableAWSServiceAccess"];
/// Only to undo an enable this run made.
pub const DISABLE_ACTIONS: &[&str] = &["organizations:DisableAWSServiceAccess"];
/// What CloudTrail itself checks, as the caller, when it creates or
/// converts an organization trail (it creates its service-linked role).
pub const ORGANIZATION_TRAIL_ACTIONS: &[&str] = &[
    "iam:CreateServiceLinkedRole",
    "organizations:DescribeOrganization",
    "organizations:ListAWSServiceAccessForOrganization",
];

/// How the caller stands in the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Management,
    /// Registered as CloudTrail's delegated administrator.
    DelegatedAdministrator,
    /// Anything else: may not create an organization trail.
    Member,
}

/// One account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

impl Account {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    pub id: String,
    pub management_account: String,
    pub standing: Standing,
    /// Every account, sorted by ID; empty when the caller may not list them
    /// (a plain member).
    pub accounts: Vec<Account>,
    /// `None` when the caller may not read it (a delegated administrator
    /// exists only where it is on).
    pub trusted_access: Option<bool>,
}

impl State {
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The accounts that write logs: what "every account" collects now.
    pub fn active(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().filter(|a| a.is_active())
    }
}

/// Read the organization as seen from `caller_account`: who it is, then
/// (for those who may) the accounts and trusted access, at once.
pub async fn read(org: &Client, caller_account: &str) -> anyhow::Result<State> {
    let described = match org.describe_organization().send().await {
        Ok(out) => out.organization,
        Err(e) if error_code(&e) == Some("AWSOrganizationsNotInUseException") => {
            // `--org` asks for what this account cannot have: bad input.
            return Err(crate::exit::InvalidInput::new(format!(
                "--org: account {caller_account} is not in an AWS Organization; run `setup` without --org"
            ))
            .into());
        }
        Err(e) => {
            return Err(crate::aws::aws_error(
                "organizations:DescribeOrganization",
                e,
            ))
        }
    };
    let described =
        described.unwrap_or_else(|| aws_sdk_organizations::types::Organization::builder().build());
    let id = described.id().unwrap_or_default().to_owned();
    let management_account = described.master_account_id().unwrap_or_default().to_owned();
    let standing = if caller_account == management_account {
        Standing::Management
    } else if is_delegated_administrator(org, caller_account).await? {
        Standing::DelegatedAdministrator
    } else {
        Standing::Member
    };
    if standing == Standing::Member {
        return Ok(State {
            id,
            management_account,
            standing,
            accounts: Vec::new(),
            trusted_access: None,
        });
    }
    let (accounts, trusted_access) =
        tokio::try_join!(list_accounts(org), trusted_access(org, standing))?;
    Ok(State {
        id,
        management_account,
        standing,
        accounts,
        trusted_access,
    })
}

/// A member may not list delegated administrators; that is a "no".
async fn is_delegated_administrator(org: &Client, account: &str) -> anyhow::Result<bool> {
    let mut pages = org
        .list_delegated_administrators()
        .service_principal(CLOUDTRAIL_PRINCIPAL)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                if page
                    .delegated_administrators()
                    .iter()
                    .any(|a| a.id() == Some(account))
                {
                    return Ok(true);
                }
            }
            Err(e) if error_code(&e) == Some("AccessDeniedException") => return Ok(false),
            Err(e) => {
                return Err(crate::aws::aws_error(
                    "organizations:ListDelegatedAdministrators",
                    e,
                ))
            }
        }
    }
    Ok(false)
}

async fn list_accounts(org: &Client) -> anyhow::Result<Vec<Account>> {
    let mut accounts = Vec::new();
    let mut pages = org.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.aws("organizations:ListAccounts")?;
        accounts.extend(page.accounts().iter().map(|a| {
            Account {
                id: a.id().unwrap_or_default().to_owned(),
                name: a.name().unwrap_or_default().to_owned(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            }
        }));
    }
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(accounts)
}

async fn trusted_access(org: &Client, standing: Standing) -> anyhow::Result<Option<bool>> {
    let mut pages = org
        .list_aws_service_access_for_organization()
        .into_paginator()
        .send();
    let mut on = false;
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => {
                on |= page
                    .enabled_service_principals()
                    .iter()
                    .any(|p| p.service_principal() == Some(CLOUDTRAIL_PRINCIPAL));
            }
            Err(e)
                if standing == Standing::DelegatedAdministrator
                    && error_code(&e) == Some("AccessDeniedException") =>
            {
                return Ok(None)
            }
            Err(e) => {
                return Err(crate::aws::aws_error(
                    "organizations:ListAWSServiceAccessForOrganization",
                    e,
                ))
            }
        }
    }
    Ok(Some(on))
}

pub async fn enable_trusted_access(org: &Client) -> anyhow::Result<()> {
    org.enable_aws_service_access()
        .service_principal(CLOUDTRAIL_PRINCIPAL)
        .send()
        .await
        .aws(format!(
            "organizations:EnableAWSServiceAccess {CLOUDTRAIL_PRINCIPAL}"
        ))?;
    Ok(())
}

pub async fn disable_trusted_access(org: &Client) -> anyhow::Result<()> {
    org.disable_aws_service_access()
        .service_principal(CLOUDTRAIL_PRINCIPAL)
        .send()
        .await
        .aws(format!(
            "organizations:DisableAWSServiceAccess {CLOUDTRAIL_PRINCIPAL}"
        ))?;
    Ok(())
}
