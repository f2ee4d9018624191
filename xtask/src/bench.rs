//! `cargo xtask bench`: run every benchmark in the workspace, then write
//! BENCHMARKS.md from criterion's estimates and from the Markdown reports that
//! custom harnesses leave in `<target>/bench-reports/`, together with the
//! machine they were measured on. Numbers are measurements, never test
//! thresholds.

use crate::{cargo, root, step, target_dir, Result};
use std::fmt::Write as _;
use std::path::Path;
use std::time::SystemTime;

pub fn bench(args: &[String]) -> Result {
    // `cargo bench` builds the benchmarks in release but not the app they
    // drive: build the app as it ships (UI embedded) so the numbers are real.
    step(
        "build the release app",
        cargo().args([
            "build",
            "--release",
            "-p",
            "outpost-app",
            "--features",
            "tauri/custom-protocol",
        ]),
    )?;
    // Only what this run measured goes in: criterion keeps the estimates of
    // every benchmark it ever ran (renamed and removed ones too), and a
    // harness that skips itself leaves its last report behind.
    let started = SystemTime::now();
    step(
        "benchmarks",
        cargo().args(["bench", "--workspace"]).args(args).env(
            "OUTPOST_APP_BIN",
            target_dir().join("release").join("outpost"),
        ),
    )?;
    let mut rows = Vec::new();
    collect(&target_dir().join("criterion"), started, &mut rows);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut md = String::from(
        "# Benchmarks\n\nWritten by `cargo xtask bench` from criterion's estimates \
         (mean with its 95% confidence interval). Re-run to refresh.\n\n",
    );
    let _ = writeln!(md, "Machine: {}\n", machine());
    if !args.is_empty() {
        let _ = writeln!(
            md,
            "Only part of the benchmarks ran: `cargo xtask bench {}`.\n",
            args.join(" ")
        );
    }
    md.push_str("| benchmark | mean | 95% CI |\n| --- | --- | --- |\n");
    for (name, mean, lo, hi) in &rows {
        let _ = writeln!(
            md,
            "| {name} | {} | {} – {} |",
            fmt(*mean),
            fmt(*lo),
            fmt(*hi)
        );
    }
    // Harnesses that measure what criterion cannot (p99 latency, bytes on the
    // wire, memory of a real window) write Markdown sections here.
    let mut reports: Vec<_> = std::fs::read_dir(crate::bench_report::dir())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    reports.retain(|p| p.extension().is_some_and(|x| x == "md") && written_since(p, started));
    reports.sort();
    for report in reports {
        if let Ok(s) = std::fs::read_to_string(&report) {
            md.push('\n');
            md.push_str(s.trim_end());
            md.push('\n');
        }
    }
    std::fs::write(root().join("BENCHMARKS.md"), md).map_err(|e| e.to_string())?;
    eprintln!(
        "xtask bench: wrote BENCHMARKS.md ({} benchmarks)",
        rows.len()
    );
    Ok(())
}

/// Whether `path` was written at or after `t`.
fn written_since(path: &Path, t: SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|m| m >= t)
}

fn collect(dir: &Path, since: SystemTime, rows: &mut Vec<(String, f64, f64, f64)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") {
                if !written_since(&p.join("estimates.json"), since) {
                    continue;
                }
                if let Some(row) = read_estimate(&p) {
                    rows.push(row);
                }
            } else if p.file_name().is_some_and(|n| n != "base" && n != "report") {
                collect(&p, since, rows);
            }
        }
    }
}

fn read_estimate(new_dir: &Path) -> Option<(String, f64, f64, f64)> {
    let est: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new_dir.join("estimates.json")).ok()?)
            .ok()?;
    let bench: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(new_dir.join("benchmark.json")).ok()?)
            .ok()?;
    let mean = &est["mean"];
    Some((
        bench["full_id"].as_str()?.to_string(),
        mean["point_estimate"].as_f64()?,
        mean["confidence_interval"]["lower_bound"].as_f64()?,
        mean["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

fn fmt(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}
