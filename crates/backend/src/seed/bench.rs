//! Synthetic history for benchmarks: many SKUs and a long movement ledger,
//! written in bulk but consistent with the ledger invariants (`keel check`
//! passes on the result). Only `keel bench` calls this.

use crate::{db::Db, error::Result};

pub const WAREHOUSES: [&str; 3] = ["BENCH-E", "BENCH-C", "BENCH-W"];
pub const CHANNEL: &str = "BENCHWEB";

/// Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 500;

/// One value of a bulk-inserted row.
enum Cell {
    T(String),
    I(i64),
}

async fn insert_rows(db: &Db, table_cols: &str, width: usize, rows: &[Vec<Cell>]) -> Result<()> {
    // sqlx's SQLite driver looks each `$N` up by name when binding, which is
    // quadratic in the parameters of one statement: keep statements near a
    // thousand parameters.
    for chunk in rows.chunks((1000 / width).clamp(1, CHUNK)) {
        let sql = crate::sql::values_rows(
            &format!("insert into {table_cols} values "),
            width,
            chunk.len(),
        );
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = match v {
                    Cell::T(t) => q.bind(t.clone()),
                    Cell::I(n) => q.bind(*n),
                };
            }
        }
        q.execute(&db.pool).await?;
    }
    Ok(())
}

