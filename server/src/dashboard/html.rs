//! The page layout, tables that render as HTML or CSV from the same rows,
//! pagination, and formatting of dates, durations and shares.

use super::csv;
use super::i18n::{fill, Lang, Text};
use super::Viewer;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Cohorts,
    Overdue,
    Silent,
    Items,
    Courses,
    Files,
}

pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string from pairs, leaving out empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — Outpost" }
            link rel="stylesheet" href="/dashboard/static/dashboard.css";
        }
    }
}

/// A whole page for a signed-in user.
pub fn page(v: &Viewer, title: &str, nav: Nav, body: Markup) -> Response {
    let t = v.t();
    let item = |n: Nav, href: &str, label: &str| {
        html! {
            li {
                @if n == nav {
                    a href=(href) aria-current="page" { (label) }
                } @else {
                    a href=(href) { (label) }
                }
            }
        }
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(v.lang.code()) {
            (head(title))
            body {
                a.skip href="#main" { (t.skip_to_content) }
                header.top {
                    p.brand { a href="/dashboard/cohorts" { "Outpost" } " " span { (t.dashboard) } }
                    nav aria-label=(t.nav_label) {
                        ul {
                            (item(Nav::Cohorts, "/dashboard/cohorts", t.nav_cohorts))
                            (item(Nav::Overdue, "/dashboard/overdue", t.nav_overdue))
                            (item(Nav::Silent, "/dashboard/silent", t.nav_silent))
                            (item(Nav::Items, "/dashboard/items", t.nav_items))
                            (item(Nav::Courses, "/dashboard/courses", t.nav_courses))
                            (item(Nav::Files, "/dashboard/progress-files", t.nav_files))
                        }
                    }
                    div.account {
                        form.lang method="get" action="/dashboard/lang" {
                            input type="hidden" name="back" value=(v.here);
                            label for="lang-switch" { (t.language) }
                            select id="lang-switch" name="to" {
                                @for l in Lang::ALL {
                                    option value=(l.code()) selected[l == v.lang] lang=(l.code()) { (l.name()) }
                                }
                            }
                            button type="submit" { (t.change) }
                        }
                        form.logout method="post" action="/dashboard/logout" {
                            input type="hidden" name="csrf" value=(v.csrf);
                            span.user { (v.username) " (" (role_name(t, v)) ")" }
                            button type="submit" { (t.sign_out) }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    Html(markup.into_string()).into_response()
}

fn role_name(t: &Text, v: &Viewer) -> &'static str {
    if v.is_admin() {
        t.role_admin
    } else {
        t.role_trainer
    }
}

pub fn login_page(lang: Lang, csrf: &str, next: &str, error: Option<&str>) -> Html<String> {
    let t = lang.text();
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(t.sign_in))
            body.login {
                main id="main" {
                    h1 { "Outpost — " (t.sign_in) }
                    @if let Some(e) = error {
                        p.error role="alert" id="login-error" { (e) }
                    }
                    form method="post" action="/dashboard/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="next" value=(next);
                        p {
                            label for="username" { (t.username) }
                            input id="username" name="username" type="text" autocomplete="username" required autofocus;
                        }
                        p {
                            label for="password" { (t.password) }
                            input id="password" name="password" type="password" autocomplete="current-password" required;
                        }
                        p { button type="submit" { (t.sign_in) } }
                    }
                    form.lang method="get" action="/dashboard/lang" {
                        input type="hidden" name="back" value=(format!("/dashboard/login{}", query(&[("next", next)])));
                        label for="lang-switch" { (t.language) }
                        select id="lang-switch" name="to" {
                            @for l in Lang::ALL {
                                option value=(l.code()) selected[l == lang] lang=(l.code()) { (l.name()) }
                            }
                        }
                        button type="submit" { (t.change) }
                    }
                }
            }
        }
    };
    Html(markup.into_string())
}

pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head(status.canonical_reason().unwrap_or("Error")))
            body {
                main id="main" {
                    h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                    p.error role="alert" { (message) }
                    p { a href="/dashboard/cohorts" { "Back to the dashboard" } " · " a href="/dashboard/cohorts" lang="fr" { "Retour au tableau de bord" } }
                }
            }
        }
    };
    Html(markup.into_string())
}

/// A notice after a successful action (`?done=…`), in the page's language.
pub fn notice(t: &Text, done: Option<&str>) -> Markup {
    let msg = match done {
        Some("cohort") => t.done_cohort,
        Some("assigned") => t.done_assigned,
        Some("code") => t.done_code,
        Some("revoked") => t.done_revoked,
        Some("published") => t.done_published,
        Some("key") => t.done_key,
        _ => return html! {},
    };
    html! { p.notice role="status" { (msg) } }
}

