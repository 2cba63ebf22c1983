//! Shipping: tracking per package, the reservation consumed with movements,
//! `order.shipped`.

use super::pack::{fulfillment_id, packing};
use super::steps::{load_shipment, reduce_allocation, reduce_line};
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    inventory::{self, ledger::Take, ledger::Using},
    refs::{ProductRef, WarehouseRef},
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::{Event, ShippedLine, ShippedPackage},
    governance::Permission,
    inventory::MovementKind,
    label::{self},
    views::{PackView, Shipment},
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::BTreeMap;

/// One tracking number per package. 409 pack_not_verified lists what is missing (units not packed, a package without weight or dimensions): no shipment and no label until the pack verifies.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipInput {
    #[schemars(length(max = 40))]
    pub carrier: String,
    #[schemars(length(max = 40))]
    pub service: String,
    /// One tracking number per package, in package order.
    #[schemars(length(min = 1))]
    pub packages: Vec<PackageTracking>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageTracking {
    #[schemars(range(min = 1))]
    pub package: i64,
    #[schemars(pattern(r"^[A-Za-z0-9-]{6,40}$"))]
    pub tracking: String,
}

fn short_text(field: &str, input: &str, what: &str) -> Result<String> {
    let t = input.trim();
    if t.is_empty() || t.chars().count() > 40 || t.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("enter the {what} (1 to 40 characters)"),
        ));
    }
    Ok(t.to_string())
}

/// Confirms a verified pack as shipped: the packages get their tracking
/// numbers, the picked units leave their bins (movements), the order's
/// reservation lets go of them, and the lines count them as shipped. The
/// order is shipped once nothing of it is open.
#[tracing::instrument(skip_all, fields(fulfillment = %key))]
pub async fn ship(
    db: &Db,
    ctx: &Ctx,
    key: &str,
    input: ShipInput,
    idem: Option<&Idempotency>,
) -> Result<Shipment> {
    ctx.require(Permission::FloorUse)?;
    let carrier = short_text("carrier", &input.carrier, "carrier")?;
    let service = short_text("service", &input.service, "service")?;
    let mut tracking: BTreeMap<i64, String> = BTreeMap::new();
    for (i, p) in input.packages.iter().enumerate() {
        let t = label::parse_tracking(&format!("packages[{i}].tracking"), &p.tracking)
            .map_err(|e| Error::Invalid(vec![e]))?;
        if tracking.values().any(|x| *x == t) {
            return Err(Error::invalid(
                &format!("packages[{i}].tracking"),
                "each package needs its own tracking number",
            ));
        }
        tracking.insert(p.package, t);
    }
    retrying!(ship_once(db, ctx, key, &carrier, &service, &tracking, idem))
}

