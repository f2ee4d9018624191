//! Installing and updating real packages; every refusal leaves the store as
//! it was.

mod common;

use common::*;
use outpost_learner::{InstallOutcome, LearnerError, Store};
use outpost_package::{sample, PackageError};

#[test]
fn install_records_the_course_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = write(dir.path(), "demo.opkg", &sample::content("1.0.0"), &key());
    let store = Store::open(&dir.path().join("data")).unwrap();
    store.trust_key(key().verifying_key(), "tests").unwrap();
    let report = store.install(&pkg).unwrap();
    assert_eq!(report.outcome, InstallOutcome::Installed);
    assert_eq!(
        (report.course_id.as_str(), report.version.as_str()),
        ("demo", "1.0.0")
    );
    assert_eq!(
        report.changes.lessons.added,
        ["l1", "l2", "l3", "m2-quiz", "final"]
    );
    assert_eq!(store.installed_courses().unwrap(), ["demo"]);
    // The package lives on as a verified copy in the data directory.
    let files: Vec<_> = std::fs::read_dir(dir.path().join("data/courses"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("demo-1.0.0-") && files[0].ends_with(".opkg"));
    std::fs::remove_file(&pkg).unwrap();
    // The source can go away: the course still opens from the copy.
    let p = store
        .create_profile("Amina", outpost_learner::Language::En, None)
        .unwrap();
    assert!(store
        .lesson(p.id, "demo", "l1")
        .unwrap()
        .html
        .contains("évacuation"));

    let pkg = write(dir.path(), "demo.opkg", &sample::content("1.0.0"), &key());
    assert_eq!(
        store.install(&pkg).unwrap().outcome,
        InstallOutcome::Unchanged
    );
}

#[test]
fn refused_packages_leave_everything_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, good) = store_with_course(dir.path());
    store
        .view_lesson(p.id, "demo", "l1", 60, 1.0, true)
        .unwrap();
    let progress = store.progress(p.id, "demo").unwrap();
    let v2_pkg = write(dir.path(), "v2_pkg.opkg", &v2(), &key());
    let data = dir.path().join("data");
    let before = snapshot(&data);

    let check = |path: &std::path::Path, expect: &dyn Fn(&LearnerError) -> bool| {
        let err = store.install(path).unwrap_err();
        assert!(expect(&err), "{err:?}");
        assert!(!err.to_string().is_empty());
        assert_eq!(snapshot(&data), before, "after {err}");
        assert_eq!(store.progress(p.id, "demo").unwrap(), progress);
        assert_eq!(store.catalog(p.id).unwrap()[0].version, "1.0.0");
        // preview refuses the same way, without writing either.
        assert!(store.preview_update(path).is_err());
        assert_eq!(snapshot(&data), before);
    };

    // Signed by a key this device does not trust.
    let stranger = write(dir.path(), "stranger.opkg", &v2(), &other_key());
    check(&stranger, &|e| {
        matches!(e, LearnerError::Package(PackageError::UnknownSigner { .. }))
    });

    // One byte changed after signing.
    let mut bytes = std::fs::read(&v2_pkg).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    let tampered = dir.path().join("tampered.opkg");
    std::fs::write(&tampered, &bytes).unwrap();
    check(&tampered, &|e| {
        matches!(
            e,
            LearnerError::Package(PackageError::Tampered { .. } | PackageError::Corrupt { .. })
        )
    });

    // Cut short, as by a USB stick pulled out mid-copy.
    let bytes = std::fs::read(&v2_pkg).unwrap();
    let truncated = dir.path().join("truncated.opkg");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    check(&truncated, &|e| {
        matches!(
            e,
            LearnerError::Package(PackageError::Tampered { .. } | PackageError::Corrupt { .. })
        )
    });

    // A package schema from the future (user_version at byte 60).
    let mut bytes = std::fs::read(&v2_pkg).unwrap();
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    let newer = dir.path().join("newer.opkg");
    std::fs::write(&newer, &bytes).unwrap();
    check(&newer, &|e| {
        matches!(
            e,
            LearnerError::Package(PackageError::NewerSchema { found: 99, .. })
        )
    });

    // Not a package at all.
    let text = dir.path().join("notes.opkg");
    std::fs::write(&text, "these are my notes, not a course").unwrap();
    check(&text, &|e| {
        matches!(e, LearnerError::Package(PackageError::NotAPackage(_)))
    });
    let missing = dir.path().join("missing.opkg");
    check(&missing, &|e| {
        matches!(e, LearnerError::Package(PackageError::Io { .. }))
    });

    // An older version than the installed one.
    store.install(&v2_pkg).unwrap();
    let before_downgrade = snapshot(&data);
    let err = store.install(&good).unwrap_err();
    assert!(matches!(err, LearnerError::Downgrade { .. }), "{err}");
    assert_eq!(snapshot(&data), before_downgrade);
}

