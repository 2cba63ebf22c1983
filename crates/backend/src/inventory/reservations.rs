//! Reservations: units promised to an order, taken by conditional updates
//! that never oversell, released or consumed.

use super::ledger::{check_lines, reference};
use super::ledger::{take, Take, Using};
use crate::error::Conflict;
use crate::refs::{
    all_warehouses, channel_ref, find_product, in_scope, line_product, ProductRef, WarehouseRef,
};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    rfc3339,
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::Event,
    fulfillment::{self, Need, Part, Plan, Spare},
    governance::Permission,
    inventory::{self as rules, MovementKind},
    views::{Allocation, Reservation, ReservationLine},
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationLineInput {
    pub sku: String,
    #[schemars(range(min = 1))]
    pub quantity: i64,
}

/// All lines or none. 409 insufficient_stock names the line, the requested and the available quantity.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationInput {
    #[schemars(length(max = 80))]
    pub reference: String,
    /// Reserve within this channel's warehouses, after its safety buffer.
    #[serde(default)]
    pub channel: Option<String>,
    #[schemars(length(min = 1))]
    pub lines: Vec<ReservationLineInput>,
}

/// Reserves every line or nothing, from the channel's warehouses (all
/// warehouses when no channel is named) as sourcing plans it: one warehouse
/// for everything when one can, else the fewest; a bundle takes whole
/// bundles' worth of components from one warehouse. Every take is a
/// conditional update checked by rows affected.
#[tracing::instrument(skip_all, fields(reference = %input.reference))]
pub async fn reserve(
    db: &Db,
    ctx: &Ctx,
    input: ReservationInput,
    idem: Option<&Idempotency>,
) -> Result<Reservation> {
    ctx.require(Permission::InventoryWrite)?;
    check_lines(&input.lines)?;
    let reference = reference("reference", Some(&input.reference))?.ok_or_else(|| {
        Error::invalid(
            "reference",
            "name what the stock is held for, e.g. the order number",
        )
    })?;
    let mut errors = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        if let Err(e) = rules::parse_quantity(&format!("lines[{i}].quantity"), line.quantity) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let result = retrying!(reserve_once(db, ctx, &input, &reference, idem));
    if let Err(Error::InsufficientStock {
        sku,
        requested,
        available,
        ..
    }) = &result
    {
        let channel = input.channel.as_deref().map(|c| c.trim().to_uppercase());
        let asked = Asked {
            sku,
            reference: &reference,
            channel: channel.as_deref(),
            requested: *requested,
            available: *available,
        };
        refused_oversell(db, ctx, &asked).await;
    }
    result
}

/// A reservation line refused for want of stock.
struct Asked<'a> {
    sku: &'a str,
    reference: &'a str,
    channel: Option<&'a str>,
    requested: i64,
    available: i64,
}

/// Counts a refused reservation on the item's oversell incident.
async fn refused_oversell(db: &Db, ctx: &Ctx, a: &Asked<'_>) {
    let product = match db.pool.acquire().await {
        Ok(mut conn) => find_product(&mut conn, a.sku).await,
        Err(e) => Err(e.into()),
    };
    match product {
        Ok(Some(p)) => {
            let attempt = crate::incidents::Attempt {
                kind: domain::analytics::OVERSELL_REFUSED,
                subject_id: &p.id,
                subject_ref: &p.sku,
                channel: a.channel,
                detail: format!(
                    "{} asked for {}, {} available",
                    a.requested,
                    a.reference,
                    a.available.max(0)
                ),
            };
            crate::incidents::record(db, ctx, &attempt).await;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, sku = a.sku, "a refused reservation could not be recorded")
        }
    }
}

async fn reserve_once(
    db: &Db,
    ctx: &Ctx,
    input: &ReservationInput,
    reference: &str,
    idem: Option<&Idempotency>,
) -> Result<Reservation> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let reservation = reserve_in(&mut uow, input, reference).await?;
    uow.remember(&reservation).await?;
    uow.commit().await?;
    Ok(reservation)
}

