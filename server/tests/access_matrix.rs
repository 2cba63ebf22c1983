//! Access as a matrix, generated from the declared routes: every API route,
//! form, server function and page against every role, and every route that
//! names a warehouse's or channel's record against a caller in that scope
//! and one outside it. Each pair has its expected answer:
//!
//! - a role without the route's permission: 403 naming it, before any
//!   handler; nobody signed in: 401;
//! - a role with it: the handler answers (never 401 or 403);
//! - a record in the caller's scope: read (200) or acted on;
//! - a record outside it: exactly the answer for a record that does not
//!   exist, and nothing changes.
//!
//! A new route is covered without touching this file, unless it names a
//! record of a kind this file has not met; then the test says so.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use axum::{body::Body, http::Request};
use backend::{
    analytics,
    testing::{fixtures, with_db, Target},
    Ctx,
};
use common::{app, call, token};
use domain::governance::{can, Permission, Role, Scope};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use server::http::{
    api::ROUTES,
    auth::{rule_for, Rule, ACCESS},
    forms,
};
use tower::ServiceExt;

/// A path with every parameter replaced by one that names nothing.
fn made_up(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') || s.starts_with(':') {
                ABSENT
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

const ABSENT: &str = "ABSENT-0";

/// Status, and the body as text (JSON, HTML or a stream's first bytes).
async fn send(
    app: &axum::Router,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, String) {
    let content_type = if body.starts_with('{') || body.is_empty() {
        "application/json"
    } else {
        "text/csv"
    };
    let mut req = Request::builder()
        .method(method.to_uppercase().as_str())
        .uri(path)
        .header("content-type", content_type)
        // As a browser on Keel's own pages says; the cross-site guard has
        // its own tests.
        .header("sec-fetch-site", "same-origin");
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    if res
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "text/event-stream")
    {
        return (status, "stream".into());
    }
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// One token per role, unrestricted.
async fn tokens(db: &backend::Db) -> Vec<(Role, String)> {
    let mut all = vec![];
    for role in Role::ALL {
        all.push((role, token(db, role).await));
    }
    all
}

/// The gate's answer for a role: refused naming the permission, or let
/// through to the handler.
fn assert_gate(what: &str, role: Role, permission: Permission, (status, body): &(u16, String)) {
    if can(role, permission) {
        assert!(
            ![401, 403].contains(status),
            "{what} as {role}: refused although the role holds {permission}: {status} {body}"
        );
    } else {
        assert_eq!(*status, 403, "{what} as {role}: {body}");
        assert!(
            body.contains(permission.as_str()),
            "{what} as {role}: the refusal names {permission}: {body}"
        );
    }
}

#[tokio::test]
async fn every_route_against_every_role() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let tokens = tokens(&db).await;
        let mut pairs = 0;

        // The API and the webhooks.
        for r in ROUTES {
            let path = made_up(r.path);
            let what = format!("{} {}", r.method, r.path);
            let Some(permission) = r.permission else {
                continue;
            };
            assert_eq!(
                send(&app, r.method, &path, None, "{}").await.0,
                401,
                "{what}"
            );
            for (role, t) in &tokens {
                let answer = send(&app, r.method, &path, Some(t), "{}").await;
                assert_gate(&what, *role, permission, &answer);
                pairs += 1;
            }
        }

        // Server functions: each one named in ACCESS.
        for (path, rule) in ACCESS.iter().filter(|(p, _)| p.starts_with("/sfn/")) {
            let Some(permission) = rule else {
                continue;
            };
            assert_eq!(send(&app, "post", path, None, "").await.0, 401, "{path}");
            for (role, t) in &tokens {
                let answer = send(&app, "post", path, Some(t), "").await;
                assert_gate(path, *role, *permission, &answer);
                pairs += 1;
            }
        }
        // A server function nobody listed is refused to everyone.
        let (s, _) = send(&app, "post", "/sfn/unlisted", Some(&tokens[0].1), "").await;
        assert_eq!(s, 403);

        // Forms, by the rule of the page they belong to.
        for f in forms::ROUTES {
            let Rule::Needs(permission) = rule_for(f.path) else {
                continue;
            };
            let path = made_up(f.path);
            assert_eq!(send(&app, "post", &path, None, "").await.0, 401, "{path}");
            for (role, t) in &tokens {
                let answer = send(&app, "post", &path, Some(t), "").await;
                assert_gate(f.path, *role, permission, &answer);
                pairs += 1;
            }
        }

        // Pages.
        for page in leptos_axum::generate_route_list(app::App) {
            let Rule::Needs(permission) = rule_for(page.path()) else {
                continue;
            };
            let path = made_up(page.path());
            let (s, _) = send(&app, "get", &path, None, "").await;
            assert_eq!(s, 401, "page {path}");
            for (role, t) in &tokens {
                let answer = send(&app, "get", &path, Some(t), "").await;
                assert_gate(&path, *role, permission, &answer);
                pairs += 1;
            }
        }
        assert!(pairs > 900, "{pairs} pairs");
    })
    .await;
}

