//! trailctl's entry in the log bucket's S3 event notification configuration:
//! `s3:ObjectCreated:*` under the log prefix, suffix `.json.gz`, to the topic.
//!
//! S3 has one notification configuration per bucket and the only write
//! replaces all of it, so every write here starts from the configuration
//! read in this run, drops entries whose Id starts with [`ID_PREFIX`] and
//! adds ours: entries of other tools survive every setup and delete.

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    S3KeyFilter, TopicConfiguration,
};
use aws_sdk_s3::Client;
use serde::Serialize;

use super::FieldChange;
use crate::aws::AwsResultExt;

/// Entries with this Id prefix are trailctl's; no other entry is touched.
pub const ID_PREFIX: &str = "trailctl-";
pub const EVENT: &str = "s3:ObjectCreated:*";
/// Log files end in `.json.gz`; so do digest files, which live under a
/// different prefix (`CloudTrail-Digest/`) that the key prefix excludes.
pub const SUFFIX: &str = ".json.gz";

pub const READ_ACTIONS: &[&str] = &["s3:GetBucketNotification"];
pub const WRITE_ACTIONS: &[&str] = &["s3:PutBucketNotification"];

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub bucket: String,
    pub id: String,
    pub topic_arn: String,
    pub prefix: String,
}

fn entry(spec: &Spec) -> anyhow::Result<TopicConfiguration> {
    Ok(TopicConfiguration::builder()
        .id(&spec.id)
        .topic_arn(&spec.topic_arn)
        .events(Event::from(EVENT))
        .filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value(&spec.prefix)
                                .build(),
                        )
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Suffix)
                                .value(SUFFIX)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()?)
}

fn filter_value(entry: &TopicConfiguration, name: &str) -> Option<String> {
    entry
        .filter()
        .and_then(|f| f.key())
        .map(|k| k.filter_rules())
        .unwrap_or_default()
        .iter()
        .find(|r| {
            r.name()
                .is_some_and(|n| n.as_str().eq_ignore_ascii_case(name))
        })
        .and_then(|r| r.value().map(str::to_owned))
}

fn describe(entry: &TopicConfiguration) -> String {
    format!(
        "{} {} prefix={} suffix={}",
        entry.topic_arn(),
        entry
            .events()
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(","),
        filter_value(entry, "prefix").unwrap_or_default(),
        filter_value(entry, "suffix").unwrap_or_default()
    )
}

/// Our entry in `current`, if any.
pub fn find<'a>(
    current: &'a NotificationConfiguration,
    id: &str,
) -> Option<&'a TopicConfiguration> {
    current
        .topic_configurations()
        .iter()
        .find(|t| t.id() == Some(id))
}

/// Whether our entry is present and exactly as planned. Pure.
pub fn diff(spec: &Spec, current: &NotificationConfiguration) -> Vec<FieldChange> {
    let Ok(want) = entry(spec) else {
        return vec![FieldChange::new("entry", "(unknown)", "set")];
    };
    match find(current, &spec.id) {
        None => vec![FieldChange::new(
            format!("entry {}", spec.id),
            "(none)",
            describe(&want),
        )],
        Some(have) => {
            let same = have.topic_arn() == want.topic_arn()
                && have.events() == want.events()
                && filter_value(have, "prefix") == filter_value(&want, "prefix")
                && filter_value(have, "suffix") == filter_value(&want, "suffix");
            if same {
                Vec::new()
            } else {
                vec![FieldChange::new(
                    format!("entry {}", spec.id),
                    describe(have),
                    describe(&want),
                )]
            }
        }
    }
}

/// `current` without any trailctl entry of this integration's Id.
pub fn without(current: &NotificationConfiguration, id: &str) -> NotificationConfiguration {
    let mut config = current.clone();
    config.topic_configurations = Some(
        current
            .topic_configurations()
            .iter()
            .filter(|t| t.id() != Some(id))
            .cloned()
            .collect(),
    );
    config
}

/// `current` with our entry in place of any previous one.
pub fn with(
    current: &NotificationConfiguration,
    spec: &Spec,
) -> anyhow::Result<NotificationConfiguration> {
    let mut config = without(current, &spec.id);
    config
        .topic_configurations
        .get_or_insert_with(Vec::new)
        .push(entry(spec)?);
    Ok(config)
}

/// Write the whole configuration of the bucket.
///
/// S3 validates each destination by publishing a test event; a topic policy
/// written a moment ago may not let it yet ("Unable to validate the
/// following destination configurations", code `InvalidArgument`).
pub async fn put(
    s3: &Client,
    bucket: &str,
    config: NotificationConfiguration,
) -> anyhow::Result<()> {
    crate::aws::retry_on(&["InvalidArgument"], || async {
        s3.put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(config.clone())
            .send()
            .await
            .aws(format!("s3:PutBucketNotificationConfiguration on {bucket}"))
    })
    .await?;
    Ok(())
}
