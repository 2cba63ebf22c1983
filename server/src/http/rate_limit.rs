//! Request rates, counted in memory per caller with `governor` (GCRA):
//!
//! - the API, per credential: each bearer token, or each browser session
//!   calling it with its cookie;
//! - the API without a credential, and the webhooks (whose signature is
//!   checked only inside), per client address;
//! - sign-in, per client address, before any password is hashed.
//!
//! A caller over its rate gets 429 with `Retry-After` and nothing runs. The
//! throttles in the use cases (failed sign-ins per account, portal lookups)
//! stay: they count outcomes in the database and hold across instances, while
//! this layer bounds the work one caller can ask of one instance.

use std::{
    num::NonZeroU32,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{Html, IntoResponse, Response},
    Extension,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::{credentials, error::ApiError};

/// The quota of each door, per caller; `None` is no limit (the benchmarks
/// measure throughput, not the limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// API calls per token or session.
    pub per_credential: Option<Quota>,
    /// API calls without a credential and webhook deliveries, per client address.
    pub per_address: Option<Quota>,
    /// Sign-in posts per client address.
    pub sign_in: Option<Quota>,
}

/// The defaults: well above what a storefront, a marketplace connector or a
/// person sends, and far below what it takes to starve an instance.
pub const DEFAULT_PER_CREDENTIAL: u32 = 100;
pub const DEFAULT_PER_ADDRESS: u32 = 50;
pub const DEFAULT_SIGN_INS_PER_MINUTE: u32 = 60;

impl RateLimits {
    pub const OFF: RateLimits = RateLimits {
        per_credential: None,
        per_address: None,
        sign_in: None,
    };

    /// From the config's numbers (0 is no limit): API calls per second with a
    /// burst of twice that, sign-ins per minute with a burst of half a minute's.
    pub fn from_rates(per_credential: u32, per_address: u32, sign_ins_per_minute: u32) -> Self {
        let per_second = |n: u32| {
            let rate = NonZeroU32::new(n)?;
            Some(
                Quota::per_second(rate)
                    .allow_burst(NonZeroU32::new(n.saturating_mul(2)).unwrap_or(rate)),
            )
        };
        let per_minute = |n: u32| {
            let rate = NonZeroU32::new(n)?;
            Some(
                Quota::per_minute(rate)
                    .allow_burst(NonZeroU32::new(n / 2).unwrap_or(NonZeroU32::MIN)),
            )
        };
        Self {
            per_credential: per_second(per_credential),
            per_address: per_second(per_address),
            sign_in: per_minute(sign_ins_per_minute),
        }
    }
}

/// The limiters of one router. Keys are hashes, never a secret itself.
pub struct Limiters {
    credential: Option<DefaultKeyedRateLimiter<String>>,
    address: Option<DefaultKeyedRateLimiter<String>>,
    sign_in: Option<DefaultKeyedRateLimiter<String>>,
    /// Checks since the idle keys were last dropped.
    checks: AtomicU64,
}

/// Every this many checks, keys whose state is back to full are forgotten,
/// so a flood of distinct addresses can't grow the maps without bound.
const PRUNE_EVERY: u64 = 4096;

impl Limiters {
    pub fn new(limits: RateLimits) -> Arc<Self> {
        Arc::new(Self {
            credential: limits.per_credential.map(RateLimiter::keyed),
            address: limits.per_address.map(RateLimiter::keyed),
            sign_in: limits.sign_in.map(RateLimiter::keyed),
            checks: AtomicU64::new(0),
        })
    }

    /// `Some(seconds to wait)` when the caller is over its rate.
    fn over(&self, limiter: &Option<DefaultKeyedRateLimiter<String>>, key: String) -> Option<u64> {
        let limiter = limiter.as_ref()?;
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            for l in [&self.credential, &self.address, &self.sign_in]
                .into_iter()
                .flatten()
            {
                l.retain_recent();
            }
        }
        limiter.check_key(&key).err().map(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

fn digest(secret: &str) -> String {
    hex::encode(&Sha256::digest(secret.as_bytes())[..16])
}

/// Which door a request comes through, for the limiter that counts it.
enum Door {
    Api,
    Webhook,
    SignIn,
    Unlimited,
}

fn door(method: &Method, path: &str) -> Door {
    if path.starts_with("/api/v1/") {
        Door::Api
    } else if path.starts_with("/webhooks/") {
        Door::Webhook
    } else if method == Method::POST && path == "/signin" {
        Door::SignIn
    } else {
        Door::Unlimited
    }
}

/// The credential a request carries, hashed: a bearer token or a session.
fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(format!("token:{}", digest(bearer.trim())));
    }
    credentials::cookie(headers, credentials::SESSION_COOKIE)
        .map(|s| format!("session:{}", digest(s)))
}

pub async fn layer(
    State(limiters): State<Arc<Limiters>>,
    connect: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    req: Request,
    next: Next,
) -> Response {
    let door = door(req.method(), req.uri().path());
    // In a block of its own: the closure borrows the request, and a borrow
    // held across the await below would make the future not `Send`.
    let wait = {
        let address = || {
            format!(
                "address:{}",
                super::forms::common::remote(connect, req.headers())
            )
        };
        match door {
            Door::Api => match credential(req.headers()) {
                Some(key) => limiters.over(&limiters.credential, key),
                None => limiters.over(&limiters.address, address()),
            },
            Door::Webhook => limiters.over(&limiters.address, address()),
            Door::SignIn => limiters.over(&limiters.sign_in, address()),
            Door::Unlimited => None,
        }
    };
    let Some(secs) = wait else {
        return next.run(req).await;
    };
    let secs = secs.max(1);
    let mut res = match door {
        Door::SignIn => (
            StatusCode::TOO_MANY_REQUESTS,
            Html(format!(
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too many sign-ins · Keel</title></head>\
                 <body><main><h1>Too many sign-ins from your address</h1><p>Wait {secs} s, then <a href=\"/signin\">sign in again</a>.</p></main></body></html>"
            )),
        )
            .into_response(),
        _ => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from this caller; try again in {secs} s"),
        )
        .into_response(),
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    res
}
