//! The xAPI 1.0.3 Statements resource (`/xapi/statements`) and `/xapi/about`.
//!
//! Device events are stored as their statements when they are ingested
//! (`outpost_model::xapi::statement`, same id); statements from other tools
//! are validated and stored beside them. Idempotence follows the spec: an id
//! the hub has, with the same content, changes nothing; with other content
//! it is a 409 and nothing of the request is stored.

use crate::db::{Mode, Tx};
use crate::error::{HubError, HubResult};
use crate::hub::{from_ms, now_ms, Hub, StatementRow};
use crate::params;
use axum::body::{Body, Bytes};
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;

pub const VERSION_HEADER: &str = "X-Experience-API-Version";
pub const CONSISTENT_HEADER: &str = "X-Experience-API-Consistent-Through";
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";
const MAX_LIMIT: i64 = 500;

pub const ABOUT: &str = "/xapi/about";
pub const STATEMENTS: &str = "/xapi/statements";

pub fn router() -> Router<Arc<Hub>> {
    Router::new()
        .route(ABOUT, get(about))
        .route(
            STATEMENTS,
            get(get_statements).post(post_statements).put(put_statement),
        )
        .layer(axum::middleware::from_fn(version_header))
}

/// Every answer carries the version; every request but `about` must name
/// a 1.0.x version.
async fn version_header(req: axum::extract::Request, next: Next) -> Response {
    let is_about = req.uri().path().ends_with("/about");
    let given = req
        .headers()
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut res = match given {
        _ if is_about => next.run(req).await,
        Some(v) if v.starts_with("1.0") => next.run(req).await,
        Some(v) => xapi_error(format!(
            "{VERSION_HEADER} {v:?} is not supported; this LRS speaks 1.0.3"
        )),
        None => xapi_error(format!("the {VERSION_HEADER} header is required")),
    };
    res.headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static("1.0.3"));
    res
}

fn xapi_error(reason: String) -> Response {
    HubError::BadRequest(reason).into_response()
}

async fn about() -> Json<Value> {
    Json(json!({"version": ["1.0.3"], "extensions": {}}))
}

/// The authority of statements the hub makes from device events.
pub fn hub_authority(public_url: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": public_url, "name": "outpost-hub"}})
}

fn credential_authority(public_url: &str, name: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": public_url, "name": format!("xapi:{name}")}})
}

async fn authorize(hub: &Hub, headers: &HeaderMap) -> HubResult<String> {
    let (key, secret) = crate::auth::basic(headers).ok_or_else(|| {
        HubError::Unauthorized(
            "xAPI needs HTTP Basic credentials (outpost-hub admin create-xapi-credential)".into(),
        )
    })?;
    hub.check_xapi_credential(&key, &secret)
        .await?
        .ok_or_else(|| HubError::Unauthorized("unknown xAPI credentials".into()))
}

/// The identity of an agent or group as one string, for storage and the
/// `agent` filter: its inverse functional identifier.
pub fn actor_key(actor: &Value) -> Option<String> {
    let o = actor.as_object()?;
    if let Some(m) = o.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{}", m.to_lowercase()));
    }
    if let Some(m) = o.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("mbox_sha1sum:{}", m.to_lowercase()));
    }
    if let Some(m) = o.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{m}"));
    }
    let a = o.get("account")?.as_object()?;
    Some(format!(
        "account:{}|{}",
        a.get("homePage")?.as_str()?,
        a.get("name")?.as_str()?
    ))
}

