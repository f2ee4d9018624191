//! The trainer dashboard: server-rendered pages under `/dashboard` for
//! admins and trainers (issue 7).
//!
//! - [`session`]: sign-in (argon2, lockout per username and address),
//!   sessions kept hashed in the database, CSRF tokens, the language switch.
//! - [`queries`]: every report as SQL over the tables ingest keeps current
//!   (`progress`, `events`, `quiz_answers`, `devices`, `device_tokens`),
//!   aggregated and paged in the database; a trainer's scope is part of each
//!   query, never only of the links.
//! - [`html`]: the page layout, tables (rendered as HTML or as CSV from the
//!   same rows) and pagination; [`svg`] the plots; [`i18n`] every string in
//!   English and French.
//! - Pages: [`cohorts`], [`learners`], [`reports`] (overdue, silent devices,
//!   item analysis), [`courses`] (upload, summary, publish), [`files`]
//!   (progress files and receipts).
//!
//! Pages use no script and load nothing from elsewhere: one stylesheet
//! served from here, plots drawn as inline SVG. Forms work without
//! JavaScript.

pub mod answers;
mod cohorts;
mod courses;
pub mod csv;
mod files;
mod html;
pub mod i18n;
mod learners;
pub mod queries;
pub mod reports;
pub mod session;
pub mod svg;
mod texts;

use crate::db::DbError;
use crate::error::HubError;
use crate::hub::Hub;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use i18n::{Lang, Text};
use std::sync::Arc;

pub const PREFIX: &str = "/dashboard";

/// Largest upload (a course package or a progress file, plus the form
/// around it).
pub const MAX_UPLOAD_BYTES: usize = outpost_protocol::limits::MAX_FILE_BYTES + 1024 * 1024;

/// Rows per page of every list.
pub const PER_PAGE: u32 = 50;

pub fn router() -> Router<Arc<Hub>> {
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/", get(home))
        .route("/dashboard/static/dashboard.css", get(stylesheet))
        .route(
            "/dashboard/login",
            get(session::login_page).post(session::login),
        )
        .route("/dashboard/logout", post(session::logout))
        .route("/dashboard/lang", get(session::switch_lang))
        .route(
            "/dashboard/cohorts",
            get(cohorts::list).post(cohorts::create),
        )
        .route("/dashboard/cohorts/{id}", get(cohorts::overview))
        .route("/dashboard/cohorts/{id}/members", get(cohorts::members))
        .route("/dashboard/cohorts/{id}/assign", post(cohorts::assign))
        .route(
            "/dashboard/cohorts/{id}/codes",
            get(cohorts::codes).post(cohorts::create_code),
        )
        .route("/dashboard/overdue", get(reports::overdue))
        .route("/dashboard/silent", get(reports::silent))
        .route("/dashboard/items", get(reports::items))
        .route("/dashboard/learners/{id}", get(learners::detail))
        .route("/dashboard/devices/{id}/revoke", post(learners::revoke))
        .route("/dashboard/courses", get(courses::list))
        .route("/dashboard/courses/upload", post(courses::upload))
        .route("/dashboard/courses/staged/{id}", get(courses::staged))
        .route(
            "/dashboard/courses/staged/{id}/publish",
            post(courses::publish),
        )
        .route("/dashboard/courses/keys", post(courses::add_key))
        .route(
            "/dashboard/progress-files",
            get(files::form).post(files::upload),
        )
        .route("/dashboard/receipts/{id}", get(files::receipt))
        .layer(axum::middleware::map_response(security_headers))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_UPLOAD_BYTES,
        ))
}

async fn home() -> Redirect {
    Redirect::to("/dashboard/cohorts")
}

const CSS: &str = include_str!("../../static/dashboard.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// Nothing but this hub's own stylesheet, no script at all, no framing.
async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    res
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Trainer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "trainer" => Some(Role::Trainer),
            _ => None,
        }
    }
}

/// The signed-in user of a request. Handlers that take a `Viewer` are
/// reachable only with a valid session; without one the browser is sent to
/// the sign-in page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub username: String,
    pub role: Role,
    pub csrf: String,
    pub lang: Lang,
    /// Path and query of this request (where the language switch returns).
    pub here: String,
    pub secure: bool,
}

impl Viewer {
    pub fn t(&self) -> &'static Text {
        self.lang.text()
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The trainer whose cohorts bound every query; `None` for an admin.
    pub fn trainer(&self) -> Option<&str> {
        match self.role {
            Role::Admin => None,
            Role::Trainer => Some(&self.username),
        }
    }

    /// Every POST carries the session's CSRF token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), DashError> {
        if session::same_secret(sent, &self.csrf) {
            Ok(())
        } else {
            Err(DashError::new(StatusCode::FORBIDDEN, self.t().csrf_refused))
        }
    }

    pub fn admin_only(&self) -> Result<(), DashError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(DashError::new(StatusCode::FORBIDDEN, self.t().admins_only))
        }
    }
}

impl FromRequestParts<Arc<Hub>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Response> {
        let lang = session::lang_of(&parts.headers);
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| PREFIX.to_string(), |p| p.as_str().to_string());
        let found = match session::cookie(&parts.headers, session::SESSION_COOKIE) {
            Some(token) => session::lookup(hub, &token)
                .await
                .map_err(|e| DashError::from(e).into_response())?,
            None => None,
        };
        match found {
            Some(s) => Ok(Viewer {
                username: s.username,
                role: s.role,
                csrf: s.csrf,
                lang,
                here,
                secure: session::secure(hub),
            }),
            None => {
                // GET pages come back after sign-in; a POST cannot be
                // replayed, so it returns to the dashboard's start.
                let next = if parts.method == axum::http::Method::GET {
                    here
                } else {
                    PREFIX.to_string()
                };
                Err(Redirect::to(&format!(
                    "/dashboard/login?next={}",
                    html::url_encode(&next)
                ))
                .into_response())
            }
        }
    }
}

/// An error shown as a page: its status and a message for people.
#[derive(Debug)]
pub struct DashError {
    pub status: StatusCode,
    pub message: String,
}

impl DashError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> DashError {
        DashError {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> DashError {
        DashError::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found(message: impl Into<String>) -> DashError {
        DashError::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<HubError> for DashError {
    fn from(e: HubError) -> DashError {
        let (status, _) = e.status_and_code();
        let message = if status.is_server_error() {
            tracing::error!(error = %e, "dashboard request failed");
            "The hub failed to handle this request; it was logged. Try again later. / Le hub n'a pas pu traiter cette demande ; réessayez plus tard.".to_string()
        } else {
            e.to_string()
        };
        DashError { status, message }
    }
}

impl From<DbError> for DashError {
    fn from(e: DbError) -> DashError {
        DashError::from(HubError::from(e))
    }
}

impl IntoResponse for DashError {
    fn into_response(self) -> Response {
        let body = html::error_page(self.status, &self.message);
        (self.status, body).into_response()
    }
}

pub type DashResult<T> = Result<T, DashError>;
