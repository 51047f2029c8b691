//! Reads the current state of the resources an integration involves, all
//! at once: the planner's input besides the desired state. Makes only
//! read calls. The optional parts ([`Parts`]) are read when asked for:
//! `status`, `delete`, `pause`, `resume` and `accounts` ask for all of them,
//! `setup` for those its options build or the collector role records.

use crate::aws::Clients;
use crate::desired::{Names, Parts};
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
    /// `setup`: every trail already in the account (see [`trail::discover`]).
    pub trails: Vec<trail::Found>,
}

impl Inventory {
    /// The collector role, when it is this integration's: the one that
    /// carries the reuse, parts and pause records.
    pub fn own_role(&self, integration: &str) -> Option<&role::State> {
        self.role
            .as_ref()
            .filter(|r| crate::resources::owned_by(&r.tags, integration))
    }

    /// The pause recorded on the collector role.
    pub fn pause(&self, integration: &str) -> Option<role::Pause> {
        self.own_role(integration).and_then(role::State::pause)
    }
}

/// Read the core resources and the optional `parts`, all at once; a part
/// not read is left absent.
pub async fn read(clients: &Clients, names: &Names, parts: Parts) -> anyhow::Result<Inventory> {
    let (trail, mut inventory, found) = tokio::try_join!(
        read_trail(clients, names),
        read_core(clients, names),
        read_parts(clients, names, parts),
    )?;
    inventory.trail = trail;
    found.fill(&mut inventory);
    Ok(inventory)
}

/// Read `parts` too, after [`read`] (`setup`: what the collector role
/// records beyond what the options asked for).
pub async fn read_more(
    clients: &Clients,
    names: &Names,
    parts: Parts,
    inventory: &mut Inventory,
) -> anyhow::Result<()> {
    read_parts(clients, names, parts).await?.fill(inventory);
    Ok(())
}

/// Read the trail alone (`delete` needs it first, to learn the bucket).
pub async fn read_trail(clients: &Clients, names: &Names) -> anyhow::Result<Option<trail::State>> {
    trail::read(&clients.cloudtrail, &names.trail_id(), &names.trail_arn()).await
}

/// The bucket, the topic with its subscriptions, and the collector role;
/// `trail` is left `None` for the caller.
async fn read_core(clients: &Clients, names: &Names) -> anyhow::Result<Inventory> {
    let (topic_arn, collector_role) = (names.topic_arn(), names.role());
    let (bucket, topic, role, subscriptions) = tokio::try_join!(
        bucket::read(&clients.s3, &names.bucket),
        topic::read(&clients.sns, &topic_arn),
        role::read(&clients.iam, &collector_role, role::PERMISSIONS_POLICY_NAME),
        subscription::list(&clients.sns, &topic_arn),
    )?;
    Ok(Inventory {
        bucket,
        topic,
        role,
        subscriptions: subscriptions.unwrap_or_default(),
        ..Inventory::default()
    })
}

/// The resources of some optional parts, as read.
struct PartsFound {
    parts: Parts,
    queue: Option<queue::State>,
    function: Option<function::State>,
    forwarder_role: Option<role::State>,
    function_log_group: Option<log_group::State>,
    token: Option<parameter::State>,
    trail_log_group: Option<log_group::State>,
    trail_logs_role: Option<role::State>,
}

impl PartsFound {
    /// Only the parts read overwrite what `inventory` has.
    fn fill(self, inventory: &mut Inventory) {
        if self.parts.queue {
            inventory.queue = self.queue;
        }
        if self.parts.forwarder {
            inventory.function = self.function;
            inventory.forwarder_role = self.forwarder_role;
            inventory.function_log_group = self.function_log_group;
            inventory.token = self.token;
        }
        if self.parts.trail_logs {
            inventory.trail_log_group = self.trail_log_group;
            inventory.trail_logs_role = self.trail_logs_role;
        }
    }
}

/// Read the resources of `parts`, concurrently.
async fn read_parts(clients: &Clients, names: &Names, parts: Parts) -> anyhow::Result<PartsFound> {
    /// `read` when the part is asked for; futures are lazy, so the others
    /// send nothing.
    async fn when<T>(
        wanted: bool,
        read: impl std::future::Future<Output = anyhow::Result<Option<T>>>,
    ) -> anyhow::Result<Option<T>> {
        if wanted {
            read.await
        } else {
            Ok(None)
        }
    }
    let (queue_url, dlq_url) = (names.queue_url(), names.dlq_url());
    let (function_log_group, trail_log_group) =
        (names.function_log_group(), names.trail_log_group());
    let (function_log_group_arn, trail_log_group_arn) = (
        names.log_group_arn(&function_log_group),
        names.log_group_arn(&trail_log_group),
    );
    let (forwarder_role, trail_logs_role, function_name, token) = (
        names.forwarder_role(),
        names.trail_logs_role(),
        names.function(),
        names.token_parameter(),
    );
    let (
        queue,
        function,
        forwarder_role,
        function_log_group,
        token,
        trail_log_group,
        trail_logs_role,
    ) = tokio::try_join!(
        when(
            parts.queue,
            queue::read(&clients.sqs, (&queue_url, &dlq_url))
        ),
        when(
            parts.forwarder,
            function::read(&clients.lambda, &function_name)
        ),
        when(
            parts.forwarder,
            role::read(&clients.iam, &forwarder_role, role::FORWARDER_POLICY_NAME)
        ),
        when(
            parts.forwarder,
            log_group::read(&clients.logs, &function_log_group, &function_log_group_arn)
        ),
        when(parts.forwarder, parameter::read(&clients.ssm, &token)),
        when(
            parts.trail_logs,
            log_group::read(&clients.logs, &trail_log_group, &trail_log_group_arn)
        ),
        when(
            parts.trail_logs,
            role::read(&clients.iam, &trail_logs_role, role::TRAIL_LOGS_POLICY_NAME)
        ),
    )?;
    Ok(PartsFound {
        parts,
        queue,
        function,
        forwarder_role,
        function_log_group,
        token,
        trail_log_group,
        trail_logs_role,
    })
}

