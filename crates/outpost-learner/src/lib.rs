//! The learner core: Outpost's device store.
//!
//! Everything a learner does is an immutable [`outpost_model::Event`] in one
//! local SQLite database, committed before the call that records it returns.
//! Progress, completion, scores and certificates are derived by
//! [`outpost_model::fold`] over those events — the same code the hub runs.
//!
//! Invariants: no Tauri, no network, no panics on input. Every write goes
//! through one transaction helper; bad input gets a precise
//! [`LearnerError`] and leaves the store as it was.
//!
//! # Layout of a data directory
//!
//! ```text
//! DATA_DIR/outpost.db            the store (WAL; -wal and -shm beside it)
//! DATA_DIR/courses/ID-VER-HASH.opkg   verified copies of installed packages
//! ```
//!
//! # Using it (the Tauri app, the CLI, the sync client)
//!
//! ```no_run
//! use outpost_learner::{Language, Store};
//! # fn main() -> Result<(), outpost_learner::LearnerError> {
//! let store = Store::open("/path/to/data".as_ref())?;
//! // First run of the app: trust the bundled course's key and install it.
//! # let (bundled_bytes, bundled_key): (Vec<u8>, ed25519_dalek::VerifyingKey) = todo!();
//! store.ensure_bundled(&bundled_bytes, bundled_key)?;
//! let amina = store.create_profile("Amina", Language::Fr, None)?;
//! for entry in store.catalog(amina.id)? {
//!     println!("{} {:.0}%", entry.title, entry.fraction_done * 100.0);
//! }
//! let lesson = store.lesson(amina.id, "demo", "l1")?; // HTML, no answer key
//! store.view_lesson(amina.id, "demo", "l1", 120, 1.0, true)?; // committed
//! let attempt = store.start_quiz(amina.id, "demo", "final")?;
//! for q in &attempt.questions {
//!     store.answer_question(amina.id, "demo", Some(attempt.attempt_id), &q.id, &["a".into()])?;
//! }
//! let result = store.submit_quiz(amina.id, "demo", attempt.attempt_id, 300)?;
//! println!("{}% passed={}", result.percent, result.passed);
//! # Ok(()) }
//! ```
//!
//! # The API by screen
//!
//! | for | call |
//! | --- | --- |
//! | start-up | [`Store::open`], [`Store::ensure_bundled`] |
//! | profiles | [`Store::create_profile`], [`Store::profiles`], [`Store::profile_by_name`], [`Store::rename_profile`], [`Store::set_language`], [`Store::verify_pin`], [`Store::set_pin`] |
//! | catalog, outline, player | [`Store::catalog`], [`Store::outline`], [`Store::lesson`], [`Store::asset`] (for `asset:NAME` in lesson HTML) |
//! | recording | [`Store::view_lesson`], [`Store::answer_question`] (knowledge checks: `attempt` None) |
//! | quizzes | [`Store::start_quiz`], [`Store::open_attempt`] (resume), [`Store::answer_question`], [`Store::submit_quiz`] |
//! | progress, certificate | [`Store::progress`], [`Store::certificate`], [`Store::events`] |
//! | handbook search | [`Store::search`] (`snippet_html` is escaped, matches in `<mark>`) |
//! | course files | [`Store::preview_update`], [`Store::install`], [`Store::courses`], [`Store::trust_key`], [`Store::trusted_keys`] |
//! | settings | [`Store::setting`], [`Store::set_setting`] (keys in [`settings`]) |
//! | sync status | [`Store::status`] |
//!
//! Every recording call returns only after its event (and any
//! ModuleCompleted / CourseCompleted it causes) is committed with an fsync.
//! CourseCompleted is recorded when the course's moveOn rule is first met
//! (the certificate is earned); the fold never trusts these markers, they
//! exist for xAPI consumers.
//!
//! A [`Store`] is `Send` but not `Sync` (it owns an SQLite connection):
//! share it behind a `Mutex`. Several processes (the app and the headless
//! CLI) may open the same data directory at once; SQLite's locking keeps
//! them consistent and each sees the other's installs on its next call.
//! Profiles' PINs are checked by [`Store::verify_pin`]; the store does not
//! hold sessions, so the app must ask for the PIN before it switches.
//!
//! # The sync client's side
//!
//! - [`Store::pending_events`] (or per profile, as one token pushes:
//!   [`Store::pending_events_of`], [`Store::pending_count`]) → push →
//!   [`Store::mark_synced`] with the hub's answer per event. Confirmed
//!   events stay confirmed; rejected and conflicting ones are not offered
//!   again. [`Store::import_receipt`] does the same for a receipt carried
//!   back on a USB stick, once per receipt. [`Store::requeue_rejected`]
//!   offers rejected events again (the reason may have passed).
//! - [`Store::set_assignments`] / [`Store::assignments`]: what the hub asks
//!   each profile to take.
//! - [`Store::clock`] is the device time events carry and the sync client
//!   reports; [`Store::set_clock_skew`] makes it wrong on purpose (tests).
//! - [`Store::insert_foreign_events`] for what the hub returns from the
//!   learner's other devices (idempotent by event id; never re-sent).
//! - [`Store::set_enrolment`] / [`Store::enrolment`] (one per profile: hub,
//!   device token, canonical learner id, cohort, hub key),
//!   [`Store::pull_cursor`] / [`Store::set_pull_cursor`],
//!   [`Store::device_signing_key`] for progress files.
//! - [`Store::record_sync_attempt`], [`Store::record_sync_success`],
//!   [`Store::record_sync_error`] feed [`Store::status`].
//! - Events carry the profile's local id as `learner_id`; the hub maps it to
//!   the canonical learner (see the enrolment).

