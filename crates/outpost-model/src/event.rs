//! Learner events: the immutable facts that progress is folded from and that
//! sync moves around. An event never changes once recorded; its id (UUIDv7)
//! identifies it everywhere: in the device log, on the wire, on the hub and as
//! the id of its xAPI statement.

use crate::course::{Activity, CourseStructure, LessonKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Longest time one event may claim, in seconds. A lesson left open over a
/// weekend is not study time.
pub const MAX_SECONDS: u32 = 4 * 60 * 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    pub learner_id: Uuid,
    pub device_id: Uuid,
    /// Per-device sequence number, from 1, without gaps on one device.
    pub seq: u64,
    pub course_id: String,
    pub course_version: String,
    /// The lesson, quiz, question, module or course the event is about.
    pub activity_id: String,
    /// When it happened, by the device's clock (which may be wrong; the hub
    /// keeps its own receive time beside it).
    pub timestamp: DateTime<Utc>,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Time spent on a lesson and how far the learner got. Recorded when the
    /// learner leaves the lesson (and periodically while reading).
    LessonViewed {
        seconds: u32,
        /// Fraction of the lesson scrolled through, 0..=1: where to resume.
        position: f64,
        /// The learner reached the end of the lesson.
        reached_end: bool,
    },
    /// A quiz or assessment attempt began with these questions (for the
    /// assessment: the ones drawn for this attempt).
    QuizStarted {
        attempt: Uuid,
        questions: Vec<String>,
    },
    /// One question answered: a knowledge check in a lesson, or a question of
    /// a quiz attempt.
    QuestionAnswered {
        attempt: Option<Uuid>,
        /// Option ids chosen.
        response: Vec<String>,
    },
    /// A quiz attempt submitted. It carries every response so that anyone
    /// holding the course's answer key can grade it: the score is never sent.
    QuizSubmitted {
        attempt: Uuid,
        seconds: u32,
        questions: Vec<String>,
        responses: BTreeMap<String, Vec<String>>,
    },
    ModuleCompleted {},
    CourseCompleted {},
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::LessonViewed { .. } => "lesson_viewed",
            EventKind::QuizStarted { .. } => "quiz_started",
            EventKind::QuestionAnswered { .. } => "question_answered",
            EventKind::QuizSubmitted { .. } => "quiz_submitted",
            EventKind::ModuleCompleted {} => "module_completed",
            EventKind::CourseCompleted {} => "course_completed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventValidationError {
    #[error("event is for course {found:?}, not {expected:?}")]
    WrongCourse { expected: String, found: String },
    #[error("unknown activity {0:?} in this course")]
    UnknownActivity(String),
    #[error("a {kind} event cannot be about {activity:?}")]
    WrongActivity {
        kind: &'static str,
        activity: String,
    },
    #[error("unknown question {0:?} for this quiz")]
    UnknownQuestion(String),
    #[error("question {question:?} has no option {option:?}")]
    UnknownOption { question: String, option: String },
    #[error("{0}")]
    OutOfRange(String),
    #[error("event id must be a UUIDv7, got version {0}")]
    NotV7(usize),
    #[error("sequence numbers start at 1")]
    ZeroSeq,
}

impl Event {
    /// The event's content in a canonical byte form: two events with the same
    /// id are "the same" exactly when these bytes are equal.
    pub fn canonical_json(&self) -> Vec<u8> {
        // Struct fields serialise in declaration order and maps are BTreeMaps,
        // so this is deterministic.
        serde_json::to_vec(self).expect("events always serialise")
    }

    /// Check the event against the course it claims to be about. The hub
    /// runs this on every event it receives; the device on what it records.
    pub fn validate(&self, course: &CourseStructure) -> Result<(), EventValidationError> {
        use EventValidationError as E;
        if self.id.get_version_num() != 7 {
            return Err(E::NotV7(self.id.get_version_num()));
        }
        if self.seq == 0 {
            return Err(E::ZeroSeq);
        }
        if self.course_id != course.id {
            return Err(E::WrongCourse {
                expected: course.id.clone(),
                found: self.course_id.clone(),
            });
        }
        let activity = course
            .activity(&self.activity_id)
            .ok_or_else(|| E::UnknownActivity(self.activity_id.clone()))?;
        let wrong = || E::WrongActivity {
            kind: self.kind.name(),
            activity: self.activity_id.clone(),
        };
        let check_options = |question: &str, response: &[String]| -> Result<(), E> {
            let key = course
                .questions
                .get(question)
                .ok_or_else(|| E::UnknownQuestion(question.to_string()))?;
            for option in response {
                if !key.options.iter().any(|o| &o.id == option) {
                    return Err(E::UnknownOption {
                        question: question.to_string(),
                        option: option.clone(),
                    });
                }
            }
            Ok(())
        };
        match &self.kind {
            EventKind::LessonViewed {
                seconds, position, ..
            } => {
                if !matches!(activity, Activity::Lesson(..)) {
                    return Err(wrong());
                }
                if !(0.0..=1.0).contains(position) {
                    return Err(E::OutOfRange(format!(
                        "position {position} is not between 0 and 1"
                    )));
                }
                if *seconds > MAX_SECONDS {
                    return Err(E::OutOfRange(format!(
                        "{seconds} seconds is more than the {MAX_SECONDS} one event may claim"
                    )));
                }
            }
            EventKind::QuizStarted { questions, .. } => {
                let pool = course.quiz_questions(&self.activity_id).ok_or_else(wrong)?;
                check_drawn(course, &self.activity_id, pool, questions)?;
            }
            EventKind::QuestionAnswered { response, .. } => {
                if !matches!(activity, Activity::Question(_)) {
                    return Err(wrong());
                }
                check_options(&self.activity_id, response)?;
            }
            EventKind::QuizSubmitted {
                questions,
                responses,
                seconds,
                ..
            } => {
                let pool = course.quiz_questions(&self.activity_id).ok_or_else(wrong)?;
                check_drawn(course, &self.activity_id, pool, questions)?;
                for (question, response) in responses {
                    if !questions.contains(question) {
                        return Err(E::UnknownQuestion(question.clone()));
                    }
                    check_options(question, response)?;
                }
                if *seconds > MAX_SECONDS {
                    return Err(E::OutOfRange(format!(
                        "{seconds} seconds is more than the {MAX_SECONDS} one event may claim"
                    )));
                }
            }
            EventKind::ModuleCompleted {} => {
                if !matches!(activity, Activity::Module(_)) {
                    return Err(wrong());
                }
            }
            EventKind::CourseCompleted {} => {
                if !matches!(activity, Activity::Course) {
                    return Err(wrong());
                }
            }
        }
        Ok(())
    }
}

