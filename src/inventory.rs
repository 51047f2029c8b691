//! Reads the current state of every resource an integration involves, all
//! at once: the planner's input besides the desired state. Makes only
//! read calls.

use crate::aws::Clients;
use crate::desired::Names;
use crate::resources::{bucket, role, topic, trail};

#[derive(Debug, Clone)]
pub struct Inventory {
    pub bucket: bucket::Observed,
    pub topic: Option<topic::State>,
    pub role: Option<role::State>,
    pub trail: Option<trail::State>,
}

/// Read every resource, all at once.
pub async fn read(clients: &Clients, names: &Names) -> anyhow::Result<Inventory> {
    let (trail, mut inventory) =
        tokio::try_join!(read_trail(clients, names), read_rest(clients, names))?;
    inventory.trail = trail;
    Ok(inventory)
}

/// Read the trail alone (`delete` needs it first, to learn the bucket).
pub async fn read_trail(clients: &Clients, names: &Names) -> anyhow::Result<Option<trail::State>> {
    trail::read(&clients.cloudtrail, &names.trail(), &names.trail_arn()).await
}

/// Read everything but the trail; `trail` is left `None` for the caller.
pub async fn read_rest(clients: &Clients, names: &Names) -> anyhow::Result<Inventory> {
    let (topic_arn, role_name) = (names.topic_arn(), names.role());
    let (bucket, topic, role) = tokio::try_join!(
        bucket::read(&clients.s3, &names.bucket),
        topic::read(&clients.sns, &topic_arn),
        role::read(&clients.iam, &role_name),
    )?;
    Ok(Inventory {
        bucket,
        topic,
        role,
        trail: None,
    })
}

/// Read an existing integration for `delete`, `status`, `pause` and
/// `resume`. Without `--bucket-name` the bucket is the one our trail writes
/// to, if the trail is still there and ours. Everything is read at once
/// with the default bucket name; only when the trail points at another
/// bucket is that one read after it.
pub async fn read_existing(
    clients: &Clients,
    names: &mut Names,
    bucket_given: bool,
) -> anyhow::Result<Inventory> {
    let mut inventory = read(clients, names).await?;
    if bucket_given {
        return Ok(inventory);
    }
    let trail_bucket = inventory
        .trail
        .as_ref()
        .filter(|t| crate::resources::owned_by(&t.tags, names.integration.as_str()))
        .and_then(|t| t.bucket.clone());
    if let Some(bucket) = trail_bucket.filter(|b| *b != names.bucket) {
        names.bucket = bucket;
        inventory.bucket = bucket::read(&clients.s3, &names.bucket).await?;
    }
    Ok(inventory)
}
