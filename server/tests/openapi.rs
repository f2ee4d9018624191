//! `docs/openapi.json` parses, describes exactly the hub's JSON routes, each
//! of them is served, and its schemas agree with the frozen wire types.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

fn doc() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let text = std::fs::read_to_string(path).expect("docs/openapi.json exists");
    serde_json::from_str(&text).expect("docs/openapi.json is valid JSON")
}

#[test]
fn it_lists_every_route_and_no_other() {
    let d = doc();
    assert_eq!(d["openapi"], "3.0.3");
    let mut documented = BTreeSet::new();
    for (path, ops) in d["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = outpost_hub::JSON_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);
}

#[test]
fn every_reference_resolves() {
    let d = doc();
    let text = d.to_string();
    let schemas = d["components"]["schemas"].as_object().unwrap();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}

/// Keys of a serialised message are the schema's properties, and every
/// required one is there.
fn agrees(schema: &str, message: &Value) {
    let d = doc();
    let s = &d["components"]["schemas"][schema];
    let props = s["properties"].as_object().unwrap();
    let keys: BTreeSet<&String> = message.as_object().unwrap().keys().collect();
    for k in &keys {
        assert!(
            props.contains_key(*k),
            "{schema}: {k} is sent but not documented"
        );
    }
    for r in s["required"].as_array().unwrap() {
        assert!(
            keys.contains(&r.as_str().unwrap().to_string()),
            "{schema}: required {r} is not sent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schemas_match_what_the_hub_sends_and_every_route_is_served() {
    let f = Fixture::new(Backend::Sqlite).await;
    let (_, req) = Device::request("Amina", &f.code, Some("a@example.org"));
    agrees("EnrollRequest", &serde_json::to_value(&req).unwrap());
    let mut d = f.device("Amina", None).await;
    agrees(
        "EnrollResponse",
        &serde_json::to_value(&d.enrolled).unwrap(),
    );
    let events = d.whole_course();
    let body = d.push_body(&events);
    agrees("PushRequest", &serde_json::to_value(&body).unwrap());
    for e in &events {
        agrees("Event", &serde_json::to_value(e).unwrap());
    }
    let res = d.push(&events).await;
    agrees("PushResponse", &serde_json::to_value(&res).unwrap());
    agrees(
        "EventResult",
        &serde_json::to_value(&res.results[0]).unwrap(),
    );
    let page = d.pull("", 10).await;
    let v = serde_json::to_value(&page).unwrap();
    agrees("PullResponse", &v);
    agrees("CourseUpdate", &v["courses"][0]);
    agrees("Confirmed", &v["confirmed"][0]);
    agrees("Assignment", &v["assignments"][0]);

    // Each documented route answers from its handler, not the fallback.
    for (method, path) in outpost_hub::JSON_ROUTES {
        let url = f.url(
            &path
                .replace("{course_id}", "demo")
                .replace("{version}", "1.0.0"),
        );
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = f.http.request(m, &url).send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(
            status != 405 && !text.contains("no such resource"),
            "{method} {path}: {status} {text}"
        );
    }
}
