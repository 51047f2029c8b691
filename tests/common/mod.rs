//! Test harness: a fresh moto server per test on a free loopback port, the
//! real `trailctl` binary pointed at it, and SDK clients to read the
//! resulting AWS state back.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
pub const COLLECTOR: &str = "111122223333";
pub const BUCKET: &str = "trailctl-default-123456789012-us-east-1";

/// The `trailctl` under test: the one cargo built for these tests, or the
/// one `TRAILCTL_TEST_BINARY` names, so that the suite can run against the
/// shipped build (`TRAILCTL_TEST_BINARY=$(scripts/release-build) cargo test
/// --tests`). The tests that inject faults need the debug build's hook
/// (`src/aws.rs`) and fail against a release build.
pub fn trailctl_binary() -> assert_cmd::Command {
    match std::env::var_os("TRAILCTL_TEST_BINARY") {
        Some(path) => assert_cmd::Command::new(path),
        None => assert_cmd::Command::cargo_bin("trailctl").expect("binary"),
    }
}

pub struct Emulator {
    child: Child,
    pub url: String,
    pub state_dir: tempfile::TempDir,
    /// An IAM user allowed everything: trailctl and the read-back clients
    /// run as it, so the preflight sees a real principal with policies.
    pub admin: Keys,
}

/// An access key of an IAM user created in the emulator.
#[derive(Debug, Clone)]
pub struct Keys {
    pub id: String,
    pub secret: String,
}

fn moto_server() -> PathBuf {
    std::env::var_os("TRAILCTL_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/moto-server"))
}

impl Emulator {
    /// Start moto on port 0 and learn the real port from its banner, so
    /// parallel tests never race for a port.
    pub fn start() -> Self {
        let server = moto_server();
        let mut child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} (run scripts/test to install it): {e}",
                    server.display()
                )
            });
        let (tx, rx) = mpsc::channel();
        let outputs: [Box<dyn std::io::Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for out in outputs {
            let tx = tx.clone();
            // Keep draining after the banner so moto never blocks on a full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                        let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                        let _ = tx.send(port);
                    }
                }
            });
        }
        let port = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("moto did not report its port within 60 s");
        let url = format!("http://127.0.0.1:{port}");
        let admin = create_user(
            &url,
            "trailctl-tests-admin",
            serde_json::json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"}
            ]}),
        );
        Self {
            child,
            url,
            state_dir: tempfile::tempdir().expect("temp dir"),
            admin,
        }
    }

    /// Create an IAM user with one inline policy and an access key.
    pub fn create_user(&self, name: &str, policy: serde_json::Value) -> Keys {
        create_user(&self.url, name, policy)
    }

    /// From now on, authorise every request against the caller's IAM
    /// policies (moto's `INITIAL_NO_AUTH_ACTION_COUNT`, reset to 0 through
    /// its admin API).
    pub fn enforce_iam(&self) {
        self.moto_api("reset-auth", "0", "HTTP/1.1 200");
    }

    /// Invoking a function answers without running it (moto would start a
    /// Docker container): enough to see that trailctl invokes it.
    pub fn invoke_functions_without_running_them(&self) {
        self.moto_api(
            "config",
            r#"{"lambda": {"use_docker": false}}"#,
            "HTTP/1.1 201",
        );
    }

    /// POST `body` to moto's admin API and expect `status`.
    fn moto_api(&self, path: &str, body: &str, status: &str) {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to moto");
        write!(
            stream,
            "POST /moto-api/{path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send to moto's API");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read moto's API answer");
        assert!(response.starts_with(status), "{path}: {response}");
    }

    /// `trailctl` against this emulator, with a clean AWS environment.
    pub fn trailctl(&self) -> assert_cmd::Command {
        let mut cmd = trailctl_binary();
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("AWS_") || key.starts_with("TRAILCTL_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("AWS_ACCESS_KEY_ID", &self.admin.id)
            .env("AWS_SECRET_ACCESS_KEY", &self.admin.secret)
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TRAILCTL_STATE_DIR", self.state_dir.path())
            .env("NO_COLOR", "1")
            .args(["--region", REGION, "--endpoint-url", &self.url]);
        cmd
    }

    /// `trailctl` as another IAM user of the emulator.
    pub fn trailctl_as(&self, keys: &Keys) -> assert_cmd::Command {
        let mut cmd = self.trailctl();
        cmd.env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret);
        cmd
    }

    /// SDK clients on the emulator, to read state back (as the admin).
    pub async fn clients(&self) -> Clients {
        Clients::new(&self.url, &self.admin.id, &self.admin.secret).await
    }

    /// SDK clients on the emulator in another region than the home region.
    pub async fn clients_in(&self, region: &str) -> Clients {
        Clients::new_in(&self.url, &self.admin.id, &self.admin.secret, region).await
    }
}

