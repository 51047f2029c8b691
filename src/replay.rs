//! Finding log files by date and replaying them to the topic.
//!
//! CloudTrail writes `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…`,
//! so the files of a period are found by listing one prefix per region and
//! day, never the whole bucket. `resume` replays the files written during a
//! pause as S3-event-shaped SNS messages — what S3 would have published —
//! so the collector misses nothing; `status` looks for the newest file.

use anyhow::Context as _;
use aws_sdk_sns::types::PublishBatchRequestEntry;
use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::json;

use crate::aws::{AwsResultExt, Clients};
use crate::desired::Names;
use crate::output::Printer;
use crate::resources::notification::SUFFIX;

/// SNS takes at most ten messages per PublishBatch.
const BATCH: usize = 10;
const DAY_SECS: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogObject {
    pub key: String,
    pub size: i64,
    pub etag: String,
    /// RFC 3339.
    pub last_modified: String,
}

/// Whole seconds: a pause records the second it began, so a file written in
/// that same second is replayed rather than lost.
pub fn now_in_seconds() -> DateTime {
    DateTime::from_secs(DateTime::from(std::time::SystemTime::now()).secs())
}

pub fn rfc3339(time: DateTime) -> String {
    time.fmt(Format::DateTime).unwrap_or_default()
}

pub fn parse_time(text: &str) -> anyhow::Result<DateTime> {
    DateTime::from_str(text, Format::DateTime)
        .with_context(|| format!("`{text}` is not an RFC 3339 time"))
}

/// `YYYY/MM/DD` of every UTC day from `from` to `to`, both included.
pub fn days(from: DateTime, to: DateTime) -> Vec<String> {
    let day_of = |secs: i64| {
        rfc3339(DateTime::from_secs(secs))
            .get(..10)
            .unwrap_or_default()
            .replace('-', "/")
    };
    let mut out = Vec::new();
    let mut secs = from.secs() - from.secs().rem_euclid(DAY_SECS);
    while secs <= to.secs() {
        out.push(day_of(secs));
        secs += DAY_SECS;
    }
    out
}

/// Every log file under `prefix` (all pages).
pub async fn list(clients: &Clients, bucket: &str, prefix: &str) -> anyhow::Result<Vec<LogObject>> {
    let mut out = Vec::new();
    let mut pages = clients
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws(format!("s3:ListObjectsV2 {bucket}/{prefix}"))?;
        out.extend(
            page.contents()
                .iter()
                .filter(|o| o.key().is_some_and(|k| k.ends_with(SUFFIX)))
                .map(|o| LogObject {
                    key: o.key().unwrap_or_default().to_owned(),
                    size: o.size().unwrap_or_default(),
                    etag: o.e_tag().unwrap_or_default().trim_matches('"').to_owned(),
                    last_modified: o.last_modified().map(|t| rfc3339(*t)).unwrap_or_default(),
                }),
        );
    }
    Ok(out)
}

/// The folders directly under `prefix` (listed with a delimiter), without
/// the prefix and the slash.
async fn folders(clients: &Clients, names: &Names, prefix: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pages = clients
        .s3
        .list_objects_v2()
        .bucket(&names.bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.aws(format!("s3:ListObjectsV2 {}/{prefix}", names.bucket))?;
        out.extend(page.common_prefixes().iter().filter_map(|p| {
            p.prefix()
                .and_then(|p| p.strip_prefix(prefix))
                .map(|r| r.trim_end_matches('/').to_owned())
        }));
    }
    Ok(out)
}

/// The newest log file of the home region written today or yesterday (UTC).
pub async fn latest(
    clients: &Clients,
    names: &Names,
    now: DateTime,
) -> anyhow::Result<Option<String>> {
    latest_under(clients, names, &names.log_prefix(), now).await
}

