//! The headless `outpost` commands, for post IT and scripts. They open no
//! window and need no display.
//!
//! The product binary is `outpost` (in `src-tauri`): given arguments, it
//! calls [`run`] instead of opening the app. This crate's own
//! `outpost-headless` binary calls the same [`run`] so the commands can be
//! tested as a real process without WebKit; it is not shipped.
//!
//! ```text
//! outpost [--data-dir DIR] courses import FILE.opkg [--preview] [--json]
//! outpost courses list [--json]
//! outpost profiles add NAME [--lang en|fr|es|ar] [--json]
//! outpost profiles list [--json]
//! outpost progress [--profile NAME] [--json]
//! outpost status [--json]
//! outpost keys trust FILE.pub [--label TEXT]
//! outpost keys list [--json]
//! outpost enroll --hub URL --code CODE [--profile NAME] [--email E] [--json]
//! outpost sync [--json]
//! outpost export-progress --out FILE [--profile NAME] [--json]
//! outpost import-receipt FILE [--json]
//! ```
//!
//! The data directory is `--data-dir`, else `OUTPOST_DATA_DIR`, else
//! [`default_data_dir`] — the app must use the same function so both see
//! one store. Exit codes: 0 done, 1 the operation failed (the message says
//! why), 2 the command line is wrong.
//!
//! `enroll`, `sync`, `export-progress` and `import-receipt` are the sync
//! client's (`outpost-sync`). `sync` exits 0 only when every pending event
//! of the laptop is acknowledged by the hub; otherwise 1, with what is
//! wrong (the hub cannot be reached, events rejected and why) — the events
//! stay on the laptop either way.

mod sync_commands;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ed25519_dalek::VerifyingKey;
use outpost_learner::{ChangeList, CourseChanges, InstallOutcome, Language, Profile, Store};
use serde::Serialize;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The course that ships inside the app, installed and trusted at first run.
#[derive(Clone)]
pub struct BundledCourse {
    /// The `.opkg` file's bytes.
    pub package: std::borrow::Cow<'static, [u8]>,
    /// Its publisher's key, trusted by default.
    pub publisher_key: VerifyingKey,
}

/// What the host binary gives the commands.
#[derive(Clone, Default)]
pub struct Config {
    pub bundled: Option<BundledCourse>,
}

/// The environment variable naming the data directory.
pub const DATA_DIR_ENV: &str = "OUTPOST_DATA_DIR";

#[derive(Debug, Parser)]
#[command(
    name = "outpost",
    version,
    about = "Outpost: offline learning for consular officials. With arguments, runs a command and opens no window."
)]
struct Cli {
    /// The data directory (default: $OUTPOST_DATA_DIR, else the platform's data folder).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

/// Every headless command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install, update and list courses.
    #[command(subcommand)]
    Courses(CoursesCommand),
    /// Learner profiles on this laptop.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Each learner's progress in each course.
    Progress {
        /// Only this profile.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Events waiting for the hub, the last sync, the hub.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Publisher keys whose course packages this laptop accepts.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Enrol a learner profile with a hub, using a code from a trainer.
    Enroll {
        /// The hub's address, e.g. https://hub.example.org
        #[arg(long, value_name = "URL")]
        hub: String,
        /// The enrolment code.
        #[arg(long)]
        code: String,
        /// The profile to enrol (needed when the laptop has several).
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// The learner's e-mail: joins the learner's record on the hub if
        /// they already enrolled another laptop with it.
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// How the hub lists this laptop (default: its host name).
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Send waiting events to the hub and fetch what it has for this
    /// laptop. Exit 0 only when every event is acknowledged.
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Write every event not yet acknowledged to a signed progress file
    /// (for a USB stick, when there is no network).
    ExportProgress {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Only this profile.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import the receipt the hub wrote for a progress file: its events are
    /// then confirmed on this laptop.
    ImportReceipt {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CoursesCommand {
    /// Install or update a course from a package file (.opkg).
    Import {
        file: PathBuf,
        /// Only say what would change.
        #[arg(long)]
        preview: bool,
        #[arg(long)]
        json: bool,
    },
    /// The installed courses.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Add a learner profile.
    Add {
        name: String,
        /// Language: en, fr, es or ar.
        #[arg(long, default_value = "en")]
        lang: String,
        #[arg(long)]
        json: bool,
    },
    /// The profiles on this laptop.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Trust a publisher's public key file (as written by `outpost-course keygen`).
    Trust {
        file: PathBuf,
        #[arg(long)]
        label: Option<String>,
    },
    /// The trusted keys.
    List {
        #[arg(long)]
        json: bool,
    },
}

/// Run the command in `args` (the whole command line, program name first,
/// as `std::env::args_os()` gives it). Prints to stdout and stderr.
pub fn run<I, T>(args: I, config: &Config) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let code = run_with(
        args,
        config,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}

/// [`run`] with the output streams given; returns the exit code.
pub fn run_with<I, T>(args: I, config: &Config, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let shown = e.render().to_string();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = write!(out, "{shown}");
                    0
                }
                _ => {
                    let _ = write!(err, "{shown}");
                    2
                }
            };
        }
    };
    let result = data_dir(cli.data_dir.as_deref()).and_then(|dir| {
        let store = Store::open(&dir)
            .with_context(|| format!("cannot open the data directory {}", dir.display()))?;
        if let Some(b) = &config.bundled {
            if let Err(e) = store.ensure_bundled(&b.package, b.publisher_key) {
                let _ = writeln!(
                    err,
                    "warning: the bundled course could not be installed: {e}"
                );
            }
        }
        execute(&store, cli.command, out)
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "error: {e:#}");
            1
        }
    }
}

