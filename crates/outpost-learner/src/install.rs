//! Installing and updating courses from `.opkg` files.
//!
//! A package is verified against the trusted publisher keys, copied into
//! `DATA_DIR/courses/` under a temporary name, fsynced, verified again as
//! copied, renamed to its final name, and only then recorded in one
//! transaction (course row, titles, search text). A crash at any point leaves
//! the previous version installed; at worst an unreferenced file remains,
//! which the next [`Store::open`] removes.

use crate::course_progress::refold_course;
use crate::db::{now, ts};
use crate::error::{LearnerError, Result};
use crate::profiles::settings;
use crate::version::compare_versions;
use crate::{CourseMeta, Store, COURSES_DIR};
use outpost_package::{Package, PackageContent};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeList {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

impl ChangeList {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// What an update changes, by id. Progress on lessons and questions whose
/// ids remain is kept; progress on removed ones no longer counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CourseChanges {
    pub modules: ChangeList,
    pub lessons: ChangeList,
    pub questions: ChangeList,
}

impl CourseChanges {
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty() && self.lessons.is_empty() && self.questions.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallOutcome {
    /// The course was not installed before.
    Installed,
    /// A newer version (or a rebuilt one) replaced the installed version.
    Updated,
    /// This exact package is already installed; nothing was done.
    Unchanged,
    /// A newer version is installed (only from [`Store::ensure_bundled`],
    /// which never downgrades); nothing was done.
    KeptNewer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdatePreview {
    pub course_id: String,
    pub title: String,
    pub installed_version: Option<String>,
    pub offered_version: String,
    /// What [`Store::install`] would do.
    pub outcome: InstallOutcome,
    pub changes: CourseChanges,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallReport {
    pub course_id: String,
    pub title: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub outcome: InstallOutcome,
    pub changes: CourseChanges,
}

/// An installed course, for listings that are not about one learner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledCourse {
    pub course_id: String,
    pub version: String,
    /// In the course's default language.
    pub title: String,
    pub languages: Vec<String>,
    pub default_language: String,
    pub publisher: String,
    /// The key that signed the package (hex).
    pub signer: String,
    pub estimated_minutes: u32,
    pub content_hash: String,
    pub installed_at: String,
    pub updated_at: String,
}

/// Files older than this in `courses/` that no row names are leftovers of
/// an interrupted install. Younger ones may belong to an install running in
/// another process right now.
const LEFTOVER_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

impl Store {
    /// Open and verify `path` and say what installing it would change,
    /// without changing anything.
    pub fn preview_update(&self, path: &Path) -> Result<UpdatePreview> {
        let pkg = Package::open(path)?;
        pkg.verify(&self.trusted_verifying_keys()?)?;
        self.plan(&pkg, false)
    }

    /// Install or update a course from a package file. Refuses foreign,
    /// damaged, tampered, unknown-signer, newer-schema and older-version
    /// packages with the installed version untouched.
    pub fn install(&self, path: &Path) -> Result<InstallReport> {
        self.install_inner(path, false)
    }

    /// Install the course bundled with the app: trust its publisher key and
    /// install it unless this exact package was already ensured or a newer
    /// version is installed (an update from the hub is never undone by a
    /// start-up). Returns `None` when there was nothing to do. Cheap to call
    /// at every start.
    pub fn ensure_bundled(
        &self,
        package: &[u8],
        publisher_key: ed25519_dalek::VerifyingKey,
    ) -> Result<Option<InstallReport>> {
        self.trust_key(publisher_key, "bundled course")?;
        let sha = hex::encode(Sha256::digest(package));
        if self.setting(settings::BUNDLED_SHA256)?.as_deref() == Some(sha.as_str()) {
            return Ok(None);
        }
        let staged = self.temp_path("bundled");
        let result = write_synced(&staged, package).and_then(|_| self.install_inner(&staged, true));
        let _ = std::fs::remove_file(&staged);
        let report = result?;
        self.set_setting(settings::BUNDLED_SHA256, &sha)?;
        Ok(Some(report))
    }

    fn temp_path(&self, what: &str) -> PathBuf {
        self.dir
            .join(COURSES_DIR)
            .join(format!(".{what}-{}.tmp", uuid::Uuid::new_v4()))
    }

    fn plan(&self, pkg: &Package, keep_newer: bool) -> Result<UpdatePreview> {
        let manifest = pkg.manifest();
        let installed = self.installed_meta(&manifest.id)?;
        let title = manifest.title_in(&manifest.default_language).0.to_string();
        let offered_version = manifest.version.clone();
        let Some(old) = installed else {
            let new = pkg.read_content()?;
            return Ok(UpdatePreview {
                course_id: manifest.id.clone(),
                title,
                installed_version: None,
                offered_version,
                outcome: InstallOutcome::Installed,
                changes: diff(None, &new),
            });
        };
        let unchanged = |outcome| UpdatePreview {
            course_id: manifest.id.clone(),
            title: title.clone(),
            installed_version: Some(old.version.clone()),
            offered_version: offered_version.clone(),
            outcome,
            changes: CourseChanges::default(),
        };
        if old.content_hash == pkg.content_hash_hex() {
            return Ok(unchanged(InstallOutcome::Unchanged));
        }
        if compare_versions(&offered_version, &old.version) == Ordering::Less {
            if keep_newer {
                return Ok(unchanged(InstallOutcome::KeptNewer));
            }
            return Err(LearnerError::Downgrade {
                course: manifest.id.clone(),
                installed: old.version.clone(),
                offered: offered_version,
            });
        }
        let old_content = self.with_package(&manifest.id, |p| Ok(p.read_content()?))?;
        let new = pkg.read_content()?;
        Ok(UpdatePreview {
            course_id: manifest.id.clone(),
            title,
            installed_version: Some(old.version.clone()),
            offered_version,
            outcome: InstallOutcome::Updated,
            changes: diff(Some(&old_content), &new),
        })
    }

    fn install_inner(&self, path: &Path, keep_newer: bool) -> Result<InstallReport> {
        let trusted = self.trusted_verifying_keys()?;
        let source = Package::open(path)?;
        source.verify(&trusted)?;
        let plan = self.plan(&source, keep_newer)?;
        let report = |plan: UpdatePreview| InstallReport {
            course_id: plan.course_id,
            title: plan.title,
            version: plan.offered_version,
            previous_version: plan.installed_version,
            outcome: plan.outcome,
            changes: plan.changes,
        };
        if matches!(
            plan.outcome,
            InstallOutcome::Unchanged | InstallOutcome::KeptNewer
        ) {
            return Ok(report(plan));
        }
        let hash = source.content_hash_hex();
        let signer = hex::encode(source.signer().as_bytes());
        drop(source);

        // Copy, sync, and check the copy is what was verified: the source
        // may be on a flaky USB stick.
        let staged = self.temp_path("incoming");
        let staged_result = (|| {
            let bytes = std::fs::read(path).map_err(|e| LearnerError::io(path, e))?;
            write_synced(&staged, &bytes)?;
            let copy = Package::open(&staged)?;
            copy.verify(&trusted)?;
            if copy.content_hash_hex() != hash {
                return Err(LearnerError::Io {
                    path: path.display().to_string(),
                    source: std::io::Error::other("the file changed while it was being installed"),
                });
            }
            Ok(copy)
        })();
        let copy = match staged_result {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(e);
            }
        };
        let content = match copy.read_content() {
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(e.into());
            }
        };
        drop(copy);
        let file_name = format!(
            "{}-{}-{}.opkg",
            safe_name(&content.manifest.id),
            safe_name(&content.manifest.version),
            &hash[..16]
        );
        let final_path = self.dir.join(COURSES_DIR).join(&file_name);
        if let Err(e) = std::fs::rename(&staged, &final_path) {
            let _ = std::fs::remove_file(&staged);
            return Err(LearnerError::io(&final_path, e));
        }
        sync_dir(&self.dir.join(COURSES_DIR));

        let old_file = self
            .installed_meta(&content.manifest.id)?
            .map(|m| m.file.clone());
        let recorded = self.record_install(&content, &file_name, &hash, &signer);
        if let Err(e) = recorded {
            if old_file.as_deref() != Some(file_name.as_str()) {
                let _ = std::fs::remove_file(&final_path);
            }
            return Err(e);
        }
        if let Some(old) = old_file.filter(|f| *f != file_name) {
            let _ = std::fs::remove_file(self.dir.join(COURSES_DIR).join(old));
        }
        self.meta.borrow_mut().remove(&content.manifest.id);
        Ok(report(plan))
    }

    fn record_install(
        &self,
        content: &PackageContent,
        file: &str,
        hash: &str,
        signer: &str,
    ) -> Result<()> {
        let m = &content.manifest;
        let manifest_json = serde_json::to_string(m)
            .map_err(|e| LearnerError::Internal(format!("manifest: {e}")))?;
        let structure_json = serde_json::to_string(&content.structure)
            .map_err(|e| LearnerError::Internal(format!("structure: {e}")))?;
        let at = ts(now());
        self.transact(|tx| {
            tx.execute(
                "INSERT INTO courses (course_id, version, file, content_hash, signer, manifest, \
                 structure, installed_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) \
                 ON CONFLICT (course_id) DO UPDATE SET version = excluded.version, \
                 file = excluded.file, content_hash = excluded.content_hash, \
                 signer = excluded.signer, manifest = excluded.manifest, \
                 structure = excluded.structure, updated_at = excluded.updated_at",
                params![m.id, m.version, file, hash, signer, manifest_json, structure_json, at],
            )?;
            tx.execute("DELETE FROM titles WHERE course_id = ?1", [&m.id])?;
            tx.execute("DELETE FROM search WHERE course_id = ?1", [&m.id])?;
            let mut title = tx.prepare(
                "INSERT OR REPLACE INTO titles (course_id, activity_id, lang, title) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (lang, t) in &m.title {
                title.execute(params![m.id, m.id, lang, t])?;
            }
            if let Some(a) = &content.structure.assessment {
                for (lang, t) in &m.assessment_title {
                    title.execute(params![m.id, a.id, lang, t])?;
                }
            }
            for module in &content.modules {
                title.execute(params![m.id, module.module_id, module.lang, module.title])?;
            }
            let mut search = tx.prepare(
                "INSERT INTO search (course_id, lang, module_id, lesson_id, title, text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for l in &content.lessons {
                title.execute(params![m.id, l.lesson_id, l.lang, l.title])?;
                search.execute(params![m.id, l.lang, l.module_id, l.lesson_id, l.title, l.text])?;
            }
            // Progress is folded against the new structure.
            refold_course(tx, &content.structure, hash)?;
            Ok(())
        })
    }

    /// The installed course's metadata, if any, reloaded when another
    /// process (or this one) installed a different package.
    pub(crate) fn installed_meta(&self, course_id: &str) -> Result<Option<Arc<CourseMeta>>> {
        let hash: Option<String> = self
            .conn
            .query_row(
                "SELECT content_hash FROM courses WHERE course_id = ?1",
                [course_id],
                |r| r.get(0),
            )
            .optional()?;
        let Some(hash) = hash else {
            return Ok(None);
        };
        if let Some(m) = self.meta.borrow().get(course_id) {
            if m.content_hash == hash {
                return Ok(Some(m.clone()));
            }
        }
        let (version, file, content_hash, manifest, structure): (String, String, String, String, String) =
            self.conn.query_row(
                "SELECT version, file, content_hash, manifest, structure FROM courses WHERE course_id = ?1",
                [course_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        let damaged = |detail: String| LearnerError::CourseDamaged {
            course: course_id.to_string(),
            detail,
        };
        let meta = Arc::new(CourseMeta {
            version,
            file,
            content_hash,
            manifest: serde_json::from_str(&manifest).map_err(|e| damaged(e.to_string()))?,
            structure: serde_json::from_str(&structure).map_err(|e| damaged(e.to_string()))?,
        });
        self.meta
            .borrow_mut()
            .insert(course_id.to_string(), meta.clone());
        Ok(Some(meta))
    }

    pub(crate) fn course_meta(&self, course_id: &str) -> Result<Arc<CourseMeta>> {
        self.installed_meta(course_id)?
            .ok_or_else(|| LearnerError::CourseNotInstalled(course_id.to_string()))
    }

    /// Every installed course, by id.
    pub fn courses(&self) -> Result<Vec<InstalledCourse>> {
        let mut out = Vec::new();
        for id in self.installed_courses()? {
            let meta = self.course_meta(&id)?;
            let (signer, installed_at, updated_at): (String, String, String) =
                self.conn.query_row(
                    "SELECT signer, installed_at, updated_at FROM courses WHERE course_id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?;
            let m = &meta.manifest;
            out.push(InstalledCourse {
                course_id: id.clone(),
                version: meta.version.clone(),
                title: m.title_in(&m.default_language).0.to_string(),
                languages: m.languages.clone(),
                default_language: m.default_language.clone(),
                publisher: m.publisher.clone(),
                signer,
                estimated_minutes: m.estimated_minutes,
                content_hash: meta.content_hash.clone(),
                installed_at,
                updated_at,
            });
        }
        Ok(out)
    }

    /// Ids of the installed courses, sorted.
    pub fn installed_courses(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT course_id FROM courses ORDER BY course_id")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Run `f` on the installed package of `course_id`, opened once per
    /// process and checked against the hash recorded at install.
    pub(crate) fn with_package<T>(
        &self,
        course_id: &str,
        f: impl FnOnce(&Package) -> Result<T>,
    ) -> Result<T> {
        let meta = self.course_meta(course_id)?;
        if !self.packages.borrow().contains_key(&meta.content_hash) {
            let path = self.dir.join(COURSES_DIR).join(&meta.file);
            let damaged = |detail: String| LearnerError::CourseDamaged {
                course: course_id.to_string(),
                detail,
            };
            let pkg = Package::open(&path).map_err(|e| damaged(e.to_string()))?;
            // Tampering or disk damage since install; trust was checked then.
            pkg.verify(&[pkg.signer()])
                .map_err(|e| damaged(e.to_string()))?;
            if pkg.content_hash_hex() != meta.content_hash {
                return Err(damaged("the file is not the one that was installed".into()));
            }
            self.packages
                .borrow_mut()
                .insert(meta.content_hash.clone(), pkg);
        }
        let packages = self.packages.borrow();
        let pkg = packages
            .get(&meta.content_hash)
            .ok_or_else(|| LearnerError::Internal("package cache".into()))?;
        f(pkg)
    }

    /// Remove what an interrupted install left in `courses/`.
    pub(crate) fn clean_courses_dir(&self) -> Result<()> {
        let dir = self.dir.join(COURSES_DIR);
        let referenced: BTreeSet<String> = {
            let mut stmt = self.conn.prepare("SELECT file FROM courses")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let leftover = (name.starts_with('.') && name.ends_with(".tmp"))
                || (name.ends_with(".opkg") && !referenced.contains(&name));
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > LEFTOVER_AGE);
            if leftover && old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

/// Keep file names to a safe alphabet whatever a manifest says.
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| LearnerError::io(path, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| LearnerError::io(path, e))
}

fn sync_dir(dir: &Path) {
    // Makes the rename durable on Linux; not possible (nor needed) elsewhere.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// What changed between the installed content and the offered one. Each
/// module, lesson and question is compared by a fingerprint of everything
/// about it: its structure (answer key, questions, minutes) and its text in
/// every language.
fn diff(old: Option<&PackageContent>, new: &PackageContent) -> CourseChanges {
    let compare = |old: Option<Fingerprints>, new: Fingerprints| {
        let (old_order, old_map) = old.unwrap_or_default();
        let (new_order, new_map) = new;
        let mut c = ChangeList::default();
        for id in &new_order {
            match old_map.get(id) {
                None => c.added.push(id.clone()),
                Some(f) if *f != new_map[id] => c.changed.push(id.clone()),
                Some(_) => {}
            }
        }
        c.removed = old_order
            .into_iter()
            .filter(|id| !new_map.contains_key(id))
            .collect();
        c
    };
    CourseChanges {
        modules: compare(old.map(module_prints), module_prints(new)),
        lessons: compare(old.map(lesson_prints), lesson_prints(new)),
        questions: compare(old.map(question_prints), question_prints(new)),
    }
}

/// Ids in course order, and a fingerprint per id.
type Fingerprints = (Vec<String>, BTreeMap<String, String>);

fn add_print(p: &mut Fingerprints, id: &str, part: impl Serialize) {
    let json = serde_json::to_string(&part).unwrap_or_default();
    match p.1.get_mut(id) {
        Some(f) => f.push_str(&json),
        None => {
            p.0.push(id.to_string());
            p.1.insert(id.to_string(), json);
        }
    }
}

fn module_prints(c: &PackageContent) -> Fingerprints {
    let mut p = Fingerprints::default();
    for m in &c.structure.modules {
        add_print(&mut p, &m.id, m);
    }
    let mut texts: Vec<_> = c.modules.iter().collect();
    texts.sort_by(|a, b| (&a.module_id, &a.lang).cmp(&(&b.module_id, &b.lang)));
    for t in texts {
        add_print(&mut p, &t.module_id, t);
    }
    p
}

fn lesson_prints(c: &PackageContent) -> Fingerprints {
    let mut p = Fingerprints::default();
    for (m, l) in c.structure.lessons() {
        add_print(&mut p, &l.id, (&m.id, l));
    }
    if let Some(a) = &c.structure.assessment {
        add_print(&mut p, &a.id, a);
    }
    let mut texts: Vec<_> = c.lessons.iter().collect();
    texts.sort_by(|a, b| (&a.lesson_id, &a.lang).cmp(&(&b.lesson_id, &b.lang)));
    for t in texts {
        add_print(&mut p, &t.lesson_id, t);
    }
    p
}

fn question_prints(c: &PackageContent) -> Fingerprints {
    let mut p = Fingerprints::default();
    let in_course_order = c
        .structure
        .lessons()
        .flat_map(|(_, l)| l.questions.iter())
        .chain(c.structure.assessment.iter().flat_map(|a| a.bank.iter()))
        .chain(c.structure.questions.keys());
    for id in in_course_order {
        if let (Some(k), false) = (c.structure.questions.get(id), p.1.contains_key(id)) {
            add_print(&mut p, id, k);
        }
    }
    let mut texts: Vec<_> = c.questions.iter().collect();
    texts.sort_by(|a, b| (&a.question_id, &a.lang).cmp(&(&b.question_id, &b.lang)));
    for t in texts {
        add_print(&mut p, &t.question_id, t);
    }
    p
}
