//! Which events earned a certificate, and the verification code derived
//! from them. Pure: the hub can compute the same code from the same events.

use outpost_model::grade::grade_quiz;
use outpost_model::{CourseStructure, Event, EventKind, LessonKind, MoveOn};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The events that satisfied the course's moveOn rule, sorted by id: for
/// each lesson the event that first made it done, and the first passing
/// assessment submission — as far as the rule needs them (for
/// CompletedOrPassed, whichever side was met first). Empty when the rule is
/// not met (or is NotApplicable). Ordering is the fold's, so every holder of
/// the same events picks the same ones.
pub fn satisfying_events(course: &CourseStructure, events: &[Event]) -> Vec<Uuid> {
    let mut sorted: Vec<&Event> = events.iter().filter(|e| e.course_id == course.id).collect();
    sorted.sort_by_key(|e| (e.timestamp, e.device_id, e.seq, e.id));
    sorted.dedup_by_key(|e| e.id);

    let mut first_done: BTreeMap<&str, &Event> = BTreeMap::new();
    let mut first_pass: Option<&Event> = None;
    let assessment = course.assessment.as_ref().map(|a| a.id.as_str());
    for e in &sorted {
        match &e.kind {
            EventKind::LessonViewed {
                reached_end: true, ..
            } => {
                if let Some((_, l)) = course.lesson(&e.activity_id) {
                    if l.kind == LessonKind::Lesson {
                        first_done.entry(l.id.as_str()).or_insert(e);
                    }
                }
            }
            EventKind::QuizSubmitted {
                questions,
                responses,
                ..
            } => {
                if let Some((_, l)) = course.lesson(&e.activity_id) {
                    if l.kind == LessonKind::Quiz {
                        first_done.entry(l.id.as_str()).or_insert(e);
                    }
                }
                if Some(e.activity_id.as_str()) == assessment
                    && first_pass.is_none()
                    && grade_quiz(course, questions, responses).passes(course.passing_score)
                {
                    first_pass = Some(e);
                }
            }
            _ => {}
        }
    }
    let completed: Option<Vec<&Event>> = course
        .lessons()
        .map(|(_, l)| first_done.get(l.id.as_str()).copied())
        .collect();
    let completed_at = completed.as_ref().map(|c| {
        c.iter()
            .map(|e| (e.timestamp, e.device_id, e.seq, e.id))
            .max()
    });
    let mut ids: Vec<Uuid> = match course.move_on {
        MoveOn::NotApplicable => Vec::new(),
        MoveOn::Completed => completed.unwrap_or_default().iter().map(|e| e.id).collect(),
        MoveOn::Passed => first_pass.map(|e| e.id).into_iter().collect(),
        MoveOn::CompletedAndPassed => match (completed, first_pass) {
            (Some(c), Some(p)) => c.iter().map(|e| e.id).chain([p.id]).collect(),
            _ => Vec::new(),
        },
        MoveOn::CompletedOrPassed => {
            let pass_at = first_pass.map(|e| (e.timestamp, e.device_id, e.seq, e.id));
            match (completed, completed_at.flatten(), first_pass) {
                (Some(c), Some(at), _) if pass_at.is_none_or(|p| at <= p) => {
                    c.iter().map(|e| e.id).collect()
                }
                (_, _, Some(p)) => vec![p.id],
                _ => Vec::new(),
            }
        }
    };
    ids.sort();
    ids.dedup();
    ids
}

