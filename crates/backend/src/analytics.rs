//! Exception queues: the projection, its maintenance from the event stream,
//! and the people's side (list, assign, snooze, resolve).
//!
//! Invariants:
//! - The projector reads the outbox after `projection_cursor('exceptions')`
//!   and advances the cursor with a conditional update in the same
//!   transaction as the items it changes, so each event is applied once even
//!   with several instances; a loser of that update does nothing.
//! - It never copies an event into an item. It collects the records the
//!   events touched and re-evaluates them from their current rows through
//!   the pure rules (`domain::analytics`), so applying an event twice, or
//!   re-evaluating any record at any time, changes nothing.
//! - Conditions that become true with time alone (a pending payment past its
//!   window, an order with no progress, a pick past ship-by) are found by
//!   `sweep`, which re-evaluates only the records that can meet them: held
//!   orders, open orders old enough, and records with a live item.
//! - `check` recomputes every item from every record and reports where the
//!   projection differs.

use std::collections::{BTreeMap, BTreeSet};

use domain::{
    analytics::{
        self as rules, Action, Existing, FulfillmentFact, HoldFact, ImportFacts, IncidentFacts,
        LevelFact, OrderFacts, Queue, StockFacts, Thresholds, Wanted, COUNT_CAP,
    },
    events::Event,
    governance::{Permission, Role},
    views::{ExceptionItem, ExceptionSummary, QueueCount},
};
use serde::Deserialize;
use sqlx::{any::AnyRow, AnyConnection, Row};

use crate::{
    ctx::{ActorKind, Clock, Ctx},
    db::Db,
    error::{Error, Result},
    page_limit, parse_time_cursor,
    projection::{self, fetch_in, Claim, CHUNK},
    rfc3339, sql, time_cursor_after,
    uow::{Change, Uow},
    Page,
};

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

/// The records an event batch touched, by kind.
#[derive(Default)]
struct Touched {
    orders: BTreeSet<String>,
    order_numbers: BTreeSet<String>,
    fulfillments: BTreeSet<String>,
    /// Orders whose lines' products may have changed availability.
    order_products: BTreeSet<String>,
    products: BTreeSet<String>,
    skus: BTreeSet<String>,
    reservations: BTreeSet<String>,
    transfers: BTreeSet<String>,
    counts: BTreeSet<String>,
    imports: BTreeSet<String>,
    incidents: BTreeSet<String>,
}

impl Touched {
    fn add(&mut self, event: &Event) {
        use Event as E;
        match event {
            E::OrderCaptured { order_id, .. }
            | E::OrderSourced { order_id, .. }
            | E::OrderCancelled { order_id, .. }
            | E::OrderLineCancelled { order_id, .. }
            | E::OrderShipped { order_id, .. } => {
                self.orders.insert(order_id.clone());
                self.order_products.insert(order_id.clone());
            }
            E::OrderConfirmed { order_id, .. }
            | E::OrderHeld { order_id, .. }
            | E::OrderHoldReleased { order_id, .. }
            | E::OrderAddressChanged { order_id, .. }
            | E::OrderNoteAdded { order_id, .. }
            | E::OrderTagged { order_id, .. } => {
                self.orders.insert(order_id.clone());
            }
            E::WaveCreated { orders, .. } => self.order_numbers.extend(orders.iter().cloned()),
            E::PickShorted {
                order_number, sku, ..
            } => {
                self.order_numbers.insert(order_number.clone());
                self.skus.insert(sku.clone());
            }
            E::FulfillmentPacked { fulfillment_id, .. }
            | E::PackageMeasured { fulfillment_id, .. } => {
                self.fulfillments.insert(fulfillment_id.clone());
            }
            E::StockReceived { skus, .. } => self.skus.extend(skus.iter().cloned()),
            E::StockAdjusted { sku, .. }
            | E::DeliveryPutAway { sku, .. }
            | E::ReorderPointSet { sku, .. } => {
                self.skus.insert(sku.clone());
            }
            E::IncidentRecorded { incident_id, .. } | E::IncidentResolved { incident_id, .. } => {
                self.incidents.insert(incident_id.clone());
            }
            E::InventoryReserved { reservation_id, .. }
            | E::InventoryReleased { reservation_id, .. }
            | E::InventoryShipped { reservation_id, .. } => {
                self.reservations.insert(reservation_id.clone());
            }
            E::TransferShipped { transfer_id, .. } | E::TransferReceived { transfer_id, .. } => {
                self.transfers.insert(transfer_id.clone());
            }
            E::CountPosted { count_id, .. } => {
                self.counts.insert(count_id.clone());
            }
            E::ImportFinished { job_id, .. } => {
                self.imports.insert(job_id.clone());
            }
            _ => {}
        }
    }
}

