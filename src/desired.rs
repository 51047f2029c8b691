//! The resources an integration should have: their names, ARNs and policy
//! documents, derived from validated settings and the caller's account.
//!
//! This is the one place that knows how the resources refer to each other
//! (the bucket policy names the trail, the topic policy names the bucket,
//! the role reads the bucket), so every ARN is built here, partition-aware.

use serde_json::{json, Value};

use crate::iam::policy::VERSION;
use crate::inventory::Inventory;
use crate::resources::{bucket, notification, role, topic, trail, Tags, TAG_KEY};
use crate::settings::{AccountId, IntegrationName, SetupSettings};

/// An integration's identity and every name derived from it.
#[derive(Debug, Clone)]
pub struct Names {
    pub integration: IntegrationName,
    pub account: String,
    pub partition: String,
    pub region: String,
    pub bucket: String,
}

impl Names {
    /// `bucket` is `--bucket-name` when given.
    pub fn new(
        integration: IntegrationName,
        account: &str,
        partition: &str,
        region: &str,
        bucket: Option<String>,
    ) -> Self {
        let bucket = bucket.unwrap_or_else(|| default_bucket_name(&integration, account, region));
        Self {
            integration,
            account: account.to_owned(),
            partition: partition.to_owned(),
            region: region.to_owned(),
            bucket,
        }
    }

    fn base(&self) -> String {
        format!("trailctl-{}", self.integration)
    }
    pub fn trail(&self) -> String {
        self.base()
    }
    pub fn trail_arn(&self) -> String {
        format!(
            "arn:{}:cloudtrail:{}:{}:trail/{}",
            self.partition,
            self.region,
            self.account,
            self.trail()
        )
    }
    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }
    pub fn topic(&self) -> String {
        self.base()
    }
    pub fn topic_arn(&self) -> String {
        format!(
            "arn:{}:sns:{}:{}:{}",
            self.partition,
            self.region,
            self.account,
            self.topic()
        )
    }
    pub fn role(&self) -> String {
        self.base()
    }
    pub fn role_arn(&self) -> String {
        format!(
            "arn:{}:iam::{}:role/{}",
            self.partition,
            self.account,
            self.role()
        )
    }
    pub fn notification_id(&self) -> String {
        format!("{}{}", notification::ID_PREFIX, self.integration)
    }
    /// Where CloudTrail writes this account's log files (digests and
    /// Insights go to sibling prefixes).
    pub fn log_prefix(&self) -> String {
        format!("AWSLogs/{}/CloudTrail/", self.account)
    }
    pub fn tags(&self) -> Tags {
        vec![(TAG_KEY.to_owned(), self.integration.to_string())]
    }
}

pub fn default_bucket_name(integration: &IntegrationName, account: &str, region: &str) -> String {
    format!("trailctl-{integration}-{account}-{region}")
}

/// Everything `setup` should leave in place.
#[derive(Debug, Clone)]
pub struct Desired {
    pub bucket: bucket::Spec,
    pub topic: topic::Spec,
    pub role: role::Spec,
    pub trail: trail::Spec,
    pub notification: notification::Spec,
    pub external_id: String,
}

pub fn desired(names: &Names, settings: &SetupSettings, external_id: String) -> Desired {
    Desired {
        bucket: bucket::Spec {
            name: names.bucket.clone(),
            region: names.region.clone(),
            retention_days: settings.retention_days,
            kms_key: settings.kms_key.clone(),
            policy: bucket_policy(names),
            tags: names.tags(),
        },
        topic: topic::Spec {
            name: names.topic(),
            arn: names.topic_arn(),
            policy: topic_policy(names),
            tags: names.tags(),
        },
        role: role::Spec {
            name: names.role(),
            arn: names.role_arn(),
            trust: collector_trust(names, settings.collector_account.as_str(), &external_id),
            permissions: collector_permissions(names, settings.kms_key.as_deref()),
            tags: names.tags(),
        },
        trail: trail::Spec {
            name: names.trail(),
            arn: names.trail_arn(),
            bucket: names.bucket.clone(),
            read_write: if settings.write_only {
                "WriteOnly"
            } else {
                "All"
            }
            .into(),
            excluded_sources: if settings.exclude_kms_events {
                vec!["kms.amazonaws.com".into()]
            } else {
                Vec::new()
            },
            tags: names.tags(),
        },
        notification: notification_spec(names),
        external_id,
    }
}

