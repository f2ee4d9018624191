//! Sync bookkeeping for the sync client: which events wait for the hub,
//! what the hub said about each, the enrolment, and the last sync's result.
//! No network here: `outpost-sync` does the talking.

use crate::course_progress::fold_in;
use crate::db::{now, parse_ts, ts};
use crate::error::{LearnerError, Result};
use crate::profiles::{settings, ProfileId};
use crate::record::{insert_pulled, load_events};
use crate::Store;
use chrono::{DateTime, NaiveDate, Utc};
use outpost_model::Event;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where an event stands with the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
pub enum SyncState {
    /// Recorded here, not yet acknowledged by the hub.
    Pending,
    /// The hub stored it.
    Accepted,
    /// The hub already had it (an earlier push whose answer was lost).
    Duplicate,
    /// The hub holds a different event under this id.
    Conflict(String),
    /// The hub refused it, with its reason.
    Rejected(String),
    /// Confirmed by a receipt file carried back from the hub (USB path).
    Receipted,
    /// Came from the hub: recorded on another of the learner's devices.
    Pulled,
}

impl SyncState {
    /// The hub has this event.
    pub fn confirmed(&self) -> bool {
        matches!(
            self,
            SyncState::Accepted | SyncState::Duplicate | SyncState::Receipted | SyncState::Pulled
        )
    }
}

/// What the hub answered for one pushed event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum SyncOutcome {
    Accepted,
    Duplicate,
    Conflict(String),
    Rejected(String),
    /// From a receipt file.
    Receipted,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MarkReport {
    pub updated: usize,
    /// Already confirmed: a later answer does not undo that.
    pub unchanged: usize,
    /// Ids that are not events recorded on this device.
    pub unknown: Vec<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ForeignInsert {
    pub inserted: usize,
    /// Already stored, with the same content.
    pub duplicates: usize,
    /// Already stored with different content under the same id; the stored
    /// one is kept.
    pub conflicts: Vec<Uuid>,
    /// Refused: not an Outpost event (wrong id version, sequence 0, no course).
    pub invalid: Vec<(Uuid, String)>,
}

/// A profile's enrolment with a hub. `device_token` is a secret: `Debug`
/// hides it and nothing in Outpost prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub profile: ProfileId,
    pub hub_url: String,
    pub device_token: String,
    /// The learner's canonical id on the hub (may differ from the profile id
    /// when this is the learner's second device).
    pub hub_learner_id: Uuid,
    pub cohort: String,
    /// The hub's ed25519 key (hex), to check receipts.
    pub hub_public_key: Option<String>,
    pub enrolled_at: DateTime<Utc>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("profile", &self.profile)
            .field("hub_url", &self.hub_url)
            .field("device_token", &"<secret>")
            .field("hub_learner_id", &self.hub_learner_id)
            .field("cohort", &self.cohort)
            .field("enrolled_at", &self.enrolled_at)
            .finish()
    }
}

/// A course the hub asks a profile to take (from the last pull).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub course_id: String,
    pub due: Option<NaiveDate>,
}

/// What `outpost status` and the app's sync indicator show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub device_id: Uuid,
    /// Events waiting for the hub.
    pub pending: u64,
    pub rejected: u64,
    pub conflicts: u64,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last sync the hub confirmed.
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub hub_url: Option<String>,
    pub enrolled_profiles: u64,
}

fn state_from(state: &str, detail: Option<String>) -> SyncState {
    let d = || detail.clone().unwrap_or_default();
    match state {
        "accepted" => SyncState::Accepted,
        "duplicate" => SyncState::Duplicate,
        "conflict" => SyncState::Conflict(d()),
        "rejected" => SyncState::Rejected(d()),
        "receipted" => SyncState::Receipted,
        "pulled" => SyncState::Pulled,
        _ => SyncState::Pending,
    }
}

impl Store {
    /// This device's events the hub has not acknowledged, oldest first, at
    /// most `limit`. Rejected and conflicting events are not retried.
    pub fn pending_events(&self, limit: usize) -> Result<Vec<Event>> {
        load_events(
            &self.conn,
            "SELECT body FROM events WHERE sync_state = 'pending' AND origin = 'local' \
             ORDER BY seq LIMIT ?1",
            [limit.min(i64::MAX as usize) as i64],
        )
    }

