//! Table-driven tests of the planner: synthetic current state in, plan out.

use super::*;
use crate::desired::desired;
use crate::resources::{bucket, role, topic, trail};
use crate::settings::{AccountId, IntegrationName, SetupSettings};
use aws_sdk_s3::types::{NotificationConfiguration, TopicConfiguration};

fn names() -> Names {
    Names::new(
        IntegrationName::parse("default").unwrap(),
        "123456789012",
        "aws",
        "us-east-1",
        None,
    )
}

fn settings() -> SetupSettings {
    SetupSettings {
        collector_account: AccountId::parse("x", "111122223333").unwrap(),
        external_id: None,
        retention_days: 365,
        kms_key: None,
        bucket_name: None,
        write_only: false,
        exclude_kms_events: false,
        plan_only: false,
    }
}

/// The account exactly as `setup` leaves it.
fn converged(desired: &Desired) -> Inventory {
    let tags = names().tags();
    Inventory {
        bucket: bucket::Observed::Present(Box::new(bucket::State {
            region: Some("us-east-1".into()),
            tags: tags.clone(),
            public_access_block: Some([true; 4]),
            ownership: Some("BucketOwnerEnforced".into()),
            encryption: Some(("AES256".into(), None)),
            versioning: Some("Enabled".into()),
            lifecycle_rules: vec![bucket::lifecycle_rule(&desired.bucket).unwrap()],
            policy: Some(desired.bucket.policy.clone()),
            notification: notification::with(
                &NotificationConfiguration::builder().build(),
                &desired.notification,
            )
            .unwrap(),
        })),
        topic: Some(topic::State {
            policy: Some(desired.topic.policy.clone()),
            tags: tags.clone(),
        }),
        role: Some(role::State {
            trust: Some(desired.role.trust.clone()),
            permissions: Some(desired.role.permissions.clone()),
            other_inline: vec![],
            attached: vec![],
            tags: tags.clone(),
        }),
        trail: Some(trail::State {
            bucket: Some(desired.trail.bucket.clone()),
            key_prefix: None,
            multi_region: true,
            global_service_events: true,
            log_file_validation: true,
            logging: true,
            event_selectors: vec![trail::Selector {
                read_write: "All".into(),
                management_events: true,
                excluded_sources: vec![],
                data_resources: 0,
            }],
            tags,
            delivery: trail::Delivery::default(),
        }),
    }
}

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
    let empty = Inventory {
        bucket: bucket::Observed::Absent,
        topic: None,
        role: None,
        trail: None,
    };
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
    assert_eq!(after(&teardown, Kind::Topic), [Kind::Notification]);
    assert_eq!(teardown.dependency_depth(), 2);
}

#[test]
fn creates_are_undone_and_the_plan_lists_its_iam_actions() {
    let desired = desired(&names(), &settings(), "ext".into());
    let empty = Inventory {
        bucket: bucket::Observed::Absent,
        topic: None,
        role: None,
        trail: None,
    };
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
}
