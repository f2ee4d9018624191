//! The xAPI statements resource, with our own requests and with a real
//! third-party client (`tincan` from PyPI).

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

both!(
    statements_are_stored_read_queried_and_voided,
    device_events_are_readable_as_statements,
    a_real_tincan_client_works,
);

struct Lrs {
    f: Fixture,
    key: String,
    secret: String,
}

impl Lrs {
    async fn new(b: Backend) -> Lrs {
        let f = Fixture::new(b).await;
        let (key, secret) = f.hub().create_xapi_credential("bi-tool").await.unwrap();
        Lrs { f, key, secret }
    }

    fn req(&self, method: reqwest::Method, query: &str) -> reqwest::RequestBuilder {
        self.f
            .http
            .request(method, self.f.url(&format!("/xapi/statements{query}")))
            .basic_auth(&self.key, Some(&self.secret))
            .header("X-Experience-API-Version", "1.0.3")
    }

    async fn get(&self, query: &str) -> (StatusCode, Value) {
        let res = self.req(reqwest::Method::GET, query).send().await.unwrap();
        let status = res.status();
        assert_eq!(res.headers()["x-experience-api-version"], "1.0.3");
        if status == 200 {
            assert!(res
                .headers()
                .contains_key("x-experience-api-consistent-through"));
        }
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

fn statement(n: u32) -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": format!("mailto:learner{n}@example.org")},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
        "object": {"id": format!("http://example.org/course/{n}"), "definition": {"name": {"en-US": "A course"}}},
        "result": {"completion": true, "score": {"scaled": 0.9}},
    })
}

