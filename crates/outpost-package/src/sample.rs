//! A small but complete course, for tests and benchmarks in any crate that
//! needs a real package without running the compiler.
//!
//! Course `demo` in English and French: module `m1` (lessons `l1` with a
//! knowledge check `check-1`, and `l2`), module `m2` (lesson `l3` and quiz
//! `m2-quiz` with `quiz-q1`, `quiz-q2`), and a final assessment `final`
//! drawing 4 of `bank-1`..`bank-6`. Correct answers: check-1 a, quiz-q1 b,
//! quiz-q2 a+c, bank-1 a, bank-2 b, bank-3 c, bank-4 b, bank-5 a+b, bank-6 a.

use crate::{
    Asset, Heading, LessonText, Manifest, ModuleText, OptionText, PackageContent, QuestionText,
};
use outpost_model::{
    AssessmentInfo, CourseStructure, LessonInfo, LessonKind, ModuleInfo, MoveOn, OptionKey,
    QuestionKey, QuestionType,
};
use std::collections::BTreeMap;

const KEYS: &[(&str, QuestionType, &[&str], usize)] = &[
    ("check-1", QuestionType::TrueFalse, &["a"], 2),
    ("quiz-q1", QuestionType::Single, &["b"], 3),
    ("quiz-q2", QuestionType::Multiple, &["a", "c"], 4),
    ("bank-1", QuestionType::Single, &["a"], 3),
    ("bank-2", QuestionType::Single, &["b"], 3),
    ("bank-3", QuestionType::Scenario, &["c"], 3),
    ("bank-4", QuestionType::TrueFalse, &["b"], 2),
    ("bank-5", QuestionType::Multiple, &["a", "b"], 3),
    ("bank-6", QuestionType::Single, &["a"], 4),
];

/// Lessons per module: (module, [(lesson, kind, questions)]).
type Layout = [(
    &'static str,
    &'static [(&'static str, LessonKind, &'static [&'static str])],
)];
const LAYOUT: &Layout = &[
    (
        "m1",
        &[
            ("l1", LessonKind::Lesson, &["check-1"]),
            ("l2", LessonKind::Lesson, &[]),
        ],
    ),
    (
        "m2",
        &[
            ("l3", LessonKind::Lesson, &[]),
            ("m2-quiz", LessonKind::Quiz, &["quiz-q1", "quiz-q2"]),
        ],
    ),
];

const TEXTS: &[(&str, &str, &str)] = &[
    (
        "l1",
        "Why migrants are hit harder",
        "Language barriers and lost documents make an évacuation harder for migrants.",
    ),
    (
        "l2",
        "Registration of nationals",
        "A consular register lists nationals and how to reach them in a crisis.",
    ),
    (
        "l3",
        "Evacuation planning",
        "Assembly points, transport and travel documents for an evacuation.",
    ),
    (
        "m2-quiz",
        "Module quiz",
        "Check what you learned about evacuation.",
    ),
];

/// The demo course at version `version`.
pub fn content(version: &str) -> PackageContent {
    let questions: BTreeMap<String, QuestionKey> = KEYS
        .iter()
        .map(|(id, t, correct, n)| {
            let options = (0..*n)
                .map(|i| {
                    let oid = ((b'a' + i as u8) as char).to_string();
                    OptionKey {
                        correct: correct.contains(&oid.as_str()),
                        id: oid,
                    }
                })
                .collect();
            (
                id.to_string(),
                QuestionKey {
                    id: id.to_string(),
                    question_type: *t,
                    options,
                },
            )
        })
        .collect();
    let structure = CourseStructure {
        id: "demo".into(),
        version: version.into(),
        move_on: MoveOn::CompletedAndPassed,
        passing_score: 0.75,
        estimated_minutes: 60,
        modules: LAYOUT
            .iter()
            .map(|(m, lessons)| ModuleInfo {
                id: m.to_string(),
                lessons: lessons
                    .iter()
                    .map(|(l, kind, qs)| LessonInfo {
                        id: l.to_string(),
                        kind: *kind,
                        minutes: 10,
                        questions: qs.iter().map(|q| q.to_string()).collect(),
                    })
                    .collect(),
            })
            .collect(),
        assessment: Some(AssessmentInfo {
            id: "final".into(),
            draw: 4,
            minutes: 20,
            bank: (1..=6).map(|i| format!("bank-{i}")).collect(),
        }),
        questions,
    };
    let langs = ["en", "fr"];
    let per_lang = |f: &dyn Fn(&str) -> String| -> BTreeMap<String, String> {
        langs.iter().map(|l| (l.to_string(), f(l))).collect()
    };
    let manifest = Manifest {
        id: "demo".into(),
        version: version.into(),
        title: per_lang(&|l| format!("Demo course ({l})")),
        description: per_lang(&|l| format!("A small course for tests ({l}).")),
        languages: langs.iter().map(|s| s.to_string()).collect(),
        default_language: "en".into(),
        publisher: "Outpost tests".into(),
        move_on: MoveOn::CompletedAndPassed,
        passing_score: 0.75,
        estimated_minutes: 60,
        assessment_title: per_lang(&|l| format!("Final assessment ({l})")),
    };
    let mut modules = Vec::new();
    let mut lessons = Vec::new();
    let mut question_texts = Vec::new();
    for lang in langs {
        for (m, ls) in LAYOUT {
            modules.push(ModuleText {
                module_id: m.to_string(),
                lang: lang.into(),
                title: format!("Module {m} ({lang})"),
                objectives: vec![format!("Understand {m}.")],
                intro_html: format!("<p>About {m}.</p>"),
            });
            for (l, _, qs) in ls.iter() {
                let (_, title, text) = TEXTS.iter().find(|(id, ..)| id == l).unwrap();
                let mut html = format!(
                    "<h2 id=\"intro\">Introduction</h2>\n<p>{text}</p>\n<p><img src=\"asset:diagram.svg\" alt=\"A diagram\"></p>\n"
                );
                for q in qs.iter() {
                    html.push_str(&format!(
                        "<div class=\"question\" data-question-id=\"{q}\"></div>\n"
                    ));
                }
                lessons.push(LessonText {
                    lesson_id: l.to_string(),
                    module_id: m.to_string(),
                    lang: lang.into(),
                    title: format!("{title} ({lang})"),
                    html,
                    text: format!("Introduction. {text}"),
                    headings: vec![Heading {
                        level: 2,
                        anchor: "intro".into(),
                        text: "Introduction".into(),
                    }],
                });
            }
        }
        for (id, _, _, n) in KEYS {
            question_texts.push(QuestionText {
                question_id: id.to_string(),
                lang: lang.into(),
                stem_html: format!("<p>Question {id}?</p>"),
                options: (0..*n)
                    .map(|i| {
                        let oid = ((b'a' + i as u8) as char).to_string();
                        OptionText {
                            html: format!("<p>Option {oid}</p>"),
                            feedback_html: format!("<p>Feedback for {oid}.</p>"),
                            id: oid,
                        }
                    })
                    .collect(),
                explanation_html: format!("<p>Why {id} is answered so.</p>"),
            });
        }
    }
    PackageContent {
        manifest,
        structure,
        modules,
        lessons,
        questions: question_texts,
        assets: vec![Asset {
            name: "diagram.svg".into(),
            media_type: "image/svg+xml".into(),
            bytes: br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>A diagram</title><rect width="10" height="10"/></svg>"#.to_vec(),
        }],
    }
}
