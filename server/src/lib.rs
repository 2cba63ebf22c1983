//! The `keel` server: configuration, bootstrap, the HTTP surface and the CLI's
//! building blocks. `main.rs` only parses arguments and calls in here.

pub mod bench;
mod bench_replay;
pub mod config;
pub mod http;
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
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    Ok(db)
}

pub fn app_state(config: &Config, db: Db) -> AppState {
    SECURE_COOKIES.store(config.secure_cookies, std::sync::atomic::Ordering::Relaxed);
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
    let router = http::router(app_state(&config, db.clone()));
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("can't listen on {}: {e}", config.addr))?;
    tracing::info!(addr = %config.addr, database = %backend::db::redact(&config.database_url), "Keel is serving");
    println!("Keel is serving at http://{}", config.addr);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(|e| e.to_string())?;
    db.close().await;
    Ok(())
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
