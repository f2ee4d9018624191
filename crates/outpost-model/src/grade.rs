//! Grading from the answer key. The device grades to give feedback; the hub
//! grades the same responses again and never trusts a score it is sent.

use crate::course::{CourseStructure, QuestionKey};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// A response is correct when the chosen options are exactly the correct
/// ones: for a multiple-choice question, all of them and no others.
pub fn grade_response(key: &QuestionKey, response: &[String]) -> bool {
    let mut chosen: Vec<&str> = response.iter().map(String::as_str).collect();
    chosen.sort_unstable();
    chosen.dedup();
    let mut correct = key.correct_ids();
    correct.sort_unstable();
    chosen == correct
}

/// A quiz score as a fraction, kept exact so comparisons never round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizScore {
    pub correct: u32,
    pub total: u32,
}

impl QuizScore {
    /// Scaled 0..=1 (xAPI `score.scaled`). An empty quiz scores 0.
    pub fn scaled(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            f64::from(self.correct) / f64::from(self.total)
        }
    }

    /// Whole percent, rounded down, for display.
    pub fn percent(self) -> u32 {
        (self.correct * 100).checked_div(self.total).unwrap_or(0)
    }

    /// Whether the score reaches a scaled passing score. Compared on whole
    /// ten-thousandths so that 3/4 passes 0.75 whatever the float does.
    pub fn passes(self, passing_score: f64) -> bool {
        let need = (passing_score.clamp(0.0, 1.0) * 10_000.0).round() as u64;
        self.total > 0 && u64::from(self.correct) * 10_000 >= need * u64::from(self.total)
    }

    /// Order by the fraction's value.
    pub fn cmp_value(self, other: QuizScore) -> Ordering {
        (u64::from(self.correct) * u64::from(other.total.max(1)))
            .cmp(&(u64::from(other.correct) * u64::from(self.total.max(1))))
    }
}

/// Grade an attempt: `questions` are the ones asked (drawn), `responses` what
/// the learner chose. Unanswered questions count as wrong; questions the
/// course no longer has (after an update) are left out of the total.
pub fn grade_quiz(
    course: &CourseStructure,
    questions: &[String],
    responses: &BTreeMap<String, Vec<String>>,
) -> QuizScore {
    let mut score = QuizScore {
        correct: 0,
        total: 0,
    };
    for q in questions {
        let Some(key) = course.questions.get(q) else {
            continue;
        };
        score.total += 1;
        if responses.get(q).is_some_and(|r| grade_response(key, r)) {
            score.correct += 1;
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::fixtures;

    fn r(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn single_and_multiple_choice() {
        let c = fixtures::course();
        let single = &c.questions["quiz-q1"];
        assert!(grade_response(single, &r(&["b"])));
        assert!(!grade_response(single, &r(&["a"])));
        assert!(!grade_response(single, &r(&["a", "b"])));
        assert!(!grade_response(single, &r(&[])));

        let multi = &c.questions["quiz-q2"];
        assert!(grade_response(multi, &r(&["c", "a"])));
        assert!(
            grade_response(multi, &r(&["a", "c", "a"])),
            "duplicates ignored"
        );
        assert!(!grade_response(multi, &r(&["a"])), "partial is wrong");
        assert!(
            !grade_response(multi, &r(&["a", "b", "c"])),
            "extra is wrong"
        );
    }

    #[test]
    fn quiz_scores_and_passing() {
        let c = fixtures::course();
        let qs = r(&["bank-1", "bank-2", "bank-3", "bank-4"]);
        let mut resp = BTreeMap::new();
        resp.insert("bank-1".to_string(), r(&["a"]));
        resp.insert("bank-2".to_string(), r(&["b"]));
        resp.insert("bank-3".to_string(), r(&["c"]));
        resp.insert("bank-4".to_string(), r(&["a"])); // wrong
        let s = grade_quiz(&c, &qs, &resp);
        assert_eq!(
            s,
            QuizScore {
                correct: 3,
                total: 4
            }
        );
        assert!(s.passes(0.75));
        assert!(!s.passes(0.76));
        assert_eq!(s.percent(), 75);
        resp.remove("bank-3");
        let s2 = grade_quiz(&c, &qs, &resp);
        assert_eq!(s2.correct, 2, "unanswered counts as wrong");
        assert_eq!(s.cmp_value(s2), Ordering::Greater);
        // A question removed by an update drops out of the total.
        let qs_old = r(&["bank-1", "gone"]);
        assert_eq!(
            grade_quiz(&c, &qs_old, &resp),
            QuizScore {
                correct: 1,
                total: 1
            }
        );
    }
}
