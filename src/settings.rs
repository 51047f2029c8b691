//! Arguments and environment turned into validated settings.
//!
//! Bad input stops here with [`InvalidInput`] (exit code 2), before any
//! credential lookup or AWS call. Every later module can rely on the
//! invariants of these types: a well-formed account ID, bucket name, region
//! and retention period.

use std::fmt;

use crate::cli::{self, Cli, Command, OutputFormat};
use crate::exit::InvalidInput;

/// Everything a command needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub global: Global,
    pub command: CommandSettings,
}

#[derive(Debug, Clone)]
pub struct Global {
    pub profile: Option<String>,
    /// Validated when given; otherwise resolved (and then validated) from the
    /// AWS configuration chain.
    pub region: Option<Region>,
    pub endpoint_url: Option<url::Url>,
    pub name: IntegrationName,
    /// Whether `--name` was given (`policy` renders any integration if not).
    pub name_given: bool,
    pub output: OutputFormat,
    pub skip_preflight: bool,
    pub yes: bool,
    pub verbose: bool,
}

#[derive(Debug, Clone)]
pub enum CommandSettings {
    Setup(Box<SetupSettings>),
    Delete(DeleteSettings),
    Policy(PolicySettings),
    Check(CheckSettings),
    Status(StatusSettings),
    Pause(PauseSettings),
    Resume(ResumeSettings),
    Accounts(AccountsSettings),
    Completions(clap_complete::Shell),
    Man,
}

#[derive(Debug, Clone)]
pub struct StatusSettings {
    pub bucket_name: Option<BucketName>,
}

#[derive(Debug, Clone)]
pub struct PauseSettings {
    pub stop_logging: bool,
    pub bucket_name: Option<BucketName>,
    pub plan_only: bool,
}

#[derive(Debug, Clone)]
pub struct ResumeSettings {
    pub replay: bool,
    /// RFC 3339, validated.
    pub replay_since: Option<String>,
    pub replay_limit: usize,
    pub bucket_name: Option<BucketName>,
    pub plan_only: bool,
}

/// `trailctl accounts …`: the organization's accounts and which of them
/// are collected.
#[derive(Debug, Clone)]
pub struct AccountsSettings {
    pub action: AccountsAction,
    pub bucket_name: Option<BucketName>,
    pub plan_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountsAction {
    List,
    Add(Vec<AccountId>),
    Remove(Vec<AccountId>),
    Set(Accounts),
}

/// Which accounts of an organization are collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    /// Every account, including those that join later.
    All,
    /// These accounts only: sorted, without duplicates, never empty.
    Only(Vec<AccountId>),
}

impl Accounts {
    /// A selection of `ids`; none means every account (as in the design:
    /// an empty selection is all of them).
    pub fn only(mut ids: Vec<AccountId>) -> Self {
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        if ids.is_empty() {
            Accounts::All
        } else {
            Accounts::Only(ids)
        }
    }

    pub fn includes(&self, account: &str) -> bool {
        match self {
            Accounts::All => true,
            Accounts::Only(ids) => ids.iter().any(|id| id.as_str() == account),
        }
    }
}

impl fmt::Display for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accounts::All => f.write_str("all"),
            Accounts::Only(ids) => {
                let ids: Vec<&str> = ids.iter().map(AccountId::as_str).collect();
                f.write_str(&ids.join(","))
            }
        }
    }
}

/// A comma-separated list of 12-digit account IDs, as the seeds' wizards
/// take it. Every entry is checked: an empty one (`1…,,2…`, a trailing
/// comma) is named rather than skipped, since it is usually a paste error.
pub fn parse_account_list(what: &str, value: &str) -> Result<Vec<AccountId>, InvalidInput> {
    let mut ids = Vec::new();
    for (index, entry) in value.split(',').enumerate() {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(InvalidInput::new(format!(
                "{what} `{value}`: entry {} is empty (expected 12-digit account IDs separated by commas)",
                index + 1
            )));
        }
        ids.push(AccountId::parse(what, entry)?);
    }
    Ok(ids)
}

/// `all`, or a list as [`parse_account_list`] takes it.
pub fn parse_accounts(what: &str, value: &str) -> Result<Accounts, InvalidInput> {
    if value.trim() == "all" {
        return Ok(Accounts::All);
    }
    parse_account_list(what, value).map(Accounts::only)
}

