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

/// The fold's order: device time, device, sequence, id.
pub type FoldOrder = (DateTime<Utc>, Uuid, u64, Uuid);

/// Where an event goes in the fold's order.
pub fn fold_order(e: &Event) -> FoldOrder {
    (e.timestamp, e.device_id, e.seq, e.id)
}

/// Fold one learner's events for one course into their progress. Events for
/// other courses are skipped; choosing the learner is the caller's job.
pub fn fold<'a>(
    course: &CourseStructure,
    events: impl IntoIterator<Item = &'a Event>,
) -> CourseProgress {
    Fold::over(course, events).finish(course)
}

/// The fold part way: what it carries from one event to the next, from which
/// [`Fold::finish`] derives the rest of [`CourseProgress`]. [`fold`] is
/// `new`, `step` over the events in the fold's order, `finish`; a holder
/// that keeps a `Fold` (the learner core stores one per profile and course)
/// folds a new event that sorts after all the others with one `step`
/// instead of a fold of the whole log, and gets the same progress.
///
/// It serializes for storage; positions are kept as their bits because JSON
/// does not give every `f64` back exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    /// [`Fold::FORMAT`] when it was made; a stored fold in another format is
    /// to be refolded, not read.
    format: u32,
    lessons: BTreeMap<String, LessonState>,
    quizzes: BTreeMap<String, QuizProgress>,
    resume: Option<ResumeState>,
    /// Events about an activity of the course (`CourseProgress::events`).
    counted: u32,
    /// Seconds of submitted final assessment attempts.
    assessment_seconds: u64,
    /// The latest event folded, in the fold's order.
    last: Option<FoldOrder>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct LessonState {
    status: LessonStatus,
    position_bits: u64,
    seconds: u64,
    done_at: Option<DateTime<Utc>>,
}

