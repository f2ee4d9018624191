//! The stored fold: for each profile and installed course, the state of
//! [`outpost_model::fold`] over all the profile's events in the course, in
//! the `course_progress` table. Every write that adds events or replaces a
//! course's structure updates it in the same transaction, so the screens read
//! progress without reading the event log.
//!
//! An event that sorts after every event already folded (the normal case: a
//! local event, recorded now) is folded on top of the stored state by
//! [`FoldState::step`], which mirrors the model's loop. Anything else (an
//! earlier event pulled from another device, a clock set back, a course
//! update, a missing or unreadable row) refolds every event with the model's
//! own `fold`. A row is used only while it names the installed content hash
//! and as many events as the log holds for it: events are never deleted or
//! changed, so an equal count is the same set. Otherwise the read folds the
//! events itself. `tests/course_progress.rs` checks that the stored state
//! always equals a fresh fold.

use crate::error::{LearnerError, Result};
use crate::profiles::ProfileId;
use crate::record::load_events;
use crate::{CourseMeta, Store};
use chrono::{DateTime, Utc};
use outpost_model::course::Activity;
use outpost_model::grade::grade_quiz;
use outpost_model::progress::Resume;
use outpost_model::{
    fold, CourseProgress, CourseStructure, Event, EventKind, LessonKind, LessonProgress,
    LessonStatus, ModuleProgress, QuizProgress,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Changed whenever [`FoldState`] changes meaning: rows in another format
/// are refolded rather than misread.
const FORMAT: u32 = 1;

/// The fold's order: device time, device, sequence, id.
type OrderKey = (DateTime<Utc>, Uuid, u64, Uuid);

fn order_key(e: &Event) -> OrderKey {
    (e.timestamp, e.device_id, e.seq, e.id)
}

/// What the model's fold carries from one event to the next; the rest of
/// [`CourseProgress`] is derived from it by [`FoldState::finish`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FoldState {
    format: u32,
    lessons: BTreeMap<String, LessonState>,
    quizzes: BTreeMap<String, QuizProgress>,
    resume: Option<ResumeState>,
    /// Events about an activity of the course (`CourseProgress::events`).
    counted: u32,
    /// Seconds of submitted final assessment attempts.
    assessment_seconds: u64,
    /// The latest event folded, in the fold's order.
    last: Option<OrderKey>,
}

/// Positions are stored as their bits: JSON would not give every `f64`
/// back exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LessonState {
    status: LessonStatus,
    position_bits: u64,
    seconds: u64,
    done_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ResumeState {
    lesson_id: String,
    position_bits: u64,
}

impl FoldState {
    /// The state behind a progress the model folded from events up to `last`.
    fn of(p: &CourseProgress, last: Option<OrderKey>) -> FoldState {
        let lesson_seconds: u64 = p.lessons.values().map(|l| l.seconds).sum();
        FoldState {
            format: FORMAT,
            lessons: p
                .lessons
                .iter()
                .map(|(id, l)| {
                    let state = LessonState {
                        status: l.status,
                        position_bits: l.position.to_bits(),
                        seconds: l.seconds,
                        done_at: l.done_at,
                    };
                    (id.clone(), state)
                })
                .collect(),
            quizzes: p.quizzes.clone(),
            resume: p.resume.as_ref().map(|r| ResumeState {
                lesson_id: r.lesson_id.clone(),
                position_bits: r.position.to_bits(),
            }),
            counted: p.events,
            assessment_seconds: p.seconds.saturating_sub(lesson_seconds),
            last,
        }
    }

