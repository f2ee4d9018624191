//! The sync API against a real hub over real HTTP, on SQLite and on
//! PostgreSQL: enrolment, push, pull, idempotence, bad input, revocation,
//! re-grading, clock correction, package downloads.

mod common;

use common::*;
use outpost_hub::db::Mode;
use outpost_hub::params;
use outpost_model::EventKind;
use outpost_protocol::*;
use serde_json::json;

both!(
    enrol_push_and_pull_between_two_devices,
    the_same_batch_any_number_of_times_is_stored_once,
    two_instances_and_two_devices_race_and_converge,
    a_changed_event_under_a_known_id_is_a_conflict,
    events_that_do_not_belong_are_rejected_with_reasons,
    bad_requests_get_a_reason_and_store_nothing,
    a_revoked_device_is_refused_at_once,
    quiz_scores_are_regraded_from_the_answer_key,
    device_clocks_are_corrected,
    packages_download_resumably,
    enrolment_codes_run_out_and_expire,
    pull_pages_through_a_long_feed,
    text_with_a_nul_character_is_refused_in_words,
);

async fn enrol_push_and_pull_between_two_devices(b: Backend) {
    let f = Fixture::new(b).await;
    let mut a = f.device("Amina", Some("amina@example.org")).await;
    let mut b2 = f.device("Amina", Some("Amina@Example.org")).await;
    assert_eq!(
        a.enrolled.learner_id, a.profile_id,
        "a new learner keeps the profile's id"
    );
    assert_eq!(
        b2.enrolled.learner_id, a.enrolled.learner_id,
        "the same e-mail on a second device is the same learner"
    );
    assert_eq!(a.enrolled.cohort, "Dakar");
    assert_eq!(a.enrolled.assignments[0].course_id, "demo");
    assert_eq!(a.enrolled.hub_public_key, f.hub().public_key_hex());

    let first = a.whole_course();
    let res = a.push(&first[..3]).await;
    assert_eq!(statuses(&res), ["accepted"; 3]);
    let other = vec![
        b2.view("l1", false),
        b2.submit("m2-quiz", &[("quiz-q1", "b"), ("quiz-q2", "a")]),
    ];
    assert_eq!(statuses(&b2.push(&other).await), ["accepted"; 2]);
    a.push(&first[3..]).await;

    // Each device gets the other's events, never its own.
    let (from_b, page) = a.pull_all(100).await;
    assert_eq!(from_b, other);
    let (from_a, _) = b2.pull_all(100).await;
    assert_eq!(from_a, first);
    // Course updates and the hub's confirmation of the certificate.
    assert_eq!(page.courses.len(), 1);
    assert_eq!(page.courses[0].version, "1.0.0");
    assert_eq!(
        page.courses[0].sha256,
        outpost_hub::hub::sha256_hex(&std::fs::read(&f.package).unwrap())
    );
    let c = &page.confirmed[0];
    assert!(c.satisfied && c.passed && c.completed, "{c:?}");
    assert_eq!(c.best_score, Some(0.75));
    assert_eq!(c.events, 7);

    // The hub's progress is the model's fold of the same events.
    let course = outpost_package::sample::content("1.0.0").structure;
    let all: Vec<_> = first.iter().chain(&other).cloned().collect();
    let expected = serde_json::to_value(outpost_model::fold(&course, &all)).unwrap();
    assert_eq!(
        f.hub()
            .progress(a.enrolled.learner_id, "demo")
            .await
            .unwrap(),
        Some(expected)
    );

    // A third device without e-mail is another learner who sees nothing.
    let c3 = f.device("Someone else", None).await;
    assert_ne!(c3.enrolled.learner_id, a.enrolled.learner_id);
    assert!(c3.pull_all(100).await.0.is_empty());
}

async fn the_same_batch_any_number_of_times_is_stored_once(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let batch = d.whole_course();
    assert_eq!(statuses(&d.push(&batch).await), ["accepted"; 5]);
    let progress = f
        .hub()
        .progress(d.enrolled.learner_id, "demo")
        .await
        .unwrap();
    for _ in 0..10 {
        let res = d.push(&batch).await;
        assert_eq!(statuses(&res), ["duplicate"; 5]);
    }
    // Within one batch too.
    let twice = [batch[0].clone(), batch[0].clone()];
    assert_eq!(statuses(&d.push(&twice).await), ["duplicate", "duplicate"]);
    assert_eq!(f.count("events").await, 5);
    assert_eq!(f.count("statements").await, 5);
    assert_eq!(
        f.hub()
            .progress(d.enrolled.learner_id, "demo")
            .await
            .unwrap(),
        progress
    );
}

