//! What the pure rules need to evaluate the records a batch touched, read in
//! a few statements per batch.

use crate::{
    error::{Error, Result},
    projection::fetch_in,
};
use domain::{
    analytics::{
        self as rules, Existing, FulfillmentFact, HoldFact, ImportFacts, IncidentFacts, LevelFact,
        OrderFacts, Queue, StockFacts, Thresholds, Wanted,
    },
    events::Event,
};
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, BTreeSet};

/// Everything the rules want for the touched records, and what exists for
/// them: the indirect keys resolved, then each kind of record's facts read
/// and handed to its pure rule.
pub(crate) async fn gather(
    conn: &mut AnyConnection,
    mut touched: Touched,
    t: &Thresholds,
    now: i64,
) -> Result<Gathered> {
    let started = std::time::Instant::now();
    resolve_keys(conn, &mut touched).await?;
    let mut wanted = Vec::new();
    let mut entity_ids: Vec<String> = Vec::new();
    let resolved = started.elapsed();

    let orders: Vec<String> = touched.orders.into_iter().collect();
    let (mut facts, fulfillments) = order_facts(conn, &orders).await?;
    entity_ids.extend(fulfillments);
    let mut timers = Vec::with_capacity(facts.len());
    for o in facts.values_mut() {
        o.holds.sort_by_key(|h| h.placed_at);
        wanted.extend(rules::order_exceptions(o, t, now));
        timers.push((o.order_id.clone(), rules::next_check(o, t, now)));
    }
    let order_count = orders.len();
    entity_ids.extend(orders);
    let ordered = started.elapsed();

    let products: Vec<String> = touched.products.into_iter().collect();
    let (stock, warehouses) = stock_facts(conn, &products).await?;
    for s in stock.values() {
        wanted.extend(rules::stock_exception(s, now));
        wanted.extend(rules::low_stock_exceptions(s, now));
    }
    // A low-stock item's record is the product in one warehouse; look for
    // one in every warehouse, since its reorder point may have gone.
    for p in &products {
        for (w, _) in &warehouses {
            entity_ids.push(rules::stock_level_key(p, w));
        }
    }
    let product_count = products.len();
    entity_ids.extend(products);
    let stocked = started.elapsed();

    let imports: Vec<String> = touched.imports.into_iter().collect();
    wanted.extend(import_exceptions(conn, &imports).await?);
    entity_ids.extend(imports);
    let incidents: Vec<String> = touched.incidents.into_iter().collect();
    wanted.extend(incident_exceptions(conn, &incidents).await?);
    entity_ids.extend(incidents);

    let before_existing = started.elapsed();
    let existing = existing_for(conn, &entity_ids).await?;
    tracing::debug!(
        orders = order_count,
        products = product_count,
        keys_ms = resolved.as_millis() as u64,
        orders_ms = (ordered - resolved).as_millis() as u64,
        products_ms = (stocked - ordered).as_millis() as u64,
        rest_ms = (before_existing - stocked).as_millis() as u64,
        existing_ms = (started.elapsed() - before_existing).as_millis() as u64,
        "exception gather"
    );
    Ok(Gathered {
        wanted,
        existing,
        timers,
    })
}

/// Resolves the indirect keys (order numbers, fulfilments, SKUs, lines,
/// reservations, transfers, counts) to the orders and products they touch.
async fn resolve_keys(conn: &mut AnyConnection, touched: &mut Touched) -> Result<()> {
    let numbers = ids_in(
        conn,
        "select order_id from sales_order where number in ({ids})",
        &touched.order_numbers,
    )
    .await?;
    touched.orders.extend(numbers);
    let via_fulfillment = ids_in(
        conn,
        "select order_id from fulfillment where fulfillment_id in ({ids})",
        &touched.fulfillments,
    )
    .await?;
    touched.orders.extend(via_fulfillment);
    let by_sku = ids_in(
        conn,
        "select product_id from product where sku in ({ids})",
        &touched.skus,
    )
    .await?;
    touched.products.extend(by_sku);
    for (sql, keys) in [
        ("select product_id from order_line where order_id in ({ids}) and product_id is not null", &touched.order_products),
        ("select product_id from reservation_alloc where reservation_id in ({ids})", &touched.reservations),
        ("select product_id from stock_transfer_line where transfer_id in ({ids})", &touched.transfers),
        ("select product_id from cycle_count_line where count_id in ({ids})", &touched.counts),
    ] {
        let found = ids_in(conn, sql, keys).await?;
        touched.products.extend(found);
    }
    Ok(())
}

