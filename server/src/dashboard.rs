//! The trainer dashboard (issue 7) mounts here, under `/dashboard`. For now
//! it is a page that says so; sessions, pages and reports come with it and
//! read the `progress`, `events` and `device_tokens` tables the sync code
//! keeps current.

use crate::hub::Hub;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

pub fn router() -> Router<Arc<Hub>> {
    Router::new().route("/dashboard", get(index))
}

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Outpost hub</title></head>\
         <body><main><h1>Outpost hub</h1><p>The trainer dashboard is not built yet.</p></main></body></html>",
    )
}
