//! One sync: probe, push in batches, pull, course updates.

use crate::api::Failure;
use crate::client::SyncClient;
use crate::download;
use crate::error::SyncError;
use crate::report::{
    CourseConfirmation, EventProblem, Phase, ProfileReport, SyncReport, UpdateReport,
};
use chrono::Utc;
use outpost_learner::{compare_versions, Enrolment, ProfileId, Store, SyncOutcome};
use outpost_model::Event;
use outpost_protocol::limits::{MAX_PUSH_COMPRESSED_BYTES, MAX_PUSH_DECOMPRESSED_BYTES};
use outpost_protocol::{
    CourseUpdate, EventStatus, PullResponse, PushRequest, PushResponse, PROTOCOL_VERSION,
};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

/// What the conflict detail says on the laptop.
pub const CONFLICT_DETAIL: &str =
    "the hub holds a different event under this id; this laptop keeps its own";

/// Sync every enrolled profile of `store` once: push its pending events,
/// pull what the hub has for it, install course updates. Never panics and
/// never loses an event: whatever fails is in [`SyncReport::errors`], the
/// events stay pending, and the next call resumes where this one stopped
/// (each acknowledged batch is marked in the store before the next is
/// sent). `observer` hears where the sync is; pass `&|_| {}` to ignore it.
pub async fn sync_once(
    store: &Store,
    client: &SyncClient,
    observer: &dyn Fn(&Phase),
) -> SyncReport {
    let mut report = SyncReport::new();
    if let Err(e) = run(store, client, observer, &mut report).await {
        report.errors.push(e);
    }
    match store.status() {
        Ok(s) => {
            report.pending_after = s.pending;
            report.rejected_after = s.rejected;
        }
        Err(e) => report.errors.push(e.into()),
    }
    report.finished_at = Utc::now();
    let recorded = match report.errors.first() {
        None => store.record_sync_success(),
        Some(e) => store.record_sync_error(&e.to_string()),
    };
    if let Err(e) = recorded {
        report.errors.push(e.into());
    }
    report
}

async fn run(
    store: &Store,
    client: &SyncClient,
    observer: &dyn Fn(&Phase),
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let enrolments = store.enrolments()?;
    if enrolments.is_empty() {
        report.pending_before = store.status()?.pending;
        return Err(SyncError::NotEnrolled);
    }
    if let Some(after) = client.config.retry_rejected_after {
        let before = chrono::Duration::from_std(after)
            .ok()
            .and_then(|d| Utc::now().checked_sub_signed(d));
        if let Some(before) = before {
            store.requeue_rejected(before)?;
        }
    }
    report.pending_before = store.status()?.pending;
    store.record_sync_attempt()?;

    // Probe each hub once; profiles of a hub that does not answer wait.
    let mut by_hub: BTreeMap<String, Vec<Enrolment>> = BTreeMap::new();
    for e in enrolments {
        by_hub.entry(e.hub_url.clone()).or_default().push(e);
    }
    for (hub, enrolments) in &by_hub {
        observer(&Phase::Probing { hub: hub.clone() });
        match probe(store, client, hub).await {
            Ok(offset) => {
                report.reachable = Some(true);
                report.clock_offset_seconds = Some(offset);
            }
            Err(e) => {
                report.reachable.get_or_insert(false);
                report.errors.push(e);
                continue;
            }
        }
        let mut offered: Option<(Enrolment, Vec<CourseUpdate>)> = None;
        let mut link_down = false;
        for e in enrolments {
            let name = store.profile(e.profile).map(|p| p.name).unwrap_or_default();
            if let Err(err) = push_profile(store, client, e, report, observer).await {
                // A lost link stops this hub's part of the sync (the rest
                // waits for the next one); a refusal stops this profile.
                link_down = err.is_transient();
                report.errors.push(err);
                if link_down {
                    break;
                }
                continue;
            }
            match pull_profile(store, client, e, report, observer).await {
                Ok(page) => {
                    let confirmed = page
                        .confirmed
                        .iter()
                        .map(|c| CourseConfirmation {
                            course_id: c.course_id.clone(),
                            satisfied_on_hub: c.satisfied,
                            best_score: c.best_score,
                            certificate_verified: store
                                .certificate(e.profile, &c.course_id)
                                .ok()
                                .flatten()
                                .is_some_and(|c| c.verified),
                        })
                        .collect();
                    let assignments: Vec<outpost_learner::Assignment> = page
                        .assignments
                        .iter()
                        .map(|a| outpost_learner::Assignment {
                            course_id: a.course_id.clone(),
                            due: a.due,
                        })
                        .collect();
                    store.set_assignments(e.profile, &assignments)?;
                    report.profiles.push(ProfileReport {
                        profile: e.profile,
                        name,
                        hub_url: e.hub_url.clone(),
                        cohort: e.cohort.clone(),
                        pending_after: store.pending_count(e.profile)?,
                        assignments,
                        confirmed,
                    });
                    if offered.is_none() {
                        offered = Some((e.clone(), page.courses));
                    }
                }
                Err(err) => {
                    link_down = err.is_transient();
                    report.errors.push(err);
                    if link_down {
                        break;
                    }
                }
            }
        }
        if let Some((e, courses)) = offered.filter(|_| !link_down) {
            update_courses(store, client, &e, &courses, report, observer).await?;
        }
    }
    Ok(())
}