/// The certificate's verification code: SHA-256 over
/// `"outpost-certificate-v1\n" learner_id "\n" course_id "\n"` and each
/// satisfying event id (sorted, one per line), shown as 12 characters of
/// Crockford base32 in three groups, e.g. `7Q2M-K4XD-9TBA`.
pub fn certificate_code(learner_id: Uuid, course_id: &str, events: &[Uuid]) -> String {
    let mut ids = events.to_vec();
    ids.sort();
    let mut h = Sha256::new();
    h.update(b"outpost-certificate-v1\n");
    h.update(learner_id.to_string().as_bytes());
    h.update(b"\n");
    h.update(course_id.as_bytes());
    h.update(b"\n");
    for id in ids {
        h.update(id.to_string().as_bytes());
        h.update(b"\n");
    }
    let digest = h.finalize();
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    // 60 bits from the first 8 bytes, five at a time.
    let bits = u64::from_be_bytes(digest[..8].try_into().unwrap_or([0; 8]));
    let mut code = String::new();
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        let v = (bits >> (59 - 5 * i)) & 0x1F;
        code.push(ALPHABET[v as usize] as char);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn course(rule: MoveOn) -> CourseStructure {
        let mut c = outpost_package::sample::content("1.0.0").structure;
        c.move_on = rule;
        c
    }

    /// Device 1: reads everything (t = 1..=3), submits the quiz (t = 4),
    /// fails the assessment (t = 5), reads l1 again (t = 6), passes (t = 7).
    fn run(pass_first: bool) -> Vec<Event> {
        let mut seq = 0;
        let mut ev = |t: i64, activity: &str, kind: EventKind| {
            seq += 1;
            Event {
                id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + t as u128),
                learner_id: Uuid::from_u128(1),
                device_id: Uuid::from_u128(2),
                seq,
                course_id: "demo".into(),
                course_version: "1.0.0".into(),
                activity_id: activity.into(),
                timestamp: DateTime::from_timestamp(1_700_000_000 + t * 60, 0).unwrap(),
                kind,
            }
        };
        let view = |end| EventKind::LessonViewed {
            seconds: 10,
            position: 1.0,
            reached_end: end,
        };
        let submit = |answers: &[(&str, &str)]| EventKind::QuizSubmitted {
            attempt: Uuid::from_u128(9),
            seconds: 10,
            questions: answers.iter().map(|(q, _)| q.to_string()).collect(),
            responses: answers
                .iter()
                .map(|(q, a)| (q.to_string(), a.split(',').map(str::to_string).collect()))
                .collect(),
        };
        let pass = [
            ("bank-1", "a"),
            ("bank-2", "b"),
            ("bank-3", "c"),
            ("bank-4", "b"),
        ];
        let fail = [
            ("bank-1", "b"),
            ("bank-2", "a"),
            ("bank-3", "c"),
            ("bank-4", "b"),
        ];
        let offset = if pass_first { 100 } else { 0 };
        vec![
            ev(1 + offset, "l1", view(true)),
            ev(2 + offset, "l2", view(true)),
            ev(3 + offset, "l3", view(true)),
            ev(
                4 + offset,
                "m2-quiz",
                submit(&[("quiz-q1", "b"), ("quiz-q2", "a,c")]),
            ),
            ev(5, "final", submit(&fail)),
            ev(6 + offset, "l1", view(true)),
            ev(7, "final", submit(&pass)),
        ]
    }

    #[test]
    fn the_events_that_earned_it_follow_the_move_on_rule() {
        let events = run(false);
        let id = |i: usize| events[i].id;
        let sorted = |mut v: Vec<Uuid>| {
            v.sort();
            v
        };
        let lessons = sorted(vec![id(0), id(1), id(2), id(3)]);
        assert_eq!(
            satisfying_events(&course(MoveOn::Completed), &events),
            lessons
        );
        assert_eq!(
            satisfying_events(&course(MoveOn::Passed), &events),
            vec![id(6)]
        );
        assert_eq!(
            satisfying_events(&course(MoveOn::CompletedAndPassed), &events),
            sorted(vec![id(0), id(1), id(2), id(3), id(6)])
        );
        // Reading came first.
        assert_eq!(
            satisfying_events(&course(MoveOn::CompletedOrPassed), &events),
            lessons
        );
        // Passing came first (the lessons were read after it).
        let later = run(true);
        assert_eq!(
            satisfying_events(&course(MoveOn::CompletedOrPassed), &later),
            vec![later[6].id]
        );
        assert!(satisfying_events(&course(MoveOn::NotApplicable), &events).is_empty());
        // Not met: nothing.
        assert!(satisfying_events(&course(MoveOn::Passed), &events[..6]).is_empty());
        assert!(satisfying_events(&course(MoveOn::Completed), &events[..3]).is_empty());
        // Order and duplicates do not matter.
        let mut shuffled = events.clone();
        shuffled.reverse();
        shuffled.push(events[0].clone());
        assert_eq!(
            satisfying_events(&course(MoveOn::CompletedAndPassed), &shuffled),
            satisfying_events(&course(MoveOn::CompletedAndPassed), &events)
        );
    }

    #[test]
    fn code_is_deterministic_and_order_free() {
        let l = Uuid::from_u128(1);
        let a = Uuid::from_u128(2);
        let b = Uuid::from_u128(3);
        let c1 = certificate_code(l, "demo", &[a, b]);
        assert_eq!(c1, certificate_code(l, "demo", &[b, a]));
        assert_eq!(c1.len(), 14);
        assert_eq!(c1.matches('-').count(), 2);
        assert_ne!(c1, certificate_code(l, "demo", &[a]));
        assert_ne!(c1, certificate_code(l, "other", &[a, b]));
        assert_ne!(c1, certificate_code(Uuid::from_u128(9), "demo", &[a, b]));
    }
}
