//! Table-driven tests of the planner: synthetic current state in, plan out.

use super::*;
use crate::desired::desired;
use crate::resources::bucket;
use crate::settings::{AccountId, SetupSettings};
use aws_sdk_s3::types::{NotificationConfiguration, TopicConfiguration};

use crate::testing::{converged, names, settings};

fn bucket_state(inv: &mut Inventory) -> &mut bucket::State {
    match &mut inv.bucket {
        bucket::Observed::Present(state) => state,
        _ => unreachable!(),
    }
}

type Edit = fn(&mut SetupSettings, &mut Inventory);

/// (what, edit, adopted kinds, expected steps other than "no change")
type SetupCase = (
    &'static str,
    Edit,
    Vec<Kind>,
    Vec<(Kind, Action, Vec<&'static str>)>,
);

fn setup_cases() -> Vec<SetupCase> {
    vec![
        ("converged", |_, _| {}, vec![], vec![]),
        (
            "empty account",
            |_, inv| {
                inv.bucket = bucket::Observed::Absent;
                inv.topic = None;
                inv.role = None;
                inv.trail = None;
            },
            vec![],
            vec![
                (
                    Kind::Bucket,
                    Action::Create,
                    vec!["region", "retention", "encryption"],
                ),
                (Kind::Topic, Action::Create, vec![]),
                (Kind::Role, Action::Create, vec!["trusted account"]),
                (
                    Kind::Notification,
                    Action::Create,
                    vec!["entry trailctl-default"],
                ),
                (
                    Kind::Trail,
                    Action::Create,
                    vec![
                        "management events",
                        "multi-region, global events, log file validation",
                    ],
                ),
            ],
        ),
        (
            "retention changed",
            |s, _| s.retention_days = 30,
            vec![],
            vec![(Kind::Bucket, Action::Update, vec!["lifecycle"])],
        ),
        (
            "versioning suspended",
            |_, inv| bucket_state(inv).versioning = Some("Suspended".into()),
            vec![],
            vec![(Kind::Bucket, Action::Update, vec!["versioning"])],
        ),
        (
            "public access block partly off",
            |_, inv| bucket_state(inv).public_access_block = Some([true, true, false, true]),
            vec![],
            vec![(Kind::Bucket, Action::Update, vec!["public access block"])],
        ),
        (
            "kms key added",
            |s, _| s.kms_key = Some("arn:aws:kms:us-east-1:123456789012:key/k".into()),
            vec![],
            vec![
                (Kind::Bucket, Action::Update, vec!["default encryption"]),
                (
                    Kind::Role,
                    Action::Update,
                    vec!["inline policy trailctl-read-logs: statement TrailctlDecryptLogObjects"],
                ),
            ],
        ),
        (
            "TLS-only statement removed",
            |_, inv| {
                let state = bucket_state(inv);
                let policy = state.policy.as_mut().unwrap();
                policy["Statement"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|s| s["Sid"] != "TrailctlDenyInsecureTransport");
            },
            vec![],
            vec![(
                Kind::Bucket,
                Action::Update,
                vec!["bucket policy: statement TrailctlDenyInsecureTransport"],
            )],
        ),
        (
            "logging stopped and validation off",
            |_, inv| {
                let t = inv.trail.as_mut().unwrap();
                t.logging = false;
                t.log_file_validation = false;
            },
            vec![],
            vec![(
                Kind::Trail,
                Action::Update,
                vec!["log file validation", "logging"],
            )],
        ),
        (
            "write-only asked",
            |s, _| s.write_only = true,
            vec![],
            vec![(Kind::Trail, Action::Update, vec!["event selectors"])],
        ),
        (
            "admin policy attached to the collector role",
            |_, inv| {
                inv.role.as_mut().unwrap().attached =
                    vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()]
            },
            vec![],
            vec![(Kind::Role, Action::Update, vec!["other policies"])],
        ),
        (
            "collector account changed",
            |s, _| s.collector_account = AccountId::parse("x", "999988887777").unwrap(),
            vec![],
            vec![(
                Kind::Role,
                Action::Update,
                vec!["trust policy: statement TrailctlCollectorAssume"],
            )],
        ),
        (
            "untagged bucket with our name",
            |_, inv| bucket_state(inv).tags.clear(),
            vec![],
            vec![
                (Kind::Bucket, Action::Conflict, vec![]),
                (Kind::Notification, Action::Conflict, vec![]),
            ],
        ),
        (
            "untagged bucket an interrupted run created",
            |_, inv| bucket_state(inv).tags.clear(),
            vec![Kind::Bucket],
            vec![(Kind::Bucket, Action::Update, vec!["tags"])],
        ),
        (
            "topic of another integration",
            |_, inv| inv.topic.as_mut().unwrap().tags = vec![(TAG_KEY.into(), "other".into())],
            vec![],
            vec![(Kind::Topic, Action::Conflict, vec![])],
        ),
        (
            "bucket in another region",
            |_, inv| bucket_state(inv).region = Some("eu-west-1".into()),
            vec![],
            vec![
                (Kind::Bucket, Action::Conflict, vec![]),
                (Kind::Notification, Action::Conflict, vec![]),
            ],
        ),
        (
            "notification entry missing",
            |_, inv| bucket_state(inv).notification = NotificationConfiguration::builder().build(),
            vec![],
            vec![(
                Kind::Notification,
                Action::Create,
                vec!["entry trailctl-default"],
            )],
        ),
    ]
}

