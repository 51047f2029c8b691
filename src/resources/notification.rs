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

/// trailctl's entries of one integration. One account, or an organization
/// whose every account is collected: one entry, Id `trailctl-<name>`. An
/// organization with a selection: one entry per account, Id
/// `trailctl-<name>:<account>`, under that account's prefix, so S3 itself
/// never announces an unselected account's files. (`:` cannot occur in an
/// integration name, so no integration's Ids are a prefix of another's.)
#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub bucket: String,
    /// `trailctl-<name>`: this integration's entries are this Id or start
    /// with it and `:`.
    pub id: String,
    pub topic_arn: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: String,
    pub prefix: String,
}

/// A paused integration keeps its per-account entries with this in front of
/// their prefix: no log file is written under it, so nothing is announced,
/// and the selection stays on the bucket for `resume`.
pub const PAUSED_PREFIX: &str = "trailctl-paused/";

/// S3's quota of notification configurations per bucket (Amazon S3 service
/// quotas: 100); trailctl refuses a selection that would exceed it.
pub const MAX_ENTRIES: usize = 100;

impl Spec {
    /// The entries as a pause leaves them: per-account entries parked under
    /// [`PAUSED_PREFIX`], the single entry removed.
    pub fn paused(&self) -> Spec {
        Spec {
            entries: self
                .entries
                .iter()
                .filter(|e| e.id != self.id)
                .map(|e| Entry {
                    id: e.id.clone(),
                    prefix: format!("{PAUSED_PREFIX}{}", e.prefix),
                })
                .collect(),
            ..self.clone()
        }
    }
}

fn entry(topic_arn: &str, e: &Entry) -> anyhow::Result<TopicConfiguration> {
    Ok(TopicConfiguration::builder()
        .id(&e.id)
        .topic_arn(topic_arn)
        .events(Event::from(EVENT))
        .filter(
            NotificationConfigurationFilter::builder()
                .key(
                    S3KeyFilter::builder()
                        .filter_rules(
                            FilterRule::builder()
                                .name(FilterRuleName::Prefix)
                                .value(&e.prefix)
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

pub fn filter_value(entry: &TopicConfiguration, name: &str) -> Option<String> {
    rule_value(entry.filter(), name)
}

/// The value of the key filter rule `name` (`prefix`, `suffix`), of an entry
/// of any kind.
fn rule_value(filter: Option<&NotificationConfigurationFilter>, name: &str) -> Option<String> {
    filter
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

/// The entry with this Id in `current`, if any.
pub fn find<'a>(
    current: &'a NotificationConfiguration,
    id: &str,
) -> Option<&'a TopicConfiguration> {
    current
        .topic_configurations()
        .iter()
        .find(|t| t.id() == Some(id))
}

/// The account a per-account entry Id `<base>:<account>` is for.
pub fn entry_account<'a>(base: &str, id: &'a str) -> Option<&'a str> {
    id.strip_prefix(base)?.strip_prefix(':')
}

/// Is this entry Id one of integration entry Id `base`'s?
pub fn is_ours(base: &str, id: Option<&str>) -> bool {
    id.is_some_and(|id| id == base || entry_account(base, id).is_some())
}

/// The integration's entries in `current` (Id `base`, or `base:…`).
pub fn ours<'a>(
    current: &'a NotificationConfiguration,
    base: &'a str,
) -> impl Iterator<Item = &'a TopicConfiguration> + 'a {
    current
        .topic_configurations()
        .iter()
        .filter(move |t| is_ours(base, t.id()))
}

/// Each of our entries that is missing, different or no longer wanted, as
/// `entry <Id>` changes. Pure.
pub fn diff(spec: &Spec, current: &NotificationConfiguration) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for wanted in &spec.entries {
        let Ok(want) = entry(&spec.topic_arn, wanted) else {
            changes.push(FieldChange::new(
                format!("entry {}", wanted.id),
                "(unknown)",
                "set",
            ));
            continue;
        };
        match find(current, &wanted.id) {
            None => changes.push(FieldChange::new(
                format!("entry {}", wanted.id),
                "(none)",
                describe(&want),
            )),
            Some(have) => {
                let same = have.topic_arn() == want.topic_arn()
                    && have.events() == want.events()
                    && filter_value(have, "prefix") == filter_value(&want, "prefix")
                    && filter_value(have, "suffix") == filter_value(&want, "suffix");
                if !same {
                    changes.push(FieldChange::new(
                        format!("entry {}", wanted.id),
                        describe(have),
                        describe(&want),
                    ));
                }
            }
        }
    }
    for have in ours(current, &spec.id) {
        if !spec
            .entries
            .iter()
            .any(|e| Some(e.id.as_str()) == have.id())
        {
            changes.push(FieldChange::new(
                format!("entry {}", have.id().unwrap_or_default()),
                describe(have),
                "(none)",
            ));
        }
    }
    changes
}