/// [`latest`] for the account whose files are under `account_prefix`.
pub async fn latest_under(
    clients: &Clients,
    names: &Names,
    account_prefix: &str,
    now: DateTime,
) -> anyhow::Result<Option<String>> {
    let day_ago = DateTime::from_secs(now.secs() - DAY_SECS);
    let prefixes: Vec<String> = days(day_ago, now)
        .iter()
        .map(|day| format!("{account_prefix}{}/{day}/", names.region))
        .collect();
    let listed =
        futures::future::try_join_all(prefixes.iter().map(|p| list(clients, &names.bucket, p)))
            .await?;
    Ok(listed.into_iter().flatten().map(|o| o.last_modified).max())
}

/// Where the log files of the collected accounts are
/// (`…/<account>/CloudTrail/`): one prefix for one account; for an
/// organization, the selected accounts', or every account folder in the
/// bucket when all are collected.
pub async fn account_prefixes(
    clients: &Clients,
    names: &Names,
    accounts: Option<&crate::settings::Accounts>,
) -> anyhow::Result<Vec<String>> {
    use crate::settings::Accounts;
    if names.org.is_none() {
        return Ok(vec![names.log_prefix()]);
    }
    Ok(match accounts {
        Some(Accounts::Only(ids)) => ids
            .iter()
            .map(|id| names.account_log_prefix(id.as_str()))
            .collect(),
        _ => folders(clients, names, &names.log_prefix())
            .await?
            .iter()
            .map(|account| names.account_log_prefix(account))
            .collect(),
    })
}

/// The log files under `account_prefixes` written since `since`, oldest
/// first.
pub async fn written_since(
    clients: &Clients,
    names: &Names,
    account_prefixes: &[String],
    since: DateTime,
    now: DateTime,
) -> anyhow::Result<Vec<LogObject>> {
    let regions = futures::future::try_join_all(
        account_prefixes
            .iter()
            .map(|prefix| folders(clients, names, prefix)),
    )
    .await?;
    let prefixes: Vec<String> = account_prefixes
        .iter()
        .zip(&regions)
        .flat_map(|(prefix, regions)| {
            regions.iter().flat_map(move |region| {
                days(since, now)
                    .into_iter()
                    .map(move |day| format!("{prefix}{region}/{day}/"))
            })
        })
        .collect();
    let listed =
        futures::future::try_join_all(prefixes.iter().map(|p| list(clients, &names.bucket, p)))
            .await?;
    let at_or_after = |o: &LogObject| {
        parse_time(&o.last_modified)
            .is_ok_and(|t| (t.secs(), t.subsec_nanos()) >= (since.secs(), since.subsec_nanos()))
    };
    let mut files: Vec<LogObject> = listed.into_iter().flatten().filter(at_or_after).collect();
    files.sort_by(|a, b| (&a.last_modified, &a.key).cmp(&(&b.last_modified, &b.key)));
    Ok(files)
}

/// Keys in S3 events are URL-encoded (a space becomes `+`); `/` is kept.
fn event_key(key: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(key, KEEP)
        .to_string()
        .replace("%20", "+")
}

/// The message S3 would have published for `file`.
pub fn s3_event(names: &Names, file: &LogObject) -> serde_json::Value {
    json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": names.region,
        "eventTime": file.last_modified,
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "trailctl-replay"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": names.notification_id(),
            "bucket": {"name": names.bucket, "arn": names.bucket_arn()},
            "object": {"key": event_key(&file.key), "size": file.size, "eTag": file.etag}
        }
    }]})
}