async fn two_instances_and_two_devices_race_and_converge(b: Backend) {
    let f = Fixture::new(b).await;
    let second = f.place.instance().await;
    let mut a = f.device("Amina", Some("amina@example.org")).await;
    let mut b2 = Device::enroll(
        &f.http,
        &second.url(),
        &f.code,
        "Amina",
        Some("amina@example.org"),
    )
    .await;
    let batch_a = a.whole_course();
    let batch_b: Vec<_> = (0..6)
        .map(|i| b2.view(["l1", "l2", "l3"][i % 3], i % 2 == 0))
        .collect();

    // 1, 2 and 10 sends of each batch, interleaved from both devices, half
    // to each instance, all at once.
    let mut tasks = Vec::new();
    for (round, times) in [1usize, 2, 10].into_iter().enumerate() {
        for i in 0..times {
            for (dev, batch) in [(&a, &batch_a), (&b2, &batch_b)] {
                let base = if (i + round) % 2 == 0 {
                    f.server.url()
                } else {
                    second.url()
                };
                let http = f.http.clone();
                let token = dev.token().to_string();
                let body = gzip_bytes(&serde_json::to_vec(&dev.push_body(batch)).unwrap());
                tasks.push(tokio::spawn(async move {
                    let res = http
                        .post(format!("{base}/api/v1/sync/push"))
                        .bearer_auth(token)
                        .header("content-encoding", "gzip")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 200);
                    res.json::<PushResponse>().await.unwrap()
                }));
            }
        }
    }
    let mut accepted = 0;
    for t in tasks {
        let res = t.await.unwrap();
        for r in &res.results {
            match r.status {
                EventStatus::Accepted => accepted += 1,
                EventStatus::Duplicate => {}
                ref s => panic!("unexpected {s:?}"),
            }
        }
    }
    assert_eq!(accepted, 11, "every event accepted exactly once");
    assert_eq!(f.count("events").await, 11);
    let learner = a.enrolled.learner_id;
    let course = outpost_package::sample::content("1.0.0").structure;
    let all: Vec<_> = batch_a.iter().chain(&batch_b).cloned().collect();
    let expected = serde_json::to_value(outpost_model::fold(&course, &all)).unwrap();
    assert_eq!(
        f.hub().progress(learner, "demo").await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        second.hub.progress(learner, "demo").await.unwrap(),
        Some(expected)
    );
    // The feed numbers every event once, without gaps.
    let mut tx = f.hub().db.begin(Mode::Read).await.unwrap();
    let rows = tx
        .query("SELECT feed_seq FROM events ORDER BY feed_seq", params![])
        .await
        .unwrap();
    let seqs: Vec<i64> = rows.iter().map(|r| r.i64(0).unwrap()).collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<i64>>());
    second.stop().await;
}

async fn a_changed_event_under_a_known_id_is_a_conflict(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let e = d.view("l1", false);
    d.push(std::slice::from_ref(&e)).await;
    let mut changed = e.clone();
    changed.kind = EventKind::LessonViewed {
        seconds: 61,
        position: 0.5,
        reached_end: false,
    };
    let res = d.push(&[changed]).await;
    assert_eq!(statuses(&res), ["conflict"]);
    assert!(res.results[0].status.is_acknowledged());
    let mut tx = f.hub().db.begin(Mode::Read).await.unwrap();
    let kept = tx
        .query("SELECT content FROM events WHERE id = $1", params![e.id])
        .await
        .unwrap()[0]
        .text(0)
        .unwrap();
    assert_eq!(
        kept.as_bytes(),
        e.canonical_json(),
        "the stored event is kept"
    );
}

