//! The hub's HTTP API as typed calls (see `docs/sync-protocol.md`). One
//! request per call, no retries here: the callers decide what to try again.

use crate::error::SyncError;
use outpost_protocol::{ErrorBody, ErrorCode};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// One failed request: the error, and how long the hub asked us to wait.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub error: SyncError,
    pub retry_after: Option<Duration>,
    /// The hub answered 413: the batch must shrink.
    pub too_large: bool,
    /// The hub answered 400 `bad_request`. For a push this is also what a
    /// body cut on the way looks like to the hub, so it is retried.
    pub bad_request: bool,
}

impl Failure {
    fn of(error: SyncError) -> Failure {
        Failure {
            error,
            retry_after: None,
            too_large: false,
            bad_request: false,
        }
    }

    pub fn transient(&self) -> bool {
        self.error.is_transient() || self.bad_request || self.too_large
    }
}

impl From<SyncError> for Failure {
    fn from(e: SyncError) -> Self {
        Failure::of(e)
    }
}

/// A hub URL as given by a person: trimmed, `http(s)://` required, no
/// trailing slash (paths are appended to it).
pub fn normalise_hub_url(url: &str) -> Result<String, SyncError> {
    let url = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        SyncError::BadInput(format!(
            "{url:?} is not a hub address ({e}); give it as https://hub.example.org"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(SyncError::BadInput(format!(
            "{url:?} is not a hub address: it must start with https:// (or http:// on a local network)"
        )));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(SyncError::BadInput(format!(
            "{url:?} is not a hub address: remove the part after ? or #"
        )));
    }
    Ok(url.to_string())
}

/// The transport error in words, without the request's headers (reqwest
/// never prints them; the URL carries no secret).
pub(crate) fn transport(hub: &str, e: &reqwest::Error) -> SyncError {
    let detail = if e.is_timeout() {
        "no answer in time (the link may be very slow or down)".to_string()
    } else if e.is_connect() {
        format!("no connection ({})", root_cause(e))
    } else {
        format!("the connection failed ({})", root_cause(e))
    };
    SyncError::Unreachable {
        hub: hub.to_string(),
        detail,
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Send `req` and read its whole answer: the body of a 2xx as `T`, or the
/// hub's error. `received` counts the answer's bytes.
pub(crate) async fn call<T: DeserializeOwned>(
    hub: &str,
    req: reqwest::RequestBuilder,
    received: &mut u64,
) -> Result<T, Failure> {
    let res = req.send().await.map_err(|e| transport(hub, &e))?;
    let status = res.status();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // A cut in the middle of the body is a transport failure like any other.
    let body = res.bytes().await.map_err(|e| transport(hub, &e))?;
    *received += body.len() as u64;
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| SyncError::Protocol(format!("{e}")).into());
    }
    Err(error_answer(status, &body, retry_after))
}

pub(crate) fn error_answer(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Failure {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let (code, reason) = match &parsed {
        Some(b) => (Some(b.error), b.reason.clone()),
        None => (
            None,
            status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_string(),
        ),
    };
    let code_text = match code {
        Some(c) => serde_json::to_value(c)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        None => "http".to_string(),
    };
    let error = match (status, code) {
        (_, Some(ErrorCode::UnsupportedProtocol)) => SyncError::UnsupportedProtocol { reason },
        (StatusCode::UNAUTHORIZED, _) => SyncError::NotAuthorized { reason },
        _ => SyncError::Refused {
            status: status.as_u16(),
            code: code_text,
            reason,
        },
    };
    Failure {
        error,
        retry_after,
        too_large: status == StatusCode::PAYLOAD_TOO_LARGE,
        bad_request: status == StatusCode::BAD_REQUEST
            && code.is_none_or(|c| c == ErrorCode::BadRequest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls_are_checked_and_tidied() {
        assert_eq!(
            normalise_hub_url(" https://hub.example.org/ ").unwrap(),
            "https://hub.example.org"
        );
        assert_eq!(
            normalise_hub_url("http://10.0.0.5:8470/outpost").unwrap(),
            "http://10.0.0.5:8470/outpost"
        );
        for bad in [
            "hub.example.org",
            "ftp://hub",
            "https://",
            "https://h/?x=1",
            "",
        ] {
            assert!(
                matches!(normalise_hub_url(bad), Err(SyncError::BadInput(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hub_errors_become_words_and_decisions() {
        let body = |code: &str, reason: &str| {
            serde_json::to_vec(&serde_json::json!({"error": code, "reason": reason})).unwrap()
        };
        let f = error_answer(
            StatusCode::UNAUTHORIZED,
            &body("revoked", "device x was revoked"),
            None,
        );
        assert!(
            matches!(&f.error, SyncError::NotAuthorized { reason } if reason.contains("revoked"))
        );
        assert!(!f.transient());
        let f = error_answer(
            StatusCode::BAD_REQUEST,
            &body("unsupported_protocol", "speaks 2"),
            None,
        );
        assert!(matches!(f.error, SyncError::UnsupportedProtocol { .. }));
        assert!(!f.transient());
        let f = error_answer(
            StatusCode::TOO_MANY_REQUESTS,
            &body("rate_limited", "slow down"),
            Some(Duration::from_secs(3)),
        );
        assert!(f.transient());
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        let f = error_answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            &body("payload_too_large", "big"),
            None,
        );
        assert!(f.too_large && f.transient());
        let f = error_answer(StatusCode::BAD_GATEWAY, b"<html>proxy</html>", None);
        assert!(f.transient());
        assert_eq!(
            f.error.to_string(),
            "the hub refused the request (502 http): Bad Gateway"
        );
        let f = error_answer(
            StatusCode::FORBIDDEN,
            &body("invalid_code", "used up"),
            None,
        );
        assert!(!f.transient());
        assert!(f.error.to_string().contains("used up"));
    }
}