/// trailctl's entry in the bucket's notifications, as setup writes it.
pub fn notification_spec(names: &Names) -> notification::Spec {
    notification::Spec {
        bucket: names.bucket.clone(),
        id: names.notification_id(),
        topic_arn: names.topic_arn(),
        prefix: names.log_prefix(),
    }
}

/// CloudTrail may check the ACL and write under `AWSLogs/<account>/`, only
/// for our trail; every request without TLS is denied.
pub fn bucket_policy(names: &Names) -> Value {
    let bucket = names.bucket_arn();
    json!({
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "TrailctlCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": bucket,
                "Condition": {"StringEquals": {"aws:SourceArn": names.trail_arn()}}
            },
            {
                "Sid": "TrailctlCloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("{bucket}/AWSLogs/{}/*", names.account),
                "Condition": {"StringEquals": {
                    "aws:SourceArn": names.trail_arn(),
                    "s3:x-amz-acl": "bucket-owner-full-control"
                }}
            },
            {
                "Sid": "TrailctlDenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket.clone(), format!("{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    })
}

/// Only S3, for our bucket in our account, may publish.
pub fn topic_policy(names: &Names) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [{
            "Sid": "TrailctlS3Publish",
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": names.topic_arn(),
            "Condition": {
                "ArnLike": {"aws:SourceArn": names.bucket_arn()},
                "StringEquals": {"aws:SourceAccount": names.account}
            }
        }]
    })
}

/// Exactly the collector's account, with the external ID.
pub fn collector_trust(names: &Names, collector_account: &str, external_id: &str) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [{
            "Sid": "TrailctlCollectorAssume",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{}:iam::{collector_account}:root", names.partition)},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": external_id}}
        }]
    })
}

/// Read the log objects, nothing else (and decrypt them when SSE-KMS).
pub fn collector_permissions(names: &Names, kms_key: Option<&str>) -> Value {
    let mut statements = vec![json!({
        "Sid": "TrailctlReadLogObjects",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": format!("{}/{}*", names.bucket_arn(), names.log_prefix())
    })];
    if let Some(key) = kms_key {
        statements.push(json!({
            "Sid": "TrailctlDecryptLogObjects",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key,
            "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", names.region)}}
        }));
    }
    json!({"Version": VERSION, "Statement": statements})
}

/// A fresh external ID: 128 random bits, hex-encoded.
pub fn generate_external_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for the external ID: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The setup options the account reflects now: the collector account and
/// external ID from the role's trust policy, retention from the lifecycle
/// rule, the KMS key from the encryption, the event selection from the
/// trail. `status` plans against these, so the drift it reports is what a
/// `setup` with the same options would repair — never the options
/// themselves. Parts that cannot be read keep setup's defaults.
pub fn settings_in_place(inventory: &Inventory) -> (SetupSettings, String) {
    let role = inventory.role.as_ref();
    let collector = role
        .and_then(|r| r.trust.as_ref())
        .and_then(|t| {
            let normal = crate::iam::policy::normalize(t);
            normal["Statement"][0]["Principal"]["AWS"][0]
                .as_str()
                .and_then(|arn| arn.split(':').nth(4))
                .and_then(|acct| AccountId::parse("collector", acct).ok())
        })
        .unwrap_or_else(|| AccountId::parse("collector", "000000000000").expect("valid"));
    let bucket = match &inventory.bucket {
        bucket::Observed::Present(s) => Some(s.as_ref()),
        _ => None,
    };
    let retention_days = bucket
        .and_then(|b| {
            b.lifecycle_rules
                .iter()
                .find(|r| r.id() == Some(bucket::LIFECYCLE_RULE_ID))
                .and_then(|r| r.expiration().and_then(|e| e.days()))
        })
        .and_then(|d| u32::try_from(d).ok())
        .unwrap_or(365);
    let kms_key = bucket.and_then(|b| b.encryption.as_ref().and_then(|(_, key)| key.clone()));
    let selector = inventory
        .trail
        .as_ref()
        .and_then(|t| t.event_selectors.first());
    let settings = SetupSettings {
        collector_account: collector,
        external_id: None,
        retention_days,
        kms_key,
        bucket_name: None,
        write_only: selector.is_some_and(|s| s.read_write == "WriteOnly"),
        exclude_kms_events: selector
            .is_some_and(|s| s.excluded_sources.iter().any(|x| x == "kms.amazonaws.com")),
        plan_only: true,
    };
    let external_id = role.and_then(|r| r.external_id()).unwrap_or_default();
    (settings, external_id)
}
