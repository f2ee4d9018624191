//! The HTTP client and its settings, shared by every sync of a process.

use crate::api::{call, transport, Failure};
use crate::backoff::{BatchSizer, RetryPolicy};
use crate::error::SyncError;
use outpost_protocol::limits::{DEFAULT_PULL_LIMIT, MAX_EVENTS_PER_PUSH};
use outpost_protocol::{EnrollRequest, EnrollResponse, Ping, PullResponse, PushResponse};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the client behaves on the wire. The defaults suit a 2G or VSAT link
/// (64 kbit/s, 600 ms round trip, losses); tests shorten the waits.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Time to open a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time for a small request and its answer; a push adds the time its
    /// body needs at `slowest_link_bytes_per_second`.
    pub request_timeout: Duration,
    pub slowest_link_bytes_per_second: u64,
    /// A download that receives nothing for this long is cut (and resumed).
    pub download_idle_timeout: Duration,
    /// The reachability probe (`GET /api/v1/ping`): short, one try.
    pub probe_timeout: Duration,
    pub retry: RetryPolicy,
    /// Events in the first push, the fewest and the most per push.
    pub initial_batch: usize,
    pub min_batch: usize,
    pub max_batch: usize,
    /// A batch answered slower than this stops the batch size growing.
    pub batch_target: Duration,
    /// Events per pull page.
    pub pull_limit: u32,
    /// Largest course package this client downloads.
    pub max_package_bytes: u64,
    /// Events the hub rejected are offered again after this long (the
    /// reason may have passed: a course version published later, a clock
    /// that was ahead). `None`: never.
    pub retry_rejected_after: Option<Duration>,
    /// Keep connections open between requests (saves a round trip per
    /// request on a slow link). Tests turn it off so that every request
    /// opens a connection and meets the next fault of a schedule.
    pub reuse_connections: bool,
    /// Shown to the hub at enrolment.
    pub device_name: String,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            slowest_link_bytes_per_second: 1_000,
            download_idle_timeout: Duration::from_secs(60),
            probe_timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            initial_batch: 50,
            min_batch: 1,
            max_batch: MAX_EVENTS_PER_PUSH,
            batch_target: Duration::from_secs(20),
            pull_limit: DEFAULT_PULL_LIMIT,
            max_package_bytes: 2 * 1024 * 1024 * 1024,
            retry_rejected_after: Some(Duration::from_secs(24 * 3600)),
            reuse_connections: true,
            device_name: default_device_name(),
        }
    }
}

/// The machine's host name, or a plain name when it cannot be read.
pub fn default_device_name() -> String {
    let from_file = std::fs::read_to_string("/etc/hostname").ok();
    let name = std::env::var("COMPUTERNAME")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or(from_file)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.chars().count() <= 200 && !s.chars().any(char::is_control));
    name.unwrap_or_else(|| "Outpost laptop".to_string())
}

/// One HTTP client (connection pool) and the batch size learned from the
/// link so far. Create one per process and keep it: the batch size it has
/// learned carries over from one sync to the next.
pub struct SyncClient {
    http: reqwest::Client,
    pub(crate) config: SyncConfig,
    batch: Mutex<BatchSizer>,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("config", &self.config)
            .field("batch", &self.batch_size())
            .finish()
    }
}

impl SyncClient {
    pub fn new(config: SyncConfig) -> Result<SyncClient, SyncError> {
        let mut builder = reqwest::Client::builder();
        if !config.reuse_connections {
            builder = builder.pool_max_idle_per_host(0);
        }
        let http = builder
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .user_agent(concat!("outpost-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SyncError::Store(format!("cannot set up HTTP: {e}")))?;
        let batch = BatchSizer::new(
            config.initial_batch,
            config.min_batch,
            config.max_batch.min(MAX_EVENTS_PER_PUSH),
            config.batch_target,
        );
        Ok(SyncClient {
            http,
            config,
            batch: Mutex::new(batch),
        })
    }

    pub fn config(&self) -> &SyncConfig {
        &self.config
    }

    /// Events the next push will carry at most.
    pub fn batch_size(&self) -> usize {
        self.batch.lock().map(|b| b.size()).unwrap_or(1)
    }

    pub(crate) fn batch_succeeded(&self, sent: usize, took: Duration) {
        if let Ok(mut b) = self.batch.lock() {
            b.succeeded(sent, took);
        }
    }

    pub(crate) fn batch_failed(&self) {
        if let Ok(mut b) = self.batch.lock() {
            b.failed();
        }
    }

    /// The cheap reachability check: the hub's clock, and the round trip.
    pub async fn ping(&self, hub: &str) -> Result<(Ping, Duration), SyncError> {
        let started = Instant::now();
        let req = self
            .http
            .get(format!("{hub}/api/v1/ping"))
            .timeout(self.config.probe_timeout);
        let ping: Ping = call(hub, req, &mut 0).await.map_err(|f| f.error)?;
        Ok((ping, started.elapsed()))
    }

    pub(crate) async fn enroll(
        &self,
        hub: &str,
        req: &EnrollRequest,
    ) -> Result<EnrollResponse, Failure> {
        let req = self
            .http
            .post(format!("{hub}/api/v1/enroll"))
            .timeout(self.config.request_timeout)
            .json(req);
        call(hub, req, &mut 0).await
    }

    /// Time for a request that moves `bytes` over the slowest link, on top
    /// of the time for a small one.
    fn timeout_for(&self, bytes: f64) -> Duration {
        self.config.request_timeout
            + Duration::from_secs_f64(
                bytes / self.config.slowest_link_bytes_per_second.max(1) as f64,
            )
    }

    /// One push of a gzip-compressed body.
    pub(crate) async fn push(
        &self,
        hub: &str,
        token: &str,
        gzipped: Vec<u8>,
        received: &mut u64,
    ) -> Result<PushResponse, Failure> {
        let timeout = self.timeout_for(gzipped.len() as f64);
        let req = self
            .http
            .post(format!("{hub}/api/v1/sync/push"))
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .timeout(timeout)
            .body(gzipped);
        call(hub, req, received).await
    }

    pub(crate) async fn pull(
        &self,
        hub: &str,
        token: &str,
        cursor: &str,
        received: &mut u64,
    ) -> Result<PullResponse, Failure> {
        let limit = self.config.pull_limit.to_string();
        // A full page of events at the slowest link speed.
        let timeout = self.timeout_for(f64::from(self.config.pull_limit) * 400.0);
        let req = self
            .http
            .get(format!("{hub}/api/v1/sync/pull"))
            .query(&[("cursor", cursor), ("limit", limit.as_str())])
            .bearer_auth(token)
            .timeout(timeout);
        call(hub, req, received).await
    }

    /// Start a package download at byte `from` (0: the whole file).
    pub(crate) async fn package(
        &self,
        hub: &str,
        token: &str,
        path: &str,
        from: u64,
        etag: &str,
    ) -> Result<reqwest::Response, Failure> {
        let mut req = self
            .http
            .get(format!("{hub}{path}"))
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT_ENCODING, "identity");
        if from > 0 {
            req = req
                .header(reqwest::header::RANGE, format!("bytes={from}-"))
                .header(reqwest::header::IF_RANGE, etag);
        }
        // No overall timeout: a large package over a slow link takes long.
        // The caller cuts a download that stalls.
        let res = tokio::time::timeout(self.config.request_timeout, req.send())
            .await
            .map_err(|_| SyncError::Unreachable {
                hub: hub.to_string(),
                detail: "no answer in time (the link may be very slow or down)".into(),
            })?
            .map_err(|e| transport(hub, &e))?;
        Ok(res)
    }
}
