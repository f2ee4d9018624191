//! `cargo xtask run`: the desktop app with the bundled course, and a local
//! hub on its embedded SQLite database, both with data under
//! `target/xtask-run/` so a developer's real data is never touched.

use crate::{cargo, step, target_dir, Result};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const HUB_ADDR: &str = "127.0.0.1:8470";

pub fn run(args: &[String]) -> Result {
    let headless_ok = args.iter().any(|a| a == "--hub-only");
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !display && !headless_ok {
        return Err(
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), so the \
                    desktop app cannot open its window.\n       Run it on a desktop session, or \
                    under a virtual display:  xvfb-run -a cargo xtask run\n       (or start \
                    only the hub:  cargo xtask run --hub-only)"
                .into(),
        );
    }
    step(
        "build the app and the hub",
        cargo().args([
            "build",
            "-p",
            "outpost-app",
            "-p",
            "outpost-hub",
            "-p",
            "outpost-course",
        ]),
    )?;
    let bin = target_dir().join("debug");
    let data = target_dir().join("xtask-run");
    let hub_data = data.join("hub");
    std::fs::create_dir_all(&hub_data).map_err(|e| e.to_string())?;

    let mut hub = start_hub(&bin.join("outpost-hub"), &hub_data)?;
    let hub_url = format!("http://{HUB_ADDR}");
    let result = (|| {
        wait_for_port(HUB_ADDR, Duration::from_secs(20))
            .map_err(|_| "the hub did not start listening within 20 s".to_string())?;
        eprintln!(
            "\nxtask run: hub at {hub_url} (data in {})",
            hub_data.display()
        );
        bootstrap_hub(&bin.join("outpost-hub"), &hub_data);
        if headless_ok {
            eprintln!("xtask run: --hub-only: press Ctrl-C to stop");
            let _ = hub.wait();
            return Ok(());
        }
        let app_data = data.join("app");
        let status = Command::new(bin.join("outpost"))
            .env("OUTPOST_DATA_DIR", &app_data)
            .env("OUTPOST_HUB_URL", &hub_url)
            .status()
            .map_err(|e| format!("cannot start the app: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the app exited with {status}"))
        }
    })();
    stop(&mut hub);
    result
}

fn start_hub(bin: &Path, data: &Path) -> Result<Child> {
    Command::new(bin)
        .args(["serve", "--listen", HUB_ADDR, "--data-dir"])
        .arg(data)
        .spawn()
        .map_err(|e| format!("cannot start the hub {}: {e}", bin.display()))
}

/// First run: an admin, a demo cohort with an enrolment code, the bundled
/// course published. Later runs find them there; failures only warn.
fn bootstrap_hub(bin: &Path, data: &Path) {
    let marker = data.join(".xtask-bootstrapped");
    if marker.exists() {
        if let Ok(s) = std::fs::read_to_string(&marker) {
            eprintln!("{s}");
        }
        return;
    }
    let admin = |args: &[&str], env: &[(&str, &str)]| -> Option<String> {
        let mut c = Command::new(bin);
        c.arg("admin").args(args).arg("--data-dir").arg(data);
        for (k, v) in env {
            c.env(k, v);
        }
        match c.output() {
            Ok(o) if o.status.success() => {
                Some(String::from_utf8_lossy(&o.stdout).trim().to_string())
            }
            Ok(o) => {
                eprintln!(
                    "xtask run: warning: `outpost-hub admin {}` failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("xtask run: warning: cannot run the hub's admin command: {e}");
                None
            }
        }
    };
    let password = "outpost-demo";
    admin(
        &["create-user", "--username", "admin", "--role", "admin"],
        &[("OUTPOST_PASSWORD", password)],
    );
    admin(&["create-cohort", "Demo cohort"], &[]);
    let bundled = target_dir().join("bundled");
    if let Some(pkg) = std::fs::read_dir(&bundled).ok().and_then(|d| {
        d.filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "opkg"))
    }) {
        let pubkey = bundled.join("publisher.pub");
        admin(
            &[
                "publish",
                &pkg.to_string_lossy(),
                "--pubkey",
                &pubkey.to_string_lossy(),
            ],
            &[],
        );
    }
    let code = admin(
        &["create-code", "--cohort", "Demo cohort", "--uses", "50"],
        &[],
    );
    let summary = format!(
        "xtask run: dashboard login: admin / {password}\nxtask run: enrolment code: {}",
        code.as_deref().unwrap_or("(none: see warnings above)")
    );
    eprintln!("{summary}");
    // Only a complete setup is remembered: a failed one is tried again next run.
    if code.is_some() {
        let _ = std::fs::write(marker, summary);
    }
}

fn wait_for_port(addr: &str, limit: Duration) -> std::io::Result<()> {
    let t = Instant::now();
    loop {
        match TcpStream::connect(addr) {
            Ok(_) => return Ok(()),
            Err(e) if t.elapsed() > limit => return Err(e),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn stop(child: &mut Child) {
    // SIGTERM lets the hub finish in-flight requests and close its database.
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}