/// Publish one message per file, ten per call; returns how many were sent.
/// On failure the error says how many went out before it.
pub async fn publish(
    clients: &Clients,
    names: &Names,
    files: &[LogObject],
    printer: &Printer,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for batch in files.chunks(BATCH) {
        let entries = batch
            .iter()
            .enumerate()
            .map(|(i, file)| {
                PublishBatchRequestEntry::builder()
                    .id(i.to_string())
                    .subject("Amazon S3 Notification")
                    .message(s3_event(names, file).to_string())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = clients
            .sns
            .publish_batch()
            .topic_arn(names.topic_arn())
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await
            .aws(format!("sns:Publish (batch) to {}", names.topic_arn()))
            .with_context(|| format!("replay stopped after {sent} of {} files", files.len()))?;
        if let Some(failed) = out.failed().first() {
            anyhow::bail!(
                "replay stopped after {sent} of {} files: SNS refused one: {}",
                files.len(),
                failed.message().unwrap_or(failed.code())
            );
        }
        sent += batch.len();
        if sent % 500 == 0 || sent == files.len() {
            printer.progress_done(
                &format!("replayed {sent} of {} files", files.len()),
                std::time::Duration::ZERO,
            );
        }
    }
    Ok(sent)
}

/// The event Lambda receives from SNS for these files: what the forwarder
/// handles.
pub fn forwarder_event(names: &Names, files: &[LogObject]) -> serde_json::Value {
    let records: Vec<_> = files
        .iter()
        .map(|file| {
            json!({
                "EventSource": "aws:sns",
                "Sns": {
                    "TopicArn": names.topic_arn(),
                    "Subject": "Amazon S3 Notification",
                    "Message": s3_event(names, file).to_string()
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Send files to a forwarder fed by CloudWatch Logs, which is not
/// subscribed to the topic: ten files per asynchronous invocation, in the
/// shape SNS would deliver them. Returns how many files were sent.
pub async fn invoke_forwarder(
    clients: &Clients,
    names: &Names,
    files: &[LogObject],
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for batch in files.chunks(BATCH) {
        clients
            .lambda
            .invoke()
            .function_name(names.function())
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(
                forwarder_event(names, batch).to_string(),
            ))
            .send()
            .await
            .aws(format!("lambda:InvokeFunction {}", names.function()))
            .with_context(|| {
                format!(
                    "replay to the forwarder stopped after {sent} of {} files",
                    files.len()
                )
            })?;
        sent += batch.len();
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_cover_both_ends_in_utc() {
        let t = |s| parse_time(s).unwrap();
        for (from, to, want) in [
            (
                "2026-11-24T10:00:00Z",
                "2026-11-24T23:59:59Z",
                vec!["2026/11/24"],
            ),
            (
                "2026-11-30T23:00:00Z",
                "2026-12-01T00:30:00Z",
                vec!["2026/11/30", "2026/12/01"],
            ),
            (
                "2024-02-28T12:00:00Z",
                "2024-03-01T00:00:00Z",
                vec!["2024/02/28", "2024/02/29", "2024/03/01"],
            ),
        ] {
            assert_eq!(days(t(from), t(to)), want, "{from} → {to}");
        }
        assert!(days(t("2026-11-25T00:00:00Z"), t("2026-11-24T00:00:00Z")).is_empty());
    }

    #[test]
    fn the_replayed_event_is_shaped_like_the_one_s3_sends() {
        let names = Names::new(
            crate::settings::IntegrationName::parse("prod").unwrap(),
            "123456789012",
            "aws",
            "eu-west-1",
            None,
        );
        let file = LogObject {
            key: "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/11/24/x.json.gz".into(),
            size: 42,
            etag: "abc".into(),
            last_modified: "2026-11-24T10:00:00Z".into(),
        };
        let event = s3_event(&names, &file);
        let record = &event["Records"][0];
        assert_eq!(record["eventSource"], "aws:s3");
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["s3"]["bucket"]["name"], names.bucket);
        assert_eq!(record["s3"]["object"]["key"], file.key);
        assert_eq!(record["s3"]["object"]["size"], 42);
        assert_eq!(record["s3"]["configurationId"], "trailctl-prod");
        assert_eq!(
            event_key("AWSLogs/a b/c:d.json.gz"),
            "AWSLogs/a+b/c%3Ad.json.gz"
        );
    }
}