async fn ship_once(
    db: &Db,
    ctx: &Ctx,
    key: &str,
    carrier: &str,
    service: &str,
    tracking: &BTreeMap<i64, String>,
    idem: Option<&Idempotency>,
) -> Result<Shipment> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    // Shipping takes stock like a receipt or cancellation does; the turn
    // keeps their row locks from crossing.
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let id = fulfillment_id(&mut uow.tx, key).await?;
    let order_id = lock_order(&mut uow, &id).await?;
    let view = packing(&mut uow, &id).await?;
    check_shippable(&view, tracking)?;
    let status: String = sqlx::query_scalar("select status from sales_order where order_id = $1")
        .bind(&order_id)
        .fetch_one(&mut *uow.tx)
        .await?;
    if status != "in_fulfilment" {
        return Err(Error::Conflict {
            code: Conflict::InvalidTransition,
            message: format!("order {} is {status}; it can't ship", view.order_number),
        });
    }
    let now = uow.now();
    let shipment_id = uuid::Uuid::now_v7().to_string();
    let number = crate::uow::next_number(&mut uow, "shipment", "SH").await?;
    let wh: (String, String) = sqlx::query_as(
        "select w.warehouse_id, w.code from fulfillment f join warehouse w on w.warehouse_id = f.warehouse_id where f.fulfillment_id = $1",
    )
    .bind(&id)
    .fetch_one(&mut *uow.tx)
    .await?;
    let wh = WarehouseRef {
        id: wh.0,
        code: wh.1,
    };
    sqlx::query("insert into shipment (shipment_id, number, fulfillment_id, order_id, warehouse_id, carrier, service, shipped_by, shipped_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(&shipment_id)
        .bind(&number)
        .bind(&id)
        .bind(&order_id)
        .bind(&wh.id)
        .bind(carrier)
        .bind(service)
        .bind(uow.ctx.actor.name.clone())
        .bind(now)
        .execute(&mut *uow.tx)
        .await?;
    set_tracking(&mut uow, &view, tracking).await?;
    let per_alloc = take_picked(&mut uow, &id, &wh, &number).await?;
    let lines: Vec<ShippedLine> = view
        .lines
        .iter()
        .map(|l| ShippedLine {
            line_no: l.line_no,
            sku: l.sku.clone(),
            quantity: l.picked,
        })
        .collect();
    let reservation_id: Option<String> =
        sqlx::query_scalar("select reservation_id from sales_order where order_id = $1")
            .bind(&order_id)
            .fetch_one(&mut *uow.tx)
            .await?;
    if let Some(r) = &reservation_id {
        for ((line_no, product_id), units) in &per_alloc {
            reduce_allocation(&mut uow, r, *line_no, product_id, &wh.id, *units).await?;
        }
        for l in &lines {
            reduce_line(&mut uow, r, l.line_no, l.quantity).await?;
        }
    }
    for l in &lines {
        sqlx::query("update order_line set shipped_quantity = shipped_quantity + $3 where order_id = $1 and line_no = $2")
            .bind(&order_id)
            .bind(l.line_no)
            .bind(l.quantity)
            .execute(&mut *uow.tx)
            .await?;
    }
    sqlx::query("update fulfillment set status = 'shipped', shipped_at = $2, updated_at = $2 where fulfillment_id = $1")
        .bind(&id)
        .bind(now)
        .execute(&mut *uow.tx)
        .await?;
    let complete = ship_order_if_done(&mut uow, &order_id, reservation_id.as_deref(), now).await?;
    let shipment = load_shipment(&mut uow.tx, &shipment_id).await?;
    uow.record(
        Change {
            action: "shipment.create",
            entity: "shipment",
            entity_id: &shipment_id,
            before: None,
            after: serde_json::to_value(&shipment).ok(),
        },
        Event::OrderShipped {
            order_id: order_id.clone(),
            number: view.order_number.clone(),
            shipment_id: shipment_id.clone(),
            shipment_number: number,
            warehouse: wh.code.clone(),
            carrier: carrier.into(),
            service: service.into(),
            packages: shipment
                .packages
                .iter()
                .map(|p| ShippedPackage {
                    seq: p.seq,
                    tracking: p.tracking.clone().unwrap_or_default(),
                    weight_g: p.weight_g.unwrap_or(0),
                })
                .collect(),
            lines,
            complete,
        },
    )
    .await?;
    uow.remember(&shipment).await?;
    uow.commit().await?;
    Ok(shipment)
}

/// The fulfilment's order, with its row lock taken first (as every order
/// edit takes it), so a cancellation can't pass the shipment.
async fn lock_order(uow: &mut Uow, fulfillment_id: &str) -> Result<String> {
    let order_id: String =
        sqlx::query_scalar("select order_id from fulfillment where fulfillment_id = $1")
            .bind(fulfillment_id)
            .fetch_one(&mut *uow.tx)
            .await?;
    sqlx::query("update sales_order set version = version where order_id = $1")
        .bind(&order_id)
        .execute(&mut *uow.tx)
        .await?;
    Ok(order_id)
}

/// A label needs a verified pack and one tracking number per package, and
/// none for a package that doesn't exist. No I/O.
fn check_shippable(view: &PackView, tracking: &BTreeMap<i64, String>) -> Result<()> {
    if !view.problems.is_empty() {
        return Err(Error::Conflict {
            code: Conflict::PackNotVerified,
            message: format!(
                "the label is blocked until the pack verifies: {}",
                view.problems.join("; ")
            ),
        });
    }
    if let Some(p) = view
        .packages
        .iter()
        .find(|p| !tracking.contains_key(&p.seq))
    {
        return Err(Error::invalid(
            "packages",
            format!("enter the tracking number of package {}", p.seq),
        ));
    }
    if let Some(extra) = tracking
        .keys()
        .find(|k| !view.packages.iter().any(|p| p.seq == **k))
    {
        return Err(Error::invalid(
            "packages",
            format!("there is no package {extra}"),
        ));
    }
    Ok(())
}

/// Each package's tracking number; one already on another package is a
/// field error.
async fn set_tracking(
    uow: &mut Uow,
    view: &PackView,
    tracking: &BTreeMap<i64, String>,
) -> Result<()> {
    for p in &view.packages {
        let Some(number) = tracking.get(&p.seq) else {
            continue;
        };
        sqlx::query("update package set tracking = $2 where package_id = $1")
            .bind(&p.id)
            .bind(number)
            .execute(&mut *uow.tx)
            .await
            .map_err(|e| {
                crate::error::on_unique(
                    e,
                    "packages",
                    &format!("tracking number {number} is on another package already"),
                )
            })?;
    }
    Ok(())
}

