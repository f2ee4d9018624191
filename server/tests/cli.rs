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

fn start_serve(data: &Path, port: u16) -> std::process::Child {
    Command::new(hub_bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rate-limit",
            "100000",
            "--data-dir",
        ])
        .arg(data)
        .env_remove("OUTPOST_HUB_DATABASE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let t = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the hub did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// kill -9 while devices push: every event the hub acknowledged is there
/// after a restart, and the stored progress is the fold of what is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_push_loses_nothing_acknowledged() {
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
    ok(admin(&data, &["create-cohort", "C"]));
    ok(admin(
        &data,
        &[
            "publish",
            pkg.to_str().unwrap(),
            "--pubkey",
            pubkey.to_str().unwrap(),
        ],
    ));
    let code = ok(admin(
        &data,
        &["create-code", "--cohort", "C", "--uses", "10"],
    ));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut server = start_serve(&data, port);
    wait_healthy(&http, &base).await;
    let acked_so_far = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let counter = acked_so_far.clone();
        let mut d = Device::enroll(&http, &base, &code, &format!("L{i}"), None).await;
        d.clock = chrono::Utc::now() - chrono::Duration::days(3);
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for _ in 0..200 {
                let events: Vec<_> = (0..20)
                    .map(|j| d.view(["l1", "l2", "l3"][j % 3], j % 4 == 0))
                    .collect();
                let body = serde_json::to_vec(&d.push_body(&events)).unwrap();
                let res = d
                    .http
                    .post(format!("{}/api/v1/sync/push", d.base))
                    .bearer_auth(d.token())
                    .header("content-encoding", "gzip")
                    .body(gzip_bytes(&body))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                let Ok(answer) = res.json::<PushResponse>().await else {
                    break;
                };
                for r in answer.results {
                    assert!(r.status.is_acknowledged(), "{:?}", r.status);
                    acked.push(r.id);
                }
                counter.fetch_add(20, std::sync::atomic::Ordering::SeqCst);
            }
            acked
        }));
    }
    // Kill once pushes are flowing, whatever the machine's speed.
    let t = Instant::now();
    while acked_so_far.load(std::sync::atomic::Ordering::SeqCst) < 200 {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no push went through"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Command::new("kill")
        .args(["-9", &server.id().to_string()])
        .status()
        .unwrap();
    let _ = server.wait();
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    assert!(
        !acked.is_empty(),
        "some pushes were acknowledged before the kill"
    );
    assert!(
        acked.len() < 4 * 200 * 20,
        "the kill came while devices were pushing"
    );
    eprintln!("{} events acknowledged before kill -9", acked.len());

    // Restarted, the hub has every acknowledged event.
    let mut server = start_serve(&data, port);
    wait_healthy(&http, &base).await;
    let db = outpost_hub::Storage::choose(&data, None)
        .unwrap()
        .open()
        .await
        .unwrap();
    let mut tx = db.begin(outpost_hub::db::Mode::Read).await.unwrap();
    let stored: std::collections::HashSet<uuid::Uuid> = tx
        .query("SELECT id FROM events", outpost_hub::params![])
        .await
        .unwrap()
        .iter()
        .map(|r| r.uuid(0).unwrap())
        .collect();
    let missing = acked.iter().filter(|id| !stored.contains(id)).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} acknowledged events lost",
        acked.len()
    );
    // Progress was committed with its events: it counts exactly what is stored.
    let rows = tx
        .query(
            "SELECT p.events, (SELECT CAST(COUNT(*) AS BIGINT) FROM events e WHERE e.hub_learner_id = p.learner_id) FROM progress p",
            outpost_hub::params![],
        )
        .await
        .unwrap();
    for r in rows {
        assert_eq!(r.i64(0).unwrap(), r.i64(1).unwrap());
    }
    drop(tx);
    Command::new("kill")
        .arg(server.id().to_string())
        .status()
        .unwrap();
    let _ = server.wait();
}
