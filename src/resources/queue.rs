//! The SQS queue the collector polls (`--delivery sqs`) and its dead-letter
//! queue: standard queues with SQS-managed encryption, a redrive policy,
//! and a policy that lets only our topic send.
//!
//! The two queues are one resource here: the dead-letter queue exists for
//! the main one, is created before it (the redrive policy names it) and is
//! deleted after it.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;
use serde::Serialize;
use serde_json::{json, Value};

use super::{tag_change, FieldChange, Tags};
use crate::aws::{error_code, AwsResultExt};
use crate::iam::policy;

/// How long a message (a new log file) waits for the collector: the
/// maximum, so an outage of the collector loses nothing for two weeks.
pub const RETENTION_SECONDS: u32 = 1_209_600;
/// Receives before a message moves to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub url: String,
    pub arn: String,
    pub dlq_name: String,
    pub dlq_url: String,
    pub dlq_arn: String,
    pub policy: Value,
    pub tags: Tags,
}

impl Spec {
    pub fn redrive_policy(&self) -> Value {
        json!({"deadLetterTargetArn": self.dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
    }
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub policy: Option<Value>,
    pub encrypted: bool,
    pub redrive: Option<Value>,
    pub retention_seconds: Option<u32>,
    pub dlq_exists: bool,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Setting {
    /// Policy, encryption, redrive and retention: one SetQueueAttributes.
    Attributes,
    DeadLetterQueue,
    Tags,
}

impl Setting {
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [Setting; 3] = [Setting::Attributes, Setting::DeadLetterQueue, Setting::Tags];

    pub fn iam_action(self) -> &'static str {
        match self {
            Setting::Attributes => "sqs:SetQueueAttributes",
            Setting::DeadLetterQueue => "sqs:CreateQueue",
            Setting::Tags => "sqs:TagQueue",
        }
    }
}

pub const READ_ACTIONS: &[&str] = &["sqs:GetQueueAttributes", "sqs:ListQueueTags"];
pub const CREATE_ACTIONS: &[&str] = &["sqs:CreateQueue", "sqs:TagQueue"];
pub const DELETE_ACTIONS: &[&str] = &["sqs:DeleteQueue"];

/// The queue URL for a name, as SQS forms it (`sqs.<region>.<dns suffix>`).
pub fn url(partition: &str, region: &str, account: &str, name: &str) -> String {
    let suffix = match partition {
        "aws-cn" => "amazonaws.com.cn",
        _ => "amazonaws.com",
    };
    format!("https://sqs.{region}.{suffix}/{account}/{name}")
}

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    if !state.dlq_exists {
        changes.push((
            Setting::DeadLetterQueue,
            FieldChange::new("dead-letter queue", "(none)", spec.dlq_name.clone()),
        ));
    }
    for change in policy::statement_changes("queue policy", state.policy.as_ref(), &spec.policy) {
        changes.push((Setting::Attributes, change));
    }
    if !state.encrypted {
        changes.push((
            Setting::Attributes,
            FieldChange::new("encryption", "off", "SQS-managed (SSE-SQS)"),
        ));
    }
    if state.redrive.as_ref() != Some(&spec.redrive_policy()) {
        changes.push((
            Setting::Attributes,
            FieldChange::new(
                "redrive policy",
                super::show(state.redrive.as_ref()),
                spec.redrive_policy().to_string(),
            ),
        ));
    }
    if state.retention_seconds != Some(RETENTION_SECONDS) {
        changes.push((
            Setting::Attributes,
            FieldChange::new(
                "message retention",
                super::show(state.retention_seconds.map(|s| format!("{s} s"))),
                format!("{RETENTION_SECONDS} s"),
            ),
        ));
    }
    changes
}

fn missing<E: aws_sdk_sqs::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_sqs::error::SdkError<E, R>,
) -> bool {
    matches!(
        error_code(e),
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist")
    )
}

