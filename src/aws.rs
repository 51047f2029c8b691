//! The AWS connection: one `SdkConfig` built from the standard chain
//! (profile, region, endpoint, `AWS_*` variables, SSO, container credentials)
//! and one client per service, shared by every step of a run.
//!
//! Every client carries the [`CallLog`] interceptor: it counts API calls
//! (`-v` prints each one, which is how tests count mutating calls) and, in
//! debug builds only, hosts the test fault hook described on [`FaultHook`].

use std::fmt;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeSerializationInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
pub use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::exit::InvalidInput;
use crate::settings::{Global, Region};

/// The service clients of one run, built once.
#[derive(Clone, Debug)]
pub struct Clients {
    pub sts: aws_sdk_sts::Client,
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub iam: aws_sdk_iam::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub organizations: aws_sdk_organizations::Client,
    pub calls: CallLog,
    pub region: Region,
    /// What the clients were built from, to build the delivery clients of
    /// another region.
    sdk: aws_config::SdkConfig,
    path_style: bool,
}

/// The one HTTPS client every service client (and the credential
/// providers) share: hyper with rustls on ring, the system's root
/// certificates.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// One service's client from the shared configuration, with the call log.
macro_rules! client {
    ($service:ident, $sdk:expr, $calls:expr) => {
        $service::Client::from_conf(
            $service::config::Builder::from($sdk)
                .interceptor($calls.clone())
                .build(),
        )
    };
}

/// Load the AWS configuration and build the clients. Makes no API call.
pub async fn connect(global: &Global) -> anyhow::Result<Clients> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(5));
    if let Some(profile) = &global.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &global.region {
        loader = loader.region(aws_config::Region::new(region.as_str().to_owned()));
    }
    if let Some(url) = &global.endpoint_url {
        loader = loader.endpoint_url(url.as_str().trim_end_matches('/'));
    }
    let sdk = loader.load().await;
    let region =
        match sdk.region() {
            Some(r) => Region::parse(r.as_ref())?,
            None => return Err(InvalidInput::new(
                "no AWS region: pass --region or set AWS_REGION (the integration's home region)",
            )
            .into()),
        };
    let calls = CallLog::new(global.verbose);
    // S3 virtual-hosted addressing needs DNS names under the endpoint; an
    // emulator on an IP address or localhost only answers path-style.
    let path_style = global.endpoint_url.as_ref().is_some_and(|u| {
        matches!(u.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)))
            || u.host_str() == Some("localhost")
    });
    Ok(Clients {
        sts: client!(aws_sdk_sts, &sdk, calls),
        s3: s3_client(&sdk, &calls, path_style),
        sns: client!(aws_sdk_sns, &sdk, calls),
        iam: client!(aws_sdk_iam, &sdk, calls),
        cloudtrail: client!(aws_sdk_cloudtrail, &sdk, calls),
        sqs: client!(aws_sdk_sqs, &sdk, calls),
        lambda: client!(aws_sdk_lambda, &sdk, calls),
        logs: client!(aws_sdk_cloudwatchlogs, &sdk, calls),
        ssm: client!(aws_sdk_ssm, &sdk, calls),
        organizations: client!(aws_sdk_organizations, &sdk, calls),
        calls,
        region,
        sdk,
        path_style,
    })
}

fn s3_client(sdk: &aws_config::SdkConfig, calls: &CallLog, path_style: bool) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .interceptor(calls.clone())
            .force_path_style(path_style)
            .build(),
    )
}

impl Clients {
    /// These clients with S3, SNS and SQS in `region`: a reused bucket's
    /// region, where its topic and queue must be. Makes no API call.
    pub fn with_delivery_region(&self, region: &str) -> Clients {
        let sdk = self
            .sdk
            .to_builder()
            .region(aws_config::Region::new(region.to_owned()))
            .build();
        Clients {
            s3: s3_client(&sdk, &self.calls, self.path_style),
            sns: client!(aws_sdk_sns, &sdk, self.calls),
            sqs: client!(aws_sdk_sqs, &sdk, self.calls),
            ..self.clone()
        }
    }
}

