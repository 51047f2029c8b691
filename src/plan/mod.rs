//! The planner: desired state + current state → an immutable [`Plan`].
//!
//! Pure and deterministic: no I/O, no clock, no randomness. A plan is
//! specific enough that the executor has no choices left: each step carries
//! the operation to run with every value it writes, and the order between
//! steps is data ([`Step::after`]).

use aws_sdk_s3::types::NotificationConfiguration;
use serde::Serialize;

mod pause;
mod reuse;

pub use pause::{pause, resume};

use crate::desired::{Desired, Names, PARTS_TAG};
use crate::inventory::Inventory;
use crate::resources::{
    bucket, function, log_group, notification, organization, owned_by, parameter, queue, role,
    subscription, tag_value, topic, trail, FieldChange, Kind, Tags, TAG_KEY,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Delete,
    NoChange,
    /// Present and left alone on purpose (not owned, or the kept bucket).
    Keep,
    /// In the way: trailctl would have to change something it does not own.
    Conflict,
}

/// Which command a plan is for; it decides the order between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Build,
    TearDown,
    /// Writing down what the integration is made of (the collector role's
    /// parts record): after every other step, so that the record never
    /// lists less than exists and an interrupted run still finds it all.
    Record,
}

/// Whose policy a [`Op::SetPolicy`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyTarget {
    Bucket(String),
    Topic(String),
}

/// What the executor runs for one step.
#[derive(Debug, Clone)]
pub enum Op {
    CreateBucket(bucket::Spec),
    UpdateBucket(bucket::Spec, Vec<bucket::Setting>),
    DeleteBucket {
        name: String,
        empty_first: bool,
    },
    CreateTopic(topic::Spec),
    UpdateTopic(topic::Spec, Vec<topic::Setting>),
    DeleteTopic {
        arn: String,
    },
    CreateRole(role::Spec),
    UpdateRole(role::Spec, Vec<role::Setting>),
    DeleteRole {
        name: String,
    },
    CreateTrail(trail::Spec),
    UpdateTrail(trail::Spec, Vec<trail::Setting>),
    DeleteTrail {
        name: String,
    },
    /// `pause` records itself on the collector role; `resume` removes the
    /// record.
    TagRole {
        name: String,
        tags: Tags,
    },
    UntagRole {
        name: String,
        keys: Vec<String>,
    },
    StopLogging {
        name: String,
    },
    StartLogging {
        name: String,
    },
    CreateQueue(queue::Spec),
    UpdateQueue(queue::Spec, Vec<queue::Setting>),
    DeleteQueue {
        url: String,
        dlq_url: String,
    },
    CreateSubscription(subscription::Spec),
    DeleteSubscription {
        topic_arn: String,
        endpoint: String,
    },
    CreateParameter(parameter::Spec),
    UpdateParameter(parameter::Spec, Vec<parameter::Setting>),
    DeleteParameter {
        name: String,
    },
    CreateLogGroup(log_group::Spec),
    UpdateLogGroup(log_group::Spec, Vec<log_group::Setting>),
    DeleteLogGroup {
        name: String,
    },
    /// `pause` stops a log group's subscription (to the forwarder).
    RemoveLogGroupFilter {
        group: String,
        filter: String,
    },
    /// Turn on the organization's trusted access for CloudTrail.
    EnableTrustedAccess,
    /// Only as the undo of [`Op::EnableTrustedAccess`] in a failed run.
    DisableTrustedAccess,
    CreateFunction(function::Spec),
    UpdateFunction(function::Spec, Vec<function::Setting>),
    DeleteFunction {
        name: String,
    },
    /// Write a reused bucket's or topic's policy with our statements merged
    /// in (or taken out); `previous` is the text it had, for the undo.
    SetPolicy {
        target: PolicyTarget,
        text: Option<String>,
        previous: Option<String>,
    },
    /// Write the bucket's whole notification configuration; `previous` is
    /// what it was, so that adding our entry can be undone exactly.
    SetNotification {
        bucket: String,
        config: NotificationConfiguration,
        previous: NotificationConfiguration,
    },
}

impl Op {
    /// The operation that undoes this one when it created something; `None`
    /// for updates and deletes (a failed run leaves those as they are).
    pub fn undo(&self) -> Option<Op> {
        Some(match self {
            Op::CreateBucket(spec) => Op::DeleteBucket {
                name: spec.name.clone(),
                empty_first: true,
            },
            Op::CreateTopic(spec) => Op::DeleteTopic {
                arn: spec.arn.clone(),
            },
            Op::CreateRole(spec) => Op::DeleteRole {
                name: spec.name.clone(),
            },
            Op::CreateTrail(spec) => Op::DeleteTrail {
                name: spec.name.clone(),
            },
            Op::SetNotification {
                bucket,
                config,
                previous,
            } => Op::SetNotification {
                bucket: bucket.clone(),
                config: previous.clone(),
                previous: config.clone(),
            },
            Op::CreateQueue(spec) => Op::DeleteQueue {
                url: spec.url.clone(),
                dlq_url: spec.dlq_url.clone(),
            },
            Op::CreateSubscription(spec) => Op::DeleteSubscription {
                topic_arn: spec.topic_arn.clone(),
                endpoint: spec.endpoint.clone(),
            },
            Op::CreateParameter(spec) => Op::DeleteParameter {
                name: spec.name.clone(),
            },
            Op::CreateLogGroup(spec) => Op::DeleteLogGroup {
                name: spec.name.clone(),
            },
            Op::CreateFunction(spec) => Op::DeleteFunction {
                name: spec.name.clone(),
            },
            Op::EnableTrustedAccess => Op::DisableTrustedAccess,
            Op::SetPolicy {
                target,
                text,
                previous,
            } => Op::SetPolicy {
                target: target.clone(),
                text: previous.clone(),
                previous: text.clone(),
            },
            _ => return None,
        })
    }

