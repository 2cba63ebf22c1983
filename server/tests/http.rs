//! HTTP tests: the router driven in-process with `oneshot`, plus real-port
//! tests for the event stream across two instances.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use axum::{body::Body, http::Request, Router};
use backend::{
    governance,
    testing::{with_db, Target},
    Ctx, Db,
};
use domain::governance::{can, Permission, Role, Scope};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use server::{
    http::{api::ROUTES, auth::ACCESS},
    Config,
};
use tower::ServiceExt;

fn app(db: &Db) -> Router {
    // The rate limits have their own test (`http_limits`); here one token
    // stands for many callers.
    server::http::router(
        server::app_state(&Config::default(), db.clone()),
        server::http::rate_limit::RateLimits::OFF,
    )
}

async fn token(db: &Db, role: Role) -> String {
    governance::create_token(
        db,
        &Ctx::system("test"),
        &format!("{role} token"),
        role.as_str(),
        Scope::default(),
    )
    .await
    .unwrap()
    .secret
}

async fn send(
    app: &Router,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    // As a browser on Keel's own pages sends it: the cross-site guard wants
    // to know where a page door's request came from before anything else.
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("sec-fetch-site", "same-origin");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(
            req.body(Body::from(body.unwrap_or("").to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "0190a1b2-0000-7000-8000-000000000000")
        .replace("{sku}", "NO-SUCH-SKU")
        .replace("{code}", "NOWHERE")
}

#[tokio::test]
async fn every_protected_route_page_and_server_function_answers_401_then_403() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let mut tokens = Vec::new();
        for role in Role::ALL {
            tokens.push((role, token(&db, role).await));
        }
        let mut checked = 0;
        let mut targets: Vec<(&str, String, Permission)> = ROUTES
            .iter()
            .filter_map(|r| r.permission.map(|p| (r.method, concrete(r.path), p)))
            .collect();
        for (path, permission) in ACCESS
            .iter()
            .filter_map(|(p, perm)| perm.map(|perm| (*p, perm)))
        {
            targets.push(if path.starts_with("/sfn/") {
                ("post", path.to_string(), permission)
            } else {
                ("get", path.to_string(), permission)
            });
        }
        for (method, path, permission) in targets {
            let method = method.to_uppercase();
            let (status, body) = send(&app, &method, &path, None, None, &[]).await;
            assert_eq!(status, 401, "{method} {path} without credentials");
            if path.starts_with("/api/") || path.starts_with("/sfn/") {
                assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}");
            }
            if let Some((role, secret)) = tokens.iter().find(|(r, _)| !can(*r, permission)) {
                let (status, _) = send(&app, &method, &path, Some(secret), None, &[]).await;
                assert_eq!(status, 403, "{method} {path} as {role}");
            }
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} targets were checked");
        // Every registered server function has an access rule.
        for (path, _) in leptos::server_fn::axum::server_fn_paths() {
            assert!(
                ACCESS.iter().any(|(p, _)| *p == path),
                "server function {path} has no entry in ACCESS"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_a_specific_4xx_and_writes_nothing() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let post = |body: String| {
            let (app, admin) = (app.clone(), admin.clone());
            async move {
                send(
                    &app,
                    "POST",
                    "/api/v1/warehouses",
                    Some(&admin),
                    Some(&body),
                    &[],
                )
                .await
            }
        };
        let (s, b) = post("{\"code\": \"EAST\",".into()).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (400, Some("malformed_json"))
        );
        let (s, b) = post(r#"{"code": 7, "name": "East"}"#.into()).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (422, Some("invalid_input"))
        );
        assert!(
            b["error"]["fields"]["code"]
                .as_str()
                .unwrap()
                .contains("invalid type"),
            "{b}"
        );
        let (s, b) = post(r#"{"code": "EAST", "name": "East", "colour": "red"}"#.into()).await;
        assert_eq!(s, 422);
        assert!(
            b["error"]["fields"]["colour"]
                .as_str()
                .unwrap()
                .contains("unknown field"),
            "{b}"
        );
        let (s, b) = post(r#"{"code": "E", "name": ""}"#.into()).await;
        assert_eq!(s, 422);
        assert_eq!(
            b["error"]["fields"],
            json!({"code": "use 2 to 16 characters", "name": "enter a name"})
        );
        let (s, b) = post(format!(
            r#"{{"code": "EAST", "name": "{}"}}"#,
            "x".repeat(1024 * 1024 + 1)
        ))
        .await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (413, Some("payload_too_large"))
        );
        let (s, b) = send(&app, "POST", "/api/v1/warehouses", Some(&admin), None, &[]).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (415, Some("unsupported_media_type"))
        );
        let (_, list) = send(&app, "GET", "/api/v1/warehouses", Some(&admin), None, &[]).await;
        assert_eq!(list["items"], json!([]));
        assert_eq!(
            db.max_event_seq().await.unwrap(),
            1,
            "only the token creation wrote an event"
        );
    })
    .await;
}

