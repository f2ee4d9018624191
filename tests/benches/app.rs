//! The desktop app's speed and memory, in a real window (`cargo xtask bench`).
//!
//! - `app/start_to_catalog`: from asking tauri-driver for a session (which
//!   starts the app) to the catalog on screen with the course listed, on a
//!   data folder that already has a learner (so no first-run screen).
//!   Includes the driver's own session set-up.
//! - `app/lesson_open`: from following a lesson link to its text on screen,
//!   timed inside the page (no WebDriver round trips in the number).
//! - `app/search`: from submitting a handbook search to its results on
//!   screen, timed inside the page.
//! - Memory (PSS and RSS of the app and its WebKit processes) is printed at
//!   the end; it is not a time, so criterion does not hold it.

#[path = "../../xtask/src/bench_report.rs"]
mod bench_report;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use outpost_e2e::course::Course;
use outpost_e2e::{app_binary, bundled_package, App, Harness};
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Time a route change inside the page: set the hash, then wait (on
/// animation frames) for `ready` to hold. Returns milliseconds.
async fn in_page(app: &App, hash: &str, ready: &str) -> f64 {
    let script = format!(
        "const done = arguments[arguments.length - 1];\
         const t0 = performance.now();\
         location.hash = {hash};\
         const tick = () => {{ if ({ready}) done(performance.now() - t0); else requestAnimationFrame(tick); }};\
         requestAnimationFrame(tick);",
        hash = serde_json::to_string(hash).unwrap_or_default(),
    );
    let v = app
        .client
        .execute_async(&script, vec![])
        .await
        .expect("the page answers");
    v.as_f64().unwrap_or(f64::NAN)
}

struct Memory {
    rss_kib: u64,
    pss_kib: u64,
    processes: Vec<String>,
}

fn rollup(pid: u32) -> Option<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((field("Rss:")?, field("Pss:")?))
}

fn parent_of(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces.
    let after = &s[s.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

fn name_of(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The app process (named `outpost`) and every process below it (WebKit's
/// web and network processes).
fn app_memory() -> Memory {
    let pids: Vec<u32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let apps: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|p| name_of(*p) == "outpost")
        .collect();
    let mut m = Memory {
        rss_kib: 0,
        pss_kib: 0,
        processes: Vec::new(),
    };
    for &p in &pids {
        let mut up = Some(p);
        let mut ours = false;
        for _ in 0..8 {
            match up {
                Some(x) if apps.contains(&x) => {
                    ours = true;
                    break;
                }
                Some(x) => up = parent_of(x),
                None => break,
            }
        }
        if ours {
            if let Some((rss, pss)) = rollup(p) {
                m.rss_kib += rss;
                m.pss_kib += pss;
                m.processes.push(name_of(p));
            }
        }
    }
    m
}

fn bench(c: &mut Criterion) {
    let course = match bundled_package().and_then(|p| Course::read(&p)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("app bench skipped: {e:#}");
            return;
        }
    };
    let bin = match app_binary() {
        Ok(bin) => bin,
        Err(e) => {
            eprintln!("app bench skipped: {e:#}");
            return;
        }
    };
    println!("app bench: measuring {}", bin.display());
    let rt = rt();
    let h = match Harness::start("bench") {
        Ok(h) => h,
        Err(e) => {
            eprintln!("app bench skipped: {e:#}");
            return;
        }
    };
    // A learner exists, so later starts open straight on the catalog.
    rt.block_on(async {
        let app = h.launch().await.expect("the app starts");
        app.fill("Your name", "Bench").await.expect("name");
        app.click_button("Create profile").await.expect("create");
        app.heading("Your courses").await.expect("catalog");
        app.close().await.expect("close");
    });
    let title = course.title().to_string();

    let mut g = c.benchmark_group("app");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    g.bench_function("start_to_catalog", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let app = h.launch().await.expect("the app starts");
                    app.link(&title).await.expect("the course is listed");
                    total += t.elapsed();
                    app.close().await.expect("close");
                }
                total
            })
        })
    });

    let app = rt.block_on(h.launch()).expect("the app starts");
    let lessons = course.lessons_in_order();
    let course_id = course.manifest.id.clone();
    let term = lessons
        .first()
        .and_then(|(id, ..)| course.lesson(id).ok())
        .and_then(|l| {
            l.text
                .split_whitespace()
                .find(|w| w.chars().count() >= 7 && w.chars().all(char::is_alphabetic))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "crisis".into());
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    let mut i = 0usize;
    g.bench_function("lesson_open", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut ms = 0.0;
                for _ in 0..iters {
                    let (id, _, lesson_title) = &lessons[i % lessons.len()];
                    i += 1;
                    let ready = format!(
                        "(document.querySelector('main h1') || {{}}).textContent === {} && !!document.querySelector('article')",
                        serde_json::to_string(lesson_title).unwrap_or_default()
                    );
                    ms += in_page(&app, &format!("#/lesson/{course_id}/{id}"), &ready).await;
                    // Leave the lesson so the next open is a fresh one.
                    in_page(&app, "#/catalog", "!!document.querySelector('.card-grid')").await;
                }
                Duration::from_secs_f64(ms / 1000.0)
            })
        })
    });
    g.bench_function("search", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut ms = 0.0;
                for n in 0..iters {
                    // A different query string each time, so the route changes.
                    let hash = format!("#/search?q={term}&n={n}");
                    ms += in_page(&app, &hash, "!!document.querySelector('#results-title')").await;
                    in_page(&app, "#/catalog", "!!document.querySelector('.card-grid')").await;
                }
                Duration::from_secs_f64(ms / 1000.0)
            })
        })
    });
    g.finish();

    // Memory after the work above: the app and its WebKit processes.
    let m = app_memory();
    let line = format!(
        "app/memory (after the runs above): PSS {:.0} MiB, RSS {:.0} MiB over {} processes ({})",
        m.pss_kib as f64 / 1024.0,
        m.rss_kib as f64 / 1024.0,
        m.processes.len(),
        m.processes.join(", ")
    );
    println!("{line}");
    // For BENCHMARKS.md: criterion keeps the times; the memory goes in a
    // report that `cargo xtask bench` gathers from <target>/bench-reports/.
    let profile = if bin.components().any(|c| c.as_os_str() == "release") {
        "release"
    } else {
        "debug"
    };
    let report = format!(
        "## Desktop app in a real window\n\n\
         Measured with the {profile} build of `outpost` under Xvfb, driven by tauri-driver and \
         WebKitWebDriver (`tests/benches/app.rs`). `app/start_to_catalog` runs from asking the \
         driver for a session (which starts the app) to the course listed in the catalog; \
         `app/lesson_open` and `app/search` are timed inside the page, from the route change to \
         the content on screen.\n\n\
         | memory after the runs | value |\n| --- | --- |\n\
         | PSS (app + WebKit processes) | {:.0} MiB |\n\
         | RSS (app + WebKit processes) | {:.0} MiB |\n\
         | processes | {} |\n",
        m.pss_kib as f64 / 1024.0,
        m.rss_kib as f64 / 1024.0,
        m.processes.join(", ")
    );
    // Only a measurement is a report: as a test (`cargo test --benches`)
    // each benchmark runs once.
    if std::env::args().any(|a| a == "--bench") {
        bench_report::write("app", &report);
    }
    let _ = rt.block_on(app.close());
}

criterion_group!(benches, bench);
criterion_main!(benches);