/// Ping the hub; the hub's clock minus ours, in seconds, at the midpoint
/// of the round trip.
async fn probe(store: &Store, client: &SyncClient, hub: &str) -> Result<i64, SyncError> {
    let sent = store.clock();
    let (ping, rtt) = client.ping(hub).await?;
    let midpoint = sent + chrono::Duration::from_std(rtt / 2).unwrap_or_default();
    Ok((ping.hub_time - midpoint).num_seconds())
}

/// Wait before retry `failures` (1-based), or give up with the error.
async fn back_off(client: &SyncClient, failure: Failure, failures: u32) -> Result<(), SyncError> {
    let policy = client.config.retry;
    if !failure.transient() || failures >= policy.attempts {
        return Err(failure.error);
    }
    let wait = policy.jittered(failures.saturating_sub(1)).max(
        failure
            .retry_after
            .unwrap_or(Duration::ZERO)
            .min(policy.cap),
    );
    tokio::time::sleep(wait).await;
    Ok(())
}

/// A push body, gzip-compressed; fewer events than offered when they would
/// not fit the protocol's limits.
fn encode(store: &Store, events: &mut Vec<Event>, waiting: u64) -> Result<Vec<u8>, SyncError> {
    loop {
        let req = PushRequest {
            protocol: PROTOCOL_VERSION,
            device_time: store.clock(),
            pending_after: Some(waiting.saturating_sub(events.len() as u64)),
            events: std::mem::take(events),
        };
        let json = serde_json::to_vec(&req)
            .map_err(|e| SyncError::Store(format!("an event does not serialise: {e}")))?;
        *events = req.events;
        let gz = gzip(&json).map_err(|e| SyncError::Store(format!("compressing a batch: {e}")))?;
        if gz.len() <= MAX_PUSH_COMPRESSED_BYTES && json.len() <= MAX_PUSH_DECOMPRESSED_BYTES {
            return Ok(gz);
        }
        if events.len() <= 1 {
            return Err(SyncError::Store(format!(
                "event {} is too large to send ({} bytes)",
                events.first().map(|e| e.id.to_string()).unwrap_or_default(),
                json.len()
            )));
        }
        events.truncate(events.len() / 2);
    }
}

pub(crate) fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data)?;
    enc.finish()
}

async fn push_profile(
    store: &Store,
    client: &SyncClient,
    e: &Enrolment,
    report: &mut SyncReport,
    observer: &dyn Fn(&Phase),
) -> Result<(), SyncError> {
    let total = store.pending_count(e.profile)?;
    let mut done = 0u64;
    let mut failures = 0u32;
    observer(&Phase::Pushing { done, total });
    loop {
        let mut events = store.pending_events_of(e.profile, client.batch_size())?;
        if events.is_empty() {
            return Ok(());
        }
        let waiting = store.pending_count(e.profile)?;
        let body = encode(store, &mut events, waiting)?;
        report.batches += 1;
        report.bytes_sent += body.len() as u64;
        let started = Instant::now();
        match client
            .push(
                &e.hub_url,
                &e.device_token,
                body,
                &mut report.bytes_received,
            )
            .await
        {
            Ok(res) => {
                failures = 0;
                apply(store, e.profile, &events, res, report)?;
                client.batch_succeeded(events.len(), started.elapsed());
                done += events.len() as u64;
                observer(&Phase::Pushing {
                    done,
                    total: total.max(done),
                });
            }
            Err(f) => {
                client.batch_failed();
                failures += 1;
                back_off(client, f, failures).await?;
                report.retries += 1;
            }
        }
    }
}