    /// The calls of this operation that must wait for one another: its
    /// length in round trips when nothing is retried.
    pub fn round_trips(&self) -> usize {
        match self {
            // Create, then every setting at once.
            Op::CreateBucket(_) => 2,
            // Lift the policy, list versions, delete them, delete the bucket.
            Op::DeleteBucket {
                empty_first: true, ..
            } => 4,
            Op::CreateRole(_) => 2,
            // List its policies, remove them, delete it.
            Op::DeleteRole { .. } => 3,
            // Create, then selectors and logging at once.
            Op::CreateTrail(_) => 2,
            Op::UpdateTrail(_, settings) => settings.len(),
            // The dead-letter queue, then the queue that names it.
            Op::CreateQueue(_) => 2,
            // List the topic's subscriptions, unsubscribe ours.
            Op::DeleteSubscription { .. } => 2,
            // Create, then retention and filter (or permissions) at once.
            Op::CreateLogGroup(_) | Op::CreateFunction(_) => 2,
            Op::UpdateFunction(_, settings) => settings.len(),
            _ => 1,
        }
    }

    /// The IAM actions this operation calls.
    pub fn iam_actions(&self) -> Vec<&'static str> {
        match self {
            Op::CreateBucket(_) => [
                bucket::CREATE_ACTIONS,
                &bucket::Setting::ALL.map(bucket::Setting::iam_action),
            ]
            .concat(),
            Op::UpdateBucket(_, settings) => settings.iter().map(|s| s.iam_action()).collect(),
            Op::DeleteBucket {
                empty_first: true, ..
            } => bucket::DELETE_ACTIONS.to_vec(),
            Op::DeleteBucket {
                empty_first: false, ..
            } => vec!["s3:DeleteBucket"],
            Op::CreateTopic(_) => topic::CREATE_ACTIONS.to_vec(),
            Op::UpdateTopic(_, settings) => settings.iter().map(|s| s.iam_action()).collect(),
            Op::DeleteTopic { .. } => topic::DELETE_ACTIONS.to_vec(),
            Op::CreateRole(_) => role::CREATE_ACTIONS.to_vec(),
            Op::UpdateRole(_, settings) => settings
                .iter()
                .flat_map(|s| s.iam_actions().iter().copied())
                .collect(),
            Op::DeleteRole { .. } => role::DELETE_ACTIONS.to_vec(),
            // Naming a role for CloudWatch Logs passes it to CloudTrail.
            Op::CreateTrail(spec) => {
                let mut actions = trail::CREATE_ACTIONS.to_vec();
                if spec.cloud_watch_logs.is_some() {
                    actions.push("iam:PassRole");
                }
                if spec.organization {
                    actions.extend(organization::ORGANIZATION_TRAIL_ACTIONS);
                }
                actions
            }
            Op::UpdateTrail(spec, settings) => {
                let mut actions: Vec<_> = settings.iter().map(|s| s.iam_action()).collect();
                let configures = settings.contains(&trail::Setting::Configuration);
                if spec.cloud_watch_logs.is_some() && configures {
                    actions.push("iam:PassRole");
                }
                if spec.organization && configures {
                    actions.extend(organization::ORGANIZATION_TRAIL_ACTIONS);
                }
                actions
            }
            Op::EnableTrustedAccess => organization::ENABLE_ACTIONS.to_vec(),
            Op::DisableTrustedAccess => organization::DISABLE_ACTIONS.to_vec(),
            Op::DeleteTrail { .. } => trail::DELETE_ACTIONS.to_vec(),
            Op::SetNotification { .. } => notification::WRITE_ACTIONS.to_vec(),
            Op::SetPolicy {
                target: PolicyTarget::Bucket(_),
                text,
                ..
            } => vec![if text.is_some() {
                "s3:PutBucketPolicy"
            } else {
                "s3:DeleteBucketPolicy"
            }],
            Op::SetPolicy {
                target: PolicyTarget::Topic(_),
                ..
            } => vec!["sns:SetTopicAttributes"],
            Op::TagRole { .. } => vec!["iam:TagRole"],
            Op::UntagRole { .. } => vec!["iam:UntagRole"],
            Op::StopLogging { .. } => trail::STOP_ACTIONS.to_vec(),
            Op::StartLogging { .. } => vec!["cloudtrail:StartLogging"],
            Op::CreateQueue(_) => queue::CREATE_ACTIONS.to_vec(),
            Op::UpdateQueue(_, settings) => settings.iter().map(|s| s.iam_action()).collect(),
            Op::DeleteQueue { .. } => queue::DELETE_ACTIONS.to_vec(),
            Op::CreateSubscription(_) => subscription::CREATE_ACTIONS.to_vec(),
            Op::DeleteSubscription { .. } => {
                [subscription::READ_ACTIONS, subscription::DELETE_ACTIONS].concat()
            }
            Op::CreateParameter(_) => parameter::CREATE_ACTIONS.to_vec(),
            Op::UpdateParameter(_, settings) => {
                let mut actions: Vec<_> = settings.iter().map(|s| s.iam_action()).collect();
                if settings.contains(&parameter::Setting::Value) {
                    actions.push("ssm:GetParameter");
                }
                actions
            }
            Op::DeleteParameter { .. } => parameter::DELETE_ACTIONS.to_vec(),
            Op::CreateLogGroup(_) => log_group::CREATE_ACTIONS.to_vec(),
            Op::UpdateLogGroup(_, settings) => settings.iter().map(|s| s.iam_action()).collect(),
            Op::DeleteLogGroup { .. } => log_group::DELETE_ACTIONS.to_vec(),
            Op::RemoveLogGroupFilter { .. } => vec!["logs:DeleteSubscriptionFilter"],
            Op::CreateFunction(_) => function::CREATE_ACTIONS.to_vec(),
            Op::UpdateFunction(_, settings) => {
                let mut actions: Vec<_> = settings.iter().map(|s| s.iam_action()).collect();
                if settings.contains(&function::Setting::Configuration) {
                    actions.push("iam:PassRole");
                }
                actions
            }
            Op::DeleteFunction { .. } => function::DELETE_ACTIONS.to_vec(),
        }
    }
}