/// Reserves inside the caller's unit of work (order capture reserves in the
/// same transaction as the order). On refusal the caller must roll back what
/// this wrote, by dropping the transaction or to a savepoint.
pub(crate) async fn reserve_in(
    uow: &mut Uow,
    input: &ReservationInput,
    reference: &str,
) -> Result<Reservation> {
    let (from, lines) = resolve_reservation(uow, input).await?;
    let mut batch = crate::sql::Batch::default();
    let (reservation, _) =
        reserve_resolved(uow, &from, &lines, reference, false, &mut batch).await?;
    batch.run(&mut uow.tx, uow.backend).await?;
    Ok(reservation)
}

/// Looks up a reservation request's channel and products, naming every line
/// that can't be reserved.
pub(crate) async fn resolve_reservation(
    uow: &mut Uow,
    input: &ReservationInput,
) -> Result<(ReserveFrom, Vec<(ProductRef, i64)>)> {
    let ctx = uow.ctx.clone();
    let ctx = &ctx;
    let target = match input.channel.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(code) => {
            let ch = channel_ref(&mut uow.tx, ctx, "channel", code).await?;
            ReserveFrom {
                channel: Some(ChannelKey {
                    id: ch.id,
                    code: ch.code,
                }),
                warehouses: ch.warehouses,
                buffer: ch.buffer,
            }
        }
        None => ReserveFrom {
            channel: None,
            warehouses: all_warehouses(&mut uow.tx).await?,
            buffer: 0,
        },
    };
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        match line_product(&mut uow.tx, &format!("lines[{i}].sku"), &line.sku, true).await {
            Ok(p) => lines.push((p, line.quantity)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok((target, lines))
}

/// Where a reservation takes stock from: the channel, its warehouses in
/// priority order, and its safety buffer.
pub(crate) struct ReserveFrom {
    pub channel: Option<ChannelKey>,
    pub warehouses: Vec<WarehouseRef>,
    pub buffer: i64,
}

/// A channel as a reservation records it.
pub(crate) struct ChannelKey {
    pub id: String,
    pub code: String,
}

impl ReserveFrom {
    /// The id of one of these warehouses, by code.
    fn warehouse_id(&self, code: &str) -> String {
        crate::refs::warehouse_id_in(&self.warehouses, code)
    }
}

/// The channel's reservation target, for a caller that has already read the
/// channel row (its warehouse codes in priority order, and its buffer).
pub(crate) async fn reserve_from(
    conn: &mut AnyConnection,
    channel: ChannelKey,
    warehouse_codes: &[String],
    buffer: i64,
) -> Result<ReserveFrom> {
    let active = all_warehouses(conn).await?;
    Ok(ReserveFrom {
        channel: Some(channel),
        warehouses: warehouse_codes
            .iter()
            .filter_map(|c| active.iter().find(|w| &w.code == c).cloned())
            .collect(),
        buffer,
    })
}

/// Reserves `lines` (products already looked up, with quantities) where
/// sourcing plans them (`domain::fulfillment::plan`) and records it. Stock
/// moves only through conditional updates, so concurrent reservations never
/// take more than is spare. With `partial`, units no warehouse has are left
/// out (the plan's backorders); without it, any shortfall refuses the whole
/// reservation and nothing is taken.
/// The stock is held at once; the reservation's rows go into `batch`, for the
/// caller to run.
pub(crate) async fn reserve_resolved(
    uow: &mut Uow,
    from: &ReserveFrom,
    lines: &[(ProductRef, i64)],
    reference: &str,
    partial: bool,
    batch: &mut crate::sql::Batch,
) -> Result<(Reservation, Plan)> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    let (needs, skus) = needs_of(uow, lines).await?;
    let plan = take_stock(uow, from, &needs, lines, partial).await?;
    let mut allocs = allocations_of(from, &plan, &needs, &skus);
    let reserved: Vec<i64> = needs
        .iter()
        .map(|n| {
            plan.takes()
                .filter(|(_, t)| t.line_no == n.line_no)
                .map(|(_, t)| t.units)
                .sum()
        })
        .collect();
    write_reservation(batch, &id, reference, from, lines, &reserved, &allocs, now)?;
    allocs.sort_by(|a, b| {
        (a.line_no, &a.warehouse.code, &a.sku).cmp(&(b.line_no, &b.warehouse.code, &b.sku))
    });
    let reservation = Reservation {
        id: id.clone(),
        reference: reference.to_string(),
        channel: from.channel.as_ref().map(|c| c.code.clone()),
        status: "active".into(),
        lines: lines
            .iter()
            .zip(&reserved)
            .enumerate()
            .map(|(i, ((p, _), q))| ReservationLine {
                sku: p.sku.clone(),
                quantity: *q,
                allocations: allocs
                    .iter()
                    .filter(|a| a.line_no == i as i64)
                    .map(|a| Allocation {
                        sku: a.sku.clone(),
                        warehouse: a.warehouse.code.clone(),
                        quantity: a.units,
                    })
                    .collect(),
            })
            .collect(),
        created_at: rfc3339(now),
    };
    uow.record(
        Change {
            action: "reservation.create",
            entity: "reservation",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&reservation).ok(),
        },
        Event::InventoryReserved {
            reservation_id: id.clone(),
            reference: reference.to_string(),
            channel: from.channel.as_ref().map(|c| c.code.clone()),
            units: reserved.iter().sum(),
        },
    )
    .await?;
    Ok((reservation, plan))
}

