//! `keel bench <workload>`: generates its own data in a throwaway database (or
//! uses `KEEL_DATABASE_URL` when it points at PostgreSQL), runs a bounded load
//! over loopback, and prints throughput, latency percentiles, CPU time per
//! request and peak RSS.

use std::time::{Duration, Instant};

use crate::Config;

/// What to run and at which scale.
pub struct Plan {
    pub requests: usize,
    pub concurrency: usize,
    /// SKUs and ledger rows to generate for the ATP workload.
    pub skus: usize,
    pub movements: usize,
    /// Orders: to generate for the order-list workload (default 1,000,000),
    /// or to deliver for the replay and crash workloads (default 10,000).
    pub orders: Option<usize>,
}

pub async fn run(config: &Config, workload: &str, plan: Plan) -> Result<(), String> {
    let concurrency = plan.concurrency.max(1);
    match workload {
        "ssr" => ssr(config, plan.requests, concurrency).await,
        "reservations" => reservations(config, plan.requests, concurrency).await,
        "atp" => atp(config, &plan).await,
        "ingest" => ingest(config, plan.requests).await,
        "orders" => order_list(config, &plan).await,
        "sourcing" => sourcing(config, &plan).await,
        "waves" => waves(config, &plan).await,
        "scans" => scans(config, &plan).await,
        "receive" => receive(config, &plan).await,
        "exceptions" => exceptions(config, &plan).await,
        "replay" => {
            crate::bench_replay::replay(config, plan.orders.unwrap_or(10_000), concurrency).await
        }
        "crash" => {
            crate::bench_replay::crash(config, plan.orders.unwrap_or(10_000), concurrency).await
        }
        other => Err(format!(
            "unknown workload `{other}`; available: ssr, reservations, atp, ingest, orders, sourcing, waves, scans, receive, exceptions, replay, crash"
        )),
    }
}

/// A throwaway database: SQLite in a temp dir, or the PostgreSQL database in
/// `KEEL_DATABASE_URL` (which should be empty).
pub(crate) async fn bench_db(
    config: &Config,
    name: &str,
) -> Result<(Config, backend::Db, std::path::PathBuf), String> {
    let dir = std::env::temp_dir().join(format!("keel-bench-{name}-{}", std::process::id()));
    let mut config = config.clone();
    if !config.database_url.starts_with("postgres") {
        config.database_url = format!("sqlite://{}/bench.db", dir.display());
    }
    let db = crate::open_db(&config).await.map_err(|e| e.to_string())?;
    Ok((config, db, dir))
}

/// Serves the router on a free loopback port and returns its base URL.
pub(crate) async fn serve(config: &Config, db: &backend::Db) -> Result<String, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = crate::http::router(crate::app_state(config, db.clone()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    Ok(format!("http://{addr}"))
}

/// Sends `requests` requests from `concurrency` workers, after `warmup`
/// unmeasured ones; `make(i)` builds
/// request `i`, and every answer must have one of the `expect`ed statuses.
/// Prints one result line.
async fn load<F>(
    label: &str,
    (requests, concurrency, warmup): (usize, usize, usize),
    expect: &'static [u16],
    make: F,
) -> Result<(), String>
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let make = std::sync::Arc::new(make);
    // Warm connections and caches on requests that aren't measured.
    for i in 0..warmup {
        let _ = make(i % requests.max(1)).send().await;
    }
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let make = make.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = w;
            while i < requests {
                let t = Instant::now();
                let res = make(i).send().await.map_err(|e| e.to_string())?;
                let status = res.status().as_u16();
                let body = res.bytes().await.map_err(|e| e.to_string())?;
                if !expect.contains(&status) {
                    return Err(format!(
                        "request {i} answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
                latencies.push(t.elapsed());
                i += concurrency;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.map_err(|e| e.to_string())??);
    }
    report(
        label,
        all,
        started.elapsed(),
        cpu_time().saturating_sub(cpu_before),
    );
    Ok(())
}

/// One result line: throughput, latency percentiles and CPU per request.
fn report(label: &str, mut all: Vec<Duration>, elapsed: Duration, cpu: Duration) {
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{:<34} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>12.3}",
        label,
        all.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        ms(*all.last().unwrap_or(&Duration::ZERO)),
        ms(cpu) / all.len().max(1) as f64
    );
}

fn header(first: &str) {
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>12}",
        first, "req/s", "p50 ms", "p99 ms", "max ms", "cpu ms/req"
    );
}