pub fn statement_row(id: Uuid, s: &Value) -> StatementRow {
    let object = &s["object"];
    let activity_id = match object.get("objectType").and_then(Value::as_str) {
        None | Some("Activity") => object.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    StatementRow {
        id,
        content: s.to_string(),
        verb_id: s["verb"]["id"].as_str().unwrap_or_default().to_string(),
        actor_key: actor_key(&s["actor"]).unwrap_or_else(|| "anonymous-group".into()),
        activity_id,
        registration: s["context"]["registration"]
            .as_str()
            .map(|r| r.to_lowercase()),
    }
}

/// Store a statement unless one with its id exists; whether it was stored.
pub async fn insert_statement(
    tx: &mut dyn Tx,
    s: &StatementRow,
    stored_ms: i64,
    source: &str,
) -> HubResult<bool> {
    let n = tx
        .exec(
            "INSERT INTO statements (id, content, verb_id, actor_key, activity_id, registration, stored_ms, voided, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8) ON CONFLICT (id) DO NOTHING",
            params![
                s.id,
                &s.content,
                &s.verb_id,
                &s.actor_key,
                s.activity_id.clone(),
                s.registration.clone(),
                stored_ms,
                source
            ],
        )
        .await?;
    Ok(n == 1)
}

// ----- validation --------------------------------------------------------

fn is_iri(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
                && !rest.is_empty()
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{path} must be a JSON object"))
}

fn only_keys(o: &Map<String, Value>, path: &str, allowed: &[&str]) -> Result<(), String> {
    for k in o.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!("{path} has an unknown property {k:?}"));
        }
    }
    Ok(())
}

fn lang_map(v: &Value, path: &str) -> Result<(), String> {
    let o = obj(v, path)?;
    if o.values().all(Value::is_string) {
        Ok(())
    } else {
        Err(format!("{path} must be a language map of strings"))
    }
}

fn check_agent(v: &Value, path: &str) -> Result<(), String> {
    let o = obj(v, path)?;
    let kind = o
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Agent");
    only_keys(
        o,
        path,
        &[
            "objectType",
            "name",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
            "member",
        ],
    )?;
    let ifis = ["mbox", "mbox_sha1sum", "openid", "account"]
        .iter()
        .filter(|k| o.contains_key(**k))
        .count();
    if let Some(m) = o.get("mbox") {
        if !m
            .as_str()
            .is_some_and(|m| m.starts_with("mailto:") && m.contains('@'))
        {
            return Err(format!("{path}.mbox must be a mailto: IRI"));
        }
    }
    if let Some(m) = o.get("mbox_sha1sum") {
        if !m
            .as_str()
            .is_some_and(|m| m.len() == 40 && m.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(format!("{path}.mbox_sha1sum must be 40 hex digits"));
        }
    }
    if let Some(m) = o.get("openid") {
        if !m.as_str().is_some_and(is_iri) {
            return Err(format!("{path}.openid must be an IRI"));
        }
    }
    if let Some(a) = o.get("account") {
        let a = obj(a, &format!("{path}.account"))?;
        only_keys(a, &format!("{path}.account"), &["homePage", "name"])?;
        if !a
            .get("homePage")
            .and_then(Value::as_str)
            .is_some_and(is_iri)
            || !a.get("name").is_some_and(Value::is_string)
        {
            return Err(format!("{path}.account needs a homePage IRI and a name"));
        }
    }
    if let Some(n) = o.get("name") {
        if !n.is_string() {
            return Err(format!("{path}.name must be a string"));
        }
    }
    match kind {
        "Agent" => {
            if o.contains_key("member") {
                return Err(format!("{path}: an Agent has no member"));
            }
            if ifis != 1 {
                return Err(format!(
                    "{path} must have exactly one of mbox, mbox_sha1sum, openid, account"
                ));
            }
        }
        "Group" => {
            if ifis > 1 {
                return Err(format!("{path}: a Group has at most one identifier"));
            }
            match o.get("member") {
                Some(Value::Array(ms)) => {
                    for (i, m) in ms.iter().enumerate() {
                        check_agent(m, &format!("{path}.member[{i}]"))?;
                        if m.get("objectType").and_then(Value::as_str) == Some("Group") {
                            return Err(format!("{path}.member[{i}]: groups cannot nest"));
                        }
                    }
                }
                Some(_) => return Err(format!("{path}.member must be an array")),
                None if ifis == 0 => {
                    return Err(format!("{path}: an anonymous Group needs members"))
                }
                None => {}
            }
        }
        other => return Err(format!("{path}.objectType {other:?} is not Agent or Group")),
    }
    Ok(())
}

fn check_uuid(v: &Value, path: &str) -> Result<Uuid, String> {
    v.as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| format!("{path} must be a UUID"))
}

