//! The permission preflight against the emulator with IAM enforcement on:
//! real users, real keys, real AccessDenied.
//!
//! moto matches a statement's `Resource` only against `*` for most services
//! and treats an Allow with a `Condition` as a denial, so the test users get
//! the bundled policy's *actions* on `"Resource": "*"`; the scoped resources
//! and conditions are covered by the evaluator's unit tests. moto has no
//! `iam:SimulatePrincipalPolicy`, so these runs exercise the local
//! evaluation fallback end to end.

mod common;

use common::*;
use serde_json::{json, Value};

/// Every action of the shipped policy.
fn bundled_actions() -> Vec<String> {
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/policies/trailctl-policy.json"
        ))
        .expect("policy file"),
    )
    .expect("policy JSON");
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .flat_map(|s| s["Action"].as_array().expect("actions").clone())
        .map(|a| a.as_str().expect("action").to_owned())
        .collect()
}

/// moto authorises three S3 calls under names of its own (AWS authorises
/// HeadBucket as s3:ListBucket and the public access block calls as
/// s3:*BucketPublicAccessBlock); the user gets those names too.
const MOTO_S3_ALIASES: [&str; 3] = [
    "s3:HeadBucket",
    "s3:GetPublicAccessBlock",
    "s3:PutPublicAccessBlock",
];

/// The bundled policy's actions without `missing`, on `*`, plus `extra`
/// statements.
fn user_policy(missing: &[&str], extra: &[Value]) -> Value {
    let actions: Vec<String> = bundled_actions()
        .into_iter()
        .chain(MOTO_S3_ALIASES.map(str::to_owned))
        .filter(|a| !missing.contains(&a.as_str()))
        .collect();
    let mut statements = vec![json!({"Effect": "Allow", "Action": actions, "Resource": "*"})];
    statements.extend(extra.iter().cloned());
    json!({"Version": "2012-10-17", "Statement": statements})
}

const SETUP: [&str; 4] = ["setup", "--collector-account", COLLECTOR, "--yes"];