async fn ids_in(
    conn: &mut AnyConnection,
    sql: &str,
    keys: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let keys: Vec<String> = keys.iter().cloned().collect();
    fetch_in(conn, sql, &keys)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0).map_err(Error::from))
        .collect()
}

/// Catches the projection up with the outbox: every committed event after
/// the cursor, in batches, each batch one transaction.
#[tracing::instrument(skip_all)]
pub async fn project(db: &Db, clock: &Clock, t: &Thresholds) -> Result<Projected> {
    let mut total = Projected::default();
    loop {
        let (done, batch) = retrying!(project_batch(db, clock, t))?;
        total += batch;
        if done {
            return Ok(total);
        }
    }
}

/// One batch; `true` once nothing is left to read.
async fn project_batch(db: &Db, clock: &Clock, t: &Thresholds) -> Result<(bool, Projected)> {
    let ctx = Ctx::system("exceptions").with_clock(clock.clone());
    let started = std::time::Instant::now();
    let mut uow = db.begin(&ctx).await?;
    let writer_wait = started.elapsed();
    // The projection's own events (and a rebuild's many) touch nothing, so
    // `claim` skips them in the read rather than applying them a batch at a time.
    let (events, read, more) = match projection::claim(&mut uow, CURSOR, BATCH).await? {
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

/// Everything the rules want for the touched records, and what exists for them.
async fn gather(
    conn: &mut AnyConnection,
    mut touched: Touched,
    t: &Thresholds,
    now: i64,
) -> Result<Gathered> {
    let started = std::time::Instant::now();
    // Resolve the indirect keys to orders and products.
    let numbers = ids_in(
        conn,
        "select order_id from sales_order where number in ({ids})",
        &touched.order_numbers,
    )
    .await?;
    touched.orders.extend(numbers);
    let via_fulfillment = ids_in(
        conn,
        "select order_id from fulfillment where fulfillment_id in ({ids})",
        &touched.fulfillments,
    )
    .await?;
    touched.orders.extend(via_fulfillment);
    let by_sku = ids_in(
        conn,
        "select product_id from product where sku in ({ids})",
        &touched.skus,
    )
    .await?;
    touched.products.extend(by_sku);
    for (sql, keys) in [
        ("select product_id from order_line where order_id in ({ids}) and product_id is not null", &touched.order_products),
        ("select product_id from reservation_alloc where reservation_id in ({ids})", &touched.reservations),
        ("select product_id from stock_transfer_line where transfer_id in ({ids})", &touched.transfers),
        ("select product_id from cycle_count_line where count_id in ({ids})", &touched.counts),
    ] {
        let found = ids_in(conn, sql, keys).await?;
        touched.products.extend(found);
    }
    let mut wanted = Vec::new();
    let mut entity_ids: Vec<String> = Vec::new();
    let resolved = started.elapsed();

    let orders: Vec<String> = touched.orders.into_iter().collect();
    let mut facts: BTreeMap<String, OrderFacts> = BTreeMap::new();
    for r in fetch_in(
        conn,
        "select o.order_id, o.number, o.status, o.placed_at, o.updated_at, o.shipping_method, o.warehouse_code, o.backordered_units, c.code
         from sales_order o join channel c on c.channel_id = o.channel_id where o.order_id in ({ids})",
        &orders,
    )
    .await?
    {
        let id: String = r.try_get("order_id")?;
        facts.insert(
            id.clone(),
            OrderFacts {
                order_id: id,
                number: r.try_get("number")?,
                status: r.try_get("status")?,
                placed_at: r.try_get("placed_at")?,
                last_progress_at: r.try_get("updated_at")?,
                shipping_method: r.try_get("shipping_method")?,
                channel: r.try_get("code")?,
                warehouse: r.try_get("warehouse_code")?,
                backordered_units: r.try_get("backordered_units")?,
                holds: Vec::new(),
                fulfillments: Vec::new(),
            },
        );
    }
    for r in fetch_in(
        conn,
        "select order_id, reason, detail, placed_at, active from order_hold where order_id in ({ids})",
        &orders,
    )
    .await?
    {
        if r.try_get::<i16, _>("active")? != 1 {
            continue;
        }
        if let Some(o) = facts.get_mut(&r.try_get::<String, _>("order_id")?) {
            o.holds.push(HoldFact {
                reason: r.try_get("reason")?,
                detail: r.try_get("detail")?,
                placed_at: r.try_get("placed_at")?,
            });
        }
    }
    for r in fetch_in(
        conn,
        "select f.fulfillment_id, f.order_id, f.seq, f.status, f.updated_at, w.code
         from fulfillment f join warehouse w on w.warehouse_id = f.warehouse_id where f.order_id in ({ids})",
        &orders,
    )
    .await?
    {
        if let Some(o) = facts.get_mut(&r.try_get::<String, _>("order_id")?) {
            let id: String = r.try_get("fulfillment_id")?;
            o.last_progress_at = o.last_progress_at.max(r.try_get("updated_at")?);
            entity_ids.push(id.clone());
            o.fulfillments.push(FulfillmentFact {
                id,
                seq: r.try_get("seq")?,
                status: r.try_get("status")?,
                warehouse: r.try_get("code")?,
            });
        }
    }
    let mut timers = Vec::with_capacity(facts.len());
    for o in facts.values_mut() {
        o.holds.sort_by_key(|h| h.placed_at);
        wanted.extend(rules::order_exceptions(o, t, now));
        timers.push((o.order_id.clone(), rules::next_check(o, t, now)));
    }
    let order_count = orders.len();
    entity_ids.extend(orders);
    let ordered = started.elapsed();

    let products: Vec<String> = touched.products.into_iter().collect();
    let mut stock: BTreeMap<String, StockFacts> = BTreeMap::new();
    for r in fetch_in(
        conn,
        "select product_id, sku, name from product where product_id in ({ids})",
        &products,
    )
    .await?
    {
        let id: String = r.try_get("product_id")?;
        stock.insert(
            id.clone(),
            StockFacts {
                product_id: id,
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                backordered_units: 0,
                waiting_orders: 0,
                stocked: false,
                available: 0,
                levels: Vec::new(),
            },
        );
    }
    for r in fetch_in(
        conn,
        "select product_id, cast(sum(backordered_quantity) as bigint) as units, count(distinct order_id) as orders
         from order_line where product_id in ({ids}) and backordered_quantity > 0 group by product_id",
        &products,
    )
    .await?
    {
        if let Some(s) = stock.get_mut(&r.try_get::<String, _>("product_id")?) {
            s.backordered_units = r.try_get("units")?;
            s.waiting_orders = r.try_get("orders")?;
        }
    }
    // Each warehouse's level, with its reorder point where one is set (a
    // reorder point may come before the first stock).
    let warehouses: Vec<(String, String)> = if products.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as("select warehouse_id, code from warehouse")
            .fetch_all(&mut *conn)
            .await?
    };
    let code_of = |id: &str| {
        warehouses
            .iter()
            .find(|w| w.0 == id)
            .map(|w| w.1.clone())
            .unwrap_or_default()
    };
    for r in fetch_in(
        conn,
        "select product_id, warehouse_id, on_hand - reserved as available from stock_level where product_id in ({ids})",
        &products,
    )
    .await?
    {
        if let Some(s) = stock.get_mut(&r.try_get::<String, _>("product_id")?) {
            let warehouse_id: String = r.try_get("warehouse_id")?;
            let available: i64 = r.try_get("available")?;
            s.stocked = true;
            s.available += available;
            s.levels.push(LevelFact {
                warehouse: code_of(&warehouse_id),
                warehouse_id,
                available,
                reorder_point: None,
            });
        }
    }
    for r in fetch_in(
        conn,
        "select product_id, warehouse_id, units from reorder_point where product_id in ({ids})",
        &products,
    )
    .await?
    {
        if let Some(s) = stock.get_mut(&r.try_get::<String, _>("product_id")?) {
            let warehouse_id: String = r.try_get("warehouse_id")?;
            let units: i64 = r.try_get("units")?;
            match s.levels.iter_mut().find(|l| l.warehouse_id == warehouse_id) {
                Some(l) => l.reorder_point = Some(units),
                None => s.levels.push(LevelFact {
                    warehouse: code_of(&warehouse_id),
                    warehouse_id,
                    available: 0,
                    reorder_point: Some(units),
                }),
            }
        }
    }
    for s in stock.values() {
        wanted.extend(rules::stock_exception(s, now));
        wanted.extend(rules::low_stock_exceptions(s, now));
    }
    // A low-stock item's record is the product in one warehouse; look for
    // one in every warehouse, since its reorder point may have gone.
    for p in &products {
        for (w, _) in &warehouses {
            entity_ids.push(rules::stock_level_key(p, w));
        }
    }
    let product_count = products.len();
    entity_ids.extend(products);
    let stocked = started.elapsed();

    let imports: Vec<String> = touched.imports.into_iter().collect();
    for r in fetch_in(
        conn,
        "select job_id, kind, status, total_rows, failed_rows, finished_at from import_job where job_id in ({ids})",
        &imports,
    )
    .await?
    {
        wanted.extend(rules::import_exception(&ImportFacts {
            job_id: r.try_get("job_id")?,
            kind: r.try_get("kind")?,
            status: r.try_get("status")?,
            total_rows: r.try_get("total_rows")?,
            failed_rows: r.try_get("failed_rows")?,
            finished_at: r.try_get("finished_at")?,
        }));
    }
    entity_ids.extend(imports);

    let incidents: Vec<String> = touched.incidents.into_iter().collect();
    for r in fetch_in(
        conn,
        "select incident_id, kind, subject_ref, channel_code, occurrences, first_at, last_detail, resolved_at
         from incident where incident_id in ({ids})",
        &incidents,
    )
    .await?
    {
        wanted.extend(rules::incident_exception(&IncidentFacts {
            incident_id: r.try_get("incident_id")?,
            kind: r.try_get("kind")?,
            subject_ref: r.try_get("subject_ref")?,
            channel: r.try_get("channel_code")?,
            occurrences: r.try_get("occurrences")?,
            first_at: r.try_get("first_at")?,
            last_detail: r.try_get("last_detail")?,
            resolved: r.try_get::<Option<i64>, _>("resolved_at")?.is_some(),
        }));
    }
    entity_ids.extend(incidents);

    let before_existing = started.elapsed();
    let existing = existing_for(conn, &entity_ids).await?;
    tracing::debug!(
        orders = order_count,
        products = product_count,
        keys_ms = resolved.as_millis() as u64,
        orders_ms = (ordered - resolved).as_millis() as u64,
        products_ms = (stocked - ordered).as_millis() as u64,
        rest_ms = (before_existing - stocked).as_millis() as u64,
        existing_ms = (started.elapsed() - before_existing).as_millis() as u64,
        "exception gather"
    );
    Ok(Gathered {
        wanted,
        existing,
        timers,
    })
}

/// What the rules want for the evaluated records, what exists for them, and
/// when each evaluated order should next be looked at.
struct Gathered {
    wanted: Vec<Wanted>,
    existing: Vec<Existing>,
    timers: Vec<(String, Option<i64>)>,
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

/// The live and the resolved-but-uncleared items of these records.
async fn existing_for(conn: &mut AnyConnection, entity_ids: &[String]) -> Result<Vec<Existing>> {
    fetch_in(
        conn,
        "select exception_id, queue, entity_id, reason, status, cleared, detail from exception_item where entity_id in ({ids})",
        entity_ids,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Existing {
            id: r.try_get("exception_id")?,
            queue: Queue::parse(&r.try_get::<String, _>("queue")?)
                .map_err(|e| Error::Internal(e.to_string()))?,
            entity_id: r.try_get("entity_id")?,
            reason: r.try_get("reason")?,
            status: r.try_get("status")?,
            cleared: r.try_get::<i16, _>("cleared")? == 1,
            detail: r.try_get("detail")?,
        })
    })
    .filter(|e: &Result<Existing>| {
        e.as_ref()
            .map_or(true, |e| e.live() || (e.status == "resolved" && !e.cleared))
    })
    .collect()
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

async fn open(uow: &mut Uow, w: Wanted) -> Result<()> {
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
pub async fn never_projected(db: &Db) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    projection::never_built(&mut conn, CURSOR).await
}

/// One line of `keel check` drift: an item the rules want that isn't open,
/// or one open that they don't want.
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

/// The queue list's filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ExceptionFilter {
    pub queue: Option<String>,
    /// `open` (the default: open, and snoozes that have run out), `snoozed`,
    /// `done` (resolved or closed), or `any` (every item, whatever became of
    /// it: what a KPI counted when it opened).
    pub status: Option<String>,
    /// A role name, `me`, or an assignee's email.
    pub owner: Option<String>,
    pub warehouse: Option<String>,
    pub channel: Option<String>,
    /// A reason code within the queue: a hold reason, `stockout`,
    /// `low_stock`, `webhook_rejected`, ….
    pub reason: Option<String>,
    /// Opened on or after this UTC day (`YYYY-MM-DD`).
    pub opened_from: Option<String>,
    /// Opened on or before this UTC day.
    pub opened_to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

// Who closed it is recorded as the actor's sign-in; people read names.
const ITEM: &str = "select x.*, u.email as assignee_email, c.name as closer_name from exception_item x
    left join app_user u on u.user_id = x.assignee_id left join app_user c on c.email = x.closed_by";

fn item(r: &AnyRow, now: i64) -> Result<ExceptionItem> {
    let queue: String = r.try_get("queue")?;
    let owner_role: String = r.try_get("owner_role")?;
    let assignee_email: Option<String> = r.try_get("assignee_email")?;
    let opened_at: i64 = r.try_get("opened_at")?;
    let sla_due_at: i64 = r.try_get("sla_due_at")?;
    let snoozed_until: Option<i64> = r.try_get("snoozed_until")?;
    let status: String = r.try_get("status")?;
    let closed_at: Option<i64> = r.try_get("closed_at")?;
    let live = status == "open" || status == "snoozed";
    Ok(ExceptionItem {
        id: r.try_get("exception_id")?,
        queue_label: Queue::parse(&queue)
            .map(|q| q.label())
            .unwrap_or_default()
            .into(),
        queue,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        entity_ref: r.try_get("entity_ref")?,
        link: r.try_get("link")?,
        reason: r.try_get("reason")?,
        detail: r.try_get("detail")?,
        owner: assignee_email.clone().unwrap_or_else(|| owner_role.clone()),
        owner_role: owner_role.clone(),
        owner_label: Role::parse(&owner_role)
            .map(|r| r.label())
            .unwrap_or_default()
            .into(),
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        assignee_email,
        status: if status == "snoozed" && snoozed_until.is_some_and(|u| u <= now) {
            "open".into()
        } else {
            status
        },
        opened_at: rfc3339(opened_at),
        sla_due_at: rfc3339(sla_due_at),
        age_minutes: (closed_at.unwrap_or(now) - opened_at).max(0) / 60_000_000,
        sla_minutes_left: (sla_due_at - now) / 60_000_000,
        sla_state: if live {
            rules::sla_state(sla_due_at, now)
        } else {
            "done"
        }
        .into(),
        snoozed_until: snoozed_until.map(rfc3339),
        snooze_reason: r.try_get("snooze_reason")?,
        closed_at: closed_at.map(rfc3339),
        closed_by: r
            .try_get::<Option<String>, _>("closer_name")?
            .or(r.try_get("closed_by")?),
        resolution: r.try_get("resolution")?,
        warehouse: r.try_get("warehouse_code")?,
        channel: r.try_get("channel_code")?,
        version: r.try_get("version")?,
    })
}

fn scope_sql(ctx: &Ctx) -> (Option<String>, Option<String>) {
    let channels = &ctx.actor.scope.channels;
    (
        crate::inventory::scope_list(ctx),
        (!channels.is_empty()).then(|| channels.join(",")),
    )
}

/// Live items oldest first (or finished ones newest first), filtered and
/// paged by key.
pub async fn list(db: &Db, ctx: &Ctx, f: &ExceptionFilter) -> Result<Page<ExceptionItem>> {
    ctx.require(Permission::ExceptionsRead)?;
    let limit = page_limit(f.limit);
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let queue = trimmed(&f.queue)
        .map(|q| Queue::parse(&q).map(|q| q.as_str()))
        .transpose()
        .map_err(|e| Error::Invalid(vec![e]))?;
    let status = trimmed(&f.status).unwrap_or_else(|| "open".into());
    if !["open", "snoozed", "done", "any"].contains(&status.as_str()) {
        return Err(Error::invalid("status", "use open, snoozed, done or any"));
    }
    let (opened_from, opened_until) = crate::day_range(
        ("opened_from", f.opened_from.as_deref()),
        ("opened_to", f.opened_to.as_deref()),
    )?;
    let owner = match trimmed(&f.owner) {
        Some(o) if o == "me" => Some(ctx.actor.id.clone().ok_or_else(|| {
            Error::invalid(
                "owner",
                "`me` needs a signed-in person; use a role or an email",
            )
        })?),
        Some(o) if Role::parse(&o).is_ok() => Some(o),
        Some(o) if o.contains('@') => Some(o.to_lowercase()),
        Some(_) => return Err(Error::invalid(
            "owner",
            "use a role (admin, manager, warehouse, finance, support), `me`, or a person's email",
        )),
        None => None,
    };
    let warehouse = trimmed(&f.warehouse).map(|w| w.to_ascii_uppercase());
    let channel = trimmed(&f.channel).map(|c| c.to_ascii_uppercase());
    let reason = trimmed(&f.reason).map(|r| r.to_ascii_lowercase());
    if reason
        .as_deref()
        .is_some_and(|r| r.len() > 40 || !r.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    {
        return Err(Error::invalid(
            "reason",
            "use a reason code such as stockout, low_stock or fraud_review",
        ));
    }
    let (at, after) = parse_time_cursor(f.cursor.as_deref())?;
    let now = ctx.now();
    let (scope_w, scope_c) = scope_sql(ctx);
    // Only the filters given become conditions, so the planner walks the
    // index they call for: an empty queue, or the first page of all queues,
    // must not cost a scan of every item.
    let mut w = sql::Filters::default();
    let order = match status.as_str() {
        "open" => {
            let now = w.arg(now);
            w.and(format!(
                "x.status in ('open', 'snoozed') and (x.status = 'open' or x.snoozed_until <= {now})"
            ));
            "x.opened_at, x.exception_id"
        }
        "snoozed" => {
            let now = w.arg(now);
            w.and(format!(
                "x.status in ('open', 'snoozed') and x.status = 'snoozed' and x.snoozed_until > {now}"
            ));
            "x.opened_at, x.exception_id"
        }
        "done" => {
            w.and("x.closed_at is not null");
            "x.closed_at desc, x.exception_id desc"
        }
        _ => "x.opened_at, x.exception_id",
    };
    let (key_col, cmp) = if status == "done" {
        ("x.closed_at", "<")
    } else {
        ("x.opened_at", ">")
    };
    if let Some(queue) = queue {
        let p = w.arg(queue);
        w.and(format!("x.queue = {p}"));
    }
    if let Some(owner) = owner {
        let p = w.arg(owner);
        w.and(format!(
            "(x.owner_role = {p} or x.assignee_id = {p} or lower(u.email) = {p})"
        ));
    }
    if let Some(warehouse) = warehouse {
        let p = w.arg(warehouse);
        w.and(format!("x.warehouse_code = {p}"));
    }
    if let Some(channel) = channel {
        let p = w.arg(channel);
        w.and(format!("x.channel_code = {p}"));
    }
    if let Some(codes) = scope_w {
        let p = w.arg(codes);
        w.and(format!("(x.warehouse_code is null or (',' || {p} || ',') like ('%,' || x.warehouse_code || ',%'))"));
    }
    if let Some(codes) = scope_c {
        let p = w.arg(codes);
        w.and(format!(
            "(x.channel_code is null or (',' || {p} || ',') like ('%,' || x.channel_code || ',%'))"
        ));
    }
    if let Some(at) = at {
        let (key, id) = (w.arg(at), w.arg(after.unwrap_or_default()));
        w.and(format!(
            "({key_col} {cmp} {key} or ({key_col} = {key} and x.exception_id {cmp} {id}))"
        ));
    }
    if let Some(reason) = reason {
        let p = w.arg(reason);
        w.and(format!("x.reason = {p}"));
    }
    if let Some(at) = opened_from {
        let p = w.arg(at);
        w.and(format!("x.opened_at >= {p}"));
    }
    if let Some(at) = opened_until {
        let p = w.arg(at);
        w.and(format!("x.opened_at < {p}"));
    }
    let take = w.arg(limit + 1);
    let text = format!("{ITEM} where {} order by {order} limit {take}", w.clause());
    let rows = w.query(&text).fetch_all(&db.pool).await?;
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for r in &rows {
        let i = item(r, now)?;
        let key: Option<i64> = if status == "done" {
            r.try_get("closed_at")?
        } else {
            r.try_get("opened_at")?
        };
        keys.push((i.id.clone(), key.unwrap_or_default()));
        items.push(i);
    }
    let next_cursor = time_cursor_after(&keys, limit);
    items.truncate(limit as usize);
    Ok(Page { items, next_cursor })
}

/// Per queue: live items, those past their SLA, and those snoozed (each at
/// most `COUNT_CAP`).
pub async fn summary(db: &Db, ctx: &Ctx) -> Result<ExceptionSummary> {
    ctx.require(Permission::ExceptionsRead)?;
    let now = ctx.now();
    let (scope_w, scope_c) = scope_sql(ctx);
    // Each figure counts at most COUNT_CAP items, so the dashboard costs the
    // same with a hundred items or a hundred thousand; past the cap it reads
    // "1000+". Each condition matches one index's order, so every count walks only
    // the entries it counts. An expired snooze counts as open again.
    let kinds = [
        ("open", "x.status in ('open', 'snoozed') and x.status = 'open'"),
        (
            "woke",
            "x.status = 'snoozed' and x.snoozed_until <= $1",
        ),
        (
            "breached",
            "x.status in ('open', 'snoozed') and x.sla_due_at <= $1 and (x.status = 'open' or x.snoozed_until <= $1)",
        ),
        ("snoozed", "x.status = 'snoozed' and x.snoozed_until > $1"),
    ];
    let parts: Vec<String> = Queue::ALL
        .iter()
        .flat_map(|q| {
            kinds.iter().map(move |(kind, cond)| {
                format!(
                    "select '{q}' as queue, '{kind}' as kind, (select count(*) from (select 1 from exception_item x
                       where x.queue = '{q}' and {cond}
                         and ($2 is null or x.warehouse_code is null or (',' || $2 || ',') like ('%,' || x.warehouse_code || ',%'))
                         and ($3 is null or x.channel_code is null or (',' || $3 || ',') like ('%,' || x.channel_code || ',%'))
                       limit {COUNT_CAP}) t) as n",
                    q = q.as_str()
                )
            })
        })
        .collect();
    let rows = sqlx::query(&parts.join(" union all "))
        .bind(now)
        .bind(scope_w)
        .bind(scope_c)
        .fetch_all(&db.pool)
        .await?;
    let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &rows {
        counts.insert((r.try_get("queue")?, r.try_get("kind")?), r.try_get("n")?);
    }
    let queues: Vec<QueueCount> = Queue::ALL
        .into_iter()
        .map(|q| {
            let n = |kind: &str| {
                counts
                    .get(&(q.as_str().to_string(), kind.to_string()))
                    .copied()
                    .unwrap_or_default()
            };
            let (open, breached, snoozed) = (
                (n("open") + n("woke")).min(COUNT_CAP),
                n("breached"),
                n("snoozed"),
            );
            QueueCount {
                queue: q.as_str().into(),
                label: q.label().into(),
                description: q.describe().into(),
                capped: [open, breached, snoozed].contains(&COUNT_CAP),
                open,
                breached,
                snoozed,
            }
        })
        .collect();
    Ok(ExceptionSummary {
        open: queues.iter().map(|q| q.open).sum(),
        breached: queues.iter().map(|q| q.breached).sum(),
        queues,
        as_of: rfc3339(now),
    })
}

