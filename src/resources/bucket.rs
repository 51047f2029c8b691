//! The S3 log bucket: private, TLS-only, encrypted, versioned, with a
//! lifecycle expiry and the bucket policy that lets exactly our trail write.
//!
//! The bucket is the one resource that holds data: `delete` keeps it unless
//! asked, and emptying it removes every object version and delete marker.
//! Its notification configuration is read here (one GET per bucket) but
//! owned by [`super::notification`].

use anyhow::Context as _;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, Delete, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, NoncurrentVersionExpiration,
    NotificationConfiguration, ObjectIdentifier, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging,
};
use aws_sdk_s3::Client;
use futures::future::try_join_all;
use serde::Serialize;
use serde_json::Value;

use super::{show, tag_change, FieldChange, Tags};
use crate::aws::{error_code, http_status, AwsResultExt};
use crate::iam::policy;

/// The lifecycle rule trailctl owns (other rules of the bucket are kept).
pub const LIFECYCLE_RULE_ID: &str = "trailctl-retention";
/// Incomplete multipart uploads are never logs; clean them up after a week.
const ABORT_MULTIPART_DAYS: i32 = 7;

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub region: String,
    pub retention_days: u32,
    pub kms_key: Option<String>,
    pub policy: Value,
    /// The full tag set to write: ours plus any others already there.
    pub tags: Tags,
}

/// What the bucket looks like now.
#[derive(Debug, Clone)]
pub struct State {
    pub region: Option<String>,
    pub tags: Tags,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
    pub public_access_block: Option<[bool; 4]>,
    pub ownership: Option<String>,
    /// Algorithm and KMS key.
    pub encryption: Option<(String, Option<String>)>,
    pub versioning: Option<String>,
    pub lifecycle_rules: Vec<LifecycleRule>,
    pub policy: Option<Value>,
    /// The policy as written: merging into a reused bucket's policy keeps
    /// others' statements exactly.
    pub policy_text: Option<String>,
    pub notification: NotificationConfiguration,
}

#[derive(Debug, Clone, Default)]
pub enum Observed {
    #[default]
    Absent,
    Present(Box<State>),
    /// The name exists but this account cannot read it (another account owns it).
    Inaccessible(String),
    /// In another region than the client's: read it again there.
    Moved {
        region: String,
    },
}

impl Observed {
    /// The bucket's region, when it is known to exist.
    pub fn region(&self) -> Option<&str> {
        match self {
            Observed::Present(state) => state.region.as_deref(),
            Observed::Moved { region } => Some(region),
            _ => None,
        }
    }
}

/// The settings that are written independently of each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Setting {
    Tags,
    PublicAccessBlock,
    Ownership,
    Encryption,
    Versioning,
    Lifecycle,
    Policy,
}

impl Setting {
    pub const ALL: [Setting; 7] = [
        Setting::Tags,
        Setting::PublicAccessBlock,
        Setting::Ownership,
        Setting::Encryption,
        Setting::Versioning,
        Setting::Lifecycle,
        Setting::Policy,
    ];

    pub fn iam_action(self) -> &'static str {
        match self {
            Setting::Tags => "s3:PutBucketTagging",
            Setting::PublicAccessBlock => "s3:PutBucketPublicAccessBlock",
            Setting::Ownership => "s3:PutBucketOwnershipControls",
            Setting::Encryption => "s3:PutEncryptionConfiguration",
            Setting::Versioning => "s3:PutBucketVersioning",
            Setting::Lifecycle => "s3:PutLifecycleConfiguration",
            Setting::Policy => "s3:PutBucketPolicy",
        }
    }
}

pub const READ_ACTIONS: &[&str] = &[
    "s3:ListBucket",
    "s3:GetBucketTagging",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketOwnershipControls",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketVersioning",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketPolicy",
    "s3:GetBucketNotification",
];
pub const CREATE_ACTIONS: &[&str] = &["s3:CreateBucket"];
pub const DELETE_ACTIONS: &[&str] = &[
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:ListBucketVersions",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
];
/// The part of [`DELETE_ACTIONS`] that acts on objects, not on the bucket.
pub const OBJECT_ACTIONS: &[&str] = &["s3:DeleteObject", "s3:DeleteObjectVersion"];

