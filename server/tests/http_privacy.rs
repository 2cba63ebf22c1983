//! Privacy requests over HTTP: the export as JSON (API) and as a download
//! (form); an erasure refused while an order is open, then done, after
//! which the order reads under the pseudonym and the email finds nobody.
//! Bad input is a 422 naming the field, and nothing changes.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use backend::{
    orders,
    testing::{
        fixtures::{channel, item, receive, sys, warehouse, web_order},
        with_db, Target,
    },
};
use common::{app, call, token};
use domain::governance::Role;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// An order from Ann Lee (the fixture's customer), still to ship: its id.
async fn ann(db: &backend::Db) -> String {
    warehouse(db, "EAST").await;
    channel(db, ("WEB", "web", "USD"), &["EAST"], None).await;
    item(db, "A", "4.00").await;
    receive(db, "EAST", "A", 10).await;
    orders::capture(db, &sys(), web_order("H-1", &[("A", 1)]), None, None)
        .await
        .unwrap()
        .order
        .id
}

async fn export_ann(app: &axum::Router, bearer: &str) -> (u16, serde_json::Value) {
    let body = json!({"email": "ann@example.com"});
    call(
        app,
        "POST",
        "/api/v1/privacy/exports",
        bearer,
        Some(body),
        &[],
    )
    .await
}

fn form(path: &str, body: &str, bearer: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://localhost")
        .header("host", "localhost")
        .header("authorization", format!("Bearer {bearer}"))
        .body(axum::body::Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_customer_is_exported_then_erased_once_their_orders_are_done() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let id = ann(&db).await;

        let (s, export) = export_ann(&app, &admin).await;
        assert_eq!(s, 200, "{export}");
        assert_eq!(export["customer"]["name"], "Ann Lee");
        assert_eq!(export["orders"][0]["id"], id);
        assert_eq!(export["orders"][0]["ship_to"]["line1"], "1 Main St");

        // The form answers with the same document as a download.
        let res = app
            .clone()
            .oneshot(form(
                "/command/privacy/export",
                "email=ann%40example.com",
                &admin,
            ))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            disposition.starts_with("attachment; filename=\"customer-export-"),
            "{disposition}"
        );
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let download: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(download["customer"]["email"], "ann@example.com");

        let erase = json!({"email": "ann@example.com", "reason": "request 42"});
        let (s, refused) = call(
            &app,
            "POST",
            "/api/v1/privacy/erasures",
            &admin,
            Some(erase.clone()),
            &[],
        )
        .await;
        assert_eq!(s, 409, "{refused}");
        assert_eq!(refused["error"]["code"], "orders_open");

        let (s, _) = call(
            &app,
            "POST",
            &format!("/api/v1/orders/{id}/cancel"),
            &admin,
            Some(json!({"reason": "customer asked"})),
            &[],
        )
        .await;
        assert_eq!(s, 200);
        let (s, erased) = call(
            &app,
            "POST",
            "/api/v1/privacy/erasures",
            &admin,
            Some(erase.clone()),
            &[],
        )
        .await;
        assert_eq!(s, 200, "{erased}");
        assert_eq!(erased["orders"], 1);

        let (s, order) = call(
            &app,
            "GET",
            &format!("/api/v1/orders/{id}"),
            &admin,
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(order["customer"]["name"], "Erased customer");
        assert_eq!(order["ship_to"]["line1"], "[erased]");
        assert_eq!(order["ship_to"]["country"], "US");
        let (s, gone) = export_ann(&app, &admin).await;
        assert_eq!(s, 404, "{gone}");
        assert!(!gone.to_string().contains("ann@"), "{gone}");
    })
    .await;
}

#[tokio::test]
async fn bad_requests_are_refused_by_name_and_change_nothing() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let manager = token(&db, Role::Manager).await;
        ann(&db).await;
        for (body, field) in [
            (json!({"email": "ann", "reason": "request 42"}), "email"),
            (json!({"email": "ann@example.com", "reason": ""}), "reason"),
            (
                json!({"email": "ann@example.com", "reason": "x", "extra": 1}),
                "extra",
            ),
        ] {
            let (s, e) = call(
                &app,
                "POST",
                "/api/v1/privacy/erasures",
                &admin,
                Some(body),
                &[],
            )
            .await;
            assert_eq!(s, 422, "{e}");
            assert!(e.to_string().contains(field), "{field}: {e}");
        }
        let (s, e) = export_ann(&app, &manager).await;
        assert_eq!(s, 403, "{e}");
        assert!(e.to_string().contains("privacy.manage"), "{e}");

        // A form whose confirmation differs erases nothing.
        let res = app
            .clone()
            .oneshot(form(
                "/command/privacy/erase",
                "email=ann%40example.com&confirm=anne%40example.com&reason=request+42",
                &admin,
            ))
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("/command/privacy?error="),
            "{location}"
        );
        let n: i64 = sqlx::query_scalar("select count(*) from audit_log where entity = 'customer'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
    })
    .await;
}
