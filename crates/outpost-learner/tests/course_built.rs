//! The example course built by the real compiler (`outpost-course`),
//! installed and studied to completion through the public API.

use outpost_learner::{CourseState, Language, SearchOptions, Store};
use outpost_model::{LessonKind, LessonStatus};
use outpost_package::Package;
use std::path::Path;

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/courses/demo-course")
}

#[test]
fn the_compiled_demo_course_is_studied_to_completion_in_french() {
    let dir = tempfile::tempdir().unwrap();
    let key = outpost_course::development_key();
    let built = outpost_course::build(&fixture(), &dir.path().join("out"), &key).unwrap();
    let pkg_path = &built.packages[0].path;
    let answer_key = Package::open(pkg_path).unwrap().structure().clone();

    let store = Store::open(&dir.path().join("data")).unwrap();
    // Nothing is trusted by default: the development key must be trusted
    // explicitly (only tests do that).
    assert!(store.install(pkg_path).is_err());
    store.trust_key(key.verifying_key(), "development").unwrap();
    let report = store.install(pkg_path).unwrap();
    let course = report.course_id.clone();
    assert_eq!(course, "demo-course");

    let p = store.create_profile("Awa", Language::Fr, None).unwrap();
    let correct = |q: &str| -> Vec<String> {
        answer_key.questions[q]
            .correct_ids()
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let outline = store.outline(p.id, &course).unwrap();
    assert_eq!(outline.lang, "fr");
    assert!(!outline.fell_back);
    assert!(outline.title.starts_with("Les migrants"));
    for module in &outline.modules {
        assert!(!module.title.is_empty());
        for lesson in &module.lessons {
            let view = store.lesson(p.id, &course, &lesson.id).unwrap();
            assert_eq!(view.lang, "fr");
            assert!(!view.html.is_empty());
            for q in &view.questions {
                assert!(!q.stem_html.is_empty() && !q.options.is_empty(), "{}", q.id);
            }
            match lesson.kind {
                LessonKind::Lesson => {
                    for q in &view.questions {
                        let f = store
                            .answer_question(p.id, &course, None, &q.id, &correct(&q.id))
                            .unwrap();
                        assert_eq!(f.correct, Some(true));
                    }
                    store
                        .view_lesson(p.id, &course, &lesson.id, 120, 1.0, true)
                        .unwrap();
                }
                LessonKind::Quiz => {
                    let a = store.start_quiz(p.id, &course, &lesson.id).unwrap();
                    for q in &a.questions {
                        store
                            .answer_question(
                                p.id,
                                &course,
                                Some(a.attempt_id),
                                &q.id,
                                &correct(&q.id),
                            )
                            .unwrap();
                    }
                    let r = store.submit_quiz(p.id, &course, a.attempt_id, 200).unwrap();
                    assert!(r.passed);
                }
            }
        }
    }
    let progress = store.progress(p.id, &course).unwrap();
    assert!(progress.completed);
    assert!(progress
        .lessons
        .values()
        .all(|l| l.status == LessonStatus::Done));

    let assessment = outline
        .assessment
        .as_ref()
        .expect("the course has a final assessment");
    let a = store.start_quiz(p.id, &course, &assessment.id).unwrap();
    assert_eq!(a.questions.len() as u32, assessment.questions);
    for q in &a.questions {
        store
            .answer_question(p.id, &course, Some(a.attempt_id), &q.id, &correct(&q.id))
            .unwrap();
    }
    let r = store.submit_quiz(p.id, &course, a.attempt_id, 300).unwrap();
    assert!(r.passed && r.recorded.course_satisfied);

    let catalog = store.catalog(p.id).unwrap();
    assert_eq!(catalog[0].state, CourseState::Satisfied);
    assert_eq!(catalog[0].fraction_done, 1.0);
    let cert = store.certificate(p.id, &course).unwrap().unwrap();
    assert_eq!(cert.lang, "fr");
    assert!(!cert.verified);

    // The compiled course's text is searchable in both languages.
    let hits = store.search("migrants", &SearchOptions::default()).unwrap();
    assert!(hits.iter().any(|h| h.lang == "fr"));
    assert!(hits.iter().any(|h| h.lang == "en"));
}