#[test]
fn update_reports_changes_first_and_keeps_progress_on_remaining_lessons() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    for l in ["l1", "l2", "l3"] {
        store.view_lesson(p.id, "demo", l, 60, 1.0, true).unwrap();
    }
    store
        .view_lesson(p.id, "demo", "l1", 10, 0.4, false)
        .unwrap();
    let v2_pkg = write(dir.path(), "v2_pkg.opkg", &v2(), &key());

    let preview = store.preview_update(&v2_pkg).unwrap();
    assert_eq!(preview.outcome, InstallOutcome::Updated);
    assert_eq!(preview.installed_version.as_deref(), Some("1.0.0"));
    assert_eq!(preview.offered_version, "1.1.0");
    let c = &preview.changes;
    assert_eq!(c.lessons.added, ["l4"]);
    assert_eq!(c.lessons.removed, ["l2"]);
    // l3's text changed; the bank lost a question, so the assessment changed.
    assert_eq!(c.lessons.changed, ["l3", "final"]);
    assert_eq!(c.modules.changed, ["m1", "m2"]);
    assert!(c.modules.added.is_empty() && c.modules.removed.is_empty());
    assert_eq!(c.questions.removed, ["bank-6"]);
    assert!(c.questions.added.is_empty() && c.questions.changed.is_empty());
    // Previewing changed nothing.
    assert_eq!(store.catalog(p.id).unwrap()[0].version, "1.0.0");

    let report = store.install(&v2_pkg).unwrap();
    assert_eq!(report.outcome, InstallOutcome::Updated);
    assert_eq!(report.previous_version.as_deref(), Some("1.0.0"));
    assert_eq!(&report.changes, c);

    let progress = store.progress(p.id, "demo").unwrap();
    use outpost_model::LessonStatus::*;
    assert_eq!(progress.lesson_status("l1"), Done);
    assert_eq!(progress.lesson_status("l3"), Done);
    assert_eq!(progress.lesson_status("l4"), NotStarted);
    assert!(
        !progress.lessons.contains_key("l2"),
        "removed lesson no longer counts"
    );
    assert_eq!(progress.resume.as_ref().unwrap().lesson_id, "l1");
    // m1 is now just l1, which is done.
    assert!(progress.modules["m1"].completed);
    assert_eq!(store.catalog(p.id).unwrap()[0].version, "1.1.0");
    // The search index follows the update.
    let hits = store.search("safe routes", &Default::default()).unwrap();
    assert!(hits.iter().any(|h| h.lesson_id == "l3"));
    assert!(store
        .search("consular register", &Default::default())
        .unwrap()
        .is_empty());
    // Only the new package file remains.
    let files = std::fs::read_dir(dir.path().join("data/courses"))
        .unwrap()
        .count();
    assert_eq!(files, 1);
    // New events are recorded against the new version.
    store
        .view_lesson(p.id, "demo", "l4", 30, 1.0, true)
        .unwrap();
    let events = store.events(p.id, "demo").unwrap();
    assert_eq!(events.last().unwrap().course_version, "1.1.0");
}

#[test]
fn bundled_course_is_trusted_installed_once_and_never_downgraded() {
    let dir = tempfile::tempdir().unwrap();
    let v1 = std::fs::read(write(
        dir.path(),
        "b.opkg",
        &sample::content("1.0.0"),
        &key(),
    ))
    .unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    let report = store
        .ensure_bundled(&v1, key().verifying_key())
        .unwrap()
        .unwrap();
    assert_eq!(report.outcome, InstallOutcome::Installed);
    assert_eq!(store.trusted_keys().unwrap().len(), 1);
    assert!(store
        .ensure_bundled(&v1, key().verifying_key())
        .unwrap()
        .is_none());

    // An update arrives (from the hub or a USB stick) ...
    let v2_pkg = write(dir.path(), "v2_pkg.opkg", &v2(), &key());
    store.install(&v2_pkg).unwrap();
    // ... and an app whose bundle is older does not undo it.
    let v0 = std::fs::read(write(
        dir.path(),
        "b0.opkg",
        &sample::content("0.9.0"),
        &key(),
    ))
    .unwrap();
    let report = store
        .ensure_bundled(&v0, key().verifying_key())
        .unwrap()
        .unwrap();
    assert_eq!(report.outcome, InstallOutcome::KeptNewer);
    assert_eq!(store.installed_courses().unwrap(), ["demo"]);
    let p = store
        .create_profile("Ali", outpost_learner::Language::Ar, None)
        .unwrap();
    assert_eq!(store.catalog(p.id).unwrap()[0].version, "1.1.0");
    // A damaged bundle is refused like any package.
    let err = store
        .ensure_bundled(&v0[..1000], key().verifying_key())
        .unwrap_err();
    assert!(matches!(err, LearnerError::Package(_)), "{err}");
}

#[test]
fn a_second_process_sees_an_update_made_by_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (app, p, _) = store_with_course(dir.path());
    assert!(!app
        .lesson(p.id, "demo", "l3")
        .unwrap()
        .html
        .contains("safe routes"));
    // The headless CLI, in another process, installs an update.
    let cli = Store::open(&dir.path().join("data")).unwrap();
    let v2_pkg = write(dir.path(), "v2.opkg", &v2(), &key());
    cli.install(&v2_pkg).unwrap();
    // The app's next call uses the new version, and its events say so.
    assert!(app
        .lesson(p.id, "demo", "l3")
        .unwrap()
        .html
        .contains("safe routes"));
    app.view_lesson(p.id, "demo", "l4", 5, 1.0, true).unwrap();
    assert_eq!(app.events(p.id, "demo").unwrap()[0].course_version, "1.1.0");
    assert_eq!(
        cli.progress(p.id, "demo").unwrap().lesson_status("l4"),
        outpost_model::LessonStatus::Done
    );
}