#[derive(Debug, Clone)]
pub struct PolicySettings {
    pub bucket_name: Option<BucketName>,
    pub account: Option<AccountId>,
}

#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub bucket_name: Option<BucketName>,
}

#[derive(Debug, Clone)]
pub struct SetupSettings {
    pub collector_account: AccountId,
    pub external_id: Option<String>,
    pub retention_days: u32,
    pub kms_key: Option<String>,
    pub bucket_name: Option<BucketName>,
    pub write_only: bool,
    pub exclude_kms_events: bool,
    pub delivery: Delivery,
    /// `--org`: an organization trail; `None` for one account.
    pub org: Option<OrgSetup>,
    /// `--existing-trail`, `--existing-bucket`, `--existing-topic`.
    pub existing: Existing,
    pub plan_only: bool,
}

/// What the account already has and `setup` reuses instead of creating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Existing {
    pub trail: Option<TrailRef>,
    pub bucket: Option<BucketName>,
    pub topic: Option<TopicArn>,
}

impl Existing {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A trail named by `--existing-trail`: its name (in the home region) or
/// its ARN (any region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailRef {
    Name(String),
    Arn(String),
}

impl TrailRef {
    /// CloudTrail's rules for a trail name, or the ARN of one.
    pub fn parse(what: &str, value: &str) -> Result<Self, InvalidInput> {
        let bad = |why: &str| InvalidInput::new(format!("{what} `{value}`: {why}"));
        if let Some(rest) = value.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [_, service, region, account, resource] = parts.as_slice() else {
                return Err(bad(
                    "not a trail ARN (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME)",
                ));
            };
            let name = resource.strip_prefix("trail/").unwrap_or_default();
            if *service != "cloudtrail" || name.is_empty() {
                return Err(bad(
                    "not a trail ARN (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME)",
                ));
            }
            Region::parse(region).map_err(|_| bad(&format!("`{region}` is not a region")))?;
            AccountId::parse(what, account)?;
            trail_name_rules(name).map_err(&bad)?;
            return Ok(Self::Arn(value.to_owned()));
        }
        trail_name_rules(value).map_err(bad)?;
        Ok(Self::Name(value.to_owned()))
    }

    /// The trail's ARN; a bare name is a trail of the home region.
    pub fn arn(&self, partition: &str, region: &str, account: &str) -> String {
        match self {
            Self::Arn(arn) => arn.clone(),
            Self::Name(name) => {
                format!("arn:{partition}:cloudtrail:{region}:{account}:trail/{name}")
            }
        }
    }
}

fn trail_name_rules(name: &str) -> Result<(), &'static str> {
    let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    if !(3..=128).contains(&name.len()) {
        return Err("a trail name has 3 to 128 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err("a trail name has only letters, digits, periods, underscores and hyphens");
    }
    if !alnum(name.as_bytes().first()) || !alnum(name.as_bytes().last()) {
        return Err("a trail name begins and ends with a letter or digit");
    }
    Ok(())
}

/// An SNS topic ARN (`--existing-topic`), split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicArn {
    pub arn: String,
    pub region: String,
    pub account: String,
    pub name: String,
}

impl TopicArn {
    pub fn parse(what: &str, value: &str) -> Result<Self, InvalidInput> {
        let bad = |why: &str| InvalidInput::new(format!("{what} `{value}`: {why}"));
        let parts: Vec<&str> = value.split(':').collect();
        let ["arn", _, "sns", region, account, name] = parts.as_slice() else {
            return Err(bad(
                "not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            ));
        };
        Region::parse(region).map_err(|_| bad(&format!("`{region}` is not a region")))?;
        AccountId::parse(what, account)?;
        if name.is_empty()
            || name.len() > 256
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(bad(
                "not a topic name (letters, digits, hyphens and underscores)",
            ));
        }
        if name.ends_with(".fifo") {
            return Err(bad("S3 cannot send event notifications to a FIFO topic"));
        }
        Ok(Self {
            arn: value.to_owned(),
            region: (*region).to_owned(),
            account: (*account).to_owned(),
            name: (*name).to_owned(),
        })
    }
}

/// `setup --org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSetup {
    /// `--accounts`; `None` keeps the selection in place (every account on
    /// a first setup).
    pub accounts: Option<Accounts>,
}

/// Where the collector receives new log files, besides the topic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delivery {
    pub sqs: bool,
    pub forward: Option<Forward>,
    /// The trail also delivers to CloudWatch Logs, forwarded by the function.
    pub cloudwatch_logs: bool,
}

