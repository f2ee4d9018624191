//! Test helper for `tests/kill.rs` and `tests/faults.rs`, not a product
//! binary. It prints a line once each call has returned, so the parent
//! knows what was acknowledged before it killed or starved the process.
//!
//! ```text
//! learner-test-helper record-loop DATA_DIR PROFILE_ID   record events until killed; prints event ids
//! learner-test-helper install DATA_DIR FILE...          install each package; prints "installed VERSION"
//! learner-test-helper view DATA_DIR PROFILE_ID          record one lesson view; prints its id
//! ```

use outpost_learner::{ProfileId, Store};
use std::io::Write;

type Res = Result<(), Box<dyn std::error::Error>>;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Res {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().ok_or("missing argument");
    let store = Store::open(arg(1)?.as_ref())?;
    let mut out = std::io::stdout().lock();
    match arg(0)?.as_str() {
        "record-loop" => record_loop(&store, ProfileId(arg(2)?.parse()?), &mut out),
        "install" => {
            for file in &args[2..] {
                let r = store.install(file.as_ref())?;
                writeln!(out, "installed {}", r.version)?;
                out.flush()?;
            }
            Ok(())
        }
        "view" => {
            let r = store.view_lesson(ProfileId(arg(2)?.parse()?), "demo", "l3", 5, 0.5, false)?;
            writeln!(out, "{}", r.event_id)?;
            Ok(())
        }
        other => Err(format!("unknown mode {other}").into()),
    }
}

fn record_loop(store: &Store, profile: ProfileId, out: &mut impl Write) -> Res {
    let mut print = |ids: &[uuid::Uuid]| -> std::io::Result<()> {
        for id in ids {
            writeln!(out, "{id}")?;
        }
        out.flush()
    };
    for i in 0..100_000u32 {
        let lesson = ["l1", "l2", "l3"][(i % 3) as usize];
        match i % 5 {
            0..=2 => {
                let r = store.view_lesson(profile, "demo", lesson, 5, 0.5, i % 4 == 0)?;
                let mut ids = vec![r.event_id];
                ids.extend(r.completion_events);
                print(&ids)?;
            }
            3 => {
                let f = store.answer_question(profile, "demo", None, "check-1", &["a".into()])?;
                print(&[f.event_id])?;
            }
            _ => {
                let a = store.start_quiz(profile, "demo", "m2-quiz")?;
                print(&[a.event_id])?;
                let f = store.answer_question(
                    profile,
                    "demo",
                    Some(a.attempt_id),
                    "quiz-q1",
                    &["b".into()],
                )?;
                print(&[f.event_id])?;
                let r = store.submit_quiz(profile, "demo", a.attempt_id, 9)?;
                let mut ids = vec![r.recorded.event_id];
                ids.extend(r.recorded.completion_events);
                print(&ids)?;
            }
        }
    }
    Ok(())
}
