//! The one error type of the learner core. Every variant says what went wrong
//! in words a focal point can act on; none carries a secret.

use outpost_model::EventValidationError;
use outpost_package::PackageError;
use uuid::Uuid;

pub type Result<T, E = LearnerError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum LearnerError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Db(rusqlite::Error),
    /// The disk is full, failing or read-only: nothing was written.
    #[error("cannot write to the data directory (is the disk full, failing or read-only?): {0}")]
    Storage(rusqlite::Error),
    #[error("{path} is not an Outpost data file ({detail}); choose another data directory")]
    NotOutpost { path: String, detail: String },
    #[error("{path} was written by a newer version of Outpost (store version {found}, this version knows up to {supported}); update Outpost")]
    NewerDatabase {
        path: String,
        found: u32,
        supported: u32,
    },
    /// The package was refused: foreign, damaged, tampered, unknown signer,
    /// newer schema. The message comes from `outpost-package`.
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(
        "course {course} {installed} is installed; refusing to replace it with the older {offered}"
    )]
    Downgrade {
        course: String,
        installed: String,
        offered: String,
    },
    #[error("the installed copy of course {course} is damaged ({detail}); import the course package again")]
    CourseDamaged { course: String, detail: String },
    #[error("no course {0:?} is installed")]
    CourseNotInstalled(String),
    #[error("no profile {0}")]
    UnknownProfile(String),
    #[error("a profile named {0:?} already exists on this device")]
    ProfileNameTaken(String),
    #[error("invalid profile name: {0}")]
    InvalidName(String),
    #[error("unknown language {0:?}: use one of en, fr, es, ar")]
    UnknownLanguage(String),
    #[error("wrong PIN")]
    WrongPin,
    #[error("invalid PIN: {0}")]
    InvalidPin(String),
    #[error("course {course} has no lesson {lesson:?}")]
    UnknownLesson { course: String, lesson: String },
    #[error("course {course} has no question {question:?}")]
    UnknownQuestion { course: String, question: String },
    #[error("course {course} has no quiz {quiz:?}")]
    NotAQuiz { course: String, quiz: String },
    #[error("no quiz attempt {0} for this profile")]
    UnknownAttempt(Uuid),
    #[error("quiz attempt {0} was already submitted")]
    AttemptClosed(Uuid),
    #[error("question {question:?} is not part of attempt {attempt}")]
    QuestionNotInAttempt { attempt: Uuid, question: String },
    #[error("question {0:?} belongs to a quiz: answer it within a quiz attempt")]
    NotACheck(String),
    #[error("invalid answer to {question:?}: {detail}")]
    InvalidResponse { question: String, detail: String },
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] EventValidationError),
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for LearnerError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    C::DiskFull | C::SystemIoFailure | C::ReadOnly | C::CannotOpen
                ) =>
            {
                LearnerError::Storage(e)
            }
            _ => LearnerError::Db(e),
        }
    }
}

impl LearnerError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> LearnerError {
        LearnerError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> LearnerError {
        LearnerError::Invalid {
            what,
            detail: detail.into(),
        }
    }
}