async fn load(conn: &mut AnyConnection, id: &str, now: i64) -> Result<ExceptionItem> {
    let row = sqlx::query(&format!("{ITEM} where x.exception_id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "exception",
            key: id.to_string(),
        })?;
    item(&row, now)
}

fn in_scope(ctx: &Ctx, x: &ExceptionItem) -> Result<()> {
    let s = &ctx.actor.scope;
    let ok = x.warehouse.as_deref().is_none_or(|w| s.allows_warehouse(w))
        && x.channel.as_deref().is_none_or(|c| s.allows_channel(c));
    if ok {
        Ok(())
    } else {
        // Out of scope reads as absent, as elsewhere.
        Err(Error::NotFound {
            entity: "exception",
            key: x.id.clone(),
        })
    }
}

pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<ExceptionItem> {
    ctx.require(Permission::ExceptionsRead)?;
    let mut conn = db.pool.acquire().await?;
    let x = load(&mut conn, id, ctx.now()).await?;
    in_scope(ctx, &x)?;
    Ok(x)
}

/// Loads a live item for a person to work on, checking who may.
async fn workable(uow: &mut Uow, ctx: &Ctx, id: &str) -> Result<ExceptionItem> {
    ctx.require(Permission::ExceptionsWork)?;
    let now = uow.now();
    let x = load(&mut uow.tx, id, now).await?;
    in_scope(ctx, &x)?;
    let owner = Role::parse(&x.owner_role).map_err(Error::Internal)?;
    let allowed = match ctx.actor.kind {
        ActorKind::System => true,
        _ => ctx.actor.role.is_some_and(|r| {
            rules::may_work(r, ctx.actor.id.as_deref(), owner, x.assignee_id.as_deref())
        }),
    };
    if !allowed {
        return Err(Error::Conflict {
            code: "not_your_queue",
            message: format!(
                "{} belongs to {}; ask a manager to assign it to you",
                x.entity_ref, x.owner_label
            ),
        });
    }
    if x.closed_at.is_some() {
        return Err(Error::Conflict {
            code: "exception_closed",
            message: format!("{} is already {}", x.entity_ref, x.status),
        });
    }
    Ok(x)
}

