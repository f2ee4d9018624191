//! The sync client against a real hub over real HTTP, on a clean link (the
//! faults have their own files): enrolment, push and pull, certificates,
//! two laptops of one learner, rejections, course updates, wrong clocks,
//! revoked laptops, no network, the background loop.

mod common;

use common::*;
use outpost_faultproxy::{FaultProxy, LinkProfile};
use outpost_hub::db::Mode;
use outpost_hub::params;
use outpost_learner::{InstallOutcome, SyncState};
use outpost_sync::{LoopConfig, Phase, RetryPolicy, SyncError, SyncHandle};
use std::time::Duration;

/// A background loop that reacts within tenths of a second, and whose own
/// timer (an hour) never fires during a test.
fn quick_loop() -> LoopConfig {
    LoopConfig {
        interval: Duration::from_secs(3600),
        probe: RetryPolicy {
            base: Duration::from_millis(50),
            cap: Duration::from_millis(200),
            attempts: u32::MAX,
        },
        debounce: Duration::from_millis(50),
        status_every: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn enrolment_names_the_learner_and_cohort_and_keeps_the_token_secret() {
    let hub = TestHub::start().await;
    let laptop = Laptop::new("Amina");
    let who = outpost_sync::enroll(
        &laptop.store,
        &laptop.client,
        &format!("{}/", hub.url()),
        &hub.code.to_lowercase(),
        laptop.id(),
        Some("amina@example.org"),
    )
    .await
    .unwrap();
    assert_eq!(who.learner_name, "Amina");
    assert_eq!(who.cohort, "Dakar 2026");
    assert_eq!(
        who.learner_id,
        laptop.id().0,
        "a new learner keeps the profile's id"
    );
    assert!(!who.joined_existing_learner);
    assert_eq!(who.assignments[0].course_id, "demo");
    assert_eq!(who.hub_url, hub.url(), "trailing slash removed");

    let stored = laptop.store.enrolment(laptop.id()).unwrap().unwrap();
    assert_eq!(stored.device_token.len(), 64);
    assert!(stored.hub_public_key.is_some());
    let shown = format!("{who:?} {}", serde_json::to_string(&who).unwrap());
    assert!(
        !shown.contains(&stored.device_token),
        "the token is never shown"
    );
    assert_eq!(
        laptop.store.assignments(laptop.id()).unwrap(),
        who.assignments
    );

    // Wrong code, wrong address, no hub: precise errors, nothing stored.
    let other = Laptop::new("Ali");
    let err = outpost_sync::enroll(
        &other.store,
        &other.client,
        &hub.url(),
        "NOPE-NOPE",
        other.id(),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown, used up or expired"),
        "{err}"
    );
    let err = outpost_sync::enroll(
        &other.store,
        &other.client,
        "hub.example.org",
        &hub.code,
        other.id(),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SyncError::BadInput(_)), "{err}");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = outpost_sync::enroll(
        &other.store,
        &other.client,
        &dead,
        &hub.code,
        other.id(),
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SyncError::Unreachable { .. }), "{err}");
    assert!(other.store.enrolment(other.id()).unwrap().is_none());
}

#[tokio::test]
async fn events_reach_the_hub_once_and_the_certificate_becomes_verified() {
    let hub = TestHub::start().await;
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&hub.url(), &hub.code, None).await;
    laptop.finish_course();
    let cert = laptop
        .store
        .certificate(laptop.id(), "demo")
        .unwrap()
        .unwrap();
    assert!(!cert.verified, "not before the hub has it");
    let pending = laptop.store.status().unwrap().pending;
    assert!(pending > 10);

    let r = laptop.sync().await;
    assert!(r.complete(), "{:?}", r.problem());
    assert_eq!(r.pending_before, pending);
    assert_eq!(r.accepted, pending);
    assert!(r.batches > 1, "starts with small batches");
    let on_hub = hub.event_ids().await;
    assert_eq!(on_hub.len() as u64, pending);
    assert_eq!(
        on_hub
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        laptop.local_ids()
    );
    assert_eq!(
        hub.progress(laptop.learner.unwrap()).await,
        laptop.progress()
    );
    let cert = laptop
        .store
        .certificate(laptop.id(), "demo")
        .unwrap()
        .unwrap();
    assert!(cert.verified, "the hub confirmed the satisfying events");
    let seen = &r.profiles[0].confirmed[0];
    assert!(seen.satisfied_on_hub && seen.certificate_verified);
    assert_eq!(laptop.store.status().unwrap().last_error, None);
    assert!(laptop.store.status().unwrap().last_success_at.is_some());

    // Nothing new: nothing is sent.
    let again = laptop.sync().await;
    assert!(again.complete());
    assert_eq!((again.batches, again.accepted, again.pulled), (0, 0, 0));
    assert_eq!(hub.event_ids().await.len() as u64, pending);
}

