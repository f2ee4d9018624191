//! Project automation: `cargo xtask run | test | bench | deps`.
//!
//! Plain std and a few processes, so it builds in seconds on a fresh machine
//! before anything else is installed.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

mod bench;
mod bench_report;
mod deps;
mod run;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("deps") => deps::ensure_all(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 run     build and start the desktop app with the bundled course and a local hub\n  \
                 test    install what is missing, then fmt, clippy, build once and run every test\n  \
                 bench   run the benchmarks and write BENCHMARKS.md\n  \
                 deps    only install the system packages and tools the project needs"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

pub fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Run a command to completion, echoing it, failing on a non-zero exit.
pub fn step(what: &str, cmd: &mut Command) -> Result {
    eprintln!("\n==> {what}\n    $ {}", show(cmd));
    let t = Instant::now();
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    eprintln!("    ({what}: {:.0?})", t.elapsed());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Everything, in the order that fails fastest: format, lints, one build of
/// every target, then every test (unit, integration, end-to-end).
fn test(args: &[String]) -> Result {
    let t = Instant::now();
    deps::ensure_all()?;
    step("format", cargo().args(["fmt", "--all", "--check"]))?;
    step(
        "lints",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    step(
        "build every target once",
        cargo().args(["build", "--workspace", "--all-targets"]),
    )?;
    let bin = target_dir().join("debug");
    let mut tests = cargo();
    tests
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(args)
        .env("OUTPOST_APP_BIN", bin.join("outpost"))
        // Tests must not touch the developer's own data.
        .env_remove("OUTPOST_DATA_DIR");
    let reports = target_dir().join("e2e-screenshots");
    remove_reports(&reports);
    if let Err(e) = step("every test", &mut tests) {
        print_reports(&reports);
        return Err(e);
    }
    eprintln!("\nxtask test: all passed in {:.0?}", t.elapsed());
    Ok(())
}

/// The end-to-end harness leaves `<target>/e2e-screenshots/<test>/failure.txt`
/// for each window test that failed or got stuck (which step, the driver's
/// log, where each process was). They are printed again at the very end, so
/// a CI log that keeps only its last part still shows them.
fn e2e_reports(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| Some(e.ok()?.path().join("failure.txt")))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
}

fn remove_reports(dir: &Path) {
    for report in e2e_reports(dir) {
        let _ = std::fs::remove_file(report);
    }
}

fn print_reports(dir: &Path) {
    for report in e2e_reports(dir) {
        let text = std::fs::read_to_string(&report).unwrap_or_default();
        eprintln!("\n==> end-to-end failure: {}\n{text}", report.display());
    }
}