async fn statements_are_stored_read_queried_and_voided(b: Backend) {
    let l = Lrs::new(b).await;
    // The version header is required on requests.
    let res =
        l.f.http
            .get(l.f.url("/xapi/statements"))
            .basic_auth(&l.key, Some(&l.secret))
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 400);
    // Credentials are required.
    let res =
        l.f.http
            .get(l.f.url("/xapi/statements"))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await
            .unwrap();
    assert_eq!(res.status(), 401);
    let res = l.f.http.get(l.f.url("/xapi/about")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["version"],
        json!(["1.0.3"])
    );

    // POST an array: ids come back in order.
    let res = l
        .req(reqwest::Method::POST, "")
        .json(&json!([statement(1), statement(2), statement(3)]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let ids: Vec<String> = res.json().await.unwrap();
    assert_eq!(ids.len(), 3);

    // PUT with an id, twice the same (204), then different content (409).
    let id = uuid::Uuid::new_v4();
    for _ in 0..2 {
        let res = l
            .req(reqwest::Method::PUT, &format!("?statementId={id}"))
            .json(&statement(4))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204);
    }
    let res = l
        .req(reqwest::Method::PUT, &format!("?statementId={id}"))
        .json(&statement(5))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let (status, s) = l.get(&format!("?statementId={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(s["object"]["id"], "http://example.org/course/4");
    assert!(s["stored"].is_string() && s["authority"].is_object());

    // Two statements of one id in one request, invalid statements: 400.
    let dup = json!([
        dict_with_id(statement(6), id),
        dict_with_id(statement(7), id)
    ]);
    assert_eq!(
        l.req(reqwest::Method::POST, "")
            .json(&dup)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let mut bad = statement(8);
    bad["verb"]["id"] = json!("completed");
    let res = l
        .req(reqwest::Method::POST, "")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let reason = res.json::<Value>().await.unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("verb.id must be an IRI"), "{reason}");
    // A batch where one statement is bad stores none of it.
    let before = l.f.count("statements").await;
    let mixed = json!([statement(9), bad]);
    assert_eq!(
        l.req(reqwest::Method::POST, "")
            .json(&mixed)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(l.f.count("statements").await, before);

    // Filters, order and paging with `more` (tincan asks for `statements?`).
    let agent = json!({"mbox": "mailto:learner2@example.org"}).to_string();
    let (_, r) = l.get(&format!("?agent={}", urlenc(&agent))).await;
    assert_eq!(r["statements"].as_array().unwrap().len(), 1);
    assert_eq!(r["statements"][0]["id"], ids[1].as_str());
    let (_, r) = l
        .get("?verb=http%3A%2F%2Fadlnet.gov%2Fexpapi%2Fverbs%2Fcompleted&limit=2&ascending=true")
        .await;
    assert_eq!(r["statements"][0]["id"], ids[0].as_str(), "oldest first");
    let more = r["more"].as_str().unwrap().to_string();
    assert!(more.starts_with("/xapi/statements?"));
    let res =
        l.f.http
            .get(l.f.url(&more))
            .basic_auth(&l.key, Some(&l.secret))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await
            .unwrap();
    let page2: Value = res.json().await.unwrap();
    assert_eq!(page2["statements"][0]["id"], ids[2].as_str());
    assert_eq!(page2["statements"].as_array().unwrap().len(), 2);
    assert_eq!(page2["more"], "");
    let (status, _) = l.get("?").await;
    assert_eq!(status, 200);
    let (status, _) = l.get("?since=yesterday").await;
    assert_eq!(status, 400);

    // Voiding: the target disappears from queries and reads only as voided.
    let void = json!({
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": ids[0]},
    });
    let res = l
        .req(reqwest::Method::POST, "")
        .json(&void)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let void_id: Vec<String> = res.json().await.unwrap();
    let (status, _) = l.get(&format!("?statementId={}", ids[0])).await;
    assert_eq!(status, 404);
    let (status, s) = l.get(&format!("?voidedStatementId={}", ids[0])).await;
    assert_eq!(status, 200);
    assert_eq!(s["id"], ids[0].as_str());
    let (_, all) = l.get("?limit=100").await;
    let listed: Vec<&str> = all["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(!listed.contains(&ids[0].as_str()));
    assert!(
        listed.contains(&void_id[0].as_str()),
        "the voiding statement is listed"
    );
    // A voiding statement cannot itself be voided.
    let mut void2 = void.clone();
    void2["object"]["id"] = json!(void_id[0]);
    assert_eq!(
        l.req(reqwest::Method::POST, "")
            .json(&void2)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
}

fn dict_with_id(mut s: Value, id: uuid::Uuid) -> Value {
    s["id"] = json!(id);
    s
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn device_events_are_readable_as_statements(b: Backend) {
    let l = Lrs::new(b).await;
    let mut d = l.f.device("Amina", None).await;
    let events = d.whole_course();
    d.push(&events).await;
    let (status, s) = l.get(&format!("?statementId={}", events[4].id)).await;
    assert_eq!(status, 200);
    assert_eq!(s["verb"]["id"], "http://adlnet.gov/expapi/verbs/passed");
    assert_eq!(
        s["actor"]["account"]["name"],
        d.enrolled.learner_id.to_string()
    );
    assert_eq!(s["actor"]["account"]["homePage"], "http://hub.test");
    assert_eq!(s["result"]["score"]["raw"], 3);
    assert!(s["stored"].is_string());
    // All of a learner's statements by their agent.
    let agent = json!({"account": {"homePage": "http://hub.test", "name": d.enrolled.learner_id.to_string()}});
    let (_, r) = l
        .get(&format!("?agent={}&limit=0", urlenc(&agent.to_string())))
        .await;
    assert_eq!(r["statements"].as_array().unwrap().len(), 5);
    // Re-posting a device statement as it is changes nothing.
    let res = l
        .req(reqwest::Method::POST, "")
        .json(&s)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(l.f.count("statements").await, 5);
}

/// The tincan venv, made once per target dir: `python3 -m venv` and
/// `pip install tincan==1.0.0` from PyPI.
fn tincan_python() -> PathBuf {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tincan-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".tincan-installed");
    if !ready.exists() {
        let run = |c: &mut Command, what: &str| {
            let out = c
                .output()
                .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
            assert!(
                out.status.success(),
                "{what} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv (needs python3-venv)",
        );
        run(
            Command::new(&python).args(["-m", "pip", "install", "--quiet", "tincan==1.0.0"]),
            "pip install tincan (needs PyPI)",
        );
        std::fs::write(&ready, "").unwrap();
    }
    python
}

async fn a_real_tincan_client_works(b: Backend) {
    let l = Lrs::new(b).await;
    let mut d = l.f.device("Amina", None).await;
    let e = d.view("l1", true);
    d.push(std::slice::from_ref(&e)).await;
    let python = tokio::task::spawn_blocking(tincan_python).await.unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tincan_client.py");
    let endpoint = l.f.url("/xapi/");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .args([endpoint.as_str(), &l.key, &l.secret, &e.id.to_string()])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "tincan client failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
