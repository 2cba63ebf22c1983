//! What the projectors (exception queues, KPI figures) share: reading the
//! outbox after their cursor a batch at a time, and claiming the batch with
//! a conditional update of the cursor in the same transaction as what they
//! derive from it, so two instances never apply a batch twice.

use std::{future::Future, ops::AddAssign, sync::atomic::AtomicU64};

use sqlx::{any::AnyRow, AnyConnection, Row};

use crate::{
    ctx::Ctx,
    db::Db,
    error::Error,
    incidents::{self, Attempt},
    sql,
    uow::Uow,
    Result,
};
use domain::events::Event;

/// Events a projector could not apply and stepped past, since the process
/// started (each one is also an incident in the integration queue).
pub static SKIPPED_EVENTS: AtomicU64 = AtomicU64::new(0);

/// Runs a projector's batches (`batch(size)` applies up to `size` events,
/// answering whether the outbox is done) until every committed event is
/// applied. A batch that fails for a reason retrying can't fix, a record
/// this version can't read, is re-run one event at a time, and the event
/// that still fails is stepped past and raised as an incident, so one bad
/// record never stops the projection for everyone. An error about the
/// database itself (gone, busy) stops the run: skipping then would lose
/// events that are fine.
pub(crate) async fn drive<T, F, Fut>(
    db: &Db,
    name: &'static str,
    full: i64,
    mut batch: F,
) -> Result<T>
where
    T: Default + AddAssign,
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = Result<(bool, T)>>,
{
    let mut total = T::default();
    // While isolating: how many single events are left before full batches.
    let mut singles = 0;
    loop {
        let size = if singles > 0 { 1 } else { full };
        match retrying!(batch(size)) {
            Ok((done, t)) => {
                total += t;
                if done {
                    return Ok(total);
                }
                singles = (singles - 1).max(0);
            }
            Err(e) if !e.is_unreadable() => return Err(e),
            Err(_) if singles == 0 => singles = full,
            Err(e) => {
                step_past(db, name, &e).await?;
                singles = 0;
            }
        }
    }
}

/// Moves `name`'s cursor past its next event, which `error` kept it from
/// applying, and counts the skip: logged, on `/metrics`, and as an
/// incident a person resolves (`keel check` shows what the event should
/// have changed).
async fn step_past(db: &Db, name: &'static str, error: &Error) -> Result<()> {
    let ctx = Ctx::system(name);
    let mut uow = db.begin(&ctx).await?;
    let from = cursor(&mut uow.tx, name).await?;
    let claim = claim(&mut uow, name, 1).await?;
    let to = cursor(&mut uow.tx, name).await?;
    uow.commit().await?;
    if !matches!(claim, Claim::Batch { .. }) {
        return Ok(());
    }
    SKIPPED_EVENTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::error!(projection = name, from, to, error = %error, "an event the projection can't apply was stepped past");
    let subject = format!("projection:{name}");
    incidents::record(
        db,
        &ctx,
        &Attempt {
            kind: domain::analytics::PROJECTION_SKIPPED,
            subject_id: &subject,
            subject_ref: &format!("the {name} projection"),
            channel: None,
            detail: format!("event {to}: {error}"),
        },
    )
    .await;
    Ok(())
}

/// Keys per `in (…)` list.
pub(crate) const CHUNK: usize = 500;

/// Runs `sql` (with `{ids}` where the `in` list goes) over `ids` in chunks.
pub(crate) async fn fetch_in(
    conn: &mut AnyConnection,
    sql: &str,
    ids: &[String],
) -> Result<Vec<AnyRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let text = sql.replace("{ids}", &sql::params(1, chunk.len()));
        let mut q = sqlx::query(&text);
        for id in chunk {
            q = q.bind(id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// What a projector's next batch holds.
pub(crate) enum Claim {
    /// Nothing after the cursor.
    Done,
    /// Another instance claimed the batch first.
    Lost,
    /// The events after the cursor, now this transaction's to apply, and
    /// whether more may follow.
    Batch {
        events: Vec<Event>,
        read: usize,
        more: bool,
    },
}

/// Reads up to `batch` events after the projection's cursor and moves the
/// cursor past them. Exception events change no record and are skipped in
/// the read; the cursor still moves past them. An event this version can't
/// read is logged and skipped (`keel check` shows anything it should have
/// changed).
pub(crate) async fn claim(uow: &mut Uow, name: &str, batch: i64) -> Result<Claim> {
    let cursor: i64 = sqlx::query_scalar("select seq from projection_cursor where name = $1")
        .bind(name)
        .fetch_one(&mut *uow.tx)
        .await?;
    let upto: i64 = sqlx::query_scalar("select cast(coalesce(max(seq), 0) as bigint) from event")
        .fetch_one(&mut *uow.tx)
        .await?;
    let rows = sqlx::query(
        "select seq, payload from event where seq > $1 and seq <= $2 and event_type not like 'exception.%' order by seq limit $3",
    )
    .bind(cursor)
    .bind(upto)
    .bind(batch)
    .fetch_all(&mut *uow.tx)
    .await?;
    let full = rows.len() == batch as usize;
    let last = match rows.last() {
        Some(r) if full => r.try_get::<i64, _>("seq")?,
        _ => upto,
    };
    if last <= cursor {
        return Ok(Claim::Done);
    }
    let claimed = sqlx::query(
        "update projection_cursor set seq = $1, built = 1 where name = $2 and seq = $3",
    )
    .bind(last)
    .bind(name)
    .bind(cursor)
    .execute(&mut *uow.tx)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(Claim::Lost);
    }
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        let payload: String = r.try_get("payload")?;
        match serde_json::from_str(&payload).map(|v| Event::from_json(&v)) {
            Ok(Ok(event)) => events.push(event),
            _ => tracing::warn!(
                seq = r.try_get::<i64, _>("seq").unwrap_or_default(),
                projection = name,
                "unreadable event payload skipped"
            ),
        }
    }
    Ok(Claim::Batch {
        events,
        read: rows.len(),
        more: full,
    })
}

/// The projection's cursor.
pub(crate) async fn cursor(conn: &mut AnyConnection, name: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("select seq from projection_cursor where name = $1")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// After a rebuild: marks the projection built and moves the cursor forward
/// (never back) to the outbox as it was when the rebuild began, which is 0
/// when the records were loaded without events.
pub(crate) async fn built(conn: &mut AnyConnection, name: &str, seq: i64) -> Result<()> {
    sqlx::query(
        "update projection_cursor set seq = case when seq < $1 then $1 else seq end, built = 1 where name = $2",
    )
    .bind(seq)
    .bind(name)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether the projection has never been built nor followed the outbox:
/// a rebuild is due.
pub(crate) async fn never_built(conn: &mut AnyConnection, name: &str) -> Result<bool> {
    let built: i16 = sqlx::query_scalar("select built from projection_cursor where name = $1")
        .bind(name)
        .fetch_one(&mut *conn)
        .await?;
    Ok(built == 0)
}