pub(crate) fn lifecycle_rule(spec: &Spec) -> anyhow::Result<LifecycleRule> {
    let days = i32::try_from(spec.retention_days).context("retention days")?;
    Ok(LifecycleRule::builder()
        .id(LIFECYCLE_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(days).build())
        // With versioning on, an expired or deleted log stays as a
        // noncurrent version; keep it as long as the retention, then go.
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days)
                .build(),
        )
        .abort_incomplete_multipart_upload(
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(ABORT_MULTIPART_DAYS)
                .build(),
        )
        .build()?)
}

fn describe_rule(rule: Option<&LifecycleRule>) -> String {
    match rule {
        None => "(none)".into(),
        Some(r) => format!(
            "expire after {} days, noncurrent after {} days{}",
            show(r.expiration().and_then(|e| e.days())),
            show(
                r.noncurrent_version_expiration()
                    .and_then(|e| e.noncurrent_days())
            ),
            if r.status() == &ExpirationStatus::Enabled {
                ""
            } else {
                " (disabled)"
            }
        ),
    }
}

fn wanted_encryption(spec: &Spec) -> (String, Option<String>) {
    match &spec.kms_key {
        Some(key) => ("aws:kms".into(), Some(key.clone())),
        None => ("AES256".into(), None),
    }
}

fn describe_encryption(e: Option<&(String, Option<String>)>) -> String {
    match e {
        None => "(none)".into(),
        Some((alg, None)) => alg.clone(),
        Some((alg, Some(key))) => format!("{alg} {key}"),
    }
}

/// Every field of `state` that differs from `spec`, with the setting that
/// writes it. Pure.
pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes = Vec::new();
    if let Some(change) = tag_change(&state.tags, integration) {
        changes.push((Setting::Tags, change));
    }
    if state.public_access_block != Some([true; 4]) {
        let from = match state.public_access_block {
            None => "(none)".into(),
            Some(flags) => format!("{} of 4 blocks on", flags.iter().filter(|f| **f).count()),
        };
        changes.push((
            Setting::PublicAccessBlock,
            FieldChange::new("public access block", from, "all 4 on"),
        ));
    }
    if state.ownership.as_deref() != Some("BucketOwnerEnforced") {
        changes.push((
            Setting::Ownership,
            FieldChange::new(
                "object ownership",
                show(state.ownership.as_deref()),
                "BucketOwnerEnforced",
            ),
        ));
    }
    let encryption = wanted_encryption(spec);
    if state.encryption.as_ref() != Some(&encryption) {
        changes.push((
            Setting::Encryption,
            FieldChange::new(
                "default encryption",
                describe_encryption(state.encryption.as_ref()),
                describe_encryption(Some(&encryption)),
            ),
        ));
    }
    if state.versioning.as_deref() != Some("Enabled") {
        changes.push((
            Setting::Versioning,
            FieldChange::new("versioning", show(state.versioning.as_deref()), "Enabled"),
        ));
    }
    let ours = state
        .lifecycle_rules
        .iter()
        .find(|r| r.id() == Some(LIFECYCLE_RULE_ID));
    let wanted = lifecycle_rule(spec).ok();
    let same_rule = match (ours, &wanted) {
        (Some(have), Some(want)) => {
            have.status() == want.status()
                && have.expiration().and_then(|e| e.days())
                    == want.expiration().and_then(|e| e.days())
                && have
                    .noncurrent_version_expiration()
                    .and_then(|e| e.noncurrent_days())
                    == want
                        .noncurrent_version_expiration()
                        .and_then(|e| e.noncurrent_days())
                && have
                    .filter()
                    .and_then(|f| f.prefix())
                    .unwrap_or("")
                    .is_empty()
        }
        _ => false,
    };
    if !same_rule {
        changes.push((
            Setting::Lifecycle,
            FieldChange::new(
                "lifecycle",
                describe_rule(ours),
                describe_rule(wanted.as_ref()),
            ),
        ));
    }
    for change in policy::statement_changes("bucket policy", state.policy.as_ref(), &spec.policy) {
        changes.push((Setting::Policy, change));
    }
    changes
}

