//! Sign-in, sessions, CSRF and the lockout.
//!
//! - A session id is 32 random bytes, given to the browser once as an
//!   `HttpOnly; SameSite=Strict` cookie (`Secure` when the hub is served
//!   over https); the database keeps only its SHA-256, so a copy of the
//!   database opens no session. Sessions end at sign-out or after
//!   [`SESSION_HOURS`].
//! - Every session has its own CSRF token, put in every form and checked on
//!   every POST. The sign-in form, which has no session yet, is protected by
//!   a double-submit cookie.
//! - Failed sign-ins are counted per username and per client address in the
//!   database (so every instance sees them): [`USER_FAILURES`] failures for
//!   one username, or [`ADDRESS_FAILURES`] from one address, within
//!   [`WINDOW_MINUTES`] lock that username or address for
//!   [`LOCK_MINUTES`], whatever the password.

use super::html;
use super::i18n::{fill, Lang};
use super::{DashError, DashResult, Role, Viewer, PREFIX};
use crate::db::{DbError, Mode};
use crate::hub::{now_ms, sha256_hex, Hub};
use crate::params;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use rand::RngCore;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "outpost_session";
pub const LOGIN_COOKIE: &str = "outpost_login";
pub const LANG_COOKIE: &str = "outpost_lang";
pub const SESSION_HOURS: i64 = 8;
pub const USER_FAILURES: i64 = 5;
pub const ADDRESS_FAILURES: i64 = 20;
pub const WINDOW_MINUTES: i64 = 15;
pub const LOCK_MINUTES: i64 = 15;

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Compare two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Cookies are `Secure` when the hub's public address is https.
pub fn secure(hub: &Hub) -> bool {
    hub.config.public_url.starts_with("https://")
}

fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let s = format!(
        "{name}={value}; Path={PREFIX}; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The interface language: the switch's cookie, else the browser's first
/// choice of English or French.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .filter_map(|part| Lang::parse(part.split(';').next()?.trim().get(..2)?))
                .next()
        })
        .unwrap_or(Lang::En)
}

/// A path inside the dashboard to go to after a redirect; anything else
/// (another site, `//host`) becomes the dashboard's start.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with(PREFIX)
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => PREFIX.to_string(),
    }
}

pub struct Session {
    pub username: String,
    pub role: Role,
    pub csrf: String,
}

pub async fn lookup(hub: &Hub, token: &str) -> Result<Option<Session>, DbError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let mut tx = hub.db.begin(Mode::Read).await?;
    let row = tx
        .query_opt(
            "SELECT s.username, u.role, s.csrf FROM dashboard_sessions s JOIN users u ON u.username = s.username \
             WHERE s.id_hash = $1 AND s.expires_ms > $2",
            params![sha256_hex(token.as_bytes()), now_ms()],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let Some(role) = Role::parse(&r.text(1)?) else {
        return Ok(None);
    };
    Ok(Some(Session {
        username: r.text(0)?,
        role,
        csrf: r.text(2)?,
    }))
}