    /// Record the hub's answers. Confirmed events stay confirmed whatever a
    /// later answer says; pending, rejected and conflicting ones take the
    /// new answer. One transaction.
    pub fn mark_synced(&self, results: &[(Uuid, SyncOutcome)]) -> Result<MarkReport> {
        let at = ts(now());
        self.transact(|tx| mark_in(tx, results, &at))
    }

    /// Apply a receipt carried back from the hub: like [`Store::mark_synced`],
    /// and the receipt's `file_id` is remembered in the same transaction.
    /// `None` when this receipt was imported before (nothing is marked
    /// again).
    pub fn import_receipt(
        &self,
        file_id: Uuid,
        profile: ProfileId,
        results: &[(Uuid, SyncOutcome)],
    ) -> Result<Option<MarkReport>> {
        self.profile(profile)?;
        let at = ts(now());
        self.transact(|tx| {
            let fresh = tx.execute(
                "INSERT OR IGNORE INTO receipts (file_id, profile_id, results, imported_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    file_id.to_string(),
                    profile.0.to_string(),
                    results.len() as i64,
                    at
                ],
            )? == 1;
            if !fresh {
                return Ok(None);
            }
            mark_in(tx, results, &at).map(Some)
        })
    }

    /// Offer events the hub rejected before `before` again: some reasons
    /// pass (a course version published later, a device clock that was
    /// ahead). They become pending; the hub answers a re-sent event the
    /// same way if nothing changed. Returns how many.
    pub fn requeue_rejected(&self, before: DateTime<Utc>) -> Result<usize> {
        self.transact(|tx| {
            Ok(tx.execute(
                "UPDATE events SET sync_state = 'pending' WHERE sync_state = 'rejected' \
                 AND origin = 'local' AND (synced_at IS NULL OR synced_at < ?1)",
                [ts(before)],
            )?)
        })
    }

    /// This profile's events the hub has not acknowledged, oldest first, at
    /// most `limit`: what one push with the profile's token may carry.
    pub fn pending_events_of(&self, profile: ProfileId, limit: usize) -> Result<Vec<Event>> {
        load_events(
            &self.conn,
            "SELECT body FROM events WHERE sync_state = 'pending' AND origin = 'local' \
             AND profile_id = ?1 ORDER BY seq LIMIT ?2",
            params![profile.0.to_string(), limit.min(i64::MAX as usize) as i64],
        )
    }

    /// How many of this profile's events wait for the hub.
    pub fn pending_count(&self, profile: ProfileId) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM events WHERE sync_state = 'pending' AND origin = 'local' \
             AND profile_id = ?1",
            [profile.0.to_string()],
            |r| r.get(0),
        )?;
        Ok(n.max(0) as u64)
    }

    /// Replace the profile's assignments with what the hub said last.
    pub fn set_assignments(&self, profile: ProfileId, assignments: &[Assignment]) -> Result<()> {
        self.profile(profile)?;
        self.transact(|tx| {
            tx.execute(
                "DELETE FROM assignments WHERE profile_id = ?1",
                [profile.0.to_string()],
            )?;
            for a in assignments {
                tx.execute(
                    "INSERT OR REPLACE INTO assignments (profile_id, course_id, due) VALUES (?1, ?2, ?3)",
                    params![
                        profile.0.to_string(),
                        a.course_id,
                        a.due.map(|d| d.format("%Y-%m-%d").to_string())
                    ],
                )?;
            }
            Ok(())
        })
    }

    /// The courses the hub asks this profile to take, by course id.
    pub fn assignments(&self, profile: ProfileId) -> Result<Vec<Assignment>> {
        let mut stmt = self.conn.prepare(
            "SELECT course_id, due FROM assignments WHERE profile_id = ?1 ORDER BY course_id",
        )?;
        let rows = stmt.query_map([profile.0.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (course_id, due) = row?;
            out.push(Assignment {
                course_id,
                due: due.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
            });
        }
        Ok(out)
    }

    /// Where one event stands with the hub, if it is stored here.
    pub fn sync_state(&self, event: Uuid) -> Result<Option<SyncState>> {
        Ok(self
            .conn
            .query_row(
                "SELECT sync_state, sync_detail FROM events WHERE id = ?1",
                [event.to_string()],
                |r| Ok(state_from(&r.get::<_, String>(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    pub(crate) fn all_confirmed(&self, events: &[Uuid]) -> Result<bool> {
        for id in events {
            if !self.sync_state(*id)?.is_some_and(|s| s.confirmed()) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Store events the hub returned from the learner's other devices under
    /// `profile`. Idempotent by event id; one transaction. Events about
    /// courses or activities not installed here are kept: the fold ignores
    /// them until an update brings the activity.
    pub fn insert_foreign_events(
        &self,
        profile: ProfileId,
        events: &[Event],
    ) -> Result<ForeignInsert> {
        self.profile(profile)?;
        self.transact(|tx| {
            let mut report = ForeignInsert::default();
            let mut inserted: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
            for e in events {
                let invalid = if e.id.get_version_num() != 7 {
                    Some("the id is not a UUIDv7")
                } else if e.seq == 0 {
                    Some("sequence numbers start at 1")
                } else if e.course_id.is_empty() || e.activity_id.is_empty() {
                    Some("no course or activity")
                } else {
                    None
                };
                if let Some(why) = invalid {
                    report.invalid.push((e.id, why.to_string()));
                    continue;
                }
                if insert_pulled(tx, profile, e)? {
                    report.inserted += 1;
                    inserted
                        .entry(e.course_id.as_str())
                        .or_default()
                        .push(e.clone());
                    continue;
                }
                let stored: String = tx.query_row(
                    "SELECT body FROM events WHERE id = ?1",
                    [e.id.to_string()],
                    |r| r.get(0),
                )?;
                if stored.as_bytes() == e.canonical_json().as_slice() {
                    report.duplicates += 1;
                } else {
                    report.conflicts.push(e.id);
                }
            }
            // Courses not installed here have no stored progress: installing
            // one folds its events.
            for (course, new) in inserted {
                if let Some(meta) = self.installed_meta(course)? {
                    fold_in(tx, profile, &meta, &new)?;
                }
            }
            Ok(report)
        })
    }

    pub fn set_enrolment(&self, enrolment: &Enrolment) -> Result<()> {
        self.profile(enrolment.profile)?;
        if enrolment.hub_url.trim().is_empty() || enrolment.device_token.is_empty() {
            return Err(LearnerError::invalid(
                "enrolment",
                "the hub URL and the device token are required",
            ));
        }
        self.transact(|tx| {
            tx.execute(
                "INSERT INTO enrolments (profile_id, hub_url, device_token, hub_learner_id, \
                 cohort, hub_public_key, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (profile_id) DO UPDATE SET hub_url = excluded.hub_url, \
                 device_token = excluded.device_token, hub_learner_id = excluded.hub_learner_id, \
                 cohort = excluded.cohort, hub_public_key = excluded.hub_public_key, \
                 enrolled_at = excluded.enrolled_at, pull_cursor = NULL",
                params![
                    enrolment.profile.0.to_string(),
                    enrolment.hub_url.trim(),
                    enrolment.device_token,
                    enrolment.hub_learner_id.to_string(),
                    enrolment.cohort,
                    enrolment.hub_public_key,
                    ts(enrolment.enrolled_at),
                ],
            )?;
            Ok(())
        })
    }

    pub fn enrolment(&self, profile: ProfileId) -> Result<Option<Enrolment>> {
        Ok(self
            .enrolments()?
            .into_iter()
            .find(|e| e.profile == profile))
    }

    pub fn enrolments(&self) -> Result<Vec<Enrolment>> {
        let mut stmt = self.conn.prepare(
            "SELECT profile_id, hub_url, device_token, hub_learner_id, cohort, hub_public_key, \
             enrolled_at FROM enrolments ORDER BY enrolled_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (p, hub_url, device_token, learner, cohort, hub_public_key, at) = row?;
            let uuid = |s: &str| {
                Uuid::parse_str(s).map_err(|e| LearnerError::Internal(format!("enrolment: {e}")))
            };
            out.push(Enrolment {
                profile: ProfileId(uuid(&p)?),
                hub_url,
                device_token,
                hub_learner_id: uuid(&learner)?,
                cohort,
                hub_public_key,
                enrolled_at: parse_ts(&at).unwrap_or_default(),
            });
        }
        Ok(out)
    }

    pub fn remove_enrolment(&self, profile: ProfileId) -> Result<()> {
        self.transact(|tx| {
            tx.execute(
                "DELETE FROM enrolments WHERE profile_id = ?1",
                [profile.0.to_string()],
            )?;
            Ok(())
        })
    }

    /// The hub's opaque position in the learner's event stream.
    pub fn pull_cursor(&self, profile: ProfileId) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT pull_cursor FROM enrolments WHERE profile_id = ?1",
                [profile.0.to_string()],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
    }

    pub fn set_pull_cursor(&self, profile: ProfileId, cursor: &str) -> Result<()> {
        let n = self.transact(|tx| {
            Ok(tx.execute(
                "UPDATE enrolments SET pull_cursor = ?2 WHERE profile_id = ?1",
                params![profile.0.to_string(), cursor],
            )?)
        })?;
        if n == 0 {
            return Err(LearnerError::invalid(
                "pull cursor",
                format!("profile {profile} is not enrolled"),
            ));
        }
        Ok(())
    }

    pub fn record_sync_attempt(&self) -> Result<()> {
        self.transact(|tx| {
            tx.execute(
                "UPDATE sync_status SET last_attempt_at = ?1 WHERE id = 1",
                [ts(now())],
            )?;
            Ok(())
        })
    }

    /// The hub confirmed a sync: clears the last error.
    pub fn record_sync_success(&self) -> Result<()> {
        self.transact(|tx| {
            tx.execute(
                "UPDATE sync_status SET last_success_at = ?1, last_error = NULL, \
                 last_error_at = NULL WHERE id = 1",
                [ts(now())],
            )?;
            Ok(())
        })
    }

    /// Remember why the last sync failed. Device tokens in `message` are
    /// blanked, in case an error quoted a request.
    pub fn record_sync_error(&self, message: &str) -> Result<()> {
        let mut message = message.to_string();
        for e in self.enrolments()? {
            if !e.device_token.is_empty() {
                message = message.replace(&e.device_token, "<token>");
            }
        }
        self.transact(|tx| {
            tx.execute(
                "UPDATE sync_status SET last_error = ?1, last_error_at = ?2 WHERE id = 1",
                [message, ts(now())],
            )?;
            Ok(())
        })
    }

    pub fn status(&self) -> Result<Status> {
        let count = |state: &str| -> Result<u64> {
            let n: i64 = self.conn.query_row(
                "SELECT count(*) FROM events WHERE sync_state = ?1 AND origin = 'local'",
                [state],
                |r| r.get(0),
            )?;
            Ok(n.max(0) as u64)
        };
        let (last_attempt, last_success, last_error, last_error_at): (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ) = self.conn.query_row(
            "SELECT last_attempt_at, last_success_at, last_error, last_error_at FROM sync_status WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let enrolments = self.enrolments()?;
        let hub_url = match enrolments.first() {
            Some(e) => Some(e.hub_url.clone()),
            None => self.setting(settings::HUB_URL)?,
        };
        Ok(Status {
            device_id: self.device_id,
            pending: count("pending")?,
            rejected: count("rejected")?,
            conflicts: count("conflict")?,
            last_attempt_at: last_attempt.as_deref().and_then(parse_ts),
            last_success_at: last_success.as_deref().and_then(parse_ts),
            last_error,
            last_error_at: last_error_at.as_deref().and_then(parse_ts),
            hub_url,
            enrolled_profiles: enrolments.len() as u64,
        })
    }
}

/// Record the hub's answers inside `tx`: see [`Store::mark_synced`].
fn mark_in(
    tx: &rusqlite::Transaction<'_>,
    results: &[(Uuid, SyncOutcome)],
    at: &str,
) -> Result<MarkReport> {
    let mut report = MarkReport::default();
    for (id, outcome) in results {
        let current: Option<String> = tx
            .query_row(
                "SELECT sync_state FROM events WHERE id = ?1 AND origin = 'local'",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(current) = current else {
            report.unknown.push(*id);
            continue;
        };
        if state_from(&current, None).confirmed() {
            report.unchanged += 1;
            continue;
        }
        let (state, detail) = match outcome {
            SyncOutcome::Accepted => ("accepted", None),
            SyncOutcome::Duplicate => ("duplicate", None),
            SyncOutcome::Conflict(d) => ("conflict", Some(d.as_str())),
            SyncOutcome::Rejected(r) => ("rejected", Some(r.as_str())),
            SyncOutcome::Receipted => ("receipted", None),
        };
        tx.execute(
            "UPDATE events SET sync_state = ?2, sync_detail = ?3, synced_at = ?4 WHERE id = ?1",
            params![id.to_string(), state, detail, at],
        )?;
        report.updated += 1;
    }
    Ok(report)
}