fn check_object(v: &Value, path: &str, sub: bool) -> Result<(), String> {
    let o = obj(v, path)?;
    match o
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity")
    {
        "Activity" => {
            only_keys(o, path, &["objectType", "id", "definition"])?;
            if !o.get("id").and_then(Value::as_str).is_some_and(is_iri) {
                return Err(format!("{path}.id must be an IRI"));
            }
            if let Some(d) = o.get("definition") {
                let d = obj(d, &format!("{path}.definition"))?;
                for k in ["name", "description"] {
                    if let Some(m) = d.get(k) {
                        lang_map(m, &format!("{path}.definition.{k}"))?;
                    }
                }
                if let Some(t) = d.get("type") {
                    if !t.as_str().is_some_and(is_iri) {
                        return Err(format!("{path}.definition.type must be an IRI"));
                    }
                }
            }
        }
        "Agent" | "Group" => check_agent(v, path)?,
        "StatementRef" => {
            only_keys(o, path, &["objectType", "id"])?;
            check_uuid(o.get("id").unwrap_or(&Value::Null), &format!("{path}.id"))?;
        }
        "SubStatement" => {
            if sub {
                return Err(format!("{path}: a SubStatement cannot contain another"));
            }
            only_keys(
                o,
                path,
                &[
                    "objectType",
                    "actor",
                    "verb",
                    "object",
                    "result",
                    "context",
                    "timestamp",
                    "attachments",
                ],
            )?;
            check_core(v, path, true)?;
        }
        other => return Err(format!("{path}.objectType {other:?} is not known")),
    }
    Ok(())
}

fn check_core(s: &Value, path: &str, sub: bool) -> Result<(), String> {
    let o = obj(s, path)?;
    check_agent(
        o.get("actor")
            .ok_or_else(|| format!("{path}: actor is required"))?,
        &format!("{path}.actor"),
    )?;
    let verb = obj(
        o.get("verb")
            .ok_or_else(|| format!("{path}: verb is required"))?,
        &format!("{path}.verb"),
    )?;
    only_keys(verb, &format!("{path}.verb"), &["id", "display"])?;
    if !verb.get("id").and_then(Value::as_str).is_some_and(is_iri) {
        return Err(format!("{path}.verb.id must be an IRI"));
    }
    if let Some(d) = verb.get("display") {
        lang_map(d, &format!("{path}.verb.display"))?;
    }
    check_object(
        o.get("object")
            .ok_or_else(|| format!("{path}: object is required"))?,
        &format!("{path}.object"),
        sub,
    )?;
    if let Some(r) = o.get("result") {
        let r = obj(r, &format!("{path}.result"))?;
        only_keys(
            r,
            &format!("{path}.result"),
            &[
                "score",
                "success",
                "completion",
                "response",
                "duration",
                "extensions",
            ],
        )?;
        for k in ["success", "completion"] {
            if r.get(k).is_some_and(|v| !v.is_boolean()) {
                return Err(format!("{path}.result.{k} must be true or false"));
            }
        }
        if r.get("response").is_some_and(|v| !v.is_string()) {
            return Err(format!("{path}.result.response must be a string"));
        }
        if let Some(d) = r.get("duration") {
            if !d
                .as_str()
                .is_some_and(|d| d.starts_with('P') && d.len() > 1)
            {
                return Err(format!(
                    "{path}.result.duration must be an ISO 8601 duration"
                ));
            }
        }
        if let Some(sc) = r.get("score") {
            let sc = obj(sc, &format!("{path}.result.score"))?;
            only_keys(
                sc,
                &format!("{path}.result.score"),
                &["scaled", "raw", "min", "max"],
            )?;
            let num = |k: &str| -> Result<Option<f64>, String> {
                match sc.get(k) {
                    None => Ok(None),
                    Some(v) => v
                        .as_f64()
                        .map(Some)
                        .ok_or_else(|| format!("{path}.result.score.{k} must be a number")),
                }
            };
            if let Some(s) = num("scaled")? {
                if !(-1.0..=1.0).contains(&s) {
                    return Err(format!(
                        "{path}.result.score.scaled must be between -1 and 1"
                    ));
                }
            }
            let (raw, min, max) = (num("raw")?, num("min")?, num("max")?);
            if let (Some(a), Some(b)) = (min, max) {
                if a > b {
                    return Err(format!("{path}.result.score.min is above max"));
                }
            }
            if let Some(r) = raw {
                if min.is_some_and(|m| r < m) || max.is_some_and(|m| r > m) {
                    return Err(format!("{path}.result.score.raw is outside min..max"));
                }
            }
        }
    }
    if let Some(c) = o.get("context") {
        let c = obj(c, &format!("{path}.context"))?;
        only_keys(
            c,
            &format!("{path}.context"),
            &[
                "registration",
                "instructor",
                "team",
                "contextActivities",
                "revision",
                "platform",
                "language",
                "statement",
                "extensions",
            ],
        )?;
        if let Some(r) = c.get("registration") {
            check_uuid(r, &format!("{path}.context.registration"))?;
        }
        if let Some(ca) = c.get("contextActivities") {
            let ca = obj(ca, &format!("{path}.context.contextActivities"))?;
            for (k, v) in ca {
                if !matches!(k.as_str(), "parent" | "grouping" | "category" | "other") {
                    return Err(format!(
                        "{path}.context.contextActivities has an unknown key {k:?}"
                    ));
                }
                let list: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    v => vec![v],
                };
                for a in list {
                    if !a.get("id").and_then(Value::as_str).is_some_and(is_iri) {
                        return Err(format!(
                            "{path}.context.contextActivities.{k}: every activity needs an IRI id"
                        ));
                    }
                }
            }
        }
    }
    if let Some(t) = o.get("timestamp") {
        if t.as_str()
            .is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err())
        {
            return Err(format!(
                "{path}.timestamp must be an ISO 8601 date and time"
            ));
        }
    }
    Ok(())
}