/// Start a session: the cookie's value.
pub async fn create(hub: &Hub, username: &str) -> Result<String, DbError> {
    let token = random_token();
    let now = now_ms();
    let mut tx = hub.db.begin(Mode::Write).await?;
    tx.exec(
        "DELETE FROM dashboard_sessions WHERE expires_ms <= $1",
        params![now],
    )
    .await?;
    tx.exec(
        "INSERT INTO dashboard_sessions (id_hash, username, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
        params![
            sha256_hex(token.as_bytes()),
            username,
            random_token(),
            now,
            now + SESSION_HOURS * 3_600_000
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Whether `key` is locked now: the minutes left.
async fn locked(hub: &Hub, key: &str, now: i64) -> Result<Option<i64>, DbError> {
    let mut tx = hub.db.begin(Mode::Read).await?;
    let until = tx
        .query_opt(
            "SELECT locked_until_ms FROM login_failures WHERE key = $1",
            params![key],
        )
        .await?
        .map(|r| r.opt_i64(0))
        .transpose()?
        .flatten();
    Ok(until
        .filter(|u| *u > now)
        .map(|u| (u - now + 59_999) / 60_000))
}

/// Count a failure against each key; lock those that reach their limit.
async fn record_failure(hub: &Hub, keys: &[(String, i64)], now: i64) -> Result<(), DbError> {
    let window_start = now - WINDOW_MINUTES * 60_000;
    let mut tx = hub.db.begin(Mode::Write).await?;
    // Forget old failures so the table stays small.
    tx.exec(
        "DELETE FROM login_failures WHERE first_ms < $1 AND (locked_until_ms IS NULL OR locked_until_ms < $2)",
        params![window_start, now],
    )
    .await?;
    for (key, limit) in keys {
        tx.exec(
            "INSERT INTO login_failures (key, failures, first_ms, locked_until_ms) VALUES ($1, 1, $2, NULL) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_failures.first_ms < $3 THEN 1 ELSE login_failures.failures + 1 END, \
               first_ms = CASE WHEN login_failures.first_ms < $3 THEN $2 ELSE login_failures.first_ms END",
            params![key, now, window_start],
        )
        .await?;
        tx.exec(
            "UPDATE login_failures SET locked_until_ms = $2 WHERE key = $1 AND failures >= $3",
            params![key, now + LOCK_MINUTES * 60_000, *limit],
        )
        .await?;
    }
    tx.commit().await
}

async fn clear_failures(hub: &Hub, key: &str) -> Result<(), DbError> {
    let mut tx = hub.db.begin(Mode::Write).await?;
    tx.exec("DELETE FROM login_failures WHERE key = $1", params![key])
        .await?;
    tx.commit().await
}

/// A hash to check against when the username is unknown, so that a wrong
/// username takes as long to refuse as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| crate::auth::hash_password("decoy password").unwrap_or_default())
}

/// The user's role when the password is theirs.
async fn check_password(hub: &Hub, username: &str, password: &str) -> DashResult<Option<Role>> {
    let row = if username.contains('\0') {
        None
    } else {
        let mut tx = hub.db.begin(Mode::Read).await?;
        tx.query_opt(
            "SELECT role, password_hash FROM users WHERE username = $1",
            params![username],
        )
        .await?
    };
    let (role, hash) = match row {
        Some(r) => (Role::parse(&r.text(0)?), r.text(1)?),
        None => (None, decoy_hash().to_string()),
    };
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || crate::auth::verify_password(&password, &hash))
        .await
        .map_err(|e| DashError::from(crate::error::HubError::Internal(e.to_string())))?;
    Ok(role.filter(|_| ok))
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let lang = lang_of(&headers);
    // Already signed in: straight on.
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Ok(Some(_)) = lookup(&hub, &token).await {
            return Redirect::to(&safe_next(q.next.as_deref())).into_response();
        }
    }
    login_form(
        &hub,
        lang,
        &safe_next(q.next.as_deref()),
        None,
        StatusCode::OK,
    )
}

fn login_form(
    hub: &Hub,
    lang: Lang,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let token = random_token();
    let body = html::login_page(lang, &token, next, error.as_deref());
    let mut res = (status, body).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, &token, 3600, secure(hub)),
    );
    res
}

