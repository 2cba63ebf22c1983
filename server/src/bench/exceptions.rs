//! The exception queues and the KPI board read at scale, and event-to-screen
//! while orders arrive.

use super::harness::Plan;
use super::harness::{bench_db, bench_token, finish, header, load, percentile, serve};
use crate::Config;
use std::time::{Duration, Instant};

/// The exception queues at scale and live: generates `--orders` orders
/// (default 1,000,000) over a ledger of `--movements` rows, sweeps them into
/// the queues, reads the dashboard's summary and the queue pages over HTTP,
/// then ingests orders at 500 a second (every tenth with a failed payment)
/// while a browser-like client on the event stream times each failed
/// payment from its capture's answer to its `exception.opened` event. Long
/// by design: one workload script, measured step by step.
pub(crate) async fn exceptions(config: &Config, plan: &Plan) -> Result<(), String> {
    use futures::StreamExt;
    let (config, db, dir) = bench_db(config, "exceptions").await?;
    let orders = plan.orders.unwrap_or(1_000_000);
    let t = Instant::now();
    let skus = backend::seed::bench::synthesize(&db, plan.skus.max(1000), plan.movements)
        .await
        .map_err(|e| e.to_string())?;
    backend::seed::bench::synthesize_orders(&db, orders)
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
    let day_rows = backend::seed::bench::tally(&db)
        .await
        .map_err(|e| e.to_string())?
        .kpi_days;
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
                            seen.lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .insert(number.to_string(), now);
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
                    "channel": backend::seed::bench::CHANNEL, "external_id": format!("X-{i}"), "currency": "USD",
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
                committed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((number, at));
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
    let cursor = backend::kpi::projected_to(&db)
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
    let expected: Vec<(String, Instant)> = committed
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while expected.iter().any(|(n, _)| {
        !seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(n)
    }) {
        if Instant::now() > deadline {
            return Err("some failed payments never reached the event stream".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
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
