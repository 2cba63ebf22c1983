//! Write transactions, and group commit on SQLite.
//!
//! SQLite admits one writer at a time, so every write of this process goes
//! through one dedicated connection, taken in turn. Its page cache stays warm
//! (a pooled connection discards its cache whenever another connection has
//! written), and concurrent units of work share a commit: each runs inside a
//! savepoint of one open transaction, and when no other writer is waiting (or
//! the batch is full or old enough) the last one commits it for all.
//!
//! Invariants:
//! - `WriteTx::commit` returns only after the batch holding the work has
//!   committed, so nothing is acknowledged that a crash could still lose.
//! - A unit of work that fails, or is dropped, is rolled back to its savepoint;
//!   the others in its batch are unaffected.
//! - If the batch's commit fails, every member's `commit` fails: none of them
//!   was acknowledged, and none of their effects remain.
//! - A turn sees the batch's earlier, not yet committed work. A unit of work
//!   that answers from what it read (an idempotent replay, a redelivery) ends
//!   with `commit`, not by being dropped, so its answer is never ahead of
//!   what readers on other connections can see.
//!
//! PostgreSQL has row locks and runs transactions side by side; there a
//! `WriteTx` is an ordinary pooled transaction.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use tokio::sync::{oneshot, Mutex, Notify, OwnedMutexGuard};

use crate::error::{Error, Result};

/// A batch commits once it holds this many units of work…
const MAX_BATCH: usize = 64;
/// …or has been open this long, so a steady stream of writers can't keep
/// the first member waiting.
const MAX_OPEN: Duration = Duration::from_millis(20);
/// The write-ahead log is folded back into the database at most this often.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

type Ack = oneshot::Sender<std::result::Result<(), String>>;

/// The SQLite writer: one connection, handed from unit of work to unit of work.
pub(crate) struct Writer {
    pool: AnyPool,
    state: Arc<Mutex<State>>,
    /// Units of work waiting for their turn. When it is zero the holder
    /// commits; otherwise it hands the open transaction on.
    waiting: AtomicUsize,
    /// Signalled after every commit, for the checkpointer.
    committed: Arc<Notify>,
}

struct State {
    conn: Option<AnyConnection>,
    /// When the open transaction began; `None` when none is open.
    open_since: Option<Instant>,
    /// The turn's savepoint is open (set until released or rolled back).
    in_savepoint: bool,
    /// Units of work whose savepoints are released into the open transaction.
    members: Vec<Ack>,
}

impl Writer {
    /// Needs a Tokio runtime: it starts the checkpointer.
    pub(crate) fn new(pool: AnyPool) -> Arc<Writer> {
        let writer = Arc::new(Writer {
            pool,
            state: Arc::new(Mutex::new(State {
                conn: None,
                open_since: None,
                in_savepoint: false,
                members: Vec::new(),
            })),
            waiting: AtomicUsize::new(0),
            committed: Arc::new(Notify::new()),
        });
        tokio::spawn(checkpoint(
            Arc::downgrade(&writer),
            writer.committed.clone(),
        ));
        writer
    }

