//! Killing the process at any moment loses no acknowledged event.
//!
//! A child process (`tests/bin/helper.rs`) records events and prints
//! each id after the call that recorded it returned. It is killed with
//! SIGKILL at a random moment, many times over; after each kill the store
//! must hold every printed event, pass `PRAGMA integrity_check`, and keep
//! its sequence numbers gapless.

mod common;

use common::*;
use outpost_learner::Store;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROUNDS: u64 = 16;

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    drop(store);
    let data = dir.path().join("data");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Kill between 0 and 400 ms after the first event is acknowledged,
        // or before any (round 0 dies while opening the store).
        let delay = Duration::from_millis(x % 400);
        let mut child = Command::new(env!("CARGO_BIN_EXE_learner-test-helper"))
            .arg("record-loop")
            .arg(&data)
            .arg(p.id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
        let reader = {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stdout.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        if round > 0 {
            let start = Instant::now();
            while seen.lock().unwrap().is_empty() && start.elapsed() < Duration::from_secs(30) {
                if let Some(status) = child.try_wait().unwrap() {
                    let mut err = String::new();
                    child
                        .stderr
                        .take()
                        .unwrap()
                        .read_to_string(&mut err)
                        .unwrap();
                    panic!("the child ended by itself ({status}): {err}");
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            std::thread::sleep(delay);
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        let out = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        // Only complete lines were acknowledged.
        let complete = out.rfind('\n').map_or("", |i| &out[..i]);
        acknowledged.extend(complete.lines().map(str::to_string));

        let store = Store::open(&data).unwrap();
        assert_eq!(store.integrity_check(), Ok(()), "round {round}");
        for id in &acknowledged {
            let id: uuid::Uuid = id.parse().unwrap();
            assert!(
                store.sync_state(id).unwrap().is_some(),
                "round {round}: acknowledged event {id} is missing"
            );
        }
        let seqs: Vec<u64> = store
            .pending_events(usize::MAX)
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "round {round}: gapless"
        );
        assert!(seqs.len() >= acknowledged.len());
        store.progress(p.id, "demo").unwrap();
    }
    assert!(
        acknowledged.len() > ROUNDS as usize,
        "the child did record between kills"
    );
    eprintln!(
        "{} acknowledged events over {ROUNDS} kills",
        acknowledged.len()
    );
}

#[test]
fn sigkill_during_updates_leaves_one_whole_version_installed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store.view_lesson(p.id, "demo", "l1", 5, 1.0, true).unwrap();
    drop(store);
    let data = dir.path().join("data");
    let versions: Vec<String> = (1..=40).map(|i| format!("1.{i}.0")).collect();
    let packages: Vec<_> = versions
        .iter()
        .map(|v| {
            write(
                dir.path(),
                &format!("demo-{v}.opkg"),
                &outpost_package::sample::content(v),
                &key(),
            )
        })
        .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut acknowledged = String::from("1.0.0");
    for round in 0..16 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let store = Store::open(&data).unwrap();
        let installed = store.catalog(p.id).unwrap()[0].version.clone();
        drop(store);
        let newer: Vec<_> = versions
            .iter()
            .zip(&packages)
            .filter(|(v, _)| outpost_learner::compare_versions(v, &installed).is_gt())
            .map(|(_, p)| p.clone())
            .collect();
        if newer.is_empty() {
            break;
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_learner-test-helper"))
            .arg("install")
            .arg(&data)
            .args(&newer)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(x % 40));
        child.kill().unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let complete = text.rfind('\n').map_or("", |i| &text[..i]);
        if let Some(last) = complete.lines().last() {
            acknowledged = last.trim_start_matches("installed ").to_string();
        }

        let store = Store::open(&data).unwrap();
        assert_eq!(store.integrity_check(), Ok(()), "round {round}");
        let now = store.catalog(p.id).unwrap()[0].version.clone();
        eprintln!("round {round}: acknowledged {acknowledged}, installed {now}");
        assert!(
            outpost_learner::compare_versions(&now, &acknowledged).is_ge(),
            "round {round}: {now} installed, {acknowledged} was acknowledged"
        );
        // The installed version is whole: its package opens and verifies,
        // and progress is still there.
        assert!(store
            .lesson(p.id, "demo", "l2")
            .unwrap()
            .html
            .contains("consular register"));
        assert_eq!(
            store.progress(p.id, "demo").unwrap().lesson_status("l1"),
            outpost_model::LessonStatus::Done
        );
    }
}
