//! The USB path: progress files out, receipts back. No network.
//!
//! A progress file is written to a temporary file in the target folder,
//! fsynced, read back and checked, then renamed over the final name and the
//! folder fsynced: a stick pulled out half-way leaves at most a hidden
//! `.NAME.tmp-…` file, never a half-written file under the final name.

use crate::error::SyncError;
use outpost_learner::{ProfileId, Store, SyncOutcome};
use outpost_protocol::limits::{MAX_EVENTS_PER_FILE, MAX_FILE_BYTES};
use outpost_protocol::{
    public_key_from_hex, read_progress_file, read_receipt, write_progress_file, EventStatus,
    ProgressFile, PROTOCOL_VERSION,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// One progress file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedFile {
    pub path: PathBuf,
    pub profile: ProfileId,
    pub profile_name: String,
    pub file_id: Uuid,
    pub events: usize,
    /// Events of this profile left out because a file holds at most
    /// [`MAX_EVENTS_PER_FILE`]: export again after importing the receipt.
    pub left_for_next_file: u64,
}

/// What [`export_progress`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Export {
    pub files: Vec<ExportedFile>,
    /// Profiles with pending events that are not enrolled: their events
    /// cannot be imported by a hub until they are.
    pub not_enrolled: Vec<String>,
}

/// Write every unacknowledged event of each enrolled profile (or only of
/// `only`) to signed progress files. With one profile to export the file
/// is `out`; with several, `out`'s name gets `-<profile>` before its
/// extension, one file each. Profiles with nothing pending get no file.
pub fn export_progress(
    store: &Store,
    out: &Path,
    only: Option<ProfileId>,
) -> Result<Export, SyncError> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| SyncError::BadInput(format!("{} is not a file name", out.display())))?;
    let mut not_enrolled = Vec::new();
    let mut todo = Vec::new();
    let enrolled: Vec<ProfileId> = store.enrolments()?.iter().map(|e| e.profile).collect();
    for p in store.profiles()? {
        if only.is_some_and(|o| o != p.id) {
            continue;
        }
        let pending = store.pending_count(p.id)?;
        if pending == 0 {
            continue;
        }
        if !enrolled.contains(&p.id) {
            not_enrolled.push(p.name);
            continue;
        }
        todo.push((p, pending));
    }
    if let Some(o) = only {
        store.profile(o)?;
        if !enrolled.contains(&o) {
            return Err(SyncError::BadInput(
                "this profile is not enrolled with a hub: enrol it first, so the hub knows this laptop's key".into(),
            ));
        }
    }
    let key = store.device_signing_key()?;
    let several = todo.len() > 1;
    let mut taken = Vec::new();
    let mut files = Vec::new();
    for (p, pending) in todo {
        let events = store.pending_events_of(p.id, MAX_EVENTS_PER_FILE)?;
        let path = if several {
            out.with_file_name(file_name_of(&name, &p.name, &mut taken))
        } else {
            out.to_path_buf()
        };
        let file = ProgressFile {
            protocol: PROTOCOL_VERSION,
            file_id: Uuid::now_v7(),
            device_id: store.device_id(),
            learner_id: p.id.0,
            created_at: store.clock(),
            events,
        };
        let bytes = write_progress_file(&file, &key);
        if bytes.len() > MAX_FILE_BYTES {
            return Err(SyncError::BadInput(format!(
                "the progress file of {} would be {} bytes, more than a hub accepts; sync online instead",
                p.name,
                bytes.len()
            )));
        }
        let expected = file.events.len();
        let public = key.verifying_key();
        write_atomically(&path, &bytes, |written| {
            // Check what is on the stick, not what is in memory.
            let back = read_progress_file(written)
                .and_then(|f| f.verify(&public))
                .map_err(|e| e.to_string())?;
            if back.events.len() != expected || back.file_id != file.file_id {
                return Err("the file read back is not the one written".into());
            }
            Ok(())
        })?;
        files.push(ExportedFile {
            path,
            profile: p.id,
            profile_name: p.name,
            file_id: file.file_id,
            events: expected,
            left_for_next_file: pending.saturating_sub(expected as u64),
        });
    }
    Ok(Export {
        files,
        not_enrolled,
    })
}

/// The file name of `profile`'s progress file when several are exported
/// to `name`: `-<profile>` before the extension, in a safe alphabet, and
/// not one of `taken` (compared without case, as on a FAT stick), which it
/// joins. Two profiles whose names differ only in punctuation ("Ali Said",
/// "Ali.Said") get two files, not one written over the other.
fn file_name_of(name: &str, profile: &str, taken: &mut Vec<String>) -> String {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    let who: String = profile
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut file = format!("{stem}-{who}{ext}");
    let mut n = 1;
    while taken.contains(&file.to_lowercase()) {
        n += 1;
        file = format!("{stem}-{who}-{n}{ext}");
    }
    taken.push(file.to_lowercase());
    file
}