/// Create the user on a thread of its own, so that both plain and async
/// tests can call it.
fn create_user(url: &str, name: &str, policy: serde_json::Value) -> Keys {
    let (url, name) = (url.to_owned(), name.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            // Before enforcement any key will do; after it, the admin's.
            let iam = Clients::new(&url, "testing", "testing").await.iam;
            iam.create_user()
                .user_name(&name)
                .send()
                .await
                .expect("CreateUser");
            iam.put_user_policy()
                .user_name(&name)
                .policy_name("test-permissions")
                .policy_document(policy.to_string())
                .send()
                .await
                .expect("PutUserPolicy");
            let key = iam
                .create_access_key()
                .user_name(&name)
                .send()
                .await
                .expect("CreateAccessKey");
            let key = key.access_key().expect("access key");
            Keys {
                id: key.access_key_id().to_owned(),
                secret: key.secret_access_key().to_owned(),
            }
        })
    })
    .join()
    .expect("creating a test user")
}

impl Clients {
    pub async fn new(url: &str, key_id: &str, secret: &str) -> Self {
        Self::new_in(url, key_id, secret, REGION).await
    }

    pub async fn new_in(url: &str, key_id: &str, secret: &str, region: &str) -> Self {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(https_client())
            .region(aws_config::Region::new(region.to_owned()))
            .endpoint_url(url)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                key_id, secret, None, None, "tests",
            ))
            .load()
            .await;
        Clients {
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(true)
                    .build(),
            ),
            sns: aws_sdk_sns::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            cloudtrail: aws_sdk_cloudtrail::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            ssm: aws_sdk_ssm::Client::new(&sdk),
            organizations: aws_sdk_organizations::Client::new(&sdk),
            sts: aws_sdk_sts::Client::new(&sdk),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub iam: aws_sdk_iam::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub organizations: aws_sdk_organizations::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub async fn bucket_names(&self) -> Vec<String> {
        let out = self.s3.list_buckets().send().await.expect("ListBuckets");
        out.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect()
    }

    pub async fn topic_arns(&self) -> Vec<String> {
        let out = self.sns.list_topics().send().await.expect("ListTopics");
        out.topics()
            .iter()
            .filter_map(|t| t.topic_arn().map(str::to_owned))
            .collect()
    }

    /// The value of the tag `key` on the role `role`.
    pub async fn role_tag(&self, role: &str, key: &str) -> Option<String> {
        let out = self
            .iam
            .list_role_tags()
            .role_name(role)
            .send()
            .await
            .expect("ListRoleTags");
        out.tags()
            .iter()
            .find(|t| t.key() == key)
            .map(|t| t.value().to_owned())
    }

    /// The tags of the topic `arn`, as (key, value).
    pub async fn topic_tags(&self, arn: &str) -> Vec<(String, String)> {
        let out = self
            .sns
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .expect("ListTagsForResource");
        out.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }

    pub async fn role_names(&self) -> Vec<String> {
        let out = self.iam.list_roles().send().await.expect("ListRoles");
        out.roles()
            .iter()
            .map(|r| r.role_name().to_owned())
            .collect()
    }

    pub async fn trail_names(&self) -> Vec<String> {
        let out = self
            .cloudtrail
            .describe_trails()
            .send()
            .await
            .expect("DescribeTrails");
        out.trail_list()
            .iter()
            .filter_map(|t| t.name().map(str::to_owned))
            .collect()
    }

    /// Ids of the bucket's topic notification entries. moto answers an
    /// empty configuration with an empty body (AWS with an empty element).
    pub async fn notification_ids(&self, bucket: &str) -> Vec<String> {
        match self
            .s3
            .get_bucket_notification_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out
                .topic_configurations()
                .iter()
                .filter_map(|t| t.id().map(str::to_owned))
                .collect(),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 200) => Vec::new(),
            Err(e) => panic!("GetBucketNotificationConfiguration: {e:?}"),
        }
    }

    pub async fn queue_urls(&self) -> Vec<String> {
        let out = self.sqs.list_queues().send().await.expect("ListQueues");
        out.queue_urls().to_vec()
    }

    pub async fn function_names(&self) -> Vec<String> {
        let out = self
            .lambda
            .list_functions()
            .send()
            .await
            .expect("ListFunctions");
        out.functions()
            .iter()
            .filter_map(|f| f.function_name().map(str::to_owned))
            .collect()
    }

    pub async fn log_group_names(&self) -> Vec<String> {
        let out = self
            .logs
            .describe_log_groups()
            .send()
            .await
            .expect("DescribeLogGroups");
        out.log_groups()
            .iter()
            .filter_map(|g| g.log_group_name().map(str::to_owned))
            .collect()
    }

    pub async fn parameter_names(&self) -> Vec<String> {
        let out = self
            .ssm
            .describe_parameters()
            .send()
            .await
            .expect("DescribeParameters");
        out.parameters()
            .iter()
            .filter_map(|p| p.name().map(str::to_owned))
            .collect()
    }

    /// Every resource kind, for "nothing is left" assertions.
    pub async fn everything(&self) -> Vec<String> {
        let mut all = self.bucket_names().await;
        all.extend(self.topic_arns().await);
        all.extend(self.role_names().await);
        all.extend(self.trail_names().await);
        all.extend(self.queue_urls().await);
        all.extend(self.function_names().await);
        all.extend(self.log_group_names().await);
        all.extend(self.parameter_names().await);
        all
    }
}

