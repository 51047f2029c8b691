//! The bundled custom-role policy, `policies/trailctl-policy.json`: the one
//! an administrator gives to whoever runs trailctl.
//!
//! It is built here from the code's own lists — each resource module
//! declares the actions it calls, the preflight declares the reads it
//! makes — so it grants exactly what trailctl can call. Every action is
//! scoped to trailctl's own resources (`trailctl-*`) where the action allows
//! it; [`Target`] renders the same statements for one integration, with
//! concrete ARNs. The file is this module's output for [`Target::any`]; a
//! test keeps the two equal.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::desired::Names;
use crate::resources::{bucket, Kind};

/// The policy as shipped, byte for byte.
#[cfg(test)]
pub const FILE: &str = include_str!("../../policies/trailctl-policy.json");

/// The group of resources one statement of the policy covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    LogBuckets,
    LogObjects,
    Topics,
    /// The collector role and the two roles trailctl passes to services.
    Roles,
    /// The caller's own IAM identity, read by the preflight.
    CallerPermissions,
    Trails,
    Queues,
    Functions,
    LogGroups,
    /// `logs:DescribeLogGroups` is authorised on the listing, not a group.
    LogGroupListing,
    ForwardTokens,
    /// `iam:PassRole`, only to Lambda and CloudTrail.
    PassRoles,
    /// Organizations reads and CloudTrail's trusted access (`--org`): these
    /// actions take no resource narrower than the organization.
    Organization,
    /// CloudTrail's service-linked role, which it creates as the caller for
    /// an organization trail.
    CloudTrailServiceRole,
    /// Listing the account's trails, which no resource narrows.
    TrailDiscovery,
}

impl Scope {
    fn sid(self) -> &'static str {
        match self {
            Scope::LogBuckets => "TrailctlLogBuckets",
            Scope::LogObjects => "TrailctlEmptyLogBucketsOnDeleteLogs",
            Scope::Topics => "TrailctlTopics",
            Scope::Roles => "TrailctlRoles",
            Scope::Trails => "TrailctlTrails",
            Scope::Queues => "TrailctlQueues",
            Scope::Functions => "TrailctlForwarderFunctions",
            Scope::LogGroups => "TrailctlLogGroups",
            Scope::LogGroupListing => "TrailctlFindLogGroups",
            Scope::ForwardTokens => "TrailctlForwardTokens",
            Scope::PassRoles => "TrailctlPassRolesToLambdaAndCloudTrail",
            Scope::CallerPermissions => "TrailctlPreflightReadsCallersOwnPermissions",
            Scope::Organization => "TrailctlOrganizationTrails",
            Scope::CloudTrailServiceRole => "TrailctlCloudTrailServiceLinkedRole",
            Scope::TrailDiscovery => "TrailctlListTrailsOfTheAccount",
        }
    }
}

/// Which statement covers `action` when called on a resource of `kind`.
pub fn scope_of(kind: Kind, action: &str) -> Scope {
    if action == "iam:PassRole" {
        return Scope::PassRoles;
    }
    if action == "iam:CreateServiceLinkedRole" {
        return Scope::CloudTrailServiceRole;
    }
    if crate::resources::trail::DISCOVER_ACTIONS.contains(&action) {
        return Scope::TrailDiscovery;
    }
    match kind {
        Kind::Bucket if bucket::OBJECT_ACTIONS.contains(&action) => Scope::LogObjects,
        Kind::Bucket | Kind::Notification => Scope::LogBuckets,
        Kind::Topic | Kind::Subscription => Scope::Topics,
        Kind::Role => Scope::Roles,
        Kind::Trail => Scope::Trails,
        Kind::Queue => Scope::Queues,
        Kind::Function => Scope::Functions,
        Kind::LogGroup if action == "logs:DescribeLogGroups" => Scope::LogGroupListing,
        Kind::LogGroup => Scope::LogGroups,
        Kind::Parameter => Scope::ForwardTokens,
        Kind::Organization => Scope::Organization,
    }
}

