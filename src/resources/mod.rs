//! One module per AWS resource kind; the only code that calls `aws_sdk_*`
//! (besides the caller lookup in `aws`).
//!
//! Each module owns, for its kind: the desired `Spec`, the observed
//! `State` and how to `read` it, a pure `diff` that names each field that
//! differs, the calls that create, update and delete it, and the IAM actions
//! each of those needs (the preflight and the bundled policy are built from
//! these lists).

pub mod bucket;
pub mod function;
pub mod log_group;
pub mod notification;
pub mod organization;
pub mod parameter;
pub mod queue;
pub mod role;
pub mod subscription;
pub mod topic;
pub mod trail;

use serde::{Deserialize, Serialize};

/// The tag that marks what trailctl owns: `trailctl:integration=<name>`.
pub const TAG_KEY: &str = "trailctl:integration";

/// The kinds of resource an integration is made of.
/// Serialised in snake case: in the JSON plan, and in the journal, which
/// reads it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Bucket,
    Topic,
    Role,
    Notification,
    Trail,
    Queue,
    Subscription,
    Parameter,
    LogGroup,
    Function,
    /// The organization's trusted access for CloudTrail (`--org`).
    Organization,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Bucket => "bucket",
            Kind::Topic => "topic",
            Kind::Role => "role",
            Kind::Notification => "notification",
            Kind::Trail => "trail",
            Kind::Queue => "queue",
            Kind::Subscription => "subscription",
            Kind::Parameter => "token parameter",
            Kind::LogGroup => "log group",
            Kind::Function => "function",
            Kind::Organization => "organization",
        }
    }
}

/// One field that differs between what is there and what should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl FieldChange {
    pub fn new(field: impl Into<String>, from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            from: from.into(),
            to: to.into(),
        }
    }
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Bucket,
        Kind::Topic,
        Kind::Role,
        Kind::Notification,
        Kind::Trail,
        Kind::Queue,
        Kind::Subscription,
        Kind::Parameter,
        Kind::LogGroup,
        Kind::Function,
        Kind::Organization,
    ];

    /// The actions reading this kind calls (every command reads first).
    pub fn read_actions(self) -> &'static [&'static str] {
        match self {
            Kind::Bucket => bucket::READ_ACTIONS,
            Kind::Topic => topic::READ_ACTIONS,
            Kind::Role => role::READ_ACTIONS,
            Kind::Notification => notification::READ_ACTIONS,
            Kind::Trail => trail::READ_ACTIONS,
            Kind::Queue => queue::READ_ACTIONS,
            Kind::Subscription => subscription::READ_ACTIONS,
            Kind::Parameter => parameter::READ_ACTIONS,
            Kind::LogGroup => log_group::READ_ACTIONS,
            Kind::Function => function::READ_ACTIONS,
            // Read only by organization integrations: their plans name the
            // reads (see `plan::Op::iam_actions`), so a one-account setup
            // needs no Organizations permission.
            Kind::Organization => &[],
        }
    }

    /// Every action this kind's module can call: read, create, each update
    /// and delete.
    pub fn actions(self) -> Vec<&'static str> {
        let mut actions = match self {
            Kind::Bucket => [
                bucket::READ_ACTIONS,
                bucket::CREATE_ACTIONS,
                &bucket::Setting::ALL.map(bucket::Setting::iam_action),
                bucket::DELETE_ACTIONS,
            ]
            .concat(),
            Kind::Notification => {
                [notification::READ_ACTIONS, notification::WRITE_ACTIONS].concat()
            }
            Kind::Topic => [
                topic::READ_ACTIONS,
                topic::CREATE_ACTIONS,
                &topic::Setting::ALL.map(topic::Setting::iam_action),
                topic::DELETE_ACTIONS,
                topic::REPLAY_ACTIONS,
            ]
            .concat(),
            Kind::Role => [
                role::READ_ACTIONS,
                role::CREATE_ACTIONS,
                role::UPDATE_ACTIONS,
                role::DELETE_ACTIONS,
                role::PAUSE_ACTIONS,
            ]
            .concat(),
            Kind::Trail => [
                trail::READ_ACTIONS,
                trail::CREATE_ACTIONS,
                &trail::Setting::ALL.map(trail::Setting::iam_action),
                trail::DELETE_ACTIONS,
                trail::STOP_ACTIONS,
                trail::PASS_ROLE_ACTIONS,
            ]
            .concat(),
            Kind::Queue => [
                queue::READ_ACTIONS,
                queue::CREATE_ACTIONS,
                &queue::Setting::ALL.map(queue::Setting::iam_action),
                queue::DELETE_ACTIONS,
            ]
            .concat(),
            Kind::Subscription => [
                subscription::READ_ACTIONS,
                subscription::CREATE_ACTIONS,
                subscription::DELETE_ACTIONS,
            ]
            .concat(),
            Kind::Parameter => [
                parameter::READ_ACTIONS,
                parameter::CREATE_ACTIONS,
                &parameter::Setting::ALL.map(parameter::Setting::iam_action),
                parameter::DELETE_ACTIONS,
            ]
            .concat(),
            Kind::LogGroup => [
                log_group::READ_ACTIONS,
                log_group::CREATE_ACTIONS,
                &log_group::Setting::ALL.map(|s| s.iam_action()),
                log_group::DELETE_ACTIONS,
                log_group::PAUSE_ACTIONS,
            ]
            .concat(),
            Kind::Function => [
                function::READ_ACTIONS,
                function::CREATE_ACTIONS,
                function::UPDATE_ACTIONS,
                function::DELETE_ACTIONS,
                function::REPLAY_ACTIONS,
            ]
            .concat(),
            Kind::Organization => [
                organization::READ_ACTIONS,
                organization::ENABLE_ACTIONS,
                organization::DISABLE_ACTIONS,
                organization::ORGANIZATION_TRAIL_ACTIONS,
            ]
            .concat(),
        };
        actions.sort_unstable();
        actions.dedup();
        actions
    }
}

/// Every IAM action the resource modules can call.
#[cfg(test)]
pub fn all_actions() -> std::collections::BTreeSet<&'static str> {
    Kind::ALL.iter().flat_map(|k| k.actions()).collect()
}

/// The tags of a resource, as key/value pairs.
pub type Tags = Vec<(String, String)>;

/// Is this resource owned by the integration `name`?
/// The value of the tag `key`, if the resource has it.
pub fn tag_value<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub fn owned_by(tags: &Tags, name: &str) -> bool {
    tags.iter().any(|(k, v)| k == TAG_KEY && v == name)
}

/// The change that puts the ownership tag on a resource, if it lacks it.
pub fn tag_change(tags: &Tags, name: &str) -> Option<FieldChange> {
    (!owned_by(tags, name)).then(|| {
        let from = tag_value(tags, TAG_KEY)
            .map(|v| format!("{TAG_KEY}={v}"))
            .unwrap_or_else(|| "(untagged)".into());
        FieldChange::new("tags", from, format!("{TAG_KEY}={name}"))
    })
}

/// Show an optional value the way the plan prints it.
pub fn show<T: std::fmt::Display>(value: Option<T>) -> String {
    value
        .map(|v| v.to_string())
        .unwrap_or_else(|| "(none)".into())
}
