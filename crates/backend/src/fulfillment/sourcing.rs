//! Sourcing: open orders planned into fulfilments by the channel's warehouse
//! priority, backorders sourced again as stock arrives, and dry runs of a new
//! priority.

use super::records::{add_to_line, sourced_event};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    refs::components,
    sql::{in_chunks, rows_per, values_list, CHUNK},
    sql::{params, values_rows, Batch, Val},
    uow::{Change, Uow},
};
use domain::{
    fulfillment::{self as rules, Need, Part, Plan, Spare},
    governance::Permission,
    views::DryRun,
};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashMap};

/// Takes the sourcing turn: the first write of every unit of work that may
/// source backorders, so those units queue behind each other (they lock the
/// same orders and stock rows in different orders otherwise, and PostgreSQL
/// would break the deadlocks by failing them).
pub(crate) async fn sourcing_turn(uow: &mut Uow) -> Result<()> {
    sqlx::query("update sequence_counter set value = value + 1 where name = 'sourcing'")
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

/// The products a reservation holds, for sourcing backorders from what its
/// release frees.
pub(crate) async fn products_of(
    conn: &mut AnyConnection,
    reservation_id: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "select distinct product_id from reservation_alloc where reservation_id = $1",
    )
    .bind(reservation_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Sources every backordered line from what is spare now, oldest order
/// first: what receipts do for their own products, for all of them (after a
/// channel's warehouses change, say).
#[tracing::instrument(skip_all)]
pub async fn source_waiting(db: &Db, ctx: &Ctx) -> Result<Sourced> {
    retrying!(source_waiting_once(db, ctx))
}

async fn source_waiting_once(db: &Db, ctx: &Ctx) -> Result<Sourced> {
    ctx.require(Permission::OrdersWrite)?;
    let mut uow = db.begin(ctx).await?;
    sourcing_turn(&mut uow).await?;
    let run = source(&mut uow, None).await?;
    uow.commit().await?;
    Ok(run)
}

/// Tries a sourcing rule (a priority list of warehouses) on the channel's
/// latest orders beside the rule it has: both replay the same orders, oldest
/// first, from today's stock as if none of them were reserved, and report
/// splits, shipments and backorders. Nothing is written.
#[tracing::instrument(skip_all, fields(channel = %code))]
pub async fn dry_run(db: &Db, ctx: &Ctx, code: &str, input: &rules::RuleInput) -> Result<DryRun> {
    ctx.require(Permission::OrdersRead)?;
    let rule = input.parse().map_err(Error::Invalid)?;
    let mut conn = db.pool.acquire().await?;
    let row = sqlx::query(
        "select channel_id, code, warehouses_json, safety_buffer from channel where code = $1",
    )
    .bind(code.trim().to_uppercase())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "channel",
        key: code.to_string(),
    })?;
    let code: String = row.try_get("code")?;
    if !ctx.actor.scope.allows_channel(&code) {
        return Err(Error::OutOfScope {
            what: format!("channel {code}"),
        });
    }
    let channel_id: String = row.try_get("channel_id")?;
    let current =
        crate::refs::stored_warehouses(&code, &row.try_get::<String, _>("warehouses_json")?)?;
    let buffer: i64 = row.try_get("safety_buffer")?;
    let warehouses = crate::refs::all_warehouses(&mut conn).await?;
    let known: Vec<String> = warehouses.iter().map(|w| w.code.clone()).collect();
    crate::refs::check_listed(&rule.warehouses, &known, "active warehouse")?;
    let mut orders: Vec<String> = sqlx::query_scalar(
        "select order_id from sales_order where channel_id = $1 order by placed_at desc, order_id desc limit $2",
    )
    .bind(&channel_id)
    .bind(rule.orders)
    .fetch_all(&mut *conn)
    .await?;
    orders.reverse();
    let mut n = 0;
    let mut lines: HashMap<String, Vec<(i64, String, String, i64)>> = HashMap::new();
    let rows: Vec<(String, i64, String, String, i64)> = in_chunks(
        &mut conn,
        "select order_id, line_no, sku, product_id, quantity - cancelled_quantity from order_line where order_id in ({ids}) and product_id is not null",
        &orders,
        &mut n,
    )
    .await?;
    for (o, line, sku, pid, units) in rows {
        lines.entry(o).or_default().push((line, sku, pid, units));
    }
    // What these orders hold now goes back to the pool they are replayed
    // from.
    let mut held: HashMap<(String, String), i64> = HashMap::new();
    let rows: Vec<(String, String, i64)> = in_chunks(
        &mut conn,
        "select a.product_id, w.code, cast(sum(a.quantity) as bigint) from reservation_alloc a
         join reservation r on r.reservation_id = a.reservation_id and r.status = 'active'
         join sales_order o on o.reservation_id = r.reservation_id
         join warehouse w on w.warehouse_id = a.warehouse_id
         where o.order_id in ({ids}) group by a.product_id, w.code",
        &orders,
        &mut n,
    )
    .await?;
    for (pid, wh, units) in rows {
        *held.entry((pid, wh)).or_insert(0) += units;
    }
    let mut products: Vec<String> = lines.values().flatten().map(|l| l.2.clone()).collect();
    products.sort_unstable();
    products.dedup();
    let components = components(&mut conn, &products, &mut n).await?;
    let mut stocked: Vec<String> = products
        .iter()
        .cloned()
        .chain(components.values().flatten().map(|p| p.product_id.clone()))
        .collect();
    stocked.sort_unstable();
    stocked.dedup();
    let mut spare = Spare::default();
    let rows: Vec<(String, String, i64)> = in_chunks(
        &mut conn,
        "select s.product_id, w.code, s.on_hand - s.reserved from stock_level s join warehouse w on w.warehouse_id = s.warehouse_id where s.product_id in ({ids})",
        &stocked,
        &mut n,
    )
    .await?;
    for (pid, wh, units) in rows {
        let back = held.get(&(pid.clone(), wh.clone())).copied().unwrap_or(0);
        spare.set(&pid, &wh, units + back);
    }
    let needs: Vec<Vec<Need>> = orders
        .iter()
        .map(|o| {
            lines
                .get(o)
                .map(|ls| {
                    ls.iter()
                        .map(|(line, sku, pid, units)| Need {
                            line_no: *line,
                            sku: sku.clone(),
                            units: *units,
                            parts: components.get(pid).cloned().unwrap_or_else(|| {
                                vec![Part {
                                    product_id: pid.clone(),
                                    per_unit: 1,
                                }]
                            }),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .filter(|n: &Vec<Need>| n.iter().any(|x| x.units > 0))
        .collect();
    let active: Vec<String> = current
        .iter()
        .filter(|c| warehouses.iter().any(|w| &w.code == *c))
        .cloned()
        .collect();
    Ok(DryRun {
        orders: needs.len() as i64,
        current: rules::simulate(&code, &active, buffer, &needs, spare.clone()),
        proposed: rules::simulate(&code, &rule.warehouses, buffer, &needs, spare),
        current_warehouses: current,
        proposed_warehouses: rule.warehouses,
        channel: code,
    })
}

/// What a run of re-sourcing did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sourced {
    /// Orders with units newly planned.
    pub orders: i64,
    /// Waiting lines looked at.
    pub lines: i64,
    pub units: i64,
    /// Units still waiting among the lines looked at.
    pub still_backordered: i64,
    /// SQL statements the run issued (audit rows and events aside).
    pub statements: i64,
}

/// Sources again the backordered lines of these products (and of bundles
/// made of them), oldest order first, from what is spare now: the caller has
/// just added stock in the same unit of work.
pub(crate) async fn source_backorders(uow: &mut Uow, product_ids: &[String]) -> Result<Sourced> {
    if product_ids.is_empty() {
        return Ok(Sourced::default());
    }
    source(uow, Some(product_ids)).await
}

/// Sources the waiting lines of `products` (all of them with `None`). The
/// statements grow with the products and warehouses touched and with chunks
/// of rows, not per line. Read (locked) → plan → write in one batch → record.
async fn source(uow: &mut Uow, products: Option<&[String]>) -> Result<Sourced> {
    let mut run = Sourced::default();
    let waiting = lock_waiting(uow, products, &mut run.statements).await?;
    if waiting.is_empty() {
        return Ok(run);
    }
    run.lines = waiting.len() as i64;
    let mut line_products: Vec<String> = waiting.iter().map(|w| w.product_id.clone()).collect();
    line_products.sort_unstable();
    line_products.dedup();
    let parts = Parts(components(&mut uow.tx, &line_products, &mut run.statements).await?);
    let warehouses = crate::refs::all_warehouses(&mut uow.tx).await?;
    run.statements += 1;
    let channels = channel_rules(uow, &warehouses, &mut run.statements).await?;
    let mut stock_products: Vec<String> = line_products
        .iter()
        .flat_map(|p| parts.of(p).into_iter().map(|x| x.product_id))
        .collect();
    stock_products.sort_unstable();
    stock_products.dedup();
    let mut spare = spare_stock(uow, &stock_products, &warehouses, &mut run.statements).await?;

    let planned = plan_orders(&waiting, &channels, &parts, &mut spare, &mut run);
    if planned.is_empty() {
        return Ok(run);
    }
    let wh_id = |code: &str| crate::refs::warehouse_id_in(&warehouses, code);
    let (held, allocs) = taken(&planned, &parts, &wh_id);
    let known = read_for_writes(uow, &planned, &allocs, &mut run.statements).await?;

    let now = uow.now();
    let mut batch = Batch::default();
    push_stock_and_allocations(&mut batch, &held, &allocs, &known.skus);
    push_reservation_lines(&mut batch, &planned, known.lines_json, now);
    run.units += push_backorders(&mut batch, &planned, now);
    push_fulfillments(&mut batch, &planned, &known.fulfillments, &wh_id, now);
    run.statements += batch.len() as i64;
    let stock_rows = batch.run(&mut uow.tx, uow.backend).await?.len();
    if stock_rows != held.len() {
        return Err(Error::Internal(format!(
            "re-sourcing expected to update {} stock rows and updated {stock_rows}; run keel check",
            held.len()
        )));
    }
    record_sourced(uow, &planned).await?;
    run.orders = planned.len() as i64;
    Ok(run)
}

/// A backordered line of a live order, as re-sourcing reads it.
struct Waiting {
    order_id: String,
    number: String,
    channel_id: String,
    reservation_id: String,
    placed_at: i64,
    line_no: i64,
    sku: String,
    product_id: String,
    units: i64,
}

/// The orders with waiting lines of `products`, locked, then their waiting
/// lines read afresh, oldest order first. An edit of one of them (a
/// cancellation) commits wholly before or after this run, never between its
/// read and its writes. PostgreSQL locks the rows with `for update`; SQLite's
/// write lock is held already (the sourcing turn wrote), so its twin is the
/// plain select.
async fn lock_waiting(
    uow: &mut Uow,
    products: Option<&[String]>,
    statements: &mut i64,
) -> Result<Vec<Waiting>> {
    const CANDIDATES: &str = "select order_id from sales_order where backordered_units > 0 and status in ('received', 'confirmed', 'in_fulfilment')";
    let lock = lock_clause(uow);
    let lock_queries: Vec<(String, &[String])> = match products {
        None => vec![(format!("{CANDIDATES}{lock}"), &[][..])],
        Some(ids) => ids
            .chunks(CHUNK)
            .map(|chunk| {
                (
                    format!(
                        "{CANDIDATES} and order_id in (select ol.order_id from order_line ol where ol.backordered_quantity > 0
                           and (ol.product_id in ({p}) or ol.product_id in (select bundle_id from bundle_component where component_id in ({p})))){lock}",
                        p = params(1, chunk.len())
                    ),
                    chunk,
                )
            })
            .collect(),
    };
    let mut locked: Vec<String> = Vec::new();
    for (sql, chunk) in &lock_queries {
        let mut q = sqlx::query_scalar::<_, String>(sql);
        for id in *chunk {
            q = q.bind(id);
        }
        *statements += 1;
        locked.extend(q.fetch_all(&mut *uow.tx).await?);
    }
    locked.sort_unstable();
    locked.dedup();
    // Deduplicated by line: a line can match as an item and as a bundle of
    // another chunk's component.
    let mut waiting: BTreeMap<(i64, String, i64), Waiting> = BTreeMap::new();
    for chunk in locked.chunks(CHUNK) {
        let sql = format!(
            "select ol.order_id, o.number, o.channel_id, o.reservation_id, o.placed_at, ol.line_no, ol.sku, ol.product_id, ol.backordered_quantity
             from order_line ol join sales_order o on o.order_id = ol.order_id
             join reservation r on r.reservation_id = o.reservation_id and r.status = 'active'
             where ol.backordered_quantity > 0 and ol.order_id in ({})",
            params(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        *statements += 1;
        for r in q.fetch_all(&mut *uow.tx).await? {
            let w = Waiting {
                order_id: r.try_get("order_id")?,
                number: r.try_get("number")?,
                channel_id: r.try_get("channel_id")?,
                reservation_id: r.try_get("reservation_id")?,
                placed_at: r.try_get("placed_at")?,
                line_no: r.try_get("line_no")?,
                sku: r.try_get("sku")?,
                product_id: r.try_get("product_id")?,
                units: r.try_get("backordered_quantity")?,
            };
            waiting.insert((w.placed_at, w.order_id.clone(), w.line_no), w);
        }
    }
    Ok(waiting.into_values().collect())
}

/// `for update` on PostgreSQL; nothing on SQLite, whose one writer already
/// holds the write lock.
fn lock_clause(uow: &Uow) -> &'static str {
    match uow.backend {
        crate::db::Backend::Postgres => " for update",
        crate::db::Backend::Sqlite => "",
    }
}

/// What each product is made of: a bundle's components, or the product
/// itself once.
struct Parts(HashMap<String, Vec<Part>>);

impl Parts {
    fn of(&self, product_id: &str) -> Vec<Part> {
        self.0.get(product_id).cloned().unwrap_or_else(|| {
            vec![Part {
                product_id: product_id.to_string(),
                per_unit: 1,
            }]
        })
    }
}

/// A channel's sourcing rule: its code, its active warehouses in priority
/// order, and its safety buffer.
struct ChannelRule {
    code: String,
    priority: Vec<String>,
    buffer: i64,
}

/// Every channel's rule (channels are few), by channel id.
async fn channel_rules(
    uow: &mut Uow,
    warehouses: &[crate::refs::WarehouseRef],
    statements: &mut i64,
) -> Result<HashMap<String, ChannelRule>> {
    let mut channels = HashMap::new();
    for r in sqlx::query("select channel_id, code, warehouses_json, safety_buffer from channel")
        .fetch_all(&mut *uow.tx)
        .await?
    {
        let code: String = r.try_get("code")?;
        let priority =
            crate::refs::stored_warehouses(&code, &r.try_get::<String, _>("warehouses_json")?)?
                .into_iter()
                .filter(|c| warehouses.iter().any(|w| &w.code == c))
                .collect();
        channels.insert(
            r.try_get("channel_id")?,
            ChannelRule {
                code,
                priority,
                buffer: r.try_get("safety_buffer")?,
            },
        );
    }
    *statements += 1;
    Ok(channels)
}

/// Spare stock of every part, read with the rows locked (as the orders), so
/// what is planned can be taken without a conditional retry.
async fn spare_stock(
    uow: &mut Uow,
    products: &[String],
    warehouses: &[crate::refs::WarehouseRef],
    statements: &mut i64,
) -> Result<Spare> {
    let mut spare = Spare::default();
    let sql = format!(
        "select product_id, warehouse_id, on_hand - reserved from stock_level where product_id in ({{ids}}){}",
        lock_clause(uow)
    );
    let rows: Vec<(String, String, i64)> =
        in_chunks(&mut uow.tx, &sql, products, statements).await?;
    for (pid, wid, units) in rows {
        if let Some(w) = warehouses.iter().find(|w| w.id == wid) {
            spare.set(&pid, &w.code, units);
        }
    }
    Ok(spare)
}

/// An order with units newly planned: its waiting lines and the plan.
struct Planned<'a> {
    first: &'a Waiting,
    lines: Vec<&'a Waiting>,
    plan: Plan,
}

/// Plans order by order, oldest first, each taking from what is left.
fn plan_orders<'a>(
    waiting: &'a [Waiting],
    channels: &HashMap<String, ChannelRule>,
    parts: &Parts,
    spare: &mut Spare,
    run: &mut Sourced,
) -> Vec<Planned<'a>> {
    let mut by_order: Vec<Vec<&Waiting>> = Vec::new();
    for w in waiting {
        match by_order.last_mut().filter(|v| v[0].order_id == w.order_id) {
            Some(v) => v.push(w),
            None => by_order.push(vec![w]),
        }
    }
    let mut planned = Vec::new();
    for lines in by_order {
        let first = lines[0];
        let Some(rule) = channels.get(&first.channel_id) else {
            continue;
        };
        let needs: Vec<Need> = lines
            .iter()
            .map(|w| Need {
                line_no: w.line_no,
                sku: w.sku.clone(),
                units: w.units,
                parts: parts.of(&w.product_id),
            })
            .collect();
        let plan = rules::plan(&rule.code, &rule.priority, &needs, spare, rule.buffer);
        run.still_backordered += plan.backordered_units();
        if !plan.shipments.is_empty() {
            planned.push(Planned { first, lines, plan });
        }
    }
    planned
}

/// Units of a product held in a warehouse, by (product id, warehouse id).
type Held = BTreeMap<(String, String), i64>;

/// One allocation row of a reservation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct AllocKey {
    reservation_id: String,
    line_no: i64,
    product_id: String,
    warehouse_id: String,
}

/// What the plans take, per (product, warehouse) and per allocation row.
fn taken(
    planned: &[Planned],
    parts: &Parts,
    wh_id: &dyn Fn(&str) -> String,
) -> (Held, BTreeMap<AllocKey, i64>) {
    let mut held = Held::new();
    let mut allocs = BTreeMap::new();
    for p in planned {
        for (code, take) in p.plan.takes() {
            let Some(w) = p.lines.iter().find(|w| w.line_no == take.line_no) else {
                continue;
            };
            for part in parts.of(&w.product_id) {
                let units = part.per_unit * take.units;
                *held
                    .entry((part.product_id.clone(), wh_id(code)))
                    .or_insert(0) += units;
                *allocs
                    .entry(AllocKey {
                        reservation_id: w.reservation_id.clone(),
                        line_no: take.line_no,
                        product_id: part.product_id,
                        warehouse_id: wh_id(code),
                    })
                    .or_insert(0) += units;
            }
        }
    }
    (held, allocs)
}

/// An order's fulfilments as re-sourcing extends them: the highest sequence
/// number, and its open fulfilments as (warehouse id, fulfilment id).
#[derive(Debug, Clone, Default)]
struct Existing {
    seq: i64,
    open: Vec<(String, String)>,
}

/// The rest of what the writes need, read first so that the writes go out
/// together as one batch (one round trip to SQLite's thread, and positional
/// parameters there).
struct ForWrites {
    skus: HashMap<String, String>,
    lines_json: HashMap<String, Vec<serde_json::Value>>,
    fulfillments: HashMap<String, Existing>,
}

async fn read_for_writes(
    uow: &mut Uow,
    planned: &[Planned<'_>],
    allocs: &BTreeMap<AllocKey, i64>,
    statements: &mut i64,
) -> Result<ForWrites> {
    let mut alloc_products: Vec<&str> = allocs.keys().map(|k| k.product_id.as_str()).collect();
    alloc_products.sort_unstable();
    alloc_products.dedup();
    let skus: HashMap<String, String> = in_chunks::<(String, String)>(
        &mut uow.tx,
        "select product_id, sku from product where product_id in ({ids})",
        &alloc_products,
        statements,
    )
    .await?
    .into_iter()
    .collect();
    let mut reservations: Vec<&str> = planned
        .iter()
        .map(|p| p.first.reservation_id.as_str())
        .collect();
    reservations.sort_unstable();
    reservations.dedup();
    let mut lines_json = HashMap::new();
    let rows: Vec<(String, String)> = in_chunks(
        &mut uow.tx,
        "select reservation_id, lines_json from reservation where reservation_id in ({ids})",
        &reservations,
        statements,
    )
    .await?;
    for (id, json) in rows {
        let lines = crate::sql::stored_json(&format!("lines of reservation {id}"), &json)?;
        lines_json.insert(id, lines);
    }
    let orders: Vec<&str> = planned.iter().map(|p| p.first.order_id.as_str()).collect();
    let mut fulfillments: HashMap<String, Existing> = HashMap::new();
    let rows: Vec<(String, String, String, String, i64)> = in_chunks(
        &mut uow.tx,
        "select order_id, fulfillment_id, warehouse_id, status, seq from fulfillment where order_id in ({ids})",
        &orders,
        statements,
    )
    .await?;
    for (o, f, w, status, seq) in rows {
        let e = fulfillments.entry(o).or_default();
        e.seq = e.seq.max(seq);
        if status == "open" {
            e.open.push((w, f));
        }
    }
    Ok(ForWrites {
        skus,
        lines_json,
        fulfillments,
    })
}

/// Stock: the rows were locked when read, so each update takes exactly what
/// was planned; `returning` counts them. Then the allocation rows.
fn push_stock_and_allocations(
    batch: &mut Batch,
    held: &Held,
    allocs: &BTreeMap<AllocKey, i64>,
    skus: &HashMap<String, String>,
) {
    let held: Vec<_> = held.iter().collect();
    for chunk in held.chunks(rows_per(3)) {
        batch.push(
            format!(
                "update stock_level set reserved = reserved + v.column3 from (values {}) as v
                 where stock_level.product_id = v.column1 and stock_level.warehouse_id = v.column2 returning stock_level.product_id",
                values_list(3, chunk.len())
            ),
            chunk
                .iter()
                .flat_map(|((p, w), n)| [Val::from(p.as_str()), w.as_str().into(), (**n).into()])
                .collect(),
        );
    }
    let allocs: Vec<_> = allocs.iter().collect();
    for chunk in allocs.chunks(rows_per(6)) {
        batch.push(
            format!(
                "{} on conflict (reservation_id, line_no, product_id, warehouse_id) do update set quantity = reservation_alloc.quantity + excluded.quantity",
                values_rows(
                    "insert into reservation_alloc (reservation_id, line_no, sku, product_id, warehouse_id, quantity) values ",
                    6,
                    chunk.len()
                )
            ),
            chunk
                .iter()
                .flat_map(|(k, n)| {
                    [
                        Val::from(k.reservation_id.as_str()),
                        k.line_no.into(),
                        skus.get(&k.product_id).cloned().unwrap_or_default().into(),
                        k.product_id.as_str().into(),
                        k.warehouse_id.as_str().into(),
                        (**n).into(),
                    ]
                })
                .collect(),
        );
    }
}

/// The reservations' lines (reservation line i is order line i).
fn push_reservation_lines(
    batch: &mut Batch,
    planned: &[Planned],
    mut lines_json: HashMap<String, Vec<serde_json::Value>>,
    now: i64,
) {
    for p in planned {
        let Some(lines) = lines_json.get_mut(&p.first.reservation_id) else {
            continue;
        };
        for (_, take) in p.plan.takes() {
            add_to_line(lines, take.line_no, take.units);
        }
    }
    let updated: Vec<(String, String)> = lines_json
        .into_iter()
        .map(|(id, lines)| (id, serde_json::Value::from(lines).to_string()))
        .collect();
    for chunk in updated.chunks(rows_per(2)) {
        let mut vals: Vec<Val> = chunk
            .iter()
            .flat_map(|(id, json)| [Val::from(id.as_str()), json.as_str().into()])
            .collect();
        vals.push(now.into());
        batch.push(
            format!(
                "update reservation set lines_json = v.column2, version = version + 1, updated_at = ${1} from (values {0}) as v
                 where reservation.reservation_id = v.column1",
                values_list(2, chunk.len()),
                chunk.len() * 2 + 1
            ),
            vals,
        );
    }
}

/// The lines' and orders' backordered units; answers the units sourced.
fn push_backorders(batch: &mut Batch, planned: &[Planned], now: i64) -> i64 {
    let mut line_rows: Vec<(&str, i64, i64)> = Vec::new();
    let mut order_rows: Vec<(&str, i64)> = Vec::new();
    for p in planned {
        let mut order_units = 0;
        for w in &p.lines {
            let units: i64 = p
                .plan
                .takes()
                .filter(|(_, t)| t.line_no == w.line_no)
                .map(|(_, t)| t.units)
                .sum();
            if units > 0 {
                line_rows.push((&w.order_id, w.line_no, units));
                order_units += units;
            }
        }
        order_rows.push((&p.first.order_id, order_units));
    }
    for chunk in line_rows.chunks(rows_per(3)) {
        batch.push(
            format!(
                "update order_line set backordered_quantity = backordered_quantity - v.column3 from (values {}) as v
                 where order_line.order_id = v.column1 and order_line.line_no = v.column2",
                values_list(3, chunk.len())
            ),
            chunk
                .iter()
                .flat_map(|(o, l, n)| [Val::from(*o), (*l).into(), (*n).into()])
                .collect(),
        );
    }
    for chunk in order_rows.chunks(rows_per(2)) {
        let mut vals: Vec<Val> = chunk
            .iter()
            .flat_map(|(o, n)| [Val::from(*o), (*n).into()])
            .collect();
        vals.push(now.into());
        batch.push(
            format!(
                "update sales_order set backordered_units = backordered_units - v.column2, version = version + 1, updated_at = ${1} from (values {0}) as v
                 where sales_order.order_id = v.column1",
                values_list(2, chunk.len()),
                chunk.len() * 2 + 1
            ),
            vals,
        );
    }
    order_rows.iter().map(|(_, n)| n).sum()
}

/// Fulfilments: units join the order's open fulfilment at that warehouse,
/// or start a new one.
fn push_fulfillments(
    batch: &mut Batch,
    planned: &[Planned],
    existing: &HashMap<String, Existing>,
    wh_id: &dyn Fn(&str) -> String,
    now: i64,
) {
    let mut new_rows: Vec<Vec<Val>> = Vec::new();
    let mut line_vals: Vec<Vec<Val>> = Vec::new();
    for p in planned {
        let Existing { mut seq, open } =
            existing.get(&p.first.order_id).cloned().unwrap_or_default();
        for s in &p.plan.shipments {
            let wid = wh_id(&s.warehouse);
            let id = match open.iter().find(|(w, _)| *w == wid) {
                Some((_, f)) => f.clone(),
                None => {
                    seq += 1;
                    let id = uuid::Uuid::now_v7().to_string();
                    new_rows.push(vec![
                        id.as_str().into(),
                        p.first.order_id.as_str().into(),
                        wid.as_str().into(),
                        seq.into(),
                        "open".into(),
                        s.reason.as_str().into(),
                        now.into(),
                        now.into(),
                    ]);
                    id
                }
            };
            for t in &s.lines {
                line_vals.push(vec![
                    id.as_str().into(),
                    t.line_no.into(),
                    t.sku.as_str().into(),
                    t.units.into(),
                ]);
            }
        }
    }
    for chunk in new_rows.chunks(rows_per(8)) {
        batch.push(
            values_rows(
                "insert into fulfillment (fulfillment_id, order_id, warehouse_id, seq, status, reason, created_at, updated_at) values ",
                8,
                chunk.len(),
            ),
            chunk.iter().flatten().cloned().collect(),
        );
    }
    for chunk in line_vals.chunks(rows_per(4)) {
        batch.push(
            format!(
                "{} on conflict (fulfillment_id, line_no) do update set quantity = fulfillment_line.quantity + excluded.quantity",
                values_rows(
                    "insert into fulfillment_line (fulfillment_id, line_no, sku, quantity) values ",
                    4,
                    chunk.len()
                )
            ),
            chunk.iter().flatten().cloned().collect(),
        );
    }
}

/// One audit row and one event per order sourced (written in bulk).
async fn record_sourced(uow: &mut Uow, planned: &[Planned<'_>]) -> Result<()> {
    for p in planned {
        let order_id = p.first.order_id.as_str();
        uow.record(
            Change {
                action: "order.source",
                entity: "order",
                entity_id: order_id,
                before: Some(serde_json::json!({
                    "backordered": p.lines.iter().map(|w| serde_json::json!({"line_no": w.line_no, "sku": w.sku, "units": w.units})).collect::<Vec<_>>(),
                })),
                after: Some(serde_json::json!({
                    "shipments": p.plan.shipments.iter().map(|s| serde_json::json!({"warehouse": s.warehouse, "units": s.lines.iter().map(|t| t.units).sum::<i64>()})).collect::<Vec<_>>(),
                    "backordered": p.plan.backorders.iter().map(|b| serde_json::json!({"line_no": b.line_no, "sku": b.sku, "units": b.units})).collect::<Vec<_>>(),
                })),
            },
            sourced_event(order_id, &p.first.number, &p.plan),
        )
        .await?;
    }
    Ok(())
}
