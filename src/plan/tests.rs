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
    assert_eq!(
        after(&build, Kind::Trail),
        [Kind::Bucket, Kind::Organization]
    );
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
    let role = inv.role.as_mut().unwrap();
    role.tags
        .push((role::PAUSED_AT_TAG.into(), "2026-11-24T10:00:00Z".into()));
    if stopped_logging {
        role.tags
            .push((role::PAUSED_LOGGING_TAG.into(), "true".into()));
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
    let now = "2026-11-24T11:00:00Z";
    let active = converged(&desired(&names(), &settings(), "ext".into()));
    let (_, paused_only) = paused(false);
    let (_, paused_stopped) = paused(true);
    let mut no_topic = active.clone();
    no_topic.topic = None;
    let mut no_role = active.clone();
    no_role.role = None;
    let mut foreign_role = active.clone();
    foreign_role.role.as_mut().unwrap().tags = vec![(TAG_KEY.into(), "other".into())];
    // A reused topic carries no tag of ours, and needs none.
    let mut reused_topic = active.clone();
    reused_topic.topic.as_mut().unwrap().tags.clear();
    let wanted = crate::desired::notification_spec(&names(), None);
    let s = |v: &[(Kind, Action, &str)]| -> Vec<(Kind, Action, String)> {
        v.iter().map(|(k, a, o)| (*k, *a, o.to_string())).collect()
    };
    for (what, plan, want) in [
        (
            "pause an active integration",
            super::pause(&names(), &active, false, now),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Role, Action::Update, "TagRole"),
            ]),
        ),
        (
            "pause --stop-logging",
            super::pause(&names(), &active, true, now),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Role, Action::Update, "TagRole"),
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
                (Kind::Role, Action::Update, "TagRole"),
                (Kind::Trail, Action::Update, "StopLogging"),
            ]),
        ),
        (
            "pause without a topic",
            super::pause(&names(), &no_topic, false, now),
            s(&[(Kind::Topic, Action::Conflict, "None")]),
        ),
        (
            "pause without a collector role",
            super::pause(&names(), &no_role, false, now),
            s(&[(Kind::Role, Action::Conflict, "None")]),
        ),
        (
            "pause with another integration's role",
            super::pause(&names(), &foreign_role, false, now),
            s(&[(Kind::Role, Action::Conflict, "None")]),
        ),
        (
            "pause with a reused topic",
            super::pause(&names(), &reused_topic, false, now),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Role, Action::Update, "TagRole"),
            ]),
        ),
        (
            "resume a paused integration",
            super::resume(&names(), &wanted, &paused_only),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Role, Action::Update, "UntagRole"),
            ]),
        ),
        (
            "resume after --stop-logging",
            super::resume(&names(), &wanted, &paused_stopped),
            s(&[
                (Kind::Notification, Action::Update, "SetNotification"),
                (Kind::Role, Action::Update, "UntagRole"),
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
    let Some(Op::TagRole { name, tags }) = &plan.steps[1].op else {
        panic!("no tag step")
    };
    assert_eq!(name, "trailctl-default");
    assert_eq!(tags, &[(role::PAUSED_AT_TAG.to_owned(), now.to_owned())]);
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

fn with_delivery(sqs: bool, https: bool, cloudwatch_logs: bool, token: bool) -> SetupSettings {
    let mut s = settings();
    s.delivery = crate::settings::Delivery {
        sqs,
        forward: https.then(|| crate::settings::Forward {
            url: "https://collector.example.com/in".into(),
            token: token.then(|| crate::settings::Secret::new("t")),
        }),
        cloudwatch_logs,
    };
    s
}

/// The desired state of the default integration with these delivery options.
fn delivering(sqs: bool, https: bool, cloudwatch_logs: bool, token: bool) -> Desired {
    desired(
        &names(),
        &with_delivery(sqs, https, cloudwatch_logs, token),
        "ext".into(),
    )
}

/// The (action, kind, name) of every step that is not "no change", sorted.
fn changes(plan: &Plan) -> Vec<(Action, Kind, String)> {
    let mut out: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.action != Action::NoChange)
        .map(|s| (s.action, s.kind, s.name.clone()))
        .collect();
    out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    out
}

#[test]
fn each_delivery_mode_creates_exactly_its_resources_and_converges() {
    use Action::Create;
    let core = [
        (
            Create,
            Kind::Bucket,
            "trailctl-default-123456789012-us-east-1",
        ),
        (Create, Kind::Topic, "trailctl-default"),
        (Create, Kind::Role, "trailctl-default"),
        (Create, Kind::Notification, "trailctl-default"),
        (Create, Kind::Trail, "trailctl-default"),
    ];
    let forwarder = [
        (Create, Kind::Role, "trailctl-default-forwarder"),
        (Create, Kind::LogGroup, "/aws/lambda/trailctl-default"),
        (Create, Kind::Parameter, "/trailctl/default/forward-token"),
        (Create, Kind::Function, "trailctl-default"),
    ];
    type Case = (
        &'static str,
        SetupSettings,
        Vec<(Action, Kind, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "no delivery",
            with_delivery(false, false, false, false),
            vec![],
        ),
        (
            "sqs",
            with_delivery(true, false, false, false),
            vec![
                (Create, Kind::Queue, "trailctl-default"),
                (Create, Kind::Subscription, "sqs trailctl-default"),
            ],
        ),
        (
            "https",
            with_delivery(false, true, false, true),
            [
                &forwarder[..],
                &[(Create, Kind::Subscription, "lambda trailctl-default")],
            ]
            .concat(),
        ),
        (
            // Fed by the log group, the forwarder is not on the topic.
            "https + CloudWatch Logs",
            with_delivery(false, true, true, true),
            [
                &forwarder[..],
                &[
                    (Create, Kind::Role, "trailctl-default-cloudtrail-logs"),
                    (Create, Kind::LogGroup, "/trailctl/default/cloudtrail"),
                ],
            ]
            .concat(),
        ),
    ];
    for (what, settings, extra) in cases {
        let desired = desired(&names(), &settings, "ext".into());
        let plan = setup(&names(), &desired, &Inventory::default(), &[]);
        let mut want: Vec<_> = core
            .iter()
            .chain(&extra)
            .map(|(a, k, n)| (*a, *k, n.to_string()))
            .collect();
        want.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(changes(&plan), want, "{what}");
        let again = setup(&names(), &desired, &converged(&desired), &[]);
        assert!(
            again.is_empty(),
            "{what}: a re-run changes nothing: {:?}",
            changes(&again)
        );
    }
}

#[test]
fn switching_sqs_to_https_removes_the_queue_after_building_the_forwarder() {
    let sqs = delivering(true, false, false, false);
    let https = delivering(false, true, false, true);
    let plan = setup(&names(), &https, &converged(&sqs), &[]);
    let queue = plan.steps.iter().find(|s| s.kind == Kind::Queue).unwrap();
    assert_eq!(queue.action, Action::Delete);
    let function = plan
        .steps
        .iter()
        .find(|s| s.kind == Kind::Function)
        .unwrap();
    assert_eq!(function.action, Action::Create);
    assert!(
        Plan::waits_for(queue, function),
        "removals wait for every build step"
    );
    assert!(!Plan::waits_for(function, queue));
    let removed: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| (s.kind, s.name.as_str()))
        .collect();
    assert_eq!(
        removed,
        [
            (Kind::Queue, "trailctl-default"),
            (Kind::Subscription, "sqs trailctl-default")
        ]
    );
}

#[test]
fn a_first_forwarder_needs_a_token_and_a_re_run_keeps_the_stored_one() {
    let without = delivering(false, true, false, false);
    let plan = setup(&names(), &without, &Inventory::default(), &[]);
    let token = plan
        .steps
        .iter()
        .find(|s| s.kind == Kind::Parameter)
        .unwrap();
    assert_eq!(token.action, Action::Conflict);
    assert!(token
        .note
        .as_deref()
        .unwrap()
        .contains("TRAILCTL_FORWARD_TOKEN"));

    let with = delivering(false, true, false, true);
    let plan = setup(&names(), &without, &converged(&with), &[]);
    assert!(plan.is_empty(), "{:?}", changes(&plan));

    let rotated = {
        let mut s = with_delivery(false, true, false, true);
        s.delivery.forward.as_mut().unwrap().token = Some(crate::settings::Secret::new("new"));
        desired(&names(), &s, "ext".into())
    };
    let plan = setup(&names(), &rotated, &converged(&with), &[]);
    assert_eq!(
        changes(&plan),
        [(
            Action::Update,
            Kind::Parameter,
            "/trailctl/default/forward-token".to_owned()
        )]
    );
    let json = serde_json::to_string(&plan).unwrap();
    assert!(!json.contains("\"new\""), "the token is not in the plan");
}

#[test]
fn a_pause_of_the_cloudwatch_logs_feed_is_kept_by_setup_and_undone_by_resume() {
    let desired = delivering(false, true, true, true);
    let mut inventory = converged(&desired);
    let paused = pause(&names(), &inventory, false, "2026-11-24T00:00:00Z");
    assert!(paused.steps.iter().any(|s| matches!(
        &s.op,
        Some(Op::RemoveLogGroupFilter { filter, .. }) if filter == "trailctl-default"
    )));

    // As the pause leaves it: no filter, no entry, the role tagged.
    inventory.trail_log_group.as_mut().unwrap().filters.clear();
    bucket_state(&mut inventory).notification = NotificationConfiguration::builder().build();
    inventory
        .role
        .as_mut()
        .unwrap()
        .tags
        .push((role::PAUSED_AT_TAG.into(), "2026-11-24T00:00:00Z".into()));
    let plan = setup(&names(), &desired, &inventory, &[]);
    assert!(plan.is_empty(), "{:?}", changes(&plan));

    let resumed = resume(&names(), &desired.notification, &inventory);
    assert!(resumed.steps.iter().any(|s| matches!(
        &s.op,
        Some(Op::UpdateLogGroup(spec, settings))
            if spec.filter.is_some() && settings == &[log_group::Setting::Filter]
    )));
}

#[test]
fn the_forwarder_package_is_reproducible_and_stale_permissions_of_ours_are_removed() {
    assert_eq!(function::package(), function::package());
    assert_eq!(function::code_sha256(&function::package()).len(), 44);

    let desired = delivering(false, true, true, true);
    let mut inventory = converged(&desired);
    let state = inventory.function.as_mut().unwrap();
    // Left from before --cloudwatch-logs, and someone else's.
    for sid in ["trailctl-sns", "someone-elses"] {
        state.permissions.push(function::Permission {
            sid: sid.into(),
            principal: "sns.amazonaws.com".into(),
            source_arn: "arn:aws:sns:us-east-1:123456789012:trailctl-default".into(),
            source_account: "123456789012".into(),
        });
    }
    let spec = &desired.forwarder.as_ref().unwrap().function;
    let settings: Vec<_> = function::diff(spec, inventory.function.as_ref().unwrap(), "default")
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        settings,
        [function::Setting::RemovePermission("trailctl-sns".into())]
    );

    let policy = serde_json::json!({"Statement": [{
        "Sid": "trailctl-cloudwatch-logs",
        "Principal": {"Service": "logs.amazonaws.com"},
        "Condition": {
            "ArnLike": {"AWS:SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:/trailctl/default/cloudtrail:*"},
            "StringEquals": {"AWS:SourceAccount": "123456789012"}
        }
    }]});
    assert_eq!(function::parse_permissions(&policy), spec.permissions);
}

