//! The exception projector: the outbox applied once across instances, the
//! sweep for conditions that begin with time, rebuild and check.

use super::gather::{gather, Gathered, Touched};
use crate::{
    ctx::{Clock, Ctx},
    db::Db,
    error::Result,
    projection::{self, Claim, CHUNK},
    sql,
    uow::{Change, Uow},
};
use domain::{
    analytics::{self as rules, Action, Existing, Thresholds, Wanted},
    events::Event,
};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

const CURSOR: &str = "exceptions";

/// Events read per projector transaction.
const BATCH: i64 = 500;

/// What a projector run or a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Projected {
    pub events: usize,
    pub opened: usize,
    pub closed: usize,
}

impl std::ops::AddAssign for Projected {
    fn add_assign(&mut self, o: Self) {
        self.events += o.events;
        self.opened += o.opened;
        self.closed += o.closed;
    }
}

/// Catches the projection up with the outbox: every committed event after
/// the cursor, in batches, each batch one transaction.
#[tracing::instrument(skip_all)]
pub async fn project(db: &Db, clock: &Clock, t: &Thresholds) -> Result<Projected> {
    projection::drive(db, CURSOR, BATCH, |size| project_batch(db, clock, t, size)).await
}

/// One batch of up to `size` events; `true` once nothing is left to read.
async fn project_batch(
    db: &Db,
    clock: &Clock,
    t: &Thresholds,
    size: i64,
) -> Result<(bool, Projected)> {
    let ctx = Ctx::system("exceptions").with_clock(clock.clone());
    let started = std::time::Instant::now();
    let mut uow = db.begin(&ctx).await?;
    let writer_wait = started.elapsed();
    // The projection's own events (and a rebuild's many) touch nothing, so
    // `claim` skips them in the read rather than applying them a batch at a time.
    let (events, read, more) = match projection::claim(&mut uow, CURSOR, size).await? {
        Claim::Done => {
            uow.commit().await?;
            return Ok((true, Projected::default()));
        }
        Claim::Lost => {
            uow.commit().await?;
            return Ok((false, Projected::default()));
        }
        Claim::Batch { events, read, more } => (events, read, more),
    };
    let claimed = started.elapsed();
    let mut touched = Touched::default();
    for event in &events {
        touched.add(event);
    }
    let mut done = evaluate(&mut uow, touched, t).await?;
    done.events = read;
    let evaluated = started.elapsed();
    uow.commit().await?;
    // Where a batch's time goes, for `KEEL_LOG=backend::analytics=debug`.
    tracing::debug!(
        events = read,
        opened = done.opened,
        closed = done.closed,
        writer_wait_ms = writer_wait.as_millis() as u64,
        claim_ms = (claimed - writer_wait).as_millis() as u64,
        evaluate_ms = (evaluated - claimed).as_millis() as u64,
        commit_ms = (started.elapsed() - evaluated).as_millis() as u64,
        "exception batch"
    );
    Ok((!more, done))
}

/// Re-evaluates the orders whose next check time has come (a pending
/// payment's window, the stuck age or a ship-by time has passed).
#[tracing::instrument(skip_all)]
pub async fn sweep(db: &Db, clock: &Clock, t: &Thresholds) -> Result<Projected> {
    retrying!(sweep_once(db, clock, t))
}

async fn sweep_once(db: &Db, clock: &Clock, t: &Thresholds) -> Result<Projected> {
    let ctx = Ctx::system("exceptions").with_clock(clock.clone());
    let mut uow = db.begin(&ctx).await?;
    // Queue behind (or ahead of) any projector batch on another instance.
    sqlx::query("update projection_cursor set seq = seq where name = $1")
        .bind(CURSOR)
        .execute(&mut *uow.tx)
        .await?;
    let now = uow.now();
    let mut touched = Touched::default();
    for r in sqlx::query("select entity_id from exception_timer where due_at <= $1")
        .bind(now)
        .fetch_all(&mut *uow.tx)
        .await?
    {
        touched.orders.insert(r.try_get(0)?);
    }
    let done = evaluate(&mut uow, touched, t).await?;
    uow.commit().await?;
    Ok(done)
}

async fn add_live_entities(conn: &mut AnyConnection, touched: &mut Touched) -> Result<()> {
    for r in sqlx::query(
        "select entity, entity_id from exception_item where status in ('open', 'snoozed')",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let id: String = r.try_get("entity_id")?;
        match r.try_get::<String, _>("entity")?.as_str() {
            "order" => touched.orders.insert(id),
            "fulfillment" => touched.fulfillments.insert(id),
            "product" => touched.products.insert(id),
            // `{product_id}/{warehouse_id}`: the product's rules cover it.
            "stock" => touched
                .products
                .insert(id.split('/').next().unwrap_or_default().to_string()),
            "incident" => touched.incidents.insert(id),
            _ => touched.imports.insert(id),
        };
    }
    Ok(())
}

