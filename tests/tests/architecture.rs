//! The architecture's invariants, checked on every test run so that a new
//! dependency cannot quietly break them (see ARCHITECTURE.md):
//!
//! - library crates under `crates/` never depend on the applications
//!   (`server`, `src-tauri`), not even for their tests;
//! - the model and the protocol do no I/O: no database, network or async
//!   runtime crate among their dependencies;
//! - the learner core knows nothing of Tauri or the network.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Every dependency name of a manifest, with the table it is in.
fn dependencies(manifest: &Path) -> Vec<(String, String)> {
    let text =
        std::fs::read_to_string(manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let doc: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let mut out = Vec::new();
    for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(deps) = doc.get(table).and_then(|d| d.as_table()) {
            out.extend(deps.keys().map(|k| (table.to_string(), k.clone())));
        }
    }
    out
}

fn library_crates() -> Vec<(String, PathBuf)> {
    let mut crates: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("crates"))
        .expect("crates/ exists")
        .flatten()
        .map(|e| e.path().join("Cargo.toml"))
        .filter(|p| p.exists())
        .map(|p| {
            let name = p
                .parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (name, p)
        })
        .collect();
    crates.sort();
    crates
}

#[test]
fn library_crates_never_depend_on_the_applications() {
    let crates = library_crates();
    assert!(crates.len() >= 8, "found only {crates:?}");
    let mut wrong = Vec::new();
    for (name, manifest) in &crates {
        for (table, dep) in dependencies(manifest) {
            if dep == "outpost-hub" || dep == "outpost-app" || dep == "tauri" {
                wrong.push(format!("{name} has {dep} in [{table}]"));
            }
        }
    }
    assert!(wrong.is_empty(), "arrows must point down: {wrong:#?}");
}

#[test]
fn the_model_and_the_protocol_do_no_io() {
    const IO: &[&str] = &[
        "rusqlite",
        "tokio",
        "reqwest",
        "hyper",
        "axum",
        "tokio-postgres",
        "tauri",
    ];
    for name in ["outpost-model", "outpost-protocol"] {
        let manifest = root().join("crates").join(name).join("Cargo.toml");
        for (table, dep) in dependencies(&manifest) {
            if table == "dependencies" {
                assert!(
                    !IO.contains(&dep.as_str()),
                    "{name} must stay pure but depends on {dep}"
                );
            }
        }
    }
}

#[test]
fn the_learner_core_knows_nothing_of_tauri_or_the_network() {
    const FORBIDDEN: &[&str] = &["tauri", "reqwest", "hyper", "axum", "outpost-sync"];
    let manifest = root().join("crates/outpost-learner/Cargo.toml");
    for (table, dep) in dependencies(&manifest) {
        if table != "dev-dependencies" {
            assert!(
                !FORBIDDEN.contains(&dep.as_str()),
                "outpost-learner depends on {dep}"
            );
        }
    }
}