/// One side of the scope line: a warehouse, a channel selling from it, and
/// one record of every kind that belongs to them.
struct Side {
    warehouse: &'static str,
    channel: &'static str,
    ids: BTreeMap<&'static str, String>,
}

/// The records a route names, by its path: which kind each parameter is.
/// `None` for a route whose records belong to no warehouse or channel.
fn kind_of(path: &str) -> Option<&'static str> {
    const KINDS: [(&str, &str); 14] = [
        ("/api/v1/orders/{id}", "order"),
        ("/api/v1/reservations/{id}", "reservation"),
        ("/api/v1/fulfillments/{id}", "fulfillment"),
        ("/api/v1/shipments/{id}", "shipment"),
        ("/api/v1/waves/{id}", "wave"),
        ("/api/v1/deliveries/{id}", "delivery"),
        ("/api/v1/stock/transfers/{id}", "transfer"),
        ("/api/v1/counts/{id}", "count"),
        ("/api/v1/exceptions/{id}", "exception"),
        ("/api/v1/order-reports/{id}", "report"),
        ("/api/v1/warehouses/{code}", "warehouse"),
        ("/api/v1/channels/{code}", "channel"),
        (
            "/api/v1/stock/{sku}/reorder-points/{warehouse}",
            "warehouse",
        ),
        ("/webhooks/", "signed"),
    ];
    KINDS
        .iter()
        .find(|(prefix, _)| path.starts_with(prefix))
        .map(|(_, kind)| *kind)
}

/// Routes with parameters whose records are not a warehouse's or a
/// channel's: products, stock by SKU across the caller's warehouses, users,
/// tokens, catalogue imports, held changes and the approval policies.
const UNSCOPED: [&str; 7] = [
    "/api/v1/products/{sku}",
    "/api/v1/stock/{sku}",
    "/api/v1/users/{id}",
    "/api/v1/tokens/{id}",
    "/api/v1/catalog/imports/{id}",
    // Held changes are decided only by unrestricted callers; a scoped one
    // sees their own requests.
    "/api/v1/approvals/{id}",
    "/api/v1/approval-policies/{kind}",
];

impl Side {
    /// The route's path with this side's records, and the ids put in.
    fn path(&self, template: &str) -> (String, Vec<String>) {
        let kind = kind_of(template).unwrap();
        let mut used = vec![];
        let path = template
            .split('/')
            .map(|seg| {
                let value = match seg {
                    "{id}" | "{code}" => self.ids[kind].clone(),
                    "{hold}" => self.ids["hold"].clone(),
                    "{warehouse}" => self.warehouse.to_string(),
                    "{sku}" => "A".to_string(),
                    // Lines count from 0 (`line_no`), packages from 1.
                    "{line}" => "0".to_string(),
                    "{seq}" => "1".to_string(),
                    other => return other.to_string(),
                };
                if !["A", "0", "1"].contains(&value.as_str()) {
                    used.push(value.clone());
                }
                value
            })
            .collect::<Vec<_>>()
            .join("/");
        (path, used)
    }
}

