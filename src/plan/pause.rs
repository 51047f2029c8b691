//! Planners for `pause` and `resume`: stop and restore delivery to the
//! collector while the trail keeps recording into the bucket.
//!
//! A pause removes trailctl's notification entry (S3 stops announcing new
//! log files) and records itself on the collector role with
//! [`role::PAUSED_AT_TAG`] (and [`role::PAUSED_LOGGING_TAG`] with
//! `--stop-logging`): the role is always the integration's own, where the
//! topic may be a reused one. `resume` puts the entry back exactly as
//! `setup` writes it, restarts logging, and removes the record; the command
//! then replays what was written since.

use aws_sdk_s3::types::NotificationConfiguration;

use super::{Action, Direction, Op, Plan, Step};
use crate::desired::{self, Names};
use crate::inventory::Inventory;
use crate::resources::{bucket, log_group, notification, owned_by, role, FieldChange, Kind};

fn current_notification(inventory: &Inventory) -> Option<&NotificationConfiguration> {
    match &inventory.bucket {
        bucket::Observed::Present(s) => Some(&s.notification),
        _ => None,
    }
}

/// The conflict when the integration is not there to pause or resume.
fn missing_integration(names: &Names, inventory: &Inventory) -> Option<Step> {
    let integration = names.integration.as_str();
    let conflict = |kind, name: String, why: String| {
        Some(Step::new(kind, name, Action::Conflict, Direction::Build).with_note(why))
    };
    match &inventory.role {
        None => {
            return conflict(
                Kind::Role,
                names.role(),
                "there is no collector role: run `trailctl setup` first".into(),
            )
        }
        Some(r) if !owned_by(&r.tags, integration) => {
            return conflict(
                Kind::Role,
                names.role(),
                format!("the collector role is not owned by integration `{integration}`"),
            )
        }
        Some(_) => {}
    }
    if inventory.topic.is_none() {
        return conflict(
            Kind::Topic,
            names.topic(),
            "the topic is missing: run `trailctl setup` to repair".into(),
        );
    }
    if current_notification(inventory).is_none() {
        return conflict(
            Kind::Bucket,
            names.bucket.clone(),
            "the log bucket is missing: run `trailctl setup` to repair".into(),
        );
    }
    None
}

fn owned_trail(names: &Names, inventory: &Inventory) -> Option<bool> {
    inventory
        .trail
        .as_ref()
        .filter(|t| owned_by(&t.tags, names.integration.as_str()))
        .map(|t| t.logging)
}

/// With `--cloudwatch-logs`, the trail's log group (ours) and whether its
/// subscription to the forwarder is on.
fn trail_log_group(names: &Names, inventory: &Inventory) -> Option<bool> {
    let filter = names.base();
    inventory
        .trail_log_group
        .as_ref()
        .filter(|g| owned_by(&g.tags, names.integration.as_str()))
        .map(|g| g.filters.iter().any(|f| f.name == filter))
}

/// The trail log group's step that stops or restores its feed to the
/// forwarder: `(from, to)` as the plan shows the filter.
fn forwarder_feed_step(names: &Names, (from, to): (&str, &str), op: Op) -> Step {
    Step::new(
        Kind::LogGroup,
        names.trail_log_group(),
        Action::Update,
        Direction::Build,
    )
    .with_changes(vec![FieldChange::new("subscription filter", from, to)])
    .with_op(op)
}

