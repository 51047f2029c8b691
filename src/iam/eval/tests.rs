//! Table-driven tests of the local evaluator.

use super::*;
use serde_json::json;

fn policy(name: &str, statements: Value) -> NamedPolicy {
    NamedPolicy {
        name: name.into(),
        document: json!({"Version": "2012-10-17", "Statement": statements}),
    }
}

fn allow(action: Value, resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

const BUCKET: &str = "arn:aws:s3:::trailctl-default-123456789012-us-east-1";
const ROLE: &str = "arn:aws:iam::123456789012:role/trailctl-default";

#[derive(Debug, PartialEq)]
enum Want {
    Allow,
    Deny(&'static str),
    Implicit,
    ImplicitBoundary,
    Depends,
}

fn outcome(decision: Decision) -> Want {
    match decision {
        Decision::Allowed => Want::Allow,
        Decision::ExplicitDeny(source) => Want::Deny(match source.policy.as_str() {
            "deny" => "deny",
            "boundary" => "boundary",
            "identity" => "identity",
            _ => "other",
        }),
        Decision::ImplicitDeny { in_boundary: false } => Want::Implicit,
        Decision::ImplicitDeny { in_boundary: true } => Want::ImplicitBoundary,
        Decision::DependsOnCondition(_) => Want::Depends,
    }
}

#[test]
fn wildcard_matching() {
    for (pattern, text, ci, want) in [
        ("s3:*", "s3:PutBucketPolicy", true, true),
        ("s3:Put*", "s3:PutBucketPolicy", true, true),
        ("s3:Get*", "s3:PutBucketPolicy", true, false),
        ("S3:PUTBUCKETPOLICY", "s3:PutBucketPolicy", true, true),
        ("S3:PUTBUCKETPOLICY", "s3:PutBucketPolicy", false, false),
        ("s3:PutBucket?olicy", "s3:PutBucketPolicy", true, true),
        ("s3:PutBucket?olicy", "s3:PutBucketPPolicy", true, false),
        ("*", "", true, true),
        ("", "x", true, false),
        ("arn:aws:s3:::trailctl-*", BUCKET, false, true),
        ("arn:aws:s3:::trailctl-*/*", BUCKET, false, false),
        ("arn:aws:s3:::*-us-east-1", BUCKET, false, true),
        ("a*b*c", "aXXbYYc", false, true),
        ("a*b*c", "aXXbYY", false, false),
    ] {
        assert_eq!(
            wildcard_match(pattern, text, ci),
            want,
            "{pattern} vs {text}"
        );
    }
}

#[test]
fn decisions() {
    type Case = (
        &'static str,
        Vec<NamedPolicy>,
        Option<Vec<NamedPolicy>>,
        &'static str,
        &'static str,
        Vec<(&'static str, &'static str)>,
        Want,
    );
    let admin = || policy("identity", json!([allow(json!("*"), json!("*"))]));
    let cases: Vec<Case> = vec![
        (
            "no policies",
            vec![],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "admin",
            vec![admin()],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "exact action",
            vec![policy(
                "identity",
                json!([allow(json!("s3:CreateBucket"), json!(BUCKET))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "action case-insensitive",
            vec![policy(
                "identity",
                json!([allow(json!("S3:createbucket"), json!(BUCKET))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "service wildcard",
            vec![policy(
                "identity",
                json!([allow(json!("s3:*"), json!("*"))]),
            )],
            None,
            "s3:PutBucketPolicy",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "prefix wildcard",
            vec![policy(
                "identity",
                json!([allow(json!("s3:Put*"), json!("*"))]),
            )],
            None,
            "s3:PutBucketPolicy",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "prefix wildcard misses",
            vec![policy(
                "identity",
                json!([allow(json!("s3:Get*"), json!("*"))]),
            )],
            None,
            "s3:PutBucketPolicy",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "question mark",
            vec![policy(
                "identity",
                json!([allow(json!("sns:?etTopicAttributes"), json!("*"))]),
            )],
            None,
            "sns:SetTopicAttributes",
            "arn:aws:sns:us-east-1:1:t",
            vec![],
            Want::Allow,
        ),
        (
            "other service",
            vec![policy(
                "identity",
                json!([allow(json!("sns:*"), json!("*"))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "action list",
            vec![policy(
                "identity",
                json!([allow(
                    json!(["s3:GetObject", "s3:CreateBucket"]),
                    json!("*")
                )]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "resource wildcard",
            vec![policy(
                "identity",
                json!([allow(json!("s3:*"), json!("arn:aws:s3:::trailctl-*"))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "resource wildcard misses",
            vec![policy(
                "identity",
                json!([allow(json!("s3:*"), json!("arn:aws:s3:::other-*"))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "resource case-sensitive",
            vec![policy(
                "identity",
                json!([allow(json!("s3:*"), json!("arn:aws:s3:::TRAILCTL-*"))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "object resource is not the bucket",
            vec![policy(
                "identity",
                json!([allow(json!("s3:*"), json!("arn:aws:s3:::trailctl-*/*"))]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "resource list",
            vec![policy(
                "identity",
                json!([allow(
                    json!("iam:CreateRole"),
                    json!(["arn:aws:iam::*:role/x", "arn:aws:iam::*:role/trailctl-*"])
                )]),
            )],
            None,
            "iam:CreateRole",
            ROLE,
            vec![],
            Want::Allow,
        ),
        (
            "single statement object",
            vec![NamedPolicy {
                name: "identity".into(),
                document: json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
            }],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "explicit deny wins",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*"}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Deny("deny"),
        ),
        (
            "deny wins within one policy",
            vec![policy(
                "identity",
                json!([allow(json!("*"), json!("*")), {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Deny("identity"),
        ),
        (
            "deny of another action",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "deny wildcard case-insensitive",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "CLOUDTRAIL:*", "Resource": "*"}]),
                ),
            ],
            None,
            "cloudtrail:StartLogging",
            "arn:aws:cloudtrail:us-east-1:1:trail/t",
            vec![],
            Want::Deny("deny"),
        ),
        (
            "NotAction allow",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "NotAction allow excludes",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
            )],
            None,
            "iam:CreateRole",
            ROLE,
            vec![],
            Want::Implicit,
        ),
        (
            "NotAction deny",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Deny("deny"),
        ),
        (
            "NotAction deny spares",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "NotAction": ["s3:Get*", "s3:List*"], "Resource": "*"}]),
                ),
            ],
            None,
            "s3:GetBucketPolicy",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "NotResource allow",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::prod-*"}]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "NotResource allow excludes",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::trailctl-*"}]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "NotResource deny",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "iam:*", "NotResource": "arn:aws:iam::*:role/approved-*"}]),
                ),
            ],
            None,
            "iam:CreateRole",
            ROLE,
            vec![],
            Want::Deny("deny"),
        ),
        (
            "boundary allows",
            vec![admin()],
            Some(vec![policy(
                "boundary",
                json!([allow(json!("s3:*"), json!("*"))]),
            )]),
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "boundary does not allow",
            vec![admin()],
            Some(vec![policy(
                "boundary",
                json!([allow(json!("s3:Get*"), json!("*"))]),
            )]),
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::ImplicitBoundary,
        ),
        (
            "boundary alone grants nothing",
            vec![],
            Some(vec![policy(
                "boundary",
                json!([allow(json!("*"), json!("*"))]),
            )]),
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Implicit,
        ),
        (
            "boundary denies",
            vec![admin()],
            Some(vec![policy(
                "boundary",
                json!([allow(json!("*"), json!("*")), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]),
            )]),
            "iam:CreateRole",
            ROLE,
            vec![],
            Want::Deny("boundary"),
        ),
        (
            "unknown condition on allow",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Depends,
        ),
        (
            "unknown condition on deny",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Depends,
        ),
        (
            "condition decided from context: holds",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}]),
            )],
            None,
            "iam:PassRole",
            ROLE,
            vec![("iam:PassedToService", "lambda.amazonaws.com")],
            Want::Allow,
        ),
        (
            "condition decided from context: fails",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}]),
            )],
            None,
            "iam:PassRole",
            ROLE,
            vec![("iam:PassedToService", "lambda.amazonaws.com")],
            Want::Implicit,
        ),
        (
            "condition key case-insensitive",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringLike": {"IAM:PassedToService": "lambda.*"}}}]),
            )],
            None,
            "iam:PassRole",
            ROLE,
            vec![("iam:PassedToService", "lambda.amazonaws.com")],
            Want::Allow,
        ),
        (
            "IfExists with key absent holds",
            vec![policy(
                "identity",
                json!([{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}}]),
            )],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Allow,
        ),
        (
            "deny with context that does not match",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![("aws:RequestedRegion", "us-east-1")],
            Want::Allow,
        ),
        (
            "deny with context that matches",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![("aws:RequestedRegion", "ap-south-1")],
            Want::Deny("deny"),
        ),
        (
            "allow plus uncertain deny is uncertain",
            vec![
                admin(),
                policy(
                    "deny",
                    json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}]),
                ),
            ],
            None,
            "s3:CreateBucket",
            BUCKET,
            vec![],
            Want::Depends,
        ),
    ];
    assert!(cases.len() >= 30);
    for (what, identity, boundary, action, resource, context, want) in cases {
        let request = Request {
            action,
            resource,
            context: context
                .into_iter()
                .map(|(k, v)| (k.to_owned(), vec![v.to_owned()]))
                .collect(),
        };
        let got = outcome(evaluate(&identity, boundary.as_deref(), &request));
        assert_eq!(got, want, "{what}");
    }
}
