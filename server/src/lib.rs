//! `outpost-hub`: the central server that completions flow to.
//!
//! - [`hub::Hub`]: the logic (enrolment, ingest, pull, publishing, admin),
//!   written once over [`db::Database`], which SQLite and PostgreSQL
//!   implement.
//! - [`app`]: the HTTP interface (sync API, xAPI, dashboard) as an axum
//!   `Router`; [`serve`] runs it with graceful shutdown and optional TLS.
//!
//! Instances keep no state of their own beyond caches of immutable data
//! (published course structures) and rate-limit buckets, so several can
//! serve one PostgreSQL database.

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod hub;
pub mod ratelimit;
pub mod xapi;

use axum::routing::get;
use axum::Router;
use db::Database;
use error::HubResult;
use hub::Hub;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use hub::Config;

pub const HEALTHZ: &str = "/healthz";

/// Every JSON endpoint as (method, path): the list `docs/openapi.json`
/// must describe (checked by `tests/openapi.rs`).
pub const JSON_ROUTES: &[(&str, &str)] = &[
    ("get", HEALTHZ),
    ("get", api::PING),
    ("post", api::ENROLL),
    ("post", api::PUSH),
    ("get", api::PULL),
    ("get", api::PACKAGE),
    ("get", xapi::ABOUT),
    ("get", xapi::STATEMENTS),
    ("post", xapi::STATEMENTS),
    ("put", xapi::STATEMENTS),
];

/// The whole HTTP interface of one hub instance.
pub fn app(hub: Arc<Hub>) -> Router {
    let limiter = ratelimit::Limiter::new(hub.config.rate_per_second, hub.config.rate_burst);
    // A backstop for every route, refusing absurd bodies by their
    // Content-Length before anything is read; each handler reads its body
    // with its own, smaller limit and answers with a JSON reason.
    let body_max = 4 * hub
        .config
        .push_compressed_max
        .max(xapi::MAX_STATEMENTS_BODY_BYTES);
    Router::new()
        .route(HEALTHZ, get(healthz))
        .merge(api::router())
        .merge(xapi::router())
        .layer(axum::extract::DefaultBodyLimit::max(body_max))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_max))
        // The dashboard takes uploads (packages, progress files) and sets
        // its own, larger limits.
        .merge(dashboard::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            ratelimit::middleware,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(hub)
}

async fn healthz(
    axum::extract::State(hub): axum::extract::State<Arc<Hub>>,
) -> HubResult<&'static str> {
    hub.healthy().await?;
    Ok("ok\n")
}

async fn not_found(uri: axum::http::Uri) -> error::HubError {
    error::HubError::NotFound(format!("no such resource: {}", uri.path()))
}

/// Where the data lives: PostgreSQL when `database` is a `postgres://` URL,
/// else `hub.sqlite3` in `data_dir`.
#[derive(Debug, Clone)]
pub enum Storage {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Storage {
    pub fn choose(data_dir: &Path, database: Option<&str>) -> Result<Storage, String> {
        match database {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Storage::Postgres(url.to_string()))
            }
            Some(other) => Err(format!(
                "--database must be a postgres:// URL (got {other:?}); without it the hub uses SQLite in --data-dir"
            )),
            None => Ok(Storage::Sqlite(data_dir.join("hub.sqlite3"))),
        }
    }

    /// Open and migrate the database.
    pub async fn open(&self) -> Result<Arc<dyn Database>, db::DbError> {
        Ok(match self {
            Storage::Sqlite(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        db::DbError::Open(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                db::sqlite::Sqlite::open(path).await?
            }
            Storage::Postgres(url) => db::postgres::Postgres::open(url, 16).await?,
        })
    }
}

/// TLS certificate chain and private key, PEM files.
#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Serve `app` on `listener` until `shutdown` resolves, then finish the
/// requests in flight and return.
pub async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        None => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(tls) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| {
                    std::io::Error::other(format!(
                        "TLS certificate {} / key {}: {e}",
                        tls.cert.display(),
                        tls.key.display()
                    ))
                })?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
            });
            axum_server::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(service)
                .await
        }
    }
}

/// A hub serving on a port of 127.0.0.1 in this process, for tests and
/// benchmarks; stopped (gracefully) when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub hub: Arc<Hub>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Start a hub on 127.0.0.1 on a free port.
pub async fn spawn(hub: Arc<Hub>) -> std::io::Result<Running> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = app(hub.clone());
    let task = tokio::spawn(serve(listener, app, None, async {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        hub,
        stop: Some(tx),
        task: Some(task),
    })
}
