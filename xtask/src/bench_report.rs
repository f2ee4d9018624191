//! The Markdown sections that custom benchmark harnesses leave for
//! `cargo xtask bench`, which copies them into BENCHMARKS.md:
//! `<target>/bench-reports/<name>.md`.
//!
//! One file for the writers and the reader: xtask uses it as a module, and
//! the harnesses (in other crates, with no dependency on xtask) include it
//! with `#[path = "…/xtask/src/bench_report.rs"] mod bench_report;`.

#![allow(dead_code)] // each includer uses only its side

use std::path::PathBuf;

/// `<target>/bench-reports/`: `CARGO_TARGET_DIR` if set, else the
/// workspace's `target/` (every includer sits one level below the root).
pub fn dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("bench-reports")
}

/// Write `md` as `<name>.md` for BENCHMARKS.md and say where; a report that
/// cannot be written is said, not fatal (the numbers were printed).
pub fn write(name: &str, md: &str) {
    let dir = dir();
    let out = dir.join(format!("{name}.md"));
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&out, md)) {
        Ok(()) => println!("written to {}", out.display()),
        Err(e) => eprintln!("cannot write {}: {e}", out.display()),
    }
}
