//! Reservations, available to promise, order capture, the order list and
//! server-rendered pages, under load over HTTP.

use super::harness::Plan;
use super::harness::{bench_db, bench_token, finish, header, load, serve};
use crate::Config;
use std::time::Instant;

/// Reservation throughput over HTTP: every request on its own SKU
/// (uncontended), every request on one SKU with enough stock (contended), and
/// the same SKU once sold out (every request refused with 409).
pub(crate) async fn reservations(
    config: &Config,
    requests: usize,
    concurrency: usize,
) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "reservations").await?;
    let skus = backend::seed::bench::synthesize(&db, requests, requests * 3)
        .await
        .map_err(|e| e.to_string())?;
    let ctx = backend::Ctx::system("bench");
    let hot = domain::catalog::ProductInput {
        sku: "HOT".into(),
        name: "Hot item".into(),
        ..Default::default()
    };
    backend::catalog::create_product(&db, &ctx, hot, None)
        .await
        .map_err(|e| e.to_string())?;
    let receipt = backend::inventory::ReceiptInput {
        warehouse: "BENCH-E".into(),
        reference: None,
        lines: vec![backend::inventory::ReceiptLineInput {
            sku: "HOT".into(),
            // One more than will be sold: the bench channel holds one unit back.
            quantity: requests as i64 + 1,
            location: None,
            lot: None,
            expires_on: None,
        }],
    };
    backend::inventory::receive(&db, &ctx, receipt, None)
        .await
        .map_err(|e| e.to_string())?;
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let client = reqwest::Client::new();
    println!(
        "workload reservations: {requests} requests per run, concurrency {concurrency}, database {}",
        db.backend.as_str()
    );
    header("run");
    let request = move |sku: String, i: usize| {
        client
            .post(format!("{base}/api/v1/reservations"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"reference": format!("BENCH-{i}"), "channel": backend::seed::bench::CHANNEL,
                                      "lines": [{"sku": sku, "quantity": 1}]}))
    };
    let r = request.clone();
    load(
        "uncontended (one SKU each)",
        (requests, concurrency, 0),
        &[201],
        move |i| r(skus[i].clone(), i),
    )
    .await?;
    let r = request.clone();
    load(
        "contended (one hot SKU)",
        (requests, concurrency, 0),
        &[201],
        move |i| r("HOT".into(), i),
    )
    .await?;
    let r = request;
    load(
        "contended, sold out (all 409)",
        (requests, concurrency, 0),
        &[409],
        move |i| r("HOT".into(), i),
    )
    .await?;
    let drift = backend::inventory::check(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!("keel check after the runs: {} drift rows", drift.len());
    finish(db, &dir).await
}

/// ATP reads for random SKUs over HTTP, first with a tenth of the history and
/// then with all of it, to show the read cost does not grow with history.
pub(crate) async fn atp(config: &Config, plan: &Plan) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "atp").await?;
    let first = plan.movements / 10;
    let t = Instant::now();
    let skus = backend::seed::bench::synthesize(&db, plan.skus, first)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "generated {} SKUs and {first} movements in {:.1} s",
        skus.len(),
        t.elapsed().as_secs_f64()
    );
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let client = reqwest::Client::new();
    println!(
        "workload atp: {} reads per run, concurrency {}, database {}",
        plan.requests,
        plan.concurrency.max(1),
        db.backend.as_str()
    );
    header("history");
    let read = {
        let skus = skus.clone();
        move |i: usize| {
            // A fixed stride over the SKUs: every read a different product.
            let sku = &skus[(i * 7919) % skus.len()];
            client
                .get(format!(
                    "{base}/api/v1/channels/{}/availability?sku={sku}",
                    backend::seed::bench::CHANNEL
                ))
                .bearer_auth(&token)
        }
    };
    let c = plan.concurrency.max(1);
    load(
        &format!("{first} movements, concurrency {c}"),
        (plan.requests, c, 200),
        &[200],
        read.clone(),
    )
    .await?;
    let t = Instant::now();
    backend::seed::bench::grow_history(&db, plan.movements - first)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "grew the ledger by {} movements in {:.1} s",
        plan.movements - first,
        t.elapsed().as_secs_f64()
    );
    let all = plan.movements;
    load(
        &format!("{all} movements, concurrency {c}"),
        (plan.requests, c, 200),
        &[200],
        read.clone(),
    )
    .await?;
    load(
        &format!("{all} movements, concurrency 1"),
        (plan.requests, 1, 200),
        &[200],
        read,
    )
    .await?;
    let t = Instant::now();
    let drift = backend::inventory::check(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "keel check over the whole ledger: {} drift rows in {:.1} s",
        drift.len(),
        t.elapsed().as_secs_f64()
    );
    finish(db, &dir).await
}