/// What the policy is rendered for. Each part left `None` becomes a
/// wildcard, so [`Target::any`] covers every integration in every account.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub integration: Option<String>,
    pub bucket: Option<String>,
    /// A reused trail's or topic's ARN, and the region of the topic and the
    /// queue when a reused bucket is elsewhere (see [`Names::reused`]).
    pub reused_trail: Option<String>,
    pub reused_topic: Option<String>,
    pub delivery_region: Option<String>,
}

impl Target {
    /// Every integration, every account: the shipped file.
    #[cfg(test)]
    pub fn any() -> Self {
        Self::default()
    }

    /// One integration, fully concrete: what the preflight checks.
    pub fn for_names(names: &Names) -> Self {
        Self {
            partition: Some(names.partition.clone()),
            account: Some(names.account.clone()),
            region: Some(names.region.clone()),
            integration: Some(names.integration.to_string()),
            bucket: Some(names.bucket.clone()),
            reused_trail: names.reused.trail.clone(),
            reused_topic: names.reused.topic.clone(),
            delivery_region: Some(names.delivery_region.clone()),
        }
    }

    fn partition(&self) -> &str {
        self.partition.as_deref().unwrap_or("aws")
    }

    fn account(&self) -> &str {
        self.account.as_deref().unwrap_or("*")
    }

    fn region(&self) -> &str {
        self.region.as_deref().unwrap_or("*")
    }

    /// `trailctl-<name>`, or `trailctl-*` for any integration.
    fn base(&self) -> String {
        format!("trailctl-{}", self.integration.as_deref().unwrap_or("*"))
    }

    /// The roles: the collector's first, then the two trailctl passes to a
    /// service (the forwarder's execution role, CloudTrail's for
    /// CloudWatch Logs); `trailctl-*` covers all three for any integration.
    fn roles(&self) -> Vec<String> {
        match &self.integration {
            Some(_) => vec![
                self.base(),
                format!("{}-forwarder", self.base()),
                format!("{}-cloudtrail-logs", self.base()),
            ],
            None => vec![self.base(), self.base()],
        }
    }

    /// The log bucket: the chosen one, the default name of this integration
    /// (`?` for each digit of an unknown account, so that `prod` does not
    /// also cover `prod-eu`), or any trailctl bucket.
    fn bucket(&self) -> String {
        match (&self.bucket, &self.integration) {
            (Some(bucket), _) => bucket.clone(),
            (None, Some(name)) => format!(
                "trailctl-{name}-{}-{}",
                self.account.as_deref().unwrap_or("????????????"),
                self.region()
            ),
            (None, None) => "trailctl-*".into(),
        }
    }