/// Read everything about the bucket in one round: the HEAD and every GET
/// at once. When the HEAD says there is no bucket (or not ours to read), the
/// GETs' answers are dropped: a few wasted calls buy one round trip.
pub async fn read(s3: &Client, name: &str) -> anyhow::Result<Observed> {
    let (head, settings) = tokio::join!(
        s3.head_bucket().bucket(name).send(),
        read_settings(s3, name)
    );
    let region = match head {
        Ok(out) => out.bucket_region().map(str::to_owned),
        Err(e) => return match (error_code(&e), http_status(&e)) {
            (Some("NotFound" | "NoSuchBucket"), _) | (_, Some(404)) => Ok(Observed::Absent),
            (_, Some(403)) => Ok(Observed::Inaccessible(
                "the bucket name is taken by another AWS account, or this caller may not read it (`trailctl check` lists missing permissions)"
                    .into(),
            )),
            // Asked in another region than its own, S3 says where it is.
            (_, Some(301)) => Ok(match e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
            {
                Some(region) => Observed::Moved {
                    region: region.to_owned(),
                },
                None => Observed::Inaccessible(
                    "the bucket exists in another region (S3 answered 301 Moved Permanently)"
                        .into(),
                ),
            }),
            _ => Err(crate::aws::aws_error(format!("s3:HeadBucket {name}"), e)),
        },
    };

    let mut state = settings?;
    state.region = region;
    Ok(Observed::Present(Box::new(state)))
}

/// Every setting of an existing bucket, concurrently.
async fn read_settings(s3: &Client, name: &str) -> anyhow::Result<State> {
    let (tags, pab, ownership, encryption, versioning, lifecycle, bucket_policy, notification) = tokio::try_join!(
        async {
            match s3.get_bucket_tagging().bucket(name).send().await {
                Ok(out) => Ok(out
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect()),
                Err(e) if matches!(error_code(&e), Some("NoSuchTagSet" | "NoSuchTagSetError")) => {
                    Ok(Vec::new())
                }
                Err(e) => Err(crate::aws::aws_error("s3:GetBucketTagging", e)),
            }
        },
        async {
            match s3.get_public_access_block().bucket(name).send().await {
                Ok(out) => Ok(out.public_access_block_configuration().map(|c| {
                    [
                        c.block_public_acls().unwrap_or(false),
                        c.ignore_public_acls().unwrap_or(false),
                        c.block_public_policy().unwrap_or(false),
                        c.restrict_public_buckets().unwrap_or(false),
                    ]
                })),
                Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => {
                    Ok(None)
                }
                Err(e) => Err(crate::aws::aws_error("s3:GetPublicAccessBlock", e)),
            }
        },
        async {
            match s3.get_bucket_ownership_controls().bucket(name).send().await {
                Ok(out) => Ok(out
                    .ownership_controls()
                    .and_then(|c| c.rules().first())
                    .map(|r| r.object_ownership().as_str().to_owned())),
                Err(e) if error_code(&e) == Some("OwnershipControlsNotFoundError") => Ok(None),
                Err(e) => Err(crate::aws::aws_error("s3:GetBucketOwnershipControls", e)),
            }
        },
        async {
            match s3.get_bucket_encryption().bucket(name).send().await {
                Ok(out) => Ok(out
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first())
                    .and_then(|r| r.apply_server_side_encryption_by_default())
                    .map(|d| {
                        (
                            d.sse_algorithm().as_str().to_owned(),
                            d.kms_master_key_id().map(str::to_owned),
                        )
                    })),
                Err(e)
                    if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") =>
                {
                    Ok(None)
                }
                Err(e) => Err(crate::aws::aws_error("s3:GetBucketEncryption", e)),
            }
        },
        async {
            s3.get_bucket_versioning()
                .bucket(name)
                .send()
                .await
                .map(|out| out.status().map(|s| s.as_str().to_owned()))
                .aws("s3:GetBucketVersioning")
        },
        async {
            match s3
                .get_bucket_lifecycle_configuration()
                .bucket(name)
                .send()
                .await
            {
                Ok(out) => Ok(out.rules().to_vec()),
                Err(e) if error_code(&e) == Some("NoSuchLifecycleConfiguration") => Ok(Vec::new()),
                Err(e) => Err(crate::aws::aws_error(
                    "s3:GetBucketLifecycleConfiguration",
                    e,
                )),
            }
        },
        async {
            match s3.get_bucket_policy().bucket(name).send().await {
                Ok(out) => Ok(out.policy().map(str::to_owned)),
                Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => Ok(None),
                Err(e) => Err(crate::aws::aws_error("s3:GetBucketPolicy", e)),
            }
        },
        async {
            match s3
                .get_bucket_notification_configuration()
                .bucket(name)
                .send()
                .await
            {
                Ok(out) => Ok(NotificationConfiguration::builder()
                    .set_topic_configurations(out.topic_configurations)
                    .set_queue_configurations(out.queue_configurations)
                    .set_lambda_function_configurations(out.lambda_function_configurations)
                    .set_event_bridge_configuration(out.event_bridge_configuration)
                    .build()),
                // A 200 with an empty body can only mean "nothing configured"
                // (AWS sends an empty element; moto sends nothing at all).
                Err(e) if http_status(&e) == Some(200) && empty_body(&e) => {
                    Ok(NotificationConfiguration::builder().build())
                }
                Err(e) => Err(crate::aws::aws_error(
                    "s3:GetBucketNotificationConfiguration",
                    e,
                )),
            }
        },
    )?;
    Ok(State {
        region: None,
        tags,
        public_access_block: pab,
        ownership,
        encryption,
        versioning,
        lifecycle_rules: lifecycle,
        policy: bucket_policy.as_deref().and_then(policy::parse),
        policy_text: bucket_policy,
        notification,
    })
}

