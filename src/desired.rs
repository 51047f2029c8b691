//! The resources an integration should have: their names, ARNs and policy
//! documents, derived from validated settings and the caller's account.
//!
//! This is the one place that knows how the resources refer to each other
//! (the bucket policy names the trail, the topic policy names the bucket,
//! the role reads the bucket), so every ARN is built here, partition-aware.

use aws_sdk_s3::types::NotificationConfiguration;
use serde_json::{json, Value};

use crate::iam::policy::VERSION;
use crate::inventory::Inventory;
use crate::resources::{
    bucket, function, log_group, notification, organization, parameter, queue, role, subscription,
    tag_value, topic, trail, Tags, TAG_KEY,
};
use crate::settings::{
    AccountId, Accounts, Delivery, Forward, IntegrationName, OrgSetup, SetupSettings,
};

/// An integration's identity and every name derived from it.
#[derive(Debug, Clone)]
pub struct Names {
    pub integration: IntegrationName,
    pub account: String,
    pub partition: String,
    pub region: String,
    pub bucket: String,
    /// An organization integration's organization.
    pub org: Option<OrgNames>,
    /// What the integration reuses instead of owning (`--existing-*`).
    pub reused: Reused,
    /// A reused trail's S3 key prefix: its files are under
    /// `<prefix>/AWSLogs/…`.
    pub key_prefix: Option<String>,
    /// The bucket's region, where the topic and the queue must be: S3 only
    /// notifies a topic of its own region. The home region unless a reused
    /// bucket is elsewhere.
    pub delivery_region: String,
    /// KMS keys a reused bucket or trail encrypts the log files with: the
    /// readers of the files must be allowed to decrypt with them.
    pub log_keys: Vec<String>,
}

/// What an integration reuses. Recorded as tags on the collector role (the
/// one resource every integration owns), so that a re-run, `status`,
/// `pause` and `delete` find the reused resources and never delete them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reused {
    /// The reused trail's ARN.
    pub trail: Option<String>,
    /// The bucket is not ours: `--existing-bucket`, or the reused trail's.
    pub bucket: bool,
    /// The reused topic's ARN.
    pub topic: Option<String>,
}

/// The collector role's tags that record what is reused.
pub const REUSED_TRAIL_TAG: &str = "trailctl:existing-trail";
pub const REUSED_BUCKET_TAG: &str = "trailctl:existing-bucket";
pub const REUSED_TOPIC_TAG: &str = "trailctl:existing-topic";
pub const DELIVERY_REGION_TAG: &str = "trailctl:delivery-region";

/// The collector role's tag that records the optional parts an
/// integration has (see [`Parts`]).
pub const PARTS_TAG: &str = "trailctl:parts";

/// The optional parts of an integration, each a group of resources that the
/// delivery options add and remove together. `setup` reads only the parts
/// its options ask for and those the collector role records, instead of
/// every part on every run; the record is written after everything else
/// (see `plan::Direction::Record`), so it never lists less than exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Parts {
    /// `--delivery sqs`: the queue and its dead-letter queue.
    pub queue: bool,
    /// `--delivery https`: the function, its role, log group and token.
    pub forwarder: bool,
    /// `--cloudwatch-logs`: the trail's log group and the role CloudTrail
    /// writes to it with.
    pub trail_logs: bool,
}

