//! What the tests know about the bundled course, read from its package: the
//! titles a learner sees and the answer key — never answers typed into a
//! test by hand.

use anyhow::{anyhow, Result};
use outpost_model::{CourseStructure, LessonKind, QuestionKey};
use outpost_package::{LessonText, Manifest, Package, QuestionText};
use std::collections::BTreeMap;

/// Text as a person sees it: tags dropped, entities decoded, whitespace
/// collapsed.
pub fn visible_text(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "td",
        "th",
        "table",
        "blockquote",
        "aside",
        "section",
        "pre",
        "hr",
        "dt",
        "dd",
    ];
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[at + 1..at + end];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        // Block elements separate words; inline ones do not.
        if BLOCKS.contains(&name.as_str()) {
            out.push(' ');
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    squash(&decoded)
}

/// Collapse runs of whitespace to one space and trim.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub struct Course {
    pub manifest: Manifest,
    pub structure: CourseStructure,
    pub lang: String,
    lessons: BTreeMap<String, LessonText>,
    questions: BTreeMap<String, QuestionText>,
    module_titles: BTreeMap<String, String>,
}

impl Course {
    /// The course in its default language (what an English-speaking
    /// learner sees when the course has English, which the bundled ones do).
    pub fn read(pkg: &Package) -> Result<Course> {
        let content = pkg.read_content()?;
        let lang = if content.manifest.languages.iter().any(|l| l == "en") {
            "en".to_string()
        } else {
            content.manifest.default_language.clone()
        };
        let lessons = content
            .lessons
            .into_iter()
            .filter(|l| l.lang == lang)
            .map(|l| (l.lesson_id.clone(), l))
            .collect();
        let questions = content
            .questions
            .into_iter()
            .filter(|q| q.lang == lang)
            .map(|q| (q.question_id.clone(), q))
            .collect();
        let module_titles = content
            .modules
            .into_iter()
            .filter(|m| m.lang == lang)
            .map(|m| (m.module_id, m.title))
            .collect();
        Ok(Course {
            manifest: content.manifest,
            structure: content.structure,
            lang,
            lessons,
            questions,
            module_titles,
        })
    }

    pub fn title(&self) -> &str {
        self.manifest.title_in(&self.lang).0
    }

    pub fn lesson(&self, id: &str) -> Result<&LessonText> {
        self.lessons
            .get(id)
            .ok_or_else(|| anyhow!("the package has no {} text for lesson {id}", self.lang))
    }

    pub fn module_title<'a>(&'a self, id: &'a str) -> &'a str {
        self.module_titles.get(id).map_or(id, String::as_str)
    }

    /// Every lesson in course order: (id, kind, title).
    pub fn lessons_in_order(&self) -> Vec<(String, LessonKind, String)> {
        self.structure
            .lessons()
            .map(|(_, l)| {
                let title = self
                    .lessons
                    .get(&l.id)
                    .map_or(l.id.clone(), |t| t.title.clone());
                (l.id.clone(), l.kind, title)
            })
            .collect()
    }

    /// The question whose stem a person sees in `shown` (the text of its
    /// box), with its key and text.
    pub fn question_shown_in(&self, shown: &str) -> Result<(&QuestionKey, &QuestionText)> {
        let shown = squash(shown);
        // Stem and every option must be on screen (two questions may share a
        // stem); of those, the longest stem (one may be a prefix of another).
        self.questions
            .values()
            .filter(|q| {
                shown.contains(&visible_text(&q.stem_html))
                    && q.options
                        .iter()
                        .all(|o| shown.contains(&visible_text(&o.html)))
            })
            .max_by_key(|q| q.stem_html.len())
            .and_then(|q| self.structure.questions.get(&q.question_id).map(|k| (k, q)))
            .ok_or_else(|| anyhow!("no question of the course is shown in {shown:?}"))
    }

    pub fn question(&self, id: &str) -> Result<(&QuestionKey, &QuestionText)> {
        Ok((
            self.structure
                .questions
                .get(id)
                .ok_or_else(|| anyhow!("no key for question {id}"))?,
            self.questions
                .get(id)
                .ok_or_else(|| anyhow!("no text for question {id}"))?,
        ))
    }

    /// The visible text of option `option` of a question.
    pub fn option_text(&self, q: &QuestionText, option: &str) -> Result<String> {
        q.options
            .iter()
            .find(|o| o.id == option)
            .map(|o| visible_text(&o.html))
            .ok_or_else(|| anyhow!("question {} has no option {option}", q.question_id))
    }

    pub fn feedback_text(&self, q: &QuestionText, option: &str) -> Result<String> {
        q.options
            .iter()
            .find(|o| o.id == option)
            .map(|o| visible_text(&o.feedback_html))
            .ok_or_else(|| anyhow!("question {} has no option {option}", q.question_id))
    }
}

/// A wrong answer to a question: a single wrong option, or for a
/// multiple-choice question the correct set with one option flipped.
pub fn wrong_answer(key: &QuestionKey) -> Vec<String> {
    if key.question_type.single_answer() {
        key.options
            .iter()
            .find(|o| !o.correct)
            .map(|o| vec![o.id.clone()])
            .unwrap_or_default()
    } else {
        let mut set: Vec<String> = key.correct_ids().iter().map(|s| s.to_string()).collect();
        match key.options.iter().find(|o| !o.correct) {
            Some(o) => set.push(o.id.clone()),
            None => {
                set.pop();
            }
        }
        set
    }
}

pub fn right_answer(key: &QuestionKey) -> Vec<String> {
    key.correct_ids().iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_text_is_what_a_person_reads() {
        assert_eq!(
            visible_text("<p>Register <strong>every</strong>\n national&#39;s <em>own</em>s &amp; family.</p><p>Next</p>"),
            "Register every national's owns & family. Next"
        );
    }

    #[test]
    fn wrong_answers_are_wrong() {
        let course = outpost_package::sample::content("1.0.0");
        for key in course.structure.questions.values() {
            let wrong = wrong_answer(key);
            assert!(!outpost_model::grade_response(key, &wrong), "{}", key.id);
            assert!(
                outpost_model::grade_response(key, &right_answer(key)),
                "{}",
                key.id
            );
        }
    }
}
