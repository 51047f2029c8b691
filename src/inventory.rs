//! Reads the current state of every resource an integration involves, all
//! at once: the planner's input besides the desired state. Makes only
//! read calls.

use crate::aws::Clients;
use crate::desired::Names;
use crate::resources::{
    bucket, function, log_group, organization, parameter, queue, role, subscription, topic, trail,
};

#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub bucket: bucket::Observed,
    pub topic: Option<topic::State>,
    /// The collector role.
    pub role: Option<role::State>,
    pub trail: Option<trail::State>,
    pub queue: Option<queue::State>,
    /// Every subscription of the topic (empty when there is no topic).
    pub subscriptions: Vec<subscription::Observed>,
    pub function: Option<function::State>,
    pub forwarder_role: Option<role::State>,
    pub function_log_group: Option<log_group::State>,
    pub token: Option<parameter::State>,
    pub trail_log_group: Option<log_group::State>,
    pub trail_logs_role: Option<role::State>,
    /// Organization integrations: the organization as the caller sees it.
    pub organization: Option<organization::State>,
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
/// The delivery resources are read whatever the options: a re-run that no
/// longer asks for one must see it to remove it.
pub async fn read_rest(clients: &Clients, names: &Names) -> anyhow::Result<Inventory> {
    let topic_arn = names.topic_arn();
    let (queue_url, dlq_url) = (names.queue_url(), names.dlq_url());
    let (function_log_group, trail_log_group) =
        (names.function_log_group(), names.trail_log_group());
    let (function_log_group_arn, trail_log_group_arn) = (
        names.log_group_arn(&function_log_group),
        names.log_group_arn(&trail_log_group),
    );
    let (collector_role, forwarder_role, trail_logs_role, function_name, token) = (
        names.role(),
        names.forwarder_role(),
        names.trail_logs_role(),
        names.function(),
        names.token_parameter(),
    );
    let (core, delivery) = tokio::try_join!(
        async {
            tokio::try_join!(
                bucket::read(&clients.s3, &names.bucket),
                topic::read(&clients.sns, &topic_arn),
                role::read(&clients.iam, &collector_role, role::PERMISSIONS_POLICY_NAME),
                subscription::list(&clients.sns, &topic_arn),
            )
        },
        async {
            tokio::try_join!(
                queue::read(&clients.sqs, (&queue_url, &dlq_url)),
                function::read(&clients.lambda, &function_name),
                role::read(&clients.iam, &forwarder_role, role::FORWARDER_POLICY_NAME),
                log_group::read(&clients.logs, &function_log_group, &function_log_group_arn),
                parameter::read(&clients.ssm, &token),
                log_group::read(&clients.logs, &trail_log_group, &trail_log_group_arn),
                role::read(&clients.iam, &trail_logs_role, role::TRAIL_LOGS_POLICY_NAME),
            )
        },
    )?;
    let (bucket, topic, role, subscriptions) = core;
    let (
        queue,
        function,
        forwarder_role,
        function_log_group,
        token,
        trail_log_group,
        trail_logs_role,
    ) = delivery;
    Ok(Inventory {
        bucket,
        topic,
        role,
        trail: None,
        queue,
        subscriptions: subscriptions.unwrap_or_default(),
        function,
        forwarder_role,
        function_log_group,
        token,
        trail_log_group,
        trail_logs_role,
        organization: None,
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
