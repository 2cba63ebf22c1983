//! The credentials a request carries: the staff session and returns-portal
//! cookies, the bearer token, and the actor they name. Kept apart from the
//! access rules (`auth`), which read the route declarations: the handlers
//! need credentials too, and must not import the rules that import them.

use app::ssr::AppState;
use axum::http::{header, HeaderMap};
use backend::{governance, Actor};

pub const SESSION_COOKIE: &str = "keel_session";
/// The returns portal's session: one order, for a shopper.
pub const PORTAL_COOKIE: &str = "keel_portal";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The actor a request's credentials name now: a bearer token, else the
/// session cookie, else anonymous.
pub(crate) async fn actor_for(state: &AppState, headers: &HeaderMap) -> Actor {
    let now = chrono::Utc::now().timestamp_micros();
    let found = if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        governance::token_actor(&state.db, bearer.trim()).await
    } else if let Some(secret) = cookie(headers, SESSION_COOKIE) {
        governance::session_actor(&state.db, secret, now).await
    } else {
        Ok(None)
    };
    match found {
        Ok(actor) => actor.unwrap_or_else(Actor::anonymous),
        Err(e) => {
            tracing::error!(error = %e, "could not resolve credentials");
            Actor::anonymous()
        }
    }
}
