//! The app's background sync: a thread of its own with its own store
//! connection, so nothing it does (network waits, fsyncs, installs) ever
//! blocks the interface. The app talks to it through a [`SyncHandle`]:
//! "sync now", enrolment, and a [`watch`] channel of [`SyncStatus`] that
//! always tells the truth (pending count, phase and progress, last
//! confirmed sync, last error in words, reachability).

use crate::backoff::RetryPolicy;
use crate::client::{SyncClient, SyncConfig};
use crate::enroll::{enroll, Enrolled};
use crate::error::SyncError;
use crate::report::{Phase, SyncReport};
use crate::sync::sync_once;
use chrono::{DateTime, Utc};
use outpost_learner::{ProfileId, Store};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// When the loop syncs on its own.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// Between syncs while the hub answers (new events, assignments and
    /// updates are picked up at this pace).
    pub interval: Duration,
    /// While the hub does not answer: the probe's backoff (full jitter).
    pub probe: RetryPolicy,
    /// After new events appear (seen every `status_every`, or at once on
    /// [`SyncHandle::refresh`]), wait this long for more before pushing (a
    /// learner records several in a row).
    pub debounce: Duration,
    /// How often the pending count is re-read from the store (the app may
    /// record events without calling `refresh`).
    pub status_every: Duration,
}

impl Default for LoopConfig {
    fn default() -> Self {
        LoopConfig {
            interval: Duration::from_secs(15 * 60),
            probe: RetryPolicy {
                base: Duration::from_secs(10),
                cap: Duration::from_secs(10 * 60),
                attempts: u32::MAX,
            },
            debounce: Duration::from_secs(20),
            status_every: Duration::from_secs(5),
        }
    }
}

/// What the app's sync indicator shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncStatus {
    /// A sync is running now; `phase` says where.
    pub running: bool,
    pub phase: Option<Phase>,
    /// Events waiting for the hub (every profile of the laptop).
    pub pending: u64,
    pub rejected: u64,
    pub conflicts: u64,
    pub enrolled: bool,
    pub hub_url: Option<String>,
    /// Whether the hub answered the last probe; `None` before the first.
    pub reachable: Option<bool>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last sync the hub confirmed from start to end.
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// When the loop will sync next on its own.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The hub's clock minus this laptop's, in seconds.
    pub clock_offset_seconds: Option<i64>,
    /// What the last sync did (course updates installed, rejections…).
    pub last_report: Option<SyncReport>,
}

enum Command {
    SyncNow,
    Refresh,
    Enroll {
        hub_url: String,
        code: String,
        profile: ProfileId,
        email: Option<String>,
        reply: oneshot::Sender<Result<Enrolled, SyncError>>,
    },
    Stop,
}

/// The running background sync. Dropping it stops the loop (a sync in
/// flight is abandoned safely: every acknowledged batch is already marked).
pub struct SyncHandle {
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<SyncStatus>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for SyncHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncHandle")
            .field("status", &*self.status.borrow())
            .finish()
    }
}

impl SyncHandle {
    /// Start the loop on a thread of its own, which opens the store in
    /// `data_dir` (a connection of its own): the caller does not wait for
    /// it (the app draws its window meanwhile), and the first status with
    /// the store's counts follows at once. It syncs at once if a profile is
    /// enrolled. A store that cannot be opened is the status's
    /// `last_error`, and the answer to [`SyncHandle::enroll`].
    pub fn start(
        data_dir: &Path,
        config: SyncConfig,
        loop_config: LoopConfig,
    ) -> Result<SyncHandle, SyncError> {
        let client = SyncClient::new(config)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (status_tx, status_rx) = watch::channel(SyncStatus::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::Store(format!("cannot start the sync thread: {e}")))?;
        let data_dir = data_dir.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("outpost-sync".into())
            .spawn(move || match Store::open(&data_dir) {
                Ok(store) => runtime.block_on(run(store, client, loop_config, rx, status_tx)),
                Err(e) => runtime.block_on(without_store(e.into(), rx, status_tx)),
            })
            .map_err(|e| SyncError::Store(format!("cannot start the sync thread: {e}")))?;
        Ok(SyncHandle {
            commands: tx,
            status: status_rx,
            thread: Some(thread),
        })
    }