    /// Waits for the turn, joins (or opens) the batch and opens a savepoint.
    pub(crate) async fn begin(self: &Arc<Self>) -> Result<WriteTx> {
        // Counted as waiting until the turn comes or the caller gives up (a
        // cancelled request drops this future while it waits): a count left
        // behind would make every later holder hand its batch on to nobody
        // and wait for a commit that never comes.
        let waiting = Waiting::start(&self.waiting);
        let state = self.state.clone().lock_owned().await;
        drop(waiting);
        let mut turn = Turn {
            state,
            writer: self.clone(),
        };
        if turn.state.conn.is_none() {
            // Detached, the connection no longer counts against the pool.
            turn.state.conn = Some(self.pool.acquire().await?.detach());
            // Checkpoints run beside the writer (see `checkpoint`), not inside
            // the commit that happens to cross SQLite's threshold.
            turn.exec("PRAGMA wal_autocheckpoint = 0").await?;
        }
        if turn.state.in_savepoint {
            // A unit of work dropped where no runtime could clean up after it.
            turn.abandon_savepoint().await?;
        }
        if turn.state.open_since.is_none() {
            // IMMEDIATE takes the write lock now: a deferred transaction that
            // reads and then writes can fail when another process got in between.
            turn.exec("BEGIN IMMEDIATE").await?;
            turn.state.open_since = Some(Instant::now());
        }
        if let Err(e) = turn.exec("SAVEPOINT uow").await {
            turn.fail_batch(&e.to_string()).await;
            return Err(e);
        }
        turn.state.in_savepoint = true;
        Ok(WriteTx(Inner::Sqlite(Some(turn))))
    }
}

#[cfg(feature = "testing")]
impl Writer {
    /// Runs one statement on the writer's connection between transactions:
    /// tests use it to make the connection read-only and back (a full disk
    /// or a read-only remount, which `BEGIN IMMEDIATE` itself then refuses).
    pub(crate) async fn exec_between(self: &Arc<Self>, sql: &str) -> Result<()> {
        let state = self.state.clone().lock_owned().await;
        let mut turn = Turn {
            state,
            writer: self.clone(),
        };
        if turn.state.open_since.is_some() || turn.state.conn.is_none() {
            return Err(crate::Error::Internal(
                "the writer is inside a batch or has no connection yet".into(),
            ));
        }
        turn.exec(sql).await
    }
}

/// One unit of work in `Writer::waiting`, for as long as it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Wakes the checkpointer so that it sees the writer is gone and stops.
        self.committed.notify_one();
    }
}

/// Folds the write-ahead log back into the database file after commits, at
/// most every `CHECKPOINT_EVERY`, on a pooled connection. With SQLite's
/// automatic checkpoint the commit that crossed its threshold copied a
/// thousand pages and synced the file while holding the writer, stalling
/// every writer behind it. A passive checkpoint waits for nobody: it copies
/// what no reader still needs, and the writer starts the log over once all of
/// it was copied. A process that crashes loses nothing by it: the log is
/// durable and replayed on open.
async fn checkpoint(writer: std::sync::Weak<Writer>, committed: Arc<Notify>) {
    loop {
        committed.notified().await;
        let Some(pool) = writer.upgrade().map(|w| w.pool.clone()) else {
            return;
        };
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed; retrying after the next commit");
        }
        drop(pool);
        tokio::time::sleep(CHECKPOINT_EVERY).await;
    }
}

struct Turn {
    state: OwnedMutexGuard<State>,
    writer: Arc<Writer>,
}

impl Turn {
    // The connection is opened before a turn is handed out and only taken
    // back when the writer closes, which no turn outlives.
    #[allow(clippy::expect_used)]
    fn conn(&mut self) -> &mut AnyConnection {
        self.state
            .conn
            .as_mut()
            .expect("the writer connection is opened before the first turn")
    }

    async fn exec(&mut self, sql: &str) -> Result<()> {
        sqlx::query(sql).execute(self.conn()).await?;
        Ok(())
    }

    /// Undoes this turn's work; on failure the whole batch is given up.
    async fn abandon_savepoint(&mut self) -> Result<()> {
        let undone = match self.exec("ROLLBACK TO uow").await {
            Ok(()) => self.exec("RELEASE uow").await,
            Err(e) => Err(e),
        };
        self.state.in_savepoint = false;
        if let Err(e) = undone {
            self.fail_batch(&e.to_string()).await;
            return Err(e);
        }
        Ok(())
    }

