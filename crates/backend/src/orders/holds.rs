//! Holds placed and released by people; a release sources what the order
//! waits for.

use super::edit::{confirm_if_clear, editing, touch, Editing};
use super::read::load;
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    inventory::{reservations::ReservationInput, reservations::ReservationLineInput},
    uow::{Change, Uow},
};
use domain::views::Order;
use domain::{events::Event, governance::Permission, orders::HoldReason};

/// Releases one open hold. An order that was never sourced (its payment had
/// failed) is sourced once its last blocking hold goes.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn release_hold(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    hold_id: &str,
    note: &str,
) -> Result<Order> {
    retrying!(release_hold_once(db, ctx, id, hold_id, note))
}

async fn release_hold_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    hold_id: &str,
    note: &str,
) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let note: String = note.trim().chars().take(500).collect();
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let e = editing(&mut uow, id, None).await?;
    if !e.status.is_editable() {
        return Err(Error::Conflict {
            code: Conflict::InvalidTransition,
            message: format!(
                "order {} is {} and its holds can't change",
                e.number, e.status
            ),
        });
    }
    let hold = sqlx::query_as::<_, (String, String, i16)>(
        "select reason, detail, active from order_hold where hold_id = $1 and order_id = $2",
    )
    .bind(hold_id)
    .bind(id)
    .fetch_optional(&mut *uow.tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "hold",
        key: hold_id.to_string(),
    })?;
    if hold.2 != 1 {
        return Err(Error::Conflict {
            code: Conflict::HoldNotActive,
            message: "this hold was already released".into(),
        });
    }
    let reason = HoldReason::parse(&hold.0);
    if reason == Some(HoldReason::UnknownItem) {
        return Err(Error::Conflict {
            code: Conflict::HoldNotReleasable,
            message: "an order with items that are not in the catalogue can't ship; add the products or cancel the order".into(),
        });
    }
    let by = ctx.actor.name.clone();
    sqlx::query("update order_hold set active = 0, released_at = $2, released_by = $3, release_note = $4 where hold_id = $1")
        .bind(hold_id)
        .bind(uow.now())
        .bind(&by)
        .bind(&note)
        .execute(&mut *uow.tx)
        .await?;
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.release_hold",
            entity: "order",
            entity_id: id,
            before: Some(serde_json::json!({"hold": hold_id, "reason": hold.0, "detail": hold.1, "active": true})),
            after: Some(serde_json::json!({"hold": hold_id, "active": false, "note": note})),
        },
        Event::OrderHoldReleased {
            order_id: id.to_string(),
            number: e.number.clone(),
            reason: hold.0.clone(),
            note: note.clone(),
        },
    )
    .await?;
    // An order held before it could be sourced (a failed payment) is sourced
    // once nothing stops it shipping.
    if e.reservation_id.is_none() && !has_unknown_items(&mut uow, id).await? {
        source_open_lines(&mut uow, id, &e).await?;
    }
    confirm_if_clear(&mut uow, id, &e).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

async fn has_unknown_items(uow: &mut Uow, id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from order_line where order_id = $1 and product_id is null",
    )
    .bind(id)
    .fetch_one(&mut *uow.tx)
    .await?;
    Ok(n > 0)
}

/// Puts a hold on the order: the row, the count, the audit row and the event.
async fn add_hold(
    uow: &mut Uow,
    id: &str,
    number: &str,
    hold: &domain::orders::Hold,
) -> Result<()> {
    let by = uow.ctx.actor.name.clone();
    let mut batch = crate::sql::Batch::default();
    crate::orders::capture::insert_hold(&mut batch, id, hold, (&by, uow.now()));
    batch.run(&mut uow.tx, uow.backend).await?;
    sqlx::query("update sales_order set hold_count = hold_count + 1 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "order.hold",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"reason": hold.reason.as_str(), "detail": hold.detail})),
        },
        Event::OrderHeld {
            order_id: id.to_string(),
            number: number.to_string(),
            reason: hold.reason.as_str().into(),
            detail: hold.detail.clone(),
        },
    )
    .await
}

/// Sources the order's open units afresh: reserves what the warehouses
/// have, plans it into fulfilments (replacing those not started), and
/// backorders the rest on the lines.
pub(crate) async fn source_open_lines(uow: &mut Uow, id: &str, e: &Editing) -> Result<()> {
    let input = ReservationInput {
        reference: e.number.clone(),
        channel: Some(e.channel.clone()),
        lines: open_lines(uow, id).await?,
    };
    let (from, lines) = crate::inventory::reservations::resolve_reservation(uow, &input).await?;
    let mut batch = crate::sql::Batch::default();
    let crate::orders::capture::Sourced {
        reservation: r,
        plan,
        warehouse: wh,
    } = crate::orders::capture::source(uow, &from, &lines, &e.number, &mut batch).await?;
    crate::fulfillment::records::cancel_open(uow, id).await?;
    let seq = crate::fulfillment::records::next_seq(&mut uow.tx, id).await?;
    crate::fulfillment::records::insert(&mut batch, id, seq, &plan, &from.warehouses, uow.now());
    batch.run(&mut uow.tx, uow.backend).await?;
    sqlx::query("update order_line set backordered_quantity = 0 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    for b in &plan.backorders {
        sqlx::query(
            "update order_line set backordered_quantity = $3 where order_id = $1 and line_no = $2",
        )
        .bind(id)
        .bind(b.line_no)
        .bind(b.units)
        .execute(&mut *uow.tx)
        .await?;
    }
    sqlx::query("update sales_order set reservation_id = $2, warehouse_code = $3, backordered_units = $4 where order_id = $1")
        .bind(id)
        .bind(r.id)
        .bind(wh)
        .bind(plan.backordered_units())
        .execute(&mut *uow.tx)
        .await?;
    crate::orders::capture::record_sourced(uow, id, &e.number, &plan).await
}

/// The open units of every line, in line order. Fully cancelled lines stay in
/// (with nothing to reserve) so that reservation line i is order line i.
async fn open_lines(uow: &mut Uow, id: &str) -> Result<Vec<ReservationLineInput>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select sku, quantity - cancelled_quantity from order_line where order_id = $1 order by line_no",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, quantity)| ReservationLineInput { sku, quantity })
        .collect())
}

/// Puts an order on hold by hand, with the reason in words.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn place_hold(db: &Db, ctx: &Ctx, id: &str, detail: &str) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let detail: String = detail.trim().chars().take(500).collect();
    if detail.is_empty() {
        return Err(Error::invalid("detail", "say why the order is held"));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, None).await?;
    if !e.status.is_editable() {
        return Err(Error::Conflict {
            code: Conflict::InvalidTransition,
            message: format!("order {} is {} and can't be held", e.number, e.status),
        });
    }
    let hold = domain::orders::Hold {
        reason: HoldReason::Manual,
        detail: detail.clone(),
    };
    add_hold(&mut uow, id, &e.number, &hold).await?;
    touch(&mut uow, id).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}
