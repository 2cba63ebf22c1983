//! Attempt counters for the throttles (sign-in per account and address,
//! portal lookups per order and per address): one row per key, a fixed
//! window, counted in one upsert so parallel attempts each take their own
//! number and the sixth of forty at once is already refused.

use crate::{db::Db, error::Result};

/// Counts one attempt under `key` and answers how many there are in the
/// window that started after `window_start`, this one included. A key whose
/// window has passed starts again at 1.
pub(crate) async fn count(db: &Db, key: &str, now: i64, window_start: i64) -> Result<i64> {
    let mut tx = db.write_tx().await?;
    let n: i64 = sqlx::query_scalar(
        "insert into attempt_throttle (throttle_key, failures, window_start) values ($1, 1, $2)
         on conflict (throttle_key) do update set
           failures = case when attempt_throttle.window_start <= $3 then 1 else attempt_throttle.failures + 1 end,
           window_start = case when attempt_throttle.window_start <= $3 then $2 else attempt_throttle.window_start end
         returning failures",
    )
    .bind(key)
    .bind(now)
    .bind(window_start)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Forgets the attempts under `key`: the person proved who they are.
pub(crate) async fn clear(conn: &mut sqlx::AnyConnection, key: &str) -> Result<()> {
    sqlx::query("delete from attempt_throttle where throttle_key = $1")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
