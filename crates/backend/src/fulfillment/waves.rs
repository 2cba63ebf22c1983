//! Waves: a warehouse's ready fulfilments grouped by carrier cut-off and age,
//! with pick tasks in bin order (FEFO, then walk order).

use super::pack::wave_fulfillment;
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    page_limit, parse_time_cursor,
    refs::components,
    refs::WarehouseRef,
    rfc3339,
    sql::{in_chunks, rows_per},
    sql::{params, values_rows, Batch, Val},
    time_cursor_after,
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::Event,
    fulfillment::{self as rules},
    governance::Permission,
    inventory::LotStock,
    views::{Page, PickTask, Wave, WaveSummary},
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// Takes the warehouse's confirmed, unheld fulfilments: express services first, then the oldest orders. Each unit gets a bin (FEFO, then walk order) and the tasks are sorted by bin sequence. 409 nothing_to_pick when none waits.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaveInput {
    pub warehouse: String,
    /// Fulfilments at most (default 25, at most 200).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub max_orders: Option<i64>,
    /// Only express services (the earliest carrier cut-off).
    #[serde(default)]
    pub express_only: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct WaveFilter {
    pub warehouse: Option<String>,
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

const DEFAULT_WAVE_ORDERS: i64 = 25;

/// Releases the warehouse's confirmed fulfilments to the floor as one wave:
/// earliest carrier cut-off first, then oldest order, each unit assigned to
/// a bin (FEFO, then walk order) and the tasks sorted by bin sequence.
#[tracing::instrument(skip_all, fields(warehouse = %input.warehouse))]
pub async fn build_wave(
    db: &Db,
    ctx: &Ctx,
    input: WaveInput,
    idem: Option<&Idempotency>,
) -> Result<Wave> {
    ctx.require(Permission::FloorUse)?;
    let max = input.max_orders.unwrap_or(DEFAULT_WAVE_ORDERS);
    if !(1..=rules::MAX_WAVE_ORDERS).contains(&max) {
        return Err(Error::invalid(
            "max_orders",
            format!("use 1 to {} orders per wave", rules::MAX_WAVE_ORDERS),
        ));
    }
    let id = retrying!(build_wave_once(db, ctx, &input, max, idem))?;
    get_wave(db, ctx, &id).await
}

async fn build_wave_once(
    db: &Db,
    ctx: &Ctx,
    input: &WaveInput,
    max: i64,
    idem: Option<&Idempotency>,
) -> Result<String> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency::<String>(idem).await? {
        return uow.replay(saved).await;
    }
    let wh = crate::refs::warehouse_ref(&mut uow.tx, ctx, "warehouse", &input.warehouse).await?;
    crate::refs::in_scope(ctx, &wh.code)?;
    // Sourcing adds units to open fulfilments; taking the sourcing turn
    // keeps it from adding to one while this wave takes it.
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let found = candidates(&mut uow, &wh, input.express_only).await?;
    let chosen = rules::wave_order(found, max as usize);
    if chosen.is_empty() {
        return Err(nothing_to_pick(&wh, input.express_only));
    }
    let built = make_wave(&mut uow, &wh, chosen).await?;
    uow.remember(&built.wave_id).await?;
    uow.commit().await?;
    tracing::info!(wave = %built.wave_id, orders = built.orders, tasks = built.tasks, units = built.units, "wave built");
    Ok(built.wave_id)
}

/// What building one wave did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaveBuilt {
    pub wave_id: String,
    pub orders: usize,
    pub tasks: i64,
    pub units: i64,
    /// SQL statements run, audit row and event aside.
    pub statements: i64,
}

