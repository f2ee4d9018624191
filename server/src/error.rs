//! The hub's error type, and how each error reaches an HTTP client: a
//! status and a JSON `{error, reason}` body (`outpost_protocol::ErrorBody`).
//! Internal errors are logged once here and answered without details.

use crate::db::DbError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use outpost_protocol::{ErrorBody, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{0}")]
    BadRequest(String),
    #[error("protocol {0} is not supported by this hub (it speaks {supported}); update the app", supported = outpost_protocol::PROTOCOL_VERSION)]
    UnsupportedProtocol(u32),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Revoked(String),
    #[error("{0}")]
    InvalidCode(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    RangeNotSatisfiable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error(transparent)]
    Db(DbError),
    #[error("{0}")]
    Internal(String),
}

impl HubError {
    pub fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        use HubError as E;
        match self {
            E::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
            E::UnsupportedProtocol(_) => (StatusCode::BAD_REQUEST, ErrorCode::UnsupportedProtocol),
            E::Unauthorized(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            E::Revoked(_) => (StatusCode::UNAUTHORIZED, ErrorCode::Revoked),
            E::InvalidCode(_) => (StatusCode::FORBIDDEN, ErrorCode::InvalidCode),
            E::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            E::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            E::Conflict(_) => (StatusCode::CONFLICT, ErrorCode::Conflict),
            E::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge),
            E::RangeNotSatisfiable(_) => (
                StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorCode::RangeNotSatisfiable,
            ),
            E::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            E::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            E::Db(_) | E::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        let (status, error) = self.status_and_code();
        let reason = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the hub failed to handle this request; it was logged, try again later".to_string()
        } else {
            self.to_string()
        };
        let mut res = (status, axum::Json(ErrorBody { error, reason })).into_response();
        if let HubError::RateLimited { retry_after } = self {
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        res
    }
}

impl From<DbError> for HubError {
    fn from(e: DbError) -> HubError {
        match e {
            // Text the client sent that cannot be stored: its fault, said.
            DbError::InvalidText(reason) => HubError::BadRequest(reason),
            e => HubError::Db(e),
        }
    }
}

pub type HubResult<T> = Result<T, HubError>;
