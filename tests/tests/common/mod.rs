//! The harness of the sync client's tests: a real hub (in this process on
//! 127.0.0.1, or the real `outpost-hub` binary as a child process) over
//! real HTTP, real learner stores in temporary folders, and the fault
//! proxy between them.

#![allow(dead_code)]

use ed25519_dalek::SigningKey;
use outpost_hub::db::{Database, Mode};
use outpost_hub::hub::{Config, Hub};
use outpost_hub::{params, Running};
use outpost_learner::{Language, Profile, ProfileId, Store};
use outpost_sync::{RetryPolicy, SyncClient, SyncConfig, SyncReport};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub fn publisher_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The demo course at `version`, signed by [`publisher_key`].
pub fn package(dir: &Path, version: &str) -> PathBuf {
    let path = dir.join(format!("demo-{version}.opkg"));
    if !path.exists() {
        outpost_package::write_package(
            &path,
            &outpost_package::sample::content(version),
            &publisher_key(),
        )
        .unwrap();
    }
    path
}

pub async fn publish(hub: &Hub, path: &Path) {
    let pkg = outpost_package::Package::open(path).unwrap();
    pkg.verify(&[publisher_key().verifying_key()]).unwrap();
    hub.publish(
        &std::fs::read(path).unwrap(),
        &serde_json::to_string(pkg.manifest()).unwrap(),
        pkg.structure(),
        &hex::encode(publisher_key().verifying_key().as_bytes()),
    )
    .await
    .unwrap();
}

/// A hub in this process on SQLite in a temporary folder: the demo course
/// 1.0.0 published and assigned to cohort "Dakar 2026", a code for 50.
pub struct TestHub {
    pub dir: tempfile::TempDir,
    pub server: Running,
    pub code: String,
}

impl TestHub {
    pub async fn start() -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let storage = outpost_hub::Storage::choose(dir.path(), None).unwrap();
        let mut config = Config::new("http://hub.test");
        config.rate_per_second = 1e6;
        config.rate_burst = 1e6;
        let hub = Hub::new(storage.open().await.unwrap(), config)
            .await
            .unwrap();
        publish(&hub, &package(dir.path(), "1.0.0")).await;
        hub.create_cohort("Dakar 2026", None).await.unwrap();
        hub.assign(
            "Dakar 2026",
            "demo",
            chrono::NaiveDate::from_ymd_opt(2027, 1, 31),
        )
        .await
        .unwrap();
        let code = hub.create_code("Dakar 2026", 50, None).await.unwrap();
        let server = outpost_hub::spawn(Arc::new(hub)).await.unwrap();
        TestHub { dir, server, code }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn hub(&self) -> &Hub {
        &self.server.hub
    }

    pub async fn event_ids(&self) -> Vec<Uuid> {
        event_ids(self.hub().db.as_ref()).await
    }

    pub async fn progress(&self, learner: Uuid) -> serde_json::Value {
        self.hub()
            .progress(learner, "demo")
            .await
            .unwrap()
            .unwrap_or(serde_json::Value::Null)
    }
}

/// Every event id the hub stores (with repeats, if it ever stored one twice).
pub async fn event_ids(db: &dyn Database) -> Vec<Uuid> {
    let mut tx = db.begin(Mode::Read).await.unwrap();
    tx.query("SELECT id FROM events ORDER BY id", params![])
        .await
        .unwrap()
        .iter()
        .map(|r| r.uuid(0).unwrap())
        .collect()
}

/// Timeouts and waits short enough for tests on a link of milliseconds.
pub fn fast_config() -> SyncConfig {
    SyncConfig {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
        download_idle_timeout: Duration::from_secs(5),
        probe_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            attempts: 4,
        },
        initial_batch: 4,
        device_name: "test laptop".into(),
        ..SyncConfig::default()
    }
}

/// A laptop: a store with the demo course 1.0.0 installed and one profile.
pub struct Laptop {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub profile: Profile,
    pub client: SyncClient,
    /// The hub's id of the learner, once enrolled.
    pub learner: Option<Uuid>,
}

