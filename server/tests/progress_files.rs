//! The USB path: progress files imported with the same code as a push.

mod common;

use common::*;
use outpost_protocol::*;

both!(
    a_file_imports_once_and_answers_with_a_signed_receipt,
    tampered_foreign_and_revoked_files_are_refused,
);

fn file_of(d: &Device, events: Vec<outpost_model::Event>) -> Vec<u8> {
    write_progress_file(
        &ProgressFile {
            protocol: PROTOCOL_VERSION,
            file_id: uuid::Uuid::now_v7(),
            device_id: d.device_id,
            learner_id: d.profile_id,
            created_at: chrono::Utc::now(),
            events,
        },
        &d.key,
    )
}

async fn a_file_imports_once_and_answers_with_a_signed_receipt(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let events = d.whole_course();
    // One event already arrived online; the file carries it again.
    d.push(&events[..1]).await;
    let bytes = file_of(&d, events.clone());
    let (receipt, receipt_bytes) = f.hub().import_progress(&bytes).await.unwrap();
    let statuses: Vec<_> = receipt.results.iter().map(|r| r.status.clone()).collect();
    assert_eq!(statuses[0], EventStatus::Duplicate);
    assert!(
        statuses[1..].iter().all(|s| *s == EventStatus::Accepted),
        "{statuses:?}"
    );
    // The device checks the receipt with the key it got at enrolment.
    let hub_key = public_key_from_hex(&d.enrolled.hub_public_key).unwrap();
    let checked = read_receipt(&receipt_bytes)
        .unwrap()
        .verify(&hub_key)
        .unwrap();
    assert_eq!(checked, receipt);
    assert_eq!(
        checked.results.iter().map(|r| r.id).collect::<Vec<_>>(),
        events.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    let progress = f
        .hub()
        .progress(d.enrolled.learner_id, "demo")
        .await
        .unwrap();
    assert_eq!(progress.as_ref().unwrap()["satisfied"], true);

    // Again: nothing new is stored, everything is a duplicate.
    let (again, _) = f.hub().import_progress(&bytes).await.unwrap();
    assert!(again
        .results
        .iter()
        .all(|r| r.status == EventStatus::Duplicate));
    assert_eq!(f.count("events").await, 5);
    assert_eq!(
        f.hub()
            .progress(d.enrolled.learner_id, "demo")
            .await
            .unwrap(),
        progress
    );
}

async fn tampered_foreign_and_revoked_files_are_refused(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let viewed = d.view("l1", true);
    let bytes = file_of(&d, vec![viewed]);

    let text = String::from_utf8(bytes.clone()).unwrap();
    let tampered = text.replacen("\"seconds\":60", "\"seconds\":6000", 1);
    assert_ne!(tampered, text);
    let err = f
        .hub()
        .import_progress(tampered.as_bytes())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("signature does not match"),
        "{err}"
    );

    // Signed with another key than the one the device enrolled with.
    let mut thief = d.view("l2", true);
    thief.seq = 99;
    let forged = write_progress_file(
        &ProgressFile {
            protocol: 1,
            file_id: uuid::Uuid::now_v7(),
            device_id: d.device_id,
            learner_id: d.profile_id,
            created_at: chrono::Utc::now(),
            events: vec![thief],
        },
        &ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
    );
    assert!(f.hub().import_progress(&forged).await.is_err());

    let err = f
        .hub()
        .import_progress(b"PK\x03\x04 a zip file")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not an Outpost progress file"),
        "{err}"
    );
    let receipt_instead = write_receipt(
        &Receipt {
            protocol: 1,
            file_id: uuid::Uuid::nil(),
            device_id: d.device_id,
            learner_id: d.profile_id,
            hub_time: chrono::Utc::now(),
            results: vec![],
        },
        &d.key,
    );
    let err = f.hub().import_progress(&receipt_instead).await.unwrap_err();
    assert!(
        err.to_string().contains("receipt, not a progress file"),
        "{err}"
    );

    // An unknown device.
    let stranger = {
        let mut s = Device::request("S", &f.code, None);
        s.1.device_id = uuid::Uuid::new_v4();
        s
    };
    let foreign = write_progress_file(
        &ProgressFile {
            protocol: 1,
            file_id: uuid::Uuid::now_v7(),
            device_id: stranger.1.device_id,
            learner_id: stranger.1.learner_id,
            created_at: chrono::Utc::now(),
            events: vec![],
        },
        &stranger.0,
    );
    let err = f.hub().import_progress(&foreign).await.unwrap_err();
    assert!(err.to_string().contains("not enrolled"), "{err}");

    // A revoked device's file, even a genuine one.
    f.hub().revoke_device(d.device_id).await.unwrap();
    let err = f.hub().import_progress(&bytes).await.unwrap_err();
    assert!(err.to_string().contains("revoked"), "{err}");
    assert_eq!(f.count("events").await, 0);
}