#[tokio::test]
async fn creating_with_an_idempotency_key_replays_the_first_result() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Manager).await;
        let body = r#"{"code": "WEST", "name": "West Coast DC"}"#;
        let (s1, first) = send(
            &app,
            "POST",
            "/api/v1/warehouses",
            Some(&admin),
            Some(body),
            &[("idempotency-key", "abc-1")],
        )
        .await;
        let (s2, second) = send(
            &app,
            "POST",
            "/api/v1/warehouses",
            Some(&admin),
            Some(body),
            &[("idempotency-key", "abc-1")],
        )
        .await;
        assert_eq!((s1, s2), (201, 201));
        assert_eq!(first, second);
        let (s3, _) = send(
            &app,
            "POST",
            "/api/v1/warehouses",
            Some(&admin),
            Some(body),
            &[],
        )
        .await;
        assert_eq!(
            s3, 422,
            "without the key it is a second create, refused as a duplicate code"
        );
        let (_, list) = send(&app, "GET", "/api/v1/warehouses", Some(&admin), None, &[]).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn orders_and_events_are_cursor_lists_for_authorized_clients() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let support = token(&db, Role::Support).await;
        let (s, orders) = send(
            &app,
            "GET",
            "/api/v1/orders?limit=10",
            Some(&support),
            None,
            &[],
        )
        .await;
        assert_eq!(
            (s, orders),
            (200, json!({"items": [], "next_cursor": null}))
        );
        let (s, events) = send(
            &app,
            "GET",
            "/api/v1/events?after=0&limit=1",
            Some(&support),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(events["items"][0]["type"], "api_token.created");
        assert_eq!(events["items"][0]["v"], 1);
        assert_eq!(events["next_cursor"], "1");
        let (s, bad) = send(
            &app,
            "GET",
            "/api/v1/events?after=-4",
            Some(&support),
            None,
            &[],
        )
        .await;
        assert_eq!(
            (s, bad["error"]["fields"]["after"].is_string()),
            (422, true)
        );
        let (s, _) = send(
            &app,
            "GET",
            "/api/v1/orders",
            Some("keel_revoked-or-made-up"),
            None,
            &[],
        )
        .await;
        assert_eq!(s, 401);
    })
    .await;
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_health_needs_no_auth() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let (s, doc) = send(&app, "GET", "/api/v1/openapi.json", None, None, &[]).await;
        assert_eq!(s, 200);
        for r in ROUTES {
            assert!(
                doc["paths"][r.path][r.method].is_object(),
                "{} {} is documented",
                r.method,
                r.path
            );
        }
        for path in ["/healthz", "/readyz", "/metrics"] {
            let res = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_admin_manages_a_user_through_the_api_with_version_checks() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        backend::inventory::create_warehouse(&db, &Ctx::system("test"), backend::inventory::WarehouseInput { code: "EAST".into(), name: "East".into() }, None).await.unwrap();
        let body = r#"{"email": "kim@northwind.example", "name": "Kim Lee", "role": "support", "password": "a long enough password"}"#;
        let (s, user) = send(&app, "POST", "/api/v1/users", Some(&admin), Some(body), &[]).await;
        assert_eq!(s, 201);
        let id = user["id"].as_str().unwrap().to_string();
        let (s, fetched) = send(&app, "GET", &format!("/api/v1/users/{id}"), Some(&admin), None, &[]).await;
        assert_eq!((s, &fetched), (200, &user));
        let patch = r#"{"role": "manager", "active": true, "scope": {"warehouses": ["EAST"]}, "version": 1}"#;
        // A new role waits for a second administrator (the role_change policy).
        let (s, held) = send(&app, "PATCH", &format!("/api/v1/users/{id}"), Some(&admin), Some(patch), &[]).await;
        assert_eq!((s, held["status"].as_str()), (202, Some("pending")), "{held}");
        let approve = format!("/api/v1/approvals/{}/approve", held["id"].as_str().unwrap());
        let (s, own) = send(&app, "POST", &approve, Some(&admin), Some("{}"), &[]).await;
        assert_eq!((s, own["error"]["code"].as_str()), (409, Some("self_approval")));
        let second = governance::create_token(&db, &Ctx::system("test"), "second admin", "admin", Default::default()).await.unwrap().secret;
        let (s, applied) = send(&app, "POST", &approve, Some(&second), Some(r#"{"note": "agreed"}"#), &[]).await;
        assert_eq!((s, applied["status"].as_str()), (200, Some("applied")), "{applied}");
        let (s, updated) = send(&app, "GET", &format!("/api/v1/users/{id}"), Some(&admin), None, &[]).await;
        assert_eq!((s, updated["role"].as_str(), updated["version"].as_i64()), (200, Some("manager"), Some(2)));
        assert_eq!(updated["scope"]["warehouses"], json!(["EAST"]));
        let (s, stale) = send(&app, "PATCH", &format!("/api/v1/users/{id}"), Some(&admin), Some(patch), &[]).await;
        assert_eq!((s, stale["error"]["code"].as_str()), (409, Some("version_conflict")));
        let (s, short) = send(&app, "PUT", &format!("/api/v1/users/{id}/password"), Some(&admin), Some(r#"{"password": "short"}"#), &[]).await;
        assert_eq!((s, short["error"]["fields"]["password"].as_str()), (422, Some("use at least 12 characters (this one has 5)")));
        let (s, _) = send(&app, "PUT", &format!("/api/v1/users/{id}/password"), Some(&admin), Some(r#"{"password": "a brand new passphrase"}"#), &[]).await;
        assert_eq!(s, 204);
        let anon = Ctx::new(backend::Actor::anonymous(), None);
        assert!(governance::sign_in(&db, &anon, "kim@northwind.example", "a long enough password", "t").await.is_err());
        assert!(governance::sign_in(&db, &anon, "kim@northwind.example", "a brand new passphrase", "t").await.is_ok());
        let (s, missing) = send(&app, "GET", "/api/v1/users/0190a1b2-0000-7000-8000-000000000000", Some(&admin), None, &[]).await;
        assert_eq!((s, missing["error"]["code"].as_str()), (404, Some("not_found")));
    })
    .await;
}

#[tokio::test]
async fn held_price_and_channel_changes_answer_202_and_apply_on_approval() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let second = governance::create_token(&db, &Ctx::system("test"), "second admin", "admin", Default::default()).await.unwrap().secret;
        let sys = Ctx::system("test");
        backend::inventory::create_warehouse(&db, &sys, backend::inventory::WarehouseInput { code: "EAST".into(), name: "East".into() }, None).await.unwrap();
        let (s, _) = send(&app, "POST", "/api/v1/channels", Some(&admin), Some(r#"{"code": "B2B", "kind": "b2b", "currency": "USD", "warehouses": ["EAST"]}"#), &[]).await;
        assert_eq!(s, 201);
        let product = r#"{"sku": "A", "name": "A", "prices": [{"currency": "USD", "cost": "4.00", "price": "10.00"}]}"#;
        let (s, _) = send(&app, "POST", "/api/v1/products", Some(&admin), Some(product), &[]).await;
        assert_eq!(s, 201);
        for (kind, body) in [("price_override", r#"{"active": true, "threshold_percent": 20}"#), ("channel_change", r#"{"active": true}"#)] {
            let (s, p) = send(&app, "PUT", &format!("/api/v1/approval-policies/{kind}"), Some(&admin), Some(body), &[]).await;
            assert_eq!((s, p["active"].as_bool()), (200, Some(true)), "{p}");
        }
        let (s, p) = send(&app, "PUT", "/api/v1/approval-policies/price_override", Some(&admin), Some(r#"{"active": true, "threshold_percent": 5000}"#), &[]).await;
        assert_eq!(s, 422, "{p}");

        let (s, held_price) = send(&app, "PUT", "/api/v1/channels/B2B/prices", Some(&admin), Some(r#"{"prices": [{"sku": "A", "price": "5.00"}]}"#), &[]).await;
        assert_eq!((s, held_price["kind"].as_str()), (202, Some("price_override")), "{held_price}");
        let (s, held_buffer) = send(&app, "PUT", "/api/v1/channels/B2B/safety-buffer", Some(&admin), Some(r#"{"safety_buffer": 4}"#), &[]).await;
        assert_eq!((s, held_buffer["kind"].as_str()), (202, Some("channel_change")), "{held_buffer}");
        for held in [&held_price, &held_buffer] {
            let approve = format!("/api/v1/approvals/{}/approve", held["id"].as_str().unwrap());
            let (s, own) = send(&app, "POST", &approve, Some(&admin), Some("{}"), &[]).await;
            assert_eq!((s, own["error"]["code"].as_str()), (409, Some("self_approval")));
            let (s, applied) = send(&app, "POST", &approve, Some(&second), Some("{}"), &[]).await;
            assert_eq!((s, applied["status"].as_str()), (200, Some("applied")), "{applied}");
        }
        let (s, prices) = send(&app, "GET", "/api/v1/channels/B2B/prices", Some(&admin), None, &[]).await;
        assert_eq!((s, prices["items"][0]["channel_price"]["amount"].as_str()), (200, Some("5.00")), "{prices}");
        let (s, channels) = send(&app, "GET", "/api/v1/channels", Some(&admin), None, &[]).await;
        assert_eq!((s, channels["items"][0]["safety_buffer"].as_i64()), (200, Some(4)), "{channels}");
    })
    .await;
}

/// Serves a router on a free loopback port, as `keel serve` does.
async fn spawn(db: Db) -> String {
    tokio::spawn(
        db.clone()
            .follow_external_events(Duration::from_millis(500)),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(&db);
    tokio::spawn(server::listen::serve(
        listener,
        router,
        server::listen::HEADER_READ_TIMEOUT,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

#[tokio::test]
async fn an_event_written_through_one_instance_streams_from_another_within_a_second() {
    let Some(admin_url) = backend::testing::pg_admin_url() else {
        return;
    };
    let (url, drop_db) = backend::testing::fresh_pg_database(&admin_url).await;
    let first = Db::connect(&url).await.unwrap();
    first.migrate().await.unwrap();
    let second = Db::connect(&url).await.unwrap();
    let reader_token = token(&first, Role::Manager).await;
    let (a, b) = (spawn(first.clone()).await, spawn(second.clone()).await);
    let client = reqwest::Client::new();
    let mut stream = client
        .get(format!("{b}/api/v1/events/stream"))
        .bearer_auth(&reader_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let started = Instant::now();
    let created = client
        .post(format!("{a}/api/v1/warehouses"))
        .bearer_auth(&reader_token)
        .json(&json!({"code": "NORTH", "name": "North DC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let mut seen = String::new();
    let latency = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("warehouse.created") {
                return started.elapsed();
            }
        }
        panic!("stream ended");
    })
    .await
    .expect("the event reached the other instance");
    println!("cross-instance event latency: {} ms", latency.as_millis());
    assert!(latency < Duration::from_secs(1), "took {latency:?}");
    first.close().await;
    second.close().await;
    drop_db.await;
}
