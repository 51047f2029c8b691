//! `delete` against the emulator: what it removes, what it keeps.

mod common;

use common::*;

async fn setup(emu: &Emulator) {
    emu.trailctl()
        .args(["setup", "--collector-account", COLLECTOR, "--yes"])
        .assert()
        .success();
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_removes_everything_but_the_bucket_and_its_logs() {
    let emu = Emulator::start();
    setup(&emu).await;
    let aws = emu.clients().await;
    let key = format!("AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/24/log.json.gz");
    put_log_objects(&aws, BUCKET, &[(&key, b"x")]).await;

    let out = emu
        .trailctl()
        .args(["delete", "--yes", "-v"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(
        calls_to(&out.stderr, "GetTrail"),
        1,
        "the trail is read once, bucket lookup included"
    );
    assert_eq!(aws.everything().await, [BUCKET]);
    let listed = aws
        .s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [key.as_str()], "the log survives");
    assert!(
        aws.notification_ids(BUCKET).await.is_empty(),
        "our notification entry is gone"
    );

    // Nothing left to do: a second delete plans nothing and calls nothing mutating.
    assert!(mutating_calls_of(emu.trailctl().args(["delete", "--yes"])).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_logs_empties_and_removes_the_bucket_versions_included() {
    let emu = Emulator::start();
    setup(&emu).await;
    let aws = emu.clients().await;
    let key = format!("AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/24/log.json.gz");
    put_log_objects(&aws, BUCKET, &[(&key, b"one"), (&key, b"two")]).await;
    let policy = aws
        .s3
        .get_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    aws.s3
        .delete_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    aws.s3
        .delete_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap(); // a delete marker
    aws.s3
        .put_bucket_policy()
        .bucket(BUCKET)
        .policy(policy)
        .send()
        .await
        .unwrap();
    let versions = aws
        .s3
        .list_object_versions()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len() + versions.delete_markers().len(),
        3
    );

    emu.trailctl()
        .args(["delete", "--delete-logs", "--yes"])
        .assert()
        .success();
    assert!(aws.everything().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untagged_bucket_with_the_same_name_survives_delete() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    aws.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    aws.s3
        .put_object()
        .bucket(BUCKET)
        .key("precious")
        .body(b"data".to_vec().into())
        .send()
        .await
        .unwrap();

    let out = emu
        .trailctl()
        .args(["delete", "--delete-logs", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("without the tag"));
    assert_eq!(aws.bucket_names().await, [BUCKET]);
    aws.s3
        .head_object()
        .bucket(BUCKET)
        .key("precious")
        .send()
        .await
        .expect("untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_leaves_other_notification_entries_and_untagged_roles_alone() {
    let emu = Emulator::start();
    setup(&emu).await;
    let aws = emu.clients().await;
    // Another tool's entry on the same bucket, added after setup.
    let other_topic = aws
        .sns
        .create_topic()
        .name("other-tool")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let mut config = aws
        .s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let mut topics = config.topic_configurations.take().unwrap_or_default();
    topics.push(
        aws_sdk_s3::types::TopicConfiguration::builder()
            .id("other-tool")
            .topic_arn(&other_topic)
            .events(aws_sdk_s3::types::Event::from("s3:ObjectRemoved:*"))
            .build()
            .unwrap(),
    );
    aws.s3
        .put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            aws_sdk_s3::types::NotificationConfiguration::builder()
                .set_topic_configurations(Some(topics))
                .build(),
        )
        .send()
        .await
        .unwrap();

    emu.trailctl().args(["delete", "--yes"]).assert().success();
    assert_eq!(aws.notification_ids(BUCKET).await, ["other-tool"]);
    assert_eq!(aws.topic_arns().await, [other_topic]);
}
