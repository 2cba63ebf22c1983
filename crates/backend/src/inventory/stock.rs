//! Reading stock: levels per warehouse and bin, movements, reorder points and
//! available to promise per channel.

use crate::refs::{channel_ref, find_product, line_product, warehouse_ref};
use crate::sql::Filters;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    page_limit, rfc3339,
    uow::Change,
    Page,
};
use domain::{
    catalog::bundle_available,
    events::Event,
    governance::Permission,
    inventory::{self as rules},
    views::{Availability, BinStock, Movement, Stock, WarehouseAvailability, WarehouseStock},
};
use sqlx::{AnyConnection, Row};

/// (warehouse code, on_hand, reserved) for every active warehouse, by code.
/// (warehouse, on hand, reserved, reorder point) in every active warehouse.
async fn levels(
    conn: &mut AnyConnection,
    product_id: &str,
) -> Result<Vec<(String, i64, i64, Option<i64>)>> {
    let rows = sqlx::query(
        "select w.code, coalesce(s.on_hand, 0) as on_hand, coalesce(s.reserved, 0) as reserved, r.units as reorder_point
         from warehouse w
         left join stock_level s on s.warehouse_id = w.warehouse_id and s.product_id = $1
         left join reorder_point r on r.warehouse_id = w.warehouse_id and r.product_id = $1
         where w.active = 1 order by w.code",
    )
    .bind(product_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("code")?,
                r.try_get("on_hand")?,
                r.try_get("reserved")?,
                r.try_get("reorder_point")?,
            ))
        })
        .collect()
}

/// Stock of one SKU as `GET /api/v1/stock/{sku}` reports it, limited to the
/// actor's warehouses. Reads a handful of rows, whatever the history's size.
pub(crate) async fn stock_of(conn: &mut AnyConnection, ctx: &Ctx, sku: &str) -> Result<Stock> {
    let product = find_product(conn, sku)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "product",
            key: sku.to_string(),
        })?;
    let mut warehouses = Vec::new();
    if product.is_bundle() {
        let components = crate::refs::components_of(conn, &product.id).await?;
        let mut per_component = Vec::new();
        for (id, _, per) in &components {
            per_component.push((*per, levels(conn, id).await?));
        }
        let codes: Vec<String> = match per_component.first() {
            Some((_, l)) => l.iter().map(|(c, ..)| c.clone()).collect(),
            None => Vec::new(),
        };
        for (i, code) in codes.into_iter().enumerate() {
            let on_hand = bundle_available(
                &per_component
                    .iter()
                    .map(|(per, l)| (*per, l[i].1))
                    .collect::<Vec<_>>(),
            );
            let available = bundle_available(
                &per_component
                    .iter()
                    .map(|(per, l)| (*per, l[i].1 - l[i].2))
                    .collect::<Vec<_>>(),
            );
            warehouses.push(WarehouseStock {
                warehouse: code,
                on_hand,
                reserved: on_hand - available,
                available,
                in_transit: 0,
                reorder_point: None,
            });
        }
    } else {
        let transit = sqlx::query(
            "select w.code, cast(coalesce(sum(l.quantity), 0) as bigint) as units from stock_transfer t
             join stock_transfer_line l on l.transfer_id = t.transfer_id
             join warehouse w on w.warehouse_id = t.to_warehouse_id
             where l.product_id = $1 and t.status = 'in_transit' group by w.code",
        )
        .bind(&product.id)
        .fetch_all(&mut *conn)
        .await?;
        let in_transit = |code: &str| {
            transit
                .iter()
                .find(|r| r.try_get::<String, _>("code").ok().as_deref() == Some(code))
                .and_then(|r| r.try_get::<i64, _>("units").ok())
                .unwrap_or(0)
        };
        for (code, on_hand, reserved, reorder_point) in levels(conn, &product.id).await? {
            warehouses.push(WarehouseStock {
                in_transit: in_transit(&code),
                warehouse: code,
                on_hand,
                reserved,
                available: on_hand - reserved,
                reorder_point,
            });
        }
    }
    warehouses.retain(|w| ctx.actor.scope.allows_warehouse(&w.warehouse));
    Ok(Stock {
        sku: product.sku,
        kind: product.kind,
        on_hand: warehouses.iter().map(|w| w.on_hand).sum(),
        reserved: warehouses.iter().map(|w| w.reserved).sum(),
        available: warehouses.iter().map(|w| w.available).sum(),
        in_transit: warehouses.iter().map(|w| w.in_transit).sum(),
        warehouses,
    })
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, sku = %sku))]
pub async fn stock(db: &Db, ctx: &Ctx, sku: &str) -> Result<Stock> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    stock_of(&mut conn, ctx, sku).await
}

