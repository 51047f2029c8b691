//! The forwarder's endpoint token, kept as an SSM `SecureString` parameter
//! (encrypted with the account's `aws/ssm` key) that the function reads at
//! start: the token never appears in the function's configuration, in a
//! plan, in `-v` output or in the journal.

use aws_sdk_ssm::types::{ParameterType, ResourceTypeForTagging, Tag};
use aws_sdk_ssm::Client;
use serde::Serialize;

use super::{tag_change, FieldChange, Tags};
use crate::aws::{error_code, AwsResultExt};
use crate::settings::Secret;

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub arn: String,
    /// The token to store; `None` keeps the stored one (a re-run need not
    /// be given the token again).
    #[serde(skip)]
    pub value: Option<Secret>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub value: Secret,
    pub secure: bool,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Setting {
    Value,
    Tags,
}

impl Setting {
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [Setting; 2] = [Setting::Value, Setting::Tags];

    pub fn iam_action(self) -> &'static str {
        match self {
            Setting::Value => "ssm:PutParameter",
            Setting::Tags => "ssm:AddTagsToResource",
        }
    }
}

pub const READ_ACTIONS: &[&str] = &["ssm:GetParameter", "ssm:ListTagsForResource"];
pub const CREATE_ACTIONS: &[&str] = &["ssm:PutParameter", "ssm:AddTagsToResource"];
pub const DELETE_ACTIONS: &[&str] = &["ssm:DeleteParameter"];

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    if !state.secure {
        changes.push((
            Setting::Value,
            FieldChange::new("type", "String (plain text)", "SecureString"),
        ));
    } else if spec.value.as_ref().is_some_and(|v| *v != state.value) {
        changes.push((
            Setting::Value,
            FieldChange::new("token", "(the stored token)", "(the token given)"),
        ));
    }
    changes
}

/// One round: the decrypted value and the tags at once.
pub async fn read(ssm: &Client, name: &str) -> anyhow::Result<Option<State>> {
    let (parameter, tags) = tokio::join!(
        ssm.get_parameter().name(name).with_decryption(true).send(),
        ssm.list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send(),
    );
    let parameter = match parameter {
        Ok(out) => out.parameter,
        Err(e) if error_code(&e) == Some("ParameterNotFound") => return Ok(None),
        Err(e) => return Err(crate::aws::aws_error(format!("ssm:GetParameter {name}"), e)),
    };
    let Some(parameter) = parameter else {
        return Ok(None);
    };
    let tags = tags
        .aws(format!("ssm:ListTagsForResource {name}"))?
        .tag_list()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    Ok(Some(State {
        value: Secret::new(parameter.value().unwrap_or_default()),
        secure: parameter.r#type() == Some(&ParameterType::SecureString),
        tags,
    }))
}

fn ssm_tags(tags: &Tags) -> anyhow::Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

pub async fn create(ssm: &Client, spec: &Spec) -> anyhow::Result<()> {
    let value = spec
        .value
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("no forward token to store"))?;
    ssm.put_parameter()
        .name(&spec.name)
        .description("trailctl forwarder endpoint token")
        .r#type(ParameterType::SecureString)
        .value(value.expose())
        .set_tags(Some(ssm_tags(&spec.tags)?))
        .send()
        .await
        .aws(format!("ssm:PutParameter {}", spec.name))?;
    Ok(())
}

pub async fn update(ssm: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    if settings.contains(&Setting::Value) {
        // A plain-text parameter turned secure keeps its value when no new
        // token is given.
        let value = match &spec.value {
            Some(v) => v.clone(),
            None => read(ssm, &spec.name).await?.unwrap_or_default().value,
        };
        ssm.put_parameter()
            .name(&spec.name)
            .r#type(ParameterType::SecureString)
            .value(value.expose())
            .overwrite(true)
            .send()
            .await
            .aws(format!("ssm:PutParameter {}", spec.name))?;
    }
    if settings.contains(&Setting::Tags) {
        ssm.add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(&spec.name)
            .set_tags(Some(ssm_tags(&spec.tags)?))
            .send()
            .await
            .aws(format!("ssm:AddTagsToResource {}", spec.name))?;
    }
    Ok(())
}

pub async fn delete(ssm: &Client, name: &str) -> anyhow::Result<()> {
    match ssm.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("ParameterNotFound") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(
            format!("ssm:DeleteParameter {name}"),
            e,
        )),
    }
}
