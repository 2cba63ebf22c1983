//! Order history imported as it was: past orders written in bulk, closed,
//! without reservations.

use super::capture::{
    channel_facts, insert_order, next_order_number, seen, upsert_customer, NewRow, PastOrder,
};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    sql::Batch,
    uow::Change,
};
use domain::{
    events::Event,
    governance::Permission,
    orders::{self as capture, FraudAssessment, NewOrder, OrderStatus},
};

/// Imports finished orders (a migration from an earlier system, or the demo
/// history): delivered, closed or cancelled orders whose stock already left,
/// so nothing is reserved or moved. Batches of 500 orders commit together,
/// each with one audit row and one `orders.imported` event; an order already
/// present (same channel and external id) is skipped.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn import_history(db: &Db, ctx: &Ctx, orders: &[PastOrder]) -> Result<usize> {
    ctx.require(Permission::OrdersWrite)?;
    let mut parsed = Vec::with_capacity(orders.len());
    for (i, past) in orders.iter().enumerate() {
        let (input, status) = (&past.order, past.status.as_str());
        let status = OrderStatus::parse(status)
            .filter(|s| {
                matches!(
                    s,
                    OrderStatus::Delivered | OrderStatus::Closed | OrderStatus::Cancelled
                )
            })
            .ok_or_else(|| {
                Error::invalid(
                    &format!("orders[{i}].status"),
                    "history is delivered, closed or cancelled",
                )
            })?;
        let order = NewOrder::parse(input).map_err(|e| {
            Error::Invalid(
                e.into_iter()
                    .map(|f| domain::FieldError::new(format!("orders[{i}].{}", f.field), f.message))
                    .collect(),
            )
        })?;
        if past.shipped_at.is_some() && status == OrderStatus::Cancelled {
            return Err(Error::invalid(
                &format!("orders[{i}].shipped_at"),
                "a cancelled order did not ship",
            ));
        }
        parsed.push((order, status, past));
    }
    let mut products: std::collections::HashMap<String, Option<String>> = Default::default();
    let mut imported = 0;
    for batch in parsed.chunks(500) {
        let mut uow = db.begin(ctx).await?;
        let mut numbers = Vec::new();
        for (order, status, past) in batch {
            let channel = channel_facts(&mut uow.tx, order).await?;
            if seen(&mut uow.tx, &channel.id, &order.external_id, None)
                .await?
                .1
                .is_some()
            {
                continue;
            }
            let placed_at = order
                .placed_at
                .map(|t| t.timestamp_micros())
                .unwrap_or_else(|| uow.now());
            let mut batch = Batch::default();
            let now = uow.now();
            let customer = upsert_customer(&mut uow, order, placed_at, &mut batch).await?;
            let mut priced = order.clone();
            priced.prices_include_tax |= channel.prices_include_tax;
            let totals = capture::totals(&priced, channel.rate);
            let mut product_ids = Vec::new();
            for l in &order.lines {
                if !products.contains_key(&l.sku) {
                    let p = crate::refs::find_product(&mut uow.tx, &l.sku)
                        .await?
                        .map(|p| p.id);
                    products.insert(l.sku.clone(), p);
                }
                product_ids.push(products[&l.sku].clone());
            }
            let id = uuid::Uuid::now_v7().to_string();
            let number = next_order_number(&mut uow).await?;
            insert_order(
                &mut batch,
                &NewRow {
                    id: &id,
                    channel_id: &channel.id,
                    number: &number,
                    order: &priced,
                    status: *status,
                    placed_at,
                    customer_id: &customer.id,
                    name: &customer.name,
                    totals: &totals,
                    fraud: &FraudAssessment {
                        score: 0,
                        reasons: Vec::new(),
                    },
                    product_ids: &product_ids,
                    backordered: &[],
                    holds: 0,
                    reservation: None,
                    warehouse: past.warehouse.as_deref(),
                    shipped: past.shipped_at.map(|t| {
                        let at = t.timestamp_micros();
                        let due = placed_at
                            + domain::fulfillment::ship_by_hours(&order.shipping_method)
                                * 3_600_000_000;
                        (at, at > due)
                    }),
                },
                now,
            );
            // Run now: the next order's `seen` must find this one.
            batch.run(&mut uow.tx, uow.backend).await?;
            numbers.push(number);
        }
        if numbers.is_empty() {
            continue;
        }
        let first = numbers.first().cloned().unwrap_or_default();
        let last = numbers.last().cloned().unwrap_or_default();
        uow.record(
            Change {
                action: "order.import_history",
                entity: "order_import",
                entity_id: &first,
                before: None,
                after: Some(
                    serde_json::json!({"orders": numbers.len(), "first": first, "last": last}),
                ),
            },
            Event::OrdersImported {
                count: numbers.len() as i64,
                first: first.clone(),
                last: last.clone(),
            },
        )
        .await?;
        uow.commit().await?;
        imported += numbers.len();
    }
    Ok(imported)
}
