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

pub async fn read(clients: &Clients, names: &Names) -> anyhow::Result<Inventory> {
    let (topic_arn, role_name, trail_name, trail_arn) = (
        names.topic_arn(),
        names.role(),
        names.trail(),
        names.trail_arn(),
    );
    let (bucket, topic, role, trail) = tokio::try_join!(
        bucket::read(&clients.s3, &names.bucket),
        topic::read(&clients.sns, &topic_arn),
        role::read(&clients.iam, &role_name),
        trail::read(&clients.cloudtrail, &trail_name, &trail_arn),
    )?;
    Ok(Inventory {
        bucket,
        topic,
        role,
        trail,
    })
}