/// Write `bytes` to `path` completely or not at all, `check`ing what is on
/// the stick before it takes the file's name: see
/// [`outpost_package::durable::write_atomically`].
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    check: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<(), SyncError> {
    outpost_package::durable::write_atomically(path, bytes, check)
        .map_err(|e| SyncError::file(&e.path, e.detail))
}

/// What importing a receipt did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptImport {
    pub file_id: Uuid,
    pub profile: ProfileId,
    pub profile_name: String,
    /// The receipt had been imported before: nothing was marked again.
    pub already_imported: bool,
    /// Events now marked confirmed by this receipt.
    pub confirmed: usize,
    /// Events that were confirmed already (by an online sync, say).
    pub already_confirmed: usize,
    /// Refused by the hub, with its reason; kept on the laptop.
    pub rejected: Vec<(Uuid, String)>,
    /// The hub holds different events under these ids; kept on the laptop.
    pub conflicts: Vec<Uuid>,
    /// Ids that are not events of this laptop.
    pub unknown: usize,
}

/// Import a receipt the hub wrote for one of this laptop's progress files:
/// check that it is for this device and one of its enrolled profiles,
/// verify the hub's signature with the key stored at enrolment, and mark
/// the events the hub holds as confirmed. A receipt counts once.
pub fn import_receipt(store: &Store, path: &Path) -> Result<ReceiptImport, SyncError> {
    let size = std::fs::metadata(path)
        .map_err(|e| SyncError::file(path, e))?
        .len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(SyncError::file(
            path,
            format!("{size} bytes: too large to be a receipt"),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| SyncError::file(path, e))?;
    let opened = read_receipt(&bytes).map_err(|e| SyncError::file(path, e))?;
    let claimed = opened.claimed().clone();
    if claimed.device_id != store.device_id() {
        return Err(SyncError::Receipt(format!(
            "this receipt is for device {}, not for this laptop ({}): import it on the laptop that wrote the progress file",
            claimed.device_id,
            store.device_id()
        )));
    }
    let profile = ProfileId(claimed.learner_id);
    let who = store.profile(profile).map_err(|_| {
        SyncError::Receipt(format!(
            "this receipt is for learner profile {}, which is not on this laptop",
            claimed.learner_id
        ))
    })?;
    let enrolment = store.enrolment(profile)?.ok_or_else(|| {
        SyncError::Receipt(format!(
            "{} is not enrolled with a hub on this laptop, so the receipt's signature cannot be checked",
            who.name
        ))
    })?;
    let key = enrolment
        .hub_public_key
        .as_deref()
        .and_then(public_key_from_hex)
        .ok_or_else(|| {
            SyncError::Receipt(format!(
                "the hub key of {}'s enrolment is missing: enrol again, then import the receipt",
                who.name
            ))
        })?;
    let receipt = opened.verify(&key).map_err(|e| SyncError::file(path, e))?;
    let mut marks = Vec::with_capacity(receipt.results.len());
    let mut rejected = Vec::new();
    let mut conflicts = Vec::new();
    for r in &receipt.results {
        let outcome = match &r.status {
            EventStatus::Accepted | EventStatus::Duplicate => SyncOutcome::Receipted,
            EventStatus::Conflict => {
                conflicts.push(r.id);
                SyncOutcome::Conflict(crate::sync::CONFLICT_DETAIL.into())
            }
            EventStatus::Rejected { reason } => {
                rejected.push((r.id, reason.clone()));
                SyncOutcome::Rejected(reason.clone())
            }
        };
        marks.push((r.id, outcome));
    }
    // What the receipt will change, counted before it is applied.
    let (mut to_confirm, mut already_confirmed) = (0, 0);
    for (id, o) in &marks {
        if matches!(o, SyncOutcome::Receipted) {
            match store.sync_state(*id)? {
                Some(s) if s.confirmed() => already_confirmed += 1,
                Some(_) => to_confirm += 1,
                None => {}
            }
        }
    }
    let mut out = ReceiptImport {
        file_id: receipt.file_id,
        profile,
        profile_name: who.name,
        already_imported: false,
        confirmed: to_confirm,
        already_confirmed,
        rejected,
        conflicts,
        unknown: 0,
    };
    match store.import_receipt(receipt.file_id, profile, &marks)? {
        None => {
            out.already_imported = true;
            out.confirmed = 0;
        }
        Some(report) => out.unknown = report.unknown.len(),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_bad_receipt_is_a_clear_error_and_marks_nothing() {
        use ed25519_dalek::SigningKey;
        use outpost_learner::{Enrolment, Language};
        use outpost_protocol::{public_key_to_hex, write_receipt, EventResult, Receipt};

        let data = tempfile::tempdir().unwrap();
        let usb = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let p = store.create_profile("Amina", Language::Fr, None).unwrap();
        let hub = SigningKey::from_bytes(&[3u8; 32]);
        store
            .set_enrolment(&Enrolment {
                profile: p.id,
                hub_url: "https://hub.example.org".into(),
                device_token: "ab".repeat(32),
                hub_learner_id: p.id.0,
                cohort: "Beirut".into(),
                hub_public_key: Some(public_key_to_hex(&hub.verifying_key())),
                enrolled_at: chrono::Utc::now(),
            })
            .unwrap();
        let receipt = Receipt {
            protocol: PROTOCOL_VERSION,
            file_id: Uuid::now_v7(),
            device_id: store.device_id(),
            learner_id: p.id.0,
            hub_time: chrono::Utc::now(),
            results: vec![EventResult {
                id: Uuid::now_v7(),
                status: EventStatus::Accepted,
            }],
        };
        let good = write_receipt(&receipt, &hub);
        let put = |name: &str, bytes: &[u8]| {
            let path = usb.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let refused = |path: &Path| import_receipt(&store, path).unwrap_err().to_string();

        let huge = usb.path().join("huge.receipt");
        std::fs::File::create(&huge)
            .unwrap()
            .set_len(MAX_FILE_BYTES as u64 + 1)
            .unwrap();
        assert!(refused(&huge).contains("too large"), "{}", refused(&huge));

        let cut = put("cut.receipt", &good[..good.len() / 2]);
        assert!(refused(&cut).contains("damaged"), "{}", refused(&cut));

        // Still a well-formed receipt, but not the one the hub signed.
        let bad = String::from_utf8(good.clone())
            .unwrap()
            .replace("\"accepted\"", "\"duplicate\"");
        assert_ne!(bad.as_bytes(), good);
        let tampered = put("tampered.receipt", bad.as_bytes());
        assert!(refused(&tampered).contains("signature does not match"));

        let other_hub = SigningKey::from_bytes(&[4u8; 32]);
        let foreign = put("foreign.receipt", &write_receipt(&receipt, &other_hub));
        assert!(refused(&foreign).contains("signature does not match"));

        let mut elsewhere = receipt.clone();
        elsewhere.device_id = Uuid::now_v7();
        let elsewhere = put("elsewhere.receipt", &write_receipt(&elsewhere, &hub));
        assert!(
            refused(&elsewhere).contains("not for this laptop"),
            "{}",
            refused(&elsewhere)
        );

        let mut stranger = receipt.clone();
        stranger.learner_id = Uuid::now_v7();
        let stranger = put("stranger.receipt", &write_receipt(&stranger, &hub));
        assert!(
            refused(&stranger).contains("not on this laptop"),
            "{}",
            refused(&stranger)
        );

        // None of them counted: the real receipt is still new.
        let ok = import_receipt(&store, &put("good.receipt", &good)).unwrap();
        assert!(!ok.already_imported);
        assert_eq!(ok.unknown, 1);
        let again = import_receipt(&store, &usb.path().join("good.receipt")).unwrap();
        assert!(again.already_imported);
    }

    #[test]
    fn profiles_whose_names_look_alike_get_a_file_each() {
        let mut taken = Vec::new();
        let mut name = |p: &str| file_name_of("progress.txt", p, &mut taken);
        assert_eq!(name("Amina"), "progress-Amina.txt");
        assert_eq!(name("Ali Said"), "progress-Ali_Said.txt");
        assert_eq!(name("Ali.Said"), "progress-Ali_Said-2.txt");
        assert_eq!(name("ali/said"), "progress-ali_said-3.txt");
        assert_eq!(name("Zoé"), "progress-Zoé.txt");
        assert_eq!(
            file_name_of("stick", "Amina", &mut Vec::new()),
            "stick-Amina"
        );
        assert_eq!(file_name_of(".txt", "Amina", &mut Vec::new()), ".txt-Amina");
    }

    /// The write itself is `outpost_package::durable`'s, tested there; here,
    /// that its refusals reach the learner as file errors with their reason.
    #[test]
    fn a_missing_folder_or_a_failed_check_is_a_file_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-stick").join("progress.txt");
        let err = write_atomically(&path, b"x", |_| Ok(())).unwrap_err();
        assert!(matches!(err, SyncError::File { .. }), "{err}");
        assert!(names(dir.path()).is_empty());

        let path = dir.path().join("progress.txt");
        std::fs::write(&path, b"the previous export").unwrap();
        let err =
            write_atomically(&path, b"new bytes", |_| Err("read back wrong".into())).unwrap_err();
        assert!(matches!(err, SyncError::File { .. }), "{err}");
        assert!(err.to_string().contains("read back wrong"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"the previous export");
        assert_eq!(
            names(dir.path()),
            ["progress.txt"],
            "no temporary file left"
        );
    }
}
