//! A Markdown outline of a course: what `docs/course-outline.md` is made of.

use crate::SourceCourse;
use outpost_model::LessonKind;
use std::fmt::Write;

/// The outline of `course` in its default language: modules, lessons with
/// minutes, objectives, question counts per module and in the bank, and
/// total minutes. Deterministic, so a test can compare it with a file.
pub fn outline(course: &SourceCourse) -> String {
    let c = course.content();
    let m = &c.manifest;
    let s = &c.structure;
    let lang = m.default_language.as_str();
    let mut o = String::new();
    let (title, _) = m.title_in(lang);
    let _ = writeln!(o, "# {title}\n");
    let _ = writeln!(
        o,
        "Course `{}`, version {}. Languages: {}. Completion rule: {}; passing score {}%.\n",
        m.id,
        m.version,
        m.languages.join(", "),
        m.move_on.as_str(),
        fmt_percent(m.passing_score)
    );
    let mut lesson_minutes = 0u32;
    for (i, mi) in s.modules.iter().enumerate() {
        let mt = c
            .modules
            .iter()
            .find(|t| t.module_id == mi.id && t.lang == lang);
        let mtitle = mt.map_or(mi.id.as_str(), |t| t.title.as_str());
        let _ = writeln!(o, "## {}. {} (`{}`)\n", i + 1, mtitle, mi.id);
        if let Some(t) = mt.filter(|t| !t.objectives.is_empty()) {
            let _ = writeln!(o, "Learning objectives:\n");
            for ob in &t.objectives {
                let _ = writeln!(o, "- {ob}");
            }
            o.push('\n');
        }
        let _ = writeln!(o, "| Lesson | Id | Kind | Minutes | Questions |");
        let _ = writeln!(o, "| --- | --- | --- | ---: | ---: |");
        let mut minutes = 0;
        let mut checks = 0;
        let mut quiz = 0;
        for l in &mi.lessons {
            let lt = c
                .lessons
                .iter()
                .find(|t| t.lesson_id == l.id && t.lang == lang)
                .map_or(l.id.as_str(), |t| t.title.as_str());
            let kind = match l.kind {
                LessonKind::Lesson => {
                    checks += l.questions.len();
                    "lesson"
                }
                LessonKind::Quiz => {
                    quiz += l.questions.len();
                    "quiz"
                }
            };
            minutes += l.minutes;
            let _ = writeln!(
                o,
                "| {} | `{}` | {kind} | {} | {} |",
                lt.replace('|', "\\|"),
                l.id,
                l.minutes,
                l.questions.len()
            );
        }
        lesson_minutes += minutes;
        let _ = writeln!(
            o,
            "\n{}, {minutes} minutes; {} ({} in lessons, {quiz} in the quiz).\n",
            plural(mi.lessons.len(), "lesson"),
            plural(checks + quiz, "question"),
            plural(checks, "knowledge check"),
        );
    }
    let mut total = lesson_minutes;
    match &s.assessment {
        Some(a) => {
            let (at, _) = match m.assessment_title.get(lang) {
                Some(t) => (t.as_str(), false),
                None => (a.id.as_str(), true),
            };
            let _ = writeln!(o, "## {at} (`{}`)\n", a.id);
            let _ = writeln!(
                o,
                "Draws {} of {} questions in the bank; {} minutes; passing score {}%.\n",
                a.draw,
                a.bank.len(),
                a.minutes,
                fmt_percent(m.passing_score)
            );
            total += a.minutes;
        }
        None => {
            let _ = writeln!(o, "## Final assessment\n\nNone.\n");
        }
    }
    let lessons: usize = s.modules.iter().map(|m| m.lessons.len()).sum();
    let _ = writeln!(o, "## Totals\n");
    let _ = writeln!(o, "- Modules: {}", s.modules.len());
    let _ = writeln!(o, "- Lessons: {lessons}");
    let _ = writeln!(
        o,
        "- Questions: {} ({} in the bank)",
        s.questions.len(),
        s.assessment.as_ref().map_or(0, |a| a.bank.len())
    );
    let _ = writeln!(
        o,
        "- Minutes: {total} ({lesson_minutes} in lessons{}); course.toml estimates {}",
        s.assessment.as_ref().map_or(String::new(), |a| format!(
            " and {} for the assessment",
            a.minutes
        )),
        m.estimated_minutes
    );
    o
}

fn fmt_percent(score: f64) -> String {
    let p = (score * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{}", p as i64)
    } else {
        format!("{p}")
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