/// Where Outpost keeps its data when no directory is given: the platform's
/// per-user data folder (`$XDG_DATA_HOME/outpost` or `~/.local/share/outpost`
/// on Linux, `~/Library/Application Support/outpost` on macOS,
/// `%APPDATA%\outpost` on Windows).
pub fn default_data_dir() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        return env("APPDATA").map(|d| d.join("outpost"));
    }
    if cfg!(target_os = "macos") {
        return env("HOME").map(|h| h.join("Library/Application Support/outpost"));
    }
    env("XDG_DATA_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local/share")))
        .map(|d| d.join("outpost"))
}

fn data_dir(flag: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    default_data_dir().context(format!(
        "no data directory: pass --data-dir DIR or set {DATA_DIR_ENV}"
    ))
}

fn json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn execute(store: &Store, command: Command, out: &mut dyn Write) -> anyhow::Result<()> {
    match command {
        Command::Courses(CoursesCommand::Import {
            file,
            preview,
            json: as_json,
        }) => {
            if preview {
                let p = store.preview_update(&file)?;
                if as_json {
                    return json(out, &p);
                }
                let what = match p.outcome {
                    InstallOutcome::Installed => "would install",
                    InstallOutcome::Updated => "would update",
                    InstallOutcome::Unchanged => "already installed:",
                    InstallOutcome::KeptNewer => "a newer version is installed:",
                };
                writeln!(
                    out,
                    "{what} {} {}{} ({})",
                    p.course_id,
                    version_step(p.installed_version.as_deref(), p.outcome),
                    p.offered_version,
                    p.title
                )?;
                write_changes(out, &p.changes, p.outcome)?;
                return Ok(());
            }
            let r = store.install(&file)?;
            if as_json {
                return json(out, &r);
            }
            let what = match r.outcome {
                InstallOutcome::Installed => "Installed",
                InstallOutcome::Updated => "Updated",
                InstallOutcome::Unchanged => "Already installed:",
                InstallOutcome::KeptNewer => "Kept the newer installed version of",
            };
            writeln!(
                out,
                "{what} {} {}{} ({})",
                r.course_id,
                version_step(r.previous_version.as_deref(), r.outcome),
                r.version,
                r.title
            )?;
            write_changes(out, &r.changes, r.outcome)?;
            Ok(())
        }
        Command::Courses(CoursesCommand::List { json: as_json }) => {
            let courses = store.courses()?;
            if as_json {
                return json(out, &courses);
            }
            if courses.is_empty() {
                writeln!(
                    out,
                    "No course is installed. Import one with: outpost courses import FILE.opkg"
                )?;
            }
            for c in courses {
                writeln!(
                    out,
                    "{}\t{}\t{}\t[{}]\t~{} min",
                    c.course_id,
                    c.version,
                    c.title,
                    c.languages.join(", "),
                    c.estimated_minutes
                )?;
            }
            Ok(())
        }
        Command::Profiles(ProfilesCommand::Add {
            name,
            lang,
            json: as_json,
        }) => {
            let language = Language::parse(&lang)?;
            let p = store.create_profile(&name, language, None)?;
            if as_json {
                return json(out, &profile_json(&p));
            }
            writeln!(
                out,
                "Added profile {} ({}), id {}",
                p.name,
                p.language.code(),
                p.id
            )?;
            Ok(())
        }
        Command::Profiles(ProfilesCommand::List { json: as_json }) => {
            let profiles = store.profiles()?;
            if as_json {
                return json(out, &profiles.iter().map(profile_json).collect::<Vec<_>>());
            }
            if profiles.is_empty() {
                writeln!(
                    out,
                    "No profile yet. Add one with: outpost profiles add NAME --lang fr"
                )?;
            }
            for p in profiles {
                writeln!(
                    out,
                    "{}\t{}\t{}{}",
                    p.name,
                    p.language.code(),
                    p.id,
                    if p.has_pin { "\tPIN" } else { "" }
                )?;
            }
            Ok(())
        }
        Command::Progress {
            profile,
            json: as_json,
        } => {
            let profiles = match profile {
                Some(name) => vec![store.profile_by_name(&name)?],
                None => store.profiles()?,
            };
            let mut rows = Vec::new();
            for p in &profiles {
                for c in store.installed_courses()? {
                    rows.push(progress_row(store, p, &c)?);
                }
            }
            if as_json {
                return json(out, &rows);
            }
            if rows.is_empty() {
                writeln!(out, "No progress to show (no profile or no course).")?;
            }
            for r in rows {
                writeln!(
                    out,
                    "{}\t{}\t{:>3}%\t{}\tmodules {}/{}\t{}",
                    r.profile,
                    r.course_id,
                    (r.fraction_done * 100.0).round(),
                    r.state,
                    r.modules_completed,
                    r.modules_total,
                    match r.best_score {
                        Some(s) => format!("best {:.0}%", s * 100.0),
                        None => "no assessment yet".into(),
                    }
                )?;
            }
            Ok(())
        }
        Command::Status { json: as_json } => {
            let s = store.status()?;
            if as_json {
                return json(out, &s);
            }
            let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("never".to_string(), |t| {
                    t.format("%Y-%m-%d %H:%M UTC").to_string()
                })
            };
            writeln!(out, "Waiting to sync: {} event(s)", s.pending)?;
            if s.rejected > 0 || s.conflicts > 0 {
                writeln!(
                    out,
                    "Refused by the hub: {} rejected, {} in conflict",
                    s.rejected, s.conflicts
                )?;
            }
            writeln!(out, "Last confirmed sync: {}", when(s.last_success_at))?;
            writeln!(out, "Last attempt: {}", when(s.last_attempt_at))?;
            if let Some(e) = &s.last_error {
                writeln!(out, "Last error: {e}")?;
            }
            writeln!(
                out,
                "Hub: {}",
                s.hub_url.as_deref().unwrap_or("not enrolled")
            )?;
            writeln!(out, "Device: {}", s.device_id)?;
            Ok(())
        }
        Command::Keys(KeysCommand::Trust { file, label }) => {
            let key = outpost_package::keys::read_verifying_key(&file)?;
            let label = label.unwrap_or_else(|| {
                file.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
            });
            store.trust_key(key, &label)?;
            writeln!(out, "Trusted publisher key {} ({label})", key_hex(&key))?;
            Ok(())
        }
        Command::Enroll {
            hub,
            code,
            profile,
            email,
            device_name,
            json: as_json,
        } => sync_commands::enroll(
            store,
            &hub,
            &code,
            profile.as_deref(),
            email.as_deref(),
            device_name,
            as_json,
            out,
        ),
        Command::Sync { json: as_json } => sync_commands::sync(store, as_json, out),
        Command::ExportProgress {
            out: file,
            profile,
            json: as_json,
        } => sync_commands::export(store, &file, profile.as_deref(), as_json, out),
        Command::ImportReceipt {
            file,
            json: as_json,
        } => sync_commands::import(store, &file, as_json, out),
        Command::Keys(KeysCommand::List { json: as_json }) => {
            let keys = store.trusted_keys()?;
            if as_json {
                return json(out, &keys);
            }
            if keys.is_empty() {
                writeln!(out, "No publisher key is trusted.")?;
            }
            for k in keys {
                writeln!(out, "{}\t{}", k.public_key, k.label)?;
            }
            Ok(())
        }
    }
}