#[tokio::test]
async fn two_laptops_of_one_learner_converge_whichever_syncs_first() {
    for a_first in [true, false] {
        let hub = TestHub::start().await;
        let mut a = Laptop::new("Amina");
        let mut b = Laptop::new("Amina B");
        a.enroll(&hub.url(), &hub.code, Some("amina@example.org"))
            .await;
        b.enroll(&hub.url(), &hub.code, Some("AMINA@example.org"))
            .await;
        assert_eq!(a.learner, b.learner, "the same learner on the hub");
        // Offline, each studies part of the course.
        a.read(5);
        a.store
            .view_lesson(a.id(), "demo", "l1", 60, 1.0, true)
            .unwrap();
        a.store
            .view_lesson(a.id(), "demo", "l2", 60, 1.0, true)
            .unwrap();
        b.read(4);
        b.finish_course();
        let (first, second) = if a_first { (&a, &b) } else { (&b, &a) };
        assert!(first.sync().await.complete());
        assert!(second.sync().await.complete());
        let r = first.sync().await;
        assert!(r.complete());
        assert!(
            r.pulled > 0,
            "the first laptop receives the second's events"
        );
        assert_eq!(a.all_ids(), b.all_ids());
        assert_eq!(a.progress(), b.progress());
        assert_eq!(a.progress(), hub.progress(a.learner.unwrap()).await);
        assert_eq!(a.progress()["satisfied"], true);
        let ids = hub.event_ids().await;
        assert_eq!(ids.len(), a.all_ids().len(), "each event once");
        // The certificate earned on B is verified on A too.
        assert!(
            a.store
                .certificate(a.id(), "demo")
                .unwrap()
                .unwrap()
                .verified
        );
    }
}

#[tokio::test]
async fn rejected_events_are_kept_shown_and_sent_again_later() {
    let hub = TestHub::start().await;
    let mut laptop = Laptop::new("Amina");
    // The laptop has version 1.1.0, which the hub has not published.
    laptop
        .store
        .install(&package(laptop.dir.path(), "1.1.0"))
        .unwrap();
    laptop.enroll(&hub.url(), &hub.code, None).await;
    laptop.read(3);
    let r = laptop.sync().await;
    assert!(!r.complete());
    assert_eq!(r.rejected.len(), 3);
    assert!(
        r.rejected[0].reason.contains("no published version"),
        "{}",
        r.rejected[0].reason
    );
    assert!(
        r.problem().unwrap().contains("rejected 3 event(s)"),
        "{:?}",
        r.problem()
    );
    let id = r.rejected[0].event_id;
    assert!(
        matches!(laptop.store.sync_state(id).unwrap(), Some(SyncState::Rejected(why)) if why.contains("1.1.0"))
    );
    assert_eq!(laptop.store.status().unwrap().rejected, 3);
    assert!(hub.event_ids().await.is_empty());
    // Not re-sent at once, still reported.
    let r = laptop.sync().await;
    assert_eq!(r.batches, 0);
    assert!(!r.complete() && r.problem().unwrap().contains("rejected by the hub earlier"));

    // Published later: offered again (here without waiting a day), accepted.
    publish(hub.hub(), &package(hub.dir.path(), "1.1.0")).await;
    let mut client_config = fast_config();
    client_config.retry_rejected_after = Some(Duration::ZERO);
    let client = outpost_sync::SyncClient::new(client_config).unwrap();
    let r = outpost_sync::sync_once(&laptop.store, &client, &|_| {}).await;
    assert!(r.complete(), "{:?}", r.problem());
    assert_eq!(r.accepted, 3);
    assert_eq!(hub.event_ids().await.len(), 3);
}

/// Version 1.1.0: lesson l4 added to module m2.
fn v2(dir: &std::path::Path) -> std::path::PathBuf {
    let mut c = outpost_package::sample::content("1.1.0");
    c.structure.modules[1].lessons.insert(
        1,
        outpost_model::LessonInfo {
            id: "l4".into(),
            kind: outpost_model::LessonKind::Lesson,
            minutes: 5,
            questions: vec![],
        },
    );
    for lang in ["en", "fr"] {
        c.lessons.push(outpost_package::LessonText {
            lesson_id: "l4".into(),
            module_id: "m2".into(),
            lang: lang.into(),
            title: format!("Hotlines ({lang})"),
            html: "<p>Run a crisis hotline in several languages.</p>".into(),
            text: "Run a crisis hotline in several languages.".into(),
            headings: vec![],
        });
    }
    let path = dir.join("demo-1.1.0-l4.opkg");
    outpost_package::write_package(&path, &c, &publisher_key()).unwrap();
    path
}

