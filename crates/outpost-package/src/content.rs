//! What a package holds, as plain data.

use outpost_model::{CourseStructure, MoveOn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub id: String,
    pub version: String,
    /// Per language code.
    pub title: BTreeMap<String, String>,
    pub description: BTreeMap<String, String>,
    pub languages: Vec<String>,
    pub default_language: String,
    pub publisher: String,
    pub move_on: MoveOn,
    pub passing_score: f64,
    pub estimated_minutes: u32,
    pub assessment_title: BTreeMap<String, String>,
}

impl Manifest {
    /// The title in `lang`, else in the default language; and whether it fell back.
    pub fn title_in(&self, lang: &str) -> (&str, bool) {
        match self.title.get(lang) {
            Some(t) => (t, false),
            None => (
                self.title
                    .get(&self.default_language)
                    .map(String::as_str)
                    .unwrap_or(&self.id),
                true,
            ),
        }
    }

    /// The language to show to someone who asked for `lang`.
    pub fn language_for(&self, lang: &str) -> &str {
        self.languages
            .iter()
            .find(|l| *l == lang)
            .unwrap_or(&self.default_language)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleText {
    pub module_id: String,
    pub lang: String,
    pub title: String,
    pub objectives: Vec<String>,
    pub intro_html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heading {
    pub level: u8,
    pub anchor: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonText {
    pub lesson_id: String,
    pub module_id: String,
    pub lang: String,
    pub title: String,
    /// Sanitised HTML. Images are `asset:NAME`, lesson links `lesson:ID[#anchor]`,
    /// questions `<div class="question" data-question-id="ID"></div>`.
    pub html: String,
    /// Plain text, for the search index.
    pub text: String,
    pub headings: Vec<Heading>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionText {
    pub id: String,
    pub html: String,
    pub feedback_html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionText {
    pub question_id: String,
    pub lang: String,
    pub stem_html: String,
    pub options: Vec<OptionText>,
    pub explanation_html: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// File name under the course's `assets/` folder.
    pub name: String,
    pub media_type: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageContent {
    pub manifest: Manifest,
    pub structure: CourseStructure,
    pub modules: Vec<ModuleText>,
    pub lessons: Vec<LessonText>,
    pub questions: Vec<QuestionText>,
    pub assets: Vec<Asset>,
}
