//! What a package holds, for `outpost-course inspect` (text or JSON). The
//! JSON shape is documented in `docs/package-format.md` and kept stable:
//! fields may be added, never renamed or removed, without a new
//! [`INSPECT_FORMAT`].

use outpost_model::LessonKind;
use outpost_package::{Package, PackageError};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// Version of the `inspect --json` shape.
pub const INSPECT_FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Inspection {
    pub inspect_format: u32,
    pub path: String,
    /// Package schema version (SQLite `user_version`).
    pub schema: u32,
    pub id: String,
    pub version: String,
    pub title: BTreeMap<String, String>,
    pub languages: Vec<String>,
    pub default_language: String,
    pub publisher: String,
    pub move_on: String,
    pub passing_score: f64,
    pub estimated_minutes: u32,
    pub modules: Vec<InspectionModule>,
    pub assessment: Option<InspectionAssessment>,
    pub questions: QuestionCounts,
    pub sizes: Sizes,
    /// The signer's ed25519 public key, hex.
    pub signer: String,
    /// Whether the signature matches every byte (against the key in the
    /// file; whether that key is trusted is `verify`'s question).
    pub signature_valid: bool,
    /// SHA-256 of the package as signed, hex.
    pub content_hash: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InspectionModule {
    pub id: String,
    pub title: BTreeMap<String, String>,
    pub lessons: Vec<InspectionLesson>,
    /// Knowledge checks and quiz questions in the module.
    pub questions: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InspectionLesson {
    pub id: String,
    /// "lesson" or "quiz".
    pub kind: String,
    pub minutes: u32,
    pub title: BTreeMap<String, String>,
    pub questions: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InspectionAssessment {
    pub id: String,
    pub title: BTreeMap<String, String>,
    pub draw: u32,
    pub minutes: u32,
    /// Questions in the bank.
    pub bank: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QuestionCounts {
    pub total: usize,
    /// In ordinary lessons: feedback only, no score.
    pub knowledge_checks: usize,
    /// In module quizzes.
    pub quiz: usize,
    pub bank: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sizes {
    pub file_bytes: u64,
    /// Lesson rows (lessons × languages).
    pub lessons: usize,
    pub lesson_html_bytes: usize,
    pub lesson_text_bytes: usize,
    pub assets: usize,
    pub asset_bytes: usize,
}

/// Open `path` and describe it. Refuses what is not a package, or a newer
/// schema, like every reader.
pub fn inspect(path: &Path) -> Result<Inspection, PackageError> {
    let pkg = Package::open(path)?;
    let content = pkg.read_content()?;
    let bytes = std::fs::read(path).map_err(|source| PackageError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let schema = bytes
        .get(60..64)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes);
    let m = &content.manifest;
    let s = pkg.structure();
    let titles = |id: &str, module: bool| -> BTreeMap<String, String> {
        if module {
            content
                .modules
                .iter()
                .filter(|t| t.module_id == id)
                .map(|t| (t.lang.clone(), t.title.clone()))
                .collect()
        } else {
            content
                .lessons
                .iter()
                .filter(|t| t.lesson_id == id)
                .map(|t| (t.lang.clone(), t.title.clone()))
                .collect()
        }
    };
    let mut checks = 0;
    let mut quiz = 0;
    let modules = s
        .modules
        .iter()
        .map(|mi| {
            let lessons: Vec<InspectionLesson> = mi
                .lessons
                .iter()
                .map(|l| {
                    match l.kind {
                        LessonKind::Lesson => checks += l.questions.len(),
                        LessonKind::Quiz => quiz += l.questions.len(),
                    }
                    InspectionLesson {
                        id: l.id.clone(),
                        kind: match l.kind {
                            LessonKind::Lesson => "lesson".into(),
                            LessonKind::Quiz => "quiz".into(),
                        },
                        minutes: l.minutes,
                        title: titles(&l.id, false),
                        questions: l.questions.len(),
                    }
                })
                .collect();
            InspectionModule {
                id: mi.id.clone(),
                title: titles(&mi.id, true),
                questions: lessons.iter().map(|l| l.questions).sum(),
                lessons,
            }
        })
        .collect();
    let bank = s.assessment.as_ref().map_or(0, |a| a.bank.len());
    Ok(Inspection {
        inspect_format: INSPECT_FORMAT,
        path: path.display().to_string(),
        schema,
        id: m.id.clone(),
        version: m.version.clone(),
        title: m.title.clone(),
        languages: m.languages.clone(),
        default_language: m.default_language.clone(),
        publisher: m.publisher.clone(),
        move_on: m.move_on.as_str().to_string(),
        passing_score: m.passing_score,
        estimated_minutes: m.estimated_minutes,
        modules,
        assessment: s.assessment.as_ref().map(|a| InspectionAssessment {
            id: a.id.clone(),
            title: m.assessment_title.clone(),
            draw: a.draw,
            minutes: a.minutes,
            bank: a.bank.len(),
        }),
        questions: QuestionCounts {
            total: s.questions.len(),
            knowledge_checks: checks,
            quiz,
            bank,
        },
        sizes: Sizes {
            file_bytes: bytes.len() as u64,
            lessons: content.lessons.len(),
            lesson_html_bytes: content.lessons.iter().map(|l| l.html.len()).sum(),
            lesson_text_bytes: content.lessons.iter().map(|l| l.text.len()).sum(),
            assets: content.assets.len(),
            asset_bytes: content.assets.iter().map(|a| a.bytes.len()).sum(),
        },
        signer: hex::encode(pkg.signer().as_bytes()),
        signature_valid: pkg.verify(&[pkg.signer()]).is_ok(),
        content_hash: pkg.content_hash_hex(),
    })
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = |t: &BTreeMap<String, String>| {
            t.get(&self.default_language)
                .or_else(|| t.values().next())
                .cloned()
                .unwrap_or_default()
        };
        writeln!(f, "{} {} — {}", self.id, self.version, title(&self.title))?;
        writeln!(f, "file:       {} (schema {})", self.path, self.schema)?;
        writeln!(
            f,
            "languages:  {} (default {})",
            self.languages.join(", "),
            self.default_language
        )?;
        writeln!(f, "publisher:  {}", self.publisher)?;
        writeln!(
            f,
            "completion: {}, passing score {}, about {} minutes",
            self.move_on, self.passing_score, self.estimated_minutes
        )?;
        writeln!(f, "modules:")?;
        for m in &self.modules {
            writeln!(
                f,
                "  {} — {} ({} questions)",
                m.id,
                title(&m.title),
                m.questions
            )?;
            for l in &m.lessons {
                let q = if l.questions > 0 {
                    format!(", {}", plural(l.questions, "question"))
                } else {
                    String::new()
                };
                writeln!(
                    f,
                    "    {} — {} ({}, {} min{q})",
                    l.id,
                    title(&l.title),
                    l.kind,
                    l.minutes
                )?;
            }
        }
        match &self.assessment {
            Some(a) => writeln!(
                f,
                "assessment: {} — {}: draws {} of {} questions, {} minutes",
                a.id,
                title(&a.title),
                a.draw,
                a.bank,
                a.minutes
            )?,
            None => writeln!(f, "assessment: none")?,
        }
        let q = &self.questions;
        writeln!(
            f,
            "questions:  {} ({} knowledge checks, {} in quizzes, {} in the bank)",
            q.total, q.knowledge_checks, q.quiz, q.bank
        )?;
        let s = &self.sizes;
        writeln!(
            f,
            "sizes:      {} bytes; {} lesson pages ({} bytes HTML, {} bytes text); {} assets ({} bytes)",
            s.file_bytes, s.lessons, s.lesson_html_bytes, s.lesson_text_bytes, s.assets, s.asset_bytes
        )?;
        writeln!(f, "signer:     {}", self.signer)?;
        writeln!(
            f,
            "signature:  {}",
            if self.signature_valid {
                "matches the content"
            } else {
                "DOES NOT MATCH the content: the package was changed after signing"
            }
        )?;
        writeln!(f, "content:    sha256 {}", self.content_hash)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