    /// Fold one more event, which sorts after every event folded so far,
    /// exactly as `outpost_model::fold`'s loop does. `false` when the state
    /// does not fit the course (then refold).
    fn step(&mut self, course: &CourseStructure, e: &Event) -> bool {
        self.last = Some(order_key(e));
        if let EventKind::QuizSubmitted { seconds, .. } = &e.kind {
            if course
                .assessment
                .as_ref()
                .is_some_and(|a| a.id == e.activity_id)
            {
                self.assessment_seconds += u64::from(*seconds);
            }
        }
        let Some(activity) = course.activity(&e.activity_id) else {
            return true;
        };
        self.counted = self.counted.saturating_add(1);
        match (&e.kind, activity) {
            (
                EventKind::LessonViewed {
                    seconds,
                    position,
                    reached_end,
                },
                Activity::Lesson(_, info),
            ) => {
                let Some(lp) = self.lessons.get_mut(&info.id) else {
                    return false;
                };
                lp.seconds += u64::from(*seconds);
                let position = position.clamp(0.0, 1.0);
                lp.position_bits = position.to_bits();
                if *reached_end && info.kind == LessonKind::Lesson {
                    if lp.status != LessonStatus::Done {
                        lp.done_at = Some(e.timestamp);
                    }
                    lp.status = LessonStatus::Done;
                } else if lp.status == LessonStatus::NotStarted {
                    lp.status = LessonStatus::InProgress;
                }
                self.resume = Some(ResumeState {
                    lesson_id: info.id.clone(),
                    position_bits: lp.position_bits,
                });
            }
            (EventKind::QuizStarted { .. }, Activity::Lesson(_, info)) => {
                let Some(lp) = self.lessons.get_mut(&info.id) else {
                    return false;
                };
                if lp.status == LessonStatus::NotStarted {
                    lp.status = LessonStatus::InProgress;
                }
            }
            (
                EventKind::QuizSubmitted {
                    questions,
                    responses,
                    seconds,
                    ..
                },
                Activity::Lesson(..) | Activity::Assessment(_),
            ) => {
                let score = grade_quiz(course, questions, responses);
                let qp = self
                    .quizzes
                    .entry(e.activity_id.clone())
                    .or_insert(QuizProgress {
                        attempts: 0,
                        best: None,
                        last: None,
                        passed: false,
                        first_submitted_at: None,
                        passed_at: None,
                    });
                qp.attempts = qp.attempts.saturating_add(1);
                qp.last = Some(score);
                if qp.best.is_none_or(|b| score.cmp_value(b).is_gt()) {
                    qp.best = Some(score);
                }
                qp.first_submitted_at.get_or_insert(e.timestamp);
                if score.passes(course.passing_score) && !qp.passed {
                    qp.passed = true;
                    qp.passed_at = Some(e.timestamp);
                }
                if let Activity::Lesson(_, info) = activity {
                    let Some(lp) = self.lessons.get_mut(&info.id) else {
                        return false;
                    };
                    lp.seconds += u64::from(*seconds);
                    if lp.status != LessonStatus::Done {
                        lp.status = LessonStatus::Done;
                        lp.done_at = Some(e.timestamp);
                    }
                }
            }
            _ => {}
        }
        true
    }

