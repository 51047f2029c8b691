//! The Lambda forwarder (`--delivery https`): the Python module in
//! `forwarder/`, embedded in the binary and zipped at deploy time, with the
//! resource-policy statements that let SNS (and CloudWatch Logs, with
//! `--cloudwatch-logs`) invoke it.
//!
//! The zip (stored, uncompressed) is built deterministically (fixed timestamps and modes), so its
//! SHA-256 is the same on every run: a re-run compares it with the
//! function's `CodeSha256` and uploads code only when the source changed.

use std::collections::HashMap;
use std::io::Write;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
use aws_sdk_lambda::Client;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{tag_change, FieldChange, Tags};
use crate::aws::{error_code, retry_while, AwsError, AwsResultExt};

/// The forwarder's source, as kept in the repository.
pub const SOURCE: &str = include_str!("../../forwarder/trailctl_forwarder.py");
const MODULE_FILE: &str = "trailctl_forwarder.py";
pub const HANDLER: &str = "trailctl_forwarder.handler";
pub const RUNTIME: &str = "python3.13";
pub const MEMORY_MB: i32 = 128;
pub const TIMEOUT_SECONDS: i32 = 120;
/// The function's environment: where to POST and which parameter holds
/// the token (the name, never the token).
pub const URL_VARIABLE: &str = "TRAILCTL_FORWARD_URL";
pub const TOKEN_PARAMETER_VARIABLE: &str = "TRAILCTL_TOKEN_PARAMETER";

/// One statement of the function's resource policy: who may invoke it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub sid: String,
    pub principal: String,
    pub source_arn: String,
    pub source_account: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub arn: String,
    pub role_arn: String,
    pub environment: Vec<(String, String)>,
    pub permissions: Vec<Permission>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub role_arn: String,
    pub runtime: String,
    pub handler: String,
    pub memory_mb: i32,
    pub timeout_seconds: i32,
    pub environment: HashMap<String, String>,
    pub code_sha256: String,
    /// Statement IDs of the resource policy, with what they allow.
    pub permissions: Vec<Permission>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Setting {
    Code,
    Configuration,
    Permission(String),
    /// One of trailctl's own statements that the options no longer need.
    RemovePermission(String),
    Tags,
}

impl Setting {
    pub fn iam_action(&self) -> &'static str {
        match self {
            Setting::Code => "lambda:UpdateFunctionCode",
            Setting::Configuration => "lambda:UpdateFunctionConfiguration",
            Setting::Permission(_) => "lambda:AddPermission",
            Setting::RemovePermission(_) => "lambda:RemovePermission",
            Setting::Tags => "lambda:TagResource",
        }
    }
}

pub const READ_ACTIONS: &[&str] = &["lambda:GetFunction", "lambda:GetPolicy"];
/// CreateFunction passes the execution role to Lambda.
pub const CREATE_ACTIONS: &[&str] = &[
    "lambda:CreateFunction",
    "lambda:TagResource",
    "lambda:AddPermission",
    "iam:PassRole",
];
pub const UPDATE_ACTIONS: &[&str] = &[
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "lambda:TagResource",
    "iam:PassRole",
];
pub const DELETE_ACTIONS: &[&str] = &["lambda:DeleteFunction"];
/// `resume` replays missed log files to a forwarder fed by CloudWatch Logs.
pub const REPLAY_ACTIONS: &[&str] = &["lambda:InvokeFunction"];
/// The statement IDs trailctl gives its invoke permissions.
pub const PERMISSION_SID_PREFIX: &str = "trailctl-";

/// The deployment package: the module alone, byte-for-byte reproducible.
pub fn package() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    zip.start_file(MODULE_FILE, options)
        .expect("writing to memory");
    zip.write_all(SOURCE.as_bytes()).expect("writing to memory");
    zip.finish().expect("writing to memory").into_inner()
}

