//! The HTTP surface: `/api/v1`, the form handlers, health and metrics, and the
//! Leptos pages and server functions, behind request ids, tracing, metrics,
//! authentication and the access guard.

pub mod api;
pub mod auth;
pub mod credentials;
pub mod cross_site;
pub mod declare;
pub mod error;
pub mod extract;
pub mod forms;
pub mod messages;
pub mod rate_limit;

use std::time::Instant;

use app::{shell, ssr::AppState, App};
use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::RequestBodyTimeoutLayer,
    trace::TraceLayer,
};

/// The whole HTTP surface over `state`, with its own rate limiters.
pub fn router(state: AppState, limits: rate_limit::RateLimits) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let api = declare::router(&api::ROUTES, "/api/v1").fallback(|| async {
        error::ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such API route; see /api/v1/openapi.json",
        )
    });

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api)
        .nest("/webhooks", declare::router(&api::ROUTES, "/webhooks"))
        .merge(forms::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .leptos_routes_with_context(&state, routes, { let s = state.clone(); move || provide_context(s.clone()) }, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(auth::guard))
        .layer(middleware::from_fn(cross_site::guard))
        .layer(middleware::from_fn(server_fn_body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        // Before anything reads a credential or a body: a caller over its
        // rate costs a map lookup.
        .layer(middleware::from_fn_with_state(
            rate_limit::Limiters::new(limits),
            rate_limit::layer,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), messages::layer))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        // A body that trickles in is cut off: a slow client can't hold a
        // connection and its buffers open for as long as it likes.
        .layer(RequestBodyTimeoutLayer::new(extract::BODY_TIMEOUT))
        .layer(CompressionLayer::new())
        // Inside `observe`, so a panic counts as the 500 it is answered with.
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(observe))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        // Outermost: the id is always Keel's own, so a client can't write
        // text of its choosing into the audit log as a request id.
        .layer(middleware::map_request(|mut req: Request| async move {
            req.headers_mut().remove("x-request-id");
            req
        }))
        .layer(middleware::map_response(security_headers))
        .with_state(state)
}

/// Server functions read their body themselves, past axum's extractor limit:
/// a declared length over the limit is a 413 at once, and a body that turns
/// out longer is cut off there (the function answers 413 too, see
/// `app::problem`), so nobody can make Keel buffer gigabytes.
async fn server_fn_body_limit(req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/sfn/") {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > extract::BODY_LIMIT as u64) {
        return error::ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {} bytes", extract::BODY_LIMIT),
        )
        .into_response();
    }
    let req = req
        .map(|body| axum::body::Body::new(http_body_util::Limited::new(body, extract::BODY_LIMIT)));
    next.run(req).await
}

/// Headers every answer carries: no framing by other sites, no MIME
/// sniffing, no full URLs in referrers, and a content policy that loads
/// nothing from elsewhere. Scripts may be inline because Leptos hydrates
/// from an inline module script; `wasm-unsafe-eval` lets the client's
/// WebAssembly compile.
async fn security_headers(mut res: Response) -> Response {
    const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
        style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
        frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        if !h.contains_key(&name) {
            h.insert(name, header::HeaderValue::from_static(value));
        }
    }
    res
}

async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let res = next.run(req).await;
    crate::metrics().observe(res.status().as_u16(), started.elapsed().as_micros() as u64);
    res
}

/// A handler panicked: a bug, since input never may panic a request. The
/// caller still gets an answer (the same 500 as any internal error), the
/// panic is logged with the request's span and counted on `/metrics`.
fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "request handler panicked");
    crate::metrics()
        .panics
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    error::ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on our side; it has been logged",
    )
    .into_response()
}

/// Ready means the database answers and takes a write (a full disk or a
/// read-only file still reads). Not ready answers 503 with `Retry-After`.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.probe_write().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            let mut res = (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response();
            res.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from(backend::error::UNAVAILABLE_RETRY_SECS),
            );
            res
        }
    }
}

async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let wanted = crate::METRICS_TOKEN.read().ok().and_then(|t| t.clone());
    if let Some(wanted) = wanted {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compared as digests, so the time taken says nothing about the token.
        use sha2::{Digest, Sha256};
        if Sha256::digest(given.trim().as_bytes()) != Sha256::digest(wanted.trim().as_bytes()) {
            return error::ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send the metrics token as Authorization: Bearer",
            )
            .into_response();
        }
    }
    let seq = *state.db.subscribe_events().borrow();
    let body = crate::metrics().render(seq, state.db.pool.size(), state.db.pool.num_idle());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[cfg(test)]
mod tests {
    // A test fails by panicking: unwrapping is how it says what went wrong.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use std::sync::atomic::Ordering;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_and_counted() {
        let app: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    let cut = "01€€€€€";
                    // What the GS1 reader did before #19.
                    cut.get(..16)
                        .map(str::len)
                        .unwrap_or_else(|| panic!("sliced mid-character"))
                        .to_string()
                }),
            )
            .layer(CatchPanicLayer::custom(panicked));
        let before = crate::metrics().panics.load(Ordering::Relaxed);
        let res = app
            .oneshot(Request::builder().uri("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = res.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(crate::metrics().panics.load(Ordering::Relaxed), before + 1);
    }
}
