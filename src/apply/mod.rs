//! The executor: runs a [`Plan`] in dependency order, independent steps
//! concurrently, and undoes on failure.
//!
//! Like a transaction: before a step that creates something runs, its undo
//! is pushed (and the creation journaled to disk), so a step that fails half
//! way (bucket created, a setting refused) is undone too. On the first
//! failure no new step starts, running ones finish, then every undo runs in
//! reverse order. Rollback is an explicit `async fn`: `Drop` cannot await.

pub mod journal;

use std::collections::HashSet;
use std::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use thiserror::Error;

use crate::aws::Clients;
use crate::output::Printer;
use crate::plan::{Action, Op, Plan, PolicyTarget, Step};
use crate::resources::{
    bucket, function, log_group, notification, organization, parameter, queue, role, subscription,
    topic, trail,
};
use journal::Journal;

/// An apply that failed; what was undone is already undone.
#[derive(Debug, Error)]
#[error("{step} failed: {cause:#}{}", rollback_summary(.rollback_failures))]
pub struct ApplyFailed {
    pub step: String,
    pub cause: anyhow::Error,
    pub rolled_back: Vec<String>,
    pub rollback_failures: Vec<String>,
}

fn rollback_summary(failures: &[String]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!("\nrollback could not undo:\n  {}", failures.join("\n  "))
    }
}

fn describe(step: &Step) -> String {
    let verb = match step.action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Delete => "delete",
        _ => "check",
    };
    format!("{verb} {} {}", step.kind.label(), step.name)
}

/// Run one operation against AWS.
pub async fn run_op(clients: &Clients, op: &Op) -> anyhow::Result<()> {
    match op {
        Op::CreateBucket(spec) => bucket::create(&clients.s3, spec).await,
        Op::UpdateBucket(spec, settings) => bucket::update(&clients.s3, spec, settings).await,
        Op::DeleteBucket { name, empty_first } => {
            bucket::delete(&clients.s3, name, *empty_first).await
        }
        Op::CreateTopic(spec) => topic::create(&clients.sns, spec).await,
        Op::UpdateTopic(spec, settings) => topic::update(&clients.sns, spec, settings).await,
        Op::DeleteTopic { arn } => topic::delete(&clients.sns, arn).await,
        Op::CreateRole(spec) => role::create(&clients.iam, spec).await,
        Op::UpdateRole(spec, settings) => role::update(&clients.iam, spec, settings).await,
        Op::DeleteRole { name } => role::delete(&clients.iam, name).await,
        Op::CreateTrail(spec) => trail::create(&clients.cloudtrail, spec).await,
        Op::UpdateTrail(spec, settings) => trail::update(&clients.cloudtrail, spec, settings).await,
        Op::DeleteTrail { name } => trail::delete(&clients.cloudtrail, name).await,
        Op::TagRole { name, tags } => role::tag(&clients.iam, name, tags).await,
        Op::UntagRole { name, keys } => role::untag(&clients.iam, name, keys).await,
        Op::StopLogging { name } => trail::stop_logging(&clients.cloudtrail, name).await,
        Op::StartLogging { name } => trail::start_logging(&clients.cloudtrail, name).await,
        Op::SetNotification { bucket, config, .. } => {
            notification::put(&clients.s3, bucket, config.clone()).await
        }
        Op::SetPolicy { target, text, .. } => match target {
            PolicyTarget::Bucket(name) => {
                bucket::set_policy(&clients.s3, name, text.as_deref()).await
            }
            // A topic always has a policy; the plan never asks to remove it.
            PolicyTarget::Topic(arn) => match text {
                Some(text) => topic::set_policy(&clients.sns, arn, text).await,
                None => Ok(()),
            },
        },
        Op::CreateQueue(spec) => queue::create(&clients.sqs, spec).await,
        Op::UpdateQueue(spec, settings) => queue::update(&clients.sqs, spec, settings).await,
        Op::DeleteQueue { url, dlq_url } => queue::delete(&clients.sqs, url, dlq_url).await,
        Op::CreateSubscription(spec) => subscription::create(&clients.sns, spec).await.map(drop),
        Op::DeleteSubscription {
            topic_arn,
            endpoint,
        } => subscription::delete(&clients.sns, topic_arn, endpoint).await,
        Op::CreateParameter(spec) => parameter::create(&clients.ssm, spec).await,
        Op::UpdateParameter(spec, settings) => {
            parameter::update(&clients.ssm, spec, settings).await
        }
        Op::DeleteParameter { name } => parameter::delete(&clients.ssm, name).await,
        Op::CreateLogGroup(spec) => log_group::create(&clients.logs, spec).await,
        Op::UpdateLogGroup(spec, settings) => {
            log_group::update(&clients.logs, spec, settings).await
        }
        Op::DeleteLogGroup { name } => log_group::delete(&clients.logs, name).await,
        Op::RemoveLogGroupFilter { group, filter } => {
            log_group::delete_filter(&clients.logs, group, filter).await
        }
        Op::CreateFunction(spec) => function::create(&clients.lambda, spec).await,
        Op::UpdateFunction(spec, settings) => {
            function::update(&clients.lambda, spec, settings).await
        }
        Op::DeleteFunction { name } => function::delete(&clients.lambda, name).await,
        Op::EnableTrustedAccess => {
            organization::enable_trusted_access(&clients.organizations).await
        }
        Op::DisableTrustedAccess => {
            organization::disable_trusted_access(&clients.organizations).await
        }
    }
}

