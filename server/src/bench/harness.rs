//! What every workload shares: a throwaway database, a server on loopback, a
//! token, a load loop and the report of its latencies, CPU and memory.

use crate::Config;
use std::time::{Duration, Instant};

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
    // Without rate limits: the benchmarks measure what the instance can do,
    // with one token standing for many callers.
    let router = crate::http::router(
        crate::app_state(config, db.clone()),
        crate::http::rate_limit::RateLimits::OFF,
    );
    // The production accept loop, so the figures include what it costs.
    tokio::spawn(crate::listen::serve(
        listener,
        router,
        crate::listen::HEADER_READ_TIMEOUT,
        std::future::pending(),
    ));
    Ok(format!("http://{addr}"))
}

/// Sends `requests` requests from `concurrency` workers, after `warmup`
/// unmeasured ones; `make(i)` builds
/// request `i`, and every answer must have one of the `expect`ed statuses.
/// Prints one result line.
pub(crate) async fn load<F>(
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
pub(crate) fn report(label: &str, mut all: Vec<Duration>, elapsed: Duration, cpu: Duration) {
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

pub(crate) fn header(first: &str) {
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

/// CPU time (user + system) of this process so far.
pub(crate) fn cpu_time() -> Duration {
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

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

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