fn key_hex(key: &VerifyingKey) -> String {
    key.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn version_step(previous: Option<&str>, outcome: InstallOutcome) -> String {
    match (previous, outcome) {
        (Some(v), InstallOutcome::Updated) => format!("{v} → "),
        _ => String::new(),
    }
}

fn write_changes(
    out: &mut dyn Write,
    changes: &CourseChanges,
    outcome: InstallOutcome,
) -> anyhow::Result<()> {
    if outcome != InstallOutcome::Updated {
        return Ok(());
    }
    let line = |what: &str, c: &ChangeList| {
        let part = |n: &str, ids: &[String]| {
            (!ids.is_empty()).then(|| format!("{} {n} ({})", ids.len(), ids.join(", ")))
        };
        let parts: Vec<String> = [
            part("added", &c.added),
            part("changed", &c.changed),
            part("removed", &c.removed),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| format!("  {what}: {}", parts.join(", ")))
    };
    for l in [
        line("modules", &changes.modules),
        line("lessons", &changes.lessons),
        line("questions", &changes.questions),
    ]
    .into_iter()
    .flatten()
    {
        writeln!(out, "{l}")?;
    }
    if !changes.lessons.removed.is_empty() || !changes.questions.removed.is_empty() {
        writeln!(out, "  Progress on removed lessons and questions no longer counts; progress on the others is kept.")?;
    } else {
        writeln!(out, "  Progress is kept.")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct ProfileJson<'a> {
    id: String,
    name: &'a str,
    language: &'a str,
    has_pin: bool,
    created_at: String,
}

fn profile_json(p: &Profile) -> ProfileJson<'_> {
    ProfileJson {
        id: p.id.to_string(),
        name: &p.name,
        language: p.language.code(),
        has_pin: p.has_pin,
        created_at: p.created_at.to_rfc3339(),
    }
}

#[derive(Serialize)]
struct ProgressRow {
    profile: String,
    profile_id: String,
    course_id: String,
    fraction_done: f64,
    state: &'static str,
    completed: bool,
    passed: bool,
    satisfied: bool,
    satisfied_at: Option<String>,
    seconds: u64,
    modules_completed: usize,
    modules_total: usize,
    /// Best final assessment score, scaled 0..=1.
    best_score: Option<f64>,
    assessment_attempts: u32,
}

fn progress_row(store: &Store, p: &Profile, course: &str) -> anyhow::Result<ProgressRow> {
    let pr = store.progress(p.id, course)?;
    let outline = store.outline(p.id, course)?;
    let state = match outline.state {
        outpost_learner::CourseState::NotStarted => "not_started",
        outpost_learner::CourseState::InProgress => "in_progress",
        outpost_learner::CourseState::Satisfied => "satisfied",
    };
    let assessment = outline.assessment.as_ref();
    Ok(ProgressRow {
        profile: p.name.clone(),
        profile_id: p.id.to_string(),
        course_id: course.to_string(),
        fraction_done: pr.fraction_done,
        state,
        completed: pr.completed,
        passed: pr.passed,
        satisfied: pr.satisfied,
        satisfied_at: pr.satisfied_at.map(|t| t.to_rfc3339()),
        seconds: pr.seconds,
        modules_completed: pr.modules.values().filter(|m| m.completed).count(),
        modules_total: pr.modules.len(),
        best_score: assessment.and_then(|a| a.best).map(|s| s.scaled()),
        assessment_attempts: assessment.map_or(0, |a| a.attempts),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_course_is_there_on_first_run() {
        let dir = tempfile::tempdir().unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let pkg = dir.path().join("bundled.opkg");
        outpost_package::write_package(&pkg, &outpost_package::sample::content("1.0.0"), &key)
            .unwrap();
        let config = Config {
            bundled: Some(BundledCourse {
                package: std::fs::read(&pkg).unwrap().into(),
                publisher_key: key.verifying_key(),
            }),
        };
        let data = dir.path().join("data");
        let args = [
            "outpost",
            "--data-dir",
            data.to_str().unwrap(),
            "courses",
            "list",
            "--json",
        ];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(run_with(args, &config, &mut out, &mut err), 0);
        let listed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(listed[0]["course_id"], "demo");
        assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
        // Its key is trusted: an update signed by it installs.
        let keys_args = [
            "outpost",
            "--data-dir",
            data.to_str().unwrap(),
            "keys",
            "list",
        ];
        let mut out = Vec::new();
        assert_eq!(run_with(keys_args, &config, &mut out, &mut err), 0);
        assert!(String::from_utf8_lossy(&out).contains("bundled course"));
    }
}
