//! Shared helpers: real signed packages built from `outpost_package::sample`.
#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use outpost_learner::{Language, Profile, Store};
use outpost_model::{LessonInfo, LessonKind};
use outpost_package::{sample, write_package, LessonText, PackageContent};
use std::path::{Path, PathBuf};

pub fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

pub fn write(dir: &Path, name: &str, content: &PackageContent, key: &SigningKey) -> PathBuf {
    let path = dir.join(name);
    write_package(&path, content, key).unwrap();
    path
}

/// Version 1.1.0 of the demo course: lesson `l2` removed, `l3` rewritten,
/// lesson `l4` added to m2, question `bank-6` dropped from the bank.
pub fn v2() -> PackageContent {
    let mut c = sample::content("1.1.0");
    c.structure.modules[0].lessons.retain(|l| l.id != "l2");
    c.lessons.retain(|l| l.lesson_id != "l2");
    for l in c.lessons.iter_mut().filter(|l| l.lesson_id == "l3") {
        l.html = l
            .html
            .replace("Assembly points", "Assembly points and safe routes");
        l.text = l
            .text
            .replace("Assembly points", "Assembly points and safe routes");
    }
    c.structure.modules[1].lessons.insert(
        1,
        LessonInfo {
            id: "l4".into(),
            kind: LessonKind::Lesson,
            minutes: 5,
            questions: vec![],
        },
    );
    for lang in ["en", "fr"] {
        c.lessons.push(LessonText {
            lesson_id: "l4".into(),
            module_id: "m2".into(),
            lang: lang.into(),
            title: format!("Hotlines ({lang})"),
            html: "<p>Run a crisis hotline in several languages.</p>".into(),
            text: "Run a crisis hotline in several languages.".into(),
            headings: vec![],
        });
    }
    if let Some(a) = c.structure.assessment.as_mut() {
        a.bank.retain(|q| q != "bank-6");
    }
    c.structure.questions.remove("bank-6");
    c.questions.retain(|q| q.question_id != "bank-6");
    c
}

/// A store in `dir/data` with the demo course 1.0.0 installed from a
/// package signed by [`key`], and one profile.
pub fn store_with_course(dir: &Path) -> (Store, Profile, PathBuf) {
    let pkg = write(dir, "demo-1.0.0.opkg", &sample::content("1.0.0"), &key());
    let store = Store::open(&dir.join("data")).unwrap();
    store.trust_key(key().verifying_key(), "tests").unwrap();
    store.install(&pkg).unwrap();
    let p = store.create_profile("Amina", Language::En, None).unwrap();
    (store, p, pkg)
}

/// The demo course's answer key (see `outpost_package::sample`).
pub fn correct(question: &str) -> Vec<String> {
    let ids: &[&str] = match question {
        "check-1" => &["a"],
        "quiz-q1" => &["b"],
        "quiz-q2" => &["a", "c"],
        "bank-1" => &["a"],
        "bank-2" => &["b"],
        "bank-3" => &["c"],
        "bank-4" => &["b"],
        "bank-5" => &["a", "b"],
        "bank-6" => &["a"],
        other => panic!("no question {other}"),
    };
    ids.iter().map(|s| s.to_string()).collect()
}

/// A wrong answer to any demo question (option `a` is wrong exactly where
/// the key does not start with it; otherwise `b`... chosen to be wrong).
pub fn wrong(question: &str) -> Vec<String> {
    let right = correct(question);
    let pick = if right == vec!["a".to_string()] {
        "b"
    } else {
        "a"
    };
    if right == vec![pick.to_string()] {
        vec!["c".into()]
    } else {
        vec![pick.into()]
    }
}

/// Every file under `dir`, with its bytes: to check that a refused
/// operation wrote nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !p.to_string_lossy().ends_with("-shm") {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}
