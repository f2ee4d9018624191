//! Opening, verifying and reading a package.

use crate::write::find_unique;
use crate::{
    signed_message, Asset, Heading, LessonText, Manifest, ModuleText, PackageContent, PackageError,
    QuestionText, APPLICATION_ID, SCHEMA_VERSION, SIGNATURE_PLACEHOLDER,
};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use outpost_model::CourseStructure;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// An opened package. Opening checks that the file is a package of a schema
/// this code understands and computes its content hash; it does not check
/// the signature — call [`Package::verify`] before trusting anything in it.
pub struct Package {
    path: PathBuf,
    db: Connection,
    manifest: Manifest,
    structure: CourseStructure,
    signer: VerifyingKey,
    signature: Signature,
    content_hash: [u8; 32],
}

impl std::fmt::Debug for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Package")
            .field("path", &self.path)
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .finish()
    }
}

impl Package {
    pub fn open(path: &Path) -> Result<Package, PackageError> {
        let shown = path.display().to_string();
        let corrupt = |detail: String| PackageError::Corrupt {
            path: shown.clone(),
            detail,
        };
        let mut bytes = std::fs::read(path).map_err(|source| PackageError::Io {
            path: shown.clone(),
            source,
        })?;
        if !bytes.starts_with(b"SQLite format 3\0") || bytes.len() < 100 {
            return Err(PackageError::NotAPackage(shown));
        }
        // The application id sits at byte 68 of the SQLite header.
        if i32::from_be_bytes(bytes[68..72].try_into().unwrap()) != APPLICATION_ID {
            return Err(PackageError::NotAPackage(shown));
        }
        let schema = u32::from_be_bytes(bytes[60..64].try_into().unwrap());
        if schema > SCHEMA_VERSION {
            return Err(PackageError::NewerSchema {
                path: shown,
                found: schema,
                supported: SCHEMA_VERSION,
            });
        }
        if schema == 0 {
            return Err(PackageError::NotAPackage(shown));
        }
        // `immutable` keeps SQLite from writing anything next to the file
        // (it may sit on a read-only USB stick).
        let uri = format!(
            "file:{}?immutable=1",
            percent_path(
                &std::fs::canonicalize(path).map_err(|source| PackageError::Io {
                    path: shown.clone(),
                    source,
                })?
            )
        );
        let db = Connection::open_with_flags(
            uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| corrupt(e.to_string()))?;
        let (manifest, structure): (String, String) = db
            .query_row(
                "SELECT manifest, structure FROM package WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| corrupt(e.to_string()))?;
        let manifest: Manifest =
            serde_json::from_str(&manifest).map_err(|e| corrupt(format!("manifest: {e}")))?;
        let structure: CourseStructure =
            serde_json::from_str(&structure).map_err(|e| corrupt(format!("structure: {e}")))?;
        let (key, sig): (Vec<u8>, Vec<u8>) = db
            .query_row(
                "SELECT public_key, signature FROM signature WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| corrupt(format!("signature: {e}")))?;
        let signer = <[u8; 32]>::try_from(key.as_slice())
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| corrupt("the signer key is malformed".into()))?;
        let sig_bytes: [u8; 64] = sig
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("the signature is malformed".into()))?;
        let signature = Signature::from_bytes(&sig_bytes);
        // Put the placeholder back where the signature is and hash the file as
        // it was signed. If the signature bytes are not found exactly once the
        // hash is of the file as it is, which cannot verify.
        if let Some(at) = find_unique(&bytes, &sig_bytes) {
            bytes[at..at + 64].copy_from_slice(&SIGNATURE_PLACEHOLDER);
        }
        let content_hash: [u8; 32] = Sha256::digest(&bytes).into();
        Ok(Package {
            path: path.to_path_buf(),
            db,
            manifest,
            structure,
            signer,
            signature,
            content_hash,
        })
    }

    /// Check the signature against trusted publisher keys. Returns the
    /// signer's key when it is trusted and every byte is as signed.
    pub fn verify(&self, trusted: &[VerifyingKey]) -> Result<VerifyingKey, PackageError> {
        let path = self.path.display().to_string();
        if !trusted.contains(&self.signer) {
            // Still tell tampering apart from an unknown signer.
            self.check_signature()?;
            return Err(PackageError::UnknownSigner {
                path,
                key: hex::encode(self.signer.as_bytes()),
            });
        }
        self.check_signature()?;
        Ok(self.signer)
    }

