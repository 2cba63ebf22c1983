//! HTTP tests for the warehouse floor: a wave picked by scans through the
//! API (refusals answered 200 with accepted=false, replays by
//! Idempotency-Key), the label blocked until the pack verifies, shipping, and
//! the labels themselves: the ZPL's barcode command, and the PDF rendered by
//! Poppler's pdftoppm and read back by ZBar's zbarimg.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::{body::Body, http::Request};
use backend::testing::{fixtures, with_db, Target};
use common::{app, call, token};
use domain::governance::Role;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn raw(app: &axum::Router, path: &str, bearer: &str) -> (u16, String, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {bearer}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        ct,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

/// Runs a Debian tool the CI script installs; its absence fails loudly.
fn tool(name: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is needed for this test (Debian: poppler-utils, zbar-tools; .ci/run installs them): {e}"))
}

#[tokio::test]
async fn a_wave_is_picked_packed_and_shipped_through_the_api_with_labels_that_scan() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let agent = token(&db, Role::Warehouse).await;
        let support = token(&db, Role::Support).await;
        fixtures::warehouse(&db, "EAST").await;
        fixtures::item(&db, "MUG", "3.00").await;
        fixtures::receive(&db, "EAST", "MUG", 5).await;
        let channel = json!({"code": "web", "kind": "web", "currency": "USD", "warehouses": ["EAST"]});
        assert_eq!(call(&app, "POST", "/api/v1/channels", &admin, Some(channel), &[]).await.0, 201);
        let order = json!({
            "channel": "WEB", "external_id": "L-1", "currency": "USD", "customer": "ann@example.com",
            "lines": [{"sku": "MUG", "quantity": 2, "unit_price": "5.00"}],
            "shipping": {"address": {"name": "Ann Lee", "line1": "1 Main St", "city": "Austin", "region": "TX", "postcode": "78701", "country": "US"}, "price": "4.00", "method": "Ground"},
            "payment_status": "paid"
        });
        let (s, created) = call(&app, "POST", "/api/v1/orders", &admin, Some(order), &[]).await;
        assert_eq!(s, 201, "{created}");

        let (s, _) = call(&app, "POST", "/api/v1/waves", &support, Some(json!({"warehouse": "EAST"})), &[]).await;
        assert_eq!(s, 403);
        let (s, bad) = call(&app, "POST", "/api/v1/waves", &agent, Some(json!({"warehouse": "EAST", "max_orders": 0})), &[]).await;
        assert_eq!((s, &bad["error"]["fields"]["max_orders"]), (422, &json!("use 1 to 200 orders per wave")));
        let (s, wave) = call(&app, "POST", "/api/v1/waves", &agent, Some(json!({"warehouse": "EAST"})), &[]).await;
        assert_eq!(s, 201, "{wave}");
        let (s, none) = call(&app, "POST", "/api/v1/waves", &agent, Some(json!({"warehouse": "EAST"})), &[]).await;
        assert_eq!((s, &none["error"]["code"]), (409, &json!("nothing_to_pick")));
        let w = wave["id"].as_str().unwrap();
        assert_eq!(wave["tasks"][0]["location"], "A-01-01");
        let scans = format!("/api/v1/waves/{w}/scans");

        let (s, refused) = call(&app, "POST", &scans, &agent, Some(json!({"code": "Z-09-09"})), &[]).await;
        assert_eq!((s, &refused["accepted"]), (200, &json!(false)));
        assert_eq!(refused["message"], "Wrong bin: you scanned Z-09-09. Go to bin A-01-01.");
        let (s, _) = call(&app, "POST", &scans, &agent, Some(json!({"code": ""})), &[]).await;
        assert_eq!(s, 422);
        for (code, key) in [("A-01-01", "k1"), ("MUG", "k2"), ("2", "k3"), ("2", "k3")] {
            let (s, out) = call(&app, "POST", &scans, &agent, Some(json!({"code": code})), &[("idempotency-key", key)]).await;
            assert_eq!((s, &out["accepted"]), (200, &json!(true)), "{code}: {out}");
        }
        let (_, now) = call(&app, "GET", &format!("/api/v1/waves/{w}"), &agent, None, &[]).await;
        assert_eq!((&now["status"], &now["picked_units"]), (&json!("done"), &json!(2)), "the replayed k3 picked twice");
        let f = now["fulfillments"][0]["id"].as_str().unwrap().to_string();

        let ship = json!({"carrier": "UPS", "service": "Ground", "packages": [{"package": 1, "tracking": "1Z999AA10123456784"}]});
        let (s, blocked) = call(&app, "POST", &format!("/api/v1/fulfillments/{f}/ship"), &agent, Some(ship.clone()), &[]).await;
        assert_eq!((s, &blocked["error"]["code"]), (409, &json!("pack_not_verified")), "{blocked}");
        for _ in 0..2 {
            let (s, out) = call(&app, "POST", &format!("/api/v1/fulfillments/{f}/pack-scans"), &agent, Some(json!({"code": "MUG"})), &[]).await;
            assert_eq!((s, &out["accepted"]), (200, &json!(true)), "{out}");
        }
        let (s, blocked) = call(&app, "POST", &format!("/api/v1/fulfillments/{f}/ship"), &agent, Some(ship.clone()), &[]).await;
        assert_eq!(s, 409);
        assert_eq!(blocked["error"]["message"], "the label is blocked until the pack verifies: Package 1 needs its weight; Package 1 needs its dimensions");
        let (s, bad) = call(&app, "PUT", &format!("/api/v1/fulfillments/{f}/packages/1"), &agent, Some(json!({"weight_g": 900, "length_mm": 300, "width_mm": 200, "height_mm": 9000})), &[]).await;
        assert_eq!((s, &bad["error"]["fields"]["dimensions"]), (422, &json!("each side must be 1 to 2700 mm")));
        let (s, packed) = call(&app, "PUT", &format!("/api/v1/fulfillments/{f}/packages/1"), &agent, Some(json!({"weight_g": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100})), &[]).await;
        assert_eq!((s, &packed["verified"]), (200, &json!(true)), "{packed}");
        let (s, bad) = call(&app, "POST", &format!("/api/v1/fulfillments/{f}/ship"), &agent, Some(json!({"carrier": "UPS", "service": "Ground", "packages": [{"package": 1, "tracking": "1Z 99"}]})), &[]).await;
        assert_eq!(s, 422, "{bad}");
        let (s, shipment) = call(&app, "POST", &format!("/api/v1/fulfillments/{f}/ship"), &agent, Some(ship), &[]).await;
        assert_eq!(s, 201, "{shipment}");
        let sid = shipment["id"].as_str().unwrap();
        let (_, order) = call(&app, "GET", &format!("/api/v1/orders/{}", created["id"].as_str().unwrap()), &admin, None, &[]).await;
        assert_eq!((&order["status"], &order["lines"][0]["shipped_quantity"]), (&json!("shipped"), &json!(2)));
        let (_, stock) = call(&app, "GET", "/api/v1/stock/MUG", &admin, None, &[]).await;
        assert_eq!((&stock["on_hand"], &stock["reserved"]), (&json!(3), &json!(0)));

        let (s, ct, zpl) = raw(&app, &format!("/api/v1/shipments/{sid}/label?format=zpl"), &agent).await;
        assert_eq!((s, ct.as_str()), (200, "application/x-zpl"));
        let zpl = String::from_utf8(zpl).unwrap();
        assert!(zpl.contains("^BCN,220,Y,N,N^FD1Z999AA10123456784^FS"), "{zpl}");
        let (s, _, _) = raw(&app, &format!("/api/v1/shipments/{sid}/label?format=png"), &agent).await;
        assert_eq!(s, 422);
        let (s, ct, pdf) = raw(&app, &format!("/api/v1/shipments/{sid}/label?format=pdf"), &agent).await;
        assert_eq!((s, ct.as_str()), (200, "application/pdf"));
        let dir = std::env::temp_dir().join(format!("keel-label-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("label.pdf");
        std::fs::write(&file, &pdf).unwrap();
        let out = tool("pdftoppm", &["-r", "203", "-png", file.to_str().unwrap(), dir.join("page").to_str().unwrap()]);
        assert!(out.status.success(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
        let png = dir.join("page-1.png");
        let bytes = std::fs::read(&png).unwrap();
        // 4 × 6 inches at 203 dpi.
        let (w, h) = (u32::from_be_bytes(bytes[16..20].try_into().unwrap()), u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
        assert_eq!((w, h), (812, 1218));
        let out = tool("zbarimg", &["-q", "--raw", png.to_str().unwrap()]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1Z999AA10123456784");
        std::fs::remove_dir_all(&dir).unwrap();
        let body: Value = call(&app, "GET", &format!("/api/v1/shipments/{sid}"), &support, None, &[]).await.1;
        assert_eq!(body["packages"][0]["tracking"], "1Z999AA10123456784");
    })
    .await;
}

#[tokio::test]
async fn a_delivery_is_announced_received_by_scan_and_closed_through_the_api() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let manager = token(&db, Role::Manager).await;
        let agent = token(&db, Role::Warehouse).await;
        let support = token(&db, Role::Support).await;
        fixtures::warehouse(&db, "EAST").await;
        fixtures::item(&db, "MUG", "3.00").await;
        fixtures::item(&db, "CUP", "2.00").await;

        let delivery = json!({"warehouse": "EAST", "supplier": "Acme", "reference": "PO-88", "expected_on": "2026-12-01",
            "lines": [{"sku": "MUG", "quantity": 4}]});
        let (s, _) = call(&app, "POST", "/api/v1/deliveries", &support, Some(delivery.clone()), &[]).await;
        assert_eq!(s, 403);
        let bad = json!({"warehouse": "EAST", "expected_on": "tomorrow", "lines": [{"sku": "NOPE", "quantity": 1}]});
        let (s, err) = call(&app, "POST", "/api/v1/deliveries", &manager, Some(bad), &[]).await;
        assert_eq!(s, 422, "{err}");
        assert_eq!(err["error"]["fields"]["lines[0].sku"], "there is no product NOPE");
        assert_eq!(err["error"]["fields"]["expected_on"], "use a date as YYYY-MM-DD");
        let (_, list) = call(&app, "GET", "/api/v1/deliveries", &agent, None, &[]).await;
        assert_eq!(list["items"], json!([]));

        let (s, d) = call(&app, "POST", "/api/v1/deliveries", &manager, Some(delivery), &[("idempotency-key", "asn-88")]).await;
        assert_eq!(s, 201, "{d}");
        assert_eq!((d["number"].as_str(), d["status"].as_str(), d["units_expected"].as_i64()), (Some("DL-000001"), Some("expected"), Some(4)));
        let scans = "/api/v1/deliveries/DL-000001/scans";
        let (s, refused) = call(&app, "POST", scans, &agent, Some(json!({"code": "CUP"})), &[]).await;
        assert_eq!((s, &refused["accepted"]), (200, &json!(false)));
        assert_eq!(refused["message"], "CUP is not on this delivery. Set it aside and tell your lead, or receive it blind.");
        for (code, key) in [("MUG", "k1"), ("4", "k2"), ("A-01-01", "k3"), ("A-01-01", "k3")] {
            let (s, out) = call(&app, "POST", scans, &agent, Some(json!({"code": code})), &[("idempotency-key", key)]).await;
            assert_eq!((s, &out["accepted"]), (200, &json!(true)), "{code}: {out}");
        }
        let (_, d) = call(&app, "GET", "/api/v1/deliveries/DL-000001", &agent, None, &[]).await;
        assert_eq!(d["units_received"], 4);
        assert_eq!(d["puts"][0]["location"], "A-01-01");
        assert_eq!(d["puts"].as_array().unwrap().len(), 1, "the replayed bin scan put away once");
        let (_, stock) = call(&app, "GET", "/api/v1/stock/MUG", &agent, None, &[]).await;
        assert_eq!(stock["on_hand"], 4);

        let (s, _) = call(&app, "POST", "/api/v1/deliveries/DL-000001/close", &support, None, &[]).await;
        assert_eq!(s, 403);
        let (s, closed) = call(&app, "POST", "/api/v1/deliveries/DL-000001/close", &agent, None, &[]).await;
        assert_eq!((s, closed["status"].as_str()), (200, Some("closed")), "{closed}");
        let (s, late) = call(&app, "POST", scans, &agent, Some(json!({"code": "MUG"})), &[]).await;
        assert_eq!((s, &late["error"]["code"]), (409, &json!("delivery_closed")));

        // Blind: any item, any quantity; the pending item can be dropped.
        let (s, blind) = call(&app, "POST", "/api/v1/deliveries", &agent, Some(json!({"warehouse": "EAST"})), &[]).await;
        assert_eq!((s, &blind["blind"]), (201, &json!(true)));
        let b = format!("/api/v1/deliveries/{}", blind["id"].as_str().unwrap());
        let (_, out) = call(&app, "POST", &format!("{b}/scans"), &agent, Some(json!({"code": "CUP"})), &[]).await;
        assert_eq!(out["state"]["pending"]["sku"], "CUP");
        let (s, cleared) = call(&app, "DELETE", &format!("{b}/pending"), &agent, None, &[]).await;
        assert_eq!((s, &cleared["pending"]), (200, &json!(null)));
        let (_, open) = call(&app, "GET", "/api/v1/deliveries?status=open&warehouse=EAST", &agent, None, &[]).await;
        assert_eq!(open["items"].as_array().unwrap().len(), 1);
        let (s, _) = call(&app, "GET", "/api/v1/deliveries?status=lost", &agent, None, &[]).await;
        assert_eq!(s, 422);
    })
    .await;
}