/// The Lambda forwarder's endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub url: String,
    /// `None`: keep the token already stored (a re-run).
    pub token: Option<Secret>,
}

/// A secret value: never printed, not even by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The environment variable the forwarder's token is read from.
pub const FORWARD_TOKEN_VARIABLE: &str = "TRAILCTL_FORWARD_TOKEN";

#[derive(Debug, Clone)]
pub struct DeleteSettings {
    pub delete_logs: bool,
    pub bucket_name: Option<BucketName>,
    pub plan_only: bool,
}

/// A 12-digit AWS account ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

/// An integration name: lowercase letters, digits and hyphens, so that every
/// resource name derived from it is valid for every service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationName(String);

/// An S3 bucket name that follows the general-purpose bucket naming rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(String);

/// An AWS region code such as `eu-west-1`, with the partition it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

macro_rules! string_newtype {
    ($($ty:ident),*) => {$(
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_newtype!(AccountId, IntegrationName, BucketName, Region);

/// Longest integration name: the default bucket name
/// `trailctl-<name>-<12 digits>-<region>` must fit S3's 63 characters for
/// the longest region codes (14 characters).
pub const MAX_NAME_LEN: usize = 26;

/// Retention is an S3 lifecycle expiration in days; 100 years is a generous
/// upper bound that still catches typos.
pub const MAX_RETENTION_DAYS: u32 = 36_500;
/// `--retention-days` when not given.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

impl AccountId {
    pub fn parse(what: &str, value: &str) -> Result<Self, InvalidInput> {
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidInput::new(format!(
                "{what} `{value}` is not an AWS account ID: expected exactly 12 digits"
            )))
        }
    }
}

impl IntegrationName {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        let bad = |why: &str| {
            InvalidInput::new(format!(
                "--name `{value}` is not a valid integration name: {why}"
            ))
        };
        if value.is_empty() || value.len() > MAX_NAME_LEN {
            return Err(bad(&format!("use 1 to {MAX_NAME_LEN} characters")));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("use only lowercase letters, digits and hyphens"));
        }
        if !value.as_bytes()[0].is_ascii_lowercase() {
            return Err(bad("start with a lowercase letter"));
        }
        if value.ends_with('-') || value.contains("--") {
            return Err(bad("no trailing or doubled hyphens"));
        }
        Ok(Self(value.to_owned()))
    }
}

impl BucketName {
    /// The general-purpose bucket naming rules of Amazon S3.
    pub fn parse(what: &str, value: &str) -> Result<Self, InvalidInput> {
        let bad = |why: &str| {
            InvalidInput::new(format!(
                "{what} `{value}` is not a valid S3 bucket name: {why}"
            ))
        };
        if !(3..=63).contains(&value.len()) {
            return Err(bad("use 3 to 63 characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(bad("use only lowercase letters, digits, hyphens and dots"));
        }
        let first = value.as_bytes()[0];
        let last = value.as_bytes()[value.len() - 1];
        if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
            return Err(bad("begin and end with a letter or digit"));
        }
        if value.contains("..") || value.contains(".-") || value.contains("-.") {
            return Err(bad("no adjacent dots, and no dot next to a hyphen"));
        }
        if value.split('.').count() == 4 && value.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return Err(bad("it must not look like an IP address"));
        }
        for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
            if value.starts_with(prefix) {
                return Err(bad(&format!("the prefix `{prefix}` is reserved")));
            }
        }
        for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
            if value.ends_with(suffix) {
                return Err(bad(&format!("the suffix `{suffix}` is reserved")));
            }
        }
        Ok(Self(value.to_owned()))
    }
}

