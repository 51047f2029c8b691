//! Reusing what the account already has (`--existing-trail`,
//! `--existing-bucket`, `--existing-topic`) against the emulator. The
//! foreign resources are made through the SDK first; every outcome is read
//! back through it: others' policy statements and notification entries are
//! compared before and after, and what reaches the queue is counted on it.

mod common;

use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    S3KeyFilter, TopicConfiguration,
};
use common::*;
use serde_json::Value;

const CORP_BUCKET: &str = "corp-logs";
const CORP_TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:corp-alerts";
/// Another tool's statement, written with its own spacing and key order:
/// it must come back byte for byte.
const FOREIGN_STATEMENT: &str = r#"{ "Sid" : "CorpAuditorRead",  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["s3:GetObject"] ,"Resource":"arn:aws:s3:::corp-logs/*"}"#;

fn setup_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["setup", "--collector-account", COLLECTOR, "--yes"];
    args.extend_from_slice(extra);
    args
}

/// A bucket of another tool: its policy holds [`FOREIGN_STATEMENT`], its
/// notifications one entry of its own (`entry`: prefix, suffix).
async fn corp_bucket(emu: &Emulator, region: &str, entry: (&str, &str)) -> String {
    let aws = emu.clients_in(region).await;
    let topic_arn = format!("arn:aws:sns:{region}:{ACCOUNT}:corp-alerts");
    let mut create = aws.s3.create_bucket().bucket(CORP_BUCKET);
    if region != REGION {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(region.into())
                .build(),
        );
    }
    create.send().await.expect("CreateBucket");
    let topic = aws
        .sns
        .create_topic()
        .name("corp-alerts")
        .send()
        .await
        .unwrap();
    assert_eq!(topic.topic_arn(), Some(topic_arn.as_str()));
    let policy = format!(r#"{{"Version": "2012-10-17", "Statement": [ {FOREIGN_STATEMENT} ]}}"#);
    aws.s3
        .put_bucket_policy()
        .bucket(CORP_BUCKET)
        .policy(&policy)
        .send()
        .await
        .expect("PutBucketPolicy");
    let rule =
        |name: FilterRuleName, value: &str| FilterRule::builder().name(name).value(value).build();
    aws.s3
        .put_bucket_notification_configuration()
        .bucket(CORP_BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .topic_configurations(
                    TopicConfiguration::builder()
                        .id("corp-exports")
                        .topic_arn(&topic_arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .filter(
                            NotificationConfigurationFilter::builder()
                                .key(
                                    S3KeyFilter::builder()
                                        .filter_rules(rule(FilterRuleName::Prefix, entry.0))
                                        .filter_rules(rule(FilterRuleName::Suffix, entry.1))
                                        .build(),
                                )
                                .build(),
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .expect("PutBucketNotificationConfiguration");
    policy
}

async fn bucket_policy(aws: &Clients, bucket: &str) -> Option<String> {
    aws.s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy)
}

/// Every notification entry of the bucket, as (Id, topic, events, rules).
async fn entries(aws: &Clients, bucket: &str) -> Vec<(String, String, String)> {
    // moto answers an empty configuration with an empty body, which the
    // SDK cannot parse: that is no entries.
    let Ok(out) = aws
        .s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
    else {
        return Vec::new();
    };
    let mut entries: Vec<_> = out
        .topic_configurations()
        .iter()
        .map(|t| {
            (
                t.id().unwrap_or_default().to_owned(),
                t.topic_arn().to_owned(),
                format!("{:?} {:?}", t.events(), t.filter()),
            )
        })
        .collect();
    entries.sort();
    entries
}

fn statement_sids(policy: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(policy).unwrap();
    let mut sids: Vec<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or("").to_owned())
        .collect();
    sids.sort();
    sids
}

async fn queue_url(aws_sqs: &aws_sdk_sqs::Client) -> String {
    let urls = aws_sqs.list_queues().send().await.unwrap();
    urls.queue_urls()
        .iter()
        .find(|u| u.ends_with("/trailctl-default"))
        .expect("the queue")
        .clone()
}

/// The reused trail's settings as GetTrail returns them.
async fn corp_trail(aws: &Clients) -> String {
    let out = aws
        .cloudtrail
        .get_trail()
        .name("corp-trail")
        .send()
        .await
        .unwrap();
    format!("{:?}", out.trail())
}

fn log_key(prefix: &str) -> String {
    format!("{prefix}AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/24/{ACCOUNT}_CloudTrail_{REGION}_x.json.gz")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_bucket_keeps_others_statement_and_entry_exactly_through_setup_and_delete() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    corp_bucket(&emu, REGION, ("exports/", ".csv")).await;
    let entries_before = entries(&aws, CORP_BUCKET).await;

    let out = emu
        .trailctl()
        .args(setup_args(&[
            "--existing-bucket",
            CORP_BUCKET,
            "--delivery",
            "sqs",
        ]))
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Weak settings are reported, not changed.
    assert!(
        stderr.contains("reused bucket corp-logs: versioning is off"),
        "{stderr}"
    );
    assert!(
        stderr.contains("does not deny requests without TLS"),
        "{stderr}"
    );

    // The foreign statement is there byte for byte, beside trailctl's.
    let policy = bucket_policy(&aws, CORP_BUCKET).await.unwrap();
    assert!(policy.contains(FOREIGN_STATEMENT), "{policy}");
    assert_eq!(
        statement_sids(&policy),
        [
            "CorpAuditorRead",
            "TrailctlCloudTrailAclCheck",
            "TrailctlCloudTrailWrite"
        ]
    );
    // The foreign entry is unchanged, and trailctl's is added beside it.
    let after = entries(&aws, CORP_BUCKET).await;
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.contains(&entries_before[0]), "{after:?}");
    assert!(after.iter().any(|e| e.0 == "trailctl-default"), "{after:?}");
    // No other bucket setting is touched: no tag, no versioning.
    let tags = aws.s3.get_bucket_tagging().bucket(CORP_BUCKET).send().await;
    assert!(tags.map(|t| t.tag_set().is_empty()).unwrap_or(true));
    let versioning = aws
        .s3
        .get_bucket_versioning()
        .bucket(CORP_BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status(), None);
    // trailctl's trail writes to the reused bucket, and its files arrive.
    let trail = aws
        .cloudtrail
        .get_trail()
        .name("trailctl-default")
        .send()
        .await
        .unwrap();
    assert_eq!(trail.trail().unwrap().s3_bucket_name(), Some(CORP_BUCKET));
    let url = queue_url(&aws.sqs).await;
    let log = log_key("");
    put_log_objects(
        &aws,
        CORP_BUCKET,
        &[(&log, b"log"), ("exports/x.csv", b"x")],
    )
    .await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, [log]);

    // A re-run without the flag keeps the reuse and changes nothing.
    assert_eq!(
        mutating_calls_of(emu.trailctl().args(setup_args(&["--delivery", "sqs"]))),
        Vec::<String>::new()
    );

    // delete removes only trailctl's parts: the bucket, the foreign
    // statement and the foreign entry stay exactly as they were.
    let out = emu.trailctl().args(["delete", "--yes"]).output().unwrap();
    assert_success(&out);
    assert!(aws.bucket_names().await.contains(&CORP_BUCKET.to_owned()));
    let policy = bucket_policy(&aws, CORP_BUCKET).await.unwrap();
    assert!(policy.contains(FOREIGN_STATEMENT), "{policy}");
    assert_eq!(statement_sids(&policy), ["CorpAuditorRead"]);
    assert_eq!(entries(&aws, CORP_BUCKET).await, entries_before);
    assert!(aws.trail_names().await.is_empty());
    assert!(!aws
        .role_names()
        .await
        .contains(&"trailctl-default".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_multi_region_trail_is_recommended_then_reused_without_any_change() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    aws.s3
        .create_bucket()
        .bucket("corp-trail-logs")
        .send()
        .await
        .unwrap();
    aws.cloudtrail
        .create_trail()
        .name("corp-trail")
        .s3_bucket_name("corp-trail-logs")
        .s3_key_prefix("corp")
        .is_multi_region_trail(true)
        .include_global_service_events(true)
        .enable_log_file_validation(false)
        .send()
        .await
        .unwrap();
    aws.cloudtrail
        .start_logging()
        .name("corp-trail")
        .send()
        .await
        .unwrap();
    let trail_before = corp_trail(&aws).await;

    // Without flags: the trail is listed, and reusing it recommended.
    let out = emu
        .trailctl()
        .args(setup_args(&["--plan"]))
        .output()
        .unwrap();
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(
            "Trails in the account:\n  corp-trail  home us-east-1  all regions, management events"
        ),
        "{stdout}"
    );
    assert!(stderr.contains("trail corp-trail (home region us-east-1) already logs management events in every region"), "{stderr}");
    assert!(
        stderr.contains(
            "--existing-trail arn:aws:cloudtrail:us-east-1:123456789012:trail/corp-trail"
        ),
        "{stderr}"
    );

    // Reused: no trail is created and the trail is not changed.
    let out = emu
        .trailctl()
        .arg("-v")
        .args(["--output", "json"])
        .args(setup_args(&[
            "--existing-trail",
            "corp-trail",
            "--delivery",
            "sqs",
        ]))
        .output()
        .unwrap();
    assert_success(&out);
    let calls = mutating_calls(&out.stderr);
    assert!(
        !calls.iter().any(|c| [
            "CreateTrail",
            "UpdateTrail",
            "PutEventSelectors",
            "StartLogging",
            "AddTags",
            "PutBucketPolicy"
        ]
        .contains(&c.as_str())),
        "{calls:?}"
    );
    let report = json_stdout(&out);
    assert!(report["plan"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("log file validation is off")));
    assert_eq!(report["collector"]["bucket"], "corp-trail-logs");
    assert_eq!(
        report["collector"]["key_prefix"],
        format!("corp/AWSLogs/{ACCOUNT}/CloudTrail/")
    );
    assert_eq!(aws.trail_names().await, ["corp-trail"]);
    let trail_after = corp_trail(&aws).await;
    assert_eq!(trail_after, trail_before);
    let tags = aws
        .cloudtrail
        .list_tags()
        .resource_id_list("arn:aws:cloudtrail:us-east-1:123456789012:trail/corp-trail")
        .send()
        .await
        .unwrap();
    assert!(tags.resource_tag_list()[0].tags_list().is_empty());
    // The collector role records the reuse; the trail's files arrive.
    let role = aws
        .iam
        .get_role()
        .role_name("trailctl-default")
        .send()
        .await
        .unwrap();
    assert!(role
        .role()
        .unwrap()
        .tags()
        .iter()
        .any(|t| t.key() == "trailctl:existing-trail"
            && t.value() == "arn:aws:cloudtrail:us-east-1:123456789012:trail/corp-trail"));
    let url = queue_url(&aws.sqs).await;
    let (ours, other) = (log_key("corp/"), log_key(""));
    put_log_objects(
        &aws,
        "corp-trail-logs",
        &[(&ours, b"log"), (&other, b"log")],
    )
    .await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, [ours]);

    // status reads the reused trail and bucket where they are.
    let out = emu
        .trailctl()
        .args(["--output", "json", "status"])
        .output()
        .unwrap();
    let report = json_stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["bucket"], "corp-trail-logs");
    assert_eq!(report["verdict"], "active", "{report:#}");

    // A re-run without the flag keeps the reuse; delete keeps the trail.
    assert_eq!(
        mutating_calls_of(emu.trailctl().args(setup_args(&["--delivery", "sqs"]))),
        Vec::<String>::new()
    );
    let out = emu.trailctl().args(["delete", "--yes"]).output().unwrap();
    assert_success(&out);
    assert_eq!(aws.trail_names().await, ["corp-trail"]);
    assert!(aws
        .bucket_names()
        .await
        .contains(&"corp-trail-logs".to_owned()));
    assert!(entries(&aws, "corp-trail-logs").await.is_empty());
    assert_eq!(corp_trail(&aws).await, trail_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_entry_overlapping_ours_is_explained_in_the_plan_and_nothing_changes() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let policy = corp_bucket(&emu, REGION, ("AWSLogs/", ".gz")).await;
    let entries_before = entries(&aws, CORP_BUCKET).await;
    let everything_before = aws.everything().await;

    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&["--existing-bucket", CORP_BUCKET]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("corp-exports"), "{text}");
    assert!(text.contains("overlap"), "{text}");
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
    assert_eq!(entries(&aws, CORP_BUCKET).await, entries_before);
    assert_eq!(bucket_policy(&aws, CORP_BUCKET).await.unwrap(), policy);
    assert_eq!(aws.everything().await, everything_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_in_another_region_gets_its_topic_and_queue_in_that_region() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    corp_bucket(&emu, "eu-west-1", ("exports/", ".csv")).await;

    let out = emu
        .trailctl()
        .args(["--output", "json"])
        .args(setup_args(&[
            "--existing-bucket",
            CORP_BUCKET,
            "--delivery",
            "sqs",
        ]))
        .output()
        .unwrap();
    assert_success(&out);
    let report = json_stdout(&out);
    assert_eq!(report["collector"]["bucket_region"], "eu-west-1");
    assert_eq!(
        report["collector"]["topic_arn"],
        "arn:aws:sns:eu-west-1:123456789012:trailctl-default"
    );
    let queue = report["collector"]["queue_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(queue.contains("eu-west-1"), "{queue}");

    // The topic and the queue are in eu-west-1, none in the home region.
    let eu = emu.clients_in("eu-west-1").await;
    let eu_topics = eu.topic_arns().await;
    assert!(
        eu_topics.contains(&"arn:aws:sns:eu-west-1:123456789012:trailctl-default".to_owned()),
        "{eu_topics:?}"
    );
    assert!(!aws
        .topic_arns()
        .await
        .iter()
        .any(|t| t.ends_with(":trailctl-default")));
    assert!(queue.starts_with("https://sqs.eu-west-1."), "{queue}");
    let queue = queue_url(&eu.sqs).await;
    assert!(aws.queue_urls().await.is_empty());
    // The trail stays in the home region; a log file still arrives.
    assert_eq!(aws.trail_names().await, ["trailctl-default"]);
    let log = log_key("");
    put_log_objects(&eu, CORP_BUCKET, &[(&log, b"log")]).await;
    assert_eq!(delivered_keys(&eu.sqs, &queue).await, [log]);

    // A re-run without the queue finds it there (the role records the
    // region and the part) and removes it there.
    assert_success(&emu.trailctl().args(setup_args(&[])).output().unwrap());
    assert!(eu.queue_urls().await.is_empty());
    assert!(
        eu.topic_arns()
            .await
            .iter()
            .any(|t| t.ends_with(":trailctl-default")),
        "the topic stays"
    );

    // delete finds the rest there (recorded on the role) and removes it.
    let out = emu.trailctl().args(["delete", "--yes"]).output().unwrap();
    assert_success(&out);
    assert!(!eu
        .topic_arns()
        .await
        .iter()
        .any(|t| t.ends_with(":trailctl-default")));
    assert!(eu.queue_urls().await.is_empty());
    assert!(aws.bucket_names().await.contains(&CORP_BUCKET.to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn five_trails_in_the_home_region_refuse_a_sixth_before_any_change() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    aws.s3
        .create_bucket()
        .bucket("corp-trail-logs")
        .send()
        .await
        .unwrap();
    for n in 1..=5 {
        aws.cloudtrail
            .create_trail()
            .name(format!("corp-trail-{n}"))
            .s3_bucket_name("corp-trail-logs")
            .send()
            .await
            .unwrap();
    }
    let before = aws.everything().await;
    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&[]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("us-east-1 already has 5 trails"),
        "{stderr}"
    );
    assert!(stderr.contains("--existing-trail"), "{stderr}");
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
    assert_eq!(aws.everything().await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_topic_gets_our_subscription_and_statement_and_keeps_its_own() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    aws.sns
        .create_topic()
        .name("corp-alerts")
        .send()
        .await
        .unwrap();
    let attributes = |aws: &Clients| {
        let sns = aws.sns.clone();
        async move {
            sns.get_topic_attributes()
                .topic_arn(CORP_TOPIC)
                .send()
                .await
                .unwrap()
                .attributes()
                .unwrap()["Policy"]
                .clone()
        }
    };
    let policy_before = attributes(&aws).await;

    let out = emu
        .trailctl()
        .args(setup_args(&[
            "--existing-topic",
            CORP_TOPIC,
            "--delivery",
            "sqs",
        ]))
        .output()
        .unwrap();
    assert_success(&out);
    assert!(!aws
        .topic_arns()
        .await
        .iter()
        .any(|t| t.ends_with(":trailctl-default")));
    let policy = attributes(&aws).await;
    let before: Value = serde_json::from_str(&policy_before).unwrap();
    let after: Value = serde_json::from_str(&policy).unwrap();
    let statements = after["Statement"].as_array().unwrap();
    for theirs in before["Statement"].as_array().unwrap() {
        assert!(statements.contains(theirs), "{policy}");
    }
    assert!(
        statements.iter().any(|s| s["Sid"] == "TrailctlS3Publish"),
        "{policy}"
    );
    let subs = aws
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(CORP_TOPIC)
        .send()
        .await
        .unwrap();
    assert_eq!(subs.subscriptions().len(), 1);
    let url = queue_url(&aws.sqs).await;
    let log = log_key("");
    put_log_objects(&aws, BUCKET, &[(&log, b"log")]).await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, [log]);

    // pause and resume work with it, and leave it untagged: the pause is
    // recorded on the collector role.
    let out = emu.trailctl().args(["pause", "--yes"]).output().unwrap();
    assert_success(&out);
    assert!(aws
        .role_tag("trailctl-default", "trailctl:paused-at")
        .await
        .is_some());
    assert_eq!(aws.topic_tags(CORP_TOPIC).await, Vec::new());
    let during = log_key("").replace("_x.json", "_during.json");
    put_log_objects(&aws, BUCKET, &[(&during, b"log")]).await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, Vec::<String>::new());
    let out = emu
        .trailctl()
        .args(["resume", "--no-replay", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        aws.role_tag("trailctl-default", "trailctl:paused-at").await,
        None
    );
    assert_eq!(aws.topic_tags(CORP_TOPIC).await, Vec::new());
    let after = log_key("").replace("_x.json", "_after.json");
    put_log_objects(&aws, BUCKET, &[(&after, b"log")]).await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, [after]);

    // delete: the topic stays with its own policy; our subscription goes.
    let out = emu.trailctl().args(["delete", "--yes"]).output().unwrap();
    assert_success(&out);
    assert!(aws.topic_arns().await.contains(&CORP_TOPIC.to_owned()));
    let restored: Value = serde_json::from_str(&attributes(&aws).await).unwrap();
    assert_eq!(restored["Statement"], before["Statement"]);
    let subs = aws
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(CORP_TOPIC)
        .send()
        .await
        .unwrap();
    assert!(subs.subscriptions().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kms_encrypted_reused_bucket_lets_the_collector_decrypt_and_explains_the_key_policy() {
    use aws_sdk_s3::types::{
        ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
        ServerSideEncryptionRule,
    };
    let emu = Emulator::start();
    let aws = emu.clients().await;
    corp_bucket(&emu, REGION, ("exports/", ".csv")).await;
    // A bare key ID, as S3 may hold it: the role needs its ARN.
    aws.s3
        .put_bucket_encryption()
        .bucket(CORP_BUCKET)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id("1234abcd-12ab-34cd-56ef-1234567890ab")
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    let out = emu
        .trailctl()
        .args(setup_args(&["--existing-bucket", CORP_BUCKET]))
        .output()
        .unwrap();
    assert_success(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("encrypted with the KMS key {key}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("trailctl does not change key policies"),
        "{stderr}"
    );
    let policy = role_policy(&aws, "trailctl-default", "trailctl-read-logs").await;
    let decrypt = statement(&policy, "TrailctlDecryptLogObjects");
    assert_eq!(decrypt["Resource"], key);
    // The bucket's encryption is left as it was.
    let enc = aws
        .s3
        .get_bucket_encryption()
        .bucket(CORP_BUCKET)
        .send()
        .await
        .unwrap();
    let rule = &enc.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .kms_master_key_id(),
        Some("1234abcd-12ab-34cd-56ef-1234567890ab")
    );
}