pub(crate) async fn bench_token(db: &backend::Db) -> Result<String, String> {
    backend::governance::create_token(
        db,
        &backend::Ctx::system("bench"),
        "bench",
        "admin",
        Default::default(),
    )
    .await
    .map(|t| t.secret)
    .map_err(|e| e.to_string())
}

/// Reservation throughput over HTTP: every request on its own SKU
/// (uncontended), every request on one SKU with enough stock (contended), and
/// the same SKU once sold out (every request refused with 409).
async fn reservations(config: &Config, requests: usize, concurrency: usize) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "reservations").await?;
    let skus = backend::bench_data::synthesize(&db, requests, requests * 3)
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
            .json(&serde_json::json!({"reference": format!("BENCH-{i}"), "channel": backend::bench_data::CHANNEL,
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
async fn atp(config: &Config, plan: &Plan) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "atp").await?;
    let first = plan.movements / 10;
    let t = Instant::now();
    let skus = backend::bench_data::synthesize(&db, plan.skus, first)
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
                    backend::bench_data::CHANNEL
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
    backend::bench_data::grow_history(&db, plan.movements - first)
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
async fn ingest(config: &Config, requests: usize) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "ingest").await?;
    // 2,000 SKUs with 12 units in each of three warehouses: enough for every run.
    let skus = backend::bench_data::synthesize(&db, 2000, 2000 * 3 * 8)
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
                "channel": backend::bench_data::CHANNEL, "external_id": format!("R{run}-{i}"), "currency": "USD",
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
    let orders: i64 = sqlx::query_scalar("select count(*) from sales_order")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    let reservations: i64 = sqlx::query_scalar("select count(*) from reservation")
        .fetch_one(&db.pool)
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
async fn order_list(config: &Config, plan: &Plan) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "orders").await?;
    backend::bench_data::synthesize(&db, 1000, 0)
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
        backend::bench_data::synthesize_orders(&db, target - generated)
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

/// Sources open orders whose every unit is backordered, in one run, as a
/// receipt or "source backorders now" does: the wall and CPU time, and the
/// SQL statements the run issued per line.
async fn sourcing(config: &Config, plan: &Plan) -> Result<(), String> {
    let orders = plan.orders.unwrap_or(10_000);
    let (_, db, dir) = bench_db(config, "sourcing").await?;
    let t = Instant::now();
    backorders(&db, orders).await?;
    println!(
        "workload sourcing: {orders} open orders x 3 lines, every unit backordered, 1,000 SKUs in 3 warehouses; generated in {:.1} s; database {}",
        t.elapsed().as_secs_f64(),
        db.backend.as_str()
    );
    let ctx = backend::Ctx::system("bench");
    let (cpu, t) = (cpu_time(), Instant::now());
    let run = backend::fulfillment::source_waiting(&db, &ctx)
        .await
        .map_err(|e| e.to_string())?;
    let (wall, cpu) = (t.elapsed(), cpu_time() - cpu);
    let count = |sql: &'static str| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .map_err(|e| e.to_string())
        }
    };
    let fulfilments = count("select count(*) from fulfillment").await?;
    let split = count("select count(*) from (select order_id from fulfillment group by order_id having count(*) > 1) s").await?;
    let events = count("select count(*) from event where event_type = 'order.sourced'").await?;
    // The channel keeps a buffer of 1: a line still waiting while a
    // warehouse has 2 or more spare would be a unit sourcing missed.
    let missed = count("select count(*) from order_line ol join stock_level s on s.product_id = ol.product_id where ol.backordered_quantity > 0 and s.on_hand - s.reserved > 1").await?;
    println!(
        "sourced {} orders: {} units over {} lines looked at, {} units still backordered; {fulfilments} fulfilments, {split} orders split ({:.1}%), {events} order.sourced events",
        run.orders,
        run.units,
        run.lines,
        run.still_backordered,
        split as f64 * 100.0 / run.orders.max(1) as f64
    );
    println!(
        "wall {:.3} s, CPU {:.3} s; {} SQL statements ({:.4} per line), audit rows and events aside",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        run.statements,
        run.statements as f64 / run.lines.max(1) as f64
    );
    let drift = backend::inventory::check(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "keel check: {} drift rows; waiting lines that spare stock could serve: {missed} (0 expected)",
        drift.len()
    );
    finish(db, &dir).await
}

