//! The pure parts of the preflight: who the caller is, what a plan needs,
//! and the bundled policy evaluated against a plan's needs.

use serde_json::json;

use super::*;
use crate::iam::bundled;
use crate::iam::eval::NamedPolicy;
use crate::inventory::Inventory;
use crate::settings::IntegrationName;

fn names() -> Names {
    Names::new(
        IntegrationName::parse("prod").unwrap(),
        "123456789012",
        "aws",
        "eu-west-1",
        None,
    )
}

fn caller() -> Caller {
    Caller {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/ops/alice".into(),
        partition: "aws".into(),
    }
}

/// The plan of a first `setup` in an empty account.
fn first_setup() -> Plan {
    let desired = crate::desired::desired(&names(), &crate::testing::settings(), "ext".into());
    let empty = Inventory::default();
    crate::plan::setup(&names(), &desired, &empty, &[])
}

#[test]
fn callers_are_classified_from_their_sts_arn() {
    for (arn, want) in [
        (
            "arn:aws:iam::123456789012:user/alice",
            Principal::User {
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                name: "alice".into(),
            },
        ),
        (
            "arn:aws:iam::123456789012:user/ops/team/alice",
            Principal::User {
                arn: "arn:aws:iam::123456789012:user/ops/team/alice".into(),
                name: "alice".into(),
            },
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com",
            Principal::Role {
                name: "AWSReservedSSO_Admin_abc".into(),
            },
        ),
        (
            "arn:aws-us-gov:sts::123456789012:assumed-role/deployer/i-0abc",
            Principal::Role {
                name: "deployer".into(),
            },
        ),
        ("arn:aws:iam::123456789012:root", Principal::Root),
        (
            "arn:aws:sts::123456789012:federated-user/bob",
            Principal::Other,
        ),
        ("not an arn", Principal::Other),
    ] {
        assert_eq!(Principal::from_caller_arn(arn), want, "{arn}");
    }
}

#[test]
fn a_plan_needs_each_action_on_its_own_resource() {
    let needed = for_plan(&first_setup(), &names());
    let has = |action: &str, resource: &str| {
        needed
            .iter()
            .any(|p| p.action == action && p.resource == resource)
    };
    let bucket = "arn:aws:s3:::trailctl-prod-123456789012-eu-west-1";
    assert!(has("s3:CreateBucket", bucket));
    assert!(has("s3:PutBucketNotification", bucket));
    // Undoing a created bucket empties it: the undo is checked too.
    assert!(has("s3:DeleteObjectVersion", &format!("{bucket}/*")));
    assert!(has(
        "cloudtrail:StartLogging",
        "arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailctl-prod"
    ));
    assert!(has(
        "iam:CreateRole",
        "arn:aws:iam::123456789012:role/trailctl-prod"
    ));
    assert!(has(
        "sns:SetTopicAttributes",
        "arn:aws:sns:eu-west-1:123456789012:trailctl-prod"
    ));
    // A first setup updates nothing in place.
    assert!(!needed
        .iter()
        .any(|p| p.action == "iam:UpdateAssumeRolePolicy"));
}

#[test]
fn context_gives_the_region_to_regional_services_only() {
    let p = |action| Permission {
        action,
        resource: "x".into(),
    };
    let regional = context_for(&p("cloudtrail:CreateTrail"), &caller(), "eu-west-1");
    assert_eq!(regional["aws:RequestedRegion"], ["eu-west-1"]);
    assert_eq!(
        regional["aws:PrincipalArn"],
        ["arn:aws:iam::123456789012:user/ops/alice"]
    );
    let global = context_for(&p("iam:CreateRole"), &caller(), "eu-west-1");
    assert!(!global.contains_key("aws:RequestedRegion"));
}

fn evaluate(policy: serde_json::Value, plan_needs: &[Permission]) -> Report {
    let policies = local::CallerPolicies {
        identity: vec![NamedPolicy {
            name: "test".into(),
            document: policy,
        }],
        boundary: None,
    };
    let decisions = plan_needs
        .iter()
        .map(|p| policies.evaluate(p, context_for(p, &caller(), "eu-west-1")))
        .collect();
    Report::from_decisions(
        caller().arn,
        Method::LocalEvaluation,
        None,
        plan_needs,
        decisions,
    )
}

/// The scoped bundled policy, not just its action list, allows every call
/// of a first setup, a `delete --delete-logs` and `check`.
#[test]
fn the_bundled_policy_allows_everything_trailctl_calls() {
    for target in [bundled::Target::any(), bundled::Target::for_names(&names())] {
        let policy = bundled::document(&target);
        let report = evaluate(policy.clone(), &for_plan(&first_setup(), &names()));
        assert!(report.passed(), "{target:?}: {:?}", report.findings);
        let report = evaluate(policy, &for_everything(&names()));
        assert!(report.passed(), "{target:?}: {:?}", report.findings);
    }
}

