//! The CloudTrail trail: multi-region, global service events, log file
//! validation, management events (read+write or write-only), logging on.

use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType, Tag};
use aws_sdk_cloudtrail::Client;
use serde::Serialize;

use super::{show, tag_change, FieldChange, Tags};
use crate::aws::{error_code, AwsResultExt};

#[derive(Debug, Clone, Serialize)]
pub struct Spec {
    pub name: String,
    pub arn: String,
    pub bucket: String,
    /// `All` or `WriteOnly` management events.
    pub read_write: String,
    /// Management event sources not recorded (`kms.amazonaws.com`).
    pub excluded_sources: Vec<String>,
    /// `--cloudwatch-logs`: the log group (ARN ending `:*`) and the role
    /// CloudTrail assumes to write to it.
    pub cloud_watch_logs: Option<CloudWatchLogs>,
    /// `--org`: an organization trail, which logs every account.
    pub organization: bool,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CloudWatchLogs {
    pub group_arn: String,
    pub role_arn: String,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    pub bucket: Option<String>,
    pub key_prefix: Option<String>,
    pub multi_region: bool,
    pub global_service_events: bool,
    pub log_file_validation: bool,
    pub organization: bool,
    pub logging: bool,
    pub cloud_watch_logs: Option<CloudWatchLogs>,
    pub event_selectors: Vec<Selector>,
    pub tags: Tags,
    pub delivery: Delivery,
    /// SSE-KMS on the log files.
    pub kms_key: Option<String>,
}

/// A trail already in the account, as `setup` lists them before planning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    /// `None`: a single-region trail of another region (ListTrails names
    /// it; only the home region describes its trails and shadows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<bool>,
    /// Records every management event (read and write); `None` when its
    /// custom selectors were not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_events: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
}

impl Found {
    /// A listed trail, with what DescribeTrails says about it when it
    /// described it.
    fn new(
        name: &str,
        arn: &str,
        home_region: &str,
        details: Option<&aws_sdk_cloudtrail::types::Trail>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            arn: arn.to_owned(),
            home_region: home_region.to_owned(),
            multi_region: details.and_then(|d| d.is_multi_region_trail()),
            organization: details.and_then(|d| d.is_organization_trail()),
            // No custom selectors: the default, every management event.
            management_events: details
                .and_then(|d| d.has_custom_event_selectors())
                .and_then(|custom| (!custom).then_some(true)),
            bucket: details.and_then(|d| d.s3_bucket_name()).map(str::to_owned),
        }
    }

    /// Logs management events in every region: a second such trail bills
    /// a second copy of them.
    pub fn covers_account(&self) -> bool {
        self.multi_region == Some(true) && self.management_events == Some(true)
    }
}

/// Every trail of the account: ListTrails (all regions) and DescribeTrails
/// with shadow trails (the home region's view, with settings) at once.
/// Trails with custom event selectors are asked for them in one more round,
/// except `skip` (our own trail, read anyway), so a re-run of a converged
/// integration makes no extra round trip.
pub async fn discover(ct: &Client, skip: &str) -> anyhow::Result<Vec<Found>> {
    let (listed, described) = tokio::try_join!(
        async {
            let mut trails = Vec::new();
            let mut pages = ct.list_trails().into_paginator().send();
            while let Some(page) = pages.next().await {
                trails.extend(page.aws("cloudtrail:ListTrails")?.trails().to_vec());
            }
            Ok::<_, anyhow::Error>(trails)
        },
        async {
            ct.describe_trails()
                .include_shadow_trails(true)
                .send()
                .await
                .aws("cloudtrail:DescribeTrails")
        },
    )?;
    let described = described.trail_list();
    let mut found: Vec<Found> = listed
        .iter()
        .map(|t| {
            let arn = t.trail_arn().unwrap_or_default();
            let details = described.iter().find(|d| d.trail_arn() == Some(arn));
            Found::new(
                t.name().unwrap_or_default(),
                arn,
                t.home_region().unwrap_or_default(),
                details,
            )
        })
        .collect();
    // A shadow trail ListTrails did not name (an organization's trail).
    for d in described {
        let arn = d.trail_arn().unwrap_or_default();
        if !found.iter().any(|f| f.arn == arn) {
            found.push(Found::new(
                d.name().unwrap_or_default(),
                arn,
                d.home_region().unwrap_or_default(),
                Some(d),
            ));
        }
    }
    let custom: Vec<usize> = found
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.multi_region == Some(true) && f.management_events.is_none() && f.arn != skip
        })
        .map(|(i, _)| i)
        .collect();
    // Another trail's selectors may be out of the caller's reach (the
    // bundled policy reads only trailctl's trails): then they stay unknown.
    let selectors = futures::future::join_all(custom.iter().map(|&i| {
        let arn = found[i].arn.clone();
        async move { ct.get_event_selectors().trail_name(&arn).send().await.ok() }
    }))
    .await;
    for (i, out) in custom.into_iter().zip(selectors) {
        let Some(out) = out else { continue };
        let basic = out.event_selectors().iter().any(|s| {
            s.include_management_events().unwrap_or(true)
                && s.read_write_type().is_none_or(|t| *t == ReadWriteType::All)
        });
        // Advanced selectors: a management-events category counts.
        let advanced = out.advanced_event_selectors().iter().any(|s| {
            s.field_selectors().iter().any(|f| {
                f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management")
            }) && !s.field_selectors().iter().any(|f| f.field() == "readOnly")
        });
        found[i].management_events = Some(basic || advanced);
    }
    found.sort_by(|a, b| (&a.home_region, &a.name).cmp(&(&b.home_region, &b.name)));
    Ok(found)
}

