//! The HTTP surface: `/api/v1`, the form handlers, health and metrics, and the
//! Leptos pages and server functions, behind request ids, tracing, metrics,
//! authentication and the access guard.

pub mod api;
pub mod auth;
pub mod declare;
pub mod error;
pub mod extract;
pub mod forms;

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
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub fn router(state: AppState) -> Router {
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
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(observe))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let res = next.run(req).await;
    crate::metrics().observe(res.status().as_u16(), started.elapsed().as_micros() as u64);
    res
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let seq = *state.db.subscribe_events().borrow();
    let body = crate::metrics().render(seq, state.db.pool.size(), state.db.pool.num_idle());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
