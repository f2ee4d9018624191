//! Studying the demo course through the public API, as the app does.

mod common;

use common::*;
use outpost_learner::{CourseState, Language, LearnerError, SyncOutcome};
use outpost_model::xapi::{statement, XapiContext};
use outpost_model::{EventKind, LessonStatus};

#[test]
fn a_learner_studies_the_course_to_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    let cat = store.catalog(p.id).unwrap();
    assert_eq!(cat.len(), 1);
    assert_eq!(cat[0].state, CourseState::NotStarted);
    assert_eq!(cat[0].title, "Demo course (en)");
    assert_eq!(cat[0].estimated_minutes, 60);

    // Read half of l1, then resume.
    store
        .view_lesson(p.id, "demo", "l1", 40, 0.5, false)
        .unwrap();
    let cat = store.catalog(p.id).unwrap();
    assert_eq!(cat[0].state, CourseState::InProgress);
    let resume = cat[0].resume.clone().unwrap();
    assert_eq!((resume.lesson_id.as_str(), resume.position), ("l1", 0.5));
    assert_eq!(resume.title, "Why migrants are hit harder (en)");

    // The knowledge check in l1: feedback per option and the explanation.
    let f = store
        .answer_question(p.id, "demo", None, "check-1", &wrong("check-1"))
        .unwrap();
    assert!(f.revealed);
    assert_eq!(f.correct, Some(false));
    assert_eq!(f.options.len(), 2);
    assert!(f.options[1].chosen && !f.options[1].correct);
    assert_eq!(f.options[1].feedback_html, "<p>Feedback for b.</p>");
    assert!(f.options[0].correct);
    assert_eq!(
        f.explanation_html.as_deref(),
        Some("<p>Why check-1 is answered so.</p>")
    );
    let f = store
        .answer_question(p.id, "demo", None, "check-1", &correct("check-1"))
        .unwrap();
    assert_eq!(f.correct, Some(true));

    let r = store
        .view_lesson(p.id, "demo", "l1", 40, 1.0, true)
        .unwrap();
    assert!(r.completed_modules.is_empty());
    let r = store
        .view_lesson(p.id, "demo", "l2", 90, 1.0, true)
        .unwrap();
    assert_eq!(r.completed_modules, ["m1"], "finishing l2 completes m1");
    assert_eq!(r.completion_events.len(), 1);
    // Re-reading does not complete it again.
    let r = store
        .view_lesson(p.id, "demo", "l2", 5, 0.2, false)
        .unwrap();
    assert!(r.completed_modules.is_empty());
    store
        .view_lesson(p.id, "demo", "l3", 90, 1.0, true)
        .unwrap();

    // The module quiz: all its questions, immediate feedback.
    let a = store.start_quiz(p.id, "demo", "m2-quiz").unwrap();
    assert!(!a.is_assessment);
    let ids: Vec<_> = a.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["quiz-q1", "quiz-q2"]);
    assert!(a.questions[1].multiple);
    let f = store
        .answer_question(
            p.id,
            "demo",
            Some(a.attempt_id),
            "quiz-q1",
            &correct("quiz-q1"),
        )
        .unwrap();
    assert_eq!(f.correct, Some(true));
    store
        .answer_question(
            p.id,
            "demo",
            Some(a.attempt_id),
            "quiz-q2",
            &wrong("quiz-q2"),
        )
        .unwrap();
    // Questions outside the attempt, and a second submit, are refused.
    assert!(matches!(
        store.answer_question(
            p.id,
            "demo",
            Some(a.attempt_id),
            "bank-1",
            &correct("bank-1")
        ),
        Err(LearnerError::QuestionNotInAttempt { .. })
    ));
    let res = store.submit_quiz(p.id, "demo", a.attempt_id, 120).unwrap();
    assert_eq!((res.score.correct, res.score.total), (1, 2));
    assert!(!res.passed);
    assert_eq!(res.review.len(), 2);
    assert!(res.review[0].correct && !res.review[1].correct);
    assert_eq!(
        res.recorded.completed_modules,
        ["m2"],
        "a submitted quiz is done"
    );
    assert!(matches!(
        store.submit_quiz(p.id, "demo", a.attempt_id, 1),
        Err(LearnerError::AttemptClosed(_))
    ));

    // All modules done, but moveOn is CompletedAndPassed: no certificate yet.
    let progress = store.progress(p.id, "demo").unwrap();
    assert!(progress.completed && !progress.satisfied);
    assert!(store.certificate(p.id, "demo").unwrap().is_none());

    // Final assessment: four drawn from the bank; feedback withheld.
    let a = store.start_quiz(p.id, "demo", "final").unwrap();
    assert!(a.is_assessment);
    assert_eq!(a.questions.len(), 4);
    let drawn: Vec<String> = a.questions.iter().map(|q| q.id.clone()).collect();
    let events = store.events(p.id, "demo").unwrap();
    let started = events
        .iter()
        .rev()
        .find(|e| matches!(e.kind, EventKind::QuizStarted { .. }))
        .unwrap();
    assert_eq!(
        started.kind,
        EventKind::QuizStarted {
            attempt: a.attempt_id,
            questions: drawn.clone()
        },
        "the draw is recorded"
    );
    for q in &drawn {
        let f = store
            .answer_question(p.id, "demo", Some(a.attempt_id), q, &wrong(q))
            .unwrap();
        assert!(!f.revealed && f.correct.is_none() && f.explanation_html.is_none());
        assert!(f
            .options
            .iter()
            .all(|o| !o.correct && o.feedback_html.is_empty()));
    }
    // The attempt can be resumed with its answers after a restart.
    let open = store.open_attempt(p.id, "demo", "final").unwrap().unwrap();
    assert_eq!(open.attempt_id, a.attempt_id);
    assert_eq!(open.answers.len(), 4);
    let failed = store.submit_quiz(p.id, "demo", a.attempt_id, 300).unwrap();
    assert!(!failed.passed && failed.score.correct == 0);
    assert!(store.open_attempt(p.id, "demo", "final").unwrap().is_none());

    let a = store.start_quiz(p.id, "demo", "final").unwrap();
    for q in &a.questions {
        // A wrong answer first, then corrected: the last answer counts.
        store
            .answer_question(p.id, "demo", Some(a.attempt_id), &q.id, &wrong(&q.id))
            .unwrap();
        store
            .answer_question(p.id, "demo", Some(a.attempt_id), &q.id, &correct(&q.id))
            .unwrap();
    }
    let passed = store.submit_quiz(p.id, "demo", a.attempt_id, 200).unwrap();
    assert!(passed.passed);
    assert_eq!(passed.percent, 100);
    assert_eq!(passed.attempts, 2);
    assert!(passed.recorded.course_satisfied);
    assert!(passed
        .review
        .iter()
        .all(|r| r.correct && !r.explanation_html.is_empty()));

    let progress = store.progress(p.id, "demo").unwrap();
    assert!(progress.satisfied);
    assert_eq!(progress.fraction_done, 1.0);
    assert_eq!(
        store.catalog(p.id).unwrap()[0].state,
        CourseState::Satisfied
    );

    // Certificate: deterministic code, verified only once the hub has the events.
    let cert = store.certificate(p.id, "demo").unwrap().unwrap();
    assert_eq!(cert.learner_name, "Amina");
    assert_eq!(cert.course_version, "1.0.0");
    assert_eq!(cert.best_score.unwrap().correct, 4);
    assert_eq!(
        cert.events.len(),
        5,
        "four lessons done + the passing attempt"
    );
    assert!(!cert.verified);
    assert_eq!(
        store
            .certificate(p.id, "demo")
            .unwrap()
            .unwrap()
            .verification_code,
        cert.verification_code
    );
    let pending = store.pending_events(1000).unwrap();
    let answers: Vec<_> = pending
        .iter()
        .map(|e| (e.id, SyncOutcome::Accepted))
        .collect();
    store.mark_synced(&answers).unwrap();
    let cert2 = store.certificate(p.id, "demo").unwrap().unwrap();
    assert!(cert2.verified);
    assert_eq!(cert2.verification_code, cert.verification_code);

    // The log: one sequence without gaps, one marker per module and course,
    // and every event maps to an xAPI statement with its id.
    let events = store.events(p.id, "demo").unwrap();
    let mut seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    let count = |name: &str| events.iter().filter(|e| e.kind.name() == name).count();
    assert_eq!(count("module_completed"), 2);
    assert_eq!(count("course_completed"), 1);
    let structure = outpost_package::sample::content("1.0.0").structure;
    let ctx = XapiContext {
        home_page: "https://hub.example.org".into(),
    };
    for e in &events {
        assert_eq!(e.learner_id, p.id.0);
        assert_eq!(e.device_id, store.device_id());
        let s = statement(e, &structure, &ctx).unwrap();
        assert_eq!(s["id"], serde_json::json!(e.id));
        let verb = s["verb"]["id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let expect = match e.kind.name() {
            "lesson_viewed" => "experienced",
            "quiz_started" => "attempted",
            "question_answered" => "answered",
            "quiz_submitted" => {
                if s["result"]["success"] == true {
                    "passed"
                } else {
                    "failed"
                }
            }
            _ => "completed",
        };
        assert_eq!(verb, expect);
    }
}

