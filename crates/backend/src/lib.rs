//! Keel's use cases: the one service layer behind every door (server functions,
//! REST handlers, webhooks, the CLI).
//!
//! Each use case takes a [`Ctx`] (who, which request, what time), checks the
//! permission, opens one transaction through [`Db::begin`], and records its audit
//! row and domain event in that same transaction before committing. This is the
//! only crate that contains SQL.

/// Retries a whole use case when the database reports a transient conflict
/// (a PostgreSQL deadlock between reservations that lock rows in different
/// orders, or SQLite busy past its timeout). Each attempt is a fresh
/// transaction, so a retry never sees half of an earlier one.
macro_rules! retrying {
    ($attempt:expr) => {{
        let mut tries = 0u32;
        loop {
            match $attempt.await {
                Err(e) if e.is_transient() && tries < 8 => {
                    tries += 1;
                    tracing::debug!(error = %e, tries, "transient conflict; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(
                        u64::from(tries) * 3 + rand::random::<u64>() % 10,
                    ))
                    .await;
                }
                other => break other,
            }
        }
    }};
}

pub mod analytics;
pub mod approvals;
pub mod backup;

pub mod catalog;
mod csv_lines;
pub mod ctx;
pub mod db;
pub mod error;

pub mod fulfillment;
pub mod governance;
mod heavy;
pub mod incidents;
pub mod inventory;
pub mod kpi;
pub mod order_import;
pub mod orders;
pub mod price_list;
mod projection;
pub mod receiving;
mod refs;
pub mod seed;
mod sql;
mod throttle;
pub mod uow;
pub mod webhooks;
pub mod writer;

pub use ctx::{Actor, ActorKind, Clock, Ctx};
pub use db::{Backend, Db, Durability};
pub use domain::views::Page;
pub use error::{Conflict, Error, Result};
pub use uow::{Change, Idempotency, Uow};

/// Orders captured (not replays) since start-up, for `/metrics`.
pub use projection::SKIPPED_EVENTS;
pub static ORDERS_CAPTURED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reservations refused for want of stock since start-up, for `/metrics`.
pub static REFUSED_RESERVATIONS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(0);

/// Clamps a requested page size to 1..=200 with a default of 50.
pub fn page_limit(requested: Option<i64>) -> i64 {
    requested.unwrap_or(50).clamp(1, 200)
}

/// Parses a `<micros>_<id>` keyset cursor as the time-ordered lists issue it.
/// Absent or empty means "from the start".
pub fn parse_time_cursor(cursor: Option<&str>) -> Result<(Option<i64>, Option<String>)> {
    let Some(c) = cursor.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok((None, None));
    };
    let bad = || Error::invalid("cursor", "this cursor is not one Keel issued");
    let (at, id) = c.split_once('_').ok_or_else(bad)?;
    Ok((
        Some(at.parse::<i64>().map_err(|_| bad())?),
        Some(id.to_string()),
    ))
}

/// The cursor for the page after `rows` (fetched with `limit + 1` to see
/// whether more follow), as `parse_time_cursor` reads it back.
pub fn time_cursor_after(rows: &[(String, i64)], limit: i64) -> Option<String> {
    (rows.len() as i64 > limit)
        .then(|| rows.get(limit as usize - 1))
        .flatten()
        .map(|(id, at)| format!("{at}_{id}"))
}

/// The first instant (microseconds, UTC) of a `YYYY-MM-DD` day given in
/// `field`, or that field's error.
pub fn day_start(field: &str, v: &str) -> Result<i64> {
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map(|d| {
            d.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .timestamp_micros()
        })
        .map_err(|_| Error::invalid(field, format!("`{v}` is not a date like 2026-11-26")))
}

/// A list's "from day … to day" filter as the instants it covers: from the
/// start of the first day to the start of the day after the last, each end
/// only when given (blank means open). Both fields are checked together, so
/// a form hears about every bad date at once.
pub fn day_range(
    (from_field, from): (&str, Option<&str>),
    (to_field, to): (&str, Option<&str>),
) -> Result<(Option<i64>, Option<i64>)> {
    let mut errors = Vec::new();
    let mut day = |field: &str, v: Option<&str>| match v
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| day_start(field, v))
    {
        Some(Ok(at)) => Some(at),
        Some(Err(Error::Invalid(mut e))) => {
            errors.append(&mut e);
            None
        }
        _ => None,
    };
    let start = day(from_field, from);
    let end = day(to_field, to).map(|at| at + 86_400_000_000);
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            errors.push(domain::FieldError::new(
                to_field,
                format!("is before {from_field}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok((start, end))
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Microseconds since the epoch to an RFC 3339 UTC instant.
pub fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

// The test harness: a setup step that fails is a failed test, so it unwraps.
#[cfg(feature = "testing")]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub mod testing;
