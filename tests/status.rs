//! `status`, `pause` and `resume` against the emulator: verdicts and their
//! exit codes, out-of-band breakage named check by check, and a pause that
//! loses nothing (counted through an SQS queue subscribed to the topic, as
//! a collector would).

mod common;

use common::*;
use serde_json::Value;

const SETUP: [&str; 4] = ["setup", "--collector-account", COLLECTOR, "--yes"];
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:trailctl-default";

fn setup(emu: &Emulator) {
    assert_success(&emu.trailctl().args(SETUP).output().unwrap());
}

/// `status --output json`: the exit code and the report.
fn status(emu: &Emulator) -> (i32, Value) {
    let out = emu
        .trailctl()
        .args(["-v", "--output", "json", "status"])
        .output()
        .unwrap();
    assert_eq!(
        mutating_calls(&out.stderr),
        Vec::<String>::new(),
        "status must only read"
    );
    (out.status.code().unwrap(), json_stdout(&out))
}

fn failed_checks(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn after_setup_status_is_active_waiting_then_active_with_logs() {
    let emu = Emulator::start();
    setup(&emu);
    let (code, report) = status(&emu);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "active");
    assert_eq!(report["summary"], "active, waiting for first delivery");
    assert!(failed_checks(&report).is_empty());

    let text = emu.trailctl().arg("status").output().unwrap();
    assert_eq!(text.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("no logs delivered yet — CloudTrail delivers about every 5 minutes"),
        "{stdout}"
    );

    let aws = emu.clients().await;
    let key = format!("{}{ACCOUNT}_CloudTrail_{REGION}_x.json.gz", todays_prefix());
    put_log_objects(&aws, BUCKET, &[(&key, b"{}")]).await;
    let (code, report) = status(&emu);
    assert_eq!(code, 0);
    assert_eq!(report["summary"], "active");
    let recent = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "recent logs")
        .unwrap();
    assert!(
        recent["detail"]
            .as_str()
            .unwrap()
            .starts_with("latest log file written at"),
        "{recent}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_out_of_band_break_makes_status_disconnected_with_its_reason() {
    type Break = fn(&Clients) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>;
    let cases: [(&str, Break, &str, &str); 5] = [
        (
            "bucket policy statement removed",
            |aws| {
                Box::pin(async move {
                    let policy = aws
                        .s3
                        .get_bucket_policy()
                        .bucket(BUCKET)
                        .send()
                        .await
                        .unwrap()
                        .policy
                        .unwrap();
                    let mut policy: Value = serde_json::from_str(&policy).unwrap();
                    policy["Statement"]
                        .as_array_mut()
                        .unwrap()
                        .retain(|s| s["Sid"] != "TrailctlDenyInsecureTransport");
                    aws.s3
                        .put_bucket_policy()
                        .bucket(BUCKET)
                        .policy(policy.to_string())
                        .send()
                        .await
                        .unwrap();
                })
            },
            "bucket trailctl-default-123456789012-us-east-1",
            "TrailctlDenyInsecureTransport",
        ),
        (
            "notification entry removed",
            |aws| {
                Box::pin(async move {
                    aws.s3
                        .put_bucket_notification_configuration()
                        .bucket(BUCKET)
                        .notification_configuration(
                            aws_sdk_s3::types::NotificationConfiguration::builder().build(),
                        )
                        .send()
                        .await
                        .unwrap();
                })
            },
            "notification trailctl-default",
            "missing",
        ),
        (
            "trail deleted",
            |aws| {
                Box::pin(async move {
                    aws.cloudtrail
                        .delete_trail()
                        .name("trailctl-default")
                        .send()
                        .await
                        .unwrap();
                })
            },
            "trail trailctl-default",
            "missing",
        ),
        (
            "trail logging stopped",
            |aws| {
                Box::pin(async move {
                    aws.cloudtrail
                        .stop_logging()
                        .name("trailctl-default")
                        .send()
                        .await
                        .unwrap();
                })
            },
            "trail logging",
            "stopped out of band",
        ),
        (
            "collector role deleted",
            |aws| {
                Box::pin(async move {
                    let role = "trailctl-default";
                    let inline = aws
                        .iam
                        .list_role_policies()
                        .role_name(role)
                        .send()
                        .await
                        .unwrap();
                    for name in inline.policy_names() {
                        aws.iam
                            .delete_role_policy()
                            .role_name(role)
                            .policy_name(name)
                            .send()
                            .await
                            .unwrap();
                    }
                    aws.iam.delete_role().role_name(role).send().await.unwrap();
                })
            },
            "role trailctl-default",
            "missing",
        ),
    ];
    for (what, break_it, check, reason) in cases {
        let emu = Emulator::start();
        setup(&emu);
        let aws = emu.clients().await;
        break_it(&aws).await;
        let (code, report) = status(&emu);
        assert_eq!(code, 11, "{what}: {report:#}");
        assert_eq!(report["verdict"], "disconnected", "{what}");
        let failed = failed_checks(&report);
        assert_eq!(
            failed.len(),
            1,
            "{what}: exactly one failed check: {failed:?}"
        );
        assert_eq!(failed[0].0, check, "{what}");
        assert!(failed[0].1.contains(reason), "{what}: {failed:?}");
        let fix = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == check)
            .unwrap()["fix"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(fix.contains("trailctl setup"), "{what}: {fix}");

        // And `setup` repairs it.
        setup(&emu);
        assert_eq!(status(&emu).0, 0, "{what}: repaired");
    }
}

