//! The `outpost-course` binary end to end: keygen, validate, build, verify,
//! inspect, outline; determinism; tampering and unknown schemas refused;
//! exit codes 0 (ok), 1 (problems found), 2 (usage).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_outpost-course"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("run outpost-course")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/courses/demo-course")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).unwrap();
        }
    }
}

struct Built {
    _dir: tempfile::TempDir,
    key: PathBuf,
    pubkey: PathBuf,
    package: PathBuf,
    root: PathBuf,
}

fn keygen_and_build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let key = root.join("publisher.key");
    let o = bin(&[&"keygen", &"--out", &key]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let pubkey = root.join("publisher.key.pub");
    assert!(pubkey.exists());
    let out = root.join("dist");
    let o = bin(&[&"build", &demo(), &"--out", &out, &"--key", &key]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stderr.is_empty(),
        "a clean course builds without warnings: {stderr}"
    );
    let package = out.join("demo-course-1.0.0.opkg");
    assert!(
        stdout.contains(&format!("wrote {}", package.display())),
        "{stdout}"
    );
    Built {
        _dir: dir,
        key,
        pubkey,
        package,
        root,
    }
}

#[test]
fn validate_a_clean_course() {
    let o = bin(&[&"validate", &demo()]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(stderr, "");
    assert_eq!(
        stdout,
        "checked 1 course (demo-course 1.0.0): 0 errors, 0 warnings\n"
    );
}

#[test]
fn validate_an_empty_folder_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin(&[&"validate", &dir.path()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).0.contains("no course found yet"));
}

#[test]
fn build_verify_inspect_round_trip() {
    let b = keygen_and_build();
    let o = bin(&[&"verify", &b.package, &"--pubkey", &b.pubkey]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("OK — demo-course 1.0.0 signed by"),
        "{stdout}"
    );

    let o = bin(&[&"inspect", &b.package]);
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout.starts_with("demo-course 1.0.0 — Migrants in a crisis"),
        "{stdout}"
    );
    assert!(
        stdout.contains("signature:  matches the content"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    registration — The consular register (lesson, 10 min, 2 questions)"),
        "{stdout}"
    );

    let o = bin(&[&"inspect", &b.package, &"--json"]);
    assert_eq!(o.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["inspect_format"], 1);
    assert_eq!(j["schema"], 1);
    assert_eq!(j["id"], "demo-course");
    assert_eq!(j["version"], "1.0.0");
    assert_eq!(j["languages"], serde_json::json!(["en", "fr"]));
    assert_eq!(j["move_on"], "CompletedAndPassed");
    assert_eq!(j["modules"].as_array().unwrap().len(), 2);
    assert_eq!(j["modules"][0]["id"], "m1-crises");
    assert_eq!(j["modules"][0]["lessons"][1]["id"], "registration");
    assert_eq!(j["modules"][0]["lessons"][1]["questions"], 2);
    assert_eq!(j["modules"][0]["lessons"][2]["kind"], "quiz");
    assert_eq!(j["modules"][0]["title"]["fr"], "Les crises et les migrants");
    assert_eq!(j["assessment"]["draw"], 4);
    assert_eq!(j["assessment"]["bank"], 6);
    assert_eq!(
        j["questions"],
        serde_json::json!({"total": 14, "knowledge_checks": 4, "quiz": 4, "bank": 6})
    );
    assert_eq!(
        j["sizes"]["file_bytes"],
        std::fs::metadata(&b.package).unwrap().len()
    );
    assert_eq!(j["sizes"]["assets"], 1);
    assert_eq!(j["signature_valid"], true);
    let pubkey = std::fs::read_to_string(&b.pubkey).unwrap();
    assert_eq!(j["signer"], pubkey.trim());
    let pkg = outpost_package::Package::open(&b.package).unwrap();
    assert_eq!(j["content_hash"], pkg.content_hash_hex());
}

#[test]
fn builds_are_deterministic() {
    let b = keygen_and_build();
    let again = b.root.join("again");
    let o = bin(&[&"build", &demo(), &"--out", &again, &"--key", &b.key]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let first = std::fs::read(&b.package).unwrap();
    let second = std::fs::read(again.join("demo-course-1.0.0.opkg")).unwrap();
    assert!(first == second, "two builds of the same sources differ");
}

#[test]
fn one_flipped_byte_anywhere_fails_verification() {
    let b = keygen_and_build();
    let bytes = std::fs::read(&b.package).unwrap();
    let tampered = b.root.join("tampered.opkg");
    // Every region of the file: header, each page, the signature, the end.
    let mut positions: Vec<usize> = (0..bytes.len()).step_by(997).collect();
    positions.extend([0, 60, 68, 99, 100, bytes.len() / 2, bytes.len() - 1]);
    for at in positions {
        let mut t = bytes.clone();
        t[at] ^= 0x01;
        std::fs::write(&tampered, &t).unwrap();
        let o = bin(&[&"verify", &tampered, &"--pubkey", &b.pubkey]);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(1), "byte {at}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "byte {at}: {stdout}");
        assert!(
            stderr.starts_with("error: ")
                && (stderr.contains("changed after it was signed")
                    || stderr.contains("damaged")
                    || stderr.contains("not an Outpost course package")
                    || stderr.contains("newer than this version")),
            "byte {at}: {stderr}"
        );
    }
}

#[test]
fn a_package_of_an_unknown_schema_is_refused() {
    let b = keygen_and_build();
    let mut bytes = std::fs::read(&b.package).unwrap();
    bytes[60..64].copy_from_slice(&99u32.to_be_bytes());
    let newer = b.root.join("newer.opkg");
    std::fs::write(&newer, &bytes).unwrap();
    for args in [
        vec![
            &"verify" as &dyn AsRef<std::ffi::OsStr>,
            &newer,
            &"--pubkey",
            &b.pubkey,
        ],
        vec![&"inspect", &newer, &"--json"],
    ] {
        let o = bin(&args);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("package schema 99 is newer than this version of Outpost understands (1); update Outpost"),
            "{stderr}"
        );
    }
}