/// One resource in the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip)]
    pub op: Option<Op>,
    #[serde(skip)]
    pub direction: Direction,
}

impl Step {
    fn new(kind: Kind, name: impl Into<String>, action: Action, direction: Direction) -> Self {
        Self {
            kind,
            name: name.into(),
            action,
            changes: Vec::new(),
            note: None,
            op: None,
            direction,
        }
    }

    fn with_changes(mut self, changes: Vec<FieldChange>) -> Self {
        self.changes = changes;
        self
    }

    fn with_op(mut self, op: Op) -> Self {
        self.op = Some(op);
        self
    }

    fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The kinds whose steps of the same direction must finish before this
    /// one starts: CloudTrail checks the bucket policy (and the CloudWatch
    /// Logs role) at CreateTrail, S3 sends a test event to the topic at
    /// PutBucketNotificationConfiguration, Lambda checks its role at
    /// CreateFunction, a subscription needs its endpoint; tearing down goes
    /// the other way. In a plan with both, every removal waits for every
    /// build step (see [`Plan::waits_for`]).
    pub fn after(&self) -> &'static [Kind] {
        let trail_logs = match &self.op {
            Some(Op::CreateTrail(spec) | Op::UpdateTrail(spec, _)) => {
                spec.cloud_watch_logs.is_some()
            }
            _ => false,
        };
        let log_group_filter = matches!(
            &self.op,
            Some(Op::CreateLogGroup(spec) | Op::UpdateLogGroup(spec, _)) if spec.filter.is_some()
        );
        match (self.direction, self.kind) {
            (Direction::Build, Kind::Trail) if trail_logs => {
                &[Kind::Bucket, Kind::LogGroup, Kind::Role, Kind::Organization]
            }
            (Direction::Build, Kind::Trail) => &[Kind::Bucket, Kind::Organization],
            (Direction::Build, Kind::Notification) => &[Kind::Bucket, Kind::Topic],
            (Direction::Build, Kind::Function) => &[Kind::Role, Kind::Parameter],
            (Direction::Build, Kind::LogGroup) if log_group_filter => &[Kind::Function],
            (Direction::Build, Kind::Subscription) => {
                &[Kind::Topic, Kind::Queue, Kind::Function, Kind::LogGroup]
            }
            (Direction::TearDown, Kind::Bucket) => &[Kind::Trail, Kind::Notification],
            (Direction::TearDown, Kind::Topic) => &[Kind::Notification, Kind::Subscription],
            (Direction::TearDown, Kind::Queue) => &[Kind::Subscription],
            (Direction::TearDown, Kind::LogGroup) => &[Kind::Trail],
            (Direction::TearDown, Kind::Function) => &[Kind::Subscription, Kind::LogGroup],
            (Direction::TearDown, Kind::Parameter) => &[Kind::Function],
            (Direction::TearDown, Kind::Role) => &[Kind::Function, Kind::Trail],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// What the user should know but trailctl does not change: a reused
    /// resource's weak settings, a trail that duplicates another.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub kept: usize,
    pub conflicts: usize,
}

impl Plan {
    pub fn new(steps: Vec<Step>) -> Self {
        Self {
            steps,
            warnings: Vec::new(),
        }
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for step in &self.steps {
            match step.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Delete => s.delete += 1,
                Action::NoChange => s.unchanged += 1,
                Action::Keep => s.kept += 1,
                Action::Conflict => s.conflicts += 1,
            }
        }
        s
    }

    /// Every IAM action applying this plan calls, with the kind of resource
    /// it acts on, reads and undos included, sorted: what the permission
    /// preflight checks.
    pub fn needs(&self) -> Vec<(Kind, &'static str)> {
        let mut needs: Vec<(Kind, &'static str)> = Kind::ALL
            .iter()
            .flat_map(|k| k.read_actions().iter().map(move |a| (*k, *a)))
            .collect();
        // An organization integration's plan reads the organization too.
        if self.steps.iter().any(|s| s.kind == Kind::Organization) {
            needs.extend(
                organization::READ_ACTIONS
                    .iter()
                    .map(|a| (Kind::Organization, *a)),
            );
        }
        for step in &self.steps {
            let Some(op) = &step.op else { continue };
            let undo = op.undo();
            for action in op
                .iam_actions()
                .into_iter()
                .chain(undo.iter().flat_map(Op::iam_actions))
            {
                needs.push((step.kind, action));
            }
        }
        needs.sort_unstable();
        needs.dedup();
        needs
    }

    /// The IAM actions of [`Plan::needs`], sorted.
    pub fn iam_actions(&self) -> Vec<&'static str> {
        let mut actions: Vec<_> = self.needs().into_iter().map(|(_, a)| a).collect();
        actions.sort_unstable();
        actions.dedup();
        actions
    }

    pub fn conflicts(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(|s| s.action == Action::Conflict)
    }

    /// True when applying would call nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.iter().all(|s| s.op.is_none())
    }

    /// Does `step` have to wait for `other`? Within one direction, by
    /// [`Step::after`]; a removal waits for every build step, so that
    /// nothing is removed while a step that stops using it is still to run.
    pub fn waits_for(step: &Step, other: &Step) -> bool {
        if other.op.is_none() {
            return false;
        }
        match (step.direction, other.direction) {
            (Direction::Record, Direction::Record) => false,
            (Direction::Record, _) => true,
            (_, Direction::Record) => false,
            (a, b) if a == b => step.after().contains(&other.kind),
            (Direction::TearDown, Direction::Build) => true,
            _ => false,
        }
    }

    /// The longest chain of dependent calls, in round trips: the fewest any
    /// executor needs to apply this plan.
    pub fn critical_path(&self) -> usize {
        self.longest(&|step| step.op.as_ref().map_or(0, Op::round_trips))
    }

    /// The length of the longest chain of dependent steps: the fewest
    /// rounds any executor needs.
    pub fn dependency_depth(&self) -> usize {
        self.longest(&|step| usize::from(step.op.is_some()))
    }

    fn longest(&self, cost: &dyn Fn(&Step) -> usize) -> usize {
        fn length(plan: &Plan, step: &Step, cost: &dyn Fn(&Step) -> usize) -> usize {
            cost(step)
                + plan
                    .steps
                    .iter()
                    .filter(|other| Plan::waits_for(step, other))
                    .map(|other| length(plan, other, cost))
                    .max()
                    .unwrap_or(0)
        }
        self.steps
            .iter()
            .filter(|s| s.op.is_some())
            .map(|s| length(self, s, cost))
            .max()
            .unwrap_or(0)
    }
}

