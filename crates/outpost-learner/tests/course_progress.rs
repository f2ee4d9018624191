//! The stored progress (table `course_progress`) is always what
//! `outpost_model::fold` makes of the events: after random sequences of
//! reading, quizzes, knowledge checks, events pulled from another device
//! (earlier or later than the local ones), a device clock set back or ahead,
//! a course update and a second profile.

mod common;

use chrono::Duration;
use common::{correct, key, store_with_course, v2, write, wrong};
use outpost_learner::{Language, Profile, Store};
use outpost_model::{fold, CourseStructure, Event, EventKind};
use outpost_package::sample;
use proptest::prelude::*;
use uuid::Uuid;

#[derive(Debug, Clone)]
enum Action {
    /// Lesson index into the installed course, seconds, position, reached end.
    View(usize, u32, f64, bool),
    /// Module quiz or final assessment, answered right or wrong.
    Quiz(bool, bool),
    Check(bool),
    /// Events of another device of the learner, `minutes` from now, about
    /// lessons of either version (some unknown to the installed one).
    Pull(i64, usize, bool),
    Clock(i64),
    Update,
    OtherProfile,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0usize..8, 0u32..600, 0.0f64..=1.0, any::<bool>())
            .prop_map(|(l, s, p, e)| Action::View(l, s, p, e)),
        2 => (any::<bool>(), any::<bool>()).prop_map(|(a, r)| Action::Quiz(a, r)),
        1 => any::<bool>().prop_map(Action::Check),
        2 => (-300i64..300, 0usize..6, any::<bool>()).prop_map(|(m, l, e)| Action::Pull(m, l, e)),
        1 => (-180i64..180).prop_map(Action::Clock),
        1 => Just(Action::Update),
        1 => Just(Action::OtherProfile),
    ]
}

const ALL_LESSONS: [&str; 6] = ["l1", "l2", "l3", "l4", "m2-quiz", "nowhere"];

struct World {
    store: Store,
    structure: CourseStructure,
    profiles: Vec<Profile>,
    current: usize,
    other_device: Uuid,
    other_seq: u64,
    v2_package: std::path::PathBuf,
}

impl World {
    fn profile(&self) -> &Profile {
        &self.profiles[self.current]
    }

    fn run(&mut self, a: &Action) {
        let p = self.profile().id;
        let s = &self.store;
        match a {
            Action::View(i, seconds, position, end) => {
                let lessons: Vec<String> = self
                    .structure
                    .lessons()
                    .map(|(_, l)| l.id.clone())
                    .collect();
                let l = &lessons[i % lessons.len()];
                s.view_lesson(p, "demo", l, *seconds, *position, *end)
                    .unwrap();
            }
            Action::Quiz(assessment, right) => {
                let quiz = if *assessment { "final" } else { "m2-quiz" };
                let attempt = s.start_quiz(p, "demo", quiz).unwrap();
                for q in &attempt.questions {
                    let answer = if *right { correct(&q.id) } else { wrong(&q.id) };
                    s.answer_question(p, "demo", Some(attempt.attempt_id), &q.id, &answer)
                        .unwrap();
                }
                s.submit_quiz(p, "demo", attempt.attempt_id, 90).unwrap();
            }
            Action::Check(right) => {
                let answer = if *right {
                    correct("check-1")
                } else {
                    wrong("check-1")
                };
                s.answer_question(p, "demo", None, "check-1", &answer)
                    .unwrap();
            }
            Action::Pull(minutes, lesson, end) => {
                self.other_seq += 1;
                let e = Event {
                    id: Uuid::now_v7(),
                    learner_id: p.0,
                    device_id: self.other_device,
                    seq: self.other_seq,
                    course_id: "demo".into(),
                    course_version: "1.0.0".into(),
                    activity_id: ALL_LESSONS[*lesson].into(),
                    timestamp: s.clock() + Duration::minutes(*minutes),
                    kind: if *lesson == 0 && !*end {
                        EventKind::CourseCompleted {}
                    } else {
                        EventKind::LessonViewed {
                            seconds: 40,
                            position: 0.25,
                            reached_end: *end,
                        }
                    },
                };
                let report = s.insert_foreign_events(p, &[e.clone(), e]).unwrap();
                assert_eq!((report.inserted, report.duplicates), (1, 1));
            }
            Action::Clock(minutes) => s.set_clock_skew(Duration::minutes(*minutes)),
            Action::Update => {
                s.install(&self.v2_package).unwrap();
                self.structure = v2().structure;
            }
            Action::OtherProfile => {
                if self.profiles.len() == 1 {
                    let b = s.create_profile("Bilal", Language::Fr, None).unwrap();
                    self.profiles.push(b);
                }
                self.current = (self.current + 1) % self.profiles.len();
            }
        }
    }

