//! Configuration: defaults, then an optional `keel.toml`, then `KEEL_*`
//! environment variables. Secrets (the database password) are never logged.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::http::rate_limit::{self, RateLimits};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://path` (default `sqlite://data/keel.db`) or `postgres://…`.
    pub database_url: String,
    /// Where `keel serve` listens.
    pub addr: SocketAddr,
    /// Where cargo-leptos put the compiled site (CSS, JS, WASM, assets).
    pub site_root: String,
    /// `text` for people, `json` for log shippers.
    pub log_format: String,
    /// Mark the session cookie `Secure`; turn on when Keel is served over TLS.
    pub secure_cookies: bool,
    /// An open order with no progress for this many hours is "stuck" in
    /// the command center's exception queue.
    pub stuck_after_hours: i64,
    /// When set, `/metrics` answers only `Authorization: Bearer <this>`;
    /// unset, it is open and belongs behind the network's own restriction
    /// (docs/trust.md).
    pub metrics_token: Option<String>,
    /// The reverse proxies in front of Keel. A request from one of them is
    /// counted (sign-in and portal throttles) under the address it names in
    /// `X-Forwarded-For`; without this, every shopper behind the proxy would
    /// share its address and one busy hour would lock the portal for all.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// SQLite's commits: `full` (default: an acknowledged write survives a
    /// power cut) or `normal` (faster; a power cut can lose the last
    /// commits). See `backend::Durability`.
    pub sqlite_synchronous: String,
    /// API calls per second per token or session (0: no limit).
    pub api_rate_per_credential: u32,
    /// API calls without a credential and webhook deliveries per second per
    /// client address (0: no limit).
    pub api_rate_per_address: u32,
    /// Sign-ins per minute per client address (0: no limit).
    pub sign_ins_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/keel.db".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: "target/site".into(),
            log_format: "text".into(),
            secure_cookies: false,
            stuck_after_hours: 24,
            metrics_token: None,
            trusted_proxies: Vec::new(),
            sqlite_synchronous: "full".into(),
            api_rate_per_credential: rate_limit::DEFAULT_PER_CREDENTIAL,
            api_rate_per_address: rate_limit::DEFAULT_PER_ADDRESS,
            sign_ins_per_minute: rate_limit::DEFAULT_SIGN_INS_PER_MINUTE,
        }
    }
}

impl Config {
    /// The request rates each caller may send.
    pub fn rate_limits(&self) -> RateLimits {
        RateLimits::from_rates(
            self.api_rate_per_credential,
            self.api_rate_per_address,
            self.sign_ins_per_minute,
        )
    }

    /// How SQLite commits, from `sqlite_synchronous` (checked at load).
    pub fn durability(&self) -> backend::Durability {
        backend::Durability::parse(&self.sqlite_synchronous).unwrap_or(backend::Durability::Full)
    }

    /// The exception rules' thresholds this installation uses.
    pub fn thresholds(&self) -> domain::analytics::Thresholds {
        domain::analytics::Thresholds {
            stuck_after_hours: self.stuck_after_hours,
            ..Default::default()
        }
    }

    /// Loads `keel.toml` (or the file named by `KEEL_CONFIG`) if present, then
    /// applies `KEEL_*` variables on top.
    pub fn load() -> Result<Config, String> {
        let path = std::env::var("KEEL_CONFIG").unwrap_or_else(|_| "keel.toml".into());
        let mut config = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<Config>(&text).map_err(|e| format!("{path}: {e}"))?,
            Err(_) => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        if let Some(v) = get("KEEL_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("KEEL_ADDR") {
            self.addr = v
                .parse()
                .map_err(|_| format!("KEEL_ADDR `{v}` is not an address like 127.0.0.1:3000"))?;
        }
        if let Some(v) = get("KEEL_SITE_ROOT") {
            self.site_root = v;
        }
        if let Some(v) = get("KEEL_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("KEEL_SECURE_COOKIES") {
            self.secure_cookies = matches!(v.as_str(), "1" | "true" | "yes");
        }
        if let Some(v) = get("KEEL_METRICS_TOKEN") {
            self.metrics_token = Some(v);
        }
        if self
            .metrics_token
            .as_ref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            return Err("metrics_token must be at least 16 characters".into());
        }
        if let Some(v) = get("KEEL_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse()
                        .map_err(|_| format!("KEEL_TRUSTED_PROXIES: `{a}` is not an IP address"))
                })
                .collect::<Result<_, String>>()?;
        }
        if let Some(v) = get("KEEL_SQLITE_SYNCHRONOUS") {
            self.sqlite_synchronous = v;
        }
        if backend::Durability::parse(&self.sqlite_synchronous).is_none() {
            return Err(format!(
                "sqlite_synchronous must be full or normal, not `{}`",
                self.sqlite_synchronous
            ));
        }
        for (name, field) in [
            (
                "KEEL_API_RATE_PER_CREDENTIAL",
                &mut self.api_rate_per_credential,
            ),
            ("KEEL_API_RATE_PER_ADDRESS", &mut self.api_rate_per_address),
            ("KEEL_SIGN_INS_PER_MINUTE", &mut self.sign_ins_per_minute),
        ] {
            if let Some(v) = get(name) {
                *field = v.parse().ok().filter(|n| *n <= 1_000_000).ok_or_else(|| {
                    format!("{name} `{v}` is not a whole number from 0 (no limit) to 1000000")
                })?;
            }
        }
        if let Some(v) = get("KEEL_STUCK_AFTER_HOURS") {
            self.stuck_after_hours = v.parse().map_err(|_| {
                format!("KEEL_STUCK_AFTER_HOURS `{v}` is not a whole number of hours")
            })?;
        }
        if !(1..=720).contains(&self.stuck_after_hours) {
            return Err(format!(
                "stuck_after_hours must be 1 to 720, not {}",
                self.stuck_after_hours
            ));
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(format!(
                "log_format must be text or json, not `{}`",
                self.log_format
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_which_overrides_defaults() {
        let mut c: Config =
            toml::from_str("addr = \"127.0.0.1:4000\"\nlog_format = \"json\"").unwrap();
        assert_eq!(c.database_url, "sqlite://data/keel.db");
        c.apply_env(|k| (k == "KEEL_ADDR").then(|| "0.0.0.0:5000".to_string()))
            .unwrap();
        assert_eq!(c.addr.port(), 5000);
        assert_eq!(c.log_format, "json");
    }

    #[test]
    fn bad_values_are_reported_by_name() {
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "KEEL_ADDR").then(|| "nowhere".to_string()))
            .unwrap_err();
        assert!(err.contains("KEEL_ADDR"));
        assert!(toml::from_str::<Config>("colour = 1").is_err());
    }
}