mod certificate;
mod course_progress;
mod db;
mod error;
mod install;
mod keys;
mod profiles;
mod record;
mod search;
mod sync;
mod version;
mod views;

pub use certificate::{certificate_code, satisfying_events};
pub use db::{APPLICATION_ID, STORE_VERSION};
pub use error::{LearnerError, Result};
pub use install::{
    ChangeList, CourseChanges, InstallOutcome, InstallReport, InstalledCourse, UpdatePreview,
};
pub use keys::TrustedKey;
pub use profiles::{settings, Language, Profile, ProfileId};
pub use record::{
    Attempt, Feedback, OptionFeedback, OptionView, QuestionReview, QuestionView, QuizResult,
    Recorded,
};
pub use search::{SearchHit, SearchOptions, MARK_END, MARK_START};
pub use sync::{Assignment, Enrolment, ForeignInsert, MarkReport, Status, SyncOutcome, SyncState};
pub use version::compare_versions;
pub use views::{
    CatalogEntry, Certificate, CourseState, LessonView, Outline, OutlineAssessment, OutlineLesson,
    OutlineModule, ResumePoint,
};

use outpost_model::CourseStructure;
use outpost_package::Manifest;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// The database file inside a data directory.
pub const DB_FILE: &str = "outpost.db";
/// The folder of installed package files inside a data directory.
pub const COURSES_DIR: &str = "courses";

/// The device store. See the crate documentation.
pub struct Store {
    conn: Connection,
    dir: PathBuf,
    device_id: Uuid,
    /// Installed courses' manifest and structure, by course id, checked
    /// against the row's content hash on every use (another process may
    /// have updated the course).
    meta: RefCell<HashMap<String, Arc<CourseMeta>>>,
    /// Open package files, by content hash.
    packages: RefCell<HashMap<String, outpost_package::Package>>,
    /// Added to the system clock for recorded events (see [`Store::clock`]).
    clock_skew_ms: std::cell::Cell<i64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("device_id", &self.device_id)
            .finish()
    }
}

