//! The unit of work: one transaction that carries a change, its audit row and
//! its domain event, and commits them together or not at all.

use domain::events::Event;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{
    ctx::Ctx,
    db::{Backend, Db},
    error::{Error, Result},
    sql::{self, Batch, Val},
    writer::WriteTx,
};

/// What changed, for the audit log: the entity, and its state before and after.
pub struct Change<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// An `Idempotency-Key` from a client, with a hash of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

impl Idempotency {
    /// A key bound to its request: `target` names the route and the record
    /// it acts on (`POST /api/v1/deliveries/DL-1/scans`), `request_body`
    /// what was sent. The same key for another target or body is refused,
    /// never answered with the first request's result.
    pub fn new(key: &str, target: &str, request_body: &[u8]) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::invalid(
                "Idempotency-Key",
                "use 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self {
            key: key.to_string(),
            request_hash: hex::encode(
                Sha256::new()
                    .chain_update(target.as_bytes())
                    .chain_update([0])
                    .chain_update(request_body)
                    .finalize(),
            ),
        })
    }
}

/// Recorded changes are written once this many have gathered (or at commit).
const FLUSH_AT: usize = 64;
/// Rows per multi-row insert: sqlx binds SQLite parameters in time quadratic
/// in their number, so statements stay short.
const ROWS_PER_INSERT: usize = 16;

const AUDIT_SQL: &str = "insert into audit_log (audit_id, occurred_at, actor_kind, actor_id, actor_name, request_id, action, entity, entity_id, before_json, after_json) values ";
const EVENT_SQL: &str = "insert into event (seq, event_id, event_type, version, entity, entity_id, actor_kind, actor_id, actor_name, request_id, payload, occurred_at) values ";

/// The event insert for `rows` events, each numbered from the counter.
fn event_rows(rows: usize) -> String {
    let mut sql = EVENT_SQL.to_string();
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        let base = r * 12;
        sql.push_str(&format!(
            "((select value from sequence_counter where name = 'event') + ${}, {})",
            base + 1,
            sql::params(base + 2, 11)
        ));
    }
    sql
}

struct Pending {
    at: i64,
    action: String,
    entity: String,
    entity_id: String,
    before: Option<String>,
    after: Option<String>,
    actor_kind: &'static str,
    actor_id: Option<String>,
    actor_name: String,
    event_type: &'static str,
    event_version: i32,
    event_entity: String,
    event_entity_id: String,
    payload: String,
}

/// An event as this unit of work wrote it, for a caller that answers with
/// the timeline of what it just did without reading it back.
pub(crate) struct Written {
    pub seq: i64,
    pub at: i64,
    pub event_type: &'static str,
    pub entity: String,
    pub entity_id: String,
    pub actor_kind: &'static str,
    pub actor_name: String,
    pub payload: String,
}

pub struct Uow {
    pub tx: WriteTx,
    pub ctx: Ctx,
    pub backend: Backend,
    db: Db,
    last_seq: Option<i64>,
    idempotency: Option<(String, Idempotency)>,
    /// Audit rows and events recorded but not yet written: they are written
    /// together, a few statements for many changes, before the commit.
    pending: Vec<Pending>,
    /// The events already written, in sequence order.
    written: Vec<Written>,
}

impl Db {
    /// Opens the unit of work for one use case.
    pub async fn begin(&self, ctx: &Ctx) -> Result<Uow> {
        Ok(Uow {
            tx: self.write_tx().await?,
            ctx: ctx.clone(),
            backend: self.backend,
            db: self.clone(),
            last_seq: None,
            idempotency: None,
            pending: Vec::new(),
            written: Vec::new(),
        })
    }
}

impl Uow {
    pub fn now(&self) -> i64 {
        self.ctx.now()
    }