// Organization integrations.

fn org_names() -> Names {
    let mut names = names();
    names.org = Some(crate::desired::OrgNames {
        id: "o-abcdefghij".into(),
        management_account: "123456789012".into(),
    });
    names
}

fn account_ids(n: usize) -> Vec<AccountId> {
    (0..n)
        .map(|i| AccountId::parse("x", &format!("{:012}", 200_000_000_000u64 + i as u64)).unwrap())
        .collect()
}

fn org_settings(accounts: Option<crate::settings::Accounts>) -> SetupSettings {
    SetupSettings {
        org: Some(crate::settings::OrgSetup { accounts }),
        ..settings()
    }
}

fn org_organization(trusted_access: bool) -> organization::State {
    organization::State {
        id: "o-abcdefghij".into(),
        management_account: "123456789012".into(),
        standing: organization::Standing::Management,
        accounts: Vec::new(),
        trusted_access: Some(trusted_access),
    }
}

/// The notification step of a setup from `from` (converged) to `to`.
fn notification_plan(
    from: Option<crate::settings::Accounts>,
    to: Option<crate::settings::Accounts>,
    edit: impl Fn(&mut Inventory),
) -> Step {
    let names = org_names();
    let before = desired(&names, &org_settings(from), "ext".into());
    let mut inventory = converged(&before);
    inventory.organization = Some(org_organization(true));
    edit(&mut inventory);
    let after = desired(&names, &org_settings(to), "ext".into());
    let plan = setup(&names, &after, &inventory, &[]);
    plan.steps
        .into_iter()
        .find(|s| s.kind == Kind::Notification)
        .unwrap()
}

