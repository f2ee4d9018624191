//! Course management: published versions and which are in use, uploading
//! a package (verified against the trusted publisher keys), the update
//! summary against the current version, publishing; trusted keys.

use super::html::{self, csv_link, page, wants_csv, Cell, Nav, Table};
use super::i18n::{fill, Text};
use super::session::CsrfForm;
use super::texts::{self, open_bytes, CourseTexts};
use super::{queries, DashError, DashResult, Viewer};
use crate::db::Mode;
use crate::hub::{now_ms, valid_id, Hub};
use crate::params;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use outpost_model::CourseStructure;
use outpost_package::PackageError;
use std::sync::Arc;
use uuid::Uuid;

/// Staged uploads not published within this time are dropped.
const STAGED_HOURS: i64 = 24;

#[derive(serde::Deserialize, Default)]
pub struct CoursesQuery {
    format: Option<String>,
    table: Option<String>,
    done: Option<String>,
}

pub async fn list(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Query(q): Query<CoursesQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let lang = v.lang.code();
    let packages = hub.packages().await?;
    let latest = hub.latest_packages().await?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let in_use = queries::versions_in_use(tx.as_mut(), v.trainer()).await?;
    let keys = queries::trusted_keys(tx.as_mut()).await?;
    drop(tx);
    let mut table = Table::new(
        t.published_versions,
        &[
            t.course,
            t.version,
            t.published,
            t.size,
            t.sha256,
            t.learners_on_version,
            t.last_activity,
        ],
    );
    for p in &packages {
        let title = texts::title(&hub, p, lang).await?;
        let used = in_use
            .iter()
            .find(|u| u.course_id == p.course_id && u.version == p.version);
        let newest = latest
            .get(&p.course_id)
            .is_some_and(|l| l.version == p.version);
        table.rows.push(vec![
            Cell::text(format!("{title} ({})", p.course_id)),
            Cell::text(if newest {
                format!("{} ({})", p.version, t.newest)
            } else {
                p.version.clone()
            }),
            Cell::text(html::date(Some(p.published_ms))),
            Cell::Num(format!("{} KiB", p.size.div_ceil(1024))),
            Cell::text(&p.sha256[..p.sha256.len().min(16)]),
            Cell::num(used.map_or(0, |u| u.learners)),
            Cell::text(html::date(used.and_then(|u| u.last_activity_ms))),
        ]);
    }
    let mut key_table = Table::new(t.trusted_keys, &[t.publisher_key, t.name]);
    for (k, name) in &keys {
        key_table.rows.push(vec![
            Cell::Html(html! { code { (k) } }, k.clone()),
            Cell::text(if name.is_empty() {
                t.used_on_command_line.to_string()
            } else {
                name.clone()
            }),
        ]);
    }
    if wants_csv(q.format.as_deref()) {
        return Ok(match q.table.as_deref() {
            Some("keys") => html::csv_response("publisher-keys", key_table.csv(t)),
            _ => html::csv_response("course-versions", table.csv(t)),
        });
    }
    let body = html! {
        (html::notice(t, q.done.as_deref()))
        (table.html(t))
        (csv_link(t, "/dashboard/courses?format=csv"))
        section aria-labelledby="upload" {
            h2 id="upload" { (t.upload_package) }
            p { (t.upload_intro) }
            form method="post" action="/dashboard/courses/upload" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(v.csrf);
                p {
                    label for="package" { (t.package_file) }
                    input id="package" name="package" type="file" accept=".opkg" required;
                }
                p { button type="submit" { (t.check_package) } }
            }
        }
        section aria-labelledby="keys" {
            h2 id="keys" { (t.trusted_keys) }
            (key_table.html(t))
            (csv_link(t, "/dashboard/courses?format=csv&table=keys"))
            @if v.is_admin() {
                form method="post" action="/dashboard/courses/keys" {
                    input type="hidden" name="csrf" value=(v.csrf);
                    p {
                        label for="key-name" { (t.publisher_name) }
                        input id="key-name" name="name" type="text" required maxlength="200";
                    }
                    p {
                        label for="key-hex" { (t.publisher_key) }
                        input id="key-hex" name="key" type="text" required pattern="[0-9a-fA-F]{64}" size="66" aria-describedby="key-hint";
                        span.hint id="key-hint" { (t.key_hint) }
                    }
                    p { button type="submit" { (t.add_key) } }
                }
            }
        }
    };
    Ok(page(&v, t.nav_courses, Nav::Courses, body))
}