/// Sets (or drops) the evaluated orders' next check times: one multi-row
/// upsert and one delete per chunk.
async fn set_timers(conn: &mut AnyConnection, timers: &[(String, Option<i64>)]) -> Result<()> {
    let due: Vec<(&String, i64)> = timers
        .iter()
        .filter_map(|(id, d)| d.map(|d| (id, d)))
        .collect();
    for chunk in due.chunks(CHUNK / 2) {
        let text = sql::values_rows(
            "insert into exception_timer (entity_id, due_at) values ",
            2,
            chunk.len(),
        ) + " on conflict (entity_id) do update set due_at = excluded.due_at";
        let mut q = sqlx::query(&text);
        for (id, d) in chunk {
            q = q.bind(*id).bind(*d);
        }
        q.execute(&mut *conn).await?;
    }
    let gone: Vec<String> = timers
        .iter()
        .filter(|(_, d)| d.is_none())
        .map(|(id, _)| id.clone())
        .collect();
    for chunk in gone.chunks(CHUNK) {
        let text = format!(
            "delete from exception_timer where entity_id in ({})",
            sql::params(1, chunk.len())
        );
        let mut q = sqlx::query(&text);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn evaluate(uow: &mut Uow, touched: Touched, t: &Thresholds) -> Result<Projected> {
    let now = uow.now();
    let started = std::time::Instant::now();
    let Gathered {
        wanted,
        existing,
        timers,
    } = gather(&mut uow.tx, touched, t, now).await?;
    tracing::debug!(
        wanted = wanted.len(),
        existing = existing.len(),
        gather_ms = started.elapsed().as_millis() as u64,
        "exception records gathered"
    );
    set_timers(&mut uow.tx, &timers).await?;
    let by_id: BTreeMap<&str, &Existing> = existing.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut done = Projected::default();
    for action in rules::reconcile(wanted, &existing) {
        match action {
            Action::Open(w) => {
                open(uow, w).await?;
                done.opened += 1;
            }
            Action::Close { id } => {
                // Nothing to record when someone resolved it in the meantime.
                let Some((queue, entity_ref, status)) = sqlx::query_as::<_, (String, String, String)>(
                    "update exception_item set status = 'closed', closed_at = $1, closed_by = 'rule', updated_at = $1, version = version + 1
                     where exception_id = $2 and status in ('open', 'snoozed')
                     returning queue, entity_ref, status",
                )
                .bind(now)
                .bind(&id)
                .fetch_optional(&mut *uow.tx)
                .await?
                else {
                    continue;
                };
                let before = by_id.get(id.as_str()).map(|e| e.status.clone());
                uow.record(
                    Change {
                        action: "exception.close",
                        entity: "exception",
                        entity_id: &id,
                        before: Some(serde_json::json!({"status": before})),
                        after: Some(serde_json::json!({"status": status})),
                    },
                    Event::ExceptionClosed {
                        exception_id: id.clone(),
                        queue,
                        entity_ref,
                    },
                )
                .await?;
                done.closed += 1;
            }
            // A refreshed description and a cleared flag are derived
            // bookkeeping of the projection, like a counter: the events that
            // changed the record are already in the outbox.
            Action::Refresh { id, detail } => {
                sqlx::query("update exception_item set detail = $1, updated_at = $2 where exception_id = $3")
                    .bind(detail)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *uow.tx)
                    .await?;
            }
            Action::Clear { id } => {
                sqlx::query("update exception_item set cleared = 1, updated_at = $1 where exception_id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *uow.tx)
                    .await?;
            }
        }
    }
    Ok(done)
}

pub(crate) async fn open(uow: &mut Uow, w: Wanted) -> Result<()> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    sqlx::query(
        "insert into exception_item (exception_id, queue, entity, entity_id, entity_ref, link, reason, detail, owner_role,
            warehouse_code, channel_code, status, opened_at, sla_due_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(w.queue.as_str())
    .bind(&w.entity)
    .bind(&w.entity_id)
    .bind(&w.entity_ref)
    .bind(&w.link)
    .bind(&w.reason)
    .bind(&w.detail)
    .bind(w.owner.as_str())
    .bind(&w.warehouse)
    .bind(&w.channel)
    .bind(w.opened_at)
    .bind(w.sla_due_at)
    .bind(now)
    .execute(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "exception.open",
            entity: "exception",
            entity_id: &id,
            before: None,
            after: Some(serde_json::to_value(&w).unwrap_or_default()),
        },
        Event::ExceptionOpened {
            exception_id: id.clone(),
            queue: w.queue.as_str().into(),
            entity: w.entity,
            entity_id: w.entity_id,
            entity_ref: w.entity_ref,
            reason: w.reason,
        },
    )
    .await
}

/// Evaluates every record that could need an item, in transactions of a
/// few thousand orders, and moves the cursor past the events that existed
/// when it began. For a database the projector has never read (after the
/// upgrade that added it, or orders loaded in bulk): projecting the whole
/// outbox would miss orders that were imported without per-order events.
#[tracing::instrument(skip_all)]
pub async fn rebuild(db: &Db, clock: &Clock, t: &Thresholds) -> Result<Projected> {
    let start = db.max_event_seq().await?;
    let ctx = Ctx::system("exceptions").with_clock(clock.clone());
    let mut done = Projected::default();
    let mut after = String::new();
    loop {
        let ids: Vec<String> = sqlx::query_scalar(
            "select order_id from sales_order
             where order_id > $1 and (status in ('received', 'confirmed', 'in_fulfilment') or hold_count > 0)
             order by order_id limit 2000",
        )
        .bind(&after)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        let mut touched = Touched::default();
        touched.orders.extend(ids);
        let mut uow = db.begin(&ctx).await?;
        done += evaluate(&mut uow, touched, t).await?;
        uow.commit().await?;
        after = last;
    }
    let mut touched = Touched::default();
    for r in sqlx::query("select product_id from product")
        .fetch_all(&db.pool)
        .await?
    {
        touched.products.insert(r.try_get(0)?);
    }
    for r in sqlx::query("select job_id from import_job where failed_rows > 0")
        .fetch_all(&db.pool)
        .await?
    {
        touched.imports.insert(r.try_get(0)?);
    }
    for r in sqlx::query("select incident_id from incident where resolved_at is null")
        .fetch_all(&db.pool)
        .await?
    {
        touched.incidents.insert(r.try_get(0)?);
    }
    let mut uow = db.begin(&ctx).await?;
    done += evaluate(&mut uow, touched, t).await?;
    projection::built(&mut uow.tx, CURSOR, start).await?;
    uow.commit().await?;
    Ok(done)
}

/// Whether the projector has never read the outbox (a rebuild is due).
#[tracing::instrument(skip_all)]
pub async fn never_projected(db: &Db) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    projection::never_built(&mut conn, CURSOR).await
}

