//! A simple per-client rate limit: a token bucket per device token, xAPI
//! key or, for anonymous requests, per IP address.
//!
//! The buckets live in each instance's memory. That is no shared state a
//! client could notice beyond the limit itself: with N instances a client
//! gets at most N times the rate, which is what the limit is for (to stop a
//! runaway client, not to meter anyone exactly).

use crate::error::HubError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub struct Limiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Limiter {
    pub fn new(per_second: f64, burst: f64) -> Arc<Limiter> {
        Arc::new(Limiter {
            per_second,
            burst: burst.max(1.0),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Take one token for `key`; when none is left, the seconds to wait.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() > 100_000 {
            // Forget clients that have been quiet long enough to be full.
            let full = self.burst / self.per_second.max(f64::MIN_POSITIVE);
            map.retain(|_, (_, t)| now.duration_since(*t).as_secs_f64() < full);
        }
        let (tokens, last) = map.entry(key.to_string()).or_insert((self.burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.per_second;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / self.per_second.max(f64::MIN_POSITIVE);
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

fn client_key(req: &Request) -> String {
    if let Some(auth) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        // The credential itself is never kept: a prefix of its hash is.
        let digest = crate::hub::sha256_hex(auth.as_bytes());
        return format!("auth:{}", &digest[..32]);
    }
    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".into(),
    }
}

pub async fn middleware(State(limiter): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/healthz" {
        return next.run(req).await;
    }
    match limiter.check(&client_key(&req), Instant::now()) {
        Ok(()) => next.run(req).await,
        Err(retry_after) => HubError::RateLimited { retry_after }.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_empties_and_refills() {
        let l = Limiter::new(2.0, 3.0);
        let t = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check("a", t), Ok(()));
        }
        assert!(l.check("a", t).is_err());
        assert_eq!(l.check("b", t), Ok(()), "other clients are not affected");
        assert_eq!(l.check("a", t + Duration::from_millis(600)), Ok(()));
    }
}