async fn finish(db: &Db, uow: Uow, id: &str) -> Result<ExceptionItem> {
    let now = uow.now();
    uow.commit().await?;
    let mut conn = db.pool.acquire().await?;
    load(&mut conn, id, now).await
}

/// Hands an item to a person (by email or id), or back to its role (`None`).
#[tracing::instrument(skip_all, fields(id))]
pub async fn assign(db: &Db, ctx: &Ctx, id: &str, assignee: Option<&str>) -> Result<ExceptionItem> {
    let mut uow = db.begin(ctx).await?;
    let x = workable(&mut uow, ctx, id).await?;
    let user = match assignee.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => Some(
            sqlx::query_as::<_, (String, String, String)>(
                "select user_id, name, email from app_user where (user_id = $1 or lower(email) = lower($1)) and active = 1",
            )
            .bind(a)
            .fetch_optional(&mut *uow.tx)
            .await?
            .ok_or_else(|| Error::invalid("assignee", format!("no active user is {a}")))?,
        ),
        None => None,
    };
    sqlx::query(
        "update exception_item set assignee_id = $1, assignee_name = $2, updated_at = $3, version = version + 1 where exception_id = $4",
    )
    .bind(user.as_ref().map(|u| u.0.clone()))
    .bind(user.as_ref().map(|u| u.1.clone()))
    .bind(uow.now())
    .bind(id)
    .execute(&mut *uow.tx)
    .await?;
    let email = user.as_ref().map(|u| u.2.clone()).unwrap_or_default();
    uow.record(
        Change {
            action: "exception.assign",
            entity: "exception",
            entity_id: id,
            before: Some(serde_json::json!({"assignee": x.assignee_email})),
            after: Some(serde_json::json!({"assignee": user.as_ref().map(|u| &u.2)})),
        },
        Event::ExceptionAssigned {
            exception_id: id.into(),
            queue: x.queue.clone(),
            assignee: email,
        },
    )
    .await?;
    finish(db, uow, id).await
}