fn check_drawn(
    course: &CourseStructure,
    quiz_id: &str,
    pool: &[String],
    questions: &[String],
) -> Result<(), EventValidationError> {
    use EventValidationError as E;
    for q in questions {
        if !pool.contains(q) {
            return Err(E::UnknownQuestion(q.clone()));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if !questions.iter().all(|q| seen.insert(q)) {
        return Err(E::OutOfRange("a question is listed twice".into()));
    }
    let expected = match course.assessment.as_ref().filter(|a| a.id == quiz_id) {
        Some(a) => (a.draw as usize).min(pool.len()),
        None => pool.len(),
    };
    if questions.len() != expected {
        return Err(E::OutOfRange(format!(
            "the attempt lists {} questions, this quiz asks {expected}",
            questions.len()
        )));
    }
    Ok(())
}

/// Whether an activity id names a graded quiz (module quiz or assessment).
pub fn is_quiz(course: &CourseStructure, id: &str) -> bool {
    match course.activity(id) {
        Some(Activity::Assessment(_)) => true,
        Some(Activity::Lesson(_, l)) => l.kind == LessonKind::Quiz,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::fixtures;

    pub fn event(activity: &str, kind: EventKind) -> Event {
        Event {
            id: Uuid::now_v7(),
            learner_id: Uuid::nil(),
            device_id: Uuid::nil(),
            seq: 1,
            course_id: "demo".into(),
            course_version: "1.0.0".into(),
            activity_id: activity.into(),
            timestamp: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            kind,
        }
    }

    #[test]
    fn wire_form_is_flat_and_tagged() {
        let e = event(
            "l1",
            EventKind::LessonViewed {
                seconds: 30,
                position: 0.5,
                reached_end: false,
            },
        );
        let v: serde_json::Value = serde_json::from_slice(&e.canonical_json()).unwrap();
        assert_eq!(v["kind"], "lesson_viewed");
        assert_eq!(v["seconds"], 30);
        assert_eq!(v["activity_id"], "l1");
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn validation_catches_each_mistake() {
        let c = fixtures::course();
        let ok = event(
            "l1",
            EventKind::LessonViewed {
                seconds: 30,
                position: 1.0,
                reached_end: true,
            },
        );
        assert_eq!(ok.validate(&c), Ok(()));

        let mut e = ok.clone();
        e.course_id = "other".into();
        assert!(matches!(
            e.validate(&c),
            Err(EventValidationError::WrongCourse { .. })
        ));

        let mut e = ok.clone();
        e.activity_id = "zzz".into();
        assert!(matches!(
            e.validate(&c),
            Err(EventValidationError::UnknownActivity(_))
        ));

        let mut e = ok.clone();
        e.activity_id = "m1".into();
        assert!(matches!(
            e.validate(&c),
            Err(EventValidationError::WrongActivity { .. })
        ));

        let mut e = ok.clone();
        e.kind = EventKind::LessonViewed {
            seconds: 1,
            position: 1.5,
            reached_end: true,
        };
        assert!(matches!(
            e.validate(&c),
            Err(EventValidationError::OutOfRange(_))
        ));

        let mut e = ok.clone();
        e.id = Uuid::new_v4();
        assert!(matches!(
            e.validate(&c),
            Err(EventValidationError::NotV7(4))
        ));

        let answered = event(
            "quiz-q1",
            EventKind::QuestionAnswered {
                attempt: None,
                response: vec!["z".into()],
            },
        );
        assert!(matches!(
            answered.validate(&c),
            Err(EventValidationError::UnknownOption { .. })
        ));

        // An assessment attempt must list exactly `draw` questions from the bank.
        let started = |qs: &[&str]| {
            event(
                "final",
                EventKind::QuizStarted {
                    attempt: Uuid::nil(),
                    questions: qs.iter().map(|s| s.to_string()).collect(),
                },
            )
        };
        assert_eq!(
            started(&["bank-1", "bank-2", "bank-3", "bank-4"]).validate(&c),
            Ok(())
        );
        assert!(started(&["bank-1", "bank-2"]).validate(&c).is_err());
        assert!(started(&["bank-1", "bank-2", "bank-3", "quiz-q1"])
            .validate(&c)
            .is_err());
        assert!(started(&["bank-1", "bank-1", "bank-3", "bank-4"])
            .validate(&c)
            .is_err());
    }
}
