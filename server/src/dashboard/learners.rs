//! A learner: every course, module and lesson status, quiz attempts with
//! their answers graded again from the answer key, devices with their last
//! sync; revoking a device.

use super::html::{self, page, Cell, Nav, Status, Table};
use super::i18n::fill;
use super::queries;
use super::{texts, DashError, DashResult, Viewer};
use crate::db::Mode;
use crate::hub::Hub;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use outpost_model::{EventKind, LessonStatus};
use std::sync::Arc;
use uuid::Uuid;

/// Attempts shown on one page, newest first.
const ATTEMPTS: i64 = 100;

#[derive(serde::Deserialize, Default)]
pub struct DetailQuery {
    done: Option<String>,
    format: Option<String>,
    table: Option<String>,
}

fn lesson_status(s: LessonStatus) -> Status {
    match s {
        LessonStatus::Done => Status::Done,
        LessonStatus::InProgress => Status::Partly,
        LessonStatus::NotStarted => Status::NotStarted,
    }
}

pub async fn detail(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let lang = v.lang.code();
    let id = Uuid::parse_str(&id).map_err(|_| DashError::not_found(t.no_such_learner))?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let learner = queries::learner(tx.as_mut(), v.trainer(), id)
        .await?
        .ok_or_else(|| DashError::not_found(t.no_such_learner))?;
    let progress = queries::learner_progress(tx.as_mut(), id).await?;
    let devices = queries::learner_devices(tx.as_mut(), id).await?;
    let attempts = queries::learner_attempts(tx.as_mut(), id, ATTEMPTS).await?;
    let assigned = queries::assignments(tx.as_mut(), &learner.cohort_id).await?;
    drop(tx);
    let latest = hub.latest_packages().await?;
    let today = super::cohorts::today();
    // Courses with progress, then assigned courses not started yet.
    let mut shown: Vec<(String, String, Option<&queries::ProgressRow>)> = progress
        .iter()
        .map(|p| (p.course_id.clone(), p.course_version.clone(), Some(p)))
        .collect();
    for a in &assigned {
        if let (None, Some(l)) = (
            progress.iter().find(|p| p.course_id == a.course_id),
            latest.get(&a.course_id),
        ) {
            shown.push((a.course_id.clone(), l.version.clone(), None));
        }
    }

    // Lessons of every course.
    let mut lessons = Table::new(
        fill(t.lessons_of, &[&learner.name]),
        &[
            t.course,
            t.module,
            t.lesson,
            t.status,
            t.time_spent,
            t.done_on,
        ],
    );
    lessons.row_headers = false;
    let mut courses = Table::new(
        fill(t.courses_of, &[&learner.name]),
        &[
            t.course,
            t.version,
            t.due,
            t.status,
            t.lessons_done,
            t.best_score,
            t.time_spent,
            t.last_activity,
        ],
    );
    let mut memo = texts::Memo::default();
    for (course_id, version, p) in &shown {
        let structure = hub.structure(course_id, version).await?;
        let texts = memo.load(&hub, course_id, version).await?;
        let title = texts
            .as_ref()
            .map_or_else(|| course_id.clone(), |x| x.title(lang));
        let due = assigned
            .iter()
            .find(|a| a.course_id == *course_id)
            .and_then(|a| a.due.clone());
        let fold = p.map(|p| &p.progress);
        let (st, detail) = super::cohorts::course_status(
            fold.is_some_and(|f| f.satisfied),
            fold,
            structure.as_deref(),
            due.as_deref().is_some_and(|d| d < today.as_str()),
        );
        courses.rows.push(vec![
            Cell::text(&title),
            Cell::text(version),
            Cell::text(due.unwrap_or_default()),
            Cell::Status(st, detail),
            Cell::Num(format!(
                "{:.0}%",
                fold.map_or(0.0, |f| f.fraction_done) * 100.0
            )),
            Cell::Num(html::score(p.and_then(|p| p.best_score))),
            Cell::Num(html::duration(fold.map_or(0, |f| f.seconds as i64))),
            Cell::text(html::date(p.and_then(|p| p.last_activity_ms))),
        ]);
        let Some(s) = &structure else { continue };
        for m in &s.modules {
            let module = texts
                .as_ref()
                .map_or_else(|| m.id.clone(), |x| x.module(lang, &m.id));
            for l in &m.lessons {
                let lp = fold.and_then(|f| f.lessons.get(&l.id));
                let status = lp.map_or(Status::NotStarted, |lp| lesson_status(lp.status));
                lessons.rows.push(vec![
                    Cell::text(&title),
                    Cell::text(&module),
                    Cell::text(
                        texts
                            .as_ref()
                            .map_or_else(|| l.id.clone(), |x| x.lesson(lang, &l.id)),
                    ),
                    Cell::Status(status, String::new()),
                    Cell::Num(html::duration(lp.map_or(0, |lp| lp.seconds as i64))),
                    Cell::text(html::date(
                        lp.and_then(|lp| lp.done_at).map(|d| d.timestamp_millis()),
                    )),
                ]);
            }
        }
    }

    // Attempts, each question graded again against the version it names.
    let mut answers = Table::new(
        fill(t.answers_of, &[&learner.name]),
        &[
            t.attempt,
            t.question,
            t.answer_given,
            t.result,
            t.correct_answer,
        ],
    );
    answers.row_headers = false;
    let mut attempt_table = Table::new(
        fill(t.attempts_of, &[&learner.name]),
        &[t.date, t.course, t.quiz, t.score, t.result],
    );
    attempt_table.row_headers = false;
    for a in &attempts {
        let structure = hub.structure(&a.course_id, &a.course_version).await?;
        let texts = memo.load(&hub, &a.course_id, &a.course_version).await?;
        let course = texts
            .as_ref()
            .map_or_else(|| a.course_id.clone(), |x| x.title(lang));
        let quiz = texts
            .as_ref()
            .map_or_else(|| a.quiz_id.clone(), |x| x.lesson(lang, &a.quiz_id));
        let when = html::datetime(Some(a.corrected_ms));
        let result = match a.passed {
            Some(true) => Cell::Mark(Status::Done, t.passed.to_string()),
            Some(false) => Cell::Mark(Status::Failed, t.not_passed.to_string()),
            None => Cell::text(""),
        };
        let score = match (a.correct, a.total) {
            (Some(c), Some(n)) => format!("{c}/{n} ({})", html::percent(c, n)),
            _ => String::new(),
        };
        attempt_table.rows.push(vec![
            Cell::text(&when),
            Cell::text(format!("{course} {}", a.course_version)),
            Cell::text(&quiz),
            Cell::Num(score),
            result,
        ]);
        let EventKind::QuizSubmitted {
            questions,
            responses,
            ..
        } = &a.event.kind
        else {
            continue;
        };
        for qid in questions {
            let chosen = responses.get(qid).cloned().unwrap_or_default();
            let key = structure.as_ref().and_then(|s| s.questions.get(qid));
            let stem = texts::stem(texts.as_deref(), lang, qid);
            let describe = |ids: &[String]| -> String {
                if ids.is_empty() {
                    return t.no_answer.to_string();
                }
                ids.iter()
                    .map(|o| texts::option_label(texts.as_deref(), lang, qid, o))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let (result, correct) = match key {
                Some(k) => {
                    let right = outpost_model::grade::grade_response(k, &chosen);
                    let correct: Vec<String> =
                        k.correct_ids().iter().map(|s| s.to_string()).collect();
                    (
                        if right {
                            Cell::Mark(Status::Done, t.right.to_string())
                        } else {
                            Cell::Mark(Status::Failed, t.wrong.to_string())
                        },
                        describe(&correct),
                    )
                }
                None => (Cell::text(t.question_removed), String::new()),
            };
            answers.rows.push(vec![
                Cell::text(format!("{when} · {quiz}")),
                Cell::text(stem),
                Cell::text(describe(&chosen)),
                result,
                Cell::text(correct),
            ]);
        }
    }

    // Devices.
    let now = crate::hub::now_ms();
    let mut device_table = Table::new(
        fill(t.devices_of, &[&learner.name]),
        &[
            t.device,
            t.enrolled,
            t.last_sync,
            t.pending_at_last_sync,
            t.clock_offset,
            t.state,
            t.action,
        ],
    );
    for d in &devices {
        let state = match d.revoked_ms {
            Some(r) => Cell::Mark(Status::Failed, fill(t.revoked_on, &[&html::date(Some(r))])),
            None => match html::days_since(d.profile_last_sync_ms.or(d.last_sync_ms), now) {
                Some(days) => {
                    Cell::Mark(Status::Done, fill(t.synced_days_ago, &[&days.to_string()]))
                }
                None => Cell::Mark(Status::NotStarted, t.never_synced.to_string()),
            },
        };
        let action = if d.revoked_ms.is_none() {
            Cell::Html(
                html! {
                    form.inline method="post" action={"/dashboard/devices/" (d.device_id) "/revoke"} {
                        input type="hidden" name="csrf" value=(v.csrf);
                        input type="hidden" name="learner" value=(learner.id);
                        button.danger type="submit" aria-label={(t.revoke) " " (d.name)} { (t.revoke) }
                    }
                },
                String::new(),
            )
        } else {
            Cell::text("")
        };
        device_table.rows.push(vec![
            Cell::text(format!("{} ({})", d.name, d.device_id)),
            Cell::text(html::date(Some(d.enrolled_ms))),
            Cell::text(html::datetime(d.profile_last_sync_ms.or(d.last_sync_ms))),
            Cell::Num(d.pending_after.map(|p| p.to_string()).unwrap_or_default()),
            Cell::Num(
                d.clock_offset_ms
                    .map(|o| format!("{} s", o / 1000))
                    .unwrap_or_default(),
            ),
            state,
            action,
        ]);
    }

    if html::wants_csv(q.format.as_deref()) {
        let (name, table) = match q.table.as_deref() {
            Some("lessons") => ("lessons", &lessons),
            Some("attempts") => ("attempts", &attempt_table),
            Some("answers") => ("answers", &answers),
            Some("devices") => ("devices", &device_table),
            _ => ("courses", &courses),
        };
        return Ok(html::csv_response(
            &format!("{}-{name}", learner.name),
            table.csv(t),
        ));
    }
    let base = format!("/dashboard/learners/{}?format=csv&table=", learner.id);
    let section = |id: &str, title: &str, table: &Table, csv: &str| -> Markup {
        html! {
            section aria-labelledby=(id) {
                h2 id=(id) { (title) }
                (table.html(t))
                (html::csv_link(t, &format!("{base}{csv}")))
            }
        }
    };
    let body = html! {
        (html::notice(t, q.done.as_deref()))
        dl.meta {
            dt { (t.cohort) } dd { a href={"/dashboard/cohorts/" (learner.cohort_id)} { (learner.cohort) } }
            dt { (t.email) } dd { (learner.email.clone().unwrap_or_default()) }
            dt { (t.language) } dd { (learner.language) }
            dt { (t.enrolled) } dd { (html::date(Some(learner.created_ms))) }
        }
        (section("courses", t.courses, &courses, "courses"))
        (section("lessons", t.lessons, &lessons, "lessons"))
        (section("attempts", t.quiz_attempts, &attempt_table, "attempts"))
        (section("answers", t.answers, &answers, "answers"))
        (section("devices", t.devices, &device_table, "devices"))
    };
    Ok(page(&v, &learner.name, Nav::Cohorts, body))
}

#[derive(serde::Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    learner: String,
}

pub async fn revoke(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<RevokeForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    let t = v.t();
    let device = Uuid::parse_str(&id).map_err(|_| DashError::not_found(t.no_such_device))?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    if !queries::device_in_scope(tx.as_mut(), v.trainer(), device).await? {
        return Err(DashError::not_found(t.no_such_device));
    }
    drop(tx);
    hub.revoke_device(device).await?;
    tracing::info!(device = %device, by = %v.username, "device revoked on the dashboard");
    let back = match Uuid::parse_str(f.learner.trim()) {
        Ok(l) => format!("/dashboard/learners/{l}?done=revoked"),
        Err(_) => "/dashboard/silent?done=revoked".to_string(),
    };
    Ok(Redirect::to(&back).into_response())
}