/// Validate a statement from an xAPI client.
pub fn validate_statement(s: &Value) -> Result<(), String> {
    let o = obj(s, "statement")?;
    only_keys(
        o,
        "statement",
        &[
            "id",
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "stored",
            "authority",
            "version",
            "attachments",
        ],
    )?;
    if let Some(id) = o.get("id") {
        check_uuid(id, "statement.id")?;
    }
    if let Some(v) = o.get("version") {
        if !v.as_str().is_some_and(|v| v.starts_with("1.0")) {
            return Err("statement.version must be 1.0.x".into());
        }
    }
    check_core(s, "statement", false)?;
    if s["verb"]["id"] == VOIDED && s["object"]["objectType"] != "StatementRef" {
        return Err("a voiding statement's object must be a StatementRef".into());
    }
    Ok(())
}

/// What two statements with one id are compared on: everything but what
/// the LRS sets itself.
fn comparable(s: &Value) -> Value {
    let mut s = s.clone();
    if let Some(o) = s.as_object_mut() {
        for k in ["stored", "authority", "version", "id"] {
            o.remove(k);
        }
    }
    s
}

fn parse_body(body: &Bytes) -> HubResult<Value> {
    serde_json::from_slice(body)
        .map_err(|e| HubError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// Store statements atomically; their ids in order.
async fn store_statements(
    hub: &Hub,
    authority: &str,
    mut list: Vec<Value>,
) -> HubResult<Vec<Uuid>> {
    let mut ids = Vec::with_capacity(list.len());
    let mut seen = HashSet::new();
    for (i, s) in list.iter_mut().enumerate() {
        validate_statement(s).map_err(|r| {
            HubError::BadRequest(if i == 0 {
                r.clone()
            } else {
                format!("statement {i}: {r}")
            })
        })?;
        let id = match s.get("id") {
            Some(v) => check_uuid(v, "statement.id").map_err(HubError::BadRequest)?,
            None => {
                let id = Uuid::new_v4();
                s["id"] = json!(id);
                id
            }
        };
        if !seen.insert(id) {
            return Err(HubError::BadRequest(format!(
                "statement id {id} appears twice in one request"
            )));
        }
        ids.push(id);
    }
    let now = now_ms();
    let stored = from_ms(now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut tx = hub.db.begin(Mode::Write).await?;
    for (s, id) in list.iter_mut().zip(&ids) {
        if let Some(r) = tx
            .query_opt("SELECT content FROM statements WHERE id = $1", params![*id])
            .await?
        {
            let existing: Value = serde_json::from_str(&r.text(0)?)
                .map_err(|e| HubError::Internal(format!("stored statement: {e}")))?;
            if comparable(&existing) == comparable(s) {
                continue;
            }
            return Err(HubError::Conflict(format!(
                "statement {id} already exists with different content"
            )));
        }
        if s["verb"]["id"] == VOIDED {
            let target = s["object"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_lowercase();
            if let Some(t) = tx
                .query_opt(
                    "SELECT verb_id FROM statements WHERE id = $1",
                    params![&target],
                )
                .await?
            {
                if t.text(0)? == VOIDED {
                    return Err(HubError::BadRequest(format!(
                        "statement {target} is itself a voiding statement and cannot be voided"
                    )));
                }
            }
            tx.exec(
                "UPDATE statements SET voided = TRUE WHERE id = $1",
                params![target],
            )
            .await?;
        }
        s["stored"] = json!(stored);
        s["authority"] = credential_authority(&hub.config.public_url, authority);
        if s.get("version").is_none() {
            s["version"] = json!("1.0.0");
        }
        let row = statement_row(*id, s);
        insert_statement(tx.as_mut(), &row, now, "xapi").await?;
    }
    tx.commit().await?;
    Ok(ids)
}

/// Statements batches may be larger than a sync request.
pub const MAX_STATEMENTS_BODY_BYTES: usize = 1024 * 1024;

async fn post_statements(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    body: Body,
) -> HubResult<Response> {
    let who = authorize(&hub, &headers).await?;
    let body = crate::api::read_body(body, MAX_STATEMENTS_BODY_BYTES).await?;
    let list = match parse_body(&body)? {
        Value::Array(a) if a.is_empty() => {
            return Err(HubError::BadRequest(
                "the array of statements is empty".into(),
            ))
        }
        Value::Array(a) => a,
        v => vec![v],
    };
    let ids = store_statements(&hub, &who, list).await?;
    Ok(Json(ids).into_response())
}

#[derive(serde::Deserialize)]
struct PutQuery {
    #[serde(rename = "statementId")]
    statement_id: Option<String>,
}

async fn put_statement(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(q): Query<PutQuery>,
    body: Body,
) -> HubResult<Response> {
    let who = authorize(&hub, &headers).await?;
    let body = crate::api::read_body(body, MAX_STATEMENTS_BODY_BYTES).await?;
    let id = q
        .statement_id
        .as_deref()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| {
            HubError::BadRequest("PUT needs a statementId parameter that is a UUID".into())
        })?;
    let mut s = parse_body(&body)?;
    if !s.is_object() {
        return Err(HubError::BadRequest(
            "PUT takes one statement object".into(),
        ));
    }
    match s.get("id") {
        Some(v) => {
            if check_uuid(v, "statement.id").map_err(HubError::BadRequest)? != id {
                return Err(HubError::BadRequest(
                    "the statement's id differs from statementId".into(),
                ));
            }
        }
        None => s["id"] = json!(id),
    }
    store_statements(&hub, &who, vec![s]).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_statements(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> HubResult<Response> {
    authorize(&hub, &headers).await?;
    let raw = raw.unwrap_or_default();
    let q: BTreeMap<String, String> = serde_urlencoded_pairs(&raw);
    let consistent = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let with_headers = |body: Value| -> Response {
        let mut res = Json(body).into_response();
        if let Ok(v) = HeaderValue::from_str(&consistent) {
            res.headers_mut().insert(CONSISTENT_HEADER, v);
        }
        res
    };
    for k in q.keys() {
        if !matches!(
            k.as_str(),
            "statementId"
                | "voidedStatementId"
                | "agent"
                | "verb"
                | "activity"
                | "registration"
                | "since"
                | "until"
                | "limit"
                | "ascending"
                | "format"
                | "attachments"
                | "related_activities"
                | "related_agents"
                | "cursor"
        ) {
            return Err(HubError::BadRequest(format!("unknown parameter {k:?}")));
        }
    }
    if let Some(f) = q.get("format") {
        if !matches!(f.as_str(), "exact" | "ids" | "canonical") {
            return Err(HubError::BadRequest(format!(
                "format {f:?} is not exact, ids or canonical"
            )));
        }
    }
    let single = q
        .get("statementId")
        .map(|s| (s, false))
        .or(q.get("voidedStatementId").map(|s| (s, true)));
    if let Some((id, voided)) = single {
        if q.keys().any(|k| {
            !matches!(
                k.as_str(),
                "statementId" | "voidedStatementId" | "format" | "attachments"
            )
        }) {
            return Err(HubError::BadRequest(
                "statementId and voidedStatementId take no other filters".into(),
            ));
        }
        let id = Uuid::parse_str(id)
            .map_err(|_| HubError::BadRequest(format!("{id:?} is not a UUID")))?;
        let mut tx = hub.db.begin(Mode::Read).await?;
        let row = tx
            .query_opt(
                "SELECT content, voided FROM statements WHERE id = $1",
                params![id],
            )
            .await?;
        return match row {
            Some(r) if r.bool(1)? == voided => {
                let v: Value = serde_json::from_str(&r.text(0)?)
                    .map_err(|e| HubError::Internal(format!("stored statement: {e}")))?;
                Ok(with_headers(v))
            }
            _ => Err(HubError::NotFound(format!("no statement {id}"))),
        };
    }
    let mut sql = String::from("SELECT seq, content FROM statements WHERE voided = FALSE");
    let mut args = Vec::new();
    let mut arg = |sql: &mut String, cond: &str, v: crate::db::Val| {
        args.push(v);
        sql.push_str(&cond.replace("$?", &format!("${}", args.len())));
    };
    if let Some(a) = q.get("agent") {
        let v: Value = serde_json::from_str(a)
            .map_err(|_| HubError::BadRequest("agent must be a JSON Agent or Group".into()))?;
        let key =
            actor_key(&v).ok_or_else(|| HubError::BadRequest("agent has no identifier".into()))?;
        arg(&mut sql, " AND actor_key = $?", key.into());
    }
    if let Some(v) = q.get("verb") {
        arg(&mut sql, " AND verb_id = $?", v.into());
    }
    if let Some(v) = q.get("activity") {
        arg(&mut sql, " AND activity_id = $?", v.into());
    }
    if let Some(v) = q.get("registration") {
        let r = Uuid::parse_str(v)
            .map_err(|_| HubError::BadRequest("registration must be a UUID".into()))?;
        arg(&mut sql, " AND registration = $?", r.into());
    }
    let time = |k: &str| -> HubResult<Option<i64>> {
        q.get(k)
            .map(|t| {
                // Python's str(datetime) (tincan) puts a space for the T.
                chrono::DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1))
                    .map(|t| t.timestamp_millis())
                    .map_err(|_| HubError::BadRequest(format!("{k} must be an ISO 8601 time")))
            })
            .transpose()
    };
    if let Some(t) = time("since")? {
        arg(&mut sql, " AND stored_ms > $?", t.into());
    }
    if let Some(t) = time("until")? {
        arg(&mut sql, " AND stored_ms <= $?", t.into());
    }
    let ascending = match q.get("ascending").map(String::as_str) {
        None | Some("false" | "False") => false,
        Some("true" | "True") => true,
        Some(v) => {
            return Err(HubError::BadRequest(format!(
                "ascending must be true or false, not {v:?}"
            )))
        }
    };
    if let Some(c) = q.get("cursor") {
        let c: i64 = c
            .parse()
            .map_err(|_| HubError::BadRequest("cursor is not one this LRS gave out".into()))?;
        arg(
            &mut sql,
            if ascending {
                " AND seq > $?"
            } else {
                " AND seq < $?"
            },
            c.into(),
        );
    }
    let limit = match q.get("limit") {
        None => 100,
        Some(l) => match l.parse::<i64>() {
            Ok(0) => MAX_LIMIT,
            Ok(n) if n > 0 => n.min(MAX_LIMIT),
            _ => return Err(HubError::BadRequest("limit must be a whole number".into())),
        },
    };
    sql.push_str(if ascending {
        " ORDER BY seq ASC"
    } else {
        " ORDER BY seq DESC"
    });
    arg(&mut sql, " LIMIT $?", (limit + 1).into());
    let mut tx = hub.db.begin(Mode::Read).await?;
    let rows = tx.query(&sql, args).await?;
    let mut statements = Vec::new();
    let mut last = None;
    for r in rows.iter().take(limit as usize) {
        let mut v: Value = serde_json::from_str(&r.text(1)?)
            .map_err(|e| HubError::Internal(format!("stored statement: {e}")))?;
        if q.get("format").map(String::as_str) == Some("ids") {
            ids_format(&mut v);
        }
        statements.push(v);
        last = Some(r.i64(0)?);
    }
    let more = match last {
        Some(seq) if rows.len() as i64 > limit => {
            let mut pairs: Vec<String> = q
                .iter()
                .filter(|(k, _)| *k != "cursor")
                .map(|(k, v)| format!("{k}={}", urlencode(v)))
                .collect();
            pairs.push(format!("cursor={seq}"));
            format!("/xapi/statements?{}", pairs.join("&"))
        }
        _ => String::new(),
    };
    Ok(with_headers(
        json!({"statements": statements, "more": more}),
    ))
}

/// `format=ids`: agents, activities and verbs reduced to their identifiers.
fn ids_format(s: &mut Value) {
    if let Some(d) = s.get_mut("verb").and_then(Value::as_object_mut) {
        d.remove("display");
    }
    if let Some(o) = s.get_mut("object").and_then(Value::as_object_mut) {
        o.remove("definition");
    }
    if let Some(a) = s.get_mut("actor").and_then(Value::as_object_mut) {
        a.remove("name");
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn urldecode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn serde_urlencoded_pairs(raw: &str) -> BTreeMap<String, String> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (urldecode(k), urldecode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Value {
        json!({
            "actor": {"mbox": "mailto:a@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
            "object": {"id": "http://example.org/activity/1"}
        })
    }

    #[test]
    fn a_minimal_statement_is_valid() {
        assert_eq!(validate_statement(&ok()), Ok(()));
    }

    #[test]
    fn each_mistake_has_its_reason() {
        type Change = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|s| {
                    s.as_object_mut().unwrap().remove("actor");
                }),
                "actor is required",
            ),
            (
                Box::new(|s| s["actor"] = json!({"name": "x"})),
                "exactly one of",
            ),
            (
                Box::new(|s| s["actor"]["openid"] = json!("http://x")),
                "exactly one of",
            ),
            (
                Box::new(|s| s["verb"]["id"] = json!("not an iri")),
                "verb.id must be an IRI",
            ),
            (
                Box::new(|s| s["id"] = json!("123")),
                "statement.id must be a UUID",
            ),
            (
                Box::new(|s| s["result"] = json!({"score": {"scaled": 2}})),
                "between -1 and 1",
            ),
            (
                Box::new(|s| s["timestamp"] = json!("yesterday")),
                "timestamp",
            ),
            (
                Box::new(|s| s["foo"] = json!(1)),
                "unknown property \"foo\"",
            ),
            (
                Box::new(|s| s["context"] = json!({"registration": "x"})),
                "registration must be a UUID",
            ),
            (
                Box::new(|s| s["verb"]["id"] = json!(VOIDED)),
                "StatementRef",
            ),
        ];
        for (change, expect) in cases {
            let mut s = ok();
            change(&mut s);
            let err = validate_statement(&s).unwrap_err();
            assert!(err.contains(expect), "{err} should say {expect}");
        }
    }

    #[test]
    fn actors_are_keyed_by_their_identifier() {
        assert_eq!(
            actor_key(&json!({"mbox": "mailto:A@x.org", "name": "A"})).unwrap(),
            "mbox:mailto:a@x.org"
        );
        assert_eq!(
            actor_key(&json!({"account": {"homePage": "https://h", "name": "n"}})).unwrap(),
            "account:https://h|n"
        );
    }

    #[test]
    fn query_strings_decode() {
        let q = serde_urlencoded_pairs("agent=%7B%22mbox%22%3A%22mailto%3Aa%40b%22%7D&limit=2&x");
        assert_eq!(q["agent"], r#"{"mbox":"mailto:a@b"}"#);
        assert_eq!(q["limit"], "2");
        assert_eq!(q["x"], "");
        assert_eq!(urldecode(&urlencode("a b&c=d/é")), "a b&c=d/é");
    }
}