async fn subscribe_queue(emu: &Emulator) -> (aws_sdk_sqs::Client, String) {
    let sqs = emu.clients().await.sqs;
    let url = sqs
        .create_queue()
        .queue_name("collector")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:collector");
    emu.clients()
        .await
        .sns
        .subscribe()
        .topic_arn(TOPIC)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .unwrap();
    (sqs, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_keeps_recording_and_resume_replays_what_was_missed() {
    let emu = Emulator::start();
    setup(&emu);
    let aws = emu.clients().await;
    let (sqs, queue) = subscribe_queue(&emu).await;
    delivered_keys(&sqs, &queue).await;

    // Delivery works before the pause.
    let before = format!("{}before.json.gz", todays_prefix());
    put_log_objects(&aws, BUCKET, &[(&before, b"{}")]).await;
    assert_eq!(
        delivered_keys(&sqs, &queue).await,
        std::slice::from_ref(&before)
    );

    let out = emu.trailctl().args(["pause", "--yes"]).output().unwrap();
    assert_success(&out);
    let (code, report) = status(&emu);
    assert_eq!(code, 10, "{report:#}");
    assert_eq!(report["verdict"], "paused");
    let since = report["paused_since"]["since"].as_str().unwrap().to_owned();
    // Recorded on the collector role, which is always the integration's own.
    assert_eq!(
        aws.role_tag("trailctl-default", "trailctl:paused-at").await,
        Some(since)
    );
    let trail = aws
        .cloudtrail
        .get_trail_status()
        .name("trailctl-default")
        .send()
        .await
        .unwrap();
    assert_eq!(trail.is_logging(), Some(true), "the trail keeps recording");

    // Pausing again changes nothing.
    let again = emu
        .trailctl()
        .args(["-v", "pause", "--yes"])
        .output()
        .unwrap();
    assert_success(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Already paused since"));
    assert_eq!(mutating_calls(&again.stderr), Vec::<String>::new());

    // Written during the pause: nothing reaches the collector...
    let during: Vec<String> = (1..=3)
        .map(|i| format!("{}during-{i}.json.gz", todays_prefix()))
        .collect();
    let objects: Vec<(&str, &[u8])> = during.iter().map(|k| (k.as_str(), &b"{}"[..])).collect();
    put_log_objects(&aws, BUCKET, &objects).await;
    assert_eq!(delivered_keys(&sqs, &queue).await, Vec::<String>::new());

    // ...until resume replays exactly those files.
    let out = emu
        .trailctl()
        .args(["--output", "json", "resume", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    let report = json_stdout(&out);
    // The pause records whole seconds and replays from the start of its
    // second, so `before`, written in that same second, may come again: a
    // duplicate rather than a loss.
    let mut replayed = delivered_keys(&sqs, &queue).await;
    replayed.retain(|k| *k != before);
    assert_eq!(replayed, during, "{report:#}");
    let found = report["replay"]["found"].as_u64().unwrap();
    assert!(found == 3 || found == 4, "{report:#}");
    assert_eq!(report["replay"]["sent"], report["replay"]["found"]);
    let (code, report) = status(&emu);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "active");
    assert_eq!(
        aws.role_tag("trailctl-default", "trailctl:paused-at").await,
        None
    );

    // Delivery works after it, as setup left it.
    let after = format!("{}after.json.gz", todays_prefix());
    put_log_objects(&aws, BUCKET, &[(&after, b"{}")]).await;
    assert_eq!(delivered_keys(&sqs, &queue).await, [after]);

    // Resuming an active integration changes nothing and replays nothing.
    let out = emu
        .trailctl()
        .args(["-v", "resume", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("not paused"));
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_stop_logging_stops_the_trail_and_resume_restarts_it() {
    let emu = Emulator::start();
    setup(&emu);
    let aws = emu.clients().await;
    assert_success(
        &emu.trailctl()
            .args(["pause", "--stop-logging", "--yes"])
            .output()
            .unwrap(),
    );
    let logging = || async {
        aws.cloudtrail
            .get_trail_status()
            .name("trailctl-default")
            .send()
            .await
            .unwrap()
            .is_logging()
    };
    assert_eq!(logging().await, Some(false));
    let (code, report) = status(&emu);
    assert_eq!(code, 10, "{report:#}");
    // A paused integration is not "repaired" by setup: setup keeps the pause.
    assert_eq!(
        mutating_calls_of(emu.trailctl().args(SETUP)),
        Vec::<String>::new()
    );

    assert_success(
        &emu.trailctl()
            .args(["resume", "--no-replay", "--yes"])
            .output()
            .unwrap(),
    );
    assert_eq!(logging().await, Some(true));
    assert_eq!(status(&emu).0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_delete_status_is_deleted_and_notes_the_retained_bucket() {
    let emu = Emulator::start();
    setup(&emu);
    assert_success(&emu.trailctl().args(["delete", "--yes"]).output().unwrap());
    let (code, report) = status(&emu);
    assert_eq!(code, 12, "{report:#}");
    assert_eq!(report["verdict"], "deleted");
    assert!(
        report["summary"]
            .as_str()
            .unwrap()
            .contains("log bucket trailctl-default-123456789012-us-east-1 is retained"),
        "{report:#}"
    );

    assert_success(
        &emu.trailctl()
            .args(["delete", "--delete-logs", "--yes"])
            .output()
            .unwrap(),
    );
    let (code, report) = status(&emu);
    assert_eq!(code, 12);
    assert_eq!(report["summary"], "deleted");
}
