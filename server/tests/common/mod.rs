//! Helpers the HTTP test files share: the router over a test database, API
//! tokens per role, and a JSON call through the router.

#![allow(dead_code)] // each test file uses its own subset

use axum::{body::Body, http::Request, Router};
use backend::{governance, Ctx, Db};
use domain::governance::{Role, Scope};
use http_body_util::BodyExt;
use serde_json::Value;
use server::Config;
use tower::ServiceExt;

pub fn app(db: &Db) -> Router {
    // The rate limits have their own test (`http_limits`); here one token
    // stands for many callers.
    server::http::router(
        server::app_state(&Config::default(), db.clone()),
        server::http::rate_limit::RateLimits::OFF,
    )
}

pub async fn token(db: &Db, role: Role) -> String {
    governance::create_token(
        db,
        &Ctx::system("test"),
        "t",
        role.as_str(),
        Scope::default(),
    )
    .await
    .unwrap()
    .secret
}

pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    bearer: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {bearer}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// A GET without credentials, answered as text (`/metrics`, `/readyz`).
pub async fn text(app: &Router, path: &str) -> (u16, String) {
    let res = app
        .clone()
        .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
