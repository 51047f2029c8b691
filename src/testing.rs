//! Shared fixtures of the unit tests: an integration's names and options,
//! and the account exactly as `setup` leaves it.

use aws_sdk_s3::types::NotificationConfiguration;

use crate::desired::{Desired, Names};
use crate::inventory::Inventory;
use crate::resources::{
    bucket, function, log_group, notification, parameter, queue, role, subscription, topic, trail,
};
use crate::settings::{AccountId, IntegrationName, SetupSettings};

pub fn names() -> Names {
    Names::new(
        IntegrationName::parse("default").unwrap(),
        "123456789012",
        "aws",
        "us-east-1",
        None,
    )
}

pub fn settings() -> SetupSettings {
    SetupSettings {
        collector_account: AccountId::parse("x", "111122223333").unwrap(),
        external_id: None,
        retention_days: 365,
        kms_key: None,
        bucket_name: None,
        write_only: false,
        exclude_kms_events: false,
        delivery: Default::default(),
        org: None,
        existing: Default::default(),
        plan_only: false,
    }
}

/// The account exactly as `setup` leaves it.
pub fn converged(desired: &Desired) -> Inventory {
    let tags = names().tags();
    Inventory {
        bucket: bucket::Observed::Present(Box::new(bucket::State {
            region: Some("us-east-1".into()),
            tags: tags.clone(),
            public_access_block: Some([true; 4]),
            ownership: Some("BucketOwnerEnforced".into()),
            encryption: Some(("AES256".into(), None)),
            versioning: Some("Enabled".into()),
            lifecycle_rules: vec![bucket::lifecycle_rule(&desired.bucket).unwrap()],
            policy: Some(desired.bucket.policy.clone()),
            policy_text: Some(desired.bucket.policy.to_string()),
            notification: notification::with(
                &NotificationConfiguration::builder().build(),
                &desired.notification,
            )
            .unwrap(),
        })),
        topic: Some(topic::State {
            policy: Some(desired.topic.policy.clone()),
            policy_text: Some(desired.topic.policy.to_string()),
            tags: tags.clone(),
        }),
        role: Some(role::State {
            trust: Some(desired.role.trust.clone()),
            permissions: Some(desired.role.permissions.clone()),
            other_inline: vec![],
            attached: vec![],
            tags: desired.role.tags.clone(),
        }),
        trail: Some(trail::State {
            bucket: Some(desired.trail.bucket.clone()),
            key_prefix: None,
            multi_region: true,
            global_service_events: true,
            log_file_validation: true,
            organization: desired.trail.organization,
            logging: true,
            cloud_watch_logs: desired.trail.cloud_watch_logs.clone(),
            event_selectors: vec![trail::Selector {
                read_write: "All".into(),
                management_events: true,
                excluded_sources: vec![],
                data_resources: 0,
            }],
            tags: tags.clone(),
            delivery: trail::Delivery::default(),
            kms_key: None,
        }),
        queue: desired.queue.as_ref().map(|q| queue::State {
            policy: Some(q.policy.clone()),
            encrypted: true,
            redrive: Some(q.redrive_policy()),
            retention_seconds: Some(queue::RETENTION_SECONDS),
            dlq_exists: true,
            tags: tags.clone(),
        }),
        subscriptions: desired
            .subscriptions
            .iter()
            .map(|s| subscription::Observed {
                arn: format!("{}:sub", s.topic_arn),
                protocol: s.protocol.clone(),
                endpoint: s.endpoint.clone(),
            })
            .collect(),
        function: desired.forwarder.as_ref().map(|f| function::State {
            role_arn: f.function.role_arn.clone(),
            runtime: function::RUNTIME.into(),
            handler: function::HANDLER.into(),
            memory_mb: function::MEMORY_MB,
            timeout_seconds: function::TIMEOUT_SECONDS,
            environment: f.function.environment.iter().cloned().collect(),
            code_sha256: function::code_sha256(&function::package()),
            permissions: f.function.permissions.clone(),
            tags: tags.clone(),
        }),
        forwarder_role: desired.forwarder.as_ref().map(|f| role_state(&f.role)),
        function_log_group: desired
            .forwarder
            .as_ref()
            .map(|f| log_group_state(&f.log_group)),
        token: desired.forwarder.as_ref().map(|f| parameter::State {
            value: f.token.value.clone().unwrap_or_default(),
            secure: true,
            tags: tags.clone(),
        }),
        trail_log_group: desired
            .trail_logs
            .as_ref()
            .map(|t| log_group_state(&t.log_group)),
        trail_logs_role: desired.trail_logs.as_ref().map(|t| role_state(&t.role)),
        organization: None,
        trails: Vec::new(),
    }
}

fn role_state(spec: &role::Spec) -> role::State {
    role::State {
        trust: Some(spec.trust.clone()),
        permissions: Some(spec.permissions.clone()),
        other_inline: vec![],
        attached: vec![],
        tags: spec.tags.clone(),
    }
}

fn log_group_state(spec: &log_group::Spec) -> log_group::State {
    log_group::State {
        retention_days: Some(spec.retention_days),
        filters: spec.filter.iter().cloned().collect(),
        tags: spec.tags.clone(),
    }
}
