//! The `keel` server: configuration, bootstrap, the HTTP surface and the CLI's
//! building blocks. `main.rs` only parses arguments and calls in here.

pub mod bench;

pub mod config;
pub mod http;
pub mod listen;
pub mod metrics;
pub mod openapi;

use std::sync::{atomic::AtomicBool, OnceLock};

use app::ssr::AppState;
use backend::Db;
use leptos::prelude::LeptosOptions;

pub use config::Config;

static METRICS: OnceLock<metrics::Metrics> = OnceLock::new();

/// The process-wide metrics registry.
pub fn metrics() -> &'static metrics::Metrics {
    METRICS.get_or_init(Default::default)
}

/// Whether session cookies carry `Secure`; set once at start-up from the config.
pub static SECURE_COOKIES: AtomicBool = AtomicBool::new(false);

/// The token `/metrics` asks for, if the config sets one; set at start-up.
pub static METRICS_TOKEN: std::sync::RwLock<Option<String>> = std::sync::RwLock::new(None);

/// The reverse proxies whose `X-Forwarded-For` is believed; set at start-up.
pub static TRUSTED_PROXIES: std::sync::RwLock<Vec<std::net::IpAddr>> =
    std::sync::RwLock::new(Vec::new());

/// Leptos's options from Keel's config. The output name is fixed at compile time
/// by cargo-leptos; builds outside it (tests) fall back to the project name.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("keel"))
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build()
}

/// Connects and migrates; every command that touches the database starts here.
pub async fn open_db(config: &Config) -> Result<Db, backend::Error> {
    let db = Db::connect_with(&config.database_url, config.durability()).await?;
    db.migrate().await?;
    Ok(db)
}

pub fn app_state(config: &Config, db: Db) -> AppState {
    SECURE_COOKIES.store(config.secure_cookies, std::sync::atomic::Ordering::Relaxed);
    if let Ok(mut token) = METRICS_TOKEN.write() {
        token.clone_from(&config.metrics_token);
    }
    if let Ok(mut proxies) = TRUSTED_PROXIES.write() {
        proxies.clone_from(&config.trusted_proxies);
    }
    AppState {
        db,
        leptos_options: leptos_options(config),
    }
}

/// Serves Keel until Ctrl-C or SIGTERM, then drains in-flight requests.
pub async fn serve(config: Config) -> Result<(), String> {
    let db = open_db(&config).await.map_err(|e| e.to_string())?;
    tokio::spawn(
        db.clone()
            .follow_external_events(std::time::Duration::from_secs(1)),
    );
    tokio::spawn(projections_worker(db.clone(), config.thresholds()));
    let router = http::router(app_state(&config, db.clone()), config.rate_limits());
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("can't listen on {}: {e}", config.addr))?;
    tracing::info!(addr = %config.addr, database = %backend::db::redact(&config.database_url), "Keel is serving");
    println!("Keel is serving at http://{}", config.addr);
    listen::serve(listener, router, listen::HEADER_READ_TIMEOUT, shutdown()).await;
    db.close().await;
    Ok(())
}

/// How often conditions that arise with time alone (a pick past ship-by, an
/// order with no progress) are looked for; the acceptance is a minute.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Keeps the exception queues and the KPI figures current: the projectors
/// run as soon as any event commits (here or, through NOTIFY or the poll, on
/// another instance), and the sweep every `SWEEP_EVERY`.
pub async fn projections_worker(db: Db, thresholds: domain::analytics::Thresholds) {
    // Each projector follows the outbox on its own (interleaved in this
    // task, so aborting it stops both): while one catches up with a burst,
    // the other's readers are not kept waiting behind it.
    tokio::join!(
        kpi_worker(db.clone()),
        audit_sealer(db.clone()),
        exceptions_worker(db, thresholds)
    );
}

/// Seals the audit rows recorded since its last turn into the hash chain
/// (`governance::audit_chain`), every few seconds.
async fn audit_sealer(db: Db) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        if let Err(e) = backend::governance::audit_chain::seal(&db).await {
            tracing::warn!(error = %e, "sealing the audit log failed; it is tried again");
        }
    }
}

/// The KPI projector runs at most this often. Every run is a write
/// transaction: run on each commit, it took SQLite's one writer hundreds of
/// times a second while orders poured in, and the exception queues' pushes
/// waited behind it. A reader that has seen a newer event applies it itself
/// (`kpi::board`'s `seen`), so the pace costs no one a stale figure.
const KPI_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Keeps the KPI figures current: after committed events, at most every
/// `KPI_EVERY`, and every `SWEEP_EVERY` in case a wake-up was missed.
async fn kpi_worker(db: Db) {
    let clock = backend::Clock::System;
    match backend::kpi::never_projected(&db).await {
        Ok(true) => {
            if let Err(e) = backend::kpi::rebuild(&db, &clock).await {
                tracing::warn!(error = %e, "building the KPI figures failed; the projector goes on");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the KPI projection's cursor"),
    }
    let mut events = db.subscribe_events();
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    let mut last = tokio::time::Instant::now();
    loop {
        tokio::select! {
            changed = events.changed() => {
                if changed.is_err() {
                    return;
                }
                // Gather what else commits in the meantime into this run.
                tokio::time::sleep_until(last + KPI_EVERY).await;
            }
            _ = tick.tick() => {}
        }
        last = tokio::time::Instant::now();
        if let Err(e) = backend::kpi::project(&db, &clock).await {
            tracing::warn!(error = %e, "KPI projector failed; retrying on the next event");
        }
    }
}

async fn exceptions_worker(db: Db, thresholds: domain::analytics::Thresholds) {
    let clock = backend::Clock::System;
    // A database the projector has never read is built from its records
    // first (orders imported in bulk have no per-order events).
    match backend::analytics::never_projected(&db).await {
        Ok(true) => {
            if let Err(e) = backend::analytics::rebuild(&db, &clock, &thresholds).await {
                tracing::warn!(error = %e, "building the exception queues failed; the projector and sweep go on");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not read the exception projection's cursor"),
    }
    let mut events = db.subscribe_events();
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    loop {
        tokio::select! {
            changed = events.changed() => {
                if changed.is_err() {
                    return;
                }
                if let Err(e) = backend::analytics::project(&db, &clock, &thresholds).await {
                    tracing::warn!(error = %e, "exception projector failed; retrying on the next event");
                }
            }
            _ = sweep.tick() => {
                let run = async {
                    backend::analytics::project(&db, &clock, &thresholds).await?;
                    backend::analytics::sweep(&db, &clock, &thresholds).await
                };
                if let Err(e) = run.await {
                    tracing::warn!(error = %e, "exception sweep failed; retrying on the next tick");
                }
            }
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