/// The warehouse's fulfilments a wave may take: open, of confirmed (or
/// already started) orders without holds.
async fn candidates(
    uow: &mut Uow,
    wh: &WarehouseRef,
    express_only: bool,
) -> Result<Vec<rules::WaveCandidate>> {
    let rows = sqlx::query(
        "select f.fulfillment_id, f.order_id, o.shipping_method, o.placed_at, o.number from fulfillment f
         join sales_order o on o.order_id = f.order_id
         where f.warehouse_id = $1 and f.status = 'open' and o.status in ('confirmed', 'in_fulfilment') and o.hold_count = 0",
    )
    .bind(&wh.id)
    .fetch_all(&mut *uow.tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let c = rules::WaveCandidate {
            fulfillment_id: r.try_get("fulfillment_id")?,
            order_id: r.try_get("order_id")?,
            shipping_method: r.try_get("shipping_method")?,
            placed_at: r.try_get("placed_at")?,
            number: r.try_get("number")?,
        };
        if !express_only || rules::cutoff_rank(&c.shipping_method) == 0 {
            out.push(c);
        }
    }
    Ok(out)
}

fn nothing_to_pick(wh: &WarehouseRef, express_only: bool) -> Error {
    Error::Conflict {
        code: Conflict::NothingToPick,
        message: format!(
            "no confirmed order waits to be picked in {}{}",
            wh.code,
            if express_only {
                " with an express service"
            } else {
                ""
            }
        ),
    }
}

/// Builds one wave in `uow` from `chosen`, in wave order: take the
/// fulfilments → what to pick → the bins free to pick from → the tasks (one
/// walk) → write in one batch → record.
async fn make_wave(
    uow: &mut Uow,
    wh: &WarehouseRef,
    chosen: Vec<rules::WaveCandidate>,
) -> Result<WaveBuilt> {
    let mut statements = 0;
    let wave_id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    let taken = take_fulfillments(uow, &chosen, &wave_id, now, &mut statements).await?;
    // Keep the wave order for the fulfilments actually taken.
    let taken_set: std::collections::HashSet<&str> = taken.iter().map(String::as_str).collect();
    let order: Vec<&rules::WaveCandidate> = chosen
        .iter()
        .filter(|c| taken_set.contains(c.fulfillment_id.as_str()))
        .collect();
    if order.is_empty() {
        return Err(Error::Conflict {
            code: Conflict::NothingToPick,
            message: format!(
                "the orders waiting in {} were taken by another wave; try again",
                wh.code
            ),
        });
    }
    let needs = pick_needs(uow, &taken, &order, &mut statements).await?;
    let mut products: Vec<String> = needs.iter().map(|n| n.product_id.clone()).collect();
    products.sort_unstable();
    products.dedup();
    let mut bins = free_bins(uow, wh, &products, &mut statements).await?;
    let tasks = plan_tasks(wh, &needs, &mut bins)?;
    let units: i64 = tasks.iter().map(|t| t.quantity).sum();
    let number = crate::uow::next_number(uow, "wave", "W").await?;
    statements += 1;
    let mut batch = Batch::default();
    batch.push(
        "insert into wave (wave_id, number, warehouse_id, status, fulfillments, units, created_by, created_at) values ($1, $2, $3, 'open', $4, $5, $6, $7)",
        vec![
            wave_id.as_str().into(),
            number.as_str().into(),
            wh.id.as_str().into(),
            (order.len() as i64).into(),
            units.into(),
            uow.ctx.actor.name.clone().into(),
            now.into(),
        ],
    );
    push_tasks(&mut batch, &wave_id, &tasks);
    statements += batch.len() as i64;
    batch.run(&mut uow.tx, uow.backend).await?;
    let orders: Vec<String> = order.iter().map(|c| c.number.clone()).collect();
    uow.record(
        Change {
            action: "wave.create",
            entity: "wave",
            entity_id: &wave_id,
            before: None,
            after: Some(serde_json::json!({
                "number": number, "warehouse": wh.code, "fulfillments": taken, "tasks": tasks.len(), "units": units
            })),
        },
        Event::WaveCreated {
            wave_id: wave_id.clone(),
            number,
            warehouse: wh.code.clone(),
            orders: orders.clone(),
            tasks: tasks.len() as i64,
            units,
        },
    )
    .await?;
    Ok(WaveBuilt {
        wave_id,
        orders: orders.len(),
        tasks: tasks.len() as i64,
        units,
        statements,
    })
}

