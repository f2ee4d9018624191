//! Content rules for the flagship course in `courses/micic-consular`
//! ("Flagship course content rules" in docs/course-format.md): it validates
//! cleanly, every module has objectives, a scenario and a quiz, every
//! question has feedback and an explanation, the bank is large enough, no
//! lesson is too long to read in one sitting, the minutes add up to about
//! five hours, and docs/course-outline.md matches the sources.
//!
//! Each test reports every offending item at once, so an author can fix a
//! whole run of problems from one failure.

use outpost_model::{LessonKind, QuestionType};
use outpost_package::PackageContent;
use std::path::{Path, PathBuf};

/// Most words of body text in one lesson (its prose, tables and callouts;
/// question blocks are not counted). About six minutes of reading.
const MAX_LESSON_WORDS: usize = 900;
/// Lessons per module, the module quiz not counted.
const LESSONS_PER_MODULE: std::ops::RangeInclusive<usize> = 3..=6;
/// Questions in a module quiz.
const QUIZ_QUESTIONS: std::ops::RangeInclusive<usize> = 4..=6;
const MIN_BANK: usize = 60;
/// Total estimated minutes: lessons plus the final assessment.
const TOTAL_MINUTES: std::ops::RangeInclusive<u32> = 240..=360;

const REGENERATE: &str =
    "cargo run -q -p outpost-course -- outline courses/micic-consular > docs/course-outline.md";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn course_dir() -> PathBuf {
    repo().join("courses/micic-consular")
}

/// The flagship course, compiled. Panics with every diagnostic if it does
/// not load cleanly, since no other rule means much until it does.
fn flagship() -> (outpost_course::SourceCourse, PackageContent) {
    let (mut courses, diags) = outpost_course::load(&course_dir());
    assert!(
        diags.is_empty(),
        "courses/micic-consular must validate with no errors and no warnings; got {} error(s), {} warning(s):\n{diags}",
        diags.errors().count(),
        diags.warnings().count()
    );
    assert_eq!(courses.len(), 1, "expected exactly one course");
    let course = courses.remove(0);
    assert_eq!(course.id(), "micic-consular");
    let content = outpost_course::compile(&course);
    (course, content)
}