/// One line of `keel check` drift: an item the rules want that isn't open,
/// or one open that they don't want.
#[tracing::instrument(skip_all)]
pub async fn check(db: &Db, clock: &Clock, t: &Thresholds) -> Result<Vec<String>> {
    let ctx = Ctx::system("keel check").with_clock(clock.clone());
    project(db, clock, t).await?;
    sweep(db, clock, t).await?;
    let mut conn = db.pool.acquire().await?;
    let now = ctx.now();
    // Every record that could need an item, whatever the events said.
    let mut all = Touched::default();
    for r in sqlx::query(
        "select order_id from sales_order where status in ('received', 'confirmed', 'in_fulfilment') or hold_count > 0",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        all.orders.insert(r.try_get(0)?);
    }
    for r in sqlx::query("select product_id from product")
        .fetch_all(&mut *conn)
        .await?
    {
        all.products.insert(r.try_get(0)?);
    }
    for r in sqlx::query("select job_id from import_job where failed_rows > 0")
        .fetch_all(&mut *conn)
        .await?
    {
        all.imports.insert(r.try_get(0)?);
    }
    for r in sqlx::query("select incident_id from incident where resolved_at is null")
        .fetch_all(&mut *conn)
        .await?
    {
        all.incidents.insert(r.try_get(0)?);
    }
    add_live_entities(&mut conn, &mut all).await?;
    let Gathered {
        wanted, existing, ..
    } = gather(&mut conn, all, t, now).await?;
    Ok(rules::reconcile(wanted, &existing)
        .into_iter()
        .filter_map(|a| match a {
            Action::Open(w) => Some(format!(
                "check: exception {} / {} {} ({}) should be open: {}",
                w.queue.as_str(),
                w.entity,
                w.entity_ref,
                w.reason,
                w.detail
            )),
            Action::Close { id } => Some(format!(
                "check: exception {id} is open but its condition no longer holds"
            )),
            // Words and cleared flags trail by at most one event; not drift.
            Action::Refresh { .. } | Action::Clear { .. } => None,
        })
        .collect())
}
