//! Local IAM policy evaluation, for the permission preflight when
//! `iam:SimulatePrincipalPolicy` is not allowed or not available.
//!
//! Implements the documented logic for identity-based policies and a
//! permissions boundary: an explicit Deny wins; otherwise an Allow is
//! required (in the identity policies and, when there is one, in the
//! boundary). Actions match case-insensitively with `*` and `?`; resources
//! match case-sensitively with the same wildcards; `NotAction` and
//! `NotResource` invert the match. A condition is decided only from the
//! context keys the caller supplies; any other condition makes the outcome
//! [`Decision::DependsOnCondition`], reported and never silently allowed.

use std::collections::HashMap;

use serde_json::Value;

/// A policy with the name the report shows.
#[derive(Debug, Clone)]
pub struct NamedPolicy {
    pub name: String,
    pub document: Value,
}

/// One call to check: action, resource ARN and the condition context known
/// before the call is made (e.g. `iam:PassedToService`).
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: HashMap<String, Vec<String>>,
}

/// Where a decision came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub policy: String,
    pub sid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// A statement denies it explicitly.
    ExplicitDeny(Source),
    /// No statement allows it (in the identity policies, or in the boundary).
    ImplicitDeny {
        in_boundary: bool,
    },
    /// Allowed or denied only under a condition that cannot be decided here.
    DependsOnCondition(Source),
}

/// Does `pattern` (with `*` and `?`) match `text`?
pub fn wildcard_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let fold = |s: &str| {
        if case_insensitive {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    };
    let (p, t): (Vec<char>, Vec<char>) = (
        fold(pattern).chars().collect(),
        fold(text).chars().collect(),
    );
    // Iterative glob with backtracking to the last `*`.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Does the statement's `key` list (or, without it, its `not_key` list,
/// inverted) match `value`? A statement with neither matches nothing.
fn element_matches(
    statement: &Value,
    key: &str,
    not_key: &str,
    value: &str,
    case_insensitive: bool,
) -> bool {
    let any = |patterns: &Value| {
        strings(patterns)
            .iter()
            .any(|p| wildcard_match(p, value, case_insensitive))
    };
    match (statement.get(key), statement.get(not_key)) {
        (Some(patterns), _) => any(patterns),
        (None, Some(patterns)) => !any(patterns),
        (None, None) => false,
    }
}

/// Does the statement's action/resource part cover the request? Actions
/// compare case-insensitively, resource ARNs case-sensitively.
fn covers(statement: &Value, request: &Request) -> bool {
    element_matches(statement, "Action", "NotAction", request.action, true)
        && element_matches(
            statement,
            "Resource",
            "NotResource",
            request.resource,
            false,
        )
}

/// `Some(true/false)` when the condition block can be decided from the
/// context, `None` when it cannot.
fn condition_holds(
    condition: Option<&Value>,
    context: &HashMap<String, Vec<String>>,
) -> Option<bool> {
    let Some(Value::Object(operators)) = condition else {
        return Some(true);
    };
    let mut all = true;
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else {
            return None;
        };
        let (op, if_exists) = match operator.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (operator.as_str(), false),
        };
        for (key, expected) in keys {
            let expected = strings(expected);
            let actual = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v);
            let Some(actual) = actual else {
                if if_exists {
                    continue;
                }
                return None;
            };
            let any = |f: &dyn Fn(&str, &str) -> bool| {
                actual.iter().any(|a| expected.iter().any(|e| f(e, a)))
            };
            let holds = match op {
                "StringEquals" | "ArnEquals" => any(&|e, a| e == a),
                "StringEqualsIgnoreCase" => any(&|e, a| e.eq_ignore_ascii_case(a)),
                "StringLike" | "ArnLike" => any(&|e, a| wildcard_match(e, a, false)),
                "StringNotEquals" | "ArnNotEquals" => !any(&|e, a| e == a),
                "StringNotLike" | "ArnNotLike" => !any(&|e, a| wildcard_match(e, a, false)),
                "Bool" => any(&|e, a| e.eq_ignore_ascii_case(a)),
                _ => return None,
            };
            all &= holds;
        }
    }
    Some(all)
}

fn statements(policy: &NamedPolicy) -> Vec<Value> {
    match policy.document.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(single) => vec![single.clone()],
        None => Vec::new(),
    }
}

/// What one set of policies says: `None` when no statement covers the request.
fn evaluate_set(policies: &[NamedPolicy], request: &Request) -> Option<Decision> {
    let mut allowed = false;
    let mut maybe_allow: Option<Source> = None;
    let mut maybe_deny: Option<Source> = None;
    for policy in policies {
        for statement in statements(policy).iter().filter(|s| covers(s, request)) {
            let source = || Source {
                policy: policy.name.clone(),
                sid: statement
                    .get("Sid")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            let deny = statement.get("Effect").and_then(Value::as_str) == Some("Deny");
            match (
                deny,
                condition_holds(statement.get("Condition"), &request.context),
            ) {
                (true, Some(true)) => return Some(Decision::ExplicitDeny(source())),
                (true, None) => {
                    maybe_deny.get_or_insert_with(source);
                }
                (false, Some(true)) => allowed = true,
                (false, None) => {
                    maybe_allow.get_or_insert_with(source);
                }
                (_, Some(false)) => {}
            }
        }
    }
    // A Deny that may apply makes the outcome uncertain, Allow or not.
    match (maybe_deny, allowed, maybe_allow) {
        (Some(source), _, _) => Some(Decision::DependsOnCondition(source)),
        (None, true, _) => Some(Decision::Allowed),
        (None, false, Some(source)) => Some(Decision::DependsOnCondition(source)),
        (None, false, None) => None,
    }
}

/// The decision for one request under identity policies and an optional
/// permissions boundary.
pub fn evaluate(
    identity: &[NamedPolicy],
    boundary: Option<&[NamedPolicy]>,
    request: &Request,
) -> Decision {
    let from_identity = evaluate_set(identity, request);
    if let Some(Decision::ExplicitDeny(source)) = from_identity {
        return Decision::ExplicitDeny(source);
    }
    let from_boundary = boundary.map(|b| evaluate_set(b, request));
    match (from_identity, from_boundary) {
        (_, Some(Some(Decision::ExplicitDeny(source)))) => Decision::ExplicitDeny(source),
        (None, _) => Decision::ImplicitDeny { in_boundary: false },
        (Some(_), Some(None)) => Decision::ImplicitDeny { in_boundary: true },
        (Some(Decision::DependsOnCondition(source)), _)
        | (_, Some(Some(Decision::DependsOnCondition(source)))) => {
            Decision::DependsOnCondition(source)
        }
        (Some(decision), _) => decision,
    }
}

#[cfg(test)]
mod tests;
