//! Frozen wire shapes. DO NOT edit an expected JSON here to make a test
//! pass: a change is a protocol change that old devices or hubs will not
//! understand. Bump PROTOCOL_VERSION, document it in docs/sync-protocol.md,
//! and add a new test beside the old one.

use chrono::{DateTime, NaiveDate, Utc};
use outpost_model::{Event, EventKind};
use outpost_protocol::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

fn t(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn event() -> Event {
    let mut responses = BTreeMap::new();
    responses.insert("q1".to_string(), vec!["b".to_string()]);
    Event {
        id: Uuid::parse_str("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
        learner_id: id(1),
        device_id: id(2),
        seq: 7,
        course_id: "demo".into(),
        course_version: "1.0.0".into(),
        activity_id: "m2-quiz".into(),
        timestamp: t(1_700_000_000),
        kind: EventKind::QuizSubmitted {
            attempt: id(3),
            seconds: 40,
            questions: vec!["q1".into()],
            responses,
        },
    }
}

fn frozen<T>(value: &T, expected: Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    assert_eq!(serde_json::to_value(value).unwrap(), expected);
    let back: T = serde_json::from_value(expected).unwrap();
    assert_eq!(&back, value);
}

#[test]
fn version_is_one() {
    assert_eq!(PROTOCOL_VERSION, 1);
}

#[test]
fn enroll_request_and_response() {
    frozen(
        &EnrollRequest {
            protocol: 1,
            code: "ABCD-EFGH".into(),
            device_id: id(2),
            device_name: "Consulate laptop 3".into(),
            device_public_key: "ab".repeat(32),
            learner_id: id(1),
            learner_name: "Amina".into(),
            email: Some("amina@example.org".into()),
            language: "fr".into(),
        },
        json!({
            "protocol": 1,
            "code": "ABCD-EFGH",
            "device_id": "00000000-0000-0000-0000-000000000002",
            "device_name": "Consulate laptop 3",
            "device_public_key": "ab".repeat(32),
            "learner_id": "00000000-0000-0000-0000-000000000001",
            "learner_name": "Amina",
            "email": "amina@example.org",
            "language": "fr"
        }),
    );
    frozen(
        &EnrollResponse {
            protocol: 1,
            learner_id: id(1),
            learner_name: "Amina".into(),
            cohort: "Dakar 2026".into(),
            device_id: id(2),
            device_token: "cd".repeat(32),
            hub_public_key: "ef".repeat(32),
            hub_time: t(1_700_000_100),
            assignments: vec![Assignment {
                course_id: "demo".into(),
                due: NaiveDate::from_ymd_opt(2026, 12, 31),
            }],
        },
        json!({
            "protocol": 1,
            "learner_id": "00000000-0000-0000-0000-000000000001",
            "learner_name": "Amina",
            "cohort": "Dakar 2026",
            "device_id": "00000000-0000-0000-0000-000000000002",
            "device_token": "cd".repeat(32),
            "hub_public_key": "ef".repeat(32),
            "hub_time": "2023-11-14T22:15:00Z",
            "assignments": [{"course_id": "demo", "due": "2026-12-31"}]
        }),
    );
}

#[test]
fn enroll_request_refuses_unknown_fields() {
    let err = serde_json::from_value::<EnrollRequest>(json!({
        "protocol": 1, "code": "x", "device_id": id(2), "device_name": "d",
        "device_public_key": "", "learner_id": id(1), "learner_name": "n",
        "language": "en", "is_admin": true
    }))
    .unwrap_err();
    assert!(err.to_string().contains("is_admin"), "{err}");
}

#[test]
fn push_request_and_response() {
    frozen(
        &PushRequest {
            protocol: 1,
            device_time: t(1_700_000_050),
            pending_after: Some(12),
            events: vec![event()],
        },
        json!({
            "protocol": 1,
            "device_time": "2023-11-14T22:14:10Z",
            "pending_after": 12,
            "events": [{
                "id": "01890a5d-ac96-774b-bcce-b302099a8057",
                "learner_id": "00000000-0000-0000-0000-000000000001",
                "device_id": "00000000-0000-0000-0000-000000000002",
                "seq": 7,
                "course_id": "demo",
                "course_version": "1.0.0",
                "activity_id": "m2-quiz",
                "timestamp": "2023-11-14T22:13:20Z",
                "kind": "quiz_submitted",
                "attempt": "00000000-0000-0000-0000-000000000003",
                "seconds": 40,
                "questions": ["q1"],
                "responses": {"q1": ["b"]}
            }]
        }),
    );
    frozen(
        &PushResponse {
            protocol: 1,
            hub_time: t(1_700_000_060),
            results: vec![
                EventResult {
                    id: id(10),
                    status: EventStatus::Accepted,
                },
                EventResult {
                    id: id(11),
                    status: EventStatus::Duplicate,
                },
                EventResult {
                    id: id(12),
                    status: EventStatus::Conflict,
                },
                EventResult {
                    id: id(13),
                    status: EventStatus::Rejected {
                        reason: "unknown course \"x\"".into(),
                    },
                },
            ],
        },
        json!({
            "protocol": 1,
            "hub_time": "2023-11-14T22:14:20Z",
            "results": [
                {"id": "00000000-0000-0000-0000-00000000000a", "status": "accepted"},
                {"id": "00000000-0000-0000-0000-00000000000b", "status": "duplicate"},
                {"id": "00000000-0000-0000-0000-00000000000c", "status": "conflict"},
                {"id": "00000000-0000-0000-0000-00000000000d", "status": "rejected",
                 "reason": "unknown course \"x\""}
            ]
        }),
    );
    assert!(EventStatus::Conflict.is_acknowledged());
    assert!(!EventStatus::Rejected { reason: "x".into() }.is_acknowledged());
}

#[test]
fn pull_response() {
    frozen(
        &PullResponse {
            protocol: 1,
            hub_time: t(1_700_000_000),
            events: vec![event()],
            cursor: "42".into(),
            more: false,
            assignments: vec![Assignment {
                course_id: "demo".into(),
                due: None,
            }],
            courses: vec![CourseUpdate {
                course_id: "demo".into(),
                version: "1.1.0".into(),
                size: 65536,
                sha256: "00".repeat(32),
                url: "/api/v1/courses/demo/1.1.0/package".into(),
                published_at: t(1_699_000_000),
            }],
            confirmed: vec![Confirmed {
                course_id: "demo".into(),
                completed: true,
                passed: true,
                satisfied: true,
                satisfied_at: Some(t(1_700_000_000)),
                best_score: Some(0.75),
                events: 9,
            }],
        },
        json!({
            "protocol": 1,
            "hub_time": "2023-11-14T22:13:20Z",
            "events": [serde_json::to_value(event()).unwrap()],
            "cursor": "42",
            "more": false,
            "assignments": [{"course_id": "demo"}],
            "courses": [{
                "course_id": "demo", "version": "1.1.0", "size": 65536,
                "sha256": "00".repeat(32),
                "url": "/api/v1/courses/demo/1.1.0/package",
                "published_at": "2023-11-03T08:26:40Z"
            }],
            "confirmed": [{
                "course_id": "demo", "completed": true, "passed": true,
                "satisfied": true, "satisfied_at": "2023-11-14T22:13:20Z",
                "best_score": 0.75, "events": 9
            }]
        }),
    );
}

#[test]
fn errors_and_ping() {
    frozen(
        &ErrorBody {
            error: ErrorCode::UnsupportedProtocol,
            reason: "protocol 9 is not supported".into(),
        },
        json!({"error": "unsupported_protocol", "reason": "protocol 9 is not supported"}),
    );
    let codes = [
        (ErrorCode::BadRequest, "bad_request"),
        (ErrorCode::Unauthorized, "unauthorized"),
        (ErrorCode::Revoked, "revoked"),
        (ErrorCode::InvalidCode, "invalid_code"),
        (ErrorCode::Forbidden, "forbidden"),
        (ErrorCode::NotFound, "not_found"),
        (ErrorCode::Conflict, "conflict"),
        (ErrorCode::PayloadTooLarge, "payload_too_large"),
        (ErrorCode::RangeNotSatisfiable, "range_not_satisfiable"),
        (ErrorCode::UnsupportedMediaType, "unsupported_media_type"),
        (ErrorCode::RateLimited, "rate_limited"),
        (ErrorCode::Internal, "internal"),
    ];
    for (code, text) in codes {
        assert_eq!(serde_json::to_value(code).unwrap(), json!(text));
    }
    frozen(
        &Ping {
            protocol: 1,
            hub_time: t(0),
        },
        json!({"protocol": 1, "hub_time": "1970-01-01T00:00:00Z"}),
    );
}

fn key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

fn progress_file() -> ProgressFile {
    ProgressFile {
        protocol: 1,
        file_id: id(99),
        device_id: id(2),
        learner_id: id(1),
        created_at: t(1_700_000_200),
        events: vec![event()],
    }
}

#[test]
fn progress_file_layout_is_frozen() {
    let bytes = write_progress_file(&progress_file(), &key(1));
    let text = String::from_utf8(bytes.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], "OUTPOST-PROGRESS-FILE 1");
    let body: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(body["file_id"], json!(id(99)));
    assert_eq!(body["created_at"], "2023-11-14T22:16:40Z");
    assert_eq!(body["events"][0]["kind"], "quiz_submitted");
    assert_eq!(lines[2].len(), 128);
    // ed25519 is deterministic: the same file and key give the same bytes.
    assert_eq!(bytes, write_progress_file(&progress_file(), &key(1)));
}

#[test]
fn progress_file_round_trips_and_verifies() {
    let k = key(1);
    let bytes = write_progress_file(&progress_file(), &k);
    let opened = read_progress_file(&bytes).unwrap();
    assert_eq!(opened.claimed().device_id, id(2));
    assert_eq!(opened.verify(&k.verifying_key()).unwrap(), progress_file());
}

#[test]
fn a_changed_byte_or_another_key_fails_verification() {
    let k = key(1);
    let bytes = write_progress_file(&progress_file(), &k);
    // Change the seq from 7 to 8: still valid JSON, but not what was signed.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let tampered = text.replacen("\"seq\":7", "\"seq\":8", 1);
    assert_ne!(tampered, text);
    let err = read_progress_file(tampered.as_bytes())
        .unwrap()
        .verify(&k.verifying_key())
        .unwrap_err();
    assert!(matches!(err, FileError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("changed after it was written"));

    let err = read_progress_file(&bytes)
        .unwrap()
        .verify(&key(2).verifying_key())
        .unwrap_err();
    assert!(matches!(err, FileError::BadSignature { .. }));
}

#[test]
fn wrong_files_are_refused_clearly() {
    let receipt = Receipt {
        protocol: 1,
        file_id: id(99),
        device_id: id(2),
        learner_id: id(1),
        hub_time: t(1_700_000_300),
        results: vec![EventResult {
            id: event().id,
            status: EventStatus::Accepted,
        }],
    };
    let r = write_receipt(&receipt, &key(5));
    assert!(r.starts_with(b"OUTPOST-RECEIPT 1\n"));
    assert_eq!(
        read_receipt(&r)
            .unwrap()
            .verify(&key(5).verifying_key())
            .unwrap(),
        receipt
    );

    let err = read_progress_file(&r).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this is an Outpost receipt, not a progress file"
    );
    let p = write_progress_file(&progress_file(), &key(1));
    let err = read_receipt(&p).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this is an Outpost progress file, not a receipt"
    );
    let err = read_progress_file(b"SQLite format 3\0...").unwrap_err();
    assert!(matches!(err, FileError::NotOurs { .. }), "{err}");
    let err = read_progress_file(b"OUTPOST-PROGRESS-FILE 2\n{}\n00\n").unwrap_err();
    assert!(
        matches!(err, FileError::NewerVersion { found: 2, .. }),
        "{err}"
    );
    let err = read_progress_file(b"OUTPOST-PROGRESS-FILE 1\n{\"protocol\":1}\n").unwrap_err();
    assert!(matches!(err, FileError::Malformed { .. }), "{err}");
    let cut = &p[..p.len() - 70];
    assert!(matches!(
        read_progress_file(cut).unwrap_err(),
        FileError::Malformed { .. }
    ));
}
