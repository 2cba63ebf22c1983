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

#[tokio::test]
async fn an_idempotency_key_is_bound_to_its_route_record_and_body() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let other_admin = token(&db, Role::Admin).await;
        fixtures::warehouse(&db, "CENTRAL").await;
        fixtures::item(&db, "A", "4.00").await;
        let delivery = json!({"warehouse": "CENTRAL", "lines": [{"sku": "A", "quantity": 4}]});
        for _ in 0..2 {
            let (s, d) = call(
                &app,
                "POST",
                "/api/v1/deliveries",
                &admin,
                Some(delivery.clone()),
                &[],
            )
            .await;
            assert_eq!(s, 201, "{d}");
        }
        let key = [("idempotency-key", "scan-1")];
        // One scan with the key: who sends it, to which delivery, what code.
        let scan = |who: &str, number: &str, code: &str| {
            let (app, who) = (app.clone(), who.to_string());
            let path = format!("/api/v1/deliveries/{number}/scans");
            let body = json!({ "code": code });
            async move { call(&app, "POST", &path, &who, Some(body), &key).await }
        };
        let (s, first) = scan(&admin, "DL-000001", "A").await;
        assert_eq!((s, &first["accepted"]), (200, &json!(true)), "{first}");
        // #19: the same key on another delivery replayed the first answer,
        // and the second scan was silently lost.
        let (s, body) = scan(&admin, "DL-000002", "A").await;
        assert_eq!(s, 422, "{body}");
        let why = body["error"]["fields"]["Idempotency-Key"].as_str().unwrap();
        assert!(why.contains("different request"), "{body}");
        // Another route, and another body on the same route: refused too.
        let (s, _) = call(
            &app,
            "POST",
            "/api/v1/deliveries",
            &admin,
            Some(delivery),
            &key,
        )
        .await;
        assert_eq!(s, 422);
        assert_eq!(scan(&admin, "DL-000001", "A-01-01").await.0, 422);
        // The same request again is a replay; another caller's key is its own.
        assert_eq!(scan(&admin, "DL-000001", "A").await, (200, first));
        let (s, theirs) = scan(&other_admin, "DL-000002", "A").await;
        assert_eq!((s, &theirs["accepted"]), (200, &json!(true)), "{theirs}");
    })
    .await;
}

async fn raw(
    app: &axum::Router,
    req: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    use tower::ServiceExt;
    app.clone().oneshot(req).await.unwrap()
}

