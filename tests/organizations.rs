//! Organization integrations against the emulator's Organizations:
//! `setup --org`, the `accounts` command and `status` per account. The
//! organization, its member accounts and a member's credentials (STS
//! AssumeRole into the member) are made through the SDK; every outcome is
//! read back through it, and what reaches the queue is counted on the queue.

mod common;

use common::*;
use serde_json::Value;

const QUEUE_URL_SUFFIX: &str = "/123456789012/trailctl-default";

/// An organization managed by the emulator's default account, with
/// `members` member accounts: (org ID, member IDs sorted).
async fn organization(aws: &Clients, members: usize) -> (String, Vec<String>) {
    let org = aws
        .organizations
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let id = org.organization().unwrap().id().unwrap().to_owned();
    let mut ids = Vec::new();
    for n in 0..members {
        let created = aws
            .organizations
            .create_account()
            .account_name(format!("member-{n}"))
            .email(format!("member-{n}@example.com"))
            .send()
            .await
            .expect("CreateAccount");
        ids.push(
            created
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned(),
        );
    }
    ids.sort();
    (id, ids)
}

fn log_key(org: &str, account: &str) -> String {
    let today = &todays_prefix()["AWSLogs/123456789012/CloudTrail/".len()..];
    format!("AWSLogs/{org}/{account}/CloudTrail/{today}{account}_CloudTrail_us-east-1_x.json.gz")
}

async fn queue_url(aws: &Clients) -> String {
    let urls = aws.queue_urls().await;
    urls.into_iter()
        .find(|u| u.ends_with(QUEUE_URL_SUFFIX))
        .expect("the queue")
}

/// The prefixes of trailctl's notification entries, by Id.
async fn entries(aws: &Clients) -> Vec<(String, String)> {
    let out = aws
        .s3
        .get_bucket_notification_configuration()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let mut entries: Vec<(String, String)> = out
        .topic_configurations()
        .iter()
        .map(|t| {
            let prefix = t
                .filter()
                .and_then(|f| f.key())
                .map(|k| k.filter_rules())
                .unwrap_or_default()
                .iter()
                .find(|r| r.name().map(|n| n.as_str()) == Some("prefix"))
                .and_then(|r| r.value())
                .unwrap_or_default()
                .to_owned();
            (t.id().unwrap_or_default().to_owned(), prefix)
        })
        .collect();
    entries.sort();
    entries
}