impl Region {
    pub fn parse(value: &str) -> Result<Self, InvalidInput> {
        const DIRECTIONS: [&str; 9] = [
            "north",
            "south",
            "east",
            "west",
            "central",
            "northeast",
            "northwest",
            "southeast",
            "southwest",
        ];
        let parts: Vec<&str> = value.split('-').collect();
        let valid = match parts.as_slice() {
            [area, direction, number] | [area, _, direction, number] => {
                area.len() == 2
                    && area.bytes().all(|b| b.is_ascii_lowercase())
                    && DIRECTIONS.contains(direction)
                    && !number.is_empty()
                    && number.len() <= 2
                    && number.bytes().all(|b| b.is_ascii_digit())
                    && !number.starts_with('0')
                    && (parts.len() == 3
                        || ["gov", "iso", "isob", "isoe", "isof"].contains(&parts[1]))
            }
            _ => false,
        };
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidInput::new(format!(
                "`{value}` is not an AWS region code (for example `us-east-1` or `eu-west-2`)"
            )))
        }
    }

    /// The partition whose ARNs this region uses.
    pub fn partition(&self) -> &'static str {
        let r = self.0.as_str();
        if r.starts_with("cn-") {
            "aws-cn"
        } else if r.starts_with("us-gov-") {
            "aws-us-gov"
        } else if r.starts_with("us-isob-") {
            "aws-iso-b"
        } else if r.starts_with("us-iso-") {
            "aws-iso"
        } else if r.starts_with("eu-isoe-") {
            "aws-iso-e"
        } else if r.starts_with("us-isof-") {
            "aws-iso-f"
        } else {
            "aws"
        }
    }
}

fn parse_external_id(value: &str) -> Result<String, InvalidInput> {
    // IAM's pattern for sts:ExternalId: 2 to 1224 characters of [\w+=,.@:/-].
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
    if (2..=1224).contains(&value.len()) && value.chars().all(ok_char) {
        Ok(value.to_owned())
    } else {
        Err(InvalidInput::new(
            "--external-id is not valid: use 2 to 1224 characters of letters, digits and _+=,.@:/-",
        ))
    }
}

fn parse_retention_days(value: &str) -> Result<u32, InvalidInput> {
    match value.parse::<u32>() {
        Ok(days) if (1..=MAX_RETENTION_DAYS).contains(&days) => Ok(days),
        _ => Err(InvalidInput::new(format!(
            "--retention-days `{value}` is not valid: use a whole number of days from 1 to {MAX_RETENTION_DAYS}"
        ))),
    }
}

fn parse_kms_key(value: &str) -> Result<String, InvalidInput> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let valid = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && Region::parse(parts[3]).is_ok()
        && AccountId::parse("", parts[4]).is_ok()
        && (parts[5].starts_with("key/") && parts[5].len() > 4);
    if valid {
        Ok(value.to_owned())
    } else {
        Err(InvalidInput::new(format!(
            "--kms-key `{value}` is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
        )))
    }
}

fn parse_endpoint_url(value: &str) -> Result<url::Url, InvalidInput> {
    let bad = || InvalidInput::new(format!("--endpoint-url `{value}` is not an http(s) URL"));
    let parsed = url::Url::parse(value).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(bad());
    }
    Ok(parsed)
}

/// Validate everything the user typed.
pub fn from_cli(cli: Cli) -> Result<Settings, InvalidInput> {
    let g = cli.global;
    let global = Global {
        profile: g.profile,
        region: g.region.as_deref().map(Region::parse).transpose()?,
        endpoint_url: g
            .endpoint_url
            .as_deref()
            .map(parse_endpoint_url)
            .transpose()?,
        name: IntegrationName::parse(g.name.as_deref().unwrap_or("default"))?,
        name_given: g.name.is_some(),
        output: g.output,
        skip_preflight: g.skip_preflight,
        yes: g.yes,
        verbose: g.verbose,
    };
    let command = match cli.command {
        Command::Setup(a) => CommandSettings::Setup(Box::new(setup_settings(a)?)),
        Command::Delete(a) => CommandSettings::Delete(DeleteSettings {
            delete_logs: a.delete_logs,
            bucket_name: a
                .bucket_name
                .as_deref()
                .map(|b| BucketName::parse("--bucket-name", b))
                .transpose()?,
            plan_only: a.plan,
        }),
        Command::Policy(a) => CommandSettings::Policy(PolicySettings {
            bucket_name: bucket_name(a.bucket_name.as_deref())?,
            account: a
                .account_id
                .as_deref()
                .map(|id| AccountId::parse("--account-id", id))
                .transpose()?,
        }),
        Command::Check(a) => CommandSettings::Check(CheckSettings {
            bucket_name: bucket_name(a.bucket_name.as_deref())?,
        }),
        Command::Completions { shell } => CommandSettings::Completions(shell),
        Command::Man => CommandSettings::Man,
        Command::Status(a) => CommandSettings::Status(StatusSettings {
            bucket_name: bucket_name(a.bucket_name.as_deref())?,
        }),
        Command::Pause(a) => CommandSettings::Pause(PauseSettings {
            stop_logging: a.stop_logging,
            bucket_name: bucket_name(a.bucket_name.as_deref())?,
            plan_only: a.plan,
        }),
        Command::Resume(a) => CommandSettings::Resume(ResumeSettings {
            replay: !a.no_replay,
            replay_since: a
                .replay_since
                .as_deref()
                .map(parse_replay_since)
                .transpose()?,
            replay_limit: parse_replay_limit(&a.replay_limit)?,
            bucket_name: bucket_name(a.bucket_name.as_deref())?,
            plan_only: a.plan,
        }),
        Command::Accounts(a) => CommandSettings::Accounts(accounts_settings(a)?),
    };
    Ok(Settings { global, command })
}

