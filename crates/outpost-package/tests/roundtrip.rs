//! Write, open, verify and read back real package files.

use outpost_package::{keys, sample, write_package, Package, PackageError, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

fn build(dir: &Path, name: &str, version: &str) -> (PathBuf, ed25519_dalek::SigningKey) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let path = dir.join(name);
    write_package(&path, &sample::content(version), &key).unwrap();
    (path, key)
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let (path, key) = build(dir.path(), "demo.opkg", "1.0.0");
    let p = Package::open(&path).unwrap();
    assert_eq!(
        p.verify(&[key.verifying_key()]).unwrap(),
        key.verifying_key()
    );
    assert_eq!(p.manifest().id, "demo");
    assert_eq!(p.structure().modules.len(), 2);
    let content = p.read_content().unwrap();
    assert_eq!(content, {
        let mut c = sample::content("1.0.0");
        c.modules
            .sort_by(|a, b| (&a.module_id, &a.lang).cmp(&(&b.module_id, &b.lang)));
        c.lessons
            .sort_by(|a, b| (&a.lesson_id, &a.lang).cmp(&(&b.lesson_id, &b.lang)));
        c.questions
            .sort_by(|a, b| (&a.question_id, &a.lang).cmp(&(&b.question_id, &b.lang)));
        c
    });
    let q = p.question("fr", "quiz-q2").unwrap().unwrap();
    assert_eq!(q.options.len(), 4);
    assert!(q.options[0].feedback_html.contains("Feedback for a"));
    assert!(p.question("de", "quiz-q2").unwrap().is_none());
    let m = p.module("en", "m2").unwrap().unwrap();
    assert_eq!(m.title, "Module m2 (en)");
    assert_eq!(m.objectives, vec!["Understand m2.".to_string()]);
    assert!(p.module("en", "m9").unwrap().is_none());
    let l = p.lesson("fr", "l3").unwrap().unwrap();
    assert_eq!(l.module_id, "m2");
    assert_eq!(l.headings[0].anchor, "intro");
    assert!(p.lesson("de", "l3").unwrap().is_none());
    assert!(p
        .asset("diagram.svg")
        .unwrap()
        .unwrap()
        .bytes
        .starts_with(b"<svg"));
    // Nothing was written next to the package when reading it.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn builds_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = build(dir.path(), "a.opkg", "1.0.0");
    let (b, _) = build(dir.path(), "b.opkg", "1.0.0");
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

#[test]
fn unknown_signer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = build(dir.path(), "demo.opkg", "1.0.0");
    let other = keys::generate().verifying_key();
    let err = Package::open(&path).unwrap().verify(&[other]).unwrap_err();
    assert!(matches!(err, PackageError::UnknownSigner { .. }), "{err}");
    assert!(err.to_string().contains("unknown publisher key"));
}

#[test]
fn any_flipped_byte_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (path, key) = build(dir.path(), "demo.opkg", "1.0.0");
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.opkg");
    // Every 97th byte, and every byte of the header: spread across pages,
    // free space, the index and the signature.
    let positions: Vec<usize> = (0..100).chain((100..good.len()).step_by(97)).collect();
    for at in positions {
        let mut bytes = good.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&bad, &bytes).unwrap();
        let verdict = Package::open(&bad).and_then(|p| p.verify(&[key.verifying_key()]));
        assert!(verdict.is_err(), "flipping byte {at} went unnoticed");
    }
}

#[test]
fn truncated_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (path, key) = build(dir.path(), "demo.opkg", "1.0.0");
    let good = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.opkg");
    for len in [0, 10, 100, good.len() / 2, good.len() - 1] {
        std::fs::write(&cut, &good[..len]).unwrap();
        let verdict = Package::open(&cut).and_then(|p| p.verify(&[key.verifying_key()]));
        assert!(verdict.is_err(), "truncated to {len} accepted");
    }
    let txt = dir.path().join("notes.opkg");
    std::fs::write(&txt, "hello").unwrap();
    assert!(matches!(
        Package::open(&txt),
        Err(PackageError::NotAPackage(_))
    ));
    // A SQLite file that is not a package.
    let other = dir.path().join("other.opkg");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert!(matches!(
        Package::open(&other),
        Err(PackageError::NotAPackage(_))
    ));
    let missing = Package::open(&dir.path().join("nope.opkg")).unwrap_err();
    assert!(matches!(missing, PackageError::Io { .. }));
}

#[test]
fn newer_schema_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = build(dir.path(), "demo.opkg", "1.0.0");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[60..64].copy_from_slice(&(SCHEMA_VERSION + 1).to_be_bytes());
    std::fs::write(&path, bytes).unwrap();
    let err = Package::open(&path).unwrap_err();
    assert!(matches!(err, PackageError::NewerSchema { .. }), "{err}");
    assert!(err.to_string().contains("update Outpost"), "{err}");
}
