//! `setup` against the emulator: every resource and property read back
//! through the SDK, idempotence, in-place updates, rollback and convergence.

mod common;

use common::*;
use serde_json::Value;

fn setup_args() -> [&'static str; 4] {
    ["setup", "--collector-account", COLLECTOR, "--yes"]
}

#[tokio::test(flavor = "multi_thread")]
async fn setup_creates_every_resource_with_every_property() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(setup_args())
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_success(&out);
    let report = json_stdout(&out);
    let collector = &report["collector"];
    let external_id = collector["external_id"].as_str().expect("external id");
    assert_eq!(
        external_id.len(),
        32,
        "a generated external ID has 128 bits"
    );
    assert_eq!(
        collector["role_arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/trailctl-default")
    );
    assert_eq!(collector["bucket"], BUCKET);
    assert_eq!(
        collector["key_prefix"],
        format!("AWSLogs/{ACCOUNT}/CloudTrail/")
    );
    assert_eq!(collector["region"], REGION);
    assert_eq!(collector["partition"], "aws");

    let aws = emu.clients().await;
    let trail_arn = format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailctl-default");
    let topic_arn = format!("arn:aws:sns:{REGION}:{ACCOUNT}:trailctl-default");
    let tag = ("trailctl:integration".to_owned(), "default".to_owned());

    // Bucket.
    let s3 = &aws.s3;
    let pab = s3
        .get_public_access_block()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        [
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ],
        [Some(true); 4]
    );
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let ver = s3
        .get_bucket_versioning()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(ver.status().map(|s| s.as_str()), Some("Enabled"));
    let life = s3
        .get_bucket_lifecycle_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let rule = life
        .rules()
        .iter()
        .find(|r| r.id() == Some("trailctl-retention"))
        .expect("lifecycle rule");
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(365));
    assert_eq!(
        rule.noncurrent_version_expiration()
            .and_then(|e| e.noncurrent_days()),
        Some(365)
    );
    let tags = s3.get_bucket_tagging().bucket(BUCKET).send().await.unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| (t.key().to_owned(), t.value().to_owned()) == tag));
    let policy = parse_policy(
        s3.get_bucket_policy()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    );
    let acl = statement(&policy, "TrailctlCloudTrailAclCheck");
    assert_eq!(acl["Principal"]["Service"], "cloudtrail.amazonaws.com");
    assert_eq!(acl["Action"], "s3:GetBucketAcl");
    assert_eq!(acl["Condition"]["StringEquals"]["aws:SourceArn"], trail_arn);
    let write = statement(&policy, "TrailctlCloudTrailWrite");
    assert_eq!(write["Action"], "s3:PutObject");
    assert_eq!(
        write["Resource"],
        format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*")
    );
    assert_eq!(
        write["Condition"]["StringEquals"]["aws:SourceArn"],
        trail_arn
    );
    let tls = statement(&policy, "TrailctlDenyInsecureTransport");
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Principal"], "*");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");

    // Notification.
    let notif = s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let entry = notif
        .topic_configurations()
        .iter()
        .find(|t| t.id() == Some("trailctl-default"))
        .expect("entry");
    assert_eq!(entry.topic_arn(), topic_arn);
    assert_eq!(
        entry
            .events()
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>(),
        ["s3:ObjectCreated:*"]
    );
    let rules: Vec<(String, String)> = entry
        .filter()
        .unwrap()
        .key()
        .unwrap()
        .filter_rules()
        .iter()
        .map(|r| {
            (
                r.name().unwrap().as_str().to_lowercase(),
                r.value().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        rules.contains(&("prefix".into(), format!("AWSLogs/{ACCOUNT}/CloudTrail/"))),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("suffix".into(), ".json.gz".into())),
        "{rules:?}"
    );

    // Topic.
    let attrs = aws
        .sns
        .get_topic_attributes()
        .topic_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    let policy = parse_policy(&attrs.attributes().unwrap()["Policy"]);
    assert_eq!(
        policy["Statement"].as_array().unwrap().len(),
        1,
        "only S3 may publish: {policy}"
    );
    let publish = statement(&policy, "TrailctlS3Publish");
    assert_eq!(publish["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(publish["Action"], "sns:Publish");
    assert_eq!(
        publish["Condition"]["ArnLike"]["aws:SourceArn"],
        format!("arn:aws:s3:::{BUCKET}")
    );
    assert_eq!(
        publish["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    let topic_tags = aws
        .sns
        .list_tags_for_resource()
        .resource_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    assert!(topic_tags
        .tags()
        .iter()
        .any(|t| (t.key().to_owned(), t.value().to_owned()) == tag));

    // Collector role.
    let role = aws
        .iam
        .get_role()
        .role_name("trailctl-default")
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    let trust = parse_policy(role.assume_role_policy_document().unwrap());
    let assume = statement(&trust, "TrailctlCollectorAssume");
    assert_eq!(
        assume["Principal"]["AWS"],
        format!("arn:aws:iam::{COLLECTOR}:root")
    );
    assert_eq!(assume["Action"], "sts:AssumeRole");
    assert_eq!(
        assume["Condition"]["StringEquals"]["sts:ExternalId"],
        external_id
    );
    assert!(role
        .tags()
        .iter()
        .any(|t| (t.key().to_owned(), t.value().to_owned()) == tag));
    let read = role_policy(&aws, "trailctl-default", "trailctl-read-logs").await;
    assert_eq!(
        read["Statement"].as_array().unwrap().len(),
        1,
        "read-only on the log objects: {read}"
    );
    let read = statement(&read, "TrailctlReadLogObjects");
    assert_eq!(read["Action"], "s3:GetObject");
    assert_eq!(
        read["Resource"],
        format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/*")
    );
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name("trailctl-default")
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());

    // Trail.
    let trail = aws
        .cloudtrail
        .get_trail()
        .name("trailctl-default")
        .send()
        .await
        .unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(trail.s3_bucket_name(), Some(BUCKET));
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    assert_eq!(trail.include_global_service_events(), Some(true));
    assert_eq!(trail.log_file_validation_enabled(), Some(true));
    let status = aws
        .cloudtrail
        .get_trail_status()
        .name("trailctl-default")
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(true));
    let selectors = aws
        .cloudtrail
        .get_event_selectors()
        .trail_name("trailctl-default")
        .send()
        .await
        .unwrap();
    let selector = &selectors.event_selectors()[0];
    assert_eq!(selector.read_write_type().map(|t| t.as_str()), Some("All"));
    assert_eq!(selector.include_management_events(), Some(true));
    let trail_tags = aws
        .cloudtrail
        .list_tags()
        .resource_id_list(&trail_arn)
        .send()
        .await
        .unwrap();
    assert!(trail_tags.resource_tag_list()[0]
        .tags_list()
        .iter()
        .any(|t| t.key() == "trailctl:integration" && t.value() == Some("default")));
}

#[tokio::test(flavor = "multi_thread")]
async fn second_setup_plans_no_change_and_makes_no_mutating_call() {
    let emu = Emulator::start();
    emu.trailctl().args(setup_args()).assert().success();

    let out = emu
        .trailctl()
        .args(setup_args())
        .args(["-v", "--output", "json"])
        .output()
        .unwrap();
    assert_success(&out);
    let calls = logged_calls(&out.stderr);
    assert!(calls.len() > 5, "the call log is empty: {calls:?}");
    let mutating: Vec<_> = calls.iter().filter(|(_, op)| is_mutating(op)).collect();
    assert!(
        mutating.is_empty(),
        "a no-change run made mutating calls: {mutating:?}"
    );
    let steps = json_stdout(&out)["plan"]["steps"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(steps.len(), 5);
    assert!(
        steps.iter().all(|s| s["action"] == "no_change"),
        "{steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_retention_days_plans_exactly_one_update_and_applies_it() {
    let emu = Emulator::start();
    emu.trailctl().args(setup_args()).assert().success();

    let plan = emu
        .trailctl()
        .args(setup_args())
        .args(["--retention-days", "30", "--plan", "--output", "json"])
        .output()
        .unwrap();
    let report = json_stdout(&plan);
    let changed: Vec<&Value> = report["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "no_change")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert_eq!(changed[0]["kind"], "bucket");
    assert_eq!(changed[0]["action"], "update");
    let fields: Vec<&str> = changed[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["lifecycle"]);

    let out = emu
        .trailctl()
        .args(setup_args())
        .args(["--retention-days", "30", "-v"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        mutating_calls(&out.stderr),
        ["PutBucketLifecycleConfiguration"]
    );
    let life = emu
        .clients()
        .await
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        life.rules()[0].expiration().and_then(|e| e.days()),
        Some(30)
    );
}

/// Every mutating call of a fresh setup, in the order the engine may make them.
const SETUP_OPERATIONS: &[&str] = &[
    "CreateBucket",
    "PutBucketTagging",
    "PutPublicAccessBlock",
    "PutBucketOwnershipControls",
    "PutBucketEncryption",
    "PutBucketVersioning",
    "PutBucketLifecycleConfiguration",
    "PutBucketPolicy",
    "CreateTopic",
    "CreateRole",
    "PutRolePolicy",
    "PutBucketNotificationConfiguration",
    "CreateTrail",
    "PutEventSelectors",
    "StartLogging",
];

#[tokio::test(flavor = "multi_thread")]
async fn setup_operations_list_is_complete() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(setup_args())
        .arg("-v")
        .output()
        .unwrap();
    let mut made: Vec<String> = mutating_calls(&out.stderr);
    made.sort();
    let mut listed: Vec<String> = SETUP_OPERATIONS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        made, listed,
        "the fault-injection test must cover every mutating call"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failure_injected_at_each_apply_step_leaves_nothing_behind() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    for operation in SETUP_OPERATIONS {
        let out = emu
            .trailctl()
            .args(setup_args())
            .env("TRAILCTL_TEST_FAIL_OPERATION", operation)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{operation}: {stderr}");
        assert!(
            stderr.contains(&format!("injected fault (test hook) in {operation}")),
            "{operation}: {stderr}"
        );
        assert!(
            stderr.contains("failed"),
            "{operation}: the failed step is named: {stderr}"
        );
        let left = aws.everything().await;
        assert!(
            left.is_empty(),
            "{operation}: left behind {left:?}\n{stderr}"
        );
        assert!(
            std::fs::read_dir(emu.state_dir.path())
                .map(|d| d.count())
                .unwrap_or(0)
                == 0,
            "{operation}: the journal is removed after a complete rollback"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_converges_when_run_again() {
    let emu = Emulator::start();
    // The process dies as the bucket's tag is being written: the bucket
    // exists without the ownership tag, which only the journal vouches for.
    let out = emu
        .trailctl()
        .args(setup_args())
        .env("TRAILCTL_TEST_CRASH_OPERATION", "PutBucketTagging")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137));
    let aws = emu.clients().await;
    assert!(aws.bucket_names().await.contains(&BUCKET.to_owned()));
    assert!(
        aws.s3
            .get_bucket_tagging()
            .bucket(BUCKET)
            .send()
            .await
            .is_err(),
        "the crash came before the tag"
    );

    emu.trailctl().args(setup_args()).assert().success();
    let tags = aws
        .s3
        .get_bucket_tagging()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "trailctl:integration"));
    assert_eq!(aws.trail_names().await, ["trailctl-default"]);

    assert!(
        mutating_calls_of(emu.trailctl().args(setup_args())).is_empty(),
        "converged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_and_without_yes_nothing_is_applied() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(["setup", "--collector-account", COLLECTOR])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert!(emu.clients().await.everything().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untagged_bucket_with_the_same_name_is_a_conflict_and_nothing_changes() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    aws.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let out = emu.trailctl().args(setup_args()).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not own"));
    assert_eq!(aws.everything().await, [BUCKET]);
    assert!(
        aws.s3
            .get_bucket_policy()
            .bucket(BUCKET)
            .send()
            .await
            .is_err(),
        "the bucket was not touched"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_external_id_is_kept_and_a_given_one_replaces_it() {
    let emu = Emulator::start();
    let first = json_stdout(
        &emu.trailctl()
            .args(setup_args())
            .args(["--output", "json"])
            .output()
            .unwrap(),
    );
    let again = json_stdout(
        &emu.trailctl()
            .args(setup_args())
            .args(["--output", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        first["collector"]["external_id"],
        again["collector"]["external_id"]
    );
    let given = json_stdout(
        &emu.trailctl()
            .args(setup_args())
            .args(["--external-id", "vendor-given-id", "--output", "json"])
            .output()
            .unwrap(),
    );
    assert_eq!(given["collector"]["external_id"], "vendor-given-id");
    let changed: Vec<&Value> = given["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "update")
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["kind"], "role");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_only_changes_nothing_and_exits_4_on_a_conflict() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(["setup", "--collector-account", COLLECTOR, "--plan"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 to create"));
    let aws = emu.clients().await;
    assert!(aws.everything().await.is_empty());

    aws.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let out = emu
        .trailctl()
        .args(["setup", "--collector-account", COLLECTOR, "--plan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(aws.everything().await, [BUCKET]);
}

#[tokio::test(flavor = "multi_thread")]
async fn kms_write_only_and_excluded_kms_events_are_applied_and_read_back() {
    let emu = Emulator::start();
    let key = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab");
    let out = emu
        .trailctl()
        .args(setup_args())
        .args(["--kms-key", &key, "--write-only", "--exclude-kms-events"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("CIS"),
        "excluding KMS events warns about the CIS controls: {stderr}"
    );

    let aws = emu.clients().await;
    let enc = aws
        .s3
        .get_bucket_encryption()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(default.kms_master_key_id(), Some(key.as_str()));
    assert_eq!(rule.bucket_key_enabled(), Some(true));

    let read = role_policy(&aws, "trailctl-default", "trailctl-read-logs").await;
    let decrypt = statement(&read, "TrailctlDecryptLogObjects");
    assert_eq!(decrypt["Action"], "kms:Decrypt");
    assert_eq!(decrypt["Resource"], key);
    assert_eq!(
        decrypt["Condition"]["StringEquals"]["kms:ViaService"],
        format!("s3.{REGION}.amazonaws.com")
    );

    let selectors = aws
        .cloudtrail
        .get_event_selectors()
        .trail_name("trailctl-default")
        .send()
        .await
        .unwrap();
    let selector = &selectors.event_selectors()[0];
    assert_eq!(
        selector.read_write_type().map(|t| t.as_str()),
        Some("WriteOnly")
    );
    assert_eq!(
        selector.exclude_management_event_sources(),
        ["kms.amazonaws.com"]
    );

    // And back to the defaults, in place.
    let out = emu
        .trailctl()
        .args(setup_args())
        .args(["-v"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut mutating: Vec<String> = mutating_calls(&out.stderr);
    mutating.sort();
    assert_eq!(
        mutating,
        ["PutBucketEncryption", "PutEventSelectors", "PutRolePolicy"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_operation_aborted_is_retried_fault_injected_at_the_client_boundary() {
    // Real S3 answers concurrent updates of one bucket with 409
    // OperationAborted now and then; moto never does.
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(setup_args())
        .arg("-v")
        .env(
            "TRAILCTL_TEST_ERROR",
            "PutBucketVersioning:OperationAborted:2",
        )
        .output()
        .unwrap();
    assert_success(&out);
    let tries = calls_to(&out.stderr, "PutBucketVersioning");
    assert_eq!(tries, 3, "two refusals, then success");
    let ver = emu
        .clients()
        .await
        .s3
        .get_bucket_versioning()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(ver.status().map(|s| s.as_str()), Some("Enabled"));
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_operation_aborted_that_never_clears_fails_and_rolls_back_fault_injected() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(setup_args())
        .arg("-v")
        .env(
            "TRAILCTL_TEST_ERROR",
            "PutBucketPolicy:OperationAborted:1000",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("OperationAborted"), "{stderr}");
    let tries = calls_to(&out.stderr, "PutBucketPolicy");
    assert_eq!(tries, 6, "bounded: one call and five retries");
    assert!(emu.clients().await.everything().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn propagation_delays_are_retried_fault_injected_at_the_client_boundary() {
    // On AWS a bucket policy or topic policy written a moment ago may not be
    // visible yet to CloudTrail or to S3's destination check; moto has no delay.
    for (operation, code) in [
        ("CreateTrail", "InsufficientS3BucketPolicyException"),
        ("PutBucketNotificationConfiguration", "InvalidArgument"),
    ] {
        let emu = Emulator::start();
        let out = emu
            .trailctl()
            .args(setup_args())
            .arg("-v")
            .env("TRAILCTL_TEST_ERROR", format!("{operation}:{code}:1"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{operation}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tries = calls_to(&out.stderr, operation);
        assert_eq!(tries, 2, "{operation}: one refusal, then success");
        let out = emu
            .trailctl()
            .args(setup_args())
            .arg("-v")
            .output()
            .unwrap();
        assert!(
            mutating_calls(&out.stderr).is_empty(),
            "{operation}: converged"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_access_denied_error_is_not_retried_and_names_the_call_fault_injected() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(setup_args())
        .arg("-v")
        .env("TRAILCTL_TEST_ERROR", "CreateRole:AccessDenied:1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("iam:CreateRole trailctl-default: AccessDenied"),
        "{stderr}"
    );
    assert_eq!(calls_to(&out.stderr, "CreateRole"), 1);
    assert!(emu.clients().await.everything().await.is_empty());
}