async fn events_that_do_not_belong_are_rejected_with_reasons(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let mut other = f.device("Bruno", None).await;
    let mut foreign_learner = d.view("l1", true);
    foreign_learner.learner_id = other.profile_id;
    let mut foreign_device = d.view("l1", true);
    foreign_device.device_id = other.device_id;
    let mut unknown_course = d.view("l1", true);
    unknown_course.course_id = "nope".into();
    let mut unknown_version = d.view("l1", true);
    unknown_version.course_version = "9.9.9".into();
    let bad_activity = d.view("no-such-lesson", true);
    let mut future = d.view("l2", true);
    future.timestamp = chrono::Utc::now() + chrono::Duration::hours(3);
    let good = d.view("l3", true);
    let res = d
        .push(&[
            foreign_learner,
            foreign_device,
            unknown_course,
            unknown_version,
            bad_activity,
            future,
            good,
        ])
        .await;
    let reasons: Vec<String> = res
        .results
        .iter()
        .map(|r| match &r.status {
            EventStatus::Rejected { reason } => reason.clone(),
            s => format!("{s:?}"),
        })
        .collect();
    let expect = [
        "not this device's learner",
        "not on this device",
        "unknown course \"nope\"",
        "no published version \"9.9.9\"",
        "unknown activity \"no-such-lesson\"",
        "in the future",
        "Accepted",
    ];
    for (got, want) in reasons.iter().zip(expect) {
        assert!(got.contains(want), "{got:?} should say {want:?}");
    }
    assert_eq!(f.count("events").await, 1);
    // The other learner's device still works and saw nothing of it.
    assert!(other.pull_all(10).await.0.is_empty());
    let _ = other.view("l1", true);
}

async fn bad_requests_get_a_reason_and_store_nothing(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let viewed = d.view("l1", true);
    let good = serde_json::to_value(d.push_body(&[viewed])).unwrap();
    let check = |res: reqwest::Response, status: u16, code: &'static str| async move {
        assert_eq!(res.status(), status);
        let body: ErrorBody = res.json().await.unwrap();
        assert_eq!(
            serde_json::to_value(body.error).unwrap(),
            json!(code),
            "{}",
            body.reason
        );
        assert!(!body.reason.is_empty());
        body.reason
    };
    let r = check(d.push_raw(b"{not json", true).await, 400, "bad_request").await;
    assert!(r.contains("line 1"), "{r}");
    let mut wrong_type = good.clone();
    wrong_type["events"][0]["seq"] = json!("seven");
    check(
        d.push_raw(wrong_type.to_string().as_bytes(), true).await,
        400,
        "bad_request",
    )
    .await;
    let mut unknown_field = good.clone();
    unknown_field["admin"] = json!(true);
    check(
        d.push_raw(unknown_field.to_string().as_bytes(), false)
            .await,
        400,
        "bad_request",
    )
    .await;
    let mut newer = good.clone();
    newer["protocol"] = json!(99);
    let r = check(
        d.push_raw(newer.to_string().as_bytes(), true).await,
        400,
        "unsupported_protocol",
    )
    .await;
    assert!(r.contains("99"));
    // Not gzip although it says so.
    let res = f
        .http
        .post(f.url("/api/v1/sync/push"))
        .bearer_auth(d.token())
        .header("content-encoding", "gzip")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    check(res, 400, "bad_request").await;
    let res = f
        .http
        .post(f.url("/api/v1/sync/push"))
        .bearer_auth(d.token())
        .header("content-encoding", "br")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    check(res, 415, "unsupported_media_type").await;
    // A gzip bomb: 64 MiB of spaces inside a valid JSON string, compressed to
    // well under the compressed limit.
    let mut bomb =
        b"{\"protocol\":1,\"device_time\":\"2026-01-01T00:00:00Z\",\"events\":[],\"x\":\"".to_vec();
    bomb.resize(bomb.len() + 64 * 1024 * 1024, b' ');
    bomb.extend_from_slice(b"\"}");
    let res = d.push_raw(&bomb, true).await;
    check(res, 413, "payload_too_large").await;
    // Too big even compressed.
    let huge: Vec<u8> = (0..3u64 * 1024 * 1024)
        .map(|i| (i * 7919 % 251) as u8)
        .collect();
    let res = f
        .http
        .post(f.url("/api/v1/sync/push"))
        .bearer_auth(d.token())
        .body(huge)
        .send()
        .await
        .unwrap();
    check(res, 413, "payload_too_large").await;
    // Too many events.
    let many: Vec<_> = (0..1001).map(|_| d.view("l1", false)).collect();
    let res = d
        .push_raw(&serde_json::to_vec(&d.push_body(&many)).unwrap(), true)
        .await;
    check(res, 413, "payload_too_large").await;
    // No token, unknown token.
    let res = f
        .http
        .post(f.url("/api/v1/sync/push"))
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    check(res, 401, "unauthorized").await;
    let res = f
        .http
        .get(f.url("/api/v1/sync/pull"))
        .bearer_auth("ab".repeat(32))
        .send()
        .await
        .unwrap();
    check(res, 401, "unauthorized").await;
    let res = f
        .http
        .get(f.url("/api/v1/sync/pull?cursor=banana"))
        .bearer_auth(d.token())
        .send()
        .await
        .unwrap();
    check(res, 400, "bad_request").await;
    // Enrolment with a malformed key, a wrong type and an unknown code.
    let (_, mut req) = Device::request("X", &f.code, None);
    req.device_public_key = "xyz".into();
    let res = f.post_enroll(&req).await;
    check(res, 400, "bad_request").await;
    let res = f
        .http
        .post(f.url("/api/v1/enroll"))
        .body(r#"{"protocol":"one"}"#)
        .send()
        .await
        .unwrap();
    check(res, 400, "bad_request").await;
    let (_, req) = Device::request("X", "WRONG-CODE", None);
    let res = f.post_enroll(&req).await;
    check(res, 403, "invalid_code").await;
    // Unknown route: JSON 404.
    let res = f.http.get(f.url("/api/v1/nothing")).send().await.unwrap();
    check(res, 404, "not_found").await;

    assert_eq!(f.count("events").await, 0);
    assert_eq!(f.count("statements").await, 0);
    assert_eq!(f.count("devices").await, 1, "only the test's own device");
    assert_eq!(f.count("learners").await, 1);
}

