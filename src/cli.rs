//! Command-line surface: clap types and their help text, nothing else.
//!
//! Values here are raw strings as typed; `settings` turns them into validated
//! values before anything talks to AWS.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Connect an AWS account to a log collector so it receives its CloudTrail logs.
///
/// Every mutating command reads the account, prints a plan, checks it and only
/// then applies it; a failed run undoes what it created.
/// `0.1.0 (commit abc123def456)`, the commit recorded by `build.rs`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TRAILCTL_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(name = "trailctl", version = VERSION, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Named profile from the AWS config files (as `aws --profile`).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Home region of the integration; defaults to the region of the AWS
    /// configuration chain (`AWS_REGION`, the profile).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Send every AWS request to this endpoint instead of AWS (an emulator,
    /// a VPC endpoint).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Name of the integration; resources are named `trailctl-<name>`
    /// [default: default].
    #[arg(long, global = true, value_name = "NAME")]
    pub name: Option<String>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Apply without asking for confirmation.
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,

    /// Do not check the caller's permissions before changing anything. At
    /// your own risk: a missing permission then fails half way (and the run
    /// rolls back what it created).
    #[arg(long, global = true)]
    pub skip_preflight: bool,

    /// Show each AWS API call on stderr.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the integration: trail, log bucket, notification, topic
    /// and collector role.
    Setup(SetupArgs),
    /// Remove what the integration owns; the log bucket is kept unless
    /// `--delete-logs`.
    Delete(DeleteArgs),
    /// Show whether the integration is active, paused, disconnected or
    /// deleted, with every check behind the verdict. Changes nothing; the
    /// exit code tells the verdict (0, 10, 11, 12).
    Status(StatusArgs),
    /// Stop delivery to the collector while the trail keeps recording into
    /// the bucket.
    Pause(PauseArgs),
    /// Restore delivery as setup left it and replay the log files written
    /// during the pause.
    Resume(ResumeArgs),
    /// An organization integration's accounts: list them, or choose which
    /// are collected (12-digit IDs, comma-separated).
    Accounts(AccountsArgs),
    /// Print the IAM policy whoever runs trailctl needs: every action it can
    /// call, scoped to trailctl's resources (concrete with --name,
    /// --bucket-name, --account-id, --region). Makes no AWS call.
    Policy(PolicyArgs),
    /// Check the caller's permissions against the whole bundled policy,
    /// without changing anything.
    Check(CheckArgs),
    /// Print a shell completion script (e.g. `trailctl completions bash >
    /// ~/.local/share/bash-completion/completions/trailctl`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff); `scripts/dist` ships it as trailctl.1.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The log bucket, when not the default name.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,

    /// The account the policy is for [default: any account].
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The log bucket, when not the default name.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// AWS account ID (12 digits) of the collector that reads the logs; only
    /// this account may assume the collector role.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub collector_account: String,

    /// External ID the collector must present when assuming the role;
    /// generated (and then kept across runs) when not given.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// Days log files are kept in the bucket before they expire
    /// [default: 365].
    #[arg(long, value_name = "DAYS")]
    pub retention_days: Option<String>,

    /// Encrypt the bucket with this KMS key (ARN) instead of SSE-S3.
    #[arg(long, value_name = "KEY_ARN")]
    pub kms_key: Option<String>,

    /// Name of the log bucket [default: trailctl-<name>-<account>-<region>].
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,

    /// Record only write management events (read events are not logged).
    #[arg(long)]
    pub write_only: bool,

    /// Do not record management events from KMS (noisy and costly); this
    /// breaks the CIS and Security Hub multi-region trail controls.
    #[arg(long)]
    pub exclude_kms_events: bool,

    /// How new log files reach the collector besides the topic: `sqs`, a
    /// queue it polls; `https`, a Lambda forwarder that POSTs the records to
    /// --forward-url. Comma-separate or repeat for both.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "MODE")]
    pub delivery: Vec<DeliveryMode>,

    /// The collector's https:// endpoint the forwarder POSTs records to. Its
    /// token is read from TRAILCTL_FORWARD_TOKEN (or stdin), never argv.
    #[arg(long, value_name = "URL")]
    pub forward_url: Option<String>,

    /// Read the endpoint's token from stdin instead of TRAILCTL_FORWARD_TOKEN
    /// (then pass --yes: stdin cannot also answer the confirmation).
    #[arg(long)]
    pub forward_token_stdin: bool,

    /// Also deliver the trail to a CloudWatch Logs group whose subscription
    /// filter sends every event to the forwarder (needs --delivery https).
    #[arg(long)]
    pub cloudwatch_logs: bool,

    /// An organization trail for every account of the organization (run
    /// from the management account or a CloudTrail delegated administrator).
    #[arg(long)]
    pub org: bool,

    /// With --org: collect only these accounts (12-digit IDs,
    /// comma-separated), or `all` [default: the selection in place; all on
    /// a first setup].
    #[arg(long, value_name = "IDS|all")]
    pub accounts: Option<String>,

    /// Reuse this trail (name or ARN) instead of creating one: its bucket
    /// and key prefix are used and its settings are left as they are.
    #[arg(long, value_name = "NAME|ARN")]
    pub existing_trail: Option<String>,

    /// Reuse this bucket for a new trail: trailctl only adds its own policy
    /// statements and notification entries, and never deletes it.
    #[arg(long, value_name = "BUCKET")]
    pub existing_bucket: Option<String>,

    /// Reuse this SNS topic (ARN, in the bucket's region): trailctl only
    /// adds its subscriptions and, where needed, a policy statement.
    #[arg(long, value_name = "TOPIC_ARN")]
    pub existing_topic: Option<String>,

    /// Print the plan and stop without changing anything.
    #[arg(long)]
    pub plan: bool,
}

