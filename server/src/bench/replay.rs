//! Delivery-robustness runs for order capture:
//!
//! - `keel bench replay`: orders over three channels (Shopify and WooCommerce
//!   webhooks, and the order API with `Idempotency-Key`), every order
//!   delivered three times and 5% of deliveries out of order. Exactly one
//!   order per external id must result, with its stock reserved once.
//! - `keel bench crash`: a `keel serve` child process takes the orders and is
//!   killed with SIGKILL half-way; after a restart everything is delivered
//!   again. No acknowledged order may be lost and none may be duplicated.
//!
//! Both print what they sent, what was answered and what the database holds.

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use crate::Config;

const SHOPIFY: &str = "BENCHSHOP";
const WOO: &str = "BENCHWOO";
const SHOPIFY_SECRET: &str = "bench-shopify-secret";
const WOO_SECRET: &str = "bench-woo-secret";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Shopify,
    WooCommerce,
    Api,
}

/// One delivery of one order.
#[derive(Clone)]
struct Delivery {
    order: usize,
    via: Via,
    body: Arc<Vec<u8>>,
    /// The webhook delivery id, or the API's Idempotency-Key (none: a plain
    /// resend of the same external id).
    key: Option<String>,
}

impl Delivery {
    fn request(
        &self,
        client: &reqwest::Client,
        base: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        let body = self.body.as_ref().clone();
        let key = self.key.clone().unwrap_or_default();
        // (path, secret, signature header, other headers) per platform.
        let webhook = |path: &str, secret: &str, headers: [(&str, &str); 4]| {
            let signature = backend::webhooks::sign(secret.as_bytes(), &body);
            let mut r = client
                .post(format!("{base}/webhooks/{path}"))
                .header("Content-Type", "application/json")
                .header(headers[0].0, signature);
            for (name, value) in &headers[1..] {
                r = r.header(*name, *value);
            }
            r.body(body.clone())
        };
        match self.via {
            Via::Shopify => webhook(
                &format!("shopify/{SHOPIFY}"),
                SHOPIFY_SECRET,
                [
                    ("X-Shopify-Hmac-Sha256", ""),
                    ("X-Shopify-Topic", "orders/create"),
                    ("X-Shopify-Shop-Domain", "bench.myshopify.com"),
                    ("X-Shopify-API-Version", "2024-10"),
                ],
            )
            .header("X-Shopify-Webhook-Id", key),
            Via::WooCommerce => webhook(
                &format!("woocommerce/{WOO}"),
                WOO_SECRET,
                [
                    ("X-WC-Webhook-Signature", ""),
                    ("X-WC-Webhook-Topic", "order.created"),
                    ("X-WC-Webhook-Delivery-ID", &key),
                    ("User-Agent", "WooCommerce/9.4 Hookshot"),
                ],
            ),
            Via::Api => {
                let r = client
                    .post(format!("{base}/api/v1/orders"))
                    .bearer_auth(token)
                    .header("Content-Type", "application/json")
                    .body(body);
                match &self.key {
                    Some(k) => r.header("Idempotency-Key", k),
                    None => r,
                }
            }
        }
    }
}