/// Who is calling: the account and partition every ARN is built from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: String,
    pub arn: String,
    pub partition: String,
}

pub async fn caller(clients: &Clients) -> anyhow::Result<Caller> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error("sts:GetCallerIdentity (are credentials configured?)", e))?;
    let arn = out.arn().unwrap_or_default().to_owned();
    let partition = arn.split(':').nth(1).unwrap_or("aws").to_owned();
    Ok(Caller {
        account: out
            .account()
            .context("GetCallerIdentity returned no account")?
            .to_owned(),
        arn,
        partition,
    })
}

/// The error code of an AWS error (`NoSuchEntity`, `NotFound`, ...): errors
/// are matched on their code, never on message text.
pub fn error_code<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    error.code()
}

/// The HTTP status of an AWS error response, for the few S3 calls (HEAD)
/// whose errors carry no code.
pub fn http_status<E>(error: &SdkError<E, aws_smithy_runtime_api::http::Response>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// A failed AWS call: what was being done, and the service's error code
/// (kept so callers can match on it after the error became `anyhow`).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct AwsError {
    pub what: String,
    pub code: Option<String>,
    pub message: Option<String>,
    detail: String,
}

/// An AWS error turned into a readable one: what was being done, then the
/// service's code and message.
pub fn aws_error<E, R>(what: impl fmt::Display, error: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    let detail = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(&error).to_string(),
    };
    AwsError {
        what: what.to_string(),
        code: error.code().map(str::to_owned),
        message: error.message().map(str::to_owned),
        detail,
    }
    .into()
}

/// Backoff before each retry of [`retry_on`]: bounded, about 6 s in all.
const RETRY_DELAYS_MS: [u64; 5] = [200, 400, 800, 1600, 3200];

/// Run `call`, retrying while it fails with one of `codes`: errors AWS
/// returns for a condition that clears by itself, which the SDK's own retry
/// does not cover (S3's `OperationAborted` on concurrent bucket updates, a
/// just-created bucket not visible yet).
pub async fn retry_on<T, F, Fut>(codes: &[&str], call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    retry_while(
        &RETRY_DELAYS_MS,
        |e| e.code.as_deref().is_some_and(|code| codes.contains(&code)),
        call,
    )
    .await
}

/// Run `call`, waiting `delays_ms` before each retry while its error is one
/// `transient` accepts; any other error, or the last one, is returned.
pub async fn retry_while<T, F, Fut>(
    delays_ms: &[u64],
    transient: impl Fn(&AwsError) -> bool,
    mut call: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    for delay in delays_ms {
        match call().await {
            Err(e) if e.downcast_ref::<AwsError>().is_some_and(&transient) => {
                tokio::time::sleep(std::time::Duration::from_millis(*delay)).await;
            }
            other => return other,
        }
    }
    call().await
}

/// Extension to attach [`aws_error`] context to an SDK result.
pub trait AwsResultExt<T> {
    fn aws(self, what: impl fmt::Display) -> anyhow::Result<T>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    fn aws(self, what: impl fmt::Display) -> anyhow::Result<T> {
        self.map_err(|e| aws_error(what, e))
    }
}

/// One API call as seen by the interceptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    pub operation: String,
}

impl Call {
    /// Reads are the calls that cannot change anything.
    pub fn is_mutating(&self) -> bool {
        !["Get", "List", "Head", "Describe", "Lookup", "Simulate"]
            .iter()
            .any(|p| self.operation.starts_with(p))
    }
}

/// Records every API call made through the clients.
#[derive(Debug, Clone)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<Call>>>,
    verbose: bool,
    fault: FaultHook,
}

impl CallLog {
    fn new(verbose: bool) -> Self {
        Self {
            calls: Arc::default(),
            verbose,
            fault: FaultHook::from_env(),
        }
    }