/// A body each scoped write accepts in shape, so the answer depends on the
/// record and the caller's scope, not on a malformed request.
fn sample_body(method: &str, path: &str) -> String {
    let body = match (method, path.rsplit('/').next().unwrap_or("")) {
        ("post", "order-reports") => {
            return "order-id,buyer-email,sku,quantity,item-price,ship-address-1,ship-city,ship-state,ship-postal-code,ship-country\n\
                    R-9,ann@example.com,A,1,10.00,1 Main St,Austin,TX,78701,US\n"
                .into()
        }
        ("put", "prices") => json!({"prices": []}),
        ("put", "safety-buffer") => json!({"safety_buffer": 1}),
        ("post", "dry-run") => json!({"warehouses": ["EAST", "CENTRAL"]}),
        ("put", "warehouses") => json!({"warehouses": ["EAST", "CENTRAL"]}),
        ("post", "scans") | ("post", "pack-scans") => json!({"code": "A"}),
        ("post", "assign") => json!({"assignee": null}),
        ("post", "resolve") => json!({"note": "checked"}),
        ("post", "snooze") => json!({"hours": 1, "reason": "waiting"}),
        ("put", "{seq}") => json!({"weight_g": 500, "length_mm": 300, "width_mm": 200, "height_mm": 100}),
        ("post", "ship") => json!({"carrier": "UPS", "service": "Ground", "packages": []}),
        ("put", "address") => json!({"address": {"name": "Ann Lee", "line1": "2 Main St", "city": "Austin", "region": "TX", "postcode": "78701", "country": "US"}}),
        ("post", "cancel") if path.contains("/lines/") => json!({"quantity": 1, "reason": "customer asked"}),
        ("post", "cancel") => json!({"reason": "customer asked"}),
        ("post", "holds") => json!({"detail": "check the address"}),
        ("post", "release") => json!({"note": "checked"}),
        ("post", "notes") => json!({"body": "called the customer"}),
        ("post", "tags") => json!({"add": ["vip"]}),
        ("post", "receive") => json!({}),
        ("put", "{warehouse}") => json!({"units": 5}),
        ("post", "locations") => json!({"code": "B-01-01"}),
        ("post", "short") => json!({"picked": 0, "reason": "damaged"}),
        _ => return String::new(),
    };
    body.to_string()
}

/// The answer with the given ids replaced by the made-up one, to compare an
/// out-of-scope record's answer with a missing record's.
fn normalised(answer: &(u16, String), ids: &[String]) -> (u16, String) {
    let mut text = answer.1.clone();
    for id in ids {
        text = text.replace(id.as_str(), ABSENT);
    }
    // The request id differs on every answer.
    let text = match serde_json::from_str::<Value>(&text) {
        Ok(mut v) => {
            if let Some(e) = v.get_mut("error").and_then(Value::as_object_mut) {
                e.remove("request_id");
            }
            v.to_string()
        }
        Err(_) => text,
    };
    (answer.0, text)
}

/// Waits, on committed events rather than time, until no import runs in
/// the background, so its events land before the next request's are counted.
async fn settle(db: &backend::Db) {
    let mut committed = db.subscribe_events();
    let bound = std::time::Duration::from_secs(60);
    tokio::time::timeout(bound, async {
        loop {
            committed.borrow_and_update();
            let running: i64 = sqlx::query_scalar(
                "select cast(count(*) as bigint) from import_job where status in ('staged', 'running')",
            )
            .fetch_one(&db.pool)
            .await
            .unwrap();
            if running == 0 {
                return;
            }
            committed.changed().await.unwrap();
        }
    })
    .await
    .expect("an import never finished");
}

