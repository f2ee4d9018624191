//! `enroll`, `sync`, `export-progress`, `import-receipt`: the sync client's
//! commands, over `outpost-sync`.

use super::{json, write_changes};
use anyhow::{anyhow, bail, Context};
use outpost_learner::{Profile, Store};
use outpost_sync::{SyncClient, SyncConfig, SyncReport};
use std::io::Write;
use std::path::Path;

/// Most event lines shown before "… and N more".
const SHOWN: usize = 20;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

/// The named profile, or the laptop's only one.
fn pick_profile(store: &Store, name: Option<&str>) -> anyhow::Result<Profile> {
    if let Some(n) = name {
        return Ok(store.profile_by_name(n)?);
    }
    let mut all = store.profiles()?;
    match all.len() {
        0 => bail!("no profile yet: add one with: outpost profiles add NAME --lang fr"),
        1 => Ok(all.remove(0)),
        _ => bail!(
            "this laptop has several profiles ({}): choose one with --profile NAME",
            all.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn enroll(
    store: &Store,
    hub: &str,
    code: &str,
    profile: Option<&str>,
    email: Option<&str>,
    device_name: Option<String>,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let p = pick_profile(store, profile)?;
    let mut config = SyncConfig::default();
    if let Some(n) = device_name {
        config.device_name = n;
    }
    let client = SyncClient::new(config)?;
    let who = runtime()?.block_on(outpost_sync::enroll(store, &client, hub, code, p.id, email))?;
    if as_json {
        return json(out, &who);
    }
    writeln!(
        out,
        "Enrolled {} with {}: learner {} ({}), cohort {}.",
        p.name, who.hub_url, who.learner_name, who.learner_id, who.cohort
    )?;
    if who.joined_existing_learner {
        writeln!(
            out,
            "The hub already knew this learner by that e-mail: this profile now shares their record (events from their other laptops come here at each sync)."
        )?;
    }
    for a in &who.assignments {
        match a.due {
            Some(d) => writeln!(out, "Assigned: {} (due {d})", a.course_id)?,
            None => writeln!(out, "Assigned: {}", a.course_id)?,
        }
    }
    writeln!(out, "Send progress with: outpost sync")?;
    Ok(())
}

pub(crate) fn sync(store: &Store, as_json: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let client = SyncClient::new(SyncConfig::default())?;
    let report = runtime()?.block_on(outpost_sync::sync_once(store, &client, &|_| {}));
    if as_json {
        json(out, &report)?;
    } else {
        write_report(store, &report, out)?;
    }
    match report.problem() {
        None => Ok(()),
        Some(p) => Err(anyhow!("{p}")),
    }
}

fn write_report(store: &Store, r: &SyncReport, out: &mut dyn Write) -> anyhow::Result<()> {
    let sent = r.accepted + r.duplicates + (r.rejected.len() + r.conflicts.len()) as u64;
    if sent > 0 {
        writeln!(
            out,
            "Sent {sent} event(s) in {} batch(es): {} stored by the hub, {} it already had.",
            r.batches, r.accepted, r.duplicates
        )?;
    }
    let lines = |out: &mut dyn Write, what: &str, list: &[outpost_sync::EventProblem]| {
        for p in list.iter().take(SHOWN) {
            writeln!(out, "  {what} {}: {}", p.event_id, p.reason)?;
        }
        if list.len() > SHOWN {
            writeln!(out, "  … and {} more", list.len() - SHOWN)?;
        }
        Ok::<_, std::io::Error>(())
    };
    if !r.rejected.is_empty() {
        writeln!(
            out,
            "Rejected by the hub, kept on this laptop: {} event(s)",
            r.rejected.len()
        )?;
        lines(out, "rejected", &r.rejected)?;
    }
    if !r.conflicts.is_empty() {
        writeln!(
            out,
            "In conflict (the hub holds other events under these ids; this laptop keeps its own): {}",
            r.conflicts.len()
        )?;
        lines(out, "conflict", &r.conflicts)?;
    }
    if r.pulled > 0 {
        writeln!(
            out,
            "Received {} event(s) from the learners' other laptops.",
            r.pulled
        )?;
    }
    if !r.pulled_problems.is_empty() {
        writeln!(
            out,
            "Received events not stored: {}",
            r.pulled_problems.len()
        )?;
        lines(out, "not stored", &r.pulled_problems)?;
    }
    for u in &r.updates {
        match (&u.outcome, &u.error) {
            (Some(outcome), _) => {
                let step = match &u.from_version {
                    Some(v) => format!("{v} → {}", u.to_version),
                    None => u.to_version.clone(),
                };
                let what = match outcome {
                    outpost_learner::InstallOutcome::Installed => "installed",
                    outpost_learner::InstallOutcome::Updated => "updated",
                    outpost_learner::InstallOutcome::Unchanged => "already installed",
                    outpost_learner::InstallOutcome::KeptNewer => "a newer version is installed",
                };
                writeln!(out, "Course {} {step}: {what}", u.course_id)?;
                if let Some(c) = &u.changes {
                    write_changes(out, c, *outcome)?;
                }
            }
            (None, Some(e)) => writeln!(
                out,
                "Course {} {}: not installed: {e}",
                u.course_id, u.to_version
            )?,
            (None, None) => {}
        }
    }
    for p in &r.profiles {
        for c in &p.confirmed {
            if c.satisfied_on_hub {
                writeln!(
                    out,
                    "{}: the hub has the completion of {}{}",
                    p.name,
                    c.course_id,
                    if c.certificate_verified {
                        " (certificate verified)"
                    } else {
                        ""
                    }
                )?;
            }
        }
    }
    if let Some(off) = r.clock_offset_seconds {
        if off.abs() >= 300 {
            let (h, m) = (off.abs() / 3600, off.abs() % 3600 / 60);
            writeln!(
                out,
                "This laptop's clock is {h} h {m} min {} the hub's; the hub corrects event times.",
                if off > 0 { "behind" } else { "ahead of" }
            )?;
        }
    }
    let status = store.status()?;
    writeln!(out, "Waiting to sync: {} event(s)", r.pending_after)?;
    if let Some(t) = status.last_success_at {
        writeln!(
            out,
            "Last confirmed sync: {}",
            t.format("%Y-%m-%d %H:%M UTC")
        )?;
    }
    Ok(())
}

pub(crate) fn export(
    store: &Store,
    file: &Path,
    profile: Option<&str>,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let only = profile
        .map(|n| store.profile_by_name(n))
        .transpose()?
        .map(|p| p.id);
    let export = outpost_sync::export_progress(store, file, only)?;
    if as_json {
        return json(out, &export);
    }
    if export.files.is_empty() {
        writeln!(out, "Nothing waits for the hub: no file written.")?;
    }
    for f in &export.files {
        writeln!(
            out,
            "Wrote {} event(s) of {} to {} (file {}).",
            f.events,
            f.profile_name,
            f.path.display(),
            f.file_id
        )?;
        if f.left_for_next_file > 0 {
            writeln!(
                out,
                "  {} more wait: export again once the receipt is imported.",
                f.left_for_next_file
            )?;
        }
    }
    if !export.files.is_empty() {
        writeln!(
            out,
            "At the hub: outpost-hub admin import-progress FILE --out RECEIPT; then here: outpost import-receipt RECEIPT"
        )?;
    }
    for name in &export.not_enrolled {
        writeln!(
            out,
            "Not exported: {name} is not enrolled with a hub (enrol the profile first)."
        )?;
    }
    Ok(())
}

pub(crate) fn import(
    store: &Store,
    file: &Path,
    as_json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let r = outpost_sync::import_receipt(store, file)?;
    if as_json {
        return json(out, &r);
    }
    if r.already_imported {
        writeln!(
            out,
            "This receipt (file {}) was imported before: nothing changed.",
            r.file_id
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Receipt for {}'s progress file {}: {} event(s) confirmed{}.",
        r.profile_name,
        r.file_id,
        r.confirmed,
        if r.already_confirmed > 0 {
            format!(", {} were confirmed already", r.already_confirmed)
        } else {
            String::new()
        }
    )?;
    for (id, reason) in r.rejected.iter().take(SHOWN) {
        writeln!(
            out,
            "  rejected by the hub (kept on this laptop) {id}: {reason}"
        )?;
    }
    if r.rejected.len() > SHOWN {
        writeln!(out, "  … and {} more rejected", r.rejected.len() - SHOWN)?;
    }
    for id in r.conflicts.iter().take(SHOWN) {
        writeln!(out, "  in conflict (kept on this laptop) {id}")?;
    }
    if r.unknown > 0 {
        writeln!(
            out,
            "  {} event(s) named by the receipt are not on this laptop",
            r.unknown
        )?;
    }
    Ok(())
}