impl Parts {
    pub const ALL: Parts = Parts {
        queue: true,
        forwarder: true,
        trail_logs: true,
    };
    const WORDS: [&'static str; 3] = ["queue", "forwarder", "trail-logs"];

    /// The parts these delivery options build.
    pub fn of(delivery: &Delivery) -> Parts {
        Parts {
            queue: delivery.sqs,
            forwarder: delivery.forward.is_some(),
            trail_logs: delivery.cloudwatch_logs,
        }
    }

    fn flags(self) -> [bool; 3] {
        [self.queue, self.forwarder, self.trail_logs]
    }

    fn from_flags([queue, forwarder, trail_logs]: [bool; 3]) -> Parts {
        Parts {
            queue,
            forwarder,
            trail_logs,
        }
    }

    /// The parts of `self` that are not in `other`.
    pub fn without(self, other: Parts) -> Parts {
        let (a, b) = (self.flags(), other.flags());
        Parts::from_flags([0, 1, 2].map(|i| a[i] && !b[i]))
    }

    pub fn is_empty(self) -> bool {
        self == Parts::default()
    }

    /// The tag value: `queue`, `forwarder,trail-logs`, … or `none`.
    pub fn record(self) -> String {
        let words: Vec<&str> = Parts::WORDS
            .into_iter()
            .zip(self.flags())
            .filter_map(|(word, on)| on.then_some(word))
            .collect();
        if words.is_empty() {
            "none".into()
        } else {
            words.join(",")
        }
    }

    /// What a collector role's tags record. A role without the record (made
    /// by an earlier trailctl), or with a word this version does not know,
    /// may have every part.
    pub fn recorded(role_tags: &Tags) -> Parts {
        let Some(value) = tag_value(role_tags, PARTS_TAG) else {
            return Parts::ALL;
        };
        let mut flags = [false; 3];
        for word in value.split(',').filter(|w| *w != "none") {
            match Parts::WORDS.iter().position(|w| *w == word) {
                Some(i) => flags[i] = true,
                None => return Parts::ALL,
            }
        }
        Parts::from_flags(flags)
    }
}

/// What an organization integration's names depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgNames {
    /// `o-…`: CloudTrail writes every account's files under
    /// `AWSLogs/<id>/<account>/`.
    pub id: String,
    /// An organization trail belongs to the management account, also when
    /// a delegated administrator creates it.
    pub management_account: String,
}

