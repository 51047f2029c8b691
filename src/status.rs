//! `status`'s verdict — active, paused, disconnected or deleted — and every
//! check behind it, from what was read. Pure: no I/O, no clock.
//!
//! Drift is what `setup` would change: the setup planner runs against the
//! options the account reflects now ([`crate::desired::settings_in_place`]),
//! and each step that is not "no change" becomes a failed check, field by
//! field.

use serde::Serialize;

use crate::desired::{Desired, Names};
use crate::inventory::Inventory;
use crate::plan::{self, Action};
use crate::resources::{bucket, role, Kind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Active,
    Paused,
    Disconnected,
    Deleted,
}

impl Verdict {
    /// The exit code that tells the verdict to scripts.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Active => 0,
            Verdict::Paused => 10,
            Verdict::Disconnected => 11,
            Verdict::Deleted => 12,
        }
    }
}

/// One fact behind the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// What to do about a failed check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn failed(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub verdict: Verdict,
    /// One line for people, e.g. "active, waiting for first delivery".
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_since: Option<role::Pause>,
    pub checks: Vec<Check>,
    /// Organization integrations: each collected account's newest log file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountSeen>,
}

/// One collected account of an organization, as `status` found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSeen {
    pub id: String,
    pub name: Option<String>,
    /// False for a selected ID that has left the organization.
    pub in_organization: bool,
    /// The newest log file of the home region from the last day (RFC 3339).
    pub latest_log_object: Option<String>,
}

/// What was read besides the inventory.
#[derive(Debug, Clone, Default)]
pub struct Observations {
    /// The newest log file under the home region's recent date prefixes
    /// (RFC 3339), if any.
    pub latest_log_object: Option<String>,
    /// 24 hours before now (RFC 3339): a trail that started logging after
    /// this is new enough to have delivered nothing yet.
    pub day_ago: String,
    /// Organization integrations: each collected account.
    pub accounts: Vec<AccountSeen>,
}

const REPAIR: &str = "run `trailctl setup` to repair";

fn resource_check(step: &plan::Step) -> Check {
    let name = format!("{} {}", step.kind.label(), step.name);
    match step.action {
        Action::NoChange => Check::ok(name, "present and as planned"),
        Action::Keep => Check::ok(name, step.note.clone().unwrap_or_default()),
        Action::Create => Check::failed(
            name,
            "missing",
            format!("{REPAIR} (it recreates what is missing)"),
        ),
        Action::Conflict => Check::failed(
            name,
            step.note.clone().unwrap_or_else(|| "in conflict".into()),
            "trailctl does not change what it does not own; resolve it, then run `trailctl setup`",
        ),
        Action::Update | Action::Delete => {
            let detail = step
                .changes
                .iter()
                .map(|c| format!("{}: {} (should be {})", c.field, c.from, c.to))
                .collect::<Vec<_>>()
                .join("; ");
            let fix = match step.kind {
                Kind::Role => format!("the collector role was changed out of band; {REPAIR}"),
                Kind::Bucket => format!("the bucket was changed out of band; {REPAIR}"),
                _ => REPAIR.to_owned(),
            };
            Check::failed(name, detail, fix)
        }
    }
}