#[tokio::test]
async fn a_course_update_resumes_its_download_and_installs_with_its_summary() {
    let hub = TestHub::start().await;
    let pkg = v2(hub.dir.path());
    publish(hub.hub(), &pkg).await;
    let bytes = std::fs::read(&pkg).unwrap();
    let proxy = FaultProxy::start(hub.server.addr, LinkProfile::CLEAN, vec![])
        .await
        .unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    laptop.read(2);

    // Half of the package already arrived in an earlier, cut sync.
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let downloads = laptop.data_dir().join(outpost_sync::DOWNLOADS_DIR);
    std::fs::create_dir_all(&downloads).unwrap();
    let part = downloads.join(format!("demo-1.1.0-{}.part", &sha[..16]));
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    // And a leftover of a version no longer offered.
    let stale = downloads.join("demo-0.9.0-0123456789abcdef.part");
    std::fs::write(&stale, b"old").unwrap();

    let before = proxy.stats().bytes_down;
    let phases = std::sync::Mutex::new(Vec::new());
    let r = outpost_sync::sync_once(&laptop.store, &laptop.client, &|p| {
        phases.lock().unwrap().push(p.clone())
    })
    .await;
    assert!(r.complete(), "{:?}", r.problem());
    let down = proxy.stats().bytes_down - before;
    assert!(
        down < bytes.len() as u64,
        "only the missing half came down ({down} bytes for a {} byte package)",
        bytes.len()
    );
    let u = &r.updates[0];
    assert_eq!(
        (u.from_version.as_deref(), u.to_version.as_str()),
        (Some("1.0.0"), "1.1.0")
    );
    assert_eq!(u.outcome, Some(InstallOutcome::Updated));
    assert_eq!(u.changes.as_ref().unwrap().lessons.added, ["l4"]);
    assert_eq!(laptop.store.courses().unwrap()[0].version, "1.1.0");
    assert!(phases
        .lock()
        .unwrap()
        .iter()
        .any(|p| matches!(p, Phase::Downloading { done, total, .. } if done == total)));
    assert!(phases
        .lock()
        .unwrap()
        .iter()
        .any(|p| matches!(p, Phase::Installing { .. })));
    assert!(
        !stale.exists() && !part.exists(),
        "nothing half-done lingers"
    );
    assert_eq!(std::fs::read_dir(&downloads).unwrap().count(), 0);
    // Progress on the lessons that remain is kept.
    assert_eq!(laptop.progress()["events"], 2);
    let again = laptop.sync().await;
    assert!(
        again.complete() && again.updates.is_empty(),
        "installed once"
    );
}

#[tokio::test]
async fn a_damaged_partial_download_is_fetched_again_not_installed() {
    let hub = TestHub::start().await;
    let pkg = v2(hub.dir.path());
    publish(hub.hub(), &pkg).await;
    let bytes = std::fs::read(&pkg).unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&hub.url(), &hub.code, None).await;
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let downloads = laptop.data_dir().join(outpost_sync::DOWNLOADS_DIR);
    std::fs::create_dir_all(&downloads).unwrap();
    let part = downloads.join(format!("demo-1.1.0-{}.part", &sha[..16]));
    std::fs::write(&part, vec![0u8; bytes.len() / 2]).unwrap();
    let r = laptop.sync().await;
    assert!(!r.complete());
    assert!(
        r.updates[0].error.as_deref().unwrap().contains("checksum"),
        "{:?}",
        r.updates
    );
    assert_eq!(
        laptop.store.courses().unwrap()[0].version,
        "1.0.0",
        "nothing installed"
    );
    let r = laptop.sync().await;
    assert!(r.complete(), "{:?}", r.problem());
    assert_eq!(laptop.store.courses().unwrap()[0].version, "1.1.0");
}