/// What each line needs, a bundle as its components, and every product's
/// SKU by id.
async fn needs_of(
    uow: &mut Uow,
    lines: &[(ProductRef, i64)],
) -> Result<(Vec<Need>, HashMap<String, String>)> {
    let mut skus: HashMap<String, String> = HashMap::new();
    let mut needs = Vec::with_capacity(lines.len());
    for (i, (product, quantity)) in lines.iter().enumerate() {
        let parts = if product.is_bundle() {
            crate::refs::components_of(&mut uow.tx, &product.id).await?
        } else {
            vec![(product.id.clone(), product.sku.clone(), 1)]
        };
        needs.push(Need {
            line_no: i as i64,
            sku: product.sku.clone(),
            units: *quantity,
            parts: parts
                .into_iter()
                .map(|(pid, sku, per_unit)| {
                    skus.insert(pid.clone(), sku);
                    Part {
                        product_id: pid,
                        per_unit,
                    }
                })
                .collect(),
        });
    }
    Ok((needs, skus))
}

/// Units of one product held in one warehouse.
struct Held<'a> {
    product_id: &'a str,
    warehouse_id: String,
    units: i64,
}

/// Plans the needs and holds the stock the plan takes. The common case is
/// tried first with no read at all; otherwise the plan is made from what is
/// spare, and a hold that fails (a concurrent reservation took the units
/// between the read and the write) gives back what it held and plans again.
async fn take_stock(
    uow: &mut Uow,
    from: &ReserveFrom,
    needs: &[Need],
    lines: &[(ProductRef, i64)],
    partial: bool,
) -> Result<Plan> {
    let label = from
        .channel
        .as_ref()
        .map_or("this reservation", |c| c.code.as_str());
    let codes: Vec<String> = from.warehouses.iter().map(|w| w.code.clone()).collect();
    if whole_from_first(uow, from, needs).await? {
        return Ok(fulfillment::whole_from_first(label, &codes, needs));
    }
    for _ in 0..16 {
        let mut spare = spare_of(&mut uow.tx, needs, &from.warehouses).await?;
        let plan = fulfillment::plan(label, &codes, needs, &mut spare, from.buffer);
        if !plan.backorders.is_empty() {
            crate::REFUSED_RESERVATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if !partial {
                let b = &plan.backorders[0];
                let requested = lines[b.line_no as usize].1;
                return Err(Error::InsufficientStock {
                    line: b.line_no as usize,
                    sku: b.sku.clone(),
                    requested,
                    available: requested - b.units,
                });
            }
        }
        let wanted = wanted_by_warehouse(from, &plan, needs);
        if hold_all(uow, &wanted, from.buffer).await? {
            return Ok(plan);
        }
    }
    Err(Error::Conflict {
        code: Conflict::StockChanged,
        message: "stock kept changing while this was being sourced; try again".into(),
    })
}

