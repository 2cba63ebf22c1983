//! Recovery (#19, operations): while the database can't be written (a full
//! disk, a read-only remount, PostgreSQL restarting) Keel answers 503 with
//! `Retry-After` and `/readyz` says not ready; once it can, both recover by
//! themselves. Its own binary: it raises the process's 5xx count on purpose,
//! which other HTTP tests assert stays at zero.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use backend::testing::{with_db, Target};
use common::{app, call, token};
use domain::governance::Role;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

async fn raw(
    app: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    app.clone().oneshot(req).await.unwrap()
}

async fn body_text(res: axum::response::Response) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_database_that_cant_write_answers_503_and_not_ready_until_it_can_again() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        // The writer's own connection, as a read-only remount or a full disk
        // leaves it: reads go on, writes fail.
        let read_only = |on: bool| {
            let db = db.clone();
            async move { db.writer_read_only(on).await.unwrap() }
        };
        let ready = || async {
            let req = axum::http::Request::builder()
                .uri("/readyz")
                .body(axum::body::Body::empty())
                .unwrap();
            let res = raw(&app, req).await;
            (
                res.status().as_u16(),
                res.headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string()),
            )
        };
        assert_eq!(ready().await, (200, None));

        read_only(true).await;
        let warehouse = json!({"code": "EAST", "name": "East"});
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/warehouses")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(warehouse.to_string()))
            .unwrap();
        let res = raw(&app, req).await;
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["retry-after"], "10");
        let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(body["error"]["code"], "unavailable");
        assert_eq!(ready().await, (503, Some("10".to_string())));
        // Reads still answer.
        let (s, _) = call(&app, "GET", "/api/v1/warehouses", &admin, None, &[]).await;
        assert_eq!(s, 200);

        // Back by itself once the database is: ready, and the same request succeeds.
        read_only(false).await;
        assert_eq!(ready().await, (200, None));
        let (s, body) = call(
            &app,
            "POST",
            "/api/v1/warehouses",
            &admin,
            Some(warehouse),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{body}");
    })
    .await;
}