/// The object keys of the S3 events in a queue, sorted (draining it). A
/// message is S3's event itself (raw delivery) or an SNS envelope of it.
pub async fn delivered_keys(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut keys = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        for message in out.messages() {
            let body: serde_json::Value = serde_json::from_str(message.body().unwrap()).unwrap();
            let event = match body["Message"].as_str() {
                Some(inner) => serde_json::from_str(inner).unwrap_or(serde_json::Value::Null),
                None => body,
            };
            for record in event["Records"].as_array().into_iter().flatten() {
                // Event keys are URL-encoded (moto encodes `/` too).
                let key = record["s3"]["object"]["key"].as_str().unwrap();
                keys.push(
                    percent_encoding::percent_decode_str(key)
                        .decode_utf8()
                        .unwrap()
                        .into_owned(),
                );
            }
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    keys.sort();
    keys
}

/// The API calls that `-v` logged on stderr, as (service, operation).
pub fn logged_calls(stderr: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("aws: "))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(s, o)| (s.to_owned(), o.to_owned()))
        .collect()
}

/// How many times `-v` logged `operation`.
pub fn calls_to(stderr: &[u8], operation: &str) -> usize {
    logged_calls(stderr)
        .iter()
        .filter(|(_, op)| op == operation)
        .count()
}

/// The mutating operations `-v` logged, in order.
pub fn mutating_calls(stderr: &[u8]) -> Vec<String> {
    logged_calls(stderr)
        .into_iter()
        .map(|(_, op)| op)
        .filter(|op| is_mutating(op))
        .collect()
}

/// Run `command` with `-v`, expect it to succeed, and return the mutating
/// operations it called: a converged re-run calls none.
pub fn mutating_calls_of(command: &mut assert_cmd::Command) -> Vec<String> {
    let out = command.arg("-v").output().unwrap();
    assert_success(&out);
    mutating_calls(&out.stderr)
}

pub fn is_mutating(operation: &str) -> bool {
    !["Get", "List", "Head", "Describe", "Lookup", "Simulate"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// A policy document as AWS returns it: JSON, or URL-encoded JSON (IAM).
pub fn parse_policy(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .expect("utf-8");
        serde_json::from_str(&decoded).expect("policy JSON")
    })
}

/// The statement of `policy` with this Sid.
pub fn statement<'a>(policy: &'a serde_json::Value, sid: &str) -> &'a serde_json::Value {
    policy["Statement"]
        .as_array()
        .and_then(|list| list.iter().find(|s| s["Sid"] == sid))
        .unwrap_or_else(|| panic!("no statement {sid} in {policy}"))
}

/// A role's inline policy, parsed.
pub async fn role_policy(aws: &Clients, role: &str, policy: &str) -> serde_json::Value {
    let out = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await
        .unwrap();
    parse_policy(out.policy_document())
}

/// The command succeeded; its stderr is shown when it did not.
pub fn assert_success(output: &std::process::Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn json_stdout(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Write log objects into a bucket set up by trailctl. Its TLS-only policy
/// denies the emulator's plain-HTTP requests (moto enforces bucket
/// policies), so the policy is lifted for the fixture and put back.
pub async fn put_log_objects(aws: &Clients, bucket: &str, objects: &[(&str, &[u8])]) {
    let policy = aws
        .s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .ok()
        .and_then(|p| p.policy);
    aws.s3
        .delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .expect("lift the policy");
    for (key, body) in objects {
        aws.s3
            .put_object()
            .bucket(bucket)
            .key(*key)
            .body(body.to_vec().into())
            .send()
            .await
            .expect("PutObject");
    }
    if let Some(policy) = policy {
        aws.s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy)
            .send()
            .await
            .expect("restore the policy");
    }
}

/// Today's CloudTrail key prefix in the home region (UTC).
pub fn todays_prefix() -> String {
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap();
    format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{}/",
        now[..10].replace('-', "/")
    )
}

/// The HTTPS client trailctl uses (rustls on ring; the SDK crates are built
/// without their default client).
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}