/// Hides an item from the open queue for some hours, with the reason.
#[tracing::instrument(skip_all, fields(id))]
pub async fn snooze(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    hours: i64,
    reason: &str,
) -> Result<ExceptionItem> {
    let (hours, reason) = rules::parse_snooze(hours, reason).map_err(Error::Invalid)?;
    let mut uow = db.begin(ctx).await?;
    let x = workable(&mut uow, ctx, id).await?;
    let until = uow.now() + hours * 3_600_000_000;
    sqlx::query(
        "update exception_item set status = 'snoozed', snoozed_until = $1, snooze_reason = $2, updated_at = $3, version = version + 1 where exception_id = $4",
    )
    .bind(until)
    .bind(&reason)
    .bind(uow.now())
    .bind(id)
    .execute(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "exception.snooze",
            entity: "exception",
            entity_id: id,
            before: Some(serde_json::json!({"status": x.status, "snoozed_until": x.snoozed_until})),
            after: Some(serde_json::json!({"status": "snoozed", "snoozed_until": rfc3339(until), "reason": reason})),
        },
        Event::ExceptionSnoozed {
            exception_id: id.into(),
            queue: x.queue.clone(),
            until: rfc3339(until),
            reason,
        },
    )
    .await?;
    finish(db, uow, id).await
}