/// Stop delivery; with `stop_logging`, also stop the owned trail. `now` is
/// the pause time to record (RFC 3339).
pub fn pause(names: &Names, inventory: &Inventory, stop_logging: bool, now: &str) -> Plan {
    if let Some(step) = missing_integration(names, inventory) {
        return Plan::new(vec![step]);
    }
    let mut steps = Vec::new();
    let id = names.notification_id();
    let config = current_notification(inventory)
        .cloned()
        .unwrap_or_else(|| NotificationConfiguration::builder().build());
    // One entry is removed; per-account entries are parked, so the
    // selection stays on the bucket for `resume`.
    let paused = notification::parked(&config, &id);
    let changes: Vec<FieldChange> = notification::ours(&config, &id)
        .filter(|t| notification::find(&paused, t.id().unwrap_or_default()) != Some(*t))
        .map(|t| {
            let entry = t.id().unwrap_or_default();
            let to = if entry == id {
                "(removed while paused)".to_owned()
            } else {
                format!(
                    "(parked under {} while paused)",
                    notification::PAUSED_PREFIX
                )
            };
            FieldChange::new(format!("entry {entry}"), "present", to)
        })
        .collect();
    steps.push(if changes.is_empty() {
        Step::new(Kind::Notification, &id, Action::NoChange, Direction::Build)
    } else {
        Step::new(Kind::Notification, &id, Action::Update, Direction::Build)
            .with_changes(changes)
            .with_op(Op::SetNotification {
                bucket: names.bucket.clone(),
                config: paused,
                previous: config.clone(),
            })
    });

    // The forwarder fed by CloudWatch Logs stops with its filter.
    if trail_log_group(names, inventory) == Some(true) {
        steps.push(forwarder_feed_step(
            names,
            ("to the forwarder", "(removed while paused)"),
            Op::RemoveLogGroupFilter {
                group: names.trail_log_group(),
                filter: names.base(),
            },
        ));
    }

    let recorded = inventory.pause(names.integration.as_str());
    let logging = owned_trail(names, inventory);
    let will_stop = stop_logging && logging == Some(true);
    let mut tags = Vec::new();
    if recorded.is_none() {
        tags.push((role::PAUSED_AT_TAG.to_owned(), now.to_owned()));
    }
    if will_stop && !recorded.as_ref().is_some_and(|p| p.stopped_logging) {
        tags.push((role::PAUSED_LOGGING_TAG.to_owned(), "true".to_owned()));
    }
    let role_step = Step::new(Kind::Role, names.role(), Action::NoChange, Direction::Build);
    steps.push(if tags.is_empty() {
        match &recorded {
            Some(p) => role_step.with_note(format!("paused since {}", p.since)),
            None => role_step,
        }
    } else {
        let changes = tags
            .iter()
            .map(|(k, v)| FieldChange::new(format!("tag {k}"), "(none)", v.clone()))
            .collect();
        Step {
            action: Action::Update,
            ..role_step
        }
        .with_changes(changes)
        .with_op(Op::TagRole {
            name: names.role(),
            tags,
        })
    });

    if stop_logging {
        let trail = Step::new(
            Kind::Trail,
            names.trail(),
            Action::NoChange,
            Direction::Build,
        );
        steps.push(match logging {
            Some(true) => Step {
                action: Action::Update,
                ..trail
            }
            .with_changes(vec![FieldChange::new("logging", "on", "off")])
            .with_op(Op::StopLogging {
                name: names.trail(),
            }),
            Some(false) => trail,
            None => Step {
                action: Action::Keep,
                ..trail
            }
            .with_note("not a trail this integration owns: logging is left as it is"),
        });
    }
    Plan::new(steps)
}

/// Restore delivery exactly as `setup` leaves it.
pub fn resume(names: &Names, wanted: &notification::Spec, inventory: &Inventory) -> Plan {
    if let Some(step) = missing_integration(names, inventory) {
        return Plan::new(vec![step]);
    }
    let mut steps = Vec::new();
    let config = current_notification(inventory)
        .cloned()
        .unwrap_or_else(|| NotificationConfiguration::builder().build());
    let changes = notification::diff(wanted, &config);
    steps.push(if changes.is_empty() {
        Step::new(
            Kind::Notification,
            &wanted.id,
            Action::NoChange,
            Direction::Build,
        )
    } else {
        let step = Step::new(
            Kind::Notification,
            &wanted.id,
            Action::Update,
            Direction::Build,
        )
        .with_changes(changes);
        match notification::with(&config, wanted) {
            Ok(with) => step.with_op(Op::SetNotification {
                bucket: wanted.bucket.clone(),
                config: with,
                previous: config.clone(),
            }),
            Err(e) => Step {
                action: Action::Conflict,
                ..step
            }
            .with_note(format!("cannot build the notification entry: {e}")),
        }
    });

    let role_step = Step::new(Kind::Role, names.role(), Action::NoChange, Direction::Build);
    let recorded_keys = inventory
        .role
        .as_ref()
        .map(role::State::pause_keys)
        .unwrap_or_default();
    steps.push(if recorded_keys.is_empty() {
        role_step
    } else {
        let changes = recorded_keys
            .iter()
            .map(|k| FieldChange::new(format!("tag {k}"), "set", "(none)"))
            .collect();
        Step {
            action: Action::Update,
            ..role_step
        }
        .with_changes(changes)
        .with_op(Op::UntagRole {
            name: names.role(),
            keys: recorded_keys,
        })
    });

    if trail_log_group(names, inventory) == Some(false) && inventory.function.is_some() {
        let spec = desired::trail_logs(names).log_group;
        steps.push(forwarder_feed_step(
            names,
            ("(none)", "to the forwarder"),
            Op::UpdateLogGroup(spec, vec![log_group::Setting::Filter]),
        ));
    }

    if owned_trail(names, inventory) == Some(false) {
        steps.push(
            Step::new(Kind::Trail, names.trail(), Action::Update, Direction::Build)
                .with_changes(vec![FieldChange::new("logging", "off", "on")])
                .with_op(Op::StartLogging {
                    name: names.trail(),
                }),
        );
    }
    Plan::new(steps)
}
