//! IAM roles: the collector role (assumed only by the collector's account
//! with the external ID, allowed only to read the log objects and receive
//! from the queue), the forwarder's execution role and the role CloudTrail
//! assumes to write to CloudWatch Logs.
//!
//! A role's permissions are exactly one inline policy (its spec's
//! `policy_name`); any other policy found on an owned role is drift that
//! widens what the role can do, so the plan removes it.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use futures::future::try_join_all;
use serde::Serialize;
use serde_json::Value;

use super::{tag_change, FieldChange, Tags};
use crate::aws::{error_code, AwsResultExt};
use crate::iam::policy;

/// The collector role's inline policy.
pub const PERMISSIONS_POLICY_NAME: &str = "trailctl-read-logs";
/// The forwarder's execution role's inline policy.
pub const FORWARDER_POLICY_NAME: &str = "trailctl-forwarder";
/// The inline policy of the role CloudTrail assumes for CloudWatch Logs.
pub const TRAIL_LOGS_POLICY_NAME: &str = "trailctl-write-log-group";

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub arn: String,
    /// The one inline policy's name.
    pub policy_name: &'static str,
    /// No spaces: the emulator's signature check re-encodes form values
    /// with '+' for a space where the SDK signed '%20', and the IAM-enforced
    /// tests must be able to create these roles.
    pub description: &'static str,
    pub trust: Value,
    pub permissions: Value,
    pub tags: Tags,
}

/// `pause` records on the collector role when it paused delivery (RFC
/// 3339)...
pub const PAUSED_AT_TAG: &str = "trailctl:paused-at";
/// ...and whether it also stopped the trail's logging. The role, because it
/// is always the integration's own: the topic may be a reused one, which
/// trailctl does not tag.
pub const PAUSED_LOGGING_TAG: &str = "trailctl:paused-stopped-logging";

/// A pause recorded on the collector role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pause {
    pub since: String,
    pub stopped_logging: bool,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub trust: Option<Value>,
    pub permissions: Option<Value>,
    /// Inline policies other than ours.
    pub other_inline: Vec<String>,
    /// ARNs of attached managed policies.
    pub attached: Vec<String>,
    pub tags: Tags,
}

impl State {
    /// The external ID the trust policy requires, so a re-run keeps it.
    pub fn external_id(&self) -> Option<String> {
        let trust = policy::normalize(self.trust.as_ref()?);
        trust["Statement"].as_array()?.iter().find_map(|s| {
            s["Condition"]["StringEquals"]["sts:ExternalId"][0]
                .as_str()
                .map(str::to_owned)
        })
    }

    /// The pause recorded on this role, if any.
    pub fn pause(&self) -> Option<Pause> {
        Some(Pause {
            since: super::tag_value(&self.tags, PAUSED_AT_TAG)?.to_owned(),
            stopped_logging: super::tag_value(&self.tags, PAUSED_LOGGING_TAG) == Some("true"),
        })
    }

    /// The keys of the pause record this role carries.
    pub fn pause_keys(&self) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(k, _)| k == PAUSED_AT_TAG || k == PAUSED_LOGGING_TAG)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Setting {
    Trust,
    Permissions,
    /// Remove the policies that are not ours (names or ARNs).
    RemoveOthers {
        inline: Vec<String>,
        attached: Vec<String>,
    },
    Tags,
}

impl Setting {
    pub fn iam_actions(&self) -> &'static [&'static str] {
        match self {
            Setting::Trust => &["iam:UpdateAssumeRolePolicy"],
            Setting::Permissions => &["iam:PutRolePolicy"],
            Setting::RemoveOthers { .. } => &["iam:DeleteRolePolicy", "iam:DetachRolePolicy"],
            Setting::Tags => &["iam:TagRole"],
        }
    }
}

pub const READ_ACTIONS: &[&str] = &[
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
];
pub const CREATE_ACTIONS: &[&str] = &["iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy"];
pub const UPDATE_ACTIONS: &[&str] = &[
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:TagRole",
];
/// `pause` tags the collector role with its record, `resume` untags it.
pub const PAUSE_ACTIONS: &[&str] = &["iam:TagRole", "iam:UntagRole"];
pub const DELETE_ACTIONS: &[&str] = &[
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:DeleteRole",
];

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    // The collector role records what the integration reuses in tags.
    let unrecorded: Vec<String> = spec
        .tags
        .iter()
        .filter(|(k, _)| k.starts_with("trailctl:") && k != super::TAG_KEY)
        .filter(|tag| !state.tags.contains(tag))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !unrecorded.is_empty() {
        changes.push((
            Setting::Tags,
            FieldChange::new("reuse record", "(none)", unrecorded.join(", ")),
        ));
    }
    for change in policy::statement_changes("trust policy", state.trust.as_ref(), &spec.trust) {
        changes.push((Setting::Trust, change));
    }
    for change in policy::statement_changes(
        &format!("inline policy {}", spec.policy_name),
        state.permissions.as_ref(),
        &spec.permissions,
    ) {
        changes.push((Setting::Permissions, change));
    }
    if !state.other_inline.is_empty() || !state.attached.is_empty() {
        let found: Vec<_> = state
            .other_inline
            .iter()
            .chain(&state.attached)
            .cloned()
            .collect();
        changes.push((
            Setting::RemoveOthers {
                inline: state.other_inline.clone(),
                attached: state.attached.clone(),
            },
            FieldChange::new("other policies", found.join(", "), "(none)"),
        ));
    }
    changes
}

