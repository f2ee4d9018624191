//! Test helper for `tests/kill.rs`, not a product binary: records events in
//! a loop and prints each event id on its own line once the call that
//! recorded it has returned, until it is killed.
//!
//! Usage: learner-record-loop DATA_DIR PROFILE_ID

use outpost_learner::{ProfileId, Store};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("DATA_DIR")?;
    let profile = ProfileId(args.next().ok_or("PROFILE_ID")?.parse()?);
    let store = Store::open(dir.as_ref())?;
    let mut out = std::io::stdout().lock();
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
                let started = store
                    .events(profile, "demo")?
                    .into_iter()
                    .rev()
                    .find(|e| e.kind.name() == "quiz_started")
                    .map(|e| e.id);
                print(&started.into_iter().collect::<Vec<_>>())?;
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