#[test]
fn setup_plans() {
    for (what, edit, adopted, expected) in setup_cases() {
        let mut settings = settings();
        let mut inventory = converged(&desired(&names(), &settings, "ext".into()));
        edit(&mut settings, &mut inventory);
        let desired = desired(&names(), &settings, "ext".into());
        let plan = setup(&names(), &desired, &inventory, &adopted);
        let got: Vec<(Kind, Action, Vec<&str>)> = plan
            .steps
            .iter()
            .filter(|s| s.action != Action::NoChange)
            .map(|s| {
                (
                    s.kind,
                    s.action,
                    s.changes.iter().map(|c| c.field.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(got, expected, "{what}");
        assert_eq!(
            plan.is_empty(),
            expected.iter().all(|(_, a, _)| *a == Action::Conflict),
            "{what}"
        );
    }
}

#[test]
fn a_new_notification_entry_keeps_the_other_entries() {
    let desired = desired(&names(), &settings(), "ext".into());
    let mut inventory = converged(&desired);
    let other = TopicConfiguration::builder()
        .id("other-tool")
        .topic_arn("arn:aws:sns:us-east-1:123456789012:other")
        .events("s3:ObjectRemoved:*".into())
        .build()
        .unwrap();
    bucket_state(&mut inventory).notification = NotificationConfiguration::builder()
        .topic_configurations(other)
        .build();
    let plan = setup(&names(), &desired, &inventory, &[]);
    let step = plan
        .steps
        .iter()
        .find(|s| s.kind == Kind::Notification)
        .unwrap();
    let Some(Op::SetNotification {
        config, previous, ..
    }) = &step.op
    else {
        panic!("{step:?}")
    };
    let ids: Vec<_> = config
        .topic_configurations()
        .iter()
        .filter_map(|t| t.id())
        .collect();
    assert_eq!(ids, ["other-tool", "trailctl-default"]);
    // Undo puts back exactly what was there.
    let Some(Op::SetNotification { config: undone, .. }) = step.op.as_ref().unwrap().undo() else {
        panic!()
    };
    assert_eq!(&undone, previous);
}

#[test]
fn delete_plans() {
    let desired = desired(&names(), &settings(), "ext".into());
    type DeleteCase = (&'static str, fn(&mut Inventory), bool, Vec<(Kind, Action)>);
    let cases: Vec<DeleteCase> = vec![
        (
            "keeps the bucket by default",
            |_| {},
            false,
            vec![
                (Kind::Trail, Action::Delete),
                (Kind::Notification, Action::Delete),
                (Kind::Bucket, Action::Keep),
                (Kind::Topic, Action::Delete),
                (Kind::Role, Action::Delete),
            ],
        ),
        (
            "--delete-logs",
            |_| {},
            true,
            vec![
                (Kind::Trail, Action::Delete),
                (Kind::Notification, Action::Delete),
                (Kind::Bucket, Action::Delete),
                (Kind::Topic, Action::Delete),
                (Kind::Role, Action::Delete),
            ],
        ),
        (
            "nothing owned: only our notification entry goes",
            |inv| {
                bucket_state(inv).tags.clear();
                inv.topic.as_mut().unwrap().tags.clear();
                inv.role.as_mut().unwrap().tags.clear();
                inv.trail.as_mut().unwrap().tags.clear();
            },
            true,
            vec![
                (Kind::Trail, Action::Keep),
                (Kind::Notification, Action::Delete),
                (Kind::Bucket, Action::Keep),
                (Kind::Topic, Action::Keep),
                (Kind::Role, Action::Keep),
            ],
        ),
        (
            "already gone",
            |inv| {
                inv.bucket = bucket::Observed::Absent;
                inv.topic = None;
                inv.role = None;
                inv.trail = None;
            },
            true,
            vec![],
        ),
    ];
    for (what, edit, delete_logs, expected) in cases {
        let mut inventory = converged(&desired);
        edit(&mut inventory);
        let plan = delete(&names(), &inventory, delete_logs, &[]);
        let got: Vec<_> = plan.steps.iter().map(|s| (s.kind, s.action)).collect();
        assert_eq!(got, expected, "{what}");
    }
}

#[test]
fn dependency_order_is_data() {
    let desired = desired(&names(), &settings(), "ext".into());
    let empty = Inventory::default();
    let build = setup(&names(), &desired, &empty, &[]);
    let after = |plan: &Plan, kind| {
        plan.steps
            .iter()
            .find(|s| s.kind == kind)
            .unwrap()
            .after()
            .to_vec()
    };
    assert_eq!(after(&build, Kind::Trail), [Kind::Bucket]);
    assert_eq!(
        after(&build, Kind::Notification),
        [Kind::Bucket, Kind::Topic]
    );
    assert!(after(&build, Kind::Role).is_empty());
    assert_eq!(build.dependency_depth(), 2);

    let teardown = delete(&names(), &converged(&desired), true, &[]);
    assert_eq!(
        after(&teardown, Kind::Bucket),
        [Kind::Trail, Kind::Notification]
    );
    assert_eq!(
        after(&teardown, Kind::Topic),
        [Kind::Notification, Kind::Subscription]
    );
    assert_eq!(teardown.dependency_depth(), 2);
}

#[test]
fn creates_are_undone_and_the_plan_lists_its_iam_actions() {
    let desired = desired(&names(), &settings(), "ext".into());
    let empty = Inventory::default();
    let plan = setup(&names(), &desired, &empty, &[]);
    for step in &plan.steps {
        assert!(
            step.op.as_ref().unwrap().undo().is_some(),
            "{:?} has no undo",
            step.kind
        );
    }
    let actions = plan.iam_actions();
    for needed in [
        "s3:CreateBucket",
        "cloudtrail:StartLogging",
        "iam:CreateRole",
        "s3:DeleteBucket",
        "iam:GetRole",
    ] {
        assert!(
            actions.contains(&needed),
            "{needed} missing from {actions:?}"
        );
    }
    assert!(
        !actions.contains(&"iam:UpdateAssumeRolePolicy"),
        "a create plan updates nothing"
    );
    // CreateBucket, its settings, CreateTrail, then selectors and logging.
    assert_eq!(plan.critical_path(), 4);
    assert_eq!(
        delete(&names(), &converged(&desired), true, &[]).critical_path(),
        // DeleteTrail, then the bucket: lift policy, list, delete, delete.
        5
    );
}

/// The converged account, paused: entry removed, pause recorded.
fn paused(stopped_logging: bool) -> (Desired, Inventory) {
    let desired = desired(&names(), &settings(), "ext".into());
    let mut inv = converged(&desired);
    let state = bucket_state(&mut inv);
    state.notification = notification::without(&state.notification, &names().notification_id());
    let topic = inv.topic.as_mut().unwrap();
    topic
        .tags
        .push((topic::PAUSED_AT_TAG.into(), "2026-11-24T10:00:00Z".into()));
    if stopped_logging {
        topic
            .tags
            .push((topic::PAUSED_LOGGING_TAG.into(), "true".into()));
        inv.trail.as_mut().unwrap().logging = false;
    }
    (desired, inv)
}

/// (kind, action, op) of every step that does something.
fn ops(plan: &Plan) -> Vec<(Kind, Action, String)> {
    plan.steps
        .iter()
        .filter(|s| s.op.is_some() || s.action == Action::Conflict)
        .map(|s| {
            let op = format!("{:?}", s.op);
            let op = op
                .trim_start_matches("Some(")
                .split([' ', '('])
                .next()
                .unwrap_or_default()
                .to_owned();
            (s.kind, s.action, op)
        })
        .collect()
}

#[test]
fn pause_and_resume_plans() {
    use crate::resources::topic;
    let now = "2026-11-24T11:00:00Z";
    let active = converged(&desired(&names(), &settings(), "ext".into()));
    let (_, paused_only) = paused(false);
    let (_, paused_stopped) = paused(true);
    let mut no_topic = active.clone();
    no_topic.topic = None;
    let wanted = crate::desired::notification_spec(&names());
    let s = |v: &[(Kind, Action, &str)]| -> Vec<(Kind, Action, String)> {
        v.iter().map(|(k, a, o)| (*k, *a, o.to_string())).collect()
    };
    for (what, plan, want) in [
        (
            "pause an active integration",
            super::pause(&names(), &active, false, now),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Topic, Action::Update, "TagTopic"),
            ]),
        ),
        (
            "pause --stop-logging",
            super::pause(&names(), &active, true, now),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Topic, Action::Update, "TagTopic"),
                (Kind::Trail, Action::Update, "StopLogging"),
            ]),
        ),
        (
            "pause a paused integration",
            super::pause(&names(), &paused_only, false, now),
            vec![],
        ),
        (
            "stop logging of a paused integration",
            super::pause(&names(), &paused_only, true, now),
            s(&[
                (Kind::Topic, Action::Update, "TagTopic"),
                (Kind::Trail, Action::Update, "StopLogging"),
            ]),
        ),
        (
            "pause without a topic",
            super::pause(&names(), &no_topic, false, now),
            s(&[(Kind::Topic, Action::Conflict, "None")]),
        ),
        (
            "resume a paused integration",
            super::resume(&names(), &wanted, &paused_only),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Topic, Action::Update, "UntagTopic"),
            ]),
        ),
        (
            "resume after --stop-logging",
            super::resume(&names(), &wanted, &paused_stopped),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Topic, Action::Update, "UntagTopic"),
                (Kind::Trail, Action::Update, "StartLogging"),
            ]),
        ),
        (
            "resume an active integration",
            super::resume(&names(), &wanted, &active),
            vec![],
        ),
    ] {
        assert_eq!(ops(&plan), want, "{what}");
    }
    // The pause records its time; resume puts back exactly setup's entry.
    let plan = super::pause(&names(), &active, false, now);
    let Some(Op::TagTopic { tags, .. }) = &plan.steps[1].op else {
        panic!("no tag step")
    };
    assert_eq!(tags, &[(topic::PAUSED_AT_TAG.to_owned(), now.to_owned())]);
    let plan = super::resume(&names(), &wanted, &paused_only);
    let Some(Op::SetNotification { config, .. }) = &plan.steps[0].op else {
        panic!("no notification step")
    };
    assert!(notification::diff(&wanted, config).is_empty());
}

#[test]
fn setup_keeps_a_pause() {
    for stopped in [false, true] {
        let (desired, inv) = paused(stopped);
        let plan = setup(&names(), &desired, &inv, &[]);
        assert!(plan.is_empty(), "stopped={stopped}: {:?}", ops(&plan));
        let entry = plan
            .steps
            .iter()
            .find(|s| s.kind == Kind::Notification)
            .unwrap();
        assert_eq!(entry.action, Action::Keep);
        assert!(entry.note.as_deref().unwrap().contains("trailctl resume"));
    }
}
