//! Messages in addresses are Keel's own (`backend::governance::messages`):
//! every redirect Keel answers with that carries a notice or an error gets
//! their signature, and a page asked for with messages that aren't signed is
//! sent to the same address without them, so nobody can write on Keel's
//! pages with a link.

use std::sync::OnceLock;

use app::ssr::AppState;
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use backend::governance::messages::{
    is_message_param, message_key, sign_messages, SIGNATURE_PARAM,
};

/// The process's copy of the key, loaded from the database on the first
/// request that finds it reachable.
static KEY: OnceLock<Vec<u8>> = OnceLock::new();

async fn key(state: &AppState) -> Option<&'static [u8]> {
    if let Some(k) = KEY.get() {
        return Some(k);
    }
    match message_key(&state.db).await {
        Ok(k) => Some(KEY.get_or_init(|| k)),
        Err(e) => {
            tracing::warn!(error = %e, "the message key could not be loaded");
            None
        }
    }
}

fn pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

/// Paths whose answer is a page a person reads.
fn is_page(path: &str) -> bool {
    ![
        "/api/",
        "/sfn/",
        "/webhooks/",
        "/pkg/",
        "/healthz",
        "/readyz",
        "/metrics",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// The address with its messages and signature taken out.
fn without_messages(path: &str, pairs: &[(String, String)]) -> String {
    let kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !is_message_param(k) && k != SIGNATURE_PARAM)
        .collect();
    if kept.is_empty() {
        return path.to_string();
    }
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    format!("{path}?{query}")
}

/// A local address with any messages taken out: for addresses that come
/// from outside (sign-in's `next`), which Keel redirects to and so would sign.
pub fn strip_messages(location: &str) -> String {
    match location.split_once('?') {
        Some((path, query)) => without_messages(path, &pairs(query)),
        None => location.to_string(),
    }
}

/// Whether an address carries messages that its signature covers.
fn signed(key: &[u8], path: &str, pairs: &[(String, String)]) -> bool {
    let given = pairs
        .iter()
        .find(|(k, _)| k == SIGNATURE_PARAM)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let want = sign_messages(key, path, pairs);
    // Compared as digests: the time taken says nothing about a near miss.
    use sha2::{Digest, Sha256};
    !given.is_empty() && Sha256::digest(given) == Sha256::digest(want)
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let key = key(&state).await;
    let (path, query) = (
        req.uri().path().to_string(),
        req.uri().query().unwrap_or("").to_string(),
    );
    if req.method() == Method::GET && is_page(&path) && !query.is_empty() {
        let pairs = pairs(&query);
        let has_messages = pairs.iter().any(|(k, _)| is_message_param(k));
        if has_messages && !key.is_some_and(|k| signed(k, &path, &pairs)) {
            return Redirect::to(&without_messages(&path, &pairs)).into_response();
        }
    }
    let mut res = next.run(req).await;
    if let (Some(key), true) = (key, res.status().is_redirection()) {
        sign_location(key, &mut res);
    }
    res
}

/// Adds the signature to a redirect to one of Keel's pages with messages.
fn sign_location(key: &[u8], res: &mut Response) {
    let Some(location) = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    if !location.starts_with('/') || location.starts_with("//") {
        return;
    }
    let (path, query) = location.split_once('?').unwrap_or((location, ""));
    let pairs = pairs(query);
    if !pairs.iter().any(|(k, _)| is_message_param(k)) {
        return;
    }
    let signed = format!(
        "{location}&{SIGNATURE_PARAM}={}",
        sign_messages(key, path, &pairs)
    );
    if let Ok(v) = HeaderValue::from_str(&signed) {
        res.headers_mut().insert(header::LOCATION, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Vec<(String, String)> {
        pairs(q)
    }

    #[test]
    fn only_signed_messages_stay_in_a_pages_address() {
        let key = b"a key for tests 1";
        let mut res = Redirect::to("/command/users?notice=Saved%20ann&q=x").into_response();
        sign_location(key, &mut res);
        let location = res.headers()[header::LOCATION]
            .to_str()
            .unwrap_or_default()
            .to_string();
        let (path, query) = location.split_once('?').unwrap_or_default();
        assert!(signed(key, path, &p(query)), "{location}");
        // Changed text, another page, or no signature: not Keel's.
        let forged = query.replace("Saved%20ann", "Call%20us");
        assert!(!signed(key, path, &p(&forged)));
        assert!(!signed(key, "/command", &p(query)));
        assert!(!signed(key, path, &p("notice=Saved%20ann&q=x")));
        // Unsigned messages are dropped; the rest of the address stays.
        assert_eq!(
            without_messages(
                "/command/users",
                &p("q=x&error=Call%20us&error_name=y&m=00")
            ),
            "/command/users?q=x"
        );
        assert_eq!(without_messages("/command", &p("error=x")), "/command");
        // A redirect elsewhere, or without messages, is left alone.
        for to in ["https://evil.example/?error=x", "/command?q=1"] {
            let mut res = Redirect::to(to).into_response();
            sign_location(key, &mut res);
            assert_eq!(res.headers()[header::LOCATION], to);
        }
    }
}