/// `current` without any entry of integration entry Id `base`.
pub fn without(current: &NotificationConfiguration, base: &str) -> NotificationConfiguration {
    let mut config = current.clone();
    config.topic_configurations = Some(
        current
            .topic_configurations()
            .iter()
            .filter(|t| !is_ours(base, t.id()))
            .cloned()
            .collect(),
    );
    config
}

/// `current` with our entries in place of any previous ones of ours.
pub fn with(
    current: &NotificationConfiguration,
    spec: &Spec,
) -> anyhow::Result<NotificationConfiguration> {
    let mut config = without(current, &spec.id);
    let entries = config.topic_configurations.get_or_insert_with(Vec::new);
    for e in &spec.entries {
        entries.push(entry(&spec.topic_arn, e)?);
    }
    Ok(config)
}

/// How many entries of every kind (topic, queue, function, EventBridge
/// aside) `config` holds: what counts against [`MAX_ENTRIES`].
pub fn entry_count(config: &NotificationConfiguration) -> usize {
    config.topic_configurations().len()
        + config.queue_configurations().len()
        + config.lambda_function_configurations().len()
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

/// `current` as a pause leaves it: this integration's per-account entries
/// parked under [`PAUSED_PREFIX`], its single entry removed; others' kept.
pub fn parked(current: &NotificationConfiguration, base: &str) -> NotificationConfiguration {
    let mut config = current.clone();
    config.topic_configurations = Some(
        current
            .topic_configurations()
            .iter()
            .filter(|t| t.id() != Some(base))
            .map(|t| {
                let prefix = filter_value(t, "prefix").unwrap_or_default();
                if !is_ours(base, t.id()) || prefix.starts_with(PAUSED_PREFIX) {
                    return t.clone();
                }
                let parked = Entry {
                    id: t.id().unwrap_or_default().to_owned(),
                    prefix: format!("{PAUSED_PREFIX}{prefix}"),
                };
                entry(t.topic_arn(), &parked).unwrap_or_else(|_| t.clone())
            })
            .collect(),
    );
    config
}

/// Other tools' entries that S3 would reject ours beside: the same event
/// type (any `s3:ObjectCreated:…`) with prefixes of which one starts with
/// the other and suffixes of which one ends with the other ("Configurations
/// overlap"). One line per clash, naming both entries. Pure.
pub fn overlaps(spec: &Spec, current: &NotificationConfiguration) -> Vec<String> {
    let created = |events: &[Event]| {
        events.iter().any(|e| {
            let e = e.as_str();
            e == EVENT || e.starts_with("s3:ObjectCreated:")
        })
    };
    let filters = |f: Option<&NotificationConfigurationFilter>| {
        let rule = |name| rule_value(f, name).unwrap_or_default();
        (rule("prefix"), rule("suffix"))
    };
    let clash = |a: &str, b: &str, ends: bool| {
        if ends {
            a.ends_with(b) || b.ends_with(a)
        } else {
            a.starts_with(b) || b.starts_with(a)
        }
    };
    let mut foreign: Vec<(String, String, String)> = Vec::new();
    for t in current.topic_configurations() {
        if !is_ours(&spec.id, t.id()) && created(t.events()) {
            let (p, s) = filters(t.filter());
            foreign.push((t.id().unwrap_or("(no Id)").to_owned(), p, s));
        }
    }
    for q in current.queue_configurations() {
        if created(q.events()) {
            let (p, s) = filters(q.filter());
            foreign.push((q.id().unwrap_or("(no Id)").to_owned(), p, s));
        }
    }
    for l in current.lambda_function_configurations() {
        if created(l.events()) {
            let (p, s) = filters(l.filter());
            foreign.push((l.id().unwrap_or("(no Id)").to_owned(), p, s));
        }
    }
    let mut out = Vec::new();
    for ours in &spec.entries {
        for (id, prefix, suffix) in &foreign {
            if clash(&ours.prefix, prefix, false) && clash(SUFFIX, suffix, true) {
                out.push(format!(
                    "the bucket's entry `{id}` (prefix `{prefix}`, suffix `{suffix}`) overlaps trailctl's `{}` (prefix `{}`, suffix `{SUFFIX}`) for ObjectCreated events, which S3 refuses",
                    ours.id, ours.prefix
                ));
            }
        }
    }
    out
}