/// Events one caller caused. Per caller, because an import started in scope
/// finishes in the background while the next caller's requests run.
async fn events(db: &backend::Db, role: Role) -> i64 {
    sqlx::query_scalar("select cast(count(*) as bigint) from event where actor_name = $1")
        .bind(format!("token:scoped-{role}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Two warehouses with a channel each, and in each: an open order on hold
/// (its reservation, hold and exception), a shipped one (its fulfilment,
/// wave and shipment), a delivery, a transfer in from WEST, a count, and an
/// order report import.
async fn two_sides(db: &backend::Db, app: &axum::Router, admin: &str) -> [Side; 2] {
    fixtures::item(db, "A", "4.00").await;
    fixtures::warehouse(db, "WEST").await;
    fixtures::receive(db, "WEST", "A", 10).await;
    let mut sides = [
        Side {
            warehouse: "EAST",
            channel: "WEB",
            ids: BTreeMap::new(),
        },
        Side {
            warehouse: "CENTRAL",
            channel: "B2B",
            ids: BTreeMap::new(),
        },
    ];
    for side in &mut sides {
        let (w, c) = (side.warehouse, side.channel);
        fixtures::warehouse(db, w).await;
        fixtures::receive(db, w, "A", 100).await;
        fixtures::channel(db, (c, "web", "USD"), &[w], None).await;
        let order = |n: &str| {
            let mut o = fixtures::web_order(&format!("{c}-{n}"), &[("A", 1)]);
            o.channel = c.into();
            serde_json::to_value(o).unwrap()
        };
        let (s, shipped) = call(app, "POST", "/api/v1/orders", admin, Some(order("1")), &[]).await;
        assert_eq!(s, 201, "{shipped}");
        let wave = fixtures::ship_oldest(db, w).await;
        let (s, open) = call(app, "POST", "/api/v1/orders", admin, Some(order("2")), &[]).await;
        assert_eq!(s, 201, "{open}");
        let open_id = open["id"].as_str().unwrap().to_string();
        let (s, held) = call(
            app,
            "POST",
            &format!("/api/v1/orders/{open_id}/holds"),
            admin,
            Some(json!({"detail": "check the address"})),
            &[],
        )
        .await;
        assert_eq!(s, 200, "{held}");
        let (s, delivery) = call(
            app,
            "POST",
            "/api/v1/deliveries",
            admin,
            Some(json!({"warehouse": w})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{delivery}");
        let (s, transfer) = call(
            app,
            "POST",
            "/api/v1/stock/transfers",
            admin,
            Some(json!({"from": "WEST", "to": w, "lines": [{"sku": "A", "quantity": 1}]})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{transfer}");
        let (s, count) = call(
            app,
            "POST",
            "/api/v1/counts",
            admin,
            Some(json!({"warehouse": w, "location": "A-01-01"})),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{count}");
        let (s, report) = send(
            app,
            "post",
            &format!("/api/v1/channels/{c}/order-reports"),
            Some(admin),
            &sample_body("post", "/api/v1/channels/{code}/order-reports"),
        )
        .await;
        assert_eq!(s, 202, "{report}");
        let report: Value = serde_json::from_str(&report).unwrap();

        let scalar = |sql: &'static str, key: String| async move {
            sqlx::query_scalar::<_, String>(sql)
                .bind(key)
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };
        let shipped_id = shipped["id"].as_str().unwrap().to_string();
        let ids = &mut side.ids;
        ids.insert("order", open_id.clone());
        ids.insert(
            "reservation",
            open["reservation"]["id"].as_str().unwrap().into(),
        );
        ids.insert(
            "hold",
            scalar(
                "select hold_id from order_hold where order_id = $1",
                open_id.clone(),
            )
            .await,
        );
        ids.insert(
            "fulfillment",
            scalar(
                "select fulfillment_id from fulfillment where order_id = $1",
                shipped_id.clone(),
            )
            .await,
        );
        ids.insert(
            "shipment",
            scalar(
                "select s.shipment_id from shipment s join fulfillment f on f.fulfillment_id = s.fulfillment_id where f.order_id = $1",
                shipped_id,
            )
            .await,
        );
        ids.insert("wave", wave);
        ids.insert("delivery", delivery["number"].as_str().unwrap().to_string());
        ids.insert("transfer", transfer["id"].as_str().unwrap().to_string());
        ids.insert("count", count["id"].as_str().unwrap().to_string());
        ids.insert("report", report["id"].as_str().unwrap().to_string());
        ids.insert("warehouse", w.to_string());
        ids.insert("channel", c.to_string());
    }
    let clock = backend::Clock::System;
    analytics::project(db, &clock, &Default::default())
        .await
        .unwrap();
    for side in &mut sides {
        let exception = sqlx::query_scalar::<_, String>(
            "select exception_id from exception_item where warehouse_code = $1 or channel_code = $2 order by opened_at limit 1",
        )
        .bind(side.warehouse)
        .bind(side.channel)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        side.ids.insert("exception", exception);
    }
    sides
}

#[tokio::test]
async fn every_record_route_in_scope_and_out_of_it() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let [inside, outside] = two_sides(&db, &app, &admin).await;
        // The same paths with every scoped record made up.
        let nowhere = Side {
            warehouse: ABSENT,
            channel: ABSENT,
            ids: inside.ids.keys().map(|k| (*k, ABSENT.to_string())).collect(),
        };
        let mut scoped = vec![];
        for role in Role::ALL {
            let scope = Scope {
                warehouses: vec![inside.warehouse.into()],
                channels: vec![inside.channel.into()],
            };
            let t = backend::governance::create_token(
                &db,
                &Ctx::system("test"),
                &format!("scoped-{role}"),
                role.as_str(),
                scope,
            )
            .await
            .unwrap()
            .secret;
            scoped.push((role, t));
        }

        let mut pairs = 0;
        // Reads first, then writes, so a write can't hide a read's answer.
        let mut routes: Vec<_> = ROUTES.iter().filter(|r| r.path.contains('{')).collect();
        routes.sort_by_key(|r| r.method != "get");
        for r in routes {
            let what = format!("{} {}", r.method, r.path);
            let Some(kind) = kind_of(r.path) else {
                assert!(
                    UNSCOPED.iter().any(|p| r.path.starts_with(p)),
                    "{what}: which warehouse or channel do its records belong to? \
                     Add it to kind_of or UNSCOPED"
                );
                continue;
            };
            let (Some(permission), false) = (r.permission, kind == "signed") else {
                continue;
            };
            let body = sample_body(r.method, r.path);
            // The one query a read needs besides the record.
            let query = if r.path.ends_with("/availability") { "?sku=A" } else { "" };
            let (absent, _) = nowhere.path(r.path);
            let (in_path, _) = inside.path(r.path);
            let (out_path, out_ids) = outside.path(r.path);
            let (absent, in_path, out_path) = (absent + query, in_path + query, out_path + query);
            for (role, t) in scoped.iter().filter(|(role, _)| can(*role, permission)) {
                let missing = send(&app, r.method, &absent, Some(t), &body).await;
                let before = events(&db, *role).await;
                let out = send(&app, r.method, &out_path, Some(t), &body).await;
                if ["warehouse", "channel"].contains(&kind) {
                    // Warehouses and channels are named, not hidden: every
                    // caller lists them. Outside the scope is said as such.
                    assert_eq!(out.0, 403, "{what} as {role}: {}", out.1);
                    assert!(out.1.contains("not assigned to"), "{what} as {role}: {}", out.1);
                } else {
                    assert_eq!(
                        normalised(&out, &out_ids),
                        normalised(&missing, &[]),
                        "{what} as {role}: a record outside the scope reads as one that doesn't exist"
                    );
                }
                assert_eq!(
                    events(&db, *role).await,
                    before,
                    "{what} as {role}: out of scope changed something"
                );
                let got = send(&app, r.method, &in_path, Some(t), &body).await;
                settle(&db).await;
                if r.method == "get" {
                    assert_eq!(got.0, 200, "{what} as {role}: {}", got.1);
                } else {
                    assert!(
                        ![401, 403, 404].contains(&got.0),
                        "{what} as {role}: in scope, the record is acted on: {} {}",
                        got.0,
                        got.1
                    );
                }
                pairs += 1;
            }
        }
        assert!(pairs > 100, "{pairs} pairs");

        // Every list a scoped caller reads leaves out the other side's
        // records (warehouses and channels themselves are named to all).
        let hidden: Vec<(&str, &String)> = outside
            .ids
            .iter()
            .filter(|(k, _)| !["warehouse", "channel"].contains(k))
            .map(|(k, v)| (*k, v))
            .collect();
        let mut lists = 0;
        for r in ROUTES.iter().filter(|r| r.method == "get" && !r.path.contains('{')) {
            let Some(permission) = r.permission else {
                continue;
            };
            for (role, t) in scoped.iter().filter(|(role, _)| can(*role, permission)) {
                let (status, body) = send(&app, "get", r.path, Some(t), "").await;
                for (kind, id) in &hidden {
                    assert!(
                        !body.contains(id.as_str()),
                        "GET {} as {role} ({status}) shows the other side's {kind} {id}",
                        r.path
                    );
                }
                lists += 1;
            }
        }
        assert!(lists > 50, "{lists} lists");
    })
    .await;
}