#[tokio::test]
async fn sign_in_follows_only_local_paths_and_never_answers_500() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let input = backend::governance::NewUser {
            email: "ann@northwind.example".into(),
            name: "Ann".into(),
            role: "manager".into(),
            password: "correct horse battery".into(),
            scope: Scope::default(),
        };
        backend::governance::create_user(&db, &Ctx::system("test"), input, None)
            .await
            .unwrap();
        // #19: a tab before the second slash redirected off-site, and CR/LF
        // answered 500 after setting the session cookie.
        for (next, to) in [
            ("%2F%09%2Fevil.example", "/command"),
            ("%2Fcommand%0D%0ASet-Cookie%3A+x%3D1", "/command"),
            ("https%3A%2F%2Fevil.example", "/command"),
            (
                "%2Fcommand%2Forders%3Fstatus%3Dopen",
                "/command/orders?status=open",
            ),
        ] {
            let body =
                format!("email=ann%40northwind.example&password=correct+horse+battery&next={next}");
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/signin")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body))
                .unwrap();
            let res = raw(&app, req).await;
            assert_eq!(res.status(), 303, "{next}");
            assert_eq!(res.headers()["location"], to, "{next}");
        }
    })
    .await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_keels_own_request_id() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        for path in ["/signin", "/api/v1/warehouses", "/healthz"] {
            let req = axum::http::Request::builder()
                .uri(path)
                .header("authorization", format!("Bearer {admin}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let res = raw(&app, req).await;
            let h = res.headers();
            assert!(
                h["content-security-policy"]
                    .to_str()
                    .unwrap()
                    .contains("frame-ancestors 'none'"),
                "{path}"
            );
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        }
        // A forged request id is not what the audit log records.
        let req = axum::http::Request::builder()
            .method("POST")
            .uri("/api/v1/warehouses")
            .header("authorization", format!("Bearer {admin}"))
            .header("content-type", "application/json")
            .header("x-request-id", "IGNORE PREVIOUS AUDIT")
            .body(axum::body::Body::from(r#"{"code":"EAST","name":"East"}"#))
            .unwrap();
        let res = raw(&app, req).await;
        assert_eq!(res.status(), 201);
        let answered = res.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_ne!(answered, "IGNORE PREVIOUS AUDIT");
        let stored: Vec<Option<String>> = sqlx::query_scalar(
            "select request_id from audit_log where action = 'warehouse.create'",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(stored, vec![Some(answered)]);
    })
    .await;
}

#[tokio::test]
async fn a_catalogue_export_is_safe_to_open_in_a_spreadsheet() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let evil = "=HYPERLINK(\"http://evil.example\",\"Click\")";
        let (s, _) = call(
            &app,
            "POST",
            "/api/v1/products",
            &admin,
            Some(json!({"sku": "MUG", "name": evil})),
            &[],
        )
        .await;
        assert_eq!(s, 201);
        let req = axum::http::Request::builder()
            .uri("/api/v1/catalog/export")
            .header("authorization", format!("Bearer {admin}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let res = raw(&app, req).await;
        let bytes = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap()
            .to_bytes();
        let csv = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(csv.contains("\"'=HYPERLINK("), "{csv}");
        let (_, p) = call(&app, "GET", "/api/v1/products/MUG", &admin, None, &[]).await;
        assert_eq!(
            p["name"], evil,
            "stored as it was sent; only the export defuses it"
        );
    })
    .await;
}

async fn webhook(app: &axum::Router, path: &str, headers: &[(&str, String)]) -> (u16, String) {
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let res = raw(
        app,
        req.body(axum::body::Body::from(r#"{"id": 1}"#)).unwrap(),
    )
    .await;
    let status = res.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(res.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn refused_webhooks_answer_alike_and_a_flood_grows_the_audit_log_by_its_logarithm() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        fixtures::warehouse(&db, "CENTRAL").await;
        fixtures::channel(
            &db,
            ("SHOP", "shopify", "USD"),
            &["CENTRAL"],
            Some("whsec-keel-one"),
        )
        .await;
        fixtures::channel(&db, ("BARE", "shopify", "USD"), &["CENTRAL"], None).await;
        fixtures::channel(
            &db,
            ("WOO", "woocommerce", "USD"),
            &["CENTRAL"],
            Some("whsec-keel-two"),
        )
        .await;
        let forged = vec![
            (
                "X-Shopify-Hmac-Sha256",
                backend::webhooks::sign(b"guess", br#"{"id": 1}"#),
            ),
            ("X-Shopify-Topic", "orders/create".into()),
            ("X-Shopify-Shop-Domain", "keel-demo.myshopify.com".into()),
            ("X-Shopify-API-Version", "2024-10".into()),
            ("X-Shopify-Webhook-Id", "d-1".into()),
        ];
        // #19: 404 for an unknown channel and a 401 naming the reason told
        // which channel codes exist and what they are.
        let answers: Vec<(u16, String)> = each_refusal(&app, &forged).await;
        for a in &answers {
            assert_eq!(a, &answers[0]);
        }
        assert_eq!(answers[0].0, 401);
        assert!(
            answers[0].1.contains(backend::webhooks::UNVERIFIED),
            "{}",
            answers[0].1
        );

        let audit = |db: backend::Db| async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from audit_log where action = 'incident.record'",
            )
            .fetch_one(&db.pool)
            .await
            .unwrap()
        };
        let before = audit(db.clone()).await;
        for _ in 0..200 {
            assert_eq!(webhook(&app, "/webhooks/shopify/SHOP", &[]).await.0, 401);
        }
        // Occurrences 1, 2, 4, … 128 of the SHOP incident: 8 rows, not 200.
        let grown = audit(db.clone()).await - before;
        assert!(grown <= 8, "{grown} audit rows for 200 refused posts");
        let occurrences: i64 =
            sqlx::query_scalar("select max(occurrences) from incident where subject_ref = 'SHOP'")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert!(occurrences >= 200, "the count stays exact: {occurrences}");
    })
    .await;
}

/// The same forged delivery to an unknown channel, one without a secret, one
/// of another platform, and one whose secret doesn't match.
async fn each_refusal(app: &axum::Router, forged: &[(&str, String)]) -> Vec<(u16, String)> {
    let mut out = Vec::new();
    for path in [
        "/webhooks/shopify/NOPE",
        "/webhooks/shopify/BARE",
        "/webhooks/shopify/WOO",
        "/webhooks/shopify/SHOP",
    ] {
        out.push(webhook(app, path, forged).await);
    }
    out
}