fn accounts_settings(a: cli::AccountsArgs) -> Result<AccountsSettings, InvalidInput> {
    use cli::AccountsCommand as C;
    let (action, bucket, plan) = match a.command {
        C::List(o) => (AccountsAction::List, o.bucket_name, false),
        C::Add(c) => (
            AccountsAction::Add(parse_account_list("accounts add", &c.ids)?),
            c.bucket_name,
            c.plan,
        ),
        C::Remove(c) => (
            AccountsAction::Remove(parse_account_list("accounts remove", &c.ids)?),
            c.bucket_name,
            c.plan,
        ),
        C::Set(c) => (
            AccountsAction::Set(parse_accounts("accounts set", &c.ids)?),
            c.bucket_name,
            c.plan,
        ),
    };
    Ok(AccountsSettings {
        action,
        bucket_name: bucket_name(bucket.as_deref())?,
        plan_only: plan,
    })
}

fn parse_replay_since(value: &str) -> Result<String, InvalidInput> {
    crate::replay::parse_time(value)
        .map(crate::replay::rfc3339)
        .map_err(|_| {
            InvalidInput::new(format!(
                "--replay-since `{value}` is not an RFC 3339 UTC time such as 2026-11-24T10:00:00Z"
            ))
        })
}

fn parse_replay_limit(value: &str) -> Result<usize, InvalidInput> {
    match value.parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(InvalidInput::new(format!(
            "--replay-limit `{value}` must be a whole number from 1 to 1000000"
        ))),
    }
}

fn bucket_name(value: Option<&str>) -> Result<Option<BucketName>, InvalidInput> {
    value
        .map(|b| BucketName::parse("--bucket-name", b))
        .transpose()
}

fn setup_settings(a: cli::SetupArgs) -> Result<SetupSettings, InvalidInput> {
    let existing = parse_existing(&a)?;
    Ok(SetupSettings {
        collector_account: AccountId::parse("--collector-account", &a.collector_account)?,
        external_id: a
            .external_id
            .as_deref()
            .map(parse_external_id)
            .transpose()?,
        retention_days: a
            .retention_days
            .as_deref()
            .map(parse_retention_days)
            .transpose()?
            .unwrap_or(DEFAULT_RETENTION_DAYS),
        kms_key: a.kms_key.as_deref().map(parse_kms_key).transpose()?,
        bucket_name: a
            .bucket_name
            .as_deref()
            .map(|b| BucketName::parse("--bucket-name", b))
            .transpose()?,
        write_only: a.write_only,
        exclude_kms_events: a.exclude_kms_events,
        delivery: parse_delivery(
            &a.delivery,
            a.forward_url.as_deref(),
            a.cloudwatch_logs,
            || read_token(a.forward_token_stdin),
        )?,
        org: match (a.org, a.accounts.as_deref()) {
            (false, Some(_)) => {
                return Err(InvalidInput::new(
                    "--accounts selects accounts of an organization: add --org",
                ))
            }
            (false, None) => None,
            (true, accounts) => Some(OrgSetup {
                accounts: accounts
                    .map(|list| parse_accounts("--accounts", list))
                    .transpose()?,
            }),
        },
        existing,
        plan_only: a.plan,
    })
}