#[derive(Debug, Args)]
pub struct AccountsArgs {
    #[command(subcommand)]
    pub command: AccountsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Every account of the organization, marked collected or not, and
    /// selected IDs that are no longer in it.
    List(AccountsListArgs),
    /// Collect these accounts too.
    Add(AccountsChangeArgs),
    /// Stop collecting these accounts.
    Remove(AccountsChangeArgs),
    /// Collect exactly these accounts (`all`: every account, including
    /// those that join later).
    Set(AccountsChangeArgs),
}

#[derive(Debug, Args)]
pub struct AccountsListArgs {
    /// Name of the log bucket when it was not the default.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct AccountsChangeArgs {
    /// 12-digit account IDs, comma-separated.
    #[arg(value_name = "IDS")]
    pub ids: String,

    /// Name of the log bucket when it was not the default.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,

    /// Print the plan and stop without changing anything.
    #[arg(long)]
    pub plan: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeliveryMode {
    Https,
    Sqs,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Also delete the log bucket and every log file in it (all versions).
    #[arg(long)]
    pub delete_logs: bool,

    /// Name of the log bucket when it was not the default and the trail is
    /// already gone.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,

    /// Print the plan and stop without changing anything.
    #[arg(long)]
    pub plan: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Name of the log bucket when it was not the default and the trail is
    /// gone.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// Also stop logging on the trail (only one trailctl owns): the audit
    /// history then has a gap.
    #[arg(long)]
    pub stop_logging: bool,

    /// Name of the log bucket when it was not the default.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,

    /// Print the plan and stop without changing anything.
    #[arg(long)]
    pub plan: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Do not replay the log files written during the pause.
    #[arg(long)]
    pub no_replay: bool,

    /// Replay the log files written since this time (RFC 3339, e.g.
    /// 2026-11-24T10:00:00Z) instead of since the pause.
    #[arg(long, value_name = "TIME", conflicts_with = "no_replay")]
    pub replay_since: Option<String>,

    /// Replay at most this many files (the oldest first).
    #[arg(long, default_value = "10000", value_name = "N")]
    pub replay_limit: String,

    /// Name of the log bucket when it was not the default.
    #[arg(long, value_name = "BUCKET")]
    pub bucket_name: Option<String>,

    /// Print the plan and stop without changing anything.
    #[arg(long)]
    pub plan: bool,
}