async fn a_revoked_device_is_refused_at_once(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    let viewed = d.view("l1", true);
    d.push(&[viewed]).await;
    assert!(f.hub().revoke_device(d.device_id).await.unwrap());
    assert!(
        !f.hub().revoke_device(d.device_id).await.unwrap(),
        "twice is fine"
    );
    let viewed = d.view("l2", true);
    let body = serde_json::to_vec(&d.push_body(&[viewed])).unwrap();
    let res = d.push_raw(&body, true).await;
    assert_eq!(res.status(), 401);
    let e: ErrorBody = res.json().await.unwrap();
    assert_eq!(e.error, ErrorCode::Revoked);
    let res = f
        .http
        .get(f.url("/api/v1/sync/pull"))
        .bearer_auth(d.token())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // The same device cannot enrol again.
    let (_, mut req) = Device::request("Amina", &f.code, None);
    req.device_id = d.device_id;
    req.device_public_key = hex::encode(d.key.verifying_key().as_bytes());
    let res = f.post_enroll(&req).await;
    assert_eq!(res.status(), 401);
    assert_eq!(f.count("events").await, 1);
    assert!(f.hub().revoke_device(uuid::Uuid::new_v4()).await.is_err());
}

async fn quiz_scores_are_regraded_from_the_answer_key(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    // Every answer wrong, with a claimed perfect score added by the client.
    let e = d.submit(
        "final",
        &[
            ("bank-1", "b"),
            ("bank-2", "a"),
            ("bank-3", "a"),
            ("bank-4", "a"),
        ],
    );
    let mut body = serde_json::to_value(d.push_body(std::slice::from_ref(&e))).unwrap();
    body["events"][0]["score"] = json!({"correct": 4, "total": 4});
    body["events"][0]["passed"] = json!(true);
    let res = d.push_raw(body.to_string().as_bytes(), true).await;
    assert_eq!(res.status(), 200);
    let res: PushResponse = res.json().await.unwrap();
    assert_eq!(statuses(&res), ["accepted"]);
    let mut tx = f.hub().db.begin(Mode::Read).await.unwrap();
    let row = tx
        .query(
            "SELECT score_correct, score_total, passed, content FROM events WHERE id = $1",
            params![e.id],
        )
        .await
        .unwrap()
        .remove(0);
    assert_eq!((row.i64(0).unwrap(), row.i64(1).unwrap()), (0, 4));
    assert!(!row.bool(2).unwrap());
    assert!(
        !row.text(3).unwrap().contains("score"),
        "the claim is not stored"
    );
    let p = f
        .hub()
        .progress(d.enrolled.learner_id, "demo")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p["quizzes"]["final"]["best"],
        json!({"correct": 0, "total": 4})
    );
    assert_eq!(p["passed"], false);
    let st = tx
        .query(
            "SELECT content FROM statements WHERE id = $1",
            params![e.id],
        )
        .await
        .unwrap()
        .remove(0)
        .text(0)
        .unwrap();
    let st: serde_json::Value = serde_json::from_str(&st).unwrap();
    assert_eq!(st["verb"]["id"], "http://adlnet.gov/expapi/verbs/failed");
    assert_eq!(st["result"]["score"]["raw"], 0);
}