/// Visible text of an HTML fragment: tags dropped, entities left as they
/// are (enough to tell empty from not empty).
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn fail_with(problems: &[String], what: &str) {
    assert!(
        problems.is_empty(),
        "{} {what}:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn flagship_validates_without_errors_or_warnings() {
    // `flagship` asserts it; this test names the rule on its own line.
    let (_, c) = flagship();
    assert!(!c.structure.modules.is_empty());
}

#[test]
fn every_module_has_objectives_lessons_a_scenario_and_a_quiz() {
    let (_, c) = flagship();
    let mut problems = Vec::new();
    for m in &c.structure.modules {
        for lang in &c.manifest.languages {
            let text = c
                .modules
                .iter()
                .find(|t| t.module_id == m.id && &t.lang == lang);
            match text {
                None => problems.push(format!("{}: no module text in {lang}", m.id)),
                Some(t) if t.objectives.iter().all(|o| o.trim().is_empty()) => {
                    problems.push(format!("{}: no learning objectives in {lang}", m.id))
                }
                Some(_) => {}
            }
            let scenario_box = m.lessons.iter().any(|l| {
                c.lessons.iter().any(|t| {
                    t.lesson_id == l.id
                        && &t.lang == lang
                        && t.html.contains(r#"class="callout scenario""#)
                })
            });
            if !scenario_box {
                problems.push(format!(
                    "{}: no `:::scenario` box in any lesson ({lang})",
                    m.id
                ));
            }
        }

        let lessons = m
            .lessons
            .iter()
            .filter(|l| l.kind == LessonKind::Lesson)
            .count();
        if !LESSONS_PER_MODULE.contains(&lessons) {
            problems.push(format!(
                "{}: {lessons} lessons besides the quiz; the rule is {} to {}",
                m.id,
                LESSONS_PER_MODULE.start(),
                LESSONS_PER_MODULE.end()
            ));
        }

        let scenario_question = m.lessons.iter().flat_map(|l| &l.questions).any(|q| {
            c.structure
                .questions
                .get(q)
                .is_some_and(|k| k.question_type == QuestionType::Scenario)
        });
        if !scenario_question {
            problems.push(format!("{}: no `type=scenario` question", m.id));
        }

        let quizzes: Vec<_> = m
            .lessons
            .iter()
            .filter(|l| l.kind == LessonKind::Quiz)
            .collect();
        if quizzes.is_empty() {
            problems.push(format!("{}: no quiz lesson (kind = \"quiz\")", m.id));
        }
        for q in quizzes {
            if !QUIZ_QUESTIONS.contains(&q.questions.len()) {
                problems.push(format!(
                    "{}: quiz `{}` has {} questions; the rule is {} to {}",
                    m.id,
                    q.id,
                    q.questions.len(),
                    QUIZ_QUESTIONS.start(),
                    QUIZ_QUESTIONS.end()
                ));
            }
        }
    }
    fail_with(&problems, "module(s) break the content rules");
}

#[test]
fn every_question_has_feedback_on_every_option_and_an_explanation() {
    let (_, c) = flagship();
    let mut problems = Vec::new();
    for (id, key) in &c.structure.questions {
        for lang in &c.manifest.languages {
            let Some(q) = c
                .questions
                .iter()
                .find(|q| &q.question_id == id && &q.lang == lang)
            else {
                problems.push(format!("{id}: no text in {lang}"));
                continue;
            };
            if q.options.len() != key.options.len() || q.options.len() < 2 {
                problems.push(format!(
                    "{id} ({lang}): {} options in the text, {} in the answer key",
                    q.options.len(),
                    key.options.len()
                ));
            }
            for o in &q.options {
                if visible_text(&o.html).is_empty() {
                    problems.push(format!("{id} ({lang}): option {} has no text", o.id));
                }
                if visible_text(&o.feedback_html).is_empty() {
                    problems.push(format!("{id} ({lang}): option {} has no feedback", o.id));
                }
            }
            if visible_text(&q.explanation_html).is_empty() {
                problems.push(format!("{id} ({lang}): no explanation"));
            }
            if visible_text(&q.stem_html).is_empty() {
                problems.push(format!("{id} ({lang}): no stem"));
            }
        }
        if key.correct_ids().is_empty() {
            problems.push(format!("{id}: no correct option"));
        }
    }
    fail_with(&problems, "question(s) lack feedback or an explanation");
}

#[test]
fn the_bank_has_at_least_60_questions_and_more_than_the_draw() {
    let (_, c) = flagship();
    let a = c
        .structure
        .assessment
        .as_ref()
        .expect("the flagship course has a final assessment");
    assert!(
        a.bank.len() >= MIN_BANK,
        "the final-assessment bank has {} questions; it needs at least {MIN_BANK}",
        a.bank.len()
    );
    assert!(
        a.bank.len() > a.draw as usize,
        "the bank ({}) must be larger than the draw ({}) so that attempts differ",
        a.bank.len(),
        a.draw
    );
    let mut problems = Vec::new();
    for q in &a.bank {
        if !c.structure.questions.contains_key(q) {
            problems.push(format!("{q}: in the bank but not in the course"));
        }
    }
    fail_with(&problems, "bank entries are unknown");
}

#[test]
fn no_lesson_body_is_longer_than_the_limit() {
    let (_, c) = flagship();
    let mut problems = Vec::new();
    for l in &c.lessons {
        let words = word_count(&l.text);
        if words > MAX_LESSON_WORDS {
            problems.push(format!(
                "{} ({}): {words} words; split it or cut it to {MAX_LESSON_WORDS}",
                l.lesson_id, l.lang
            ));
        }
    }
    fail_with(&problems, "lesson(s) are too long for one sitting");
}

#[test]
fn total_minutes_are_about_five_hours_and_match_course_toml() {
    let (_, c) = flagship();
    let lessons: u32 = c
        .structure
        .modules
        .iter()
        .flat_map(|m| &m.lessons)
        .map(|l| l.minutes)
        .sum();
    let assessment = c.structure.assessment.as_ref().map_or(0, |a| a.minutes);
    let total = lessons + assessment;
    assert!(
        TOTAL_MINUTES.contains(&total),
        "lessons ({lessons}) plus the assessment ({assessment}) make {total} minutes; the course should take {} to {}",
        TOTAL_MINUTES.start(),
        TOTAL_MINUTES.end()
    );
    assert_eq!(
        c.manifest.estimated_minutes, total,
        "course.toml's estimated_minutes should be the true sum of lesson and assessment minutes"
    );
}

#[test]
fn course_outline_doc_matches_the_sources() {
    let (course, _) = flagship();
    let expected = outpost_course::outline(&course);
    let path = repo().join("docs/course-outline.md");
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/course-outline.md is out of date with courses/micic-consular (or missing). Regenerate it from the repository root with:\n  {REGENERATE}"
    );
}

#[test]
fn word_count_ignores_punctuation_only_tokens() {
    assert_eq!(word_count("Stay indoors — next update at 18:00."), 6);
    assert_eq!(
        visible_text("<p>Right. <strong>Yes</strong></p>\n"),
        "Right.  Yes"
    );
    assert!(visible_text("<p></p>\n").is_empty());
}
