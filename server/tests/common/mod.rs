//! The test harness: a real hub on 127.0.0.1 over real HTTP, on either
//! backend, with the sample course published, a cohort and a code; and
//! devices that enrol and push like the sync client will.

#![allow(dead_code)]

pub mod pg;

use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::SigningKey;
use outpost_hub::db::{Database, Mode};
use outpost_hub::hub::{Config, Hub};
use outpost_hub::{params, Running};
use outpost_model::{Event, EventKind};
use outpost_protocol::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where one test's data lives; several hub instances can open it.
pub struct Place {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub pg_url: Option<String>,
}

impl Place {
    pub async fn new(backend: Backend) -> Place {
        let dir = tempfile::tempdir().unwrap();
        let pg_url = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(pg::fresh_database().await),
        };
        Place {
            backend,
            dir,
            pg_url,
        }
    }

    pub fn storage(&self) -> outpost_hub::Storage {
        outpost_hub::Storage::choose(self.dir.path(), self.pg_url.as_deref()).unwrap()
    }

    pub async fn open_db(&self) -> Arc<dyn Database> {
        self.storage().open().await.unwrap()
    }

    /// A new hub instance on this place, serving on a free port.
    pub async fn instance(&self) -> Running {
        let mut config = Config::new("http://hub.test");
        // The tests hammer the hub; the rate limit has its own test.
        config.rate_per_second = 1e6;
        config.rate_burst = 1e6;
        let hub = Hub::new(self.open_db().await, config).await.unwrap();
        outpost_hub::spawn(Arc::new(hub)).await.unwrap()
    }
}

pub fn publisher_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// Build the sample course at `version`, verify and publish it.
pub async fn publish_sample(hub: &Hub, dir: &std::path::Path, version: &str) -> PathBuf {
    let path = dir.join(format!("demo-{version}.opkg"));
    outpost_package::write_package(
        &path,
        &outpost_package::sample::content(version),
        &publisher_key(),
    )
    .unwrap();
    hub.publish_file(&path, &publisher_key().verifying_key())
        .await
        .unwrap();
    path
}

/// A ready hub: sample course 1.0.0 published, cohort "Dakar" with a code
/// for 50 learners.
pub struct Fixture {
    pub place: Place,
    pub server: Running,
    pub code: String,
    pub package: PathBuf,
    pub http: reqwest::Client,
}

impl Fixture {
    pub async fn new(backend: Backend) -> Fixture {
        let place = Place::new(backend).await;
        let server = place.instance().await;
        let package = publish_sample(&server.hub, place.dir.path(), "1.0.0").await;
        server.hub.create_cohort("Dakar", None).await.unwrap();
        server
            .hub
            .assign(
                "Dakar",
                "demo",
                chrono::NaiveDate::from_ymd_opt(2027, 1, 31),
            )
            .await
            .unwrap();
        let code = server.hub.create_code("Dakar", 50, None).await.unwrap();
        Fixture {
            place,
            server,
            code,
            package,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// POST an enrolment request as a client would, whatever the answer.
    pub async fn post_enroll(&self, req: &EnrollRequest) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/enroll"))
            .json(req)
            .send()
            .await
            .unwrap()
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.server.hub
    }

    /// Enrol a new device with one profile.
    pub async fn device(&self, name: &str, email: Option<&str>) -> Device {
        Device::enroll(&self.http, &self.server.url(), &self.code, name, email).await
    }

    pub async fn count(&self, table: &str) -> i64 {
        count(self.hub().db.as_ref(), table).await
    }
}

pub async fn count(db: &dyn Database, table: &str) -> i64 {
    let mut tx = db.begin(Mode::Read).await.unwrap();
    let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}");
    tx.query(&sql, params![]).await.unwrap()[0].i64(0).unwrap()
}

/// A device with one enrolled learner profile: makes events as the learner
/// core will, and speaks the protocol.
pub struct Device {
    pub key: SigningKey,
    pub device_id: Uuid,
    pub profile_id: Uuid,
    pub enrolled: EnrollResponse,
    pub seq: u64,
    pub clock: DateTime<Utc>,
    pub base: String,
    pub http: reqwest::Client,
}

impl Device {
    pub fn request(name: &str, code: &str, email: Option<&str>) -> (SigningKey, EnrollRequest) {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let req = EnrollRequest {
            protocol: PROTOCOL_VERSION,
            code: code.into(),
            device_id: Uuid::new_v4(),
            device_name: format!("{name}'s laptop"),
            device_public_key: hex::encode(key.verifying_key().as_bytes()),
            learner_id: Uuid::new_v4(),
            learner_name: name.into(),
            email: email.map(str::to_string),
            language: "en".into(),
        };
        (key, req)
    }