/// Creates `skus` products stocked in three warehouses and `movements`
/// ledger rows spread over them, with the balances and levels they imply,
/// and a channel that ships from all three. Returns the SKU codes.
pub async fn synthesize(db: &Db, skus: usize, movements: usize) -> Result<Vec<String>> {
    let now = chrono::Utc::now().timestamp_micros();
    let mut warehouses = Vec::new();
    for (i, code) in WAREHOUSES.iter().enumerate() {
        let (wid, lid) = (
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
        );
        sqlx::query("insert into warehouse (warehouse_id, code, name, active, version, created_at, updated_at) values ($1, $2, $2, 1, 1, $3, $3)")
            .bind(&wid)
            .bind(*code)
            .bind(now)
            .execute(&db.pool)
            .await?;
        sqlx::query("insert into location (location_id, warehouse_id, code, pick_sequence, active, created_at) values ($1, $2, 'A-01-01', $3, 1, $4)")
            .bind(&lid)
            .bind(&wid)
            .bind(i as i64)
            .bind(now)
            .execute(&db.pool)
            .await?;
        warehouses.push((wid, lid));
    }
    sqlx::query("insert into channel (channel_id, code, name, kind, currency, warehouses_json, safety_buffer, active, version, created_at, updated_at) values ($1, $2, 'Bench web', 'web', 'USD', $3, 1, 1, 1, $4, $4)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(CHANNEL)
        .bind(serde_json::to_string(&WAREHOUSES).unwrap_or_default())
        .bind(now)
        .execute(&db.pool)
        .await?;
    let codes: Vec<String> = (0..skus).map(|i| format!("BENCH-{i:06}")).collect();
    let ids: Vec<String> = (0..skus)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let products: Vec<Vec<Cell>> = codes
        .iter()
        .zip(&ids)
        .map(|(code, id)| {
            vec![
                Cell::T(id.clone()),
                Cell::T(code.clone()),
                Cell::T(format!("Bench product {code}")),
                Cell::T("item".into()),
                Cell::I(now),
                Cell::I(now),
            ]
        })
        .collect();
    insert_rows(
        db,
        "product (product_id, sku, name, kind, created_at, updated_at)",
        6,
        &products,
    )
    .await?;
    // Receipts of 5 and shipments of 2, alternating per (sku, warehouse), so
    // every balance stays positive and history grows evenly.
    let mut on_hand = vec![0i64; skus * warehouses.len()];
    let mut batch = Vec::with_capacity(CHUNK * 20);
    for i in 0..movements {
        let slot = i % on_hand.len();
        let (s, w) = (slot % skus, slot / skus);
        let receipt = on_hand[slot] < 2 || (i / on_hand.len()).is_multiple_of(2);
        let qty: i64 = if receipt { 5 } else { -2 };
        on_hand[slot] += qty;
        batch.push(vec![
            Cell::T(uuid::Uuid::now_v7().to_string()),
            Cell::I(now - (movements - i) as i64 * 1000),
            Cell::T(ids[s].clone()),
            Cell::T(warehouses[w].0.clone()),
            Cell::T(warehouses[w].1.clone()),
            Cell::T(if receipt { "receipt" } else { "shipment" }.into()),
            Cell::I(qty),
            Cell::T("bench".into()),
        ]);
        if batch.len() == CHUNK * 20 || i + 1 == movements {
            insert_rows(db, "stock_movement (movement_id, occurred_at, product_id, warehouse_id, location_id, kind, quantity, actor_name)", 8, &batch).await?;
            batch.clear();
        }
    }
    let mut balances = Vec::new();
    let mut levels = Vec::new();
    for (slot, n) in on_hand.iter().enumerate().filter(|(_, n)| **n > 0) {
        let (s, w) = (slot % skus, slot / skus);
        balances.push(vec![
            Cell::T(ids[s].clone()),
            Cell::T(warehouses[w].1.clone()),
            Cell::I(*n),
        ]);
        levels.push(vec![
            Cell::T(ids[s].clone()),
            Cell::T(warehouses[w].0.clone()),
            Cell::I(*n),
            Cell::I(0),
        ]);
    }
    insert_rows(
        db,
        "stock_balance (product_id, location_id, on_hand)",
        3,
        &balances,
    )
    .await?;
    insert_rows(
        db,
        "stock_level (product_id, warehouse_id, on_hand, reserved)",
        4,
        &levels,
    )
    .await?;
    Ok(codes)
}

/// Appends `movements` more ledger rows to the synthetic SKUs: a receipt of
/// one and a shipment of one per (SKU, warehouse) in turn, so the balances
/// stay as they are while the history grows.
pub async fn grow_history(db: &Db, movements: usize) -> Result<()> {
    let products: Vec<String> =
        sqlx::query_scalar("select product_id from product where sku like 'BENCH-%' order by sku")
            .fetch_all(&db.pool)
            .await?;
    let bins: Vec<(String, String)> = sqlx::query_as(
        "select l.warehouse_id, l.location_id from location l join warehouse w on w.warehouse_id = l.warehouse_id where w.code like 'BENCH-%' order by w.code",
    )
    .fetch_all(&db.pool)
    .await?;
    let slots = products.len() * bins.len();
    if slots == 0 {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_micros();
    let mut batch = Vec::with_capacity(CHUNK * 20);
    for i in 0..movements {
        let slot = (i / 2) % slots;
        let (product, (wh, loc)) = (
            &products[slot % products.len()],
            &bins[slot / products.len()],
        );
        let qty = if i % 2 == 0 { 1 } else { -1 };
        batch.push(vec![
            Cell::T(uuid::Uuid::now_v7().to_string()),
            Cell::I(now + i as i64),
            Cell::T(product.clone()),
            Cell::T(wh.clone()),
            Cell::T(loc.clone()),
            Cell::T(if qty > 0 { "receipt" } else { "shipment" }.into()),
            Cell::I(qty),
            Cell::T("bench".into()),
        ]);
        if batch.len() == CHUNK * 20 || i + 1 == movements {
            insert_rows(db, "stock_movement (movement_id, occurred_at, product_id, warehouse_id, location_id, kind, quantity, actor_name)", 8, &batch).await?;
            batch.clear();
        }
    }
    db.after_bulk_load().await
}

/// Channels the synthetic orders are spread over (the first is `CHANNEL`).
const ORDER_CHANNELS: [&str; 3] = [CHANNEL, "BENCHAMZ", "BENCHB2B"];

/// Writes `orders` finished and open orders over the past year, with
/// customers, lines, tags and holds in realistic proportions, in bulk. For
/// the order-list benchmark only: no reservations or events are written.
/// Needs `synthesize` first (for the channel and warehouses). Long by
/// design: one bulk-loading script.
pub async fn synthesize_orders(db: &Db, orders: usize) -> Result<()> {
    let now = chrono::Utc::now().timestamp_micros();
    let mut channel_ids = Vec::new();
    for code in ORDER_CHANNELS {
        let existing: Option<String> =
            sqlx::query_scalar("select channel_id from channel where code = $1")
                .bind(code)
                .fetch_optional(&db.pool)
                .await?;
        let id = match existing {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                sqlx::query("insert into channel (channel_id, code, name, kind, currency, warehouses_json, safety_buffer, active, version, created_at, updated_at) values ($1, $2, $2, 'marketplace', 'USD', $3, 0, 1, 1, $4, $4)")
                    .bind(&id)
                    .bind(code)
                    .bind(serde_json::to_string(&WAREHOUSES).unwrap_or_default())
                    .bind(now)
                    .execute(&db.pool)
                    .await?;
                id
            }
        };
        channel_ids.push(id);
    }
    let customers = (orders / 10).max(1);
    // Customers of an earlier call keep their emails; these follow them.
    let first_customer: i64 = sqlx::query_scalar("select count(*) from customer")
        .fetch_one(&db.pool)
        .await?;
    let customer_ids: Vec<String> = (0..customers)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let rows: Vec<Vec<Cell>> = customer_ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            vec![
                Cell::T(id.clone()),
                Cell::T(format!("c{}@bench.example", first_customer + i as i64)),
                Cell::T(format!("Bench Customer{}", first_customer + i as i64)),
                Cell::I(10),
                Cell::I(now),
                Cell::I(now),
                Cell::I(now),
                Cell::T(format!("bench customer{}", first_customer + i as i64)),
                Cell::T(format!("customer{} bench", first_customer + i as i64)),
            ]
        })
        .collect();
    insert_rows(
        db,
        "customer (customer_id, email, name, orders_count, last_order_at, created_at, updated_at, name_key, last_key)",
        9,
        &rows,
    )
    .await?;
    let year = 365 * 86_400_000_000_i64;
    let mut order_rows = Vec::with_capacity(CHUNK * 4);
    let mut line_rows = Vec::with_capacity(CHUNK * 4);
    let mut hold_rows = Vec::new();
    let mut tag_rows = Vec::new();
    let start_number: i64 = sqlx::query_scalar(
        "update sequence_counter set value = value + $1 where name = 'order' returning value - $1",
    )
    .bind(orders as i64)
    .fetch_one(&db.pool)
    .await?;
    for i in 0..orders {
        let id = uuid::Uuid::now_v7().to_string();
        // A fixed scramble of i spreads customers, channels and states evenly.
        let k = (i as u64).wrapping_mul(2654435761) as usize;
        let c = k % customers;
        let placed = now - year + (i as i64) * (year / orders as i64);
        let status = match k % 100 {
            0..=2 => "cancelled",
            3..=6 => "received",
            7..=14 => "confirmed",
            15..=19 => "delivered",
            _ => "closed",
        };
        let held = status == "received";
        let total = 1_000 + (k % 50_000) as i64;
        order_rows.push(vec![
            Cell::T(id.clone()),
            Cell::T(channel_ids[k % channel_ids.len()].clone()),
            Cell::T(domain::orders::order_number(start_number + 1 + i as i64)),
            Cell::T(format!("X{:09}", start_number + 1 + i as i64)),
            Cell::T(format!("c{}@bench.example", first_customer + c as i64)),
            Cell::T("12345".into()),
            Cell::T(status.into()),
            Cell::T("USD".into()),
            Cell::I(total),
            Cell::I(placed),
            Cell::I(placed),
            Cell::I(placed),
            Cell::T(customer_ids[c].clone()),
            Cell::T(format!("Bench Customer{}", first_customer + c as i64)),
            Cell::I(i64::from(held)),
            Cell::T(WAREHOUSES[k % WAREHOUSES.len()].into()),
            Cell::I(total),
        ]);
        line_rows.push(vec![
            Cell::T(id.clone()),
            Cell::I(0),
            Cell::T(format!("BENCH-{:06}", k % 1000)),
            Cell::T("Bench product".into()),
            Cell::I(1),
            Cell::I(total),
        ]);
        if held {
            let reason = [
                "payment_pending",
                "fraud_review",
                "totals_mismatch",
                "invalid_address",
            ][k / 100 % 4];
            hold_rows.push(vec![
                Cell::T(uuid::Uuid::now_v7().to_string()),
                Cell::T(id.clone()),
                Cell::T(reason.into()),
                Cell::T("bench".into()),
                Cell::I(placed),
                Cell::T("bench".into()),
            ]);
        }
        if k.is_multiple_of(50) {
            tag_rows.push(vec![Cell::T(id), Cell::T("promo".into())]);
        }
        if order_rows.len() == CHUNK * 4 || i + 1 == orders {
            // 17 columns × 500 rows stays under PostgreSQL's parameter limit.
            insert_rows(db, "sales_order (order_id, channel_id, number, external_id, customer_email, ship_postcode, status, currency, total_minor, placed_at, created_at, updated_at, customer_id, customer_name, hold_count, warehouse_code, subtotal_minor)", 17, &order_rows).await?;
            insert_rows(
                db,
                "order_line (order_id, line_no, sku, name, quantity, unit_price_minor)",
                6,
                &line_rows,
            )
            .await?;
            insert_rows(
                db,
                "order_hold (hold_id, order_id, reason, detail, placed_at, placed_by)",
                6,
                &hold_rows,
            )
            .await?;
            insert_rows(db, "order_tag (order_id, tag)", 2, &tag_rows).await?;
            order_rows.clear();
            line_rows.clear();
            hold_rows.clear();
            tag_rows.clear();
        }
    }
    // Finished orders shipped 4 to 63 hours after placement, the ones past
    // 48 hours late (the bench orders' method has the 48-hour ship-by).
    sqlx::query(
        "update sales_order set shipped_at = placed_at + 3600000000 * (4 + total_minor % 60),
            shipped_late = case when 4 + total_minor % 60 > 48 then 1 else 0 end
         where status in ('delivered', 'closed') and shipped_at is null and customer_email like '%@bench.example'",
    )
    .execute(&db.pool)
    .await?;
    db.after_bulk_load().await?;
    Ok(())
}

