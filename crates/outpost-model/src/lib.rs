//! Outpost's domain model, shared by the course compiler, the learner core on
//! the device and the hub.
//!
//! Invariant: this crate does no I/O. Everything here is a pure function of
//! its inputs, so the device and the hub compute progress with the same code
//! and get the same answer from the same events.

pub mod course;
pub mod draw;
pub mod event;
pub mod grade;
pub mod progress;
pub mod xapi;

pub use course::{
    AssessmentInfo, CourseStructure, LessonInfo, LessonKind, ModuleInfo, MoveOn, OptionKey,
    QuestionKey, QuestionType,
};
pub use event::{Event, EventKind, EventValidationError};
pub use grade::{grade_response, QuizScore};
pub use progress::{
    fold, fold_order, CourseProgress, Fold, FoldOrder, LessonProgress, LessonStatus,
    ModuleProgress, QuizProgress,
};
