//! The audit log as a hash chain: tampering with a sealed row (or removing
//! one) is found by `keel check`, which names the first row that no longer
//! matches.
//!
//! Invariants: row `n` of the chain stores `sha256(hash of row n-1, its
//! content)`, the first row chaining from 64 zeros; sealing appends rows in
//! the order it finds them (by time) and never rewrites a sealed row. Rows
//! are recorded without taking a lock on a chain head, and sealed within
//! seconds by the server's background worker (and by `keel check` first);
//! an operator who records the head hash `keel check` prints elsewhere can
//! also tell a rewritten chain from the real one.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{db::Db, error::Result};

/// Rows sealed per transaction, so a backlog never holds the writer long.
const SEAL_BATCH: i64 = 2_000;
/// Rows verified per read.
const CHECK_PAGE: i64 = 5_000;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const CONTENT: &str = "audit_id, occurred_at, actor_kind, actor_id, actor_name, request_id, action, entity, entity_id, before_json, after_json";

/// The hash of one row after `prev`: every column people read, each with its
/// length, so no two different rows hash alike by shifting text across
/// columns.
fn row_hash(prev: &str, row: &sqlx::any::AnyRow) -> Result<String> {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    let occurred_at: i64 = row.try_get("occurred_at")?;
    h.update(occurred_at.to_be_bytes());
    for col in [
        "audit_id",
        "actor_kind",
        "actor_id",
        "actor_name",
        "request_id",
        "action",
        "entity",
        "entity_id",
        "before_json",
        "after_json",
    ] {
        let v: Option<String> = row.try_get(col)?;
        match v {
            Some(v) => {
                h.update([1]);
                h.update((v.len() as u64).to_be_bytes());
                h.update(v.as_bytes());
            }
            None => h.update([0]),
        }
    }
    Ok(hex::encode(h.finalize()))
}

/// Seals the rows recorded since the last seal; how many it sealed. Two
/// sealers at once (two instances) collide on the chain number and one
/// gives way until next time.
pub async fn seal(db: &Db) -> Result<u64> {
    let mut sealed = 0u64;
    loop {
        let mut tx = db.write_tx().await?;
        let head = sqlx::query(
            "select chain_no, chain_hash from audit_log where chain_no is not null order by chain_no desc limit 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (mut no, mut prev) = match head {
            Some(r) => (
                r.try_get::<i64, _>("chain_no")?,
                r.try_get::<String, _>("chain_hash")?,
            ),
            None => (0, GENESIS.to_string()),
        };
        let rows = sqlx::query(&format!(
            "select {CONTENT} from audit_log where chain_no is null order by occurred_at, audit_id limit {SEAL_BATCH}"
        ))
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(sealed);
        }
        for row in &rows {
            no += 1;
            prev = row_hash(&prev, row)?;
            let id: String = row.try_get("audit_id")?;
            sqlx::query("update audit_log set chain_no = $1, chain_hash = $2 where audit_id = $3")
                .bind(no)
                .bind(&prev)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        sealed += rows.len() as u64;
    }
}

/// The chain as it stands: its length and head hash, or the first rows that
/// no longer match (as drift lines).
pub struct ChainReport {
    pub sealed: i64,
    pub head: String,
    pub drift: Vec<String>,
}

/// Recomputes the chain from its first row.
pub async fn check_chain(db: &Db) -> Result<ChainReport> {
    let (mut prev, mut expected_no, mut drift) = (GENESIS.to_string(), 1i64, Vec::new());
    // The first broken row ends the walk: every later hash follows from it.
    'walk: loop {
        let rows = sqlx::query(&format!(
            "select {CONTENT}, chain_no, chain_hash from audit_log
             where chain_no >= $1 order by chain_no limit {CHECK_PAGE}"
        ))
        .bind(expected_no)
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let no: i64 = row.try_get("chain_no")?;
            let id: String = row.try_get("audit_id")?;
            if no != expected_no {
                drift.push(format!(
                    "audit chain: row {expected_no} is missing (the next is {no}, audit row {id}); a sealed row was deleted"
                ));
                break 'walk;
            }
            let stored: String = row.try_get("chain_hash")?;
            let computed = row_hash(&prev, row)?;
            if computed != stored {
                drift.push(format!(
                    "audit chain: row {no} (audit row {id}) was changed after it was sealed; every later row follows from it"
                ));
                break 'walk;
            }
            prev = stored;
            expected_no += 1;
        }
    }
    Ok(ChainReport {
        sealed: expected_no - 1,
        head: prev,
        drift,
    })
}