/// The state of one cell of the progress matrix or a status column. Each
/// has its colour, a symbol and a word, so no one needs the colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Done,
    Partly,
    NotStarted,
    Failed,
    Overdue,
}

impl Status {
    pub fn class(self) -> &'static str {
        match self {
            Status::Done => "st-done",
            Status::Partly => "st-partly",
            Status::NotStarted => "st-none",
            Status::Failed => "st-failed",
            Status::Overdue => "st-overdue",
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            Status::Done => "✓",
            Status::Partly => "◐",
            Status::NotStarted => "○",
            Status::Failed => "✗",
            Status::Overdue => "!",
        }
    }
    pub fn word(self, t: &Text) -> &'static str {
        match self {
            Status::Done => t.st_done,
            Status::Partly => t.st_partly,
            Status::NotStarted => t.st_none,
            Status::Failed => t.st_failed,
            Status::Overdue => t.st_overdue,
        }
    }
}

/// One cell of a [`Table`].
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    /// A number: right-aligned, and in CSV never prefixed.
    Num(String),
    Link(String, String),
    /// A status with an optional detail (`2/3`).
    Status(Status, String),
    /// A status's colour and symbol with a word of its own (`right`).
    Mark(Status, String),
    /// Custom HTML, and the text for CSV.
    Html(Markup, String),
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn num(n: impl ToString) -> Cell {
        Cell::Num(n.to_string())
    }
    pub fn opt(s: Option<String>) -> Cell {
        Cell::Text(s.unwrap_or_default())
    }
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell::Link(text.into(), href.into())
    }
}

/// A table, rendered as HTML for the page and as CSV for the export, from
/// the same rows.
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// The first column names the row (a `th` with `scope=row`).
    pub row_headers: bool,
    pub class: &'static str,
}

impl Table {
    pub fn new(caption: impl Into<String>, headers: &[&str]) -> Table {
        Table {
            caption: caption.into(),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            row_headers: true,
            class: "",
        }
    }