/// The client's address as the connection shows it (behind a reverse
/// proxy, the proxy's), or `unknown` when served without one (tests).
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(f): Form<LoginForm>,
) -> DashResult<Response> {
    let lang = lang_of(&headers);
    let t = lang.text();
    let next = safe_next(Some(&f.next));
    if !cookie(&headers, LOGIN_COOKIE).is_some_and(|c| same_secret(&c, &f.csrf)) {
        return Ok(login_form(
            &hub,
            lang,
            &next,
            Some(t.csrf_refused.to_string()),
            StatusCode::FORBIDDEN,
        ));
    }
    let username = f.username.trim().to_string();
    if username.is_empty() || f.password.is_empty() {
        return Ok(login_form(
            &hub,
            lang,
            &next,
            Some(t.login_missing.to_string()),
            StatusCode::BAD_REQUEST,
        ));
    }
    let user_key = format!("user:{username}");
    let ip_key = format!("ip:{ip}");
    // No user has a NUL in their name (PostgreSQL cannot store one, nor
    // look one up): such a sign-in is wrong, counted against the address.
    let keys = if username.contains('\0') {
        vec![(ip_key, ADDRESS_FAILURES)]
    } else {
        vec![
            (user_key.clone(), USER_FAILURES),
            (ip_key, ADDRESS_FAILURES),
        ]
    };
    let now = now_ms();
    for (key, _) in &keys {
        if let Some(minutes) = locked(&hub, key, now).await? {
            tracing::warn!(%username, %ip, "dashboard sign-in refused: locked out");
            return Ok(login_form(
                &hub,
                lang,
                &next,
                Some(fill(t.login_locked, &[&minutes.to_string()])),
                StatusCode::TOO_MANY_REQUESTS,
            ));
        }
    }
    match check_password(&hub, &username, &f.password).await? {
        Some(_) => {
            clear_failures(&hub, &user_key).await?;
            let token = create(&hub, &username).await?;
            tracing::info!(%username, "dashboard sign-in");
            let mut res = Redirect::to(&next).into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &token, SESSION_HOURS * 3600, secure(&hub)),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, "", 0, secure(&hub)),
            );
            Ok(res)
        }
        None => {
            record_failure(&hub, &keys, now).await?;
            tracing::warn!(%username, %ip, "dashboard sign-in failed");
            Ok(login_form(
                &hub,
                lang,
                &next,
                Some(t.login_wrong.to_string()),
                StatusCode::UNAUTHORIZED,
            ))
        }
    }
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    State(hub): State<Arc<Hub>>,
    v: Viewer,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> DashResult<Response> {
    v.check_csrf(&f.csrf)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let mut tx = hub.db.begin(Mode::Write).await?;
        tx.exec(
            "DELETE FROM dashboard_sessions WHERE id_hash = $1",
            params![sha256_hex(token.as_bytes())],
        )
        .await?;
        tx.commit().await?;
    }
    let mut res = Redirect::to("/dashboard/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, v.secure),
    );
    Ok(res)
}

#[derive(serde::Deserialize)]
pub struct LangQuery {
    to: Option<String>,
    back: Option<String>,
}

/// The language switch: a GET form, since it changes nothing stored.
pub async fn switch_lang(State(hub): State<Arc<Hub>>, Query(q): Query<LangQuery>) -> Response {
    let lang = q.to.as_deref().and_then(Lang::parse).unwrap_or(Lang::En);
    let mut res = Redirect::to(&safe_next(q.back.as_deref())).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), 365 * 86_400, secure(&hub)),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", ""));
    }

    #[test]
    fn redirects_stay_inside_the_dashboard() {
        assert_eq!(
            safe_next(Some("/dashboard/cohorts?page=2")),
            "/dashboard/cohorts?page=2"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/dashboard");
        assert_eq!(safe_next(Some("//evil.example/dashboard")), "/dashboard");
        assert_eq!(safe_next(Some("/dashboard\\..\\x")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }

    #[test]
    fn cookies_and_languages_are_read_from_headers() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; outpost_lang=fr; b=2".parse().unwrap());
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(lang_of(&h), Lang::Fr);
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            "fr-CA,fr;q=0.9,en;q=0.5".parse().unwrap(),
        );
        assert_eq!(lang_of(&h), Lang::Fr);
        h.insert(header::ACCEPT_LANGUAGE, "de,en;q=0.5".parse().unwrap());
        assert_eq!(lang_of(&h), Lang::En);
    }
}
