//! What the compiler produces: sanitised HTML with rewritten links and
//! images, heading anchors, plain text, the structure with its answer keys,
//! and packages that are the same bytes for the same sources.

mod common;
use common::*;
use outpost_model::{LessonKind, QuestionType};
use outpost_package::PackageContent;
use std::path::Path;

fn content(changes: &[Change]) -> PackageContent {
    let (courses, d) = outpost_course::load_files(Path::new("c"), apply(changes));
    assert!(!d.has_errors(), "{d}");
    assert_eq!(courses.len(), 1);
    outpost_course::compile(&courses[0])
}

fn lesson<'c>(c: &'c PackageContent, id: &str, lang: &str) -> &'c outpost_package::LessonText {
    c.lessons
        .iter()
        .find(|l| l.lesson_id == id && l.lang == lang)
        .unwrap_or_else(|| panic!("no lesson {id} in {lang}"))
}

#[test]
fn links_images_and_questions_are_rewritten() {
    let c = content(&[]);
    let a = lesson(&c, "a", "en");
    assert!(
        a.html.contains(r#"<h2 id="start">Start</h2>"#),
        "{}",
        a.html
    );
    assert!(
        a.html
            .contains(r#"<img src="asset:pic.svg" alt="A picture">"#),
        "{}",
        a.html
    );
    assert!(a.html.contains(r#"href="lesson:b#far""#), "{}", a.html);
    let b = lesson(&c, "b", "en");
    assert!(
        b.html
            .contains(r#"<div class="question" data-question-id="q1"></div>"#),
        "{}",
        b.html
    );
    // The question's text is not in the lesson page, nor in its search text.
    assert!(!b.html.contains("Pick one"), "{}", b.html);
    assert!(
        !b.text.contains("Pick one") && !b.text.contains("Good."),
        "{}",
        b.text
    );
    assert_eq!(c.assets.len(), 1);
    assert_eq!(c.assets[0].name, "pic.svg");
    assert_eq!(c.assets[0].media_type, "image/svg+xml");
}

#[test]
fn questions_carry_rendered_text_and_their_key() {
    let c = content(&[edit(
        "en/01-m/02-b.md",
        "Pick one.",
        "Pick **one**: see [a](01-a.md#start).",
    )]);
    let q = c
        .questions
        .iter()
        .find(|q| q.question_id == "q1" && q.lang == "en")
        .unwrap();
    assert!(
        q.stem_html.contains("<strong>one</strong>"),
        "{}",
        q.stem_html
    );
    assert!(
        q.stem_html.contains(r#"href="lesson:a#start""#),
        "{}",
        q.stem_html
    );
    assert_eq!(q.options.len(), 2);
    assert_eq!(
        (q.options[0].id.as_str(), q.options[1].id.as_str()),
        ("a", "b")
    );
    assert_eq!(q.options[0].html, "<p>Yes</p>\n");
    assert_eq!(q.options[0].feedback_html, "<p>Good.</p>\n");
    assert_eq!(q.explanation_html, "<p>Because.</p>\n");
    let key = &c.structure.questions["q1"];
    assert_eq!(key.question_type, QuestionType::Single);
    assert_eq!(key.correct_ids(), vec!["a"]);
    assert_eq!(
        c.structure.questions["q2"].question_type,
        QuestionType::TrueFalse
    );
}

#[test]
fn structure_follows_file_order_and_course_toml() {
    let c = content(&[]);
    let s = &c.structure;
    assert_eq!(s.id, "c");
    assert_eq!(s.modules.len(), 1);
    let ids: Vec<&str> = s.modules[0].lessons.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(s.modules[0].lessons[1].questions, ["q1"]);
    assert_eq!(s.modules[0].lessons[0].kind, LessonKind::Lesson);
    let a = s.assessment.as_ref().unwrap();
    assert_eq!((a.id.as_str(), a.draw, a.minutes), ("final", 1, 5));
    assert_eq!(a.bank, ["q2"]);
    assert_eq!(c.manifest.languages, ["en", "fr"]);
    assert_eq!(c.manifest.assessment_title["fr"], "Finale");
    // Every language has its own texts under the same ids.
    assert_eq!(c.lessons.len(), 4);
    assert_eq!(c.questions.len(), 4);
    assert_eq!(c.modules.len(), 2);
}

#[test]
fn raw_html_and_scripts_never_reach_the_package() {
    let c = content(&[append(
        "en/01-m/01-a.md",
        "\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> and [x](https://example.org \"t\").\n",
    )]);
    let a = lesson(&c, "a", "en");
    for bad in ["<script", "onerror", "alert", "src=\"x\""] {
        assert!(!a.html.contains(bad), "{bad} in {}", a.html);
    }
    assert!(
        a.html
            .contains(r#"<a href="https://example.org" title="t" rel="noopener noreferrer">x</a>"#),
        "{}",
        a.html
    );
}

#[test]
fn headings_get_unique_stable_anchors() {
    let c = content(&[append(
        "en/01-m/01-a.md",
        "\n## Start\n\n### Who does *what*?\n",
    )]);
    let a = lesson(&c, "a", "en");
    let anchors: Vec<(u8, &str, &str)> = a
        .headings
        .iter()
        .map(|h| (h.level, h.anchor.as_str(), h.text.as_str()))
        .collect();
    assert_eq!(
        anchors,
        [
            (2, "start", "Start"),
            (2, "start-2", "Start"),
            (3, "who-does-what", "Who does what?")
        ]
    );
    assert!(
        a.html.contains(r#"<h2 id="start-2">Start</h2>"#),
        "{}",
        a.html
    );
    assert!(
        a.html
            .contains(r#"<h3 id="who-does-what">Who does <em>what</em>?</h3>"#),
        "{}",
        a.html
    );
}

#[test]
fn callouts_are_semantic_html_titled_in_the_lesson_language() {
    let callouts = "\n:::note\nA note.\n:::\n\n:::checklist Before you go\n- [ ] Pack\n:::\n";
    let c = content(&[
        append("en/01-m/01-a.md", callouts),
        append("fr/01-m/01-a.md", callouts),
    ]);
    let en = &lesson(&c, "a", "en").html;
    let fr = &lesson(&c, "a", "fr").html;
    assert!(
        en.contains("<aside class=\"callout note\" role=\"note\">\n<p class=\"callout-title\">Note</p>\n<p>A note.</p>\n</aside>"),
        "{en}"
    );
    assert!(
        fr.contains("<p class=\"callout-title\">Remarque</p>"),
        "{fr}"
    );
    assert!(
        en.contains("<p class=\"callout-title\">Before you go</p>"),
        "{en}"
    );
    assert!(
        en.contains(r#"<input type="checkbox" disabled="">"#),
        "{en}"
    );
    let text = &lesson(&c, "a", "en").text;
    assert!(
        text.contains("Before you go") && text.contains("Pack"),
        "{text}"
    );
}

#[test]
fn the_demo_course_is_clean_and_complete() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/courses");
    let (courses, d) = outpost_course::load(&dir);
    assert!(d.is_empty(), "{d}");
    assert_eq!(courses.len(), 1);
    let c = outpost_course::compile(&courses[0]);
    assert_eq!(c.manifest.id, "demo-course");
    assert_eq!(c.manifest.languages, ["en", "fr"]);
    let types: std::collections::BTreeSet<&str> = c
        .structure
        .lessons()
        .filter(|(_, l)| l.kind == LessonKind::Lesson)
        .flat_map(|(_, l)| l.questions.iter())
        .map(|q| c.structure.questions[q].question_type.as_str())
        .collect();
    assert_eq!(types.len(), 4, "a knowledge check of every type: {types:?}");
    let a = c.structure.assessment.as_ref().unwrap();
    assert!(a.bank.len() > a.draw as usize);
    let html: String = c.lessons.iter().map(|l| l.html.as_str()).collect();
    for kind in ["note", "warning", "checklist", "scenario"] {
        assert!(
            html.contains(&format!("callout {kind}")),
            "no {kind} callout"
        );
    }
    assert!(html.contains("<table>") && html.contains("asset:three-phases.svg"));
    assert!(html.contains("href=\"lesson:registration#"));
}

#[test]
fn outline_lists_modules_lessons_and_totals() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/courses/demo-course");
    let (courses, _) = outpost_course::load(&dir);
    let o = outpost_course::outline(&courses[0]);
    assert!(o.starts_with("# Migrants in a crisis"), "{o}");
    assert!(o.contains("## 1. Crises and migrants (`m1-crises`)"), "{o}");
    assert!(
        o.contains("- Explain why migrants are often hit harder"),
        "{o}"
    );
    assert!(
        o.contains("| The consular register | `registration` | lesson | 10 | 2 |"),
        "{o}"
    );
    assert!(o.contains("Draws 4 of 6 questions in the bank"), "{o}");
    // 8 + 10 + 5 + 10 + 5 minutes of lessons and 10 for the assessment.
    assert!(
        o.contains("- Minutes: 48 (38 in lessons and 10 for the assessment)"),
        "{o}"
    );
}

#[test]
fn build_writes_nothing_when_there_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for (p, b) in apply(&[edit("en/01-m/02-b.md", "- [x] Yes", "- [ ] Yes")]) {
        let path = src.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    }
    let out = dir.path().join("out");
    let err = outpost_course::build(&src, &out, &outpost_course::development_key()).unwrap_err();
    match err {
        outpost_course::BuildError::Invalid(d) => assert_eq!(d.errors().count(), 1, "{d}"),
        e => panic!("{e}"),
    }
    assert!(!out.exists());
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(matches!(
        outpost_course::build(&empty, &out, &outpost_course::development_key()),
        Err(outpost_course::BuildError::NoCourse(_))
    ));
}

#[test]
fn builds_are_byte_identical_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    for (p, b) in base() {
        let path = src.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b).unwrap();
    }
    let key = outpost_course::development_key();
    let one = outpost_course::build(&src, &dir.path().join("1"), &key).unwrap();
    let two = outpost_course::build(&src, &dir.path().join("2"), &key).unwrap();
    assert_eq!(one.packages.len(), 1);
    let p1 = &one.packages[0];
    assert_eq!(p1.path.file_name().unwrap(), "c-1.0.0.opkg");
    assert_eq!(
        std::fs::read(&p1.path).unwrap(),
        std::fs::read(&two.packages[0].path).unwrap()
    );
    let pkg = outpost_package::Package::open(&p1.path).unwrap();
    pkg.verify(&[key.verifying_key()]).unwrap();
    assert_eq!(pkg.content_hash_hex(), p1.content_hash);
    assert_eq!(pkg.read_content().unwrap(), content(&[]));
}
