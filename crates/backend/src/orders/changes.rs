//! Changes to an order: cancelling it or a line, a new address, notes and
//! tags.

use super::edit::{confirm_if_clear, editing, touch, transition_error, Editing};
use super::holds::source_open_lines;
use super::read::load;
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    uow::{Change, Uow},
};
use domain::views::Order;
use domain::{
    events::Event,
    governance::Permission,
    orders::{Address, OrderStatus},
};

/// Cancels the whole order and releases its stock.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn cancel_order(db: &Db, ctx: &Ctx, id: &str, reason: &str) -> Result<Order> {
    retrying!(cancel_order_once(db, ctx, id, reason))
}

async fn cancel_order_once(db: &Db, ctx: &Ctx, id: &str, reason: &str) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let reason = cancel_reason(reason)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let e = editing(&mut uow, id, None).await?;
    cancel_in(&mut uow, id, &e, reason).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

fn cancel_reason(reason: &str) -> Result<String> {
    let reason: String = reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(Error::invalid("reason", "say why the order is cancelled"));
    }
    Ok(reason)
}

/// Cancels the order being edited: releases its stock, cancels every line
/// and ends its holds.
async fn cancel_in(uow: &mut Uow, id: &str, e: &Editing, reason: String) -> Result<()> {
    let next = e
        .status
        .transition(OrderStatus::Cancelled)
        .map_err(transition_error)?;
    let shipped: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(shipped_quantity), 0) as bigint) from order_line where order_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *uow.tx)
    .await?;
    if shipped > 0 {
        return Err(Error::Conflict {
            code: Conflict::InvalidTransition,
            message: format!(
                "{shipped} units of order {} have shipped; it can't be cancelled (the shipped units come back as a return)",
                e.number
            ),
        });
    }
    let freed = release_active(uow, e).await?;
    let now = uow.now();
    sqlx::query(
        "update sales_order set status = $2, cancelled_at = $3, hold_count = 0 where order_id = $1",
    )
    .bind(id)
    .bind(next.as_str())
    .bind(now)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query("update order_line set cancelled_quantity = quantity, backordered_quantity = 0 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update sales_order set backordered_units = 0 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    crate::fulfillment::records::cancel_unshipped(uow, id).await?;
    // The order is cancelled now, so what it freed goes to others waiting.
    if let Some(freed) = freed {
        crate::fulfillment::sourcing::source_backorders(uow, &freed).await?;
    }
    let by = uow.ctx.actor.name.clone();
    sqlx::query("update order_hold set active = 0, released_at = $2, released_by = $3, release_note = 'order cancelled' where order_id = $1 and active = 1")
        .bind(id)
        .bind(now)
        .bind(by)
        .execute(&mut *uow.tx)
        .await?;
    touch(uow, id).await?;
    uow.record(
        Change {
            action: "order.cancel",
            entity: "order",
            entity_id: id,
            before: Some(serde_json::json!({"status": e.status.as_str()})),
            after: Some(serde_json::json!({"status": "cancelled", "reason": reason})),
        },
        Event::OrderCancelled {
            order_id: id.to_string(),
            number: e.number.clone(),
            reason,
        },
    )
    .await
}

/// Releases the order's reservation if it still holds stock, returning the
/// products it freed.
async fn release_active(uow: &mut Uow, e: &Editing) -> Result<Option<Vec<String>>> {
    let Some(r) = &e.reservation_id else {
        return Ok(None);
    };
    let status: String =
        sqlx::query_scalar("select status from reservation where reservation_id = $1")
            .bind(r)
            .fetch_one(&mut *uow.tx)
            .await?;
    if status != "active" {
        return Ok(None);
    }
    let freed = crate::fulfillment::sourcing::products_of(&mut uow.tx, r).await?;
    crate::inventory::reservations::release_in(uow, r).await?;
    Ok(Some(freed))
}

/// Cancels `quantity` units of one line (`line_no` as the order shows it).
/// The order's stock is released and its open units reserved again, in the
/// same transaction, so the reservation always matches the open lines; units
/// whose stock has gone meanwhile are backordered.
/// Cancelling the last open units cancels the order. The captured totals
/// stay as the channel charged them; the cancelled units are on the lines.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn cancel_line(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    line_no: i64,
    quantity: i64,
    reason: &str,
) -> Result<Order> {
    retrying!(cancel_line_once(db, ctx, id, line_no, quantity, reason))
}