/// One round: both queues' attributes and the tags at once, by URL.
pub async fn read(sqs: &Client, spec_urls: (&str, &str)) -> anyhow::Result<Option<State>> {
    let (url, dlq_url) = spec_urls;
    let (attributes, tags, dlq) = tokio::join!(
        sqs.get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send(),
        sqs.list_queue_tags().queue_url(url).send(),
        sqs.get_queue_attributes()
            .queue_url(dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send(),
    );
    let attributes = match attributes {
        Ok(out) => out.attributes.unwrap_or_default(),
        Err(e) if missing(&e) => return Ok(None),
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("sqs:GetQueueAttributes {url}"),
                e,
            ))
        }
    };
    let dlq_exists = match dlq {
        Ok(_) => true,
        Err(e) if missing(&e) => false,
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("sqs:GetQueueAttributes {dlq_url}"),
                e,
            ))
        }
    };
    let tags = tags
        .aws(format!("sqs:ListQueueTags {url}"))?
        .tags
        .unwrap_or_default()
        .into_iter()
        .collect();
    let get = |name: QueueAttributeName| attributes.get(&name).cloned();
    Ok(Some(State {
        policy: get(QueueAttributeName::Policy).and_then(|p| policy::parse(&p)),
        encrypted: get(QueueAttributeName::SqsManagedSseEnabled).as_deref() == Some("true")
            || get(QueueAttributeName::KmsMasterKeyId).is_some(),
        redrive: get(QueueAttributeName::RedrivePolicy)
            .and_then(|p| serde_json::from_str::<Value>(&p).ok())
            .map(normalize_redrive),
        retention_seconds: get(QueueAttributeName::MessageRetentionPeriod)
            .and_then(|s| s.parse().ok()),
        dlq_exists,
        tags,
    }))
}

/// SQS answers `maxReceiveCount` as a string or a number, depending on how
/// it was set; compare it as a number.
fn normalize_redrive(mut redrive: Value) -> Value {
    if let Some(count) = redrive["maxReceiveCount"]
        .as_str()
        .and_then(|s| s.parse::<u32>().ok())
    {
        redrive["maxReceiveCount"] = json!(count);
    }
    redrive
}

fn attributes(spec: &Spec) -> HashMap<QueueAttributeName, String> {
    HashMap::from([
        (QueueAttributeName::Policy, spec.policy.to_string()),
        (QueueAttributeName::SqsManagedSseEnabled, "true".into()),
        (
            QueueAttributeName::RedrivePolicy,
            spec.redrive_policy().to_string(),
        ),
        (
            QueueAttributeName::MessageRetentionPeriod,
            RETENTION_SECONDS.to_string(),
        ),
    ])
}

async fn create_dlq(sqs: &Client, spec: &Spec) -> anyhow::Result<()> {
    sqs.create_queue()
        .queue_name(&spec.dlq_name)
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            RETENTION_SECONDS.to_string(),
        )
        .set_tags(Some(spec.tags.iter().cloned().collect()))
        .send()
        .await
        .aws(format!("sqs:CreateQueue {}", spec.dlq_name))?;
    Ok(())
}

/// The dead-letter queue first (the redrive policy names it), then the
/// queue with every attribute and tag in its CreateQueue: no window with a
/// default policy.
pub async fn create(sqs: &Client, spec: &Spec) -> anyhow::Result<()> {
    create_dlq(sqs, spec).await?;
    sqs.create_queue()
        .queue_name(&spec.name)
        .set_attributes(Some(attributes(spec)))
        .set_tags(Some(spec.tags.iter().cloned().collect()))
        .send()
        .await
        .aws(format!("sqs:CreateQueue {}", spec.name))?;
    Ok(())
}

pub async fn update(sqs: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    if settings.contains(&Setting::DeadLetterQueue) {
        create_dlq(sqs, spec).await?;
    }
    if settings.contains(&Setting::Attributes) {
        sqs.set_queue_attributes()
            .queue_url(&spec.url)
            .set_attributes(Some(attributes(spec)))
            .send()
            .await
            .aws(format!("sqs:SetQueueAttributes {}", spec.name))?;
    }
    if settings.contains(&Setting::Tags) {
        sqs.tag_queue()
            .queue_url(&spec.url)
            .set_tags(Some(spec.tags.iter().cloned().collect()))
            .send()
            .await
            .aws(format!("sqs:TagQueue {}", spec.name))?;
    }
    Ok(())
}

/// Delete the queue, then its dead-letter queue. Missing ones are success.
pub async fn delete(sqs: &Client, url: &str, dlq_url: &str) -> anyhow::Result<()> {
    for url in [url, dlq_url] {
        match sqs.delete_queue().queue_url(url).send().await {
            Err(e) if !missing(&e) => {
                return Err(crate::aws::aws_error(format!("sqs:DeleteQueue {url}"), e))
            }
            _ => {}
        }
    }
    Ok(())
}