impl Laptop {
    pub fn new(name: &str) -> Laptop {
        let dir = tempfile::tempdir().unwrap();
        let pkg = package(dir.path(), "1.0.0");
        let store = Store::open(&dir.path().join("data")).unwrap();
        store
            .trust_key(publisher_key().verifying_key(), "tests")
            .unwrap();
        store.install(&pkg).unwrap();
        let profile = store.create_profile(name, Language::En, None).unwrap();
        Laptop {
            dir,
            store,
            profile,
            client: SyncClient::new(fast_config()).unwrap(),
            learner: None,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn id(&self) -> ProfileId {
        self.profile.id
    }

    pub async fn enroll(&mut self, hub: &str, code: &str, email: Option<&str>) {
        let who = outpost_sync::enroll(&self.store, &self.client, hub, code, self.id(), email)
            .await
            .unwrap();
        self.learner = Some(who.learner_id);
    }

    pub async fn sync(&self) -> SyncReport {
        outpost_sync::sync_once(&self.store, &self.client, &|_| {}).await
    }

    /// Sync until the hub has acknowledged everything (at most `rounds`).
    pub async fn sync_until_complete(&self, rounds: usize) -> Vec<SyncReport> {
        let mut reports = Vec::new();
        for _ in 0..rounds {
            let r = self.sync().await;
            let done = r.complete();
            reports.push(r);
            if done {
                return reports;
            }
        }
        panic!(
            "no complete sync in {rounds} rounds; last: {:?}",
            reports.last().map(|r| r.problem())
        );
    }

    /// Read lessons partway, `n` times (n events), cycling through them.
    pub fn read(&self, n: usize) {
        for i in 0..n {
            let lesson = ["l1", "l2", "l3"][i % 3];
            self.store
                .view_lesson(
                    self.id(),
                    "demo",
                    lesson,
                    10,
                    0.1 + (i % 8) as f64 / 10.0,
                    false,
                )
                .unwrap();
        }
    }

    /// Everything it takes to earn the demo course's certificate.
    pub fn finish_course(&self) {
        let (s, p) = (&self.store, self.id());
        for l in ["l1", "l2", "l3"] {
            s.view_lesson(p, "demo", l, 60, 1.0, true).unwrap();
        }
        for quiz in ["m2-quiz", "final"] {
            let a = s.start_quiz(p, "demo", quiz).unwrap();
            for q in &a.questions {
                s.answer_question(p, "demo", Some(a.attempt_id), &q.id, &correct(&q.id))
                    .unwrap();
            }
            s.submit_quiz(p, "demo", a.attempt_id, 120).unwrap();
        }
    }

    /// The events recorded on this laptop.
    pub fn local_ids(&self) -> BTreeSet<Uuid> {
        self.store
            .events(self.id(), "demo")
            .unwrap()
            .into_iter()
            .filter(|e| e.device_id == self.store.device_id())
            .map(|e| e.id)
            .collect()
    }

    pub fn all_ids(&self) -> BTreeSet<Uuid> {
        self.store
            .events(self.id(), "demo")
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect()
    }

    pub fn progress(&self) -> serde_json::Value {
        serde_json::to_value(self.store.progress(self.id(), "demo").unwrap()).unwrap()
    }
}

/// The right answer to a question of the demo course, from its answer key
/// (`outpost_package::sample`), not typed here a second time.
pub fn correct(question: &str) -> Vec<String> {
    static KEY: std::sync::OnceLock<outpost_package::PackageContent> = std::sync::OnceLock::new();
    let course = KEY.get_or_init(|| outpost_package::sample::content("1.0.0"));
    let key = course
        .structure
        .questions
        .get(question)
        .unwrap_or_else(|| panic!("no question {question}"));
    outpost_e2e::course::right_answer(key)
}

/// A binary of this workspace beside this test's target directory.
/// `cargo xtask test` builds every target first, so it is there and fresh;
/// when it is missing (a bare `cargo test -p outpost-e2e`) it is built.
/// Building it each time would make cargo rebuild this test too (another
/// feature set), so a binary that exists is used: after changing the hub
/// or the CLI, run `cargo build -p outpost-hub -p outpost-cli` or set
/// `OUTPOST_TEST_REBUILD=1`.
pub fn workspace_binary(package: &str, bin: &str) -> PathBuf {
    use std::sync::Mutex;
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test> → target/<profile>/<bin>
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let path = profile_dir.join(bin);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let forced = std::env::var_os("OUTPOST_TEST_REBUILD").is_some_and(|v| v == "1");
    if (forced || !path.is_file()) && !built.contains(&bin.to_string()) {
        let target_dir = profile_dir.parent().unwrap();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args = vec!["build", "-p", package, "--bin", bin];
        if profile_dir.ends_with("release") {
            args.push("--release");
        }
        let status = std::process::Command::new(cargo)
            .args(args)
            .env("CARGO_TARGET_DIR", target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(status.success(), "building {bin} failed");
        built.push(bin.to_string());
    }
    assert!(path.is_file(), "{} was not built", path.display());
    path
}