async fn cancel_line_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    line_no: i64,
    quantity: i64,
    reason: &str,
) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let reason = cancel_reason(reason)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let e = editing(&mut uow, id, None).await?;
    let lines: Vec<(i64, String, i64)> = sqlx::query_as(
        "select line_no, sku, quantity - cancelled_quantity from order_line where order_id = $1 order by line_no",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    let Some(index) = lines.iter().position(|l| l.0 == line_no) else {
        return Err(Error::NotFound {
            entity: "order line",
            key: format!("{} line {line_no}", e.number),
        });
    };
    let open: Vec<i64> = lines.iter().map(|l| l.2).collect();
    let cancel =
        domain::orders::cancel_line(e.status, &open, index, quantity).map_err(|err| match err {
            domain::orders::LineCancelError::NotEditable(_) => Error::Conflict {
                code: Conflict::InvalidTransition,
                message: err.to_string(),
            },
            _ => Error::invalid("quantity", err.to_string()),
        })?;
    let sku = lines[index].1.clone();
    if cancel.order_open == 0 {
        cancel_in(&mut uow, id, &e, reason).await?;
        uow.commit().await?;
        return load(db, ctx, id).await;
    }
    sqlx::query("update order_line set cancelled_quantity = cancelled_quantity + $3 where order_id = $1 and line_no = $2")
        .bind(id)
        .bind(line_no)
        .bind(quantity)
        .execute(&mut *uow.tx)
        .await?;
    if let Some(freed) = release_active(&mut uow, &e).await? {
        source_open_lines(&mut uow, id, &e).await?;
        // What the cancelled units freed goes to orders waiting for it.
        crate::fulfillment::sourcing::source_backorders(&mut uow, &freed).await?;
    }
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.cancel_line",
            entity: "order",
            entity_id: id,
            before: Some(serde_json::json!({"line_no": line_no, "sku": sku, "open": open[index]})),
            after: Some(serde_json::json!({"line_no": line_no, "sku": sku, "open": cancel.line_open, "reason": reason})),
        },
        Event::OrderLineCancelled {
            order_id: id.to_string(),
            number: e.number.clone(),
            line_no,
            sku,
            quantity,
            reason,
        },
    )
    .await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Replaces the shipping address. A valid new address releases an
/// invalid-address hold, recorded as the system's rule.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn change_address(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    address: Address,
    expected_version: Option<i64>,
) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let address = address.normalized();
    let problems = address.field_problems("address");
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, expected_version).await?;
    if !e.status.is_editable() {
        return Err(Error::Conflict {
            code: Conflict::InvalidTransition,
            message: format!(
                "order {} is {}; its address can't change",
                e.number, e.status
            ),
        });
    }
    let before: String =
        sqlx::query_scalar("select ship_to_json from sales_order where order_id = $1")
            .bind(id)
            .fetch_one(&mut *uow.tx)
            .await?;
    sqlx::query("update sales_order set ship_to_json = $2, ship_country = $3, ship_postcode = $4 where order_id = $1")
        .bind(id)
        .bind(serde_json::to_string(&address).unwrap_or_default())
        .bind(&address.country)
        .bind(&address.postcode)
        .execute(&mut *uow.tx)
        .await?;
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.change_address",
            entity: "order",
            entity_id: id,
            before: serde_json::from_str(&before).ok(),
            after: serde_json::to_value(&address).ok(),
        },
        Event::OrderAddressChanged {
            order_id: id.to_string(),
            number: e.number.clone(),
        },
    )
    .await?;
    let stale: Vec<String> = sqlx::query_scalar(
        "select hold_id from order_hold where order_id = $1 and reason = 'invalid_address' and active = 1",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    for hold_id in stale {
        sqlx::query("update order_hold set active = 0, released_at = $2, released_by = $3, release_note = 'the new address is complete' where hold_id = $1")
            .bind(&hold_id)
            .bind(uow.now())
            .bind(&ctx.actor.name)
            .execute(&mut *uow.tx)
            .await?;
        uow.record(
            Change {
                action: "order.release_hold",
                entity: "order",
                entity_id: id,
                before: Some(serde_json::json!({"hold": hold_id, "reason": "invalid_address", "active": true})),
                after: Some(serde_json::json!({"hold": hold_id, "active": false})),
            },
            Event::OrderHoldReleased {
                order_id: id.to_string(),
                number: e.number.clone(),
                reason: "invalid_address".into(),
                note: "the new address is complete".into(),
            },
        )
        .await?;
    }
    confirm_if_clear(&mut uow, id, &e).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Adds a note for colleagues; it is part of the order's timeline.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn add_note(db: &Db, ctx: &Ctx, id: &str, body: &str) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 2000 {
        return Err(Error::invalid(
            "body",
            "write a note of 1 to 2,000 characters",
        ));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, None).await?;
    sqlx::query("insert into order_note (note_id, order_id, author, body, created_at) values ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(id)
        .bind(&ctx.actor.name)
        .bind(body)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.note",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"note": body})),
        },
        Event::OrderNoteAdded {
            order_id: id.to_string(),
            number: e.number.clone(),
        },
    )
    .await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Adds and removes tags; unchanged tags write nothing.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn tag(db: &Db, ctx: &Ctx, id: &str, add: &[String], remove: &[String]) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let mut errors = Vec::new();
    let add = domain::orders::parse_tags("add", add, &mut errors);
    let remove = domain::orders::parse_tags("remove", remove, &mut errors);
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if add.is_empty() && remove.is_empty() {
        return Err(Error::invalid("add", "name a tag to add or remove"));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, None).await?;
    let mut added = Vec::new();
    for t in &add {
        let n = sqlx::query("insert into order_tag (order_id, tag) values ($1, $2) on conflict (order_id, tag) do nothing")
            .bind(id)
            .bind(t)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if n == 1 {
            added.push(t.clone());
        }
    }
    let mut removed = Vec::new();
    for t in &remove {
        let n = sqlx::query("delete from order_tag where order_id = $1 and tag = $2")
            .bind(id)
            .bind(t)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if n == 1 {
            removed.push(t.clone());
        }
    }
    if added.is_empty() && removed.is_empty() {
        drop(uow);
        return load(db, ctx, id).await;
    }
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.tag",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"added": added, "removed": removed})),
        },
        Event::OrderTagged {
            order_id: id.to_string(),
            number: e.number.clone(),
            added,
            removed,
        },
    )
    .await?;
    uow.commit().await?;
    load(db, ctx, id).await
}