/// `orders` open orders of 3 lines with every unit backordered, over 1,000
/// SKUs with 9 units in each of 3 warehouses: 27,000 units for 30,000
/// ordered, so stock runs out part-way and later orders split.
async fn backorders(db: &backend::Db, orders: usize) -> Result<(), String> {
    backend::bench_data::synthesize(db, 1000, 1000 * 3 * 6)
        .await
        .map_err(|e| e.to_string())?;
    backend::bench_data::synthesize_backorders(db, orders, 3)
        .await
        .map_err(|e| e.to_string())
}

/// Open orders with every unit backordered, then sourced: the shape the
/// sourcing bench measures, ready for waves.
async fn sourced_orders(
    db: &backend::Db,
    orders: usize,
) -> Result<backend::fulfillment::Sourced, String> {
    backorders(db, orders).await?;
    backend::fulfillment::source_waiting(db, &backend::Ctx::system("bench"))
        .await
        .map_err(|e| e.to_string())
}

/// Source and build waves: the open orders sourced into fulfilments, then
/// every warehouse waved 200 orders at a time until nothing waits.
async fn waves(config: &Config, plan: &Plan) -> Result<(), String> {
    let orders = plan.orders.unwrap_or(10_000);
    let (_, db, dir) = bench_db(config, "waves").await?;
    let t = Instant::now();
    backorders(&db, orders).await?;
    println!(
        "workload waves: {orders} open orders x 3 lines, every unit backordered, 1,000 SKUs in 3 warehouses (one bin each); generated in {:.1} s; database {}",
        t.elapsed().as_secs_f64(),
        db.backend.as_str()
    );
    let ctx = backend::Ctx::system("bench");
    let (cpu0, t0) = (cpu_time(), Instant::now());
    let sourced = backend::fulfillment::source_waiting(&db, &ctx)
        .await
        .map_err(|e| e.to_string())?;
    let source_wall = t0.elapsed();
    let t1 = Instant::now();
    let mut built = Vec::new();
    for wh in backend::bench_data::WAREHOUSES {
        built.extend(
            backend::floor::wave_all(&db, &ctx, wh, 200)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let wave_wall = t1.elapsed();
    let cpu = cpu_time() - cpu0;
    let lines: i64 = sqlx::query_scalar("select count(*) from fulfillment_line")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    let tasks: i64 = built.iter().map(|w| w.tasks).sum();
    let units: i64 = built.iter().map(|w| w.units).sum();
    let statements: i64 = built.iter().map(|w| w.statements).sum();
    println!(
        "sourcing: {} orders, {} units, {:.3} s, {} statements; waves (each warehouse's queue in one run): {} waves of up to 200 orders, {} fulfilment lines, {tasks} pick tasks, {units} units, {:.3} s, {statements} statements ({:.4} per line)",
        sourced.orders,
        sourced.units,
        source_wall.as_secs_f64(),
        sourced.statements,
        built.len(),
        lines,
        wave_wall.as_secs_f64(),
        statements as f64 / lines.max(1) as f64
    );
    println!(
        "source + build waves: wall {:.3} s, CPU {:.3} s; {} SQL statements ({:.4} per line), audit rows and events aside",
        (source_wall + wave_wall).as_secs_f64(),
        cpu.as_secs_f64(),
        sourced.statements + statements,
        (sourced.statements + statements) as f64 / lines.max(1) as f64
    );
    let drift = backend::inventory::check(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!("keel check: {} drift rows", drift.len());
    finish(db, &dir).await
}

/// A scan's round trip over HTTP: agents each walk a wave of their own,
/// scanning bin, item and quantity for every task, as a tablet posts them.
async fn scans(config: &Config, plan: &Plan) -> Result<(), String> {
    let agents = plan.concurrency.clamp(1, 64);
    let (config, db, dir) = bench_db(config, "scans").await?;
    sourced_orders(&db, plan.orders.unwrap_or(2_000)).await?;
    let ctx = backend::Ctx::system("bench");
    let mut waves = Vec::new();
    for wh in backend::bench_data::WAREHOUSES {
        for w in backend::floor::wave_all(&db, &ctx, wh, 25)
            .await
            .map_err(|e| e.to_string())?
        {
            waves.push(w.wave_id);
        }
    }
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let limit = plan.requests.max(3);
    println!(
        "workload scans: {} waves of up to 25 orders; {agents} agents scanning at once over loopback, {limit} scans; database {}",
        waves.len(),
        db.backend.as_str()
    );
    header("scan");
    let client = reqwest::Client::new();
    let queue = std::sync::Arc::new(std::sync::Mutex::new(waves));
    let left = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(limit as i64));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..agents {
        let (client, base, token, queue, left) = (
            client.clone(),
            base.clone(),
            token.clone(),
            queue.clone(),
            left.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let Some(wave) = queue.lock().map_err(|e| e.to_string())?.pop() else {
                    break;
                };
                let w: domain::views::Wave = client
                    .get(format!("{base}/api/v1/waves/{wave}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                for t in &w.tasks {
                    for code in [t.location.clone(), t.sku.clone(), t.quantity.to_string()] {
                        if left.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0 {
                            return Ok::<_, String>(latencies);
                        }
                        let at = Instant::now();
                        let res = client
                            .post(format!("{base}/api/v1/waves/{wave}/scans"))
                            .bearer_auth(&token)
                            .json(&serde_json::json!({"code": code}))
                            .send()
                            .await
                            .map_err(|e| e.to_string())?;
                        let status = res.status().as_u16();
                        let body: serde_json::Value =
                            res.json().await.map_err(|e| e.to_string())?;
                        if status != 200 || body["accepted"] != true {
                            return Err(format!("scan {code} answered {status}: {body}"));
                        }
                        latencies.push(at.elapsed());
                    }
                }
            }
            Ok(latencies)
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.map_err(|e| e.to_string())??);
    }
    report(
        &format!("pick scan x{agents} agents"),
        all,
        started.elapsed(),
        cpu_time().saturating_sub(cpu_before),
    );
    finish(db, &dir).await
}

/// Receiving at the dock: open orders waiting for stock, then agents each
/// on a blind receipt of their own scan item, quantity and bin over HTTP;
/// every bin scan is a stock receipt that sources the orders waiting for
/// that item in the same transaction.
async fn receive(config: &Config, plan: &Plan) -> Result<(), String> {
    let agents = plan.concurrency.clamp(1, 64);
    let (config, db, dir) = bench_db(config, "receive").await?;
    backorders(&db, plan.orders.unwrap_or(2_000)).await?;
    let skus: Vec<String> = sqlx::query_scalar("select sku from product order by sku")
        .fetch_all(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let limit = plan.requests.max(3) as i64;
    println!(
        "workload receive: {} open orders waiting for stock, {} SKUs; {agents} agents on blind receipts over loopback, {limit} scans (item, quantity 3, bin); database {}",
        plan.orders.unwrap_or(2_000),
        skus.len(),
        db.backend.as_str()
    );
    header("scan");
    let client = reqwest::Client::new();
    let skus = std::sync::Arc::new(skus);
    let left = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(limit));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut workers = Vec::new();
    for agent in 0..agents {
        let (client, base, token, skus, left) = (
            client.clone(),
            base.clone(),
            token.clone(),
            skus.clone(),
            left.clone(),
        );
        workers.push(tokio::spawn(async move {
            let wh = backend::bench_data::WAREHOUSES[agent % 3];
            let d: serde_json::Value = client
                .post(format!("{base}/api/v1/deliveries"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"warehouse": wh}))
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let id = d["id"]
                .as_str()
                .ok_or(format!("no delivery: {d}"))?
                .to_string();
            let (mut scans, mut puts) = (Vec::new(), Vec::new());
            for sku in skus.iter().skip(agent).step_by(agents).cycle() {
                for code in [sku.as_str(), "3", "A-01-01"] {
                    if left.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) <= 0 {
                        return Ok::<_, String>((scans, puts));
                    }
                    let at = Instant::now();
                    let res = client
                        .post(format!("{base}/api/v1/deliveries/{id}/scans"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"code": code}))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    let status = res.status().as_u16();
                    let body: serde_json::Value = res.json().await.map_err(|e| e.to_string())?;
                    if status != 200 || body["accepted"] != true {
                        return Err(format!("scan {code} answered {status}: {body}"));
                    }
                    scans.push(at.elapsed());
                    if code == "A-01-01" {
                        puts.push(at.elapsed());
                    }
                }
            }
            Ok((scans, puts))
        }));
    }
    let (mut all, mut puts) = (Vec::new(), Vec::new());
    for w in workers {
        let (s, p) = w.await.map_err(|e| e.to_string())??;
        all.extend(s);
        puts.extend(p);
    }
    let (elapsed, cpu) = (started.elapsed(), cpu_time().saturating_sub(cpu_before));
    report(
        &format!("receiving scan x{agents} agents"),
        all,
        elapsed,
        cpu,
    );
    report(&format!("  of which putaway x{agents}"), puts, elapsed, cpu);
    let drift = backend::inventory::check(&db)
        .await
        .map_err(|e| e.to_string())?;
    println!("keel check: {} drift rows", drift.len());
    if !drift.is_empty() {
        return Err(format!("drift after receiving: {drift:?}"));
    }
    finish(db, &dir).await
}

