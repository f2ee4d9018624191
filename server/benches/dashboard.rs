//! The dashboard's report queries and pages over a seeded hub of 10,000
//! learners in 3 courses, on SQLite and on PostgreSQL. A measurement, not a
//! test.
//!
//! `cargo bench -p outpost-hub --bench dashboard` (or `cargo xtask bench`)
//! prints a table and writes it to `<target>/bench-reports/hub-dashboard.md`.
//! Learners are enrolled and their events pushed through the hub's own
//! enrolment and ingest (in process, several at once), so every table is
//! filled as in production. Size: OUTPOST_BENCH_LEARNERS (default 10000).

#[path = "../../xtask/src/bench_report.rs"]
mod bench_report;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/dashboard_support/mod.rs"]
mod dashboard_support;

use common::{publisher_key, Backend, Fixture};
use dashboard_support::{Web, PASSWORD};
use outpost_hub::dashboard::queries;
use outpost_hub::db::Mode;
use outpost_hub::hub::{now_ms, Hub};
use outpost_hub::params;
use outpost_model::{Event, EventKind};
use outpost_protocol::{EnrollRequest, PushRequest, PROTOCOL_VERSION};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const COURSES: [&str; 3] = ["demo", "demo-b", "demo-c"];
/// Concurrent learners while seeding.
const SEEDERS: usize = 8;