    fn check_signature(&self) -> Result<(), PackageError> {
        self.signer
            .verify(&signed_message(&self.content_hash), &self.signature)
            .map_err(|_| PackageError::Tampered {
                path: self.path.display().to_string(),
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    pub fn structure(&self) -> &CourseStructure {
        &self.structure
    }
    pub fn signer(&self) -> VerifyingKey {
        self.signer
    }
    pub fn content_hash(&self) -> [u8; 32] {
        self.content_hash
    }
    pub fn content_hash_hex(&self) -> String {
        hex::encode(self.content_hash)
    }

    fn corrupt(&self, e: impl std::fmt::Display) -> PackageError {
        PackageError::Corrupt {
            path: self.path.display().to_string(),
            detail: e.to_string(),
        }
    }

    pub fn lesson(&self, lang: &str, id: &str) -> Result<Option<LessonText>, PackageError> {
        self.db
            .query_row(
                "SELECT lesson_id, module_id, lang, title, html, text, headings FROM lessons \
                 WHERE lang = ?1 AND lesson_id = ?2",
                [lang, id],
                lesson_row,
            )
            .optional()
            .map_err(|e| self.corrupt(e))?
            .map(|(l, h)| self.with_headings(l, &h))
            .transpose()
    }

    fn with_headings(&self, mut l: LessonText, headings: &str) -> Result<LessonText, PackageError> {
        l.headings = serde_json::from_str::<Vec<Heading>>(headings).map_err(|e| self.corrupt(e))?;
        Ok(l)
    }

    /// One question's display text in `lang`: stem, options with their
    /// feedback, explanation. The answer key is in [`Package::structure`].
    pub fn question(&self, lang: &str, id: &str) -> Result<Option<QuestionText>, PackageError> {
        self.db
            .query_row(
                "SELECT content FROM questions WHERE lang = ?1 AND question_id = ?2",
                [lang, id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(|e| self.corrupt(e))?
            .map(|s| serde_json::from_str(&s).map_err(|e| self.corrupt(e)))
            .transpose()
    }

    /// One module's text in `lang`: title, objectives, introduction.
    pub fn module(&self, lang: &str, id: &str) -> Result<Option<ModuleText>, PackageError> {
        let row = self
            .db
            .query_row(
                "SELECT module_id, lang, title, objectives, intro_html FROM modules \
                 WHERE lang = ?1 AND module_id = ?2",
                [lang, id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.corrupt(e))?;
        row.map(|(module_id, lang, title, objectives, intro_html)| {
            Ok(ModuleText {
                module_id,
                lang,
                title,
                objectives: serde_json::from_str(&objectives).map_err(|e| self.corrupt(e))?,
                intro_html,
            })
        })
        .transpose()
    }

    pub fn asset(&self, name: &str) -> Result<Option<Asset>, PackageError> {
        self.db
            .query_row(
                "SELECT name, media_type, bytes FROM assets WHERE name = ?1",
                [name],
                |r| {
                    Ok(Asset {
                        name: r.get(0)?,
                        media_type: r.get(1)?,
                        bytes: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.corrupt(e))
    }

    /// Everything in the package.
    pub fn read_content(&self) -> Result<PackageContent, PackageError> {
        let c = |e: rusqlite::Error| self.corrupt(e);
        let mut modules = Vec::new();
        let mut stmt = self
            .db
            .prepare("SELECT module_id, lang, title, objectives, intro_html FROM modules ORDER BY module_id, lang")
            .map_err(c)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                    r.get(4)?,
                ))
            })
            .map_err(c)?;
        for row in rows {
            let (module_id, lang, title, objectives, intro_html) = row.map_err(c)?;
            modules.push(ModuleText {
                module_id,
                lang,
                title,
                objectives: serde_json::from_str(&objectives).map_err(|e| self.corrupt(e))?,
                intro_html,
            });
        }
        let mut lessons = Vec::new();
        let mut stmt = self
            .db
            .prepare("SELECT lesson_id, module_id, lang, title, html, text, headings FROM lessons ORDER BY lesson_id, lang")
            .map_err(c)?;
        for row in stmt.query_map([], lesson_row).map_err(c)? {
            let (l, h) = row.map_err(c)?;
            lessons.push(self.with_headings(l, &h)?);
        }
        let mut questions = Vec::new();
        let mut stmt = self
            .db
            .prepare("SELECT content FROM questions ORDER BY question_id, lang")
            .map_err(c)?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0)).map_err(c)? {
            let q: QuestionText =
                serde_json::from_str(&row.map_err(c)?).map_err(|e| self.corrupt(e))?;
            questions.push(q);
        }
        let mut assets = Vec::new();
        let mut stmt = self
            .db
            .prepare("SELECT name, media_type, bytes FROM assets ORDER BY name")
            .map_err(c)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Asset {
                    name: r.get(0)?,
                    media_type: r.get(1)?,
                    bytes: r.get(2)?,
                })
            })
            .map_err(c)?;
        for row in rows {
            assets.push(row.map_err(c)?);
        }
        Ok(PackageContent {
            manifest: self.manifest.clone(),
            structure: self.structure.clone(),
            modules,
            lessons,
            questions,
            assets,
        })
    }
}

type LessonRow = (LessonText, String);

fn lesson_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<LessonRow> {
    Ok((
        LessonText {
            lesson_id: r.get(0)?,
            module_id: r.get(1)?,
            lang: r.get(2)?,
            title: r.get(3)?,
            html: r.get(4)?,
            text: r.get(5)?,
            headings: Vec::new(),
        },
        r.get(6)?,
    ))
}

/// Escape a path for an SQLite `file:` URI.
fn percent_path(p: &Path) -> String {
    let mut out = String::new();
    for b in p.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