/// What `GetTrailStatus` says about delivery (times in RFC 3339).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delivery {
    pub latest_delivery_time: Option<String>,
    pub latest_delivery_error: Option<String>,
    pub latest_notification_error: Option<String>,
    pub start_logging_time: Option<String>,
}

/// The part of an event selector trailctl sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub read_write: String,
    pub management_events: bool,
    pub excluded_sources: Vec<String>,
    pub data_resources: usize,
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.read_write)?;
        if self.management_events {
            write!(f, " management events")?;
        }
        if !self.excluded_sources.is_empty() {
            write!(f, " except {}", self.excluded_sources.join(","))?;
        }
        if self.data_resources > 0 {
            write!(f, " + {} data resources", self.data_resources)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Setting {
    Tags,
    /// Destination bucket, multi-region, global events, validation.
    Configuration,
    EventSelectors,
    Logging,
}

impl Setting {
    pub const ALL: [Setting; 4] = [
        Setting::Tags,
        Setting::Configuration,
        Setting::EventSelectors,
        Setting::Logging,
    ];

    pub fn iam_action(self) -> &'static str {
        match self {
            Setting::Tags => "cloudtrail:AddTags",
            Setting::Configuration => "cloudtrail:UpdateTrail",
            Setting::EventSelectors => "cloudtrail:PutEventSelectors",
            Setting::Logging => "cloudtrail:StartLogging",
        }
    }
}

/// `setup` lists the account's trails (see [`discover`]).
pub const DISCOVER_ACTIONS: &[&str] = &["cloudtrail:ListTrails", "cloudtrail:DescribeTrails"];
pub const READ_ACTIONS: &[&str] = &[
    "cloudtrail:ListTrails",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:ListTags",
];
pub const CREATE_ACTIONS: &[&str] = &[
    "cloudtrail:CreateTrail",
    "cloudtrail:AddTags",
    "cloudtrail:PutEventSelectors",
    "cloudtrail:StartLogging",
];
pub const DELETE_ACTIONS: &[&str] = &["cloudtrail:DeleteTrail"];

/// What CloudTrail answers while a just-written bucket policy or a
/// just-created CloudWatch Logs role is not yet visible to it: retried.
const PROPAGATION_ERRORS: &[&str] = &[
    "InsufficientS3BucketPolicyException",
    "InvalidCloudWatchLogsRoleArnException",
    "CloudWatchLogsDeliveryUnavailableException",
];
/// Naming the CloudWatch Logs role (`--cloudwatch-logs`) passes it.
pub const PASS_ROLE_ACTIONS: &[&str] = &["iam:PassRole"];
/// `pause --stop-logging`.
pub const STOP_ACTIONS: &[&str] = &["cloudtrail:StopLogging"];

fn wanted_selector(spec: &Spec) -> Selector {
    Selector {
        read_write: spec.read_write.clone(),
        management_events: true,
        excluded_sources: spec.excluded_sources.clone(),
        data_resources: 0,
    }
}

