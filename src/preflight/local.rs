//! The preflight's fallback: read the caller's own policies — a user's
//! inline and attached policies and those of its groups, or a role's — and
//! its permissions boundary, then evaluate them locally.
//!
//! What this cannot see is said in the report: session policies, SCPs and
//! resource policies are not part of it.

use std::collections::HashMap;

use anyhow::Context as _;
use aws_sdk_iam::types::Role;
use aws_sdk_iam::Client;
use futures::future::try_join_all;

use super::Permission;
use crate::aws::AwsResultExt;
use crate::iam::eval::{self, Decision, NamedPolicy, Request};
use crate::iam::policy;

/// The caller's identity policies and boundary, read once.
#[derive(Debug, Clone)]
pub struct CallerPolicies {
    pub identity: Vec<NamedPolicy>,
    pub boundary: Option<Vec<NamedPolicy>>,
}

impl CallerPolicies {
    pub fn evaluate(
        &self,
        permission: &Permission,
        context: HashMap<String, Vec<String>>,
    ) -> Decision {
        eval::evaluate(
            &self.identity,
            self.boundary.as_deref(),
            &Request {
                action: permission.action,
                resource: &permission.resource,
                context,
            },
        )
    }
}

/// The caller's role as `iam:GetRole` returns it, or why it could not be
/// read. A cloneable result, so that one call serves both the simulator
/// (the role's ARN with its path) and the local evaluation (its boundary).
pub type CallerRole = Result<Role, String>;

/// `iam:GetRole` on the caller's role `name`.
pub async fn caller_role(iam: &Client, name: &str) -> CallerRole {
    iam.get_role()
        .role_name(name)
        .send()
        .await
        .aws(format!("iam:GetRole on the caller's role {name}"))
        .and_then(|out| out.role.context("GetRole returned no role"))
        .map_err(|e| format!("{e:#}"))
}

pub async fn read_user(iam: &Client, name: &str) -> anyhow::Result<CallerPolicies> {
    let owner = format!("user {name}");
    // The user (for its boundary) and its policy lists at once.
    let (user, inline, attached, groups) = tokio::try_join!(
        async {
            iam.get_user()
                .user_name(name)
                .send()
                .await
                .aws("iam:GetUser")
        },
        user_inline(iam, name, &owner),
        async {
            let arns = user_attached(iam, name).await?;
            try_join_all(arns.iter().map(|arn| managed(iam, arn))).await
        },
        user_groups(iam, name),
    )?;
    let boundary_arn = user
        .user()
        .and_then(|u| u.permissions_boundary())
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_owned);
    let (group_policies, boundary) = tokio::try_join!(
        try_join_all(groups.iter().map(|g| read_group(iam, g))),
        boundary(iam, boundary_arn.as_deref()),
    )?;
    let identity = inline
        .into_iter()
        .chain(attached)
        .chain(group_policies.into_iter().flatten())
        .collect();
    Ok(CallerPolicies { identity, boundary })
}

/// The role's policies, read alongside `role` (its `GetRole`, shared with
/// the simulator), which gives the boundary.
pub async fn read_role(
    iam: &Client,
    name: &str,
    role: impl std::future::Future<Output = CallerRole>,
) -> anyhow::Result<CallerPolicies> {
    let owner = format!("role {name}");
    let (role, inline, attached) = tokio::try_join!(
        async { role.await.map_err(anyhow::Error::msg) },
        role_inline(iam, name, &owner),
        async {
            let arns = role_attached(iam, name).await?;
            try_join_all(arns.iter().map(|arn| managed(iam, arn))).await
        },
    )?;
    let boundary_arn = role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
        .map(str::to_owned);
    Ok(CallerPolicies {
        identity: inline.into_iter().chain(attached).collect(),
        boundary: boundary(iam, boundary_arn.as_deref()).await?,
    })
}

async fn read_group(iam: &Client, group: &str) -> anyhow::Result<Vec<NamedPolicy>> {
    let owner = format!("group {group}");
    let (inline, attached) = tokio::try_join!(group_inline(iam, group, &owner), async {
        let arns = group_attached(iam, group).await?;
        try_join_all(arns.iter().map(|arn| managed(iam, arn))).await
    })?;
    Ok(inline.into_iter().chain(attached).collect())
}

async fn boundary(iam: &Client, arn: Option<&str>) -> anyhow::Result<Option<Vec<NamedPolicy>>> {
    let Some(arn) = arn else { return Ok(None) };
    let mut policy = managed(iam, arn).await?;
    policy.name = format!("permissions boundary {arn}");
    Ok(Some(vec![policy]))
}

