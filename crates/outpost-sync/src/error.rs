//! What can go wrong in a sync, in words a focal point can act on. No
//! variant ever carries a device token.

use serde::Serialize;

/// Why a sync, an enrolment or a file operation did not finish.
///
/// `Clone` and `Serialize` so that the background loop can publish the last
/// error to the app and `outpost sync --json` can print it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum SyncError {
    #[error("no profile on this laptop is enrolled with a hub: enrol one with an enrolment code first (outpost enroll --hub URL --code CODE)")]
    NotEnrolled,
    #[error("{0}")]
    BadInput(String),
    /// No answer from the hub (no network, DNS, refused, cut, timed out).
    #[error("the hub at {hub} cannot be reached: {detail}. Nothing was lost: pending events stay on this laptop and are sent at the next sync")]
    Unreachable { hub: String, detail: String },
    /// The device's token was revoked, or the hub does not know it.
    #[error("the hub refused this laptop's credentials: {reason}. Enrol again with a new code from your trainer")]
    NotAuthorized { reason: String },
    #[error("the hub speaks another version of the sync protocol: {reason}. Update Outpost")]
    UnsupportedProtocol { reason: String },
    /// The hub answered with an error for the whole request.
    #[error("the hub refused the request ({status} {code}): {reason}")]
    Refused {
        status: u16,
        code: String,
        reason: String,
    },
    /// The hub answered something this client cannot read.
    #[error("the hub's answer could not be understood: {0}")]
    Protocol(String),
    #[error("the local store failed: {0}")]
    Store(String),
    #[error("{path}: {detail}")]
    File { path: String, detail: String },
    #[error("{0}")]
    Receipt(String),
}

impl SyncError {
    /// Worth trying again later without anyone doing anything: the link or
    /// the hub may come back.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Unreachable { .. } => true,
            SyncError::Refused { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    pub(crate) fn file(path: &std::path::Path, detail: impl std::fmt::Display) -> SyncError {
        SyncError::File {
            path: path.display().to_string(),
            detail: detail.to_string(),
        }
    }
}

impl From<outpost_learner::LearnerError> for SyncError {
    fn from(e: outpost_learner::LearnerError) -> Self {
        SyncError::Store(e.to_string())
    }
}