fn flag(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

pub fn diff(spec: &Spec, state: &State, integration: &str) -> Vec<(Setting, FieldChange)> {
    let mut changes: Vec<_> = tag_change(&state.tags, integration)
        .map(|c| (Setting::Tags, c))
        .into_iter()
        .collect();
    let mut config = |field: &str, from: String, to: String| {
        changes.push((Setting::Configuration, FieldChange::new(field, from, to)));
    };
    if state.bucket.as_deref() != Some(spec.bucket.as_str()) {
        config("bucket", show(state.bucket.as_deref()), spec.bucket.clone());
    }
    if state.key_prefix.as_deref().is_some_and(|p| !p.is_empty()) {
        config(
            "key prefix",
            show(state.key_prefix.as_deref()),
            "(none)".into(),
        );
    }
    if !state.multi_region {
        config("multi-region", flag(false).into(), flag(true).into());
    }
    if !state.global_service_events {
        config(
            "global service events",
            flag(false).into(),
            flag(true).into(),
        );
    }
    if !state.log_file_validation {
        config("log file validation", flag(false).into(), flag(true).into());
    }
    if state.organization != spec.organization {
        config(
            "organization trail",
            flag(state.organization).into(),
            flag(spec.organization).into(),
        );
    }
    if state.cloud_watch_logs != spec.cloud_watch_logs {
        let show_cwl = |c: &Option<CloudWatchLogs>| {
            c.as_ref()
                .map(|c| format!("{} via {}", c.group_arn, c.role_arn))
                .unwrap_or_else(|| "(none)".into())
        };
        config(
            "CloudWatch Logs",
            show_cwl(&state.cloud_watch_logs),
            show_cwl(&spec.cloud_watch_logs),
        );
    }
    let want = wanted_selector(spec);
    if state.event_selectors != [want.clone()] {
        let from = state
            .event_selectors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        changes.push((
            Setting::EventSelectors,
            FieldChange::new(
                "event selectors",
                if from.is_empty() {
                    "(none)".into()
                } else {
                    from
                },
                want.to_string(),
            ),
        ));
    }
    if !state.logging {
        changes.push((
            Setting::Logging,
            FieldChange::new("logging", flag(false), flag(true)),
        ));
    }
    changes
}

/// Read the trail, its status, selectors and tags in one round; when the
/// trail does not exist the other answers are dropped.
pub async fn read(ct: &Client, name: &str, arn: &str) -> anyhow::Result<Option<State>> {
    let (trail, rest) = tokio::join!(ct.get_trail().name(name).send(), async {
        tokio::try_join!(
            async {
                ct.get_trail_status()
                    .name(name)
                    .send()
                    .await
                    .aws("cloudtrail:GetTrailStatus")
            },
            async {
                ct.get_event_selectors()
                    .trail_name(name)
                    .send()
                    .await
                    .aws("cloudtrail:GetEventSelectors")
            },
            async {
                ct.list_tags()
                    .resource_id_list(arn)
                    .send()
                    .await
                    .aws("cloudtrail:ListTags")
            },
        )
    });
    let trail = match trail {
        Ok(out) => out.trail,
        Err(e) if error_code(&e) == Some("TrailNotFoundException") => return Ok(None),
        Err(e) => {
            return Err(crate::aws::aws_error(
                format!("cloudtrail:GetTrail {name}"),
                e,
            ))
        }
    };
    let Some(trail) = trail else { return Ok(None) };
    let (status, selectors, tags) = rest?;
    Ok(Some(State {
        bucket: trail.s3_bucket_name().map(str::to_owned),
        key_prefix: trail.s3_key_prefix().map(str::to_owned),
        multi_region: trail.is_multi_region_trail().unwrap_or(false),
        global_service_events: trail.include_global_service_events().unwrap_or(false),
        log_file_validation: trail.log_file_validation_enabled().unwrap_or(false),
        organization: trail.is_organization_trail().unwrap_or(false),
        cloud_watch_logs: match (
            non_empty(trail.cloud_watch_logs_log_group_arn()),
            non_empty(trail.cloud_watch_logs_role_arn()),
        ) {
            (Some(group_arn), Some(role_arn)) => Some(CloudWatchLogs {
                group_arn,
                role_arn,
            }),
            _ => None,
        },
        logging: status.is_logging().unwrap_or(false),
        delivery: Delivery {
            latest_delivery_time: status.latest_delivery_time().and_then(rfc3339),
            latest_delivery_error: non_empty(status.latest_delivery_error()),
            latest_notification_error: non_empty(status.latest_notification_error()),
            start_logging_time: status.start_logging_time().and_then(rfc3339),
        },
        kms_key: non_empty(trail.kms_key_id()),
        event_selectors: selectors
            .event_selectors()
            .iter()
            .map(|s| Selector {
                read_write: s
                    .read_write_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_else(|| "All".into()),
                management_events: s.include_management_events().unwrap_or(true),
                excluded_sources: s.exclude_management_event_sources().to_vec(),
                data_resources: s.data_resources().len(),
            })
            .collect(),
        tags: tags
            .resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()))
            .collect(),
    }))
}

fn rfc3339(time: &aws_smithy_types::DateTime) -> Option<String> {
    time.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_owned)
}

