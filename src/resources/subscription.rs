//! The topic's subscriptions to trailctl's own delivery endpoints: the
//! queue (raw message delivery, so the collector receives S3's event as
//! is) and the forwarder function.
//!
//! Subscriptions carry no tags: one is trailctl's when its endpoint is the
//! integration's queue or function. Every other subscription of the topic
//! is left alone.

use aws_sdk_sns::Client;
use serde::Serialize;

use crate::aws::{error_code, AwsResultExt};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spec {
    pub topic_arn: String,
    /// `sqs` or `lambda`.
    pub protocol: String,
    pub endpoint: String,
}

impl Spec {
    /// The plan's name for it: protocol and endpoint's last part.
    pub fn label(&self) -> String {
        format!(
            "{} {}",
            self.protocol,
            self.endpoint.rsplit(':').next().unwrap_or_default()
        )
    }
}

/// A subscription as the topic lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub arn: String,
    pub protocol: String,
    pub endpoint: String,
}

pub const READ_ACTIONS: &[&str] = &["sns:ListSubscriptionsByTopic"];
pub const CREATE_ACTIONS: &[&str] = &["sns:Subscribe"];
pub const DELETE_ACTIONS: &[&str] = &["sns:Unsubscribe"];

/// Every subscription of the topic, confirmed or not.
pub async fn list(sns: &Client, topic_arn: &str) -> anyhow::Result<Option<Vec<Observed>>> {
    let mut found = Vec::new();
    let mut pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic_arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if error_code(&e) == Some("NotFound") => return Ok(None),
            Err(e) => {
                return Err(crate::aws::aws_error(
                    format!("sns:ListSubscriptionsByTopic {topic_arn}"),
                    e,
                ))
            }
        };
        found.extend(page.subscriptions().iter().map(|s| Observed {
            arn: s.subscription_arn().unwrap_or_default().to_owned(),
            protocol: s.protocol().unwrap_or_default().to_owned(),
            endpoint: s.endpoint().unwrap_or_default().to_owned(),
        }));
    }
    Ok(Some(found))
}

/// Subscribe; a queue gets raw message delivery. Subscribing the same
/// endpoint again returns the existing subscription, so this is idempotent.
pub async fn create(sns: &Client, spec: &Spec) -> anyhow::Result<String> {
    let mut request = sns
        .subscribe()
        .topic_arn(&spec.topic_arn)
        .protocol(&spec.protocol)
        .endpoint(&spec.endpoint)
        .return_subscription_arn(true);
    if spec.protocol == "sqs" {
        request = request.attributes("RawMessageDelivery", "true");
    }
    let out = request
        .send()
        .await
        .aws(format!("sns:Subscribe {}", spec.label()))?;
    Ok(out.subscription_arn().unwrap_or_default().to_owned())
}

/// Unsubscribe every subscription of the topic to `endpoint`, listed
/// afresh. A missing topic means no subscription.
pub async fn delete(sns: &Client, topic_arn: &str, endpoint: &str) -> anyhow::Result<()> {
    let Some(found) = list(sns, topic_arn).await? else {
        return Ok(());
    };
    for sub in found.iter().filter(|s| s.endpoint == endpoint) {
        match sns.unsubscribe().subscription_arn(&sub.arn).send().await {
            Err(e) if error_code(&e) != Some("NotFound") => {
                return Err(crate::aws::aws_error(
                    format!("sns:Unsubscribe {}", sub.arn),
                    e,
                ))
            }
            _ => {}
        }
    }
    Ok(())
}
