//! The permission preflight: before the first change, is the caller allowed
//! every call this plan makes, on the resources it makes them on?
//!
//! First choice is `iam:SimulatePrincipalPolicy` ([`simulate`]): it is
//! authoritative and covers permission boundaries and SCPs. When it is not
//! allowed or not available, the caller's own policies (read alongside it)
//! are evaluated locally ([`local`], with [`crate::iam::eval`]). When neither
//! works the preflight says so ([`CannotRead`]); `--skip-preflight` is the
//! documented way past it.

mod local;
mod simulate;

use std::collections::HashMap;

use futures::future::{self, Either};
use futures::FutureExt as _;

use serde::Serialize;

use crate::aws::{Caller, Clients};
use crate::desired::Names;
use crate::iam::bundled::Target;
use crate::iam::eval::{Decision, Source};
use crate::plan::Plan;
use crate::resources::Kind;

/// The IAM reads the preflight itself makes, on the caller's own identity:
/// the simulator, the caller's role (for its ARN with path, and its
/// boundary), and the policy reads of the local fallback.
pub const CALLER_READ_ACTIONS: &[&str] = &[
    "iam:SimulatePrincipalPolicy",
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetUser",
    "iam:ListUserPolicies",
    "iam:GetUserPolicy",
    "iam:ListAttachedUserPolicies",
    "iam:ListGroupsForUser",
    "iam:ListGroupPolicies",
    "iam:GetGroupPolicy",
    "iam:ListAttachedGroupPolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
];

/// One call to check: an action on a resource ARN.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Permission {
    pub action: &'static str,
    pub resource: String,
}

/// What applying `plan` calls, on the concrete resources of `names`.
#[cfg(test)]
pub fn for_plan(plan: &Plan, names: &Names) -> Vec<Permission> {
    for_plan_and(plan, names, &[])
}

/// [`for_plan`] and the calls the command makes after applying (resume's
/// replay).
pub fn for_plan_and(plan: &Plan, names: &Names, after: &[(Kind, &'static str)]) -> Vec<Permission> {
    let mut needs = plan.needs();
    needs.extend_from_slice(after);
    permissions(&Target::for_names(names), needs)
}

/// Everything the resource modules can call for this integration: what
/// `trailctl check` verifies.
pub fn for_everything(names: &Names) -> Vec<Permission> {
    for_kinds(names, &Kind::ALL)
}

/// Every call on `kinds`, and the reads of the others (every command reads
/// every kind): what a setup with some options may need.
pub fn for_kinds(names: &Names, kinds: &[Kind]) -> Vec<Permission> {
    let needs = Kind::ALL
        .iter()
        .flat_map(|k| {
            let actions = if kinds.contains(k) {
                k.actions()
            } else {
                k.read_actions().to_vec()
            };
            actions.into_iter().map(move |a| (*k, a))
        })
        .collect();
    permissions(&Target::for_names(names), needs)
}

fn permissions(target: &Target, needs: Vec<(Kind, &'static str)>) -> Vec<Permission> {
    let mut list: Vec<Permission> = needs
        .into_iter()
        .map(|(kind, action)| Permission {
            action,
            resource: target.resource_for(kind, action),
        })
        .collect();
    list.sort();
    list.dedup();
    list
}

/// Who is calling, as far as IAM policies are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An IAM user; its ARN (with path) is the one STS returns.
    User {
        arn: String,
        name: String,
    },
    /// A role session (CloudShell, SSO, an instance); the role's own ARN has
    /// a path STS does not show, so it is looked up by name.
    Role {
        name: String,
    },
    Root,
    /// Federated users and anything else without a principal to simulate.
    Other,
}

impl Principal {
    /// Classify the ARN `sts:GetCallerIdentity` returned.
    pub fn from_caller_arn(arn: &str) -> Self {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        let service = arn.split(':').nth(2).unwrap_or_default();
        match (service, resource.split_once('/')) {
            ("iam", None) if resource == "root" => Principal::Root,
            ("iam", Some(("user", path_and_name))) => Principal::User {
                arn: arn.to_owned(),
                name: path_and_name
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            },
            ("sts", Some(("assumed-role", role_and_session))) => Principal::Role {
                name: role_and_session
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            },
            _ => Principal::Other,
        }
    }
}

/// The condition keys whose values are known before the calls are made,
/// given to the simulator and to the local evaluator alike.
pub fn context_for(
    permission: &Permission,
    caller: &Caller,
    region: &str,
) -> HashMap<String, Vec<String>> {
    let mut context = HashMap::from([
        (
            "aws:PrincipalAccount".to_owned(),
            vec![caller.account.clone()],
        ),
        ("aws:PrincipalArn".to_owned(), vec![caller.arn.clone()]),
        ("aws:SecureTransport".to_owned(), vec!["true".to_owned()]),
    ]);
    // The service each passed role goes to: CloudTrail gets the role for
    // CloudWatch Logs, Lambda the forwarder's.
    if permission.action == "iam:PassRole" {
        let service = if permission.resource.ends_with("-cloudtrail-logs") {
            "cloudtrail.amazonaws.com"
        } else {
            "lambda.amazonaws.com"
        };
        context.insert("iam:PassedToService".into(), vec![service.to_owned()]);
    }
    if permission.action == "iam:CreateServiceLinkedRole" {
        context.insert(
            "iam:AWSServiceName".into(),
            vec!["cloudtrail.amazonaws.com".to_owned()],
        );
    }
    // IAM and Organizations are global: their requested region is the
    // partition's (us-east-1 for `aws`), not ours.
    if permission.action.starts_with("organizations:") && caller.partition == "aws" {
        context.insert("aws:RequestedRegion".into(), vec!["us-east-1".to_owned()]);
    } else if !permission.action.starts_with("iam:")
        && !permission.action.starts_with("organizations:")
    {
        context.insert("aws:RequestedRegion".into(), vec![region.to_owned()]);
    }
    context
}

/// How the permissions were decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Simulator,
    LocalEvaluation,
    /// The root user is allowed everything (except by an SCP).
    NotCheckedRoot,
}

/// A call that is not (certainly) allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub action: &'static str,
    pub resource: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// No policy allows it.
    NoAllow {
        /// The permissions boundary is what lacks the Allow.
        in_boundary: bool,
    },
    ExplicitDeny {
        policy: String,
        sid: Option<String>,
    },
    /// Allowed or denied only under a condition that cannot be decided
    /// before the call.
    DependsOnCondition {
        policy: String,
        sid: Option<String>,
    },
}