    /// Records the audit row and the event for one change. Every state change
    /// in Keel passes through here, inside its own transaction. They are
    /// written with the others of the unit of work before it commits (or once
    /// enough have gathered), so the event numbers are taken last and
    /// PostgreSQL holds the sequence row's lock only until the commit.
    pub async fn record(&mut self, change: Change<'_>, event: Event) -> Result<()> {
        let actor = &self.ctx.actor;
        let to_text = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
        let (entity, entity_id) = event.entity();
        let payload = event.to_json();
        // The stored type and the payload's own tag must agree: readers of the
        // outbox (projections, integrators) parse the payload by its tag.
        debug_assert_eq!(payload["type"], event.type_name(), "serde tag of {event:?}");
        self.pending.push(Pending {
            at: self.ctx.now(),
            action: change.action.to_string(),
            entity: change.entity.to_string(),
            entity_id: change.entity_id.to_string(),
            before: to_text(&change.before),
            after: to_text(&change.after),
            actor_kind: actor.kind.as_str(),
            actor_id: actor.id.clone(),
            actor_name: actor.name.clone(),
            event_type: event.type_name(),
            event_version: event.version() as i32,
            event_entity: entity.to_string(),
            event_entity_id: entity_id.to_string(),
            payload: payload.to_string(),
        });
        if self.pending.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes the recorded audit rows and events: multi-row inserts, and one
    /// update of the event counter for all of them.
    async fn flush(&mut self) -> Result<()> {
        self.flush_with(Batch::default()).await
    }

    /// Runs `batch`, then writes the recorded audit rows and events, all as
    /// one batch (see `sql::Batch`).
    async fn flush_with(&mut self, mut batch: Batch) -> Result<()> {
        if self.pending.is_empty() {
            batch.run(&mut self.tx, self.backend).await?;
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let n = pending.len() as i64;
        batch.push(
            "update sequence_counter set value = value + $1 where name = 'event' returning value",
            vec![n.into()],
        );
        let request_id = self.ctx.request_id.clone();
        for (c, chunk) in pending.chunks(ROWS_PER_INSERT).enumerate() {
            let mut args = Vec::with_capacity(chunk.len() * 11);
            for p in chunk {
                args.extend([
                    Val::Text(uuid::Uuid::now_v7().to_string()),
                    p.at.into(),
                    p.actor_kind.into(),
                    p.actor_id.clone().into(),
                    p.actor_name.clone().into(),
                    request_id.clone().into(),
                    p.action.clone().into(),
                    p.entity.clone().into(),
                    p.entity_id.clone().into(),
                    p.before.clone().into(),
                    p.after.clone().into(),
                ]);
            }
            batch.push(sql::values_rows(AUDIT_SQL, 11, chunk.len()), args);
            // Event numbers come from the counter just updated, in the same
            // batch: `last - n + k` for the k-th event.
            let mut args = Vec::with_capacity(chunk.len() * 12);
            for (i, p) in chunk.iter().enumerate() {
                args.extend([
                    Val::I64((c * ROWS_PER_INSERT + i + 1) as i64 - n),
                    Val::Text(uuid::Uuid::now_v7().to_string()),
                    p.event_type.into(),
                    p.event_version.into(),
                    p.event_entity.clone().into(),
                    p.event_entity_id.clone().into(),
                    p.actor_kind.into(),
                    p.actor_id.clone().into(),
                    p.actor_name.clone().into(),
                    request_id.clone().into(),
                    p.payload.clone().into(),
                    p.at.into(),
                ]);
            }
            batch.push(event_rows(chunk.len()), args);
        }
        let rows = batch.run(&mut self.tx, self.backend).await?;
        let last: i64 = rows
            .last()
            .ok_or_else(|| Error::Internal("the event counter returned nothing".into()))?
            .try_get(0)?;
        let first = last - n + 1;
        self.written
            .extend(pending.into_iter().enumerate().map(|(i, p)| Written {
                seq: first + i as i64,
                at: p.at,
                event_type: p.event_type,
                entity: p.event_entity,
                entity_id: p.event_entity_id,
                actor_kind: p.actor_kind,
                actor_name: p.actor_name,
                payload: p.payload,
            }));
        self.notify_other_instances(last).await?;
        self.last_seq = Some(last);
        Ok(())
    }

    /// PostgreSQL delivers a NOTIFY only when the transaction commits, so other
    /// instances wake exactly when the event is visible. SQLite has no such
    /// signal; its portable twin is the poll in `Db::follow_external_events`.
    async fn notify_other_instances(&mut self, seq: i64) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("select pg_notify($1, $2)")
                .bind(Db::EVENT_CHANNEL)
                .bind(seq.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Claims an idempotency key for this actor. Returns the saved response when
    /// the same request was already done; the caller returns it unchanged. A
    /// concurrent duplicate waits on the key's row lock (PostgreSQL) or the write
    /// lock (SQLite) and then sees the first result.
    pub async fn claim_idempotency<T: DeserializeOwned>(
        &mut self,
        idem: Option<&Idempotency>,
    ) -> Result<Option<T>> {
        let Some(idem) = idem else { return Ok(None) };
        let scope = format!(
            "{}:{}",
            self.ctx.actor.kind.as_str(),
            self.ctx.actor.id.as_deref().unwrap_or(&self.ctx.actor.name)
        );
        let now = self.now();
        let claimed: Option<String> = sqlx::query_scalar(
            "insert into idempotency_key (scope, idem_key, request_hash, response, created_at) values ($1, $2, $3, '', $4)
             on conflict (scope, idem_key) do nothing returning idem_key",
        )
        .bind(&scope)
        .bind(&idem.key)
        .bind(&idem.request_hash)
        .bind(now)
        .fetch_optional(&mut *self.tx)
        .await?;
        if claimed.is_some() {
            self.idempotency = Some((scope, idem.clone()));
            return Ok(None);
        }
        let (hash, response): (String, String) = sqlx::query_as(
            "select request_hash, response from idempotency_key where scope = $1 and idem_key = $2",
        )
        .bind(&scope)
        .bind(&idem.key)
        .fetch_one(&mut *self.tx)
        .await?;
        if hash != idem.request_hash {
            return Err(Error::invalid(
                "Idempotency-Key",
                "this key was already used for a different request (another route, record or body); use a new key for this one",
            ));
        }
        serde_json::from_str(&response)
            .map(Some)
            .map_err(|e| Error::Internal(format!("saved idempotent response is unreadable: {e}")))
    }

    /// Ends a unit of work that found its request already done, and returns
    /// the saved response. Ending it by commit, not by dropping it, matters on
    /// SQLite: the first request may still be in an uncommitted write batch,
    /// and `commit` returns only once that batch has committed.
    pub async fn replay<T>(self, saved: T) -> Result<T> {
        self.commit().await?;
        Ok(saved)
    }

    /// Saves the response under the claimed key, in the same transaction as the effect.
    pub async fn remember<T: Serialize>(&mut self, response: &T) -> Result<()> {
        if let Some((scope, idem)) = self.idempotency.take() {
            let text =
                serde_json::to_string(response).map_err(|e| Error::Internal(e.to_string()))?;
            sqlx::query(
                "update idempotency_key set response = $1 where scope = $2 and idem_key = $3",
            )
            .bind(text)
            .bind(scope)
            .bind(idem.key)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        self.commit_written(Batch::default()).await.map(drop)
    }

    /// Runs the writes gathered in `batch` with the audit rows and events,
    /// commits, and returns the events the unit of work wrote.
    pub(crate) async fn commit_written(mut self, batch: Batch) -> Result<Vec<Written>> {
        self.flush_with(batch).await?;
        let Uow {
            tx,
            db,
            last_seq,
            written,
            ..
        } = self;
        tx.commit().await?;
        if let Some(seq) = last_seq {
            db.note_event_committed(seq);
        }
        Ok(written)
    }
}

/// The next document number of a counter (`W-000042`), taken inside the unit
/// of work so that a number is never handed out twice.
pub(crate) async fn next_number(uow: &mut Uow, counter: &str, prefix: &str) -> Result<String> {
    let n: i64 = sqlx::query_scalar(
        "update sequence_counter set value = value + 1 where name = $1 returning value",
    )
    .bind(counter)
    .fetch_one(&mut *uow.tx)
    .await?;
    Ok(format!("{prefix}-{n:06}"))
}