/// Apply every step of the plan that has an operation.
pub async fn apply(
    clients: &Clients,
    plan: &Plan,
    journal: &mut Journal,
    printer: &Printer,
) -> Result<(), ApplyFailed> {
    let runnable: Vec<&Step> = plan.steps.iter().filter(|s| s.op.is_some()).collect();
    let mut pending: Vec<usize> = (0..runnable.len()).collect();
    let mut in_flight: HashSet<usize> = HashSet::new();
    let mut undo: Vec<(String, Op)> = Vec::new();
    let mut running = FuturesUnordered::new();
    let mut failure: Option<(String, anyhow::Error)> = None;

    loop {
        if failure.is_none() {
            // Start every step whose prerequisites in this plan are done.
            // A prerequisite not in the plan (no change) is satisfied.
            let unfinished: Vec<usize> = pending.iter().chain(in_flight.iter()).copied().collect();
            let (ready, waiting): (Vec<usize>, Vec<usize>) = pending.iter().partition(|&&i| {
                unfinished
                    .iter()
                    .all(|&j| i == j || !Plan::waits_for(runnable[i], runnable[j]))
            });
            pending = waiting;
            for i in ready {
                let step = runnable[i];
                let op = step.op.as_ref().expect("runnable steps have an op");
                if let Some(reverse) = op.undo() {
                    if step.action == Action::Create {
                        if let Err(e) = journal.record_create(step.kind, &step.name) {
                            failure = Some((describe(step), e));
                            break;
                        }
                        undo.push((describe(step), reverse));
                    }
                }
                printer.progress_start(&describe(step));
                in_flight.insert(i);
                running.push(async move {
                    let started = Instant::now();
                    let result = run_op(clients, op).await;
                    (i, step, result, started.elapsed())
                });
            }
        }
        let Some((i, step, result, elapsed)) = running.next().await else {
            break;
        };
        in_flight.remove(&i);
        match result {
            Ok(()) => {
                printer.progress_done(&describe(step), elapsed);
            }
            Err(e) => {
                printer.progress_failed(&describe(step), &e);
                failure.get_or_insert((describe(step), e));
            }
        }
    }

    if failure.is_none() && !pending.is_empty() {
        failure = Some((
            "plan".into(),
            anyhow::anyhow!("steps wait on each other in a cycle; this is a bug in trailctl"),
        ));
    }
    let Some((step, cause)) = failure else {
        if let Err(e) = journal.close() {
            printer.warn(&format!("{e:#}"));
        }
        return Ok(());
    };
    let (rolled_back, rollback_failures) = rollback(clients, undo, printer).await;
    if rollback_failures.is_empty() {
        if let Err(e) = journal.close() {
            printer.warn(&format!("{e:#}"));
        }
    }
    Err(ApplyFailed {
        step,
        cause,
        rolled_back,
        rollback_failures,
    })
}

/// Undo, newest first. Returns what was undone and what could not be.
async fn rollback(
    clients: &Clients,
    undo: Vec<(String, Op)>,
    printer: &Printer,
) -> (Vec<String>, Vec<String>) {
    let mut done = Vec::new();
    let mut failed = Vec::new();
    if !undo.is_empty() {
        printer.warn("rolling back what this run created");
    }
    for (what, op) in undo.into_iter().rev() {
        match run_op(clients, &op).await {
            Ok(()) => {
                printer.progress_done(&format!("undo {what}"), std::time::Duration::ZERO);
                done.push(what);
            }
            Err(e) => {
                printer.progress_failed(&format!("undo {what}"), &e);
                failed.push(format!("{what}: {e:#}"));
            }
        }
    }
    (done, failed)
}