/// Take in what our collector role records as reused (see
/// [`Names::reuse_recorded`]); false when it records nothing, or is not ours.
pub fn adopt_recorded_reuse(names: &mut Names, inventory: &Inventory) -> bool {
    inventory
        .own_role(names.integration.as_str())
        .is_some_and(|r| names.reuse_recorded(&r.tags))
}

/// Follow what an integration reuses until its names settle: a reused
/// trail decides the bucket and the key prefix; a reused bucket's region
/// decides where the topic and the queue are, and so the region of the S3,
/// SNS and SQS clients (returned). Each change reads again what depends on
/// those names: one more round, only for integrations that reuse
/// something. `stale`: the names changed since `inventory` was read;
/// `parts`: the optional parts it holds.
pub async fn follow_reuse(
    clients: &Clients,
    names: &mut Names,
    mut inventory: Inventory,
    mut stale: bool,
    parts: Parts,
) -> anyhow::Result<(Clients, Inventory)> {
    let mut clients = clients.clone();
    let mut clients_region = names.region.clone();
    // Trail → bucket → its region: at most three reads settle the names.
    for _ in 0..3 {
        if names.delivery_region != clients_region {
            clients = clients.with_delivery_region(&names.delivery_region);
            clients_region = names.delivery_region.clone();
            stale = true;
        }
        if stale {
            read_what_reuse_moves(&clients, names, &mut inventory, parts).await?;
            stale = false;
        }
        if names.reused.trail.is_some() {
            if let Some(trail) = &inventory.trail {
                names.key_prefix = trail.key_prefix.clone().filter(|p| !p.is_empty());
                if let Some(bucket) = trail.bucket.as_ref().filter(|b| **b != names.bucket) {
                    names.bucket = bucket.clone();
                    stale = true;
                    continue;
                }
            }
        }
        if names.reused.bucket {
            if let Some(region) = inventory.bucket.region() {
                names.delivery_region = region.to_owned();
            }
        }
        if !stale && names.delivery_region == clients_region {
            break;
        }
    }
    if names.reused.bucket {
        names.log_keys = log_keys(names, &inventory);
    }
    Ok((clients, inventory))
}

/// Read again what reusing renames or moves to the bucket's region: the
/// trail, the bucket, the topic with its subscriptions, and the queue (when
/// `parts` has it). The roles, the forwarder and its parts keep their names
/// and region.
async fn read_what_reuse_moves(
    clients: &Clients,
    names: &Names,
    inventory: &mut Inventory,
    parts: Parts,
) -> anyhow::Result<()> {
    let topic_arn = names.topic_arn();
    let queue = Parts {
        queue: parts.queue,
        ..Parts::default()
    };
    let (trail, bucket, topic, subscriptions, queue) = tokio::try_join!(
        read_trail(clients, names),
        bucket::read(&clients.s3, &names.bucket),
        topic::read(&clients.sns, &topic_arn),
        subscription::list(&clients.sns, &topic_arn),
        read_parts(clients, names, queue),
    )?;
    inventory.trail = trail;
    inventory.bucket = bucket;
    inventory.topic = topic;
    inventory.subscriptions = subscriptions.unwrap_or_default();
    queue.fill(inventory);
    Ok(())
}

/// The KMS keys a reused bucket (default encryption) or trail (SSE-KMS
/// on its files) encrypts the log files with, as key ARNs.
fn log_keys(names: &Names, inventory: &Inventory) -> Vec<String> {
    let bucket_key = match &inventory.bucket {
        bucket::Observed::Present(state) => state
            .encryption
            .as_ref()
            .filter(|(algorithm, _)| algorithm.starts_with("aws:kms"))
            .and_then(|(_, key)| key.clone()),
        _ => None,
    };
    let trail_key = names
        .reused
        .trail
        .as_ref()
        .and(inventory.trail.as_ref())
        .and_then(|t| t.kms_key.clone());
    let mut keys: Vec<String> = [bucket_key, trail_key]
        .into_iter()
        .flatten()
        .map(|key| {
            if key.starts_with("arn:") {
                key
            } else {
                format!(
                    "arn:{}:kms:{}:{}:{}",
                    names.partition,
                    names.delivery_region,
                    names.account,
                    if key.starts_with("alias/") {
                        key
                    } else {
                        format!("key/{key}")
                    }
                )
            }
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Read an existing integration for `delete`, `status`, `pause` and
/// `resume`. Without `--bucket-name` the bucket is the one our trail writes
/// to, if the trail is still there and ours. Everything is read at once
/// with the default bucket name; only when the trail points at another
/// bucket is that one read after it.
///
/// An integration that reuses resources records them on its collector
/// role; they are then read where they are (see [`follow_reuse`]), and the
/// clients for the bucket's region are returned.
pub async fn read_existing(
    clients: &Clients,
    names: &mut Names,
    bucket_given: bool,
) -> anyhow::Result<(Clients, Inventory)> {
    let mut inventory = read(clients, names, Parts::ALL).await?;
    if adopt_recorded_reuse(names, &inventory) {
        return follow_reuse(clients, names, inventory, true, Parts::ALL).await;
    }
    if bucket_given {
        return Ok((clients.clone(), inventory));
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
    Ok((clients.clone(), inventory))
}