async fn device_clocks_are_corrected(b: Backend) {
    let f = Fixture::new(b).await;
    let mut d = f.device("Amina", None).await;
    // The device's clock runs three days behind.
    let skew = chrono::Duration::days(3);
    let device_now = chrono::Utc::now() - skew;
    d.clock = device_now - chrono::Duration::hours(1);
    let e = d.view("l1", true);
    let mut body = d.push_body(std::slice::from_ref(&e));
    body.device_time = device_now;
    let res = d.push_raw(&serde_json::to_vec(&body).unwrap(), true).await;
    assert_eq!(res.status(), 200);
    let mut tx = f.hub().db.begin(Mode::Read).await.unwrap();
    let row = tx
        .query(
            "SELECT device_time_ms, corrected_ms, received_ms FROM events WHERE id = $1",
            params![e.id],
        )
        .await
        .unwrap()
        .remove(0);
    let (device_ms, corrected_ms, received_ms) = (
        row.i64(0).unwrap(),
        row.i64(1).unwrap(),
        row.i64(2).unwrap(),
    );
    assert_eq!(
        device_ms,
        e.timestamp.timestamp_millis(),
        "the device's time is kept"
    );
    // One hour before the hub received it, give or take the request's time.
    let hour = 3_600_000;
    assert!(
        (received_ms - hour - corrected_ms).abs() < 60_000,
        "{corrected_ms} vs {received_ms}"
    );
    let offset = tx
        .query(
            "SELECT clock_offset_ms FROM devices WHERE id = $1",
            params![d.device_id],
        )
        .await
        .unwrap()
        .remove(0)
        .i64(0)
        .unwrap();
    assert!((offset - skew.num_milliseconds()).abs() < 60_000);
    // An event an hour ahead of the device's own clock is from the future.
    let mut ahead = d.view("l2", true);
    ahead.timestamp = device_now + chrono::Duration::hours(1);
    let mut body = d.push_body(&[ahead]);
    body.device_time = device_now;
    let res: PushResponse = d
        .push_raw(&serde_json::to_vec(&body).unwrap(), true)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statuses(&res), ["rejected"]);
}

async fn packages_download_resumably(b: Backend) {
    let f = Fixture::new(b).await;
    let d = f.device("Amina", None).await;
    let file = std::fs::read(&f.package).unwrap();
    let url = f.url("/api/v1/courses/demo/1.0.0/package");
    let get = |range: Option<&str>, if_range: Option<&str>| {
        let mut r = f.http.get(&url).bearer_auth(d.token());
        if let Some(v) = range {
            r = r.header("range", v);
        }
        if let Some(v) = if_range {
            r = r.header("if-range", v);
        }
        r.send()
    };
    let full = get(None, None).await.unwrap();
    assert_eq!(full.status(), 200);
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", outpost_hub::hub::sha256_hex(&file)));
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.bytes().await.unwrap().as_ref(), file.as_slice());
    // A download cut after 1000 bytes resumes from there.
    let head = get(Some("bytes=0-999"), None).await.unwrap();
    assert_eq!(head.status(), 206);
    assert_eq!(
        head.headers()["content-range"],
        format!("bytes 0-999/{}", file.len()).as_str()
    );
    let mut got = head.bytes().await.unwrap().to_vec();
    let rest = get(Some("bytes=1000-"), Some(&etag)).await.unwrap();
    assert_eq!(rest.status(), 206);
    got.extend_from_slice(&rest.bytes().await.unwrap());
    assert_eq!(got, file);
    // If the file changed (another ETag), the whole new file comes back.
    let changed = get(Some("bytes=1000-"), Some("\"something-else\""))
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_eq!(changed.bytes().await.unwrap().len(), file.len());
    let past = get(Some(&format!("bytes={}-", file.len())), None)
        .await
        .unwrap();
    assert_eq!(past.status(), 416);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{}", file.len()).as_str()
    );
    let none = f
        .http
        .get(f.url("/api/v1/courses/demo/7.0.0/package"))
        .bearer_auth(d.token())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);
    let anonymous = f.http.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    // A new version is announced in the pull; both stay downloadable; the
    // progress that exists is folded against the new version at once.
    let mut learner = f.device("Bruno", None).await;
    let viewed = learner.view("l1", true);
    learner.push(&[viewed]).await;
    publish_sample(f.hub(), f.place.dir.path(), "1.1.0").await;
    let mut tx = f.hub().db.begin(Mode::Read).await.unwrap();
    let version = tx
        .query("SELECT course_version FROM progress", params![])
        .await
        .unwrap()
        .remove(0)
        .text(0)
        .unwrap();
    assert_eq!(version, "1.1.0");
    drop(tx);
    let page = d.pull("", 10).await;
    assert_eq!(page.courses[0].version, "1.1.0");
    let old = get(None, None).await.unwrap();
    assert_eq!(old.status(), 200);
    // Publishing other bytes under a published version is refused.
    let mut c = outpost_package::sample::content("1.0.0");
    c.manifest.publisher = "Someone else".into();
    let other = f.place.dir.path().join("other.opkg");
    outpost_package::write_package(&other, &c, &publisher_key()).unwrap();
    let pkg = outpost_package::Package::open(&other).unwrap();
    let err = f
        .hub()
        .publish(&std::fs::read(&other).unwrap(), "{}", pkg.structure(), "k")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already published"), "{err}");
}