impl From<&organization::State> for OrgNames {
    fn from(org: &organization::State) -> Self {
        Self {
            id: org.id.clone(),
            management_account: org.management_account.clone(),
        }
    }
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
            org: None,
            reused: Reused::default(),
            key_prefix: None,
            delivery_region: region.to_owned(),
            log_keys: Vec::new(),
        }
    }

    /// Take in what `setup --existing-*` names (the reused trail's bucket
    /// and prefix are learnt when it is read).
    pub fn reuse(&mut self, existing: &crate::settings::Existing) {
        if let Some(trail) = &existing.trail {
            self.reused.trail = Some(trail.arn(&self.partition, &self.region, &self.account));
            self.reused.bucket = true;
        }
        if let Some(bucket) = &existing.bucket {
            self.bucket = bucket.to_string();
            self.reused.bucket = true;
        }
        if let Some(topic) = &existing.topic {
            self.reused.topic = Some(topic.arn.clone());
        }
    }

    /// Take in what the collector role's tags record as reused; false when
    /// they record nothing.
    pub fn reuse_recorded(&mut self, role_tags: &Tags) -> bool {
        let tag = |key: &str| tag_value(role_tags, key).map(str::to_owned);
        let (trail, bucket, topic) = (
            tag(REUSED_TRAIL_TAG),
            tag(REUSED_BUCKET_TAG),
            tag(REUSED_TOPIC_TAG),
        );
        if trail.is_none() && bucket.is_none() && topic.is_none() {
            return false;
        }
        self.reused = Reused {
            bucket: bucket.is_some() || trail.is_some(),
            trail,
            topic,
        };
        if let Some(bucket) = bucket {
            self.bucket = bucket;
        }
        if let Some(region) = tag(DELIVERY_REGION_TAG) {
            self.delivery_region = region;
        }
        true
    }

    /// The tags on the collector role: ours, and what is reused.
    pub fn role_tags(&self) -> Tags {
        let mut tags = self.tags();
        let mut record = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                tags.push((key.to_owned(), value));
            }
        };
        record(REUSED_TRAIL_TAG, self.reused.trail.clone());
        record(
            REUSED_BUCKET_TAG,
            self.reused.bucket.then(|| self.bucket.clone()),
        );
        record(REUSED_TOPIC_TAG, self.reused.topic.clone());
        record(
            DELIVERY_REGION_TAG,
            (self.delivery_region != self.region).then(|| self.delivery_region.clone()),
        );
        tags
    }

    /// How CloudTrail calls name the trail: our trail by its name, a reused
    /// one by its ARN (it may live in another region).
    pub fn trail_id(&self) -> String {
        self.reused.trail.clone().unwrap_or_else(|| self.trail())
    }

    pub fn base(&self) -> String {
        format!("trailctl-{}", self.integration)
    }
    pub fn trail(&self) -> String {
        match &self.reused.trail {
            Some(arn) => arn.rsplit('/').next().unwrap_or(arn).to_owned(),
            None => self.base(),
        }
    }
    pub fn trail_arn(&self) -> String {
        if let Some(arn) = &self.reused.trail {
            return arn.clone();
        }
        format!(
            "arn:{}:cloudtrail:{}:{}:trail/{}",
            self.partition,
            self.region,
            self.org
                .as_ref()
                .map_or(&self.account, |o| &o.management_account),
            self.trail()
        )
    }
    pub fn bucket_arn(&self) -> String {
        format!("arn:{}:s3:::{}", self.partition, self.bucket)
    }
    pub fn topic(&self) -> String {
        match &self.reused.topic {
            Some(arn) => arn.rsplit(':').next().unwrap_or(arn).to_owned(),
            None => self.base(),
        }
    }
    pub fn topic_arn(&self) -> String {
        if let Some(arn) = &self.reused.topic {
            return arn.clone();
        }
        format!(
            "arn:{}:sns:{}:{}:{}",
            self.partition,
            self.delivery_region,
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
    pub fn queue(&self) -> String {
        self.base()
    }
    pub fn dlq(&self) -> String {
        format!("{}-dlq", self.base())
    }
    fn queue_arn_of(&self, name: &str) -> String {
        format!(
            "arn:{}:sqs:{}:{}:{name}",
            self.partition, self.delivery_region, self.account
        )
    }
    pub fn queue_arn(&self) -> String {
        self.queue_arn_of(&self.queue())
    }
    pub fn dlq_arn(&self) -> String {
        self.queue_arn_of(&self.dlq())
    }
    pub fn queue_url(&self) -> String {
        queue::url(
            &self.partition,
            &self.delivery_region,
            &self.account,
            &self.queue(),
        )
    }
    pub fn dlq_url(&self) -> String {
        queue::url(
            &self.partition,
            &self.delivery_region,
            &self.account,
            &self.dlq(),
        )
    }
    pub fn function(&self) -> String {
        self.base()
    }
    pub fn function_arn(&self) -> String {
        format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition,
            self.region,
            self.account,
            self.function()
        )
    }
    pub fn forwarder_role(&self) -> String {
        format!("{}-forwarder", self.base())
    }
    pub fn trail_logs_role(&self) -> String {
        format!("{}-cloudtrail-logs", self.base())
    }
    pub fn role_arn_of(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }
    /// Lambda's own log group name for the function, created by trailctl
    /// first so that it has a retention period.
    pub fn function_log_group(&self) -> String {
        format!("/aws/lambda/{}", self.function())
    }
    pub fn trail_log_group(&self) -> String {
        format!("/trailctl/{}/cloudtrail", self.integration)
    }
    /// A log group's ARN without the `:*` suffix.
    pub fn log_group_arn(&self, name: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:{name}",
            self.partition, self.region, self.account
        )
    }
    pub fn token_parameter(&self) -> String {
        format!("/trailctl/{}/forward-token", self.integration)
    }
    pub fn token_parameter_arn(&self) -> String {
        format!(
            "arn:{}:ssm:{}:{}:parameter{}",
            self.partition,
            self.region,
            self.account,
            self.token_parameter()
        )
    }
    pub fn notification_id(&self) -> String {
        format!("{}{}", notification::ID_PREFIX, self.integration)
    }
    /// Where CloudTrail writes this account's log files (digests and
    /// Insights go to sibling prefixes); for an organization, the prefix of
    /// every account's folder.
    pub fn log_prefix(&self) -> String {
        let key_prefix = self.key_prefix_path();
        match &self.org {
            Some(org) => format!("{key_prefix}AWSLogs/{}/", org.id),
            None => format!("{key_prefix}AWSLogs/{}/CloudTrail/", self.account),
        }
    }
    /// A reused trail's key prefix as the start of a path (`prefix/`), or
    /// nothing.
    pub fn key_prefix_path(&self) -> String {
        self.key_prefix
            .as_deref()
            .map(|p| format!("{}/", p.trim_end_matches('/')))
            .unwrap_or_default()
    }
    /// Where the organization trail writes `account`'s log files.
    pub fn account_log_prefix(&self, account: &str) -> String {
        match &self.org {
            Some(org) => format!(
                "{}AWSLogs/{}/{account}/CloudTrail/",
                self.key_prefix_path(),
                org.id
            ),
            None => self.log_prefix(),
        }
    }
    /// The log objects (not digests) the collector and the forwarder read:
    /// for an organization, every account's.
    pub fn log_objects_arn(&self) -> String {
        match &self.org {
            Some(org) => format!(
                "{}/{}AWSLogs/{}/*/CloudTrail/*",
                self.bucket_arn(),
                self.key_prefix_path(),
                org.id
            ),
            None => format!("{}/{}*", self.bucket_arn(), self.log_prefix()),
        }
    }
    /// The notification entry Id of one account of a selection.
    pub fn account_notification_id(&self, account: &str) -> String {
        format!("{}:{account}", self.notification_id())
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
    /// `--delivery sqs`.
    pub queue: Option<queue::Spec>,
    /// `--delivery https`.
    pub forwarder: Option<Forwarder>,
    /// `--cloudwatch-logs`.
    pub trail_logs: Option<TrailLogs>,
    /// The topic's subscriptions to the queue and the function.
    pub subscriptions: Vec<subscription::Spec>,
    /// `--org`: the accounts collected.
    pub accounts: Option<Accounts>,
}