    /// Sync as soon as possible (a sync already running finishes first,
    /// then another starts).
    pub fn sync_now(&self) {
        let _ = self.commands.send(Command::SyncNow);
    }

    /// The app recorded events: update the pending count now, and push them
    /// soon if the hub is reachable.
    pub fn refresh(&self) {
        let _ = self.commands.send(Command::Refresh);
    }

    /// Enrol a profile (see [`crate::enroll`]); a sync follows.
    pub async fn enroll(
        &self,
        hub_url: &str,
        code: &str,
        profile: ProfileId,
        email: Option<&str>,
    ) -> Result<Enrolled, SyncError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Enroll {
                hub_url: hub_url.to_string(),
                code: code.to_string(),
                profile,
                email: email.map(str::to_string),
                reply,
            })
            .map_err(|_| SyncError::Store("the sync thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| SyncError::Store("the sync thread has stopped".into()))?
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// A receiver that wakes on every status change.
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Stop the loop and wait for its thread.
    pub fn stop(mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
    }
}

/// The loop when the store could not be opened: the status says why, an
/// enrolment gets the same answer, until the handle stops it.
async fn without_store(
    error: SyncError,
    mut commands: mpsc::UnboundedReceiver<Command>,
    status: watch::Sender<SyncStatus>,
) {
    status.send_modify(|s| s.last_error = Some(error.to_string()));
    while let Some(c) = commands.recv().await {
        match c {
            Command::Stop => return,
            Command::SyncNow | Command::Refresh => {}
            Command::Enroll { reply, .. } => {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

fn read_status(store: &Store, previous: &SyncStatus) -> SyncStatus {
    let mut s = previous.clone();
    match store.status() {
        Ok(st) => {
            s.pending = st.pending;
            s.rejected = st.rejected;
            s.conflicts = st.conflicts;
            s.enrolled = st.enrolled_profiles > 0;
            s.hub_url = st.hub_url;
            s.last_attempt_at = st.last_attempt_at;
            s.last_success_at = st.last_success_at;
            s.last_error = st.last_error;
        }
        Err(e) => s.last_error = Some(SyncError::from(e).to_string()),
    }
    s
}

fn wall_clock(at: Instant) -> DateTime<Utc> {
    let ahead = at.saturating_duration_since(Instant::now());
    Utc::now() + chrono::Duration::from_std(ahead).unwrap_or_default()
}

async fn run(
    store: Store,
    client: SyncClient,
    cfg: LoopConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    status: watch::Sender<SyncStatus>,
) {
    let publish = |f: &dyn Fn(&mut SyncStatus)| status.send_modify(|s| f(s));
    let mut next_sync: Option<Instant> = Some(Instant::now());
    let mut failures = 0u32;
    let mut last_pending = 0u64;
    // The status read at the end of a sync, for the next turn.
    let mut just_read: Option<SyncStatus> = None;
    loop {
        let current = match just_read.take() {
            Some(s) => s,
            None => read_status(&store, &status.borrow()),
        };
        let enrolled = current.enrolled;
        // New events (the app recorded some): push them soon, if the hub
        // answers, without waiting for the next interval.
        if current.pending > last_pending && current.reachable == Some(true) {
            let soon = Instant::now() + cfg.debounce;
            next_sync = Some(next_sync.map_or(soon, |t| t.min(soon)));
        }
        last_pending = current.pending;
        status.send_if_modified(|s| {
            let changed = *s != current;
            *s = current;
            changed
        });
        let now = Instant::now();
        if enrolled && next_sync.is_some_and(|t| t <= now) {
            let (report, recorded) = {
                publish(&|s| {
                    s.running = true;
                    s.phase = None;
                });
                let observer = |p: &Phase| {
                    let p = p.clone();
                    status.send_modify(|s| s.phase = Some(p));
                };
                let sync = sync_once(&store, &client, &observer);
                tokio::pin!(sync);
                let mut again = false;
                // Events recorded while this sync runs may come after its
                // push: they go in a sync of their own, soon, rather than
                // at the next interval (the pending count after this sync
                // can be lower than before it, so the count cannot tell).
                let mut recorded = false;
                let report = loop {
                    tokio::select! {
                        r = &mut sync => break Some(r),
                        c = commands.recv() => match c {
                            None | Some(Command::Stop) => break None,
                            Some(Command::SyncNow) => again = true,
                            Some(Command::Refresh) => recorded = true,
                            Some(Command::Enroll { reply, .. }) => {
                                let _ = reply.send(Err(SyncError::BadInput(
                                    "a sync is running: enrol again when it has finished".into(),
                                )));
                            }
                        }
                    }
                };
                let Some(report) = report else { return };
                if again {
                    next_sync = Some(Instant::now());
                }
                (report, recorded)
            };
            let unreachable = report.reachable == Some(false)
                || report.errors.iter().any(SyncError::is_transient);
            let wait = if unreachable {
                failures += 1;
                cfg.probe
                    .jittered(failures - 1)
                    .max(Duration::from_millis(100))
            } else {
                failures = 0;
                cfg.interval
            };
            if next_sync.is_none_or(|t| t <= now) {
                next_sync = Some(Instant::now() + wait);
            }
            let fresh = read_status(&store, &status.borrow());
            if recorded && !unreachable && fresh.pending > 0 {
                let soon = Instant::now() + cfg.debounce;
                next_sync = Some(next_sync.map_or(soon, |t| t.min(soon)));
            }
            status.send_modify(|s| {
                *s = fresh;
                s.running = false;
                s.phase = None;
                s.reachable = report.reachable.or(s.reachable);
                if report.clock_offset_seconds.is_some() {
                    s.clock_offset_seconds = report.clock_offset_seconds;
                }
                s.next_attempt_at = next_sync.map(wall_clock);
                s.last_report = Some(report);
            });
            just_read = Some(status.borrow().clone());
            continue;
        }
        if !enrolled {
            next_sync = None;
        } else if next_sync.is_none() {
            // Enrolled from elsewhere (the headless `outpost enroll`).
            next_sync = Some(now);
        }
        status.send_if_modified(|s| {
            let next = next_sync.map(wall_clock);
            // Only a real change of plan is news (not the clock's drift).
            let changed = s.next_attempt_at.is_some() != next.is_some();
            s.next_attempt_at = next;
            changed
        });
        let wake = match next_sync {
            Some(t) => t.min(now + cfg.status_every),
            None => now + cfg.status_every,
        };
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            c = commands.recv() => match c {
                None | Some(Command::Stop) => return,
                Some(Command::SyncNow) => next_sync = Some(Instant::now()),
                // The loop's next turn re-reads the store and sees them.
                Some(Command::Refresh) => {}
                Some(Command::Enroll { hub_url, code, profile, email, reply }) => {
                    let r = enroll(&store, &client, &hub_url, &code, profile, email.as_deref()).await;
                    if r.is_ok() {
                        next_sync = Some(Instant::now());
                    }
                    let _ = reply.send(r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_store_that_cannot_be_opened_is_said_and_the_handle_still_answers() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the data folder should be: the store cannot open.
        let data_dir = dir.path().join("not-a-folder");
        std::fs::write(&data_dir, b"x").unwrap();
        let handle =
            SyncHandle::start(&data_dir, SyncConfig::default(), LoopConfig::default()).unwrap();
        let mut status = handle.subscribe();
        let said = tokio::time::timeout(
            Duration::from_secs(30),
            status.wait_for(|s| s.last_error.is_some()),
        )
        .await
        .unwrap()
        .unwrap()
        .clone();
        assert!(
            said.last_error
                .as_deref()
                .unwrap()
                .contains("local store failed"),
            "{said:?}"
        );
        assert!(!said.enrolled && !said.running);
        handle.sync_now();
        let err = handle
            .enroll(
                "https://hub.example.org",
                "CODE",
                ProfileId(uuid::Uuid::nil()),
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, SyncError::Store(_)), "{err}");
        handle.stop();
    }
}
