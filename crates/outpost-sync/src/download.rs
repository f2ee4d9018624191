//! Resumable course package downloads into `DATA_DIR/downloads/`.
//!
//! A download goes to `<course>-<version>-<sha>.part`, appended to as bytes
//! arrive, so a cut link loses nothing already received: the next try asks
//! for the rest (`Range`, guarded by `If-Range` with the file's ETag, so two
//! different files can never be mixed). Once complete, its length and
//! SHA-256 are checked, it is fsynced and renamed to `.opkg`; the store then
//! verifies the publisher's signature when it installs it.

use crate::client::SyncClient;
use crate::error::SyncError;
use crate::report::{Phase, SyncReport};
use outpost_learner::Enrolment;
use outpost_protocol::CourseUpdate;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The folder of downloads inside a data directory.
pub const DOWNLOADS_DIR: &str = "downloads";

fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

fn stem(u: &CourseUpdate) -> String {
    format!(
        "{}-{}-{}",
        safe(&u.course_id),
        safe(&u.version),
        safe(u.sha256.get(..16).unwrap_or(&u.sha256))
    )
}

/// Remove downloads that are not for one of `wanted` (superseded versions,
/// courses no longer offered): nothing half-done lingers.
pub(crate) fn clean(data_dir: &Path, wanted: &[&CourseUpdate]) {
    let dir = data_dir.join(DOWNLOADS_DIR);
    let keep: Vec<String> = wanted.iter().map(|u| stem(u)).collect();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let base = name
            .strip_suffix(".part")
            .or_else(|| name.strip_suffix(".opkg"))
            .unwrap_or(&name);
        if !keep.iter().any(|k| k == base) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Download `update` (resuming a partial file), verify its size and
/// SHA-256, and return the complete file's path.
pub(crate) async fn fetch(
    data_dir: &Path,
    client: &SyncClient,
    e: &Enrolment,
    update: &CourseUpdate,
    observer: &dyn Fn(&Phase),
    report: &mut SyncReport,
) -> Result<PathBuf, SyncError> {
    let hub = e.hub_url.as_str();
    let bad = |m: String| SyncError::Protocol(m);
    let sha = update.sha256.to_ascii_lowercase();
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!(
            "the offer of course {} has no valid SHA-256",
            update.course_id
        )));
    }
    if !update.url.starts_with('/') {
        return Err(bad(format!(
            "the offer of course {} has a bad path {:?}",
            update.course_id, update.url
        )));
    }
    let size = update.size;
    if size > client.config.max_package_bytes {
        return Err(SyncError::Refused {
            status: 0,
            code: "too_large".into(),
            reason: format!(
                "course {} {} is {size} bytes, more than the {} this laptop downloads",
                update.course_id, update.version, client.config.max_package_bytes
            ),
        });
    }
    let dir = data_dir.join(DOWNLOADS_DIR);
    std::fs::create_dir_all(&dir).map_err(|err| SyncError::file(&dir, err))?;
    let part = dir.join(format!("{}.part", stem(update)));
    let done = dir.join(format!("{}.opkg", stem(update)));
    if done.exists() {
        if file_sha256(&done).ok().as_deref() == Some(sha.as_str()) {
            return Ok(done);
        }
        let _ = std::fs::remove_file(&done);
    }
    let etag = format!("\"{sha}\"");
    // Said at each new whole percent, not at each chunk: every report
    // becomes a status event for the interface, and a fast link brings
    // thousands of chunks.
    let said = std::cell::Cell::new(None);
    let progress = |have: u64| {
        let percent = have.saturating_mul(100).checked_div(size).unwrap_or(100);
        if said.replace(Some(percent)) == Some(percent) {
            return;
        }
        observer(&Phase::Downloading {
            course_id: update.course_id.clone(),
            version: update.version.clone(),
            done: have,
            total: size,
        })
    };
    let mut failures = 0u32;
    loop {
        let mut have = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if have > size {
            have = 0;
        }
        progress(have);
        let result = if have == size {
            Ok(())
        } else {
            receive(client, e, update, &part, have, &etag, &progress, report).await
        };
        match result {
            Ok(()) => {
                let got = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
                let hash = file_sha256(&part).map_err(|err| SyncError::file(&part, err))?;
                if got != size || hash != sha {
                    let _ = std::fs::remove_file(&part);
                    return Err(bad(format!(
                        "the download of course {} {} does not match the hub's checksum; it was deleted and will be fetched again",
                        update.course_id, update.version
                    )));
                }
                std::fs::rename(&part, &done).map_err(|err| SyncError::file(&done, err))?;
                sync_dir(&dir);
                return Ok(done);
            }
            Err(Retry::Restart) => {
                let _ = std::fs::remove_file(&part);
                failures += 1;
            }
            Err(Retry::After(err)) => {
                failures += 1;
                if !err.is_transient() || failures >= client.config.retry.attempts {
                    return Err(err);
                }
                tokio::time::sleep(client.config.retry.jittered(failures - 1)).await;
            }
        }
        if failures >= client.config.retry.attempts {
            return Err(SyncError::Unreachable {
                hub: hub.to_string(),
                detail: format!("the download of course {} kept failing", update.course_id),
            });
        }
        report.retries += 1;
    }
}

enum Retry {
    /// Start again from the first byte.
    Restart,
    After(SyncError),
}

/// One request: append what arrives to `part` (which holds `have` bytes).
#[allow(clippy::too_many_arguments)]
async fn receive(
    client: &SyncClient,
    e: &Enrolment,
    update: &CourseUpdate,
    part: &Path,
    have: u64,
    etag: &str,
    progress: &dyn Fn(u64),
    report: &mut SyncReport,
) -> Result<(), Retry> {
    let hub = e.hub_url.as_str();
    let mut res = client
        .package(hub, &e.device_token, &update.url, have, etag)
        .await
        .map_err(|f| Retry::After(f.error))?;
    let mut at = match res.status() {
        StatusCode::PARTIAL_CONTENT => {
            let starts_at = res
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if starts_at != Some(have) {
                return Err(Retry::Restart);
            }
            have
        }
        StatusCode::OK => 0,
        StatusCode::RANGE_NOT_SATISFIABLE => return Err(Retry::Restart),
        status => {
            let retry_after = None;
            let body = res.bytes().await.unwrap_or_default();
            report.bytes_received += body.len() as u64;
            return Err(Retry::After(
                crate::api::error_answer(status, &body, retry_after).error,
            ));
        }
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(at == 0)
        .append(at > 0)
        .open(part)
        .map_err(|err| Retry::After(SyncError::file(part, err)))?;
    let idle = client.config.download_idle_timeout;
    loop {
        let chunk = match tokio::time::timeout(idle, res.chunk()).await {
            Err(_) => {
                let _ = file.sync_all();
                return Err(Retry::After(SyncError::Unreachable {
                    hub: hub.to_string(),
                    detail: format!("the download of course {} stalled", update.course_id),
                }));
            }
            Ok(Err(err)) => {
                let _ = file.sync_all();
                return Err(Retry::After(crate::api::transport(hub, &err)));
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(c))) => c,
        };
        if at + chunk.len() as u64 > update.size {
            return Err(Retry::Restart);
        }
        file.write_all(&chunk)
            .map_err(|err| Retry::After(SyncError::file(part, err)))?;
        at += chunk.len() as u64;
        report.bytes_received += chunk.len() as u64;
        progress(at);
    }
    file.sync_all()
        .map_err(|err| Retry::After(SyncError::file(part, err)))?;
    Ok(())
}