#[test]
fn an_account_selection_changes_exactly_the_entries_that_differ() {
    use crate::settings::Accounts;
    let ids = account_ids(3);
    let only = |n: std::ops::Range<usize>| Some(Accounts::Only(ids[n].to_vec()));
    let entry = |i: usize| format!("entry trailctl-default:{}", ids[i]);
    for (what, from, to, action, fields) in [
        (
            "unchanged",
            only(0..2),
            only(0..2),
            Action::NoChange,
            vec![],
        ),
        (
            "add one",
            only(0..2),
            only(0..3),
            Action::Update,
            vec![entry(2)],
        ),
        (
            "remove one",
            only(0..3),
            only(1..3),
            Action::Update,
            vec![entry(0)],
        ),
        (
            "all to two",
            Some(Accounts::All),
            only(0..2),
            Action::Update,
            vec![entry(0), entry(1), "entry trailctl-default".into()],
        ),
        (
            "two to all",
            only(0..2),
            None,
            Action::Update,
            vec!["entry trailctl-default".into(), entry(0), entry(1)],
        ),
    ] {
        let step = notification_plan(from, to, |_| {});
        assert_eq!(step.action, action, "{what}");
        let changed: Vec<&str> = step.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(changed, fields, "{what}");
    }
}

#[test]
fn more_entries_than_s3_allows_or_an_overlapping_entry_is_a_conflict() {
    use crate::settings::Accounts;
    let many = Some(Accounts::Only(account_ids(notification::MAX_ENTRIES + 1)));
    let step = notification_plan(Some(Accounts::All), many, |_| {});
    assert_eq!(step.action, Action::Conflict);
    assert!(step.note.unwrap().contains("S3 allows 100 per bucket"));
    assert!(step.op.is_none());

    // Another tool's entry under the whole organization's prefix overlaps
    // every per-account entry; one under another folder does not.
    for (prefix, conflict) in [("AWSLogs/", true), ("exports/", false)] {
        let step = notification_plan(
            Some(Accounts::All),
            Some(Accounts::Only(account_ids(1))),
            |inv| {
                let config = &mut bucket_state(inv).notification;
                config
                    .topic_configurations
                    .get_or_insert_with(Vec::new)
                    .push(
                        TopicConfiguration::builder()
                            .id("other-tool")
                            .topic_arn("arn:aws:sns:us-east-1:123456789012:other")
                            .events(aws_sdk_s3::types::Event::from("s3:ObjectCreated:Put"))
                            .filter(
                                aws_sdk_s3::types::NotificationConfigurationFilter::builder()
                                    .key(
                                        aws_sdk_s3::types::S3KeyFilter::builder()
                                            .filter_rules(
                                                aws_sdk_s3::types::FilterRule::builder()
                                                    .name(aws_sdk_s3::types::FilterRuleName::Prefix)
                                                    .value(prefix)
                                                    .build(),
                                            )
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    );
            },
        );
        assert_eq!(step.action == Action::Conflict, conflict, "{prefix}");
        if conflict {
            let note = step.note.unwrap();
            assert!(
                note.contains("`other-tool`") && note.contains("overlaps"),
                "{note}"
            );
        }
    }
}

#[test]
fn the_selection_is_read_back_from_the_entries_paused_or_not() {
    use crate::settings::Accounts;
    let org = org_names();
    for accounts in [Accounts::All, Accounts::Only(account_ids(2))] {
        let spec = crate::desired::notification_spec(&org, Some(&accounts));
        let empty = NotificationConfiguration::builder().build();
        let active = notification::with(&empty, &spec).unwrap();
        assert_eq!(
            crate::desired::accounts_in_place(&org, &active),
            Some(accounts.clone())
        );
        // A pause keeps a selection on the bucket; "all" needs none.
        let parked = notification::parked(&active, &spec.id);
        let expected = match &accounts {
            Accounts::All => None,
            only => Some(only.clone()),
        };
        assert_eq!(crate::desired::accounts_in_place(&org, &parked), expected);
        assert!(notification::diff(&spec.paused(), &parked).is_empty());
    }
    // One account's entry is not an organization's.
    let single = crate::desired::notification_spec(&names(), None);
    let config =
        notification::with(&NotificationConfiguration::builder().build(), &single).unwrap();
    assert_eq!(crate::desired::accounts_in_place(&names(), &config), None);
}

#[test]
fn an_organization_trail_waits_for_trusted_access_and_a_member_is_refused() {
    let org = org_names();
    let wanted = desired(&org, &org_settings(None), "ext".into());
    let mut inventory = Inventory {
        organization: Some(org_organization(false)),
        ..Inventory::default()
    };
    let plan = setup(&org, &wanted, &inventory, &[]);
    let org_step = plan
        .steps
        .iter()
        .find(|s| s.kind == Kind::Organization)
        .unwrap();
    assert_eq!(org_step.action, Action::Create);
    assert_eq!(
        org_step.op.as_ref().unwrap().undo().unwrap().iam_actions(),
        ["organizations:DisableAWSServiceAccess"]
    );
    let trail = plan.steps.iter().find(|s| s.kind == Kind::Trail).unwrap();
    assert!(Plan::waits_for(trail, org_step));
    let actions = plan.iam_actions();
    for needed in [
        "organizations:EnableAWSServiceAccess",
        "organizations:ListAccounts",
        "iam:CreateServiceLinkedRole",
    ] {
        assert!(actions.contains(&needed), "{needed}");
    }
    // A one-account plan needs no Organizations permission.
    let single = setup(
        &names(),
        &desired(&names(), &settings(), "ext".into()),
        &Inventory::default(),
        &[],
    );
    assert!(!single
        .iam_actions()
        .iter()
        .any(|a| a.starts_with("organizations:")));

    inventory.organization.as_mut().unwrap().standing = organization::Standing::Member;
    let plan = setup(&org, &wanted, &inventory, &[]);
    let refused = plan.conflicts().next().unwrap();
    assert_eq!(refused.kind, Kind::Organization);
    assert!(refused
        .note
        .as_ref()
        .unwrap()
        .contains("management account 123456789012 of o-abcdefghij"));
}

/// An integration that reuses a trail (and so its bucket), or a bucket.
fn reusing(trail: bool) -> Names {
    let mut n = names();
    n.reused = crate::desired::Reused {
        trail: trail.then(|| "arn:aws:cloudtrail:us-east-1:123456789012:trail/corp-trail".into()),
        bucket: true,
        topic: None,
    };
    n.bucket = "corp-logs".into();
    n.key_prefix = trail.then(|| "corp".into());
    n
}

const FOREIGN: &str = r#"{"Sid":"Corp", "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::corp-logs/*"}"#;

/// The account as another tool left it: the bucket (and trail) not ours,
/// the bucket's policy only [`FOREIGN`].
fn foreign_inventory(n: &Names) -> (Desired, Inventory) {
    let d = desired(n, &settings(), "ext".into());
    let mut inv = converged(&d);
    let text = format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#);
    let state = bucket_state(&mut inv);
    state.tags = vec![];
    state.versioning = None;
    state.policy = crate::iam::policy::parse(&text);
    state.policy_text = Some(text);
    inv.trail.as_mut().unwrap().tags = vec![];
    (d, inv)
}

fn ops_of(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter_map(|s| s.op.as_ref())
        .map(|op| {
            format!("{op:?}")
                .split(['(', ' '])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_reused_trail_is_kept_as_it_is_and_its_weak_settings_are_warnings() {
    let n = reusing(true);
    let (d, mut inv) = foreign_inventory(&n);
    let trail = inv.trail.as_mut().unwrap();
    trail.multi_region = false;
    trail.log_file_validation = false;
    let plan = setup(&n, &d, &inv, &[]);
    let step = |kind| plan.steps.iter().find(|s| s.kind == kind).unwrap();
    assert_eq!(
        (step(Kind::Trail).action, step(Kind::Trail).name.as_str()),
        (Action::Keep, "corp-trail")
    );
    // A reused trail writes already: no statement of ours in its bucket.
    assert_eq!(step(Kind::Bucket).action, Action::Keep);
    assert!(!ops_of(&plan)
        .iter()
        .any(|o| o.contains("Trail") || o == "SetPolicy"));
    assert_eq!(
        d.notification.entries[0].prefix,
        "corp/AWSLogs/123456789012/CloudTrail/"
    );
    for warning in [
        "single-region",
        "log file validation is off",
        "versioning is off",
        "does not deny requests without TLS",
    ] {
        assert!(
            plan.warnings.iter().any(|w| w.contains(warning)),
            "{warning}: {:?}",
            plan.warnings
        );
    }
    // The reuse is recorded on the collector role.
    assert!(d.role.tags.contains(&(
        "trailctl:existing-trail".into(),
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/corp-trail".into()
    )));
    // An organization mismatch is a conflict, not a change.
    inv.trail.as_mut().unwrap().organization = true;
    assert_eq!(
        setup(&n, &d, &inv, &[]).conflicts().next().unwrap().kind,
        Kind::Trail
    );
    // A missing reused trail too.
    inv.trail = None;
    let plan = setup(&n, &d, &inv, &[]);
    assert!(plan.conflicts().any(|s| s.kind == Kind::Trail));
}

#[test]
fn a_reused_bucket_gets_only_our_statements_merged_and_converges() {
    let n = reusing(false);
    let (d, mut inv) = foreign_inventory(&n);
    let plan = setup(&n, &d, &inv, &[]);
    let bucket = plan.steps.iter().find(|s| s.kind == Kind::Bucket).unwrap();
    assert_eq!(bucket.action, Action::Update);
    let Some(Op::SetPolicy {
        target: PolicyTarget::Bucket(name),
        text: Some(text),
        previous,
    }) = &bucket.op
    else {
        panic!("{:?}", bucket.op)
    };
    assert_eq!(name, "corp-logs");
    assert!(text.contains(FOREIGN), "{text}");
    assert!(previous.as_deref().unwrap().contains(FOREIGN));
    // Only the CloudTrail statements: no Deny added to a shared bucket.
    let written: serde_json::Value = serde_json::from_str(text).unwrap();
    let sids: Vec<_> = written["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        sids,
        [
            "Corp",
            "TrailctlCloudTrailAclCheck",
            "TrailctlCloudTrailWrite"
        ]
    );
    // Its undo writes back the policy it found, exactly.
    let Some(Op::SetPolicy { text: undone, .. }) = bucket.op.as_ref().unwrap().undo() else {
        unreachable!()
    };
    assert_eq!(undone, *previous);
    // Nothing else of the bucket is touched (versioning off stays off).
    assert_eq!(
        ops_of(&plan)
            .iter()
            .filter(|o| o.contains("Bucket"))
            .count(),
        0
    );

    // Written, it converges.
    let state = bucket_state(&mut inv);
    state.policy = Some(written);
    state.policy_text = Some(text.clone());
    let again = setup(&n, &d, &inv, &[]);
    assert!(again.is_empty(), "{:?}", ops_of(&again));

    // delete takes out only our statements and keeps the bucket.
    let teardown = delete(&n, &inv, true, &[]);
    let bucket = teardown
        .steps
        .iter()
        .find(|s| s.kind == Kind::Bucket)
        .unwrap();
    assert_eq!(bucket.action, Action::Update);
    let Some(Op::SetPolicy {
        text: Some(left), ..
    }) = &bucket.op
    else {
        panic!("{:?}", bucket.op)
    };
    assert_eq!(
        left,
        &format!(r#"{{"Version":"2012-10-17","Statement":[{FOREIGN}]}}"#)
    );
    assert!(!ops_of(&teardown).contains(&"DeleteBucket".to_owned()));
}

#[test]
fn a_full_home_region_refuses_a_new_trail_and_a_covering_trail_is_a_warning() {
    let n = names();
    let d = desired(&n, &settings(), "ext".into());
    let mut inv = converged(&d);
    inv.trail = None;
    let found = |name: &str, region: &str, multi: bool| crate::resources::trail::Found {
        name: name.into(),
        arn: format!("arn:aws:cloudtrail:{region}:123456789012:trail/{name}"),
        home_region: region.into(),
        multi_region: Some(multi),
        organization: Some(false),
        management_events: Some(true),
        bucket: Some("b".into()),
    };
    // Four here, a single-region one elsewhere: a fifth may be created.
    inv.trails = (1..=4)
        .map(|i| found(&format!("t{i}"), "us-east-1", false))
        .chain([found("eu", "eu-west-1", false)])
        .collect();
    let plan = setup(&n, &d, &inv, &[]);
    let trail = plan.steps.iter().find(|s| s.kind == Kind::Trail).unwrap();
    assert_eq!(trail.action, Action::Create);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    // A multi-region trail of another region counts here too: then the
    // region is full, and that trail covers the account.
    inv.trails.push(found("everywhere", "eu-west-1", true));
    let plan = setup(&n, &d, &inv, &[]);
    let trail = plan.steps.iter().find(|s| s.kind == Kind::Trail).unwrap();
    assert_eq!(trail.action, Action::Conflict);
    assert!(trail.op.is_none());
    assert!(trail
        .note
        .as_deref()
        .unwrap()
        .contains("already has 5 trails"));
    assert_eq!(plan.warnings.len(), 1);
    assert!(plan.warnings[0]
        .contains("--existing-trail arn:aws:cloudtrail:eu-west-1:123456789012:trail/everywhere"));
    // Our own trail in place: no refusal (it is one of the five).
    inv.trail = converged(&d).trail;
    inv.trails
        .push(found("trailctl-default", "us-east-1", true));
    assert!(setup(&n, &d, &inv, &[]).conflicts().next().is_none());
}

#[test]
fn the_parts_record_is_written_last_and_only_when_it_changes() {
    let sqs = delivering(true, false, false, false);
    let https = delivering(false, true, false, true);
    let record_steps = |plan: &Plan| -> Vec<(Action, Vec<FieldChange>)> {
        plan.steps
            .iter()
            .filter(|s| s.direction == Direction::Record)
            .map(|s| (s.action, s.changes.clone()))
            .collect()
    };
    let record = |from: &str, to: &str| vec![FieldChange::new("parts record", from, to)];

    // Switching modes: the record waits for every other step, removals
    // included, and nothing waits for it.
    let plan = setup(&names(), &https, &converged(&sqs), &[]);
    assert_eq!(
        record_steps(&plan),
        [(Action::Update, record("queue", "forwarder"))]
    );
    let last = plan
        .steps
        .iter()
        .find(|s| s.direction == Direction::Record)
        .unwrap();
    for other in plan.steps.iter().filter(|s| s.op.is_some()) {
        if !std::ptr::eq(other, last) {
            assert!(Plan::waits_for(last, other), "after {:?}", other.kind);
            assert!(!Plan::waits_for(other, last));
        }
    }
    let without: Plan = Plan::new(
        plan.steps
            .iter()
            .filter(|s| s.direction != Direction::Record)
            .cloned()
            .collect(),
    );
    assert_eq!(plan.critical_path(), without.critical_path() + 1);

    // Only the record differs: one step for the role, and its write keeps
    // the role's other tags.
    let mut inventory = converged(&https);
    let role = inventory.role.as_mut().unwrap();
    role.tags.retain(|(k, _)| k != PARTS_TAG);
    role.tags.push(("team".into(), "sec".into()));
    let plan = setup(&names(), &https, &inventory, &[]);
    let roles: Vec<_> = plan
        .steps
        .iter()
        .filter(|s| s.kind == Kind::Role && s.name == "trailctl-default")
        .collect();
    assert_eq!(roles.len(), 1);
    assert_eq!(
        record_steps(&plan),
        [(Action::Update, record("(none)", "forwarder"))]
    );
    let Some(Op::UpdateRole(spec, settings)) = &roles[0].op else {
        panic!("{:?}", roles[0].op)
    };
    assert_eq!(settings, &[role::Setting::Tags]);
    assert!(spec.tags.contains(&("team".into(), "sec".into())));
    assert!(spec.tags.contains(&(PARTS_TAG.into(), "forwarder".into())));

    // Converged, or a role that is not ours: no record.
    assert!(record_steps(&setup(&names(), &https, &converged(&https), &[])).is_empty());
    let mut foreign = converged(&https);
    foreign.role.as_mut().unwrap().tags = vec![(PARTS_TAG.into(), "none".into())];
    assert!(record_steps(&setup(&names(), &https, &foreign, &[])).is_empty());
}