/// The i-th order as its channel would send it: one to three lines of the
/// bench SKUs, paid, shipped to one of a few US addresses.
fn order_body(i: usize, skus: &[String]) -> (Via, Vec<u8>) {
    let sku = |l: usize| skus[(i * 7919 + l * 104_729) % skus.len()].clone();
    let lines = 1 + i % 3;
    let email = format!("replay{}@bench.example", i % 4000);
    let via = match i % 3 {
        0 => Via::Shopify,
        1 => Via::WooCommerce,
        _ => Via::Api,
    };
    let body = match via {
        Via::Shopify => serde_json::json!({
            "id": 7_000_000_000u64 + i as u64, "email": email, "currency": "USD",
            "financial_status": "paid", "created_at": "2026-11-20T10:00:00Z",
            "customer": {"first_name": "Replay", "last_name": format!("Shopper {i}")},
            "line_items": (0..lines).map(|l| serde_json::json!(
                {"sku": sku(l), "name": "Bench item", "quantity": 1, "price": "19.99"})).collect::<Vec<_>>(),
            "shipping_lines": [{"title": "Standard", "price": "5.00"}],
            "shipping_address": {"first_name": "Replay", "last_name": "Shopper", "address1": "1 Loop Rd",
                "city": "Reno", "province_code": "NV", "zip": "89501", "country_code": "US"},
        }),
        Via::WooCommerce => serde_json::json!({
            "id": 500_000 + i, "currency": "USD", "status": "processing",
            "date_created_gmt": "2026-11-20T10:00:00",
            "billing": {"first_name": "Replay", "last_name": format!("Shopper {i}"), "email": email,
                "address_1": "1 Loop Rd", "city": "Reno", "state": "NV", "postcode": "89501", "country": "US"},
            "shipping": {"first_name": "Replay", "last_name": "Shopper", "address_1": "1 Loop Rd",
                "city": "Reno", "state": "NV", "postcode": "89501", "country": "US"},
            "line_items": (0..lines).map(|l| serde_json::json!(
                {"sku": sku(l), "name": "Bench item", "quantity": 1, "subtotal": "19.99", "total": "19.99"})).collect::<Vec<_>>(),
            "shipping_total": "5.00",
        }),
        Via::Api => serde_json::json!({
            "channel": backend::seed::bench::CHANNEL, "external_id": format!("API-{i}"), "currency": "USD",
            "customer": {"email": email, "name": format!("Replay Shopper {i}")},
            "lines": (0..lines).map(|l| serde_json::json!(
                {"sku": sku(l), "quantity": 1, "unit_price": "19.99"})).collect::<Vec<_>>(),
            "shipping": {"address": {"name": "Replay Shopper", "line1": "1 Loop Rd", "city": "Reno",
                "region": "NV", "postcode": "89501", "country": "US"}, "price": "5.00"},
            "payment_status": "paid",
        }),
    };
    (via, body.to_string().into_bytes())
}

/// Each order's first delivery, in order.
fn first_deliveries(orders: usize, skus: &[String]) -> Vec<Delivery> {
    (0..orders)
        .map(|i| {
            let (via, body) = order_body(i, skus);
            Delivery {
                order: i,
                via,
                body: Arc::new(body),
                key: Some(format!("delivery-{i}-1")),
            }
        })
        .collect()
}

/// Three deliveries of every order: the platform's retry of the same delivery
/// id (or Idempotency-Key) a little later, and a resend under a new one (or
/// none) later still; then 5% of the deliveries moved out of order.
fn replay_schedule(orders: usize, skus: &[String]) -> Vec<Delivery> {
    let mut timed: Vec<(usize, Delivery)> = Vec::with_capacity(orders * 3);
    for first in first_deliveries(orders, skus) {
        let i = first.order;
        let mut retry = first.clone();
        let mut resend = first.clone();
        resend.key = match first.via {
            Via::Api => None,
            _ => Some(format!("delivery-{i}-3")),
        };
        retry.key = first.key.clone();
        timed.push((i * 10, first));
        timed.push((i * 10 + 37 * 10 + 1, retry));
        timed.push((i * 10 + 401 * 10 + 2, resend));
    }
    timed.sort_by_key(|t| t.0);
    let mut list: Vec<Delivery> = timed.into_iter().map(|t| t.1).collect();
    // A fixed generator: the same schedule on every run.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let n = list.len();
    for _ in 0..n / 20 {
        let a = (next() % n as u64) as usize;
        let b = (a + 1 + (next() % 200) as usize).min(n - 1);
        list.swap(a, b);
    }
    list
}

/// What the senders saw.
#[derive(Default)]
struct Sent {
    statuses: BTreeMap<u16, usize>,
    /// Orders with at least one 2xx answer.
    acknowledged: Vec<bool>,
    refused_connections: usize,
}

