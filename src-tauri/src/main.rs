//! `outpost`: the desktop app, and the headless commands.
//!
//! `outpost [--data-dir DIR]` opens the window. `outpost [--data-dir DIR]
//! <subcommand> …` runs [`outpost_cli::run`] and never touches GTK, so it
//! works with no display (post IT scripts, SSH sessions).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

mod bundled;
mod commands;
mod error;
mod gui;
mod sync;

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Invocation {
    /// Open the window on this data directory (None: the default one).
    Window { data_dir: Option<PathBuf> },
    /// Run a headless command with these arguments (all of them, including
    /// a `--data-dir`, which the CLI parses itself).
    Headless(Vec<OsString>),
}

fn invocation(args: Vec<OsString>) -> Invocation {
    let mut data_dir = None;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        let s = a.to_string_lossy();
        if s == "--data-dir" {
            match rest.next() {
                Some(d) => data_dir = Some(PathBuf::from(d)),
                // `--data-dir` with nothing after it: let the CLI say so.
                None => return Invocation::Headless(args),
            }
        } else if let Some(d) = s.strip_prefix("--data-dir=") {
            data_dir = Some(PathBuf::from(d));
        } else {
            // Anything else (a subcommand, --help, --version) is the CLI's.
            return Invocation::Headless(args);
        }
    }
    Invocation::Window { data_dir }
}

/// `--data-dir`, else `OUTPOST_DATA_DIR`, else the platform's data folder
/// — the same rule and folder as the headless commands, so both see one
/// store.
fn resolve_data_dir(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| {
        std::env::var_os(outpost_cli::DATA_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .or_else(outpost_cli::default_data_dir)
}

fn main() -> ExitCode {
    let all: Vec<OsString> = std::env::args_os().collect();
    match invocation(all.iter().skip(1).cloned().collect()) {
        // The CLI parses the whole command line itself, program name first.
        Invocation::Headless(_) => outpost_cli::run(all, &bundled::cli_config()),
        Invocation::Window { data_dir } => {
            let Some(dir) = resolve_data_dir(data_dir) else {
                eprintln!(
                    "outpost: no data directory: pass --data-dir DIR or set {}",
                    outpost_cli::DATA_DIR_ENV
                );
                return ExitCode::from(2);
            };
            match gui::run(dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("outpost: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_subcommand_opens_the_window() {
        assert_eq!(invocation(args(&[])), Invocation::Window { data_dir: None });
        assert_eq!(
            invocation(args(&["--data-dir", "/d"])),
            Invocation::Window {
                data_dir: Some("/d".into())
            }
        );
        assert_eq!(
            invocation(args(&["--data-dir=/e"])),
            Invocation::Window {
                data_dir: Some("/e".into())
            }
        );
    }

    #[test]
    fn a_subcommand_stays_headless_with_every_argument() {
        for a in [
            &["courses", "list"][..],
            &["--data-dir", "/d", "status", "--json"],
            &["--help"],
            &["--data-dir"],
        ] {
            assert_eq!(invocation(args(a)), Invocation::Headless(args(a)), "{a:?}");
        }
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        assert_eq!(
            resolve_data_dir(Some("/flag".into())),
            Some(PathBuf::from("/flag"))
        );
    }
}
