//! The dashboard's report queries and its HTTP rules, on SQLite and on
//! PostgreSQL, over a hub seeded through the sync API.

mod common;
mod dashboard_support;

use common::*;
use dashboard_support::*;
use outpost_hub::dashboard::queries::{self, CourseStats};
use outpost_hub::dashboard::reports::item_stats;
use outpost_hub::db::Mode;
use outpost_hub::params;
use std::collections::BTreeMap;

both!(
    reports_add_up,
    the_trainer_scope_is_in_every_query,
    migrated_answers_match_ingested_ones,
    csv_is_quoted_and_safe_to_open,
    sessions_are_hashed_scoped_and_expire,
    a_busy_address_is_locked_out,
    revoking_on_the_dashboard_stops_the_device,
    bad_form_input_gets_a_precise_refusal,
    pages_over_many_courses_answer,
    every_post_checks_its_csrf_token,
    odd_query_strings_get_an_answer,
);

async fn reports_add_up(b: Backend) {
    let s = seed(b).await;
    let hub = s.f.hub();
    let mut tx = hub.db.begin(Mode::Read).await.unwrap();
    let tx = tx.as_mut();

    let stats = queries::course_stats(tx, &s.dakar, "demo").await.unwrap();
    assert_eq!(
        stats,
        CourseStats {
            learners: 3,
            started: 2,
            satisfied: 1,
            passed: 1,
            mean_best: Some(0.75),
            // Amina 3 × 60 s + 2 × 120 s; Bruno 60 s + 120 s.
            mean_seconds: Some(300.0),
            total_seconds: 600,
        }
    );

    // The matrix a page at a time, in name order.
    let page1 = queries::matrix(tx, &s.dakar, "demo", 2, 0).await.unwrap();
    let names: Vec<&str> = page1.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Amina Diallo", "Bruno Sow"]);
    assert!(page1[0].satisfied && page1[0].passed);
    let bruno = page1[1].progress.as_ref().unwrap();
    assert_eq!(bruno.modules["m1"].lessons_done, 1);
    assert_eq!(
        bruno.modules["m2"].lessons_done, 1,
        "the quiz was submitted"
    );
    let page2 = queries::matrix(tx, &s.dakar, "demo", 2, 2).await.unwrap();
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].name, "Chloé Ndiaye");
    assert!(page2[0].progress.is_none() && !page2[0].satisfied);

    // Bamako's course was due in 2020 and Dara has not finished it.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (overdue, total) = queries::overdue(tx, None, None, &today, 50, 0)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(overdue[0].name, "Dara Keita");
    assert_eq!(overdue[0].due, "2020-01-31");
    assert_eq!(overdue[0].fraction, Some(0.5));

    // Answers per question, graded by the key of the version.
    let counts = queries::answer_counts(tx, None, None, "demo", "1.0.0")
        .await
        .unwrap();
    let structure = hub.structure("demo", "1.0.0").await.unwrap().unwrap();
    let items = item_stats(&structure, &counts);
    let by_q: BTreeMap<&str, _> = items.iter().map(|i| (i.question_id.as_str(), i)).collect();
    let q1 = by_q["quiz-q1"];
    assert_eq!((q1.answers, q1.correct), (2, 1));
    assert_eq!(q1.wrong_choices, BTreeMap::from([("c".to_string(), 1)]));
    let q2 = by_q["quiz-q2"];
    assert_eq!((q2.answers, q2.correct), (2, 1));
    assert_eq!(q2.wrong_choices, BTreeMap::from([("a".to_string(), 1)]));
    assert!(
        by_q["bank-4"].everyone_fails(),
        "Amina chose a, the key is b"
    );
    assert!(!by_q["bank-1"].everyone_fails());
    assert_eq!(
        items
            .iter()
            .map(|i| i.question_id.as_str())
            .collect::<Vec<_>>()[..2],
        ["quiz-q1", "quiz-q2"],
        "questions in course order"
    );

    // Bruno's attempt as the hub graded it.
    let attempts = queries::learner_attempts(tx, s.bruno.enrolled.learner_id, 10)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (attempts[0].correct, attempts[0].total, attempts[0].passed),
        (Some(0), Some(2), Some(false))
    );
    let devices = queries::learner_devices(tx, s.amina.enrolled.learner_id)
        .await
        .unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].pending_after, Some(0));
    assert!(devices[0].last_sync_ms.is_some());

    let versions = queries::versions_in_use(tx, None).await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(
        (versions[0].version.as_str(), versions[0].learners),
        ("1.0.0", 3)
    );

    // Plots: one completion today, one best score of 3/4.
    let per_day = queries::completions_by_day(tx, &s.dakar, "demo")
        .await
        .unwrap();
    assert_eq!(per_day.len(), 1);
    assert_eq!(per_day[0].1, 1);
    assert_eq!(
        queries::best_scores(tx, &s.dakar, "demo").await.unwrap(),
        vec![(0.75, 1)]
    );
}