/// The common case: every line an item, all of it in the first warehouse;
/// one conditional update per line and no read. False (with nothing held)
/// when that doesn't hold.
async fn whole_from_first(uow: &mut Uow, from: &ReserveFrom, needs: &[Need]) -> Result<bool> {
    let Some(first) = from.warehouses.first() else {
        return Ok(false);
    };
    if !needs
        .iter()
        .all(|n| n.parts.len() == 1 && n.parts[0].per_unit == 1)
    {
        return Ok(false);
    }
    let wanted: Vec<Held> = needs
        .iter()
        .map(|n| Held {
            product_id: &n.parts[0].product_id,
            warehouse_id: first.id.clone(),
            units: n.units,
        })
        .collect();
    hold_all(uow, &wanted, from.buffer).await
}

/// Holds every entry, or none: on the first that can't be held, what was
/// held is given back and the answer is false.
async fn hold_all(uow: &mut Uow, wanted: &[Held<'_>], buffer: i64) -> Result<bool> {
    let mut held = 0;
    for w in wanted {
        if w.units > 0
            && !hold_units(&mut uow.tx, w.product_id, &w.warehouse_id, w.units, buffer).await?
        {
            break;
        }
        held += 1;
    }
    if held == wanted.len() {
        return Ok(true);
    }
    for w in wanted[..held].iter().filter(|w| w.units > 0) {
        give_back(&mut uow.tx, w.product_id, &w.warehouse_id, w.units).await?;
    }
    Ok(false)
}

/// The plan's takes as units per (product, warehouse): a product that two
/// lines or two bundles need from one warehouse is held once.
fn wanted_by_warehouse<'a>(from: &ReserveFrom, plan: &Plan, needs: &'a [Need]) -> Vec<Held<'a>> {
    let mut wanted: Vec<Held> = Vec::new();
    for (code, take) in plan.takes() {
        let warehouse_id = from.warehouse_id(code);
        for part in &needs[take.line_no as usize].parts {
            let units = part.per_unit * take.units;
            match wanted
                .iter_mut()
                .find(|w| w.product_id == part.product_id && w.warehouse_id == warehouse_id)
            {
                Some(w) => w.units += units,
                None => wanted.push(Held {
                    product_id: &part.product_id,
                    warehouse_id: warehouse_id.clone(),
                    units,
                }),
            }
        }
    }
    wanted
}

/// One allocation row: units of a product for a line, from a warehouse.
struct Alloc {
    line_no: i64,
    product_id: String,
    sku: String,
    warehouse: WarehouseRef,
    units: i64,
}

/// One allocation per (line, product, warehouse) that the plan takes.
fn allocations_of(
    from: &ReserveFrom,
    plan: &Plan,
    needs: &[Need],
    skus: &HashMap<String, String>,
) -> Vec<Alloc> {
    let mut allocs = Vec::new();
    for (code, take) in plan.takes() {
        let warehouse = WarehouseRef {
            id: from.warehouse_id(code),
            code: code.to_string(),
        };
        for part in &needs[take.line_no as usize].parts {
            allocs.push(Alloc {
                line_no: take.line_no,
                product_id: part.product_id.clone(),
                sku: skus.get(&part.product_id).cloned().unwrap_or_default(),
                warehouse: warehouse.clone(),
                units: part.per_unit * take.units,
            });
        }
    }
    allocs
}

