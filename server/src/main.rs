//! The `outpost-hub` binary: `serve` and the `admin` commands. It parses
//! arguments, calls the library and turns errors into messages and exit
//! codes.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use outpost_hub::hub::{Config, Hub};
use outpost_hub::{Storage, Tls};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "outpost-hub",
    version,
    about = "The Outpost hub: sync, xAPI and administration"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Place {
    /// Folder of the embedded SQLite database (used without --database).
    #[arg(
        long,
        global = true,
        env = "OUTPOST_HUB_DATA_DIR",
        default_value = "outpost-hub-data"
    )]
    data_dir: PathBuf,
    /// PostgreSQL instead of SQLite: postgres://user:password@host:port/database
    #[arg(long, global = true, env = "OUTPOST_HUB_DATABASE")]
    database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the sync API, xAPI and the dashboard.
    Serve {
        #[command(flatten)]
        place: Place,
        /// Address to listen on. Loopback by default: put a reverse proxy
        /// or --tls-cert/--tls-key in front before opening it to a network.
        #[arg(long, default_value = "127.0.0.1:8470")]
        listen: String,
        /// The address clients reach this hub at (xAPI account home page).
        /// Defaults to http(s)://LISTEN. Give every instance the same one.
        #[arg(long, env = "OUTPOST_HUB_PUBLIC_URL")]
        public_url: Option<String>,
        /// TLS certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM); needs --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Requests per second allowed per device token, credential or address.
        #[arg(long, default_value_t = 20.0)]
        rate_limit: f64,
        /// Log as JSON lines instead of text.
        #[arg(long)]
        log_json: bool,
    },
    /// Administration: accounts, cohorts, codes, courses, devices.
    Admin {
        #[command(flatten)]
        place: Place,
        #[command(subcommand)]
        command: Admin,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Create a dashboard account. The password is read from OUTPOST_PASSWORD
    /// or asked for.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["admin", "trainer"])]
        role: String,
    },
    /// Create a cohort of learners.
    CreateCohort {
        name: String,
        /// The trainer (a user) who follows this cohort.
        #[arg(long)]
        trainer: Option<String>,
    },
    /// Create an enrolment code for a cohort and print it.
    CreateCode {
        #[arg(long)]
        cohort: String,
        /// How many learners may enrol with it.
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Last day it works (YYYY-MM-DD, UTC) or an RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Assign a course to a cohort.
    Assign {
        #[arg(long)]
        cohort: String,
        #[arg(long)]
        course: String,
        /// Due date, YYYY-MM-DD.
        #[arg(long)]
        due: Option<String>,
    },
    /// Verify a course package against the publisher's key and publish it.
    /// Older versions stay available.
    Publish {
        package: PathBuf,
        /// The publisher's public key file (from `outpost-course keygen`).
        #[arg(long)]
        pubkey: PathBuf,
    },
    /// Revoke a device: its tokens and progress files are refused from now on.
    RevokeDevice { device_id: uuid::Uuid },
    /// Create HTTP Basic credentials for /xapi and print them.
    CreateXapiCredential { name: String },
    /// Import a progress file carried from a device; write the signed receipt.
    ImportProgress {
        file: PathBuf,
        /// Where to write the receipt to carry back to the device.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("outpost-hub: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("outpost-hub: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn open_hub(place: &Place, config: Config) -> Result<Arc<Hub>> {
    let storage =
        Storage::choose(&place.data_dir, place.database.as_deref()).map_err(anyhow::Error::msg)?;
    let db = storage.open().await.context("opening the database")?;
    Ok(Arc::new(Hub::new(db, config).await?))
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            place,
            listen,
            public_url,
            tls_cert,
            tls_key,
            rate_limit,
            log_json,
        } => {
            init_logs(log_json);
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(Tls { cert, key }),
                _ => None,
            };
            let scheme = if tls.is_some() { "https" } else { "http" };
            let public_url = public_url.unwrap_or_else(|| format!("{scheme}://{listen}"));
            let listener = std::net::TcpListener::bind(&listen)
                .with_context(|| format!("cannot listen on {listen}"))?;
            let mut config = Config::new(&public_url);
            config.rate_per_second = rate_limit;
            config.rate_burst = (rate_limit * 3.0).max(10.0);
            let hub = open_hub(&place, config).await?;
            tracing::info!(
                listen = %listen,
                public_url = %public_url,
                tls = tls.is_some(),
                storage = ?hub.db.backend(),
                "outpost-hub serving"
            );
            outpost_hub::serve(listener, outpost_hub::app(hub), tls, shutdown_signal()).await?;
            tracing::info!("outpost-hub stopped");
            Ok(())
        }
        Command::Admin { place, command } => admin(&place, command).await,
    }
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,tower_http=info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn parse_day_end(s: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{s:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    // The code works through the whole of its last day.
    let next = d
        .succ_opt()
        .and_then(|n| n.and_hms_opt(0, 0, 0))
        .context("date out of range")?;
    Ok(next.and_utc())
}

/// Write `bytes` to `path` completely or not at all, so a receipt survives
/// a power cut or a stick pulled out right after the command returns.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    outpost_package::durable::write_atomically(path, bytes, |_| Ok(()))
        .with_context(|| format!("cannot write {}", path.display()))
}

