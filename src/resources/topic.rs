//! The SNS topic S3 publishes new-log events to; its policy lets only S3
//! publish, and only for our bucket in our account.

use std::collections::HashMap;

use aws_sdk_sns::types::Tag;
use aws_sdk_sns::Client;
use serde::Serialize;
use serde_json::Value;

use super::{tag_change, FieldChange, Tags};
use crate::aws::{error_code, AwsResultExt};
use crate::iam::policy;

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub arn: String,
    pub policy: Value,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub policy: Option<Value>,
    /// The policy as written (see [`crate::iam::policy::merge_ours`]).
    pub policy_text: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Setting {
    Policy,
    Tags,
}

impl Setting {
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [Setting; 2] = [Setting::Policy, Setting::Tags];

    pub fn iam_action(self) -> &'static str {
        match self {
            Setting::Policy => "sns:SetTopicAttributes",
            Setting::Tags => "sns:TagResource",
        }
    }
}

pub const READ_ACTIONS: &[&str] = &["sns:GetTopicAttributes", "sns:ListTagsForResource"];
pub const CREATE_ACTIONS: &[&str] = &[
    "sns:CreateTopic",
    "sns:TagResource",
    "sns:SetTopicAttributes",
];
pub const DELETE_ACTIONS: &[&str] = &["sns:DeleteTopic"];
/// `resume` replays the log files written during a pause.
pub const REPLAY_ACTIONS: &[&str] = &["sns:Publish"];

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    for change in policy::statement_changes("topic policy", state.policy.as_ref(), &spec.policy) {
        changes.push((Setting::Policy, change));
    }
    changes
}

pub async fn read(sns: &Client, arn: &str) -> anyhow::Result<Option<State>> {
    // One round: the tags are asked for alongside the attributes.
    let (attributes, tags) = tokio::join!(
        sns.get_topic_attributes().topic_arn(arn).send(),
        sns.list_tags_for_resource().resource_arn(arn).send(),
    );
    let attributes = match attributes {
        Ok(out) => out.attributes().cloned().unwrap_or_default(),
        Err(e) if error_code(&e) == Some("NotFound") => return Ok(None),
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("sns:GetTopicAttributes {arn}"),
                e,
            ))
        }
    };
    let tags = tags
        .aws(format!("sns:ListTagsForResource {arn}"))?
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    Ok(Some(State {
        policy: attributes.get("Policy").and_then(|p| policy::parse(p)),
        policy_text: attributes.get("Policy").cloned(),
        tags,
    }))
}

fn sns_tags(tags: &Tags) -> anyhow::Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

pub async fn create(sns: &Client, spec: &Spec) -> anyhow::Result<()> {
    // CreateTopic is idempotent for the same name and attributes, and
    // setting the policy at creation leaves no window with the default one.
    sns.create_topic()
        .name(&spec.name)
        .set_tags(Some(sns_tags(&spec.tags)?))
        .set_attributes(Some(HashMap::from([(
            "Policy".to_owned(),
            spec.policy.to_string(),
        )])))
        .send()
        .await
        .aws(format!("sns:CreateTopic {}", spec.name))?;
    Ok(())
}

pub async fn update(sns: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    if settings.contains(&Setting::Policy) {
        sns.set_topic_attributes()
            .topic_arn(&spec.arn)
            .attribute_name("Policy")
            .attribute_value(spec.policy.to_string())
            .send()
            .await
            .aws(format!("sns:SetTopicAttributes {}", spec.arn))?;
    }
    if settings.contains(&Setting::Tags) {
        sns.tag_resource()
            .resource_arn(&spec.arn)
            .set_tags(Some(sns_tags(&spec.tags)?))
            .send()
            .await
            .aws(format!("sns:TagResource {}", spec.arn))?;
    }
    Ok(())
}

/// Add `tags` to the topic (others are kept).
/// Write a shared topic's policy as merged by
/// [`crate::iam::policy::merge_ours`].
pub async fn set_policy(sns: &Client, arn: &str, text: &str) -> anyhow::Result<()> {
    sns.set_topic_attributes()
        .topic_arn(arn)
        .attribute_name("Policy")
        .attribute_value(text)
        .send()
        .await
        .map(drop)
        .aws(format!("sns:SetTopicAttributes Policy on {arn}"))
}

