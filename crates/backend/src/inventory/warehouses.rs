//! Warehouses and their bins, and what a scanned code is.

use crate::refs::warehouse_ref;
use crate::sql::Filters;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{on_unique, Error, Result},
    page_limit, rfc3339,
    uow::{Change, Idempotency},
    Page,
};
use domain::views::{Scanned, Warehouse};
use domain::{
    events::Event,
    governance::Permission,
    inventory::{self as rules, NewWarehouse},
    views::Location,
};
use serde::Deserialize;
use sqlx::Row;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehouseInput {
    #[schemars(pattern(r"^[A-Za-z0-9-]{2,16}$"))]
    pub code: String,
    #[schemars(length(max = 120))]
    pub name: String,
}

#[tracing::instrument(skip_all, fields(code = %input.code))]
pub async fn create_warehouse(
    db: &Db,
    ctx: &Ctx,
    input: WarehouseInput,
    idem: Option<&Idempotency>,
) -> Result<Warehouse> {
    ctx.require(Permission::WarehousesManage)?;
    let new = NewWarehouse::parse(&input.code, &input.name)?;
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
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
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_warehouses(
    db: &Db,
    ctx: &Ctx,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<Page<Warehouse>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(limit);
    let mut f = Filters::default();
    if let Some(c) = cursor.filter(|c| !c.is_empty()) {
        let p = f.arg(c);
        f.and(format!("code > {p}"));
    }
    // The scope filter is in the query, so a scoped user's pages are full.
    f.scope(&ctx.actor.scope.warehouses, &["code"], false);
    let n = f.arg(limit + 1);
    let sql = format!(
        "select warehouse_id, code, name, active, created_at from warehouse where {} order by code limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
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
#[tracing::instrument(skip_all)]
pub async fn warehouse_codes(db: &Db) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("select code from warehouse order by code")
            .fetch_all(&db.pool)
            .await?,
    )
}

/// A staff badge encodes the user's email as `KEEL-BADGE:<email>`.
pub const BADGE_PREFIX: &str = "KEEL-BADGE:";

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, code = %code))]
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
    let product: Option<(String, String)> =
        sqlx::query_as("select sku, name from product where sku = $1 or gtin = $1")
            .bind(code)
            .fetch_optional(&db.pool)
            .await?;
    if let Some((sku, name)) = product {
        return Ok(Scanned::Product { sku, name });
    }
    let bins: Vec<(String, String)> = sqlx::query_as(
        "select w.code, l.code from location l join warehouse w on w.warehouse_id = l.warehouse_id where l.code = $1 and l.active = 1 order by w.code",
    )
    .bind(code.to_ascii_uppercase())
    .fetch_all(&db.pool)
    .await?;
    if let Some((warehouse, code)) = bins
        .into_iter()
        .find(|(w, _)| ctx.actor.scope.allows_warehouse(w))
    {
        return Ok(Scanned::Location { warehouse, code });
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

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// ZONE-AISLE-BIN, e.g. `A-01-03`.
    #[schemars(pattern(r"^[A-Za-z0-9]{1,4}-[0-9]{1,3}-[0-9]{1,3}$"))]
    pub code: String,
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub pick_sequence: Option<i64>,
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn create_location(
    db: &Db,
    ctx: &Ctx,
    warehouse: &str,
    input: LocationInput,
) -> Result<Location> {
    ctx.require(Permission::InventoryWrite)?;
    let code = rules::parse_location_code("code", &input.code)?;
    let seq = input
        .pick_sequence
        .unwrap_or_else(|| rules::default_pick_sequence(&code));
    if seq < 0 {
        return Err(Error::invalid("pick_sequence", "use 0 or more"));
    }
    let mut uow = db.begin(ctx).await?;
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", warehouse).await?;
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query("insert into location (location_id, warehouse_id, code, pick_sequence, active, created_at) values ($1, $2, $3, $4, 1, $5)")
        .bind(&id)
        .bind(&wh.id)
        .bind(&code)
        .bind(seq)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await
        .map_err(|e| on_unique(e, "code", &format!("{} already has a bin {code}", wh.code)))?;
    let location = Location {
        id: id.clone(),
        warehouse: wh.code.clone(),
        code: code.clone(),
        pick_sequence: seq,
        active: true,
    };
    uow.record(
        Change {
            action: "location.create",
            entity: "location",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&location).ok(),
        },
        Event::LocationCreated {
            location_id: id.clone(),
            warehouse: wh.code,
            code,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(location)
}

/// A warehouse's bins in walk order, keyset-paginated by (pick_sequence, code).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_locations(
    db: &Db,
    ctx: &Ctx,
    warehouse: &str,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<Page<Location>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(limit);
    let mut conn = db.pool.acquire().await?;
    let wh = warehouse_ref(&mut conn, ctx, "warehouse", warehouse).await?;
    let (after_seq, after_code) = match cursor.filter(|c| !c.is_empty()) {
        None => (None, None),
        Some(c) => {
            let bad = || Error::invalid("cursor", "this cursor is not one Keel issued");
            let (s, code) = c.split_once('_').ok_or_else(bad)?;
            (
                Some(s.parse::<i64>().map_err(|_| bad())?),
                Some(code.to_string()),
            )
        }
    };
    let mut f = Filters::default();
    f.eq("warehouse_id", Some(wh.id.as_str()));
    if let (Some(seq), Some(code)) = (after_seq, after_code) {
        let (s, c) = (f.arg(seq), f.arg(code));
        f.and(format!(
            "(pick_sequence > {s} or (pick_sequence = {s} and code > {c}))"
        ));
    }
    let n = f.arg(limit + 1);
    let sql = format!(
        "select location_id, code, pick_sequence, active from location where {} order by pick_sequence, code limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&mut *conn).await?;
    let mut items = rows
        .iter()
        .map(|r| {
            Ok(Location {
                id: r.try_get("location_id")?,
                warehouse: wh.code.clone(),
                code: r.try_get("code")?,
                pick_sequence: r.try_get("pick_sequence")?,
                active: r.try_get::<i16, _>("active")? == 1,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|l| format!("{}_{}", l.pick_sequence, l.code))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}
