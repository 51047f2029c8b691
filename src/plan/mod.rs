//! The planner: desired state + current state → an immutable [`Plan`].
//!
//! Pure and deterministic: no I/O, no clock, no randomness. A plan is
//! specific enough that the executor has no choices left: each step carries
//! the operation to run with every value it writes, and the order between
//! steps is data ([`Step::after`]).

use aws_sdk_s3::types::NotificationConfiguration;
use serde::Serialize;

mod pause;

pub use pause::{pause, resume};

use crate::desired::{Desired, Names};
use crate::inventory::Inventory;
use crate::resources::{
    bucket, notification, owned_by, role, topic, trail, FieldChange, Kind, Tags, TAG_KEY,
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
    /// `pause` records itself on the topic; `resume` removes the record.
    TagTopic {
        arn: String,
        tags: Tags,
    },
    UntagTopic {
        arn: String,
        keys: Vec<String>,
    },
    StopLogging {
        name: String,
    },
    StartLogging {
        name: String,
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
            Op::CreateTrail(_) => trail::CREATE_ACTIONS.to_vec(),
            Op::UpdateTrail(_, settings) => settings.iter().map(|s| s.iam_action()).collect(),
            Op::DeleteTrail { .. } => trail::DELETE_ACTIONS.to_vec(),
            Op::SetNotification { .. } => notification::WRITE_ACTIONS.to_vec(),
            Op::TagTopic { .. } => vec!["sns:TagResource"],
            Op::UntagTopic { .. } => vec!["sns:UntagResource"],
            Op::StopLogging { .. } => trail::STOP_ACTIONS.to_vec(),
            Op::StartLogging { .. } => vec!["cloudtrail:StartLogging"],
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

    /// The kinds whose steps must finish before this one starts: CloudTrail
    /// checks the bucket policy at CreateTrail, S3 sends a test event to the
    /// topic at PutBucketNotificationConfiguration; tearing down goes the
    /// other way.
    pub fn after(&self) -> &'static [Kind] {
        match (self.direction, self.kind) {
            (Direction::Build, Kind::Trail) => &[Kind::Bucket],
            (Direction::Build, Kind::Notification) => &[Kind::Bucket, Kind::Topic],
            (Direction::TearDown, Kind::Bucket) => &[Kind::Trail, Kind::Notification],
            (Direction::TearDown, Kind::Topic) => &[Kind::Notification],
            _ => &[],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub steps: Vec<Step>,
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

    /// The longest chain of dependent calls, in round trips: the fewest any
    /// executor needs to apply this plan.
    pub fn critical_path(&self) -> usize {
        fn length(plan: &Plan, step: &Step) -> usize {
            step.op.as_ref().map_or(0, Op::round_trips)
                + step
                    .after()
                    .iter()
                    .filter_map(|k| plan.steps.iter().find(|s| s.kind == *k && s.op.is_some()))
                    .map(|s| length(plan, s))
                    .max()
                    .unwrap_or(0)
        }
        self.steps
            .iter()
            .map(|s| length(self, s))
            .max()
            .unwrap_or(0)
    }

    /// The length of the longest chain of dependent steps: the fewest
    /// rounds any executor needs.
    pub fn dependency_depth(&self) -> usize {
        fn depth(plan: &Plan, step: &Step) -> usize {
            1 + step
                .after()
                .iter()
                .filter_map(|k| plan.steps.iter().find(|s| s.kind == *k && s.op.is_some()))
                .map(|s| depth(plan, s))
                .max()
                .unwrap_or(0)
        }
        self.steps
            .iter()
            .filter(|s| s.op.is_some())
            .map(|s| depth(self, s))
            .max()
            .unwrap_or(0)
    }
}

/// Kinds that an interrupted earlier run of this integration was creating
/// (from the journal): they count as owned even before their tag is on.
pub type Adopted<'a> = &'a [Kind];

fn not_owned_note(tags: &Tags, integration: &str) -> String {
    match tags.iter().find(|(k, _)| k == TAG_KEY) {
        Some((_, other)) => format!("owned by integration `{other}`, not `{integration}`"),
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
        .filter(|(k, _)| k != TAG_KEY)
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

    // Bucket.
    let bucket_step = match &inventory.bucket {
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
    let bucket_usable = matches!(
        bucket_step.action,
        Action::Create | Action::Update | Action::NoChange
    );
    steps.push(bucket_step);

    // Topic.
    let mut topic_spec = desired.topic.clone();
    if let Some(s) = &inventory.topic {
        topic_spec.tags = merged_tags(&topic_spec.tags, &s.tags);
    }
    steps.push(build_step(
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
    ));

    // Role.
    let mut role_spec = desired.role.clone();
    if let Some(s) = &inventory.role {
        role_spec.tags = merged_tags(&role_spec.tags, &s.tags);
    }
    steps.push(
        build_step(
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
        )]),
    );

    // Notification: our entry merged into whatever the bucket has.
    let current_config = match &inventory.bucket {
        bucket::Observed::Present(s) => s.notification.clone(),
        _ => NotificationConfiguration::builder().build(),
    };
    let spec = &desired.notification;
    let pause = inventory.topic.as_ref().and_then(|t| t.pause());
    let paused_without_entry =
        pause.is_some() && notification::find(&current_config, &spec.id).is_none();
    let notification_step = if paused_without_entry {
        Step::new(Kind::Notification, &spec.id, Action::Keep, Direction::Build).with_note(format!(
            "delivery paused since {}: `trailctl resume` restores it",
            pause.as_ref().map(|p| p.since.as_str()).unwrap_or("?")
        ))
    } else if !bucket_usable {
        Step::new(
            Kind::Notification,
            &spec.id,
            Action::Conflict,
            Direction::Build,
        )
        .with_note("needs the log bucket, which is in conflict")
    } else {
        let changes = notification::diff(spec, &current_config);
        let action = match (
            changes.is_empty(),
            notification::find(&current_config, &spec.id),
        ) {
            (true, _) => Action::NoChange,
            (false, None) => Action::Create,
            (false, Some(_)) => Action::Update,
        };
        let step =
            Step::new(Kind::Notification, &spec.id, action, Direction::Build).with_changes(changes);
        match (action, notification::with(&current_config, spec)) {
            (Action::NoChange, _) => step,
            (_, Ok(config)) => step.with_op(Op::SetNotification {
                bucket: spec.bucket.clone(),
                config,
                previous: current_config.clone(),
            }),
            (_, Err(e)) => step.with_note(format!("cannot build the notification entry: {e}")),
        }
    };
    steps.push(notification_step);

    // Trail.
    let mut trail_spec = desired.trail.clone();
    if let Some(s) = &inventory.trail {
        trail_spec.tags = merged_tags(&trail_spec.tags, &s.tags);
    }
    steps.push(
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
        ]),
    );

    Plan { steps }
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

    if let Some(state) = &inventory.trail {
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
            // Our notification entry is ours by its Id, whoever owns the bucket.
            let id = names.notification_id();
            if notification::find(&state.notification, &id).is_some() {
                steps.push(tear(Kind::Notification, &id, Action::Delete).with_op(
                    Op::SetNotification {
                        bucket: names.bucket.clone(),
                        config: notification::without(&state.notification, &id),
                        previous: state.notification.clone(),
                    },
                ));
            }
            let step = if owned(Kind::Bucket, &state.tags) && !delete_logs {
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
        bucket::Observed::Absent => {}
    }

    if let Some(state) = &inventory.topic {
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
    Plan { steps }
}

#[cfg(test)]
mod tests;
