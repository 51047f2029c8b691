//! Planning what an integration reuses (`--existing-trail`,
//! `--existing-bucket`, `--existing-topic`): the reused resource is never
//! created, changed or deleted; only trailctl's own statements are merged
//! into its policy (by `Sid`), and what differs from trailctl's
//! recommendations is reported as a warning.
//!
//! Also the discovery checks of a trail trailctl would create: CloudTrail's
//! limit of trails per region, and a trail that already covers the account.

use serde_json::Value;

use super::{Action, Direction, Op, PolicyTarget, Step};
use crate::desired::{Desired, Names};
use crate::iam::policy;
use crate::inventory::Inventory;
use crate::resources::{bucket, topic, trail, Kind};

/// CloudTrail allows 5 trails per region; a multi-region trail counts in
/// every region.
pub const MAX_TRAILS_PER_REGION: usize = 5;

/// The statements of a policy document.
fn statements(document: &Value) -> Vec<Value> {
    document["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A reused bucket: only our statements in its policy are written; its
/// other settings are reported when weak and left as they are.
pub fn bucket_step(
    names: &Names,
    desired: &Desired,
    inventory: &Inventory,
    warnings: &mut Vec<String>,
) -> Step {
    let step = |action| Step::new(Kind::Bucket, &names.bucket, action, Direction::Build);
    let state = match &inventory.bucket {
        bucket::Observed::Absent => {
            return step(Action::Conflict).with_note(match &names.reused.trail {
                Some(trail) => format!("the reused trail {trail} writes to this bucket, which does not exist"),
                None => "there is no such bucket (--existing-bucket reuses a bucket of this account; leave it out to create one)".into(),
            })
        }
        bucket::Observed::Inaccessible(why) => {
            return step(Action::Conflict).with_note(format!(
                "{why}; a reused bucket must belong to this account (run trailctl in the account that owns it)"
            ))
        }
        bucket::Observed::Moved { region } => {
            return step(Action::Conflict)
                .with_note(format!("the bucket is in {region} and could not be read there"))
        }
        bucket::Observed::Present(state) => state,
    };
    warnings.extend(weak_bucket_settings(&names.bucket, state));
    merge_step(
        step(Action::NoChange),
        "bucket policy",
        (state.policy.as_ref(), state.policy_text.as_ref()),
        &desired.bucket.policy,
        PolicyTarget::Bucket(names.bucket.clone()),
        (
            "reused: trailctl only adds its own policy statements (Sid Trailctl…) and notification entries, and never deletes it",
            "reused: only statements with Sid Trailctl… are written; every other statement is kept exactly as it is",
        ),
    )
}

/// The step that merges `wanted` (our statements) into a shared policy in
/// place (its document and text): kept when ours are already as wanted,
/// else the merged text written, with `notes` (kept, written).
fn merge_step(
    step: Step,
    field: &str,
    (document, text): (Option<&Value>, Option<&String>),
    wanted: &Value,
    target: PolicyTarget,
    (kept_note, written_note): (&str, &str),
) -> Step {
    let changes = policy::statement_changes(field, Some(&policy::our_part(document)), wanted);
    if changes.is_empty() {
        return Step {
            action: Action::Keep,
            ..step
        }
        .with_note(kept_note);
    }
    match policy::merge_ours(text.map(String::as_str), &statements(wanted)) {
        Ok(merged) => Step {
            action: Action::Update,
            ..step
        }
        .with_changes(changes)
        .with_note(written_note)
        .with_op(Op::SetPolicy {
            target,
            text: merged,
            previous: text.cloned(),
        }),
        Err(e) => Step {
            action: Action::Conflict,
            ..step
        }
        .with_note(format!("cannot merge into its policy: {e}")),
    }
}

/// What a reused bucket lacks of the settings trailctl gives its own.
fn weak_bucket_settings(name: &str, state: &bucket::State) -> Vec<String> {
    let mut weak = Vec::new();
    let blocks = state
        .public_access_block
        .map_or(0, |flags| flags.iter().filter(|f| **f).count());
    if blocks < 4 {
        weak.push(format!(
            "Block Public Access is not fully on ({blocks} of 4 settings)"
        ));
    }
    if state.encryption.is_none() {
        weak.push("no default encryption".into());
    }
    if state.versioning.as_deref() != Some("Enabled") {
        weak.push(
            "versioning is off: a deleted or overwritten log file cannot be recovered".into(),
        );
    }
    let denies_plain_http = state
        .policy_text
        .as_deref()
        .is_some_and(|p| p.contains("aws:SecureTransport"));
    if !denies_plain_http {
        weak.push("its policy does not deny requests without TLS (aws:SecureTransport)".into());
    }
    weak.into_iter()
        .map(|w| format!("reused bucket {name}: {w} (trailctl leaves it as it is)"))
        .collect()
}

/// A reused topic: subscriptions are added elsewhere; its policy gets our
/// statement only when it does not already let S3 publish for the bucket.
pub fn topic_step(names: &Names, desired: &Desired, inventory: &Inventory) -> Step {
    let step = |action| Step::new(Kind::Topic, names.topic(), action, Direction::Build);
    let Some(state) = &inventory.topic else {
        return step(Action::Conflict)
            .with_note("there is no such topic in this account (--existing-topic)");
    };
    let topic_region = names
        .topic_arn()
        .split(':')
        .nth(3)
        .unwrap_or_default()
        .to_owned();
    if topic_region != names.delivery_region {
        return step(Action::Conflict).with_note(format!(
            "S3 only notifies a topic in the bucket's own region {}; this topic is in {topic_region}",
            names.delivery_region
        ));
    }
    let reused_note = "reused: trailctl adds its subscriptions (and, only where needed, a policy statement with Sid Trailctl…), and never deletes it";
    if topic::lets_s3_publish(state.policy.as_ref(), &names.bucket_arn())
        && !policy::has_ours(state.policy.as_ref())
    {
        return step(Action::Keep).with_note(format!(
            "{reused_note}; its policy already lets S3 publish for the bucket"
        ));
    }
    merge_step(
        step(Action::NoChange),
        "topic policy",
        (state.policy.as_ref(), state.policy_text.as_ref()),
        &desired.topic.policy,
        PolicyTarget::Topic(names.topic_arn()),
        (reused_note, reused_note),
    )
}

/// A reused trail: kept as it is; what differs from trailctl's
/// recommendations is a warning, an organization mismatch a conflict.
pub fn trail_step(
    names: &Names,
    desired: &Desired,
    inventory: &Inventory,
    warnings: &mut Vec<String>,
) -> Step {
    let step = |action| Step::new(Kind::Trail, names.trail(), action, Direction::Build);
    let Some(state) = &inventory.trail else {
        return step(Action::Conflict).with_note(format!(
            "there is no trail {} (ListTrails lists this account's trails)",
            names.trail_arn()
        ));
    };
    match (desired.trail.organization, state.organization) {
        (true, false) => {
            return step(Action::Conflict)
                .with_note("--org needs an organization trail, and this one is not")
        }
        (false, true) => {
            return step(Action::Conflict).with_note(
                "an organization trail: add --org (its files are under AWSLogs/<org-id>/)",
            )
        }
        _ => {}
    }
    let mut weak = Vec::new();
    if !state.multi_region {
        weak.push("single-region: events of other regions are not logged".to_owned());
    }
    if !state.log_file_validation {
        weak.push(
            "log file validation is off: a changed or deleted log file cannot be detected".into(),
        );
    }
    if !state.global_service_events {
        weak.push("global service events (IAM, STS) are not logged".into());
    }
    if !state.logging {
        weak.push("logging is stopped: no new log files are written".into());
    }
    let management = state.event_selectors.iter().filter(|s| s.management_events);
    match management.clone().map(|s| s.read_write.as_str()).next() {
        None if !state.event_selectors.is_empty() => {
            weak.push("records no management events".into())
        }
        Some("WriteOnly") if management.clone().all(|s| s.read_write == "WriteOnly") => {
            weak.push("records write management events only".into())
        }
        _ => {}
    }
    warnings.extend(weak.into_iter().map(|w| {
        format!(
            "reused trail {}: {w} (trailctl leaves it as it is)",
            names.trail()
        )
    }));
    step(Action::Keep).with_note(format!(
        "reused: trailctl does not change it; its files are under s3://{}/{}",
        names.bucket,
        names.log_prefix()
    ))
}

/// A trail trailctl would create: refused when the home region is full;
/// warned about when another trail already covers the account.
pub fn discovery_checks(
    names: &Names,
    inventory: &Inventory,
    trail_step: Step,
    warnings: &mut Vec<String>,
) -> Step {
    let ours = names.trail_arn();
    let others: Vec<&trail::Found> = inventory.trails.iter().filter(|t| t.arn != ours).collect();
    for t in others.iter().filter(|t| t.covers_account()) {
        warnings.push(format!(
            "trail {} (home region {}) already logs management events in every region; a second trail bills a second copy of them: reuse it with --existing-trail {}",
            t.name, t.home_region, t.arn
        ));
    }
    let here: Vec<&str> = others
        .iter()
        .filter(|t| t.home_region == names.region || t.multi_region == Some(true))
        .map(|t| t.name.as_str())
        .collect();
    if trail_step.action == Action::Create && here.len() >= MAX_TRAILS_PER_REGION {
        return Step {
            action: Action::Conflict,
            op: None,
            changes: Vec::new(),
            ..trail_step
        }
        .with_note(format!(
            "{} already has {} trails ({}); CloudTrail allows {MAX_TRAILS_PER_REGION} per region: reuse one with --existing-trail NAME, or delete one",
            names.region,
            here.len(),
            here.join(", ")
        ));
    }
    trail_step
}

/// `delete` of a reused bucket or topic: take our statements out of its
/// policy and keep it.
pub fn teardown_step(
    kind: Kind,
    name: &str,
    target: PolicyTarget,
    state_policy: (Option<&Value>, Option<&String>),
) -> Step {
    let (document, text) = state_policy;
    let step = |action| Step::new(kind, name, action, Direction::TearDown);
    let kept = "reused: trailctl never deletes it";
    if !policy::has_ours(document) {
        return step(Action::Keep).with_note(kept);
    }
    match policy::merge_ours(text.map(String::as_str), &[]) {
        // A topic always keeps a policy: if ours were all of it, leave it.
        Ok(None) if matches!(target, PolicyTarget::Topic(_)) => step(Action::Keep).with_note(kept),
        Ok(remaining) => step(Action::Update)
            .with_changes(policy::statement_changes(
                &format!("{} policy", kind.label()),
                Some(&policy::our_part(document)),
                &serde_json::json!({"Version": policy::VERSION, "Statement": []}),
            ))
            .with_note(format!("{kept}; only trailctl's statements are removed"))
            .with_op(Op::SetPolicy {
                target,
                text: remaining,
                previous: text.cloned(),
            }),
        Err(e) => step(Action::Keep).with_note(format!("{kept}; its policy cannot be read: {e}")),
    }
}