impl Verdict {
    fn from_decision(decision: Decision) -> Option<Self> {
        let source = |s: Source| (s.policy, s.sid);
        Some(match decision {
            Decision::Allowed => return None,
            Decision::ImplicitDeny { in_boundary } => Verdict::NoAllow { in_boundary },
            Decision::ExplicitDeny(s) => {
                let (policy, sid) = source(s);
                Verdict::ExplicitDeny { policy, sid }
            }
            Decision::DependsOnCondition(s) => {
                let (policy, sid) = source(s);
                Verdict::DependsOnCondition { policy, sid }
            }
        })
    }
}

/// The outcome of the preflight.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The principal whose policies were checked.
    pub principal: String,
    pub method: Method,
    /// Why the simulator was not used, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulator_unavailable: Option<String>,
    pub checked: usize,
    pub allowed: usize,
    /// Every call that is not allowed, in action order.
    pub findings: Vec<Finding>,
    /// What was checked.
    #[serde(skip)]
    pub permissions: Vec<Permission>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }

    /// The same check narrowed to `needed`, when it covered all of it.
    pub fn subset(&self, needed: &[Permission]) -> Option<Report> {
        if !needed.iter().all(|p| self.permissions.contains(p)) {
            return None;
        }
        let findings: Vec<Finding> = self
            .findings
            .iter()
            .filter(|f| {
                needed
                    .iter()
                    .any(|p| p.action == f.action && p.resource == f.resource)
            })
            .cloned()
            .collect();
        Some(Report {
            checked: needed.len(),
            allowed: needed.len() - findings.len(),
            findings,
            permissions: needed.to_vec(),
            ..self.clone()
        })
    }

    fn from_decisions(
        principal: String,
        method: Method,
        simulator_unavailable: Option<String>,
        permissions: &[Permission],
        decisions: Vec<Decision>,
    ) -> Self {
        let findings: Vec<Finding> = permissions
            .iter()
            .zip(decisions)
            .filter_map(|(p, d)| {
                Some(Finding {
                    action: p.action,
                    resource: p.resource.clone(),
                    verdict: Verdict::from_decision(d)?,
                })
            })
            .collect();
        Self {
            principal,
            method,
            simulator_unavailable,
            checked: permissions.len(),
            allowed: permissions.len() - findings.len(),
            findings,
            permissions: permissions.to_vec(),
        }
    }
}

/// The caller's permissions could be read neither way.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot check the permissions of {principal} before changing anything: {why}\n\
     Grant it the bundled policy (`trailctl policy`), which allows reading its own permissions, \
     or re-run with --skip-preflight to go ahead unchecked, at your own risk \
     (a missing permission then fails half way and the run rolls back)"
)]
pub struct CannotRead {
    pub principal: String,
    pub why: String,
}