/// Read a multipart form: the CSRF field and one file field's bytes.
pub async fn read_upload(
    v: &Viewer,
    mut form: Multipart,
    file_field: &str,
) -> DashResult<(Vec<u8>, String)> {
    let t = v.t();
    let bad = |e: axum::extract::multipart::MultipartError| {
        DashError::new(e.status(), fill(t.upload_failed, &[&e.body_text()]))
    };
    let mut csrf = String::new();
    let mut file: Option<(Vec<u8>, String)> = None;
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(bad)?,
            Some(name) if name == file_field => {
                let file_name = field.file_name().unwrap_or("").to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                file = Some((Vec::from(bytes), file_name));
            }
            _ => {}
        }
    }
    v.check_csrf(&csrf)?;
    match file {
        Some((b, name)) if !b.is_empty() => Ok((b, name)),
        _ => Err(DashError::bad_request(t.no_file)),
    }
}

fn package_error(t: &Text, e: &PackageError) -> DashError {
    let msg = match e {
        PackageError::NotAPackage(_) => t.not_a_package.to_string(),
        PackageError::NewerSchema {
            found, supported, ..
        } => fill(
            t.package_newer,
            &[&found.to_string(), &supported.to_string()],
        ),
        PackageError::Corrupt { detail, .. } => fill(t.package_damaged, &[detail]),
        PackageError::Tampered { .. } => t.package_tampered.to_string(),
        PackageError::UnknownSigner { key, .. } => fill(t.unknown_publisher, &[key]),
        other => other.to_string(),
    };
    DashError::bad_request(msg)
}

struct Checked {
    /// The package's bytes, handed back.
    bytes: Vec<u8>,
    manifest_json: String,
    structure: CourseStructure,
    signer_hex: String,
    texts: CourseTexts,
}

/// Open and verify package bytes against the trusted keys; the bytes come
/// back in the answer (a package can be 64 MiB: it is not copied).
async fn check(hub: &Hub, t: &'static Text, bytes: Vec<u8>) -> DashResult<Checked> {
    let mut tx = hub.db.begin(Mode::Read).await?;
    let trusted: Vec<ed25519_dalek::VerifyingKey> = queries::trusted_keys(tx.as_mut())
        .await?
        .iter()
        .filter_map(|(k, _)| outpost_package::keys::verifying_key_from_hex(k))
        .collect();
    drop(tx);
    tokio::task::spawn_blocking(move || {
        open_bytes(&bytes, |p| {
            let signer = p.verify(&trusted)?;
            let content = p.read_content()?;
            Ok(Checked {
                bytes: Vec::new(),
                manifest_json: serde_json::to_string(p.manifest()).unwrap_or_default(),
                structure: p.structure().clone(),
                signer_hex: hex::encode(signer.as_bytes()),
                texts: CourseTexts::from_content(&content),
            })
        })
        .map(|c| Checked { bytes, ..c })
    })
    .await
    .map_err(|e| DashError::from(crate::error::HubError::Internal(e.to_string())))?
    .map_err(|e| package_error(t, &e))
}

