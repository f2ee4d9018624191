//! The language-independent structure of a course: what the progress fold and
//! the grader need, and nothing that is only for display.
//!
//! The compiler produces it, the package stores it (as JSON), and the learner
//! core and the hub read it back. Display text per language lives in the
//! package's content tables, keyed by the same ids.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// cmi5 `moveOn`: what a learner must achieve for the course to be satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MoveOn {
    Completed,
    Passed,
    CompletedAndPassed,
    CompletedOrPassed,
    NotApplicable,
}

impl MoveOn {
    pub const ALL: [MoveOn; 5] = [
        MoveOn::Completed,
        MoveOn::Passed,
        MoveOn::CompletedAndPassed,
        MoveOn::CompletedOrPassed,
        MoveOn::NotApplicable,
    ];

    /// Whether the rule is met given the two facts cmi5 cares about.
    pub fn satisfied(self, completed: bool, passed: bool) -> bool {
        match self {
            MoveOn::Completed => completed,
            MoveOn::Passed => passed,
            MoveOn::CompletedAndPassed => completed && passed,
            MoveOn::CompletedOrPassed => completed || passed,
            MoveOn::NotApplicable => true,
        }
    }

    /// Whether the rule can only be met through a passed assessment.
    pub fn needs_passed(self) -> bool {
        matches!(self, MoveOn::Passed | MoveOn::CompletedAndPassed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MoveOn::Completed => "Completed",
            MoveOn::Passed => "Passed",
            MoveOn::CompletedAndPassed => "CompletedAndPassed",
            MoveOn::CompletedOrPassed => "CompletedOrPassed",
            MoveOn::NotApplicable => "NotApplicable",
        }
    }

    pub fn parse(s: &str) -> Option<MoveOn> {
        MoveOn::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonKind {
    /// Reading; done when the learner reaches its end.
    Lesson,
    /// A module quiz; done when submitted at least once.
    Quiz,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    Single,
    Multiple,
    #[serde(rename = "truefalse")]
    TrueFalse,
    Scenario,
}

impl QuestionType {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionType::Single => "single",
            QuestionType::Multiple => "multiple",
            QuestionType::TrueFalse => "truefalse",
            QuestionType::Scenario => "scenario",
        }
    }