async fn the_trainer_scope_is_in_every_query(b: Backend) {
    let s = seed(b).await;
    let hub = s.f.hub();
    // Tina's learner has not synced for 30 days and had 7 events waiting.
    let mut w = hub.db.begin(Mode::Write).await.unwrap();
    let month_ago = outpost_hub::hub::now_ms() - 30 * 86_400_000;
    w.exec(
        "UPDATE devices SET last_sync_ms = $1 WHERE id = $2",
        params![month_ago, s.dara.device_id],
    )
    .await
    .unwrap();
    w.exec(
        "UPDATE device_tokens SET pending_after = 7 WHERE device_id = $1",
        params![s.dara.device_id],
    )
    .await
    .unwrap();
    w.commit().await.unwrap();
    let mut tx = hub.db.begin(Mode::Read).await.unwrap();
    let tx = tx.as_mut();
    let names =
        |rows: Vec<queries::CohortRow>| rows.into_iter().map(|c| c.name).collect::<Vec<_>>();

    let (all, n) = queries::cohorts(tx, None, 50, 0).await.unwrap();
    assert_eq!(
        (names(all), n),
        (
            vec!["Bamako".to_string(), "Conakry".into(), "Dakar".into()],
            3
        )
    );
    let (tinas, n) = queries::cohorts(tx, Some("tina"), 50, 0).await.unwrap();
    assert_eq!((names(tinas), n), (vec!["Bamako".to_string()], 1));
    assert!(queries::cohort(tx, Some("tom"), &s.bamako)
        .await
        .unwrap()
        .is_none());
    assert!(queries::cohort(tx, Some("tina"), &s.bamako)
        .await
        .unwrap()
        .is_some());
    assert!(
        queries::cohort(tx, Some("tina"), &s.dakar)
            .await
            .unwrap()
            .is_none(),
        "no trainer: admins only"
    );

    let dara = s.dara.enrolled.learner_id;
    assert!(queries::learner(tx, Some("tom"), dara)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        queries::learner(tx, Some("tina"), dara)
            .await
            .unwrap()
            .unwrap()
            .cohort,
        "Bamako"
    );
    assert!(!queries::device_in_scope(tx, Some("tom"), s.dara.device_id)
        .await
        .unwrap());
    assert!(queries::device_in_scope(tx, Some("tina"), s.dara.device_id)
        .await
        .unwrap());

    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        queries::overdue(tx, Some("tom"), None, &today, 50, 0)
            .await
            .unwrap()
            .1,
        0
    );
    assert_eq!(
        queries::overdue(tx, Some("tina"), None, &today, 50, 0)
            .await
            .unwrap()
            .1,
        1
    );

    // Silent for 14 days: Dara's device only, with its pending count.
    let cutoff = outpost_hub::hub::now_ms() - 14 * 86_400_000;
    let (silent, n) = queries::silent(tx, None, cutoff, 50, 0).await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        (silent[0].learner.as_str(), silent[0].pending_after),
        ("Dara Keita", Some(7))
    );
    assert_eq!(
        queries::silent(tx, Some("tom"), cutoff, 50, 0)
            .await
            .unwrap()
            .1,
        0
    );
    assert_eq!(
        queries::silent_by_cohort(tx, Some("tina"), cutoff)
            .await
            .unwrap(),
        vec![queries::SilentCohort {
            cohort_id: s.bamako.clone(),
            cohort: "Bamako".into(),
            devices: 1,
            pending: 7
        }]
    );
    // From tomorrow on every device counts, Chloé's that never synced too.
    let tomorrow = outpost_hub::hub::now_ms() + 86_400_000;
    assert_eq!(
        queries::silent(tx, None, tomorrow, 50, 0).await.unwrap().1,
        4
    );

    // Item analysis counts only the trainer's learners.
    assert!(
        queries::answer_counts(tx, Some("tina"), None, "demo", "1.0.0")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !queries::answer_counts(tx, None, Some(&s.dakar), "demo", "1.0.0")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        queries::versions_in_use(tx, Some("tina")).await.unwrap()[0].learners,
        1
    );
    assert!(queries::versions_in_use(tx, Some("tom"))
        .await
        .unwrap()
        .is_empty());
}

