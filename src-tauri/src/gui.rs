//! The window: Tauri set up with the learner store, the commands, the
//! `outpost-asset` protocol for course images and the file dialog.
//!
//! The store is opened (and the bundled course ensured) on a thread of its
//! own while WebKit starts, so the two overlap; the first command waits for
//! it. A store that cannot be opened does not stop the window: every
//! command then answers with the reason, which the interface shows.

use crate::error::{AppError, ErrorKind};
use crate::{bundled, commands};
use outpost_learner::{settings, ProfileId, Store};
use std::path::PathBuf;
use std::sync::Mutex;
use std::thread::JoinHandle;
use tauri::http::{Response, StatusCode};
use tauri::Manager;

enum Slot {
    Opening(JoinHandle<Result<(Store, Option<String>), AppError>>),
    // Boxed: the store is large and the slot mostly waits in `Opening`.
    Ready(Box<Store>),
    Failed(AppError),
    /// Only while a thread is being joined.
    Empty,
}

pub struct AppState {
    slot: Mutex<Slot>,
    /// The profile that is open in the window (its PIN was given).
    pub current: Mutex<Option<ProfileId>>,
    pub data_dir: PathBuf,
    /// Why the bundled course could not be installed, if it could not.
    pub startup_problem: Mutex<Option<String>>,
}

impl AppState {
    fn opening(data_dir: PathBuf) -> AppState {
        let dir = data_dir.clone();
        let handle = std::thread::spawn(move || open_store(dir));
        AppState {
            slot: Mutex::new(Slot::Opening(handle)),
            current: Mutex::new(None),
            data_dir,
            startup_problem: Mutex::new(None),
        }
    }

    /// Run `f` with the store (waiting for it to open). One call at a time:
    /// the store holds one SQLite connection.
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut slot = self
            .slot
            .lock()
            .map_err(|_| AppError::new(ErrorKind::Internal, "the store lock was poisoned"))?;
        if let Slot::Opening(_) = &*slot {
            let Slot::Opening(handle) = std::mem::replace(&mut *slot, Slot::Empty) else {
                unreachable!("checked just above")
            };
            *slot = match handle.join() {
                Ok(Ok((store, problem))) => {
                    if let Ok(mut p) = self.startup_problem.lock() {
                        *p = problem;
                    }
                    Slot::Ready(Box::new(store))
                }
                Ok(Err(e)) => Slot::Failed(e),
                Err(_) => Slot::Failed(AppError::new(
                    ErrorKind::Internal,
                    "opening the data folder crashed",
                )),
            };
        }
        match &*slot {
            Slot::Ready(store) => f(store),
            Slot::Failed(e) => Err(e.clone()),
            Slot::Opening(_) | Slot::Empty => {
                Err(AppError::new(ErrorKind::Internal, "the store is not open"))
            }
        }
    }

    pub fn profile(&self) -> Result<ProfileId, AppError> {
        self.current
            .lock()
            .ok()
            .and_then(|c| *c)
            .ok_or_else(AppError::no_profile)
    }

    pub fn set_profile(&self, id: Option<ProfileId>) {
        if let Ok(mut c) = self.current.lock() {
            *c = id;
        }
    }
}

/// Open the store and make sure the bundled course is installed. A failure
/// to install the bundled course is reported, not fatal: other courses may
/// be there.
fn open_store(dir: PathBuf) -> Result<(Store, Option<String>), AppError> {
    let store = Store::open(&dir).map_err(AppError::from)?;
    let problem = match bundled::publisher_key() {
        Err(e) => Some(e),
        Ok(key) => store
            .ensure_bundled(bundled::PACKAGE, key)
            .err()
            .map(|e| format!("the course that comes with the app could not be installed: {e}")),
    };
    if let Some(p) = &problem {
        eprintln!("outpost: {p}");
    }
    preset_hub_url(&store, std::env::var(HUB_URL_ENV).ok());
    Ok((store, problem))
}

