//! Serving: TLS through rustls with a certificate and key, and the rate
//! limit that stops a runaway client.

mod common;

use common::*;
use outpost_hub::hub::{Config, Hub};
use std::process::Command;
use std::sync::Arc;

/// A self-signed server certificate for 127.0.0.1, made with the `openssl`
/// command (an end-entity certificate, not a CA, as rustls requires).
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let conf = dir.join("openssl.cnf");
    std::fs::write(
        &conf,
        "[req]\ndistinguished_name = dn\nx509_extensions = v3\nprompt = no\n\
         [dn]\nCN = 127.0.0.1\n\
         [v3]\nbasicConstraints = critical, CA:FALSE\nsubjectAltName = IP:127.0.0.1\n\
         keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-config"])
        .arg(&conf)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command makes the test certificate");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_certificate_and_key() {
    let place = Place::new(Backend::Sqlite).await;
    let (cert, key) = self_signed(place.dir.path());
    let hub = Arc::new(
        Hub::new(place.open_db().await, Config::new("https://127.0.0.1"))
            .await
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(outpost_hub::serve(
        listener,
        outpost_hub::app(hub),
        Some(outpost_hub::Tls {
            cert: cert.clone(),
            key,
        }),
        async {
            let _ = stopped.await;
        },
    ));
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&cert).unwrap()).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let mut answer = Err(String::new());
    for _ in 0..50 {
        if server.is_finished() {
            panic!("the TLS server stopped: {:?}", server.await);
        }
        match https
            .get(format!("https://{addr}/api/v1/ping"))
            .send()
            .await
        {
            Ok(r) => {
                answer = Ok(r);
                break;
            }
            Err(e) => {
                answer = Err(format!("{e:?}"));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
        }
    }
    let r = answer.unwrap_or_else(|e| panic!("the hub does not answer over TLS: {e}"));
    assert_eq!(r.status(), 200);
    let ping: outpost_protocol::Ping = r.json().await.unwrap();
    assert_eq!(ping.protocol, 1);
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::get(format!("http://{addr}/api/v1/ping")).await;
    assert!(!plain.is_ok_and(|r| r.status().is_success()));
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_client_is_rate_limited() {
    let place = Place::new(Backend::Sqlite).await;
    let mut config = Config::new("http://hub.test");
    config.rate_per_second = 1.0;
    config.rate_burst = 5.0;
    let hub = Arc::new(Hub::new(place.open_db().await, config).await.unwrap());
    let running = outpost_hub::spawn(hub).await.unwrap();
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..8 {
        let r = http
            .get(format!("{}/api/v1/ping", running.url()))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let body: outpost_protocol::ErrorBody = r.json().await.unwrap();
            assert_eq!(body.error, outpost_protocol::ErrorCode::RateLimited);
            statuses.push(429);
        } else {
            statuses.push(r.status().as_u16());
        }
    }
    assert_eq!(&statuses[..5], &[200; 5], "the burst goes through");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
    // Health checks are never limited.
    let r = http
        .get(format!("{}/healthz", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    running.stop().await;
}
