//! Writing a package: deterministic bytes, then signed in place.

use crate::{
    signed_message, PackageContent, PackageError, APPLICATION_ID, SCHEMA_VERSION,
    SIGNATURE_PLACEHOLDER,
};
use ed25519_dalek::{Signer, SigningKey};
use rusqlite::{params, Connection};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub(crate) const SCHEMA: &str = include_str!("schema.sql");

#[derive(Debug, Clone)]
pub struct PackageSummary {
    pub path: PathBuf,
    pub id: String,
    pub version: String,
    pub size: u64,
    pub content_hash: String,
}

/// Write `content` to `path` as a signed package. The file appears complete
/// or not at all (written beside it, then renamed). The same content and key
/// always give the same bytes.
pub fn write_package(
    path: &Path,
    content: &PackageContent,
    key: &SigningKey,
) -> Result<PackageSummary, PackageError> {
    let err = |detail: String| PackageError::Write {
        path: path.display().to_string(),
        detail,
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    let tmp = tempfile_in(dir).map_err(|e| err(e.to_string()))?;
    let result = (|| {
        fill(tmp.path(), content, key).map_err(|e| err(e.to_string()))?;
        let mut bytes = std::fs::read(tmp.path()).map_err(|e| err(e.to_string()))?;
        let at = find_unique(&bytes, &SIGNATURE_PLACEHOLDER)
            .ok_or_else(|| err("signature placeholder not found exactly once".into()))?;
        let hash: [u8; 32] = Sha256::digest(&bytes).into();
        let signature = key.sign(&signed_message(&hash));
        bytes[at..at + 64].copy_from_slice(&signature.to_bytes());
        // The SQLite file was only a scratch copy to build the bytes in.
        let _ = std::fs::remove_file(tmp.path());
        crate::durable::write_atomically(path, &bytes, |_| Ok(()))
            .map_err(|e| err(e.to_string()))?;
        Ok(PackageSummary {
            path: path.to_path_buf(),
            id: content.manifest.id.clone(),
            version: content.manifest.version.clone(),
            size: bytes.len() as u64,
            content_hash: hex::encode(hash),
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(tmp.path());
    }
    result
}

struct TempPath(PathBuf);
impl TempPath {
    fn path(&self) -> &Path {
        &self.0
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<TempPath> {
    for i in 0..100u32 {
        let p = dir.join(format!(".opkg-{}-{i}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(_) => {
                std::fs::remove_file(&p)?;
                return Ok(TempPath(p));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary file name"))
}

pub(crate) fn find_unique(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let mut found = None;
    for (i, w) in haystack.windows(needle.len()).enumerate() {
        if w == needle {
            if found.is_some() {
                return None;
            }
            found = Some(i);
        }
    }
    found
}

fn fill(path: &Path, c: &PackageContent, key: &SigningKey) -> rusqlite::Result<()> {
    let mut db = Connection::open(path)?;
    // Fixed layout so the bytes depend only on the content.
    db.execute_batch(&format!(
        "PRAGMA page_size = 4096; PRAGMA journal_mode = DELETE; \
         PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
    ))?;
    let tx = db.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let json = |v: &dyn erased::Ser| v.to_json();
    tx.execute(
        "INSERT INTO package (id, course_id, version, manifest, structure) VALUES (1, ?1, ?2, ?3, ?4)",
        params![
            c.manifest.id,
            c.manifest.version,
            json(&c.manifest),
            json(&c.structure)
        ],
    )?;
    let mut modules: Vec<_> = c.modules.iter().collect();
    modules.sort_by(|a, b| (&a.module_id, &a.lang).cmp(&(&b.module_id, &b.lang)));
    for m in modules {
        tx.execute(
            "INSERT INTO modules (module_id, lang, title, objectives, intro_html) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![m.module_id, m.lang, m.title, json(&m.objectives), m.intro_html],
        )?;
    }
    let mut lessons: Vec<_> = c.lessons.iter().collect();
    lessons.sort_by(|a, b| (&a.lesson_id, &a.lang).cmp(&(&b.lesson_id, &b.lang)));
    for l in lessons {
        tx.execute(
            "INSERT INTO lessons (lesson_id, lang, module_id, title, html, text, headings) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                l.lesson_id,
                l.lang,
                l.module_id,
                l.title,
                l.html,
                l.text,
                json(&l.headings)
            ],
        )?;
        tx.execute(
            "INSERT INTO search (lang, lesson_id, module_id, title, text) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![l.lang, l.lesson_id, l.module_id, l.title, l.text],
        )?;
    }
    let mut questions: Vec<_> = c.questions.iter().collect();
    questions.sort_by(|a, b| (&a.question_id, &a.lang).cmp(&(&b.question_id, &b.lang)));
    for q in questions {
        tx.execute(
            "INSERT INTO questions (question_id, lang, content) VALUES (?1, ?2, ?3)",
            params![q.question_id, q.lang, json(q)],
        )?;
    }
    let mut assets: Vec<_> = c.assets.iter().collect();
    assets.sort_by(|a, b| a.name.cmp(&b.name));
    for a in assets {
        tx.execute(
            "INSERT INTO assets (name, media_type, bytes) VALUES (?1, ?2, ?3)",
            params![a.name, a.media_type, a.bytes],
        )?;
    }
    tx.execute(
        "INSERT INTO signature (id, public_key, signature) VALUES (1, ?1, ?2)",
        params![
            key.verifying_key().as_bytes().to_vec(),
            SIGNATURE_PLACEHOLDER.to_vec()
        ],
    )?;
    tx.commit()?;
    // Rebuild the file compactly: no free pages, no history of the inserts.
    db.execute_batch("INSERT INTO search(search) VALUES('optimize'); VACUUM;")?;
    db.close().map_err(|(_, e)| e)
}

/// Serialise any content value to JSON text (they always serialise).
mod erased {
    pub trait Ser {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).expect("package content serialises")
        }
    }
}