    pub fn parse(s: &str) -> Option<QuestionType> {
        [
            QuestionType::Single,
            QuestionType::Multiple,
            QuestionType::TrueFalse,
            QuestionType::Scenario,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Exactly one option is correct for every type but `Multiple`.
    pub fn single_answer(self) -> bool {
        !matches!(self, QuestionType::Multiple)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionKey {
    /// `a`, `b`, `c`, … in source order.
    pub id: String,
    pub correct: bool,
}

/// A question's answer key: enough to grade a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionKey {
    pub id: String,
    #[serde(rename = "type")]
    pub question_type: QuestionType,
    pub options: Vec<OptionKey>,
}

impl QuestionKey {
    /// The ids of the correct options, in order.
    pub fn correct_ids(&self) -> Vec<&str> {
        self.options
            .iter()
            .filter(|o| o.correct)
            .map(|o| o.id.as_str())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonInfo {
    pub id: String,
    pub kind: LessonKind,
    pub minutes: u32,
    /// Questions in this lesson, in order: knowledge checks for a lesson, the
    /// graded questions for a quiz.
    pub questions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInfo {
    pub id: String,
    pub lessons: Vec<LessonInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssessmentInfo {
    pub id: String,
    /// Questions drawn per attempt.
    pub draw: u32,
    pub minutes: u32,
    /// The question bank, in source order.
    pub bank: Vec<String>,
}

/// Everything about a course that does not depend on the language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseStructure {
    pub id: String,
    pub version: String,
    pub move_on: MoveOn,
    /// Scaled 0..=1; an assessment attempt passes at or above it.
    pub passing_score: f64,
    pub estimated_minutes: u32,
    pub modules: Vec<ModuleInfo>,
    pub assessment: Option<AssessmentInfo>,
    /// Every question of the course (checks, quizzes and the bank) by id.
    pub questions: BTreeMap<String, QuestionKey>,
}

/// What kind of thing an activity id names within a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity<'a> {
    Course,
    Module(&'a ModuleInfo),
    Lesson(&'a ModuleInfo, &'a LessonInfo),
    Assessment(&'a AssessmentInfo),
    Question(&'a QuestionKey),
}

impl CourseStructure {
    pub fn lessons(&self) -> impl Iterator<Item = (&ModuleInfo, &LessonInfo)> {
        self.modules
            .iter()
            .flat_map(|m| m.lessons.iter().map(move |l| (m, l)))
    }

    pub fn lesson(&self, id: &str) -> Option<(&ModuleInfo, &LessonInfo)> {
        self.lessons().find(|(_, l)| l.id == id)
    }

    pub fn module(&self, id: &str) -> Option<&ModuleInfo> {
        self.modules.iter().find(|m| m.id == id)
    }

    /// Resolve an activity id. Modules, lessons, questions and the assessment
    /// share no ids, so the answer is unambiguous.
    pub fn activity(&self, id: &str) -> Option<Activity<'_>> {
        if id == self.id {
            return Some(Activity::Course);
        }
        if let Some(m) = self.module(id) {
            return Some(Activity::Module(m));
        }
        if let Some((m, l)) = self.lesson(id) {
            return Some(Activity::Lesson(m, l));
        }
        if let Some(a) = self.assessment.as_ref().filter(|a| a.id == id) {
            return Some(Activity::Assessment(a));
        }
        self.questions.get(id).map(Activity::Question)
    }

    /// The questions a quiz (a quiz lesson or the assessment's bank) may ask.
    pub fn quiz_questions(&self, quiz_id: &str) -> Option<&[String]> {
        if let Some(a) = self.assessment.as_ref().filter(|a| a.id == quiz_id) {
            return Some(&a.bank);
        }
        match self.lesson(quiz_id) {
            Some((_, l)) if l.kind == LessonKind::Quiz => Some(&l.questions),
            _ => None,
        }
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    fn q(id: &str, t: QuestionType, correct: &[&str], n: usize) -> QuestionKey {
        QuestionKey {
            id: id.into(),
            question_type: t,
            options: (0..n)
                .map(|i| {
                    let oid = ((b'a' + i as u8) as char).to_string();
                    OptionKey {
                        correct: correct.contains(&oid.as_str()),
                        id: oid,
                    }
                })
                .collect(),
        }
    }

    /// Two modules; the second ends with a quiz; a bank of six, draw four.
    pub fn course() -> CourseStructure {
        let mut questions = BTreeMap::new();
        for k in [
            q("check-1", QuestionType::TrueFalse, &["a"], 2),
            q("quiz-q1", QuestionType::Single, &["b"], 3),
            q("quiz-q2", QuestionType::Multiple, &["a", "c"], 4),
            q("bank-1", QuestionType::Single, &["a"], 3),
            q("bank-2", QuestionType::Single, &["b"], 3),
            q("bank-3", QuestionType::Scenario, &["c"], 3),
            q("bank-4", QuestionType::TrueFalse, &["b"], 2),
            q("bank-5", QuestionType::Multiple, &["a", "b"], 3),
            q("bank-6", QuestionType::Single, &["a"], 4),
        ] {
            questions.insert(k.id.clone(), k);
        }
        let lesson = |id: &str, kind, qs: &[&str]| LessonInfo {
            id: id.into(),
            kind,
            minutes: 10,
            questions: qs.iter().map(|s| s.to_string()).collect(),
        };
        CourseStructure {
            id: "demo".into(),
            version: "1.0.0".into(),
            move_on: MoveOn::CompletedAndPassed,
            passing_score: 0.75,
            estimated_minutes: 60,
            modules: vec![
                ModuleInfo {
                    id: "m1".into(),
                    lessons: vec![
                        lesson("l1", LessonKind::Lesson, &["check-1"]),
                        lesson("l2", LessonKind::Lesson, &[]),
                    ],
                },
                ModuleInfo {
                    id: "m2".into(),
                    lessons: vec![
                        lesson("l3", LessonKind::Lesson, &[]),
                        lesson("m2-quiz", LessonKind::Quiz, &["quiz-q1", "quiz-q2"]),
                    ],
                },
            ],
            assessment: Some(AssessmentInfo {
                id: "final".into(),
                draw: 4,
                minutes: 20,
                bank: (1..=6).map(|i| format!("bank-{i}")).collect(),
            }),
            questions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn move_on_truth_table() {
        use MoveOn::*;
        let cases = [
            (Completed, [false, false, true, true]),
            (Passed, [false, true, false, true]),
            (CompletedAndPassed, [false, false, false, true]),
            (CompletedOrPassed, [false, true, true, true]),
            (NotApplicable, [true, true, true, true]),
        ];
        for (rule, expect) in cases {
            let got = [
                rule.satisfied(false, false),
                rule.satisfied(false, true),
                rule.satisfied(true, false),
                rule.satisfied(true, true),
            ];
            assert_eq!(got, expect, "{rule:?}");
            assert_eq!(MoveOn::parse(rule.as_str()), Some(rule));
        }
        assert_eq!(MoveOn::parse("completed"), None);
    }

    #[test]
    fn activities_resolve_by_id() {
        let c = fixtures::course();
        assert_eq!(c.activity("demo"), Some(Activity::Course));
        assert!(matches!(c.activity("m2"), Some(Activity::Module(_))));
        assert!(matches!(c.activity("l3"), Some(Activity::Lesson(m, _)) if m.id == "m2"));
        assert!(matches!(c.activity("final"), Some(Activity::Assessment(_))));
        assert!(matches!(c.activity("bank-3"), Some(Activity::Question(_))));
        assert_eq!(c.activity("nope"), None);
        assert_eq!(c.quiz_questions("m2-quiz").unwrap().len(), 2);
        assert_eq!(c.quiz_questions("final").unwrap().len(), 6);
        assert_eq!(c.quiz_questions("l1"), None);
    }
}
