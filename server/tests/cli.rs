//! The `outpost-hub` binary as an administrator uses it (and as
//! `cargo xtask run` calls it): admin commands, `serve`, the USB import,
//! and a clean stop on SIGTERM.

mod common;

use common::*;
use outpost_protocol::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn hub_bin() -> &'static str {
    env!("CARGO_BIN_EXE_outpost-hub")
}

fn admin(data: &Path, args: &[&str]) -> Output {
    Command::new(hub_bin())
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("OUTPOST_PASSWORD", "a long enough password")
        .env_remove("OUTPOST_HUB_DATABASE")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn fails(out: Output) -> String {
    assert!(!out.status.success(), "should have failed");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administer_serve_import_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let pkg = dir.path().join("demo-1.0.0.opkg");
    outpost_package::write_package(
        &pkg,
        &outpost_package::sample::content("1.0.0"),
        &publisher_key(),
    )
    .unwrap();
    let pubkey = dir.path().join("publisher.pub");
    outpost_package::keys::write_verifying_key(&pubkey, &publisher_key().verifying_key()).unwrap();
    let wrong = dir.path().join("wrong.pub");
    outpost_package::keys::write_verifying_key(
        &wrong,
        &ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key(),
    )
    .unwrap();

    ok(admin(
        &data,
        &["create-user", "--username", "admin", "--role", "admin"],
    ));
    let e = fails(admin(
        &data,
        &["create-user", "--username", "admin", "--role", "admin"],
    ));
    assert!(e.contains("already exists"), "{e}");
    ok(admin(&data, &["create-cohort", "Demo cohort"]));
    let e = fails(admin(
        &data,
        &[
            "publish",
            pkg.to_str().unwrap(),
            "--pubkey",
            wrong.to_str().unwrap(),
        ],
    ));
    assert!(e.contains("unknown publisher key"), "{e}");
    ok(admin(
        &data,
        &[
            "publish",
            pkg.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
    ));
    ok(admin(
        &data,
        &[
            "assign",
            "--cohort",
            "Demo cohort",
            "--course",
            "demo",
            "--due",
            "2027-01-31",
        ],
    ));
    let code = ok(admin(
        &data,
        &[
            "create-code",
            "--cohort",
            "Demo cohort",
            "--uses",
            "50",
            "--expires",
            "2099-12-31",
        ],
    ));
    assert_eq!(code.len(), 9, "{code:?}");
    assert_eq!(&code[4..5], "-");
    let cred = ok(admin(&data, &["create-xapi-credential", "bi"]));
    assert!(cred.starts_with("key: "), "{cred}");
    let e = fails(admin(&data, &["create-code", "--cohort", "Nope"]));
    assert!(e.contains("no cohort named"), "{e}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(hub_bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("OUTPOST_HUB_DATABASE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let t = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the hub did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut d = Device::enroll(&http, &base, &code, "Amina", None).await;
    assert_eq!(
        d.enrolled.assignments[0].due.unwrap().to_string(),
        "2027-01-31"
    );
    let events = d.whole_course();
    let file = dir.path().join("progress.outpost");
    std::fs::write(
        &file,
        write_progress_file(
            &ProgressFile {
                protocol: PROTOCOL_VERSION,
                file_id: uuid::Uuid::now_v7(),
                device_id: d.device_id,
                learner_id: d.profile_id,
                created_at: chrono::Utc::now(),
                events: events.clone(),
            },
            &d.key,
        ),
    )
    .unwrap();
    let receipt_path = dir.path().join("receipt.outpost");
    let out = admin(
        &data,
        &[
            "import-progress",
            file.to_str().unwrap(),
            "--out",
            receipt_path.to_str().unwrap(),
        ],
    );
    ok(out);
    let hub_key = public_key_from_hex(&d.enrolled.hub_public_key).unwrap();
    let receipt = read_receipt(&std::fs::read(&receipt_path).unwrap())
        .unwrap()
        .verify(&hub_key)
        .unwrap();
    assert!(receipt
        .results
        .iter()
        .all(|r| r.status == EventStatus::Accepted));
    let again = admin(
        &data,
        &[
            "import-progress",
            file.to_str().unwrap(),
            "--out",
            receipt_path.to_str().unwrap(),
        ],
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("5 duplicate"));
    // The server sees what the import stored: a second device of the learner
    // is not needed, the progress is confirmed in the pull.
    let page = d.pull("", 10).await;
    assert!(page.confirmed[0].satisfied);
    ok(admin(&data, &["revoke-device", &d.device_id.to_string()]));
    let e = fails(admin(
        &data,
        &[
            "import-progress",
            file.to_str().unwrap(),
            "--out",
            receipt_path.to_str().unwrap(),
        ],
    ));
    assert!(e.contains("revoked"), "{e}");
    let late = d.view("l1", false);
    let res = d
        .push_raw(&serde_json::to_vec(&d.push_body(&[late])).unwrap(), true)
        .await;
    assert_eq!(res.status(), 401);

    // SIGTERM: a clean stop.
    let status = Command::new("kill")
        .arg(server.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let t = Instant::now();
    let exit = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the hub did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit}");
    let mut log = String::new();
    use std::io::Read;
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(log.contains("shutting down"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_and_serve_on_postgresql() {
    let url = common::pg::fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let on_pg = |args: &[&str]| {
        Command::new(hub_bin())
            .arg("admin")
            .args(args)
            .args(["--database", &url])
            .env("OUTPOST_PASSWORD", "a long enough password")
            .output()
            .unwrap()
    };
    ok(on_pg(&[
        "create-user",
        "--username",
        "trainer1",
        "--role",
        "trainer",
    ]));
    ok(on_pg(&["create-cohort", "Lima", "--trainer", "trainer1"]));
    let code = ok(on_pg(&["create-code", "--cohort", "Lima"]));
    let e = fails(on_pg(&["create-cohort", "Quito", "--trainer", "nobody"]));
    assert!(e.contains("no user named"), "{e}");
    let e = fails(admin(dir.path(), &["create-code", "--cohort", "Lima"]));
    assert!(e.contains("no cohort named"), "SQLite is another hub: {e}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(hub_bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--log-json",
            "--database",
            &url,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let t = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the hub did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let d = Device::enroll(&http, &base, &code, "Rosa", None).await;
    assert_eq!(d.enrolled.cohort, "Lima");
    Command::new("kill")
        .arg(server.id().to_string())
        .status()
        .unwrap();
    let t = Instant::now();
    while server.try_wait().unwrap().is_none() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the hub did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
