//! The sync API under `/api/v1/` (see `docs/sync-protocol.md`).

use crate::auth::bearer;
use crate::error::{HubError, HubResult};
use crate::hub::Hub;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use outpost_protocol::limits::MAX_JSON_BODY_BYTES;
use outpost_protocol::{EnrollRequest, Ping, PushRequest, PROTOCOL_VERSION};
use serde::de::DeserializeOwned;
use std::io::Read;
use std::sync::Arc;

pub const PING: &str = "/api/v1/ping";
pub const ENROLL: &str = "/api/v1/enroll";
pub const PUSH: &str = "/api/v1/sync/push";
pub const PULL: &str = "/api/v1/sync/pull";
pub const PACKAGE: &str = "/api/v1/courses/{course_id}/{version}/package";

pub fn router() -> Router<Arc<Hub>> {
    // Push and pull answers are gzipped for clients that ask (a result per
    // event, the feed's events: most of the bytes of a sync on a slow link).
    // Package downloads are not: byte ranges must count the file's bytes.
    let compressed = Router::new()
        .route(PUSH, post(push))
        .route(PULL, get(pull))
        .layer(tower_http::compression::CompressionLayer::new().gzip(true));
    Router::new()
        .route(PING, get(ping))
        .route(ENROLL, post(enroll))
        .merge(compressed)
        .route(PACKAGE, get(package))
}

/// Read a body, refusing it past `max` bytes with a JSON reason.
pub async fn read_body(body: Body, max: usize) -> HubResult<Bytes> {
    axum::body::to_bytes(body, max).await.map_err(|e| {
        // axum reports the limit only in words.
        let text = format!("{e} {:?}", std::error::Error::source(&e));
        if text.contains("length limit") {
            HubError::TooLarge(format!(
                "the body is larger than the {max} bytes allowed here"
            ))
        } else {
            HubError::BadRequest(format!("the body could not be read: {e}"))
        }
    })
}

/// Parse JSON with a reason that says where it went wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> HubResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| HubError::BadRequest(format!("the body is not a valid request: {e}")))
}

/// Decompress gzip, stopping (and refusing) as soon as the output passes
/// `max` bytes: a small bomb never grows in memory.
pub fn gunzip_limited(data: &[u8], max: usize) -> HubResult<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| HubError::BadRequest(format!("the body is not valid gzip: {e}")))?;
    if out.len() > max {
        return Err(HubError::TooLarge(format!(
            "the body decompresses to more than the {max} bytes allowed"
        )));
    }
    Ok(out)
}

async fn ping() -> Json<Ping> {
    Json(Ping {
        protocol: PROTOCOL_VERSION,
        hub_time: chrono::Utc::now(),
    })
}

async fn enroll(State(hub): State<Arc<Hub>>, body: Body) -> HubResult<Response> {
    let bytes = read_body(body, MAX_JSON_BODY_BYTES).await?;
    let req: EnrollRequest = parse_json(&bytes)?;
    let res = hub.enroll(req).await?;
    Ok((StatusCode::OK, Json(res)).into_response())
}

async fn push(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Body) -> HubResult<Response> {
    let caller = hub.authenticate(bearer(&headers)?).await?;
    let gzip = match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => {
            return Err(HubError::UnsupportedMediaType(format!(
                "Content-Encoding {other:?} is not supported; send gzip or plain JSON"
            )))
        }
    };
    let bytes = read_body(body, hub.config.push_compressed_max).await?;
    let max = hub.config.push_decompressed_max;
    let req: PushRequest = tokio::task::spawn_blocking(move || {
        if gzip {
            parse_json(&gunzip_limited(&bytes, max)?)
        } else if bytes.len() > max {
            Err(HubError::TooLarge(format!(
                "the body is larger than the {max} bytes allowed"
            )))
        } else {
            parse_json(&bytes)
        }
    })
    .await
    .map_err(|e| HubError::Internal(e.to_string()))??;
    let res = hub.push(&caller, req).await?;
    Ok(Json(res).into_response())
}

#[derive(serde::Deserialize)]
struct PullQuery {
    cursor: Option<String>,
    limit: Option<String>,
}

async fn pull(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> HubResult<Response> {
    let caller = hub.authenticate(bearer(&headers)?).await?;
    let limit = q
        .limit
        .as_deref()
        .map(|l| {
            l.parse::<u32>()
                .map_err(|_| HubError::BadRequest(format!("limit {l:?} is not a whole number")))
        })
        .transpose()?;
    let res = hub.pull(&caller, q.cursor.as_deref(), limit).await?;
    Ok(Json(res).into_response())
}

/// A `Range` that lies outside the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A byte range to send: `Some((first, last))` inclusive; `None` for the
/// whole file; an error for a range outside the file.
pub fn parse_range(header: &str, size: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        // Several ranges: we may answer with the whole file instead.
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 || size == 0 {
            return Err(Unsatisfiable);
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start: u64 = a.parse().map_err(|_| Unsatisfiable)?;
        let end: u64 = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .min(size.saturating_sub(1))
        };
        if start >= size || end < start {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

async fn package(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((course_id, version)): Path<(String, String)>,
) -> HubResult<Response> {
    hub.authenticate(bearer(&headers)?).await?;
    let info = hub.package(&course_id, &version).await?;
    let etag = format!("\"{}\"", info.sha256);
    let size = info.size;
    let mut base = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, "application/vnd.outpost.package")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{course_id}-{version}.opkg\""),
        );
    let header_str = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    if header_str(header::IF_NONE_MATCH).is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        return base
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|e| HubError::Internal(e.to_string()));
    }
    // If-Range: only resume a download of these same bytes.
    let range_applies = header_str(header::IF_RANGE).is_none_or(|v| v.trim() == etag);
    let range = match header_str(header::RANGE).filter(|_| range_applies) {
        None => None,
        Some(r) => match parse_range(r, size) {
            Ok(r) => r,
            Err(Unsatisfiable) => {
                let mut res = HubError::RangeNotSatisfiable(format!(
                    "the range {r:?} is outside the package's {size} bytes"
                ))
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    res.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(res);
            }
        },
    };
    let (status, start, len) = match range {
        Some((a, b)) => {
            base = base.header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{size}"));
            (StatusCode::PARTIAL_CONTENT, a, b - a + 1)
        }
        None => (StatusCode::OK, 0, size),
    };
    let bytes = if len == 0 {
        Vec::new()
    } else {
        hub.package_bytes(&course_id, &version, start, len).await?
    };
    base.status(status)
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(Body::from(bytes))
        .map_err(|e| HubError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Ok(Some((0, 99))));
        assert_eq!(parse_range("bytes=500-", 1000), Ok(Some((500, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Ok(Some((900, 999))));
        assert_eq!(parse_range("bytes=900-5000", 1000), Ok(Some((900, 999))));
        assert_eq!(parse_range("bytes=1000-", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=5-2", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ok(None));
        assert_eq!(parse_range("items=0-1", 1000), Ok(None));
    }

    #[test]
    fn gzip_bombs_stop_at_the_limit() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b' '; 10 * 1024 * 1024]).unwrap();
        let bomb = enc.finish().unwrap();
        assert!(bomb.len() < 64 * 1024);
        let err = gunzip_limited(&bomb, 1024 * 1024).unwrap_err();
        assert!(matches!(err, HubError::TooLarge(_)), "{err}");
        assert!(matches!(
            gunzip_limited(b"not gzip", 100).unwrap_err(),
            HubError::BadRequest(_)
        ));
    }
}