/// The Lambda forwarder and what it needs.
#[derive(Debug, Clone)]
pub struct Forwarder {
    pub function: function::Spec,
    pub role: role::Spec,
    pub log_group: log_group::Spec,
    pub token: parameter::Spec,
}

/// The trail's CloudWatch Logs delivery.
#[derive(Debug, Clone)]
pub struct TrailLogs {
    pub log_group: log_group::Spec,
    pub role: role::Spec,
}

/// `names.org` must be set exactly when `settings.org` is: the selection is
/// resolved by then (`None` in `settings.org.accounts` is every account).
pub fn desired(names: &Names, settings: &SetupSettings, external_id: String) -> Desired {
    let accounts = names.org.as_ref().map(|_| {
        settings
            .org
            .as_ref()
            .and_then(|o| o.accounts.clone())
            .unwrap_or(Accounts::All)
    });
    Desired {
        bucket: bucket::Spec {
            name: names.bucket.clone(),
            region: names.region.clone(),
            retention_days: settings.retention_days,
            kms_key: settings.kms_key.clone(),
            policy: if names.reused.bucket {
                reused_bucket_policy(names)
            } else {
                bucket_policy(names)
            },
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
            policy_name: role::PERMISSIONS_POLICY_NAME,
            description: "trailctl:log-collector-reads-CloudTrail-logs",
            permissions: collector_permissions(
                names,
                &decrypt_keys(names, settings),
                settings.delivery.sqs,
            ),
            tags: {
                let mut tags = names.role_tags();
                tags.push((PARTS_TAG.into(), Parts::of(&settings.delivery).record()));
                tags
            },
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
            cloud_watch_logs: settings
                .delivery
                .cloudwatch_logs
                .then(|| trail::CloudWatchLogs {
                    group_arn: format!("{}:*", names.log_group_arn(&names.trail_log_group())),
                    role_arn: names.role_arn_of(&names.trail_logs_role()),
                }),
            organization: names.org.is_some(),
            tags: names.tags(),
        },
        notification: notification_spec(names, accounts.as_ref()),
        external_id,
        queue: settings.delivery.sqs.then(|| queue_spec(names)),
        forwarder: settings
            .delivery
            .forward
            .as_ref()
            .map(|f| forwarder(names, f, &settings.delivery, &decrypt_keys(names, settings))),
        trail_logs: settings.delivery.cloudwatch_logs.then(|| trail_logs(names)),
        subscriptions: subscriptions(names, &settings.delivery),
        accounts,
    }
}