/// Moves the chosen fulfilments into the wave and answers the ids taken.
/// The orders become in_fulfilment first: that takes their row locks, so an
/// edit or hold that was underway has committed, and an order held
/// meanwhile is left out.
async fn take_fulfillments(
    uow: &mut Uow,
    chosen: &[rules::WaveCandidate],
    wave_id: &str,
    now: i64,
    statements: &mut i64,
) -> Result<Vec<String>> {
    let mut orders: Vec<String> = chosen.iter().map(|c| c.order_id.clone()).collect();
    orders.sort_unstable();
    orders.dedup();
    let _: Vec<(String,)> = in_chunks(
        &mut uow.tx,
        "update sales_order set status = 'in_fulfilment' where status = 'confirmed' and hold_count = 0 and order_id in ({ids}) returning order_id",
        &orders,
        statements,
    )
    .await?;
    // Read by key alone and filtered here: with a status predicate,
    // PostgreSQL may walk every in_fulfilment order through the status
    // index and test each against the whole id list.
    let eligible: std::collections::HashSet<String> = in_chunks::<(String, String, i64)>(
        &mut uow.tx,
        "select order_id, status, hold_count from sales_order where order_id in ({ids})",
        &orders,
        statements,
    )
    .await?
    .into_iter()
    .filter(|(_, status, holds)| status == "in_fulfilment" && *holds == 0)
    .map(|(o, _, _)| o)
    .collect();
    let ids: Vec<&str> = chosen
        .iter()
        .filter(|c| eligible.contains(&c.order_id))
        .map(|c| c.fulfillment_id.as_str())
        .collect();
    let mut taken: Vec<String> = Vec::new();
    for chunk in ids.chunks(rows_per(1)) {
        let sql = format!(
            "update fulfillment set status = 'picking', wave_id = ${}, updated_at = ${} where status = 'open' and fulfillment_id in ({}) returning fulfillment_id",
            chunk.len() + 1,
            chunk.len() + 2,
            params(1, chunk.len())
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        *statements += 1;
        taken.extend(q.bind(wave_id).bind(now).fetch_all(&mut *uow.tx).await?);
    }
    Ok(taken)
}

/// Units of a product to pick for a fulfilment line.
struct PickNeed {
    fulfillment_id: String,
    line_no: i64,
    product_id: String,
    sku: String,
    units: i64,
}

/// What to pick, in wave order: each line, or each bundle's components.
async fn pick_needs(
    uow: &mut Uow,
    taken: &[String],
    order: &[&rules::WaveCandidate],
    statements: &mut i64,
) -> Result<Vec<PickNeed>> {
    // A fulfilment line carries its order line's SKU, and a product's SKU
    // never changes, so the SKU names the product without the order line.
    let line_rows: Vec<(String, i64, i64, String, String, String)> = in_chunks(
        &mut uow.tx,
        "select fl.fulfillment_id, fl.line_no, fl.quantity, p.product_id, p.sku, p.kind from fulfillment_line fl
         join product p on p.sku = fl.sku
         where fl.fulfillment_id in ({ids}) order by fl.fulfillment_id, fl.line_no",
        taken,
        statements,
    )
    .await?;
    let bundles: Vec<String> = line_rows
        .iter()
        .filter(|r| r.5 == "bundle")
        .map(|r| r.3.clone())
        .collect();
    let parts = components(&mut uow.tx, &bundles, statements).await?;
    let part_skus: HashMap<String, String> = if bundles.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<String> = parts
            .values()
            .flatten()
            .map(|p| p.product_id.clone())
            .collect();
        in_chunks::<(String, String)>(
            &mut uow.tx,
            "select product_id, sku from product where product_id in ({ids})",
            &ids,
            statements,
        )
        .await?
        .into_iter()
        .collect()
    };
    let mut by_fulfillment: HashMap<&str, Vec<PickNeed>> = HashMap::new();
    for (fid, line_no, qty, product_id, sku, kind) in &line_rows {
        let list = by_fulfillment.entry(fid.as_str()).or_default();
        if kind == "bundle" {
            for p in parts.get(product_id).into_iter().flatten() {
                list.push(PickNeed {
                    fulfillment_id: fid.clone(),
                    line_no: *line_no,
                    product_id: p.product_id.clone(),
                    sku: part_skus.get(&p.product_id).cloned().unwrap_or_default(),
                    units: qty * p.per_unit,
                });
            }
        } else {
            list.push(PickNeed {
                fulfillment_id: fid.clone(),
                line_no: *line_no,
                product_id: product_id.clone(),
                sku: sku.clone(),
                units: *qty,
            });
        }
    }
    Ok(order
        .iter()
        .flat_map(|c| {
            by_fulfillment
                .remove(c.fulfillment_id.as_str())
                .unwrap_or_default()
        })
        .collect())
}

