//! Policy documents as JSON values, compared by meaning.
//!
//! AWS stores a policy as it was written (IAM returns it URL-encoded), so two
//! documents that grant the same thing can differ in bytes: `"Action": "x"`
//! versus `["x"]`, statement order, key order. [`normalize`] removes those
//! differences; [`statement_changes`] reports what differs, by `Sid`, in the
//! words the plan prints.

use serde_json::{Map, Value};

use crate::resources::FieldChange;

pub const VERSION: &str = "2012-10-17";

/// Parse a policy as returned by AWS (IAM documents are URL-encoded).
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

/// The canonical form of a policy document: single values become lists,
/// lists of strings are sorted, statements are ordered by `Sid`.
pub fn normalize(document: &Value) -> Value {
    let mut doc = document.clone();
    if let Some(obj) = doc.as_object_mut() {
        let statements = match obj.remove("Statement") {
            Some(Value::Array(list)) => list,
            Some(single) => vec![single],
            None => Vec::new(),
        };
        let mut statements: Vec<Value> = statements.iter().map(normalize_statement).collect();
        statements.sort_by_key(|s| s.to_string());
        obj.insert("Statement".into(), Value::Array(statements));
    }
    doc
}

fn normalize_statement(statement: &Value) -> Value {
    let Some(obj) = statement.as_object() else {
        return statement.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        let value = match key.as_str() {
            "Action" | "NotAction" | "Resource" | "NotResource" => string_set(value),
            "Principal" | "NotPrincipal" => match value {
                Value::Object(m) => {
                    Value::Object(m.iter().map(|(k, v)| (k.clone(), string_set(v))).collect())
                }
                other => other.clone(),
            },
            "Condition" => match value {
                Value::Object(ops) => Value::Object(
                    ops.iter()
                        .map(|(op, keys)| {
                            let keys = match keys {
                                Value::Object(ks) => Value::Object(
                                    ks.iter().map(|(k, v)| (k.clone(), string_set(v))).collect(),
                                ),
                                other => other.clone(),
                            };
                            (op.clone(), keys)
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// A string or list of strings as a sorted, de-duplicated list.
fn string_set(value: &Value) -> Value {
    let mut items: Vec<String> = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        other => return other.clone(),
    };
    items.sort();
    items.dedup();
    Value::Array(items.into_iter().map(Value::String).collect())
}

/// True when the two documents grant the same thing.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    normalize(a) == normalize(b)
}

/// The statements of a document, normalised, in `Sid` order.
fn statements_by_sid(document: &Value) -> Vec<(String, Value)> {
    let normal = normalize(document);
    let mut statements: Vec<(String, Value)> = normal["Statement"]
        .as_array()
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    let sid = s["Sid"]
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or(format!("#{i}"));
                    (sid, s.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    statements.sort_by(|a, b| a.0.cmp(&b.0));
    statements
}

/// What must change to turn `current` into `desired`, one entry per
/// statement, labelled `<field>: statement <Sid>`.
pub fn statement_changes(
    field: &str,
    current: Option<&Value>,
    desired: &Value,
) -> Vec<FieldChange> {
    let Some(current) = current else {
        return vec![FieldChange::new(field, "(none)", "set")];
    };
    if equivalent(current, desired) {
        return Vec::new();
    }
    let have = statements_by_sid(current);
    let want = statements_by_sid(desired);
    let mut changes = Vec::new();
    for (sid, statement) in &want {
        match have.iter().find(|(s, _)| s == sid) {
            None => changes.push(FieldChange::new(
                format!("{field}: statement {sid}"),
                "missing",
                "added",
            )),
            Some((_, existing)) if existing != statement => changes.push(FieldChange::new(
                format!("{field}: statement {sid}"),
                "differs",
                "replaced",
            )),
            Some(_) => {}
        }
    }
    for (sid, _) in &have {
        if !want.iter().any(|(s, _)| s == sid) {
            changes.push(FieldChange::new(
                format!("{field}: statement {sid}"),
                "present",
                "removed",
            ));
        }
    }
    if changes.is_empty() {
        // Same statements, different envelope (Version, Id).
        changes.push(FieldChange::new(field, "differs", "replaced"));
    }
    changes
}

/// The `Sid` prefix of the statements trailctl writes into a policy it
/// shares with others (a reused bucket's or topic's): those are its own,
/// every other statement is someone else's.
pub const OUR_SID_PREFIX: &str = "Trailctl";

fn is_ours(statement: &Value) -> bool {
    statement["Sid"]
        .as_str()
        .is_some_and(|sid| sid.starts_with(OUR_SID_PREFIX))
}

/// Our statements of a shared policy, as a document of their own: what
/// [`statement_changes`] compares with the statements we want.
pub fn our_part(document: Option<&Value>) -> Value {
    let statements: Vec<Value> = match document.map(|d| &d["Statement"]) {
        Some(Value::Array(list)) => list.iter().filter(|s| is_ours(s)).cloned().collect(),
        Some(single @ Value::Object(_)) if is_ours(single) => vec![single.clone()],
        _ => Vec::new(),
    };
    serde_json::json!({"Version": VERSION, "Statement": statements})
}

/// True when a shared policy holds statements of ours.
pub fn has_ours(document: Option<&Value>) -> bool {
    our_part(document)["Statement"]
        .as_array()
        .is_some_and(|list| !list.is_empty())
}

/// A shared policy's text with our statements replaced by `ours`. Every
/// other statement is copied as the exact text it was written with, so it
/// stays byte for byte what its owner wrote. `None` when no statement is
/// left (the policy is then removed).
pub fn merge_ours(current: Option<&str>, ours: &[Value]) -> anyhow::Result<Option<String>> {
    use serde_json::value::RawValue;
    use std::collections::BTreeMap;

    let (mut envelope, raw_statements): (BTreeMap<String, Box<RawValue>>, Vec<Box<RawValue>>) =
        match current {
            None => (BTreeMap::new(), Vec::new()),
            Some(text) => {
                let mut envelope: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text)
                    .map_err(|e| anyhow::anyhow!("the policy in place is not JSON: {e}"))?;
                let statements = match envelope.remove("Statement") {
                    None => Vec::new(),
                    Some(raw) if raw.get().trim_start().starts_with('[') => {
                        serde_json::from_str(raw.get())?
                    }
                    Some(single) => vec![single],
                };
                (envelope, statements)
            }
        };
    let mut kept = Vec::new();
    for raw in raw_statements {
        let statement: Value = serde_json::from_str(raw.get())?;
        if !is_ours(&statement) {
            kept.push(raw.get().to_owned());
        }
    }
    kept.extend(ours.iter().map(Value::to_string));
    if kept.is_empty() {
        return Ok(None);
    }
    let version = envelope
        .remove("Version")
        .map_or_else(|| format!("\"{VERSION}\""), |v| v.get().to_owned());
    let mut text = format!("{{\"Version\":{version}");
    for (key, value) in &envelope {
        text.push_str(&format!(",{}:{}", Value::String(key.clone()), value.get()));
    }
    text.push_str(&format!(",\"Statement\":[{}]}}", kept.join(",")));
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merging_ours_keeps_every_other_statement_byte_for_byte() {
        let foreign = r#"{ "Sid" : "Theirs",  "Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["s3:GetObject"] ,"Resource":"arn:aws:s3:::b/*"}"#;
        let unnamed = r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#;
        let stale = r#"{"Sid":"TrailctlOld","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#;
        let current = format!(
            r#"{{"Id":"P1","Version":"2012-10-17","Statement":[{foreign},{stale},{unnamed}]}}"#
        );
        let ours =
            [json!({"Sid": "TrailctlNew", "Effect": "Allow", "Action": "a:b", "Resource": "*"})];
        let merged = merge_ours(Some(&current), &ours).unwrap().unwrap();
        assert!(merged.contains(foreign), "{merged}");
        assert!(merged.contains(unnamed), "{merged}");
        assert!(!merged.contains("TrailctlOld"), "{merged}");
        let doc: Value = serde_json::from_str(&merged).unwrap();
        assert_eq!(doc["Id"], "P1");
        assert_eq!(our_part(Some(&doc))["Statement"], json!(ours));
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 3);

        // Removing ours keeps theirs; nothing left removes the policy; a
        // single statement (not a list) is read too; no policy yet is fine.
        let removed = merge_ours(Some(&merged), &[]).unwrap().unwrap();
        assert!(removed.contains(foreign) && !removed.contains("TrailctlNew"));
        let only_ours = format!(r#"{{"Version":"2012-10-17","Statement":{stale}}}"#);
        assert_eq!(merge_ours(Some(&only_ours), &[]).unwrap(), None);
        let fresh = merge_ours(None, &ours).unwrap().unwrap();
        assert!(has_ours(
            serde_json::from_str::<Value>(&fresh).ok().as_ref()
        ));
        assert!(merge_ours(Some("not json"), &ours).is_err());
    }

    #[test]
    fn equivalence_ignores_form_not_meaning() {
        let base = json!({"Version": VERSION, "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Condition": {"StringEquals": {"aws:SourceArn": "arn:t"}}},
            {"Sid": "B", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]}
        ]});
        let cases = [
            (
                json!({"Version": VERSION, "Statement": [
                    {"Sid": "B", "Effect": "Deny", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"]},
                    {"Effect": "Allow", "Sid": "A", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*"],
                     "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
                     "Condition": {"StringEquals": {"aws:SourceArn": ["arn:t"]}}}
                ]}),
                true,
            ),
            (
                json!({"Version": VERSION, "Statement": [
                    {"Sid": "B", "Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"]},
                    {"Effect": "Allow", "Sid": "A", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*"],
                     "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
                     "Condition": {"StringEquals": {"aws:SourceArn": ["arn:t"]}}}
                ]}),
                false,
            ),
            (
                json!({"Version": VERSION, "Statement": [
                    {"Sid": "B", "Effect": "Deny", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"]}
                ]}),
                false,
            ),
        ];
        for (i, (other, same)) in cases.iter().enumerate() {
            assert_eq!(equivalent(&base, other), *same, "case {i}");
        }
    }

    #[test]
    fn parses_url_encoded_iam_documents() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            parse(encoded),
            Some(json!({"Version": VERSION, "Statement": []}))
        );
        assert_eq!(parse("{\"a\":1}"), Some(json!({"a": 1})));
        assert_eq!(parse("not json"), None);
    }

    #[test]
    fn statement_changes_name_each_statement() {
        let desired = json!({"Version": VERSION, "Statement": [
            {"Sid": "Keep", "Effect": "Allow", "Action": "a:b", "Resource": "*"},
            {"Sid": "New", "Effect": "Allow", "Action": "a:c", "Resource": "*"},
            {"Sid": "Changed", "Effect": "Allow", "Action": "a:d", "Resource": "*"}
        ]});
        let current = json!({"Version": VERSION, "Statement": [
            {"Sid": "Keep", "Effect": "Allow", "Action": ["a:b"], "Resource": "*"},
            {"Sid": "Changed", "Effect": "Deny", "Action": "a:d", "Resource": "*"},
            {"Sid": "Extra", "Effect": "Allow", "Action": "a:e", "Resource": "*"}
        ]});
        let changes = statement_changes("policy", Some(&current), &desired);
        let fields: Vec<_> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.to.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("policy: statement Changed", "replaced"),
                ("policy: statement New", "added"),
                ("policy: statement Extra", "removed"),
            ]
        );
        assert!(statement_changes("policy", Some(&desired), &desired).is_empty());
        assert_eq!(statement_changes("policy", None, &desired).len(), 1);
    }
}