/// Writes `orders` confirmed orders on `CHANNEL`, `lines` lines of one unit
/// each over the synthetic SKUs, with nothing sourced yet: every unit is
/// backordered and each order has an active reservation holding nothing, as
/// capture leaves an order that found no stock. For the sourcing benchmark.
/// Needs `synthesize` first.
pub async fn synthesize_backorders(db: &Db, orders: usize, lines: usize) -> Result<()> {
    let now = chrono::Utc::now().timestamp_micros();
    let channel_id: String = sqlx::query_scalar("select channel_id from channel where code = $1")
        .bind(CHANNEL)
        .fetch_one(&db.pool)
        .await?;
    let products: Vec<(String, String)> =
        sqlx::query_as("select product_id, sku from product where sku like 'BENCH-%' order by sku")
            .fetch_all(&db.pool)
            .await?;
    if products.is_empty() {
        return Ok(());
    }
    let start_number: i64 = sqlx::query_scalar(
        "update sequence_counter set value = value + $1 where name = 'order' returning value - $1",
    )
    .bind(orders as i64)
    .fetch_one(&db.pool)
    .await?;
    let (mut order_rows, mut line_rows, mut reservation_rows) =
        (Vec::new(), Vec::new(), Vec::new());
    for i in 0..orders {
        let id = uuid::Uuid::now_v7().to_string();
        let reservation = uuid::Uuid::now_v7().to_string();
        let number = domain::orders::order_number(start_number + 1 + i as i64);
        let placed = now - (orders - i) as i64 * 1_000_000;
        let mut asked = Vec::new();
        for l in 0..lines {
            // A fixed scramble spreads the lines over the SKUs; a popular
            // tenth of them takes half the lines, as real demand does.
            let k = (i * lines + l).wrapping_mul(2_654_435_761) % 1_000_003;
            let p = if k.is_multiple_of(2) {
                k % (products.len() / 10).max(1)
            } else {
                k % products.len()
            };
            let (pid, sku) = &products[p];
            asked.push(serde_json::json!({"sku": sku, "quantity": 0}));
            line_rows.push(vec![
                Cell::T(id.clone()),
                Cell::I(l as i64),
                Cell::T(sku.clone()),
                Cell::T(pid.clone()),
                Cell::T("Bench product".into()),
                Cell::I(1),
                Cell::I(1999),
                Cell::I(1),
            ]);
        }
        reservation_rows.push(vec![
            Cell::T(reservation.clone()),
            Cell::T(number.clone()),
            Cell::T(channel_id.clone()),
            Cell::T("active".into()),
            Cell::T(serde_json::Value::from(asked).to_string()),
            Cell::I(1),
            Cell::I(placed),
            Cell::I(placed),
        ]);
        order_rows.push(vec![
            Cell::T(id),
            Cell::T(channel_id.clone()),
            Cell::T(number),
            Cell::T(format!("BO{:09}", start_number + 1 + i as i64)),
            Cell::T(format!("c{}@bench.example", i % 5000)),
            Cell::T("12345".into()),
            Cell::T("confirmed".into()),
            Cell::T("USD".into()),
            Cell::I(1999 * lines as i64),
            Cell::I(placed),
            Cell::I(placed),
            Cell::I(placed),
            Cell::T(format!("Bench Customer{}", i % 5000)),
            Cell::I(0),
            Cell::T(reservation),
            Cell::I(lines as i64),
        ]);
        if order_rows.len() == CHUNK || i + 1 == orders {
            insert_rows(db, "reservation (reservation_id, reference, channel_id, status, lines_json, version, created_at, updated_at)", 8, &reservation_rows).await?;
            insert_rows(db, "sales_order (order_id, channel_id, number, external_id, customer_email, ship_postcode, status, currency, total_minor, placed_at, created_at, updated_at, customer_name, hold_count, reservation_id, backordered_units)", 16, &order_rows).await?;
            insert_rows(
                db,
                "order_line (order_id, line_no, sku, product_id, name, quantity, unit_price_minor, backordered_quantity)",
                8,
                &line_rows,
            )
            .await?;
            order_rows.clear();
            line_rows.clear();
            reservation_rows.clear();
        }
    }
    db.after_bulk_load().await
}