/// Kinds that an interrupted earlier run of this integration was creating
/// (from the journal): they count as owned even before their tag is on.
pub type Adopted<'a> = &'a [Kind];

fn not_owned_note(tags: &Tags, integration: &str) -> String {
    match tag_value(tags, TAG_KEY) {
        Some(other) => format!("owned by integration `{other}`, not `{integration}`"),
        None => format!("exists without the tag {TAG_KEY}={integration}; trailctl does not change what it does not own"),
    }
}

/// A resource kind's planned step, from its diff.
fn build_step<S: Clone>(
    kind: Kind,
    name: &str,
    state: Option<(&Tags, Vec<(S, FieldChange)>)>,
    adopted: bool,
    integration: &str,
    create: impl FnOnce() -> Op,
    update: impl FnOnce(Vec<S>) -> Op,
) -> Step {
    match state {
        None => Step::new(kind, name, Action::Create, Direction::Build).with_op(create()),
        Some((tags, _)) if !owned_by(tags, integration) && !adopted => {
            Step::new(kind, name, Action::Conflict, Direction::Build)
                .with_note(not_owned_note(tags, integration))
        }
        Some((_, changes)) if changes.is_empty() => {
            Step::new(kind, name, Action::NoChange, Direction::Build)
        }
        Some((_, changes)) => {
            let settings: Vec<S> = changes.iter().map(|(s, _)| s.clone()).collect();
            let fields = changes.into_iter().map(|(_, c)| c).collect();
            Step::new(kind, name, Action::Update, Direction::Build)
                .with_changes(fields)
                .with_op(update(settings))
        }
    }
}

/// Other tags already on a resource are kept when ours is added.
fn merged_tags(ours: &Tags, existing: &Tags) -> Tags {
    let mut tags: Tags = existing
        .iter()
        .filter(|(k, _)| k != TAG_KEY && !ours.iter().any(|(o, _)| o == k))
        .cloned()
        .collect();
    tags.extend(ours.iter().cloned());
    tags
}