#[tokio::test(flavor = "multi_thread")]
async fn a_user_with_the_bundled_actions_sets_up_and_deletes_under_enforced_iam() {
    let emu = Emulator::start();
    let keys = emu.create_user("operator", user_policy(&[], &[]));
    emu.enforce_iam();

    let out = emu.trailctl_as(&keys).args(SETUP).output().unwrap();
    assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Permissions of arn:aws:iam::123456789012:user/operator")
            && stdout.contains("calls are allowed"),
        "{stdout}"
    );
    let aws = emu.clients().await;
    assert_eq!(aws.trail_names().await, ["trailctl-default"]);
    assert_eq!(aws.role_names().await, ["trailctl-default"]);

    let out = emu
        .trailctl_as(&keys)
        .args(["delete", "--delete-logs", "--yes"])
        .output()
        .unwrap();
    assert_success(&out);
    assert!(
        aws.everything().await.is_empty(),
        "{:?}",
        aws.everything().await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_missing_one_action_is_refused_naming_exactly_it_and_nothing_is_created() {
    let emu = Emulator::start();
    let keys = emu.create_user(
        "no-start-logging",
        user_policy(&["cloudtrail:StartLogging"], &[]),
    );
    emu.enforce_iam();

    let out = emu
        .trailctl_as(&keys)
        .args(["-v", "--output", "json"])
        .args(SETUP)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_stdout(&out);
    assert_eq!(report["applied"], false);
    let findings = report["preflight"]["findings"].as_array().unwrap();
    assert_eq!(
        findings,
        &[json!({
            "action": "cloudtrail:StartLogging",
            "resource": "arn:aws:cloudtrail:us-east-1:123456789012:trail/trailctl-default",
            "verdict": "no_allow",
            "in_boundary": false
        })]
    );
    assert_eq!(report["preflight"]["method"], "local_evaluation");
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
    let aws = emu.clients().await;
    assert!(
        aws.everything().await.is_empty(),
        "{:?}",
        aws.everything().await
    );

    // The text report names it too, with the statement that would fix it.
    let out = emu.trailctl_as(&keys).args(SETUP).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 of "), "{stdout}");
    assert!(
        stdout.contains("✗ cloudtrail:StartLogging on arn:aws:cloudtrail:us-east-1:123456789012:trail/trailctl-default")
            && stdout.contains("no policy allows it")
            && stdout.contains(r#""cloudtrail:StartLogging""#),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was changed"));
    assert!(aws.everything().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_with_an_explicit_deny_is_refused_with_the_deny_named() {
    let emu = Emulator::start();
    let keys = emu.create_user(
        "denied",
        user_policy(
            &[],
            &[json!({"Sid": "NoNewRoles", "Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*"})],
        ),
    );
    emu.enforce_iam();

    let out = emu.trailctl_as(&keys).args(SETUP).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("✗ iam:CreateRole on arn:aws:iam::123456789012:role/trailctl-default")
            && stdout.contains(
                "explicitly denied by inline policy test-permissions of user denied (statement NoNewRoles)"
            ),
        "{stdout}"
    );
    // A Deny is not fixed by adding an Allow: no snippet is offered.
    assert!(!stdout.contains("To grant what is missing"), "{stdout}");
    let aws = emu.clients().await;
    assert!(aws.everything().await.is_empty());
}

/// An IAM Identity Center (SSO) sign-in, as in CloudShell: a session of a
/// role under a path that the session's ARN does not show.
const SSO_PATH: &str = "/aws-reserved/sso.amazonaws.com/";
const SSO_ROLE: &str = "AWSReservedSSO_SecurityAdmin_0123456789abcdef";

#[tokio::test(flavor = "multi_thread")]
async fn a_role_session_is_checked_as_its_role_with_its_path_reading_the_role_once() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    let role = aws
        .iam
        .create_role()
        .role_name(SSO_ROLE)
        .path(SSO_PATH)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_owned();
    assert_eq!(
        role_arn,
        format!("arn:aws:iam::{ACCOUNT}:role{SSO_PATH}{SSO_ROLE}")
    );
    aws.iam
        .put_role_policy()
        .role_name(SSO_ROLE)
        .policy_name("trailctl")
        .policy_document(user_policy(&[], &[]).to_string())
        .send()
        .await
        .unwrap();
    let session = aws
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("alice")
        .send()
        .await
        .unwrap();
    let creds = session.credentials().unwrap();
    emu.enforce_iam();

    let out = emu
        .trailctl()
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env("AWS_SESSION_TOKEN", creds.session_token())
        .args(["-v", "--output", "json"])
        .args(SETUP)
        .output()
        .unwrap();
    assert_success(&out);
    let report = json_stdout(&out);
    assert_eq!(report["preflight"]["principal"], role_arn.as_str());
    assert_eq!(report["preflight"]["method"], "local_evaluation");
    assert_eq!(report["preflight"]["findings"], json!([]));
    // One GetRole for the caller's role (its path for the simulator, its
    // boundary for the local evaluation) and one for the collector role.
    assert_eq!(calls_to(&out.stderr, "GetRole"), 2);
    assert_eq!(aws.trail_names().await, ["trailctl-default"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reports_everything_without_changing_anything() {
    let emu = Emulator::start();
    let full = emu.create_user("operator", user_policy(&[], &[]));
    let partial = emu.create_user(
        "partial",
        user_policy(&["sns:CreateTopic", "s3:DeleteBucket"], &[]),
    );
    emu.enforce_iam();

    let out = emu
        .trailctl_as(&full)
        .args(["-v", "check"])
        .output()
        .unwrap();
    assert_success(&out);
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());

    let out = emu
        .trailctl_as(&partial)
        .args(["--output", "json", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let report = json_stdout(&out);
    let refused: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(refused, ["s3:DeleteBucket", "sns:CreateTopic"]);
    assert_eq!(
        report["checked"].as_u64().unwrap(),
        report["allowed"].as_u64().unwrap() + 2
    );
    let aws = emu.clients().await;
    assert!(aws.everything().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_permissions_stop_with_advice_and_skip_preflight_goes_ahead() {
    let emu = Emulator::start();
    let own_reads = [
        "iam:SimulatePrincipalPolicy",
        "iam:GetUser",
        "iam:ListUserPolicies",
        "iam:GetUserPolicy",
        "iam:ListAttachedUserPolicies",
        "iam:ListGroupsForUser",
    ];
    let keys = emu.create_user("blind", user_policy(&own_reads, &[]));
    emu.enforce_iam();

    let out = emu.trailctl_as(&keys).args(SETUP).output().unwrap();
    assert_eq!(out.status.code(), Some(6));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot check the permissions of arn:aws:iam::123456789012:user/blind")
            && stderr.contains("--skip-preflight"),
        "{stderr}"
    );
    let aws = emu.clients().await;
    assert!(aws.everything().await.is_empty());

    let out = emu
        .trailctl_as(&keys)
        .arg("--skip-preflight")
        .args(SETUP)
        .output()
        .unwrap();
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("were not checked"));
    assert_eq!(aws.trail_names().await, ["trailctl-default"]);
}

#[test]
fn policy_prints_the_shipped_file_and_renders_concrete_arns_offline() {
    let trailctl = || {
        let mut cmd = common::trailctl_binary();
        // No credentials, no region, no endpoint: `policy` needs none.
        cmd.env_clear().env("PATH", std::env::var("PATH").unwrap());
        cmd
    };
    let out = trailctl()
        .args(["policy", "--output", "json"])
        .output()
        .unwrap();
    assert_success(&out);
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/trailctl-policy.json"
    ))
    .unwrap();
    assert_eq!(out.stdout, file);

    let out = trailctl()
        .args([
            "policy",
            "--output",
            "json",
            "--name",
            "prod",
            "--account-id",
            "123456789012",
            "--region",
            "eu-west-1",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let policy = json_stdout(&out);
    let resources: Vec<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Resource"] {
            Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        })
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    for want in [
        "arn:aws:s3:::trailctl-prod-123456789012-eu-west-1",
        "arn:aws:s3:::trailctl-prod-123456789012-eu-west-1/*",
        "arn:aws:sns:eu-west-1:123456789012:trailctl-prod",
        "arn:aws:iam::123456789012:role/trailctl-prod",
        "arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailctl-prod",
    ] {
        assert!(
            resources.contains(&want.to_owned()),
            "{want} in {resources:?}"
        );
    }

    let out = trailctl()
        .args([
            "policy",
            "--name",
            "prod",
            "--bucket-name",
            "acme-audit-logs",
        ])
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("on arn:aws:s3:::acme-audit-logs\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("cloudtrail:StartLogging")
                && l.contains("turn logging on")),
        "{text}"
    );

    let out = trailctl()
        .args(["policy", "--account-id", "12345"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