    /// The resource ARNs a statement of `scope` is limited to.
    pub fn resources(&self, scope: Scope) -> Vec<String> {
        let (p, account, region) = (self.partition(), self.account(), self.region());
        match scope {
            Scope::LogBuckets => vec![format!("arn:{p}:s3:::{}", self.bucket())],
            Scope::LogObjects => vec![format!("arn:{p}:s3:::{}/*", self.bucket())],
            // The topic, and its subscriptions (Unsubscribe).
            Scope::Topics => {
                let delivery = self.delivery_region.as_deref().unwrap_or(region);
                let topic = self.reused_topic.clone().unwrap_or_else(|| {
                    format!("arn:{p}:sns:{delivery}:{account}:{}", self.base())
                });
                vec![topic.clone(), format!("{topic}:*")]
            }
            Scope::Roles => self
                .roles()
                .iter()
                .map(|r| format!("arn:{p}:iam::{account}:role/{r}"))
                .collect(),
            Scope::PassRoles => self
                .roles()
                .iter()
                .skip(1)
                .map(|r| format!("arn:{p}:iam::{account}:role/{r}"))
                .collect(),
            Scope::Queues => {
                let delivery = self.delivery_region.as_deref().unwrap_or(region);
                let queue = format!("arn:{p}:sqs:{delivery}:{account}:{}", self.base());
                vec![queue.clone(), format!("{queue}-dlq")]
            }
            Scope::Functions => vec![format!(
                "arn:{p}:lambda:{region}:{account}:function:{}",
                self.base()
            )],
            Scope::LogGroups => {
                let name = self.integration.as_deref().unwrap_or("*");
                [
                    format!("/aws/lambda/{}", self.base()),
                    format!("/trailctl/{name}/cloudtrail"),
                ]
                .iter()
                .flat_map(|g| {
                    let arn = format!("arn:{p}:logs:{region}:{account}:log-group:{g}");
                    [arn.clone(), format!("{arn}:*")]
                })
                .collect()
            }
            Scope::LogGroupListing => vec![format!("arn:{p}:logs:{region}:{account}:log-group:*")],
            Scope::Organization | Scope::TrailDiscovery => vec!["*".into()],
            Scope::CloudTrailServiceRole => vec![format!(
                "arn:{p}:iam::{account}:role/aws-service-role/cloudtrail.amazonaws.com/AWSServiceRoleForCloudTrail"
            )],
            Scope::ForwardTokens => vec![format!(
                "arn:{p}:ssm:{region}:{account}:parameter/trailctl/{}/forward-token",
                self.integration.as_deref().unwrap_or("*")
            )],
            Scope::Trails => vec![self.reused_trail.clone().unwrap_or_else(|| {
                format!("arn:{p}:cloudtrail:{region}:{account}:trail/{}", self.base())
            })],
            Scope::CallerPermissions => {
                let mut arns: Vec<String> = ["user/*", "group/*", "role/*", "policy/*"]
                    .iter()
                    .map(|r| format!("arn:{p}:iam::{account}:{r}"))
                    .collect();
                if self.account.is_some() {
                    // AWS managed policies attached to the caller.
                    arns.push(format!("arn:{p}:iam::aws:policy/*"));
                }
                arns
            }
        }
    }

    /// The ARN one call of `action` on `kind` acts on (the first resource of
    /// its statement; concrete for a [`Target::for_names`]).
    pub fn resource_for(&self, kind: Kind, action: &str) -> String {
        let mut resources = self.resources(scope_of(kind, action));
        // The trail passes CloudTrail's role, the function the forwarder's.
        if kind == Kind::Trail && action == "iam:PassRole" {
            return resources.pop().unwrap_or_default();
        }
        resources.remove(0)
    }
}

/// One statement: its scope and the actions it grants, sorted.
#[derive(Debug, Clone)]
pub struct Statement {
    pub scope: Scope,
    pub sid: &'static str,
    pub actions: Vec<&'static str>,
}

impl Statement {
    /// The service prefix its actions share (`s3`, `iam`, …).
    pub fn service(&self) -> &'static str {
        self.actions
            .first()
            .and_then(|a| a.split(':').next())
            .unwrap_or_default()
    }
}

/// The statements of the policy, from the code's own action lists.
pub fn statements() -> Vec<Statement> {
    let mut by_scope: BTreeMap<Scope, Vec<&'static str>> = BTreeMap::new();
    for kind in Kind::ALL {
        for action in kind.actions() {
            by_scope
                .entry(scope_of(kind, action))
                .or_default()
                .push(action);
        }
    }
    by_scope
        .entry(Scope::CallerPermissions)
        .or_default()
        .extend(crate::preflight::CALLER_READ_ACTIONS);
    by_scope
        .into_iter()
        .map(|(scope, mut actions)| {
            actions.sort_unstable();
            actions.dedup();
            Statement {
                scope,
                sid: scope.sid(),
                actions,
            }
        })
        .collect()
}