/// Record the hub's answer to one batch, in one transaction.
fn apply(
    store: &Store,
    profile: ProfileId,
    sent: &[Event],
    res: PushResponse,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let matches =
        res.results.len() == sent.len() && res.results.iter().zip(sent).all(|(r, e)| r.id == e.id);
    if !matches {
        return Err(SyncError::Protocol(format!(
            "the hub answered for {} events, not for the {} sent, in their order",
            res.results.len(),
            sent.len()
        )));
    }
    let mut outcomes = Vec::with_capacity(sent.len());
    for r in res.results {
        let outcome = match r.status {
            EventStatus::Accepted => {
                report.accepted += 1;
                SyncOutcome::Accepted
            }
            EventStatus::Duplicate => {
                report.duplicates += 1;
                SyncOutcome::Duplicate
            }
            EventStatus::Conflict => {
                report.conflicts.push(EventProblem {
                    event_id: r.id,
                    profile,
                    reason: CONFLICT_DETAIL.into(),
                });
                SyncOutcome::Conflict(CONFLICT_DETAIL.into())
            }
            EventStatus::Rejected { reason } => {
                report.rejected.push(EventProblem {
                    event_id: r.id,
                    profile,
                    reason: reason.clone(),
                });
                SyncOutcome::Rejected(reason)
            }
        };
        outcomes.push((r.id, outcome));
    }
    store.mark_synced(&outcomes)?;
    Ok(())
}

async fn pull_profile(
    store: &Store,
    client: &SyncClient,
    e: &Enrolment,
    report: &mut SyncReport,
    observer: &dyn Fn(&Phase),
) -> Result<PullResponse, SyncError> {
    let mut cursor = store.pull_cursor(e.profile)?.unwrap_or_default();
    let mut failures = 0u32;
    let mut received = 0u64;
    let mut restarted = false;
    loop {
        observer(&Phase::Pulling { events: received });
        let page = match client
            .pull(
                &e.hub_url,
                &e.device_token,
                &cursor,
                &mut report.bytes_received,
            )
            .await
        {
            Ok(page) => page,
            Err(f) if f.bad_request && !cursor.is_empty() && !restarted => {
                // The hub no longer knows our cursor (restored from a
                // backup?): read the feed from its start. Inserting is
                // idempotent, so nothing counts twice.
                restarted = true;
                cursor.clear();
                report.retries += 1;
                continue;
            }
            Err(f) => {
                failures += 1;
                back_off(client, f, failures).await?;
                report.retries += 1;
                continue;
            }
        };
        failures = 0;
        if !page.events.is_empty() {
            let r = store.insert_foreign_events(e.profile, &page.events)?;
            report.pulled += r.inserted as u64;
            report.pulled_duplicates += r.duplicates as u64;
            for id in r.conflicts {
                report.pulled_problems.push(EventProblem {
                    event_id: id,
                    profile: e.profile,
                    reason: "a different event with this id is stored here; it is kept".into(),
                });
            }
            for (id, why) in r.invalid {
                report.pulled_problems.push(EventProblem {
                    event_id: id,
                    profile: e.profile,
                    reason: why,
                });
            }
            received += page.events.len() as u64;
        }
        if page.more && page.events.is_empty() && page.cursor == cursor {
            // Asking again would get the same answer, for ever.
            return Err(SyncError::Protocol(
                "the hub said more events wait but sent none and kept its cursor".into(),
            ));
        }
        // After the events: a crash in between re-pulls them, harmlessly.
        store.set_pull_cursor(e.profile, &page.cursor)?;
        cursor = page.cursor.clone();
        if !page.more {
            return Ok(page);
        }
    }
}