fn empty_body<E>(
    error: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::http::Response,
    >,
) -> bool {
    error
        .raw_response()
        .and_then(|r| r.body().bytes())
        .is_some_and(<[u8]>::is_empty)
}

/// Create the bucket, then write every setting concurrently.
pub async fn create(s3: &Client, spec: &Spec) -> anyhow::Result<()> {
    let mut request = s3
        .create_bucket()
        .bucket(&spec.name)
        .object_ownership(ObjectOwnership::BucketOwnerEnforced);
    // us-east-1 is the one region that rejects its own location constraint.
    if spec.region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(spec.region.as_str()))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => {}
        // Already ours from an interrupted run of this integration.
        Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => {}
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("s3:CreateBucket {}", spec.name),
                e,
            ))
        }
    }
    update(s3, spec, &Setting::ALL).await
}

/// Errors S3 returns while a bucket settles: concurrent updates of one
/// bucket's configuration, and a bucket created a moment ago.
const SETTLING: &[&str] = &["OperationAborted", "NoSuchBucket"];

/// Write the given settings, concurrently (they are independent).
pub async fn update(s3: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    let mut unique = settings.to_vec();
    unique.dedup();
    try_join_all(
        unique
            .into_iter()
            .map(|s| crate::aws::retry_on(SETTLING, move || put_setting(s3, spec, s))),
    )
    .await?;
    Ok(())
}

