//! Display text of published courses (titles, module and lesson names,
//! question stems and options), read from the stored packages. A published
//! version never changes, so each is read once per process and kept, keyed
//! by its SHA-256.

use super::html::html_to_text;
use super::DashResult;
use crate::db::Mode;
use crate::error::HubError;
use crate::hub::{Hub, PackageInfo};
use crate::params;
use outpost_package::{Manifest, Package};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

#[derive(Debug, Clone)]
pub struct QuestionText {
    pub stem: String,
    /// (option id, text) in order.
    pub options: Vec<(String, String)>,
}

/// One version's texts, as plain text, in every language it has.
#[derive(Debug)]
pub struct CourseTexts {
    pub manifest: Manifest,
    assessment_id: Option<String>,
    modules: HashMap<(String, String), String>,
    lessons: HashMap<(String, String), String>,
    questions: HashMap<(String, String), QuestionText>,
}

impl CourseTexts {
    fn lang<'a>(&'a self, lang: &'a str) -> &'a str {
        self.manifest.language_for(lang)
    }

    pub fn title(&self, lang: &str) -> String {
        self.manifest.title_in(lang).0.to_string()
    }

    pub fn module(&self, lang: &str, id: &str) -> String {
        self.modules
            .get(&(self.lang(lang).to_string(), id.to_string()))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub fn lesson(&self, lang: &str, id: &str) -> String {
        if let Some(t) = self
            .lessons
            .get(&(self.lang(lang).to_string(), id.to_string()))
        {
            return t.clone();
        }
        match self.manifest.assessment_title.get(self.lang(lang)) {
            Some(t) if self.assessment_id.as_deref() == Some(id) => t.clone(),
            _ => id.to_string(),
        }
    }

    pub fn question(&self, lang: &str, id: &str) -> Option<&QuestionText> {
        self.questions
            .get(&(self.lang(lang).to_string(), id.to_string()))
    }

    pub fn option(&self, lang: &str, question: &str, option: &str) -> String {
        self.question(lang, question)
            .and_then(|q| q.options.iter().find(|(id, _)| id == option))
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }

    /// Texts of a package's content.
    pub fn from_content(content: &outpost_package::PackageContent) -> CourseTexts {
        CourseTexts {
            manifest: content.manifest.clone(),
            assessment_id: content.structure.assessment.as_ref().map(|a| a.id.clone()),
            modules: content
                .modules
                .iter()
                .map(|m| ((m.lang.clone(), m.module_id.clone()), m.title.clone()))
                .collect(),
            lessons: content
                .lessons
                .iter()
                .map(|l| ((l.lang.clone(), l.lesson_id.clone()), l.title.clone()))
                .collect(),
            questions: content
                .questions
                .iter()
                .map(|q| {
                    (
                        (q.lang.clone(), q.question_id.clone()),
                        QuestionText {
                            stem: html_to_text(&q.stem_html),
                            options: q
                                .options
                                .iter()
                                .map(|o| (o.id.clone(), html_to_text(&o.html)))
                                .collect(),
                        },
                    )
                })
                .collect(),
        }
    }
}

/// A question's stem, or its id when there are no texts for it.
pub fn stem(texts: Option<&CourseTexts>, lang: &str, question: &str) -> String {
    texts
        .and_then(|x| x.question(lang, question))
        .map_or_else(|| question.to_string(), |q| q.stem.clone())
}

/// An option as `b) its text`, or its id alone when it has no text.
pub fn option_label(
    texts: Option<&CourseTexts>,
    lang: &str,
    question: &str,
    option: &str,
) -> String {
    let text = texts
        .map(|x| x.option(lang, question, option))
        .unwrap_or_default();
    if text.is_empty() {
        option.to_string()
    } else {
        format!("{option}) {text}")
    }
}

/// The title of a version from a list of the published ones.
pub async fn title(hub: &Hub, p: &PackageInfo, lang: &str) -> DashResult<String> {
    Ok(of(hub, p).await?.title(lang))
}

fn cache() -> &'static RwLock<HashMap<String, Arc<CourseTexts>>> {
    static CACHE: OnceLock<RwLock<HashMap<String, Arc<CourseTexts>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Open package bytes (the package reader wants a file): a private
/// temporary file, removed at once.
pub fn open_bytes<T>(
    bytes: &[u8],
    f: impl FnOnce(&Package) -> Result<T, outpost_package::PackageError>,
) -> Result<T, outpost_package::PackageError> {
    let path = std::env::temp_dir().join(format!(
        "outpost-dashboard-{}.opkg",
        super::session::random_token()
    ));
    let io = |e: std::io::Error| outpost_package::PackageError::Io {
        path: path.display().to_string(),
        source: e,
    };
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&path).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
    }
    let result = Package::open(&path).and_then(|p| f(&p));
    let _ = std::fs::remove_file(&path);
    result
}

/// The texts of a published version; `None` if it is not published.
pub async fn load(
    hub: &Hub,
    course_id: &str,
    version: &str,
) -> DashResult<Option<Arc<CourseTexts>>> {
    let mut tx = hub.db.begin(Mode::Read).await?;
    let Some(row) = tx
        .query_opt(
            "SELECT sha256 FROM packages WHERE course_id = $1 AND version = $2",
            params![course_id, version],
        )
        .await?
    else {
        return Ok(None);
    };
    let sha = row.text(0)?;
    drop(tx);
    by_sha(hub, course_id, version, &sha).await.map(Some)
}

/// [`load`] for a page that names the same versions many times (a
/// learner's hundred attempts): each version is looked up once.
#[derive(Default)]
pub struct Memo(HashMap<(String, String), Option<Arc<CourseTexts>>>);

impl Memo {
    pub async fn load(
        &mut self,
        hub: &Hub,
        course_id: &str,
        version: &str,
    ) -> DashResult<Option<Arc<CourseTexts>>> {
        let key = (course_id.to_string(), version.to_string());
        if let Some(t) = self.0.get(&key) {
            return Ok(t.clone());
        }
        let t = load(hub, course_id, version).await?;
        self.0.insert(key, t.clone());
        Ok(t)
    }
}

/// The texts of a version from a list of the published ones, whose
/// SHA-256 is known: no query at all once they are kept. (Pages list every
/// published version; [`load`] would look each one's SHA-256 up first.)
pub async fn of(hub: &Hub, p: &PackageInfo) -> DashResult<Arc<CourseTexts>> {
    by_sha(hub, &p.course_id, &p.version, &p.sha256).await
}

async fn by_sha(
    hub: &Hub,
    course_id: &str,
    version: &str,
    sha: &str,
) -> DashResult<Arc<CourseTexts>> {
    if let Some(t) = cache().read().ok().and_then(|c| c.get(sha).cloned()) {
        return Ok(t);
    }
    let mut tx = hub.db.begin(Mode::Read).await?;
    let bytes = tx
        .query_opt(
            "SELECT bytes FROM packages WHERE course_id = $1 AND version = $2",
            params![course_id, version],
        )
        .await?
        .map(|r| r.bytes(0))
        .transpose()?
        .unwrap_or_default();
    drop(tx);
    let texts = tokio::task::spawn_blocking(move || {
        open_bytes(&bytes, |p| p.read_content()).map(|c| CourseTexts::from_content(&c))
    })
    .await
    .map_err(|e| HubError::Internal(e.to_string()))?
    .map_err(|e| HubError::Internal(format!("stored package {course_id} {version}: {e}")))?;
    let texts = Arc::new(texts);
    if let Ok(mut c) = cache().write() {
        c.insert(sha.to_string(), texts.clone());
    }
    Ok(texts)
}
