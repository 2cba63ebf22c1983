//! `/metrics` behind a token when the config sets one (#19). Its own test
//! binary: the token is process-wide, and the other HTTP tests read
//! `/metrics` open.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{body::Body, http::Request};
use backend::testing::{with_db, Target};
use server::Config;
use tower::ServiceExt;

#[tokio::test]
async fn metrics_answer_only_the_configured_token() {
    with_db(Target::Sqlite, |db| async move {
        let config = Config {
            metrics_token: Some("scrape-secret-0123456789".into()),
            ..Config::default()
        };
        let app =
            server::http::router(server::app_state(&config, db.clone()), config.rate_limits());
        for (bearer, status) in [
            (None, 401),
            (Some("guess"), 401),
            (Some("scrape-secret-0123456789"), 200),
        ] {
            let mut req = Request::builder().uri("/metrics");
            if let Some(b) = bearer {
                req = req.header("authorization", format!("Bearer {b}"));
            }
            let res = app
                .clone()
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), status, "{bearer:?}");
        }
    })
    .await;
}
