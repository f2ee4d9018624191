//! Build script: the Tauri context, and the bundled course.
//!
//! The flagship course is compiled from its Markdown sources with the course
//! compiler's library, signed, and left in OUT_DIR for `include_bytes!`
//! together with the publisher's public key, which the app trusts at first
//! run. Copies go to `<target>/bundled/` for `cargo xtask run` (it publishes
//! the same package to the local hub) and for the end-to-end tests (they
//! read the answer key from it).
//!
//! - Course folder: `OUTPOST_BUNDLED_COURSE`, else `courses/micic-consular`.
//! - Signing key: `OUTPOST_PUBLISHER_KEY` (a key file from
//!   `outpost-course keygen`), else a development key made once at
//!   `<target>/bundled/publisher.key`.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=../ui");
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=capabilities");
    if let Err(e) = bundle_course() {
        // Failing the build is right: an app without its course is useless,
        // and the message says what to fix.
        panic!("bundling the course: {e}");
    }
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri build step");
}

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                root.join(d)
            }
        }
        None => root.join("target"),
    }
}

fn signing_key(bundled: &Path) -> Result<ed25519_dalek::SigningKey, String> {
    println!("cargo:rerun-if-env-changed=OUTPOST_PUBLISHER_KEY");
    if let Some(path) = std::env::var_os("OUTPOST_PUBLISHER_KEY") {
        let path = PathBuf::from(path);
        println!("cargo:rerun-if-changed={}", path.display());
        return outpost_package::keys::read_signing_key(&path).map_err(|e| e.to_string());
    }
    let path = bundled.join("publisher.key");
    if !path.exists() {
        let key = outpost_package::keys::generate();
        outpost_package::keys::write_signing_key(&path, &key).map_err(|e| e.to_string())?;
        println!(
            "cargo:warning=signed the bundled course with a new development key {} \
             (set OUTPOST_PUBLISHER_KEY to sign with the publisher's key)",
            path.display()
        );
    }
    outpost_package::keys::read_signing_key(&path).map_err(|e| e.to_string())
}

fn bundle_course() -> Result<(), String> {
    let root = workspace_root();
    let bundled = target_dir(&root).join("bundled");
    std::fs::create_dir_all(&bundled).map_err(|e| format!("{}: {e}", bundled.display()))?;
    let key = signing_key(&bundled)?;

    println!("cargo:rerun-if-env-changed=OUTPOST_BUNDLED_COURSE");
    let course_dir = std::env::var_os("OUTPOST_BUNDLED_COURSE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("courses").join("micic-consular"));
    println!("cargo:rerun-if-changed={}", course_dir.display());

    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let build_dir = out.join("course-build");
    let _ = std::fs::remove_dir_all(&build_dir);
    std::fs::create_dir_all(&build_dir).map_err(|e| e.to_string())?;

    let built = compile(&course_dir, &build_dir, &key)?;
    if let Ok(pkg) = outpost_package::Package::open(&built) {
        // For the app's own tests: which course it carries.
        println!(
            "cargo:rustc-env=OUTPOST_BUNDLED_COURSE_ID={}",
            pkg.manifest().id
        );
    }

    let bytes = std::fs::read(&built).map_err(|e| format!("{}: {e}", built.display()))?;
    std::fs::write(out.join("bundled.opkg"), &bytes).map_err(|e| e.to_string())?;
    std::fs::write(out.join("publisher.pub"), key.verifying_key().as_bytes())
        .map_err(|e| e.to_string())?;
    // Copies for xtask run and the end-to-end tests. Older versions go, so
    // that exactly one package is there.
    if let Ok(entries) = std::fs::read_dir(&bundled) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "opkg") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let name = built
        .file_name()
        .ok_or("the compiler wrote a package without a name")?;
    std::fs::write(bundled.join(name), &bytes).map_err(|e| e.to_string())?;
    outpost_package::keys::write_verifying_key(
        &bundled.join("publisher.pub"),
        &key.verifying_key(),
    )
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// Compile and sign the course with the course compiler's library. A course
/// that does not validate fails the build with the compiler's messages
/// (`path:line:col: error: …`): an app must not ship without its course.
fn compile(
    course_dir: &Path,
    out: &Path,
    key: &ed25519_dalek::SigningKey,
) -> Result<PathBuf, String> {
    let built = outpost_course::build(course_dir, out, key)
        .map_err(|e| format!("{}: {e}", course_dir.display()))?;
    for w in &built.warnings {
        println!("cargo:warning={w}");
    }
    match built.packages.as_slice() {
        [p] => Ok(p.path.clone()),
        ps => Err(format!(
            "{} holds {} courses; the app bundles exactly one",
            course_dir.display(),
            ps.len()
        )),
    }
}