pub async fn stop_logging(ct: &Client, name: &str) -> anyhow::Result<()> {
    ct.stop_logging()
        .name(name)
        .send()
        .await
        .aws(format!("cloudtrail:StopLogging {name}"))?;
    Ok(())
}

pub async fn start_logging(ct: &Client, name: &str) -> anyhow::Result<()> {
    ct.start_logging()
        .name(name)
        .send()
        .await
        .aws(format!("cloudtrail:StartLogging {name}"))?;
    Ok(())
}

fn trail_tags(tags: &Tags) -> anyhow::Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| Ok(Tag::builder().key(k).value(v).build()?))
        .collect()
}

/// Create the trail, set its event selectors and start logging (CreateTrail
/// alone does not).
pub async fn create(ct: &Client, spec: &Spec) -> anyhow::Result<()> {
    // CloudTrail checks the bucket policy at CreateTrail; a policy written
    // a moment ago may not be visible to it yet.
    // Likewise a role for CloudWatch Logs created a moment ago.
    crate::aws::retry_on(PROPAGATION_ERRORS, || async {
        ct.create_trail()
            .name(&spec.name)
            .s3_bucket_name(&spec.bucket)
            .is_multi_region_trail(true)
            .include_global_service_events(true)
            .enable_log_file_validation(true)
            .is_organization_trail(spec.organization)
            .set_cloud_watch_logs_log_group_arn(
                spec.cloud_watch_logs.as_ref().map(|c| c.group_arn.clone()),
            )
            .set_cloud_watch_logs_role_arn(
                spec.cloud_watch_logs.as_ref().map(|c| c.role_arn.clone()),
            )
            .set_tags_list(Some(trail_tags(&spec.tags)?))
            .send()
            .await
            .aws(format!("cloudtrail:CreateTrail {}", spec.name))
    })
    .await?;
    // Set explicitly rather than trusting the service default, so what is
    // recorded never depends on how CloudTrail initialises a new trail. On
    // a new trail both at once: its default records all management events,
    // so for the moment between the two calls it records more, never less.
    tokio::try_join!(
        update(ct, spec, &[Setting::EventSelectors]),
        update(ct, spec, &[Setting::Logging])
    )?;
    Ok(())
}

pub async fn update(ct: &Client, spec: &Spec, settings: &[Setting]) -> anyhow::Result<()> {
    // Order matters: configure before logging starts, so no event is
    // recorded with the old settings after this run.
    for setting in Setting::ALL {
        if !settings.contains(&setting) {
            continue;
        }
        let what = format!("{} {}", setting.iam_action(), spec.name);
        match setting {
            Setting::Tags => {
                ct.add_tags()
                    .resource_id(&spec.arn)
                    .set_tags_list(Some(trail_tags(&spec.tags)?))
                    .send()
                    .await
                    .aws(what)?;
            }
            Setting::Configuration => {
                // Empty strings remove a CloudWatch Logs delivery.
                let cwl = spec.cloud_watch_logs.clone().unwrap_or_default();
                crate::aws::retry_on(PROPAGATION_ERRORS, || async {
                    ct.update_trail()
                        .name(&spec.name)
                        .s3_bucket_name(&spec.bucket)
                        .s3_key_prefix("")
                        .is_multi_region_trail(true)
                        .include_global_service_events(true)
                        .enable_log_file_validation(true)
                        .is_organization_trail(spec.organization)
                        .cloud_watch_logs_log_group_arn(&cwl.group_arn)
                        .cloud_watch_logs_role_arn(&cwl.role_arn)
                        .send()
                        .await
                        .aws(what.clone())
                })
                .await?;
            }
            Setting::EventSelectors => {
                let selector = EventSelector::builder()
                    .read_write_type(ReadWriteType::from(spec.read_write.as_str()))
                    .include_management_events(true)
                    .set_exclude_management_event_sources(Some(spec.excluded_sources.clone()))
                    .build();
                ct.put_event_selectors()
                    .trail_name(&spec.name)
                    .event_selectors(selector)
                    .send()
                    .await
                    .aws(what)?;
            }
            Setting::Logging => {
                ct.start_logging().name(&spec.name).send().await.aws(what)?;
            }
        }
    }
    Ok(())
}

/// Delete the trail. Trails are addressed by name in the home region (the
/// tag APIs are the only ones that need the ARN).
pub async fn delete(ct: &Client, name: &str) -> anyhow::Result<()> {
    match ct.delete_trail().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("TrailNotFoundException") => Ok(()),
        Err(e) => Err(crate::aws::aws_error(
            format!("cloudtrail:DeleteTrail {name}"),
            e,
        )),
    }
}
