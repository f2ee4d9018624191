//! Cohorts: the list, creating one, the overview of a cohort in a course
//! (rates, the progress matrix, plots), its members, assignments and
//! enrolment codes.

use super::html::{self, csv_link, page, page_base, wants_csv, Cell, Nav, Pager, Status, Table};
use super::i18n::{fill, Text};
use super::queries::{self, CohortRow, MatrixRow};
use super::{svg, texts, DashError, DashResult, Viewer, PER_PAGE};
use crate::db::Mode;
use crate::hub::{display_code, Hub};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use outpost_model::{CourseProgress, CourseStructure};
use std::sync::Arc;

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    pub page: Option<String>,
    pub format: Option<String>,
    pub done: Option<String>,
}

pub async fn list(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Query(q): Query<ListQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let csv = wants_csv(q.format.as_deref());
    let mut pager = Pager::parse(t, q.page.as_deref(), PER_PAGE)?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let (limit, offset) = pager.window(csv);
    let (rows, total) = queries::cohorts(tx.as_mut(), v.trainer(), limit, offset).await?;
    pager.total = total;
    let trainers = if v.is_admin() {
        tx.query(
            "SELECT username FROM users WHERE role = 'trainer' ORDER BY username",
            vec![],
        )
        .await?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    drop(tx);
    let mut table = Table::new(
        t.nav_cohorts,
        &[
            t.cohort,
            t.trainer,
            t.learners,
            t.courses_assigned,
            t.created,
        ],
    );
    for c in &rows {
        table.rows.push(vec![
            Cell::link(&c.name, format!("/dashboard/cohorts/{}", c.id)),
            Cell::opt(c.trainer.clone()),
            Cell::num(c.learners),
            Cell::num(c.courses),
            Cell::text(html::date(Some(c.created_ms))),
        ]);
    }
    if csv {
        return Ok(html::csv_response("cohorts", table.csv(t)));
    }
    let body = html! {
        (html::notice(t, q.done.as_deref()))
        (table.html(t))
        (pager.nav(t, &page_base("/dashboard/cohorts", &[])))
        (csv_link(t, "/dashboard/cohorts?format=csv"))
        section aria-labelledby="new-cohort" {
            h2 id="new-cohort" { (t.new_cohort) }
            form method="post" action="/dashboard/cohorts" {
                input type="hidden" name="csrf" value=(v.csrf);
                p {
                    label for="cohort-name" { (t.cohort_name) }
                    input id="cohort-name" name="name" type="text" required maxlength="200";
                }
                @if v.is_admin() {
                    p {
                        label for="cohort-trainer" { (t.trainer) }
                        select id="cohort-trainer" name="trainer" {
                            option value="" { (t.no_trainer) }
                            @for tr in &trainers { option value=(tr) { (tr) } }
                        }
                    }
                }
                p { button type="submit" { (t.create) } }
            }
        }
    };
    Ok(page(&v, t.nav_cohorts, Nav::Cohorts, body))
}

#[derive(serde::Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    trainer: String,
}

pub async fn create(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Form(f): Form<CreateForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    // A trainer's new cohort is theirs; an admin chooses.
    let trainer = match v.trainer() {
        Some(me) => Some(me.to_string()),
        None => Some(f.trainer.trim().to_string()).filter(|s| !s.is_empty()),
    };
    let id = hub.create_cohort(f.name.trim(), trainer.as_deref()).await?;
    Ok(Redirect::to(&format!("/dashboard/cohorts/{id}?done=cohort")).into_response())
}

/// The cohort, or 404 when it does not exist or is not the viewer's: a
/// trainer cannot tell another trainer's cohort from a missing one.
async fn visible(hub: &Hub, v: &Viewer, id: &str) -> DashResult<CohortRow> {
    let mut tx = hub.db.begin(Mode::Read).await?;
    queries::cohort(tx.as_mut(), v.trainer(), id)
        .await?
        .ok_or_else(|| DashError::not_found(v.t().no_such_cohort))
}