/// The migration fills `quiz_answers` for events stored before it, in SQL;
/// ingest writes the same rows from Rust.
async fn migrated_answers_match_ingested_ones(b: Backend) {
    let s = seed(b).await;
    let db = s.f.hub().db.clone();
    let read = |db: std::sync::Arc<dyn outpost_hub::db::Database>| async move {
        let mut tx = db.begin(Mode::Read).await.unwrap();
        tx.query(
            "SELECT event_id, learner_id, question_id, course_id, course_version, quiz_id, options FROM quiz_answers ORDER BY event_id, question_id",
            vec![],
        )
        .await
        .unwrap()
    };
    let ingested = read(db.clone()).await;
    assert_eq!(
        ingested.len(),
        2 + 4 + 2,
        "two quizzes of Amina's, one of Bruno's"
    );
    let migration = match b {
        Backend::Sqlite => include_str!("../migrations/sqlite/0002_dashboard.sql"),
        Backend::Postgres => include_str!("../migrations/postgres/0002_dashboard.sql"),
    };
    let start = migration.find("INSERT INTO quiz_answers").unwrap();
    let end = start + migration[start..].find(";\n").unwrap();
    let mut w = db.begin(Mode::Write).await.unwrap();
    w.exec("DELETE FROM quiz_answers", vec![]).await.unwrap();
    w.exec(&migration[start..end], vec![]).await.unwrap();
    w.commit().await.unwrap();
    assert_eq!(read(db).await, ingested);
}

async fn csv_is_quoted_and_safe_to_open(b: Backend) {
    let s = seed(b).await;
    let evil = "=HYPERLINK(\"http://x.example\",\"click\")";
    Device::enroll(
        &s.f.http,
        &s.f.server.url(),
        &s.f.code,
        evil,
        Some("evil, \"quoted\"@example.org"),
    )
    .await;
    let web = Web::login(&s.f.server.url(), "ada", PASSWORD).await;
    let res = web
        .get(&format!(
            "/dashboard/cohorts/{}/members?format=csv",
            s.dakar
        ))
        .await;
    assert!(res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("attachment; filename=\"Dakar-members.csv\"")));
    let text = res.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    let rows = outpost_hub::dashboard::csv::parse(&text);
    assert_eq!(rows.len(), 5, "a header and four members");
    let row = rows.iter().find(|r| r[0].contains("HYPERLINK")).unwrap();
    assert_eq!(row[0], format!("'{evil}"), "a formula is defused");
    assert_eq!(row[1], "evil, \"quoted\"@example.org");
    assert_eq!(row[4], "1", "devices");
    // Every table of the cohort and the reports exports.
    for path in [
        format!("/dashboard/cohorts/{}?format=csv&table=stats", s.dakar),
        format!("/dashboard/cohorts/{}?format=csv&table=completion", s.dakar),
        format!("/dashboard/cohorts/{}?format=csv&table=scores", s.dakar),
        format!("/dashboard/cohorts/{}/codes?format=csv", s.dakar),
        format!(
            "/dashboard/learners/{}?format=csv&table=answers",
            s.amina.enrolled.learner_id
        ),
        "/dashboard/cohorts?format=csv".to_string(),
        "/dashboard/overdue?format=csv".to_string(),
        "/dashboard/silent?days=0&format=csv".to_string(),
        "/dashboard/items?course=demo&version=1.0.0&format=csv".to_string(),
        "/dashboard/courses?format=csv".to_string(),
        "/dashboard/courses?format=csv&table=keys".to_string(),
        "/dashboard/silent?days=0&format=csv&table=cohorts".to_string(),
    ] {
        let rows = web.csv(&path).await;
        assert!(rows.len() >= 2, "{path}: {rows:?}");
    }
    // Chloé has not started her assigned course: it is listed all the same.
    let chloe = web
        .csv(&format!(
            "/dashboard/learners/{}?format=csv&table=courses",
            s.chloe.enrolled.learner_id
        ))
        .await;
    assert_eq!(chloe.len(), 2);
    assert_eq!(
        &chloe[1][1..5],
        &["1.0.0", "2027-01-31", "Not started", "0%"]
    );
    let lessons = web
        .csv(&format!(
            "/dashboard/learners/{}?format=csv&table=lessons",
            s.chloe.enrolled.learner_id
        ))
        .await;
    assert_eq!(lessons.len(), 5, "four lessons, none started: {lessons:?}");
    let scores = web
        .csv(&format!(
            "/dashboard/cohorts/{}?format=csv&table=scores",
            s.dakar
        ))
        .await;
    assert_eq!(scores[8], vec!["70–79%", "1"]);
}