/// Download and install the newer versions the hub offers of installed
/// courses, and the assigned courses not installed yet.
async fn update_courses(
    store: &Store,
    client: &SyncClient,
    e: &Enrolment,
    offered: &[CourseUpdate],
    report: &mut SyncReport,
    observer: &dyn Fn(&Phase),
) -> Result<(), SyncError> {
    let installed: BTreeMap<String, String> = store
        .courses()?
        .into_iter()
        .map(|c| (c.course_id, c.version))
        .collect();
    let mut assigned = BTreeSet::new();
    for en in store.enrolments()? {
        for a in store.assignments(en.profile)? {
            assigned.insert(a.course_id);
        }
    }
    let mut wanted = Vec::new();
    for u in offered {
        let want = match installed.get(&u.course_id) {
            Some(v) => compare_versions(&u.version, v) == std::cmp::Ordering::Greater,
            None => assigned.contains(&u.course_id),
        };
        if want {
            wanted.push(u);
        }
    }
    download::clean(store.data_dir(), &wanted);
    for u in wanted {
        let from = installed.get(&u.course_id).cloned();
        let mut update = UpdateReport {
            course_id: u.course_id.clone(),
            from_version: from,
            to_version: u.version.clone(),
            outcome: None,
            changes: None,
            error: None,
        };
        match download::fetch(store.data_dir(), client, e, u, observer, report).await {
            Ok(file) => {
                observer(&Phase::Installing {
                    course_id: u.course_id.clone(),
                    version: u.version.clone(),
                });
                match store.install(&file) {
                    Ok(r) => {
                        update.outcome = Some(r.outcome);
                        update.changes = Some(r.changes);
                        let _ = std::fs::remove_file(&file);
                    }
                    Err(err) => {
                        // The verified download is kept, so the next sync
                        // does not fetch it again to fail the same way.
                        let msg = format!(
                            "course {} {} was downloaded but not installed: {err}",
                            u.course_id, u.version
                        );
                        update.error = Some(msg.clone());
                        report.errors.push(SyncError::Store(msg));
                    }
                }
            }
            Err(err) => {
                update.error = Some(err.to_string());
                let stop = err.is_transient();
                report.errors.push(err);
                report.updates.push(update);
                if stop {
                    return Ok(());
                }
                continue;
            }
        }
        report.updates.push(update);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::SyncConfig;
    use outpost_learner::Language;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A hub that answers the probe, and every pull with `pull` (JSON).
    async fn fake_hub(pull: String) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let pull = pull.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = if head.starts_with(b"GET /api/v1/ping") {
                        serde_json::json!({"protocol": PROTOCOL_VERSION, "hub_time": Utc::now()})
                            .to_string()
                    } else {
                        pull
                    };
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(answer.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_hub_that_says_more_but_never_moves_on_is_an_error_not_a_hang() {
        let pull = serde_json::json!({
            "protocol": PROTOCOL_VERSION, "hub_time": Utc::now(), "events": [],
            "cursor": "c1", "more": true, "assignments": [], "courses": [], "confirmed": [],
        })
        .to_string();
        let hub = fake_hub(pull).await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let p = store.create_profile("Amina", Language::Fr, None).unwrap();
        store
            .set_enrolment(&Enrolment {
                profile: p.id,
                hub_url: hub,
                device_token: "ab".repeat(32),
                hub_learner_id: p.id.0,
                cohort: "Beirut".into(),
                hub_public_key: None,
                enrolled_at: Utc::now(),
            })
            .unwrap();
        let client = SyncClient::new(SyncConfig {
            reuse_connections: false,
            ..SyncConfig::default()
        })
        .unwrap();
        let r = tokio::time::timeout(Duration::from_secs(30), sync_once(&store, &client, &|_| {}))
            .await
            .expect("the sync ends");
        assert!(
            r.errors
                .iter()
                .any(|e| matches!(e, SyncError::Protocol(m) if m.contains("kept its cursor"))),
            "{:?}",
            r.errors
        );
        assert_eq!(store.pull_cursor(p.id).unwrap().as_deref(), Some("c1"));
        assert!(store.status().unwrap().last_error.is_some());
    }
}
