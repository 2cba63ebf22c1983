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
    let parsed = orders
        .iter()
        .enumerate()
        .map(|(i, past)| parse_past(i, past))
        .collect::<Result<Vec<_>>>()?;
    let mut products = Products::default();
    let mut imported = 0;
    for (chunk, batch) in parsed.chunks(500).enumerate() {
        let mut uow = db.begin(ctx).await?;
        let mut numbers = Vec::new();
        for (j, (order, status, past)) in batch.iter().enumerate() {
            let at = chunk * 500 + j;
            let written = write_past(&mut uow, order, *status, past, &mut products)
                .await
                .map_err(|e| e.within(&format!("orders[{at}]")))?;
            if let Some(number) = written {
                numbers.push(number);
            }
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

/// Product ids by SKU, looked up once per import (`None`: not in the
/// catalogue, which history may name).
type Products = std::collections::HashMap<String, Option<String>>;

/// One past order checked: a finished status, an order that parses, and no
/// shipment for a cancelled one. Field names are the order's place in the
/// request (`orders[3].lines[0].sku`).
fn parse_past(i: usize, past: &PastOrder) -> Result<(NewOrder, OrderStatus, &PastOrder)> {
    let status = OrderStatus::parse(past.status.as_str())
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
    let order = NewOrder::parse(&past.order)
        .map_err(|e| Error::Invalid(e).within(&format!("orders[{i}]")))?;
    if past.shipped_at.is_some() && status == OrderStatus::Cancelled {
        return Err(Error::invalid(
            &format!("orders[{i}].shipped_at"),
            "a cancelled order did not ship",
        ));
    }
    Ok((order, status, past))
}

/// Writes one past order with its customer; `None` when the channel already
/// has it.
async fn write_past(
    uow: &mut crate::uow::Uow,
    order: &NewOrder,
    status: OrderStatus,
    past: &PastOrder,
    products: &mut Products,
) -> Result<Option<String>> {
    let channel = channel_facts(&mut uow.tx, order).await?;
    if seen(&mut uow.tx, &channel.id, &order.external_id, None)
        .await?
        .1
        .is_some()
    {
        return Ok(None);
    }
    let placed_at = order
        .placed_at
        .map(|t| t.timestamp_micros())
        .unwrap_or_else(|| uow.now());
    let mut batch = Batch::default();
    let now = uow.now();
    let customer = upsert_customer(uow, order, placed_at, &mut batch).await?;
    let mut priced = order.clone();
    priced.prices_include_tax |= channel.prices_include_tax;
    let totals = capture::totals(&priced, channel.rate).map_err(|e| Error::Invalid(vec![e]))?;
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
    let number = next_order_number(uow).await?;
    insert_order(
        &mut batch,
        &NewRow {
            id: &id,
            channel_id: &channel.id,
            number: &number,
            order: &priced,
            status,
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
                    + domain::fulfillment::ship_by_hours(&order.shipping_method) * 3_600_000_000;
                (at, at > due)
            }),
        },
        now,
    );
    // Run now: the next order's `seen` must find this one.
    batch.run(&mut uow.tx, uow.backend).await?;
    Ok(Some(number))
}
