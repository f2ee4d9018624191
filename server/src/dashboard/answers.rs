//! Quiz answers, one row per question asked in a submitted attempt
//! (`quiz_answers`), written in the ingest transaction so item analysis is
//! one indexed `GROUP BY` however many learners there are.

use crate::db::{DbError, Tx, Val};
use outpost_model::{Event, EventKind, QuestionKey};

/// The chosen options as stored: sorted, without repeats, joined by `,`;
/// empty when the question was left unanswered. The migration that fills the
/// table for older events writes the same form.
pub fn normalise(options: &[String]) -> String {
    let mut o: Vec<&str> = options.iter().map(String::as_str).collect();
    o.sort_unstable();
    o.dedup();
    o.join(",")
}

/// The stored form back as option ids.
pub fn options_of(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a stored answer is right by the answer key (the hub's grading).
pub fn is_correct(key: &QuestionKey, stored: &str) -> bool {
    outpost_model::grade::grade_response(key, &options_of(stored))
}

/// Record the answers of a newly stored `quiz_submitted` event of the hub
/// learner `learner_id`; other events are ignored.
pub async fn record(tx: &mut dyn Tx, learner_id: uuid::Uuid, e: &Event) -> Result<(), DbError> {
    let EventKind::QuizSubmitted {
        questions,
        responses,
        ..
    } = &e.kind
    else {
        return Ok(());
    };
    let mut asked: Vec<&String> = questions.iter().collect();
    asked.sort_unstable();
    asked.dedup();
    if asked.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO quiz_answers (event_id, learner_id, question_id, course_id, course_version, quiz_id, options) VALUES ",
    );
    let mut params: Vec<Val> = Vec::with_capacity(asked.len() * 7);
    for (i, q) in asked.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let b = i * 7;
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7
        ));
        params.extend([
            Val::from(e.id),
            Val::from(learner_id),
            Val::from(q.as_str()),
            Val::from(e.course_id.as_str()),
            Val::from(e.course_version.as_str()),
            Val::from(e.activity_id.as_str()),
            Val::from(normalise(responses.get(*q).map_or(&[][..], Vec::as_slice))),
        ]);
    }
    sql.push_str(" ON CONFLICT (event_id, question_id) DO NOTHING");
    tx.exec(&sql, params).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use outpost_model::{OptionKey, QuestionType};

    #[test]
    fn answers_are_stored_in_one_form_and_graded_by_the_key() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(normalise(&v(&["c", "a", "c"])), "a,c");
        assert_eq!(normalise(&[]), "");
        assert_eq!(options_of(""), Vec::<String>::new());
        let key = QuestionKey {
            id: "q".into(),
            question_type: QuestionType::Multiple,
            options: ["a", "b", "c"]
                .iter()
                .map(|o| OptionKey {
                    id: o.to_string(),
                    correct: *o != "b",
                })
                .collect(),
        };
        assert!(is_correct(&key, "a,c"));
        assert!(!is_correct(&key, "a"));
        assert!(!is_correct(&key, ""));
    }
}
