//! Transfers between warehouses.

use super::ledger::check_lines;
use super::ledger::{put, take, Put, Take, Using};
use super::stock::spare;
use crate::error::Conflict;
use crate::refs::{bin, find_product, line_product, warehouse_ref};
use crate::sql::Filters;
use crate::uow::next_number;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    page_limit, rfc3339,
    uow::{Change, Idempotency},
    Page,
};
use domain::{
    events::Event,
    governance::Permission,
    inventory::{self as rules, MovementKind},
    views::{Transfer, TransferLine},
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    pub sku: String,
    #[schemars(range(min = 1))]
    pub quantity: i64,
    /// Take from this bin only (FEFO across the warehouse otherwise).
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    pub from: String,
    pub to: String,
    #[schemars(length(min = 1))]
    pub lines: Vec<TransferLineInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferReceipt {
    /// The bin the goods go to (the receiving dock when absent).
    #[serde(default)]
    pub location: Option<String>,
}

/// Ships stock out of one warehouse towards another; it is in transit (on
/// neither's shelves, shown against the destination) until received.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn create_transfer(
    db: &Db,
    ctx: &Ctx,
    input: TransferInput,
    idem: Option<&Idempotency>,
) -> Result<Transfer> {
    ctx.require(Permission::InventoryWrite)?;
    check_lines(&input.lines)?;
    retrying!(create_transfer_once(db, ctx, &input, idem))
}

async fn create_transfer_once(
    db: &Db,
    ctx: &Ctx,
    input: &TransferInput,
    idem: Option<&Idempotency>,
) -> Result<Transfer> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let from = warehouse_ref(&mut uow.tx, ctx, "from", &input.from).await?;
    let to = warehouse_ref(&mut uow.tx, ctx, "to", &input.to).await?;
    if from.id == to.id {
        return Err(Error::invalid(
            "to",
            "a transfer goes to a different warehouse",
        ));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_number(&mut uow, "transfer", "TR").await?;
    sqlx::query("insert into stock_transfer (transfer_id, number, from_warehouse_id, to_warehouse_id, status, created_at, version) values ($1, $2, $3, $4, 'in_transit', $5, 1)")
        .bind(&id)
        .bind(&number)
        .bind(&from.id)
        .bind(&to.id)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    let mut units = 0;
    for (i, line) in input.lines.iter().enumerate() {
        let f = |n: &str| format!("lines[{i}].{n}");
        let product = line_product(&mut uow.tx, &f("sku"), &line.sku, false).await?;
        let qty = rules::parse_quantity(&f("quantity"), line.quantity)?;
        let lot = rules::parse_lot(&f("lot"), line.lot.as_deref().unwrap_or(""))?;
        let location = match line.location.as_deref().filter(|l| !l.trim().is_empty()) {
            Some(l) => Some(bin(&mut uow, &from, &f("location"), Some(l)).await?),
            None => None,
        };
        let t = Take {
            product: &product,
            wh: &from,
            location_id: location.as_ref().map(|l| l.0.as_str()),
            lot: (!lot.is_empty()).then_some(lot.as_str()),
            kind: MovementKind::TransferOut,
            using: Using::Unreserved,
            reason: None,
            reference: Some(&number),
        };
        let Some(taken) = take(&mut uow, &t, qty).await? else {
            let spare = spare(&mut uow.tx, &product.id, &from.id, 0).await?;
            return Err(Error::invalid(
                &f("quantity"),
                format!(
                    "{} has {} unreserved units of {} in the bins asked for; can't send {qty}",
                    from.code,
                    spare.max(0),
                    product.sku
                ),
            ));
        };
        for t in taken {
            sqlx::query(
                "insert into stock_transfer_line (transfer_id, product_id, lot, expires_on, quantity) values ($1, $2, $3, $4, $5)
                 on conflict (transfer_id, product_id, lot) do update set quantity = stock_transfer_line.quantity + excluded.quantity",
            )
            .bind(&id)
            .bind(&product.id)
            .bind(&t.lot)
            .bind(&t.expires_on)
            .bind(t.quantity)
            .execute(&mut *uow.tx)
            .await?;
        }
        units += qty;
    }
    let transfer = load_transfer(&mut uow.tx, &id).await?;
    uow.record(
        Change {
            action: "transfer.ship",
            entity: "transfer",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&transfer).ok(),
        },
        Event::TransferShipped {
            transfer_id: id.clone(),
            number,
            from: from.code,
            to: to.code,
            units,
        },
    )
    .await?;
    uow.remember(&transfer).await?;
    uow.commit().await?;
    Ok(transfer)
}