/// Judge the integration.
pub fn assess(
    names: &Names,
    desired: &Desired,
    inventory: &Inventory,
    seen: &Observations,
) -> Status {
    let integration = names.integration.as_str();
    let owned = |tags: &crate::resources::Tags| crate::resources::owned_by(tags, integration);
    let pause = inventory.pause(integration);
    let bucket_state = match &inventory.bucket {
        bucket::Observed::Present(s) => Some(s.as_ref()),
        _ => None,
    };
    let has_entry = bucket_state.is_some_and(|b| {
        crate::resources::notification::find(&b.notification, &names.notification_id()).is_some()
    });

    // Deleted: nothing of the integration is left but, perhaps, the bucket.
    if inventory.topic.is_none()
        && inventory.role.is_none()
        && inventory.trail.as_ref().is_none_or(|t| !owned(&t.tags))
        && !has_entry
    {
        let retained = bucket_state.filter(|b| owned(&b.tags)).map(|_| {
            Check::ok(
                format!("bucket {}", names.bucket),
                "retained with its logs (`trailctl delete --delete-logs` removes it)",
            )
        });
        let summary = match &retained {
            Some(_) => format!("deleted; the log bucket {} is retained", names.bucket),
            None => "deleted".to_owned(),
        };
        return Status {
            verdict: Verdict::Deleted,
            summary,
            paused_since: None,
            checks: retained.into_iter().collect(),
            accounts: Vec::new(),
        };
    }

    let plan = plan::setup(names, desired, inventory, &[]);
    let mut checks: Vec<Check> = Vec::new();
    for step in &plan.steps {
        let mut step = step.clone();
        // Logging has a check of its own below.
        if step.kind == Kind::Trail && step.action == Action::Update {
            step.changes.retain(|c| c.field != "logging");
            if step.changes.is_empty() {
                step.action = Action::NoChange;
            }
        }
        // The planner will not touch the entry of a bucket in conflict, but
        // status can still tell whether the entry is there.
        if step.kind == Kind::Notification && step.action == Action::Conflict {
            if let Some(state) = bucket_state {
                let changes = crate::resources::notification::diff(
                    &desired.notification,
                    &state.notification,
                );
                step.action = if changes.is_empty() {
                    Action::NoChange
                } else {
                    Action::Update
                };
                step.changes = changes;
            }
        }
        checks.push(resource_check(&step));
    }

    if let Some(state) = bucket_state {
        let region = state.region.as_deref().unwrap_or("?");
        checks.push(if region == names.region {
            Check::ok("bucket region", format!("{region}, the home region"))
        } else {
            Check::failed(
                "bucket region",
                format!(
                    "the bucket is in {region}, not in the home region {}: collectors reading it through {} get HTTP 301 errors",
                    names.region, names.region
                ),
                "re-create the integration with the bucket's region as --region, or another --bucket-name",
            )
        });
    }

    let mut waiting = false;
    if let Some(trail) = inventory.trail.as_ref().filter(|t| owned(&t.tags)) {
        let stopped_by_pause = pause.as_ref().is_some_and(|p| p.stopped_logging);
        checks.push(match (trail.logging, stopped_by_pause) {
            (true, _) => Check::ok("trail logging", "on"),
            (false, true) => Check::ok("trail logging", "off: stopped by `pause --stop-logging`"),
            (false, false) => Check::failed(
                "trail logging",
                "off: logging was stopped out of band, nothing is recorded",
                REPAIR,
            ),
        });
        let delivery = &trail.delivery;
        if let Some(error) = &delivery.latest_delivery_error {
            checks.push(Check::failed(
                "log delivery",
                format!("CloudTrail cannot write to the bucket: {error}"),
                format!("the bucket policy or the KMS key policy refuses CloudTrail; {REPAIR}"),
            ));
        }
        if let Some(error) = &delivery.latest_notification_error {
            checks.push(Check::failed(
                "trail notification",
                format!("CloudTrail reports a notification error: {error}"),
                REPAIR,
            ));
        }
        checks.push(Check::ok(
            "log delivery",
            match &delivery.latest_delivery_time {
                Some(time) => format!("CloudTrail last delivered at {time}"),
                None => "CloudTrail has not delivered a log file yet".to_owned(),
            },
        ));
        let new_trail = delivery
            .start_logging_time
            .as_deref()
            .is_none_or(|started| started > seen.day_ago.as_str());
        checks.push(match (&seen.latest_log_object, trail.logging, new_trail) {
            (Some(time), _, _) => {
                Check::ok("recent logs", format!("latest log file written at {time}"))
            }
            (None, true, true) => {
                waiting = true;
                Check::ok(
                    "recent logs",
                    "no logs delivered yet — CloudTrail delivers about every 5 minutes",
                )
            }
            (None, false, _) => Check::ok("recent logs", "none in the last day (logging is off)"),
            (None, true, false) => Check::failed(
                "recent logs",
                "no log file in the bucket from the last day although the trail is logging",
                "check `log delivery` above and the bucket policy; run `trailctl setup` to repair",
            ),
        });
    }

    if !seen.accounts.is_empty() {
        let gone: Vec<&str> = seen
            .accounts
            .iter()
            .filter(|a| !a.in_organization)
            .map(|a| a.id.as_str())
            .collect();
        let fresh = seen
            .accounts
            .iter()
            .filter(|a| a.latest_log_object.is_some())
            .count();
        let detail = format!(
            "{fresh} of {} collected accounts have a log file from the last day",
            seen.accounts.len()
        );
        checks.push(if gone.is_empty() {
            Check::ok("collected accounts", detail)
        } else {
            Check::failed(
                "collected accounts",
                format!(
                    "{detail}; selected but no longer in the organization: {}",
                    gone.join(", ")
                ),
                "`trailctl accounts remove` them",
            )
        });
    }

    let failed = checks.iter().any(|c| !c.ok);
    let (verdict, summary) = match (failed, &pause) {
        (true, _) => (
            Verdict::Disconnected,
            format!(
                "disconnected: {}",
                checks
                    .iter()
                    .filter(|c| !c.ok)
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (false, Some(p)) => (
            Verdict::Paused,
            format!(
                "paused since {} (`trailctl resume` restores delivery)",
                p.since
            ),
        ),
        (false, None) if waiting => (
            Verdict::Active,
            "active, waiting for first delivery".to_owned(),
        ),
        (false, None) => (Verdict::Active, "active".to_owned()),
    };
    Status {
        verdict,
        summary,
        paused_since: pause,
        checks,
        accounts: seen.accounts.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::desired;
    use crate::resources::{bucket, notification};
    use crate::testing::{converged, names, settings};

    fn seen(latest: Option<&str>) -> Observations {
        Observations {
            latest_log_object: latest.map(str::to_owned),
            day_ago: "2026-11-23T12:00:00Z".into(),
            accounts: Vec::new(),
        }
    }

    fn bucket_state(inv: &mut Inventory) -> &mut bucket::State {
        match &mut inv.bucket {
            bucket::Observed::Present(state) => state,
            _ => unreachable!(),
        }
    }

    type Edit = fn(&mut Inventory);
    /// (what, edit, newest log file, verdict, summary, failed checks)
    type Case = (
        &'static str,
        Edit,
        Option<&'static str>,
        Verdict,
        &'static str,
        Vec<&'static str>,
    );

    #[test]
    fn verdicts_and_the_failed_checks_behind_them() {
        let cases: Vec<Case> = vec![
            (
                "converged, new",
                |_| {},
                None,
                Verdict::Active,
                "active, waiting for first delivery",
                vec![],
            ),
            (
                "converged, delivering",
                |_| {},
                Some("2026-11-24T11:55:00Z"),
                Verdict::Active,
                "active",
                vec![],
            ),
            (
                "old trail, no recent logs",
                |inv| {
                    inv.trail.as_mut().unwrap().delivery.start_logging_time =
                        Some("2026-01-01T00:00:00Z".into())
                },
                None,
                Verdict::Disconnected,
                "disconnected: recent logs",
                vec!["recent logs"],
            ),
            (
                "delivery error",
                |inv| {
                    inv.trail.as_mut().unwrap().delivery.latest_delivery_error =
                        Some("AccessDenied".into())
                },
                Some("2026-11-24T11:55:00Z"),
                Verdict::Disconnected,
                "disconnected: log delivery",
                vec!["log delivery"],
            ),
            (
                "versioning suspended",
                |inv| bucket_state(inv).versioning = Some("Suspended".into()),
                None,
                Verdict::Disconnected,
                "disconnected: bucket trailctl-default-123456789012-us-east-1",
                vec!["bucket trailctl-default-123456789012-us-east-1"],
            ),
            (
                "bucket in another region",
                |inv| bucket_state(inv).region = Some("eu-west-1".into()),
                None,
                Verdict::Disconnected,
                "disconnected: bucket trailctl-default-123456789012-us-east-1, bucket region",
                vec![
                    "bucket trailctl-default-123456789012-us-east-1",
                    "bucket region",
                ],
            ),
            (
                "log validation off",
                |inv| inv.trail.as_mut().unwrap().log_file_validation = false,
                None,
                Verdict::Disconnected,
                "disconnected: trail trailctl-default",
                vec!["trail trailctl-default"],
            ),
            (
                "paused",
                |inv| {
                    let state = bucket_state(inv);
                    state.notification =
                        notification::without(&state.notification, "trailctl-default");
                    inv.role.as_mut().unwrap().tags.push((
                        crate::resources::role::PAUSED_AT_TAG.into(),
                        "2026-11-24T10:00:00Z".into(),
                    ));
                },
                None,
                Verdict::Paused,
                "paused since 2026-11-24T10:00:00Z (`trailctl resume` restores delivery)",
                vec![],
            ),
            (
                "deleted, bucket kept",
                |inv| {
                    let state = bucket_state(inv);
                    state.notification =
                        notification::without(&state.notification, "trailctl-default");
                    inv.topic = None;
                    inv.role = None;
                    inv.trail = None;
                },
                None,
                Verdict::Deleted,
                "deleted; the log bucket trailctl-default-123456789012-us-east-1 is retained",
                vec![],
            ),
        ];
        for (what, edit, latest, verdict, summary, failed) in cases {
            let desired = desired(&names(), &settings(), "ext".into());
            let mut inv = converged(&desired);
            edit(&mut inv);
            let status = assess(&names(), &desired, &inv, &seen(latest));
            assert_eq!(status.verdict, verdict, "{what}: {status:#?}");
            assert_eq!(status.summary, summary, "{what}");
            let names: Vec<&str> = status
                .checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| c.name.as_str())
                .collect();
            assert_eq!(names, failed, "{what}");
            assert!(
                status.checks.iter().all(|c| c.ok == c.fix.is_none()),
                "{what}: every failed check says what to do"
            );
        }
    }

    #[test]
    fn the_options_in_place_are_read_back_not_reported_as_drift() {
        let mut options = settings();
        options.retention_days = 90;
        options.write_only = true;
        options.exclude_kms_events = true;
        let desired = desired(&names(), &options, "ext-123".into());
        let mut inv = converged(&desired);
        let trail = inv.trail.as_mut().unwrap();
        trail.event_selectors[0].read_write = "WriteOnly".into();
        trail.event_selectors[0].excluded_sources = vec!["kms.amazonaws.com".into()];
        let (read_back, external_id) = crate::desired::settings_in_place(&names(), &inv);
        assert_eq!(read_back.retention_days, 90);
        assert!(read_back.write_only && read_back.exclude_kms_events);
        assert_eq!(read_back.collector_account.as_str(), "111122223333");
        assert_eq!(external_id, "ext-123");
        let status = assess(&names(), &desired, &inv, &seen(None));
        assert_eq!(status.verdict, Verdict::Active, "{status:#?}");
    }
}
