//! The database handle: one sqlx `Any` pool for SQLite or PostgreSQL, chosen by
//! the URL scheme. Every query in Keel is written once in the portable subset
//! (see docs/architecture.md); the few backend-specific statements live here,
//! each beside its portable twin.

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, Executor,
};
use tokio::sync::watch;

use crate::{
    error::{Error, Result},
    writer::{WriteTx, Writer},
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(Error::Internal(format!(
                "unsupported database URL scheme in `{}`: use sqlite:// or postgres://",
                redact(url)
            )))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The URL with any password replaced, for logs and messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// How SQLite commits. `Full` (the default) syncs the write-ahead log at
/// every commit, so an acknowledged write survives a power cut; the writer's
/// group commit shares one sync among the writes waiting for it. `Normal`
/// syncs only at checkpoints: faster, and a power cut (not a crash of Keel)
/// can lose the last commits. PostgreSQL follows its own `synchronous_commit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

impl Durability {
    pub fn parse(s: &str) -> Option<Durability> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Some(Durability::Full),
            "normal" => Some(Durability::Normal),
            _ => None,
        }
    }

    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "PRAGMA synchronous = FULL",
            Durability::Normal => "PRAGMA synchronous = NORMAL",
        }
    }
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    url: Arc<str>,
    durability: Durability,
    /// The highest event sequence number known to be committed. Writers in this
    /// process bump it after commit; on PostgreSQL a LISTEN task bumps it for
    /// writes made by other instances.
    latest_event: Arc<watch::Sender<i64>>,
    /// SQLite admits one writer at a time. Writers of this process queue for
    /// one dedicated connection, in order, instead of in SQLite's busy
    /// handler (which retries on a sleep schedule of up to 100 ms and makes a
    /// long tail under load), and share commits (see `writer`).
    writer: Option<Arc<Writer>>,
}

impl Db {
    /// Connects with durable commits (see [`Durability`]).
    pub async fn connect(url: &str) -> Result<Db> {
        Db::connect_with(url, Durability::Full).await
    }

    pub async fn connect_with(url: &str, durability: Durability) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; the busy
                        // timeout makes writers queue instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute(durability.pragma()).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let (tx, _) = watch::channel(0);
        let db = Db {
            backend,
            url: url.into(),
            durability,
            latest_event: Arc::new(tx),
            writer: (backend == Backend::Sqlite).then(|| Writer::new(pool.clone())),
            pool,
        };
        Ok(db)
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| Error::Internal(format!("migration failed: {e}")))?;
        let latest = self.max_event_seq().await?;
        self.latest_event.send_if_modified(|v| bump(v, latest));
        Ok(())
    }

    /// Starts a write transaction: on SQLite a turn on the writer connection
    /// (see `writer`), on PostgreSQL a pooled transaction.
    pub async fn write_tx(&self) -> Result<WriteTx> {
        match &self.writer {
            Some(writer) => writer.begin().await,
            None => Ok(WriteTx::postgres(self.pool.begin().await?)),
        }
    }

    /// Makes a freshly bulk-loaded database fast to read: statistics for the
    /// planner on both, and on SQLite the write-ahead log folded back into the
    /// main file so readers don't consult a long log for every page.
    pub async fn after_bulk_load(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Tests: makes SQLite's writer connection refuse writes (`on`), as a
    /// full disk or a read-only remount does, and take them again.
    #[cfg(feature = "testing")]
    pub async fn writer_read_only(&self, on: bool) -> Result<()> {
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| Error::Internal("only SQLite has a writer connection".into()))?;
        let value = if on { "ON" } else { "OFF" };
        writer
            .exec_between(&format!("PRAGMA query_only = {value}"))
            .await
    }

    /// Reads and writes one row of `health_probe` in a write transaction:
    /// what readiness means, since a full disk or a read-only file still
    /// answers reads. It takes the writer's turn for a moment on SQLite.
    pub async fn probe_write(&self) -> Result<()> {
        let now = chrono::Utc::now().timestamp_micros();
        let mut tx = self.write_tx().await?;
        sqlx::query("update health_probe set checked_at = $1 where probe_id = 1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn max_event_seq(&self) -> Result<i64> {
        let seq: i64 =
            sqlx::query_scalar("select cast(coalesce(max(seq), 0) as bigint) from event")
                .fetch_one(&self.pool)
                .await?;
        Ok(seq)
    }

    /// A receiver that changes whenever a newer event is known to be committed.
    pub fn subscribe_events(&self) -> watch::Receiver<i64> {
        self.latest_event.subscribe()
    }

    /// Records that events up to `seq` are committed and wakes the streams.
    pub fn note_event_committed(&self, seq: i64) {
        self.latest_event.send_if_modified(|v| bump(v, seq));
    }

    /// The channel PostgreSQL instances use to wake each other after a commit.
    pub const EVENT_CHANNEL: &'static str = "keel_events";

    /// Re-checks the outbox for events committed by other processes: on
    /// PostgreSQL it LISTENs (woken by the NOTIFY in `Uow::record`); on SQLite,
    /// where there is no such signal, it polls every `poll`.
    pub async fn follow_external_events(self, poll: Duration) {
        if self.backend == Backend::Postgres {
            match sqlx::postgres::PgListener::connect(&self.url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(Self::EVENT_CHANNEL).await {
                        tracing::warn!(error = %e, "LISTEN failed; falling back to polling");
                    } else {
                        loop {
                            // A notification or a dropped connection both mean "check now";
                            // the timeout covers a NOTIFY lost while reconnecting.
                            let _ = tokio::time::timeout(poll, listener.try_recv()).await;
                            self.refresh_latest().await;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection failed; falling back to polling")
                }
            }
        }
        loop {
            tokio::time::sleep(poll).await;
            self.refresh_latest().await;
        }
    }

    async fn refresh_latest(&self) {
        match self.max_event_seq().await {
            Ok(seq) => self.note_event_committed(seq),
            Err(e) => tracing::warn!(error = %e, "could not read the latest event sequence"),
        }
    }

    /// The address connected to (with its credentials: never log it; see
    /// `redact`), for tools that open their own connection (`pg_dump`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A second, independent handle on the same database, as another `keel
    /// serve` instance would have: its own pool and connections.
    pub async fn another_instance(&self) -> Result<Db> {
        Db::connect_with(&self.url, self.durability).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn bump(current: &mut i64, seq: i64) -> bool {
    if seq > *current {
        *current = seq;
        true
    } else {
        false
    }
}

/// Makes sure the SQLite file's folder exists and that the file is created on
/// first start (`mode=rwc`).
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(Error::Internal(
            "use a SQLite file path: an in-memory database is not shared between connections"
                .into(),
        ));
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Internal(format!("can't create {}: {e}", parent.display())))?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".into()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://keel:s3cret@127.0.0.1:5432/keel"),
            "postgres://keel:***@127.0.0.1:5432/keel"
        );
        assert_eq!(redact("sqlite://data/keel.db"), "sqlite://data/keel.db");
    }

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(
            Backend::from_url("sqlite://data/keel.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgresql://x/y").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://x").is_err());
    }
}