#[test]
fn another_publisher_key_is_refused() {
    let b = keygen_and_build();
    let other = b.root.join("other.key");
    assert_eq!(bin(&[&"keygen", &"--out", &other]).status.code(), Some(0));
    let o = bin(&[
        &"verify",
        &b.package,
        &"--pubkey",
        &b.root.join("other.key.pub"),
    ]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr.contains("signed by an unknown publisher key"),
        "{stderr}"
    );
}

#[test]
fn keygen_never_overwrites() {
    let b = keygen_and_build();
    let before = std::fs::read(&b.key).unwrap();
    let o = bin(&[&"keygen", &"--out", &b.key]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("already exists"), "{:?}", text(&o));
    assert_eq!(std::fs::read(&b.key).unwrap(), before);
}

#[test]
fn build_without_a_key_warns_and_signs_with_the_development_key() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin(&[&"build", &demo(), &"--out", &dir.path()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no --key given: signing with the public development key"),
        "{stderr}"
    );
    let pkg = outpost_package::Package::open(&dir.path().join("demo-course-1.0.0.opkg")).unwrap();
    pkg.verify(&[outpost_course::development_key().verifying_key()])
        .unwrap();
}

#[test]
fn validate_reports_every_injected_error_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let course = dir.path().join("demo-course");
    copy_dir(&demo(), &course);
    let edit = |rel: &str, from: &str, to: &str| {
        let p = course.join(rel);
        let t = std::fs::read_to_string(&p).unwrap();
        assert!(t.contains(from), "{rel}: {from}");
        std::fs::write(&p, t.replacen(from, to, 1)).unwrap();
    };
    edit("course.toml", "draw = 4", "draw = 40");
    edit("course.toml", "publisher =", "publsher =");
    edit(
        "en/01-crises/01-why-migrants.md",
        "02-registration.md#keeping",
        "03-missing.md#keeping",
    );
    edit(
        "en/01-crises/01-why-migrants.md",
        "![Three phases: preparedness, emergency response and post-crisis action]",
        "![]",
    );
    edit(
        "en/01-crises/02-registration.md",
        "- [x] Help the workers",
        "- [ ] Help the workers",
    );
    edit("fr/02-response/09-quiz.md", "type=single", "type=one");
    std::fs::remove_file(course.join("fr/02-response/01-evacuation.md")).unwrap();
    edit("en/assessment/bank-01.md", "id=bank-data", "id=bank-flood");

    let o = bin(&[&"validate", &dir.path()]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    let c = course.display().to_string();
    let expected = [
        format!("{c}/course.toml:1:1: error: course.toml: missing key `publisher`"),
        format!("{c}/course.toml:7:1: error: unknown key `publsher` in course.toml; did you mean `publisher`?"),
        format!("{c}/course.toml:22:8: error: the question bank (en/assessment/) has 6 questions but draw = 40"),
        format!("{c}/en/01-crises/01-why-migrants.md:17:1: error: image `../../assets/three-phases.svg` has no alt text"),
        format!("{c}/en/01-crises/01-why-migrants.md:37:1: error: link to a missing lesson `03-missing.md#keeping-the-register-up-to-date`"),
        format!("{c}/en/01-crises/02-registration.md:39:1: error: question `check-first-step` has no correct answer"),
        format!("{c}/en/02-response/01-evacuation.md:2:6: error: lesson `evacuation` (module `m2-response`) is missing in language fr"),
        format!("{c}/en/assessment/bank-01.md:67:13: error: duplicate id `bank-flood`: already the id of a question at {c}/en/assessment/bank-01.md:42:13"),
        format!("{c}/fr/02-response/09-quiz.md:21:38: error: unknown question type `one`"),
    ];
    for e in &expected {
        assert!(
            stderr.lines().any(|l| l.starts_with(e.as_str())),
            "missing {e}\n--- got ---\n{stderr}"
        );
    }
    assert!(
        stdout.contains("checked 1 course (demo-course 1.0.0):"),
        "{stdout}"
    );
}

#[test]
fn outline_prints_the_course() {
    let o = bin(&[&"outline", &demo()]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("# Migrants in a crisis"), "{stdout}");
    assert!(stdout.contains("## Totals"), "{stdout}");
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [vec!["frobnicate"], vec!["build", "x"], vec![]] {
        let o = Command::new(env!("CARGO_BIN_EXE_outpost-course"))
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}
