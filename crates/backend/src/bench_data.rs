//! Synthetic history for benchmarks: many SKUs and a long movement ledger,
//! written in bulk but consistent with the ledger invariants (`keel check`
//! passes on the result). Only `keel bench` calls this.

use crate::{db::Db, error::Result};

const WAREHOUSES: [&str; 3] = ["BENCH-E", "BENCH-C", "BENCH-W"];
pub const CHANNEL: &str = "BENCHWEB";

/// Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 500;

/// One value of a bulk-inserted row.
enum Cell {
    T(String),
    I(i64),
}

async fn insert_rows(db: &Db, table_cols: &str, width: usize, rows: &[Vec<Cell>]) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let mut sql = format!("insert into {table_cols} values ");
        for (r, _) in chunk.iter().enumerate() {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${}", r * width + c + 1));
            }
            sql.push(')');
        }
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
