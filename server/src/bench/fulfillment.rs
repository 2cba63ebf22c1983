//! Sourcing, waves, pick scans and receiving at scale.

use super::harness::Plan;
use super::harness::{bench_db, bench_token, cpu_time, finish, header, report, serve};
use crate::Config;
use std::time::Instant;

/// Sources open orders whose every unit is backordered, in one run, as a
/// receipt or "source backorders now" does: the wall and CPU time, and the
/// SQL statements the run issued per line.
pub(crate) async fn sourcing(config: &Config, plan: &Plan) -> Result<(), String> {
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
    let backend::seed::bench::Tally {
        fulfillments: fulfilments,
        split_orders: split,
        sourced_events: events,
        missed_backorders: missed,
        ..
    } = backend::seed::bench::tally(&db)
        .await
        .map_err(|e| e.to_string())?;
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
    backend::seed::bench::synthesize(db, 1000, 1000 * 3 * 6)
        .await
        .map_err(|e| e.to_string())?;
    backend::seed::bench::synthesize_backorders(db, orders, 3)
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
pub(crate) async fn waves(config: &Config, plan: &Plan) -> Result<(), String> {
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
    for wh in backend::seed::bench::WAREHOUSES {
        built.extend(
            backend::fulfillment::wave_all(&db, &ctx, wh, 200)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let wave_wall = t1.elapsed();
    let cpu = cpu_time() - cpu0;
    let lines = backend::seed::bench::tally(&db)
        .await
        .map_err(|e| e.to_string())?
        .fulfillment_lines;
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
pub(crate) async fn scans(config: &Config, plan: &Plan) -> Result<(), String> {
    let agents = plan.concurrency.clamp(1, 64);
    let (config, db, dir) = bench_db(config, "scans").await?;
    sourced_orders(&db, plan.orders.unwrap_or(2_000)).await?;
    let ctx = backend::Ctx::system("bench");
    let mut waves = Vec::new();
    for wh in backend::seed::bench::WAREHOUSES {
        for w in backend::fulfillment::wave_all(&db, &ctx, wh, 25)
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
pub(crate) async fn receive(config: &Config, plan: &Plan) -> Result<(), String> {
    let agents = plan.concurrency.clamp(1, 64);
    let (config, db, dir) = bench_db(config, "receive").await?;
    backorders(&db, plan.orders.unwrap_or(2_000)).await?;
    let skus = backend::seed::bench::skus(&db)
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
            let wh = backend::seed::bench::WAREHOUSES[agent % 3];
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
