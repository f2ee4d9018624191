//! The headless commands as a real process, with no display.

use outpost_package::{keys, sample, write_package};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn outpost(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_outpost-headless"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("OUTPOST_DATA_DIR")
        .output()
        .unwrap()
}

fn ok_json(data: &Path, args: &[&str]) -> Value {
    let out = outpost(data, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn failing(data: &Path, args: &[&str], code: i32) -> String {
    let out = outpost(data, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn post_it_sets_up_a_laptop_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let pkg = dir.path().join("demo-1.0.0.opkg");
    write_package(&pkg, &sample::content("1.0.0"), &key).unwrap();
    let pubkey = dir.path().join("publisher.key.pub");
    keys::write_verifying_key(&pubkey, &key.verifying_key()).unwrap();
    let pkg_s = pkg.to_str().unwrap();

    assert_eq!(
        ok_json(&data, &["courses", "list", "--json"]),
        serde_json::json!([])
    );
    let err = failing(&data, &["courses", "import", pkg_s], 1);
    assert!(err.contains("unknown publisher key"), "{err}");

    let out = outpost(
        &data,
        &["keys", "trust", pubkey.to_str().unwrap(), "--label", "IOM"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Trusted publisher key"));
    let keys = ok_json(&data, &["keys", "list", "--json"]);
    assert_eq!(keys[0]["label"], "IOM");

    let r = ok_json(&data, &["courses", "import", pkg_s, "--json"]);
    assert_eq!(r["outcome"], "installed");
    assert_eq!(r["version"], "1.0.0");
    let out = outpost(&data, &["courses", "import", pkg_s]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Already installed: demo 1.0.0"));
    let courses = ok_json(&data, &["courses", "list", "--json"]);
    assert_eq!(courses.as_array().unwrap().len(), 1);
    assert_eq!(courses[0]["course_id"], "demo");
    assert_eq!(courses[0]["languages"], serde_json::json!(["en", "fr"]));

    let p = ok_json(
        &data,
        &["profiles", "add", "Amina Diallo", "--lang", "fr", "--json"],
    );
    assert_eq!(p["language"], "fr");
    let err = failing(&data, &["profiles", "add", "amina diallo"], 1);
    assert!(err.contains("already exists"), "{err}");
    let err = failing(&data, &["profiles", "add", "Ali", "--lang", "de"], 1);
    assert!(err.contains("unknown language"), "{err}");
    ok_json(&data, &["profiles", "add", "Ali", "--lang", "ar", "--json"]);
    let profiles = ok_json(&data, &["profiles", "list", "--json"]);
    let names: Vec<&str> = profiles
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Amina Diallo", "Ali"]);

    // A learner studies in the app (here: through the library) ...
    {
        let store = outpost_learner::Store::open(&data).unwrap();
        let amina = store.profile_by_name("Amina Diallo").unwrap();
        store
            .view_lesson(amina.id, "demo", "l1", 60, 1.0, true)
            .unwrap();
        store
            .view_lesson(amina.id, "demo", "l2", 60, 1.0, true)
            .unwrap();
    }
    // ... and the focal point sees it.
    let rows = ok_json(&data, &["progress", "--json"]);
    assert_eq!(
        rows.as_array().unwrap().len(),
        2,
        "two profiles × one course"
    );
    let amina = ok_json(&data, &["progress", "--profile", "amina diallo", "--json"]);
    assert_eq!(amina[0]["fraction_done"], 0.5);
    assert_eq!(amina[0]["state"], "in_progress");
    assert_eq!(amina[0]["modules_completed"], 1);
    let err = failing(&data, &["progress", "--profile", "Nobody"], 1);
    assert!(err.contains("no profile"), "{err}");
    let status = ok_json(&data, &["status", "--json"]);
    assert_eq!(status["pending"], 3, "two views and m1's completion");
    assert_eq!(status["hub_url"], Value::Null);
    let out = outpost(&data, &["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Waiting to sync: 3 event(s)") && text.contains("Last confirmed sync: never"),
        "{text}"
    );

    // An update is previewed, then applied.
    let mut v2 = sample::content("1.1.0");
    for l in v2.lessons.iter_mut().filter(|l| l.lesson_id == "l3") {
        l.html.push_str("<p>New paragraph.</p>");
    }
    let pkg2 = dir.path().join("demo-1.1.0.opkg");
    write_package(&pkg2, &v2, &key).unwrap();
    let out = outpost(
        &data,
        &["courses", "import", pkg2.to_str().unwrap(), "--preview"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("would update demo 1.0.0 → 1.1.0"), "{text}");
    assert!(text.contains("lessons: 1 changed (l3)"), "{text}");
    let courses = ok_json(&data, &["courses", "list", "--json"]);
    assert_eq!(courses[0]["version"], "1.0.0", "a preview installs nothing");
    let r = ok_json(
        &data,
        &["courses", "import", pkg2.to_str().unwrap(), "--json"],
    );
    assert_eq!(r["outcome"], "updated");
    assert_eq!(
        r["changes"]["lessons"]["changed"],
        serde_json::json!(["l3"])
    );
    let amina = ok_json(&data, &["progress", "--profile", "Amina Diallo", "--json"]);
    assert_eq!(amina[0]["fraction_done"], 0.5, "progress kept");

    // A damaged file is refused and the installed version stays.
    let mut bytes = std::fs::read(&pkg).unwrap();
    let n = bytes.len();
    bytes.truncate(n / 2);
    let cut = dir.path().join("cut.opkg");
    std::fs::write(&cut, &bytes).unwrap();
    let err = failing(&data, &["courses", "import", cut.to_str().unwrap()], 1);
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(
        ok_json(&data, &["courses", "list", "--json"])[0]["version"],
        "1.1.0"
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    failing(data, &[], 2);
    let err = failing(data, &["bogus"], 2);
    assert!(err.contains("bogus"), "{err}");
    failing(data, &["courses", "import"], 2);
    let out = outpost(data, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["courses", "profiles", "progress", "status", "keys"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[test]
fn the_data_directory_comes_from_the_environment_and_foreign_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_outpost-headless"))
        .args(["profiles", "add", "Luz", "--lang", "es"])
        .env("OUTPOST_DATA_DIR", dir.path())
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("outpost.db").exists());
    let listed = ok_json(dir.path(), &["profiles", "list", "--json"]);
    assert_eq!(listed[0]["name"], "Luz");

    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("outpost.db"),
        "not a database, just text ......",
    )
    .unwrap();
    let err = failing(other.path(), &["status"], 1);
    assert!(err.contains("not an Outpost data file"), "{err}");
}

#[test]
fn the_sync_commands_say_clearly_what_they_cannot_do_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let pkg = dir.path().join("demo-1.0.0.opkg");
    write_package(&pkg, &sample::content("1.0.0"), &key).unwrap();
    let pubkey = dir.path().join("publisher.key.pub");
    keys::write_verifying_key(&pubkey, &key.verifying_key()).unwrap();
    let out = outpost(&data, &["keys", "trust", pubkey.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    ok_json(
        &data,
        &["courses", "import", pkg.to_str().unwrap(), "--json"],
    );
    ok_json(
        &data,
        &["profiles", "add", "Amina", "--lang", "fr", "--json"],
    );
    {
        let store = outpost_learner::Store::open(&data).unwrap();
        let amina = store.profile_by_name("Amina").unwrap();
        store
            .view_lesson(amina.id, "demo", "l1", 60, 1.0, true)
            .unwrap();
    }

    let err = failing(
        &data,
        &["enroll", "--hub", "hub.example.org", "--code", "X"],
        1,
    );
    assert!(err.contains("is not a hub address"), "{err}");
    let err = failing(&data, &["sync"], 1);
    assert!(
        err.contains("no profile on this laptop is enrolled"),
        "{err}"
    );

    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let file = usb.join("progress.txt");
    let out = outpost(&data, &["export-progress", "--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Nothing waits for the hub")
            && said.contains("Not exported: Amina is not enrolled"),
        "{said}"
    );
    let err = failing(
        &data,
        &[
            "export-progress",
            "--out",
            file.to_str().unwrap(),
            "--profile",
            "Amina",
        ],
        1,
    );
    assert!(err.contains("not enrolled"), "{err}");
    assert_eq!(
        std::fs::read_dir(&usb).unwrap().count(),
        0,
        "no file written"
    );

    let err = failing(&data, &["import-receipt", pkg.to_str().unwrap()], 1);
    assert!(err.contains(pkg.to_str().unwrap()), "names the file: {err}");
    let status = ok_json(&data, &["status", "--json"]);
    assert_eq!(status["pending"], 1, "the event still waits");
    assert_eq!(
        status.get("last_attempt_at"),
        Some(&Value::Null),
        "no sync was tried"
    );

    let out = outpost(&data, &["--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["enroll", "sync", "export-progress", "import-receipt"] {
        assert!(help.contains(cmd), "{help}");
    }
}