fn dedup<S: PartialEq>(mut settings: Vec<S>) -> Vec<S> {
    let mut out = Vec::new();
    for s in settings.drain(..) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The plan that makes the account match `desired`.
pub fn setup(names: &Names, desired: &Desired, inventory: &Inventory, adopted: Adopted) -> Plan {
    let integration = names.integration.as_str();
    let mut steps = Vec::new();
    let mut warnings = Vec::new();

    // Bucket.
    let bucket_step = match &inventory.bucket {
        _ if names.reused.bucket => reuse::bucket_step(names, desired, inventory, &mut warnings),
        bucket::Observed::Moved { region } => {
            Step::new(Kind::Bucket, &names.bucket, Action::Conflict, Direction::Build).with_note(format!(
                "the bucket is in {region}, not in the home region {}; choose another --bucket-name or --region",
                names.region
            ))
        }
        bucket::Observed::Inaccessible(why) => {
            Step::new(Kind::Bucket, &names.bucket, Action::Conflict, Direction::Build).with_note(why.clone())
        }
        bucket::Observed::Present(state) if state.region.as_deref().is_some_and(|r| r != names.region) => {
            Step::new(Kind::Bucket, &names.bucket, Action::Conflict, Direction::Build).with_note(format!(
                "the bucket is in {}, not in the home region {}: collectors reading it through {} get HTTP 301 errors; choose another --bucket-name or --region",
                state.region.as_deref().unwrap_or("?"),
                names.region,
                names.region
            ))
        }
        observed => {
            let state = match observed {
                bucket::Observed::Present(s) => Some(s.as_ref()),
                _ => None,
            };
            let mut spec = desired.bucket.clone();
            if let Some(s) = state {
                spec.tags = merged_tags(&spec.tags, &s.tags);
            }
            let diff = state.map(|s| (&s.tags, bucket::diff(&spec, s, integration)));
            build_step(
                Kind::Bucket,
                &names.bucket,
                diff,
                adopted.contains(&Kind::Bucket),
                integration,
                || Op::CreateBucket(spec.clone()),
                |settings| Op::UpdateBucket(spec.clone(), dedup(settings)),
            )
            .with_create_fields(vec![
                FieldChange::new("region", "", names.region.clone()),
                FieldChange::new("retention", "", format!("{} days", spec.retention_days)),
                FieldChange::new(
                    "encryption",
                    "",
                    spec.kms_key.as_deref().map(|k| format!("aws:kms {k}")).unwrap_or("AES256".into()),
                ),
            ])
        }
    };
    // A reused bucket is kept as it is, and usable.
    let bucket_usable = matches!(
        bucket_step.action,
        Action::Create | Action::Update | Action::NoChange | Action::Keep
    );
    steps.push(bucket_step);

    // Topic.
    let mut topic_spec = desired.topic.clone();
    if let Some(s) = &inventory.topic {
        topic_spec.tags = merged_tags(&topic_spec.tags, &s.tags);
    }
    steps.push(if names.reused.topic.is_some() {
        reuse::topic_step(names, desired, inventory)
    } else {
        build_step(
            Kind::Topic,
            &names.topic(),
            inventory
                .topic
                .as_ref()
                .map(|s| (&s.tags, topic::diff(&topic_spec, s, integration))),
            adopted.contains(&Kind::Topic),
            integration,
            || Op::CreateTopic(topic_spec.clone()),
            |settings| Op::UpdateTopic(topic_spec.clone(), dedup(settings)),
        )
    });

    // Role. The parts record on an existing role is written last, by its own
    // step (see `parts_record_step`), not with its other tags.
    let mut role_spec = desired.role.clone();
    let mut record_step = None;
    if let Some(s) = &inventory.role {
        role_spec.tags = merged_tags(&role_spec.tags, &s.tags);
        record_step = parts_record_step(&role_spec, s);
        role_spec.tags.retain(|(k, _)| k != PARTS_TAG);
    }
    let role_step = build_step(
        Kind::Role,
        &names.role(),
        inventory
            .role
            .as_ref()
            .map(|s| (&s.tags, role::diff(&role_spec, s, integration))),
        adopted.contains(&Kind::Role),
        integration,
        || Op::CreateRole(role_spec.clone()),
        |settings| Op::UpdateRole(role_spec.clone(), dedup(settings)),
    )
    .with_create_fields(vec![FieldChange::new(
        "trusted account",
        "",
        collector_of(&desired.role),
    )]);
    match record_step {
        // One line for the role when only its record changes.
        Some(record) if role_step.action == Action::NoChange => steps.push(record),
        Some(record) if role_step.action == Action::Update => steps.extend([role_step, record]),
        _ => steps.push(role_step),
    }

    // Notification: our entries merged into whatever the bucket has.
    let current_config = match &inventory.bucket {
        bucket::Observed::Present(s) => s.notification.clone(),
        _ => NotificationConfiguration::builder().build(),
    };
    let pause = inventory.pause(names.integration.as_str());
    // While paused, setup keeps the entries as the pause left them.
    let spec = match &pause {
        Some(_) => desired.notification.paused(),
        None => desired.notification.clone(),
    };
    let notification_step =
        notification_step(&spec, &current_config, bucket_usable, pause.as_ref());
    steps.push(notification_step);

    if desired.trail.organization {
        steps.push(organization_step(inventory.organization.as_ref()));
    }

    // Trail.
    let mut trail_spec = desired.trail.clone();
    if let Some(s) = &inventory.trail {
        trail_spec.tags = merged_tags(&trail_spec.tags, &s.tags);
    }
    let trail_step = if names.reused.trail.is_some() {
        reuse::trail_step(names, desired, inventory, &mut warnings)
    } else {
        build_step(
            Kind::Trail,
            &names.trail(),
            inventory.trail.as_ref().map(|s| {
                // A pause that stopped logging is kept until `resume`.
                let changes = trail::diff(&trail_spec, s, integration)
                    .into_iter()
                    .filter(|(setting, _)| {
                        *setting != trail::Setting::Logging
                            || !pause.as_ref().is_some_and(|p| p.stopped_logging)
                    })
                    .collect();
                (&s.tags, changes)
            }),
            adopted.contains(&Kind::Trail),
            integration,
            || Op::CreateTrail(trail_spec.clone()),
            |settings| Op::UpdateTrail(trail_spec.clone(), dedup(settings)),
        )
        .with_create_fields(vec![
            FieldChange::new("management events", "", trail_spec.read_write.clone()),
            FieldChange::new("multi-region, global events, log file validation", "", "on"),
        ])
    };
    steps.push(if names.reused.trail.is_some() {
        trail_step
    } else {
        reuse::discovery_checks(names, inventory, trail_step, &mut warnings)
    });
    for key in &names.log_keys {
        warnings.push(format!(
            "the log files are encrypted with the KMS key {key}: the collector role{} may decrypt with it, but the key's policy must allow that too, and trailctl does not change key policies: allow kms:Decrypt to {} in it (or let it delegate to IAM)",
            if desired.forwarder.is_some() { " and the forwarder's role" } else { "" },
            names.role_arn()
        ));
    }

    delivery_steps(names, desired, inventory, adopted, &mut steps);
    Plan { steps, warnings }
}

/// The step that records on our collector role which optional parts the
/// integration now has, when that differs from what the role records.
/// `spec` has the desired record among its tags.
fn parts_record_step(spec: &role::Spec, state: &role::State) -> Option<Step> {
    let (want, have) = (
        tag_value(&spec.tags, PARTS_TAG)?,
        tag_value(&state.tags, PARTS_TAG),
    );
    if have == Some(want) {
        return None;
    }
    Some(
        Step::new(Kind::Role, &spec.name, Action::Update, Direction::Record)
            .with_changes(vec![FieldChange::new(
                "parts record",
                have.unwrap_or("(none)"),
                want,
            )])
            .with_note("written last: it lists what the integration is made of")
            .with_op(Op::UpdateRole(spec.clone(), vec![role::Setting::Tags])),
    )
}

/// An organization trail needs CloudTrail's trusted access, and a caller
/// who may create one.
fn organization_step(org: Option<&organization::State>) -> Step {
    let name = format!("trusted access for {}", organization::CLOUDTRAIL_PRINCIPAL);
    let step = |action| Step::new(Kind::Organization, &name, action, Direction::Build);
    let Some(org) = org else {
        return step(Action::Conflict).with_note("the organization could not be read");
    };
    if org.standing == organization::Standing::Member {
        return step(Action::Conflict).with_note(format!(
            "an organization trail can only be set up from the management account {} of {} (or a CloudTrail delegated administrator); run trailctl there",
            org.management_account, org.id
        ));
    }
    match org.trusted_access {
        Some(false) => step(Action::Create)
            .with_changes(vec![FieldChange::new(
                "trusted access",
                "off",
                format!("on, organization {}", org.id),
            )])
            .with_op(Op::EnableTrustedAccess),
        _ => step(Action::NoChange),
    }
}

/// The step that puts our entries in the bucket's notification
/// configuration, or says why it cannot: the bucket in conflict, another
/// tool's entry that overlaps ours, or more entries than S3 allows.
fn notification_step(
    spec: &notification::Spec,
    current: &NotificationConfiguration,
    bucket_usable: bool,
    pause: Option<&role::Pause>,
) -> Step {
    let step = |action| Step::new(Kind::Notification, &spec.id, action, Direction::Build);
    if !bucket_usable {
        return step(Action::Conflict).with_note("needs the log bucket, which is in conflict");
    }
    let changes = notification::diff(spec, current);
    if changes.is_empty() {
        return match pause {
            Some(p) => step(Action::Keep).with_note(format!(
                "delivery paused since {}: `trailctl resume` restores it",
                p.since
            )),
            None => step(Action::NoChange),
        };
    }
    let overlaps = notification::overlaps(spec, current);
    if !overlaps.is_empty() {
        return step(Action::Conflict)
            .with_changes(changes)
            .with_note(format!(
                "{}; change or remove that entry (trailctl does not change others' entries), then re-run",
                overlaps.join("; ")
            ));
    }
    let action = if notification::ours(current, &spec.id).next().is_none() {
        Action::Create
    } else {
        Action::Update
    };
    match notification::with(current, spec) {
        Ok(config) if notification::entry_count(&config) > notification::MAX_ENTRIES => {
            step(Action::Conflict).with_changes(changes).with_note(format!(
                "the bucket would hold {} notification entries; S3 allows {} per bucket: select fewer accounts, or all of them (`--accounts all`: one entry)",
                notification::entry_count(&config),
                notification::MAX_ENTRIES
            ))
        }
        Ok(config) => step(action).with_changes(changes).with_op(Op::SetNotification {
            bucket: spec.bucket.clone(),
            config,
            previous: current.clone(),
        }),
        Err(e) => step(Action::Conflict)
            .with_changes(changes)
            .with_note(format!("cannot build the notification entries: {e}")),
    }
}

/// A resource that exists only with some options: built to its spec when
/// wanted; removed when it is not and is ours; otherwise not in the plan.
#[allow(clippy::too_many_arguments)]
fn optional_step<Spec: Clone, State, S: Clone + PartialEq>(
    kind: Kind,
    name: &str,
    integration: &str,
    adopted: Adopted,
    wanted: Option<Spec>,
    state: Option<&State>,
    tags_of: impl Fn(&State) -> &Tags,
    set_tags: impl Fn(&mut Spec, Tags),
    spec_tags: impl Fn(&Spec) -> &Tags,
    diff: impl Fn(&Spec, &State) -> Vec<(S, FieldChange)>,
    create: impl Fn(Spec) -> Op,
    update: impl Fn(Spec, Vec<S>) -> Op,
    delete: Op,
) -> Option<Step> {
    match wanted {
        Some(mut spec) => {
            if let Some(state) = state {
                let merged = merged_tags(spec_tags(&spec), tags_of(state));
                set_tags(&mut spec, merged);
            }
            let diff = state.map(|st| (tags_of(st), diff(&spec, st)));
            Some(build_step(
                kind,
                name,
                diff,
                adopted.contains(&kind),
                integration,
                || create(spec.clone()),
                |settings| update(spec.clone(), dedup(settings)),
            ))
        }
        None => state
            .filter(|st| owned_by(tags_of(st), integration) || adopted.contains(&kind))
            .map(|_| {
                Step::new(kind, name, Action::Delete, Direction::TearDown)
                    .with_op(delete)
                    .with_note("no longer part of this integration's options")
            }),
    }
}

fn role_step(
    name: &str,
    integration: &str,
    adopted: Adopted,
    wanted: Option<role::Spec>,
    state: Option<&role::State>,
) -> Option<Step> {
    optional_step(
        Kind::Role,
        name,
        integration,
        adopted,
        wanted,
        state,
        |s| &s.tags,
        |spec, tags| spec.tags = tags,
        |spec| &spec.tags,
        |spec, st| role::diff(spec, st, integration),
        Op::CreateRole,
        Op::UpdateRole,
        Op::DeleteRole { name: name.into() },
    )
}

fn log_group_step(
    name: &str,
    integration: &str,
    adopted: Adopted,
    wanted: Option<log_group::Spec>,
    state: Option<&log_group::State>,
) -> Option<Step> {
    optional_step(
        Kind::LogGroup,
        name,
        integration,
        adopted,
        wanted,
        state,
        |s| &s.tags,
        |spec, tags| spec.tags = tags,
        |spec| &spec.tags,
        |spec, st| log_group::diff(spec, st, integration),
        Op::CreateLogGroup,
        Op::UpdateLogGroup,
        Op::DeleteLogGroup { name: name.into() },
    )
}

/// The queue, the forwarder and the trail's CloudWatch Logs delivery, and
/// the topic's subscriptions to them.
fn delivery_steps(
    names: &Names,
    desired: &Desired,
    inventory: &Inventory,
    adopted: Adopted,
    steps: &mut Vec<Step>,
) {
    let integration = names.integration.as_str();
    let forwarder = desired.forwarder.as_ref();
    let trail_logs = desired.trail_logs.as_ref();
    // A pause removed the trail log group's filter; setup keeps it removed
    // until `resume`.
    let paused = inventory.pause(names.integration.as_str()).is_some();

    steps.extend(
        optional_step(
            Kind::Queue,
            &names.queue(),
            integration,
            adopted,
            desired.queue.clone(),
            inventory.queue.as_ref(),
            |s| &s.tags,
            |spec, tags| spec.tags = tags,
            |spec| &spec.tags,
            |spec, st| queue::diff(spec, st, integration),
            Op::CreateQueue,
            Op::UpdateQueue,
            Op::DeleteQueue {
                url: names.queue_url(),
                dlq_url: names.dlq_url(),
            },
        )
        .map(|step| {
            step.with_create_fields(vec![
                FieldChange::new("dead-letter queue", "", names.dlq()),
                FieldChange::new("encryption", "", "SQS-managed (SSE-SQS)"),
                FieldChange::new("senders", "", format!("only the topic {}", names.topic())),
            ])
        }),
    );

    steps.extend(role_step(
        &names.forwarder_role(),
        integration,
        adopted,
        forwarder.map(|f| f.role.clone()),
        inventory.forwarder_role.as_ref(),
    ));
    steps.extend(log_group_step(
        &names.function_log_group(),
        integration,
        adopted,
        forwarder.map(|f| f.log_group.clone()),
        inventory.function_log_group.as_ref(),
    ));

    // The token: a first setup must be given one; a re-run keeps it.
    let token_step = match (forwarder, &inventory.token) {
        (Some(f), None) if f.token.value.is_none() => Some(
            Step::new(
                Kind::Parameter,
                names.token_parameter(),
                Action::Conflict,
                Direction::Build,
            )
            .with_note(format!(
                "the forwarder needs the endpoint's token: set {} or pass --forward-token-stdin",
                crate::settings::FORWARD_TOKEN_VARIABLE
            )),
        ),
        _ => optional_step(
            Kind::Parameter,
            &names.token_parameter(),
            integration,
            adopted,
            forwarder.map(|f| f.token.clone()),
            inventory.token.as_ref(),
            |s| &s.tags,
            |spec, tags| spec.tags = tags,
            |spec| &spec.tags,
            |spec, st| parameter::diff(spec, st, integration),
            Op::CreateParameter,
            Op::UpdateParameter,
            Op::DeleteParameter {
                name: names.token_parameter(),
            },
        )
        .map(|step| step.with_create_fields(vec![FieldChange::new("type", "", "SecureString")])),
    };
    steps.extend(token_step);

    steps.extend(
        optional_step(
            Kind::Function,
            &names.function(),
            integration,
            adopted,
            forwarder.map(|f| f.function.clone()),
            inventory.function.as_ref(),
            |s| &s.tags,
            |spec, tags| spec.tags = tags,
            |spec| &spec.tags,
            |spec, st| function::diff(spec, st, integration),
            Op::CreateFunction,
            Op::UpdateFunction,
            Op::DeleteFunction {
                name: names.function(),
            },
        )
        .map(|step| {
            step.with_create_fields(vec![
                FieldChange::new(
                    "runtime",
                    "",
                    format!(
                        "{} {} MB {} s",
                        function::RUNTIME,
                        function::MEMORY_MB,
                        function::TIMEOUT_SECONDS
                    ),
                ),
                FieldChange::new(
                    "posts to",
                    "",
                    forwarder
                        .and_then(|f| f.function.environment.first())
                        .map(|(_, url)| url.clone())
                        .unwrap_or_default(),
                ),
            ])
        }),
    );

    steps.extend(role_step(
        &names.trail_logs_role(),
        integration,
        adopted,
        trail_logs.map(|t| t.role.clone()),
        inventory.trail_logs_role.as_ref(),
    ));
    steps.extend(log_group_step(
        &names.trail_log_group(),
        integration,
        adopted,
        trail_logs.map(|t| {
            let mut spec = t.log_group.clone();
            if paused {
                spec.filter = None;
            }
            spec
        }),
        inventory.trail_log_group.as_ref(),
    ));

    // Subscriptions: ours are those whose endpoint is our queue or function.
    let topic_ok = steps.iter().any(|s| {
        s.kind == Kind::Topic
            && matches!(
                s.action,
                Action::Create | Action::Update | Action::NoChange | Action::Keep
            )
    });
    for spec in &desired.subscriptions {
        let present = inventory
            .subscriptions
            .iter()
            .any(|o| o.protocol == spec.protocol && o.endpoint == spec.endpoint);
        let step = if present {
            Step::new(
                Kind::Subscription,
                spec.label(),
                Action::NoChange,
                Direction::Build,
            )
        } else if !topic_ok {
            Step::new(
                Kind::Subscription,
                spec.label(),
                Action::Conflict,
                Direction::Build,
            )
            .with_note("needs the topic, which is in conflict")
        } else {
            Step::new(
                Kind::Subscription,
                spec.label(),
                Action::Create,
                Direction::Build,
            )
            .with_op(Op::CreateSubscription(spec.clone()))
            .with_changes(vec![FieldChange::new(
                "raw message delivery",
                "",
                if spec.protocol == "sqs" { "on" } else { "n/a" },
            )])
        };
        steps.push(step);
    }
    remove_our_subscriptions(names, inventory, &desired.subscriptions, steps);
}

/// Remove the topic's subscriptions to our queue or function that are not
/// in `wanted` (every one of them, for `delete`).
fn remove_our_subscriptions(
    names: &Names,
    inventory: &Inventory,
    wanted: &[subscription::Spec],
    steps: &mut Vec<Step>,
) {
    for ours in [names.queue_arn(), names.function_arn()] {
        if wanted.iter().any(|s| s.endpoint == ours) {
            continue;
        }
        let Some(found) = inventory.subscriptions.iter().find(|o| o.endpoint == ours) else {
            continue;
        };
        let spec = subscription::Spec {
            topic_arn: names.topic_arn(),
            protocol: found.protocol.clone(),
            endpoint: ours,
        };
        steps.push(
            Step::new(
                Kind::Subscription,
                spec.label(),
                Action::Delete,
                Direction::TearDown,
            )
            .with_op(Op::DeleteSubscription {
                topic_arn: spec.topic_arn,
                endpoint: spec.endpoint,
            }),
        );
    }
}

/// The delivery resources `delete` removes: subscriptions to our
/// endpoints, then what carries our tag.
fn delivery_teardown(
    names: &Names,
    inventory: &Inventory,
    adopted: Adopted,
    steps: &mut Vec<Step>,
) {
    let integration = names.integration.as_str();
    remove_our_subscriptions(names, inventory, &[], steps);
    let owned = |kind: Kind, tags: &Tags| owned_by(tags, integration) || adopted.contains(&kind);
    let mut remove = |kind: Kind, name: String, tags: Option<&Tags>, op: Op| {
        if let Some(tags) = tags {
            let step = Step::new(kind, &name, Action::Delete, Direction::TearDown);
            steps.push(if owned(kind, tags) {
                step.with_op(op)
            } else {
                Step {
                    action: Action::Keep,
                    ..step
                }
                .with_note(not_owned_note(tags, integration))
            });
        }
    };
    remove(
        Kind::Queue,
        names.queue(),
        inventory.queue.as_ref().map(|s| &s.tags),
        Op::DeleteQueue {
            url: names.queue_url(),
            dlq_url: names.dlq_url(),
        },
    );
    remove(
        Kind::Function,
        names.function(),
        inventory.function.as_ref().map(|s| &s.tags),
        Op::DeleteFunction {
            name: names.function(),
        },
    );
    remove(
        Kind::Parameter,
        names.token_parameter(),
        inventory.token.as_ref().map(|s| &s.tags),
        Op::DeleteParameter {
            name: names.token_parameter(),
        },
    );
    for (name, state) in [
        (names.function_log_group(), &inventory.function_log_group),
        (names.trail_log_group(), &inventory.trail_log_group),
    ] {
        remove(
            Kind::LogGroup,
            name.clone(),
            state.as_ref().map(|s| &s.tags),
            Op::DeleteLogGroup { name },
        );
    }
    for (name, state) in [
        (names.forwarder_role(), &inventory.forwarder_role),
        (names.trail_logs_role(), &inventory.trail_logs_role),
    ] {
        remove(
            Kind::Role,
            name.clone(),
            state.as_ref().map(|s| &s.tags),
            Op::DeleteRole { name },
        );
    }
}

fn collector_of(role: &role::Spec) -> String {
    role.trust["Statement"][0]["Principal"]["AWS"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

impl Step {
    /// For a create, the fields worth showing in the plan.
    fn with_create_fields(mut self, fields: Vec<FieldChange>) -> Self {
        if self.action == Action::Create {
            self.changes = fields;
        }
        self
    }
}

/// The plan that removes what the integration owns.
pub fn delete(names: &Names, inventory: &Inventory, delete_logs: bool, adopted: Adopted) -> Plan {
    let integration = names.integration.as_str();
    let owned = |kind: Kind, tags: &Tags| owned_by(tags, integration) || adopted.contains(&kind);
    let tear = |kind, name: &str, action| Step::new(kind, name, action, Direction::TearDown);
    // Delete what carries our tag; keep, and say why, what does not.
    let delete_if_owned = |kind: Kind, name: String, tags: &Tags, op: Op| {
        if owned(kind, tags) {
            tear(kind, &name, Action::Delete).with_op(op)
        } else {
            tear(kind, &name, Action::Keep).with_note(not_owned_note(tags, integration))
        }
    };
    let mut steps = Vec::new();

    if names.reused.trail.is_some() {
        steps.push(
            tear(Kind::Trail, &names.trail(), Action::Keep)
                .with_note("reused: trailctl never deletes it"),
        );
    } else if let Some(state) = &inventory.trail {
        steps.push(delete_if_owned(
            Kind::Trail,
            names.trail(),
            &state.tags,
            Op::DeleteTrail {
                name: names.trail(),
            },
        ));
    }

    match &inventory.bucket {
        bucket::Observed::Present(state) => {
            // Our notification entries are ours by their Id, whoever owns
            // the bucket.
            let id = names.notification_id();
            if notification::ours(&state.notification, &id)
                .next()
                .is_some()
            {
                steps.push(tear(Kind::Notification, &id, Action::Delete).with_op(
                    Op::SetNotification {
                        bucket: names.bucket.clone(),
                        config: notification::without(&state.notification, &id),
                        previous: state.notification.clone(),
                    },
                ));
            }
            let step = if names.reused.bucket {
                reuse::teardown_step(
                    Kind::Bucket,
                    &names.bucket,
                    PolicyTarget::Bucket(names.bucket.clone()),
                    (state.policy.as_ref(), state.policy_text.as_ref()),
                )
            } else if owned(Kind::Bucket, &state.tags) && !delete_logs {
                tear(Kind::Bucket, &names.bucket, Action::Keep).with_note(
                    "holds the logs and is kept; --delete-logs deletes it and every log in it",
                )
            } else {
                let op = Op::DeleteBucket {
                    name: names.bucket.clone(),
                    empty_first: true,
                };
                let step = delete_if_owned(Kind::Bucket, names.bucket.clone(), &state.tags, op);
                if step.action == Action::Delete {
                    step.with_note("every log file and version in it is deleted too")
                } else {
                    step
                }
            };
            steps.push(step);
        }
        bucket::Observed::Inaccessible(why) => {
            steps.push(tear(Kind::Bucket, &names.bucket, Action::Keep).with_note(why.clone()));
        }
        bucket::Observed::Moved { region } => {
            steps.push(
                tear(Kind::Bucket, &names.bucket, Action::Keep)
                    .with_note(format!("in {region}, and could not be read there")),
            );
        }
        bucket::Observed::Absent => {}
    }

    if let (Some(state), Some(arn)) = (&inventory.topic, &names.reused.topic) {
        steps.push(reuse::teardown_step(
            Kind::Topic,
            &names.topic(),
            PolicyTarget::Topic(arn.clone()),
            (state.policy.as_ref(), state.policy_text.as_ref()),
        ));
    } else if let Some(state) = &inventory.topic {
        steps.push(delete_if_owned(
            Kind::Topic,
            names.topic(),
            &state.tags,
            Op::DeleteTopic {
                arn: names.topic_arn(),
            },
        ));
    }
    if let Some(state) = &inventory.role {
        steps.push(delete_if_owned(
            Kind::Role,
            names.role(),
            &state.tags,
            Op::DeleteRole { name: names.role() },
        ));
    }
    delivery_teardown(names, inventory, adopted, &mut steps);
    Plan::new(steps)
}

#[cfg(test)]
mod tests;