pub async fn upload(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    form: Multipart,
) -> DashResult<Response> {
    let t = v.t();
    let (bytes, _) = read_upload(&v, form, "package").await?;
    let Checked {
        bytes,
        structure: s,
        signer_hex,
        ..
    } = check(&hub, t, bytes).await?;
    if !valid_id(&s.id) || !valid_id(&s.version) {
        return Err(DashError::bad_request(fill(
            t.bad_course_id,
            &[&s.id, &s.version],
        )));
    }
    let sha = crate::hub::sha256_hex(&bytes);
    if let Ok(existing) = hub.package(&s.id, &s.version).await {
        return Err(if existing.sha256 == sha {
            DashError::new(
                StatusCode::CONFLICT,
                fill(t.already_published, &[&s.id, &s.version]),
            )
        } else {
            DashError::new(
                StatusCode::CONFLICT,
                fill(t.version_taken, &[&s.id, &s.version]),
            )
        });
    }
    let id = Uuid::now_v7();
    let now = now_ms();
    let mut tx = hub.db.begin(Mode::Write).await?;
    tx.exec(
        "DELETE FROM staged_packages WHERE uploaded_ms < $1",
        params![now - STAGED_HOURS * 3_600_000],
    )
    .await?;
    tx.exec(
        "INSERT INTO staged_packages (id, uploaded_by, uploaded_ms, course_id, version, publisher_key, bytes) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![id, &v.username, now, &s.id, &s.version, &signer_hex, bytes],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(course = %s.id, version = %s.version, by = %v.username, "package uploaded on the dashboard");
    Ok(Redirect::to(&format!("/dashboard/courses/staged/{id}")).into_response())
}

/// A staged upload the viewer may publish: its id and bytes.
async fn staged_bytes(hub: &Hub, v: &Viewer, id: &str) -> DashResult<(Uuid, Vec<u8>)> {
    let t = v.t();
    let id = Uuid::parse_str(id).map_err(|_| DashError::not_found(t.no_such_upload))?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let row = tx
        .query_opt(
            "SELECT uploaded_by, bytes FROM staged_packages WHERE id = $1 AND uploaded_ms >= $2",
            params![id, now_ms() - STAGED_HOURS * 3_600_000],
        )
        .await?
        .ok_or_else(|| DashError::not_found(t.no_such_upload))?;
    // Someone else's upload is not yours to publish, unless you are an admin.
    if row.text(0)? != v.username && !v.is_admin() {
        return Err(DashError::not_found(t.no_such_upload));
    }
    Ok((id, row.bytes(1)?))
}

/// Ids in `new` and not in `old`, and the other way round, in order.
fn added_removed(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    (
        new.iter().filter(|x| !old.contains(x)).cloned().collect(),
        old.iter().filter(|x| !new.contains(x)).cloned().collect(),
    )
}

/// What an update changes, by id, against the course's current version.
#[derive(Debug, Default, PartialEq)]
pub struct UpdateSummary {
    pub modules_added: Vec<String>,
    pub modules_removed: Vec<String>,
    pub lessons_added: Vec<String>,
    pub lessons_removed: Vec<String>,
    /// Kept, with a different kind, time or set of questions.
    pub lessons_changed: Vec<String>,
    pub questions_added: Vec<String>,
    pub questions_removed: Vec<String>,
    /// Kept, with a different answer key.
    pub keys_changed: Vec<String>,
    pub rule_changed: bool,
}

pub fn summarise(old: &CourseStructure, new: &CourseStructure) -> UpdateSummary {
    let ids = |s: &CourseStructure| s.modules.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
    let lessons = |s: &CourseStructure| s.lessons().map(|(_, l)| l.id.clone()).collect::<Vec<_>>();
    let questions = |s: &CourseStructure| s.questions.keys().cloned().collect::<Vec<_>>();
    let (modules_added, modules_removed) = added_removed(&ids(old), &ids(new));
    let (lessons_added, lessons_removed) = added_removed(&lessons(old), &lessons(new));
    let (questions_added, questions_removed) = added_removed(&questions(old), &questions(new));
    let lessons_changed = new
        .lessons()
        .filter_map(|(_, l)| {
            let (_, o) = old.lesson(&l.id)?;
            (o != l).then(|| l.id.clone())
        })
        .collect();
    let keys_changed = new
        .questions
        .iter()
        .filter(|(id, k)| old.questions.get(*id).is_some_and(|o| o != *k))
        .map(|(id, _)| id.clone())
        .collect();
    UpdateSummary {
        modules_added,
        modules_removed,
        lessons_added,
        lessons_removed,
        lessons_changed,
        questions_added,
        questions_removed,
        keys_changed,
        rule_changed: old.move_on != new.move_on
            || (old.passing_score - new.passing_score).abs() > f64::EPSILON
            || old.assessment != new.assessment,
    }
}

fn id_list(t: &Text, label: &str, ids: &[String], name: &dyn Fn(&str) -> String) -> Markup {
    html! {
        dt { (label) " (" (ids.len()) ")" }
        dd {
            @if ids.is_empty() { (t.none) }
            @else { ul { @for id in ids { li { (name(id)) " " code { (id) } } } } }
        }
    }
}

pub async fn staged(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
) -> DashResult<Response> {
    let t = v.t();
    let lang = v.lang.code();
    let (_, bytes) = staged_bytes(&hub, &v, &id).await?;
    let checked = check(&hub, t, bytes).await?;
    let new = &checked.structure;
    let current = hub.latest_packages().await?.remove(&new.id);
    let (old_structure, old_texts) = match &current {
        Some(p) => (
            hub.structure(&new.id, &p.version).await?,
            texts::load(&hub, &new.id, &p.version).await?,
        ),
        None => (None, None),
    };
    let mut tx = hub.db.begin(Mode::Read).await?;
    let learners = tx
        .query_opt(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM progress WHERE course_id = $1",
            params![&new.id],
        )
        .await?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0);
    drop(tx);
    let new_texts = &checked.texts;
    let title = new_texts.title(lang);
    let name_new = |kind: u8| {
        move |id: &str| match kind {
            0 => new_texts.module(lang, id),
            1 => new_texts.lesson(lang, id),
            _ => new_texts
                .question(lang, id)
                .map(|q| q.stem.clone())
                .unwrap_or_default(),
        }
    };
    let name_old = |kind: u8| {
        let o = old_texts.clone();
        move |id: &str| match (&o, kind) {
            (Some(o), 0) => o.module(lang, id),
            (Some(o), 1) => o.lesson(lang, id),
            (Some(o), _) => o
                .question(lang, id)
                .map(|q| q.stem.clone())
                .unwrap_or_default(),
            (None, _) => String::new(),
        }
    };
    let summary_html = match (&current, &old_structure) {
        (Some(cur), Some(old)) => {
            let s = summarise(old, new);
            let newer = crate::hub::version_cmp(&new.version, &cur.version).is_gt();
            html! {
                p { (fill(t.update_from_to, &[&title, &cur.version, &new.version])) }
                @if !newer {
                    p.warning role="alert" { (fill(t.not_newer, &[&new.version, &cur.version])) }
                }
                dl.summary {
                    (id_list(t, t.modules_added, &s.modules_added, &name_new(0)))
                    (id_list(t, t.modules_removed, &s.modules_removed, &name_old(0)))
                    (id_list(t, t.lessons_added, &s.lessons_added, &name_new(1)))
                    (id_list(t, t.lessons_removed, &s.lessons_removed, &name_old(1)))
                    (id_list(t, t.lessons_changed, &s.lessons_changed, &name_new(1)))
                    (id_list(t, t.questions_added, &s.questions_added, &name_new(2)))
                    (id_list(t, t.questions_removed, &s.questions_removed, &name_old(2)))
                    (id_list(t, t.keys_changed, &s.keys_changed, &name_new(2)))
                }
                @if s.rule_changed { p.warning { (t.rule_changed) } }
                p { (fill(t.refold_note, &[&learners.to_string()])) }
                @if !s.lessons_removed.is_empty() { p.warning { (t.removed_note) } }
            }
        }
        _ => html! { p { (fill(t.new_course, &[&title, &new.version])) } },
    };
    let lessons: usize = new.modules.iter().map(|m| m.lessons.len()).sum();
    let body = html! {
        dl.meta {
            dt { (t.course) } dd { (title) " " code { (new.id) } }
            dt { (t.version) } dd { (new.version) }
            dt { (t.publisher_key) } dd { code { (checked.signer_hex) } " — " (t.signature_ok) }
            dt { (t.contents) } dd { (fill(t.contents_counts, &[&new.modules.len().to_string(), &lessons.to_string(), &new.questions.len().to_string()])) }
        }
        section aria-labelledby="changes" {
            h2 id="changes" { (t.update_summary) }
            (summary_html)
        }
        form method="post" action={"/dashboard/courses/staged/" (id) "/publish"} {
            input type="hidden" name="csrf" value=(v.csrf);
            p {
                button type="submit" { (fill(t.publish_version, &[&new.version])) }
                " " a href="/dashboard/courses" { (t.cancel) }
            }
        }
    };
    Ok(page(
        &v,
        &fill(t.check_before_publishing, &[&title]),
        Nav::Courses,
        body,
    ))
}