/// What the store keeps in memory about an installed course.
#[derive(Debug)]
pub(crate) struct CourseMeta {
    pub version: String,
    pub content_hash: String,
    pub file: String,
    pub manifest: Manifest,
    pub structure: CourseStructure,
}

impl Store {
    /// Open (creating if needed) the store in `data_dir`. Refuses, without
    /// touching it, a database that is not Outpost's or is from a newer
    /// version. Runs pending migrations, removes leftovers of an install
    /// that was interrupted, and stores the progress of histories recorded
    /// before progress was stored.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir.join(COURSES_DIR))
            .map_err(|e| LearnerError::io(data_dir, e))?;
        let conn = db::open(&data_dir.join(DB_FILE))?;
        let mut store = Store {
            conn,
            dir: data_dir.to_path_buf(),
            device_id: Uuid::nil(),
            meta: RefCell::new(HashMap::new()),
            packages: RefCell::new(HashMap::new()),
            clock_skew_ms: std::cell::Cell::new(0),
        };
        store.device_id = store.ensure_device()?;
        store.clean_courses_dir()?;
        store.fill_course_progress()?;
        Ok(store)
    }

    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// This device's id, made once when the store was created.
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// The device's clock: what recorded events carry as their time, and
    /// what the sync client tells the hub as `device_time`. The system
    /// clock unless [`Store::set_clock_skew`] moved it.
    pub fn clock(&self) -> chrono::DateTime<chrono::Utc> {
        let t = db::now();
        t.checked_add_signed(chrono::Duration::milliseconds(self.clock_skew_ms.get()))
            .unwrap_or(t)
    }

    /// Make this store's clock run `skew` off the system clock, as on a
    /// laptop whose clock is wrong (tests and demonstrations of the hub's
    /// clock correction). Only this `Store` value is affected; nothing is
    /// stored.
    pub fn set_clock_skew(&self, skew: chrono::Duration) {
        self.clock_skew_ms.set(skew.num_milliseconds());
    }

    /// The ed25519 key this device signs progress files with (made once).
    /// A secret: never print it. Its public half goes to the hub at enrolment.
    pub fn device_signing_key(&self) -> Result<ed25519_dalek::SigningKey> {
        let seed: Vec<u8> =
            self.conn
                .query_row("SELECT signing_key FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| LearnerError::Internal("device key has the wrong length".into()))?;
        Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    fn ensure_device(&self) -> Result<Uuid> {
        self.transact(|tx| {
            let id: Option<String> = rusqlite::OptionalExtension::optional(tx.query_row(
                "SELECT device_id FROM device WHERE id = 1",
                [],
                |r| r.get(0),
            ))?;
            if let Some(id) = id {
                return Uuid::parse_str(&id)
                    .map_err(|e| LearnerError::Internal(format!("device id: {e}")));
            }
            let id = Uuid::new_v4();
            let key = outpost_package::keys::generate();
            tx.execute(
                "INSERT INTO device (id, device_id, next_seq, signing_key, created_at) \
                 VALUES (1, ?1, 1, ?2, ?3)",
                rusqlite::params![id.to_string(), key.to_bytes().to_vec(), db::ts(db::now())],
            )?;
            Ok(id)
        })
    }

    /// Run `f` in one IMMEDIATE transaction: all of it is committed (and
    /// synced to disk) or none of it. Every write in this crate goes here.
    pub(crate) fn transact<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let value = f(&tx)?; // dropping `tx` on error rolls back
        tx.commit()?;
        Ok(value)
    }

    /// Check the database file (`PRAGMA integrity_check`): `Ok(())` or the
    /// problems SQLite found.
    pub fn integrity_check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let mut stmt = self
            .conn
            .prepare("PRAGMA integrity_check")
            .map_err(|e| vec![e.to_string()])?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| vec![e.to_string()])?;
        for r in rows {
            match r {
                Ok(s) if s == "ok" => {}
                Ok(s) => problems.push(s),
                Err(e) => problems.push(e.to_string()),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn store_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<super::Store>();
    }
}