fn setup(emu: &Emulator, extra: &[&str]) -> std::process::Output {
    emu.trailctl()
        .args([
            "-v",
            "setup",
            "--collector-account",
            COLLECTOR,
            "--yes",
            "--org",
        ])
        .args(extra)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn org_setup_creates_an_organization_trail_and_a_member_is_refused() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let (org, members) = organization(&aws, 3).await;

    let out = setup(&emu, &[]);
    assert_success(&out);
    let trail = aws
        .cloudtrail
        .get_trail()
        .name("trailctl-default")
        .send()
        .await
        .unwrap();
    let trail = trail.trail().unwrap();
    assert_eq!(trail.is_organization_trail(), Some(true));
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    // Trusted access was off, so it is in the plan and now on.
    assert!(String::from_utf8_lossy(&out.stdout).contains("trusted access"));
    let access = aws
        .organizations
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    assert!(access
        .enabled_service_principals()
        .iter()
        .any(|p| p.service_principal() == Some("cloudtrail.amazonaws.com")));
    // CloudTrail may write under the organization's prefix and the
    // management account's own, only for this trail.
    let policy: Value = serde_json::from_str(
        &aws.s3
            .get_bucket_policy()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap()
            .policy
            .unwrap(),
    )
    .unwrap();
    let writes: Vec<&Value> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"] == "s3:PutObject")
        .collect();
    let resources: Vec<&str> = writes
        .iter()
        .map(|s| s["Resource"].as_str().unwrap())
        .collect();
    assert_eq!(
        resources,
        [
            format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*"),
            format!("arn:aws:s3:::{BUCKET}/AWSLogs/{org}/*"),
        ]
    );
    for s in writes {
        assert_eq!(
            s["Condition"]["StringEquals"]["aws:SourceArn"],
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/trailctl-default"
        );
    }
    // Every account, those that join later included: one entry.
    assert_eq!(
        entries(&aws).await,
        [("trailctl-default".to_owned(), format!("AWSLogs/{org}/"))]
    );
    // A re-run converges: no mutating call; the collector is told the
    // organization and the selection.
    let again = setup(&emu, &["--output", "json"]);
    assert_success(&again);
    assert_eq!(mutating_calls(&again.stderr), Vec::<String>::new());
    let collector = &json_stdout(&again)["collector"];
    assert_eq!(collector["org_id"], org.as_str());
    assert_eq!(collector["accounts"], "all");
    assert_eq!(collector["key_prefix"], format!("AWSLogs/{org}/"));

    // From a member account: refused, naming the management account, and
    // nothing is changed there.
    let assumed = aws
        .sts
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
            members[0]
        ))
        .role_session_name("member")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    let member = emu
        .trailctl()
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env("AWS_SESSION_TOKEN", creds.session_token())
        .args([
            "-v",
            "setup",
            "--collector-account",
            COLLECTOR,
            "--yes",
            "--org",
        ])
        .output()
        .unwrap();
    assert_eq!(member.status.code(), Some(4), "{member:?}");
    let stderr = String::from_utf8_lossy(&member.stderr);
    assert!(
        stderr.contains(&format!("management account {ACCOUNT} of {org}")),
        "{stderr}"
    );
    assert_eq!(mutating_calls(&member.stderr), Vec::<String>::new());

    // delete removes the trail and our entry; trusted access stays on (other
    // organization trails may rely on it) and the bucket is kept.
    assert_success(&emu.trailctl().args(["--yes", "delete"]).output().unwrap());
    assert_eq!(aws.trail_names().await, Vec::<String>::new());
    assert!(aws.notification_ids(BUCKET).await.is_empty());
    assert_eq!(aws.bucket_names().await, [BUCKET]);
    let access = aws
        .organizations
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    assert_eq!(access.enabled_service_principals().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_selection_decides_which_accounts_files_reach_the_queue() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let (org, members) = organization(&aws, 3).await;
    let (a, b, c) = (&members[0], &members[1], &members[2]);

    let out = setup(
        &emu,
        &["--delivery", "sqs", "--accounts", &format!("{a},{b}")],
    );
    assert_success(&out);
    assert_eq!(
        entries(&aws).await,
        [
            (
                format!("trailctl-default:{a}"),
                format!("AWSLogs/{org}/{a}/CloudTrail/")
            ),
            (
                format!("trailctl-default:{b}"),
                format!("AWSLogs/{org}/{b}/CloudTrail/")
            ),
        ]
    );
    let url = queue_url(&aws).await;
    let (key_a, key_c) = (log_key(&org, a), log_key(&org, c));
    put_log_objects(&aws, BUCKET, &[(&key_a, b"a"), (&key_c, b"c")]).await;
    assert_eq!(
        delivered_keys(&aws.sqs, &url).await,
        std::slice::from_ref(&key_a)
    );

    // setup without --accounts keeps the selection.
    let again = setup(&emu, &["--delivery", "sqs"]);
    assert_success(&again);
    assert_eq!(mutating_calls(&again.stderr), Vec::<String>::new());

    // add C: its files now arrive; the plan names exactly C's entry.
    let add = emu
        .trailctl()
        .args(["-v", "--yes", "accounts", "add", c])
        .output()
        .unwrap();
    assert_success(&add);
    let plan = String::from_utf8_lossy(&add.stdout);
    assert!(
        plan.contains(&format!("entry trailctl-default:{c}")),
        "{plan}"
    );
    assert!(
        !plan.contains(&format!("entry trailctl-default:{a}")),
        "{plan}"
    );
    assert_eq!(
        mutating_calls(&add.stderr),
        ["PutBucketNotificationConfiguration"]
    );
    put_log_objects(&aws, BUCKET, &[(&key_c, b"c")]).await;
    assert_eq!(
        delivered_keys(&aws.sqs, &url).await,
        std::slice::from_ref(&key_c)
    );

    // remove A: its files no longer arrive.
    let remove = emu
        .trailctl()
        .args(["--yes", "accounts", "remove", a])
        .output()
        .unwrap();
    assert_success(&remove);
    put_log_objects(&aws, BUCKET, &[(&key_a, b"a"), (&key_c, b"c")]).await;
    assert_eq!(
        delivered_keys(&aws.sqs, &url).await,
        std::slice::from_ref(&key_c)
    );
    let ids: Vec<String> = entries(&aws).await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        [
            format!("trailctl-default:{b}"),
            format!("trailctl-default:{c}")
        ]
    );

    // Pause parks the entries (the selection stays on the bucket), a setup
    // while paused keeps them so, resume restores them.
    assert_success(&emu.trailctl().args(["--yes", "pause"]).output().unwrap());
    let parked = entries(&aws).await;
    assert!(
        parked
            .iter()
            .all(|(_, p)| p.starts_with("trailctl-paused/")),
        "{parked:?}"
    );
    put_log_objects(&aws, BUCKET, &[(&key_c, b"c2")]).await;
    assert_eq!(delivered_keys(&aws.sqs, &url).await, Vec::<String>::new());
    let paused_setup = setup(&emu, &["--delivery", "sqs"]);
    assert_success(&paused_setup);
    assert_eq!(mutating_calls(&paused_setup.stderr), Vec::<String>::new());
    let resume = emu.trailctl().args(["--yes", "resume"]).output().unwrap();
    assert_success(&resume);
    assert_eq!(ids, {
        let now: Vec<String> = entries(&aws).await.into_iter().map(|(id, _)| id).collect();
        now
    });
    // The replay sends C's file written during the pause (through the topic).
    assert_eq!(
        delivered_keys(&aws.sqs, &url).await,
        std::slice::from_ref(&key_c)
    );

    // `accounts set all`: back to one entry for every account.
    assert_success(
        &emu.trailctl()
            .args(["--yes", "accounts", "set", "all"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        entries(&aws).await,
        [("trailctl-default".to_owned(), format!("AWSLogs/{org}/"))]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_account_ids_are_named_and_nothing_changes() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let (_, members) = organization(&aws, 2).await;
    assert_success(&setup(&emu, &["--accounts", &members[0]]));
    let before = entries(&aws).await;

    let not_member = "999999999999";
    for (args, named) in [
        (vec!["accounts", "add", not_member], not_member),
        (vec!["accounts", "set", "12345"], "`12345`"),
        (
            vec![
                "accounts",
                "set",
                &format!("{},,{}", members[0], members[1]),
            ],
            "entry 2 is empty",
        ),
        (vec!["accounts", "remove", &members[1]], &members[1]),
    ] {
        let out = emu
            .trailctl()
            .arg("-v")
            .arg("--yes")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
    }
    let out = setup(&emu, &["--accounts", not_member]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(not_member));
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
    assert_eq!(entries(&aws).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_list_marks_the_selection_in_text_and_json() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let (org, members) = organization(&aws, 3).await;
    assert_success(&setup(&emu, &["--accounts", &members[1]]));

    let json = json_stdout(
        &emu.trailctl()
            .args(["--output", "json", "accounts", "list"])
            .output()
            .unwrap(),
    );
    assert_eq!(json["organization"], org.as_str());
    assert_eq!(json["selection"], members[1].as_str());
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 4, "the management account and 3 members");
    for account in accounts {
        let id = account["id"].as_str().unwrap();
        assert_eq!(account["collected"], id == members[1], "{account}");
        assert_eq!(account["status"], "ACTIVE");
    }

    let text = emu.trailctl().args(["accounts", "list"]).output().unwrap();
    assert_success(&text);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("collecting 1 of 4 accounts"), "{text}");
    for line in text.lines().filter(|l| l.contains("ACTIVE")) {
        let collected = line.contains(&members[1]);
        assert_eq!(line.contains(" yes "), collected, "{line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_reports_every_account_of_a_200_account_organization() {
    let emu = Emulator::start();
    let aws = emu.clients().await;
    let (org, members) = organization(&aws, 200).await;
    assert_success(&setup(&emu, &[]));
    let fresh = [&members[3], &members[150]];
    let keys: Vec<String> = fresh.iter().map(|m| log_key(&org, m)).collect();
    let objects: Vec<(&str, &[u8])> = keys.iter().map(|k| (k.as_str(), &b"log"[..])).collect();
    put_log_objects(&aws, BUCKET, &objects).await;

    let started = std::time::Instant::now();
    let out = emu
        .trailctl()
        .args(["--output", "json", "status"])
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!("status of 201 accounts took {elapsed:?}");
    let json = json_stdout(&out);
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(
        accounts.len(),
        201,
        "200 members and the management account"
    );
    for account in accounts {
        let id = account["id"].as_str().unwrap();
        let has_log = fresh.iter().any(|m| m.as_str() == id);
        assert_eq!(
            account["latest_log_object"].is_string(),
            has_log,
            "{account}"
        );
    }
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "collected accounts")
        .unwrap();
    assert_eq!(
        check["detail"],
        "2 of 201 collected accounts have a log file from the last day"
    );
}

#[test]
fn org_setup_outside_an_organization_is_refused_as_bad_input() {
    let emu = Emulator::start();
    let out = setup(&emu, &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not in an AWS Organization"), "{stderr}");
    assert_eq!(mutating_calls(&out.stderr), Vec::<String>::new());
}