pub async fn publish(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    let t = v.t();
    let (staged, bytes) = staged_bytes(&hub, &v, &id).await?;
    // Checked again: the trusted keys may have changed since the upload.
    let checked = check(&hub, t, bytes).await?;
    let out = hub
        .publish(
            &checked.bytes,
            &checked.manifest_json,
            &checked.structure,
            &checked.signer_hex,
        )
        .await?;
    let mut tx = hub.db.begin(Mode::Write).await?;
    tx.exec("DELETE FROM staged_packages WHERE id = $1", params![staged])
        .await?;
    tx.commit().await?;
    tracing::info!(
        course = %checked.structure.id,
        version = %checked.structure.version,
        refolded = out.refolded,
        by = %v.username,
        "package published on the dashboard"
    );
    Ok(Redirect::to("/dashboard/courses?done=published").into_response())
}

#[derive(serde::Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    key: String,
}

pub async fn add_key(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Form(f): Form<KeyForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    v.admin_only()?;
    let t = v.t();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(DashError::bad_request(t.key_name_needed));
    }
    let key = outpost_package::keys::verifying_key_from_hex(&f.key)
        .ok_or_else(|| DashError::bad_request(t.bad_key))?;
    let mut tx = hub.db.begin(Mode::Write).await?;
    tx.exec(
        "INSERT INTO publisher_keys (key, name, added_by, added_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO UPDATE SET name = excluded.name",
        params![hex::encode(key.as_bytes()), name, &v.username, now_ms()],
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to("/dashboard/courses?done=key").into_response())
}