pub fn queue_spec(names: &Names) -> queue::Spec {
    queue::Spec {
        name: names.queue(),
        url: names.queue_url(),
        arn: names.queue_arn(),
        dlq_name: names.dlq(),
        dlq_url: names.dlq_url(),
        dlq_arn: names.dlq_arn(),
        policy: queue_policy(names),
        tags: names.tags(),
    }
}

/// Only our topic may send to the queue.
pub fn queue_policy(names: &Names) -> Value {
    json!({
        "Version": VERSION,
        "Statement": [{
            "Sid": "TrailctlTopicSends",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": names.queue_arn(),
            "Condition": {"ArnEquals": {"aws:SourceArn": names.topic_arn()}}
        }]
    })
}

/// The topic's subscriptions for the chosen delivery modes.
pub fn subscriptions(names: &Names, delivery: &Delivery) -> Vec<subscription::Spec> {
    let mut subs = Vec::new();
    if delivery.sqs {
        subs.push(subscription::Spec {
            topic_arn: names.topic_arn(),
            protocol: "sqs".into(),
            endpoint: names.queue_arn(),
        });
    }
    // With CloudWatch Logs the forwarder is fed by the log group's
    // subscription filter (seconds, not minutes); subscribing it to the
    // topic too would post every event twice.
    if delivery.forward.is_some() && !delivery.cloudwatch_logs {
        subs.push(subscription::Spec {
            topic_arn: names.topic_arn(),
            protocol: "lambda".into(),
            endpoint: names.function_arn(),
        });
    }
    subs
}

/// The statement IDs of the function's invoke permissions.
pub const SNS_PERMISSION_SID: &str = "trailctl-sns";
pub const LOGS_PERMISSION_SID: &str = "trailctl-cloudwatch-logs";

/// The keys the log files are encrypted with: `--kms-key` on a bucket
/// trailctl owns, or what a reused bucket or trail uses.
fn decrypt_keys(names: &Names, settings: &SetupSettings) -> Vec<String> {
    let mut keys: Vec<String> = settings.kms_key.iter().cloned().collect();
    keys.extend(names.log_keys.iter().cloned());
    keys.sort();
    keys.dedup();
    keys
}

