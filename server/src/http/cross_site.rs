//! The one guard against cross-site requests. A browser attaches Keel's
//! cookies (the staff session, the portal session) to any request a page on
//! another site makes it send, so every state change a cookie authorizes
//! must show it came from Keel's own pages:
//! - `Sec-Fetch-Site: same-origin` where the browser sends it (every current
//!   one, over HTTPS and on localhost);
//! - else an `Origin` naming this host (browsers send it on every POST);
//! - else, for scripts that hold a session cookie and send neither, the
//!   `X-CSRF-Token` header with the value of the `keel_csrf` cookie set at
//!   sign-in (another site can't read it).
//!
//! Forms, server functions and pages always need that proof. API routes and
//! webhooks need it only when a cookie is the credential: a bearer token or a
//! signature is never attached by a browser on its own.

use axum::{
    extract::Request,
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::credentials::{cookie, PORTAL_COOKIE, SESSION_COOKIE};

/// The cookie scripts read the token from, and the header they send it in.
pub const CSRF_COOKIE: &str = "keel_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Why a request was refused, in words for the person or integrator.
const REFUSED: &str = "this request came from another site, or didn't say where it came from; \
     Keel refuses it to protect your account (reload the page and try again; a script using a \
     session cookie sends the keel_csrf cookie's value as X-CSRF-Token)";

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Refuse,
}

/// The guard's decision, from the method, path and headers alone.
pub fn verdict(method: &Method, path: &str, headers: &HeaderMap) -> Verdict {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Verdict::Allow;
    }
    let bearer = headers.contains_key(header::AUTHORIZATION);
    let session = cookie(headers, SESSION_COOKIE);
    let has_cookie = session.is_some() || cookie(headers, PORTAL_COOKIE).is_some();
    let says_where = headers.contains_key("sec-fetch-site") || headers.contains_key(header::ORIGIN);
    let machine_door = path.starts_with("/api/") || path.starts_with("/webhooks/");
    if machine_door && (bearer || !has_cookie) {
        return Verdict::Allow;
    }
    // A script with a bearer token on a page door: nothing ambient to abuse.
    if !machine_door && bearer && !says_where {
        return Verdict::Allow;
    }
    if let Some(site) = header_text(headers, "sec-fetch-site") {
        return if site == "same-origin" {
            Verdict::Allow
        } else {
            Verdict::Refuse
        };
    }
    if let Some(origin) = header_text(headers, header::ORIGIN.as_str()) {
        let host = header_text(headers, header::HOST.as_str()).unwrap_or_default();
        let named = origin.split_once("://").map(|(_, h)| h);
        return if named.is_some_and(|h| !host.is_empty() && h.eq_ignore_ascii_case(host)) {
            Verdict::Allow
        } else {
            Verdict::Refuse
        };
    }
    let token = header_text(headers, CSRF_HEADER);
    match (session, token) {
        (Some(secret), Some(token)) if backend::governance::csrf_token_matches(secret, token) => {
            Verdict::Allow
        }
        _ => Verdict::Refuse,
    }
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The layer: refused requests never reach a handler or a server function.
pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if verdict(req.method(), &path, req.headers()) == Verdict::Allow {
        return next.run(req).await;
    }
    tracing::warn!(path, "cross-site request refused");
    if path.starts_with("/api/") || path.starts_with("/sfn/") || path.starts_with("/webhooks/") {
        return super::error::ApiError::new(StatusCode::FORBIDDEN, "cross_site_request", REFUSED)
            .into_response();
    }
    (StatusCode::FORBIDDEN, REFUSED).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("keel.example"));
        for (k, v) in pairs {
            h.insert(
                *k,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("x")),
            );
        }
        h
    }

    const POST: Method = Method::POST;

    #[test]
    fn cookie_authorized_changes_must_come_from_our_own_pages() {
        let session = ("cookie", "keel_session=s3cret");
        for path in [
            "/command/users",
            "/sfn/queued_scan",
            "/api/v1/order-reports",
            "/portal",
        ] {
            // The admin's cookie, sent by a page on another site.
            for evil in [
                vec![session, ("origin", "https://evil.example")],
                vec![session, ("sec-fetch-site", "cross-site")],
                vec![
                    session,
                    ("sec-fetch-site", "same-site"),
                    ("origin", "https://keel.example"),
                ],
                vec![session, ("origin", "null")],
                vec![session],
                vec![session, (CSRF_HEADER, "guess")],
            ] {
                assert_eq!(
                    verdict(&POST, path, &headers(&evil)),
                    Verdict::Refuse,
                    "{path} {evil:?}"
                );
            }
            for ours in [
                vec![session, ("origin", "https://keel.example")],
                vec![
                    session,
                    ("sec-fetch-site", "same-origin"),
                    ("origin", "https://keel.example"),
                ],
                vec![session, ("sec-fetch-site", "same-origin")],
            ] {
                assert_eq!(
                    verdict(&POST, path, &headers(&ours)),
                    Verdict::Allow,
                    "{path} {ours:?}"
                );
            }
            let token = backend::governance::csrf_token("s3cret");
            assert_eq!(
                verdict(&POST, path, &headers(&[session, (CSRF_HEADER, &token)])),
                Verdict::Allow
            );
        }
        // A form with no cookie yet (sign-in, the portal) needs it too.
        assert_eq!(verdict(&POST, "/signin", &headers(&[])), Verdict::Refuse);
        // The portal's cookie is a credential like the staff one.
        let portal = ("cookie", "keel_portal=p");
        assert_eq!(
            verdict(&POST, "/portal/done", &headers(&[portal])),
            Verdict::Refuse
        );
    }

    #[test]
    fn machines_with_their_own_credentials_and_reads_pass() {
        let bearer = ("authorization", "Bearer t");
        assert_eq!(
            verdict(&POST, "/api/v1/orders", &headers(&[bearer])),
            Verdict::Allow
        );
        assert_eq!(
            verdict(
                &POST,
                "/api/v1/orders",
                &headers(&[bearer, ("origin", "https://evil.example")])
            ),
            Verdict::Allow
        );
        assert_eq!(
            verdict(&POST, "/webhooks/shopify/WEB", &headers(&[])),
            Verdict::Allow
        );
        assert_eq!(
            verdict(&POST, "/sfn/orders_page", &headers(&[bearer])),
            Verdict::Allow
        );
        // A browser naming another site is refused on page doors, bearer or not.
        assert_eq!(
            verdict(
                &POST,
                "/command/users",
                &headers(&[bearer, ("origin", "https://evil.example")])
            ),
            Verdict::Refuse
        );
        for m in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert_eq!(
                verdict(
                    &m,
                    "/command",
                    &headers(&[
                        ("cookie", "keel_session=s"),
                        ("origin", "https://evil.example")
                    ])
                ),
                Verdict::Allow
            );
        }
        // DELETE and PUT with a cookie are state changes too.
        assert_eq!(
            verdict(
                &Method::DELETE,
                "/api/v1/tokens/x",
                &headers(&[("cookie", "keel_session=s")])
            ),
            Verdict::Refuse
        );
    }
}