/// The reservation row and its allocation rows, into the caller's batch.
#[allow(clippy::too_many_arguments)] // the row's fields, each from a different phase
fn write_reservation(
    batch: &mut crate::sql::Batch,
    id: &str,
    reference: &str,
    from: &ReserveFrom,
    lines: &[(ProductRef, i64)],
    reserved: &[i64],
    allocs: &[Alloc],
    now: i64,
) -> Result<()> {
    let lines_json = serde_json::to_string(
        &lines
            .iter()
            .zip(reserved)
            .map(|((p, _), q)| serde_json::json!({"sku": p.sku, "quantity": q}))
            .collect::<Vec<_>>(),
    )
    .map_err(|e| Error::Internal(format!("a reservation's lines did not serialize: {e}")))?;
    batch.push(
        "insert into reservation (reservation_id, reference, channel_id, status, lines_json, version, created_at, updated_at) values ($1, $2, $3, 'active', $4, 1, $5, $5)",
        vec![
            id.into(),
            reference.into(),
            from.channel.as_ref().map(|c| c.id.clone()).into(),
            lines_json.into(),
            now.into(),
        ],
    );
    for chunk in allocs.chunks(64) {
        let sql = crate::sql::values_rows(
            "insert into reservation_alloc (reservation_id, line_no, sku, product_id, warehouse_id, quantity) values ",
            6,
            chunk.len(),
        );
        let mut args = Vec::with_capacity(chunk.len() * 6);
        for a in chunk {
            args.extend([
                id.into(),
                a.line_no.into(),
                a.sku.as_str().into(),
                a.product_id.as_str().into(),
                a.warehouse.id.as_str().into(),
                a.units.into(),
            ]);
        }
        batch.push(sql, args);
    }
    Ok(())
}

/// What is spare (on hand − reserved) of every product the needs take, in
/// each of `warehouses` (by code): one query.
pub(crate) async fn spare_of(
    conn: &mut AnyConnection,
    needs: &[Need],
    warehouses: &[WarehouseRef],
) -> Result<Spare> {
    let mut products: Vec<&str> = needs
        .iter()
        .flat_map(|n| n.parts.iter().map(|p| p.product_id.as_str()))
        .collect();
    products.sort_unstable();
    products.dedup();
    let mut spare = Spare::default();
    if products.is_empty() || warehouses.is_empty() {
        return Ok(spare);
    }
    let sql = format!(
        "select product_id, warehouse_id, on_hand - reserved from stock_level where product_id in ({}) and warehouse_id in ({})",
        crate::sql::params(1, products.len()),
        crate::sql::params(products.len() + 1, warehouses.len()),
    );
    let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
    for p in &products {
        q = q.bind(*p);
    }
    for w in warehouses {
        q = q.bind(&w.id);
    }
    for (pid, wid, units) in q.fetch_all(&mut *conn).await? {
        if let Some(w) = warehouses.iter().find(|w| w.id == wid) {
            spare.set(&pid, &w.code, units);
        }
    }
    Ok(spare)
}