/// `--existing-*`, and the options they rule out: what a reused trail or
/// bucket already has is reported, never changed.
fn parse_existing(a: &cli::SetupArgs) -> Result<Existing, InvalidInput> {
    let existing = Existing {
        trail: a
            .existing_trail
            .as_deref()
            .map(|t| TrailRef::parse("--existing-trail", t))
            .transpose()?,
        bucket: a
            .existing_bucket
            .as_deref()
            .map(|b| BucketName::parse("--existing-bucket", b))
            .transpose()?,
        topic: a
            .existing_topic
            .as_deref()
            .map(|t| TopicArn::parse("--existing-topic", t))
            .transpose()?,
    };
    let refuse = |why: &str| Err(InvalidInput::new(why.to_owned()));
    let reused_bucket = existing.trail.is_some() || existing.bucket.is_some();
    if existing.trail.is_some() && existing.bucket.is_some() {
        return refuse("--existing-trail already names its bucket: leave out --existing-bucket");
    }
    if reused_bucket && a.bucket_name.is_some() {
        return refuse("--bucket-name names a bucket trailctl creates; with --existing-trail or --existing-bucket the bucket is reused: leave out --bucket-name");
    }
    if reused_bucket && a.retention_days.is_some() {
        return refuse("--retention-days sets the lifecycle of a bucket trailctl creates; a reused bucket's lifecycle is left as it is");
    }
    if reused_bucket && a.kms_key.is_some() {
        return refuse("--kms-key sets the encryption of a bucket trailctl creates; a reused bucket's encryption is left as it is (a KMS key on it is detected and the collector role may decrypt with it)");
    }
    if existing.trail.is_some() {
        for (given, flag) in [
            (a.write_only, "--write-only"),
            (a.exclude_kms_events, "--exclude-kms-events"),
            (a.cloudwatch_logs, "--cloudwatch-logs"),
        ] {
            if given {
                return Err(InvalidInput::new(format!(
                    "{flag} changes the trail, and a reused trail (--existing-trail) is left as it is"
                )));
            }
        }
    }
    Ok(existing)
}

/// The token from stdin (when asked) or the environment; empty is none.
fn read_token(from_stdin: bool) -> Result<Option<Secret>, InvalidInput> {
    let value = if from_stdin {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            InvalidInput::new(format!("--forward-token-stdin: cannot read stdin: {e}"))
        })?;
        text
    } else {
        std::env::var(FORWARD_TOKEN_VARIABLE).unwrap_or_default()
    };
    let value = value.trim_end_matches(['\r', '\n']);
    Ok((!value.is_empty()).then(|| Secret::new(value)))
}

fn parse_delivery(
    modes: &[cli::DeliveryMode],
    forward_url: Option<&str>,
    cloudwatch_logs: bool,
    token: impl FnOnce() -> Result<Option<Secret>, InvalidInput>,
) -> Result<Delivery, InvalidInput> {
    let https = modes.contains(&cli::DeliveryMode::Https);
    let forward = match (https, forward_url) {
        (true, None) => {
            return Err(InvalidInput::new(
                "--delivery https needs --forward-url https://… (the collector's endpoint)",
            ))
        }
        (false, Some(_)) => {
            return Err(InvalidInput::new(
                "--forward-url is only used with --delivery https",
            ))
        }
        (true, Some(url)) => Some(Forward {
            url: parse_forward_url(url)?,
            token: token()?,
        }),
        (false, None) => None,
    };
    if cloudwatch_logs && forward.is_none() {
        return Err(InvalidInput::new(
            "--cloudwatch-logs sends the log group to the forwarder: add --delivery https --forward-url …",
        ));
    }
    Ok(Delivery {
        sqs: modes.contains(&cli::DeliveryMode::Sqs),
        forward,
        cloudwatch_logs,
    })
}

