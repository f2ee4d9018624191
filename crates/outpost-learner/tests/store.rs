//! Opening the store, profiles, PINs and settings.

mod common;

use outpost_learner::{Language, LearnerError, Store, DB_FILE, STORE_VERSION};

#[test]
fn reopening_keeps_the_device_identity() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path()).unwrap();
    let id = a.device_id();
    let key = a.device_signing_key().unwrap().to_bytes();
    drop(a);
    let b = Store::open(dir.path()).unwrap();
    assert_eq!(b.device_id(), id);
    assert_eq!(b.device_signing_key().unwrap().to_bytes(), key);
    assert_eq!(b.integrity_check(), Ok(()));
    // Another data directory is another device.
    let other = tempfile::tempdir().unwrap();
    assert_ne!(Store::open(other.path()).unwrap().device_id(), id);
}

#[test]
fn foreign_files_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // Not SQLite at all.
    std::fs::write(
        dir.path().join(DB_FILE),
        b"just some text, not a database at all....",
    )
    .unwrap();
    let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, LearnerError::NotOutpost { .. }), "{err}");
    assert!(
        err.to_string().contains("not an Outpost data file"),
        "{err}"
    );
    assert_eq!(std::fs::read(dir.path().join(DB_FILE)).unwrap(), before);

    // Someone else's SQLite database.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, LearnerError::NotOutpost { .. }), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert!(!dir.path().join(format!("{DB_FILE}-wal")).exists());
}

#[test]
fn a_newer_store_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path()).unwrap());
    {
        let c = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        c.pragma_update(None, "user_version", STORE_VERSION + 1)
            .unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    match &err {
        LearnerError::NewerDatabase {
            found, supported, ..
        } => {
            assert_eq!((*found, *supported), (STORE_VERSION + 1, STORE_VERSION));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("update Outpost"), "{err}");
}

#[test]
fn profiles_have_unique_names_and_a_language() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let a = s
        .create_profile("  Amina   Diallo ", Language::Fr, None)
        .unwrap();
    assert_eq!(a.name, "Amina Diallo");
    assert_eq!(a.id.0.get_version_num(), 7);
    assert!(matches!(
        s.create_profile("amina diallo", Language::En, None),
        Err(LearnerError::ProfileNameTaken(_))
    ));
    assert!(matches!(
        s.create_profile("   ", Language::En, None),
        Err(LearnerError::InvalidName(_))
    ));
    assert!(matches!(
        s.create_profile(&"x".repeat(81), Language::En, None),
        Err(LearnerError::InvalidName(_))
    ));
    let b = s.create_profile("Ali", Language::Ar, None).unwrap();
    assert!(b.language.is_rtl());
    assert_eq!(s.profiles().unwrap(), vec![a.clone(), b.clone()]);
    assert_eq!(s.profile_by_name("AMINA diallo").unwrap().id, a.id);
    assert!(matches!(
        s.profile_by_name("Zoe"),
        Err(LearnerError::UnknownProfile(_))
    ));
    s.set_language(a.id, Language::Es).unwrap();
    assert_eq!(s.profile(a.id).unwrap().language, Language::Es);
    assert!(matches!(
        s.rename_profile(b.id, "Amina Diallo"),
        Err(LearnerError::ProfileNameTaken(_))
    ));
    s.rename_profile(b.id, "Ali Hassan").unwrap();
    assert_eq!(s.profile(b.id).unwrap().name, "Ali Hassan");
    assert_eq!(Language::parse("AR").unwrap(), Language::Ar);
    assert!(matches!(
        Language::parse("de"),
        Err(LearnerError::UnknownLanguage(_))
    ));
}

#[test]
fn pins_are_hashed_verified_changed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let p = s
        .create_profile("Amina", Language::En, Some("4821"))
        .unwrap();
    assert!(p.has_pin);
    assert!(s.verify_pin(p.id, "4821").unwrap());
    assert!(!s.verify_pin(p.id, "1111").unwrap());
    // The PIN is not stored in the clear.
    drop(s);
    let raw = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    let wal = std::fs::read(dir.path().join(format!("{DB_FILE}-wal"))).unwrap_or_default();
    let has = |hay: &[u8]| hay.windows(4).any(|w| w == b"4821");
    assert!(!has(&raw) && !has(&wal));
    let s = Store::open(dir.path()).unwrap();
    assert!(matches!(
        s.set_pin(p.id, Some("0000"), Some("9999")),
        Err(LearnerError::WrongPin)
    ));
    assert!(matches!(
        s.set_pin(p.id, Some("4821"), Some("12")),
        Err(LearnerError::InvalidPin(_))
    ));
    assert!(
        s.verify_pin(p.id, "4821").unwrap(),
        "a refused change keeps the PIN"
    );
    s.set_pin(p.id, Some("4821"), Some("9999")).unwrap();
    assert!(s.verify_pin(p.id, "9999").unwrap());
    s.set_pin(p.id, Some("9999"), None).unwrap();
    assert!(!s.profile(p.id).unwrap().has_pin);
    assert!(s.verify_pin(p.id, "").unwrap());
}

#[test]
fn settings_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.setting("hub_url").unwrap(), None);
    s.set_setting("hub_url", "https://hub.example.org").unwrap();
    s.set_setting("hub_url", "https://hub2.example.org")
        .unwrap();
    assert_eq!(
        s.setting("hub_url").unwrap().as_deref(),
        Some("https://hub2.example.org")
    );
    s.remove_setting("hub_url").unwrap();
    assert_eq!(s.setting("hub_url").unwrap(), None);
    assert!(s.set_setting(" ", "x").is_err());
}
