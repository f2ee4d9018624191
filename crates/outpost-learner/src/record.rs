//! Recording what a learner does. Each intent method builds one
//! [`Event`], validates it against the installed course, and commits it
//! (with any completion it causes) before returning.

use crate::course_progress::fold_in;
use crate::db::{now, ts};
use crate::error::{LearnerError, Result};
use crate::profiles::ProfileId;
use crate::{CourseMeta, Store};
use chrono::{DateTime, Utc};
use outpost_model::draw::{draw_questions, seed_from_attempt};
use outpost_model::event::MAX_SECONDS;
use outpost_model::grade::grade_quiz;
use outpost_model::{
    grade_response, CourseProgress, Event, EventKind, LessonKind, QuestionKey, QuestionType,
    QuizScore,
};
use outpost_package::{Package, QuestionText};
use rusqlite::{params, Connection};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// What recording an event did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recorded {
    pub event_id: Uuid,
    pub seq: u64,
    /// Modules this event completed (a ModuleCompleted event was recorded
    /// for each).
    pub completed_modules: Vec<String>,
    /// The course's moveOn rule became satisfied (a CourseCompleted event
    /// was recorded).
    pub course_satisfied: bool,
    /// Ids of those completion events.
    pub completion_events: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionView {
    pub id: String,
    pub html: String,
}

/// A question as the learner sees it: no answer key, no feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionView {
    pub id: String,
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    /// More than one option may be chosen.
    pub multiple: bool,
    pub stem_html: String,
    pub options: Vec<OptionView>,
    /// The language of the text (the profile's, or the course's default).
    pub lang: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub attempt_id: Uuid,
    /// The QuizStarted event that began it.
    pub event_id: Uuid,
    pub course_id: String,
    pub quiz_id: String,
    /// The final assessment: feedback is withheld until it is submitted.
    pub is_assessment: bool,
    /// In the order they are asked (for the assessment: the ones drawn).
    pub questions: Vec<QuestionView>,
    /// Answers given so far (when resuming an attempt).
    pub answers: BTreeMap<String, Vec<String>>,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionFeedback {
    pub id: String,
    pub html: String,
    pub chosen: bool,
    pub correct: bool,
    pub feedback_html: String,
}