/// Check `permissions` for the caller.
pub async fn check(
    clients: &Clients,
    caller: &Caller,
    permissions: &[Permission],
) -> Result<Report, CannotRead> {
    let region = clients.region.as_str();
    let contexts: Vec<_> = permissions
        .iter()
        .map(|p| context_for(p, caller, region))
        .collect();
    let cannot = |why: String| CannotRead {
        principal: caller.arn.clone(),
        why,
    };
    let principal = Principal::from_caller_arn(&caller.arn);
    let iam = &clients.iam;
    // The ARN to simulate, and the caller's policies for when the simulator
    // cannot answer, read alongside it.
    let (principal_arn, reading) = match &principal {
        Principal::Root => {
            return Ok(Report::from_decisions(
                caller.arn.clone(),
                Method::NotCheckedRoot,
                None,
                permissions,
                vec![Decision::Allowed; permissions.len()],
            ))
        }
        Principal::Other => {
            return Err(cannot(
                "it is neither an IAM user nor a role session, so it has no policies to simulate or read"
                    .into(),
            ))
        }
        Principal::User { arn, name } => (
            Either::Left(future::ready(arn.clone())),
            Either::Left(local::read_user(iam, name)),
        ),
        // A role session's ARN does not show the role's path, which the
        // simulator needs: one GetRole gives it, and the role's boundary to
        // the local evaluation, whose policy lists are read alongside it.
        Principal::Role { name } => {
            let role = local::caller_role(iam, name).shared();
            // Without iam:GetRole, the ARN without a path: right for most
            // roles, and the simulator says so when it is not.
            let pathless = format!("arn:{}:iam::{}:role/{name}", caller.partition, caller.account);
            (
                Either::Right(role.clone().map(|role| role.map_or(pathless, |r| r.arn))),
                Either::Right(local::read_role(iam, name, role)),
            )
        }
    };
    let principal_arn = principal_arn.shared();
    let outcome = simulator_or_policies(
        async {
            let arn = principal_arn.clone().await;
            simulate::run(iam, &arn, permissions, &contexts).await
        },
        reading,
    )
    .await;
    let principal_arn = principal_arn.await;
    let (simulator_error, policies) = match outcome {
        Ok(decisions) => {
            return Ok(Report::from_decisions(
                principal_arn,
                Method::Simulator,
                None,
                permissions,
                decisions,
            ))
        }
        Err(failed) => failed,
    };
    let simulator_error = format!("{simulator_error:#}");
    let policies = policies.map_err(|e| {
        cannot(format!(
            "{simulator_error}; and reading its policies failed: {e:#}"
        ))
    })?;
    let decisions = permissions
        .iter()
        .zip(contexts)
        .map(|(p, context)| policies.evaluate(p, context))
        .collect();
    Ok(Report::from_decisions(
        principal_arn,
        Method::LocalEvaluation,
        Some(simulator_error),
        permissions,
        decisions,
    ))
}

/// The simulator's decisions, or its error with the caller's policies. The
/// policies are read alongside the simulator, not after it: when the
/// simulator is denied or missing, evaluating them locally then costs no
/// extra round trip; when it answers, the reads are dropped unfinished.
async fn simulator_or_policies<D, E, P>(
    simulation: impl std::future::Future<Output = Result<D, E>>,
    reading: impl std::future::Future<Output = P>,
) -> Result<D, (E, P)> {
    let (simulation, reading) = (std::pin::pin!(simulation), std::pin::pin!(reading));
    match futures::future::select(simulation, reading).await {
        Either::Left((Ok(decisions), _)) => Ok(decisions),
        Either::Left((Err(e), reading)) => Err((e, reading.await)),
        Either::Right((policies, simulation)) => simulation.await.map_err(|e| (e, policies)),
    }
}

/// The statements that would grant what has no Allow: one per resource,
/// ready to paste into the caller's policy.
pub fn fix_snippet(findings: &[Finding]) -> Option<serde_json::Value> {
    let mut by_resource: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for f in findings {
        if matches!(f.verdict, Verdict::NoAllow { .. }) {
            by_resource.entry(&f.resource).or_default().push(f.action);
        }
    }
    if by_resource.is_empty() {
        return None;
    }
    let statements: Vec<_> = by_resource
        .into_iter()
        .map(|(resource, mut actions)| {
            actions.sort_unstable();
            actions.dedup();
            serde_json::json!({"Effect": "Allow", "Action": actions, "Resource": resource})
        })
        .collect();
    Some(serde_json::json!({
        "Version": crate::iam::policy::VERSION,
        "Statement": statements
    }))
}

#[cfg(test)]
mod tests;