    /// The progress, derived as the end of `outpost_model::fold` derives it.
    /// `None` when the state does not fit the course.
    fn finish(&self, course: &CourseStructure) -> Option<CourseProgress> {
        let lessons: BTreeMap<String, LessonProgress> = self
            .lessons
            .iter()
            .map(|(id, l)| {
                let progress = LessonProgress {
                    status: l.status,
                    position: f64::from_bits(l.position_bits),
                    seconds: l.seconds,
                    done_at: l.done_at,
                };
                (id.clone(), progress)
            })
            .collect();
        if lessons.len() != course.lessons().count() {
            return None;
        }
        let mut modules = BTreeMap::new();
        let mut all_done_at = Some(DateTime::<Utc>::MIN_UTC);
        let mut lessons_done_total = 0u32;
        let mut lessons_total = 0u32;
        for m in &course.modules {
            let mut done = 0;
            let mut seconds = 0;
            let mut done_at = Some(DateTime::<Utc>::MIN_UTC);
            for l in &m.lessons {
                let lp = lessons.get(&l.id)?;
                seconds += lp.seconds;
                if lp.status == LessonStatus::Done {
                    done += 1;
                    done_at = later(done_at, lp.done_at);
                } else {
                    done_at = None;
                }
            }
            let total = m.lessons.len() as u32;
            let completed = done == total;
            lessons_done_total += done;
            lessons_total += total;
            all_done_at = later(all_done_at, done_at);
            modules.insert(
                m.id.clone(),
                ModuleProgress {
                    lessons_done: done,
                    lessons_total: total,
                    completed,
                    completed_at: done_at.filter(|_| completed),
                    seconds,
                },
            );
        }
        let completed = modules.values().all(|m| m.completed);
        let completed_at = all_done_at.filter(|_| completed);
        let assessment = course
            .assessment
            .as_ref()
            .and_then(|a| self.quizzes.get(&a.id));
        let passed = assessment.is_some_and(|q| q.passed);
        let passed_at = assessment.and_then(|q| q.passed_at);
        let satisfied = course.move_on.satisfied(completed, passed);
        let satisfied_at = if !satisfied {
            None
        } else {
            use outpost_model::MoveOn::*;
            match course.move_on {
                Completed => completed_at,
                Passed => passed_at,
                CompletedAndPassed => later(completed_at, passed_at),
                CompletedOrPassed => match (completed_at, passed_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
                NotApplicable => None,
            }
        };
        let seconds = lessons.values().map(|l| l.seconds).sum::<u64>()
            + course
                .assessment
                .as_ref()
                .map_or(0, |_| self.assessment_seconds);
        Some(CourseProgress {
            course_id: course.id.clone(),
            lessons,
            modules,
            quizzes: self.quizzes.clone(),
            completed,
            passed,
            satisfied,
            satisfied_at,
            seconds,
            resume: self.resume.as_ref().map(|r| Resume {
                lesson_id: r.lesson_id.clone(),
                position: f64::from_bits(r.position_bits),
            }),
            fraction_done: if lessons_total == 0 {
                0.0
            } else {
                f64::from(lessons_done_total) / f64::from(lessons_total)
            },
            events: self.counted,
        })
    }
}

fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

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

/// The stored state, if it is about exactly `events` events of this content.
fn usable(row: Option<Row>, content_hash: &str, events: i64) -> Option<FoldState> {
    let row = row.filter(|r| r.content_hash == content_hash && r.events == events)?;
    serde_json::from_str::<FoldState>(&row.state)
        .ok()
        .filter(|s| s.format == FORMAT)
}

fn write_row(
    conn: &Connection,
    profile: ProfileId,
    course: &str,
    content_hash: &str,
    events: i64,
    state: &FoldState,
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
    let progress = fold(course, &events);
    let last = events.iter().map(order_key).max();
    let state = FoldState::of(&progress, last);
    write_row(
        conn,
        profile,
        &course.id,
        content_hash,
        events.len() as i64,
        &state,
    )?;
    Ok(progress)
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
    new.sort_by_key(order_key);
    let count = event_count(tx, profile, &course.id)?;
    let before = count - new.len() as i64;
    let stored = usable(
        read_row(tx, profile, &course.id)?,
        &meta.content_hash,
        before,
    );
    if let Some(mut state) = stored {
        let in_order = match (state.last, new.first()) {
            (Some(last), Some(first)) => order_key(first) > last,
            _ => true,
        };
        if in_order && new.iter().all(|e| state.step(course, e)) {
            if let Some(progress) = state.finish(course) {
                write_row(tx, profile, &course.id, &meta.content_hash, count, &state)?;
                return Ok(progress);
            }
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
        if let Some(progress) =
            usable(row, &meta.content_hash, count).and_then(|s| s.finish(course))
        {
            return Ok(progress);
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
        Ok(usable(row, &meta.content_hash, count).and_then(|s| s.finish(&meta.structure)))
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