impl LessonState {
    fn not_started() -> LessonState {
        LessonState {
            status: LessonStatus::NotStarted,
            position_bits: 0f64.to_bits(),
            seconds: 0,
            done_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ResumeState {
    lesson_id: String,
    position_bits: u64,
}

impl Fold {
    /// Changed whenever what a `Fold` holds changes meaning.
    pub const FORMAT: u32 = 1;

    /// Nothing folded yet: every lesson of the course not started.
    pub fn new(course: &CourseStructure) -> Fold {
        Fold {
            format: Fold::FORMAT,
            lessons: course
                .lessons()
                .map(|(_, l)| (l.id.clone(), LessonState::not_started()))
                .collect(),
            quizzes: BTreeMap::new(),
            resume: None,
            counted: 0,
            assessment_seconds: 0,
            last: None,
        }
    }

    /// Every event of `events` about this course folded: as a set (one
    /// event per id), in the fold's order.
    pub fn over<'a>(course: &CourseStructure, events: impl IntoIterator<Item = &'a Event>) -> Fold {
        // Set semantics: one event per id. Should two different events ever
        // share an id, keep the canonically smaller so every holder picks the
        // same one.
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
        sorted.sort_by_key(|e| fold_order(e));
        let mut state = Fold::new(course);
        for e in sorted {
            state.step(course, e);
        }
        state
    }

    /// Whether this fold was made in this format for a course with exactly
    /// these lessons (a stored fold may be older than the code or the course).
    pub fn fits(&self, course: &CourseStructure) -> bool {
        self.format == Fold::FORMAT
            && self.lessons.len() == course.lessons().count()
            && course
                .lessons()
                .all(|(_, l)| self.lessons.contains_key(&l.id))
    }

    /// The latest event folded, in the fold's order: a new event may be
    /// stepped only if it sorts after this.
    pub fn last(&self) -> Option<FoldOrder> {
        self.last
    }

    /// Fold one more event. The caller gives each event once, in the fold's
    /// order ([`fold_order`]); events of other courses are skipped.
    pub fn step(&mut self, course: &CourseStructure, e: &Event) {
        if e.course_id != course.id {
            return;
        }
        self.last = Some(fold_order(e));
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
            return;
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
                let lp = self.lesson(&info.id);
                lp.seconds += u64::from(*seconds);
                lp.position_bits = position.clamp(0.0, 1.0).to_bits();
                // Quizzes are done by submitting, not by reading to the end.
                if *reached_end && info.kind == LessonKind::Lesson {
                    if lp.status != LessonStatus::Done {
                        lp.done_at = Some(e.timestamp);
                    }
                    lp.status = LessonStatus::Done;
                } else if lp.status == LessonStatus::NotStarted {
                    lp.status = LessonStatus::InProgress;
                }
                let position_bits = lp.position_bits;
                self.resume = Some(ResumeState {
                    lesson_id: info.id.clone(),
                    position_bits,
                });
            }
            (EventKind::QuizStarted { .. }, Activity::Lesson(_, info)) => {
                let lp = self.lesson(&info.id);
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
                let passing = score.passes(course.passing_score);
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
                if passing && !qp.passed {
                    qp.passed = true;
                    qp.passed_at = Some(e.timestamp);
                }
                if let Activity::Lesson(_, info) = activity {
                    let lp = self.lesson(&info.id);
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

    /// A lesson's state; every lesson of the course has one from `new`.
    fn lesson(&mut self, id: &str) -> &mut LessonState {
        self.lessons
            .entry(id.to_string())
            .or_insert_with(LessonState::not_started)
    }

    /// The progress: modules, completion, moveOn and totals, derived from
    /// what was folded.
    pub fn finish(&self, course: &CourseStructure) -> CourseProgress {
        let lessons: BTreeMap<String, LessonProgress> = course
            .lessons()
            .map(|(_, l)| {
                let state = self.lessons.get(&l.id);
                let state = state.cloned().unwrap_or_else(LessonState::not_started);
                let progress = LessonProgress {
                    status: state.status,
                    position: f64::from_bits(state.position_bits),
                    seconds: state.seconds,
                    done_at: state.done_at,
                };
                (l.id.clone(), progress)
            })
            .collect();
        let mut modules = BTreeMap::new();
        let mut all_done_at = Some(DateTime::<Utc>::MIN_UTC);
        let mut lessons_done_total = 0u32;
        let mut lessons_total = 0u32;
        for m in &course.modules {
            let mut done = 0;
            let mut seconds = 0;
            let mut done_at = Some(DateTime::<Utc>::MIN_UTC);
            for l in &m.lessons {
                let Some(lp) = lessons.get(&l.id) else {
                    continue;
                };
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
                .map_or(0, |_| self.assessment_seconds);
        CourseProgress {
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
        }
    }
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

        /// A fold stopped anywhere, stored as JSON and read back, then
        /// continued event by event, ends where the whole fold does.
        #[test]
        fn a_stored_fold_continued_equals_the_whole_fold(cut in 0..=24usize, skew in 0..90i64) {
            let course = fixtures::course();
            let mut events = full_run();
            let mut other = Clock::new(9);
            other.t += skew;
            events.extend([
                other.view("l3", 0.123_456_789_012_345_67, false),
                other.submit("final", &[("bank-5", "a,b"), ("bank-6", "b"), ("bank-1", "a"), ("bank-2", "b")]),
                other.view("l2", 1.0, true),
                other.view("l1", 1.0 / 3.0, false),
            ]);
            events.sort_by_key(fold_order);
            let cut = cut.min(events.len());
            let mut state = Fold::new(&course);
            for e in &events[..cut] {
                state.step(&course, e);
            }
            let json = serde_json::to_string(&state).expect("a fold serializes");
            let mut state: Fold = serde_json::from_str(&json).expect("and reads back");
            prop_assert!(state.fits(&course));
            for e in &events[cut..] {
                prop_assert!(state.last() < Some(fold_order(e)));
                state.step(&course, e);
            }
            prop_assert_eq!(state.finish(&course), fold(&course, &events));
        }
    }

    #[test]
    fn a_fold_of_another_course_or_format_does_not_fit() {
        let course = fixtures::course();
        let mut other = course.clone();
        other.modules[0].lessons.pop();
        assert!(Fold::new(&course).fits(&course));
        assert!(!Fold::new(&other).fits(&course));
        let mut old = serde_json::to_value(Fold::new(&course)).unwrap();
        old["format"] = serde_json::json!(Fold::FORMAT + 1);
        let old: Fold = serde_json::from_value(old).unwrap();
        assert!(!old.fits(&course));
    }
}