/// The stock: each picked task's units out of its bin and lot, from what
/// was reserved; the tasks become shipped. Answers the units taken per
/// (order line, product), for the reservation's allocations.
async fn take_picked(
    uow: &mut Uow,
    fulfillment_id: &str,
    wh: &WarehouseRef,
    number: &str,
) -> Result<BTreeMap<(i64, String), i64>> {
    let tasks = sqlx::query(
        "select t.task_id, t.line_no, t.product_id, t.sku, t.location_id, l.code, t.lot, t.picked, p.kind, p.track_lots
         from pick_task t join location l on l.location_id = t.location_id join product p on p.product_id = t.product_id
         where t.fulfillment_id = $1 and t.status = 'picked'",
    )
    .bind(fulfillment_id)
    .fetch_all(&mut *uow.tx)
    .await?;
    let mut per_alloc: BTreeMap<(i64, String), i64> = BTreeMap::new();
    for t in &tasks {
        let picked: i64 = t.try_get("picked")?;
        if picked == 0 {
            continue;
        }
        let product = ProductRef {
            id: t.try_get("product_id")?,
            sku: t.try_get("sku")?,
            kind: t.try_get("kind")?,
            track_lots: t.try_get::<i16, _>("track_lots")? == 1,
            track_serials: false,
        };
        let location_id: String = t.try_get("location_id")?;
        let lot: String = t.try_get("lot")?;
        let took = inventory::ledger::take(
            uow,
            &Take {
                product: &product,
                wh,
                location_id: Some(&location_id),
                lot: Some(&lot),
                kind: MovementKind::Shipment,
                using: Using::Reserved,
                reason: None,
                reference: Some(number),
            },
            picked,
        )
        .await?;
        if took.is_none() {
            let code: String = t.try_get("code")?;
            return Err(Error::Conflict {
                code: Conflict::InsufficientStock,
                message: format!(
                    "bin {code} in {} no longer holds the {picked} picked units of {}; count it",
                    wh.code, product.sku
                ),
            });
        }
        *per_alloc
            .entry((t.try_get("line_no")?, product.id.clone()))
            .or_default() += picked;
    }
    sqlx::query(
        "update pick_task set status = 'shipped' where fulfillment_id = $1 and status = 'picked'",
    )
    .bind(fulfillment_id)
    .execute(&mut *uow.tx)
    .await?;
    Ok(per_alloc)
}

/// When the last units leave, the order ships (and whether that was past
/// ship-by: the cycle-time and on-time figures, and their drill-down, read
/// these), and its reservation is consumed. Answers whether it shipped.
async fn ship_order_if_done(
    uow: &mut Uow,
    order_id: &str,
    reservation_id: Option<&str>,
    now: i64,
) -> Result<bool> {
    let open: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(quantity - cancelled_quantity - shipped_quantity), 0) as bigint) from order_line where order_id = $1",
    )
    .bind(order_id)
    .fetch_one(&mut *uow.tx)
    .await?;
    if open != 0 {
        return Ok(false);
    }
    let (placed_at, method): (i64, String) =
        sqlx::query_as("select placed_at, shipping_method from sales_order where order_id = $1")
            .bind(order_id)
            .fetch_one(&mut *uow.tx)
            .await?;
    let late = now > placed_at + domain::fulfillment::ship_by_hours(&method) * 3_600_000_000;
    sqlx::query("update sales_order set status = 'shipped', shipped_at = $2, shipped_late = $3, updated_at = $2, version = version + 1 where order_id = $1")
        .bind(order_id)
        .bind(now)
        .bind(i16::from(late))
        .execute(&mut *uow.tx)
        .await?;
    if let Some(r) = reservation_id {
        sqlx::query("update reservation set status = 'consumed', version = version + 1, updated_at = $2 where reservation_id = $1 and status = 'active'")
            .bind(r)
            .bind(now)
            .execute(&mut *uow.tx)
            .await?;
    }
    Ok(true)
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_shipment(db: &Db, ctx: &Ctx, id: &str) -> Result<Shipment> {
    ctx.require(Permission::OrdersRead)?;
    let mut conn = db.pool.acquire().await?;
    let s = load_shipment(&mut conn, id).await?;
    // The shipment carries the customer's address (on its label): it is
    // seen by whoever may see its order, and by no one else, not even as a 403.
    let channel: String = sqlx::query_scalar(
        "select c.code from sales_order o join channel c on c.channel_id = o.channel_id where o.order_id = $1",
    )
    .bind(&s.order_id)
    .fetch_one(&mut *conn)
    .await?;
    let absent = || Error::NotFound {
        entity: "shipment",
        key: id.to_string(),
    };
    if !ctx.actor.scope.allows_warehouse(&s.warehouse) {
        return Err(absent());
    }
    crate::orders::read::visible(&mut conn, ctx, &s.order_id, &channel)
        .await
        .map_err(|_| absent())?;
    Ok(s)
}