#[tokio::test]
async fn days_off_clocks_are_corrected_on_the_hub_and_nothing_is_lost() {
    let hub = TestHub::start().await;
    for (name, days) in [("Behind", -3i64), ("Ahead", 2)] {
        let mut laptop = Laptop::new(name);
        laptop.store.set_clock_skew(chrono::Duration::days(days));
        laptop.enroll(&hub.url(), &hub.code, None).await;
        let recorded_at = chrono::Utc::now();
        laptop.finish_course();
        let r = laptop.sync().await;
        assert!(r.complete(), "{name}: {:?}", r.problem());
        let offset = r.clock_offset_seconds.unwrap();
        assert!(
            (offset + days * 86_400).abs() < 60,
            "{name}: measured offset {offset}"
        );
        let mut tx = hub.hub().db.begin(Mode::Read).await.unwrap();
        let rows = tx
            .query(
                "SELECT device_time_ms, corrected_ms FROM events WHERE device_id = $1",
                params![laptop.store.device_id()],
            )
            .await
            .unwrap();
        assert_eq!(
            rows.len(),
            laptop.local_ids().len(),
            "{name}: every event arrived"
        );
        for row in rows {
            let device = chrono::DateTime::from_timestamp_millis(row.i64(0).unwrap()).unwrap();
            let corrected = chrono::DateTime::from_timestamp_millis(row.i64(1).unwrap()).unwrap();
            assert!(
                (device - recorded_at - chrono::Duration::days(days))
                    .num_seconds()
                    .abs()
                    < 120,
                "{name}: the device time is kept as sent"
            );
            assert!(
                (corrected - recorded_at).num_seconds().abs() < 120,
                "{name}: corrected to the real time ({corrected} vs {recorded_at})"
            );
        }
        assert_eq!(
            hub.progress(laptop.learner.unwrap()).await,
            laptop.progress()
        );
    }
}

#[tokio::test]
async fn a_revoked_laptop_is_told_why_and_keeps_its_events() {
    let hub = TestHub::start().await;
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&hub.url(), &hub.code, None).await;
    laptop.read(3);
    hub.hub()
        .revoke_device(laptop.store.device_id())
        .await
        .unwrap();
    let r = laptop.sync().await;
    assert!(!r.complete());
    let err = r.error().unwrap();
    assert!(matches!(err, SyncError::NotAuthorized { .. }), "{err}");
    assert!(
        err.to_string().contains("revoked") && err.to_string().contains("Enrol again"),
        "{err}"
    );
    assert_eq!(laptop.store.status().unwrap().pending, 3);
    assert!(laptop
        .store
        .status()
        .unwrap()
        .last_error
        .unwrap()
        .contains("revoked"));
}

#[tokio::test]
async fn without_a_network_nothing_is_lost_and_the_next_sync_catches_up() {
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.server.addr, LinkProfile::CLEAN, vec![])
        .await
        .unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    laptop.read(7);
    proxy.set_down(true);
    let r = laptop.sync().await;
    assert_eq!(r.reachable, Some(false));
    assert!(
        matches!(r.error(), Some(SyncError::Unreachable { .. })),
        "{:?}",
        r.errors
    );
    assert!(r.problem().unwrap().contains("Nothing was lost"));
    let status = laptop.store.status().unwrap();
    assert_eq!(status.pending, 7);
    assert!(status.last_error.unwrap().contains("cannot be reached"));
    assert!(status.last_success_at.is_none());
    proxy.set_down(false);
    let r = laptop.sync().await;
    assert!(r.complete(), "{:?}", r.problem());
    assert_eq!(hub.event_ids().await.len(), 7);
    assert_eq!(laptop.store.status().unwrap().last_error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_loop_syncs_on_its_own_and_reports_the_truth() {
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.server.addr, LinkProfile::CLEAN, vec![])
        .await
        .unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    laptop.read(4);
    let handle = SyncHandle::start(&laptop.data_dir(), fast_config(), quick_loop()).unwrap();
    let status = handle.subscribe();
    let wait_for = |pred: fn(&outpost_sync::SyncStatus) -> bool| wait_status(status.clone(), pred);
    // It syncs at start: the four events go.
    wait_for(|s| s.pending == 0 && s.last_success_at.is_some() && !s.running)
        .await
        .unwrap();
    assert_eq!(hub.event_ids().await.len(), 4);
    assert_eq!(handle.status().reachable, Some(true));

    // The link goes; the learner studies; the status says so, in words.
    proxy.set_down(true);
    laptop.read(3);
    handle.refresh();
    wait_for(|s| s.pending == 3).await.unwrap();
    handle.sync_now();
    wait_for(|s| s.reachable == Some(false) && !s.running)
        .await
        .unwrap();
    let s = handle.status();
    assert!(
        s.last_error
            .as_deref()
            .unwrap()
            .contains("cannot be reached"),
        "{s:?}"
    );
    assert!(s.next_attempt_at.is_some());
    assert_eq!(s.pending, 3, "kept");

    // The link comes back: the loop's probe notices and the events go.
    proxy.set_down(false);
    wait_for(|s| s.pending == 0 && s.reachable == Some(true) && s.last_error.is_none())
        .await
        .unwrap();
    assert_eq!(hub.event_ids().await.len(), 7);
    handle.stop();
}