/// Does the policy already let S3 publish for `bucket_arn`? An Allow of
/// `sns:Publish` to the `s3.amazonaws.com` service (or to everyone, but
/// then only under a source-ARN condition naming the bucket), with no
/// condition but on the source ARN (matching the bucket) and the source
/// account. Then trailctl adds nothing to a reused topic's policy. A
/// topic's default policy (any principal of the owner account, under
/// `AWS:SourceOwner`) does not let S3 publish.
pub fn lets_s3_publish(document: Option<&Value>, bucket_arn: &str) -> bool {
    let Some(document) = document else {
        return false;
    };
    let normal = policy::normalize(document);
    let listed = |v: &Value, wanted: &[&str]| {
        v.as_array().is_some_and(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .any(|x| wanted.iter().any(|w| w.eq_ignore_ascii_case(x)))
        })
    };
    normal["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| {
            let principal = &s["Principal"];
            let to_s3 = listed(&principal["Service"], &["s3.amazonaws.com"]);
            let to_anyone = principal == "*" || listed(&principal["AWS"], &["*"]);
            let mut names_bucket = false;
            let conditions_ok = s["Condition"].as_object().is_none_or(|operators| {
                operators.values().all(|keys| {
                    keys.as_object().is_some_and(|keys| {
                        keys.iter()
                            .all(|(key, values)| match key.to_ascii_lowercase().as_str() {
                                "aws:sourcearn" => {
                                    names_bucket = values.as_array().is_some_and(|l| {
                                        l.iter().filter_map(Value::as_str).any(|p| {
                                            crate::iam::eval::wildcard_match(p, bucket_arn, false)
                                        })
                                    });
                                    names_bucket
                                }
                                "aws:sourceaccount" => true,
                                _ => false,
                            })
                    })
                })
            });
            s["Effect"] == "Allow"
                && listed(&s["Action"], &["sns:Publish", "sns:*", "*"])
                && conditions_ok
                && (to_s3 || (to_anyone && names_bucket))
        })
}

/// Delete the topic (its subscriptions go with it). A missing topic is success.
pub async fn delete(sns: &Client, arn: &str) -> anyhow::Result<()> {
    match sns.delete_topic().topic_arn(arn).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NotFound") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(format!("sns:DeleteTopic {arn}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn which_topic_policies_already_let_s3_publish_for_the_bucket() {
        let bucket = "arn:aws:s3:::corp-logs";
        let statement = |principal: Value, condition: Value| {
            json!({"Statement": [{"Effect": "Allow", "Principal": principal, "Action": "SNS:Publish",
                "Resource": "arn:aws:sns:us-east-1:123456789012:t", "Condition": condition}]})
        };
        let s3 = json!({"Service": "s3.amazonaws.com"});
        let cases = [
            (
                statement(
                    s3.clone(),
                    json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::corp-*"}}),
                ),
                true,
            ),
            (
                statement(
                    s3.clone(),
                    json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::other"}}),
                ),
                false,
            ),
            (
                statement(
                    s3.clone(),
                    json!({"StringEquals": {"aws:SourceAccount": "123456789012"}}),
                ),
                true,
            ),
            (
                statement(
                    json!({"AWS": "*"}),
                    json!({"StringEquals": {"AWS:SourceOwner": "123456789012"}}),
                ),
                false,
            ),
            (
                statement(
                    json!({"AWS": "*"}),
                    json!({"ArnEquals": {"aws:SourceArn": bucket}}),
                ),
                true,
            ),
            (statement(json!({"AWS": "*"}), json!({})), false),
            (json!({"Statement": []}), false),
        ];
        for (i, (document, lets)) in cases.iter().enumerate() {
            assert_eq!(lets_s3_publish(Some(document), bucket), *lets, "case {i}");
        }
        assert!(!lets_s3_publish(None, bucket));
    }
}
