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
        person(
            &db,
            "ann@northwind.example",
            "manager",
            "correct horse battery",
        )
        .await;
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
                .header("origin", "http://localhost")
                .header("host", "localhost")
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

/// A form post as a browser sends it from our own page, with an optional cookie.
fn form(path: &str, body: &str, cookie: Option<&str>) -> axum::http::Request<axum::body::Body> {
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "http://localhost")
        .header("host", "localhost");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.body(axum::body::Body::from(body.to_string())).unwrap()
}

async fn body_text(res: axum::response::Response) -> String {
    use http_body_util::BodyExt;
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn the_portal_shows_a_proven_order_in_a_session_of_its_own_and_throttles_guessing() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        fixtures::warehouse(&db, "CENTRAL").await;
        fixtures::item(&db, "A", "4.00").await;
        fixtures::receive(&db, "CENTRAL", "A", 50).await;
        fixtures::channel(&db, ("WEB", "web", "USD"), &["CENTRAL"], None).await;
        let order = backend::orders::capture(
            &db,
            &fixtures::sys(),
            fixtures::web_order("PORTAL-1", &[("A", 2)]),
            None,
            None,
        )
        .await
        .unwrap()
        .order;
        let number = order.number.clone();

        // Without a portal session, the order page's data is not there.
        let res = raw(&app, form("/sfn/portal_view", "", None)).await;
        assert_eq!(res.status(), 404);

        // A wrong email: the one answer for every miss, and no cookie.
        let res = raw(
            &app,
            form(
                "/portal",
                &format!("order={number}&contact=eve%40example.com"),
                None,
            ),
        )
        .await;
        assert_eq!(res.status(), 303);
        assert!(res.headers().get("set-cookie").is_none());
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to.starts_with(&format!("/portal?value_order={number}&error=We%20couldn")),
            "{to}"
        );
        assert!(
            !to.contains("eve"),
            "the email never goes into the address: {to}"
        );
        // A postcode alone is not enough.
        let res = raw(
            &app,
            form("/portal", &format!("order={number}&contact=78701"), None),
        )
        .await;
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.contains("error_detail="), "{to}");

        // The right email opens a session for that order.
        let res = raw(
            &app,
            form(
                "/portal",
                &format!("order={number}&contact=ann%40example.com"),
                None,
            ),
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/portal/order");
        let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            set.starts_with("keel_portal=") && set.contains("HttpOnly"),
            "{set}"
        );
        assert!(set.contains("Max-Age=1800"), "{set}");
        let cookie = set.split(';').next().unwrap().to_string();
        let res = raw(&app, form("/sfn/portal_view", "", Some(&cookie))).await;
        assert_eq!(res.status(), 200);
        let seen: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(seen["number"], number.as_str());
        assert_eq!(seen["lines"][0]["quantity"], 2);
        assert!(seen.get("customer_email").is_none(), "{seen}");
        // The page itself, server-rendered.
        let req = axum::http::Request::builder()
            .uri("/portal/order")
            .header("cookie", &cookie)
            .body(axum::body::Body::empty())
            .unwrap();
        let page = body_text(raw(&app, req).await).await;
        assert!(
            page.contains(&format!("Order {number}")) || page.contains(&number),
            "no order on the page"
        );
        assert!(page.contains("Product A"), "no items on the page");

        // Done ends it.
        let res = raw(&app, form("/portal/done", "", Some(&cookie))).await;
        assert_eq!(res.status(), 303);
        let res = raw(&app, form("/sfn/portal_view", "", Some(&cookie))).await;
        assert_eq!(res.status(), 404);

        // Five misses lock the number, whatever comes next.
        for _ in 0..5 {
            raw(
                &app,
                form(
                    "/portal",
                    &format!("order={number}&contact=x%40example.com"),
                    None,
                ),
            )
            .await;
        }
        let res = raw(
            &app,
            form(
                "/portal",
                &format!("order={number}&contact=ann%40example.com"),
                None,
            ),
        )
        .await;
        assert!(res.headers().get("set-cookie").is_none());
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.contains("error=Too%20many%20lookups"), "{to}");
    })
    .await;
}

/// A person who signs in with `password`.
async fn person(db: &backend::Db, email: &str, role: &str, password: &str) {
    let input = backend::governance::NewUser {
        email: email.into(),
        name: "Test Person".into(),
        role: role.into(),
        password: password.into(),
        scope: Scope::default(),
    };
    backend::governance::create_user(db, &Ctx::system("test"), input, None)
        .await
        .unwrap();
}