/// Events the learner records while a sync is past its push (here: while
/// it pulls) go in a sync of their own soon after, not at the next interval
/// an hour away. The pending count after that sync is lower than before it,
/// so only the app's refresh can tell the loop there is something new.
#[tokio::test(flavor = "multi_thread")]
async fn events_recorded_during_a_sync_go_soon_after_it() {
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.server.addr, LinkProfile::CLEAN, vec![])
        .await
        .unwrap();
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    laptop.read(5);
    // Slow enough that the pull is still on the wire while the learner reads.
    proxy.set_profile(LinkProfile {
        latency: Duration::from_millis(400),
        ..LinkProfile::CLEAN
    });
    let handle = SyncHandle::start(&laptop.data_dir(), fast_config(), quick_loop()).unwrap();
    let status = handle.subscribe();
    let wait_for = |pred: fn(&outpost_sync::SyncStatus) -> bool| wait_status(status.clone(), pred);
    wait_for(|s| s.running && matches!(s.phase, Some(Phase::Pulling { .. })))
        .await
        .unwrap();
    laptop.read(2);
    handle.refresh();
    wait_for(|s| !s.running && s.pending == 0 && s.last_success_at.is_some())
        .await
        .unwrap();
    assert_eq!(hub.event_ids().await.len(), 7, "both syncs' events arrived");
    handle.stop();
}

/// Wait until the status satisfies `pred`. Patience, not a speed test: the
/// timeout only turns a hang into a failure that shows the last status. A
/// loop that stopped sending statuses fails too, at once.
async fn wait_status(
    mut rx: tokio::sync::watch::Receiver<outpost_sync::SyncStatus>,
    pred: fn(&outpost_sync::SyncStatus) -> bool,
) -> Result<(), String> {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if pred(&rx.borrow_and_update()) {
                return Ok(());
            }
            if rx.changed().await.is_err() {
                return Err("the loop stopped");
            }
        }
    })
    .await;
    let last = format!("{:?}", *rx.borrow());
    match waited {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(format!("{why}; last status: {last}")),
        Err(_) => Err(format!("not within 60 s; last status: {last}")),
    }
}

#[tokio::test]
async fn a_shared_laptop_exports_one_signed_file_per_enrolled_profile() {
    let hub = TestHub::start().await;
    let mut laptop = Laptop::new("Amina");
    laptop.enroll(&hub.url(), &hub.code, None).await;
    let ali = laptop
        .store
        .create_profile("Ali", outpost_learner::Language::Ar, None)
        .unwrap();
    outpost_sync::enroll(
        &laptop.store,
        &laptop.client,
        &hub.url(),
        &hub.code,
        ali.id,
        None,
    )
    .await
    .unwrap();
    let guest = laptop
        .store
        .create_profile("Guest", outpost_learner::Language::Fr, None)
        .unwrap();
    laptop.read(3);
    for (p, n) in [(ali.id, 2), (guest.id, 1)] {
        for _ in 0..n {
            laptop
                .store
                .view_lesson(p, "demo", "l1", 10, 0.5, false)
                .unwrap();
        }
    }
    let usb = tempfile::tempdir().unwrap();
    let export =
        outpost_sync::export_progress(&laptop.store, &usb.path().join("post.txt"), None).unwrap();
    let mut files: Vec<(String, usize)> = export
        .files
        .iter()
        .map(|f| {
            (
                f.path.file_name().unwrap().to_string_lossy().to_string(),
                f.events,
            )
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            ("post-Ali.txt".to_string(), 2),
            ("post-Amina.txt".to_string(), 3)
        ]
    );
    assert_eq!(
        export.not_enrolled,
        ["Guest"],
        "said, not silently left out"
    );

    // Each file through the hub and back: every enrolled event confirmed,
    // the guest's still waiting.
    for f in &export.files {
        let (_, receipt) = hub
            .hub()
            .import_progress(&std::fs::read(&f.path).unwrap())
            .await
            .unwrap();
        let path = usb.path().join("receipt");
        std::fs::write(&path, receipt).unwrap();
        let r = outpost_sync::import_receipt(&laptop.store, &path).unwrap();
        assert_eq!((r.confirmed, r.already_imported), (f.events, false));
        assert_eq!(r.profile, f.profile);
    }
    assert_eq!(laptop.store.status().unwrap().pending, 1);
    assert_eq!(hub.event_ids().await.len(), 5);
    // A file for one profile only.
    let only =
        outpost_sync::export_progress(&laptop.store, &usb.path().join("guest.txt"), Some(guest.id));
    assert!(only.unwrap_err().to_string().contains("not enrolled"));
}