/// The policy document for `target`.
pub fn document(target: &Target) -> Value {
    let statements: Vec<Value> = statements()
        .into_iter()
        .map(|s| {
            let resources = target.resources(s.scope);
            let resource = match resources.as_slice() {
                [one] => json!(one),
                _ => json!(resources),
            };
            let mut statement = json!({
                "Sid": s.sid,
                "Effect": "Allow",
                "Action": s.actions,
                "Resource": resource,
            });
            if s.scope == Scope::CloudTrailServiceRole {
                statement["Condition"] =
                    json!({"StringEquals": {"iam:AWSServiceName": "cloudtrail.amazonaws.com"}});
            }
            if s.scope == Scope::PassRoles {
                statement["Condition"] = json!({"StringEquals": {"iam:PassedToService": [
                    "cloudtrail.amazonaws.com",
                    "lambda.amazonaws.com"
                ]}});
            }
            statement
        })
        .collect();
    json!({"Version": super::policy::VERSION, "Statement": statements})
}

/// The policy as the file holds it: pretty JSON with a final newline.
pub fn render(target: &Target) -> String {
    let mut text = serde_json::to_string_pretty(&document(target)).expect("JSON value");
    text.push('\n');
    text
}

/// Why trailctl calls `action`: one line for `trailctl policy`.
pub fn reason(action: &str) -> Option<&'static str> {
    Some(match action {
        "s3:CreateBucket" => "create the log bucket",
        "s3:DeleteBucket" => "delete the log bucket (only `delete --delete-logs`, or undoing a failed setup)",
        "s3:DeleteBucketPolicy" => "lift the bucket policy before emptying the bucket (`delete --delete-logs`)",
        "s3:GetBucketNotification" => "read the bucket's event notifications (trailctl's entry and others')",
        "s3:GetBucketOwnershipControls" => "check that object ownership is enforced (ACLs off)",
        "s3:GetBucketPolicy" => "read the bucket policy",
        "s3:GetBucketPublicAccessBlock" => "check that public access is blocked",
        "s3:GetBucketTagging" => "read the ownership tag of the bucket",
        "s3:GetBucketVersioning" => "check that versioning is on",
        "s3:GetEncryptionConfiguration" => "read the default encryption",
        "s3:GetLifecycleConfiguration" => "read the retention rule",
        "s3:ListBucket" => "find out whether the bucket exists, and where (HeadBucket)",
        "s3:ListBucketVersions" => "list every version of every log file when emptying the bucket (`--delete-logs`)",
        "s3:PutBucketNotification" => "add or remove trailctl's notification entry, keeping everyone else's",
        "s3:PutBucketOwnershipControls" => "enforce bucket-owner object ownership (ACLs off)",
        "s3:PutBucketPolicy" => "let CloudTrail write and the collector role read; deny plain-HTTP access",
        "s3:PutBucketPublicAccessBlock" => "block all public access",
        "s3:PutBucketTagging" => "tag the bucket as owned by the integration",
        "s3:PutBucketVersioning" => "turn versioning on, so no log file can be silently overwritten",
        "s3:PutEncryptionConfiguration" => "set default encryption (SSE-S3, or the --kms-key)",
        "s3:PutLifecycleConfiguration" => "expire log files after --retention-days",
        "s3:DeleteObject" => "empty the bucket (`delete --delete-logs` only)",
        "s3:DeleteObjectVersion" => "delete old versions and delete markers when emptying the bucket",
        "sns:CreateTopic" => "create the topic that announces new log files",
        "sns:DeleteTopic" => "delete the topic",
        "sns:GetTopicAttributes" => "read the topic and its policy",
        "sns:ListTagsForResource" => "read the ownership tag of the topic",
        "sns:SetTopicAttributes" => "set the topic policy: the bucket may publish, the collector may subscribe",
        "sns:TagResource" => "tag the topic as owned by the integration",
        "sns:Publish" => "`resume` replays log files written during a pause to the collector",
        "iam:CreateRole" => "create the collector role",
        "iam:DeleteRole" => "delete the collector role",
        "iam:DeleteRolePolicy" => "remove inline policies from the collector role (before deleting it, or ones trailctl did not put there)",
        "iam:DetachRolePolicy" => "detach managed policies someone attached to the collector role",
        "iam:GetRole" => "read the collector role and its trust policy; find the ARN and boundary of the caller's own role",
        "iam:GetRolePolicy" => "read inline role policies (the collector role's; the caller's own for the check)",
        "iam:ListAttachedRolePolicies" => "list managed policies of a role (the collector role's; the caller's own for the check)",
        "iam:ListRolePolicies" => "list inline policies of a role (the collector role's; the caller's own for the check)",
        "iam:PutRolePolicy" => "let the collector role read the log files",
        "iam:TagRole" => "tag the collector role as owned by the integration, with what it reuses and has; `pause` records when it paused",
        "iam:UntagRole" => "`resume` removes the pause record from the collector role",
        "iam:UpdateAssumeRolePolicy" => "restore the trust policy: only the collector account, with the external ID",
        "iam:SimulatePrincipalPolicy" => "check the caller's own permissions before any change",
        "iam:GetUser" => "find the caller's permissions boundary (check, without the simulator)",
        "iam:ListUserPolicies" | "iam:GetUserPolicy" | "iam:ListAttachedUserPolicies" => {
            "read the caller's own user policies (check, without the simulator)"
        }
        "iam:ListGroupsForUser" | "iam:ListGroupPolicies" | "iam:GetGroupPolicy"
        | "iam:ListAttachedGroupPolicies" => "read the policies of the caller's groups (check, without the simulator)",
        "iam:GetPolicy" | "iam:GetPolicyVersion" => "read managed policies attached to the caller (check, without the simulator)",
        "cloudtrail:AddTags" => "tag the trail as owned by the integration",
        "cloudtrail:CreateTrail" => "create the multi-region trail",
        "cloudtrail:DeleteTrail" => "delete the trail",
        "cloudtrail:GetEventSelectors" => "read which events the trail records",
        "cloudtrail:GetTrail" => "read the trail",
        "cloudtrail:ListTrails" => "list the account's trails in every region before planning (a second trail duplicates costs; 5 per region at most)",
        "cloudtrail:DescribeTrails" => "see which trails already log every region (shadow trails included)",
        "cloudtrail:GetTrailStatus" => "check that the trail is logging",
        "cloudtrail:ListTags" => "read the ownership tag of the trail",
        "cloudtrail:PutEventSelectors" => "record management events (all, or write-only)",
        "cloudtrail:StartLogging" => "turn logging on",
        "cloudtrail:StopLogging" => "`pause --stop-logging` only: stop the trail trailctl owns",
        "cloudtrail:UpdateTrail" => "restore the trail's settings (bucket, multi-region, validation, CloudWatch Logs)",
        "iam:PassRole" => "give the forwarder its execution role, and CloudTrail its role for CloudWatch Logs",
        "sns:ListSubscriptionsByTopic" => "find the topic's subscriptions to trailctl's queue and forwarder",
        "sns:Subscribe" => "subscribe the queue (raw delivery) or the forwarder to the topic",
        "sns:Unsubscribe" => "remove trailctl's subscriptions when a delivery mode is dropped",
        "sqs:CreateQueue" => "create the queue the collector polls, and its dead-letter queue (`--delivery sqs`)",
        "sqs:DeleteQueue" => "delete the queue and its dead-letter queue",
        "sqs:GetQueueAttributes" => "read the queue's policy, encryption and redrive policy",
        "sqs:ListQueueTags" => "read the ownership tag of the queue",
        "sqs:SetQueueAttributes" => "restore the queue's policy, encryption, redrive and retention",
        "sqs:TagQueue" => "tag the queues as owned by the integration",
        "lambda:AddPermission" => "let the topic (and the CloudWatch Logs group) invoke the forwarder",
        "lambda:CreateFunction" => "create the forwarder function (`--delivery https`)",
        "lambda:DeleteFunction" => "delete the forwarder function",
        "lambda:GetFunction" => "read the forwarder's configuration and code hash",
        "lambda:GetPolicy" => "read who may invoke the forwarder",
        "lambda:RemovePermission" => "replace an invoke permission whose terms changed, or remove one no longer needed",
        "lambda:InvokeFunction" => "`resume` replays missed log files to a forwarder fed by CloudWatch Logs",
        "logs:DeleteSubscriptionFilter" => "`pause` stops the trail log group's feed to the forwarder",
        "lambda:TagResource" => "tag the forwarder as owned by the integration",
        "lambda:UpdateFunctionCode" => "deploy the forwarder's code when the embedded source changed",
        "lambda:UpdateFunctionConfiguration" => "restore the forwarder's runtime, memory, timeout, role and endpoint",
        "logs:CreateLogGroup" => "create the forwarder's log group, and the trail's with `--cloudwatch-logs`",
        "logs:DeleteLogGroup" => "delete those log groups",
        "logs:DescribeLogGroups" => "read the log groups' retention",
        "logs:DescribeSubscriptionFilters" => "read the trail log group's subscription to the forwarder",
        "logs:ListTagsForResource" => "read the ownership tag of the log groups",
        "logs:PutRetentionPolicy" => "set how long the log groups keep events",
        "logs:PutSubscriptionFilter" => "send the trail's log group to the forwarder",
        "logs:TagResource" => "tag the log groups as owned by the integration",
        "ssm:AddTagsToResource" => "tag the token parameter as owned by the integration",
        "ssm:DeleteParameter" => "delete the forwarder's token",
        "ssm:GetParameter" => "compare the stored forwarder token with the one given (decrypted)",
        "ssm:ListTagsForResource" => "read the ownership tag of the token parameter",
        "organizations:DescribeOrganization" => "`--org`: find the organization, its ID and its management account",
        "organizations:ListAccounts" => "`--org`, `accounts`: list the organization's accounts to validate and show the selection",
        "organizations:ListAWSServiceAccessForOrganization" => "`--org`: check CloudTrail's trusted access (CloudTrail checks it too)",
        "organizations:ListDelegatedAdministrators" => "`--org`: recognise a CloudTrail delegated administrator",
        "organizations:EnableAWSServiceAccess" => "`--org`: enable CloudTrail's trusted access when it is off",
        "organizations:DisableAWSServiceAccess" => "`--org`: undo enabling trusted access when the same setup fails",
        "iam:CreateServiceLinkedRole" => "`--org`: CloudTrail creates its service-linked role, as the caller, for an organization trail",
        "ssm:PutParameter" => "store the forwarder's endpoint token as a SecureString",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The bundled policy grants exactly what the code can call: no action
    /// missing (a run would fail half way), none extra (least privilege).
    /// The code's side comes from each module's own lists.
    #[test]
    fn bundled_policy_grants_exactly_the_actions_the_code_calls() {
        let policy: Value = serde_json::from_str(FILE).expect("policy JSON");
        let granted: BTreeSet<String> = policy["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .flat_map(|s| s["Action"].as_array().expect("action list").iter())
            .map(|a| a.as_str().expect("action").to_owned())
            .collect();
        let called: BTreeSet<String> = crate::resources::all_actions()
            .into_iter()
            .chain(crate::preflight::CALLER_READ_ACTIONS.iter().copied())
            .map(str::to_owned)
            .collect();
        let missing: Vec<_> = called.difference(&granted).collect();
        let extra: Vec<_> = granted.difference(&called).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing from the policy: {missing:?}; not called: {extra:?}"
        );
    }

    #[test]
    fn the_file_is_the_rendering_for_any_integration() {
        assert!(
            FILE == render(&Target::any()),
            "policies/trailctl-policy.json is out of date; regenerate it with \
             `cargo run -q -- policy --output json > policies/trailctl-policy.json`"
        );
    }

    #[test]
    fn every_granted_action_says_why() {
        for statement in statements() {
            for action in statement.actions {
                assert!(reason(action).is_some(), "no reason for {action}");
            }
        }
    }

    #[test]
    fn only_object_deletes_reach_into_the_bucket() {
        let objects = statements()
            .into_iter()
            .find(|s| s.scope == Scope::LogObjects)
            .expect("object statement");
        assert_eq!(
            objects.actions,
            ["s3:DeleteObject", "s3:DeleteObjectVersion"]
        );
        for action in bucket::OBJECT_ACTIONS {
            assert!(bucket::DELETE_ACTIONS.contains(action));
        }
    }

    #[test]
    fn resources_render_from_wildcard_to_concrete() {
        let named = Target {
            integration: Some("prod".into()),
            ..Target::default()
        };
        let full = Target {
            partition: Some("aws-us-gov".into()),
            account: Some("123456789012".into()),
            region: Some("us-gov-west-1".into()),
            integration: Some("prod".into()),
            bucket: None,
            ..Target::default()
        };
        let chosen = Target {
            bucket: Some("my-logs".into()),
            ..named.clone()
        };
        for (target, scope, want) in [
            (&Target::any(), Scope::LogBuckets, "arn:aws:s3:::trailctl-*"),
            (
                &Target::any(),
                Scope::LogObjects,
                "arn:aws:s3:::trailctl-*/*",
            ),
            (&Target::any(), Scope::Topics, "arn:aws:sns:*:*:trailctl-*"),
            (
                &Target::any(),
                Scope::Roles,
                "arn:aws:iam::*:role/trailctl-*",
            ),
            (
                &Target::any(),
                Scope::Trails,
                "arn:aws:cloudtrail:*:*:trail/trailctl-*",
            ),
            (
                &named,
                Scope::LogBuckets,
                "arn:aws:s3:::trailctl-prod-????????????-*",
            ),
            (&named, Scope::Topics, "arn:aws:sns:*:*:trailctl-prod"),
            (&chosen, Scope::LogObjects, "arn:aws:s3:::my-logs/*"),
            (
                &full,
                Scope::LogBuckets,
                "arn:aws-us-gov:s3:::trailctl-prod-123456789012-us-gov-west-1",
            ),
            (
                &full,
                Scope::Roles,
                "arn:aws-us-gov:iam::123456789012:role/trailctl-prod",
            ),
            (
                &full,
                Scope::Trails,
                "arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/trailctl-prod",
            ),
        ] {
            assert_eq!(target.resources(scope)[0], want, "{scope:?} for {target:?}");
        }
        // `prod`'s default bucket pattern does not cover `prod-eu`'s bucket.
        assert!(!crate::iam::eval::wildcard_match(
            &named.resources(Scope::LogBuckets)[0],
            "arn:aws:s3:::trailctl-prod-eu-123456789012-us-east-1",
            false
        ));
        assert!(full
            .resources(Scope::CallerPermissions)
            .contains(&"arn:aws-us-gov:iam::aws:policy/*".to_owned()));
    }

    #[test]
    fn every_step_kind_maps_its_actions_to_its_own_resource() {
        let target = Target {
            partition: Some("aws".into()),
            account: Some("123456789012".into()),
            region: Some("eu-west-1".into()),
            integration: Some("x".into()),
            bucket: None,
            ..Target::default()
        };
        for (kind, action, want) in [
            (
                Kind::Bucket,
                "s3:PutBucketPolicy",
                "arn:aws:s3:::trailctl-x-123456789012-eu-west-1",
            ),
            (
                Kind::Bucket,
                "s3:DeleteObjectVersion",
                "arn:aws:s3:::trailctl-x-123456789012-eu-west-1/*",
            ),
            (
                Kind::Notification,
                "s3:PutBucketNotification",
                "arn:aws:s3:::trailctl-x-123456789012-eu-west-1",
            ),
            (
                Kind::Topic,
                "sns:CreateTopic",
                "arn:aws:sns:eu-west-1:123456789012:trailctl-x",
            ),
            (
                Kind::Role,
                "iam:PutRolePolicy",
                "arn:aws:iam::123456789012:role/trailctl-x",
            ),
            (
                Kind::Trail,
                "cloudtrail:StartLogging",
                "arn:aws:cloudtrail:eu-west-1:123456789012:trail/trailctl-x",
            ),
        ] {
            assert_eq!(target.resource_for(kind, action), want);
        }
    }
}