/// A bin's units of one lot of a product.
struct Bin {
    location_id: String,
    code: String,
    lot: String,
    stock: LotStock,
}

/// The warehouse's bins holding these products, by product, less what
/// unshipped tasks of earlier waves will take.
async fn free_bins(
    uow: &mut Uow,
    wh: &WarehouseRef,
    products: &[String],
    statements: &mut i64,
) -> Result<HashMap<String, Vec<Bin>>> {
    let mut bins: HashMap<String, Vec<Bin>> = HashMap::new();
    for chunk in products.chunks(rows_per(1)) {
        let sql = format!(
            "select b.product_id, b.location_id, l.code, l.pick_sequence, b.lot, b.expires_on, b.on_hand from stock_balance b
             join location l on l.location_id = b.location_id
             where l.warehouse_id = ${} and b.on_hand > 0 and b.product_id in ({})",
            chunk.len() + 1,
            params(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q.bind(p);
        }
        *statements += 1;
        for r in q.bind(&wh.id).fetch_all(&mut *uow.tx).await? {
            bins.entry(r.try_get("product_id")?).or_default().push(Bin {
                location_id: r.try_get("location_id")?,
                code: r.try_get("code")?,
                lot: r.try_get("lot")?,
                stock: LotStock {
                    expires_on: r.try_get("expires_on")?,
                    pick_sequence: r.try_get("pick_sequence")?,
                    on_hand: r.try_get("on_hand")?,
                },
            });
        }
    }
    let promised: Vec<(String, String, String, i64)> = in_chunks(
        &mut uow.tx,
        "select product_id, location_id, lot, cast(sum(quantity - short) as bigint) from pick_task
         where status in ('open', 'picked') and product_id in ({ids}) group by product_id, location_id, lot",
        products,
        statements,
    )
    .await?;
    for (product, location, lot, units) in promised {
        if let Some(b) = bins.get_mut(&product).and_then(|list| {
            list.iter_mut()
                .find(|b| b.location_id == location && b.lot == lot)
        }) {
            b.stock.on_hand -= units;
        }
    }
    Ok(bins)
}

/// One pick task: units of a lot from a bin for a fulfilment line.
struct Task {
    fulfillment_id: String,
    line_no: i64,
    product_id: String,
    sku: String,
    location_id: String,
    code: String,
    sequence: i64,
    lot: String,
    expires_on: String,
    quantity: i64,
}

/// Every need taken from the bins first-expiry-first, then sorted into one
/// walk through the warehouse (bin sequence, then bin, then item). No I/O.
fn plan_tasks(
    wh: &WarehouseRef,
    needs: &[PickNeed],
    bins: &mut HashMap<String, Vec<Bin>>,
) -> Result<Vec<Task>> {
    let mut tasks: Vec<Task> = Vec::new();
    for n in needs {
        let list = bins.get_mut(&n.product_id);
        let stock: Vec<LotStock> = list
            .as_ref()
            .map(|l| l.iter().map(|b| b.stock.clone()).collect())
            .unwrap_or_default();
        let plan = domain::inventory::fefo_plan(&stock, n.units).ok_or_else(|| Error::Conflict {
            code: Conflict::BinsShort,
            message: format!(
                "the bins in {} hold fewer units of {} than are reserved there; count them (keel check shows the drift)",
                wh.code, n.sku
            ),
        })?;
        // No bins means no stock, and fefo_plan plans no stock only for no
        // units: there is nothing to take.
        let Some(list) = list else { continue };
        for (i, units) in plan {
            let b = &mut list[i];
            b.stock.on_hand -= units;
            tasks.push(Task {
                fulfillment_id: n.fulfillment_id.clone(),
                line_no: n.line_no,
                product_id: n.product_id.clone(),
                sku: n.sku.clone(),
                location_id: b.location_id.clone(),
                code: b.code.clone(),
                sequence: b.stock.pick_sequence,
                lot: b.lot.clone(),
                expires_on: b.stock.expires_on.clone(),
                quantity: units,
            });
        }
    }
    tasks.sort_by(|a, b| (a.sequence, &a.code, &a.sku).cmp(&(b.sequence, &b.code, &b.sku)));
    Ok(tasks)
}

/// The wave's pick tasks, in walk order, into the batch.
fn push_tasks(batch: &mut Batch, wave_id: &str, tasks: &[Task]) {
    const COLS: usize = 12;
    for (c, chunk) in tasks.chunks(rows_per(COLS)).enumerate() {
        let mut args: Vec<Val> = Vec::with_capacity(chunk.len() * COLS);
        for (i, t) in chunk.iter().enumerate() {
            args.extend([
                Val::from(uuid::Uuid::now_v7().to_string()),
                wave_id.into(),
                t.fulfillment_id.as_str().into(),
                t.line_no.into(),
                t.product_id.as_str().into(),
                t.sku.as_str().into(),
                t.location_id.as_str().into(),
                t.lot.as_str().into(),
                t.expires_on.as_str().into(),
                t.quantity.into(),
                ((c * rows_per(COLS) + i) as i64).into(),
                "bin".into(),
            ]);
        }
        batch.push(
            values_rows(
                "insert into pick_task (task_id, wave_id, fulfillment_id, line_no, product_id, sku, location_id, lot, expires_on, quantity, route, step) values ",
                COLS,
                chunk.len(),
            ),
            args,
        );
    }
}

/// Plans a warehouse's whole queue at once: every fulfilment waiting is
/// waved, `max` orders to a wave, in wave order, in one transaction (as a
/// lead releases a shift's work).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn wave_all(db: &Db, ctx: &Ctx, warehouse: &str, max: i64) -> Result<Vec<WaveBuilt>> {
    ctx.require(Permission::FloorUse)?;
    if !(1..=rules::MAX_WAVE_ORDERS).contains(&max) {
        return Err(Error::invalid(
            "max_orders",
            format!("use 1 to {} orders per wave", rules::MAX_WAVE_ORDERS),
        ));
    }
    let mut uow = db.begin(ctx).await?;
    let wh = crate::refs::warehouse_ref(&mut uow.tx, ctx, "warehouse", warehouse).await?;
    crate::refs::in_scope(ctx, &wh.code)?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let found = candidates(&mut uow, &wh, false).await?;
    let mut ordered = rules::wave_order(found, usize::MAX).into_iter().peekable();
    let mut out = Vec::new();
    while ordered.peek().is_some() {
        let chosen: Vec<_> = ordered.by_ref().take(max as usize).collect();
        let mut built = make_wave(&mut uow, &wh, chosen).await?;
        if out.is_empty() {
            built.statements += 1;
        }
        out.push(built);
    }
    uow.commit().await?;
    Ok(out)
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_wave(db: &Db, ctx: &Ctx, id: &str) -> Result<Wave> {
    ctx.require(Permission::FloorUse)?;
    let mut conn = db.pool.acquire().await?;
    let wave = load_wave(&mut conn, id).await?;
    crate::refs::visible_in(ctx, &wave.warehouse, "wave", id)?;
    Ok(wave)
}

pub(crate) async fn load_wave(conn: &mut AnyConnection, id: &str) -> Result<Wave> {
    let row = sqlx::query(
        "select v.*, w.code as warehouse from wave v join warehouse w on w.warehouse_id = v.warehouse_id where v.wave_id = $1 or v.number = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "wave",
        key: id.to_string(),
    })?;
    let wave_id: String = row.try_get("wave_id")?;
    let task_rows = sqlx::query(
        "select t.*, l.code as location, p.name, o.number as order_number from pick_task t
         join location l on l.location_id = t.location_id join product p on p.product_id = t.product_id
         join fulfillment f on f.fulfillment_id = t.fulfillment_id join sales_order o on o.order_id = f.order_id
         where t.wave_id = $1 order by t.route",
    )
    .bind(&wave_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut tasks = Vec::with_capacity(task_rows.len());
    for r in &task_rows {
        tasks.push(PickTask {
            id: r.try_get("task_id")?,
            fulfillment_id: r.try_get("fulfillment_id")?,
            order_number: r.try_get("order_number")?,
            line_no: r.try_get("line_no")?,
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            location: r.try_get("location")?,
            lot: r.try_get("lot")?,
            expires_on: r.try_get("expires_on")?,
            quantity: r.try_get("quantity")?,
            picked: r.try_get("picked")?,
            short: r.try_get("short")?,
            step: r.try_get("step")?,
            status: r.try_get("status")?,
            short_reason: r.try_get("short_reason")?,
            picked_by: r.try_get("picked_by")?,
        });
    }
    let fulfillments = sqlx::query(
        "select f.fulfillment_id, f.seq, f.status, o.order_id, o.number, o.shipping_method from fulfillment f
         join sales_order o on o.order_id = f.order_id where f.wave_id = $1 order by o.number, f.seq",
    )
    .bind(&wave_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(wave_fulfillment)
    .collect::<Result<Vec<_>>>()?;
    Ok(Wave {
        id: wave_id,
        number: row.try_get("number")?,
        warehouse: row.try_get("warehouse")?,
        status: row.try_get("status")?,
        units: tasks.iter().map(|t| t.quantity).sum(),
        picked_units: tasks.iter().map(|t| t.picked).sum(),
        tasks,
        fulfillments,
        created_by: row.try_get("created_by")?,
        created_at: rfc3339(row.try_get("created_at")?),
        completed_at: row.try_get::<Option<i64>, _>("completed_at")?.map(rfc3339),
    })
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_waves(db: &Db, ctx: &Ctx, filter: &WaveFilter) -> Result<Page<WaveSummary>> {
    ctx.require(Permission::FloorUse)?;
    query_waves(db, ctx, filter).await
}

/// Waves in the actor's warehouses, newest first; the caller checked the
/// permission.
pub(crate) async fn query_waves(
    db: &Db,
    ctx: &Ctx,
    filter: &WaveFilter,
) -> Result<Page<WaveSummary>> {
    let limit = page_limit(filter.limit);
    let (at, after) = parse_time_cursor(filter.cursor.as_deref())?;
    let status = filter
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(s) = status {
        if !["open", "done", "cancelled"].contains(&s) {
            return Err(Error::invalid("status", "use open, done or cancelled"));
        }
    }
    let warehouse = filter
        .warehouse
        .as_deref()
        .map(|w| w.trim().to_ascii_uppercase())
        .filter(|w| !w.is_empty());
    let mut f = crate::sql::Filters::default();
    f.eq("w.code", warehouse);
    f.eq("v.status", status);
    f.scope(&ctx.actor.scope.warehouses, &["w.code"], false);
    f.past("v.created_at", "v.wave_id", "<", at.zip(after));
    let n = f.arg(limit + 1);
    let sql = format!(
        "select v.wave_id, v.number, w.code as warehouse, v.status, v.fulfillments, v.units, v.created_at,
                (select cast(coalesce(sum(t.picked), 0) as bigint) from pick_task t where t.wave_id = v.wave_id) as picked_units
         from wave v join warehouse w on w.warehouse_id = v.warehouse_id
         where {} order by v.created_at desc, v.wave_id desc limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for r in &rows {
        let id: String = r.try_get("wave_id")?;
        let at: i64 = r.try_get("created_at")?;
        keys.push((id.clone(), at));
        items.push(WaveSummary {
            id,
            number: r.try_get("number")?,
            warehouse: r.try_get("warehouse")?,
            status: r.try_get("status")?,
            fulfillments: r.try_get("fulfillments")?,
            units: r.try_get("units")?,
            picked_units: r.try_get("picked_units")?,
            created_at: rfc3339(at),
        });
    }
    let next_cursor = time_cursor_after(&keys, limit);
    items.truncate(limit as usize);
    Ok(Page { items, next_cursor })
}
