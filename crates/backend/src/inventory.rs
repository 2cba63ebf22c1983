//! Inventory use cases: warehouses for now; the stock ledger follows (#3).
//!
//! Invariant: warehouse codes are unique; a user scoped to some warehouses sees only those.

pub use domain::views::{Scanned, Warehouse};
use domain::{events::Event, governance::Permission, inventory::NewWarehouse};
use serde::Deserialize;
use sqlx::Row;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{on_unique, Error, Result},
    page_limit, rfc3339,
    uow::{Change, Idempotency},
    Page,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehouseInput {
    pub code: String,
    pub name: String,
}

#[tracing::instrument(skip_all, fields(code = %input.code))]
pub async fn create_warehouse(
    db: &Db,
    ctx: &Ctx,
    input: WarehouseInput,
    idem: Option<&Idempotency>,
) -> Result<Warehouse> {
    ctx.require(Permission::InventoryWrite)?;
    let new = NewWarehouse::parse(&input.code, &input.name)?;
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return Ok(saved);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    sqlx::query("insert into warehouse (warehouse_id, code, name, active, version, created_at, updated_at) values ($1, $2, $3, 1, 1, $4, $4)")
        .bind(&id)
        .bind(&new.code)
        .bind(&new.name)
        .bind(now)
        .execute(&mut *uow.tx)
        .await
        .map_err(|e| on_unique(e, "code", &format!("a warehouse with code {} already exists", new.code)))?;
    let warehouse = Warehouse {
        id: id.clone(),
        code: new.code.clone(),
        name: new.name.clone(),
        active: true,
        created_at: rfc3339(now),
    };
    uow.record(
        Change {
            action: "warehouse.create",
            entity: "warehouse",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&warehouse).ok(),
        },
        Event::WarehouseCreated {
            warehouse_id: id.clone(),
            code: new.code,
            name: new.name,
        },
    )
    .await?;
    uow.remember(&warehouse).await?;
    uow.commit().await?;
    Ok(warehouse)
}

/// Warehouses by code, keyset-paginated, limited to the actor's warehouse scope.
pub async fn list_warehouses(
    db: &Db,
    ctx: &Ctx,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<Page<Warehouse>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(limit);
    let rows = sqlx::query(
        "select warehouse_id, code, name, active, created_at from warehouse where ($1 is null or code > $1) order by code limit $2",
    )
    .bind(cursor.filter(|c| !c.is_empty()))
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    let mut items = Vec::new();
    for row in rows {
        let w = Warehouse {
            id: row.try_get("warehouse_id")?,
            code: row.try_get("code")?,
            name: row.try_get("name")?,
            active: row.try_get::<i16, _>("active")? == 1,
            created_at: rfc3339(row.try_get("created_at")?),
        };
        if ctx.actor.scope.allows_warehouse(&w.code) {
            items.push(w);
        }
    }
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|w| w.code.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The codes of all warehouses, for validating references to them.
pub async fn warehouse_codes(db: &Db) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("select code from warehouse order by code")
            .fetch_all(&db.pool)
            .await?,
    )
}

/// A staff badge encodes the user's email as `KEEL-BADGE:<email>`.
pub const BADGE_PREFIX: &str = "KEEL-BADGE:";

pub async fn resolve_scan(db: &Db, ctx: &Ctx, code: &str) -> Result<Scanned> {
    ctx.require(Permission::FloorUse)?;
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", "scan or type a code"));
    }
    if code.len() > 200 {
        return Err(Error::invalid(
            "code",
            "that is longer than any code Keel prints",
        ));
    }
    if let Some(email) = code.strip_prefix(BADGE_PREFIX) {
        let row = sqlx::query("select name, role from app_user where email = $1 and active = 1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&db.pool)
            .await?;
        if let Some(row) = row {
            return Ok(Scanned::Badge {
                user_name: row.try_get("name")?,
                role: row.try_get("role")?,
            });
        }
    }
    Ok(Scanned::Unknown {
        code: code.to_string(),
    })
}
