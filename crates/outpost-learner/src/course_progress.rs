//! The stored fold: for each profile and installed course, the
//! [`outpost_model::Fold`] of all the profile's events in the course, in the
//! `course_progress` table. Every write that adds events or replaces a
//! course's structure updates it in the same transaction, so the screens read
//! progress without reading the event log.
//!
//! An event that sorts after every event already folded (the normal case: a
//! local event, recorded now) is stepped on top of the stored fold. Anything
//! else (an earlier event pulled from another device, a clock set back, a
//! course update, a missing or unreadable row) refolds every event. A row is
//! used only while it names the installed content hash and as many events as
//! the log holds for it: events are never deleted or changed, so an equal
//! count is the same set. Otherwise the read folds the events itself.
//! `tests/course_progress.rs` checks that the stored fold always gives what a
//! fresh fold of the log gives.

use crate::error::{LearnerError, Result};
use crate::profiles::ProfileId;
use crate::record::load_events;
use crate::{CourseMeta, Store};
use outpost_model::{fold, fold_order, CourseProgress, CourseStructure, Event, Fold};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

/// A `course_progress` row.
struct Row {
    content_hash: String,
    events: i64,
    state: String,
}

fn read_row(conn: &Connection, profile: ProfileId, course: &str) -> Result<Option<Row>> {
    Ok(conn
        .query_row(
            "SELECT content_hash, events, state FROM course_progress \
             WHERE profile_id = ?1 AND course_id = ?2",
            params![profile.0.to_string(), course],
            |r| {
                Ok(Row {
                    content_hash: r.get(0)?,
                    events: r.get(1)?,
                    state: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// How many events the log holds for the profile in the course.
fn event_count(conn: &Connection, profile: ProfileId, course: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM events WHERE profile_id = ?1 AND course_id = ?2",
        params![profile.0.to_string(), course],
        |r| r.get(0),
    )?)
}

/// The stored fold, if it is about exactly `events` events of this content
/// and fits the course.
fn usable(
    row: Option<Row>,
    course: &CourseStructure,
    content_hash: &str,
    events: i64,
) -> Option<Fold> {
    let row = row.filter(|r| r.content_hash == content_hash && r.events == events)?;
    serde_json::from_str::<Fold>(&row.state)
        .ok()
        .filter(|f| f.fits(course))
}

fn write_row(
    conn: &Connection,
    profile: ProfileId,
    course: &str,
    content_hash: &str,
    events: i64,
    state: &Fold,
) -> Result<()> {
    let json = serde_json::to_string(state)
        .map_err(|e| LearnerError::Internal(format!("course progress: {e}")))?;
    conn.execute(
        "INSERT INTO course_progress (profile_id, course_id, content_hash, events, state) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (profile_id, course_id) DO UPDATE SET \
         content_hash = excluded.content_hash, events = excluded.events, state = excluded.state",
        params![profile.0.to_string(), course, content_hash, events, json],
    )?;
    Ok(())
}

/// Fold every event of the profile in the course with the model, and store
/// the result.
fn refold(
    conn: &Connection,
    profile: ProfileId,
    course: &CourseStructure,
    content_hash: &str,
) -> Result<CourseProgress> {
    let events = load_events(
        conn,
        "SELECT body FROM events WHERE profile_id = ?1 AND course_id = ?2",
        params![profile.0.to_string(), course.id],
    )?;
    let state = Fold::over(course, &events);
    write_row(
        conn,
        profile,
        &course.id,
        content_hash,
        events.len() as i64,
        &state,
    )?;
    Ok(state.finish(course))
}

/// The event as a fold of the log sees it: read back from its JSON, whose
/// floats do not always parse to the bits they were written from.
fn as_stored(e: &Event) -> Result<Event> {
    serde_json::to_string(e)
        .and_then(|json| serde_json::from_str(&json))
        .map_err(|err| LearnerError::Internal(format!("event {}: {err}", e.id)))
}

/// After `new` events of the profile in the course were inserted in this
/// transaction: bring the stored fold up to date and return the progress.
pub(crate) fn fold_in(
    tx: &Connection,
    profile: ProfileId,
    meta: &CourseMeta,
    new: &[Event],
) -> Result<CourseProgress> {
    let course = &meta.structure;
    let mut new = new.iter().map(as_stored).collect::<Result<Vec<Event>>>()?;
    new.sort_by_key(fold_order);
    let count = event_count(tx, profile, &course.id)?;
    let before = count - new.len() as i64;
    let stored = usable(
        read_row(tx, profile, &course.id)?,
        course,
        &meta.content_hash,
        before,
    );
    if let Some(mut state) = stored {
        let in_order = match (state.last(), new.first()) {
            (Some(last), Some(first)) => fold_order(first) > last,
            _ => true,
        };
        if in_order {
            for e in &new {
                state.step(course, e);
            }
            write_row(tx, profile, &course.id, &meta.content_hash, count, &state)?;
            return Ok(state.finish(course));
        }
    }
    refold(tx, profile, course, &meta.content_hash)
}

/// A course's structure was replaced (installed, updated): refold every
/// profile that has events in it, inside the install's transaction.
pub(crate) fn refold_course(
    tx: &Connection,
    course: &CourseStructure,
    content_hash: &str,
) -> Result<()> {
    let profiles: Vec<String> = {
        let mut stmt = tx.prepare("SELECT DISTINCT profile_id FROM events WHERE course_id = ?1")?;
        let rows = stmt.query_map([&course.id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for p in profiles {
        let id = Uuid::parse_str(&p)
            .map_err(|e| LearnerError::Internal(format!("profile id {p:?}: {e}")))?;
        refold(tx, ProfileId(id), course, content_hash)?;
    }
    Ok(())
}

impl Store {
    /// The profile's progress in an installed course: the stored fold when
    /// it is current, else a fold of the events (the same answer, slower).
    pub(crate) fn course_progress(
        &self,
        profile: ProfileId,
        meta: &CourseMeta,
    ) -> Result<CourseProgress> {
        let course = &meta.structure;
        let count = event_count(&self.conn, profile, &course.id)?;
        let row = read_row(&self.conn, profile, &course.id)?;
        if let Some(stored) = usable(row, course, &meta.content_hash, count) {
            return Ok(stored.finish(course));
        }
        Ok(fold(course, &self.events_of(profile, &course.id)?))
    }
}

impl Store {
    /// The stored progress when it is current, else `None`: for tests that
    /// check it against a fresh fold. Not part of the API.
    #[doc(hidden)]
    pub fn stored_progress(
        &self,
        profile: ProfileId,
        course: &str,
    ) -> Result<Option<CourseProgress>> {
        let meta = self.course_meta(course)?;
        let count = event_count(&self.conn, profile, course)?;
        let row = read_row(&self.conn, profile, course)?;
        let course = &meta.structure;
        Ok(usable(row, course, &meta.content_hash, count).map(|s| s.finish(course)))
    }
}

impl Store {
    /// Fold, once, every history in an installed course that has no stored
    /// progress: a store migrated from before `course_progress` existed.
    /// Cheap when there is none. A failure (an unreadable event, a damaged
    /// course) leaves that history to the reads, which fold it themselves
    /// and report the problem where it is seen; it must not stop the store
    /// from opening.
    pub(crate) fn fill_course_progress(&self) -> Result<()> {
        let missing: Vec<(String, String)> = {
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT e.profile_id, e.course_id FROM events e \
                 JOIN courses c ON c.course_id = e.course_id \
                 WHERE NOT EXISTS (SELECT 1 FROM course_progress p \
                 WHERE p.profile_id = e.profile_id AND p.course_id = e.course_id)",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (profile, course) in missing {
            let (Ok(id), Ok(Some(meta))) =
                (Uuid::parse_str(&profile), self.installed_meta(&course))
            else {
                continue;
            };
            let _ = self.transact(|tx| {
                refold(tx, ProfileId(id), &meta.structure, &meta.content_hash).map(|_| ())
            });
        }
        Ok(())
    }
}