/// Sets a warehouse's reorder point for an item (`units` = 0 removes it).
/// At or below it, the item shows in the low-stock queue for that warehouse.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, sku = %sku))]
pub async fn set_reorder_point(
    db: &Db,
    ctx: &Ctx,
    sku: &str,
    warehouse: &str,
    units: i64,
) -> Result<Stock> {
    ctx.require(Permission::InventoryWrite)?;
    let units = rules::parse_reorder_point("units", units).map_err(|e| Error::Invalid(vec![e]))?;
    let mut uow = db.begin(ctx).await?;
    let product = line_product(&mut uow.tx, "sku", sku, false)
        .await
        .map_err(|e| Error::Invalid(vec![e]))?;
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", warehouse).await?;
    let before: Option<i64> = sqlx::query_scalar(
        "select units from reorder_point where product_id = $1 and warehouse_id = $2",
    )
    .bind(&product.id)
    .bind(&wh.id)
    .fetch_optional(&mut *uow.tx)
    .await?;
    if before.unwrap_or(0) == units {
        // Nothing changes, so nothing is recorded.
        uow.commit().await?;
        return stock(db, ctx, &product.sku).await;
    }
    if units == 0 {
        sqlx::query("delete from reorder_point where product_id = $1 and warehouse_id = $2")
            .bind(&product.id)
            .bind(&wh.id)
            .execute(&mut *uow.tx)
            .await?;
    } else {
        sqlx::query(
            "insert into reorder_point (product_id, warehouse_id, units, updated_at, updated_by) values ($1, $2, $3, $4, $5)
             on conflict (product_id, warehouse_id) do update set units = excluded.units, updated_at = excluded.updated_at,
                 updated_by = excluded.updated_by",
        )
        .bind(&product.id)
        .bind(&wh.id)
        .bind(units)
        .bind(uow.now())
        .bind(&ctx.actor.name)
        .execute(&mut *uow.tx)
        .await?;
    }
    let key = domain::analytics::stock_level_key(&product.id, &wh.id);
    uow.record(
        Change {
            action: "reorder_point.set",
            entity: "reorder_point",
            entity_id: &key,
            before: Some(serde_json::json!({"sku": product.sku, "warehouse": wh.code, "units": before})),
            after: Some(serde_json::json!({"sku": product.sku, "warehouse": wh.code, "units": (units > 0).then_some(units)})),
        },
        Event::ReorderPointSet {
            warehouse: wh.code.clone(),
            sku: product.sku.clone(),
            units,
        },
    )
    .await?;
    uow.commit().await?;
    stock(db, ctx, &product.sku).await
}

/// Bin balances of one SKU (by warehouse, then walk order), for the product page.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, sku = %sku))]
pub async fn bins_of(db: &Db, ctx: &Ctx, sku: &str) -> Result<Vec<BinStock>> {
    ctx.require(Permission::InventoryRead)?;
    let rows = sqlx::query(
        "select w.code as warehouse, l.code as location, b.lot, b.expires_on, b.on_hand from stock_balance b
         join product p on p.product_id = b.product_id join location l on l.location_id = b.location_id
         join warehouse w on w.warehouse_id = l.warehouse_id
         where p.sku = $1 and b.on_hand > 0 order by w.code, l.pick_sequence, l.code, b.expires_on, b.lot limit 500",
    )
    .bind(sku)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let b = BinStock {
            warehouse: r.try_get("warehouse")?,
            location: r.try_get("location")?,
            lot: r.try_get("lot")?,
            expires_on: r.try_get("expires_on")?,
            on_hand: r.try_get("on_hand")?,
        };
        if ctx.actor.scope.allows_warehouse(&b.warehouse) {
            out.push(b);
        }
    }
    Ok(out)
}