/// The orders' facts with their active holds and fulfilments, by order id,
/// and the fulfilments' ids (records an exception may stand on).
async fn order_facts(
    conn: &mut AnyConnection,
    orders: &[String],
) -> Result<(BTreeMap<String, OrderFacts>, Vec<String>)> {
    let mut fulfillments = Vec::new();
    let mut facts: BTreeMap<String, OrderFacts> = BTreeMap::new();
    for r in fetch_in(
        conn,
        "select o.order_id, o.number, o.status, o.placed_at, o.updated_at, o.shipping_method, o.warehouse_code, o.backordered_units, c.code
         from sales_order o join channel c on c.channel_id = o.channel_id where o.order_id in ({ids})",
        orders,
    )
    .await?
    {
        let id: String = r.try_get("order_id")?;
        facts.insert(
            id.clone(),
            OrderFacts {
                order_id: id,
                number: r.try_get("number")?,
                status: r.try_get("status")?,
                placed_at: r.try_get("placed_at")?,
                last_progress_at: r.try_get("updated_at")?,
                shipping_method: r.try_get("shipping_method")?,
                channel: r.try_get("code")?,
                warehouse: r.try_get("warehouse_code")?,
                backordered_units: r.try_get("backordered_units")?,
                holds: Vec::new(),
                fulfillments: Vec::new(),
            },
        );
    }
    for r in fetch_in(
        conn,
        "select order_id, reason, detail, placed_at, active from order_hold where order_id in ({ids})",
        orders,
    )
    .await?
    {
        if r.try_get::<i16, _>("active")? != 1 {
            continue;
        }
        if let Some(o) = facts.get_mut(&r.try_get::<String, _>("order_id")?) {
            o.holds.push(HoldFact {
                reason: r.try_get("reason")?,
                detail: r.try_get("detail")?,
                placed_at: r.try_get("placed_at")?,
            });
        }
    }
    for r in fetch_in(
        conn,
        "select f.fulfillment_id, f.order_id, f.seq, f.status, f.updated_at, w.code
         from fulfillment f join warehouse w on w.warehouse_id = f.warehouse_id where f.order_id in ({ids})",
        orders,
    )
    .await?
    {
        if let Some(o) = facts.get_mut(&r.try_get::<String, _>("order_id")?) {
            let id: String = r.try_get("fulfillment_id")?;
            o.last_progress_at = o.last_progress_at.max(r.try_get("updated_at")?);
            fulfillments.push(id.clone());
            o.fulfillments.push(FulfillmentFact {
                id,
                seq: r.try_get("seq")?,
                status: r.try_get("status")?,
                warehouse: r.try_get("code")?,
            });
        }
    }
    Ok((facts, fulfillments))
}

