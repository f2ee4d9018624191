//! The course package: one SQLite file (`<course-id>-<version>.opkg`) with a
//! course's metadata, structure, rendered lessons, questions, assets, a
//! full-text index and an ed25519 signature.
//!
//! The signature covers every byte of the file. The writer stores a fixed
//! placeholder where the signature goes, hashes the file, signs the hash and
//! writes the signature over the placeholder. The reader finds the signature
//! bytes, puts the placeholder back in a copy, and checks the hash. So a
//! single flipped byte anywhere — content, index, free space, header — fails
//! verification. See `docs/package-format.md`.

mod content;
pub mod durable;
pub mod keys;
mod read;
pub mod sample;
mod write;

pub use content::{
    Asset, Heading, LessonText, Manifest, ModuleText, OptionText, PackageContent, QuestionText,
};
pub use read::Package;
pub use write::{write_package, PackageSummary};

/// The package schema this code writes and the newest it can read.
pub const SCHEMA_VERSION: u32 = 1;

/// `PRAGMA application_id` of every package: "OPKG".
pub const APPLICATION_ID: i32 = 0x4F50_4B47;

/// Stands where the signature goes while the file is hashed.
pub(crate) const SIGNATURE_PLACEHOLDER: [u8; 64] =
    *b"OUTPOST-PACKAGE-SIGNATURE-PLACEHOLDER-64-BYTES------------------";

/// Domain separation: what exactly is signed.
pub(crate) fn signed_message(content_hash: &[u8; 32]) -> Vec<u8> {
    let mut m = b"outpost-package-v1:".to_vec();
    m.extend_from_slice(content_hash);
    m
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: not an Outpost course package")]
    NotAPackage(String),
    #[error("{path}: package schema {found} is newer than this version of Outpost understands ({supported}); update Outpost to install it")]
    NewerSchema {
        path: String,
        found: u32,
        supported: u32,
    },
    #[error("{path}: the package is damaged ({detail}); get a fresh copy")]
    Corrupt { path: String, detail: String },
    #[error("{path}: the signature does not match the content: the package was changed after it was signed")]
    Tampered { path: String },
    #[error("{path}: signed by an unknown publisher key {key}; it is not trusted on this device")]
    UnknownSigner { path: String, key: String },
    #[error("cannot write package {path}: {detail}")]
    Write { path: String, detail: String },
    #[error("key file {path}: {detail}")]
    Key { path: String, detail: String },
}

/// Media type of an asset by its file name.
pub fn media_type(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        _ => return None,
    })
}
