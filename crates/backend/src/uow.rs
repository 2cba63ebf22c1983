//! The unit of work: one transaction that carries a change, its audit row and
//! its domain event, and commits them together or not at all.

use domain::events::Event;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};

use crate::{
    ctx::Ctx,
    db::{Backend, Db},
    error::{Error, Result},
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
    pub fn new(key: &str, request_body: &[u8]) -> Result<Self> {
        let key = key.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::invalid(
                "Idempotency-Key",
                "use 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self {
            key: key.to_string(),
            request_hash: hex::encode(Sha256::digest(request_body)),
        })
    }
}

pub struct Uow {
    pub tx: Transaction<'static, Any>,
    pub ctx: Ctx,
    pub backend: Backend,
    db: Db,
    last_seq: Option<i64>,
    idempotency: Option<(String, Idempotency)>,
    /// Dropped after the transaction ends (fields drop in declaration order).
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Db {
    /// Opens the unit of work for one use case.
    pub async fn begin(&self, ctx: &Ctx) -> Result<Uow> {
        let turn = self.write_turn().await;
        Ok(Uow {
            _turn: turn,
            tx: self.begin_write().await?,
            ctx: ctx.clone(),
            backend: self.backend,
            db: self.clone(),
            last_seq: None,
            idempotency: None,
        })
    }
}

impl Uow {
    pub fn now(&self) -> i64 {
        self.ctx.now()
    }

    /// Writes the audit row and the event for one change. Every state change in
    /// Keel passes through here, inside its own transaction.
    pub async fn record(&mut self, change: Change<'_>, event: Event) -> Result<i64> {
        let now = self.now();
        let actor = &self.ctx.actor;
        let to_text = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
        sqlx::query(
            "insert into audit_log (audit_id, occurred_at, actor_kind, actor_id, actor_name, request_id, action, entity, entity_id, before_json, after_json)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(now)
        .bind(actor.kind.as_str())
        .bind(actor.id.clone())
        .bind(actor.name.clone())
        .bind(self.ctx.request_id.clone())
        .bind(change.action)
        .bind(change.entity)
        .bind(change.entity_id)
        .bind(to_text(&change.before))
        .bind(to_text(&change.after))
        .execute(&mut *self.tx)
        .await?;

        // Taking the next number is the last write of the transaction's
        // bookkeeping: the row lock it takes on PostgreSQL is held only until commit.
        let seq: i64 = sqlx::query_scalar(
            "update sequence_counter set value = value + 1 where name = 'event' returning value",
        )
        .fetch_one(&mut *self.tx)
        .await?;
        let (entity, entity_id) = event.entity();
        sqlx::query(
            "insert into event (seq, event_id, event_type, version, entity, entity_id, actor_kind, actor_id, actor_name, request_id, payload, occurred_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(seq)
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(event.type_name())
        .bind(event.version() as i32)
        .bind(entity)
        .bind(entity_id)
        .bind(actor.kind.as_str())
        .bind(actor.id.clone())
        .bind(actor.name.clone())
        .bind(self.ctx.request_id.clone())
        .bind(event.to_json().to_string())
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        self.notify_other_instances(seq).await?;
        self.last_seq = Some(seq);
        Ok(seq)
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
            return Err(Error::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request body"
                    .into(),
            });
        }
        serde_json::from_str(&response)
            .map(Some)
            .map_err(|e| Error::Internal(format!("saved idempotent response is unreadable: {e}")))
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
        let Uow {
            tx,
            db,
            last_seq,
            _turn,
            ..
        } = self;
        tx.commit().await?;
        drop(_turn);
        if let Some(seq) = last_seq {
            db.note_event_committed(seq);
        }
        Ok(())
    }
}
