//! Delivery to the collector against the emulator: the SQS queue (pull),
//! the Lambda forwarder (push) and CloudWatch Logs. Every property is read
//! back through the SDK; what reaches the queue is counted on the queue.

mod common;

use common::*;
use serde_json::Value;

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:trailctl-default";
const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:trailctl-default";
const DLQ_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:trailctl-default-dlq";
const FUNCTION: &str = "trailctl-default";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:trailctl-default";
const FORWARD_URL: &str = "https://collector.example.com/ingest";
const TOKEN: &str = "tok-3f9a2c71d0";
const TOKEN_PARAMETER: &str = "/trailctl/default/forward-token";
const TRAIL_LOG_GROUP: &str = "/trailctl/default/cloudtrail";

fn setup_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["setup", "--collector-account", COLLECTOR, "--yes"];
    args.extend_from_slice(extra);
    args
}

const HTTPS: [&str; 4] = ["--delivery", "https", "--forward-url", FORWARD_URL];

/// A run with the token in the environment, as the README says to give it.
fn with_token(emu: &Emulator, extra: &[&str]) -> std::process::Output {
    emu.trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
        .args(setup_args(extra))
        .output()
        .unwrap()
}

async fn trust(aws: &Clients, role: &str) -> Value {
    let out = aws.iam.get_role().role_name(role).send().await.unwrap();
    parse_policy(out.role().unwrap().assume_role_policy_document().unwrap())
}

/// The forwarder's resource policy: who may invoke it.
async fn function_policy(aws: &Clients) -> Value {
    let out = aws
        .lambda
        .get_policy()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    serde_json::from_str(out.policy().unwrap()).unwrap()
}

/// The token parameter, decrypted.
async fn stored_token(aws: &Clients) -> aws_sdk_ssm::types::Parameter {
    aws.ssm
        .get_parameter()
        .name(TOKEN_PARAMETER)
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap()
}

async fn subscriptions(aws: &Clients) -> Vec<(String, String, String)> {
    let out = aws
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(TOPIC)
        .send()
        .await
        .unwrap();
    let mut subs: Vec<_> = out
        .subscriptions()
        .iter()
        .map(|s| {
            (
                s.protocol().unwrap().to_owned(),
                s.endpoint().unwrap().to_owned(),
                s.subscription_arn().unwrap().to_owned(),
            )
        })
        .collect();
    subs.sort();
    subs
}