/// An https:// URL with a host: the records and the token travel over it.
fn parse_forward_url(value: &str) -> Result<String, InvalidInput> {
    let bad = |why: &str| InvalidInput::new(format!("--forward-url `{value}`: {why}"));
    let url = url::Url::parse(value).map_err(|e| bad(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" => return Err(bad(
            "http:// is refused: the records and the token would travel unencrypted; use https://",
        )),
        other => return Err(bad(&format!("the scheme must be https, not {other}"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials in the URL would be stored in plain text; pass the token through TRAILCTL_FORWARD_TOKEN"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_resource_options() {
        use clap::Parser;
        let setup = |extra: &[&str]| {
            let mut args = vec!["trailctl", "setup", "--collector-account", "111122223333"];
            args.extend_from_slice(extra);
            from_cli(Cli::try_parse_from(args).expect("clap accepts it")).map(|s| match s.command {
                CommandSettings::Setup(setup) => setup.existing,
                _ => unreachable!(),
            })
        };
        let trail_arn = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail";
        let topic_arn = "arn:aws:sns:eu-west-1:123456789012:alerts";
        let ok: [(&[&str], Existing); 4] = [
            (&[], Existing::default()),
            (
                &["--existing-trail", "Corp_Trail.1"],
                Existing {
                    trail: Some(TrailRef::Name("Corp_Trail.1".into())),
                    ..Default::default()
                },
            ),
            (
                &["--existing-trail", trail_arn, "--existing-topic", topic_arn],
                Existing {
                    trail: Some(TrailRef::Arn(trail_arn.into())),
                    topic: Some(TopicArn::parse("t", topic_arn).unwrap()),
                    ..Default::default()
                },
            ),
            (
                &["--existing-bucket", "corp-logs", "--delivery", "sqs"],
                Existing {
                    bucket: Some(BucketName::parse("b", "corp-logs").unwrap()),
                    ..Default::default()
                },
            ),
        ];
        for (args, want) in ok {
            assert_eq!(setup(args).unwrap(), want, "{args:?}");
        }
        let refused: [(&[&str], &str); 12] = [
            (&["--existing-trail", "ab"], "3 to 128 characters"),
            (&["--existing-trail=-trail"], "begins and ends"),
            (&["--existing-trail", "my trail"], "only letters"),
            (
                &["--existing-trail", "arn:aws:s3:::bucket"],
                "not a trail ARN",
            ),
            (
                &[
                    "--existing-trail",
                    "arn:aws:cloudtrail:eu-west-1:12345:trail/t1",
                ],
                "12 digits",
            ),
            (
                &["--existing-bucket", "Corp_Logs"],
                "not a valid S3 bucket name",
            ),
            (&["--existing-topic", "corp-alerts"], "not an SNS topic ARN"),
            (
                &[
                    "--existing-topic",
                    "arn:aws:sns:eu-west-1:123456789012:q.fifo",
                ],
                "FIFO",
            ),
            (
                &["--existing-trail", "t12", "--existing-bucket", "corp-logs"],
                "already names its bucket",
            ),
            (
                &[
                    "--existing-bucket",
                    "corp-logs",
                    "--bucket-name",
                    "other-logs",
                ],
                "leave out --bucket-name",
            ),
            (
                &["--existing-bucket", "corp-logs", "--retention-days", "30"],
                "lifecycle",
            ),
            (
                &["--existing-trail", "t12", "--write-only"],
                "--write-only changes the trail",
            ),
        ];
        for (args, why) in refused {
            let error = setup(args).expect_err(why).to_string();
            assert!(error.contains(why), "{args:?}: {error}");
        }
    }

    #[test]
    fn delivery_options() {
        use cli::DeliveryMode::{Https, Sqs};
        let url = Some("https://collector.example.com/in");
        /// Modes, URL, --cloudwatch-logs; (sqs, https, cloudwatch logs) or the error.
        type Case<'a> = (
            &'a [cli::DeliveryMode],
            Option<&'a str>,
            bool,
            Result<(bool, bool, bool), &'a str>,
        );
        let cases: Vec<Case> = vec![
            (&[], None, false, Ok((false, false, false))),
            (&[Sqs], None, false, Ok((true, false, false))),
            (&[Https], url, false, Ok((false, true, false))),
            (&[Sqs, Https], url, true, Ok((true, true, true))),
            (&[Https], None, false, Err("needs --forward-url")),
            (&[Sqs], url, false, Err("only used with --delivery https")),
            (&[Sqs], None, true, Err("--cloudwatch-logs")),
            (
                &[Https],
                Some("http://collector.example.com/in"),
                false,
                Err("http:// is refused"),
            ),
            (
                &[Https],
                Some("ftp://collector.example.com/"),
                false,
                Err("must be https"),
            ),
            (
                &[Https],
                Some("https://u:p@collector.example.com/"),
                false,
                Err("credentials"),
            ),
            (&[Https], Some("not a url"), false, Err("--forward-url")),
        ];
        for (modes, url, cwl, want) in cases {
            let got = parse_delivery(modes, url, cwl, || Ok(Some(Secret::new("t"))));
            match (got, want) {
                (Ok(d), Ok((sqs, https, cwl))) => {
                    assert_eq!(
                        (d.sqs, d.forward.is_some(), d.cloudwatch_logs),
                        (sqs, https, cwl)
                    );
                }
                (Err(e), Err(message)) => {
                    assert!(e.to_string().contains(message), "{modes:?} {url:?}: {e}");
                }
                (got, want) => panic!("{modes:?} {url:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn account_lists() {
        let ids = |list: &[&str]| {
            Accounts::Only(
                list.iter()
                    .map(|id| AccountId::parse("x", id).unwrap())
                    .collect(),
            )
        };
        for (input, want) in [
            ("all", Ok(Accounts::All)),
            ("111111111111", Ok(ids(&["111111111111"]))),
            (
                "222222222222,111111111111,222222222222",
                Ok(ids(&["111111111111", "222222222222"])),
            ),
            (
                "111111111111, 222222222222",
                Ok(ids(&["111111111111", "222222222222"])),
            ),
            ("", Err("entry 1 is empty")),
            ("111111111111,,222222222222", Err("entry 2 is empty")),
            ("111111111111,", Err("entry 2 is empty")),
            ("11111111111", Err("`11111111111` is not an AWS account ID")),
            ("111111111111,abc", Err("`abc` is not an AWS account ID")),
            ("all,111111111111", Err("`all` is not an AWS account ID")),
        ] {
            match (parse_accounts("--accounts", input), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{input:?}"),
                (Err(e), Err(message)) => {
                    assert!(e.to_string().contains(message), "{input:?}: {e}")
                }
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_secret_is_never_debug_printed() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    #[test]
    fn account_ids() {
        for (input, ok) in [
            ("123456789012", true),
            ("000000000000", true),
            ("12345678901", false),
            ("1234567890123", false),
            ("12345678901a", false),
            (" 123456789012", false),
            ("", false),
        ] {
            assert_eq!(AccountId::parse("x", input).is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn bucket_names() {
        for (input, ok) in [
            ("trailctl-default-123456789012-us-east-1", true),
            ("my.logs.bucket", true),
            ("abc", true),
            ("ab", false),
            (&"a".repeat(64), false),
            ("My-Bucket", false),
            ("-bucket", false),
            ("bucket-", false),
            ("my..bucket", false),
            ("my.-bucket", false),
            ("192.168.5.4", false),
            ("xn--bucket", false),
            ("bucket-s3alias", false),
            ("under_score", false),
        ] {
            assert_eq!(BucketName::parse("x", input).is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn integration_names() {
        for (input, ok) in [
            ("default", true),
            ("siem-prod2", true),
            ("a", true),
            (&"a".repeat(MAX_NAME_LEN), true),
            (&"a".repeat(MAX_NAME_LEN + 1), false),
            ("", false),
            ("Prod", false),
            ("2prod", false),
            ("prod-", false),
            ("a--b", false),
            ("a_b", false),
        ] {
            assert_eq!(IntegrationName::parse(input).is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn regions_and_partitions() {
        for (input, partition) in [
            ("us-east-1", Some("aws")),
            ("eu-central-2", Some("aws")),
            ("ap-southeast-5", Some("aws")),
            ("cn-northwest-1", Some("aws-cn")),
            ("us-gov-west-1", Some("aws-us-gov")),
            ("us-iso-east-1", Some("aws-iso")),
            ("us-east", None),
            ("moon-1", None),
            ("us-east-01", None),
            ("US-EAST-1", None),
            ("us-middle-1", None),
            ("us-foo-east-1", None),
            ("", None),
        ] {
            let parsed = Region::parse(input);
            assert_eq!(
                parsed.as_ref().ok().map(Region::partition),
                partition,
                "{input:?}"
            );
        }
    }

    #[test]
    fn retention_days() {
        for (input, expected) in [
            ("365", Some(365)),
            ("1", Some(1)),
            ("36500", Some(36_500)),
            ("0", None),
            ("-5", None),
            ("36501", None),
            ("1.5", None),
            ("a year", None),
        ] {
            assert_eq!(parse_retention_days(input).ok(), expected, "{input:?}");
        }
    }

    #[test]
    fn kms_keys_and_endpoints_and_external_ids() {
        assert!(parse_kms_key("arn:aws:kms:us-east-1:123456789012:key/1234abcd").is_ok());
        assert!(parse_kms_key("alias/mine").is_err());
        assert!(parse_kms_key("arn:aws:kms:us-east-1:12345:key/1234").is_err());
        assert!(parse_endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(parse_endpoint_url("ftp://127.0.0.1").is_err());
        assert!(parse_endpoint_url("not a url").is_err());
        assert!(parse_external_id("a1b2c3").is_ok());
        assert!(parse_external_id("x").is_err());
        assert!(parse_external_id("has space").is_err());
    }
}