fn forwarder(
    names: &Names,
    forward: &Forward,
    delivery: &Delivery,
    kms_keys: &[String],
) -> Forwarder {
    let mut permissions = Vec::new();
    if !delivery.cloudwatch_logs {
        permissions.push(function::Permission {
            sid: SNS_PERMISSION_SID.into(),
            principal: "sns.amazonaws.com".into(),
            source_arn: names.topic_arn(),
            source_account: names.account.clone(),
        });
    } else {
        permissions.push(function::Permission {
            sid: LOGS_PERMISSION_SID.into(),
            principal: "logs.amazonaws.com".into(),
            source_arn: format!("{}:*", names.log_group_arn(&names.trail_log_group())),
            source_account: names.account.clone(),
        });
    }
    Forwarder {
        function: function::Spec {
            name: names.function(),
            arn: names.function_arn(),
            role_arn: names.role_arn_of(&names.forwarder_role()),
            environment: vec![
                (function::URL_VARIABLE.into(), forward.url.clone()),
                (
                    function::TOKEN_PARAMETER_VARIABLE.into(),
                    names.token_parameter(),
                ),
            ],
            permissions,
            tags: names.tags(),
        },
        role: role::Spec {
            name: names.forwarder_role(),
            arn: names.role_arn_of(&names.forwarder_role()),
            policy_name: role::FORWARDER_POLICY_NAME,
            description: "trailctl:forwarder-reads-log-files-and-posts-them",
            trust: service_trust(names, "lambda.amazonaws.com", None),
            permissions: forwarder_permissions(names, kms_keys),
            tags: names.tags(),
        },
        log_group: log_group::Spec {
            name: names.function_log_group(),
            arn: names.log_group_arn(&names.function_log_group()),
            retention_days: log_group::RETENTION_DAYS,
            filter: None,
            tags: names.tags(),
        },
        token: parameter::Spec {
            name: names.token_parameter(),
            arn: names.token_parameter_arn(),
            value: forward.token.clone(),
            tags: names.tags(),
        },
    }
}

pub fn trail_logs(names: &Names) -> TrailLogs {
    let group = names.trail_log_group();
    TrailLogs {
        log_group: log_group::Spec {
            name: group.clone(),
            arn: names.log_group_arn(&group),
            retention_days: log_group::RETENTION_DAYS,
            filter: Some(log_group::Filter {
                name: names.base(),
                destination_arn: names.function_arn(),
            }),
            tags: names.tags(),
        },
        role: role::Spec {
            name: names.trail_logs_role(),
            arn: names.role_arn_of(&names.trail_logs_role()),
            policy_name: role::TRAIL_LOGS_POLICY_NAME,
            description: "trailctl:CloudTrail-writes-to-CloudWatch-Logs",
            trust: service_trust(names, "cloudtrail.amazonaws.com", Some(names.trail_arn())),
            permissions: json!({
                "Version": VERSION,
                "Statement": [{
                    "Sid": "TrailctlWriteTrailLogGroup",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": format!("{}:log-stream:*", names.log_group_arn(&group))
                }]
            }),
            tags: names.tags(),
        },
    }
}

/// A role only `service` may assume, and only on behalf of this account
/// (and, when given, of this source resource).
fn service_trust(names: &Names, service: &str, source_arn: Option<String>) -> Value {
    let mut condition = json!({"StringEquals": {"aws:SourceAccount": names.account}});
    if let Some(arn) = source_arn {
        condition["ArnLike"] = json!({"aws:SourceArn": arn});
    }
    json!({
        "Version": VERSION,
        "Statement": [{
            "Sid": "TrailctlServiceAssume",
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition
        }]
    })
}

/// The forwarder reads the log objects and its token, and writes its own
/// log group; nothing else.
fn forwarder_permissions(names: &Names, kms_keys: &[String]) -> Value {
    let mut statements = vec![
        json!({
            "Sid": "TrailctlReadLogObjects",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": names.log_objects_arn()
        }),
        json!({
            "Sid": "TrailctlReadForwardToken",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": names.token_parameter_arn()
        }),
        json!({
            "Sid": "TrailctlWriteOwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{}:log-stream:*", names.log_group_arn(&names.function_log_group()))
        }),
    ];
    if !kms_keys.is_empty() {
        statements.push(decrypt_statement(names, kms_keys));
    }
    json!({"Version": VERSION, "Statement": statements})
}

/// Decrypting the log files, only through S3 in the bucket's region.
fn decrypt_statement(names: &Names, keys: &[String]) -> Value {
    json!({
        "Sid": "TrailctlDecryptLogObjects",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": match keys {
            [one] => json!(one),
            many => json!(many),
        },
        "Condition": {"StringEquals": {"kms:ViaService": format!("s3.{}.amazonaws.com", names.delivery_region)}}
    })
}