/// The products' facts: backorders, and each warehouse's level with its
/// reorder point where one is set (a reorder point may come before the
/// first stock); and every warehouse as (id, code).
async fn stock_facts(
    conn: &mut AnyConnection,
    products: &[String],
) -> Result<(BTreeMap<String, StockFacts>, Vec<(String, String)>)> {
    let mut stock: BTreeMap<String, StockFacts> = BTreeMap::new();
    for r in fetch_in(
        conn,
        "select product_id, sku, name from product where product_id in ({ids})",
        products,
    )
    .await?
    {
        let id: String = r.try_get("product_id")?;
        stock.insert(
            id.clone(),
            StockFacts {
                product_id: id,
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                backordered_units: 0,
                waiting_orders: 0,
                stocked: false,
                available: 0,
                levels: Vec::new(),
            },
        );
    }
    for r in fetch_in(
        conn,
        "select product_id, cast(sum(backordered_quantity) as bigint) as units, count(distinct order_id) as orders
         from order_line where product_id in ({ids}) and backordered_quantity > 0 group by product_id",
        products,
    )
    .await?
    {
        if let Some(s) = stock.get_mut(&r.try_get::<String, _>("product_id")?) {
            s.backordered_units = r.try_get("units")?;
            s.waiting_orders = r.try_get("orders")?;
        }
    }
    let warehouses: Vec<(String, String)> = if products.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as("select warehouse_id, code from warehouse")
            .fetch_all(&mut *conn)
            .await?
    };
    let code_of = |id: &str| {
        warehouses
            .iter()
            .find(|w| w.0 == id)
            .map(|w| w.1.clone())
            .unwrap_or_default()
    };
    for r in fetch_in(
        conn,
        "select product_id, warehouse_id, on_hand - reserved as available from stock_level where product_id in ({ids})",
        products,
    )
    .await?
    {
        if let Some(s) = stock.get_mut(&r.try_get::<String, _>("product_id")?) {
            let warehouse_id: String = r.try_get("warehouse_id")?;
            let available: i64 = r.try_get("available")?;
            s.stocked = true;
            s.available += available;
            s.levels.push(LevelFact {
                warehouse: code_of(&warehouse_id),
                warehouse_id,
                available,
                reorder_point: None,
            });
        }
    }
    for r in fetch_in(
        conn,
        "select product_id, warehouse_id, units from reorder_point where product_id in ({ids})",
        products,
    )
    .await?
    {
        if let Some(s) = stock.get_mut(&r.try_get::<String, _>("product_id")?) {
            let warehouse_id: String = r.try_get("warehouse_id")?;
            let units: i64 = r.try_get("units")?;
            match s.levels.iter_mut().find(|l| l.warehouse_id == warehouse_id) {
                Some(l) => l.reorder_point = Some(units),
                None => s.levels.push(LevelFact {
                    warehouse: code_of(&warehouse_id),
                    warehouse_id,
                    available: 0,
                    reorder_point: Some(units),
                }),
            }
        }
    }
    Ok((stock, warehouses))
}

/// What the rules want for these import jobs.
async fn import_exceptions(conn: &mut AnyConnection, imports: &[String]) -> Result<Vec<Wanted>> {
    let mut wanted = Vec::new();
    for r in fetch_in(
        conn,
        "select job_id, kind, status, total_rows, failed_rows, finished_at from import_job where job_id in ({ids})",
        imports,
    )
    .await?
    {
        wanted.extend(rules::import_exception(&ImportFacts {
            job_id: r.try_get("job_id")?,
            kind: r.try_get("kind")?,
            status: r.try_get("status")?,
            total_rows: r.try_get("total_rows")?,
            failed_rows: r.try_get("failed_rows")?,
            finished_at: r.try_get("finished_at")?,
        }));
    }
    Ok(wanted)
}

/// What the rules want for these incidents.
async fn incident_exceptions(
    conn: &mut AnyConnection,
    incidents: &[String],
) -> Result<Vec<Wanted>> {
    let mut wanted = Vec::new();
    for r in fetch_in(
        conn,
        "select incident_id, kind, subject_ref, channel_code, occurrences, first_at, last_detail, resolved_at
         from incident where incident_id in ({ids})",
        incidents,
    )
    .await?
    {
        wanted.extend(rules::incident_exception(&IncidentFacts {
            incident_id: r.try_get("incident_id")?,
            kind: r.try_get("kind")?,
            subject_ref: r.try_get("subject_ref")?,
            channel: r.try_get("channel_code")?,
            occurrences: r.try_get("occurrences")?,
            first_at: r.try_get("first_at")?,
            last_detail: r.try_get("last_detail")?,
            resolved: r.try_get::<Option<i64>, _>("resolved_at")?.is_some(),
        }));
    }
    Ok(wanted)
}

/// What the rules want for the evaluated records, what exists for them, and
/// when each evaluated order should next be looked at.
pub(crate) struct Gathered {
    pub(crate) wanted: Vec<Wanted>,
    pub(crate) existing: Vec<Existing>,
    pub(crate) timers: Vec<(String, Option<i64>)>,
}