/// One SKU's movement history, newest first, keyset-paginated.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, sku = %sku))]
pub async fn movements(
    db: &Db,
    ctx: &Ctx,
    sku: &str,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<Page<Movement>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(limit);
    let (at, id) = crate::parse_time_cursor(cursor)?;
    let mut conn = db.pool.acquire().await?;
    let product = find_product(&mut conn, sku)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "product",
            key: sku.to_string(),
        })?;
    let mut f = Filters::default();
    f.eq("m.product_id", Some(product.id.as_str()));
    f.past("m.occurred_at", "m.movement_id", "<", at.zip(id));
    f.scope(&ctx.actor.scope.warehouses, &["w.code"], false);
    let n = f.arg(limit + 1);
    let sql = format!(
        "select m.movement_id, m.occurred_at, m.kind, m.quantity, w.code as warehouse, l.code as location, m.lot, m.reason,
                m.reference, m.actor_name
         from stock_movement m join warehouse w on w.warehouse_id = m.warehouse_id
         left join location l on l.location_id = m.location_id
         where {} order by m.occurred_at desc, m.movement_id desc limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&mut *conn).await?;
    let mut items = Vec::new();
    let mut last_at = 0;
    for r in rows.iter().take(limit as usize) {
        last_at = r.try_get("occurred_at")?;
        items.push(Movement {
            id: r.try_get("movement_id")?,
            occurred_at: rfc3339(last_at),
            kind: r.try_get("kind")?,
            quantity: r.try_get("quantity")?,
            warehouse: r.try_get("warehouse")?,
            location: r.try_get("location")?,
            lot: r.try_get("lot")?,
            reason: r.try_get("reason")?,
            reference: r.try_get("reference")?,
            actor_name: r.try_get("actor_name")?,
        });
    }
    let next_cursor = (rows.len() as i64 > limit)
        .then(|| items.last().map(|m| format!("{last_at}_{}", m.id)))
        .flatten();
    Ok(Page { items, next_cursor })
}

/// Units of `product_id` in a warehouse that a channel with `buffer` may still
/// promise: on_hand − reserved − buffer (may be negative).
pub(crate) async fn spare(
    conn: &mut AnyConnection,
    product_id: &str,
    warehouse_id: &str,
    buffer: i64,
) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar(
        "select on_hand - reserved from stock_level where product_id = $1 and warehouse_id = $2",
    )
    .bind(product_id)
    .bind(warehouse_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(v.unwrap_or(0) - buffer)
}

/// Available to promise for a channel: over the warehouses it ships from,
/// after its safety buffer.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, sku = %sku))]
pub async fn availability(db: &Db, ctx: &Ctx, channel: &str, sku: &str) -> Result<Availability> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    let ch = match channel_ref(&mut conn, ctx, "channel", channel).await {
        Err(Error::Invalid(_)) => {
            return Err(Error::NotFound {
                entity: "channel",
                key: channel.to_string(),
            })
        }
        other => other?,
    };
    let sku = sku.trim();
    if sku.is_empty() {
        return Err(Error::invalid("sku", "name the SKU: ?sku=…"));
    }
    let product = find_product(&mut conn, sku)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "product",
            key: sku.to_string(),
        })?;
    // One read of every level the answer needs: the product's own, or its
    // components' for a bundle. The cost depends on warehouses and components,
    // never on the length of the ledger.
    let parts = if product.is_bundle() {
        crate::refs::components_of(&mut conn, &product.id).await?
    } else {
        vec![(product.id.clone(), product.sku.clone(), 1)]
    };
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "select product_id, warehouse_id, on_hand - reserved from stock_level where product_id = $1
         union all
         select s.product_id, s.warehouse_id, s.on_hand - s.reserved from bundle_component c
         join stock_level s on s.product_id = c.component_id where c.bundle_id = $1",
    )
    .bind(&product.id)
    .fetch_all(&mut *conn)
    .await?;
    let spare_in = |pid: &str, wid: &str| {
        rows.iter()
            .find(|(p, w, _)| p == pid && w == wid)
            .map_or(0, |r| r.2)
            - ch.buffer
    };
    let warehouses: Vec<WarehouseAvailability> = ch
        .warehouses
        .iter()
        .map(|wh| WarehouseAvailability {
            warehouse: wh.code.clone(),
            available: bundle_available(
                &parts
                    .iter()
                    .map(|(pid, _, q)| (*q, spare_in(pid, &wh.id)))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    Ok(Availability {
        channel: ch.code,
        sku: product.sku,
        available: warehouses.iter().map(|w| w.available).sum(),
        safety_buffer: ch.buffer,
        warehouses,
    })
}
