//! `keel bench <workload>`: generates its own data in a throwaway database (or
//! uses `KEEL_DATABASE_URL` when it points at PostgreSQL), runs a bounded load
//! over loopback, and prints throughput, latency percentiles, CPU time per
//! request and peak RSS.

use std::time::{Duration, Instant};

use crate::Config;

pub async fn run(
    config: &Config,
    workload: &str,
    requests: usize,
    concurrency: usize,
) -> Result<(), String> {
    match workload {
        "ssr" => ssr(config, requests, concurrency.max(1)).await,
        other => Err(format!("unknown workload `{other}`; available: ssr")),
    }
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
    let dir = std::env::temp_dir().join(format!("keel-bench-{}", std::process::id()));
    let mut config = config.clone();
    if !config.database_url.starts_with("postgres") {
        config.database_url = format!("sqlite://{}/bench.db", dir.display());
    }
    let db = crate::open_db(&config).await.map_err(|e| e.to_string())?;
    let password = "benchmark password 1";
    backend::seed::seed(&db, password, 1)
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let router = crate::http::router(crate::app_state(&config, db.clone()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let signin = client
        .post(format!("http://{addr}/signin"))
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
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>9} {:>12}",
        "page", "req/s", "p50 ms", "p99 ms", "max ms", "cpu ms/req"
    );
    for (label, path, auth) in [
        ("/command (signed in)", "/command", true),
        ("/portal (public)", "/portal", false),
    ] {
        // Warm caches and connections so the first requests don't skew the tail.
        for _ in 0..20 {
            let _ = client
                .get(format!("http://{addr}{path}"))
                .header("cookie", &cookie)
                .send()
                .await;
        }
        let cpu_before = cpu_time();
        let started = Instant::now();
        let per_worker = requests / concurrency;
        let mut workers = Vec::new();
        for _ in 0..concurrency {
            let (client, cookie, url) = (
                client.clone(),
                cookie.clone(),
                format!("http://{addr}{path}"),
            );
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_worker);
                for _ in 0..per_worker {
                    let t = Instant::now();
                    let mut req = client.get(&url);
                    if auth {
                        req = req.header("cookie", &cookie);
                    }
                    let res = req.send().await.map_err(|e| e.to_string())?;
                    if res.status() != 200 {
                        return Err(format!("{url} answered {}", res.status()));
                    }
                    res.bytes().await.map_err(|e| e.to_string())?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, String>(latencies)
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await.map_err(|e| e.to_string())??);
        }
        let elapsed = started.elapsed();
        let cpu = cpu_time().saturating_sub(cpu_before);
        all.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<22} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>12.3}",
            label,
            all.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.99)),
            ms(*all.last().unwrap_or(&Duration::ZERO)),
            ms(cpu) / all.len().max(1) as f64
        );
    }
    println!(
        "peak RSS: {:.1} MiB (server and load generator share the process)",
        peak_rss_mib()
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
