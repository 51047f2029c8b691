//! `iam:SimulatePrincipalPolicy`: AWS's own evaluation of the caller's
//! identity policies, permissions boundary and SCPs, one call per resource
//! ARN (the simulator checks every action against every resource given, and
//! each of our actions has exactly one resource).

use std::collections::{BTreeMap, HashMap};

use aws_config::retry::RetryConfig;
use aws_sdk_iam::types::{
    ContextEntry, ContextKeyTypeEnum, EvaluationResult, PolicyEvaluationDecisionType,
};
use aws_sdk_iam::Client;

use super::Permission;
use crate::aws::ProvideErrorMetadata;
use crate::iam::eval::{Decision, Source};

/// The decision for each of `permissions`, in order.
pub async fn run(
    iam: &Client,
    principal_arn: &str,
    permissions: &[Permission],
    contexts: &[HashMap<String, Vec<String>>],
) -> anyhow::Result<Vec<Decision>> {
    let mut by_resource: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in permissions.iter().enumerate() {
        by_resource.entry(&p.resource).or_default().push(i);
    }
    let calls = by_resource.iter().map(|(resource, indices)| {
        let actions: Vec<String> = indices
            .iter()
            .map(|i| permissions[*i].action.to_owned())
            .collect();
        // Every action on one resource belongs to one service, so they share
        // a context.
        let context = entries(&contexts[indices[0]]);
        simulate_one(iam, principal_arn, resource, actions, context)
    });
    let results = futures::future::try_join_all(calls).await?;
    let mut decisions = vec![None; permissions.len()];
    for ((_, indices), results) in by_resource.iter().zip(results) {
        for i in indices {
            let result = results.iter().find(|r| {
                r.eval_action_name()
                    .eq_ignore_ascii_case(permissions[*i].action)
            });
            decisions[*i] = result.map(decision_from);
        }
    }
    decisions
        .into_iter()
        .zip(permissions)
        .map(|(d, p)| {
            d.ok_or_else(|| anyhow::anyhow!("the simulator returned no result for {}", p.action))
        })
        .collect()
}

async fn simulate_one(
    iam: &Client,
    principal_arn: &str,
    resource: &str,
    actions: Vec<String>,
    context: Vec<ContextEntry>,
) -> anyhow::Result<Vec<EvaluationResult>> {
    let mut results = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .simulate_principal_policy()
            .policy_source_arn(principal_arn)
            .set_action_names(Some(actions.clone()))
            .resource_arns(resource)
            .set_context_entries(Some(context.clone()))
            .set_marker(marker.take())
            .customize()
            // A simulator that is missing or failing is not worth waiting
            // for: the local evaluation takes over at once.
            .config_override(
                aws_sdk_iam::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| {
                // Short: the report quotes it as the reason for the fallback.
                let why = match (e.code(), crate::aws::http_status(&e)) {
                    (Some(code), _) => code.to_owned(),
                    (None, Some(status)) => format!("HTTP {status}"),
                    (None, None) => "no response".to_owned(),
                };
                anyhow::anyhow!("iam:SimulatePrincipalPolicy answered {why}")
            })?;
        results.extend(page.evaluation_results().iter().cloned());
        match page.marker() {
            Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
            _ => return Ok(results),
        }
    }
}

fn entries(context: &HashMap<String, Vec<String>>) -> Vec<ContextEntry> {
    let mut keys: Vec<_> = context.iter().collect();
    keys.sort();
    keys.into_iter()
        .map(|(key, values)| {
            let kind = if key.eq_ignore_ascii_case("aws:SecureTransport") {
                ContextKeyTypeEnum::Boolean
            } else {
                ContextKeyTypeEnum::String
            };
            ContextEntry::builder()
                .context_key_name(key)
                .set_context_key_values(Some(values.clone()))
                .context_key_type(kind)
                .build()
        })
        .collect()
}