pub async fn read(iam: &Client, name: &str, policy_name: &str) -> anyhow::Result<Option<State>> {
    // One round: the policy reads go out with GetRole instead of after it.
    // When the role does not exist they fail too, and GetRole's answer wins.
    let (role, permissions, inline, attached) = tokio::join!(
        iam.get_role().role_name(name).send(),
        iam.get_role_policy()
            .role_name(name)
            .policy_name(policy_name)
            .send(),
        list_inline(iam, name),
        list_attached(iam, name),
    );
    let role = match role {
        Ok(out) => out.role,
        Err(e) if error_code(&e) == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(crate::aws::aws_error(format!("iam:GetRole {name}"), e)),
    };
    let Some(role) = role else { return Ok(None) };
    let permissions = match permissions {
        Ok(out) => policy::parse(out.policy_document()),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => None,
        Err(e) => return Err(crate::aws::aws_error("iam:GetRolePolicy", e)),
    };
    let (inline, attached) = (inline?, attached?);
    Ok(Some(State {
        trust: role.assume_role_policy_document().and_then(policy::parse),
        permissions,
        other_inline: inline.into_iter().filter(|n| n != policy_name).collect(),
        attached,
        tags: role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    }))
}

async fn list_inline(iam: &Client, name: &str) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.aws("iam:ListRolePolicies")?
                .policy_names()
                .iter()
                .cloned(),
        );
    }
    Ok(names)
}

async fn list_attached(iam: &Client, name: &str) -> anyhow::Result<Vec<String>> {
    let mut arns = Vec::new();
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        arns.extend(
            page.aws("iam:ListAttachedRolePolicies")?
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_owned)),
        );
    }
    Ok(arns)
}

fn iam_tags(tags: &Tags) -> anyhow::Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

pub async fn create(iam: &Client, spec: &Spec) -> anyhow::Result<()> {
    iam.create_role()
        .role_name(&spec.name)
        .assume_role_policy_document(spec.trust.to_string())
        .description(spec.description)
        .set_tags(Some(iam_tags(&spec.tags)?))
        .send()
        .await
        .aws(format!("iam:CreateRole {}", spec.name))?;
    put_permissions(iam, spec).await
}

async fn put_permissions(iam: &Client, spec: &Spec) -> anyhow::Result<()> {
    iam.put_role_policy()
        .role_name(&spec.name)
        .policy_name(spec.policy_name)
        .policy_document(spec.permissions.to_string())
        .send()
        .await
        .aws(format!("iam:PutRolePolicy {}", spec.name))?;
    Ok(())
}

pub async fn update(iam: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    for setting in settings {
        match setting {
            Setting::Trust => {
                iam.update_assume_role_policy()
                    .role_name(&spec.name)
                    .policy_document(spec.trust.to_string())
                    .send()
                    .await
                    .aws(format!("iam:UpdateAssumeRolePolicy {}", spec.name))?;
            }
            Setting::Permissions => put_permissions(iam, spec).await?,
            Setting::RemoveOthers { inline, attached } => {
                remove_policies(iam, &spec.name, inline, attached).await?;
            }
            Setting::Tags => {
                iam.tag_role()
                    .role_name(&spec.name)
                    .set_tags(Some(iam_tags(&spec.tags)?))
                    .send()
                    .await
                    .aws(format!("iam:TagRole {}", spec.name))?;
            }
        }
    }
    Ok(())
}

async fn remove_policies(
    iam: &Client,
    role: &str,
    inline: &[String],
    attached: &[String],
) -> anyhow::Result<()> {
    try_join_all(inline.iter().map(|policy| async move {
        match iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
        {
            Err(e) if error_code(&e) != Some("NoSuchEntity") => Err(crate::aws::aws_error(
                format!("iam:DeleteRolePolicy {role}/{policy}"),
                e,
            )),
            _ => Ok(()),
        }
    }))
    .await?;
    try_join_all(attached.iter().map(|arn| async move {
        match iam
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
        {
            Err(e) if error_code(&e) != Some("NoSuchEntity") => Err(crate::aws::aws_error(
                format!("iam:DetachRolePolicy {role} {arn}"),
                e,
            )),
            _ => Ok(()),
        }
    }))
    .await?;
    Ok(())
}

/// Delete the role: IAM refuses while policies remain, so they go first,
/// listed afresh (something may have been attached since the plan).
/// Add `tags` to the role (the pause record).
pub async fn tag(iam: &Client, name: &str, tags: &Tags) -> anyhow::Result<()> {
    iam.tag_role()
        .role_name(name)
        .set_tags(Some(iam_tags(tags)?))
        .send()
        .await
        .aws(format!("iam:TagRole {name}"))?;
    Ok(())
}

/// Remove the tags `keys` from the role (the pause record).
pub async fn untag(iam: &Client, name: &str, keys: &[String]) -> anyhow::Result<()> {
    iam.untag_role()
        .role_name(name)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .aws(format!("iam:UntagRole {name}"))?;
    Ok(())
}

pub async fn delete(iam: &Client, name: &str) -> anyhow::Result<()> {
    let lists = tokio::try_join!(list_inline(iam, name), list_attached(iam, name));
    let (inline, attached) = match lists {
        Ok(lists) => lists,
        Err(_)
            if iam
                .get_role()
                .role_name(name)
                .send()
                .await
                .is_err_and(|e| error_code(&e) == Some("NoSuchEntity")) =>
        {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    remove_policies(iam, name, &inline, &attached).await?;
    match iam.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NoSuchEntity") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(format!("iam:DeleteRole {name}"), e)),
    }
}
