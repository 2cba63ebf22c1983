//! HTTP tests for the catalogue and stock API: the oversell test over real
//! ports with two instances sharing one database (SQLite and PostgreSQL), and
//! the contract shapes of products, receipts, stock, ATP and reservations.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

mod common;
use common::{app, call, token};

use backend::{
    testing::{with_db, Target},
    Ctx, Db,
};
use domain::governance::Role;
use serde_json::{json, Value};

async fn serve(db: Db) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(&db);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    format!("http://{addr}")
}

/// 300 concurrent single-unit reservations for 10 units split over two
/// warehouses, sent alternately to two server instances with their own pools.
async fn contention(db: Db) {
    let manager = token(&db, Role::Manager).await;
    let local = app(&db);
    for (code, qty) in [("EAST", 6), ("WEST", 4)] {
        assert_eq!(
            call(
                &local,
                "POST",
                "/api/v1/warehouses",
                &manager,
                Some(json!({"code": code, "name": code})),
                &[]
            )
            .await
            .0,
            201
        );
        let receipt = json!({"warehouse": code, "lines": [{"sku": "HOT-1", "quantity": qty}]});
        if code == "EAST" {
            let p = json!({"sku": "HOT-1", "name": "Hot item", "gtin": "4006381333931"});
            assert_eq!(
                call(&local, "POST", "/api/v1/products", &manager, Some(p), &[])
                    .await
                    .0,
                201
            );
        }
        assert_eq!(
            call(
                &local,
                "POST",
                "/api/v1/stock/receipts",
                &manager,
                Some(receipt),
                &[]
            )
            .await
            .0,
            201
        );
    }
    let second = db.another_instance().await.unwrap();
    let bases = Arc::new([serve(db.clone()).await, serve(second.clone()).await]);
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..300 {
        let (client, bases, manager) = (client.clone(), bases.clone(), manager.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{}/api/v1/reservations", bases[i % 2]))
                .bearer_auth(&manager)
                .json(&json!({"reference": format!("ORD-{i}"), "lines": [{"sku": "HOT-1", "quantity": 1}]}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }));
    }
    let (mut created, mut refused) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => created += 1,
            409 => {
                assert_eq!(body["error"]["code"], "insufficient_stock", "{body}");
                assert_eq!(
                    body["error"]["fields"]["lines[0].quantity"], "requested 1, only 0 available",
                    "{body}"
                );
                refused += 1;
            }
            other => panic!("status {other}: {body}"),
        }
    }
    assert_eq!((created, refused), (10, 290));
    let (_, stock) = call(&local, "GET", "/api/v1/stock/HOT-1", &manager, None, &[]).await;
    assert_eq!(
        (
            stock["on_hand"].as_i64(),
            stock["reserved"].as_i64(),
            stock["available"].as_i64()
        ),
        (Some(10), Some(10), Some(0)),
        "{stock}"
    );
    assert!(backend::inventory::check(&db).await.unwrap().is_empty());
    second.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_sqlite_sell_exactly_the_ten_units() {
    with_db(Target::Sqlite, contention).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_postgres_sell_exactly_the_ten_units() {
    with_db(Target::Postgres, contention).await;
}

#[tokio::test]
async fn the_catalogue_and_stock_contract() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let agent = token(&db, Role::Warehouse).await;
        call(&app, "POST", "/api/v1/warehouses", &admin, Some(json!({"code": "EAST", "name": "East"})), &[]).await;
        call(&app, "POST", "/api/v1/warehouses", &admin, Some(json!({"code": "WEST", "name": "West"})), &[]).await;
        let channel = domain::orders::NewChannel::parse("WEB", "Web", "web", "USD", &["EAST".into(), "WEST".into()]).unwrap();
        backend::orders::create_channel(&db, &Ctx::system("test"), channel, None).await.unwrap();

        // A wrong check digit is refused with the digit that was expected.
        let (status, body) = call(&app, "POST", "/api/v1/products", &admin, Some(json!({"sku": "A", "name": "A", "gtin": "4006381333932"})), &[]).await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["fields"]["gtin"], "check digit is wrong: expected 1, got 2");
        // Warehouse agents move stock but don't edit the catalogue.
        let (status, _) = call(&app, "POST", "/api/v1/products", &agent, Some(json!({"sku": "A", "name": "A"})), &[]).await;
        assert_eq!(status, 403);
        let product = json!({"sku": "A", "name": "Part A", "gtin": "4006381333931",
            "prices": [{"currency": "USD", "cost": "2.50", "price": "9.99"}]});
        let (status, a) = call(&app, "POST", "/api/v1/products", &admin, Some(product.clone()), &[("idempotency-key", "p-a")]).await;
        assert_eq!(status, 201, "{a}");
        assert_eq!(a["prices"][0]["price"], json!({"amount": "9.99", "currency": "USD"}));
        let (status, again) = call(&app, "POST", "/api/v1/products", &admin, Some(product), &[("idempotency-key", "p-a")]).await;
        assert_eq!((status, &again["id"]), (201, &a["id"]), "a replay returns the first result");
        call(&app, "POST", "/api/v1/products", &admin, Some(json!({"sku": "B", "name": "Part B"})), &[]).await;
        let (status, kit) = call(&app, "POST", "/api/v1/products", &admin,
            Some(json!({"sku": "KIT", "name": "Kit", "components": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]})), &[]).await;
        assert_eq!((status, kit["kind"].as_str()), (201, Some("bundle")));

        let receipt = json!({"warehouse": "EAST", "reference": "PO-1", "lines": [{"sku": "A", "quantity": 7}, {"sku": "B", "quantity": 5, "location": "Z-9-9"}]});
        let (status, body) = call(&app, "POST", "/api/v1/stock/receipts", &agent, Some(receipt), &[]).await;
        assert_eq!(status, 422, "an unknown bin refuses the whole receipt");
        assert!(body["error"]["fields"]["lines[1].location"].as_str().unwrap().contains("no bin Z-9-9"), "{body}");
        let (_, stock) = call(&app, "GET", "/api/v1/stock/A", &agent, None, &[]).await;
        assert_eq!(stock["on_hand"], 0, "nothing was written");
        let receipt = json!({"warehouse": "EAST", "reference": "PO-1", "lines": [{"sku": "A", "quantity": 7}, {"sku": "B", "quantity": 5}]});
        assert_eq!(call(&app, "POST", "/api/v1/stock/receipts", &agent, Some(receipt), &[]).await.0, 201);

        let (_, stock) = call(&app, "GET", "/api/v1/stock/KIT", &agent, None, &[]).await;
        assert_eq!((stock["kind"].as_str(), stock["available"].as_i64()), (Some("bundle"), Some(3)));
        let (_, atp) = call(&app, "GET", "/api/v1/channels/WEB/availability?sku=A", &agent, None, &[]).await;
        assert_eq!(atp["available"], 7);
        assert_eq!(atp["warehouses"], json!([{"warehouse": "EAST", "available": 7}, {"warehouse": "WEST", "available": 0}]));

        let (status, r) = call(&app, "POST", "/api/v1/reservations", &admin,
            Some(json!({"reference": "ORD-1", "channel": "WEB", "lines": [{"sku": "KIT", "quantity": 2}]})), &[]).await;
        assert_eq!(status, 201, "{r}");
        assert_eq!(r["lines"][0]["allocations"], json!([{"sku": "A", "warehouse": "EAST", "quantity": 4}, {"sku": "B", "warehouse": "EAST", "quantity": 2}]));
        let (_, atp) = call(&app, "GET", "/api/v1/channels/WEB/availability?sku=A", &agent, None, &[]).await;
        assert_eq!(atp["available"], 3, "selling a bundle reserves its components");
        let (status, body) = call(&app, "POST", "/api/v1/reservations", &admin,
            Some(json!({"reference": "ORD-2", "lines": [{"sku": "KIT", "quantity": 2}]})), &[]).await;
        assert_eq!(status, 409);
        assert_eq!(body["error"]["message"], "not enough stock of KIT: requested 2, available 1");
        let id = r["id"].as_str().unwrap();
        let (status, released) = call(&app, "DELETE", &format!("/api/v1/reservations/{id}"), &admin, None, &[]).await;
        assert_eq!((status, released["status"].as_str()), (200, Some("released")));
        let (status, _) = call(&app, "DELETE", &format!("/api/v1/reservations/{id}"), &admin, None, &[]).await;
        assert_eq!(status, 409);

        let (status, body) = call(&app, "GET", "/api/v1/stock/NOPE", &agent, None, &[]).await;
        assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
        let (status, _) = call(&app, "GET", "/api/v1/channels/NOPE/availability?sku=A", &agent, None, &[]).await;
        assert_eq!(status, 404);
        let (status, moves) = call(&app, "GET", "/api/v1/stock/A/movements?limit=1", &agent, None, &[]).await;
        assert_eq!((status, moves["items"][0]["kind"].as_str()), (200, Some("receipt")));
        let (_, list) = call(&app, "GET", "/api/v1/products?kind=bundle", &agent, None, &[]).await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    })
    .await;
}