    pub fn html(&self, t: &Text) -> Markup {
        let cell = |c: &Cell| -> Markup {
            match c {
                Cell::Text(s) => html! { (s) },
                Cell::Num(s) => html! { (s) },
                Cell::Link(s, href) => html! { a href=(href) { (s) } },
                Cell::Status(st, detail) => html! {
                    span class={"status " (st.class())} {
                        span aria-hidden="true" { (st.symbol()) } " " (st.word(t))
                        @if !detail.is_empty() { " " span.detail { (detail) } }
                    }
                },
                Cell::Mark(st, word) => html! {
                    span class={"status " (st.class())} {
                        span aria-hidden="true" { (st.symbol()) } " " (word)
                    }
                },
                Cell::Html(m, _) => m.clone(),
            }
        };
        html! {
            div.table-wrap {
                table class=(self.class) {
                    caption { (self.caption) }
                    thead { tr { @for h in &self.headers { th scope="col" { (h) } } } }
                    tbody {
                        @if self.rows.is_empty() {
                            tr { td colspan=(self.headers.len().max(1)) { (t.no_rows) } }
                        }
                        @for row in &self.rows {
                            tr {
                                @for (i, c) in row.iter().enumerate() {
                                    @if i == 0 && self.row_headers {
                                        th scope="row" { (cell(c)) }
                                    } @else if matches!(c, Cell::Num(_)) {
                                        td.num { (cell(c)) }
                                    } @else if let Cell::Status(st, _) | Cell::Mark(st, _) = c {
                                        td class=(st.class()) { (cell(c)) }
                                    } @else {
                                        td { (cell(c)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    pub fn csv(&self, t: &Text) -> String {
        let mut w = csv::Writer::new();
        w.row(self.headers.iter().map(|h| csv::Field::Text(h)));
        for row in &self.rows {
            let texts: Vec<(bool, String)> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) | Cell::Link(s, _) => (false, s.clone()),
                    Cell::Num(s) => (true, s.clone()),
                    Cell::Status(st, d) if d.is_empty() => (false, st.word(t).to_string()),
                    Cell::Status(st, d) => (false, format!("{} {d}", st.word(t))),
                    Cell::Mark(_, w) => (false, w.clone()),
                    Cell::Html(_, s) => (false, s.clone()),
                })
                .collect();
            w.row(texts.iter().map(|(num, s)| {
                if *num {
                    csv::Field::Num(s)
                } else {
                    csv::Field::Text(s)
                }
            }));
        }
        w.finish()
    }
}

/// Whether the request asks for the CSV (`?format=csv`) of a page's table.
pub fn wants_csv(format: Option<&str>) -> bool {
    format == Some("csv")
}

/// A CSV download.
pub fn csv_response(name: &str, body: String) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A link to the CSV of the table on this page.
pub fn csv_link(t: &Text, href: &str) -> Markup {
    html! { p.export { a href=(href) download { (t.download_csv) } } }
}

/// Which page of a list, read from `?page=`.
#[derive(Debug, Clone, Copy)]
pub struct Pager {
    pub page: u32,
    pub per: u32,
    pub total: i64,
}

impl Pager {
    pub fn parse(t: &Text, page: Option<&str>, per: u32) -> Result<Pager, super::DashError> {
        let page = match page.map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|p| *p >= 1 && *p <= 1_000_000)
                .ok_or_else(|| super::DashError::bad_request(fill(t.bad_page, &[p])))?,
        };
        Ok(Pager {
            page,
            per,
            total: 0,
        })
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per)
    }

    pub fn limit(&self) -> i64 {
        i64::from(self.per)
    }

    /// `(limit, offset)`: this page, or every row for a CSV export.
    pub fn window(&self, csv: bool) -> (i64, i64) {
        if csv {
            (i64::MAX, 0)
        } else {
            (self.limit(), self.offset())
        }
    }

    pub fn pages(&self) -> u32 {
        ((self.total.max(0) as u64).div_ceil(u64::from(self.per.max(1)))).max(1) as u32
    }

    /// Previous / next links; `base` is the page's URL with its other
    /// parameters and a trailing `&` or `?`.
    pub fn nav(&self, t: &Text, base: &str) -> Markup {
        let pages = self.pages();
        html! {
            nav.pager aria-label=(t.pages) {
                @if self.page > 1 {
                    a href={(base) "page=" (self.page - 1)} rel="prev" { "← " (t.previous) }
                }
                span { (fill(t.page_of, &[&self.page.to_string(), &pages.to_string(), &self.total.to_string()])) }
                @if self.page < pages {
                    a href={(base) "page=" (self.page + 1)} rel="next" { (t.next) " →" }
                }
            }
        }
    }
}

/// `base` for [`Pager::nav`]: the path with its query and a separator.
pub fn page_base(path: &str, pairs: &[(&str, &str)]) -> String {
    let q = query(pairs);
    if q.is_empty() {
        format!("{path}?")
    } else {
        format!("{path}{q}&")
    }
}

pub fn date(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

pub fn datetime(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `1 h 05 min`, `12 min`.
pub fn duration(seconds: i64) -> String {
    let m = seconds.max(0) / 60;
    if m >= 60 {
        format!("{} h {:02} min", m / 60, m % 60)
    } else {
        format!("{m} min")
    }
}

/// A share of a whole as a whole percent; empty when there is no whole.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        String::new()
    } else {
        format!("{}%", (part * 100 + whole / 2) / whole)
    }
}

/// A scaled score (0..=1) as a percent.
pub fn score(s: Option<f64>) -> String {
    s.map(|s| format!("{:.0}%", (s * 100.0).clamp(0.0, 100.0)))
        .unwrap_or_default()
}

/// Days since a time, for "not synced for".
pub fn days_since(ms: Option<i64>, now: i64) -> Option<i64> {
    ms.map(|m| ((now - m).max(0)) / 86_400_000)
}

/// Plain text of compiler-made HTML (question stems, options): tags
/// dropped, entities decoded. The caller escapes it again for output.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = decode_entities(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Trusted markup made here (SVG plots).
pub fn raw(s: String) -> Markup {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            html_to_text("<p>Is <strong>A &amp; B</strong> &lt;true&gt;?</p>"),
            "Is A & B <true>?"
        );
        assert_eq!(html_to_text("caf&#233; &#x41; & done"), "café A & done");
    }

    #[test]
    fn numbers_read_for_people() {
        assert_eq!(percent(1, 3), "33%");
        assert_eq!(percent(2, 3), "67%");
        assert_eq!(percent(0, 0), "");
        assert_eq!(duration(3900), "1 h 05 min");
        assert_eq!(duration(59), "0 min");
        assert_eq!(score(Some(0.75)), "75%");
        assert_eq!(query(&[("a", "x y"), ("b", "")]), "?a=x%20y");
        assert_eq!(page_base("/p", &[]), "/p?");
    }
}
