//! Request rates per caller: each token, each session, each address and
//! sign-in have their own allowance; a caller over it gets 429 with
//! `Retry-After` and runs nothing, and the others are served as before.
//! The quotas here are per hour, so no test depends on how fast it runs.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::num::NonZeroU32;

use axum::{body::Body, http::Request};
use backend::testing::{with_db, Target};
use common::token;
use domain::governance::Role;
use governor::Quota;
use server::{http::rate_limit::RateLimits, Config};
use tower::ServiceExt;

fn per_hour(n: u32) -> Option<Quota> {
    Some(Quota::per_hour(NonZeroU32::new(n).unwrap()))
}

/// Status and `Retry-After` of one request through `app`.
async fn send(app: &axum::Router, req: Request<Body>) -> (u16, Option<u64>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (res.status().as_u16(), retry)
}

fn get(path: &str, bearer: Option<&str>) -> Request<Body> {
    let mut req = Request::builder().uri(path);
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn each_caller_has_its_own_rate_and_over_it_gets_429_with_retry_after() {
    with_db(Target::Sqlite, |db| async move {
        let limits = RateLimits {
            per_credential: per_hour(3),
            per_address: per_hour(2),
            sign_in: per_hour(2),
        };
        let app = server::http::router(server::app_state(&Config::default(), db.clone()), limits);
        let (first, second) = (
            token(&db, Role::Manager).await,
            token(&db, Role::Manager).await,
        );

        // A token: three calls, then refused with a wait, before any handler
        // (the refused call would otherwise be a 200).
        for _ in 0..3 {
            assert_eq!(send(&app, get("/api/v1/me", Some(&first))).await.0, 200);
        }
        let (status, retry) = send(&app, get("/api/v1/me", Some(&first))).await;
        assert_eq!(status, 429);
        assert!(retry.unwrap() >= 1);
        // Another token is its own caller.
        assert_eq!(send(&app, get("/api/v1/me", Some(&second))).await.0, 200);

        // Without a credential the address counts, and webhooks share it.
        assert_eq!(send(&app, get("/api/v1/openapi.json", None)).await.0, 200);
        let hook = || {
            Request::builder()
                .method("POST")
                .uri("/webhooks/shopify/WEB")
                .body(Body::from("{}"))
                .unwrap()
        };
        assert_eq!(send(&app, hook()).await.0, 401);
        assert_eq!(send(&app, hook()).await.0, 429);
        assert_eq!(send(&app, get("/api/v1/openapi.json", None)).await.0, 429);

        // Sign-in: two posts, then a page saying how long to wait, and no
        // password is checked (no attempt is recorded).
        let sign_in = || {
            Request::builder()
                .method("POST")
                .uri("/signin")
                .header("origin", "http://keel.example")
                .header("host", "keel.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("email=a%40example.com&password=wrong&next=%2F"))
                .unwrap()
        };
        for _ in 0..2 {
            assert_ne!(send(&app, sign_in()).await.0, 429);
        }
        let attempts = || async {
            sqlx::query_scalar::<_, i64>("select cast(count(*) as bigint) from sign_in_attempt")
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };
        let before = attempts().await;
        let (status, retry) = send(&app, sign_in()).await;
        assert_eq!(status, 429);
        assert!(retry.is_some());
        assert_eq!(attempts().await, before);

        // Pages are not counted: a person browsing is never refused here.
        assert_eq!(send(&app, get("/healthz", None)).await.0, 200);
    })
    .await;
}