/// Order capture with reservation over HTTP (`POST /api/v1/orders`, one to
/// three lines each), at concurrency 1, 8 and 32, then every order of the
/// first run delivered again (each must answer 200 with nothing new written).
pub(crate) async fn ingest(config: &Config, requests: usize) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "ingest").await?;
    // 2,000 SKUs with 12 units in each of three warehouses: enough for every run.
    let skus = backend::seed::bench::synthesize(&db, 2000, 2000 * 3 * 8)
        .await
        .map_err(|e| e.to_string())?;
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let client = reqwest::Client::new();
    println!(
        "workload ingest: {requests} orders per run, 1 to 3 lines each, database {}",
        db.backend.as_str()
    );
    header("run");
    let order = move |run: usize, i: usize| {
        let lines: Vec<serde_json::Value> = (0..1 + i % 3)
            .map(|l| {
                let sku = &skus[(i * 7919 + l * 104_729 + run * 31) % skus.len()];
                serde_json::json!({"sku": sku, "quantity": 1, "unit_price": "19.99"})
            })
            .collect();
        client
            .post(format!("{base}/api/v1/orders"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "channel": backend::seed::bench::CHANNEL, "external_id": format!("R{run}-{i}"), "currency": "USD",
                "customer": {"email": format!("shopper{}@bench.example", i % 5000), "name": "Bench Shopper"},
                "lines": lines,
                "shipping": {"address": {"name": "Bench Shopper", "line1": "1 Loop Rd", "city": "Reno", "region": "NV", "postcode": "89501", "country": "US"}, "price": "5.00"},
                "payment_status": "paid"}))
    };
    for (run, c) in [1usize, 8, 32].into_iter().enumerate() {
        let o = order.clone();
        load(
            &format!("capture, concurrency {c}"),
            (requests, c, 0),
            &[201],
            move |i| o(run, i),
        )
        .await?;
    }
    let o = order;
    load(
        "redelivery of run 1, concurrency 8",
        (requests, 8, 0),
        &[200],
        move |i| o(0, i),
    )
    .await?;
    let backend::seed::bench::Tally {
        orders,
        reservations,
        ..
    } = backend::seed::bench::tally(&db)
        .await
        .map_err(|e| e.to_string())?;
    let drift = backend::inventory::check(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "orders {orders} (expected {}), reservations {reservations}, keel check: {} drift rows",
        requests * 3,
        drift.len()
    );
    finish(db, &dir).await
}

/// The order workbench list over HTTP with its common filters, first with a
/// tenth of the orders and then with all of them.
pub(crate) async fn order_list(config: &Config, plan: &Plan) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "orders").await?;
    backend::seed::bench::synthesize(&db, 1000, 0)
        .await
        .map_err(|e| e.to_string())?;
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let client = reqwest::Client::new();
    let c = plan.concurrency.max(1);
    let today = chrono::Utc::now().date_naive();
    let month_ago = (today - chrono::Duration::days(30)).to_string();
    let filters: Vec<(&str, String)> = vec![
        ("newest first, no filter", String::new()),
        ("status=confirmed", "status=confirmed".into()),
        ("held, any reason", "hold=any".into()),
        ("held for fraud review", "hold=fraud_review".into()),
        (
            "channel + last 30 days",
            format!("channel=BENCHAMZ&from={month_ago}"),
        ),
        (
            "warehouse + min total",
            "warehouse=BENCH-W&min_total=400".into(),
        ),
        ("tag", "tag=promo".into()),
        ("customer email", "customer=c777@bench.example".into()),
        ("search: name fragment", "q=customer4242".into()),
    ];
    let mut generated = 0;
    let orders = plan.orders.unwrap_or(1_000_000);
    for target in [orders / 10, orders] {
        let t = Instant::now();
        backend::seed::bench::synthesize_orders(&db, target - generated)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "generated {} orders (now {target}) in {:.1} s; {} reads per filter, concurrency {c}, database {}",
            target - generated,
            t.elapsed().as_secs_f64(),
            plan.requests,
            db.backend.as_str()
        );
        generated = target;
        header(&format!("filter at {target} orders"));
        for (label, query) in &filters {
            let (client, base, token, query) =
                (client.clone(), base.clone(), token.clone(), query.clone());
            load(label, (plan.requests, c, 50), &[200], move |_| {
                client
                    .get(format!("{base}/api/v1/orders?limit=50&{query}"))
                    .bearer_auth(&token)
            })
            .await?;
        }
    }
    finish(db, &dir).await
}

/// Server-rendered page throughput: the signed-in dashboard (which reads the
/// database) and the public portal page.
pub(crate) async fn ssr(
    config: &Config,
    requests: usize,
    concurrency: usize,
) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "ssr").await?;
    let password = "benchmark password 1";
    backend::seed::seed(&db, Some(password), 1)
        .await
        .map_err(|e| e.to_string())?;
    let base = serve(&config, &db).await?;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let signin = client
        .post(format!("{base}/signin"))
        // As the browser's sign-in page sends it (the cross-site guard).
        .header("origin", base.as_str())
        .form(&[
            ("email", backend::seed::ADMIN_EMAIL),
            ("password", password),
            ("next", "/command"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let cookie = signin
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or("sign-in failed")?
        .to_string();

    println!(
        "workload ssr: {requests} requests per page, concurrency {concurrency}, database {}",
        db.backend.as_str()
    );
    header("page");
    for (label, path, auth) in [
        ("/command (signed in)", "/command", true),
        ("/portal (public)", "/portal", false),
    ] {
        let (client, cookie, url) = (client.clone(), cookie.clone(), format!("{base}{path}"));
        // Warm caches and connections so the first requests don't skew the tail.
        let warm = (requests, concurrency, 20);
        load(label, warm, &[200], move |_| {
            let req = client.get(&url);
            if auth {
                req.header("cookie", &cookie)
            } else {
                req
            }
        })
        .await?;
    }
    finish(db, &dir).await
}