async fn enrolment_codes_run_out_and_expire(b: Backend) {
    let f = Fixture::new(b).await;
    let once = f.hub().create_code("Dakar", 1, None).await.unwrap();
    let first = Device::enroll(&f.http, &f.server.url(), &once.to_lowercase(), "A", None).await;
    assert_eq!(first.enrolled.cohort, "Dakar");
    let (_, req) = Device::request("B", &once, None);
    let res = f.post_enroll(&req).await;
    assert_eq!(res.status(), 403, "used up");
    let expired = f
        .hub()
        .create_code(
            "Dakar",
            5,
            Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .await
        .unwrap();
    let (_, req) = Device::request("C", &expired, None);
    let res = f.post_enroll(&req).await;
    assert_eq!(res.status(), 403, "expired");
    assert!(f.hub().create_code("Nowhere", 1, None).await.is_err());
}

async fn pull_pages_through_a_long_feed(b: Backend) {
    let f = Fixture::new(b).await;
    let mut a = f.device("Amina", Some("a@example.org")).await;
    let b2 = f.device("Amina", Some("a@example.org")).await;
    let events: Vec<_> = (0..25)
        .map(|i| a.view(["l1", "l2", "l3"][i % 3], false))
        .collect();
    for chunk in events.chunks(7) {
        a.push(chunk).await;
    }
    let first = b2.pull("", 10).await;
    assert_eq!(first.events.len(), 10);
    assert!(first.more);
    let (all, last) = b2.pull_all(10).await;
    assert_eq!(all, events);
    assert!(!last.more);
    // Resuming from the last cursor gives nothing new, then what is new.
    assert!(b2.pull(&last.cursor, 10).await.events.is_empty());
    let more = a.view("l1", true);
    a.push(std::slice::from_ref(&more)).await;
    assert_eq!(b2.pull(&last.cursor, 10).await.events, vec![more]);
}

/// PostgreSQL cannot store a NUL character in text (SQLite could): on both
/// backends a name with one is bad input, answered 400 with a reason, and
/// nothing is stored; it used to be a 500 on PostgreSQL.
async fn text_with_a_nul_character_is_refused_in_words(b: Backend) {
    let f = Fixture::new(b).await;
    let (_, mut req) = Device::request("Amina", &f.code, None);
    req.learner_name = "Ami\0na".into();
    let res = f.post_enroll(&req).await;
    assert_eq!(res.status(), 400);
    let body: ErrorBody = res.json().await.unwrap();
    assert!(body.reason.contains("NUL"), "{}", body.reason);
    assert_eq!(f.count("learners").await, 0);
    assert_eq!(f.count("devices").await, 0);
    let cohort = f.hub().create_cohort("Da\0kar", None).await;
    assert!(
        matches!(&cohort, Err(outpost_hub::error::HubError::BadRequest(r)) if r.contains("NUL")),
        "{cohort:?}"
    );
    // The code was not used up: the same learner enrols with a clean name.
    f.device("Amina", None).await;
    assert_eq!(f.count("learners").await, 1);
}