/// trailctl's entries in the bucket's notifications, as setup writes them:
/// one for the account (or the whole organization), or one per selected
/// account of the organization.
pub fn notification_spec(names: &Names, accounts: Option<&Accounts>) -> notification::Spec {
    let entries = match accounts {
        Some(Accounts::Only(ids)) => ids
            .iter()
            .map(|id| notification::Entry {
                id: names.account_notification_id(id.as_str()),
                prefix: names.account_log_prefix(id.as_str()),
            })
            .collect(),
        _ => vec![notification::Entry {
            id: names.notification_id(),
            prefix: names.log_prefix(),
        }],
    };
    notification::Spec {
        bucket: names.bucket.clone(),
        id: names.notification_id(),
        topic_arn: names.topic_arn(),
        entries,
    }
}

/// The selection the bucket's entries reflect (parked ones of a pause
/// included): `None` when they show no organization integration.
pub fn accounts_in_place(names: &Names, config: &NotificationConfiguration) -> Option<Accounts> {
    let base = names.notification_id();
    let mut ids = Vec::new();
    let mut all = false;
    for entry in notification::ours(config, &base) {
        match notification::entry_account(&base, entry.id().unwrap_or_default()) {
            Some(account) => ids.extend(AccountId::parse("entry", account).ok()),
            None => {
                let key_prefix = names.key_prefix_path();
                all |= notification::filter_value(entry, "prefix").is_some_and(|p| {
                    p.strip_prefix(key_prefix.as_str())
                        .unwrap_or(&p)
                        .strip_prefix("AWSLogs/o-")
                        .is_some_and(|r| r.matches('/').count() == 1)
                })
            }
        }
    }
    match (all, ids.is_empty()) {
        (_, false) => Some(Accounts::only(ids)),
        (true, true) => Some(Accounts::All),
        (false, true) => None,
    }
}

