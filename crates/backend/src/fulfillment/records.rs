//! Fulfilment records: an order's planned shipments per warehouse, read,
//! numbered and cancelled.

use crate::{
    error::Result,
    refs::WarehouseRef,
    rfc3339,
    sql::{values_rows, Batch, Val},
    uow::Uow,
};
use domain::{
    events::{BackorderedLine, Event, SourcedShipment},
    fulfillment::Plan,
    views::{Fulfillment, FulfillmentLine},
};
use sqlx::{AnyConnection, Row};

/// Adds a plan's fulfilments for an order to `batch`, numbered from
/// `first_seq`, and returns them as the order shows them.
pub(crate) fn insert(
    batch: &mut Batch,
    order_id: &str,
    first_seq: i64,
    plan: &Plan,
    warehouses: &[WarehouseRef],
    now: i64,
) -> Vec<Fulfillment> {
    let mut out = Vec::new();
    for (i, s) in plan.shipments.iter().enumerate() {
        let Some(wh) = warehouses.iter().find(|w| w.code == s.warehouse) else {
            continue;
        };
        let id = uuid::Uuid::now_v7().to_string();
        let seq = first_seq + i as i64;
        batch.push(
            "insert into fulfillment (fulfillment_id, order_id, warehouse_id, seq, status, reason, created_at, updated_at) values ($1, $2, $3, $4, 'open', $5, $6, $6)",
            vec![
                id.as_str().into(),
                order_id.into(),
                wh.id.as_str().into(),
                seq.into(),
                s.reason.as_str().into(),
                now.into(),
            ],
        );
        let mut args = Vec::with_capacity(s.lines.len() * 4);
        for t in &s.lines {
            args.extend([
                Val::from(id.as_str()),
                t.line_no.into(),
                t.sku.as_str().into(),
                t.units.into(),
            ]);
        }
        batch.push(
            values_rows(
                "insert into fulfillment_line (fulfillment_id, line_no, sku, quantity) values ",
                4,
                s.lines.len(),
            ),
            args,
        );
        out.push(Fulfillment {
            id,
            seq,
            warehouse: s.warehouse.clone(),
            status: "open".into(),
            lines: s
                .lines
                .iter()
                .map(|t| FulfillmentLine {
                    line_no: t.line_no,
                    sku: t.sku.clone(),
                    quantity: t.units,
                })
                .collect(),
            reason: s.reason.clone(),
            created_at: rfc3339(now),
        });
    }
    out
}

/// The order's fulfilments, in the order they were planned.
pub(crate) async fn of_order(conn: &mut AnyConnection, order_id: &str) -> Result<Vec<Fulfillment>> {
    let rows = sqlx::query(
        "select f.fulfillment_id, f.seq, w.code, f.status, f.reason, f.created_at, l.line_no, l.sku, l.quantity
         from fulfillment f join warehouse w on w.warehouse_id = f.warehouse_id
         join fulfillment_line l on l.fulfillment_id = f.fulfillment_id
         where f.order_id = $1 order by f.seq, l.line_no",
    )
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Fulfillment> = Vec::new();
    for r in rows {
        let id: String = r.try_get("fulfillment_id")?;
        let line = FulfillmentLine {
            line_no: r.try_get("line_no")?,
            sku: r.try_get("sku")?,
            quantity: r.try_get("quantity")?,
        };
        match out.last_mut().filter(|f| f.id == id) {
            Some(f) => f.lines.push(line),
            None => out.push(Fulfillment {
                id,
                seq: r.try_get("seq")?,
                warehouse: r.try_get("code")?,
                status: r.try_get("status")?,
                reason: r.try_get("reason")?,
                created_at: rfc3339(r.try_get("created_at")?),
                lines: vec![line],
            }),
        }
    }
    Ok(out)
}

/// Cancels the order's fulfilments that have not started (the order is
/// cancelled, or its lines are sourced afresh).
pub(crate) async fn cancel_open(uow: &mut Uow, order_id: &str) -> Result<()> {
    sqlx::query("update fulfillment set status = 'cancelled', updated_at = $2 where order_id = $1 and status = 'open'")
        .bind(order_id)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

/// Cancels every fulfilment of a cancelled order that has not shipped,
/// with the pick tasks of those in a wave (their units never left the
/// bins); a wave with nothing left to pick is done.
pub(crate) async fn cancel_unshipped(uow: &mut Uow, order_id: &str) -> Result<()> {
    let now = uow.now();
    sqlx::query("update pick_task set status = 'cancelled' where status in ('open', 'picked')
                 and fulfillment_id in (select fulfillment_id from fulfillment where order_id = $1)")
        .bind(order_id)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update wave set status = 'done', completed_at = $2 where status = 'open'
                 and wave_id in (select wave_id from fulfillment where order_id = $1)
                 and not exists (select 1 from pick_task t where t.wave_id = wave.wave_id and t.status = 'open')")
        .bind(order_id)
        .bind(now)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update fulfillment set status = 'cancelled', updated_at = $2 where order_id = $1 and status in ('open', 'picking', 'picked')")
        .bind(order_id)
        .bind(now)
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

/// The next fulfilment number for an order.
pub(crate) async fn next_seq(conn: &mut AnyConnection, order_id: &str) -> Result<i64> {
    let max: Option<i64> =
        sqlx::query_scalar("select max(seq) from fulfillment where order_id = $1")
            .bind(order_id)
            .fetch_one(&mut *conn)
            .await?;
    Ok(max.unwrap_or(0) + 1)
}

/// The event that records a sourcing decision.
pub(crate) fn sourced_event(order_id: &str, number: &str, plan: &Plan) -> Event {
    Event::OrderSourced {
        order_id: order_id.to_string(),
        number: number.to_string(),
        shipments: plan
            .shipments
            .iter()
            .map(|s| SourcedShipment {
                warehouse: s.warehouse.clone(),
                units: s.lines.iter().map(|t| t.units).sum(),
                reason: s.reason.clone(),
            })
            .collect(),
        backordered: plan
            .backorders
            .iter()
            .map(|b| BackorderedLine {
                sku: b.sku.clone(),
                units: b.units,
                reason: b.reason.clone(),
            })
            .collect(),
    }
}

/// Adds units (or takes them, when negative, never below zero) to line
/// `line_no` of a reservation's `lines_json`; reservation line i is order
/// line i.
pub(crate) fn add_to_line(lines: &mut [serde_json::Value], line_no: i64, units: i64) {
    if let Some(l) = lines.get_mut(line_no as usize) {
        let q = l.get("quantity").and_then(|q| q.as_i64()).unwrap_or(0);
        l["quantity"] = (q + units).max(0).into();
    }
}