fn cohort_nav(t: &Text, c: &CohortRow, here: &str) -> Markup {
    let links = [
        ("", t.overview),
        ("/members", t.members),
        ("/codes", t.enrolment_codes),
    ];
    html! {
        nav.subnav aria-label=(t.cohort) {
            ul {
                @for (suffix, label) in links {
                    li {
                        @let href = format!("/dashboard/cohorts/{}{}", c.id, suffix);
                        @if suffix == here { a href=(href) aria-current="page" { (label) } }
                        @else { a href=(href) { (label) } }
                    }
                }
            }
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct OverviewQuery {
    course: Option<String>,
    page: Option<String>,
    format: Option<String>,
    table: Option<String>,
    done: Option<String>,
}

pub fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// A module's cell: done, partly (lessons done / lessons) or not started.
pub fn module_status(p: Option<&CourseProgress>, module_id: &str) -> (Status, String) {
    match p.and_then(|p| p.modules.get(module_id)) {
        Some(m) if m.completed => (Status::Done, String::new()),
        Some(m) if m.lessons_done > 0 => (
            Status::Partly,
            format!("{}/{}", m.lessons_done, m.lessons_total),
        ),
        Some(m) => (Status::NotStarted, format!("0/{}", m.lessons_total)),
        None => (Status::NotStarted, String::new()),
    }
}

/// The course as a whole for one learner.
pub fn course_status(
    row_satisfied: bool,
    p: Option<&CourseProgress>,
    structure: Option<&CourseStructure>,
    overdue: bool,
) -> (Status, String) {
    if row_satisfied {
        return (Status::Done, String::new());
    }
    let Some(p) = p else {
        return (
            if overdue {
                Status::Overdue
            } else {
                Status::NotStarted
            },
            String::new(),
        );
    };
    let share = format!("{:.0}%", p.fraction_done * 100.0);
    let failed_assessment = structure
        .and_then(|s| s.assessment.as_ref())
        .and_then(|a| p.quizzes.get(&a.id))
        .is_some_and(|q| q.attempts > 0 && !q.passed);
    if overdue {
        (Status::Overdue, share)
    } else if failed_assessment {
        (Status::Failed, share)
    } else {
        (Status::Partly, share)
    }
}

pub async fn overview(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<OverviewQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let cohort = visible(&hub, &v, &id).await?;
    let csv = wants_csv(q.format.as_deref());
    let mut pager = Pager::parse(t, q.page.as_deref(), PER_PAGE)?;
    let latest = hub.latest_packages().await?;
    // No transaction is held across the hub's own reads (course texts,
    // structures), which begin theirs: SQLite's readers are a small pool.
    let mut tx = hub.db.begin(Mode::Read).await?;
    let assigned = queries::assignments(tx.as_mut(), &cohort.id).await?;
    drop(tx);
    // Assigned courses first, then the other published ones.
    let mut courses: Vec<String> = assigned.iter().map(|a| a.course_id.clone()).collect();
    for c in latest.keys() {
        if !courses.contains(c) {
            courses.push(c.clone());
        }
    }
    let course = match q.course.as_deref().filter(|c| !c.is_empty()) {
        Some(c) if courses.iter().any(|x| x == c) => Some(c.to_string()),
        Some(c) => return Err(DashError::not_found(fill(t.no_such_course, &[c]))),
        None => courses.first().cloned(),
    };
    let lang = v.lang.code();
    let mut titles = Vec::new();
    for c in &courses {
        let title = match latest.get(c) {
            Some(p) => texts::title(&hub, p, lang).await?,
            None => c.clone(),
        };
        titles.push((c.clone(), title));
    }
    let today = today();
    let mut body_sections: Vec<Markup> = Vec::new();
    let mut csv_out: Option<(String, String)> = None;
    if let Some(course) = &course {
        let version = latest.get(course).map(|p| p.version.clone());
        let structure = match &version {
            Some(ver) => hub.structure(course, ver).await?,
            None => None,
        };
        let texts = match latest.get(course) {
            Some(p) => Some(texts::of(&hub, p).await?),
            None => None,
        };
        let due = assigned
            .iter()
            .find(|a| &a.course_id == course)
            .and_then(|a| a.due.clone());
        let past_due = due.as_deref().is_some_and(|d| d < today.as_str());
        let mut tx = hub.db.begin(Mode::Read).await?;
        let stats = queries::course_stats(tx.as_mut(), &cohort.id, course).await?;
        pager.total = stats.learners;
        let (limit, offset) = pager.window(csv);
        let table_kind = q.table.as_deref().unwrap_or("matrix");
        let course_title = titles
            .iter()
            .find(|(c, _)| c == course)
            .map_or(course.clone(), |(_, t)| t.clone());

        // Rates.
        let overdue_n = if past_due {
            stats.learners - stats.satisfied
        } else {
            0
        };
        let mut st = Table::new(fill(t.results_in, &[&course_title]), &[t.measure, t.value]);
        st.class = "stats";
        st.rows = vec![
            vec![Cell::text(t.learners), Cell::num(stats.learners)],
            vec![Cell::text(t.started), Cell::num(stats.started)],
            vec![
                Cell::text(t.completion_rate),
                Cell::Num(format!(
                    "{} ({}/{})",
                    html::percent(stats.satisfied, stats.learners),
                    stats.satisfied,
                    stats.learners
                )),
            ],
            vec![
                Cell::text(t.pass_rate),
                Cell::Num(format!(
                    "{} ({}/{})",
                    html::percent(stats.passed, stats.learners),
                    stats.passed,
                    stats.learners
                )),
            ],
            vec![
                Cell::text(t.mean_best_score),
                Cell::Num(html::score(stats.mean_best)),
            ],
            vec![
                Cell::text(t.mean_time),
                Cell::Num(
                    stats
                        .mean_seconds
                        .map(|s| html::duration(s as i64))
                        .unwrap_or_default(),
                ),
            ],
            vec![
                Cell::text(t.total_time),
                Cell::Num(html::duration(stats.total_seconds)),
            ],
            vec![
                Cell::text(t.due),
                Cell::text(due.clone().unwrap_or_else(|| t.no_due_date.to_string())),
            ],
            vec![
                Cell::text(t.overdue_learners),
                if overdue_n > 0 {
                    Cell::Link(
                        overdue_n.to_string(),
                        format!("/dashboard/overdue?cohort={}", cohort.id),
                    )
                } else {
                    Cell::num(0)
                },
            ],
        ];

        // The matrix.
        let modules: Vec<(String, String)> = structure
            .as_ref()
            .map(|s| {
                s.modules
                    .iter()
                    .map(|m| {
                        let title = texts
                            .as_ref()
                            .map_or_else(|| m.id.clone(), |tx| tx.module(lang, &m.id));
                        (m.id.clone(), title)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let rows: Vec<MatrixRow> = if table_kind == "matrix" || !csv {
            queries::matrix(tx.as_mut(), &cohort.id, course, limit, offset).await?
        } else {
            Vec::new()
        };
        let mut headers: Vec<&str> = vec![t.learner];
        let module_headers: Vec<String> = modules.iter().map(|(_, title)| title.clone()).collect();
        headers.extend(module_headers.iter().map(String::as_str));
        headers.extend([t.course_status, t.best_score, t.time_spent, t.last_activity]);
        let mut matrix = Table::new(fill(t.matrix_caption, &[&course_title]), &headers);
        matrix.class = "matrix";
        for r in &rows {
            let mut cells = vec![Cell::link(
                &r.name,
                format!("/dashboard/learners/{}", r.learner_id),
            )];
            for (mid, _) in &modules {
                let (s, d) = module_status(r.progress.as_ref(), mid);
                cells.push(Cell::Status(s, d));
            }
            let (s, d) = course_status(
                r.satisfied,
                r.progress.as_ref(),
                structure.as_deref(),
                past_due,
            );
            cells.push(Cell::Status(s, d));
            cells.push(Cell::Num(html::score(r.best_score)));
            cells.push(if csv {
                Cell::num(r.seconds / 60)
            } else {
                Cell::Num(html::duration(r.seconds))
            });
            cells.push(Cell::text(html::date(r.last_activity_ms)));
            matrix.rows.push(cells);
        }
        if csv {
            // In CSV the time is whole minutes, a number a spreadsheet adds up.
            if let Some(h) = matrix.headers.get_mut(modules.len() + 3) {
                *h = t.time_minutes.to_string();
            }
        }

        // Plots and their numbers.
        let per_day = queries::completions_by_day(tx.as_mut(), &cohort.id, course).await?;
        let bands = svg::score_bands(&queries::best_scores(tx.as_mut(), &cohort.id, course).await?);
        let mut completion_table = Table::new(
            t.completions_table,
            &[t.date, t.completed_that_day, t.completed_so_far],
        );
        let mut sum = 0;
        for (day, n) in &per_day {
            sum += n;
            completion_table.rows.push(vec![
                Cell::text(html::date(Some(day * 86_400_000))),
                Cell::num(*n),
                Cell::num(sum),
            ]);
        }
        let mut score_table = Table::new(t.scores_table, &[t.score_band, t.learners]);
        for (i, n) in bands.iter().enumerate() {
            let band = if i == 9 {
                "90–100%".to_string()
            } else {
                format!("{}–{}%", i * 10, i * 10 + 9)
            };
            score_table.rows.push(vec![Cell::text(band), Cell::num(*n)]);
        }
        if csv {
            let (name, table) = match table_kind {
                "stats" => ("results", &st),
                "completion" => ("completions", &completion_table),
                "scores" => ("scores", &score_table),
                _ => ("matrix", &matrix),
            };
            csv_out = Some((format!("{}-{}-{}", cohort.name, course, name), table.csv(t)));
        } else {
            let base = format!(
                "/dashboard/cohorts/{}?course={}",
                cohort.id,
                html::url_encode(course)
            );
            let completion_svg = svg::completion_over_time(
                "plot-completion",
                &fill(t.plot_completion_title, &[&course_title]),
                &fill(
                    t.plot_completion_desc,
                    &[&sum.to_string(), &stats.learners.to_string()],
                ),
                &per_day,
            );
            let scored: i64 = bands.iter().sum();
            let score_svg = svg::score_histogram(
                "plot-scores",
                &fill(t.plot_scores_title, &[&course_title]),
                &fill(t.plot_scores_desc, &[&scored.to_string()]),
                &bands,
            );
            body_sections.push(html! {
                section aria-labelledby="results" {
                    h2 id="results" { (fill(t.results_in, &[&course_title])) }
                    (st.html(t))
                    (csv_link(t, &format!("{base}&format=csv&table=stats")))
                }
                section aria-labelledby="matrix" {
                    h2 id="matrix" { (t.progress_matrix) }
                    (legend(t))
                    (matrix.html(t))
                    (pager.nav(t, &format!("{base}&")))
                    (csv_link(t, &format!("{base}&format=csv&table=matrix")))
                }
                section aria-labelledby="plots" {
                    h2 id="plots" { (t.plots) }
                    div.plots {
                        figure {
                            (html::raw(completion_svg))
                            figcaption { (fill(t.plot_completion_title, &[&course_title])) }
                            details {
                                summary { (t.show_numbers) }
                                (completion_table.html(t))
                                (csv_link(t, &format!("{base}&format=csv&table=completion")))
                            }
                        }
                        figure {
                            (html::raw(score_svg))
                            figcaption { (fill(t.plot_scores_title, &[&course_title])) }
                            details {
                                summary { (t.show_numbers) }
                                (score_table.html(t))
                                (csv_link(t, &format!("{base}&format=csv&table=scores")))
                            }
                        }
                    }
                }
            });
        }
    }
    if let Some((name, body)) = csv_out {
        return Ok(html::csv_response(&name, body));
    }
    if csv {
        return Err(DashError::not_found(t.nothing_to_export));
    }
    let published: Vec<&String> = latest.keys().collect();
    let mut assigned_table = Table::new(t.assigned_courses, &[t.course, t.due]);
    for a in &assigned {
        let title = titles
            .iter()
            .find(|(c, _)| *c == a.course_id)
            .map_or(a.course_id.clone(), |(_, t)| t.clone());
        assigned_table.rows.push(vec![
            Cell::text(title),
            Cell::text(a.due.clone().unwrap_or_else(|| t.no_due_date.to_string())),
        ]);
    }
    let body = html! {
        (cohort_nav(t, &cohort, ""))
        (html::notice(t, q.done.as_deref()))
        p.meta {
            (t.trainer) ": " (cohort.trainer.clone().unwrap_or_else(|| t.no_trainer.to_string()))
            " · " (t.learners) ": " (cohort.learners)
        }
        @if courses.is_empty() {
            p { (t.no_courses_yet) }
        } @else {
            form.inline method="get" action={"/dashboard/cohorts/" (cohort.id)} {
                label for="course" { (t.course) }
                select id="course" name="course" {
                    @for (c, title) in &titles {
                        option value=(c) selected[course.as_deref() == Some(c.as_str())] { (title) }
                    }
                }
                button type="submit" { (t.show) }
            }
        }
        @for s in &body_sections { (s) }
        section aria-labelledby="assign" {
            h2 id="assign" { (t.assigned_courses) }
            (assigned_table.html(t))
            @if !published.is_empty() {
                form method="post" action={"/dashboard/cohorts/" (cohort.id) "/assign"} {
                    input type="hidden" name="csrf" value=(v.csrf);
                    p {
                        label for="assign-course" { (t.course) }
                        select id="assign-course" name="course" {
                            @for c in &published {
                                @let title = titles.iter().find(|(x, _)| x == *c).map_or((*c).clone(), |(_, t)| t.clone());
                                option value=(c) { (title) }
                            }
                        }
                    }
                    p {
                        label for="assign-due" { (t.due_date) }
                        input id="assign-due" name="due" type="date" aria-describedby="assign-due-hint";
                        span.hint id="assign-due-hint" { (t.due_hint) }
                    }
                    p { button type="submit" { (t.assign) } }
                }
            }
        }
    };
    Ok(page(&v, &cohort.name, Nav::Cohorts, body))
}

pub fn legend(t: &Text) -> Markup {
    html! {
        ul.legend aria-label=(t.legend) {
            @for s in [Status::Done, Status::Partly, Status::NotStarted, Status::Failed, Status::Overdue] {
                li { span class={"status " (s.class())} { span aria-hidden="true" { (s.symbol()) } " " (s.word(t)) } }
            }
        }
    }
}

#[derive(serde::Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    due: String,
}

pub async fn assign(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    let t = v.t();
    let cohort = visible(&hub, &v, &id).await?;
    let course = f.course.trim();
    if !hub.latest_packages().await?.contains_key(course) {
        return Err(DashError::bad_request(fill(t.no_such_course, &[course])));
    }
    let due = match f.due.trim() {
        "" => None,
        d => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| DashError::bad_request(fill(t.bad_date, &[d])))?,
        ),
    };
    hub.assign(&cohort.name, course, due).await?;
    Ok(Redirect::to(&format!(
        "/dashboard/cohorts/{}?course={}&done=assigned",
        cohort.id,
        html::url_encode(course)
    ))
    .into_response())
}

pub async fn members(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let cohort = visible(&hub, &v, &id).await?;
    let csv = wants_csv(q.format.as_deref());
    let mut pager = Pager::parse(t, q.page.as_deref(), PER_PAGE)?;
    pager.total = cohort.learners;
    let (limit, offset) = pager.window(csv);
    let mut tx = hub.db.begin(Mode::Read).await?;
    let rows = queries::members(tx.as_mut(), &cohort.id, limit, offset).await?;
    drop(tx);
    let mut table = Table::new(
        fill(t.members_of, &[&cohort.name]),
        &[
            t.learner,
            t.email,
            t.language,
            t.enrolled,
            t.devices,
            t.last_sync,
            t.pending_at_last_sync,
            t.courses_completed,
        ],
    );
    for m in &rows {
        table.rows.push(vec![
            Cell::link(&m.name, format!("/dashboard/learners/{}", m.learner_id)),
            Cell::opt(m.email.clone()),
            Cell::text(&m.language),
            Cell::text(html::date(Some(m.created_ms))),
            Cell::num(m.devices),
            Cell::text(html::datetime(m.last_sync_ms)),
            Cell::num(m.pending),
            Cell::num(m.courses_satisfied),
        ]);
    }
    if csv {
        return Ok(html::csv_response(
            &format!("{}-members", cohort.name),
            table.csv(t),
        ));
    }
    let path = format!("/dashboard/cohorts/{}/members", cohort.id);
    let body = html! {
        (cohort_nav(t, &cohort, "/members"))
        (table.html(t))
        (pager.nav(t, &page_base(&path, &[])))
        (csv_link(t, &format!("{path}?format=csv")))
    };
    Ok(page(
        &v,
        &fill(t.members_of, &[&cohort.name]),
        Nav::Cohorts,
        body,
    ))
}

pub async fn codes(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let cohort = visible(&hub, &v, &id).await?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let rows = queries::codes(tx.as_mut(), &cohort.id).await?;
    drop(tx);
    let now = crate::hub::now_ms();
    let mut table = Table::new(
        fill(t.codes_of, &[&cohort.name]),
        &[t.code, t.uses, t.uses_left, t.expires, t.created, t.state],
    );
    table.class = "codes";
    for c in &rows {
        let left = (c.uses_max - c.uses).max(0);
        let expired = c.expires_ms.is_some_and(|e| e <= now);
        let state = if expired {
            t.code_expired
        } else if left == 0 {
            t.code_used_up
        } else {
            t.code_valid
        };
        table.rows.push(vec![
            Cell::Html(
                html! { code.enrolment { (display_code(&c.code)) } },
                display_code(&c.code),
            ),
            Cell::Num(format!("{}/{}", c.uses, c.uses_max)),
            Cell::num(left),
            // The code works through the day before its expiry instant.
            Cell::text(
                c.expires_ms
                    .map(|e| html::date(Some(e - 1)))
                    .unwrap_or_else(|| t.never.to_string()),
            ),
            Cell::text(html::date(Some(c.created_ms))),
            Cell::text(state),
        ]);
    }
    if wants_csv(q.format.as_deref()) {
        return Ok(html::csv_response(
            &format!("{}-codes", cohort.name),
            table.csv(t),
        ));
    }
    let path = format!("/dashboard/cohorts/{}/codes", cohort.id);
    let body = html! {
        (cohort_nav(t, &cohort, "/codes"))
        (html::notice(t, q.done.as_deref()))
        p.print-only { (t.codes_print_intro) " " strong { (cohort.name) } }
        (table.html(t))
        p.no-print { (t.print_hint) }
        (csv_link(t, &format!("{path}?format=csv")))
        section.no-print aria-labelledby="new-code" {
            h2 id="new-code" { (t.new_code) }
            form method="post" action=(path) {
                input type="hidden" name="csrf" value=(v.csrf);
                p {
                    label for="code-uses" { (t.uses_allowed) }
                    input id="code-uses" name="uses" type="number" min="1" max="100000" value="1" required;
                }
                p {
                    label for="code-expires" { (t.last_day) }
                    input id="code-expires" name="expires" type="date" aria-describedby="code-expires-hint";
                    span.hint id="code-expires-hint" { (t.expires_hint) }
                }
                p { button type="submit" { (t.create_code) } }
            }
        }
    };
    Ok(page(
        &v,
        &fill(t.codes_of, &[&cohort.name]),
        Nav::Cohorts,
        body,
    ))
}

#[derive(serde::Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    uses: String,
    #[serde(default)]
    expires: String,
}

pub async fn create_code(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Path(id): Path<String>,
    Form(f): Form<CodeForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    let t = v.t();
    let cohort = visible(&hub, &v, &id).await?;
    let uses: u32 = f
        .uses
        .trim()
        .parse()
        .ok()
        .filter(|u| (1..=100_000).contains(u))
        .ok_or_else(|| DashError::bad_request(fill(t.bad_uses, &[f.uses.trim()])))?;
    let expires = match f.expires.trim() {
        "" => None,
        d => {
            let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| DashError::bad_request(fill(t.bad_date, &[d])))?;
            // Valid through the whole of its last day (UTC), as on the
            // command line.
            let end = day
                .succ_opt()
                .and_then(|n| n.and_hms_opt(0, 0, 0))
                .ok_or_else(|| DashError::bad_request(fill(t.bad_date, &[d])))?
                .and_utc();
            if end.timestamp_millis() <= crate::hub::now_ms() {
                return Err(DashError::new(
                    StatusCode::BAD_REQUEST,
                    fill(t.date_in_past, &[d]),
                ));
            }
            Some(end)
        }
    };
    hub.create_code(&cohort.name, uses, expires).await?;
    Ok(Redirect::to(&format!("/dashboard/cohorts/{}/codes?done=code", cohort.id)).into_response())
}