/// Lambda's `CodeSha256` of a package: base64 of its SHA-256.
pub fn code_sha256(package: &[u8]) -> String {
    aws_smithy_types::base64::encode(Sha256::digest(package))
}

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    let expected_sha = code_sha256(&package());
    if state.code_sha256 != expected_sha {
        changes.push((
            Setting::Code,
            FieldChange::new("code (SHA-256)", state.code_sha256.clone(), expected_sha),
        ));
    }
    let mut config = |field: &str, from: String, to: String| {
        if from != to {
            changes.push((Setting::Configuration, FieldChange::new(field, from, to)));
        }
    };
    config("role", state.role_arn.clone(), spec.role_arn.clone());
    config("runtime", state.runtime.clone(), RUNTIME.into());
    config("handler", state.handler.clone(), HANDLER.into());
    config(
        "memory",
        format!("{} MB", state.memory_mb),
        format!("{MEMORY_MB} MB"),
    );
    config(
        "timeout",
        format!("{} s", state.timeout_seconds),
        format!("{TIMEOUT_SECONDS} s"),
    );
    for (key, value) in &spec.environment {
        config(
            &format!("environment {key}"),
            super::show(state.environment.get(key)),
            value.clone(),
        );
    }
    for stale in state.permissions.iter().filter(|p| {
        p.sid.starts_with(PERMISSION_SID_PREFIX) && !spec.permissions.iter().any(|w| w.sid == p.sid)
    }) {
        changes.push((
            Setting::RemovePermission(stale.sid.clone()),
            FieldChange::new(
                format!("invoke permission {}", stale.sid),
                format!("{} from {}", stale.principal, stale.source_arn),
                "(none)",
            ),
        ));
    }
    for permission in &spec.permissions {
        if !state.permissions.contains(permission) {
            changes.push((
                Setting::Permission(permission.sid.clone()),
                FieldChange::new(
                    format!("invoke permission {}", permission.sid),
                    "(none)",
                    format!("{} from {}", permission.principal, permission.source_arn),
                ),
            ));
        }
    }
    changes
}

/// One round: the function (configuration and tags) and its policy at once.
pub async fn read(lambda: &Client, name: &str) -> anyhow::Result<Option<State>> {
    let (function, policy) = tokio::join!(
        lambda.get_function().function_name(name).send(),
        lambda.get_policy().function_name(name).send(),
    );
    let function = match function {
        Ok(out) => out,
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("lambda:GetFunction {name}"),
                e,
            ))
        }
    };
    let permissions = match policy {
        Ok(out) => out
            .policy()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .map(|p| parse_permissions(&p))
            .unwrap_or_default(),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Vec::new(),
        Err(e) => return Err(crate::aws::aws_error(format!("lambda:GetPolicy {name}"), e)),
    };
    let Some(config) = function.configuration() else {
        return Ok(None);
    };
    Ok(Some(State {
        role_arn: config.role().unwrap_or_default().to_owned(),
        runtime: config
            .runtime()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        handler: config.handler().unwrap_or_default().to_owned(),
        memory_mb: config.memory_size().unwrap_or_default(),
        timeout_seconds: config.timeout().unwrap_or_default(),
        environment: config
            .environment()
            .and_then(|e| e.variables().cloned())
            .unwrap_or_default(),
        code_sha256: config.code_sha256().unwrap_or_default().to_owned(),
        permissions,
        tags: function.tags.unwrap_or_default().into_iter().collect(),
    }))
}