#[tokio::test(flavor = "multi_thread")]
async fn sqs_delivery_builds_the_queue_and_only_log_files_reach_it() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(["--output", "json"])
        .args(setup_args(&["--delivery", "sqs"]))
        .output()
        .unwrap();
    assert_success(&out);
    let report = json_stdout(&out);
    let url = report["collector"]["queue_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.ends_with("/123456789012/trailctl-default"), "{url}");

    let aws = emu.clients().await;
    let attributes = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    let get = |name: &str| attributes[&aws_sdk_sqs::types::QueueAttributeName::from(name)].clone();
    assert_eq!(get("SqsManagedSseEnabled"), "true");
    let redrive: Value = serde_json::from_str(&get("RedrivePolicy")).unwrap();
    assert_eq!(redrive["deadLetterTargetArn"], DLQ_ARN);
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    let policy: Value = serde_json::from_str(&get("Policy")).unwrap();
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "sns.amazonaws.com");
    assert_eq!(statement["Action"], "sqs:SendMessage");
    assert_eq!(statement["Condition"]["ArnEquals"]["aws:SourceArn"], TOPIC);
    let dlq_url = url.replace("trailctl-default", "trailctl-default-dlq");
    let dlq = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::SqsManagedSseEnabled)
        .send()
        .await
        .unwrap();
    assert_eq!(
        dlq.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::SqsManagedSseEnabled],
        "true"
    );
    let tags = aws
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().unwrap()["trailctl:integration"], "default");

    // Raw delivery: the collector receives S3's event itself.
    let subs = subscriptions(&aws).await;
    assert_eq!(subs.len(), 1);
    assert_eq!((subs[0].0.as_str(), subs[0].1.as_str()), ("sqs", QUEUE_ARN));
    let sub = aws
        .sns
        .get_subscription_attributes()
        .subscription_arn(&subs[0].2)
        .send()
        .await
        .unwrap();
    assert_eq!(sub.attributes().unwrap()["RawMessageDelivery"], "true");

    // The collector role may receive from the queue, and only from it.
    let permissions = role_policy(&aws, "trailctl-default", "trailctl-read-logs").await;
    let receive = permissions["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "TrailctlReceiveFromQueue")
        .unwrap();
    assert_eq!(receive["Resource"], QUEUE_ARN);
    assert_eq!(
        receive["Action"],
        serde_json::json!([
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes"
        ])
    );

    // A log file produces one message naming it; a digest file none.
    let log =
        format!("AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/24/{ACCOUNT}_CloudTrail_x.json.gz");
    let digest =
        format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2026/11/24/{ACCOUNT}_CloudTrail-Digest_x.json.gz");
    put_log_objects(&aws, BUCKET, &[(&log, b"log"), (&digest, b"digest")]).await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, [log]);

    // A re-run changes nothing.
    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&["--delivery", "sqs"]))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
    assert!(String::from_utf8_lossy(&out.stdout).contains("No changes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn https_delivery_builds_the_forwarder_and_keeps_the_token_out_of_sight() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
        .args(["-v", "--output", "json"])
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_success(&out);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(TOKEN), "the token was printed");
    assert_eq!(json_stdout(&out)["collector"]["forward_url"], FORWARD_URL);

    let aws = emu.clients().await;
    let function = aws
        .lambda
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let config = function.configuration().unwrap();
    assert!(config.runtime().unwrap().as_str().starts_with("python3."));
    assert_eq!(config.memory_size(), Some(128));
    assert_eq!(config.timeout(), Some(120));
    assert_eq!(config.handler(), Some("trailctl_forwarder.handler"));
    assert_eq!(
        config.role(),
        Some("arn:aws:iam::123456789012:role/trailctl-default-forwarder")
    );
    let variables = config.environment().unwrap().variables().unwrap();
    assert_eq!(variables["TRAILCTL_FORWARD_URL"], FORWARD_URL);
    assert_eq!(variables["TRAILCTL_TOKEN_PARAMETER"], TOKEN_PARAMETER);
    assert!(
        variables.values().all(|v| !v.contains(TOKEN)),
        "the token is in the function's configuration"
    );
    assert_eq!(function.tags().unwrap()["trailctl:integration"], "default");

    // The token: a SecureString the function reads.
    let parameter = stored_token(&aws).await;
    assert_eq!(
        parameter.r#type(),
        Some(&aws_sdk_ssm::types::ParameterType::SecureString)
    );
    assert_eq!(parameter.value(), Some(TOKEN));

    // Only the topic may invoke it, and it is subscribed.
    let policy = function_policy(&aws).await;
    let statement = &policy["Statement"][0];
    assert_eq!(statement["Principal"]["Service"], "sns.amazonaws.com");
    assert_eq!(statement["Condition"]["ArnLike"]["AWS:SourceArn"], TOPIC);
    let subs = subscriptions(&aws).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(
        (subs[0].0.as_str(), subs[0].1.as_str()),
        ("lambda", FUNCTION_ARN)
    );

    // Its role: Lambda for this account only; read logs and the token,
    // write its own log group.
    let trust = trust(&aws, "trailctl-default-forwarder").await;
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );
    let permissions = role_policy(&aws, "trailctl-default-forwarder", "trailctl-forwarder").await;
    let resources: Vec<_> = permissions["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["Action"].to_string(),
                s["Resource"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        resources,
        [
            (
                "\"s3:GetObject\"".into(),
                format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/*")
            ),
            (
                "\"ssm:GetParameter\"".into(),
                format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{TOKEN_PARAMETER}")
            ),
            (
                "[\"logs:CreateLogStream\",\"logs:PutLogEvents\"]".into(),
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/trailctl-default:log-stream:*")
            ),
        ]
    );

    // Its log group exists before the first invocation, with a retention.
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/trailctl-default")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));

    // Status sees it all; a re-run without the token keeps it and changes nothing.
    assert_eq!(
        emu.trailctl().arg("status").output().unwrap().status.code(),
        Some(0)
    );
    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());

    // A new token replaces the stored one, and nothing else changes.
    let out = emu
        .trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", "rotated-token")
        .args(["-v"])
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(mutating_calls(&out.stderr), ["PutParameter"]);
    assert_eq!(stored_token(&aws).await.value(), Some("rotated-token"));
}

#[tokio::test(flavor = "multi_thread")]
async fn changed_code_is_redeployed_and_unchanged_code_is_not() {
    let emu = Emulator::start();
    assert_success(&with_token(&emu, &HTTPS));
    let aws = emu.clients().await;
    let deployed = |aws: &Clients| {
        let lambda = aws.lambda.clone();
        async move {
            lambda
                .get_function()
                .function_name(FUNCTION)
                .send()
                .await
                .unwrap()
                .configuration()
                .unwrap()
                .code_sha256()
                .unwrap()
                .to_owned()
        }
    };
    let original = deployed(&aws).await;
    // Someone deploys other code.
    aws.lambda
        .update_function_code()
        .function_name(FUNCTION)
        .zip_file(aws_sdk_lambda::primitives::Blob::new(
            b"PK\x05\x06other".to_vec(),
        ))
        .send()
        .await
        .unwrap();
    assert_ne!(deployed(&aws).await, original);

    let out = emu
        .trailctl()
        .args(["--output", "json"])
        .args(setup_args(&HTTPS))
        .arg("--plan")
        .output()
        .unwrap();
    let plan = json_stdout(&out);
    let function = plan["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "function")
        .unwrap();
    assert_eq!(function["action"], "update");
    assert_eq!(function["changes"][0]["field"], "code (SHA-256)");

    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(mutating_calls(&out.stderr), ["UpdateFunctionCode"]);
    assert_eq!(deployed(&aws).await, original);
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_logs_delivers_the_trail_to_a_group_the_forwarder_subscribes() {
    let emu = Emulator::start();
    let mut args = HTTPS.to_vec();
    args.push("--cloudwatch-logs");
    assert_success(&with_token(&emu, &args));
    let aws = emu.clients().await;

    let group_arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{TRAIL_LOG_GROUP}:*");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/trailctl-default-cloudtrail-logs");
    let trail = aws
        .cloudtrail
        .get_trail()
        .name("trailctl-default")
        .send()
        .await
        .unwrap()
        .trail
        .unwrap();
    assert_eq!(
        trail.cloud_watch_logs_log_group_arn(),
        Some(group_arn.as_str())
    );
    assert_eq!(trail.cloud_watch_logs_role_arn(), Some(role_arn.as_str()));

    let trust = trust(&aws, "trailctl-default-cloudtrail-logs").await;
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "cloudtrail.amazonaws.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"],
        ACCOUNT
    );

    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(TRAIL_LOG_GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(30));
    let filters = aws
        .logs
        .describe_subscription_filters()
        .log_group_name(TRAIL_LOG_GROUP)
        .send()
        .await
        .unwrap();
    assert_eq!(filters.subscription_filters().len(), 1);
    assert_eq!(
        filters.subscription_filters()[0].destination_arn(),
        Some(FUNCTION_ARN)
    );

    // CloudWatch Logs may invoke the forwarder, for this log group only.
    let policy = function_policy(&aws).await;
    let logs = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Principal"]["Service"] == "logs.amazonaws.com")
        .expect("a statement for CloudWatch Logs");
    assert_eq!(logs["Condition"]["ArnLike"]["AWS:SourceArn"], group_arn);

    assert_eq!(
        mutating_calls_of(
            emu.trailctl()
                .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
                .args(setup_args(&args))
        ),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_from_sqs_to_https_replaces_the_queue_with_the_forwarder_and_delete_removes_all()
{
    let emu = Emulator::start();
    assert_success(
        &emu.trailctl()
            .args(setup_args(&["--delivery", "sqs"]))
            .output()
            .unwrap(),
    );

    let out = emu
        .trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
        .args(["--output", "json"])
        .args(setup_args(&HTTPS))
        .arg("--plan")
        .output()
        .unwrap();
    let plan = json_stdout(&out);
    let mut changes: Vec<(String, String, String)> = plan["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "no_change")
        .map(|s| {
            (
                s["action"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
                s["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    changes.sort();
    let expected: Vec<(String, String, String)> = [
        ("create", "function", "trailctl-default"),
        ("create", "log_group", "/aws/lambda/trailctl-default"),
        ("create", "parameter", TOKEN_PARAMETER),
        ("create", "role", "trailctl-default-forwarder"),
        ("create", "subscription", "lambda trailctl-default"),
        ("delete", "queue", "trailctl-default"),
        ("delete", "subscription", "sqs trailctl-default"),
        // Its policy drops the queue now; its parts record changes last.
        ("update", "role", "trailctl-default"),
        ("update", "role", "trailctl-default"),
    ]
    .iter()
    .map(|(a, k, n)| (a.to_string(), k.to_string(), n.to_string()))
    .collect();
    assert_eq!(changes, expected);
    let records: Vec<_> = plan["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["changes"].as_array().unwrap())
        .filter(|c| c["field"] == "parts record")
        .map(|c| (c["from"].as_str().unwrap(), c["to"].as_str().unwrap()))
        .collect();
    assert_eq!(records, [("queue", "forwarder")]);

    assert_success(&with_token(&emu, &HTTPS));
    let aws = emu.clients().await;
    assert_eq!(
        aws.queue_urls().await,
        Vec::<String>::new(),
        "queue and DLQ are gone"
    );
    assert_eq!(aws.function_names().await, [FUNCTION]);
    let subs = subscriptions(&aws).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].0, "lambda");

    let out = emu.trailctl().args(["delete", "--yes"]).output().unwrap();
    assert_success(&out);
    assert_eq!(
        aws.everything().await,
        [BUCKET],
        "only the log bucket is kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_lambda_cannot_assume_yet_is_retried_fault_injected_because_moto_never_delays_iam() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
        .env(
            "TRAILCTL_TEST_ERROR",
            "CreateFunction:InvalidParameterValueException:2",
        )
        .arg("-v")
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(calls_to(&out.stderr, "CreateFunction"), 3);
    assert_eq!(emu.clients().await.function_names().await, [FUNCTION]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_forwarder_without_a_token_is_refused_and_nothing_is_created() {
    let emu = Emulator::start();
    let out = emu.trailctl().args(setup_args(&HTTPS)).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TRAILCTL_FORWARD_TOKEN"));
    let aws = emu.clients().await;
    assert_eq!(aws.everything().await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_can_come_from_stdin() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .args(setup_args(&HTTPS))
        .arg("--forward-token-stdin")
        .write_stdin(format!("{TOKEN}\n"))
        .output()
        .unwrap();
    assert_success(&out);
    let aws = emu.clients().await;
    assert_eq!(stored_token(&aws).await.value(), Some(TOKEN));
}

async fn trail_log_group_filters(aws: &Clients) -> usize {
    aws.logs
        .describe_subscription_filters()
        .log_group_name(TRAIL_LOG_GROUP)
        .send()
        .await
        .unwrap()
        .subscription_filters()
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_stops_the_cloudwatch_logs_feed_and_resume_restores_it_and_replays_to_the_forwarder()
{
    let emu = Emulator::start();
    emu.invoke_functions_without_running_them();
    let mut args = HTTPS.to_vec();
    args.push("--cloudwatch-logs");
    assert_success(&with_token(&emu, &args));
    let aws = emu.clients().await;
    assert_eq!(trail_log_group_filters(&aws).await, 1);
    // Fed by CloudWatch Logs, the forwarder is not also on the topic (it
    // would post every event twice).
    assert_eq!(subscriptions(&aws).await, Vec::new());

    assert_success(&emu.trailctl().args(["pause", "--yes"]).output().unwrap());
    assert_eq!(trail_log_group_filters(&aws).await, 0);
    assert_eq!(aws.notification_ids(BUCKET).await, Vec::<String>::new());

    // A setup while paused keeps the pause.
    assert_eq!(
        mutating_calls_of(emu.trailctl().args(setup_args(&args))),
        Vec::<String>::new()
    );

    let missed = format!("{}{ACCOUNT}_CloudTrail_missed.json.gz", todays_prefix());
    put_log_objects(&aws, BUCKET, &[(&missed, b"missed")]).await;
    let out = emu
        .trailctl()
        .args(["-v", "resume", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(trail_log_group_filters(&aws).await, 1);
    assert_eq!(
        calls_to(&out.stderr, "Invoke"),
        1,
        "the missed file went to the forwarder"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_forwarder_setup_converges_when_run_again() {
    let emu = Emulator::start();
    // The process dies as the function is created: the journal names the
    // queue-less forwarder's parts (parameter, role, log group, function),
    // and the next run must read it back.
    let out = emu
        .trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
        .env("TRAILCTL_TEST_CRASH_OPERATION", "CreateFunction")
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137));
    let aws = emu.clients().await;
    assert!(
        aws.function_names().await.is_empty(),
        "the crash came first"
    );

    assert_success(&with_token(&emu, &HTTPS));
    assert_eq!(aws.function_names().await, [FUNCTION]);
    assert!(
        mutating_calls_of(emu.trailctl().args(setup_args(&HTTPS))).is_empty(),
        "converged"
    );
}

/// What the collector role records as the integration's optional parts.
async fn parts_record(aws: &Clients) -> Option<String> {
    aws.role_tag("trailctl-default", "trailctl:parts").await
}

/// The services of the optional parts: a run that needs none of them calls
/// none of them.
fn part_calls(stderr: &[u8]) -> Vec<String> {
    logged_calls(stderr)
        .into_iter()
        .filter(|(service, _)| {
            ["SQS", "Lambda", "CloudWatch Logs", "SSM"].contains(&service.as_str())
        })
        .map(|(service, op)| format!("{service} {op}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_setup_reads_only_the_parts_it_asks_for_or_the_role_records() {
    let emu = Emulator::start();
    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&[]))
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(part_calls(&out.stderr), Vec::<String>::new());
    let aws = emu.clients().await;
    assert_eq!(parts_record(&aws).await.as_deref(), Some("none"));

    // The forwarder added: its parts are read and recorded.
    let out = emu
        .trailctl()
        .env("TRAILCTL_FORWARD_TOKEN", TOKEN)
        .arg("-v")
        .args(setup_args(&HTTPS))
        .output()
        .unwrap();
    assert_success(&out);
    let reads = part_calls(&out.stderr);
    assert!(
        reads.contains(&"Lambda GetFunction".to_owned()),
        "{reads:?}"
    );
    assert!(!reads.iter().any(|c| c.starts_with("SQS")), "{reads:?}");
    assert_eq!(parts_record(&aws).await.as_deref(), Some("forwarder"));

    // Dropping it: the core run reads what the role records and removes it;
    // the process dies as the function is deleted.
    let out = emu
        .trailctl()
        .env("TRAILCTL_TEST_CRASH_OPERATION", "DeleteFunction")
        .args(setup_args(&[]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137));
    assert_eq!(
        parts_record(&aws).await.as_deref(),
        Some("forwarder"),
        "the record is written last, so it still lists the forwarder"
    );
    assert_eq!(aws.function_names().await, [FUNCTION]);

    // The re-run finds the rest and converges.
    assert_success(&emu.trailctl().args(setup_args(&[])).output().unwrap());
    assert_eq!(aws.function_names().await, Vec::<String>::new());
    assert_eq!(aws.parameter_names().await, Vec::<String>::new());
    assert_eq!(aws.role_names().await, ["trailctl-default"]);
    assert_eq!(parts_record(&aws).await.as_deref(), Some("none"));
    let out = emu
        .trailctl()
        .arg("-v")
        .args(setup_args(&[]))
        .output()
        .unwrap();
    assert_success(&out);
    assert!(mutating_calls(&out.stderr).is_empty(), "converged");
    assert_eq!(part_calls(&out.stderr), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collector_role_without_a_parts_record_has_every_part_read() {
    let emu = Emulator::start();
    assert_success(&with_token(&emu, &HTTPS));
    let aws = emu.clients().await;
    // As an integration made before the record existed.
    aws.iam
        .untag_role()
        .role_name("trailctl-default")
        .tag_keys("trailctl:parts")
        .send()
        .await
        .unwrap();

    assert_success(&emu.trailctl().args(setup_args(&[])).output().unwrap());
    assert_eq!(aws.function_names().await, Vec::<String>::new());
    assert_eq!(aws.role_names().await, ["trailctl-default"]);
    assert_eq!(parts_record(&aws).await.as_deref(), Some("none"));
}
