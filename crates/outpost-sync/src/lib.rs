//! The sync client: how a laptop's events reach the hub exactly once over
//! the worst links, and by USB stick when there is no link.
//!
//! - [`enroll`]: a profile joins a cohort with a code; the token is kept in
//!   the learner store (never printed), the device's key is registered.
//! - [`sync_once`]: probe the hub (`GET /api/v1/ping`), push each enrolled
//!   profile's pending events in gzip batches — each batch's answers are
//!   marked in the store before the next is sent, so a cut at any byte
//!   re-sends only what the hub has not acknowledged — then pull the feed
//!   from the stored cursor (the learner's events from other devices,
//!   assignments, the hub's confirmed progress) and download (resumably,
//!   with `Range`) and install course updates. Batch size adapts to the
//!   link ([`BatchSizer`]); retries back off with full jitter
//!   ([`RetryPolicy`]). Everything that went wrong is in the
//!   [`SyncReport`], in words; no event is ever dropped.
//! - [`SyncHandle`]: the app's background loop on a thread of its own, with
//!   "sync now" and a watch channel of [`SyncStatus`].
//! - [`export_progress`] / [`import_receipt`]: the USB path, through the
//!   signed files of `outpost_protocol::files`.
//!
//! ```no_run
//! # async fn demo(store: &outpost_learner::Store, profile: outpost_learner::ProfileId) -> Result<(), outpost_sync::SyncError> {
//! use outpost_sync::{enroll, sync_once, SyncClient, SyncConfig};
//! let client = SyncClient::new(SyncConfig::default())?;
//! let who = enroll(store, &client, "https://hub.example.org", "ABCD-EFGH", profile, None).await?;
//! println!("{} joined {}", who.learner_name, who.cohort);
//! let report = sync_once(store, &client, &|phase| println!("{phase:?}")).await;
//! if let Some(problem) = report.problem() {
//!     eprintln!("{problem}");
//! }
//! # Ok(()) }
//! ```
//!
//! The futures borrow a [`outpost_learner::Store`], which is not `Sync`:
//! run them with `block_on` (the CLI) or on a thread of their own (the
//! [`SyncHandle`] does).

mod api;
mod background;
mod backoff;
mod client;
mod download;
mod enroll;
mod error;
mod files;
mod report;
mod sync;

pub use api::normalise_hub_url;
pub use background::{LoopConfig, SyncHandle, SyncStatus};
pub use backoff::{BatchSizer, RetryPolicy};
pub use client::{default_device_name, SyncClient, SyncConfig};
pub use download::DOWNLOADS_DIR;
pub use enroll::{enroll, Enrolled};
pub use error::SyncError;
pub use files::{
    export_progress, import_receipt, write_atomically, Export, ExportedFile, ReceiptImport,
};
pub use report::{
    CourseConfirmation, EventProblem, Phase, ProfileReport, SyncReport, UpdateReport,
};
pub use sync::{sync_once, CONFLICT_DETAIL};