/// Returns units that `hold_units` took.
async fn give_back(
    conn: &mut AnyConnection,
    product_id: &str,
    warehouse_id: &str,
    units: i64,
) -> Result<()> {
    sqlx::query("update stock_level set reserved = reserved - $3 where product_id = $1 and warehouse_id = $2")
        .bind(product_id)
        .bind(warehouse_id)
        .bind(units)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Reserves `units` of a product in a warehouse if that many are spare after
/// `buffer`; false (and nothing changed) otherwise.
async fn hold_units(
    conn: &mut AnyConnection,
    product_id: &str,
    warehouse_id: &str,
    units: i64,
    buffer: i64,
) -> Result<bool> {
    Ok(sqlx::query("update stock_level set reserved = reserved + $3 where product_id = $1 and warehouse_id = $2 and on_hand - reserved - $4 >= $3")
        .bind(product_id)
        .bind(warehouse_id)
        .bind(units)
        .bind(buffer)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

pub(crate) async fn load_reservation(conn: &mut AnyConnection, id: &str) -> Result<Reservation> {
    let row = sqlx::query(
        "select r.reservation_id, r.reference, c.code as channel, r.status, r.lines_json, r.created_at from reservation r
         left join channel c on c.channel_id = r.channel_id where r.reservation_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "reservation",
        key: id.to_string(),
    })?;
    let allocs = sqlx::query(
        "select a.line_no, p.sku, w.code, a.quantity from reservation_alloc a join product p on p.product_id = a.product_id
         join warehouse w on w.warehouse_id = a.warehouse_id where a.reservation_id = $1 order by a.line_no, w.code, p.sku",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    #[derive(Deserialize)]
    struct Asked {
        sku: String,
        quantity: i64,
    }
    let asked: Vec<Asked> = serde_json::from_str(&row.try_get::<String, _>("lines_json")?)
        .map_err(|e| Error::Internal(format!("reservation lines are unreadable: {e}")))?;
    let mut lines: Vec<ReservationLine> = asked
        .into_iter()
        .map(|a| ReservationLine {
            sku: a.sku,
            quantity: a.quantity,
            allocations: Vec::new(),
        })
        .collect();
    for a in allocs {
        let line_no: i64 = a.try_get("line_no")?;
        if let Some(line) = lines.get_mut(line_no as usize) {
            line.allocations.push(Allocation {
                sku: a.try_get("sku")?,
                warehouse: a.try_get("code")?,
                quantity: a.try_get("quantity")?,
            });
        }
    }
    Ok(Reservation {
        id: row.try_get("reservation_id")?,
        reference: row.try_get("reference")?,
        channel: row.try_get("channel")?,
        status: row.try_get("status")?,
        lines,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_reservation(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    visible(&mut conn, ctx, id).await
}

/// The reservation, when every warehouse it holds units in is in the
/// caller's scope. Out of scope reads as absent, so the answer doesn't tell
/// that it exists.
async fn visible(conn: &mut AnyConnection, ctx: &Ctx, id: &str) -> Result<Reservation> {
    let r = load_reservation(&mut *conn, id).await?;
    for (_, _, code, _, _) in allocations(&mut *conn, id).await? {
        if in_scope(ctx, &code).is_err() {
            return Err(Error::NotFound {
                entity: "reservation",
                key: id.to_string(),
            });
        }
    }
    Ok(r)
}

/// Moves an active reservation to `status`, returning it as it was.
async fn close_reservation(uow: &mut Uow, id: &str, status: &str) -> Result<Reservation> {
    let before = load_reservation(&mut uow.tx, id).await?;
    let done = sqlx::query("update reservation set status = $2, version = version + 1, updated_at = $3 where reservation_id = $1 and status = 'active'")
        .bind(id)
        .bind(status)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if done != 1 {
        return Err(Error::Conflict {
            code: Conflict::ReservationNotActive,
            message: format!("reservation {id} is already {}", before.status),
        });
    }
    Ok(before)
}

async fn allocations(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Vec<(String, String, String, String, i64)>> {
    let rows = sqlx::query(
        "select a.product_id, a.warehouse_id, w.code, a.sku, a.quantity from reservation_alloc a
         join warehouse w on w.warehouse_id = a.warehouse_id where a.reservation_id = $1 order by a.product_id, a.warehouse_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("product_id")?,
                r.try_get("warehouse_id")?,
                r.try_get("code")?,
                r.try_get("sku")?,
                r.try_get("quantity")?,
            ))
        })
        .collect()
}

/// Releases an active reservation: its units become available again.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn release(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(release_once(db, ctx, id))
}

async fn release_once(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    let mut uow = db.begin(ctx).await?;
    standalone(&mut uow, id).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let freed = crate::fulfillment::sourcing::products_of(&mut uow.tx, id).await?;
    let after = release_in(&mut uow, id).await?;
    crate::fulfillment::sourcing::source_backorders(&mut uow, &freed).await?;
    uow.commit().await?;
    Ok(after)
}

/// Refuses a reservation that holds an order's stock (an order's
/// reservation changes only through the order's own use cases, which keep
/// its fulfilments, backorders and shipments in step), and one with units in
/// a warehouse outside the caller's scope. Not found when it doesn't exist.
async fn standalone(uow: &mut Uow, id: &str) -> Result<()> {
    visible(&mut uow.tx, &uow.ctx, id).await?;
    let order: Option<String> =
        sqlx::query_scalar("select number from sales_order where reservation_id = $1")
            .bind(id)
            .fetch_optional(&mut *uow.tx)
            .await?;
    match order {
        Some(number) => Err(Error::Conflict {
            code: Conflict::ReservationOfOrder,
            message: format!(
                "reservation {id} holds order {number}'s stock; it changes only through the order: cancel the order or its lines, or ship it"
            ),
        }),
        None => Ok(()),
    }
}

/// Releases inside the caller's unit of work (an order's cancellation).
pub(crate) async fn release_in(uow: &mut Uow, id: &str) -> Result<Reservation> {
    let uow = &mut *uow;
    let before = close_reservation(uow, id, "released").await?;
    for (product_id, warehouse_id, _, sku, quantity) in allocations(&mut uow.tx, id).await? {
        let done = sqlx::query("update stock_level set reserved = reserved - $3 where product_id = $1 and warehouse_id = $2 and reserved >= $3")
            .bind(&product_id)
            .bind(&warehouse_id)
            .bind(quantity)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if done != 1 {
            return Err(Error::Internal(format!(
                "reserved units of {sku} are fewer than reservation {id} holds; run keel check"
            )));
        }
    }
    let after = load_reservation(&mut uow.tx, id).await?;
    uow.record(
        Change {
            action: "reservation.release",
            entity: "reservation",
            entity_id: id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::InventoryReleased {
            reservation_id: id.to_string(),
            reference: after.reference.clone(),
        },
    )
    .await?;
    Ok(after)
}

/// Consumes an active reservation as its units leave on a shipment: on-hand
/// and reserved fall together, and the units come out of bins FEFO.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn consume(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(consume_once(db, ctx, id))
}

async fn consume_once(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    let mut uow = db.begin(ctx).await?;
    standalone(&mut uow, id).await?;
    let before = close_reservation(&mut uow, id, "consumed").await?;
    let mut units = 0;
    for (product_id, warehouse_id, code, sku, quantity) in allocations(&mut uow.tx, id).await? {
        let product = ProductRef {
            id: product_id,
            sku: sku.clone(),
            kind: "item".into(),
            track_lots: false,
            track_serials: false,
        };
        let wh = WarehouseRef {
            id: warehouse_id,
            code,
        };
        let t = Take {
            product: &product,
            wh: &wh,
            location_id: None,
            lot: None,
            kind: MovementKind::Shipment,
            using: Using::Reserved,
            reason: None,
            reference: Some(&before.reference),
        };
        if take(&mut uow, &t, quantity).await?.is_none() {
            return Err(Error::Conflict {
                code: Conflict::InsufficientStock,
                message: format!("the bins in {} no longer hold the {quantity} reserved units of {sku}; count them", wh.code),
            });
        }
        units += quantity;
    }
    let after = load_reservation(&mut uow.tx, id).await?;
    uow.record(
        Change {
            action: "reservation.consume",
            entity: "reservation",
            entity_id: id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::InventoryShipped {
            reservation_id: id.to_string(),
            reference: after.reference.clone(),
            units,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}