    pub fn snapshot(&self) -> Vec<Call> {
        self.calls.lock().expect("call log poisoned").clone()
    }
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "trailctl::CallLog"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_else(|| ("?".into(), "?".into()));
        if self.verbose {
            anstream::eprintln!("aws: {service} {operation}");
        }
        self.fault.check(&operation)?;
        self.calls
            .lock()
            .expect("call log poisoned")
            .push(Call { service, operation });
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some((status, content_type, body)) = cfg
            .load::<Metadata>()
            .and_then(|m| self.fault.error_for(m.service(), m.name()))
        else {
            return Ok(());
        };
        let mut response = aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(status)?,
            aws_smithy_types::body::SdkBody::from(body),
        );
        response.headers_mut().insert("content-type", content_type);
        *context.response_mut() = response;
        Ok(())
    }
}

/// Test-only fault injection at the client boundary, compiled into debug
/// builds only (release binaries ignore these variables).
///
/// - `TRAILCTL_TEST_FAIL_OPERATION=PutBucketVersioning` makes the first
///   call of that API operation fail before it is sent, as a denied or
///   throttled call would (later calls, such as a rollback's, go through).
/// - `TRAILCTL_TEST_ERROR=PutBucketVersioning:OperationAborted:2` lets the
///   first 2 calls of that operation reach the server, then replaces each
///   answer with an error of that code in the service's own wire format:
///   errors AWS returns and the emulator never does.
/// - `TRAILCTL_TEST_CRASH_OPERATION=PutBucketTagging` ends the process
///   (exit 137, as if killed) just before that operation is sent, to test
///   that an interrupted run converges when re-run.
#[derive(Debug, Clone, Default)]
struct FaultHook {
    fail: Option<String>,
    crash: Option<String>,
    fired: Arc<std::sync::atomic::AtomicBool>,
    /// Operation, error code, how many answers to replace.
    error: Option<(String, String, usize)>,
    errors_sent: Arc<std::sync::atomic::AtomicUsize>,
}

impl FaultHook {
    fn from_env() -> Self {
        if cfg!(debug_assertions) {
            Self {
                fail: std::env::var("TRAILCTL_TEST_FAIL_OPERATION").ok(),
                crash: std::env::var("TRAILCTL_TEST_CRASH_OPERATION").ok(),
                fired: Arc::default(),
                error: std::env::var("TRAILCTL_TEST_ERROR").ok().and_then(|v| {
                    let mut parts = v.splitn(3, ':');
                    Some((
                        parts.next()?.to_owned(),
                        parts.next()?.to_owned(),
                        parts.next()?.parse().ok()?,
                    ))
                }),
                errors_sent: Arc::default(),
            }
        } else {
            Self::default()
        }
    }

    fn check(&self, operation: &str) -> Result<(), BoxError> {
        if self.crash.as_deref() == Some(operation) {
            anstream::eprintln!("test hook: crashing before {operation}");
            std::process::exit(137);
        }
        if self.fail.as_deref() == Some(operation)
            && !self.fired.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(format!("injected fault (test hook) in {operation}").into());
        }
        Ok(())
    }

    /// The error response to answer `operation` with instead of the real
    /// one: status, content type and body in the service's protocol.
    fn error_for(&self, service: &str, operation: &str) -> Option<(u16, &'static str, String)> {
        let (target, code, times) = self.error.as_ref()?;
        if target != operation
            || self
                .errors_sent
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                >= *times
        {
            return None;
        }
        let message = "injected by the test hook";
        Some(match service {
            // REST-XML.
            "S3" => (
                409,
                "application/xml",
                format!("<Error><Code>{code}</Code><Message>{message}</Message></Error>"),
            ),
            // REST-JSON. Lambda's answer while IAM has not propagated a new
            // role is this code with this message.
            "Lambda" => (
                400,
                "application/json",
                format!(
                    r#"{{"__type":"{code}","message":"The role defined for the function cannot be assumed by Lambda. ({message})"}}"#
                ),
            ),
            // JSON 1.1.
            "CloudTrail" => (
                400,
                "application/x-amz-json-1.1",
                format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
            ),
            // Query (IAM, SNS, STS).
            _ => (
                400,
                "text/xml",
                format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>test</RequestId></ErrorResponse>"
                ),
            ),
        })
    }
}