#[test]
fn the_lesson_player_gets_text_without_the_answer_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    let l = store.lesson(p.id, "demo", "l1").unwrap();
    assert_eq!(l.title, "Why migrants are hit harder (en)");
    assert_eq!(l.module_title, "Module m1 (en)");
    assert_eq!((l.lang.as_str(), l.fell_back), ("en", false));
    assert_eq!(l.headings[0].anchor, "intro");
    assert_eq!(l.questions.len(), 1);
    assert_eq!(l.questions[0].options.len(), 2);
    assert_eq!((l.prev.as_deref(), l.next.as_deref()), (None, Some("l2")));
    let json = serde_json::to_string(&l).unwrap();
    assert!(
        !json.contains("correct")
            && !json.contains("Feedback for")
            && !json.contains("Why check-1")
    );
    // Across the module boundary.
    let l = store.lesson(p.id, "demo", "l3").unwrap();
    assert_eq!(
        (l.prev.as_deref(), l.next.as_deref()),
        (Some("l2"), Some("m2-quiz"))
    );
    assert_eq!(store.lesson(p.id, "demo", "m2-quiz").unwrap().next, None);

    // French where the course has it; Spanish falls back to English.
    let fr = store.create_profile("Awa", Language::Fr, None).unwrap();
    let l = store.lesson(fr.id, "demo", "l1").unwrap();
    assert_eq!((l.lang.as_str(), l.fell_back), ("fr", false));
    assert!(l.title.ends_with("(fr)"));
    let es = store.create_profile("Luz", Language::Es, None).unwrap();
    let l = store.lesson(es.id, "demo", "l1").unwrap();
    assert_eq!((l.lang.as_str(), l.fell_back), ("en", true));
    let outline = store.outline(es.id, "demo").unwrap();
    assert!(outline.fell_back);
    assert_eq!(outline.modules.len(), 2);
    assert_eq!(
        outline.modules[1].lessons[1].kind,
        outpost_model::LessonKind::Quiz
    );
    assert_eq!(outline.modules[0].objectives, ["Understand m1."]);
    assert_eq!(outline.assessment.as_ref().unwrap().questions, 4);
    assert_eq!(
        outline.assessment.as_ref().unwrap().title,
        "Final assessment (en)"
    );

    // Assets by name.
    let svg = store.asset("demo", "diagram.svg").unwrap().unwrap();
    assert_eq!(svg.media_type, "image/svg+xml");
    assert!(store.asset("demo", "nope.png").unwrap().is_none());
}

