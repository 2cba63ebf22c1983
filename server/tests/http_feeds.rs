//! The whole-business feeds (the event list, its live stream and the audit
//! log): read only by callers whose scope is unrestricted, and a live stream
//! ends the moment its credential stops granting it.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::{body::Body, http::Request};
use backend::{
    governance::{self, NewUser, UserUpdate},
    testing::{with_db, Target},
    Ctx,
};
use common::{app, call, token};
use domain::governance::{Role, Scope};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn scoped(db: &backend::Db, role: &str, scope: Scope) -> String {
    governance::create_token(db, &Ctx::system("test"), "scoped", role, scope)
        .await
        .unwrap()
        .secret
}

#[tokio::test]
async fn a_scoped_caller_reads_no_whole_business_feed() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        east(&app, &admin).await;
        let (s, _) = call(
            &app,
            "POST",
            "/api/v1/channels",
            &admin,
            Some(serde_json::json!({"code": "B2B", "kind": "b2b", "currency": "USD", "warehouses": ["EAST"]})),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        let b2b_support = scoped(
            &db,
            "support",
            Scope {
                warehouses: vec![],
                channels: vec!["B2B".into()],
            },
        )
        .await;
        let east_manager = scoped(
            &db,
            "manager",
            Scope {
                warehouses: vec!["EAST".into()],
                channels: vec![],
            },
        )
        .await;
        for (who, path) in [
            (&b2b_support, "/api/v1/events"),
            (&b2b_support, "/api/v1/events/stream"),
            (&east_manager, "/api/v1/events"),
            (&east_manager, "/api/v1/audit"),
        ] {
            let (status, body) = call(&app, "GET", path, who, None, &[]).await;
            assert_eq!(status, 403, "{path}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("every warehouse and channel"),
                "{path}: {body}"
            );
        }
        // Unrestricted, the same roles read them.
        let support = token(&db, Role::Support).await;
        let (status, body) = call(&app, "GET", "/api/v1/events", &support, None, &[]).await;
        assert_eq!(status, 200);
        assert!(body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "warehouse.created"));
        let manager = token(&db, Role::Manager).await;
        assert_eq!(
            call(&app, "GET", "/api/v1/audit", &manager, None, &[])
                .await
                .0,
            200
        );
    })
    .await;
}

/// Opens warehouse EAST, which emits an event.
async fn east(app: &axum::Router, admin: &str) {
    let body = serde_json::json!({"code": "EAST", "name": "East"});
    let (s, _) = call(app, "POST", "/api/v1/warehouses", admin, Some(body), &[]).await;
    assert_eq!(s, 201);
}

/// Opens the live stream with one credential header.
async fn open_stream(app: &axum::Router, header: (&str, String)) -> Body {
    let req = Request::builder()
        .uri("/api/v1/events/stream")
        .header(header.0, header.1)
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    res.into_body()
}

/// The text of the next frame, or `None` once the stream has ended. The
/// bound is generous: a stream that should end and doesn't fails the test
/// instead of hanging it.
async fn next_frame(body: &mut Body) -> Option<String> {
    let frame = tokio::time::timeout(Duration::from_secs(60), body.frame())
        .await
        .expect("the stream neither sent nor ended")?;
    let frame = frame.unwrap();
    Some(String::from_utf8_lossy(frame.data_ref().unwrap()).into_owned())
}

/// Frames until the stream ends; the ones sent on the way.
async fn until_end(body: &mut Body) -> Vec<String> {
    let mut sent = vec![];
    while let Some(f) = next_frame(body).await {
        sent.push(f);
    }
    sent
}

#[tokio::test]
async fn the_live_stream_ends_when_its_token_is_revoked_or_its_person_disabled() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let system = Ctx::system("test");
        // A token: it streams events, then ends at its revocation without
        // delivering it.
        let issued = governance::create_token(&db, &system, "feed", "manager", Scope::default())
            .await
            .unwrap();
        let admin = token(&db, Role::Admin).await;
        let mut body =
            open_stream(&app, ("authorization", format!("Bearer {}", issued.secret))).await;
        east(&app, &admin).await;
        let first = next_frame(&mut body).await.expect("an event");
        assert!(first.contains("warehouse.created"), "{first}");
        governance::revoke_token(&db, &system, &issued.token.id)
            .await
            .unwrap();
        let after = until_end(&mut body).await;
        assert!(
            after.iter().all(|f| !f.contains("api_token.revoked")),
            "{after:?}"
        );

        // A signed-in person: the stream ends when an administrator disables them.
        let user = governance::create_user(
            &db,
            &system,
            NewUser {
                email: "ops@example.com".into(),
                name: "Ops".into(),
                role: "manager".into(),
                password: "a long enough password".into(),
                scope: Scope::default(),
            },
            None,
        )
        .await
        .unwrap();
        let session = governance::sign_in(
            &db,
            &system,
            "ops@example.com",
            "a long enough password",
            "127.0.0.1",
        )
        .await
        .unwrap();
        let mut body =
            open_stream(&app, ("cookie", format!("keel_session={}", session.secret))).await;
        governance::update_user(
            &db,
            &system,
            &user.id,
            UserUpdate {
                role: "manager".into(),
                active: false,
                scope: Scope::default(),
                version: user.version,
            },
        )
        .await
        .unwrap();
        until_end(&mut body).await;
    })
    .await;
}
