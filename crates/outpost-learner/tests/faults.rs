//! Running out of space. A child process runs with a file-size limit
//! (`ulimit -f`, with SIGXFSZ ignored so writes fail with an error instead
//! of killing it): the same failed writes a full disk gives. The operation
//! must fail with a clear error and leave the store as it was.

mod common;

use common::*;
use outpost_learner::Store;
use std::path::Path;
use std::process::Command;

/// Run the helper with writes past `blocks` × 512 bytes failing.
fn starved(blocks: u32, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_learner-test-helper"))
        .args(args)
        .output()
        .unwrap()
}

fn courses_dir_names(data: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(data.join("courses"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn an_install_that_runs_out_of_space_leaves_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store.view_lesson(p.id, "demo", "l1", 5, 1.0, true).unwrap();
    let progress = store.progress(p.id, "demo").unwrap();
    drop(store);
    let data = dir.path().join("data");
    let files = courses_dir_names(&data);
    // A course with a large image, as real ones have.
    let mut content = v2();
    let mut x: u32 = 1;
    let noise: Vec<u8> = (0..400_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    content.assets.push(outpost_package::Asset {
        name: "photo.png".into(),
        media_type: "image/png".into(),
        bytes: noise,
    });
    let v2 = write(dir.path(), "v2.opkg", &content, &key());
    let size = std::fs::metadata(&v2).unwrap().len();
    // Room for less than half the package.
    let out = starved(
        (size / 2 / 512) as u32,
        &["install".as_ref(), data.as_os_str(), v2.as_os_str()],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("File too large") || err.contains("full"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let store = Store::open(&data).unwrap();
    assert_eq!(store.integrity_check(), Ok(()));
    assert_eq!(store.catalog(p.id).unwrap()[0].version, "1.0.0");
    assert_eq!(store.progress(p.id, "demo").unwrap(), progress);
    assert_eq!(
        courses_dir_names(&data),
        files,
        "no partial copy left behind"
    );
    // With space again, the same file installs.
    assert_eq!(store.install(&v2).unwrap().version, "1.1.0");
}

#[test]
fn an_event_that_cannot_be_written_is_refused_not_half_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (store, p, _) = store_with_course(dir.path());
    store.view_lesson(p.id, "demo", "l1", 5, 1.0, true).unwrap();
    let before = store.events(p.id, "demo").unwrap();
    drop(store); // checkpoints and removes the WAL: the next write must grow a file
    let data = dir.path().join("data");
    let id = p.id.to_string();
    let out = starved(1, &["view".as_ref(), data.as_os_str(), id.as_ref()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "nothing was acknowledged");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write to the data directory"), "{err}");

    let store = Store::open(&data).unwrap();
    assert_eq!(store.integrity_check(), Ok(()));
    assert_eq!(store.events(p.id, "demo").unwrap(), before);
    // And the next event gets the next sequence number: no gap.
    let r = store
        .view_lesson(p.id, "demo", "l3", 5, 0.5, false)
        .unwrap();
    assert_eq!(r.seq, before.len() as u64 + 1);
}