fn e<T: std::fmt::Debug>(r: Result<T, LearnerError>) -> LearnerError {
    r.unwrap_err()
}

#[test]
fn bad_calls_get_precise_errors_and_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    let before = store.events(p.id, "demo").unwrap().len();
    assert!(matches!(
        e(store.view_lesson(p.id, "demo", "zzz", 1, 0.0, false)),
        LearnerError::UnknownLesson { .. }
    ));
    assert!(matches!(
        e(store.view_lesson(p.id, "nope", "l1", 1, 0.0, false)),
        LearnerError::CourseNotInstalled(_)
    ));
    assert!(matches!(
        e(store.view_lesson(p.id, "demo", "l1", 1, 1.5, false)),
        LearnerError::Invalid { .. }
    ));
    assert!(matches!(
        e(store.view_lesson(p.id, "demo", "l1", 1, f64::NAN, false)),
        LearnerError::Invalid { .. }
    ));
    let ghost = outpost_learner::ProfileId(uuid::Uuid::now_v7());
    assert!(matches!(
        e(store.view_lesson(ghost, "demo", "l1", 1, 0.1, false)),
        LearnerError::UnknownProfile(_)
    ));
    assert!(matches!(
        e(store.start_quiz(p.id, "demo", "l1")),
        LearnerError::NotAQuiz { .. }
    ));
    assert!(matches!(
        e(store.answer_question(p.id, "demo", None, "quiz-q1", &correct("quiz-q1"))),
        LearnerError::NotACheck(_)
    ));
    assert!(matches!(
        e(store.answer_question(p.id, "demo", None, "check-1", &["z".into()])),
        LearnerError::InvalidResponse { .. }
    ));
    assert!(matches!(
        e(store.answer_question(p.id, "demo", None, "check-1", &[])),
        LearnerError::InvalidResponse { .. }
    ));
    assert!(matches!(
        e(store.answer_question(p.id, "demo", None, "check-1", &["a".into(), "b".into()])),
        LearnerError::InvalidResponse { .. }
    ));
    assert!(matches!(
        e(store.answer_question(p.id, "demo", None, "nope", &["a".into()])),
        LearnerError::UnknownQuestion { .. }
    ));
    let stray = uuid::Uuid::now_v7();
    assert!(matches!(
        e(store.submit_quiz(p.id, "demo", stray, 1)),
        LearnerError::UnknownAttempt(_)
    ));
    // Another profile cannot use this one's attempt.
    let a = store.start_quiz(p.id, "demo", "m2-quiz").unwrap();
    let other = store.create_profile("Ali", Language::En, None).unwrap();
    assert!(matches!(
        e(store.submit_quiz(other.id, "demo", a.attempt_id, 1)),
        LearnerError::UnknownAttempt(_)
    ));
    assert_eq!(
        store.events(p.id, "demo").unwrap().len(),
        before + 1,
        "only the quiz start"
    );
    // Hours of an open lesson are capped, not refused.
    store
        .view_lesson(p.id, "demo", "l1", 100_000, 0.3, false)
        .unwrap();
    assert_eq!(
        store.progress(p.id, "demo").unwrap().lessons["l1"].seconds,
        4 * 3600
    );
    assert_eq!(
        store.progress(p.id, "demo").unwrap().lesson_status("l1"),
        LessonStatus::InProgress
    );
}