/// Signs in through the form as a browser would; the session and csrf cookies.
async fn browser_session(app: &axum::Router, email: &str, password: &str) -> (String, String) {
    let body = format!(
        "email={}&password={}&next=%2Fcommand",
        app::components::url::urlencode(email),
        app::components::url::urlencode(password)
    );
    let res = raw(app, form("/signin", &body, None)).await;
    assert_eq!(res.status(), 303);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect();
    let find = |name: &str| {
        cookies
            .iter()
            .find(|c| c.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"))
            .clone()
    };
    (find("keel_session="), find("keel_csrf="))
}

#[tokio::test]
async fn cookie_authorized_changes_from_other_sites_or_nowhere_are_refused() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        person(
            &db,
            "ann@northwind.example",
            "admin",
            "correct horse battery",
        )
        .await;
        fixtures::warehouse(&db, "CENTRAL").await;
        fixtures::channel(&db, ("WEB", "web", "USD"), &["CENTRAL"], None).await;
        let (session, csrf) =
            browser_session(&app, "ann@northwind.example", "correct horse battery").await;
        let events = || async {
            sqlx::query_scalar::<_, i64>("select count(*) from event")
                .fetch_one(&db.pool)
                .await
                .unwrap()
        };
        let before = events().await;
        let post = |path: &str, ctype: &str, body: &str, extra: &[(&str, &str)]| {
            let mut req = axum::http::Request::builder()
                .method("POST")
                .uri(path)
                .header("host", "localhost")
                .header("content-type", ctype)
                .header("cookie", &session);
            for (k, v) in extra {
                req = req.header(*k, *v);
            }
            req.body(axum::body::Body::from(body.to_string())).unwrap()
        };
        let evil = [("origin", "https://evil.example")];
        // #19: a text/plain order report from another site was imported (202),
        // and a server function recorded a real pick.
        for req in [
            post(
                "/api/v1/channels/WEB/order-reports",
                "text/plain",
                "order,sku\n1,A\n",
                &evil,
            ),
            post(
                "/sfn/queued_scan",
                "application/x-www-form-urlencoded",
                "",
                &evil,
            ),
            post(
                "/api/v1/warehouses",
                "application/json",
                r#"{"code":"EVIL","name":"Evil"}"#,
                &[("sec-fetch-site", "cross-site")],
            ),
            // A form with neither Origin nor Sec-Fetch-Site, and no token.
            post(
                "/command/users",
                "application/x-www-form-urlencoded",
                "email=eve%40x.example&name=Eve&role=admin&password=aaaaaaaaaaaaaa",
                &[],
            ),
        ] {
            let path = req.uri().path().to_string();
            let res = raw(&app, req).await;
            assert_eq!(res.status(), 403, "{path}");
            if !path.starts_with("/command") {
                let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
                assert_eq!(body["error"]["code"], "cross_site_request", "{path}");
            }
        }
        assert_eq!(events().await, before, "nothing refused changed anything");

        // Our own page, or a script that shows the session's token, goes through.
        let token = csrf.trim_start_matches("keel_csrf=").to_string();
        let res = raw(
            &app,
            post(
                "/api/v1/warehouses",
                "application/json",
                r#"{"code":"EAST","name":"East"}"#,
                &[("x-csrf-token", &token)],
            ),
        )
        .await;
        assert_eq!(res.status(), 201);
        let res = raw(
            &app,
            post(
                "/api/v1/warehouses",
                "application/json",
                r#"{"code":"WEST","name":"West"}"#,
                &[("origin", "http://localhost")],
            ),
        )
        .await;
        assert_eq!(res.status(), 201);
    })
    .await;
}

