//! Shared fixtures of the unit tests: an integration's names and options,
//! and the account exactly as `setup` leaves it.

use aws_sdk_s3::types::NotificationConfiguration;

use crate::desired::{Desired, Names};
use crate::inventory::Inventory;
use crate::resources::{bucket, notification, role, topic, trail};
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
            notification: notification::with(
                &NotificationConfiguration::builder().build(),
                &desired.notification,
            )
            .unwrap(),
        })),
        topic: Some(topic::State {
            policy: Some(desired.topic.policy.clone()),
            tags: tags.clone(),
        }),
        role: Some(role::State {
            trust: Some(desired.role.trust.clone()),
            permissions: Some(desired.role.permissions.clone()),
            other_inline: vec![],
            attached: vec![],
            tags: tags.clone(),
        }),
        trail: Some(trail::State {
            bucket: Some(desired.trail.bucket.clone()),
            key_prefix: None,
            multi_region: true,
            global_service_events: true,
            log_file_validation: true,
            logging: true,
            event_selectors: vec![trail::Selector {
                read_write: "All".into(),
                management_events: true,
                excluded_sources: vec![],
                data_resources: 0,
            }],
            tags,
            delivery: trail::Delivery::default(),
        }),
    }
}