#[test]
fn another_integrations_policy_does_not_cover_this_one() {
    let other = bundled::Target::for_names(&Names::new(
        IntegrationName::parse("staging").unwrap(),
        "123456789012",
        "aws",
        "eu-west-1",
        None,
    ));
    let report = evaluate(
        bundled::document(&other),
        &for_plan(&first_setup(), &names()),
    );
    // Only reading roles (the preflight reads the caller's own role),
    // listing trails and log groups (authorised account-wide) are allowed
    // across integrations; nothing that changes anything.
    let refused: Vec<_> = report.findings.iter().map(|f| f.action).collect();
    let allowed: Vec<_> = for_plan(&first_setup(), &names())
        .into_iter()
        .filter(|p| !refused.contains(&p.action))
        .map(|p| p.action)
        .collect();
    assert_eq!(
        allowed,
        [
            "cloudtrail:DescribeTrails",
            "cloudtrail:ListTrails",
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "logs:DescribeLogGroups"
        ]
    );
}

#[test]
fn a_missing_action_is_the_only_finding_and_the_snippet_grants_it() {
    let mut policy = bundled::document(&bundled::Target::any());
    for statement in policy["Statement"].as_array_mut().unwrap() {
        let actions = statement["Action"].as_array_mut().unwrap();
        actions.retain(|a| a != "cloudtrail:StartLogging");
    }
    let report = evaluate(policy, &for_plan(&first_setup(), &names()));
    let trail = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailctl-prod";
    assert_eq!(
        report.findings,
        [Finding {
            action: "cloudtrail:StartLogging",
            resource: trail.into(),
            verdict: Verdict::NoAllow { in_boundary: false },
        }]
    );
    assert_eq!(
        fix_snippet(&report.findings),
        Some(json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["cloudtrail:StartLogging"], "Resource": trail}]
        }))
    );
}

#[test]
fn an_explicit_deny_is_named_and_gets_no_allow_snippet() {
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoTrailChanges", "Effect": "Deny", "Action": "cloudtrail:*", "NotResource": "arn:aws:cloudtrail:*:*:trail/org-*"}
    ]});
    let report = evaluate(policy, &for_plan(&first_setup(), &names()));
    assert!(!report.findings.is_empty());
    for finding in &report.findings {
        assert!(finding.action.starts_with("cloudtrail:"));
        assert_eq!(
            finding.verdict,
            Verdict::ExplicitDeny {
                policy: "test".into(),
                sid: Some("NoTrailChanges".into())
            }
        );
    }
    assert_eq!(fix_snippet(&report.findings), None);
}

#[test]
fn a_condition_on_an_unknown_key_is_reported_not_allowed() {
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
    ]});
    let report = evaluate(policy, &for_plan(&first_setup(), &names()));
    assert_eq!(report.allowed, 0);
    assert!(report
        .findings
        .iter()
        .all(|f| matches!(f.verdict, Verdict::DependsOnCondition { .. })));
}

#[test]
fn a_region_condition_is_decided_from_the_home_region() {
    let policy = |regions: serde_json::Value| {
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}}}
        ]})
    };
    let needs = for_plan(&first_setup(), &names());
    assert!(evaluate(policy(json!(["eu-west-1"])), &needs).passed());
    let report = evaluate(policy(json!(["us-east-1"])), &needs);
    assert!(report.findings.iter().all(
        |f| !f.action.starts_with("iam:") && matches!(f.verdict, Verdict::ExplicitDeny { .. })
    ));
    assert!(!report.passed());
}

#[tokio::test]
async fn the_simulator_answers_without_waiting_for_the_policy_reads() {
    use futures::future::{pending, ready};
    use tokio::task::yield_now;
    // It answers: the reads are dropped (here they would never finish).
    let answered = simulator_or_policies(ready(Ok::<u8, &str>(1)), pending::<u8>()).await;
    assert_eq!(answered, Ok(1));
    // The reads finish first, and the simulator's answer still wins.
    let answered = simulator_or_policies(
        async {
            yield_now().await;
            Ok::<u8, &str>(1)
        },
        ready(7u8),
    )
    .await;
    assert_eq!(answered, Ok(1));
    // It fails: its error comes with the policies, whichever finished first.
    let failed = simulator_or_policies(ready(Err::<u8, &str>("denied")), async {
        yield_now().await;
        7u8
    })
    .await;
    assert_eq!(failed, Err(("denied", 7)));
    let failed = simulator_or_policies(
        async {
            yield_now().await;
            Err::<u8, &str>("denied")
        },
        ready(7u8),
    )
    .await;
    assert_eq!(failed, Err(("denied", 7)));
}