async fn admin(place: &Place, command: Admin) -> Result<()> {
    // Admin commands do not serve, so the public URL only names the hub in
    // statements made by an import; keep it equal to the server's.
    let public_url = std::env::var("OUTPOST_HUB_PUBLIC_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8470".to_string());
    let hub = open_hub(place, Config::new(&public_url)).await?;
    match command {
        Admin::CreateUser { username, role } => {
            let password = match std::env::var("OUTPOST_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let p = rpassword::prompt_password(format!("password for {username}: "))?;
                    let again = rpassword::prompt_password("again: ")?;
                    if p != again {
                        bail!("the two passwords differ");
                    }
                    p
                }
            };
            hub.create_user(&username, &role, &password).await?;
            eprintln!("created {role} {username}");
        }
        Admin::CreateCohort { name, trainer } => {
            hub.create_cohort(&name, trainer.as_deref()).await?;
            eprintln!("created cohort {name}");
        }
        Admin::CreateCode {
            cohort,
            uses,
            expires,
        } => {
            let expires = expires.as_deref().map(parse_day_end).transpose()?;
            let code = hub.create_code(&cohort, uses, expires).await?;
            println!("{code}");
        }
        Admin::Assign {
            cohort,
            course,
            due,
        } => {
            let due = due
                .as_deref()
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .with_context(|| format!("--due {d:?} is not a date (YYYY-MM-DD)"))
                })
                .transpose()?;
            hub.assign(&cohort, &course, due).await?;
            eprintln!("assigned {course} to {cohort}");
        }
        Admin::Publish { package, pubkey } => {
            let key = outpost_package::keys::read_verifying_key(&pubkey)?;
            let (s, out) = hub.publish_file(&package, &key).await?;
            if out.already {
                eprintln!(
                    "{} {} was already published with these bytes",
                    s.id, s.version
                );
            } else {
                eprintln!(
                    "published {} {} (sha256 {}); progress of {} learners folded again",
                    s.id, s.version, out.sha256, out.refolded
                );
            }
        }
        Admin::RevokeDevice { device_id } => {
            if hub.revoke_device(device_id).await? {
                eprintln!("revoked device {device_id}");
            } else {
                eprintln!("device {device_id} was already revoked");
            }
        }
        Admin::CreateXapiCredential { name } => {
            let (key, secret) = hub.create_xapi_credential(&name).await?;
            println!("key: {key}\nsecret: {secret}");
            eprintln!(
                "use them as HTTP Basic user and password for /xapi; the secret is not shown again"
            );
        }
        Admin::ImportProgress { file, out } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (receipt, receipt_bytes) = hub
                .import_progress(&bytes)
                .await
                .with_context(|| format!("{} was not imported", file.display()))?;
            write_atomically(&out, &receipt_bytes)?;
            let mut counts = std::collections::BTreeMap::<&str, usize>::new();
            for r in &receipt.results {
                let k = match r.status {
                    outpost_protocol::EventStatus::Accepted => "accepted",
                    outpost_protocol::EventStatus::Duplicate => "duplicate",
                    outpost_protocol::EventStatus::Conflict => "conflict",
                    outpost_protocol::EventStatus::Rejected { .. } => "rejected",
                };
                *counts.entry(k).or_default() += 1;
            }
            let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            eprintln!(
                "imported {} events from device {}: {}; receipt written to {}",
                receipt.results.len(),
                receipt.device_id,
                if summary.is_empty() {
                    "none".to_string()
                } else {
                    summary.join(", ")
                },
                out.display()
            );
            for r in &receipt.results {
                if let outpost_protocol::EventStatus::Rejected { reason } = &r.status {
                    eprintln!("  rejected {}: {reason}", r.id);
                }
            }
        }
    }
    Ok(())
}
