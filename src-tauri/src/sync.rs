//! The sync client in the window: `outpost-sync`'s background loop starts
//! with the window (a thread and a store connection of its own, so nothing
//! it does blocks the interface), every change of its status reaches the
//! interface as a `sync-status` event, and the sync area and the settings
//! call the commands below: sync now, enrol, export progress to a file,
//! import a receipt. `ui/js/sync.js` is their interface.

use crate::commands::blocking;
use crate::error::{AppError, ErrorKind};
use crate::gui::AppState;
use outpost_sync::{
    Enrolled, Export, LoopConfig, ReceiptImport, SyncConfig, SyncError, SyncHandle, SyncStatus,
};
use std::path::{Path, PathBuf};
use tauri::{AppHandle, Emitter, Manager};

/// The event the interface listens to; its payload is a [`SyncStatus`].
pub const STATUS_EVENT: &str = "sync-status";

/// The background sync, once started; or why it could not start.
pub struct SyncState {
    handle: Result<SyncHandle, String>,
}

impl SyncState {
    /// Start the loop on `data_dir` (the window's data folder).
    pub fn start(data_dir: &Path) -> SyncState {
        let handle = SyncHandle::start(data_dir, SyncConfig::default(), LoopConfig::default())
            .map_err(|e| format!("background sync is off: {e}"));
        if let Err(e) = &handle {
            eprintln!("outpost: {e}");
        }
        SyncState { handle }
    }

    fn handle(&self) -> Result<&SyncHandle, AppError> {
        self.handle
            .as_ref()
            .map_err(|why| AppError::new(ErrorKind::Sync, why.clone()))
    }

    /// Whether the hub answered the last probe (None: not known yet).
    pub fn reachable(&self) -> Option<bool> {
        self.handle().ok().and_then(|h| h.status().reachable)
    }
}

impl From<SyncError> for AppError {
    fn from(e: SyncError) -> AppError {
        let kind = match e {
            SyncError::BadInput(_) => ErrorKind::InvalidInput,
            SyncError::Store(_) | SyncError::File { .. } => ErrorKind::Storage,
            _ => ErrorKind::Sync,
        };
        AppError::new(kind, e.to_string())
    }
}

/// Forward every status change to the interface, for as long as the app
/// runs. Called once the window's event loop exists.
pub fn forward_status(app: &AppHandle) {
    let Ok(mut rx) = app.state::<SyncState>().handle().map(|h| h.subscribe()) else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let status = rx.borrow_and_update().clone();
            let _ = app.emit(STATUS_EVENT, &status);
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
}

#[tauri::command]
pub fn sync_state(app: AppHandle) -> Result<SyncStatus, AppError> {
    Ok(app.state::<SyncState>().handle()?.status())
}

/// "Sync now": at once, or right after the sync that is running.
#[tauri::command]
pub fn sync_now(app: AppHandle) -> Result<(), AppError> {
    app.state::<SyncState>().handle()?.sync_now();
    Ok(())
}

/// Enrol the open profile with a hub; the loop syncs right after.
#[tauri::command]
pub async fn sync_enroll(
    app: AppHandle,
    hub_url: String,
    code: String,
    email: Option<String>,
) -> Result<Enrolled, AppError> {
    let profile = app.state::<AppState>().profile()?;
    let email = email.filter(|e| !e.trim().is_empty());
    // The sync thread does the talking; this only waits for its answer.
    let sync = app.state::<SyncState>();
    Ok(sync
        .handle()?
        .enroll(&hub_url, &code, profile, email.as_deref())
        .await?)
}

fn chosen_path(path: &str, what: &str) -> Result<PathBuf, AppError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            format!("choose where the {what} is"),
        ));
    }
    Ok(PathBuf::from(path))
}

/// Write every event not yet confirmed to signed progress files at `path`
/// (a USB stick, when there is no network). They stay pending until their
/// receipt is imported.
#[tauri::command]
pub async fn sync_export_progress(app: AppHandle, path: String) -> Result<Export, AppError> {
    let path = chosen_path(&path, "progress file")?;
    blocking(app, move |st| {
        st.with_store(|s| Ok(outpost_sync::export_progress(s, &path, None)?))
    })
    .await
}

/// Import the hub's receipt for a progress file: its events are confirmed.
#[tauri::command]
pub async fn sync_import_receipt(app: AppHandle, path: String) -> Result<ReceiptImport, AppError> {
    let path = chosen_path(&path, "receipt")?;
    let r = blocking(app.clone(), move |st| {
        st.with_store(|s| Ok(outpost_sync::import_receipt(s, &path)?))
    })
    .await?;
    if let Ok(h) = app.state::<SyncState>().handle() {
        h.refresh();
    }
    Ok(r)
}
