//! The ledger: every change of on-hand goes through `put` or `take`, the only
//! writers of bin and warehouse balances.

use crate::refs::{ProductRef, WarehouseRef};
use crate::{
    error::{Error, Result},
    uow::Uow,
};
use domain::inventory::{self as rules, MovementKind};
use domain::FieldError;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

pub(crate) struct Put<'a> {
    pub(crate) product: &'a ProductRef,
    pub(crate) wh: &'a WarehouseRef,
    pub(crate) location_id: &'a str,
    pub(crate) lot: &'a str,
    pub(crate) expires_on: &'a str,
    pub(crate) kind: MovementKind,
    pub(crate) reason: Option<&'a str>,
    pub(crate) reference: Option<&'a str>,
}

/// Appends one row to the ledger: `quantity` units of the bin and lot in `p`.
async fn movement(uow: &mut Uow, p: &Put<'_>, quantity: i64) -> Result<()> {
    sqlx::query(
        "insert into stock_movement (movement_id, occurred_at, product_id, warehouse_id, location_id, lot, kind, quantity, reason, reference, actor_name)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(uow.now())
    .bind(&p.product.id)
    .bind(&p.wh.id)
    .bind(p.location_id)
    .bind(p.lot)
    .bind(p.kind.as_str())
    .bind(quantity)
    .bind(p.reason)
    .bind(p.reference)
    .bind(uow.ctx.actor.name.clone())
    .execute(&mut *uow.tx)
    .await?;
    Ok(())
}

/// Adds `quantity` units to a bin: the ledger row, the bin balance and the
/// warehouse level, in the caller's transaction.
pub(crate) async fn put(uow: &mut Uow, p: &Put<'_>, quantity: i64) -> Result<()> {
    movement(uow, p, quantity).await?;
    sqlx::query(
        "insert into stock_balance (product_id, location_id, lot, expires_on, on_hand) values ($1, $2, $3, $4, $5)
         on conflict (product_id, location_id, lot) do update set on_hand = stock_balance.on_hand + excluded.on_hand",
    )
    .bind(&p.product.id)
    .bind(p.location_id)
    .bind(p.lot)
    .bind(p.expires_on)
    .bind(quantity)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query(
        "insert into stock_level (product_id, warehouse_id, on_hand, reserved) values ($1, $2, $3, 0)
         on conflict (product_id, warehouse_id) do update set on_hand = stock_level.on_hand + excluded.on_hand",
    )
    .bind(&p.product.id)
    .bind(&p.wh.id)
    .bind(quantity)
    .execute(&mut *uow.tx)
    .await?;
    Ok(())
}

/// Which units a removal may use at the warehouse level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Using {
    /// Only units nobody has reserved (adjustments, scrap, transfers out).
    Unreserved,
    /// Reserved units, releasing the reservation as they go (shipment).
    Reserved,
    /// Any units: a count records what is physically there, even if that
    /// leaves fewer than are reserved (the shortfall then shows as negative
    /// availability).
    Any,
}

/// What a removal took: one entry per bin and lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taken {
    pub location: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
}