/// A person dealt with the item. It stays resolved while its condition
/// lasts; the same condition arising again later opens a new item.
#[tracing::instrument(skip_all, fields(id))]
pub async fn resolve(db: &Db, ctx: &Ctx, id: &str, note: &str) -> Result<ExceptionItem> {
    let note = rules::parse_resolution(note).map_err(|e| Error::Invalid(vec![e]))?;
    let mut uow = db.begin(ctx).await?;
    let x = workable(&mut uow, ctx, id).await?;
    let now = uow.now();
    sqlx::query(
        "update exception_item set status = 'resolved', closed_at = $1, closed_by = $2, resolution = $3, updated_at = $1, version = version + 1
         where exception_id = $4 and status in ('open', 'snoozed')",
    )
    .bind(now)
    .bind(&ctx.actor.name)
    .bind(&note)
    .bind(id)
    .execute(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "exception.resolve",
            entity: "exception",
            entity_id: id,
            before: Some(serde_json::json!({"status": x.status})),
            after: Some(serde_json::json!({"status": "resolved", "note": note})),
        },
        Event::ExceptionResolved {
            exception_id: id.into(),
            queue: x.queue.clone(),
            note,
        },
    )
    .await?;
    if x.entity == "incident" {
        resolve_incident(&mut uow, &x.entity_id).await?;
    }
    finish(db, uow, id).await
}

/// Resolving an incident's item resolves the incident, so the next refused
/// attempt of its kind opens a new one rather than adding to this.
async fn resolve_incident(uow: &mut Uow, incident_id: &str) -> Result<()> {
    let now = uow.now();
    let Some((kind, subject, occurrences)) = sqlx::query_as::<_, (String, String, i64)>(
        "update incident set resolved_at = $1, version = version + 1 where incident_id = $2 and resolved_at is null
         returning kind, subject_ref, occurrences",
    )
    .bind(now)
    .bind(incident_id)
    .fetch_optional(&mut *uow.tx)
    .await?
    else {
        return Ok(());
    };
    uow.record(
        Change {
            action: "incident.resolve",
            entity: "incident",
            entity_id: incident_id,
            before: Some(serde_json::json!({"resolved_at": null, "occurrences": occurrences})),
            after: Some(
                serde_json::json!({"resolved_at": rfc3339(now), "occurrences": occurrences}),
            ),
        },
        Event::IncidentResolved {
            incident_id: incident_id.into(),
            kind,
            subject,
        },
    )
    .await
}