    /// Commits the batch now if nobody is waiting to join it, or it is full or old.
    async fn commit_if_due(&mut self) {
        let due = self.writer.waiting.load(Ordering::SeqCst) == 0
            || self.state.members.len() >= MAX_BATCH
            || self
                .state
                .open_since
                .is_some_and(|t| t.elapsed() >= MAX_OPEN);
        if due && self.state.open_since.is_some() {
            match self.exec("COMMIT").await {
                Ok(()) => {
                    self.state.open_since = None;
                    self.writer.committed.notify_one();
                    for ack in self.state.members.drain(..) {
                        // A member that stopped waiting (its request was
                        // cancelled) still had its work committed.
                        let _ = ack.send(Ok(()));
                    }
                }
                Err(e) => self.fail_batch(&e.to_string()).await,
            }
        }
    }

    /// Rolls the open transaction back and tells every member it failed.
    async fn fail_batch(&mut self, why: &str) {
        if self.state.open_since.take().is_some() {
            if let Err(e) = self.exec("ROLLBACK").await {
                tracing::error!(error = %e, "rolling back a failed write batch failed");
            }
        }
        self.state.in_savepoint = false;
        for ack in self.state.members.drain(..) {
            let _ = ack.send(Err(why.to_string()));
        }
    }

    async fn commit(mut self) -> Result<()> {
        let released = self.exec("RELEASE uow").await;
        self.state.in_savepoint = false;
        if let Err(e) = released {
            self.fail_batch(&e.to_string()).await;
            return Err(e);
        }
        let (ack, acked) = oneshot::channel();
        self.state.members.push(ack);
        self.commit_if_due().await;
        // Hand the open transaction to the next unit of work, then wait for
        // whichever member commits the batch.
        drop(self);
        match acked.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(Error::Internal(format!(
                "the write batch could not commit: {why}"
            ))),
            Err(_) => Err(Error::Internal(
                "the write batch ended without committing".into(),
            )),
        }
    }

    async fn abandon(mut self) {
        if self.abandon_savepoint().await.is_ok() {
            self.commit_if_due().await;
        }
    }
}

/// A write transaction: `&mut *tx` is the connection to run statements on.
/// Dropping it without `commit` rolls its work back.
pub struct WriteTx(Inner);

enum Inner {
    Postgres(Option<Transaction<'static, Any>>),
    Sqlite(Option<Turn>),
}

impl WriteTx {
    pub(crate) fn postgres(tx: Transaction<'static, Any>) -> WriteTx {
        WriteTx(Inner::Postgres(Some(tx)))
    }

    /// Commits; on SQLite, returns once the batch holding this work has committed.
    pub async fn commit(mut self) -> Result<()> {
        match &mut self.0 {
            Inner::Postgres(tx) => match tx.take() {
                Some(tx) => Ok(tx.commit().await?),
                None => Ok(()),
            },
            Inner::Sqlite(turn) => match turn.take() {
                Some(turn) => turn.commit().await,
                None => Ok(()),
            },
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    // As `Turn::conn`: a turn always holds an open connection.
    #[allow(clippy::expect_used)]
    fn deref(&self) -> &AnyConnection {
        match &self.0 {
            Inner::Postgres(Some(tx)) => tx,
            Inner::Sqlite(Some(turn)) => turn
                .state
                .conn
                .as_ref()
                .expect("the writer connection is open during a turn"),
            _ => unreachable!("a write transaction is not used after it ends"),
        }
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.0 {
            Inner::Postgres(Some(tx)) => tx,
            Inner::Sqlite(Some(turn)) => turn.conn(),
            _ => unreachable!("a write transaction is not used after it ends"),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // sqlx rolls a dropped PostgreSQL transaction back itself.
        if let Inner::Sqlite(turn) = &mut self.0 {
            if let Some(turn) = turn.take() {
                match tokio::runtime::Handle::try_current() {
                    Ok(rt) => {
                        rt.spawn(turn.abandon());
                    }
                    // Without a runtime the savepoint stays marked open, and
                    // the next turn rolls it back before starting.
                    Err(_) => drop(turn),
                }
            }
        }
    }
}
