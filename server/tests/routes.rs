//! The route declarations against what the server really does: every route
//! the router serves is declared with the permission the gate applies and is
//! described by the OpenAPI document, and nothing undeclared is served.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use axum::{body::Body, http::Request};
use backend::testing::{with_db, Target};
use http_body_util::BodyExt;
use server::http::{
    api::ROUTES,
    auth::{rule_for, Rule},
    forms,
};
use tower::ServiceExt;

use common::{app, token};
use domain::governance::Role;

/// Routes anyone may call: the document itself, and the storefront webhooks
/// (which authenticate by signature instead).
const PUBLIC: [(&str, &str); 3] = [
    ("get", "/api/v1/openapi.json"),
    ("post", "/webhooks/shopify/{channel}"),
    ("post", "/webhooks/woocommerce/{channel}"),
];

/// Pages anyone may open.
const PUBLIC_PAGES: [&str; 5] = ["/", "/signin", "/account", "/portal", "/portal/order"];

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(app: &axum::Router, method: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut req = Request::builder()
        .method(method.to_uppercase().as_str())
        .uri(path)
        .header("content-type", "application/json");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from("{}")).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    if res
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "text/event-stream")
    {
        // A live stream never ends; its status and type are the answer.
        return (status, "stream".into());
    }
    let html = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body).to_string();
    (status, if html { format!("html: {text}") } else { text })
}

async fn status(app: &axum::Router, method: &str, path: &str) -> u16 {
    call(app, method, path, None).await.0
}

#[test]
fn every_route_is_declared_once_and_only_the_intended_ones_are_public() {
    let mut seen = BTreeSet::new();
    for r in ROUTES {
        assert!(
            seen.insert((r.method, r.path)),
            "{} {} is declared twice",
            r.method,
            r.path
        );
        assert!(
            ["get", "post", "put", "patch", "delete"].contains(&r.method),
            "{} {}: methods are lower case",
            r.method,
            r.path
        );
    }
    let public: BTreeSet<(&str, &str)> = ROUTES
        .iter()
        .filter(|r| r.permission.is_none())
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(public, PUBLIC.into_iter().collect());
}

#[test]
fn the_openapi_document_describes_exactly_the_declared_routes() {
    let doc = server::openapi::document(&ROUTES);
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            if method == "parameters" {
                continue;
            }
            assert!(op.is_object(), "{method} {path}");
            documented.insert((method.clone(), path.clone()));
        }
    }
    let declared: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(documented, declared);
}

#[tokio::test]
async fn the_router_serves_every_declared_route_behind_its_permission_and_nothing_else() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        for r in ROUTES {
            let path = concrete(r.path);
            if r.permission.is_some() {
                // Nobody is signed in: the gate answers before any handler.
                assert_eq!(
                    status(&app, r.method, &path).await,
                    401,
                    "{} {path}",
                    r.method
                );
            }
            // Signed in as an administrator, a handler answers (refusing the
            // empty body or the unknown id as it sees fit), never the router:
            // no 405, and neither the API's nor the pages' fallback.
            let (got, body) = call(&app, r.method, &path, Some(&admin)).await;
            assert_ne!(got, 405, "{} {path}", r.method);
            assert!(
                !body.contains("no such API route") && !body.starts_with("html:"),
                "{} {path} reached a fallback: {got} {body}",
                r.method
            );
        }
        // A path nobody declared is not served, whoever asks.
        assert_eq!(status(&app, "get", "/api/v1/no-such-route").await, 404);
        assert_eq!(status(&app, "post", "/api/v1/orders/x/no-such").await, 404);
        // A declared path with a method nobody declared.
        assert_eq!(status(&app, "delete", "/api/v1/kpis").await, 405);
    })
    .await;
}

#[tokio::test]
async fn every_form_and_page_has_a_rule_and_forms_refuse_other_sites() {
    with_db(Target::Sqlite, |db| async move {
        for f in forms::ROUTES {
            let rule = rule_for(f.path);
            let public = [
                "/signin",
                "/signout",
                "/account/password",
                "/portal",
                "/portal/done",
            ]
            .contains(&f.path);
            assert!(
                matches!(rule, Rule::Needs(_)) || public,
                "form {} has no permission: {rule:?}",
                f.path
            );
        }
        for page in leptos_axum::generate_route_list(app::App) {
            let path = page.path();
            let rule = rule_for(path);
            assert!(
                matches!(rule, Rule::Needs(_)) || PUBLIC_PAGES.contains(&path),
                "page {path} has no permission: {rule:?}"
            );
        }
        // The forms router's one guard: a post from another site is refused
        // before any handler, on every form, even for an administrator.
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        for f in forms::ROUTES {
            let req = Request::builder()
                .method("POST")
                .uri(concrete(f.path))
                .header("authorization", format!("Bearer {admin}"))
                .header("host", "keel.example")
                .header("origin", "https://evil.example")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), 403, "cross-origin POST {}", f.path);
        }
    })
    .await;
}

#[test]
fn request_body_schemas_come_from_the_types_the_handlers_read() {
    let doc = server::openapi::document(&ROUTES);
    let body = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    // The fields, which are required, and unknown fields refused: serde's
    // reading of the type, not a second description of it.
    let product = body("/api/v1/products");
    assert_eq!(product["required"], serde_json::json!(["sku", "name"]));
    assert_eq!(product["additionalProperties"], serde_json::json!(false));
    assert_eq!(product["properties"]["weight_g"]["maximum"], 1_000_000);
    let order = body("/api/v1/orders");
    assert_eq!(
        order["properties"]["lines"]["maxItems"],
        domain::orders::MAX_LINES
    );
    // An internally tagged action: one schema per action, each with its fields.
    let bulk = body("/api/v1/orders/bulk");
    assert_eq!(bulk["oneOf"].as_array().map(Vec::len), Some(3));
    for r in ROUTES {
        let Some(schema) = r.body.map(|b| b()) else {
            continue;
        };
        let shaped = schema["type"] == "object"
            || schema["type"] == "string"
            || schema.get("oneOf").is_some();
        assert!(shaped, "{} {}: {schema}", r.method, r.path);
        assert!(
            !schema.to_string().contains("$ref"),
            "{} {}: every part is inline",
            r.method,
            r.path
        );
    }
}