/// Prints the peak RSS and removes the throwaway database.
pub(crate) async fn finish(db: backend::Db, dir: &std::path::Path) -> Result<(), String> {
    println!(
        "peak RSS: {:.1} MiB (server and load generator share the process)",
        peak_rss_mib()
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// The exception queues at scale and live: generates `--orders` orders
/// (default 1,000,000) over a ledger of `--movements` rows, sweeps them into
/// the queues, reads the dashboard's summary and the queue pages over HTTP,
/// then ingests orders at 500 a second (every tenth with a failed payment)
/// while a browser-like client on the event stream times each failed
/// payment from its capture's answer to its `exception.opened` event.
async fn exceptions(config: &Config, plan: &Plan) -> Result<(), String> {
    use futures::StreamExt;
    let (config, db, dir) = bench_db(config, "exceptions").await?;
    let orders = plan.orders.unwrap_or(1_000_000);
    let t = Instant::now();
    let skus = backend::bench_data::synthesize(&db, plan.skus.max(1000), plan.movements)
        .await
        .map_err(|e| e.to_string())?;
    backend::bench_data::synthesize_orders(&db, orders)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "generated {orders} orders and {} ledger rows in {:.1} s, database {}",
        plan.movements,
        t.elapsed().as_secs_f64(),
        db.backend.as_str()
    );
    let thresholds = config.thresholds();
    let clock = backend::Clock::System;
    let t = Instant::now();
    let built = backend::analytics::rebuild(&db, &clock, &thresholds)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "queues built from every record: {} items opened in {:.2} s",
        built.opened,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let figures = backend::kpi::rebuild(&db, &clock)
        .await
        .map_err(|e| e.to_string())?;
    let day_rows: i64 = sqlx::query_scalar("select count(*) from kpi_day")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "KPI figures built from every order: {figures} orders into {day_rows} daily rows in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    backend::analytics::sweep(&db, &clock, &thresholds)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "a routine sweep (no deadline due): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let base = serve(&config, &db).await?;
    let token = bench_token(&db).await?;
    let client = reqwest::Client::new();
    let c = plan.concurrency.max(1);
    header(&format!("read at {orders} orders, concurrency {c}"));
    let year_ago = (chrono::Utc::now() - chrono::Duration::days(365))
        .date_naive()
        .to_string();
    for (label, path) in [
        ("dashboard counts (summary)", "/api/v1/exceptions/summary"),
        ("all queues, first page", "/api/v1/exceptions?limit=50"),
        ("holds queue", "/api/v1/exceptions?queue=holds&limit=50"),
        (
            "stuck, one warehouse",
            "/api/v1/exceptions?queue=stuck&warehouse=BENCH-W&limit=50",
        ),
        (
            "late picks, owner warehouse",
            "/api/v1/exceptions?queue=late_picks&owner=warehouse&limit=50",
        ),
        ("KPI board, last 4 weeks", "/api/v1/kpis"),
        (
            "KPI board, a year, one channel and warehouse",
            "/api/v1/kpis?from={year_ago}&channel=BENCHWEB&warehouse=BENCH-W",
        ),
    ] {
        let path = path.replace("{year_ago}", &year_ago);
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        load(label, (plan.requests, c, 20), &[200], move |_| {
            client.get(format!("{base}{path}")).bearer_auth(&token)
        })
        .await?;
    }

    // Live: the projector as `keel serve` runs it, one SSE client, and
    // orders arriving at a steady 500 a second.
    let worker = tokio::spawn(crate::projections_worker(db.clone(), thresholds));
    let stream = client
        .get(format!("{base}/api/v1/events/stream"))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let seen: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> =
        Default::default();
    let reader = {
        let seen = seen.clone();
        tokio::spawn(async move {
            let mut body = stream.bytes_stream();
            let mut buf = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) else {
                        continue;
                    };
                    let Ok(e) = serde_json::from_str::<serde_json::Value>(data.trim()) else {
                        continue;
                    };
                    if e["type"] == "exception.opened" {
                        if let Some(number) = e["data"]["entity_ref"].as_str() {
                            seen.lock().unwrap().insert(number.to_string(), now);
                        }
                    }
                }
            }
        })
    };
    let rate = 500usize;
    let total = plan.requests.max(rate);
    let committed: std::sync::Arc<std::sync::Mutex<Vec<(String, Instant)>>> = Default::default();
    let started = Instant::now();
    let mut sends = Vec::new();
    for i in 0..total {
        // Paced by the clock, not by the answers, as storefronts send.
        let due = started + Duration::from_micros((i as u64) * 1_000_000 / rate as u64);
        tokio::time::sleep_until(due.into()).await;
        let (client, base, token, committed) = (
            client.clone(),
            base.clone(),
            token.clone(),
            committed.clone(),
        );
        let sku = skus[(i * 7919) % skus.len()].clone();
        sends.push(tokio::spawn(async move {
            let failed = i % 10 == 0;
            let res = client
                .post(format!("{base}/api/v1/orders"))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "channel": backend::bench_data::CHANNEL, "external_id": format!("X-{i}"), "currency": "USD",
                    "customer": {"email": format!("live{}@bench.example", i % 5000), "name": "Bench Shopper"},
                    "lines": [{"sku": sku, "quantity": 1, "unit_price": "19.99"}],
                    "shipping": {"address": {"name": "Bench Shopper", "line1": "1 Loop Rd", "city": "Reno", "region": "NV", "postcode": "89501", "country": "US"}, "price": "5.00"},
                    "payment_status": if failed { "failed" } else { "paid" }}))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let at = Instant::now();
            if res.status().as_u16() != 201 {
                return Err(format!("order {i} answered {}", res.status()));
            }
            let body: serde_json::Value = res.json().await.map_err(|e| e.to_string())?;
            if failed {
                let number = body["number"].as_str().unwrap_or_default().to_string();
                committed.lock().unwrap().push((number, at));
            }
            Ok::<_, String>(())
        }));
    }
    for s in sends {
        s.await.map_err(|e| e.to_string())??;
    }
    let ingest = started.elapsed();
    // How far the KPI figures trail the outbox as the last order lands, and
    // how long they take to catch up.
    let t = Instant::now();
    let cursor: i64 = sqlx::query_scalar("select seq from projection_cursor where name = 'kpis'")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| e.to_string())?;
    let newest = db.max_event_seq().await.map_err(|e| e.to_string())?;
    backend::kpi::project(&db, &clock)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "KPI figures at the end of ingest: {} events behind, caught up in {:.1} ms",
        newest - cursor,
        t.elapsed().as_secs_f64() * 1000.0
    );
    // Every failed payment must reach the stream; wait for the stragglers.
    let expected: Vec<(String, Instant)> = committed.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while expected
        .iter()
        .any(|(n, _)| !seen.lock().unwrap().contains_key(n))
    {
        if Instant::now() > deadline {
            return Err("some failed payments never reached the event stream".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen.lock().unwrap().clone();
    let mut lat: Vec<Duration> = expected
        .iter()
        .map(|(n, at)| seen[n].saturating_duration_since(*at))
        .collect();
    lat.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "live: {total} orders in {:.1} s ({:.0}/s); {} failed payments pushed to the stream after their capture answered: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ingest.as_secs_f64(),
        total as f64 / ingest.as_secs_f64(),
        lat.len(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.95)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );
    worker.abort();
    reader.abort();
    let drift = backend::analytics::check(&db, &clock, &thresholds)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "exception projection against a full recomputation: {} drift rows",
        drift.len()
    );
    let drift = backend::kpi::check(&db).await.map_err(|e| e.to_string())?;
    println!(
        "KPI figures against a full recomputation: {} drift rows",
        drift.len()
    );
    finish(db, &dir).await
}

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of /proc/self/stat; after the ")" they are at 11 and 12.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Server-rendered page throughput: the signed-in dashboard (which reads the
/// database) and the public portal page.
async fn ssr(config: &Config, requests: usize, concurrency: usize) -> Result<(), String> {
    let (config, db, dir) = bench_db(config, "ssr").await?;
    let password = "benchmark password 1";
    backend::seed::seed(&db, password, 1)
        .await
        .map_err(|e| e.to_string())?;
    let base = serve(&config, &db).await?;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let signin = client
        .post(format!("{base}/signin"))
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