/// The default version of a managed policy.
async fn managed(iam: &Client, arn: &str) -> anyhow::Result<NamedPolicy> {
    let meta = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .aws(format!("iam:GetPolicy {arn}"))?;
    let version = meta
        .policy()
        .and_then(|p| p.default_version_id())
        .context("GetPolicy returned no default version")?;
    let out = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .aws(format!("iam:GetPolicyVersion {arn}"))?;
    let text = out
        .policy_version()
        .and_then(|v| v.document())
        .context("GetPolicyVersion returned no document")?;
    Ok(NamedPolicy {
        name: format!("managed policy {arn}"),
        document: policy::parse(text).context("unreadable policy document")?,
    })
}

fn inline_policy(owner: &str, name: &str, text: &str) -> anyhow::Result<NamedPolicy> {
    Ok(NamedPolicy {
        name: format!("inline policy {name} of {owner}"),
        document: policy::parse(text)
            .with_context(|| format!("unreadable inline policy {name} of {owner}"))?,
    })
}

/// One `List*` call's pages, flattened: `$list` is the operation on the
/// client, `$set` the identifying parameter, `$items` the page's list and
/// `$map` what to keep of each item.
macro_rules! list_all {
    ($iam:expr, $list:ident, $set:ident, $value:expr, $items:ident, $map:expr, $what:literal) => {{
        let mut out = Vec::new();
        let mut pages = $iam.$list().$set($value).into_paginator().send();
        while let Some(page) = pages.next().await {
            out.extend(page.aws($what)?.$items().iter().map($map));
        }
        anyhow::Ok(out)
    }};
}

async fn user_inline(iam: &Client, user: &str, owner: &str) -> anyhow::Result<Vec<NamedPolicy>> {
    let names: Vec<String> = list_all!(
        iam,
        list_user_policies,
        user_name,
        user,
        policy_names,
        |n: &String| n.clone(),
        "iam:ListUserPolicies"
    )?;
    try_join_all(names.iter().map(|name| async move {
        let out = iam
            .get_user_policy()
            .user_name(user)
            .policy_name(name)
            .send()
            .await
            .aws("iam:GetUserPolicy")?;
        inline_policy(owner, name, out.policy_document())
    }))
    .await
}

async fn user_attached(iam: &Client, user: &str) -> anyhow::Result<Vec<String>> {
    list_all!(
        iam,
        list_attached_user_policies,
        user_name,
        user,
        attached_policies,
        |p: &aws_sdk_iam::types::AttachedPolicy| p.policy_arn().unwrap_or_default().to_owned(),
        "iam:ListAttachedUserPolicies"
    )
}

async fn user_groups(iam: &Client, user: &str) -> anyhow::Result<Vec<String>> {
    list_all!(
        iam,
        list_groups_for_user,
        user_name,
        user,
        groups,
        |g: &aws_sdk_iam::types::Group| g.group_name().to_owned(),
        "iam:ListGroupsForUser"
    )
}

async fn group_inline(iam: &Client, group: &str, owner: &str) -> anyhow::Result<Vec<NamedPolicy>> {
    let names: Vec<String> = list_all!(
        iam,
        list_group_policies,
        group_name,
        group,
        policy_names,
        |n: &String| n.clone(),
        "iam:ListGroupPolicies"
    )?;
    try_join_all(names.iter().map(|name| async move {
        let out = iam
            .get_group_policy()
            .group_name(group)
            .policy_name(name)
            .send()
            .await
            .aws("iam:GetGroupPolicy")?;
        inline_policy(owner, name, out.policy_document())
    }))
    .await
}

async fn group_attached(iam: &Client, group: &str) -> anyhow::Result<Vec<String>> {
    list_all!(
        iam,
        list_attached_group_policies,
        group_name,
        group,
        attached_policies,
        |p: &aws_sdk_iam::types::AttachedPolicy| p.policy_arn().unwrap_or_default().to_owned(),
        "iam:ListAttachedGroupPolicies"
    )
}

async fn role_inline(iam: &Client, role: &str, owner: &str) -> anyhow::Result<Vec<NamedPolicy>> {
    let names: Vec<String> = list_all!(
        iam,
        list_role_policies,
        role_name,
        role,
        policy_names,
        |n: &String| n.clone(),
        "iam:ListRolePolicies"
    )?;
    try_join_all(names.iter().map(|name| async move {
        let out = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .aws("iam:GetRolePolicy")?;
        inline_policy(owner, name, out.policy_document())
    }))
    .await
}

async fn role_attached(iam: &Client, role: &str) -> anyhow::Result<Vec<String>> {
    list_all!(
        iam,
        list_attached_role_policies,
        role_name,
        role,
        attached_policies,
        |p: &aws_sdk_iam::types::AttachedPolicy| p.policy_arn().unwrap_or_default().to_owned(),
        "iam:ListAttachedRolePolicies"
    )
}
