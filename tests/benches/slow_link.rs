//! Sync of many pending events over a bad link (not a test: a measurement).
//!
//! 10,000 events recorded through a real learner store are pushed by the
//! real client (production settings) to a real hub through the fault proxy:
//! once over a 2G/VSAT-like link (64 kbit/s each way, 600 ms round trip,
//! 2% of chunks lost and retransmitted after 1 s), once over loopback.
//! Measured: the wall time until every event is acknowledged, the bytes
//! that crossed the proxy each way per event, and — for comparison — the
//! information content of the events: the gzip size of their canonical
//! JSON, all in one stream. Written to `<target>/bench-reports/sync-slow-link.md`
//! for `cargo xtask bench`. `OUTPOST_BENCH_SYNC_EVENTS` changes the count.

#[path = "../../xtask/src/bench_report.rs"]
mod bench_report;
#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use outpost_faultproxy::{FaultProxy, LinkProfile};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

struct Measured {
    link: &'static str,
    events: u64,
    wall: Duration,
    rounds: u32,
    batches: u32,
    retries: u32,
    up: u64,
    down: u64,
    connections: u64,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A laptop whose profile has `n` pending events: reading (most of them),
/// knowledge checks, and a quiz now and then, as a learner produces them.
fn record(n: usize) -> Laptop {
    let l = Laptop::new("Amina");
    let (s, p) = (&l.store, l.id());
    let mut i = 0;
    while (s.pending_count(p).unwrap() as usize) < n {
        match i % 20 {
            5 | 13 => {
                s.answer_question(p, "demo", None, "check-1", &["b".into()])
                    .unwrap();
            }
            19 => {
                let a = s.start_quiz(p, "demo", "m2-quiz").unwrap();
                for q in &a.questions {
                    s.answer_question(p, "demo", Some(a.attempt_id), &q.id, &correct(&q.id))
                        .unwrap();
                }
                s.submit_quiz(p, "demo", a.attempt_id, 90).unwrap();
            }
            _ => {
                let lesson = ["l1", "l2", "l3"][i % 3];
                let pos = (i % 10) as f64 / 10.0;
                s.view_lesson(p, "demo", lesson, 30 + (i % 90) as u32, pos, false)
                    .unwrap();
            }
        }
        i += 1;
    }
    l
}

/// The gzip size of the events' canonical JSON, one per line: what the
/// events carry, compressed as well as one stream allows.
fn information(l: &Laptop) -> (u64, u64) {
    let events = l.store.pending_events_of(l.id(), usize::MAX).unwrap();
    let mut raw = Vec::new();
    for e in &events {
        raw.extend_from_slice(&e.canonical_json());
        raw.push(b'\n');
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&raw).unwrap();
    (raw.len() as u64, enc.finish().unwrap().len() as u64)
}

async fn run(template: &Path, link: &'static str, profile: LinkProfile) -> Measured {
    let hub = TestHub::start().await;
    let proxy = FaultProxy::start(hub.server.addr, LinkProfile::CLEAN, vec![])
        .await
        .unwrap();
    // A copy of the recorded laptop, enrolled over the clean link.
    let mut laptop = Laptop::new("unused");
    let data = laptop.data_dir();
    drop(std::mem::replace(
        &mut laptop.store,
        outpost_learner::Store::open(&laptop.dir.path().join("scratch")).unwrap(),
    ));
    std::fs::remove_dir_all(&data).unwrap();
    copy_dir(template, &data);
    laptop.store = outpost_learner::Store::open(&data).unwrap();
    laptop.profile = laptop.store.profiles().unwrap().remove(0);
    // Production settings: what a post's laptop runs.
    laptop.client = outpost_sync::SyncClient::new(outpost_sync::SyncConfig::default()).unwrap();
    laptop.enroll(&proxy.url(), &hub.code, None).await;
    let events = laptop.store.status().unwrap().pending;
    proxy.set_profile(profile);
    let before = proxy.stats();
    let started = Instant::now();
    let mut rounds = 0;
    let (mut batches, mut retries) = (0, 0);
    loop {
        rounds += 1;
        let r = laptop.sync().await;
        batches += r.batches;
        retries += r.retries;
        if r.complete() {
            break;
        }
        assert!(rounds < 50, "no complete sync: {:?}", r.problem());
    }
    let wall = started.elapsed();
    let after = proxy.stats();
    assert_eq!(hub.event_ids().await.len() as u64, events);
    Measured {
        link,
        events,
        wall,
        rounds,
        batches,
        retries,
        up: after.bytes_up - before.bytes_up,
        down: after.bytes_down - before.bytes_down,
        connections: after.connections - before.connections,
    }
}

fn main() {
    // `cargo bench` passes --bench; as a test (`cargo test --benches`) it
    // only checks that the harness works, on a few events.
    let measuring = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("OUTPOST_BENCH_SYNC_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if measuring { 10_000 } else { 60 });
    let recorded = record(n);
    let (raw, gz) = information(&recorded);
    let template = recorded.data_dir();
    drop(recorded.store);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let satellite = if measuring {
        LinkProfile::satellite()
    } else {
        LinkProfile {
            latency: Duration::from_millis(5),
            ..LinkProfile::satellite()
        }
    };
    let rows = [
        rt.block_on(run(&template, "64 kbit/s, 600 ms RTT, 2% loss", satellite)),
        rt.block_on(run(&template, "loopback", LinkProfile::CLEAN)),
    ];
    let events = rows[0].events as f64;
    let mut md = format!(
        "### Sync of {} pending events (real client with its default settings → fault proxy → real hub)\n\n\
         Information content of the events: {:.1} bytes/event as canonical JSON, {:.1} bytes/event \
         gzip-compressed as one stream.\n\n\
         | link | wall time | events/s | up bytes/event | down bytes/event | total bytes/event | vs gzip content | batches | retries | new connections | syncs |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
        rows[0].events,
        raw as f64 / events,
        gz as f64 / events
    );
    for m in &rows {
        let e = m.events as f64;
        md.push_str(&format!(
            "| {} | {:.1} s | {:.0} | {:.1} | {:.1} | {:.1} | {:.2}× | {} | {} | {} | {} |\n",
            m.link,
            m.wall.as_secs_f64(),
            e / m.wall.as_secs_f64(),
            m.up as f64 / e,
            m.down as f64 / e,
            (m.up + m.down) as f64 / e,
            (m.up + m.down) as f64 / gz as f64,
            m.batches,
            m.retries,
            m.connections,
            m.rounds
        ));
    }
    md.push_str(
        "\nBytes are counted at the proxy (HTTP headers and bodies; TCP/IP overhead not included). \
         Pushes and the hub's answers (one result per event) are gzip-compressed. New connections \
         are TCP connections opened during the sync; 0 means the one opened at enrolment was kept \
         alive throughout.\n",
    );
    println!("\n{md}");
    if !measuring {
        return;
    }
    bench_report::write("sync-slow-link", &md);
}