    /// Every profile's stored progress is current and equals a fresh fold.
    fn check(&self) {
        for p in &self.profiles {
            let events = self.store.events(p.id, "demo").unwrap();
            let fresh = fold(&self.structure, &events);
            let stored = self.store.stored_progress(p.id, "demo").unwrap();
            if events.is_empty() {
                assert_eq!(stored, None);
            } else {
                assert_eq!(
                    stored.as_ref(),
                    Some(&fresh),
                    "after {} events",
                    events.len()
                );
            }
            assert_eq!(self.store.progress(p.id, "demo").unwrap(), fresh);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn stored_progress_is_always_a_fresh_fold(
        actions in proptest::collection::vec(action(), 1..40)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (store, amina, _) = store_with_course(dir.path());
        let v2_package = write(dir.path(), "demo-1.1.0.opkg", &v2(), &key());
        let mut world = World {
            store,
            structure: sample::content("1.0.0").structure,
            profiles: vec![amina],
            current: 0,
            other_device: Uuid::new_v4(),
            other_seq: 0,
            v2_package,
        };
        for a in &actions {
            world.run(a);
            world.check();
        }
        // A second process opening the same store reads the same progress.
        let again = Store::open(&dir.path().join("data")).unwrap();
        for p in &world.profiles {
            prop_assert_eq!(
                again.progress(p.id, "demo").unwrap(),
                world.store.progress(p.id, "demo").unwrap()
            );
        }
    }
}

/// Without its stored progress (deleted behind the store's back, as if the
/// migration that added it had just run) a history is still folded right;
/// its next event stores it again, and so does opening the store.
#[test]
fn missing_stored_progress_is_folded_and_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store
        .view_lesson(p.id, "demo", "l1", 30, 1.0, true)
        .unwrap();
    store
        .view_lesson(p.id, "demo", "l2", 30, 0.5, false)
        .unwrap();
    let db = dir.path().join("data").join(outpost_learner::DB_FILE);
    let forget = || {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute("DELETE FROM course_progress", []).unwrap();
    };
    let structure = sample::content("1.0.0").structure;
    let fresh = |s: &Store| fold(&structure, &s.events(p.id, "demo").unwrap());

    forget();
    assert_eq!(store.stored_progress(p.id, "demo").unwrap(), None);
    assert_eq!(store.progress(p.id, "demo").unwrap(), fresh(&store));
    assert_eq!(store.catalog(p.id).unwrap()[0].fraction_done, 0.25);
    store
        .view_lesson(p.id, "demo", "l2", 30, 1.0, true)
        .unwrap();
    assert_eq!(
        store.stored_progress(p.id, "demo").unwrap(),
        Some(fresh(&store))
    );

    forget();
    drop(store);
    let store = Store::open(&dir.path().join("data")).unwrap();
    assert_eq!(
        store.stored_progress(p.id, "demo").unwrap(),
        Some(fresh(&store))
    );
}

/// Status counts read an index, not the event log.
#[test]
fn status_counts_use_the_sync_state_index() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = store_with_course(dir.path());
    drop(store);
    let c =
        rusqlite::Connection::open(dir.path().join("data").join(outpost_learner::DB_FILE)).unwrap();
    let plan: Vec<String> = c
        .prepare(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM events \
             WHERE sync_state = 'pending' AND origin = 'local'",
        )
        .unwrap()
        .query_map([], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|d| d.contains("COVERING INDEX events_by_sync_state")),
        "{plan:?}"
    );
}