pub(crate) struct Take<'a> {
    pub product: &'a ProductRef,
    pub wh: &'a WarehouseRef,
    /// Restrict to one bin, and optionally one lot.
    pub location_id: Option<&'a str>,
    pub lot: Option<&'a str>,
    pub kind: MovementKind,
    pub using: Using,
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// Removes `quantity` units FEFO (earliest expiry first, then walk order).
/// The warehouse level is decremented first with a conditional update, which
/// also locks the (product, warehouse) row on PostgreSQL, so the bin balances
/// read next can't change under us. Returns `None`, having changed nothing,
/// when there aren't enough units of the allowed kind.
pub(crate) async fn take(uow: &mut Uow, t: &Take<'_>, quantity: i64) -> Result<Option<Vec<Taken>>> {
    let level_sql = match t.using {
        Using::Unreserved => "update stock_level set on_hand = on_hand - $3 where product_id = $1 and warehouse_id = $2 and on_hand - reserved >= $3",
        Using::Reserved => "update stock_level set on_hand = on_hand - $3, reserved = reserved - $3 where product_id = $1 and warehouse_id = $2 and reserved >= $3 and on_hand >= $3",
        Using::Any => "update stock_level set on_hand = on_hand - $3 where product_id = $1 and warehouse_id = $2 and on_hand >= $3",
    };
    let updated = sqlx::query(level_sql)
        .bind(&t.product.id)
        .bind(&t.wh.id)
        .bind(quantity)
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if updated != 1 {
        return Ok(None);
    }
    let mut f = crate::sql::Filters::default();
    f.eq("b.product_id", Some(t.product.id.as_str()));
    f.eq("l.warehouse_id", Some(t.wh.id.as_str()));
    f.and("b.on_hand > 0");
    f.eq("b.location_id", t.location_id);
    f.eq("b.lot", t.lot);
    let sql = format!(
        "select b.location_id, l.code, b.lot, b.expires_on, b.on_hand, l.pick_sequence from stock_balance b
         join location l on l.location_id = b.location_id where {}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&mut *uow.tx).await?;
    let lots = rows
        .iter()
        .map(|r| {
            Ok(rules::LotStock {
                expires_on: r.try_get("expires_on")?,
                pick_sequence: r.try_get("pick_sequence")?,
                on_hand: r.try_get("on_hand")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let Some(plan) = rules::fefo_plan(&lots, quantity) else {
        // Put the level back: the bins asked for don't hold enough.
        let undo = match t.using {
            Using::Reserved => "update stock_level set on_hand = on_hand + $3, reserved = reserved + $3 where product_id = $1 and warehouse_id = $2",
            _ => "update stock_level set on_hand = on_hand + $3 where product_id = $1 and warehouse_id = $2",
        };
        sqlx::query(undo)
            .bind(&t.product.id)
            .bind(&t.wh.id)
            .bind(quantity)
            .execute(&mut *uow.tx)
            .await?;
        return Ok(None);
    };
    let mut taken = Vec::new();
    for (i, n) in plan {
        let r = &rows[i];
        let location_id: String = r.try_get("location_id")?;
        let lot: String = r.try_get("lot")?;
        let done = sqlx::query("update stock_balance set on_hand = on_hand - $4 where product_id = $1 and location_id = $2 and lot = $3 and on_hand >= $4")
            .bind(&t.product.id)
            .bind(&location_id)
            .bind(&lot)
            .bind(n)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if done != 1 {
            return Err(Error::Internal(format!(
                "bin balance of {} changed while its warehouse level was locked",
                t.product.sku
            )));
        }
        sqlx::query("delete from stock_balance where product_id = $1 and location_id = $2 and lot = $3 and on_hand = 0")
            .bind(&t.product.id)
            .bind(&location_id)
            .bind(&lot)
            .execute(&mut *uow.tx)
            .await?;
        let expires_on: String = r.try_get("expires_on")?;
        let entry = Put {
            product: t.product,
            wh: t.wh,
            location_id: &location_id,
            lot: &lot,
            expires_on: &expires_on,
            kind: t.kind,
            reason: t.reason,
            reference: t.reference,
        };
        movement(uow, &entry, -n).await?;
        taken.push(Taken {
            location: r.try_get("code")?,
            lot,
            expires_on,
            quantity: n,
        });
    }
    Ok(Some(taken))
}

/// Whether a serial number is on hand anywhere or on its way between
/// warehouses: a serial names one physical unit.
pub(crate) async fn serial_in_stock(
    conn: &mut AnyConnection,
    p: &ProductRef,
    serial: &str,
) -> Result<bool> {
    let units: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(n), 0) as bigint) from (
            select on_hand as n from stock_balance where product_id = $1 and lot = $2
            union all
            select l.quantity from stock_transfer_line l join stock_transfer t on t.transfer_id = l.transfer_id
            where t.status = 'in_transit' and l.product_id = $1 and l.lot = $2) x",
    )
    .bind(&p.id)
    .bind(serial)
    .fetch_one(&mut *conn)
    .await?;
    Ok(units > 0)
}

/// Units in one bin, and unreserved units in the whole warehouse, for messages.
pub(crate) async fn units_at(
    conn: &mut AnyConnection,
    p: &ProductRef,
    wh: &WarehouseRef,
    location_id: &str,
) -> Result<(i64, i64)> {
    let in_bin: i64 = sqlx::query_scalar("select cast(coalesce(sum(on_hand), 0) as bigint) from stock_balance where product_id = $1 and location_id = $2")
        .bind(&p.id)
        .bind(location_id)
        .fetch_one(&mut *conn)
        .await?;
    let spare: Option<i64> = sqlx::query_scalar(
        "select on_hand - reserved from stock_level where product_id = $1 and warehouse_id = $2",
    )
    .bind(&p.id)
    .bind(&wh.id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok((in_bin, spare.unwrap_or(0)))
}

pub(crate) const MAX_LINES: usize = 1000;

pub(crate) fn check_lines<T>(lines: &[T]) -> Result<()> {
    if lines.is_empty() {
        return Err(Error::invalid("lines", "add at least one line"));
    }
    if lines.len() > MAX_LINES {
        return Err(Error::invalid(
            "lines",
            format!("at most {MAX_LINES} lines per request"),
        ));
    }
    Ok(())
}

pub(crate) fn reference(field: &str, r: Option<&str>) -> Result<Option<String>, FieldError> {
    match r.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) if r.chars().count() <= 80 && !r.chars().any(char::is_control) => {
            Ok(Some(r.to_string()))
        }
        Some(_) => Err(FieldError::new(
            field,
            "use at most 80 printable characters",
        )),
    }
}
