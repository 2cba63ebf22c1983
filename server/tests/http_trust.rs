//! HTTP tests for #19's defects found from outside: numbers beyond their
//! ranges and scans cut inside a character answer 4xx and change nothing,
//! an order's reservation is not the reservations API's to release, and
//! another warehouse's reservation reads as absent.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use backend::{
    governance,
    testing::{fixtures, with_db, Target},
    Ctx,
};
use common::{app, call, token};
use domain::governance::{Role, Scope};
use serde_json::json;

async fn scoped_token(db: &backend::Db, warehouse: &str) -> String {
    let scope = Scope {
        warehouses: vec![warehouse.into()],
        channels: vec![],
    };
    governance::create_token(db, &Ctx::system("test"), "east", "manager", scope)
        .await
        .unwrap()
        .secret
}

#[tokio::test]
async fn out_of_range_numbers_and_cut_scans_are_refused_and_change_nothing() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        fixtures::warehouse(&db, "CENTRAL").await;
        fixtures::item(&db, "A", "4.00").await;
        fixtures::receive(&db, "CENTRAL", "A", 50).await;
        fixtures::channel(&db, ("WEB", "web", "USD"), &["CENTRAL"], None).await;

        let adjust =
            json!({"warehouse": "CENTRAL", "sku": "A", "quantity": i64::MIN, "reason": "found"});
        let (s, body) = call(
            &app,
            "POST",
            "/api/v1/stock/adjustments",
            &admin,
            Some(adjust),
            &[],
        )
        .await;
        assert_eq!(s, 422, "{body}");
        assert_eq!(
            body["error"]["fields"]["quantity"],
            "use a whole number from -1,000,000 to 1,000,000, not 0"
        );
        let (_, stock) = call(&app, "GET", "/api/v1/stock/A", &admin, None, &[]).await;
        assert_eq!(stock["on_hand"], 50);

        let mut order = serde_json::to_value(fixtures::web_order("BIG", &[("A", 2)])).unwrap();
        order["lines"][0]["unit_price"] = json!("92233720368547758.07");
        let (s, body) = call(&app, "POST", "/api/v1/orders", &admin, Some(order), &[]).await;
        assert_eq!(s, 422, "{body}");
        assert_eq!(
            body["error"]["fields"]["lines[0].unit_price"],
            "use an amount from -1,000,000,000 to 1,000,000,000"
        );

        // A GS1-looking scan whose 16th byte falls inside a character.
        let delivery = json!({"warehouse": "CENTRAL", "lines": [{"sku": "A", "quantity": 4}]});
        let (s, d) = call(
            &app,
            "POST",
            "/api/v1/deliveries",
            &admin,
            Some(delivery),
            &[],
        )
        .await;
        assert_eq!(s, 201, "{d}");
        let scans = format!("/api/v1/deliveries/{}/scans", d["number"].as_str().unwrap());
        for code in ["01€€€€€", "]C101€€€€€", "(01)€"] {
            let (s, out) = call(
                &app,
                "POST",
                &scans,
                &admin,
                Some(json!({"code": code})),
                &[],
            )
            .await;
            assert_eq!((s, &out["accepted"]), (200, &json!(false)), "{code}: {out}");
        }
        let (_, metrics) = common::text(&app, "/metrics").await;
        assert!(metrics.contains("keel_panics_total 0"), "{metrics}");
        assert!(
            metrics.contains("keel_http_requests_total{class=\"5xx\"} 0"),
            "{metrics}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_orders_reservation_is_the_orders_and_another_warehouses_reads_as_absent() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        fixtures::warehouse(&db, "EAST").await;
        fixtures::warehouse(&db, "CENTRAL").await;
        let east = scoped_token(&db, "EAST").await;
        fixtures::item(&db, "A", "4.00").await;
        fixtures::receive(&db, "CENTRAL", "A", 50).await;
        fixtures::channel(&db, ("WEB", "web", "USD"), &["CENTRAL"], None).await;
        let order = serde_json::to_value(fixtures::web_order("W-1", &[("A", 35)])).unwrap();
        let (s, o) = call(&app, "POST", "/api/v1/orders", &admin, Some(order), &[]).await;
        assert_eq!(s, 201, "{o}");
        let r = format!(
            "/api/v1/reservations/{}",
            o["reservation"]["id"].as_str().unwrap()
        );

        for (method, path) in [
            ("GET", r.clone()),
            ("DELETE", r.clone()),
            ("POST", format!("{r}/consume")),
        ] {
            let (s, body) = call(&app, method, &path, &east, None, &[]).await;
            assert_eq!(
                (s, body["error"]["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}"
            );
        }
        for (method, path) in [("DELETE", r.clone()), ("POST", format!("{r}/consume"))] {
            let (s, body) = call(&app, method, &path, &admin, None, &[]).await;
            assert_eq!(
                (s, body["error"]["code"].as_str()),
                (409, Some("reservation_of_order")),
                "{method} {path}: {body}"
            );
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains(o["number"].as_str().unwrap()),
                "{body}"
            );
        }
        let (_, stock) = call(&app, "GET", "/api/v1/stock/A", &admin, None, &[]).await;
        assert_eq!(
            (stock["on_hand"].as_i64(), stock["reserved"].as_i64()),
            (Some(50), Some(35))
        );
        fixtures::assert_no_drift(&db).await;
    })
    .await;
}
