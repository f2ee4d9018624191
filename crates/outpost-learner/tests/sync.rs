//! Sync bookkeeping, and order/duplicate independence through the store.

mod common;

use common::*;
use outpost_learner::{Enrolment, Language, Store, SyncOutcome, SyncState};
use outpost_model::{fold, Event};
use proptest::prelude::*;
use std::sync::OnceLock;

#[test]
fn pending_events_are_marked_by_the_hubs_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    for l in ["l1", "l2", "l3"] {
        store.view_lesson(p.id, "demo", l, 10, 1.0, true).unwrap();
    }
    // l1, l2, ModuleCompleted m1, l3
    let pending = store.pending_events(100).unwrap();
    assert_eq!(pending.len(), 4);
    assert_eq!(
        pending.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(store.pending_events(2).unwrap(), pending[..2].to_vec());
    assert_eq!(store.status().unwrap().pending, 4);

    let stranger = uuid::Uuid::now_v7();
    let report = store
        .mark_synced(&[
            (pending[0].id, SyncOutcome::Accepted),
            (pending[1].id, SyncOutcome::Duplicate),
            (
                pending[2].id,
                SyncOutcome::Rejected("course version unknown".into()),
            ),
            (stranger, SyncOutcome::Accepted),
        ])
        .unwrap();
    assert_eq!(report.updated, 3);
    assert_eq!(report.unknown, [stranger]);
    assert_eq!(store.pending_events(100).unwrap(), pending[3..].to_vec());
    assert_eq!(
        store.sync_state(pending[0].id).unwrap(),
        Some(SyncState::Accepted)
    );
    assert_eq!(
        store.sync_state(pending[2].id).unwrap(),
        Some(SyncState::Rejected("course version unknown".into()))
    );
    // A late, contradicting answer does not undo a confirmation; a rejected
    // event accepted on a later push is confirmed.
    let report = store
        .mark_synced(&[
            (pending[0].id, SyncOutcome::Rejected("late".into())),
            (pending[2].id, SyncOutcome::Receipted),
        ])
        .unwrap();
    assert_eq!((report.updated, report.unchanged), (1, 1));
    assert_eq!(
        store.sync_state(pending[0].id).unwrap(),
        Some(SyncState::Accepted)
    );
    assert_eq!(
        store.sync_state(pending[2].id).unwrap(),
        Some(SyncState::Receipted)
    );
    let status = store.status().unwrap();
    assert_eq!((status.pending, status.rejected), (1, 0));
    assert_eq!(status.device_id, store.device_id());
}

#[test]
fn enrolment_sync_status_and_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    assert_eq!(store.status().unwrap().hub_url, None);
    store
        .set_setting("hub_url", "https://hub.example.org")
        .unwrap();
    assert_eq!(
        store.status().unwrap().hub_url.as_deref(),
        Some("https://hub.example.org")
    );
    let e = Enrolment {
        profile: p.id,
        hub_url: "https://hub.example.org".into(),
        device_token: "tok-SECRET-123".into(),
        hub_learner_id: p.id.0,
        cohort: "Dakar 2026".into(),
        hub_public_key: None,
        enrolled_at: chrono::Utc::now(),
    };
    store.set_enrolment(&e).unwrap();
    let back = store.enrolment(p.id).unwrap().unwrap();
    assert_eq!(back.device_token, "tok-SECRET-123");
    assert!(!format!("{back:?}").contains("SECRET"));
    assert_eq!(store.pull_cursor(p.id).unwrap(), None);
    store.set_pull_cursor(p.id, "c-42").unwrap();
    assert_eq!(store.pull_cursor(p.id).unwrap().as_deref(), Some("c-42"));
    let other = store.create_profile("Ali", Language::Ar, None).unwrap();
    assert!(
        store.set_pull_cursor(other.id, "x").is_err(),
        "not enrolled"
    );

    store.record_sync_attempt().unwrap();
    store
        .record_sync_error("401 for token tok-SECRET-123")
        .unwrap();
    let s = store.status().unwrap();
    assert!(s.last_attempt_at.is_some() && s.last_success_at.is_none());
    assert_eq!(s.last_error.as_deref(), Some("401 for token <token>"));
    assert_eq!(s.enrolled_profiles, 1);
    store.record_sync_success().unwrap();
    let s = store.status().unwrap();
    assert!(s.last_success_at.is_some() && s.last_error.is_none());
    assert!(!serde_json::to_string(&s).unwrap().contains("SECRET"));
}