/// The events of learner `i` in `course`: how far they got depends on `i`,
/// so every state of the matrix occurs.
fn events_for(i: usize, j: usize, profile: Uuid, device: Uuid, seq: &mut u64) -> Vec<Event> {
    let course = COURSES[j];
    let level = (i * 7 + j * 3) % 6;
    let mut t =
        chrono::Utc::now() - chrono::Duration::days(40) + chrono::Duration::hours((i % 900) as i64);
    let mut out = Vec::new();
    let mut ev = |activity: &str, kind: EventKind| {
        *seq += 1;
        t += chrono::Duration::minutes(5);
        out.push(Event {
            id: Uuid::now_v7(),
            learner_id: profile,
            device_id: device,
            seq: *seq,
            course_id: course.into(),
            course_version: "1.0.0".into(),
            activity_id: activity.into(),
            timestamp: t,
            kind,
        });
    };
    let view = |end: bool| EventKind::LessonViewed {
        seconds: 300,
        position: if end { 1.0 } else { 0.4 },
        reached_end: end,
    };
    let submit = |answers: &[(&str, &str)]| EventKind::QuizSubmitted {
        attempt: Uuid::now_v7(),
        seconds: 240,
        questions: answers.iter().map(|(q, _)| q.to_string()).collect(),
        responses: answers
            .iter()
            .map(|(q, a)| (q.to_string(), a.split(',').map(str::to_string).collect()))
            .collect::<BTreeMap<_, _>>(),
    };
    let pick = |opts: &[&'static str]| opts[i % opts.len()];
    if level >= 1 {
        ev("l1", view(level > 1));
    }
    if level >= 2 {
        ev("l2", view(true));
        ev("l3", view(true));
    }
    if level >= 3 {
        ev(
            "m2-quiz",
            submit(&[
                ("quiz-q1", pick(&["b", "b", "c", "a"])),
                ("quiz-q2", pick(&["a,c", "a", "a,c"])),
            ]),
        );
    }
    if level >= 4 {
        let bank = ["bank-1", "bank-2", "bank-3", "bank-4", "bank-5", "bank-6"];
        let drawn: Vec<&str> = (0..4).map(|k| bank[(i + k) % 6]).collect();
        let answers: Vec<(&str, &str)> = drawn
            .iter()
            .map(|q| {
                let a = match *q {
                    "bank-1" => pick(&["a", "a", "b"]),
                    "bank-2" => pick(&["b", "c"]),
                    "bank-3" => pick(&["c", "c", "c", "a"]),
                    "bank-4" => pick(&["a", "a", "b"]),
                    "bank-5" => pick(&["a,b", "a"]),
                    _ => pick(&["a", "d"]),
                };
                (*q, a)
            })
            .collect();
        ev("final", submit(&answers));
    }
    out
}

async fn enrol_and_sync(hub: Arc<Hub>, code: String, i: usize) {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let (device, profile) = (Uuid::new_v4(), Uuid::new_v4());
    let res = hub
        .enroll(EnrollRequest {
            protocol: PROTOCOL_VERSION,
            code,
            device_id: device,
            device_name: format!("Post laptop {i}"),
            device_public_key: hex::encode(key.verifying_key().as_bytes()),
            learner_id: profile,
            learner_name: format!("Learner {i:05}"),
            email: None,
            language: if i.is_multiple_of(3) {
                "fr".into()
            } else {
                "en".into()
            },
        })
        .await
        .expect("enrol");
    let caller = hub.authenticate(&res.device_token).await.expect("token");
    let mut seq = 0;
    let mut events = Vec::new();
    for j in 0..COURSES.len() {
        events.extend(events_for(i, j, profile, device, &mut seq));
    }
    if events.is_empty() {
        return;
    }
    let out = hub
        .push(
            &caller,
            PushRequest {
                protocol: PROTOCOL_VERSION,
                device_time: chrono::Utc::now(),
                pending_after: Some((i % 4) as u64),
                events,
            },
        )
        .await
        .expect("push");
    assert!(out
        .results
        .iter()
        .all(|r| r.status == outpost_protocol::EventStatus::Accepted));
}

struct Seeded {
    f: Fixture,
    /// The big cohort (half the learners) and a post of 500.
    hq: String,
    post: String,
    a_learner: Uuid,
    seconds: f64,
    counts: Vec<(&'static str, i64)>,
}

async fn seed(backend: Backend, learners: usize) -> Seeded {
    let started = Instant::now();
    let f = Fixture::new(backend).await;
    let hub = f.hub().clone();
    let dir = f.place.dir.path().to_path_buf();
    for c in &COURSES[1..] {
        let mut content = outpost_package::sample::content("1.0.0");
        content.manifest.id = c.to_string();
        content.structure.id = c.to_string();
        let path = dir.join(format!("{c}.opkg"));
        outpost_package::write_package(&path, &content, &publisher_key()).unwrap();
        hub.publish_file(&path, &publisher_key().verifying_key())
            .await
            .unwrap();
    }
    hub.create_user("ada", "admin", PASSWORD).await.unwrap();
    hub.create_user("tina", "trainer", PASSWORD).await.unwrap();
    // Half the learners in one cohort, the rest in posts of 500 (or fewer).
    let mut plan: Vec<(String, usize)> = vec![("HQ".into(), learners / 2)];
    let mut rest = learners - learners / 2;
    let mut n = 1;
    while rest > 0 {
        let size = rest.min(500);
        plan.push((format!("Post {n:02}"), size));
        rest -= size;
        n += 1;
    }
    let mut i = 0;
    for (k, (name, size)) in plan.iter().enumerate() {
        let trainer = if k == 1 { Some("tina") } else { None };
        hub.create_cohort(name, trainer).await.unwrap();
        for (j, c) in COURSES.iter().enumerate() {
            // Some courses are past due, so there are overdue learners.
            let due = chrono::NaiveDate::from_ymd_opt(if j == 0 { 2020 } else { 2030 }, 6, 30);
            hub.assign(name, c, due).await.unwrap();
        }
        let code = hub.create_code(name, *size as u32, None).await.unwrap();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..*size {
            if set.len() >= SEEDERS {
                set.join_next().await.unwrap().unwrap();
            }
            set.spawn(enrol_and_sync(hub.clone(), code.clone(), i));
            i += 1;
        }
        while let Some(r) = set.join_next().await {
            r.unwrap();
        }
    }
    // A fifth of the devices last synced 30 days ago.
    let mut w = hub.db.begin(Mode::Write).await.unwrap();
    w.exec(
        "UPDATE devices SET last_sync_ms = $1 WHERE id < $2",
        params![now_ms() - 30 * 86_400_000, "33333333"],
    )
    .await
    .unwrap();
    w.commit().await.unwrap();
    let mut tx = hub.db.begin(Mode::Read).await.unwrap();
    let id_of = |rows: Vec<outpost_hub::db::Row>| rows[0].text(0).unwrap();
    let hq = id_of(
        tx.query("SELECT id FROM cohorts WHERE name = 'HQ'", vec![])
            .await
            .unwrap(),
    );
    let post = id_of(
        tx.query("SELECT id FROM cohorts WHERE name = 'Post 01'", vec![])
            .await
            .unwrap(),
    );
    let a_learner = tx
        .query(
            "SELECT hub_learner_id FROM events WHERE kind = 'quiz_submitted' ORDER BY id LIMIT 1",
            vec![],
        )
        .await
        .unwrap()[0]
        .uuid(0)
        .unwrap();
    drop(tx);
    let mut counts = Vec::new();
    for table in ["learners", "devices", "events", "progress", "quiz_answers"] {
        counts.push((table, common::count(hub.db.as_ref(), table).await));
    }
    Seeded {
        f,
        hq,
        post,
        a_learner,
        seconds: started.elapsed().as_secs_f64(),
        counts,
    }
}

/// Median and slowest of `runs` runs.
async fn time<F, Fut>(runs: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm caches and prepared statements
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

macro_rules! q {
    ($hub:expr, |$tx:ident| $body:expr) => {{
        let hub = $hub.clone();
        move || {
            let hub = hub.clone();
            async move {
                let mut t = hub.db.begin(Mode::Read).await.unwrap();
                let $tx = t.as_mut();
                $body.await.unwrap();
            }
        }
    }};
}

async fn measure(s: &Seeded, runs: usize) -> Vec<(String, (Duration, Duration))> {
    let hub = s.f.hub().clone();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let cutoff = now_ms() - 14 * 86_400_000;
    let (hq, post, learner) = (s.hq.clone(), s.post.clone(), s.a_learner);
    let hq_size = queries::course_stats(
        hub.db.begin(Mode::Read).await.unwrap().as_mut(),
        &hq,
        "demo",
    )
    .await
    .unwrap()
    .learners;
    let post_size = queries::course_stats(
        hub.db.begin(Mode::Read).await.unwrap().as_mut(),
        &post,
        "demo",
    )
    .await
    .unwrap()
    .learners;
    let last_page = ((hq_size - 1) / 50 * 50).max(0);
    let mut out = Vec::new();
    macro_rules! m {
        ($name:expr, $f:expr) => {
            out.push(($name.to_string(), time(runs, $f).await));
        };
    }
    let (h, c, td) = (hq.as_str(), post.as_str(), today.as_str());
    m!(
        format!("course results, cohort of {hq_size}"),
        q!(hub, |tx| queries::course_stats(tx, h, "demo"))
    );
    m!(
        "matrix, first page of 50",
        q!(hub, |tx| queries::matrix(tx, h, "demo", 50, 0))
    );
    m!(
        "matrix, last page of 50",
        q!(hub, |tx| queries::matrix(tx, h, "demo", 50, last_page))
    );
    m!(
        "members, first page of 50",
        q!(hub, |tx| queries::members(tx, h, 50, 0))
    );
    m!(
        "completions by day (plot)",
        q!(hub, |tx| queries::completions_by_day(tx, h, "demo"))
    );
    m!(
        "best scores (plot)",
        q!(hub, |tx| queries::best_scores(tx, h, "demo"))
    );
    m!(
        format!("course results, cohort of {post_size}"),
        q!(hub, |tx| queries::course_stats(tx, c, "demo"))
    );
    m!(
        "overdue, all cohorts, page + count",
        q!(hub, |tx| queries::overdue(tx, None, None, td, 50, 0))
    );
    m!(
        "overdue, one trainer's cohort",
        q!(hub, |tx| queries::overdue(
            tx,
            Some("tina"),
            None,
            td,
            50,
            0
        ))
    );
    m!(
        "silent devices (14 days), page + count",
        q!(hub, |tx| queries::silent(tx, None, cutoff, 50, 0))
    );
    m!(
        "silent devices by cohort",
        q!(hub, |tx| queries::silent_by_cohort(tx, None, cutoff))
    );
    m!(
        "item analysis, one version, all learners",
        q!(hub, |tx| queries::answer_counts(
            tx, None, None, "demo", "1.0.0"
        ))
    );
    m!(
        "item analysis, one trainer's learners",
        q!(hub, |tx| queries::answer_counts(
            tx,
            Some("tina"),
            None,
            "demo",
            "1.0.0"
        ))
    );
    m!(
        "versions in use",
        q!(hub, |tx| queries::versions_in_use(tx, None))
    );
    m!(
        "cohorts list",
        q!(hub, |tx| queries::cohorts(tx, None, 50, 0))
    );
    m!("learner: courses, devices, attempts", {
        let hub = hub.clone();
        move || {
            let hub = hub.clone();
            async move {
                let mut t = hub.db.begin(Mode::Read).await.unwrap();
                queries::learner_progress(t.as_mut(), learner)
                    .await
                    .unwrap();
                queries::learner_devices(t.as_mut(), learner).await.unwrap();
                queries::learner_attempts(t.as_mut(), learner, 100)
                    .await
                    .unwrap();
            }
        }
    });
    // Whole pages over HTTP, rendering included.
    let web = Arc::new(Web::login(&s.f.server.url(), "ada", PASSWORD).await);
    for (name, path) in [
        (
            format!("page: cohort overview ({hq_size} learners)"),
            format!("/dashboard/cohorts/{hq}"),
        ),
        (
            "page: matrix CSV of the whole cohort".to_string(),
            format!("/dashboard/cohorts/{hq}?format=csv&table=matrix"),
        ),
        (
            "page: item analysis".to_string(),
            "/dashboard/items?course=demo&version=1.0.0".to_string(),
        ),
        (
            "page: silent devices".to_string(),
            "/dashboard/silent?days=14".to_string(),
        ),
        (
            "page: learner detail".to_string(),
            format!("/dashboard/learners/{learner}"),
        ),
    ] {
        let web = web.clone();
        m!(name, move || {
            let web = web.clone();
            let path = path.clone();
            async move {
                let res = web.get(&path).await;
                assert_eq!(res.status(), 200, "{path}");
                res.bytes().await.unwrap();
            }
        });
    }
    out
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let learners = std::env::var("OUTPOST_BENCH_LEARNERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 10_000 } else { 60 });
    let runs = if measuring { 9 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut results = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (s, m) = rt.block_on(async {
            let s = seed(backend, learners).await;
            eprintln!("{backend:?}: seeded in {:.0} s: {:?}", s.seconds, s.counts);
            let m = measure(&s, runs).await;
            (s, m)
        });
        results.push((backend, s.seconds, s.counts.clone(), m));
        drop(s);
    }
    let mut md = format!(
        "### Dashboard reports ({learners} learners × 3 courses; median and slowest of {runs} runs)\n\n"
    );
    for (b, secs, counts, _) in &results {
        let c: Vec<String> = counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
        md.push_str(&format!(
            "- {b:?}: seeded through enrolment and ingest in {secs:.0} s: {}\n",
            c.join(", ")
        ));
    }
    md.push_str("\n| report | SQLite median | SQLite max | PostgreSQL median | PostgreSQL max |\n| --- | --- | --- | --- | --- |\n");
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
    if let [(_, _, _, a), (_, _, _, b)] = &results[..] {
        for ((name, (am, ax)), (_, (bm, bx))) in a.iter().zip(b.iter()) {
            md.push_str(&format!(
                "| {name} | {} | {} | {} | {} |\n",
                ms(*am),
                ms(*ax),
                ms(*bm),
                ms(*bx)
            ));
        }
    }
    md.push_str(
        "\nQueries run in one read transaction each; pages are whole HTTP requests over loopback \
         (session check, queries, HTML or CSV). The throwaway PostgreSQL cluster runs with `fsync=off`.\n",
    );
    println!("\n{md}");
    if !measuring {
        return;
    }
    bench_report::write("hub-dashboard", &md);
}
