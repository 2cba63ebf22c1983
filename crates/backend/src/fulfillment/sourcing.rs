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
/// of rows, not per line.
async fn source(uow: &mut Uow, products: Option<&[String]>) -> Result<Sourced> {
    let mut run = Sourced::default();
    // The waiting lines, deduplicated (a line can match as an item and as a
    // bundle of another chunk's component).
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
    let mut waiting: BTreeMap<(i64, String, i64), Waiting> = BTreeMap::new();
    // The orders first, locked, then their waiting lines read afresh: an
    // edit of one of them (a cancellation) commits wholly before or after
    // this run, never between its read and its writes. PostgreSQL locks the
    // rows with `for update`; SQLite's write lock is held already (the
    // sourcing turn wrote), so its twin is the plain select.
    const CANDIDATES: &str = "select order_id from sales_order where backordered_units > 0 and status in ('received', 'confirmed', 'in_fulfilment')";
    let lock = match uow.backend {
        crate::db::Backend::Postgres => " for update",
        crate::db::Backend::Sqlite => "",
    };
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
        run.statements += 1;
        locked.extend(q.fetch_all(&mut *uow.tx).await?);
    }
    locked.sort_unstable();
    locked.dedup();
    let queries: Vec<(String, &[String])> = locked
        .chunks(CHUNK)
        .map(|chunk| {
            (
                format!(
                    "select ol.order_id, o.number, o.channel_id, o.reservation_id, o.placed_at, ol.line_no, ol.sku, ol.product_id, ol.backordered_quantity
                     from order_line ol join sales_order o on o.order_id = ol.order_id
                     join reservation r on r.reservation_id = o.reservation_id and r.status = 'active'
                     where ol.backordered_quantity > 0 and ol.order_id in ({})",
                    params(1, chunk.len())
                ),
                chunk,
            )
        })
        .collect();
    for (sql, chunk) in &queries {
        let mut q = sqlx::query(sql);
        for id in *chunk {
            q = q.bind(id);
        }
        run.statements += 1;
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
    if waiting.is_empty() {
        return Ok(run);
    }
    run.lines = waiting.len() as i64;

    // What each waiting line's product is made of.
    let mut line_products: Vec<String> = waiting.values().map(|w| w.product_id.clone()).collect();
    line_products.sort_unstable();
    line_products.dedup();
    let components = components(&mut uow.tx, &line_products, &mut run.statements).await?;
    let parts_of = |pid: &str| {
        components.get(pid).cloned().unwrap_or_else(|| {
            vec![Part {
                product_id: pid.to_string(),
                per_unit: 1,
            }]
        })
    };

    // The channels (few) and the active warehouses.
    let warehouses = crate::refs::all_warehouses(&mut uow.tx).await?;
    run.statements += 1;
    let mut channels: HashMap<String, (String, Vec<String>, i64)> = HashMap::new();
    for r in sqlx::query("select channel_id, code, warehouses_json, safety_buffer from channel")
        .fetch_all(&mut *uow.tx)
        .await?
    {
        let codes = crate::refs::stored_warehouses(
            &r.try_get::<String, _>("code")?,
            &r.try_get::<String, _>("warehouses_json")?,
        )?;
        channels.insert(
            r.try_get("channel_id")?,
            (
                r.try_get("code")?,
                codes
                    .into_iter()
                    .filter(|c| warehouses.iter().any(|w| &w.code == c))
                    .collect(),
                r.try_get("safety_buffer")?,
            ),
        );
    }
    run.statements += 1;

    // Spare stock of every part, read with the rows locked (as the orders
    // above), so what is planned here can be taken without a conditional
    // retry.
    let mut stock_products: Vec<String> = line_products
        .iter()
        .flat_map(|p| parts_of(p).into_iter().map(|x| x.product_id))
        .collect();
    stock_products.sort_unstable();
    stock_products.dedup();
    let mut spare = Spare::default();
    let rows: Vec<(String, String, i64)> = in_chunks(
        &mut uow.tx,
        &format!("select product_id, warehouse_id, on_hand - reserved from stock_level where product_id in ({{ids}}){lock}"),
        &stock_products,
        &mut run.statements,
    )
    .await?;
    for (pid, wid, units) in rows {
        if let Some(w) = warehouses.iter().find(|w| w.id == wid) {
            spare.set(&pid, &w.code, units);
        }
    }

    // Plan order by order, oldest first, each taking from what is left.
    struct Planned<'a> {
        first: &'a Waiting,
        lines: Vec<&'a Waiting>,
        plan: Plan,
    }
    let mut by_order: Vec<(&str, Vec<&Waiting>)> = Vec::new();
    for w in waiting.values() {
        match by_order.last_mut().filter(|(o, _)| *o == w.order_id) {
            Some((_, v)) => v.push(w),
            None => by_order.push((&w.order_id, vec![w])),
        }
    }
    let mut planned: Vec<Planned> = Vec::new();
    for (_, lines) in by_order {
        let first = lines[0];
        let Some((code, priority, buffer)) = channels.get(&first.channel_id) else {
            continue;
        };
        let needs: Vec<Need> = lines
            .iter()
            .map(|w| Need {
                line_no: w.line_no,
                sku: w.sku.clone(),
                units: w.units,
                parts: parts_of(&w.product_id),
            })
            .collect();
        let plan = rules::plan(code, priority, &needs, &mut spare, *buffer);
        run.still_backordered += plan.backordered_units();
        if !plan.shipments.is_empty() {
            planned.push(Planned { first, lines, plan });
        }
    }
    if planned.is_empty() {
        return Ok(run);
    }
    let wh_id = |code: &str| {
        warehouses
            .iter()
            .find(|w| w.code == code)
            .map(|w| w.id.clone())
            .unwrap_or_default()
    };

    // What the plans take, per (product, warehouse) and per allocation row.
    let mut held: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut allocs: BTreeMap<(String, i64, String, String), i64> = BTreeMap::new();
    for p in &planned {
        for (code, take) in p.plan.takes() {
            let Some(w) = p.lines.iter().find(|w| w.line_no == take.line_no) else {
                continue;
            };
            for part in parts_of(&w.product_id) {
                let units = part.per_unit * take.units;
                *held
                    .entry((part.product_id.clone(), wh_id(code)))
                    .or_insert(0) += units;
                *allocs
                    .entry((
                        w.reservation_id.clone(),
                        take.line_no,
                        part.product_id.clone(),
                        wh_id(code),
                    ))
                    .or_insert(0) += units;
            }
        }
    }

    // The rest of what the writes need is read first, so the writes go out
    // together as one batch (one round trip to SQLite's thread, and
    // positional parameters there).
    let alloc_products: Vec<String> = {
        let mut v: Vec<String> = allocs.keys().map(|k| k.2.clone()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let skus: HashMap<String, String> = in_chunks::<(String, String)>(
        &mut uow.tx,
        "select product_id, sku from product where product_id in ({ids})",
        &alloc_products,
        &mut run.statements,
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
    let mut lines_json: HashMap<String, Vec<serde_json::Value>> = HashMap::new();
    let rows: Vec<(String, String)> = in_chunks(
        &mut uow.tx,
        "select reservation_id, lines_json from reservation where reservation_id in ({ids})",
        &reservations,
        &mut run.statements,
    )
    .await?;
    for (id, json) in rows {
        let lines = crate::sql::stored_json(&format!("lines of reservation {id}"), &json)?;
        lines_json.insert(id, lines);
    }
    let orders: Vec<&str> = planned.iter().map(|p| p.first.order_id.as_str()).collect();
    let mut existing: HashMap<String, (i64, Vec<(String, String)>)> = HashMap::new();
    let rows: Vec<(String, String, String, String, i64)> = in_chunks(
        &mut uow.tx,
        "select order_id, fulfillment_id, warehouse_id, status, seq from fulfillment where order_id in ({ids})",
        &orders,
        &mut run.statements,
    )
    .await?;
    for (o, f, w, status, seq) in rows {
        let e = existing.entry(o).or_insert((0, Vec::new()));
        e.0 = e.0.max(seq);
        if status == "open" {
            e.1.push((w, f));
        }
    }

    let now = uow.now();
    let mut batch = Batch::default();
    // Stock: the rows were locked above, so each update takes exactly what
    // was planned; `returning` counts them.
    let held: Vec<_> = held.into_iter().collect();
    for chunk in held.chunks(rows_per(3)) {
        batch.push(
            format!(
                "update stock_level set reserved = reserved + v.column3 from (values {}) as v
                 where stock_level.product_id = v.column1 and stock_level.warehouse_id = v.column2 returning stock_level.product_id",
                values_list(3, chunk.len())
            ),
            chunk
                .iter()
                .flat_map(|((p, w), n)| [Val::from(p.as_str()), w.as_str().into(), (*n).into()])
                .collect(),
        );
    }
    let allocs: Vec<_> = allocs.into_iter().collect();
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
                .flat_map(|((r, line, p, w), n)| {
                    [
                        Val::from(r.as_str()),
                        (*line).into(),
                        skus.get(p).cloned().unwrap_or_default().into(),
                        p.as_str().into(),
                        w.as_str().into(),
                        (*n).into(),
                    ]
                })
                .collect(),
        );
    }
    // The reservations' lines (reservation line i is order line i).
    for p in &planned {
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
    // The lines' and orders' backordered units.
    let mut line_rows: Vec<(String, i64, i64)> = Vec::new();
    let mut order_rows: Vec<(String, i64)> = Vec::new();
    for p in &planned {
        let mut order_units = 0;
        for w in &p.lines {
            let units: i64 = p
                .plan
                .takes()
                .filter(|(_, t)| t.line_no == w.line_no)
                .map(|(_, t)| t.units)
                .sum();
            if units > 0 {
                line_rows.push((w.order_id.clone(), w.line_no, units));
                order_units += units;
            }
        }
        order_rows.push((p.first.order_id.clone(), order_units));
        run.units += order_units;
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
                .flat_map(|(o, l, n)| [Val::from(o.as_str()), (*l).into(), (*n).into()])
                .collect(),
        );
    }
    for chunk in order_rows.chunks(rows_per(2)) {
        let mut vals: Vec<Val> = chunk
            .iter()
            .flat_map(|(o, n)| [Val::from(o.as_str()), (*n).into()])
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
    // Fulfilments: units join the order's open fulfilment at that warehouse,
    // or start a new one.
    let mut new_rows: Vec<Vec<Val>> = Vec::new();
    let mut line_vals: Vec<Vec<Val>> = Vec::new();
    for p in &planned {
        let (mut seq, open) = existing.get(&p.first.order_id).cloned().unwrap_or_default();
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
    run.statements += batch.len() as i64;
    let stock_rows = batch.run(&mut uow.tx, uow.backend).await?.len();
    if stock_rows != held.len() {
        return Err(Error::Internal(format!(
            "re-sourcing expected to update {} stock rows and updated {stock_rows}; run keel check",
            held.len()
        )));
    }

    // One audit row and one event per order sourced (written in bulk).
    for p in &planned {
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
    run.orders = planned.len() as i64;
    Ok(run)
}