#[test]
fn foreign_events_are_idempotent_and_conflicts_keep_what_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let (a, pa, pkg) = store_with_course(dir.path());
    a.view_lesson(pa.id, "demo", "l1", 10, 1.0, true).unwrap();
    a.view_lesson(pa.id, "demo", "l2", 10, 0.5, false).unwrap();
    let from_a = a.events(pa.id, "demo").unwrap();

    let b = Store::open(&dir.path().join("b")).unwrap();
    b.trust_key(key().verifying_key(), "t").unwrap();
    b.install(&pkg).unwrap();
    let pb = b.create_profile("Amina", Language::En, None).unwrap();
    let r = b.insert_foreign_events(pb.id, &from_a).unwrap();
    assert_eq!(r.inserted, 2);
    let r = b.insert_foreign_events(pb.id, &from_a).unwrap();
    assert_eq!((r.inserted, r.duplicates), (0, 2));
    // Pulled events are the hub's already: not pending here, but confirmed.
    assert!(b.pending_events(10).unwrap().is_empty());
    assert_eq!(b.sync_state(from_a[0].id).unwrap(), Some(SyncState::Pulled));
    assert_eq!(
        b.progress(pb.id, "demo").unwrap(),
        a.progress(pa.id, "demo").unwrap()
    );

    let mut forged = from_a[0].clone();
    forged.activity_id = "l3".into();
    let mut not_v7 = from_a[0].clone();
    not_v7.id = uuid::Uuid::new_v4();
    let r = b
        .insert_foreign_events(pb.id, &[forged.clone(), not_v7])
        .unwrap();
    assert_eq!(r.conflicts, [forged.id]);
    assert_eq!(r.invalid.len(), 1);
    assert_eq!(b.events(pb.id, "demo").unwrap().len(), 2);
    assert_eq!(
        b.progress(pb.id, "demo").unwrap(),
        a.progress(pa.id, "demo").unwrap()
    );
}

/// Two devices' worth of study, recorded once through real stores.
struct Recorded {
    _dir: tempfile::TempDir,
    pkg: std::path::PathBuf,
    events: Vec<Event>,
}

fn recorded() -> &'static Recorded {
    static R: OnceLock<Recorded> = OnceLock::new();
    R.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (a, pa, pkg) = store_with_course(dir.path());
        a.view_lesson(pa.id, "demo", "l1", 30, 0.4, false).unwrap();
        a.answer_question(pa.id, "demo", None, "check-1", &wrong("check-1"))
            .unwrap();
        a.view_lesson(pa.id, "demo", "l1", 30, 1.0, true).unwrap();
        a.view_lesson(pa.id, "demo", "l2", 30, 1.0, true).unwrap();
        let q = a.start_quiz(pa.id, "demo", "m2-quiz").unwrap();
        for x in &q.questions {
            a.answer_question(pa.id, "demo", Some(q.attempt_id), &x.id, &correct(&x.id))
                .unwrap();
        }
        a.submit_quiz(pa.id, "demo", q.attempt_id, 60).unwrap();
        let f = a.start_quiz(pa.id, "demo", "final").unwrap();
        for x in f.questions.iter().take(2) {
            a.answer_question(pa.id, "demo", Some(f.attempt_id), &x.id, &correct(&x.id))
                .unwrap();
        }
        a.submit_quiz(pa.id, "demo", f.attempt_id, 60).unwrap(); // 2/4: failed

        let b = Store::open(&dir.path().join("laptop-b")).unwrap();
        b.trust_key(key().verifying_key(), "t").unwrap();
        b.install(&pkg).unwrap();
        let pb = b.create_profile("Amina", Language::En, None).unwrap();
        b.view_lesson(pb.id, "demo", "l3", 30, 0.7, false).unwrap();
        b.view_lesson(pb.id, "demo", "l3", 30, 1.0, true).unwrap();
        let f = b.start_quiz(pb.id, "demo", "final").unwrap();
        for x in &f.questions {
            b.answer_question(pb.id, "demo", Some(f.attempt_id), &x.id, &correct(&x.id))
                .unwrap();
        }
        b.submit_quiz(pb.id, "demo", f.attempt_id, 60).unwrap(); // passed
        b.view_lesson(pb.id, "demo", "l2", 30, 0.2, false).unwrap();

        let mut events = a.events(pa.id, "demo").unwrap();
        events.extend(b.events(pb.id, "demo").unwrap());
        Recorded {
            _dir: dir,
            pkg,
            events,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Events from two devices arriving at a third in any order, in any
    /// batches, with any duplicates, give the progress of the whole set.
    #[test]
    fn any_order_batches_and_duplicates_give_the_same_progress(
        seed in any::<u64>(),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
        batch in 1usize..8,
    ) {
        let r = recorded();
        let structure = outpost_package::sample::content("1.0.0").structure;
        let expected = fold(&structure, &r.events);
        prop_assert!(expected.satisfied, "the set completes the course");

        let mut arriving: Vec<Event> = r.events.clone();
        for d in &dups {
            arriving.push(r.events[d.index(r.events.len())].clone());
        }
        // Deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..arriving.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            arriving.swap(i, (x % (i as u64 + 1)) as usize);
        }

        let dir = tempfile::tempdir().unwrap();
        let c = Store::open(dir.path()).unwrap();
        c.trust_key(key().verifying_key(), "t").unwrap();
        c.install(&r.pkg).unwrap();
        let pc = c.create_profile("Amina", Language::En, None).unwrap();
        let mut inserted = 0;
        for chunk in arriving.chunks(batch) {
            inserted += c.insert_foreign_events(pc.id, chunk).unwrap().inserted;
        }
        prop_assert_eq!(inserted, r.events.len());
        prop_assert_eq!(c.progress(pc.id, "demo").unwrap(), expected.clone());
        // Again, all at once: nothing changes.
        let again = c.insert_foreign_events(pc.id, &arriving).unwrap();
        prop_assert_eq!(again.inserted, 0);
        prop_assert_eq!(c.progress(pc.id, "demo").unwrap(), expected);
    }
}
