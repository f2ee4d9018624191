//! The commands the interface calls. Each is thin: it finds the open
//! profile, makes one call into the learner core on a blocking thread (never
//! the main thread, which draws the window), and hands back the core's own
//! view types as JSON — the interface uses the same field names as the
//! core. Errors become [`AppError`]: a kind and a readable message.
//!
//! Adding a command: write it here in the same shape and list it in
//! `gui::run`'s `generate_handler!`. The sync client's commands (sync now,
//! enrol, export progress, import a receipt) are in `sync.rs`; their
//! buttons are in `#sync-actions` and the settings (ui/js/sync.js).

use crate::error::{AppError, ErrorKind};
use crate::gui::AppState;
use outpost_learner::{
    settings, Attempt, CatalogEntry, Certificate, Feedback, InstallReport, Language, LessonView,
    Outline, Profile, ProfileId, QuizResult, Recorded, SearchHit, SearchOptions, UpdatePreview,
};
use outpost_model::CourseProgress;
use serde::Serialize;
use std::path::PathBuf;
use tauri::{AppHandle, Manager};
use uuid::Uuid;

/// The profile opened last, opened again at start when it has no PIN.
const LAST_PROFILE: &str = "app.last_profile";

/// Run `f` with the app's state on a blocking thread (never the main
/// thread, which draws the window).
pub(crate) async fn blocking<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<AppState>()))
        .await
        .map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                format!("a background task failed: {e}"),
            )
        })?
}

/// With the open profile and the store.
async fn as_learner<T: Send + 'static>(
    app: AppHandle,
    f: impl FnOnce(&outpost_learner::Store, ProfileId) -> Result<T, outpost_learner::LearnerError>
        + Send
        + 'static,
) -> Result<T, AppError> {
    blocking(app, |st| {
        let p = st.profile()?;
        st.with_store(|s| f(s, p).map_err(AppError::from))
    })
    .await
}

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub data_dir: String,
    /// Something the learner should know from start-up (the bundled course
    /// could not be installed), or None.
    pub startup_problem: Option<String>,
}

#[tauri::command]
pub async fn app_info(app: AppHandle) -> Result<AppInfo, AppError> {
    blocking(app, |st| {
        // Wait for the store so that a start-up problem is known.
        let _ = st.with_store(|_| Ok(()));
        Ok(AppInfo {
            version: env!("CARGO_PKG_VERSION"),
            data_dir: st.data_dir.display().to_string(),
            startup_problem: st.startup_problem.lock().ok().and_then(|p| p.clone()),
        })
    })
    .await
}

#[tauri::command]
pub async fn profiles_list(app: AppHandle) -> Result<Vec<Profile>, AppError> {
    blocking(app, |st| st.with_store(|s| Ok(s.profiles()?))).await
}

/// The open profile; at start, the last one used if it has no PIN.
#[tauri::command]
pub async fn profile_current(app: AppHandle) -> Result<Option<Profile>, AppError> {
    blocking(app, |st| {
        if let Ok(id) = st.profile() {
            return st.with_store(|s| Ok(Some(s.profile(id)?)));
        }
        let last = st.with_store(|s| {
            let Some(id) = s.setting(LAST_PROFILE)? else {
                return Ok(None);
            };
            let Ok(uuid) = Uuid::parse_str(&id) else {
                return Ok(None);
            };
            Ok(s.profile(ProfileId(uuid)).ok().filter(|p| !p.has_pin))
        })?;
        st.set_profile(last.as_ref().map(|p| p.id));
        Ok(last)
    })
    .await
}

fn language(code: &str) -> Result<Language, AppError> {
    Language::parse(code).map_err(AppError::from)
}

#[tauri::command]
pub async fn profile_create(
    app: AppHandle,
    name: String,
    language: String,
    pin: Option<String>,
) -> Result<Profile, AppError> {
    let lang = self::language(&language)?;
    blocking(app, move |st| {
        let pin = pin.filter(|p| !p.is_empty());
        let profile = st.with_store(|s| {
            let p = s.create_profile(&name, lang, pin.as_deref())?;
            s.set_setting(LAST_PROFILE, &p.id.to_string())?;
            Ok(p)
        })?;
        st.set_profile(Some(profile.id));
        Ok(profile)
    })
    .await
}