/// What a benchmark run left in the database, counted so that the bench can
/// print and verify it without SQL of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub orders: i64,
    /// Orders sharing a channel and external id: a capture applied twice.
    pub duplicated_orders: i64,
    pub reservations: i64,
    pub reserved_orders: i64,
    /// Units reserved, as the stock levels hold them.
    pub reserved_units: i64,
    /// Units ordered on orders that hold a reservation.
    pub ordered_units_reserved: i64,
    pub captured_events: i64,
    pub sourced_events: i64,
    pub fulfillments: i64,
    /// Orders shipped from more than one fulfilment.
    pub split_orders: i64,
    pub fulfillment_lines: i64,
    /// Backordered lines while a warehouse has 2 or more units of the SKU
    /// spare: with the bench channel's buffer of 1, a unit sourcing missed.
    pub missed_backorders: i64,
    pub kpi_days: i64,
}

pub async fn tally(db: &Db) -> Result<Tally> {
    let count = |sql: &'static str| async move {
        Ok::<i64, crate::Error>(
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&db.pool)
                .await?,
        )
    };
    Ok(Tally {
        orders: count("select count(*) from sales_order").await?,
        duplicated_orders: count(
            "select count(*) from (select channel_id, external_id from sales_order group by channel_id, external_id having count(*) > 1) d",
        )
        .await?,
        reservations: count("select count(*) from reservation").await?,
        reserved_orders: count("select count(*) from sales_order where reservation_id is not null")
            .await?,
        reserved_units: count("select cast(coalesce(sum(reserved), 0) as bigint) from stock_level")
            .await?,
        ordered_units_reserved: count(
            "select cast(coalesce(sum(l.quantity), 0) as bigint) from order_line l join sales_order o on o.order_id = l.order_id where o.reservation_id is not null",
        )
        .await?,
        captured_events: count("select count(*) from event where event_type = 'order.captured'")
            .await?,
        sourced_events: count("select count(*) from event where event_type = 'order.sourced'")
            .await?,
        fulfillments: count("select count(*) from fulfillment").await?,
        split_orders: count(
            "select count(*) from (select order_id from fulfillment group by order_id having count(*) > 1) s",
        )
        .await?,
        fulfillment_lines: count("select count(*) from fulfillment_line").await?,
        missed_backorders: count(
            "select count(*) from order_line ol join stock_level s on s.product_id = ol.product_id where ol.backordered_quantity > 0 and s.on_hand - s.reserved > 1",
        )
        .await?,
        kpi_days: count("select count(*) from kpi_day").await?,
    })
}

/// Every order's external id, for checking that no acknowledged order is lost.
pub async fn external_ids(db: &Db) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select external_id from sales_order")
        .fetch_all(&db.pool)
        .await?)
}

/// Every SKU, in order.
pub async fn skus(db: &Db) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select sku from product order by sku")
        .fetch_all(&db.pool)
        .await?)
}
