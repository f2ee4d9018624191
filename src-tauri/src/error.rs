//! The one error the interface sees: a kind it can act on and a message a
//! person can read. Every learner-core error maps here exhaustively (no
//! catch-all arm), so a new kind of failure cannot reach the screen
//! unexplained.

use outpost_learner::LearnerError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// What was typed or chosen is not acceptable (name, PIN, answer).
    InvalidInput,
    /// The PIN does not match.
    WrongPin,
    /// No profile is open (or it no longer exists): choose one.
    NoProfile,
    /// The course, lesson, question or attempt asked for does not exist.
    NotFound,
    /// A course package was refused (damaged, tampered, unknown publisher,
    /// too new, older than the installed one).
    PackageRefused,
    /// The data folder cannot be read or written.
    Storage,
    /// The hub cannot be reached, or refused (the message says why and
    /// what to do); nothing recorded here is lost.
    Sync,
    /// A bug: it should not happen, and the message says what did.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> AppError {
        AppError {
            kind,
            message: message.into(),
        }
    }

    pub fn no_profile() -> AppError {
        AppError::new(
            ErrorKind::NoProfile,
            "no profile is open: choose who is learning first",
        )
    }
}

fn kind_of(e: &LearnerError) -> ErrorKind {
    use ErrorKind as K;
    match e {
        LearnerError::Io { .. } | LearnerError::Db(_) | LearnerError::Storage(_) => K::Storage,
        LearnerError::NotOutpost { .. } | LearnerError::NewerDatabase { .. } => K::Storage,
        LearnerError::Package(_) | LearnerError::Downgrade { .. } => K::PackageRefused,
        LearnerError::CourseDamaged { .. } => K::PackageRefused,
        LearnerError::CourseNotInstalled(_)
        | LearnerError::UnknownLesson { .. }
        | LearnerError::UnknownQuestion { .. }
        | LearnerError::NotAQuiz { .. }
        | LearnerError::UnknownAttempt(_) => K::NotFound,
        LearnerError::UnknownProfile(_) => K::NoProfile,
        LearnerError::WrongPin => K::WrongPin,
        LearnerError::ProfileNameTaken(_)
        | LearnerError::InvalidName(_)
        | LearnerError::UnknownLanguage(_)
        | LearnerError::InvalidPin(_)
        | LearnerError::AttemptClosed(_)
        | LearnerError::QuestionNotInAttempt { .. }
        | LearnerError::NotACheck(_)
        | LearnerError::InvalidResponse { .. }
        | LearnerError::InvalidEvent(_)
        | LearnerError::Invalid { .. } => K::InvalidInput,
        LearnerError::Internal(_) => K::Internal,
    }
}

impl From<LearnerError> for AppError {
    fn from(e: LearnerError) -> AppError {
        AppError::new(kind_of(&e), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learner_errors_keep_their_words_and_get_a_kind() {
        let e = AppError::from(LearnerError::WrongPin);
        assert_eq!(e.kind, ErrorKind::WrongPin);
        assert_eq!(e.message, "wrong PIN");
        let e = AppError::from(LearnerError::CourseNotInstalled("x".into()));
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(e.message.contains("\"x\""), "{}", e.message);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "not_found");
        assert_eq!(json["message"], e.message);
    }
}