/// A hub address set in the environment (`OUTPOST_HUB_URL`, by a post's IT
/// or by `cargo xtask run`) fills in Settings when the learner has not set
/// one; what a learner typed is never overwritten. A bad address is said on
/// stderr and ignored.
fn preset_hub_url(store: &Store, preset: Option<String>) {
    let Some(url) = preset else {
        return;
    };
    if matches!(store.setting(settings::HUB_URL), Ok(Some(_))) {
        return;
    }
    match commands::check_hub_url(&url) {
        Ok(url) => {
            if let Err(e) = store.set_setting(settings::HUB_URL, &url) {
                eprintln!("outpost: cannot keep the hub address from {HUB_URL_ENV}: {e}");
            }
        }
        Err(e) => eprintln!("outpost: {HUB_URL_ENV} ignored: {}", e.message),
    }
}

/// The environment variable that presets the hub address.
pub const HUB_URL_ENV: &str = "OUTPOST_HUB_URL";

/// `outpost-asset://localhost/<course>/<name>`: an image of an installed
/// course, from its verified package.
fn asset_response(app: &tauri::AppHandle, path: &str) -> Response<Vec<u8>> {
    let not_found = |why: String| {
        Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(why.into_bytes())
            .unwrap_or_default()
    };
    let Some(decoded) = percent_decode(path.trim_start_matches('/')) else {
        return not_found(format!("bad escape in {path:?}"));
    };
    let Some((course, name)) = decoded.split_once('/') else {
        return not_found(format!("no asset at {path:?}"));
    };
    let state = app.state::<AppState>();
    match state.with_store(|s| s.asset(course, name).map_err(AppError::from)) {
        Ok(Some(asset)) => Response::builder()
            .header("Content-Type", asset.media_type)
            // Course images never change under one content hash, but a
            // course update may replace them: do not cache.
            .header("Cache-Control", "no-store")
            .header("X-Content-Type-Options", "nosniff")
            .body(asset.bytes)
            .unwrap_or_default(),
        Ok(None) => not_found(format!("course {course} has no asset {name:?}")),
        Err(e) => not_found(e.message),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub fn run(data_dir: PathBuf) -> anyhow::Result<()> {
    let sync = crate::sync::SyncState::start(&data_dir);
    let state = AppState::opening(data_dir);
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .manage(sync)
        .setup(|app| {
            crate::sync::forward_status(app.handle());
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol("outpost-asset", |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            let path = request.uri().path().to_string();
            // Off the main thread: it may wait for the store.
            std::thread::spawn(move || responder.respond(asset_response(&app, &path)));
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::profiles_list,
            commands::profile_current,
            commands::profile_create,
            commands::profile_open,
            commands::profile_set_language,
            commands::catalog,
            commands::outline,
            commands::lesson,
            commands::record_view,
            commands::answer_question,
            commands::quiz_open,
            commands::quiz_start,
            commands::quiz_submit,
            commands::progress,
            commands::certificate,
            commands::search,
            commands::import_preview,
            commands::import_apply,
            commands::sync_status,
            commands::settings_get,
            commands::settings_set_hub_url,
            crate::sync::sync_state,
            crate::sync::sync_now,
            crate::sync::sync_enroll,
            crate::sync::sync_export_progress,
            crate::sync::sync_import_receipt,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .map_err(|e| anyhow::anyhow!("the window could not be opened: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{percent_decode, preset_hub_url};
    use outpost_learner::{settings, Store};

    #[test]
    fn a_preset_hub_address_fills_settings_but_never_replaces_the_learners() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let hub = |s: &Store| s.setting(settings::HUB_URL).unwrap();

        preset_hub_url(&store, Some("not a url".into()));
        assert_eq!(hub(&store), None, "a bad preset is ignored");

        preset_hub_url(&store, Some("http://127.0.0.1:8470/".into()));
        assert_eq!(hub(&store).as_deref(), Some("http://127.0.0.1:8470"));

        store
            .set_setting(settings::HUB_URL, "https://hub.example.org")
            .unwrap();
        preset_hub_url(&store, Some("http://127.0.0.1:8470".into()));
        assert_eq!(hub(&store).as_deref(), Some("https://hub.example.org"));

        preset_hub_url(&store, None);
        assert_eq!(hub(&store).as_deref(), Some("https://hub.example.org"));
    }

    #[test]
    fn asset_paths_decode_and_bad_escapes_are_refused() {
        assert_eq!(
            percent_decode("three%20phases.svg").as_deref(),
            Some("three phases.svg")
        );
        assert_eq!(percent_decode("caf%C3%A9").as_deref(), Some("café"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%FF"), None);
    }
}