/// Sends `list` from `concurrency` workers; `on_ack(n)` is called with the
/// running count of acknowledgements. Sending stops at the first connection
/// error (the server is gone).
async fn send(
    list: Vec<Delivery>,
    orders: usize,
    concurrency: usize,
    base: &str,
    token: &str,
    on_ack: Arc<dyn Fn(usize) + Send + Sync>,
) -> Result<Sent, String> {
    let list = Arc::new(list);
    let cursor = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Sent {
        acknowledged: vec![false; orders],
        ..Default::default()
    }));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("the HTTP client could not be built: {e}"))?;
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (list, cursor, acked, down, sent, client, on_ack) = (
            list.clone(),
            cursor.clone(),
            acked.clone(),
            down.clone(),
            sent.clone(),
            client.clone(),
            on_ack.clone(),
        );
        let (base, token) = (base.to_string(), token.to_string());
        workers.push(tokio::spawn(async move {
            loop {
                if down.load(Ordering::SeqCst) {
                    break;
                }
                let i = cursor.fetch_add(1, Ordering::SeqCst);
                let Some(d) = list.get(i) else { break };
                match d.request(&client, &base, &token).send().await {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        let mut s = sent.lock().unwrap_or_else(|e| e.into_inner());
                        *s.statuses.entry(status).or_default() += 1;
                        if res.status().is_success() {
                            s.acknowledged[d.order] = true;
                            drop(s);
                            on_ack(acked.fetch_add(1, Ordering::SeqCst) + 1);
                        }
                    }
                    Err(_) => {
                        sent.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .refused_connections += 1;
                        down.store(true, Ordering::SeqCst);
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await
            .map_err(|e| format!("a sending worker failed: {e}"))?;
    }
    Arc::try_unwrap(sent)
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .map_err(|_| "a sending worker still holds the tally".to_string())
}

fn statuses(s: &Sent) -> String {
    s.statuses
        .iter()
        .map(|(k, v)| format!("{v} × {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Channels, stock and a token in a fresh bench database.
async fn prepare(db: &backend::Db, orders: usize) -> Result<(Vec<String>, String), String> {
    // Four units per order line on average across 2,000 SKUs: enough for all.
    let skus = backend::seed::bench::synthesize(db, 2000, (orders * 4).max(2000 * 3))
        .await
        .map_err(|e| e.to_string())?;
    let ctx = backend::Ctx::system("bench");
    for (code, kind, secret) in [
        (SHOPIFY, "shopify", SHOPIFY_SECRET),
        (WOO, "woocommerce", WOO_SECRET),
    ] {
        let input = domain::orders::ChannelInput {
            code: code.into(),
            name: None,
            kind: kind.into(),
            currency: "USD".into(),
            warehouses: backend::seed::bench::WAREHOUSES
                .iter()
                .map(|w| w.to_string())
                .collect(),
            webhook_secret: Some(secret.into()),
            prices_include_tax: false,
        };
        let new = input.parse().map_err(|e| format!("{e:?}"))?;
        backend::orders::create_channel(db, &ctx, new, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    let token = super::harness::bench_token(db).await?;
    Ok((skus, token))
}

/// What the database holds after a run, checked against `orders`.
async fn verify(db: &backend::Db, orders: usize, acknowledged: &[bool]) -> Result<bool, String> {
    let backend::seed::bench::Tally {
        orders: captured,
        duplicated_orders: duplicated,
        reservations,
        reserved_orders,
        reserved_units,
        ordered_units_reserved: ordered_units,
        captured_events,
        ..
    } = backend::seed::bench::tally(db)
        .await
        .map_err(|e| e.to_string())?;
    // Every acknowledged order must be there, under its external id.
    let mut lost = 0;
    let present = backend::seed::bench::external_ids(db)
        .await
        .map_err(|e| e.to_string())?;
    let present: std::collections::HashSet<String> = present.into_iter().collect();
    for (i, acked) in acknowledged.iter().enumerate() {
        let external = match i % 3 {
            0 => (7_000_000_000u64 + i as u64).to_string(),
            1 => (500_000 + i).to_string(),
            _ => format!("API-{i}"),
        };
        if *acked && !present.contains(&external) {
            lost += 1;
        }
    }
    let mut drift: Vec<String> = backend::inventory::check(db)
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|d| format!("{d:?}"))
        .collect();
    drift.extend(
        backend::governance::check_event_sequence(db)
            .await
            .map_err(|e| e.to_string())?,
    );
    println!(
        "orders {captured} (expected {orders}), duplicated external ids {duplicated}, acknowledged but missing {lost}"
    );
    println!(
        "reservations {reservations} for {reserved_orders} reserved orders; units reserved {reserved_units}, units on those orders {ordered_units}"
    );
    println!(
        "order.captured events {captured_events}; keel check: {} drift rows",
        drift.len()
    );
    for d in &drift {
        println!("  drift: {d}");
    }
    Ok(captured == orders as i64
        && duplicated == 0
        && lost == 0
        && reservations == reserved_orders
        && reserved_units == ordered_units
        && captured_events == orders as i64
        && drift.is_empty())
}

pub async fn replay(config: &Config, orders: usize, concurrency: usize) -> Result<(), String> {
    let (config, db, dir) = super::harness::bench_db(config, "replay").await?;
    let (skus, token) = prepare(&db, orders).await?;
    let base = super::harness::serve(&config, &db).await?;
    let list = replay_schedule(orders, &skus);
    println!(
        "workload replay: {orders} orders over 3 channels (Shopify, WooCommerce, API), {} deliveries, 5% out of order, concurrency {concurrency}, database {}",
        list.len(),
        db.backend.as_str()
    );
    let started = Instant::now();
    let n = list.len();
    let sent = send(list, orders, concurrency, &base, &token, Arc::new(|_| {})).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "answers: {} in {secs:.1} s ({:.0} deliveries/s)",
        statuses(&sent),
        n as f64 / secs
    );
    let ok = verify(&db, orders, &sent.acknowledged).await?;
    super::harness::finish(db, &dir).await?;
    verdict(
        ok,
        "exactly one order per external id, stock reserved once",
        "replay",
    )
}

/// The run's last line, and its exit status.
fn verdict(ok: bool, success: &str, run: &str) -> Result<(), String> {
    if ok {
        println!("result: {success}");
        Ok(())
    } else {
        Err(format!(
            "the {run} run left the database in a wrong state (see above)"
        ))
    }
}

/// A `keel serve` child on `url` at `addr`, ready to take requests.
async fn start_child(url: &str, addr: &str) -> Result<tokio::process::Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = tokio::process::Command::new(exe)
        .arg("serve")
        .env("KEEL_DATABASE_URL", url)
        .env("KEEL_ADDR", addr)
        .env("KEEL_LOG", "error")
        // Every delivery comes from this one address: without this the
        // redelivery burst would meet the per-address limit, not the crash.
        .env("KEEL_API_RATE_PER_ADDRESS", "0")
        .env("KEEL_API_RATE_PER_CREDENTIAL", "0")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("can't start keel serve: {e}"))?;
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("http://{addr}/readyz")).send().await {
            if r.status().is_success() {
                return Ok(child);
            }
        }
        // Polling for readiness of a separate process; there is no signal to wait on.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("keel serve did not become ready in 30 s".into())
}

pub async fn crash(config: &Config, orders: usize, concurrency: usize) -> Result<(), String> {
    let (config, db, dir) = super::harness::bench_db(config, "crash").await?;
    let (skus, token) = prepare(&db, orders).await?;
    db.close().await;
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.to_string()
    };
    let base = format!("http://{addr}");
    let list = first_deliveries(orders, &skus);
    println!(
        "workload crash: {orders} orders over 3 channels to a `keel serve` child, SIGKILL after {} acknowledgements, restart, redeliver all; concurrency {concurrency}, database {}",
        orders / 2,
        db.backend.as_str()
    );
    let child = Arc::new(Mutex::new(Some(
        start_child(&config.database_url, &addr).await?,
    )));
    let killer = child.clone();
    let kill_at = orders / 2;
    let on_ack: Arc<dyn Fn(usize) + Send + Sync> = Arc::new(move |n| {
        if n == kill_at {
            if let Some(c) = killer.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                // SIGKILL: no shutdown hook runs, in-flight requests are cut.
                let _ = c.start_kill();
            }
        }
    });
    let first = send(list.clone(), orders, concurrency, &base, &token, on_ack).await?;
    let taken = child.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut c) = taken {
        let status = c.wait().await.map_err(|e| e.to_string())?;
        println!("server killed: {status}");
    }
    let acked = first.acknowledged.iter().filter(|a| **a).count();
    println!(
        "before the kill: {} ({acked} orders acknowledged, {} requests cut off)",
        statuses(&first),
        first.refused_connections
    );
    let mut restarted = start_child(&config.database_url, &addr).await?;
    let started = Instant::now();
    let again = send(list, orders, concurrency, &base, &token, Arc::new(|_| {})).await?;
    println!(
        "after the restart, everything redelivered: {} in {:.1} s",
        statuses(&again),
        started.elapsed().as_secs_f64()
    );
    let _ = restarted.start_kill();
    let _ = restarted.wait().await;
    let db = crate::open_db(&config).await.map_err(|e| e.to_string())?;
    let ok =
        verify(&db, orders, &first.acknowledged).await? && again.acknowledged.iter().all(|a| *a);
    super::harness::finish(db, &dir).await?;
    verdict(ok, "no acknowledged order lost, none duplicated", "crash")
}
