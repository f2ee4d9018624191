//! What a sync did, for the CLI (`outpost sync [--json]`), the app's status
//! and the tests.

use crate::error::SyncError;
use chrono::{DateTime, Utc};
use outpost_learner::{CourseChanges, InstallOutcome, ProfileId};
use serde::Serialize;
use uuid::Uuid;

/// Where a running sync is, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Checking that the hub answers.
    Probing {
        hub: String,
    },
    /// Sending events: `done` of `total` acknowledged so far.
    Pushing {
        done: u64,
        total: u64,
    },
    /// Receiving what the hub has for this laptop.
    Pulling {
        events: u64,
    },
    Downloading {
        course_id: String,
        version: String,
        done: u64,
        total: u64,
    },
    Installing {
        course_id: String,
        version: String,
    },
}

/// An event the hub did not take as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventProblem {
    pub event_id: Uuid,
    pub profile: ProfileId,
    pub reason: String,
}

/// A course update found on the hub, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    pub course_id: String,
    pub from_version: Option<String>,
    pub to_version: String,
    /// What installing did; `None` when it failed (see `error`).
    pub outcome: Option<InstallOutcome>,
    /// Modules, lessons and questions added, changed and removed.
    pub changes: Option<CourseChanges>,
    pub error: Option<String>,
}

/// The hub's progress for one course (from the pull), and what the device
/// shows for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CourseConfirmation {
    pub course_id: String,
    /// The hub holds the completion.
    pub satisfied_on_hub: bool,
    pub best_score: Option<f64>,
    /// This laptop's certificate for the course is marked verified.
    pub certificate_verified: bool,
}

/// One enrolled profile's part of a sync.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileReport {
    pub profile: ProfileId,
    pub name: String,
    pub hub_url: String,
    pub cohort: String,
    /// Events of this profile still waiting after the sync.
    pub pending_after: u64,
    pub assignments: Vec<outpost_learner::Assignment>,
    pub confirmed: Vec<CourseConfirmation>,
}

/// Everything one [`crate::sync_once`] did. Counts are of this sync only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Whether a hub answered the probe (`None`: nothing to probe).
    pub reachable: Option<bool>,
    /// Events waiting before and after, over every profile of the laptop.
    pub pending_before: u64,
    pub pending_after: u64,
    /// Events of the laptop the hub has rejected (this sync or before),
    /// kept here; offered again after `retry_rejected_after`.
    pub rejected_after: u64,
    /// Acknowledged by the hub in this sync: stored now, or already there.
    pub accepted: u64,
    pub duplicates: u64,
    /// Kept on the laptop and shown: the hub holds a different event under
    /// the same id.
    pub conflicts: Vec<EventProblem>,
    /// Kept on the laptop and shown: the hub refused them, with its reason.
    pub rejected: Vec<EventProblem>,
    /// Events from the learner's other devices stored here.
    pub pulled: u64,
    pub pulled_duplicates: u64,
    /// Pulled events that clashed with one stored here (the stored one is
    /// kept) or were not valid events.
    pub pulled_problems: Vec<EventProblem>,
    pub updates: Vec<UpdateReport>,
    pub profiles: Vec<ProfileReport>,
    /// The hub's clock minus this laptop's, as measured by the probe.
    pub clock_offset_seconds: Option<i64>,
    pub batches: u32,
    /// Requests tried again after a failure.
    pub retries: u32,
    /// Request and response bodies (HTTP headers and TCP not counted).
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// What stopped a part of the sync. Events are kept whatever happened.
    pub errors: Vec<SyncError>,
}

impl SyncReport {
    pub(crate) fn new() -> SyncReport {
        let now = Utc::now();
        SyncReport {
            started_at: now,
            finished_at: now,
            reachable: None,
            pending_before: 0,
            pending_after: 0,
            rejected_after: 0,
            accepted: 0,
            duplicates: 0,
            conflicts: Vec::new(),
            rejected: Vec::new(),
            pulled: 0,
            pulled_duplicates: 0,
            pulled_problems: Vec::new(),
            updates: Vec::new(),
            profiles: Vec::new(),
            clock_offset_seconds: None,
            batches: 0,
            retries: 0,
            bytes_sent: 0,
            bytes_received: 0,
            errors: Vec::new(),
        }
    }

    /// Every event of the laptop is acknowledged by the hub (none pending,
    /// none rejected) and nothing went wrong: the only outcome `outpost sync` exits 0 for.
    pub fn complete(&self) -> bool {
        self.errors.is_empty()
            && self.pending_after == 0
            && self.rejected_after == 0
            && self.rejected.is_empty()
            && self.conflicts.is_empty()
    }

    /// The first error, if any.
    pub fn error(&self) -> Option<&SyncError> {
        self.errors.first()
    }

    /// Why the sync is not complete, in one paragraph for people; `None`
    /// when it is.
    pub fn problem(&self) -> Option<String> {
        if self.complete() {
            return None;
        }
        let mut parts: Vec<String> = self.errors.iter().map(|e| e.to_string()).collect();
        if !self.rejected.is_empty() {
            let first = &self.rejected[0];
            parts.push(format!(
                "the hub rejected {} event(s), kept on this laptop (first: {}: {})",
                self.rejected.len(),
                first.event_id,
                first.reason
            ));
        }
        if !self.conflicts.is_empty() {
            parts.push(format!(
                "{} event(s) conflict with different events the hub holds under the same id; this laptop keeps its own (first: {})",
                self.conflicts.len(),
                self.conflicts[0].event_id
            ));
        }
        let earlier = self
            .rejected_after
            .saturating_sub(self.rejected.len() as u64);
        if earlier > 0 {
            parts.push(format!(
                "{earlier} event(s) rejected by the hub earlier are kept on this laptop (see outpost status); they are offered again after a day"
            ));
        }
        if self.pending_after > 0 && self.errors.is_empty() {
            parts.push(format!(
                "{} event(s) still wait for the hub (profiles that are not enrolled cannot sync: enrol them)",
                self.pending_after
            ));
        }
        Some(parts.join("; "))
    }
}
