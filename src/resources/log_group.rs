//! CloudWatch Logs groups: the forwarder's own (created before the function
//! so that Lambda does not create it without a retention period) and, with
//! `--cloudwatch-logs`, the one the trail also delivers to, whose
//! subscription filter sends every event to the forwarder.

use aws_sdk_cloudwatchlogs::Client;
use serde::Serialize;

use super::{tag_change, FieldChange, Tags};
use crate::aws::{error_code, AwsResultExt};

/// Days the log groups keep events: CloudWatch Logs is the short-lived
/// copy; the bucket is the archive.
pub const RETENTION_DAYS: i32 = 30;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub name: String,
    pub destination_arn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    /// Without the `:*` suffix: the form tagging takes.
    pub arn: String,
    pub retention_days: i32,
    /// Send every event to this destination (the forwarder).
    pub filter: Option<Filter>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub retention_days: Option<i32>,
    pub filters: Vec<Filter>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Setting {
    Retention,
    Filter,
    Tags,
}

impl Setting {
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [Setting; 3] = [Setting::Retention, Setting::Filter, Setting::Tags];

    pub fn iam_action(&self) -> &'static str {
        match self {
            Setting::Retention => "logs:PutRetentionPolicy",
            Setting::Filter => "logs:PutSubscriptionFilter",
            Setting::Tags => "logs:TagResource",
        }
    }
}

pub const READ_ACTIONS: &[&str] = &[
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    "logs:DescribeSubscriptionFilters",
];
pub const CREATE_ACTIONS: &[&str] = &[
    "logs:CreateLogGroup",
    "logs:TagResource",
    "logs:PutRetentionPolicy",
    "logs:PutSubscriptionFilter",
];
pub const DELETE_ACTIONS: &[&str] = &["logs:DeleteLogGroup"];
/// `pause` removes the trail log group's filter; `resume` puts it back.
pub const PAUSE_ACTIONS: &[&str] = &[
    "logs:DeleteSubscriptionFilter",
    "logs:PutSubscriptionFilter",
];

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    if state.retention_days != Some(spec.retention_days) {
        changes.push((
            Setting::Retention,
            FieldChange::new(
                "retention",
                super::show(state.retention_days.map(|d| format!("{d} days"))),
                format!("{} days", spec.retention_days),
            ),
        ));
    }
    if let Some(filter) = &spec.filter {
        if !state.filters.contains(filter) {
            changes.push((
                Setting::Filter,
                FieldChange::new(
                    "subscription filter",
                    "(none)",
                    format!("{} → {}", filter.name, filter.destination_arn),
                ),
            ));
        }
    }
    changes
}

/// One round: the group, its tags and its subscription filters at once.
pub async fn read(logs: &Client, name: &str, arn: &str) -> anyhow::Result<Option<State>> {
    let (groups, tags, filters) = tokio::join!(
        logs.describe_log_groups()
            .log_group_name_prefix(name)
            .send(),
        logs.list_tags_for_resource().resource_arn(arn).send(),
        logs.describe_subscription_filters()
            .log_group_name(name)
            .send(),
    );
    let groups = groups.aws(format!("logs:DescribeLogGroups {name}"))?;
    let Some(group) = groups
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
    else {
        return Ok(None);
    };
    let not_found = |code: Option<&str>| code == Some("ResourceNotFoundException");
    let tags = match tags {
        Ok(out) => out.tags.unwrap_or_default().into_iter().collect(),
        Err(e) if not_found(error_code(&e)) => Tags::new(),
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("logs:ListTagsForResource {name}"),
                e,
            ))
        }
    };
    let filters = match filters {
        Ok(out) => out
            .subscription_filters()
            .iter()
            .map(|f| Filter {
                name: f.filter_name().unwrap_or_default().to_owned(),
                destination_arn: f.destination_arn().unwrap_or_default().to_owned(),
            })
            .collect(),
        Err(e) if not_found(error_code(&e)) => Vec::new(),
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("logs:DescribeSubscriptionFilters {name}"),
                e,
            ))
        }
    };
    Ok(Some(State {
        retention_days: group.retention_in_days(),
        filters,
        tags,
    }))
}

async fn put_retention(logs: &Client, spec: &Spec) -> anyhow::Result<()> {
    logs.put_retention_policy()
        .log_group_name(&spec.name)
        .retention_in_days(spec.retention_days)
        .send()
        .await
        .aws(format!("logs:PutRetentionPolicy {}", spec.name))?;
    Ok(())
}

async fn put_filter(logs: &Client, spec: &Spec) -> anyhow::Result<()> {
    let Some(filter) = &spec.filter else {
        return Ok(());
    };
    logs.put_subscription_filter()
        .log_group_name(&spec.name)
        .filter_name(&filter.name)
        .filter_pattern("")
        .destination_arn(&filter.destination_arn)
        .send()
        .await
        .aws(format!("logs:PutSubscriptionFilter {}", spec.name))?;
    Ok(())
}

pub async fn create(logs: &Client, spec: &Spec) -> anyhow::Result<()> {
    match logs
        .create_log_group()
        .log_group_name(&spec.name)
        .set_tags(Some(spec.tags.iter().cloned().collect()))
        .send()
        .await
    {
        Ok(_) => {}
        // Created by an interrupted run of ours (the journal adopted it).
        Err(e) if error_code(&e) == Some("ResourceAlreadyExistsException") => {}
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("logs:CreateLogGroup {}", spec.name),
                e,
            ))
        }
    }
    tokio::try_join!(put_retention(logs, spec), put_filter(logs, spec))?;
    Ok(())
}

pub async fn update(logs: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    if settings.contains(&Setting::Tags) {
        logs.tag_resource()
            .resource_arn(&spec.arn)
            .set_tags(Some(spec.tags.iter().cloned().collect()))
            .send()
            .await
            .aws(format!("logs:TagResource {}", spec.name))?;
    }
    if settings.contains(&Setting::Retention) {
        put_retention(logs, spec).await?;
    }
    if settings.contains(&Setting::Filter) {
        put_filter(logs, spec).await?;
    }
    Ok(())
}

/// Remove one subscription filter (`pause`). A missing one is success.
pub async fn delete_filter(logs: &Client, group: &str, filter: &str) -> anyhow::Result<()> {
    match logs
        .delete_subscription_filter()
        .log_group_name(group)
        .filter_name(filter)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(
            format!("logs:DeleteSubscriptionFilter {group} {filter}"),
            e,
        )),
    }
}

/// Delete the group (its subscription filters go with it). Missing is success.
pub async fn delete(logs: &Client, name: &str) -> anyhow::Result<()> {
    match logs.delete_log_group().log_group_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(
            format!("logs:DeleteLogGroup {name}"),
            e,
        )),
    }
}