/// One simulator result in the evaluator's terms.
pub fn decision_from(result: &EvaluationResult) -> Decision {
    let source = || {
        let policy = result
            .matched_statements()
            .iter()
            .find_map(|s| s.source_policy_id())
            .unwrap_or("an unnamed policy");
        Source {
            policy: policy.to_owned(),
            sid: None,
        }
    };
    let denied_by_scp = result
        .organizations_decision_detail()
        .is_some_and(|d| !d.allowed_by_organizations());
    match result.eval_decision() {
        PolicyEvaluationDecisionType::Allowed => Decision::Allowed,
        PolicyEvaluationDecisionType::ExplicitDeny if denied_by_scp => {
            Decision::ExplicitDeny(Source {
                policy: "a service control policy of the organization".into(),
                sid: None,
            })
        }
        PolicyEvaluationDecisionType::ExplicitDeny => Decision::ExplicitDeny(source()),
        // Missing context: the outcome turns on a condition we cannot supply.
        _ if !result.missing_context_values().is_empty() => Decision::DependsOnCondition(Source {
            policy: format!(
                "a condition on {}",
                result.missing_context_values().join(", ")
            ),
            sid: None,
        }),
        _ => Decision::ImplicitDeny {
            in_boundary: result
                .permissions_boundary_decision_detail()
                .is_some_and(|b| !b.allowed_by_permissions_boundary()),
        },
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::types::{
        OrganizationsDecisionDetail, PermissionsBoundaryDecisionDetail, Statement,
    };

    use super::*;

    fn result(
        decision: PolicyEvaluationDecisionType,
    ) -> aws_sdk_iam::types::builders::EvaluationResultBuilder {
        EvaluationResult::builder()
            .eval_action_name("cloudtrail:StartLogging")
            .eval_decision(decision)
    }

    #[test]
    fn simulator_results_map_to_decisions() {
        use PolicyEvaluationDecisionType::*;
        let cases = [
            (result(Allowed), Decision::Allowed),
            (
                result(ImplicitDeny),
                Decision::ImplicitDeny { in_boundary: false },
            ),
            (
                result(ImplicitDeny).permissions_boundary_decision_detail(
                    PermissionsBoundaryDecisionDetail::builder()
                        .allowed_by_permissions_boundary(false)
                        .build(),
                ),
                Decision::ImplicitDeny { in_boundary: true },
            ),
            (
                result(ExplicitDeny)
                    .matched_statements(Statement::builder().source_policy_id("no-trails").build()),
                Decision::ExplicitDeny(Source {
                    policy: "no-trails".into(),
                    sid: None,
                }),
            ),
            (
                result(ExplicitDeny).organizations_decision_detail(
                    OrganizationsDecisionDetail::builder()
                        .allowed_by_organizations(false)
                        .build(),
                ),
                Decision::ExplicitDeny(Source {
                    policy: "a service control policy of the organization".into(),
                    sid: None,
                }),
            ),
            (
                result(ImplicitDeny).missing_context_values("aws:SourceIp"),
                Decision::DependsOnCondition(Source {
                    policy: "a condition on aws:SourceIp".into(),
                    sid: None,
                }),
            ),
        ];
        for (builder, want) in cases {
            let result = builder.build().expect("valid result");
            assert_eq!(decision_from(&result), want, "{result:?}");
        }
    }

    #[test]
    fn secure_transport_is_a_boolean_and_the_rest_strings() {
        let context = HashMap::from([
            ("aws:SecureTransport".to_owned(), vec!["true".to_owned()]),
            (
                "aws:RequestedRegion".to_owned(),
                vec!["eu-west-1".to_owned()],
            ),
        ]);
        let entries = entries(&context);
        assert_eq!(entries[0].context_key_name(), Some("aws:RequestedRegion"));
        assert_eq!(
            entries[0].context_key_type(),
            Some(&ContextKeyTypeEnum::String)
        );
        assert_eq!(
            entries[1].context_key_type(),
            Some(&ContextKeyTypeEnum::Boolean)
        );
    }
}