#[tokio::test]
async fn a_warehouse_agent_changes_their_own_password_by_form_and_by_api() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        person(&db, "jo@northwind.example", "warehouse", "first password 1").await;
        let (session, _) = browser_session(&app, "jo@northwind.example", "first password 1").await;

        // The form: two new passwords that differ come back beside the field.
        let res = raw(
            &app,
            form(
                "/account/password",
                "current_password=first+password+1&new_password=second+password+2&confirm_password=second+password+3",
                Some(&session),
            ),
        )
        .await;
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/account?error_confirm_password="), "{to}");
        assert!(!to.contains("password+2") && !to.contains("password%202"), "{to}");
        let res = raw(
            &app,
            form(
                "/account/password",
                "current_password=first+password+1&new_password=second+password+2&confirm_password=second+password+2",
                Some(&session),
            ),
        )
        .await;
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/account?notice=Your%20password%20is%20changed"), "{to}");

        // The API, from the same browser session.
        let change = |current: &str, new: &str| {
            axum::http::Request::builder()
                .method("PUT")
                .uri("/api/v1/me/password")
                .header("host", "localhost")
                .header("origin", "http://localhost")
                .header("cookie", &session)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({"current_password": current, "new_password": new}).to_string(),
                ))
                .unwrap()
        };
        let res = raw(&app, change("first password 1", "third password 3")).await;
        assert_eq!(res.status(), 422);
        let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(body["error"]["fields"]["current_password"], "that is not your current password");
        let res = raw(&app, change("second password 2", "third password 3")).await;
        assert_eq!(res.status(), 204);
        // Signed in with the newest password, and only with it.
        browser_session(&app, "jo@northwind.example", "third password 3").await;
        let res = raw(
            &app,
            form("/signin", "email=jo%40northwind.example&password=second+password+2", None),
        )
        .await;
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/signin?error="), "{to}");
    })
    .await;
}

#[tokio::test]
async fn server_functions_answer_client_errors_as_4xx_not_500() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let admin = token(&db, Role::Admin).await;
        let sfn = |path: &str, body: axum::body::Body, length: Option<usize>| {
            let mut req = axum::http::Request::builder()
                .method("POST")
                .uri(path)
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", "application/x-www-form-urlencoded");
            if let Some(n) = length {
                req = req.header("content-length", n.to_string());
            }
            req.body(body).unwrap()
        };
        // A missing argument.
        let res = raw(
            &app,
            sfn("/sfn/order_detail", axum::body::Body::empty(), None),
        )
        .await;
        assert_eq!(res.status(), 400);
        // A body over the limit, declared, or sent without a length.
        let big = "x=".to_string() + &"a".repeat(2 * 1024 * 1024);
        let res = raw(
            &app,
            sfn(
                "/sfn/portal_view",
                axum::body::Body::from(big.clone()),
                Some(big.len()),
            ),
        )
        .await;
        assert_eq!(res.status(), 413);
        let chunks = futures::stream::iter(
            big.as_bytes()
                .chunks(64 * 1024)
                .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(c)))
                .collect::<Vec<_>>(),
        );
        let res = raw(
            &app,
            sfn(
                "/sfn/order_detail",
                axum::body::Body::from_stream(chunks),
                None,
            ),
        )
        .await;
        assert_eq!(res.status(), 413);
    })
    .await;
}

#[tokio::test]
async fn a_page_shows_only_messages_keel_wrote() {
    with_db(Target::Sqlite, |db| async move {
        let app = app(&db);
        let get = |uri: &str| axum::http::Request::builder().uri(uri).body(axum::body::Body::empty()).unwrap();
        // #19: `?error=` text from a link was shown on the page as Keel's words.
        let res = raw(&app, get("/signin?error=Your%20account%20is%20locked.%20Call%20%2B1%20555&next=%2Fcommand")).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/signin?next=%2Fcommand");
        let res = raw(&app, get("/portal?error=x&m=0123456789abcdef0123456789abcdef")).await;
        assert_eq!(res.headers()["location"], "/portal");
        // A message Keel redirects with is signed, and the page keeps it.
        let res = raw(&app, form("/portal", "order=SO-1&contact=ann%40example.com", None)).await;
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert!(to.contains("&m="), "{to}");
        let page = raw(&app, get(&to)).await;
        assert_eq!(page.status(), 200);
        assert!(body_text(page).await.contains("We couldn"), "the signed message is shown");
        // Sign-in doesn't sign messages someone put into `next`.
        person(&db, "ann@northwind.example", "manager", "correct horse battery").await;
        let res = raw(
            &app,
            form(
                "/signin",
                "email=ann%40northwind.example&password=correct+horse+battery&next=%2Fcommand%3Fnotice%3DCall%2Bus",
                None,
            ),
        )
        .await;
        assert_eq!(res.headers()["location"], "/command");
    })
    .await;
}
