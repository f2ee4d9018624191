//! Reports across cohorts: overdue learners, silent devices, quiz item
//! analysis.

use super::cohorts::today;
use super::html::{self, csv_link, page, page_base, wants_csv, Cell, Nav, Pager, Status, Table};
use super::i18n::fill;
use super::queries::{self, AnswerCount, CohortRow};
use super::{answers, texts, DashError, DashResult, Viewer, PER_PAGE};
use crate::db::{Mode, Tx};
use crate::hub::{version_cmp, Hub};
use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use outpost_model::CourseStructure;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The cohort a report is narrowed to (`?cohort=`, empty for all the
/// viewer's), or 404 when the viewer may not see it.
async fn narrowed_to(
    tx: &mut dyn Tx,
    v: &Viewer,
    id: Option<&str>,
) -> DashResult<Option<CohortRow>> {
    match id.filter(|c| !c.is_empty()) {
        Some(id) => match queries::cohort(tx, v.trainer(), id).await? {
            Some(c) => Ok(Some(c)),
            None => Err(DashError::not_found(v.t().no_such_cohort)),
        },
        None => Ok(None),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct OverdueQuery {
    cohort: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

pub async fn overdue(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Query(q): Query<OverdueQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let csv = wants_csv(q.format.as_deref());
    let mut pager = Pager::parse(t, q.page.as_deref(), PER_PAGE)?;
    let mut tx = hub.db.begin(Mode::Read).await?;
    let cohort = narrowed_to(tx.as_mut(), &v, q.cohort.as_deref()).await?;
    let (limit, offset) = pager.window(csv);
    let (rows, total) = queries::overdue(
        tx.as_mut(),
        v.trainer(),
        cohort.as_ref().map(|c| c.id.as_str()),
        &today(),
        limit,
        offset,
    )
    .await?;
    drop(tx);
    pager.total = total;
    // Titles of the courses these rows name (not of every published one).
    let latest = hub.latest_packages().await?;
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for r in &rows {
        match latest.get(&r.course_id) {
            Some(p) if !titles.contains_key(&r.course_id) => {
                let title = texts::title(&hub, p, v.lang.code()).await?;
                titles.insert(r.course_id.clone(), title);
            }
            _ => {}
        }
    }
    let caption = match &cohort {
        Some(c) => fill(t.overdue_in, &[&c.name]),
        None => t.nav_overdue.to_string(),
    };
    let mut table = Table::new(
        caption.clone(),
        &[
            t.learner,
            t.cohort,
            t.course,
            t.due,
            t.lessons_done,
            t.last_activity,
        ],
    );
    for r in &rows {
        table.rows.push(vec![
            Cell::link(&r.name, format!("/dashboard/learners/{}", r.learner_id)),
            Cell::link(&r.cohort, format!("/dashboard/cohorts/{}", r.cohort_id)),
            Cell::text(
                titles
                    .get(&r.course_id)
                    .cloned()
                    .unwrap_or_else(|| r.course_id.clone()),
            ),
            Cell::Status(Status::Overdue, r.due.clone()),
            Cell::Num(
                r.fraction
                    .map(|f| format!("{:.0}%", f * 100.0))
                    .unwrap_or_else(|| "0%".into()),
            ),
            Cell::text(html::date(r.last_activity_ms)),
        ]);
    }
    if csv {
        return Ok(html::csv_response("overdue", table.csv(t)));
    }
    let cohort_id = cohort.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    let body = html! {
        p { (t.overdue_intro) }
        (table.html(t))
        (pager.nav(t, &page_base("/dashboard/overdue", &[("cohort", &cohort_id)])))
        (csv_link(t, &format!("/dashboard/overdue{}", html::query(&[("cohort", &cohort_id), ("format", "csv")]))))
    };
    Ok(page(&v, &caption, Nav::Overdue, body))
}

#[derive(serde::Deserialize, Default)]
pub struct SilentQuery {
    days: Option<String>,
    table: Option<String>,
    page: Option<String>,
    format: Option<String>,
    done: Option<String>,
}

pub const DEFAULT_SILENT_DAYS: i64 = 14;

pub async fn silent(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Query(q): Query<SilentQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let days = match q.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => DEFAULT_SILENT_DAYS,
        Some(d) => d
            .parse::<i64>()
            .ok()
            .filter(|d| (0..=3650).contains(d))
            .ok_or_else(|| DashError::bad_request(fill(t.bad_days, &[d])))?,
    };
    let csv = wants_csv(q.format.as_deref());
    let mut pager = Pager::parse(t, q.page.as_deref(), PER_PAGE)?;
    let now = crate::hub::now_ms();
    let cutoff = now - days * 86_400_000;
    let (limit, offset) = pager.window(csv);
    let mut tx = hub.db.begin(Mode::Read).await?;
    let (rows, total) = queries::silent(tx.as_mut(), v.trainer(), cutoff, limit, offset).await?;
    let per_cohort = q.table.as_deref() == Some("cohorts");
    let by_cohort = if csv && !per_cohort {
        Vec::new()
    } else {
        queries::silent_by_cohort(tx.as_mut(), v.trainer(), cutoff).await?
    };
    drop(tx);
    pager.total = total;
    let caption = fill(t.silent_caption, &[&days.to_string()]);
    let mut table = Table::new(
        caption.clone(),
        &[
            t.device,
            t.learner,
            t.cohort,
            t.last_sync,
            t.days_silent,
            t.pending_at_last_sync,
        ],
    );
    for r in &rows {
        let silent_days =
            html::days_since(r.last_sync_ms.or(Some(r.enrolled_ms)), now).unwrap_or(0);
        table.rows.push(vec![
            Cell::text(format!("{} ({})", r.device, r.device_id)),
            Cell::link(&r.learner, format!("/dashboard/learners/{}", r.learner_id)),
            Cell::link(&r.cohort, format!("/dashboard/cohorts/{}", r.cohort_id)),
            match r.last_sync_ms {
                Some(ms) => Cell::text(html::datetime(Some(ms))),
                None => Cell::Mark(Status::NotStarted, t.never_synced.to_string()),
            },
            Cell::num(silent_days),
            Cell::Num(r.pending_after.map(|p| p.to_string()).unwrap_or_default()),
        ]);
    }
    if csv && !per_cohort {
        return Ok(html::csv_response(
            &format!("silent-{days}-days"),
            table.csv(t),
        ));
    }
    let mut summary = Table::new(
        t.silent_by_cohort,
        &[t.cohort, t.devices, t.pending_at_last_sync],
    );
    for c in &by_cohort {
        summary.rows.push(vec![
            Cell::link(
                &c.cohort,
                format!("/dashboard/cohorts/{}/members", c.cohort_id),
            ),
            Cell::num(c.devices),
            Cell::num(c.pending),
        ]);
    }
    if csv {
        return Ok(html::csv_response(
            &format!("silent-{days}-days-by-cohort"),
            summary.csv(t),
        ));
    }
    let d = days.to_string();
    let body = html! {
        (html::notice(t, q.done.as_deref()))
        form.inline method="get" action="/dashboard/silent" {
            label for="days" { (t.not_synced_for) }
            input id="days" name="days" type="number" min="0" max="3650" value=(days) required aria-describedby="days-unit";
            span id="days-unit" { (t.days) }
            button type="submit" { (t.show) }
        }
        (summary.html(t))
        (csv_link(t, &format!("/dashboard/silent{}", html::query(&[("days", &d), ("format", "csv"), ("table", "cohorts")]))))
        (table.html(t))
        (pager.nav(t, &page_base("/dashboard/silent", &[("days", &d)])))
        (csv_link(t, &format!("/dashboard/silent{}", html::query(&[("days", &d), ("format", "csv")]))))
    };
    Ok(page(&v, t.nav_silent, Nav::Silent, body))
}

#[derive(serde::Deserialize, Default)]
pub struct ItemsQuery {
    course: Option<String>,
    version: Option<String>,
    cohort: Option<String>,
    format: Option<String>,
}

/// What the answers to one question add up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemStats {
    pub quiz_id: String,
    pub question_id: String,
    pub answers: i64,
    pub correct: i64,
    pub unanswered: i64,
    /// Per option, how many wrong answers chose it.
    pub wrong_choices: BTreeMap<String, i64>,
}

impl ItemStats {
    pub fn share_correct(&self) -> Option<f64> {
        (self.answers > 0).then(|| self.correct as f64 / self.answers as f64)
    }
    /// Answered at least once and never right.
    pub fn everyone_fails(&self) -> bool {
        self.answers > 0 && self.correct == 0
    }
}

/// Add up counts of answers per question, grading each distinct answer by
/// the version's key; questions in the order the course asks them.
pub fn item_stats(structure: &CourseStructure, counts: &[AnswerCount]) -> Vec<ItemStats> {
    let mut by_q: BTreeMap<(String, String), ItemStats> = BTreeMap::new();
    for c in counts {
        let s = by_q
            .entry((c.quiz_id.clone(), c.question_id.clone()))
            .or_insert_with(|| ItemStats {
                quiz_id: c.quiz_id.clone(),
                question_id: c.question_id.clone(),
                ..Default::default()
            });
        s.answers += c.count;
        let key = structure.questions.get(&c.question_id);
        if key.is_some_and(|k| answers::is_correct(k, &c.options)) {
            s.correct += c.count;
        } else if c.options.is_empty() {
            s.unanswered += c.count;
        } else {
            for o in answers::options_of(&c.options) {
                *s.wrong_choices.entry(o).or_default() += c.count;
            }
        }
    }
    // Course order: module quizzes in lesson order, then the assessment.
    let mut order: Vec<(String, String)> = Vec::new();
    for (_, l) in structure.lessons() {
        for q in &l.questions {
            order.push((l.id.clone(), q.clone()));
        }
    }
    if let Some(a) = &structure.assessment {
        for q in &a.bank {
            order.push((a.id.clone(), q.clone()));
        }
    }
    let mut out = Vec::new();
    for k in &order {
        if let Some(s) = by_q.remove(k) {
            out.push(s);
        }
    }
    out.extend(by_q.into_values());
    out
}

pub async fn items(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    Query(q): Query<ItemsQuery>,
) -> DashResult<Response> {
    let t = v.t();
    let lang = v.lang.code();
    let mut packages = hub.packages().await?;
    packages.sort_by(|a, b| {
        a.course_id
            .cmp(&b.course_id)
            .then_with(|| version_cmp(&b.version, &a.version))
    });
    // A version of another course (the course was changed in the form)
    // falls back to the course's newest version.
    let course = q.course.as_deref().filter(|c| !c.is_empty());
    let version = q.version.as_deref().filter(|v| !v.is_empty());
    let chosen = match course {
        Some(c) => Some(
            packages
                .iter()
                .find(|p| p.course_id == c && Some(p.version.as_str()) == version)
                .or_else(|| packages.iter().find(|p| p.course_id == c))
                .ok_or_else(|| DashError::not_found(fill(t.no_such_course, &[c])))?,
        ),
        None => packages.first(),
    };
    let mut tx = hub.db.begin(Mode::Read).await?;
    let cohort = narrowed_to(tx.as_mut(), &v, q.cohort.as_deref()).await?;
    let (cohorts, _) = queries::cohorts(tx.as_mut(), v.trainer(), 1000, 0).await?;
    // Course texts are read in transactions of their own.
    drop(tx);
    let mut labels = Vec::new();
    let mut courses: Vec<(String, String)> = Vec::new();
    for p in &packages {
        let title = texts::title(&hub, p, lang).await?;
        if !courses.iter().any(|(c, _)| *c == p.course_id) {
            courses.push((p.course_id.clone(), title.clone()));
        }
        labels.push((
            p.course_id.clone(),
            p.version.clone(),
            format!("{title} {}", p.version),
        ));
    }
    let Some(chosen) = chosen else {
        let body = html! { p { (t.no_courses_yet) } };
        return Ok(page(&v, t.nav_items, Nav::Items, body));
    };
    let mut tx = hub.db.begin(Mode::Read).await?;
    let counts = queries::answer_counts(
        tx.as_mut(),
        v.trainer(),
        cohort.as_ref().map(|c| c.id.as_str()),
        &chosen.course_id,
        &chosen.version,
    )
    .await?;
    drop(tx);
    let structure = hub
        .structure(&chosen.course_id, &chosen.version)
        .await?
        .ok_or_else(|| {
            DashError::not_found(fill(
                t.no_such_version,
                &[&chosen.course_id, &chosen.version],
            ))
        })?;
    let texts = Some(texts::of(&hub, chosen).await?);
    let stats = item_stats(&structure, &counts);
    let question_text = |qid: &str| texts::stem(texts.as_deref(), lang, qid);
    let option_text = |qid: &str, o: &str| texts::option_label(texts.as_deref(), lang, qid, o);
    let quiz_title = |quiz: &str| {
        texts
            .as_ref()
            .map_or_else(|| quiz.to_string(), |x| x.lesson(lang, quiz))
    };
    let label = labels
        .iter()
        .find(|(c, ver, _)| *c == chosen.course_id && *ver == chosen.version)
        .map_or_else(|| chosen.course_id.clone(), |(_, _, l)| l.clone());
    let mut table = Table::new(
        fill(t.items_caption, &[&label]),
        &[
            t.question,
            t.quiz,
            t.answers_count,
            t.share_correct,
            t.wrong_options_chosen,
            t.unanswered,
            t.question_id,
        ],
    );
    for s in &stats {
        let share = s.share_correct();
        let wrong = s
            .wrong_choices
            .iter()
            .map(|(o, n)| format!("{}: {n}", option_text(&s.question_id, o)))
            .collect::<Vec<_>>()
            .join("; ");
        let share_cell = match share {
            Some(x) if s.everyone_fails() => {
                Cell::Mark(Status::Failed, format!("{:.0}%", x * 100.0))
            }
            Some(x) => Cell::Num(format!("{:.0}%", x * 100.0)),
            None => Cell::text(""),
        };
        table.rows.push(vec![
            Cell::text(question_text(&s.question_id)),
            Cell::text(quiz_title(&s.quiz_id)),
            Cell::num(s.answers),
            share_cell,
            Cell::text(wrong),
            Cell::num(s.unanswered),
            Cell::text(&s.question_id),
        ]);
    }
    let cohort_id = cohort.as_ref().map(|c| c.id.clone()).unwrap_or_default();
    if wants_csv(q.format.as_deref()) {
        return Ok(html::csv_response(
            &format!("items-{}-{}", chosen.course_id, chosen.version),
            table.csv(t),
        ));
    }
    let failing: Vec<&super::reports::ItemStats> =
        stats.iter().filter(|s| s.everyone_fails()).collect();
    let body = html! {
        p.hint { (t.items_hint) }
        form.inline method="get" action="/dashboard/items" {
            label for="items-course" { (t.course) }
            select id="items-course" name="course" {
                @for (c, title) in &courses {
                    option value=(c) selected[*c == chosen.course_id] { (title) }
                }
            }
            label for="items-version" { (t.version) }
            select id="items-version" name="version" {
                @for (c, ver, l) in &labels {
                    @if *c == chosen.course_id {
                        option value=(ver) selected[*ver == chosen.version] { (l) }
                    }
                }
            }
            label for="items-cohort" { (t.cohort) }
            select id="items-cohort" name="cohort" {
                option value="" { (t.all_my_cohorts) }
                @for c in &cohorts {
                    option value=(c.id) selected[c.id == cohort_id] { (c.name) }
                }
            }
            button type="submit" { (t.show) }
        }
        section aria-labelledby="failing" {
            h2 id="failing" { (t.everyone_fails) }
            @if failing.is_empty() {
                p { (t.nobody_fails_all) }
            } @else {
                ul {
                    @for s in &failing {
                        li { strong { (question_text(&s.question_id)) } " — " (quiz_title(&s.quiz_id)) " (" (fill(t.n_answers, &[&s.answers.to_string()])) ")" }
                    }
                }
            }
        }
        (table.html(t))
        (csv_link(t, &format!("/dashboard/items{}", html::query(&[
            ("course", &chosen.course_id), ("version", &chosen.version), ("cohort", &cohort_id), ("format", "csv")
        ]))))
    };
    Ok(page(&v, t.nav_items, Nav::Items, body))
}