/// The statements of a function's resource policy, as [`Permission`]s.
pub fn parse_permissions(policy: &Value) -> Vec<Permission> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.first().and_then(Value::as_str).unwrap_or_default().into(),
        _ => String::new(),
    };
    policy["Statement"]
        .as_array()
        .map(|statements| {
            statements
                .iter()
                .map(|s| Permission {
                    sid: text(&s["Sid"]),
                    principal: match &s["Principal"] {
                        Value::Object(p) => p.get("Service").map(text).unwrap_or_default(),
                        other => text(other),
                    },
                    source_arn: text(&s["Condition"]["ArnLike"]["AWS:SourceArn"]),
                    source_account: text(&s["Condition"]["StringEquals"]["AWS:SourceAccount"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn environment(spec: &Spec) -> Environment {
    Environment::builder()
        .set_variables(Some(spec.environment.iter().cloned().collect()))
        .build()
}

/// How long Lambda may take to see a just-created execution role, and a
/// function still applying its last update: the two conditions retried.
const BACKOFF_MS: [u64; 5] = [500, 1000, 2000, 4000, 8000];

/// Lambda's answer while IAM has not yet propagated a new role.
fn role_not_yet_assumable(e: &AwsError) -> bool {
    e.code.as_deref() == Some("InvalidParameterValueException")
        && e.message
            .as_deref()
            .is_some_and(|m| m.contains("cannot be assumed"))
}

/// Lambda refuses an update while the previous one is still applying; a
/// create, when the function already exists.
fn conflict(e: &AwsError) -> bool {
    e.code.as_deref() == Some("ResourceConflictException")
}

pub async fn create(lambda: &Client, spec: &Spec) -> anyhow::Result<()> {
    let package = Blob::new(package());
    let created = retry_while(&BACKOFF_MS, role_not_yet_assumable, || async {
        lambda
            .create_function()
            .function_name(&spec.name)
            .description("trailctl: forwards CloudTrail records to the collector")
            .runtime(Runtime::from(RUNTIME))
            .handler(HANDLER)
            .role(&spec.role_arn)
            .memory_size(MEMORY_MB)
            .timeout(TIMEOUT_SECONDS)
            .environment(environment(spec))
            .code(FunctionCode::builder().zip_file(package.clone()).build())
            .set_tags(Some(spec.tags.iter().cloned().collect()))
            .send()
            .await
            .aws(format!("lambda:CreateFunction {}", spec.name))
    })
    .await;
    match created {
        Ok(_) => {}
        // Created by an interrupted run of ours (the journal adopted it);
        // the update below brings it to the spec.
        Err(e) if e.downcast_ref::<AwsError>().is_some_and(conflict) => {
            update(lambda, spec, &[Setting::Code, Setting::Configuration]).await?;
        }
        Err(e) => return Err(e),
    }
    futures::future::try_join_all(
        spec.permissions
            .iter()
            .map(|p| add_permission(lambda, spec, p)),
    )
    .await?;
    Ok(())
}

async fn add_permission(
    lambda: &Client,
    spec: &Spec,
    permission: &Permission,
) -> anyhow::Result<()> {
    let add = || {
        lambda
            .add_permission()
            .function_name(&spec.name)
            .statement_id(&permission.sid)
            .action("lambda:InvokeFunction")
            .principal(&permission.principal)
            .source_arn(&permission.source_arn)
            .source_account(&permission.source_account)
            .send()
    };
    match add().await {
        Ok(_) => Ok(()),
        // A statement with this ID but other terms: replace it.
        Err(e) if error_code(&e) == Some("ResourceConflictException") => {
            lambda
                .remove_permission()
                .function_name(&spec.name)
                .statement_id(&permission.sid)
                .send()
                .await
                .aws(format!("lambda:RemovePermission {}", permission.sid))?;
            add()
                .await
                .aws(format!("lambda:AddPermission {}", permission.sid))?;
            Ok(())
        }
        Err(e) => Err(crate::aws::aws_error(
            format!("lambda:AddPermission {}", permission.sid),
            e,
        )),
    }
}

pub async fn update(lambda: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    if settings.contains(&Setting::Configuration) {
        let transient = |e: &AwsError| conflict(e) || role_not_yet_assumable(e);
        retry_while(&BACKOFF_MS, transient, || async {
            lambda
                .update_function_configuration()
                .function_name(&spec.name)
                .runtime(Runtime::from(RUNTIME))
                .handler(HANDLER)
                .role(&spec.role_arn)
                .memory_size(MEMORY_MB)
                .timeout(TIMEOUT_SECONDS)
                .environment(environment(spec))
                .send()
                .await
                .aws(format!("lambda:UpdateFunctionConfiguration {}", spec.name))
        })
        .await?;
    }
    if settings.contains(&Setting::Code) {
        let package = Blob::new(package());
        retry_while(&BACKOFF_MS, conflict, || async {
            lambda
                .update_function_code()
                .function_name(&spec.name)
                .zip_file(package.clone())
                .send()
                .await
                .aws(format!("lambda:UpdateFunctionCode {}", spec.name))
        })
        .await?;
    }
    for setting in settings {
        match setting {
            Setting::Permission(sid) => {
                if let Some(permission) = spec.permissions.iter().find(|p| p.sid == *sid) {
                    add_permission(lambda, spec, permission).await?;
                }
            }
            Setting::RemovePermission(sid) => {
                match lambda
                    .remove_permission()
                    .function_name(&spec.name)
                    .statement_id(sid)
                    .send()
                    .await
                {
                    Err(e) if error_code(&e) != Some("ResourceNotFoundException") => {
                        return Err(crate::aws::aws_error(
                            format!("lambda:RemovePermission {sid}"),
                            e,
                        ))
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if settings.contains(&Setting::Tags) {
        lambda
            .tag_resource()
            .resource(&spec.arn)
            .set_tags(Some(spec.tags.iter().cloned().collect()))
            .send()
            .await
            .aws(format!("lambda:TagResource {}", spec.name))?;
    }
    Ok(())
}

pub async fn delete(lambda: &Client, name: &str) -> anyhow::Result<()> {
    match lambda.delete_function().function_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(
            format!("lambda:DeleteFunction {name}"),
            e,
        )),
    }
}