async fn put_setting(s3: &Client, spec: &Spec, setting: Setting) -> anyhow::Result<()> {
    let bucket = spec.name.as_str();
    let what = format!("{} on {bucket}", setting.iam_action());
    match setting {
        Setting::Tags => {
            let mut tagging = Tagging::builder();
            for (k, v) in &spec.tags {
                tagging = tagging.tag_set(Tag::builder().key(k).value(v).build()?);
            }
            s3.put_bucket_tagging()
                .bucket(bucket)
                .tagging(tagging.build()?)
                .send()
                .await
                .aws(what)?;
        }
        Setting::PublicAccessBlock => {
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .aws(what)?;
        }
        Setting::Ownership => {
            s3.put_bucket_ownership_controls()
                .bucket(bucket)
                .ownership_controls(
                    OwnershipControls::builder()
                        .rules(
                            OwnershipControlsRule::builder()
                                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                                .build()?,
                        )
                        .build()?,
                )
                .send()
                .await
                .aws(what)?;
        }
        Setting::Encryption => {
            let default = match &spec.kms_key {
                Some(key) => ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::AwsKms)
                    .kms_master_key_id(key),
                None => ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::Aes256),
            };
            s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(
                            ServerSideEncryptionRule::builder()
                                .apply_server_side_encryption_by_default(default.build()?)
                                // S3 Bucket Keys cut KMS requests (and cost) by orders of magnitude.
                                .bucket_key_enabled(spec.kms_key.is_some())
                                .build(),
                        )
                        .build()?,
                )
                .send()
                .await
                .aws(what)?;
        }
        Setting::Versioning => {
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .aws(what)?;
        }
        Setting::Lifecycle => {
            s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .rules(lifecycle_rule(spec)?)
                        .build()?,
                )
                .send()
                .await
                .aws(what)?;
        }
        Setting::Policy => {
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(spec.policy.to_string())
                .send()
                .await
                .aws(what)?;
        }
    }
    Ok(())
}

/// Write a shared bucket policy as merged by [`policy::merge_ours`], or
/// remove it when nothing is left.
pub async fn set_policy(s3: &Client, name: &str, text: Option<&str>) -> anyhow::Result<()> {
    match text {
        Some(text) => s3
            .put_bucket_policy()
            .bucket(name)
            .policy(text)
            .send()
            .await
            .map(drop)
            .aws(format!("s3:PutBucketPolicy on {name}")),
        None => s3
            .delete_bucket_policy()
            .bucket(name)
            .send()
            .await
            .map(drop)
            .aws(format!("s3:DeleteBucketPolicy on {name}")),
    }
}

/// Delete the bucket; with `empty_first`, every object version and delete
/// marker goes first (S3 refuses to delete a bucket that holds anything).
///
/// The bucket policy goes before the objects: a bucket on its way out needs
/// no policy (the trail is already gone, Block Public Access stays on), and
/// a Deny in it (ours denies plain HTTP, as an emulator speaks) must not stop
/// the emptying half way.
pub async fn delete(s3: &Client, name: &str, empty_first: bool) -> anyhow::Result<()> {
    if empty_first {
        match s3.delete_bucket_policy().bucket(name).send().await {
            Ok(_) => {}
            Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
            Err(e) => {
                return Err(crate::aws::aws_error(
                    format!("s3:DeleteBucketPolicy {name}"),
                    e,
                ))
            }
        }
        empty(s3, name).await?;
    }
    match s3.delete_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(format!("s3:DeleteBucket {name}"), e)),
    }
}

async fn empty(s3: &Client, name: &str) -> anyhow::Result<()> {
    // ListObjectVersions has no SDK paginator: follow the two markers.
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = match s3
            .list_object_versions()
            .bucket(name)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) if error_code(&e) == Some("NoSuchBucket") => return Ok(()),
            Err(e) => {
                return Err(crate::aws::aws_error(
                    format!("s3:ListObjectVersions {name}"),
                    e,
                ))
            }
        };
        let mut objects = Vec::new();
        let entries = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        for (key, version) in entries {
            objects.push(
                ObjectIdentifier::builder()
                    .key(key.unwrap_or_default())
                    .set_version_id(version.map(str::to_owned))
                    .build()?,
            );
        }
        // A page holds at most 1000 entries, DeleteObjects' own limit.
        if !objects.is_empty() {
            let out = s3
                .delete_objects()
                .bucket(name)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .aws(format!("s3:DeleteObjects in {name}"))?;
            if let Some(err) = out.errors().first() {
                anyhow::bail!(
                    "s3:DeleteObjects in {name}: {} {}: {}",
                    err.key().unwrap_or_default(),
                    err.code().unwrap_or_default(),
                    err.message().unwrap_or_default()
                );
            }
        }
        if page.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}