/// CloudTrail may check the ACL and write under `AWSLogs/<account>/` (and,
/// for an organization trail, `AWSLogs/<org-id>/`), only for our trail;
/// every request without TLS is denied.
pub fn bucket_policy(names: &Names) -> Value {
    let bucket = names.bucket_arn();
    // CloudTrail writes under `AWSLogs/<owner>/`: the account's, or the
    // organization's.
    let write = |sid: &str, owner: &str| {
        json!({
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": format!("{bucket}/AWSLogs/{owner}/*"),
            "Condition": {"StringEquals": {
                "aws:SourceArn": names.trail_arn(),
                "s3:x-amz-acl": "bucket-owner-full-control"
            }}
        })
    };
    let mut policy = json!({
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
            write("TrailctlCloudTrailWrite", &names.account),
            {
                "Sid": "TrailctlDenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket.clone(), format!("{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    });
    if let Some(org) = &names.org {
        let statements = policy["Statement"].as_array_mut().expect("an array");
        statements.insert(2, write("TrailctlCloudTrailWriteOrganization", &org.id));
    }
    policy
}

/// trailctl's statements in a reused bucket's policy, merged by their
/// `Sid`: a new trail of ours needs CloudTrail's ACL check and writes; a
/// reused trail writes already, so then there are none. No Deny of plain
/// HTTP is added to a bucket others use: its absence is a warning.
pub fn reused_bucket_policy(names: &Names) -> Value {
    let mut policy = bucket_policy(names);
    let statements = policy["Statement"].as_array_mut().expect("an array");
    statements.retain(|s| names.reused.trail.is_none() && s["Effect"] == "Allow");
    policy
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

/// Read the log objects, nothing else (and decrypt them when SSE-KMS);
/// with a queue, receive and delete its messages.
pub fn collector_permissions(names: &Names, kms_keys: &[String], queue: bool) -> Value {
    let mut statements = vec![json!({
        "Sid": "TrailctlReadLogObjects",
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": names.log_objects_arn()
    })];
    if !kms_keys.is_empty() {
        statements.push(decrypt_statement(names, kms_keys));
    }
    if queue {
        statements.push(json!({
            "Sid": "TrailctlReceiveFromQueue",
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes"
            ],
            "Resource": names.queue_arn()
        }));
    }
    json!({"Version": VERSION, "Statement": statements})
}

/// The delivery modes the account reflects: a queue, a forwarder (with the
/// URL it posts to; the stored token is kept), CloudWatch Logs.
fn delivery_in_place(inventory: &Inventory) -> Delivery {
    let forward = inventory.function.as_ref().map(|f| Forward {
        url: f
            .environment
            .get(function::URL_VARIABLE)
            .cloned()
            .unwrap_or_default(),
        token: None,
    });
    Delivery {
        sqs: inventory.queue.is_some(),
        cloudwatch_logs: forward.is_some()
            && (inventory.trail_log_group.is_some()
                || inventory
                    .trail
                    .as_ref()
                    .is_some_and(|t| t.cloud_watch_logs.is_some())),
        forward,
    }
}

/// The selection the log bucket's entries reflect, if it is present.
pub fn selection_in_place(names: &Names, inventory: &Inventory) -> Option<Accounts> {
    match &inventory.bucket {
        bucket::Observed::Present(b) => accounts_in_place(names, &b.notification),
        _ => None,
    }
}

/// An organization integration: an organization trail, or entries that
/// select accounts; with the selection they hold.
pub fn org_in_place(names: &Names, inventory: &Inventory) -> Option<OrgSetup> {
    let accounts = selection_in_place(names, inventory);
    let org_trail = inventory.trail.as_ref().is_some_and(|t| t.organization);
    (org_trail || accounts.is_some()).then_some(OrgSetup { accounts })
}

/// A fresh external ID: 128 random bits, hex-encoded.
pub fn generate_external_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for the external ID: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The setup options the account reflects now: the collector account and
/// external ID from the role's trust policy, retention from the lifecycle
/// rule, the KMS key from the encryption, the event selection from the
/// trail. `status` plans against these, so the drift it reports is what a
/// `setup` with the same options would repair — never the options
/// themselves. Parts that cannot be read keep setup's defaults.
pub fn settings_in_place(names: &Names, inventory: &Inventory) -> (SetupSettings, String) {
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
        .unwrap_or(crate::settings::DEFAULT_RETENTION_DAYS);
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
        delivery: delivery_in_place(inventory),
        org: org_in_place(names, inventory),
        // The reuse is in `names` already (from the role's tags).
        existing: Default::default(),
        plan_only: true,
    };
    let external_id = role.and_then(|r| r.external_id()).unwrap_or_default();
    (settings, external_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_record_reads_back_and_an_unknown_one_means_every_part() {
        let parts = |queue, forwarder, trail_logs| Parts {
            queue,
            forwarder,
            trail_logs,
        };
        for (what, value) in [
            (parts(false, false, false), "none"),
            (parts(true, false, false), "queue"),
            (parts(false, true, true), "forwarder,trail-logs"),
            (Parts::ALL, "queue,forwarder,trail-logs"),
        ] {
            assert_eq!(what.record(), value);
            let tags = vec![(PARTS_TAG.to_owned(), value.to_owned())];
            assert_eq!(Parts::recorded(&tags), what, "{value}");
        }
        for (tags, why) in [
            (vec![], "no record: made by an earlier trailctl"),
            (
                vec![(PARTS_TAG.to_owned(), "queue,archive".to_owned())],
                "a part this version does not know",
            ),
        ] {
            assert_eq!(Parts::recorded(&tags), Parts::ALL, "{why}");
        }
        assert_eq!(
            Parts::ALL.without(parts(true, false, true)),
            parts(false, true, false)
        );
        assert!(parts(true, false, false)
            .without(parts(true, true, false))
            .is_empty());
    }
}