    pub async fn enroll(
        http: &reqwest::Client,
        base: &str,
        code: &str,
        name: &str,
        email: Option<&str>,
    ) -> Device {
        let (key, req) = Device::request(name, code, email);
        let res = http
            .post(format!("{base}/api/v1/enroll"))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let enrolled: EnrollResponse = res.json().await.unwrap();
        Device {
            key,
            device_id: req.device_id,
            profile_id: req.learner_id,
            enrolled,
            seq: 0,
            clock: Utc::now() - Duration::hours(2),
            base: base.to_string(),
            http: http.clone(),
        }
    }

    pub fn token(&self) -> &str {
        &self.enrolled.device_token
    }

    pub fn event(&mut self, activity: &str, kind: EventKind) -> Event {
        self.seq += 1;
        self.clock += Duration::seconds(30);
        Event {
            id: Uuid::now_v7(),
            learner_id: self.profile_id,
            device_id: self.device_id,
            seq: self.seq,
            course_id: "demo".into(),
            course_version: "1.0.0".into(),
            activity_id: activity.into(),
            timestamp: self.clock,
            kind,
        }
    }

    pub fn view(&mut self, lesson: &str, end: bool) -> Event {
        self.event(
            lesson,
            EventKind::LessonViewed {
                seconds: 60,
                position: if end { 1.0 } else { 0.5 },
                reached_end: end,
            },
        )
    }

    pub fn submit(&mut self, quiz: &str, answers: &[(&str, &str)]) -> Event {
        self.event(
            quiz,
            EventKind::QuizSubmitted {
                attempt: Uuid::now_v7(),
                seconds: 120,
                questions: answers.iter().map(|(q, _)| q.to_string()).collect(),
                responses: answers
                    .iter()
                    .map(|(q, a)| (q.to_string(), a.split(',').map(str::to_string).collect()))
                    .collect::<BTreeMap<_, _>>(),
            },
        )
    }

    /// Everything a learner does to finish the demo course (and pass).
    pub fn whole_course(&mut self) -> Vec<Event> {
        vec![
            self.view("l1", true),
            self.view("l2", true),
            self.view("l3", true),
            self.submit("m2-quiz", &[("quiz-q1", "b"), ("quiz-q2", "a,c")]),
            self.submit(
                "final",
                &[
                    ("bank-1", "a"),
                    ("bank-2", "b"),
                    ("bank-3", "c"),
                    ("bank-4", "a"),
                ],
            ),
        ]
    }

    pub fn push_body(&self, events: &[Event]) -> PushRequest {
        PushRequest {
            protocol: PROTOCOL_VERSION,
            device_time: Utc::now(),
            pending_after: Some(0),
            events: events.to_vec(),
        }
    }

    /// Push gzip-compressed; the hub's answer.
    pub async fn push(&self, events: &[Event]) -> PushResponse {
        let res = self
            .push_raw(&serde_json::to_vec(&self.push_body(events)).unwrap(), true)
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    pub async fn push_raw(&self, json: &[u8], gzip: bool) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base))
            .bearer_auth(self.token())
            .header("content-type", "application/json");
        let body = if gzip {
            req = req.header("content-encoding", "gzip");
            gzip_bytes(json)
        } else {
            json.to_vec()
        };
        req.body(body).send().await.unwrap()
    }

    pub async fn pull(&self, cursor: &str, limit: u32) -> PullResponse {
        let res = self
            .http
            .get(format!(
                "{}/api/v1/sync/pull?cursor={cursor}&limit={limit}",
                self.base
            ))
            .bearer_auth(self.token())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// Pull the whole feed, page by page.
    pub async fn pull_all(&self, limit: u32) -> (Vec<Event>, PullResponse) {
        let mut cursor = String::new();
        let mut events = Vec::new();
        loop {
            let page = self.pull(&cursor, limit).await;
            events.extend(page.events.iter().cloned());
            cursor = page.cursor.clone();
            if !page.more {
                return (events, page);
            }
        }
    }
}

pub fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn statuses(res: &PushResponse) -> Vec<&'static str> {
    res.results
        .iter()
        .map(|r| match r.status {
            EventStatus::Accepted => "accepted",
            EventStatus::Duplicate => "duplicate",
            EventStatus::Conflict => "conflict",
            EventStatus::Rejected { .. } => "rejected",
        })
        .collect()
}

/// Both backends run every test of a suite: `both!(name, …)` makes
/// `sqlite::name` and `postgres::name` from `async fn name(Backend)`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}