#[tauri::command]
pub async fn profile_open(
    app: AppHandle,
    id: ProfileId,
    pin: Option<String>,
) -> Result<Profile, AppError> {
    blocking(app, move |st| {
        let profile = st.with_store(|s| {
            if !s.verify_pin(id, pin.as_deref().unwrap_or(""))? {
                return Err(outpost_learner::LearnerError::WrongPin.into());
            }
            s.set_setting(LAST_PROFILE, &id.to_string())?;
            Ok(s.profile(id)?)
        })?;
        st.set_profile(Some(profile.id));
        Ok(profile)
    })
    .await
}

#[tauri::command]
pub async fn profile_set_language(app: AppHandle, language: String) -> Result<Profile, AppError> {
    let lang = self::language(&language)?;
    as_learner(app, move |s, p| {
        s.set_language(p, lang)?;
        s.profile(p)
    })
    .await
}

#[tauri::command]
pub async fn catalog(app: AppHandle) -> Result<Vec<CatalogEntry>, AppError> {
    as_learner(app, |s, p| s.catalog(p)).await
}

#[tauri::command]
pub async fn outline(app: AppHandle, course: String) -> Result<Outline, AppError> {
    as_learner(app, move |s, p| s.outline(p, &course)).await
}

#[tauri::command]
pub async fn lesson(
    app: AppHandle,
    course: String,
    lesson: String,
) -> Result<LessonView, AppError> {
    as_learner(app, move |s, p| s.lesson(p, &course, &lesson)).await
}

#[tauri::command]
pub async fn record_view(
    app: AppHandle,
    course: String,
    lesson: String,
    seconds: u32,
    position: f64,
    reached_end: bool,
) -> Result<Recorded, AppError> {
    as_learner(app, move |s, p| {
        s.view_lesson(p, &course, &lesson, seconds, position, reached_end)
    })
    .await
}

/// A knowledge check (no attempt) or a question of an open quiz attempt.
#[tauri::command]
pub async fn answer_question(
    app: AppHandle,
    course: String,
    attempt: Option<Uuid>,
    question: String,
    response: Vec<String>,
) -> Result<Feedback, AppError> {
    as_learner(app, move |s, p| {
        s.answer_question(p, &course, attempt, &question, &response)
    })
    .await
}

/// The attempt at this quiz left open (not submitted), to carry on with.
#[tauri::command]
pub async fn quiz_open(
    app: AppHandle,
    course: String,
    quiz: String,
) -> Result<Option<Attempt>, AppError> {
    as_learner(app, move |s, p| s.open_attempt(p, &course, &quiz)).await
}

#[tauri::command]
pub async fn quiz_start(app: AppHandle, course: String, quiz: String) -> Result<Attempt, AppError> {
    as_learner(app, move |s, p| s.start_quiz(p, &course, &quiz)).await
}

#[tauri::command]
pub async fn quiz_submit(
    app: AppHandle,
    course: String,
    attempt: Uuid,
    seconds: u32,
) -> Result<QuizResult, AppError> {
    as_learner(app, move |s, p| s.submit_quiz(p, &course, attempt, seconds)).await
}

#[tauri::command]
pub async fn progress(app: AppHandle, course: String) -> Result<CourseProgress, AppError> {
    as_learner(app, move |s, p| s.progress(p, &course)).await
}

/// The certificate, or None while it is not earned.
#[tauri::command]
pub async fn certificate(app: AppHandle, course: String) -> Result<Option<Certificate>, AppError> {
    as_learner(app, move |s, p| s.certificate(p, &course)).await
}