/// The records an event batch touched, by kind.
#[derive(Default)]
pub(crate) struct Touched {
    pub(crate) orders: BTreeSet<String>,
    pub(crate) order_numbers: BTreeSet<String>,
    pub(crate) fulfillments: BTreeSet<String>,
    /// Orders whose lines' products may have changed availability.
    pub(crate) order_products: BTreeSet<String>,
    pub(crate) products: BTreeSet<String>,
    pub(crate) skus: BTreeSet<String>,
    pub(crate) reservations: BTreeSet<String>,
    pub(crate) transfers: BTreeSet<String>,
    pub(crate) counts: BTreeSet<String>,
    pub(crate) imports: BTreeSet<String>,
    pub(crate) incidents: BTreeSet<String>,
}

impl Touched {
    pub(crate) fn add(&mut self, event: &Event) {
        use Event as E;
        match event {
            E::OrderCaptured { order_id, .. }
            | E::OrderSourced { order_id, .. }
            | E::OrderCancelled { order_id, .. }
            | E::OrderLineCancelled { order_id, .. }
            | E::OrderShipped { order_id, .. } => {
                self.orders.insert(order_id.clone());
                self.order_products.insert(order_id.clone());
            }
            E::OrderConfirmed { order_id, .. }
            | E::OrderHeld { order_id, .. }
            | E::OrderHoldReleased { order_id, .. }
            | E::OrderAddressChanged { order_id, .. }
            | E::OrderNoteAdded { order_id, .. }
            | E::OrderTagged { order_id, .. } => {
                self.orders.insert(order_id.clone());
            }
            E::WaveCreated { orders, .. } => self.order_numbers.extend(orders.iter().cloned()),
            E::PickShorted {
                order_number, sku, ..
            } => {
                self.order_numbers.insert(order_number.clone());
                self.skus.insert(sku.clone());
            }
            E::FulfillmentPacked { fulfillment_id, .. }
            | E::PackageMeasured { fulfillment_id, .. } => {
                self.fulfillments.insert(fulfillment_id.clone());
            }
            E::StockReceived { skus, .. } => self.skus.extend(skus.iter().cloned()),
            E::StockAdjusted { sku, .. }
            | E::DeliveryPutAway { sku, .. }
            | E::ReorderPointSet { sku, .. } => {
                self.skus.insert(sku.clone());
            }
            E::IncidentRecorded { incident_id, .. } | E::IncidentResolved { incident_id, .. } => {
                self.incidents.insert(incident_id.clone());
            }
            E::InventoryReserved { reservation_id, .. }
            | E::InventoryReleased { reservation_id, .. }
            | E::InventoryShipped { reservation_id, .. } => {
                self.reservations.insert(reservation_id.clone());
            }
            E::TransferShipped { transfer_id, .. } | E::TransferReceived { transfer_id, .. } => {
                self.transfers.insert(transfer_id.clone());
            }
            E::CountPosted { count_id, .. } => {
                self.counts.insert(count_id.clone());
            }
            E::ImportFinished { job_id, .. } => {
                self.imports.insert(job_id.clone());
            }
            _ => {}
        }
    }
}

pub(crate) async fn ids_in(
    conn: &mut AnyConnection,
    sql: &str,
    keys: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let keys: Vec<String> = keys.iter().cloned().collect();
    fetch_in(conn, sql, &keys)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0).map_err(Error::from))
        .collect()
}

/// The live and the resolved-but-uncleared items of these records.
pub(crate) async fn existing_for(
    conn: &mut AnyConnection,
    entity_ids: &[String],
) -> Result<Vec<Existing>> {
    fetch_in(
        conn,
        "select exception_id, queue, entity_id, reason, status, cleared, detail from exception_item where entity_id in ({ids})",
        entity_ids,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Existing {
            id: r.try_get("exception_id")?,
            queue: Queue::parse(&r.try_get::<String, _>("queue")?)
                .map_err(|e| Error::Internal(e.to_string()))?,
            entity_id: r.try_get("entity_id")?,
            reason: r.try_get("reason")?,
            status: r.try_get("status")?,
            cleared: r.try_get::<i16, _>("cleared")? == 1,
            detail: r.try_get("detail")?,
        })
    })
    .filter(|e: &Result<Existing>| {
        e.as_ref()
            .map_or(true, |e| e.live() || (e.status == "resolved" && !e.cleared))
    })
    .collect()
}