async fn load_transfer(conn: &mut AnyConnection, id: &str) -> Result<Transfer> {
    let row = sqlx::query(
        "select t.transfer_id, t.number, f.code as from_code, d.code as to_code, t.status, t.created_at, t.received_at
         from stock_transfer t join warehouse f on f.warehouse_id = t.from_warehouse_id join warehouse d on d.warehouse_id = t.to_warehouse_id
         where t.transfer_id = $1 or t.number = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "transfer",
        key: id.to_string(),
    })?;
    let tid: String = row.try_get("transfer_id")?;
    let lines = sqlx::query("select p.sku, l.lot, l.expires_on, l.quantity from stock_transfer_line l join product p on p.product_id = l.product_id where l.transfer_id = $1 order by p.sku, l.lot")
        .bind(&tid)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(TransferLine {
                sku: r.try_get("sku")?,
                lot: r.try_get("lot")?,
                expires_on: r.try_get("expires_on")?,
                quantity: r.try_get("quantity")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Transfer {
        id: tid,
        number: row.try_get("number")?,
        from_warehouse: row.try_get("from_code")?,
        to_warehouse: row.try_get("to_code")?,
        status: row.try_get("status")?,
        lines,
        created_at: rfc3339(row.try_get("created_at")?),
        received_at: row.try_get::<Option<i64>, _>("received_at")?.map(rfc3339),
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TransferFilter {
    /// `in_transit` or `received`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Transfers, newest first, touching the actor's warehouses.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_transfers(db: &Db, ctx: &Ctx, filter: &TransferFilter) -> Result<Page<Transfer>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(filter.limit);
    let (at, after_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    let status = filter.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status {
        if !["in_transit", "received"].contains(&s) {
            return Err(Error::invalid("status", "use in_transit or received"));
        }
    }
    let mut f = Filters::default();
    f.eq("t.status", status);
    f.past("t.created_at", "t.transfer_id", "<", at.zip(after_id));
    f.scope(&ctx.actor.scope.warehouses, &["f.code", "d.code"], false);
    let n = f.arg(limit + 1);
    let sql = format!(
        "select t.transfer_id, t.created_at from stock_transfer t
         join warehouse f on f.warehouse_id = t.from_warehouse_id join warehouse d on d.warehouse_id = t.to_warehouse_id
         where {} order by t.created_at desc, t.transfer_id desc limit {n}",
        f.clause()
    );
    let ids: Vec<(String, i64)> = f.query_as(&sql).fetch_all(&db.pool).await?;
    let mut conn = db.pool.acquire().await?;
    let mut items = Vec::new();
    for (id, _) in ids.iter().take(limit as usize) {
        items.push(load_transfer(&mut conn, id).await?);
    }
    Ok(Page {
        items,
        next_cursor: crate::time_cursor_after(&ids, limit),
    })
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_transfer(db: &Db, ctx: &Ctx, id: &str) -> Result<Transfer> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    let t = load_transfer(&mut conn, id).await?;
    visible(ctx, &t, id)?;
    Ok(t)
}

/// Either end's people see a transfer; anyone else reads it as absent.
fn visible(ctx: &Ctx, t: &Transfer, id: &str) -> Result<()> {
    let scope = &ctx.actor.scope;
    if scope.allows_warehouse(&t.from_warehouse) || scope.allows_warehouse(&t.to_warehouse) {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: "transfer",
            key: id.to_string(),
        })
    }
}

/// Books an in-transit transfer into the destination's bin, lots preserved.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn receive_transfer(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    input: TransferReceipt,
) -> Result<Transfer> {
    retrying!(receive_transfer_once(db, ctx, id, input.clone()))
}

async fn receive_transfer_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    input: TransferReceipt,
) -> Result<Transfer> {
    ctx.require(Permission::InventoryWrite)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let before = load_transfer(&mut uow.tx, id).await?;
    visible(ctx, &before, id)?;
    let to = warehouse_ref(&mut uow.tx, ctx, "to", &before.to_warehouse).await?;
    let (location_id, _) = bin(&mut uow, &to, "location", input.location.as_deref()).await?;
    let done = sqlx::query("update stock_transfer set status = 'received', received_at = $2, version = version + 1 where transfer_id = $1 and status = 'in_transit'")
        .bind(&before.id)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if done != 1 {
        return Err(Error::Conflict {
            code: Conflict::TransferNotInTransit,
            message: format!("transfer {} was already received", before.number),
        });
    }
    let mut arrived = Vec::new();
    for line in &before.lines {
        let product = find_product(&mut uow.tx, &line.sku).await?.ok_or_else(|| {
            Error::Internal(format!("transfer line names unknown product {}", line.sku))
        })?;
        arrived.push(product.id.clone());
        put(
            &mut uow,
            &Put {
                product: &product,
                wh: &to,
                location_id: &location_id,
                lot: &line.lot,
                expires_on: &line.expires_on,
                kind: MovementKind::TransferIn,
                reason: None,
                reference: Some(&before.number),
            },
            line.quantity,
        )
        .await?;
    }
    let after = load_transfer(&mut uow.tx, &before.id).await?;
    uow.record(
        Change {
            action: "transfer.receive",
            entity: "transfer",
            entity_id: &before.id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::TransferReceived {
            transfer_id: before.id.clone(),
            number: before.number.clone(),
        },
    )
    .await?;
    crate::fulfillment::sourcing::source_backorders(&mut uow, &arrived).await?;
    uow.commit().await?;
    Ok(after)
}
