//! `outpost` with a subcommand is the headless CLI: it must work with no
//! display at all (post IT over SSH, scripts), and it sees the course that
//! comes with the app.

use std::process::Command;

fn outpost(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_outpost"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        // No display of any kind: GTK would abort if it were touched.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("OUTPOST_DATA_DIR")
        .output()
        .expect("the outpost binary runs")
}

#[test]
fn subcommands_run_without_a_display_and_see_the_bundled_course() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let out = outpost(dir.path(), &["courses", "list", "--json"]);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("courses list --json prints JSON");
    let text = listed.to_string();
    assert!(
        text.contains(env!("OUTPOST_BUNDLED_COURSE_ID")),
        "the bundled course is installed at first use: {text}"
    );

    let out = outpost(dir.path(), &["no-such-command"]);
    assert_eq!(out.status.code(), Some(2), "a wrong command line exits 2");
}
