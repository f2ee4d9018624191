//! The USB path on the dashboard: upload a progress file carried from a
//! post, ingest it exactly as `outpost-hub admin import-progress` does
//! ([`Hub::import_progress`]), and download the signed receipt to carry
//! back.

use super::courses::read_upload;
use super::html::{page, Cell, Nav, Table};
use super::i18n::fill;
use super::{queries, DashError, DashResult, Viewer};
use crate::db::Mode;
use crate::hub::{now_ms, Hub};
use crate::params;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;
use outpost_protocol::EventStatus;
use std::sync::Arc;
use uuid::Uuid;

pub async fn form(v: Viewer) -> Response {
    let t = v.t();
    let body = html! {
        p { (t.files_intro) }
        form method="post" action="/dashboard/progress-files" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(v.csrf);
            p {
                label for="progress-file" { (t.progress_file) }
                input id="progress-file" name="file" type="file" required;
            }
            p { button type="submit" { (t.import) } }
        }
    };
    page(&v, t.nav_files, Nav::Files, body)
}

pub async fn upload(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    form: Multipart,
) -> DashResult<Response> {
    let t = v.t();
    let (bytes, file_name) = read_upload(&v, form, "file").await?;
    let claimed = outpost_protocol::read_progress_file(&bytes)
        .map_err(|e| DashError::bad_request(fill(t.bad_progress_file, &[&e.to_string()])))?
        .claimed()
        .clone();
    // A trainer imports files of their own learners only. (The file's
    // signature is checked by the import itself, against the device key.)
    if let Some(trainer) = v.trainer() {
        let mut tx = hub.db.begin(Mode::Read).await?;
        if queries::profile_in_scope(
            tx.as_mut(),
            Some(trainer),
            claimed.device_id,
            claimed.learner_id,
        )
        .await?
        .is_none()
        {
            return Err(DashError::new(
                axum::http::StatusCode::FORBIDDEN,
                t.file_not_yours,
            ));
        }
    }
    let (receipt, receipt_bytes) = hub.import_progress(&bytes).await?;
    let id = Uuid::now_v7();
    let mut tx = hub.db.begin(Mode::Write).await?;
    tx.exec(
        "INSERT INTO dashboard_receipts (id, created_by, created_ms, device_id, learner_id, bytes) VALUES ($1, $2, $3, $4, $5, $6)",
        params![id, &v.username, now_ms(), receipt.device_id, receipt.learner_id, receipt_bytes],
    )
    .await?;
    tx.commit().await?;
    let mut counts = [0usize; 4];
    let mut rejected = Table::new(t.rejected_events, &[t.event, t.reason]);
    for r in &receipt.results {
        match &r.status {
            EventStatus::Accepted => counts[0] += 1,
            EventStatus::Duplicate => counts[1] += 1,
            EventStatus::Conflict => counts[2] += 1,
            EventStatus::Rejected { reason } => {
                counts[3] += 1;
                rejected
                    .rows
                    .push(vec![Cell::text(r.id.to_string()), Cell::text(reason)]);
            }
        }
    }
    tracing::info!(
        device = %receipt.device_id,
        events = receipt.results.len(),
        by = %v.username,
        "progress file imported on the dashboard"
    );
    let mut summary = Table::new(t.import_result, &[t.status, t.events]);
    summary.rows = vec![
        vec![Cell::text(t.accepted), Cell::num(counts[0])],
        vec![Cell::text(t.duplicate), Cell::num(counts[1])],
        vec![Cell::text(t.conflict), Cell::num(counts[2])],
        vec![Cell::text(t.rejected), Cell::num(counts[3])],
    ];
    let body = html! {
        p role="status" id="import-done" {
            (fill(t.imported_file, &[&file_name, &receipt.results.len().to_string(), &receipt.device_id.to_string()]))
        }
        (summary.html(t))
        @if counts[3] > 0 { (rejected.html(t)) }
        p {
            a.button id="receipt-link" href={"/dashboard/receipts/" (id)} download { (t.download_receipt) }
        }
        p { (t.receipt_intro) }
        p { a href="/dashboard/progress-files" { (t.import_another) } }
    };
    Ok(page(&v, t.import_result, Nav::Files, body))
}

pub async fn receipt(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
) -> DashResult<Response> {
    let t = v.t();
    let id = Uuid::parse_str(&id).map_err(|_| DashError::not_found(t.no_such_receipt))?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let row = tx
        .query_opt(
            "SELECT created_by, device_id, bytes FROM dashboard_receipts WHERE id = $1",
            params![id],
        )
        .await?
        .ok_or_else(|| DashError::not_found(t.no_such_receipt))?;
    if row.text(0)? != v.username && !v.is_admin() {
        return Err(DashError::not_found(t.no_such_receipt));
    }
    let device = row.text(1)?;
    let bytes = row.bytes(2)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"outpost-receipt-{device}.receipt\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
