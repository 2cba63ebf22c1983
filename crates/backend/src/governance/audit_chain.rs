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
//!
//! A row's before and after JSON enter its hash by their SHA-256 digests,
//! so erasing a customer can rewrite a row that named them ([`redact`])
//! and keep the digests of what it said: the chain still verifies, and the
//! erasure's own audit row lists every row it rewrote with the digest of
//! the new text, so a rewritten row can't be changed again unseen.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{db::Db, error::Result};

/// Rows sealed per transaction, so a backlog never holds the writer long.
const SEAL_BATCH: i64 = 2_000;
/// Rows verified per read.
const CHECK_PAGE: i64 = 5_000;
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const CONTENT: &str = "audit_id, occurred_at, actor_kind, actor_id, actor_name, request_id, action, entity, entity_id, before_json, after_json, before_sha, after_sha, erased_by";

/// The audit action of an erasure, whose row lists the rows it rewrote.
pub const ERASURE_ACTION: &str = "customer.erase";

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Feeds one optional text with its length, so no two different rows hash
/// alike by shifting text across columns.
fn feed(h: &mut Sha256, text: Option<&str>) {
    match text {
        Some(v) => {
            h.update([1]);
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.as_bytes());
        }
        None => h.update([0]),
    }
}

/// The digest of a rewritten row's new before and after text, as its
/// erasure lists it.
fn rewritten_digest(before: Option<&str>, after: Option<&str>) -> String {
    let mut h = Sha256::new();
    feed(&mut h, before);
    feed(&mut h, after);
    hex::encode(h.finalize())
}

/// The hash of one row after `prev`: every column people read, each with its
/// length, so no two different rows hash alike by shifting text across
/// columns; the JSON by its digest (kept in `*_sha` once a row is rewritten).
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
    ] {
        let v: Option<String> = row.try_get(col)?;
        feed(&mut h, v.as_deref());
    }
    for (json, sha) in [("before_json", "before_sha"), ("after_json", "after_sha")] {
        let kept: Option<String> = row.try_get(sha)?;
        let text: Option<String> = row.try_get(json)?;
        match kept.or_else(|| text.map(|t| sha256_hex(&t))) {
            Some(digest) => {
                h.update([1]);
                h.update(digest.as_bytes());
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
    drift.extend(check_rewrites(db).await?);
    Ok(ChainReport {
        sealed: expected_no - 1,
        head: prev,
        drift,
    })
}

/// Every rewritten row must be listed by the erasure it names, with the
/// digest of the text it holds now.
async fn check_rewrites(db: &Db) -> Result<Vec<String>> {
    let mut listed: HashMap<String, HashMap<String, String>> = HashMap::new();
    let erasures = sqlx::query("select after_json from audit_log where action = $1")
        .bind(ERASURE_ACTION)
        .fetch_all(&db.pool)
        .await?;
    for row in erasures {
        let after: Option<String> = row.try_get("after_json")?;
        let after: serde_json::Value = after
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default();
        let Some(erasure) = after["erasure"].as_str() else {
            continue;
        };
        let rows = listed.entry(erasure.to_string()).or_default();
        for r in after["audit_rows"].as_array().into_iter().flatten() {
            if let (Some(id), Some(sha)) = (r["id"].as_str(), r["sha"].as_str()) {
                rows.insert(id.to_string(), sha.to_string());
            }
        }
    }
    let rewritten = sqlx::query(
        "select audit_id, before_json, after_json, erased_by from audit_log
         where erased_by is not null or before_sha is not null or after_sha is not null
         order by audit_id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut drift = Vec::new();
    for row in rewritten {
        let id: String = row.try_get("audit_id")?;
        let by: Option<String> = row.try_get("erased_by")?;
        let before: Option<String> = row.try_get("before_json")?;
        let after: Option<String> = row.try_get("after_json")?;
        let expected = by
            .as_ref()
            .and_then(|by| listed.get(by))
            .and_then(|rows| rows.get(&id));
        match expected {
            None => drift.push(format!(
                "audit chain: audit row {id} was rewritten, and no erasure lists it"
            )),
            Some(sha) if *sha != rewritten_digest(before.as_deref(), after.as_deref()) => drift
                .push(format!(
                    "audit chain: audit row {id} was changed after an erasure rewrote it"
                )),
            Some(_) => {}
        }
    }
    Ok(drift)
}

/// A row an erasure rewrote, as the erasure's audit row lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Rewritten {
    pub id: String,
    pub sha: String,
}

/// Rewrites the audit rows about `entity_ids` (of `entity`) that `rewrite`
/// changes, keeping the digests of what they said so the chain still
/// verifies; each names `erasure`. The rows it rewrote.
pub(crate) async fn redact(
    conn: &mut sqlx::AnyConnection,
    erasure: &str,
    entity: &str,
    entity_ids: &[String],
    rewrite: &(dyn Fn(&mut serde_json::Value) -> bool + Sync),
) -> Result<Vec<Rewritten>> {
    let mut out = Vec::new();
    for ids in entity_ids.chunks(crate::sql::CHUNK) {
        let sql = format!(
            "select audit_id, before_json, after_json, before_sha, after_sha from audit_log
             where entity = $1 and entity_id in ({}) order by audit_id",
            crate::sql::params(2, ids.len())
        );
        let mut q = sqlx::query(&sql).bind(entity);
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        for row in rows {
            let id: String = row.try_get("audit_id")?;
            let mut texts = [
                row.try_get::<Option<String>, _>("before_json")?,
                row.try_get::<Option<String>, _>("after_json")?,
            ];
            let kept = [
                row.try_get::<Option<String>, _>("before_sha")?,
                row.try_get::<Option<String>, _>("after_sha")?,
            ];
            let digests = [0, 1].map(|i| {
                kept[i]
                    .clone()
                    .or_else(|| texts[i].as_deref().map(sha256_hex))
            });
            let mut changed = false;
            for text in texts.iter_mut().flatten() {
                let mut value = serde_json::from_str(text)
                    .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
                if rewrite(&mut value) {
                    *text = value.to_string();
                    changed = true;
                }
            }
            if !changed {
                continue;
            }
            sqlx::query(
                "update audit_log set before_json = $2, after_json = $3, before_sha = $4,
                 after_sha = $5, erased_by = $6 where audit_id = $1",
            )
            .bind(&id)
            .bind(&texts[0])
            .bind(&texts[1])
            .bind(&digests[0])
            .bind(&digests[1])
            .bind(erasure)
            .execute(&mut *conn)
            .await?;
            let sha = rewritten_digest(texts[0].as_deref(), texts[1].as_deref());
            out.push(Rewritten { id, sha });
        }
    }
    Ok(out)
}
