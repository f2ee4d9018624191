//! The course compiler: course sources (a folder with `course.toml` and
//! Markdown lessons, see `docs/course-format.md`) checked, rendered,
//! sanitised and written as signed packages (`docs/package-format.md`).
//!
//! The library does no printing and never exits the process, so a build
//! script can call it:
//!
//! ```no_run
//! let key = outpost_course::development_key();
//! let out = outpost_course::build("courses".as_ref(), "target/courses".as_ref(), &key)?;
//! for p in &out.packages {
//!     println!("{} {} -> {}", p.id, p.version, p.path.display());
//! }
//! # Ok::<(), outpost_course::BuildError>(())
//! ```
//!
//! Invariants: loading never stops at the first problem (every error and
//! warning of a run comes back in one [`Diagnostics`]) and never panics on
//! any input; the same sources and key give byte-identical packages.

mod diag;
mod inspect;
mod load;
mod manifest;
mod markdown;
mod outline;
mod tomlx;
mod tree;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use inspect::{
    inspect, Inspection, InspectionAssessment, InspectionLesson, InspectionModule, QuestionCounts,
    Sizes, INSPECT_FORMAT,
};
pub use outline::outline;
pub use tree::{MAX_ASSET_BYTES, MAX_FILES, MAX_TEXT_BYTES};

use ed25519_dalek::SigningKey;
use outpost_package::{PackageContent, PackageError};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A course read from its sources. It holds everything the package will
/// hold; [`compile`] turns it into [`PackageContent`].
///
/// A course that loaded with errors is still returned (so that every
/// problem can be reported), but its content may be incomplete: build only
/// when the [`Diagnostics`] have no errors, as [`build`] does.
#[derive(Debug, Clone)]
pub struct SourceCourse {
    /// The course folder, as given (for messages).
    pub dir: PathBuf,
    content: PackageContent,
}

impl SourceCourse {
    pub fn id(&self) -> &str {
        &self.content.manifest.id
    }
    pub fn version(&self) -> &str {
        &self.content.manifest.version
    }
    pub fn content(&self) -> &PackageContent {
        &self.content
    }
}

/// Load every course under `dir`: `dir` itself when it holds `course.toml`,
/// else each folder of `dir` that does. An empty folder gives no course and
/// no error. Diagnostics are sorted by file and position.
pub fn load(dir: &Path) -> (Vec<SourceCourse>, Diagnostics) {
    let (tree, mut diags) = tree::read_dir(dir);
    let (courses, more) = load::load_tree(&tree);
    diags.extend(more);
    diags.sort();
    (courses, diags)
}

/// [`load`] from files in memory: `(path relative to root, bytes)` pairs.
/// `root` is only used to name files in diagnostics.
pub fn load_files<P: AsRef<str>, B: Into<Vec<u8>>>(
    root: &Path,
    files: impl IntoIterator<Item = (P, B)>,
) -> (Vec<SourceCourse>, Diagnostics) {
    let tree = tree::Tree::from_files(root, files);
    load::load_tree(&tree)
}

/// What goes into the course's package.
pub fn compile(course: &SourceCourse) -> PackageContent {
    course.content.clone()
}

/// `<course-id>-<version>.opkg`
pub fn package_file_name(id: &str, version: &str) -> String {
    format!("{id}-{version}.opkg")
}

/// The publicly known key that signs packages built without a publisher
/// key. Anyone can sign with it, so it proves nothing: only development
/// builds and tests may trust it, never a device in the field.
pub fn development_key() -> SigningKey {
    let seed: [u8; 32] =
        Sha256::digest(b"outpost-development-signing-key-v1: public, never trusted in production")
            .into();
    SigningKey::from_bytes(&seed)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltPackage {
    pub path: PathBuf,
    pub id: String,
    pub version: String,
    pub size: u64,
    /// SHA-256 of the package as signed, hex.
    pub content_hash: String,
}

#[derive(Debug, Clone)]
pub struct BuildOutput {
    pub packages: Vec<BuiltPackage>,
    /// Warnings of the run (a build with errors returns [`BuildError::Invalid`]).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the course sources have {} error(s):\n{}", .0.errors().count(), .0)]
    Invalid(Diagnostics),
    #[error("{}: no course found (a course is a folder with course.toml)", .0.display())]
    NoCourse(PathBuf),
    #[error("cannot create output folder {}: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Package(#[from] PackageError),
}

/// Check every course under `dir` and, only if there is no error at all,
/// write one signed package per course into `out_dir` (created if needed).
/// A package appears whole or not at all.
pub fn build(dir: &Path, out_dir: &Path, key: &SigningKey) -> Result<BuildOutput, BuildError> {
    let (courses, diags) = load(dir);
    if diags.has_errors() {
        return Err(BuildError::Invalid(diags));
    }
    if courses.is_empty() {
        return Err(BuildError::NoCourse(dir.to_path_buf()));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| BuildError::Output {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut packages = Vec::new();
    for c in &courses {
        let path = out_dir.join(package_file_name(c.id(), c.version()));
        let s = outpost_package::write_package(&path, &compile(c), key)?;
        packages.push(BuiltPackage {
            path: s.path,
            id: s.id,
            version: s.version,
            size: s.size,
            content_hash: s.content_hash,
        });
    }
    Ok(BuildOutput {
        packages,
        warnings: diags.warnings().cloned().collect(),
    })
}