async fn sessions_are_hashed_scoped_and_expire(b: Backend) {
    let s = seed(b).await;
    let base = s.f.server.url();
    let http = no_redirects();
    let res = post_login(&http, &base, "tina", PASSWORD).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/dashboard/cohorts");
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("outpost_session="))
        .unwrap();
    for attr in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/dashboard",
        "Max-Age=28800",
    ] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http here");
    let token = set_cookie(&res, "outpost_session").unwrap();
    let hash = outpost_hub::hub::sha256_hex(token.as_bytes());
    let db = s.f.hub().db.clone();
    assert_eq!(
        count(
            db.as_ref(),
            &format!("dashboard_sessions WHERE id_hash = '{hash}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(
            db.as_ref(),
            &format!("dashboard_sessions WHERE id_hash = '{token}'")
        )
        .await,
        0
    );
    let cookie = format!("outpost_session={token}");
    let get = |path: &str| {
        http.get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(get("/dashboard/cohorts").await.unwrap().status(), 200);
    // Expired: back to sign in, the page asked for kept.
    let mut w = db.begin(Mode::Write).await.unwrap();
    w.exec(
        "UPDATE dashboard_sessions SET expires_ms = $1",
        params![outpost_hub::hub::now_ms() - 1],
    )
    .await
    .unwrap();
    w.commit().await.unwrap();
    let res = get("/dashboard/overdue?page=2").await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/dashboard/login?next=/dashboard/overdue%3Fpage%3D2"
    );
    // A made-up cookie is no session either.
    let res = http
        .get(format!("{base}/dashboard/cohorts"))
        .header("cookie", format!("outpost_session={}", "ab".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The sign-in form without its own cookie is refused.
    let res = http
        .post(format!("{base}/dashboard/login"))
        .form(&[("username", "tina"), ("password", PASSWORD), ("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    // Over https the cookie is Secure.
    let mut config = outpost_hub::Config::new("https://hub.test");
    config.rate_per_second = 1e6;
    config.rate_burst = 1e6;
    let secure = outpost_hub::hub::Hub::new(db, config).await.unwrap();
    let secure = outpost_hub::spawn(std::sync::Arc::new(secure))
        .await
        .unwrap();
    let res = post_login(&http, &secure.url(), "tina", PASSWORD).await;
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(
        set.iter()
            .any(|c| c.starts_with("outpost_session=") && c.contains("; Secure")),
        "{set:?}"
    );
}

async fn a_busy_address_is_locked_out(b: Backend) {
    let s = seed(b).await;
    let base = s.f.server.url();
    let http = no_redirects();
    // Twenty failures from one address, four names, none locked by name
    // (one with a NUL, which no database holds: wrong, and counted).
    for i in 0..20 {
        let user = ["tina", "tom", "nobody", "gh\0st"][i % 4];
        let res = post_login(&http, &base, user, "guess").await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = post_login(&http, &base, "ada", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("try again in 15 minutes"));
    // Locks lapse: once it is over, the right password works.
    let mut w = s.f.hub().db.begin(Mode::Write).await.unwrap();
    w.exec(
        "UPDATE login_failures SET locked_until_ms = $1, first_ms = $1",
        params![outpost_hub::hub::now_ms() - 16 * 60_000],
    )
    .await
    .unwrap();
    w.commit().await.unwrap();
    assert_eq!(
        post_login(&http, &base, "ada", PASSWORD).await.status(),
        303
    );
}

async fn revoking_on_the_dashboard_stops_the_device(b: Backend) {
    let mut s = seed(b).await;
    let base = s.f.server.url();
    let tina = Web::login(&base, "tina", PASSWORD).await;
    let path = format!("/dashboard/devices/{}/revoke", s.dara.device_id);
    let learner = s.dara.enrolled.learner_id.to_string();
    let res = tina
        .post(&path, &[("csrf", &tina.csrf), ("learner", &learner)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("/dashboard/learners/{learner}?done=revoked")
    );
    let e = s.dara.view("l3", true);
    let res = s
        .dara
        .push_raw(&serde_json::to_vec(&s.dara.push_body(&[e])).unwrap(), false)
        .await;
    assert_eq!(res.status(), 401);
    let devices = tina
        .csv(&format!(
            "/dashboard/learners/{learner}?format=csv&table=devices"
        ))
        .await;
    assert!(devices[1][5].starts_with("revoked on"), "{devices:?}");
    // Dara's assigned course, past due, half done.
    let courses = tina
        .csv(&format!(
            "/dashboard/learners/{learner}?format=csv&table=courses"
        ))
        .await;
    assert_eq!(
        &courses[1][1..5],
        &["1.0.0", "2020-01-31", "Overdue 50%", "50%"]
    );
}

/// A form post: path, fields, and words the refusal must say.
type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);

async fn bad_form_input_gets_a_precise_refusal(b: Backend) {
    let s = seed(b).await;
    let web = Web::login(&s.f.server.url(), "ada", PASSWORD).await;
    let codes = format!("/dashboard/cohorts/{}/codes", s.dakar);
    let before = count(s.f.hub().db.as_ref(), "enrolment_codes").await;
    let cases: Vec<Case> = vec![
        (
            codes.clone(),
            vec![("uses", "lots")],
            "lots is not a number of uses",
        ),
        (
            codes.clone(),
            vec![("uses", "0")],
            "0 is not a number of uses",
        ),
        (
            codes.clone(),
            vec![("uses", "3"), ("expires", "2020-02-30")],
            "2020-02-30 is not a date",
        ),
        (
            codes.clone(),
            vec![("uses", "3"), ("expires", "2020-01-01")],
            "2020-01-01 is already past",
        ),
        (
            format!("/dashboard/cohorts/{}/assign", s.dakar),
            vec![("course", "nope")],
            "No course nope is published",
        ),
        (
            "/dashboard/cohorts".into(),
            vec![("name", "  ")],
            "must not be empty",
        ),
        (
            "/dashboard/cohorts".into(),
            vec![("name", "Dakar")],
            "already exists",
        ),
        (
            "/dashboard/courses/keys".into(),
            vec![("name", "X"), ("key", "abc")],
            "expected 64 hex digits",
        ),
    ];
    for (path, mut form, reason) in cases {
        form.push(("csrf", &web.csrf));
        let res = web.post(&path, &form).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_client_error(), "{path} {form:?}: {status}");
        assert!(text.contains(reason), "{path} {form:?}: {text}");
    }
    assert_eq!(
        count(s.f.hub().db.as_ref(), "enrolment_codes").await,
        before,
        "nothing stored"
    );
    for (path, reason) in [
        (
            "/dashboard/cohorts?page=0".to_string(),
            "0 is not a page number",
        ),
        (
            "/dashboard/silent?days=-3".to_string(),
            "-3 is not a number of days",
        ),
        (
            format!("/dashboard/cohorts/{}?course=nope", s.dakar),
            "No course nope",
        ),
        (
            "/dashboard/learners/not-a-uuid".to_string(),
            "no such learner",
        ),
        ("/dashboard/items?course=nope".to_string(), "No course nope"),
    ] {
        let res = web.get(&path).await;
        assert!(res.status().is_client_error(), "{path}");
        assert!(res.text().await.unwrap().contains(reason), "{path}");
    }
    // A trainer cannot add publisher keys.
    let tina = Web::login(&s.f.server.url(), "tina", PASSWORD).await;
    let key = "ab".repeat(32);
    let res = tina
        .post(
            "/dashboard/courses/keys",
            &[("name", "X"), ("key", &key), ("csrf", &tina.csrf)],
        )
        .await;
    assert_eq!(res.status(), 403);
}

/// A page that reads the texts of many courses answers (regression: a
/// page that held its transaction while the texts were read waited on
/// itself once SQLite's four readers went round).
async fn pages_over_many_courses_answer(b: Backend) {
    let s = seed(b).await;
    for i in 1..=6 {
        let mut content = outpost_package::sample::content("1.0.0");
        content.manifest.id = format!("course-{i}");
        content.structure.id = format!("course-{i}");
        let path = s.f.place.dir.path().join(format!("course-{i}.opkg"));
        outpost_package::write_package(&path, &content, &publisher_key()).unwrap();
        s.f.hub()
            .publish_file(&path, &publisher_key().verifying_key())
            .await
            .unwrap();
    }
    let web = Web::login(&s.f.server.url(), "ada", PASSWORD).await;
    for path in [
        format!("/dashboard/cohorts/{}", s.dakar),
        "/dashboard/items?course=course-6".to_string(),
        "/dashboard/courses".to_string(),
        "/dashboard/overdue".to_string(),
        format!("/dashboard/learners/{}", s.amina.enrolled.learner_id),
    ] {
        let res = tokio::time::timeout(std::time::Duration::from_secs(60), web.get(&path))
            .await
            .unwrap_or_else(|_| panic!("{path} did not answer"));
        assert_eq!(res.status(), 200, "{path}");
    }
}

/// Every form the dashboard posts, with its fields right but its CSRF
/// token wrong or missing, is refused and changes nothing; with the token,
/// the same upload is staged and published.
async fn every_post_checks_its_csrf_token(b: Backend) {
    let s = seed(b).await;
    let db = s.f.hub().db.clone();
    let web = Web::login(&s.f.server.url(), "ada", PASSWORD).await;
    let watched = [
        "cohorts",
        "assignments",
        "enrolment_codes",
        "publisher_keys",
        "staged_packages",
        "dashboard_receipts",
        "dashboard_sessions",
        "devices WHERE revoked_ms IS NOT NULL",
    ];
    let mut before = Vec::new();
    for table in watched {
        before.push(count(db.as_ref(), table).await);
    }
    let key = "ab".repeat(32);
    let device = s.dara.device_id.to_string();
    let learner = s.dara.enrolled.learner_id.to_string();
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/dashboard/logout".into(), vec![]),
        ("/dashboard/cohorts".into(), vec![("name", "Lomé")]),
        (
            format!("/dashboard/cohorts/{}/assign", s.conakry),
            vec![("course", "demo"), ("due", "2030-01-31")],
        ),
        (
            format!("/dashboard/cohorts/{}/codes", s.dakar),
            vec![("uses", "3")],
        ),
        (
            format!("/dashboard/devices/{device}/revoke"),
            vec![("learner", &learner)],
        ),
        (
            format!("/dashboard/courses/staged/{}/publish", uuid::Uuid::now_v7()),
            vec![],
        ),
        (
            "/dashboard/courses/keys".into(),
            vec![("name", "Press"), ("key", &key)],
        ),
    ];
    let wrong = "0".repeat(web.csrf.len());
    for (path, fields) in &forms {
        for token in [Some(wrong.as_str()), Some(""), None] {
            let mut form = fields.clone();
            if let Some(t) = token {
                form.push(("csrf", t));
            }
            let res = web.post(path, &form).await;
            assert_eq!(res.status(), 403, "{path} with csrf {token:?}");
        }
    }
    // A new version, which the right token would stage.
    let path = s.f.place.dir.path().join("demo-2.0.0.opkg");
    outpost_package::write_package(
        &path,
        &outpost_package::sample::content("2.0.0"),
        &publisher_key(),
    )
    .unwrap();
    let package = std::fs::read(&path).unwrap();
    for (path, field) in [
        ("/dashboard/courses/upload", "package"),
        ("/dashboard/progress-files", "file"),
    ] {
        for fields in [vec![("csrf", wrong.as_str())], vec![]] {
            let res = web
                .post_file(path, &fields, (field, "upload.bin", &package))
                .await;
            assert_eq!(res.status(), 403, "{path} with {fields:?}");
        }
    }
    for (table, n) in watched.iter().zip(before) {
        assert_eq!(count(db.as_ref(), table).await, n, "{table}");
    }
    // And the session still works: the sign-out was refused too; with its
    // token the same upload is taken.
    assert_eq!(web.get("/dashboard/cohorts").await.status(), 200);
    let res = web
        .post_file(
            "/dashboard/courses/upload",
            &[("csrf", &web.csrf)],
            ("package", "upload.bin", &package),
        )
        .await;
    assert_eq!(res.status(), 303);
    // Published from its page (the id as typed, in capitals), the staged
    // upload is gone.
    let staged = res.headers()["location"].to_str().unwrap().to_uppercase();
    let staged = staged.replace("/DASHBOARD/COURSES/STAGED/", "/dashboard/courses/staged/");
    assert_eq!(web.get(&staged).await.status(), 200);
    let res = web
        .post(&format!("{staged}/publish"), &[("csrf", &web.csrf)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(count(db.as_ref(), "staged_packages").await, 0);
}

/// Whatever is typed into a page's address (page numbers, ids, days,
/// course and table names), the hub answers with a page or a refusal:
/// never a failure of its own, never a dropped connection (a panic).
async fn odd_query_strings_get_an_answer(b: Backend) {
    let s = seed(b).await;
    let web = Web::login(&s.f.server.url(), "tina", PASSWORD).await;
    let long = "9".repeat(4000);
    let values = [
        "",
        "0",
        "-1",
        "abc",
        "99999999999999999999",
        "4294967296",
        "1e3",
        "%FF%FE",
        "%00",
        "'%20OR%201=1--",
        "{0}{1}",
        "..%2F..%2F",
        long.as_str(),
    ];
    let learner = s.amina.enrolled.learner_id;
    let paths = [
        "/dashboard/cohorts?page={v}&format={v}".to_string(),
        format!(
            "/dashboard/cohorts/{}?course={{v}}&page={{v}}&table={{v}}",
            s.bamako
        ),
        format!("/dashboard/cohorts/{}?format=csv&table={{v}}", s.bamako),
        format!("/dashboard/cohorts/{}/members?page={{v}}", s.bamako),
        format!(
            "/dashboard/cohorts/{}/codes?format={{v}}&done={{v}}",
            s.bamako
        ),
        "/dashboard/cohorts/{v}".to_string(),
        "/dashboard/cohorts/{v}/members".to_string(),
        "/dashboard/overdue?cohort={v}&page={v}".to_string(),
        "/dashboard/silent?days={v}&table={v}&page={v}".to_string(),
        "/dashboard/silent?days=3&format=csv&table={v}".to_string(),
        "/dashboard/items?course={v}&version={v}&cohort={v}".to_string(),
        "/dashboard/items?course=demo&version={v}&format=csv".to_string(),
        "/dashboard/learners/{v}".to_string(),
        format!("/dashboard/learners/{learner}?format=csv&table={{v}}"),
        "/dashboard/courses?format={v}&table={v}".to_string(),
        "/dashboard/courses/staged/{v}".to_string(),
        "/dashboard/receipts/{v}".to_string(),
        "/dashboard/lang?to={v}&back={v}".to_string(),
        "/dashboard/login?next={v}".to_string(),
    ];
    for path in &paths {
        for v in values {
            let path = path.replace("{v}", v);
            let res = web
                .http
                .get(format!("{}{path}", web.base))
                .header("cookie", &web.cookie)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
            let status = res.status();
            assert!(
                status.is_success() || status.is_redirection() || status.is_client_error(),
                "{path}: {status}"
            );
        }
    }
}
