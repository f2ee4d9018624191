//! Exactly once over the worst links: a property test over random fault
//! schedules between real laptops and a real hub (over real HTTP, real
//! SQLite files), with the fault proxy cutting connections at random bytes
//! in both directions, resetting them mid-response, refusing them, adding
//! latency, loss and a bandwidth cap.

mod common;

use common::*;
use outpost_faultproxy::{random_schedule, FaultProxy, LinkProfile};
use outpost_sync::SyncClient;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

struct Case {
    seed: u64,
    faults: usize,
    max_offset: u64,
    latency_ms: u64,
    capped: bool,
    second_laptop: bool,
    events_a: usize,
    events_b: usize,
    finish: bool,
}

async fn run(case: Case) {
    let hub = TestHub::start().await;
    let link = LinkProfile {
        latency: Duration::from_millis(case.latency_ms),
        bandwidth_bps: case.capped.then_some(4_000_000),
        loss: 0.05,
        retransmit: Duration::from_millis(3),
    };
    let proxy = FaultProxy::start(hub.server.addr, link, vec![])
        .await
        .unwrap();
    proxy.seed(case.seed);
    let mut laptops = vec![Laptop::new("Amina")];
    if case.second_laptop {
        laptops.push(Laptop::new("Amina at the consulate"));
    }
    for l in &mut laptops {
        l.enroll(&proxy.url(), &hub.code, Some("amina@example.org"))
            .await;
        // Every request on a connection of its own: each fault of the
        // schedule meets a request.
        let mut config = fast_config();
        config.reuse_connections = false;
        l.client = SyncClient::new(config).unwrap();
    }
    // From here the link is bad, until the schedule is used up.
    proxy.push_faults(random_schedule(case.seed, case.faults, case.max_offset));

    // Study in three sessions, each followed by a sync over the bad link
    // (whatever its outcome), then sync until everything has converged.
    let sessions = 3;
    for s in 0..sessions {
        laptops[0]
            .read(case.events_a / sessions + usize::from(s == 0) * (case.events_a % sessions));
        if let Some(b) = laptops.get(1) {
            b.read(case.events_b / sessions + usize::from(s == 0) * (case.events_b % sessions));
        }
        if case.finish && s == sessions - 1 {
            laptops[0].finish_course();
        }
        for l in &laptops {
            check_kept(l, &l.sync().await);
        }
    }
    let recorded: BTreeSet<_> = laptops.iter().flat_map(|l| l.local_ids()).collect();
    let mut clean_rounds = 0;
    let mut last = Vec::new();
    for _round in 0..200 {
        last.clear();
        for l in &laptops {
            let r = l.sync().await;
            check_kept(l, &r);
            last.push(r.problem());
        }
        if last.iter().all(Option::is_none) {
            clean_rounds += 1;
        } else {
            clean_rounds = 0;
        }
        // Two complete rounds in a row (every laptop has pulled the
        // others'), and every fault has hit a request.
        if clean_rounds >= 2 && proxy.pending_faults() == 0 {
            break;
        }
    }
    assert!(clean_rounds >= 2, "no convergence; last problems: {last:?}");
    assert_eq!(proxy.pending_faults(), 0, "the whole schedule was used");
    FIRED.fetch_add(proxy.stats().faults_fired, Ordering::SeqCst);

    let on_hub = hub.event_ids().await;
    let unique: BTreeSet<_> = on_hub.iter().copied().collect();
    assert_eq!(unique.len(), on_hub.len(), "an event stored twice");
    assert_eq!(unique, recorded, "the hub holds exactly what was recorded");
    let learner = laptops[0].learner.unwrap();
    let hub_progress = hub.progress(learner).await;
    for l in &laptops {
        assert_eq!(l.all_ids(), recorded, "every laptop holds every event");
        assert_eq!(
            l.progress(),
            hub_progress,
            "same fold on the laptop and the hub"
        );
        assert_eq!(l.store.status().unwrap().pending, 0);
    }
}

/// Whatever a sync's outcome, every event is pending or acknowledged:
/// none dropped, none rejected, none in conflict.
fn check_kept(l: &Laptop, r: &outpost_sync::SyncReport) {
    let s = l.store.status().unwrap();
    assert_eq!(s.rejected + s.conflicts, 0, "{:?}", r.problem());
    assert!(
        r.rejected.is_empty() && r.conflicts.is_empty(),
        "{:?}",
        r.problem()
    );
}

static FIRED: AtomicU64 = AtomicU64::new(0);

/// Random fault schedules, link profiles, one or two laptops, amounts of
/// study. Each case starts a hub and laptops and records real events: few
/// cases and short latencies, so the whole property runs in well under a
/// minute.
#[test]
fn events_reach_the_hub_exactly_once_under_any_fault_schedule() {
    let strategy = (
        (
            any::<u64>(),
            1usize..14,
            20u64..2_000,
            0u64..4,
            any::<bool>(),
        ),
        (any::<bool>(), 1usize..50, 0usize..30, any::<bool>()),
    );
    let config = ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(
        &strategy,
        |(
            (seed, faults, max_offset, latency_ms, capped),
            (second_laptop, events_a, events_b, finish),
        )| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(run(Case {
                seed,
                faults,
                max_offset,
                latency_ms,
                capped,
                second_laptop,
                events_a,
                events_b,
                finish,
            }));
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // The schedules did break connections, in both directions.
    assert!(FIRED.load(Ordering::SeqCst) > 0, "no fault ever fired");
}