/// The answer to an answer. For the final assessment `revealed` is false
/// and nothing about correctness is given until the attempt is submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feedback {
    pub event_id: Uuid,
    pub question_id: String,
    pub revealed: bool,
    pub correct: Option<bool>,
    /// Every option with whether it was chosen, whether it is correct, and
    /// its feedback (empty when not revealed).
    pub options: Vec<OptionFeedback>,
    pub explanation_html: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionReview {
    pub question_id: String,
    pub stem_html: String,
    pub response: Vec<String>,
    pub correct: bool,
    pub options: Vec<OptionFeedback>,
    pub explanation_html: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuizResult {
    pub attempt_id: Uuid,
    pub quiz_id: String,
    pub score: QuizScore,
    pub percent: u32,
    /// This attempt reaches the course's passing score.
    pub passed: bool,
    pub passing_score: f64,
    pub review: Vec<QuestionReview>,
    /// Across all attempts so far, this one included.
    pub attempts: u32,
    pub best: Option<QuizScore>,
    pub recorded: Recorded,
}

impl Store {
    /// The learner read (part of) a lesson. `seconds` over the four hours one
    /// event may claim are capped (a lesson left open overnight is not study
    /// time); `position` is the fraction scrolled, 0..=1.
    pub fn view_lesson(
        &self,
        profile: ProfileId,
        course: &str,
        lesson: &str,
        seconds: u32,
        position: f64,
        reached_end: bool,
    ) -> Result<Recorded> {
        if !position.is_finite() || !(0.0..=1.0).contains(&position) {
            return Err(LearnerError::invalid(
                "position",
                format!("{position} is not between 0 and 1"),
            ));
        }
        let meta = self.course_meta(course)?;
        if meta.structure.lesson(lesson).is_none() {
            return Err(LearnerError::UnknownLesson {
                course: course.into(),
                lesson: lesson.into(),
            });
        }
        self.record(
            profile,
            &meta,
            lesson,
            EventKind::LessonViewed {
                seconds: seconds.min(MAX_SECONDS),
                position,
                reached_end,
            },
        )
    }

    /// Begin an attempt at a module quiz or the final assessment. The
    /// assessment's questions are drawn with `outpost_model::draw` seeded by
    /// the attempt id, and the draw is recorded in the QuizStarted event.
    pub fn start_quiz(&self, profile: ProfileId, course: &str, quiz_id: &str) -> Result<Attempt> {
        let meta = self.course_meta(course)?;
        let pool =
            meta.structure
                .quiz_questions(quiz_id)
                .ok_or_else(|| LearnerError::NotAQuiz {
                    course: course.into(),
                    quiz: quiz_id.into(),
                })?;
        let attempt = Uuid::now_v7();
        let assessment = meta
            .structure
            .assessment
            .as_ref()
            .filter(|a| a.id == quiz_id);
        let questions = match assessment {
            Some(a) => draw_questions(pool, a.draw as usize, seed_from_attempt(attempt)),
            None => pool.to_vec(),
        };
        let lang = self.profile(profile)?.language;
        let recorded = self.record(
            profile,
            &meta,
            quiz_id,
            EventKind::QuizStarted {
                attempt,
                questions: questions.clone(),
            },
        )?;
        Ok(Attempt {
            attempt_id: attempt,
            event_id: recorded.event_id,
            course_id: course.into(),
            quiz_id: quiz_id.into(),
            is_assessment: assessment.is_some(),
            questions: self.question_views(&meta, lang.code(), &questions)?,
            answers: BTreeMap::new(),
            started_at: now(),
        })
    }

    /// The latest attempt at `quiz_id` that was started and not submitted,
    /// with the answers given so far: to resume after closing the app.
    pub fn open_attempt(
        &self,
        profile: ProfileId,
        course: &str,
        quiz_id: &str,
    ) -> Result<Option<Attempt>> {
        let meta = self.course_meta(course)?;
        let lang = self.profile(profile)?.language;
        let events = self.events_of(profile, course)?;
        let submitted: BTreeSet<Uuid> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::QuizSubmitted { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .collect();
        let latest = events
            .iter()
            .filter(|e| e.activity_id == quiz_id)
            .filter_map(|e| match &e.kind {
                EventKind::QuizStarted { attempt, questions } if !submitted.contains(attempt) => {
                    Some((e, *attempt, questions))
                }
                _ => None,
            })
            .max_by_key(|(e, ..)| order_key(e));
        let Some((start, attempt, questions)) = latest else {
            return Ok(None);
        };
        // Questions an update removed are no longer asked.
        let questions: Vec<String> = questions
            .iter()
            .filter(|q| meta.structure.questions.contains_key(*q))
            .cloned()
            .collect();
        Ok(Some(Attempt {
            attempt_id: attempt,
            event_id: start.id,
            course_id: course.into(),
            quiz_id: quiz_id.into(),
            is_assessment: meta
                .structure
                .assessment
                .as_ref()
                .is_some_and(|a| a.id == quiz_id),
            questions: self.question_views(&meta, lang.code(), &questions)?,
            answers: answers_of(&events, attempt),
            started_at: start.timestamp,
        }))
    }

    /// Answer a question: a knowledge check in a lesson (`attempt` None) or
    /// a question of a started attempt. Answering again replaces the answer
    /// for the attempt's score (both events are kept).
    pub fn answer_question(
        &self,
        profile: ProfileId,
        course: &str,
        attempt: Option<Uuid>,
        question_id: &str,
        response: &[String],
    ) -> Result<Feedback> {
        let meta = self.course_meta(course)?;
        let key = meta.structure.questions.get(question_id).ok_or_else(|| {
            LearnerError::UnknownQuestion {
                course: course.into(),
                question: question_id.into(),
            }
        })?;
        let response = clean_response(key, response)?;
        let mut revealed = true;
        match attempt {
            Some(a) => {
                let state = self.attempt_state(profile, &meta, a)?;
                if !state.questions.iter().any(|q| q == question_id) {
                    return Err(LearnerError::QuestionNotInAttempt {
                        attempt: a,
                        question: question_id.into(),
                    });
                }
                revealed = !state.is_assessment;
            }
            None => {
                let in_lesson = meta.structure.lessons().any(|(_, l)| {
                    l.kind == LessonKind::Lesson && l.questions.iter().any(|q| q == question_id)
                });
                if !in_lesson {
                    return Err(LearnerError::NotACheck(question_id.into()));
                }
            }
        }
        let lang = self.profile(profile)?.language;
        let recorded = self.record(
            profile,
            &meta,
            question_id,
            EventKind::QuestionAnswered {
                attempt,
                response: response.clone(),
            },
        )?;
        let text = self.question_text(&meta, lang.code(), question_id)?;
        let options = option_feedback(key, &text, &response, revealed);
        Ok(Feedback {
            event_id: recorded.event_id,
            question_id: question_id.into(),
            revealed,
            correct: revealed.then(|| grade_response(key, &response)),
            options,
            explanation_html: revealed.then(|| text.explanation_html.clone()),
        })
    }

    /// Submit an attempt: its responses are the latest answer to each of its
    /// questions. Graded locally from the package's answer key.
    pub fn submit_quiz(
        &self,
        profile: ProfileId,
        course: &str,
        attempt: Uuid,
        seconds: u32,
    ) -> Result<QuizResult> {
        let meta = self.course_meta(course)?;
        let state = self.attempt_state(profile, &meta, attempt)?;
        let events = self.attempt_events(profile, attempt)?;
        let answers = answers_of(&events, attempt);
        // Questions an update removed since the start are left out.
        let questions: Vec<String> = state
            .questions
            .iter()
            .filter(|q| meta.structure.questions.contains_key(*q))
            .cloned()
            .collect();
        let responses: BTreeMap<String, Vec<String>> = answers
            .into_iter()
            .filter(|(q, _)| questions.contains(q))
            .collect();
        let recorded = self.record(
            profile,
            &meta,
            &state.quiz_id,
            EventKind::QuizSubmitted {
                attempt,
                seconds: seconds.min(MAX_SECONDS),
                questions: questions.clone(),
                responses: responses.clone(),
            },
        )?;
        let score = grade_quiz(&meta.structure, &questions, &responses);
        let lang = self.profile(profile)?.language;
        let mut review = Vec::new();
        for q in &questions {
            let Some(key) = meta.structure.questions.get(q) else {
                continue;
            };
            let text = self.question_text(&meta, lang.code(), q)?;
            let response = responses.get(q).cloned().unwrap_or_default();
            review.push(QuestionReview {
                question_id: q.clone(),
                stem_html: text.stem_html.clone(),
                correct: grade_response(key, &response),
                options: option_feedback(key, &text, &response, true),
                response,
                explanation_html: text.explanation_html.clone(),
            });
        }
        let progress = self.progress(profile, course)?;
        let quiz = progress.quizzes.get(&state.quiz_id);
        Ok(QuizResult {
            attempt_id: attempt,
            quiz_id: state.quiz_id.clone(),
            score,
            percent: score.percent(),
            passed: score.passes(meta.structure.passing_score),
            passing_score: meta.structure.passing_score,
            review,
            attempts: quiz.map_or(0, |q| q.attempts),
            best: quiz.and_then(|q| q.best),
            recorded,
        })
    }

    /// The profile's progress in a course: `outpost_model::fold` over every
    /// event of the profile (from this device and, once synced, others), as
    /// stored beside the events (see `course_progress`).
    pub fn progress(&self, profile: ProfileId, course: &str) -> Result<CourseProgress> {
        let meta = self.course_meta(course)?;
        self.profile(profile)?;
        self.course_progress(profile, &meta)
    }

    /// Every event of a profile in a course (from this device and pulled),
    /// in the fold's order: device time, device, sequence.
    pub fn events(&self, profile: ProfileId, course: &str) -> Result<Vec<Event>> {
        self.events_of(profile, course)
    }

    pub(crate) fn events_of(&self, profile: ProfileId, course: &str) -> Result<Vec<Event>> {
        // The fold's order (timestamps are fixed-width UTC text).
        load_events(
            &self.conn,
            "SELECT body FROM events WHERE profile_id = ?1 AND course_id = ?2 \
             ORDER BY timestamp, device_id, seq, id",
            params![profile.0.to_string(), course],
        )
    }

    fn attempt_events(&self, profile: ProfileId, attempt: Uuid) -> Result<Vec<Event>> {
        load_events(
            &self.conn,
            "SELECT body FROM events WHERE profile_id = ?1 AND attempt = ?2",
            params![profile.0.to_string(), attempt.to_string()],
        )
    }

    fn attempt_state(
        &self,
        profile: ProfileId,
        meta: &CourseMeta,
        attempt: Uuid,
    ) -> Result<AttemptState> {
        let events = self.attempt_events(profile, attempt)?;
        let start = events
            .iter()
            .filter(|e| e.course_id == meta.structure.id)
            .find_map(|e| match &e.kind {
                EventKind::QuizStarted { questions, .. } => Some((e, questions)),
                _ => None,
            });
        let Some((start, questions)) = start else {
            return Err(LearnerError::UnknownAttempt(attempt));
        };
        if events
            .iter()
            .any(|e| matches!(e.kind, EventKind::QuizSubmitted { .. }))
        {
            return Err(LearnerError::AttemptClosed(attempt));
        }
        Ok(AttemptState {
            quiz_id: start.activity_id.clone(),
            questions: questions.clone(),
            is_assessment: meta
                .structure
                .assessment
                .as_ref()
                .is_some_and(|a| a.id == start.activity_id),
        })
    }

    /// Build, validate and commit one event, then any completion it causes,
    /// in one transaction.
    fn record(
        &self,
        profile: ProfileId,
        meta: &CourseMeta,
        activity: &str,
        kind: EventKind,
    ) -> Result<Recorded> {
        self.profile(profile)?;
        let course = &meta.structure;
        self.transact(|tx| {
            let next: i64 =
                tx.query_row("SELECT next_seq FROM device WHERE id = 1", [], |r| r.get(0))?;
            let mut seq = u64::try_from(next)
                .map_err(|_| LearnerError::Internal("negative sequence number".into()))?;
            let timestamp = self.clock();
            let make = |seq: u64, activity: &str, kind: EventKind| Event {
                id: Uuid::now_v7(),
                learner_id: profile.0,
                device_id: self.device_id,
                seq,
                course_id: course.id.clone(),
                course_version: meta.version.clone(),
                activity_id: activity.to_string(),
                timestamp,
                kind,
            };
            let event = make(seq, activity, kind);
            event.validate(course)?;
            insert_local(tx, profile, &event)?;
            let progress = fold_in(tx, profile, meta, std::slice::from_ref(&event))?;
            let mut recorded = Recorded {
                event_id: event.id,
                seq,
                completed_modules: Vec::new(),
                course_satisfied: false,
                completion_events: Vec::new(),
            };

            // Only a lesson read to its end or a submitted quiz can complete
            // anything; the frequent events (reading progress, answers) skip
            // the search for completions.
            let may_complete = matches!(
                event.kind,
                EventKind::LessonViewed {
                    reached_end: true,
                    ..
                } | EventKind::QuizSubmitted { .. }
            );
            if !may_complete {
                tx.execute(
                    "UPDATE device SET next_seq = ?1 WHERE id = 1",
                    [sql_int(seq + 1)?],
                )?;
                return Ok(recorded);
            }

            // Completion is derived from the facts; the markers exist for
            // xAPI consumers. One per module and course per profile.
            let marked: BTreeSet<String> = {
                let mut stmt = tx.prepare(
                    "SELECT DISTINCT activity_id FROM events WHERE profile_id = ?1 \
                     AND course_id = ?2 AND kind IN ('module_completed', 'course_completed')",
                )?;
                let rows =
                    stmt.query_map(params![profile.0.to_string(), course.id], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut markers = Vec::new();
            for m in &course.modules {
                if progress.modules.get(&m.id).is_some_and(|p| p.completed)
                    && !marked.contains(m.id.as_str())
                {
                    seq += 1;
                    let e = make(seq, &m.id, EventKind::ModuleCompleted {});
                    insert_local(tx, profile, &e)?;
                    recorded.completed_modules.push(m.id.clone());
                    recorded.completion_events.push(e.id);
                    markers.push(e);
                }
            }
            if progress.satisfied && !marked.contains(course.id.as_str()) {
                seq += 1;
                let e = make(seq, &course.id, EventKind::CourseCompleted {});
                insert_local(tx, profile, &e)?;
                recorded.course_satisfied = true;
                recorded.completion_events.push(e.id);
                markers.push(e);
            }
            if !markers.is_empty() {
                fold_in(tx, profile, meta, &markers)?;
            }
            tx.execute(
                "UPDATE device SET next_seq = ?1 WHERE id = 1",
                [sql_int(seq + 1)?],
            )?;
            Ok(recorded)
        })
    }

    pub(crate) fn question_views(
        &self,
        meta: &CourseMeta,
        lang: &str,
        ids: &[String],
    ) -> Result<Vec<QuestionView>> {
        let mut out = Vec::new();
        for id in ids {
            let Some(key) = meta.structure.questions.get(id) else {
                continue;
            };
            let text = self.question_text(meta, lang, id)?;
            out.push(QuestionView {
                id: id.clone(),
                question_type: key.question_type,
                multiple: !key.question_type.single_answer(),
                stem_html: text.stem_html,
                options: text
                    .options
                    .into_iter()
                    .map(|o| OptionView {
                        id: o.id,
                        html: o.html,
                    })
                    .collect(),
                lang: text.lang,
            });
        }
        Ok(out)
    }

    /// A question's text in `lang`, else in the course's default language.
    fn question_text(&self, meta: &CourseMeta, lang: &str, id: &str) -> Result<QuestionText> {
        let lang = meta.manifest.language_for(lang).to_string();
        let default = meta.manifest.default_language.clone();
        self.with_package(&meta.structure.id, |pkg: &Package| {
            let text = match pkg.question(&lang, id)? {
                Some(t) => Some(t),
                None => pkg.question(&default, id)?,
            };
            text.ok_or_else(|| LearnerError::CourseDamaged {
                course: meta.structure.id.clone(),
                detail: format!("question {id:?} has no text"),
            })
        })
    }
}

struct AttemptState {
    quiz_id: String,
    questions: Vec<String>,
    is_assessment: bool,
}

/// The order the fold uses.
fn order_key(e: &Event) -> (DateTime<Utc>, Uuid, u64, Uuid) {
    (e.timestamp, e.device_id, e.seq, e.id)
}

/// The latest answer to each question of an attempt.
fn answers_of(events: &[Event], attempt: Uuid) -> BTreeMap<String, Vec<String>> {
    let mut answered: Vec<&Event> = events
        .iter()
        .filter(|e| {
            matches!(&e.kind, EventKind::QuestionAnswered { attempt: Some(a), .. } if *a == attempt)
        })
        .collect();
    answered.sort_by_key(|e| order_key(e));
    let mut out = BTreeMap::new();
    for e in answered {
        if let EventKind::QuestionAnswered { response, .. } = &e.kind {
            out.insert(e.activity_id.clone(), response.clone());
        }
    }
    out
}

fn clean_response(key: &QuestionKey, response: &[String]) -> Result<Vec<String>> {
    let invalid = |detail: String| LearnerError::InvalidResponse {
        question: key.id.clone(),
        detail,
    };
    let mut r: Vec<String> = response.iter().map(|s| s.trim().to_string()).collect();
    r.sort();
    r.dedup();
    if r.is_empty() {
        return Err(invalid("no option was chosen".into()));
    }
    if let Some(bad) = r.iter().find(|o| !key.options.iter().any(|k| &k.id == *o)) {
        return Err(invalid(format!("there is no option {bad:?}")));
    }
    if key.question_type.single_answer() && r.len() > 1 {
        return Err(invalid("this question takes exactly one answer".into()));
    }
    Ok(r)
}

fn option_feedback(
    key: &QuestionKey,
    text: &QuestionText,
    response: &[String],
    revealed: bool,
) -> Vec<OptionFeedback> {
    key.options
        .iter()
        .map(|o| {
            let t = text.options.iter().find(|t| t.id == o.id);
            OptionFeedback {
                id: o.id.clone(),
                html: t.map(|t| t.html.clone()).unwrap_or_default(),
                chosen: response.contains(&o.id),
                correct: revealed && o.correct,
                feedback_html: if revealed {
                    t.map(|t| t.feedback_html.clone()).unwrap_or_default()
                } else {
                    String::new()
                },
            }
        })
        .collect()
}

fn attempt_of(kind: &EventKind) -> Option<Uuid> {
    match kind {
        EventKind::QuizStarted { attempt, .. } | EventKind::QuizSubmitted { attempt, .. } => {
            Some(*attempt)
        }
        EventKind::QuestionAnswered { attempt, .. } => *attempt,
        _ => None,
    }
}

/// SQLite integers are i64; sequence numbers never come near the limit, but
/// a pulled event could claim anything.
fn sql_int(n: u64) -> Result<i64> {
    i64::try_from(n)
        .map_err(|_| LearnerError::invalid("sequence number", format!("{n} is too large")))
}

fn body(e: &Event) -> Result<String> {
    serde_json::to_string(e).map_err(|err| LearnerError::Internal(format!("event {}: {err}", e.id)))
}

/// Insert one event of this device, waiting for sync.
fn insert_local(tx: &Connection, profile: ProfileId, e: &Event) -> Result<()> {
    tx.execute(
        "INSERT INTO events (id, profile_id, course_id, device_id, seq, kind, activity_id, \
         attempt, timestamp, body, origin, sync_state, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'local', 'pending', ?11)",
        params![
            e.id.to_string(),
            profile.0.to_string(),
            e.course_id,
            e.device_id.to_string(),
            sql_int(e.seq)?,
            e.kind.name(),
            e.activity_id,
            attempt_of(&e.kind).map(|a| a.to_string()),
            ts(e.timestamp),
            body(e)?,
            ts(now()),
        ],
    )?;
    Ok(())
}

/// Insert an event that came from the hub (another device of the learner).
/// Returns false when an event with this id is already stored.
pub(crate) fn insert_pulled(tx: &Connection, profile: ProfileId, e: &Event) -> Result<bool> {
    let n = tx.execute(
        "INSERT OR IGNORE INTO events (id, profile_id, course_id, device_id, seq, kind, \
         activity_id, attempt, timestamp, body, origin, sync_state, recorded_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pulled', 'pulled', ?11)",
        params![
            e.id.to_string(),
            profile.0.to_string(),
            e.course_id,
            e.device_id.to_string(),
            sql_int(e.seq)?,
            e.kind.name(),
            e.activity_id,
            attempt_of(&e.kind).map(|a| a.to_string()),
            ts(e.timestamp),
            body(e)?,
            ts(now()),
        ],
    )?;
    Ok(n == 1)
}

pub(crate) fn load_events(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params, |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for row in rows {
        let text = row?;
        let e: Event = serde_json::from_str(&text).map_err(|err| {
            LearnerError::Internal(format!("a stored event is unreadable: {err}"))
        })?;
        out.push(e);
    }
    Ok(out)
}