/// Search every installed course in the learner's language; where nothing
/// is found in it, in every language (a course may not have theirs).
#[tauri::command]
pub async fn search(app: AppHandle, query: String) -> Result<Vec<SearchHit>, AppError> {
    as_learner(app, move |s, p| {
        let lang = s.profile(p)?.language.code().to_string();
        let hits = s.search(
            &query,
            &SearchOptions {
                lang: Some(lang),
                ..SearchOptions::default()
            },
        )?;
        if hits.is_empty() {
            s.search(&query, &SearchOptions::default())
        } else {
            Ok(hits)
        }
    })
    .await
}

fn package_path(path: &str) -> Result<PathBuf, AppError> {
    let path = path.trim();
    if path.is_empty() {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "choose a course package file (.opkg) first",
        ));
    }
    Ok(PathBuf::from(path))
}

/// What installing the package would change; changes nothing.
#[tauri::command]
pub async fn import_preview(app: AppHandle, path: String) -> Result<UpdatePreview, AppError> {
    let path = package_path(&path)?;
    blocking(app, move |st| {
        st.with_store(|s| Ok(s.preview_update(&path)?))
    })
    .await
}

#[tauri::command]
pub async fn import_apply(app: AppHandle, path: String) -> Result<InstallReport, AppError> {
    let path = package_path(&path)?;
    blocking(app, move |st| st.with_store(|s| Ok(s.install(&path)?))).await
}

/// What the always-visible sync area shows.
#[derive(Debug, Serialize)]
pub struct SyncStatus {
    /// Events recorded here that no hub has confirmed yet.
    pub pending: u64,
    /// When a hub last confirmed a sync; None: never.
    pub last_confirmed_sync: Option<String>,
    pub last_error: Option<String>,
    pub hub_url: Option<String>,
    /// None: not known yet (the background sync has not probed the hub).
    pub hub_reachable: Option<bool>,
}

#[tauri::command]
pub async fn sync_status(app: AppHandle) -> Result<SyncStatus, AppError> {
    let hub_reachable = app.state::<crate::sync::SyncState>().reachable();
    blocking(app, move |st| {
        st.with_store(|s| {
            let status = s.status()?;
            Ok(SyncStatus {
                pending: status.pending,
                last_confirmed_sync: status.last_success_at.map(|t| t.to_rfc3339()),
                last_error: status.last_error,
                hub_url: status.hub_url,
                hub_reachable,
            })
        })
    })
    .await
}

#[derive(Debug, Serialize)]
pub struct Settings {
    pub hub_url: Option<String>,
}

#[tauri::command]
pub async fn settings_get(app: AppHandle) -> Result<Settings, AppError> {
    blocking(app, |st| {
        st.with_store(|s| {
            Ok(Settings {
                hub_url: s.setting(settings::HUB_URL)?,
            })
        })
    })
    .await
}

/// Check a hub address typed by a person: the sync client's own check, so
/// an address Settings keeps is one enrolment accepts.
pub fn check_hub_url(url: &str) -> Result<String, AppError> {
    Ok(outpost_sync::normalise_hub_url(url)?)
}

#[tauri::command]
pub async fn settings_set_hub_url(app: AppHandle, url: Option<String>) -> Result<(), AppError> {
    let url = url
        .filter(|u| !u.trim().is_empty())
        .map(|u| check_hub_url(&u))
        .transpose()?;
    blocking(app, move |st| {
        st.with_store(|s| match &url {
            Some(u) => Ok(s.set_setting(settings::HUB_URL, u)?),
            None => Ok(s.remove_setting(settings::HUB_URL)?),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_addresses_are_checked() {
        assert_eq!(
            check_hub_url(" https://hub.example.org/ ").unwrap(),
            "https://hub.example.org"
        );
        assert_eq!(
            check_hub_url("http://127.0.0.1:8470").unwrap(),
            "http://127.0.0.1:8470"
        );
        for bad in [
            "hub.example.org",
            "ftp://x",
            "https://",
            "https:// x",
            "https://h/?x=1",
        ] {
            let e = check_hub_url(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn an_empty_package_path_is_refused_with_words() {
        let e = package_path("  ").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert!(e.message.contains(".opkg"));
    }
}
