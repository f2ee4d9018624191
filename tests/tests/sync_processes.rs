//! The real binaries as separate processes: `outpost-hub` killed with
//! SIGKILL while a push is in flight and restarted on its data; the
//! headless `outpost` killed in the middle of `outpost sync` and run
//! again; the USB round trip `outpost export-progress` → `outpost-hub admin
//! import-progress` → `outpost import-receipt`, with every bad receipt a
//! focal point could bring back; and `outpost sync`'s exit codes.

mod common;

use common::*;
use outpost_faultproxy::{FaultProxy, LinkProfile};
use outpost_learner::SyncState;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn hub_bin() -> PathBuf {
    workspace_binary("outpost-hub", "outpost-hub")
}

fn outpost_bin() -> PathBuf {
    workspace_binary("outpost-cli", "outpost-headless")
}

fn admin(data: &Path, args: &[&str]) -> Output {
    Command::new(hub_bin())
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("OUTPOST_HUB_DATABASE")
        .output()
        .unwrap()
}

fn outpost(data: &Path, args: &[&str]) -> Output {
    Command::new(outpost_bin())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("OUTPOST_DATA_DIR")
        .env_remove("DISPLAY")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output) -> String {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Exit 1, and what it said on stderr.
fn fails(out: Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A hub set up with its own admin commands, on a data folder.
struct HubProcess {
    data: PathBuf,
    port: u16,
    child: Option<Child>,
    code: String,
}

impl HubProcess {
    fn setup(dir: &Path) -> HubProcess {
        let data = dir.join("hub");
        let pkg = package(dir, "1.0.0");
        let pubkey = dir.join("publisher.pub");
        outpost_package::keys::write_verifying_key(&pubkey, &publisher_key().verifying_key())
            .unwrap();
        for args in [
            vec!["create-cohort", "Dakar 2026"],
            vec![
                "publish",
                pkg.to_str().unwrap(),
                "--pubkey",
                pubkey.to_str().unwrap(),
            ],
            vec!["assign", "--cohort", "Dakar 2026", "--course", "demo"],
        ] {
            let out = admin(&data, &args);
            assert!(out.status.success(), "{}", text(&out));
        }
        let out = admin(
            &data,
            &["create-code", "--cohort", "Dakar 2026", "--uses", "20"],
        );
        assert!(out.status.success(), "{}", text(&out));
        let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        HubProcess {
            data,
            port,
            child: None,
            code,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The hub's log (appended to across restarts), for failure messages.
    fn log(&self) -> std::fs::File {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data.with_extension("log"))
            .unwrap()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default()
    }

    fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    async fn serve(&mut self) {
        let child = Command::new(hub_bin())
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--rate-limit", "100000", "--data-dir"])
            .arg(&self.data)
            .env_remove("OUTPOST_HUB_DATABASE")
            .stdout(Stdio::null())
            .stderr(self.log())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Ok(r) = http.get(format!("{}/healthz", self.url())).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("the hub exited ({status}):\n{}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the hub did not start:\n{}", self.log_text());
    }

    /// SIGKILL: no chance to finish anything.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    async fn event_ids(&self) -> Vec<uuid::Uuid> {
        let storage = outpost_hub::Storage::choose(&self.data, None).unwrap();
        let db = storage.open().await.unwrap();
        event_ids(db.as_ref()).await
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A child process that is killed when dropped, so that a failed assertion
/// does not leave it running.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Wait until `pred` holds, checking every few milliseconds; false when it
/// never did (a bound on a hang, not a measure of speed).
async fn until(mut pred: impl FnMut() -> bool) -> bool {
    for _ in 0..6000 {
        if pred() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_killed_mid_push_and_restarted_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = HubProcess::setup(dir.path());
    hub.serve().await;
    // A slow link, so that a push is on the wire when the hub dies.
    let link = LinkProfile {
        latency: Duration::from_millis(20),
        bandwidth_bps: Some(32_000),
        loss: 0.0,
        retransmit: Duration::ZERO,
    };
    let proxy = FaultProxy::start(hub.addr(), link, vec![]).await.unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    laptop.read(400);
    laptop.finish_course();
    let recorded = laptop.local_ids();

    for _ in 0..2 {
        let waiting = laptop.store.status().unwrap().pending;
        let sync = laptop.sync();
        let killer = async {
            // A batch acknowledged, the next one on the wire: kill -9.
            assert!(
                until(|| laptop.store.status().unwrap().pending < waiting).await,
                "no batch was acknowledged"
            );
            let sent = proxy.stats().bytes_up;
            assert!(
                until(|| proxy.stats().bytes_up > sent + 200).await,
                "no push went out"
            );
            hub.kill();
        };
        let (report, ()) = tokio::join!(sync, killer);
        assert!(!report.complete(), "the hub died during this sync");
        assert!(
            report.error().unwrap().is_transient(),
            "{:?}",
            report.errors
        );
        // What the laptop holds as acknowledged, the hub has on disk.
        let on_hub: BTreeSet<_> = hub.event_ids().await.into_iter().collect();
        for id in &recorded {
            if laptop
                .store
                .sync_state(*id)
                .unwrap()
                .is_some_and(|s| s.confirmed())
            {
                assert!(on_hub.contains(id), "acknowledged {id} but not stored");
            }
        }
        assert!(laptop.store.status().unwrap().pending > 0, "killed mid-way");
        hub.serve().await;
    }
    let reports = laptop.sync_until_complete(10).await;
    assert!(reports.last().unwrap().complete());
    let on_hub = hub.event_ids().await;
    assert_eq!(on_hub.len(), recorded.len(), "each event stored once");
    assert_eq!(on_hub.into_iter().collect::<BTreeSet<_>>(), recorded);
    assert!(
        laptop
            .store
            .certificate(laptop.id(), "demo")
            .unwrap()
            .unwrap()
            .verified
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outpost_sync_killed_mid_way_and_run_again_sends_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = HubProcess::setup(dir.path());
    hub.serve().await;
    let link = LinkProfile {
        latency: Duration::from_millis(20),
        bandwidth_bps: Some(128_000),
        loss: 0.0,
        retransmit: Duration::ZERO,
    };
    let proxy = FaultProxy::start(hub.addr(), link, vec![]).await.unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    laptop.read(500);
    let recorded = laptop.local_ids();

    let mut child = Killed(
        Command::new(outpost_bin())
            .arg("--data-dir")
            .arg(laptop.data_dir())
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Some batches acknowledged, one on the wire: kill -9.
    assert!(
        until(|| laptop.store.status().unwrap().pending < recorded.len() as u64).await,
        "no batch was acknowledged"
    );
    let before = proxy.stats().bytes_up;
    assert!(until(|| proxy.stats().bytes_up > before + 500).await);
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let left = laptop.store.status().unwrap().pending;
    assert!(left > 0, "the kill came too late to prove anything");
    laptop.store.integrity_check().unwrap();

    let out = outpost(&laptop.data_dir(), &["sync", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\nhub log:\n{}",
        text(&out),
        hub.log_text()
    );
    let report: serde_json::Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(report["pending_after"], 0);
    let resent = report["accepted"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap();
    assert_eq!(resent, left, "only what was not acknowledged is sent again");
    let on_hub = hub.event_ids().await;
    assert_eq!(on_hub.len(), recorded.len(), "each event stored once");
    assert_eq!(on_hub.into_iter().collect::<BTreeSet<_>>(), recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_goes_by_usb_stick_and_comes_back_as_a_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = HubProcess::setup(dir.path());
    hub.serve().await;
    let laptop = Laptop::new("Amina");
    let data = laptop.data_dir();
    // Enrolment through the real command; the token is never printed.
    let out = outpost(&data, &["enroll", "--hub", &hub.url(), "--code", &hub.code]);
    let shown = text(&out);
    let said = ok(out);
    assert!(
        said.contains("Amina") && said.contains("Dakar 2026"),
        "{said}"
    );
    let token = laptop
        .store
        .enrolment(laptop.id())
        .unwrap()
        .unwrap()
        .device_token;
    assert!(!shown.contains(&token));
    // The network goes away for good; the learner studies.
    hub.kill();
    laptop.finish_course();
    let pending = laptop.store.status().unwrap().pending;

    let usb = dir.path().join("usb");
    std::fs::create_dir(&usb).unwrap();
    let file = usb.join("amina.progress");
    let said = ok(outpost(
        &data,
        &["export-progress", "--out", file.to_str().unwrap()],
    ));
    assert!(
        said.contains(&format!("Wrote {pending} event(s) of Amina")),
        "{said}"
    );
    let names: Vec<_> = std::fs::read_dir(&usb)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [std::ffi::OsString::from("amina.progress")],
        "no temporary file left"
    );
    assert_eq!(
        laptop.store.status().unwrap().pending,
        pending,
        "still pending until the receipt"
    );

    // At the hub.
    let receipt = usb.join("amina.receipt");
    let out = admin(
        &hub.data,
        &[
            "import-progress",
            file.to_str().unwrap(),
            "--out",
            receipt.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("{pending} accepted")),
        "{}",
        text(&out)
    );
    assert_eq!(hub.event_ids().await.len() as u64, pending);
    // The same file twice at the hub: nothing stored twice.
    let again = usb.join("again.receipt");
    let out = admin(
        &hub.data,
        &[
            "import-progress",
            file.to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("{pending} duplicate")),
        "{}",
        text(&out)
    );
    assert_eq!(hub.event_ids().await.len() as u64, pending);

    // Bad receipts first: each gets a clear answer and marks nothing.
    let good = std::fs::read(&receipt).unwrap();
    let tampered = usb.join("tampered.receipt");
    let mut t = good.clone();
    let at = t.iter().position(|b| *b == b'\n').unwrap() + 20;
    t[at] = if t[at] == b'a' { b'b' } else { b'a' };
    std::fs::write(&tampered, &t).unwrap();
    let err = fails(outpost(
        &data,
        &["import-receipt", tampered.to_str().unwrap()],
    ));
    assert!(
        err.contains("damaged") || err.contains("signature does not match"),
        "{err}"
    );
    let truncated = usb.join("truncated.receipt");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    let err = fails(outpost(
        &data,
        &["import-receipt", truncated.to_str().unwrap()],
    ));
    assert!(err.contains("damaged"), "{err}");
    let err = fails(outpost(&data, &["import-receipt", file.to_str().unwrap()]));
    assert!(err.contains("progress file, not a receipt"), "{err}");
    assert_eq!(
        laptop.store.status().unwrap().pending,
        pending,
        "nothing marked"
    );

    // The real receipt: every event confirmed, the certificate verified.
    let said = ok(outpost(
        &data,
        &["import-receipt", receipt.to_str().unwrap()],
    ));
    assert!(
        said.contains(&format!("{pending} event(s) confirmed")),
        "{said}"
    );
    assert_eq!(laptop.store.status().unwrap().pending, 0);
    let some = laptop.local_ids().into_iter().next().unwrap();
    assert_eq!(
        laptop.store.sync_state(some).unwrap(),
        Some(SyncState::Receipted)
    );
    assert!(
        laptop
            .store
            .certificate(laptop.id(), "demo")
            .unwrap()
            .unwrap()
            .verified
    );
    // Twice: a clear answer, nothing marked again. The hub's second
    // receipt (all duplicates) also finds nothing left to do.
    let said = ok(outpost(
        &data,
        &["import-receipt", receipt.to_str().unwrap()],
    ));
    assert!(said.contains("imported before: nothing changed"), "{said}");
    // The hub's second receipt answers the same progress file.
    let said = ok(outpost(&data, &["import-receipt", again.to_str().unwrap()]));
    assert!(said.contains("imported before: nothing changed"), "{said}");

    // Another laptop's receipt is refused by name.
    hub.serve().await;
    let mut other = Laptop::new("Ali");
    other.enroll(&hub.url(), &hub.code, None).await;
    other.read(2);
    let ofile = usb.join("ali.progress");
    ok(outpost(
        &other.data_dir(),
        &["export-progress", "--out", ofile.to_str().unwrap()],
    ));
    let oreceipt = usb.join("ali.receipt");
    let out = admin(
        &hub.data,
        &[
            "import-progress",
            ofile.to_str().unwrap(),
            "--out",
            oreceipt.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let err = fails(outpost(
        &data,
        &["import-receipt", oreceipt.to_str().unwrap()],
    ));
    assert!(err.contains("not for this laptop"), "{err}");

    // A revoked laptop's progress file is refused at the hub.
    let out = admin(
        &hub.data,
        &["revoke-device", &other.store.device_id().to_string()],
    );
    assert!(out.status.success(), "{}", text(&out));
    other.read(1);
    let late = usb.join("ali-late.progress");
    ok(outpost(
        &other.data_dir(),
        &["export-progress", "--out", late.to_str().unwrap()],
    ));
    let out = admin(
        &hub.data,
        &[
            "import-progress",
            late.to_str().unwrap(),
            "--out",
            usb.join("x").to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("revoked"),
        "{}",
        text(&out)
    );
    assert!(!usb.join("x").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outpost_sync_exits_0_only_when_everything_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut hub = HubProcess::setup(dir.path());
    hub.serve().await;
    let laptop = Laptop::new("Amina");
    let data = laptop.data_dir();
    let err = fails(outpost(&data, &["sync"]));
    assert!(
        err.contains("no profile on this laptop is enrolled"),
        "{err}"
    );
    ok(outpost(
        &data,
        &["enroll", "--hub", &hub.url(), "--code", &hub.code, "--json"],
    ));
    laptop.read(5);

    hub.kill();
    let err = fails(outpost(&data, &["sync"]));
    assert!(
        err.contains("cannot be reached") && err.contains("Nothing was lost"),
        "{err}"
    );
    assert_eq!(laptop.store.status().unwrap().pending, 5);
    let status = ok(outpost(&data, &["status"]));
    assert!(
        status.contains("Waiting to sync: 5 event(s)") && status.contains("cannot be reached"),
        "{status}"
    );

    hub.serve().await;
    let said = ok(outpost(&data, &["sync"]));
    assert!(
        said.contains("5 stored by the hub") && said.contains("Waiting to sync: 0 event(s)"),
        "{said}"
    );
    assert_eq!(hub.event_ids().await.len(), 5);
    // The course version the hub does not have: rejected, said, kept.
    laptop
        .store
        .install(&package(laptop.dir.path(), "1.1.0"))
        .unwrap();
    laptop.read(1);
    let out = outpost(&data, &["sync"]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let err = fails(out);
    assert!(
        said.contains("Rejected by the hub, kept on this laptop: 1"),
        "{said}"
    );
    assert!(
        err.contains("rejected 1 event(s)") && err.contains("1.1.0"),
        "{err}"
    );
    assert_eq!(laptop.store.status().unwrap().rejected, 1);
}
