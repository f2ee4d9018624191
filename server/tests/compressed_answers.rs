//! Push and pull answers go gzip-compressed to clients that ask for it
//! (most of a sync's bytes on a slow link were these answers), plain JSON
//! to those that do not; course packages are never compressed, so byte
//! ranges keep counting the file's bytes.

mod common;

use common::*;
use outpost_protocol::{EventStatus, PullResponse, PushResponse};
use std::io::Read;

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_gzipped_for_clients_that_ask_and_packages_never() {
    let f = Fixture::new(Backend::Sqlite).await;
    let mut d = f.device("Amina", None).await;
    let events: Vec<_> = (0..200)
        .map(|i| d.view(["l1", "l2"][i % 2], false))
        .collect();
    // A client that shows the bytes as they came.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();

    let body = gzip_bytes(&serde_json::to_vec(&d.push_body(&events)).unwrap());
    let res = raw
        .post(f.url("/api/v1/sync/push"))
        .bearer_auth(d.token())
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("accept-encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let wire = res.bytes().await.unwrap();
    let json = gunzip(&wire);
    assert!(
        wire.len() * 2 < json.len(),
        "{} bytes on the wire for {} of JSON",
        wire.len(),
        json.len()
    );
    let answer: PushResponse = serde_json::from_slice(&json).unwrap();
    assert_eq!(answer.results.len(), 200);
    assert!(answer
        .results
        .iter()
        .all(|r| r.status == EventStatus::Accepted));

    // The same learner's other device pulls: compressed when asked, plain
    // JSON when not, the same feed either way.
    let other = f.device("Amina again", None).await;
    let pull = |gzip: bool| {
        let mut req = raw
            .get(f.url("/api/v1/sync/pull?limit=1000"))
            .bearer_auth(other.token());
        if gzip {
            req = req.header("accept-encoding", "gzip");
        }
        req.send()
    };
    let plain = pull(false).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain: PullResponse = serde_json::from_slice(&plain.bytes().await.unwrap()).unwrap();
    let zipped = pull(true).await.unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let zipped: PullResponse =
        serde_json::from_slice(&gunzip(&zipped.bytes().await.unwrap())).unwrap();
    assert_eq!(plain.courses, zipped.courses);
    assert_eq!(plain.cursor, zipped.cursor);

    // A package range asked for with gzip accepted: the file's own bytes.
    let file = std::fs::read(&f.package).unwrap();
    let res = raw
        .get(f.url("/api/v1/courses/demo/1.0.0/package"))
        .bearer_auth(d.token())
        .header("accept-encoding", "gzip")
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.unwrap().as_ref(), &file[100..200]);
}
