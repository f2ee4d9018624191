//! Request and response bodies of the sync API (`/api/v1/…`).

use chrono::{DateTime, NaiveDate, Utc};
use outpost_model::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/v1/enroll`: a learner profile on a device joins a cohort with
/// an enrolment code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub protocol: u32,
    pub code: String,
    pub device_id: Uuid,
    pub device_name: String,
    /// The device's ed25519 public key, 64 hex digits. Progress files from
    /// this device are verified with it.
    pub device_public_key: String,
    /// The profile's local learner id (made when the profile was created).
    pub learner_id: Uuid,
    pub learner_name: String,
    /// When given and a learner with this e-mail exists, the profile is
    /// joined to that learner (a second device of the same person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Interface language, e.g. `en`, `fr`, `es`, `ar`.
    pub language: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub protocol: u32,
    /// The hub's (canonical) id of the learner. Equal to the request's
    /// `learner_id` unless the profile was joined to an existing learner.
    pub learner_id: Uuid,
    pub learner_name: String,
    pub cohort: String,
    pub device_id: Uuid,
    /// 64 hex digits; shown this once (the hub keeps only its hash). Sent as
    /// `Authorization: Bearer <token>` on every sync request.
    pub device_token: String,
    /// The hub's ed25519 public key (64 hex digits): receipts are signed by it.
    pub hub_public_key: String,
    pub hub_time: DateTime<Utc>,
    pub assignments: Vec<Assignment>,
}

/// A course a learner's cohort is asked to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub course_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
}

/// `POST /api/v1/sync/push` (body gzip-compressed with
/// `Content-Encoding: gzip`, or plain JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub protocol: u32,
    /// The device's clock when it sent the batch: the hub corrects event
    /// times by `hub_time - device_time`.
    pub device_time: DateTime<Utc>,
    /// Events still waiting on the device after this batch (for the
    /// trainer's view of what has not arrived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_after: Option<u64>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub protocol: u32,
    pub hub_time: DateTime<Utc>,
    /// One result per event of the request, in the request's order.
    pub results: Vec<EventResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    pub id: Uuid,
    #[serde(flatten)]
    pub status: EventStatus,
}

/// What the hub did with one event. Every status but `rejected` means the
/// hub holds an event with this id: the device may stop re-sending it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored now.
    Accepted,
    /// The hub already had this event, byte for byte.
    Duplicate,
    /// The hub has a different event under this id; it keeps the one it
    /// had. The device must keep its own and show the conflict.
    Conflict,
    /// Not stored; `reason` says why in words.
    Rejected { reason: String },
}

impl EventStatus {
    /// The hub now holds an event with this id (this one or, for a
    /// conflict, an earlier one): re-sending it cannot change anything.
    pub fn is_acknowledged(&self) -> bool {
        !matches!(self, EventStatus::Rejected { .. })
    }
}

/// `GET /api/v1/sync/pull?cursor=…&limit=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub protocol: u32,
    pub hub_time: DateTime<Utc>,
    /// The learner's events from their other devices, oldest first.
    pub events: Vec<Event>,
    /// Pass this as `cursor` next time. Opaque.
    pub cursor: String,
    /// More events wait past `cursor`: pull again at once.
    pub more: bool,
    pub assignments: Vec<Assignment>,
    /// The newest published version of each course.
    pub courses: Vec<CourseUpdate>,
    /// The hub's view of the learner's progress per course, from the events
    /// it holds: what the device needs to mark a certificate verified.
    pub confirmed: Vec<Confirmed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseUpdate {
    pub course_id: String,
    pub version: String,
    pub size: u64,
    /// SHA-256 of the package file, hex; also its `ETag`.
    pub sha256: String,
    /// Path on the hub, e.g. `/api/v1/courses/demo/1.1.0/package`.
    pub url: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmed {
    pub course_id: String,
    pub completed: bool,
    pub passed: bool,
    /// The course's moveOn rule is met on the hub: the certificate is verified.
    pub satisfied: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied_at: Option<DateTime<Utc>>,
    /// Best final-assessment score, scaled 0..=1, re-graded by the hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_score: Option<f64>,
    /// Events the hub folded into this progress.
    pub events: u32,
}

/// `GET /api/v1/ping`: reachability and the hub's clock. No token needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    pub protocol: u32,
    pub hub_time: DateTime<Utc>,
}

/// The body of every error answer (4xx and 5xx) of the sync API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable, machine-readable: see [`ErrorCode`].
    pub error: ErrorCode,
    /// For people: what is wrong and, where it helps, what to do.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON, wrong types, a missing field, bad compression.
    BadRequest,
    /// The body's `protocol` is not one this hub speaks.
    UnsupportedProtocol,
    /// No token, or a token the hub does not know.
    Unauthorized,
    /// The device was revoked: enrol again with a new code.
    Revoked,
    /// The enrolment code is unknown, used up or expired.
    InvalidCode,
    /// Allowed for no one with these credentials.
    Forbidden,
    NotFound,
    /// The request clashes with what the hub holds (e.g. a device id
    /// enrolled with another key).
    Conflict,
    PayloadTooLarge,
    RangeNotSatisfiable,
    UnsupportedMediaType,
    RateLimited,
    Internal,
}
