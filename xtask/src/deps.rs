//! Install the system packages and tools the build and the tests need, and
//! say what is being installed. Debian/Ubuntu only (apt); elsewhere it lists
//! what is missing and stops.

use crate::{step, Result};
use std::process::Command;

/// Debian packages, each with why it is needed.
pub const PACKAGES: &[(&str, &str)] = &[
    ("build-essential", "C compiler for the bundled SQLite"),
    ("pkg-config", "finding the WebKitGTK libraries"),
    (
        "libwebkit2gtk-4.1-dev",
        "building the desktop app (Tauri on WebKitGTK)",
    ),
    (
        "xvfb",
        "a virtual display for the desktop app's end-to-end tests",
    ),
    ("xauth", "xvfb-run"),
    (
        "webkit2gtk-driver",
        "WebKitWebDriver, driven by tauri-driver in end-to-end tests",
    ),
    (
        "chromium",
        "headless browser for the trainer dashboard tests",
    ),
    ("chromium-driver", "chromedriver for the dashboard tests"),
    ("postgresql", "a throwaway PostgreSQL for the hub's tests"),
    (
        "python3-venv",
        "a virtualenv for the third-party xAPI client test",
    ),
    (
        "openssl",
        "a throwaway TLS certificate for the hub's TLS test",
    ),
];

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

pub fn ensure_all() -> Result {
    ensure_packages()?;
    ensure_tauri_driver()
}

fn ensure_packages() -> Result {
    if !have("dpkg-query") {
        let list: Vec<&str> = PACKAGES.iter().map(|(p, _)| *p).collect();
        eprintln!(
            "xtask: not a Debian/Ubuntu system; make sure the equivalents of these are installed: {}",
            list.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&(&str, &str)> = PACKAGES.iter().filter(|(p, _)| !installed(p)).collect();
    if missing.is_empty() {
        eprintln!(
            "xtask: system packages present ({} checked)",
            PACKAGES.len()
        );
        return Ok(());
    }
    eprintln!("xtask: installing missing system packages:");
    for (p, why) in &missing {
        eprintln!("    {p:<24} {why}");
    }
    let names: Vec<&str> = missing.iter().map(|(p, _)| *p).collect();
    let sudo: &[&str] = if is_root() {
        &[]
    } else if have("sudo") {
        &["sudo"]
    } else {
        return Err(format!(
            "not root and no sudo: install these first: apt-get install {}",
            names.join(" ")
        ));
    };
    let apt = |args: &[&str]| {
        let mut c = Command::new(sudo.first().copied().unwrap_or("apt-get"));
        if !sudo.is_empty() {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    step("apt-get update", &mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq"]);
    install.args(&names);
    step("apt-get install", &mut install)
}

fn ensure_tauri_driver() -> Result {
    if have("tauri-driver") {
        return Ok(());
    }
    let home_bin = std::env::var("HOME")
        .map(|h| std::path::Path::new(&h).join(".cargo/bin/tauri-driver"))
        .ok();
    if home_bin.as_ref().is_some_and(|p| p.exists()) {
        return Ok(());
    }
    eprintln!("xtask: installing tauri-driver (drives the desktop app in end-to-end tests)");
    step(
        "cargo install tauri-driver",
        crate::cargo().args(["install", "tauri-driver", "--locked", "--version", "2.1.0"]),
    )
}
