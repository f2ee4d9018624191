//! Ingest rate and push latency under many concurrent devices, on SQLite
//! and on PostgreSQL: a real hub on 127.0.0.1 over real HTTP, devices
//! pushing gzip-compressed batches at once. A measurement, not a test.
//!
//! `cargo bench -p outpost-hub --bench ingest` (or `cargo xtask bench`)
//! prints a table and writes it to `<target>/bench-reports/hub-ingest.md`; it
//! needs PostgreSQL installed, like the tests.
//! Sizes: OUTPOST_BENCH_DEVICES (default `40,200`: a comma-separated list,
//! one run per count and backend), OUTPOST_BENCH_BATCHES per device (10),
//! OUTPOST_BENCH_EVENTS per batch (50).

#[path = "../../xtask/src/bench_report.rs"]
mod bench_report;
#[path = "../tests/common/mod.rs"]
mod common;

use common::{gzip_bytes, Backend, Device, Fixture};
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Measured {
    backend: Backend,
    devices: usize,
    events: usize,
    pushes: usize,
    wall: Duration,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn run(backend: Backend, devices: usize, batches: usize, per_batch: usize) -> Measured {
    let f = Fixture::new(backend).await;
    let code = f
        .hub()
        .create_code("Dakar", devices as u32, None)
        .await
        .expect("code");
    let mut devs = Vec::new();
    for i in 0..devices {
        let name = format!("Learner {i}");
        devs.push(Device::enroll(&f.http, &f.server.url(), &code, &name, None).await);
    }
    // Bodies are made before the clock starts: the hub's work is measured.
    let mut plans: Vec<(Device, Vec<Vec<u8>>)> = Vec::new();
    for mut d in devs {
        // Far enough back that no event of the run lies in the future.
        d.clock = chrono::Utc::now() - chrono::Duration::days(2);
        let mut bodies = Vec::new();
        for _ in 0..batches {
            let events: Vec<_> = (0..per_batch)
                .map(|i| d.view(["l1", "l2", "l3"][i % 3], i % 5 == 0))
                .collect();
            bodies.push(gzip_bytes(
                &serde_json::to_vec(&d.push_body(&events)).unwrap(),
            ));
        }
        plans.push((d, bodies));
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (d, bodies) in plans {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for body in bodies {
                let t = Instant::now();
                let res = d
                    .http
                    .post(format!("{}/api/v1/sync/push", d.base))
                    .bearer_auth(d.token())
                    .header("content-encoding", "gzip")
                    .body(body)
                    .send()
                    .await
                    .expect("push");
                assert_eq!(res.status(), 200);
                let answer: outpost_protocol::PushResponse = res.json().await.expect("answer");
                assert!(answer
                    .results
                    .iter()
                    .all(|r| r.status == outpost_protocol::EventStatus::Accepted));
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("device task"));
    }
    let wall = start.elapsed();
    let stored = f.count("events").await as usize;
    assert_eq!(
        stored,
        devices * batches * per_batch,
        "every event stored once"
    );
    latencies.sort();
    Measured {
        backend,
        devices,
        events: stored,
        pushes: latencies.len(),
        wall,
        latencies,
    }
}

fn main() {
    // `cargo bench` passes --bench; run as a test (`cargo test --benches`)
    // it only checks that the harness works, on a tiny load.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (d, b, e) = if measuring {
        ("40,200", 10, 50)
    } else {
        ("2", 2, 5)
    };
    let device_counts: Vec<usize> = std::env::var("OUTPOST_BENCH_DEVICES")
        .unwrap_or_else(|_| d.to_string())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let batches = env_usize("OUTPOST_BENCH_BATCHES", b);
    let per_batch = env_usize("OUTPOST_BENCH_EVENTS", e);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for &devices in &device_counts {
        for backend in [Backend::Sqlite, Backend::Postgres] {
            rows.push(rt.block_on(run(backend, devices, batches, per_batch)));
        }
    }
    let mut md = format!(
        "### Hub ingest (devices pushing at once, {batches} batches of {per_batch} events each, gzip over loopback HTTP)\n\n\
         | backend | devices | events | pushes | wall time | events/s | push p50 | push p99 | push max |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    );
    for m in &rows {
        md.push_str(&format!(
            "| {:?} | {} | {} | {} | {:.2} s | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            m.backend,
            m.devices,
            m.events,
            m.pushes,
            m.wall.as_secs_f64(),
            m.events as f64 / m.wall.as_secs_f64(),
            percentile(&m.latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&m.latencies, 0.99).as_secs_f64() * 1e3,
            m.latencies
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e3,
        ));
    }
    md.push_str(
        "\nSQLite runs with `synchronous=FULL` (each commit on disk); the throwaway PostgreSQL \
         cluster runs with `fsync=off`, so its numbers are an upper bound for a real server.\n",
    );
    println!("\n{md}");
    if !measuring {
        return;
    }
    bench_report::write("hub-ingest", &md);
}
