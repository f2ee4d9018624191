//! Progress is a fold over events.
//!
//! The fold treats its input as a set: duplicates (same id) count once and
//! the order the events arrive in does not matter, because they are sorted
//! by (device timestamp, device, sequence, id) before folding. That is what
//! makes sync a plain set union: any device or hub holding the same events
//! derives the same progress.
//!
//! Events about activities the course no longer has (removed by an update)
//! are ignored; progress on lessons whose ids remain is kept.

use crate::course::{Activity, CourseStructure, LessonKind};
use crate::event::{Event, EventKind};
use crate::grade::{grade_quiz, QuizScore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonStatus {
    NotStarted,
    InProgress,
    Done,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LessonProgress {
    pub status: LessonStatus,
    /// Where to resume, 0..=1: the position of the latest view.
    pub position: f64,
    pub seconds: u64,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizProgress {
    pub attempts: u32,
    pub best: Option<QuizScore>,
    pub last: Option<QuizScore>,
    /// Best attempt reaches the course's passing score.
    pub passed: bool,
    pub first_submitted_at: Option<DateTime<Utc>>,
    pub passed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleProgress {
    pub lessons_done: u32,
    pub lessons_total: u32,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resume {
    pub lesson_id: String,
    pub position: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseProgress {
    pub course_id: String,
    pub lessons: BTreeMap<String, LessonProgress>,
    pub modules: BTreeMap<String, ModuleProgress>,
    /// Module quizzes and the final assessment, by id.
    pub quizzes: BTreeMap<String, QuizProgress>,
    /// Every module completed.
    pub completed: bool,
    /// The final assessment passed.
    pub passed: bool,
    /// The course's moveOn rule is met: the certificate is earned.
    pub satisfied: bool,
    /// When the rule was first met (device time of the deciding event).
    pub satisfied_at: Option<DateTime<Utc>>,
    pub seconds: u64,
    /// The lesson last viewed and where in it.
    pub resume: Option<Resume>,
    /// Share of lessons done, 0..=1, for progress bars.
    pub fraction_done: f64,
    pub events: u32,
}

impl CourseProgress {
    pub fn lesson_status(&self, id: &str) -> LessonStatus {
        self.lessons
            .get(id)
            .map_or(LessonStatus::NotStarted, |l| l.status)
    }
}

fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

/// Fold one learner's events for one course into their progress. Events for
/// other courses are skipped; choosing the learner is the caller's job.
pub fn fold<'a>(
    course: &CourseStructure,
    events: impl IntoIterator<Item = &'a Event>,
) -> CourseProgress {
    // Set semantics: one event per id. Should two different events ever share
    // an id, keep the canonically smaller so every holder picks the same one.
    let mut by_id: BTreeMap<Uuid, &Event> = BTreeMap::new();
    for e in events.into_iter().filter(|e| e.course_id == course.id) {
        by_id
            .entry(e.id)
            .and_modify(|kept| {
                if e.canonical_json() < kept.canonical_json() {
                    *kept = e;
                }
            })
            .or_insert(e);
    }
    let mut sorted: Vec<&Event> = by_id.into_values().collect();
    sorted.sort_by(|a, b| {
        (a.timestamp, a.device_id, a.seq, a.id).cmp(&(b.timestamp, b.device_id, b.seq, b.id))
    });

    let mut lessons: BTreeMap<String, LessonProgress> = course
        .lessons()
        .map(|(_, l)| {
            (
                l.id.clone(),
                LessonProgress {
                    status: LessonStatus::NotStarted,
                    position: 0.0,
                    seconds: 0,
                    done_at: None,
                },
            )
        })
        .collect();
    let mut quizzes: BTreeMap<String, QuizProgress> = BTreeMap::new();
    let mut resume = None;
    let mut counted = 0u32;

    for e in &sorted {
        let Some(activity) = course.activity(&e.activity_id) else {
            continue;
        };
        counted += 1;
        match (&e.kind, activity) {
            (
                EventKind::LessonViewed {
                    seconds,
                    position,
                    reached_end,
                },
                Activity::Lesson(_, info),
            ) => {
                let lp = lessons
                    .get_mut(&info.id)
                    .expect("every lesson has an entry");
                lp.seconds += u64::from(*seconds);
                lp.position = position.clamp(0.0, 1.0);
                // Quizzes are done by submitting, not by reading to the end.
                if *reached_end && info.kind == LessonKind::Lesson {
                    if lp.status != LessonStatus::Done {
                        lp.done_at = Some(e.timestamp);
                    }
                    lp.status = LessonStatus::Done;
                } else if lp.status == LessonStatus::NotStarted {
                    lp.status = LessonStatus::InProgress;
                }
                resume = Some(Resume {
                    lesson_id: info.id.clone(),
                    position: lp.position,
                });
            }
            (EventKind::QuizStarted { .. }, Activity::Lesson(_, info)) => {
                let lp = lessons
                    .get_mut(&info.id)
                    .expect("every lesson has an entry");
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
                let qp = quizzes
                    .entry(e.activity_id.clone())
                    .or_insert(QuizProgress {
                        attempts: 0,
                        best: None,
                        last: None,
                        passed: false,
                        first_submitted_at: None,
                        passed_at: None,
                    });
                qp.attempts += 1;
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
                    let lp = lessons
                        .get_mut(&info.id)
                        .expect("every lesson has an entry");
                    lp.seconds += u64::from(*seconds);
                    if lp.status != LessonStatus::Done {
                        lp.status = LessonStatus::Done;
                        lp.done_at = Some(e.timestamp);
                    }
                }
            }
            // Answers to single questions, starts of the assessment and the
            // completion markers carry no progress of their own: completion
            // is derived below from the facts, never taken from a claim.
            _ => {}
        }
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
            let lp = &lessons[&l.id];
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
    let assessment = course.assessment.as_ref().and_then(|a| quizzes.get(&a.id));
    let passed = assessment.is_some_and(|q| q.passed);
    let passed_at = assessment.and_then(|q| q.passed_at);
    let satisfied = course.move_on.satisfied(completed, passed);
    let satisfied_at = if !satisfied {
        None
    } else {
        use crate::course::MoveOn::*;
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
            .map_or(0, |a| assessment_seconds(&sorted, &a.id));

    CourseProgress {
        course_id: course.id.clone(),
        lessons,
        modules,
        quizzes,
        completed,
        passed,
        satisfied,
        satisfied_at,
        seconds,
        resume,
        fraction_done: if lessons_total == 0 {
            0.0
        } else {
            f64::from(lessons_done_total) / f64::from(lessons_total)
        },
        events: counted,
    }
}

fn assessment_seconds(events: &[&Event], id: &str) -> u64 {
    events
        .iter()
        .filter(|e| e.activity_id == id)
        .map(|e| match e.kind {
            EventKind::QuizSubmitted { seconds, .. } => u64::from(seconds),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{fixtures, MoveOn};
    use proptest::prelude::*;

    struct Clock {
        t: i64,
        seq: u64,
        device: Uuid,
    }

    impl Clock {
        fn new(device: u128) -> Clock {
            Clock {
                t: 1_700_000_000,
                seq: 0,
                device: Uuid::from_u128(device),
            }
        }
        fn ev(&mut self, activity: &str, kind: EventKind) -> Event {
            self.t += 60;
            self.seq += 1;
            Event {
                id: Uuid::now_v7(),
                learner_id: Uuid::from_u128(1),
                device_id: self.device,
                seq: self.seq,
                course_id: "demo".into(),
                course_version: "1.0.0".into(),
                activity_id: activity.into(),
                timestamp: DateTime::from_timestamp(self.t, 0).unwrap(),
                kind,
            }
        }
        fn view(&mut self, lesson: &str, position: f64, end: bool) -> Event {
            self.ev(
                lesson,
                EventKind::LessonViewed {
                    seconds: 100,
                    position,
                    reached_end: end,
                },
            )
        }
        fn submit(&mut self, quiz: &str, answers: &[(&str, &str)]) -> Event {
            self.ev(
                quiz,
                EventKind::QuizSubmitted {
                    attempt: Uuid::now_v7(),
                    seconds: 50,
                    questions: answers.iter().map(|(q, _)| q.to_string()).collect(),
                    responses: answers
                        .iter()
                        .map(|(q, a)| (q.to_string(), a.split(',').map(str::to_string).collect()))
                        .collect(),
                },
            )
        }
    }

    fn full_run() -> Vec<Event> {
        let mut c = Clock::new(7);
        vec![
            c.view("l1", 0.4, false),
            c.view("l1", 1.0, true),
            c.view("l2", 1.0, true),
            c.view("l3", 1.0, true),
            c.submit("m2-quiz", &[("quiz-q1", "a"), ("quiz-q2", "a,c")]),
            // Fails the assessment, then passes it.
            c.submit(
                "final",
                &[
                    ("bank-1", "b"),
                    ("bank-2", "b"),
                    ("bank-3", "c"),
                    ("bank-4", "a"),
                ],
            ),
            c.submit(
                "final",
                &[
                    ("bank-1", "a"),
                    ("bank-2", "b"),
                    ("bank-3", "c"),
                    ("bank-4", "a"),
                ],
            ),
            c.view("l2", 0.3, false),
        ]
    }

    #[test]
    fn nothing_done_is_not_started() {
        let p = fold(&fixtures::course(), []);
        assert_eq!(p.lesson_status("l1"), LessonStatus::NotStarted);
        assert!(!p.completed && !p.passed && !p.satisfied);
        assert_eq!(p.resume, None);
        assert_eq!(p.fraction_done, 0.0);
    }

    #[test]
    fn a_whole_course() {
        let course = fixtures::course();
        let events = full_run();
        let p = fold(&course, &events);
        assert_eq!(p.lesson_status("l1"), LessonStatus::Done);
        assert_eq!(p.lessons["l1"].seconds, 200);
        assert_eq!(p.lesson_status("m2-quiz"), LessonStatus::Done);
        let quiz = &p.quizzes["m2-quiz"];
        assert_eq!(
            quiz.last,
            Some(QuizScore {
                correct: 1,
                total: 2
            })
        );
        let fin = &p.quizzes["final"];
        assert_eq!(fin.attempts, 2);
        assert_eq!(
            fin.best,
            Some(QuizScore {
                correct: 3,
                total: 4
            })
        );
        assert!(fin.passed);
        assert!(p.completed && p.passed && p.satisfied);
        assert_eq!(p.satisfied_at, Some(events[6].timestamp));
        // Re-reading a done lesson does not undo it, and is where to resume.
        assert_eq!(p.lesson_status("l2"), LessonStatus::Done);
        assert_eq!(
            p.resume,
            Some(Resume {
                lesson_id: "l2".into(),
                position: 0.3
            })
        );
        assert_eq!(p.fraction_done, 1.0);
        assert_eq!(p.seconds, 5 * 100 + 50 + 2 * 50);
    }

    #[test]
    fn move_on_rules_decide_satisfaction() {
        let mut course = fixtures::course();
        let events = full_run();
        let only_reading: Vec<Event> = events[..5].to_vec();
        for (rule, expect_reading, expect_all) in [
            (MoveOn::Completed, true, true),
            (MoveOn::Passed, false, true),
            (MoveOn::CompletedAndPassed, false, true),
            (MoveOn::CompletedOrPassed, true, true),
            (MoveOn::NotApplicable, true, true),
        ] {
            course.move_on = rule;
            assert_eq!(
                fold(&course, &only_reading).satisfied,
                expect_reading,
                "{rule:?}"
            );
            assert_eq!(fold(&course, &events).satisfied, expect_all, "{rule:?}");
        }
        course.move_on = MoveOn::Passed;
        assert!(
            !fold(&course, &events[..6]).satisfied,
            "failed attempt only"
        );
    }

    #[test]
    fn completion_claims_are_not_trusted() {
        let course = fixtures::course();
        let mut c = Clock::new(3);
        let claim = c.ev("demo", EventKind::CourseCompleted {});
        let p = fold(&course, [&claim]);
        assert!(!p.completed && !p.satisfied);
    }

    #[test]
    fn removed_activities_are_ignored() {
        let course = fixtures::course();
        let mut c = Clock::new(3);
        let gone = c.view("deleted-lesson", 1.0, true);
        let kept = c.view("l1", 1.0, true);
        let p = fold(&course, [&gone, &kept]);
        assert_eq!(p.events, 1);
        assert_eq!(p.lesson_status("l1"), LessonStatus::Done);
    }

    proptest! {
        /// Any order, any duplication, from two devices: same progress.
        #[test]
        fn order_and_duplicates_do_not_matter(
            perm in Just((0..16usize).collect::<Vec<_>>()).prop_shuffle(),
            dups in proptest::collection::vec(0..16usize, 0..10),
        ) {
            let course = fixtures::course();
            let mut events = full_run();
            let mut other = Clock::new(9);
            other.t += 30; // interleaves in time with the first device
            events.extend([
                other.view("l3", 0.5, false),
                other.view("l1", 0.9, false),
                other.submit("final", &[("bank-5", "a,b"), ("bank-6", "b"), ("bank-1", "a"), ("bank-2", "b")]),
                other.view("l2", 1.0, true),
                other.submit("m2-quiz", &[("quiz-q1", "b"), ("quiz-q2", "a,c")]),
                other.view("l1", 0.2, false),
                other.view("l3", 0.1, false),
                other.ev("m1", EventKind::ModuleCompleted {}),
            ]);
            let expected = fold(&course, &events);
            let mut shuffled: Vec<&Event> = perm.iter().map(|&i| &events[i]).collect();
            for d in dups {
                shuffled.push(&events[d]);
            }
            prop_assert_eq!(fold(&course, shuffled), expected);
        }
    }
}
