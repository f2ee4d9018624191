//! The sync client's additions to the bookkeeping: per-profile pending
//! events, receipts applied once, assignments, the device clock.

mod common;

use common::*;
use outpost_learner::{Assignment, Language, Store, SyncOutcome, SyncState, STORE_VERSION};
use uuid::Uuid;

#[test]
fn pending_events_are_counted_and_listed_per_profile() {
    let dir = tempfile::tempdir().unwrap();
    let (store, amina, _) = store_with_course(dir.path());
    let ali = store.create_profile("Ali", Language::Ar, None).unwrap();
    store
        .view_lesson(amina.id, "demo", "l1", 10, 0.5, false)
        .unwrap();
    store
        .view_lesson(ali.id, "demo", "l1", 10, 0.5, false)
        .unwrap();
    store
        .view_lesson(amina.id, "demo", "l2", 10, 0.5, false)
        .unwrap();

    let mine = store.pending_events_of(amina.id, 100).unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|e| e.learner_id == amina.id.0));
    assert!(mine[0].seq < mine[1].seq, "oldest first");
    assert_eq!(store.pending_events_of(amina.id, 1).unwrap(), mine[..1]);
    assert_eq!(store.pending_count(amina.id).unwrap(), 2);
    assert_eq!(store.pending_count(ali.id).unwrap(), 1);

    store
        .mark_synced(&[(mine[0].id, SyncOutcome::Accepted)])
        .unwrap();
    assert_eq!(store.pending_count(amina.id).unwrap(), 1);
    assert_eq!(store.pending_events_of(amina.id, 100).unwrap(), mine[1..]);
}

#[test]
fn a_receipt_is_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store
        .view_lesson(p.id, "demo", "l1", 10, 0.5, false)
        .unwrap();
    store
        .view_lesson(p.id, "demo", "l2", 10, 0.5, false)
        .unwrap();
    let events = store.pending_events_of(p.id, 10).unwrap();
    let file = Uuid::new_v4();
    let results = vec![
        (events[0].id, SyncOutcome::Receipted),
        (events[1].id, SyncOutcome::Rejected("unknown course".into())),
    ];
    let first = store.import_receipt(file, p.id, &results).unwrap().unwrap();
    assert_eq!(first.updated, 2);
    assert_eq!(
        store.sync_state(events[0].id).unwrap(),
        Some(SyncState::Receipted)
    );
    assert_eq!(
        store.sync_state(events[1].id).unwrap(),
        Some(SyncState::Rejected("unknown course".into()))
    );
    // The same receipt again: nothing is marked, and the caller is told.
    assert_eq!(store.import_receipt(file, p.id, &results).unwrap(), None);
    // A receipt naming a profile that does not exist changes nothing.
    let other = Uuid::new_v4();
    assert!(store
        .import_receipt(other, outpost_learner::ProfileId(Uuid::new_v4()), &results)
        .is_err());
    assert_eq!(store.status().unwrap().pending, 0);
}

#[test]
fn assignments_are_replaced_by_the_latest_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    assert!(store.assignments(p.id).unwrap().is_empty());
    let due = chrono::NaiveDate::from_ymd_opt(2027, 1, 31);
    let first = vec![
        Assignment {
            course_id: "demo".into(),
            due,
        },
        Assignment {
            course_id: "other".into(),
            due: None,
        },
    ];
    store.set_assignments(p.id, &first).unwrap();
    assert_eq!(store.assignments(p.id).unwrap(), first);
    store.set_assignments(p.id, &first[..1]).unwrap();
    assert_eq!(store.assignments(p.id).unwrap(), first[..1]);
    // Survives reopening.
    drop(store);
    let store = Store::open(&dir.path().join("data")).unwrap();
    assert_eq!(store.assignments(p.id).unwrap(), first[..1]);
}

#[test]
fn a_skewed_clock_dates_the_events_it_records() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    let skew = chrono::Duration::days(-3);
    store.set_clock_skew(skew);
    let before = chrono::Utc::now() + skew;
    store
        .view_lesson(p.id, "demo", "l1", 10, 0.5, false)
        .unwrap();
    let after = chrono::Utc::now() + skew;
    let e = &store.pending_events_of(p.id, 1).unwrap()[0];
    assert!(
        e.timestamp >= before - chrono::Duration::seconds(1) && e.timestamp <= after,
        "{} not within {before}..{after}",
        e.timestamp
    );
    // The store's clock keeps milliseconds (what xAPI timestamps carry), so
    // it may read up to a millisecond before `before`.
    let c = store.clock();
    assert!(
        c >= before - chrono::Duration::milliseconds(1) && c <= chrono::Utc::now() + skew,
        "{c} not within {before}..now{skew}"
    );
}

#[test]
fn a_store_of_the_first_version_is_migrated() {
    assert_eq!(STORE_VERSION, 3);
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store
        .view_lesson(p.id, "demo", "l1", 10, 0.5, false)
        .unwrap();
    drop(store);
    // Take the store back to version 1, as an older Outpost left it.
    let db = dir.path().join("data").join(outpost_learner::DB_FILE);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TABLE course_progress; DROP INDEX events_by_sync_state; \
         DROP INDEX events_by_kind; CREATE INDEX events_by_profile ON events (profile_id, course_id); \
         DROP TABLE receipts; DROP TABLE assignments; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&dir.path().join("data")).unwrap();
    assert_eq!(store.pending_count(p.id).unwrap(), 1);
    // Progress from before the stored fold is folded once, at opening.
    assert_eq!(store.progress(p.id, "demo").unwrap().events, 1);
    assert_eq!(
        store.stored_progress(p.id, "demo").unwrap(),
        Some(store.progress(p.id, "demo").unwrap())
    );
    assert_eq!(store.status().unwrap().pending, 1);
    assert!(store.assignments(p.id).unwrap().is_empty());
    assert!(store
        .import_receipt(Uuid::new_v4(), p.id, &[])
        .unwrap()
        .is_some());
}

#[test]
fn rejected_events_can_be_offered_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store
        .view_lesson(p.id, "demo", "l1", 10, 0.5, false)
        .unwrap();
    store
        .view_lesson(p.id, "demo", "l2", 10, 0.5, false)
        .unwrap();
    let events = store.pending_events_of(p.id, 10).unwrap();
    store
        .mark_synced(&[
            (events[0].id, SyncOutcome::Rejected("not published".into())),
            (events[1].id, SyncOutcome::Accepted),
        ])
        .unwrap();
    let earlier = chrono::Utc::now() - chrono::Duration::hours(1);
    assert_eq!(store.requeue_rejected(earlier).unwrap(), 0, "too recent");
    assert_eq!(store.status().unwrap().rejected, 1);
    let later = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(store.requeue_rejected(later).unwrap(), 1);
    assert_eq!(store.pending_events_of(p.id, 10).unwrap(), events[..1]);
    assert_eq!(
        store.sync_state(events[1].id).unwrap(),
        Some(SyncState::Accepted),
        "confirmed events are not touched"
    );
}
