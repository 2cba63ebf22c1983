//! Inventory use cases: warehouses and bins, the movement ledger with its
//! balances, reservations, transfers and cycle counts.
//!
//! Invariants (each re-derived from the ledger by [`check`]):
//! - the ledger (`stock_movement`) is insert-only; a bin balance is the sum of
//!   its movements, and a warehouse's on-hand is the sum of its bin balances;
//! - `reserved` is the sum of live reservation allocations and never exceeds
//!   what could be promised: every reservation is a conditional
//!   `UPDATE … WHERE on_hand - reserved - buffer >= n` with a rows-affected
//!   check, never a read followed by a write;
//! - a user scoped to some warehouses sees and moves stock only there.

pub use domain::views::{Scanned, Warehouse};
use domain::{
    catalog::bundle_available,
    events::Event,
    fulfillment::{self, Need, Part, Plan, Spare},
    governance::Permission,
    inventory::{self as rules, MovementKind, NewWarehouse},
    money::Currency,
    views::{
        Accuracy, Allocation, Availability, BinStock, CountLine, CycleCount, Location, Movement,
        Reservation, ReservationLine, Stock, Transfer, TransferLine, WarehouseAvailability,
        WarehouseStock,
    },
    FieldError, Money, Sku,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{on_unique, Error, Result},
    page_limit, rfc3339,
    uow::{Change, Idempotency, Uow},
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
pub async fn list_warehouses(
    db: &Db,
    ctx: &Ctx,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<Page<Warehouse>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(limit);
    let rows = sqlx::query(
        "select warehouse_id, code, name, active, created_at from warehouse where ($1 is null or code > $1)
         and ($3 is null or ',' || $3 || ',' like '%,' || code || ',%') order by code limit $2",
    )
    .bind(cursor.filter(|c| !c.is_empty()))
    .bind(limit + 1)
    // The scope filter is in the query, so a scoped user's pages are full.
    .bind(scope_list(ctx))
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

/// Names every listed warehouse code that is not among `known`, by its
/// position in the list (`warehouses[i]`).
pub(crate) fn check_listed(listed: &[String], known: &[String], what: &str) -> Result<()> {
    let unknown: Vec<FieldError> = listed
        .iter()
        .enumerate()
        .filter(|(_, w)| !known.contains(w))
        .map(|(i, w)| {
            FieldError::new(
                format!("warehouses[{i}]"),
                format!("there is no {what} {w}"),
            )
        })
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(unknown))
    }
}

/// The active warehouses' codes, inside a unit of work.
pub(crate) async fn warehouse_codes_in(conn: &mut AnyConnection) -> Result<Vec<String>> {
    Ok(all_warehouses(conn)
        .await?
        .into_iter()
        .map(|w| w.code)
        .collect())
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

// ---------------------------------------------------------------------------
// References: products, warehouses and bins as the ledger needs them.

#[derive(Debug, Clone)]
pub(crate) struct ProductRef {
    pub id: String,
    pub sku: String,
    pub kind: String,
    pub track_lots: bool,
    pub track_serials: bool,
}

impl ProductRef {
    fn is_bundle(&self) -> bool {
        self.kind == "bundle"
    }

    /// From a row with `product_id, sku, kind, track_lots`.
    pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> Result<ProductRef> {
        Ok(ProductRef {
            id: r.try_get("product_id")?,
            sku: r.try_get("sku")?,
            kind: r.try_get("kind")?,
            track_lots: r.try_get::<i16, _>("track_lots")? >= 1,
            track_serials: r.try_get::<i16, _>("track_lots")? == 2,
        })
    }
}

pub(crate) async fn find_product(
    conn: &mut AnyConnection,
    sku: &str,
) -> Result<Option<ProductRef>> {
    let row = sqlx::query("select product_id, sku, kind, track_lots from product where sku = $1")
        .bind(sku.trim())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(ProductRef::from_row).transpose()
}

/// A product named in a request line: it must exist and, unless `bundles`,
/// hold stock itself.
pub(crate) async fn line_product(
    conn: &mut AnyConnection,
    field: &str,
    sku: &str,
    bundles: bool,
) -> Result<ProductRef, FieldError> {
    let parsed = Sku::parse(sku).map_err(|m| FieldError::new(field, m))?;
    match find_product(conn, parsed.as_str()).await {
        Ok(Some(p)) if p.is_bundle() && !bundles => Err(FieldError::new(
            field,
            format!(
                "{} is a bundle and holds no stock; use its components",
                p.sku
            ),
        )),
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(FieldError::new(
            field,
            format!("there is no product {parsed}"),
        )),
        Err(e) => {
            tracing::error!(error = %e, "product lookup failed");
            Err(FieldError::new(
                field,
                "this product could not be looked up; try again",
            ))
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WarehouseRef {
    pub id: String,
    pub code: String,
}

/// The actor's warehouse codes as `A,B,C` for the SQL scope filter
/// (`',' || $n || ',' like '%,' || code || ',%'`), or `None` for all.
pub(crate) fn scope_list(ctx: &Ctx) -> Option<String> {
    let w = &ctx.actor.scope.warehouses;
    (!w.is_empty()).then(|| w.join(","))
}

pub(crate) fn in_scope(ctx: &Ctx, code: &str) -> Result<()> {
    if ctx.actor.scope.allows_warehouse(code) {
        Ok(())
    } else {
        Err(Error::OutOfScope {
            what: format!("warehouse {code}"),
        })
    }
}

pub(crate) async fn warehouse_ref(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    field: &str,
    code: &str,
) -> Result<WarehouseRef> {
    let code = rules::parse_code(field, code)?;
    let id: Option<String> =
        sqlx::query_scalar("select warehouse_id from warehouse where code = $1 and active = 1")
            .bind(&code)
            .fetch_optional(&mut *conn)
            .await?;
    let id = id.ok_or_else(|| Error::invalid(field, format!("there is no warehouse {code}")))?;
    in_scope(ctx, &code)?;
    Ok(WarehouseRef { id, code })
}

/// The bin a movement touches: the named one, which must exist, or the
/// warehouse's receiving dock when none is named.
pub(crate) async fn bin(
    uow: &mut Uow,
    wh: &WarehouseRef,
    field: &str,
    code: Option<&str>,
) -> Result<(String, String), FieldError> {
    let code = match code.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => rules::parse_location_code(field, c)?,
        None => rules::RECEIVING_LOCATION.to_string(),
    };
    let db_err = |e: sqlx::Error| {
        tracing::error!(error = %e, "bin lookup failed");
        FieldError::new(field, "this bin could not be looked up; try again")
    };
    if code == rules::RECEIVING_LOCATION {
        sqlx::query(
            "insert into location (location_id, warehouse_id, code, pick_sequence, active, created_at) values ($1, $2, $3, $4, 1, $5)
             on conflict (warehouse_id, code) do nothing",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(&wh.id)
        .bind(&code)
        .bind(rules::default_pick_sequence(&code))
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await
        .map_err(db_err)?;
    }
    let id: Option<String> = sqlx::query_scalar(
        "select location_id from location where warehouse_id = $1 and code = $2",
    )
    .bind(&wh.id)
    .bind(&code)
    .fetch_optional(&mut *uow.tx)
    .await
    .map_err(db_err)?;
    match id {
        Some(id) => Ok((id, code)),
        None => Err(FieldError::new(
            field,
            format!(
                "there is no bin {code} in {}; add it under Locations first",
                wh.code
            ),
        )),
    }
}

// ---------------------------------------------------------------------------
// Bins.

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    pub code: String,
    #[serde(default)]
    pub pick_sequence: Option<i64>,
}

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
    let rows = sqlx::query(
        "select location_id, code, pick_sequence, active from location where warehouse_id = $1
         and ($2 is null or pick_sequence > $2 or (pick_sequence = $2 and code > $3))
         order by pick_sequence, code limit $4",
    )
    .bind(&wh.id)
    .bind(after_seq)
    .bind(after_code)
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await?;
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

// ---------------------------------------------------------------------------
// The ledger: every change of on-hand goes through `put` or `take`.

struct Put<'a> {
    product: &'a ProductRef,
    wh: &'a WarehouseRef,
    location_id: &'a str,
    lot: &'a str,
    expires_on: &'a str,
    kind: MovementKind,
    reason: Option<&'a str>,
    reference: Option<&'a str>,
}

/// Appends one row to the ledger: `quantity` units of the bin and lot in `p`.
async fn movement(uow: &mut Uow, p: &Put<'_>, quantity: i64) -> Result<()> {
    sqlx::query(
        "insert into stock_movement (movement_id, occurred_at, product_id, warehouse_id, location_id, lot, kind, quantity, reason, reference, actor_name)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(uow.now())
    .bind(&p.product.id)
    .bind(&p.wh.id)
    .bind(p.location_id)
    .bind(p.lot)
    .bind(p.kind.as_str())
    .bind(quantity)
    .bind(p.reason)
    .bind(p.reference)
    .bind(uow.ctx.actor.name.clone())
    .execute(&mut *uow.tx)
    .await?;
    Ok(())
}

/// Adds `quantity` units to a bin: the ledger row, the bin balance and the
/// warehouse level, in the caller's transaction.
async fn put(uow: &mut Uow, p: &Put<'_>, quantity: i64) -> Result<()> {
    movement(uow, p, quantity).await?;
    sqlx::query(
        "insert into stock_balance (product_id, location_id, lot, expires_on, on_hand) values ($1, $2, $3, $4, $5)
         on conflict (product_id, location_id, lot) do update set on_hand = stock_balance.on_hand + excluded.on_hand",
    )
    .bind(&p.product.id)
    .bind(p.location_id)
    .bind(p.lot)
    .bind(p.expires_on)
    .bind(quantity)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query(
        "insert into stock_level (product_id, warehouse_id, on_hand, reserved) values ($1, $2, $3, 0)
         on conflict (product_id, warehouse_id) do update set on_hand = stock_level.on_hand + excluded.on_hand",
    )
    .bind(&p.product.id)
    .bind(&p.wh.id)
    .bind(quantity)
    .execute(&mut *uow.tx)
    .await?;
    Ok(())
}

/// Which units a removal may use at the warehouse level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Using {
    /// Only units nobody has reserved (adjustments, scrap, transfers out).
    Unreserved,
    /// Reserved units, releasing the reservation as they go (shipment).
    Reserved,
    /// Any units: a count records what is physically there, even if that
    /// leaves fewer than are reserved (the shortfall then shows as negative
    /// availability).
    Any,
}

/// What a removal took: one entry per bin and lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taken {
    pub location: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
}

pub(crate) struct Take<'a> {
    pub product: &'a ProductRef,
    pub wh: &'a WarehouseRef,
    /// Restrict to one bin, and optionally one lot.
    pub location_id: Option<&'a str>,
    pub lot: Option<&'a str>,
    pub kind: MovementKind,
    pub using: Using,
    pub reason: Option<&'a str>,
    pub reference: Option<&'a str>,
}

/// Removes `quantity` units FEFO (earliest expiry first, then walk order).
/// The warehouse level is decremented first with a conditional update, which
/// also locks the (product, warehouse) row on PostgreSQL, so the bin balances
/// read next can't change under us. Returns `None`, having changed nothing,
/// when there aren't enough units of the allowed kind.
pub(crate) async fn take(uow: &mut Uow, t: &Take<'_>, quantity: i64) -> Result<Option<Vec<Taken>>> {
    let level_sql = match t.using {
        Using::Unreserved => "update stock_level set on_hand = on_hand - $3 where product_id = $1 and warehouse_id = $2 and on_hand - reserved >= $3",
        Using::Reserved => "update stock_level set on_hand = on_hand - $3, reserved = reserved - $3 where product_id = $1 and warehouse_id = $2 and reserved >= $3 and on_hand >= $3",
        Using::Any => "update stock_level set on_hand = on_hand - $3 where product_id = $1 and warehouse_id = $2 and on_hand >= $3",
    };
    let updated = sqlx::query(level_sql)
        .bind(&t.product.id)
        .bind(&t.wh.id)
        .bind(quantity)
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if updated != 1 {
        return Ok(None);
    }
    let rows = sqlx::query(
        "select b.location_id, l.code, b.lot, b.expires_on, b.on_hand, l.pick_sequence from stock_balance b
         join location l on l.location_id = b.location_id
         where b.product_id = $1 and l.warehouse_id = $2 and b.on_hand > 0
           and ($3 is null or b.location_id = $3) and ($4 is null or b.lot = $4)",
    )
    .bind(&t.product.id)
    .bind(&t.wh.id)
    .bind(t.location_id)
    .bind(t.lot)
    .fetch_all(&mut *uow.tx)
    .await?;
    let lots = rows
        .iter()
        .map(|r| {
            Ok(rules::LotStock {
                expires_on: r.try_get("expires_on")?,
                pick_sequence: r.try_get("pick_sequence")?,
                on_hand: r.try_get("on_hand")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let Some(plan) = rules::fefo_plan(&lots, quantity) else {
        // Put the level back: the bins asked for don't hold enough.
        let undo = match t.using {
            Using::Reserved => "update stock_level set on_hand = on_hand + $3, reserved = reserved + $3 where product_id = $1 and warehouse_id = $2",
            _ => "update stock_level set on_hand = on_hand + $3 where product_id = $1 and warehouse_id = $2",
        };
        sqlx::query(undo)
            .bind(&t.product.id)
            .bind(&t.wh.id)
            .bind(quantity)
            .execute(&mut *uow.tx)
            .await?;
        return Ok(None);
    };
    let mut taken = Vec::new();
    for (i, n) in plan {
        let r = &rows[i];
        let location_id: String = r.try_get("location_id")?;
        let lot: String = r.try_get("lot")?;
        let done = sqlx::query("update stock_balance set on_hand = on_hand - $4 where product_id = $1 and location_id = $2 and lot = $3 and on_hand >= $4")
            .bind(&t.product.id)
            .bind(&location_id)
            .bind(&lot)
            .bind(n)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if done != 1 {
            return Err(Error::Internal(format!(
                "bin balance of {} changed while its warehouse level was locked",
                t.product.sku
            )));
        }
        sqlx::query("delete from stock_balance where product_id = $1 and location_id = $2 and lot = $3 and on_hand = 0")
            .bind(&t.product.id)
            .bind(&location_id)
            .bind(&lot)
            .execute(&mut *uow.tx)
            .await?;
        let expires_on: String = r.try_get("expires_on")?;
        let entry = Put {
            product: t.product,
            wh: t.wh,
            location_id: &location_id,
            lot: &lot,
            expires_on: &expires_on,
            kind: t.kind,
            reason: t.reason,
            reference: t.reference,
        };
        movement(uow, &entry, -n).await?;
        taken.push(Taken {
            location: r.try_get("code")?,
            lot,
            expires_on,
            quantity: n,
        });
    }
    Ok(Some(taken))
}

// ---------------------------------------------------------------------------
// Receipts and adjustments.

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineInput {
    pub sku: String,
    pub quantity: i64,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub warehouse: String,
    #[serde(default)]
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLineInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedLine {
    pub sku: String,
    pub quantity: i64,
    pub location: String,
    pub lot: String,
    pub expires_on: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: String,
    pub warehouse: String,
    pub reference: Option<String>,
    pub lines: Vec<ReceivedLine>,
    pub received_at: String,
}

const MAX_LINES: usize = 1000;

fn check_lines<T>(lines: &[T]) -> Result<()> {
    if lines.is_empty() {
        return Err(Error::invalid("lines", "add at least one line"));
    }
    if lines.len() > MAX_LINES {
        return Err(Error::invalid(
            "lines",
            format!("at most {MAX_LINES} lines per request"),
        ));
    }
    Ok(())
}

fn reference(field: &str, r: Option<&str>) -> Result<Option<String>, FieldError> {
    match r.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) if r.chars().count() <= 80 && !r.chars().any(char::is_control) => {
            Ok(Some(r.to_string()))
        }
        Some(_) => Err(FieldError::new(
            field,
            "use at most 80 printable characters",
        )),
    }
}

/// A receipt line once checked: what goes into which bin.
pub(crate) struct Planned {
    pub product: ProductRef,
    pub quantity: i64,
    pub lot: String,
    pub expires_on: String,
    /// (location id, bin code)
    pub bin: (String, String),
}

#[tracing::instrument(skip_all, fields(warehouse = %input.warehouse))]
pub async fn receive(
    db: &Db,
    ctx: &Ctx,
    input: ReceiptInput,
    idem: Option<&Idempotency>,
) -> Result<Receipt> {
    retrying!(receive_once(db, ctx, input.clone(), idem))
}

async fn receive_once(
    db: &Db,
    ctx: &Ctx,
    input: ReceiptInput,
    idem: Option<&Idempotency>,
) -> Result<Receipt> {
    ctx.require(Permission::InventoryWrite)?;
    check_lines(&input.lines)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", &input.warehouse).await?;
    let reference = reference("reference", input.reference.as_deref())?;
    let mut errors = Vec::new();
    let mut plan: Vec<Planned> = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let product = line_product(&mut uow.tx, &f("sku"), &line.sku, false).await;
        let qty = rules::parse_quantity(&f("quantity"), line.quantity);
        let lot = rules::parse_lot(&f("lot"), line.lot.as_deref().unwrap_or(""));
        let expires =
            rules::parse_expiry(&f("expires_on"), line.expires_on.as_deref().unwrap_or(""));
        let location = bin(&mut uow, &wh, &f("location"), line.location.as_deref()).await;
        match (product, qty, lot, expires, location) {
            (Ok(p), Ok(q), Ok(lot), Ok(exp), Ok(loc)) => {
                let repeated = plan.iter().any(|x| x.product.id == p.id && x.lot == lot);
                if p.track_serials && (lot.is_empty() || q != 1) {
                    errors.push(FieldError::new(
                        f(if lot.is_empty() { "lot" } else { "quantity" }),
                        format!("{} is serial-tracked: one line per unit, quantity 1, with its serial number as the lot", p.sku),
                    ));
                } else if p.track_serials
                    && (repeated || serial_in_stock(&mut uow.tx, &p, &lot).await?)
                {
                    errors.push(FieldError::new(
                        f("lot"),
                        format!("serial {lot} of {} is already in stock", p.sku),
                    ));
                } else if p.track_lots && lot.is_empty() {
                    errors.push(FieldError::new(
                        f("lot"),
                        format!(
                            "{} is lot-tracked: enter the lot printed on the case",
                            p.sku
                        ),
                    ));
                } else {
                    plan.push(Planned {
                        product: p,
                        quantity: q,
                        lot,
                        expires_on: exp,
                        bin: loc,
                    });
                }
            }
            (p, q, l, e, loc) => errors.extend(
                [p.err(), q.err(), l.err(), e.err(), loc.err()]
                    .into_iter()
                    .flatten(),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let receipt = post_receipt(&mut uow, wh, &plan, reference).await?;
    uow.remember(&receipt).await?;
    uow.commit().await?;
    Ok(receipt)
}

/// Puts checked receipt lines into their bins, records the receipt, and
/// sources the orders waiting for these products from the new stock, all
/// in the caller's transaction.
pub(crate) async fn post_receipt(
    uow: &mut Uow,
    wh: WarehouseRef,
    plan: &[Planned],
    reference: Option<String>,
) -> Result<Receipt> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut lines = Vec::new();
    let mut skus = Vec::new();
    for Planned {
        product,
        quantity: qty,
        lot,
        expires_on,
        bin: (location_id, location),
    } in plan
    {
        put(
            uow,
            &Put {
                product,
                wh: &wh,
                location_id,
                lot,
                expires_on,
                kind: MovementKind::Receipt,
                reason: None,
                reference: Some(reference.as_deref().unwrap_or(&id)),
            },
            *qty,
        )
        .await?;
        lines.push(ReceivedLine {
            sku: product.sku.clone(),
            quantity: *qty,
            location: location.clone(),
            lot: lot.clone(),
            expires_on: expires_on.clone(),
        });
        if !skus.contains(&product.sku) {
            skus.push(product.sku.clone());
        }
    }
    let receipt = Receipt {
        id: id.clone(),
        warehouse: wh.code.clone(),
        reference: reference.clone(),
        lines,
        received_at: rfc3339(uow.now()),
    };
    uow.record(
        Change {
            action: "stock.receive",
            entity: "receipt",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&receipt).ok(),
        },
        Event::StockReceived {
            warehouse: wh.code,
            reference,
            units: plan.iter().map(|p| p.quantity).sum(),
            skus,
        },
    )
    .await?;
    // Orders waiting for these products are sourced from the new stock in
    // the same transaction.
    let received: Vec<String> = plan.iter().map(|p| p.product.id.clone()).collect();
    crate::fulfillment::source_backorders(uow, &received).await?;
    Ok(receipt)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub warehouse: String,
    pub sku: String,
    /// Units to add (positive) or remove (negative).
    pub quantity: i64,
    pub reason: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    pub expires_on: Option<String>,
    /// `adjustment` (default) or `scrap`, which must remove units.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjusted {
    pub id: String,
    pub sku: String,
    pub warehouse: String,
    pub kind: MovementKind,
    pub quantity: i64,
    pub reason: String,
    pub bins: Vec<Taken>,
}

#[tracing::instrument(skip_all, fields(sku = %input.sku))]
pub async fn adjust(
    db: &Db,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&Idempotency>,
) -> Result<Adjusted> {
    retrying!(adjust_once(db, ctx, input.clone(), idem))
}

async fn adjust_once(
    db: &Db,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&Idempotency>,
) -> Result<Adjusted> {
    ctx.require(Permission::InventoryWrite)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", &input.warehouse).await?;
    let mut errors = Vec::new();
    let product = line_product(&mut uow.tx, "sku", &input.sku, false)
        .await
        .map_err(|e| errors.push(e))
        .ok();
    let kind = match input.kind.as_deref().unwrap_or("adjustment") {
        "adjustment" => MovementKind::Adjustment,
        "scrap" => MovementKind::Scrap,
        _ => {
            errors.push(FieldError::new("kind", "use adjustment or scrap"));
            MovementKind::Adjustment
        }
    };
    if input.quantity == 0 || input.quantity.abs() > 1_000_000 {
        errors.push(FieldError::new(
            "quantity",
            "use a whole number from -1,000,000 to 1,000,000, not 0",
        ));
    }
    if kind == MovementKind::Scrap && input.quantity > 0 {
        errors.push(FieldError::new(
            "quantity",
            "scrap removes units: use a negative quantity",
        ));
    }
    if !rules::ADJUSTMENT_REASONS.contains(&input.reason.trim()) {
        errors.push(FieldError::new(
            "reason",
            format!("use one of {}", rules::ADJUSTMENT_REASONS.join(", ")),
        ));
    }
    let note = reference("note", input.note.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let lot = rules::parse_lot("lot", input.lot.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let expires = rules::parse_expiry("expires_on", input.expires_on.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let location = bin(&mut uow, &wh, "location", input.location.as_deref())
        .await
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(p) = &product {
        if p.track_lots && input.quantity > 0 && lot.is_empty() {
            errors.push(FieldError::new(
                "lot",
                format!("{} is lot-tracked: name the lot", p.sku),
            ));
        }
        if p.track_serials && input.quantity > 1 {
            errors.push(FieldError::new(
                "quantity",
                format!("{} is serial-tracked: add one serial at a time", p.sku),
            ));
        }
        if p.track_serials
            && input.quantity > 0
            && !lot.is_empty()
            && serial_in_stock(&mut uow.tx, p, &lot).await?
        {
            errors.push(FieldError::new(
                "lot",
                format!("serial {lot} of {} is already in stock", p.sku),
            ));
        }
    }
    let (Some(product), Some((location_id, location_code)), true) =
        (product, location, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    let reason = input.reason.trim().to_string();
    let id = uuid::Uuid::now_v7().to_string();
    let bins = if input.quantity > 0 {
        put(
            &mut uow,
            &Put {
                product: &product,
                wh: &wh,
                location_id: &location_id,
                lot: &lot,
                expires_on: &expires,
                kind,
                reason: Some(&reason),
                reference: note.as_deref(),
            },
            input.quantity,
        )
        .await?;
        vec![Taken {
            location: location_code.clone(),
            lot: lot.clone(),
            expires_on: expires.clone(),
            quantity: input.quantity,
        }]
    } else {
        let t = Take {
            product: &product,
            wh: &wh,
            location_id: Some(&location_id),
            lot: (!lot.is_empty()).then_some(lot.as_str()),
            kind,
            using: Using::Unreserved,
            reason: Some(&reason),
            reference: note.as_deref(),
        };
        match take(&mut uow, &t, -input.quantity).await? {
            Some(bins) => bins,
            None => {
                let (bin_units, spare) = units_at(&mut uow.tx, &product, &wh, &location_id).await?;
                return Err(Error::invalid(
                    "quantity",
                    format!(
                        "can't remove {}: {location_code} holds {bin_units} and {} has {spare} unreserved in total",
                        -input.quantity, wh.code
                    ),
                ));
            }
        }
    };
    let adjusted = Adjusted {
        id: id.clone(),
        sku: product.sku.clone(),
        warehouse: wh.code.clone(),
        kind,
        quantity: input.quantity,
        reason: reason.clone(),
        bins,
    };
    uow.record(
        Change {
            action: "stock.adjust",
            entity: "product",
            entity_id: &product.id,
            before: None,
            after: serde_json::to_value(&adjusted).ok(),
        },
        Event::StockAdjusted {
            warehouse: wh.code,
            sku: product.sku,
            location: location_code,
            quantity: input.quantity,
            reason,
        },
    )
    .await?;
    if input.quantity > 0 {
        crate::fulfillment::source_backorders(&mut uow, std::slice::from_ref(&product.id)).await?;
    }
    uow.remember(&adjusted).await?;
    uow.commit().await?;
    Ok(adjusted)
}

/// Whether a serial number is on hand anywhere or on its way between
/// warehouses: a serial names one physical unit.
pub(crate) async fn serial_in_stock(
    conn: &mut AnyConnection,
    p: &ProductRef,
    serial: &str,
) -> Result<bool> {
    let units: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(n), 0) as bigint) from (
            select on_hand as n from stock_balance where product_id = $1 and lot = $2
            union all
            select l.quantity from stock_transfer_line l join stock_transfer t on t.transfer_id = l.transfer_id
            where t.status = 'in_transit' and l.product_id = $1 and l.lot = $2) x",
    )
    .bind(&p.id)
    .bind(serial)
    .fetch_one(&mut *conn)
    .await?;
    Ok(units > 0)
}

/// Units in one bin, and unreserved units in the whole warehouse, for messages.
async fn units_at(
    conn: &mut AnyConnection,
    p: &ProductRef,
    wh: &WarehouseRef,
    location_id: &str,
) -> Result<(i64, i64)> {
    let in_bin: i64 = sqlx::query_scalar("select cast(coalesce(sum(on_hand), 0) as bigint) from stock_balance where product_id = $1 and location_id = $2")
        .bind(&p.id)
        .bind(location_id)
        .fetch_one(&mut *conn)
        .await?;
    let spare: Option<i64> = sqlx::query_scalar(
        "select on_hand - reserved from stock_level where product_id = $1 and warehouse_id = $2",
    )
    .bind(&p.id)
    .bind(&wh.id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok((in_bin, spare.unwrap_or(0)))
}

// ---------------------------------------------------------------------------
// Reading stock.

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
        let components = crate::catalog::components_of(conn, &product.id).await?;
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

pub async fn stock(db: &Db, ctx: &Ctx, sku: &str) -> Result<Stock> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    stock_of(&mut conn, ctx, sku).await
}

/// Sets a warehouse's reorder point for an item (`units` = 0 removes it).
/// At or below it, the item shows in the low-stock queue for that warehouse.
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
    let scoped = scope_list(ctx);
    let rows = sqlx::query(
        "select m.movement_id, m.occurred_at, m.kind, m.quantity, w.code as warehouse, l.code as location, m.lot, m.reason,
                m.reference, m.actor_name
         from stock_movement m join warehouse w on w.warehouse_id = m.warehouse_id
         left join location l on l.location_id = m.location_id
         where m.product_id = $1 and ($2 is null or m.occurred_at < $2 or (m.occurred_at = $2 and m.movement_id < $3))
           and ($4 is null or ',' || $4 || ',' like '%,' || w.code || ',%')
         order by m.occurred_at desc, m.movement_id desc limit $5",
    )
    .bind(&product.id)
    .bind(at)
    .bind(id)
    .bind(scoped)
    .bind(limit + 1)
    .fetch_all(&mut *conn)
    .await?;
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

struct ChannelRef {
    id: String,
    code: String,
    warehouses: Vec<WarehouseRef>,
    buffer: i64,
}

async fn channel_ref(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    field: &str,
    code: &str,
) -> Result<ChannelRef> {
    let code = rules::parse_code(field, code)?;
    let row = sqlx::query("select channel_id, warehouses_json, safety_buffer from channel where code = $1 and active = 1")
        .bind(&code)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::invalid(field, format!("there is no channel {code}")))?;
    if !ctx.actor.scope.allows_channel(&code) {
        return Err(Error::OutOfScope {
            what: format!("channel {code}"),
        });
    }
    let codes: Vec<String> =
        serde_json::from_str(&row.try_get::<String, _>("warehouses_json")?).unwrap_or_default();
    // One read of the (few) warehouses, then the channel's priority order.
    let active = all_warehouses(conn).await?;
    let warehouses = codes
        .iter()
        .filter_map(|c| active.iter().find(|w| &w.code == c).cloned())
        .collect();
    Ok(ChannelRef {
        id: row.try_get("channel_id")?,
        code,
        warehouses,
        buffer: row.try_get("safety_buffer")?,
    })
}

/// Every active warehouse in code order: where a reservation without a
/// channel may take stock from.
pub(crate) async fn all_warehouses(conn: &mut AnyConnection) -> Result<Vec<WarehouseRef>> {
    let rows =
        sqlx::query("select warehouse_id, code from warehouse where active = 1 order by code")
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(WarehouseRef {
                id: r.try_get("warehouse_id")?,
                code: r.try_get("code")?,
            })
        })
        .collect()
}

/// Units of `product_id` in a warehouse that a channel with `buffer` may still
/// promise: on_hand − reserved − buffer (may be negative).
async fn spare(
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
        crate::catalog::components_of(&mut conn, &product.id).await?
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

// ---------------------------------------------------------------------------
// Reservations.

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationLineInput {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservationInput {
    pub reference: String,
    #[serde(default)]
    pub channel: Option<String>,
    pub lines: Vec<ReservationLineInput>,
}

/// Reserves every line or nothing, from the channel's warehouses (all
/// warehouses when no channel is named) as sourcing plans it: one warehouse
/// for everything when one can, else the fewest; a bundle takes whole
/// bundles' worth of components from one warehouse. Every take is a
/// conditional update checked by rows affected.
#[tracing::instrument(skip_all, fields(reference = %input.reference))]
pub async fn reserve(
    db: &Db,
    ctx: &Ctx,
    input: ReservationInput,
    idem: Option<&Idempotency>,
) -> Result<Reservation> {
    ctx.require(Permission::InventoryWrite)?;
    check_lines(&input.lines)?;
    let reference = reference("reference", Some(&input.reference))?.ok_or_else(|| {
        Error::invalid(
            "reference",
            "name what the stock is held for, e.g. the order number",
        )
    })?;
    let mut errors = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        if let Err(e) = rules::parse_quantity(&format!("lines[{i}].quantity"), line.quantity) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let result = retrying!(reserve_once(db, ctx, &input, &reference, idem));
    if let Err(Error::InsufficientStock {
        sku,
        requested,
        available,
        ..
    }) = &result
    {
        let channel = input.channel.as_deref().map(|c| c.trim().to_uppercase());
        let asked = Asked {
            sku,
            reference: &reference,
            channel: channel.as_deref(),
            requested: *requested,
            available: *available,
        };
        refused_oversell(db, ctx, &asked).await;
    }
    result
}

/// A reservation line refused for want of stock.
struct Asked<'a> {
    sku: &'a str,
    reference: &'a str,
    channel: Option<&'a str>,
    requested: i64,
    available: i64,
}

/// Counts a refused reservation on the item's oversell incident.
async fn refused_oversell(db: &Db, ctx: &Ctx, a: &Asked<'_>) {
    let product = match db.pool.acquire().await {
        Ok(mut conn) => find_product(&mut conn, a.sku).await,
        Err(e) => Err(e.into()),
    };
    match product {
        Ok(Some(p)) => {
            let attempt = crate::incidents::Attempt {
                kind: domain::analytics::OVERSELL_REFUSED,
                subject_id: &p.id,
                subject_ref: &p.sku,
                channel: a.channel,
                detail: format!(
                    "{} asked for {}, {} available",
                    a.requested,
                    a.reference,
                    a.available.max(0)
                ),
            };
            crate::incidents::record(db, ctx, &attempt).await;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, sku = a.sku, "a refused reservation could not be recorded")
        }
    }
}

async fn reserve_once(
    db: &Db,
    ctx: &Ctx,
    input: &ReservationInput,
    reference: &str,
    idem: Option<&Idempotency>,
) -> Result<Reservation> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let reservation = reserve_in(&mut uow, input, reference).await?;
    uow.remember(&reservation).await?;
    uow.commit().await?;
    Ok(reservation)
}

/// Reserves inside the caller's unit of work (order capture reserves in the
/// same transaction as the order). On refusal the caller must roll back what
/// this wrote, by dropping the transaction or to a savepoint.
pub(crate) async fn reserve_in(
    uow: &mut Uow,
    input: &ReservationInput,
    reference: &str,
) -> Result<Reservation> {
    let (from, lines) = resolve_reservation(uow, input).await?;
    let mut batch = crate::sql::Batch::default();
    let (reservation, _) =
        reserve_resolved(uow, &from, &lines, reference, false, &mut batch).await?;
    batch.run(&mut uow.tx, uow.backend).await?;
    Ok(reservation)
}

/// Looks up a reservation request's channel and products, naming every line
/// that can't be reserved.
pub(crate) async fn resolve_reservation(
    uow: &mut Uow,
    input: &ReservationInput,
) -> Result<(ReserveFrom, Vec<(ProductRef, i64)>)> {
    let ctx = uow.ctx.clone();
    let ctx = &ctx;
    let target = match input.channel.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(code) => {
            let ch = channel_ref(&mut uow.tx, ctx, "channel", code).await?;
            ReserveFrom {
                channel: Some((ch.id, ch.code)),
                warehouses: ch.warehouses,
                buffer: ch.buffer,
            }
        }
        None => ReserveFrom {
            channel: None,
            warehouses: all_warehouses(&mut uow.tx).await?,
            buffer: 0,
        },
    };
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        match line_product(&mut uow.tx, &format!("lines[{i}].sku"), &line.sku, true).await {
            Ok(p) => lines.push((p, line.quantity)),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    Ok((target, lines))
}

/// Where a reservation takes stock from: the channel (id and code), its
/// warehouses in priority order, and its safety buffer.
pub(crate) struct ReserveFrom {
    pub channel: Option<(String, String)>,
    pub warehouses: Vec<WarehouseRef>,
    pub buffer: i64,
}

/// The channel's reservation target, for a caller that has already read the
/// channel row (its warehouse codes in priority order, and its buffer).
pub(crate) async fn reserve_from(
    conn: &mut AnyConnection,
    channel: (String, String),
    warehouse_codes: &[String],
    buffer: i64,
) -> Result<ReserveFrom> {
    let active = all_warehouses(conn).await?;
    Ok(ReserveFrom {
        channel: Some(channel),
        warehouses: warehouse_codes
            .iter()
            .filter_map(|c| active.iter().find(|w| &w.code == c).cloned())
            .collect(),
        buffer,
    })
}

/// Reserves `lines` (products already looked up, with quantities) where
/// sourcing plans them (`domain::fulfillment::plan`) and records it. Stock
/// moves only through conditional updates, so concurrent reservations never
/// take more than is spare. With `partial`, units no warehouse has are left
/// out (the plan's backorders); without it, any shortfall refuses the whole
/// reservation and nothing is taken.
/// The stock is held at once; the reservation's rows go into `batch`, for the
/// caller to run.
pub(crate) async fn reserve_resolved(
    uow: &mut Uow,
    from: &ReserveFrom,
    lines: &[(ProductRef, i64)],
    reference: &str,
    partial: bool,
    batch: &mut crate::sql::Batch,
) -> Result<(Reservation, Plan)> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    let mut skus: HashMap<String, String> = HashMap::new();
    let mut needs = Vec::with_capacity(lines.len());
    for (i, (product, quantity)) in lines.iter().enumerate() {
        let parts = if product.is_bundle() {
            crate::catalog::components_of(&mut uow.tx, &product.id).await?
        } else {
            vec![(product.id.clone(), product.sku.clone(), 1)]
        };
        needs.push(Need {
            line_no: i as i64,
            sku: product.sku.clone(),
            units: *quantity,
            parts: parts
                .into_iter()
                .map(|(pid, sku, per_unit)| {
                    skus.insert(pid.clone(), sku);
                    Part {
                        product_id: pid,
                        per_unit,
                    }
                })
                .collect(),
        });
    }
    let label = from
        .channel
        .as_ref()
        .map_or("this reservation", |c| c.1.as_str());
    let codes: Vec<String> = from.warehouses.iter().map(|w| w.code.clone()).collect();
    let wh_id = |code: &str| {
        from.warehouses
            .iter()
            .find(|w| w.code == code)
            .map(|w| w.id.clone())
            .unwrap_or_default()
    };
    let plan = 'sourced: {
        // The common case first: every line an item, all of it in the first
        // warehouse; one conditional update per line and no read.
        if let Some(first) = from.warehouses.first() {
            if needs
                .iter()
                .all(|n| n.parts.len() == 1 && n.parts[0].per_unit == 1)
            {
                let mut held = Vec::new();
                for n in &needs {
                    let pid = &n.parts[0].product_id;
                    if n.units > 0
                        && !hold_units(&mut uow.tx, pid, &first.id, n.units, from.buffer).await?
                    {
                        break;
                    }
                    held.push((pid, n.units));
                }
                if held.len() == needs.len() {
                    break 'sourced fulfillment::whole_from_first(label, &codes, &needs);
                }
                for (pid, units) in held.into_iter().filter(|h| h.1 > 0) {
                    give_back(&mut uow.tx, pid, &first.id, units).await?;
                }
            }
        }
        // Otherwise plan from what is spare and take it; a failed conditional
        // update means a concurrent reservation took units between the read
        // and the write, so give back and plan again.
        for _ in 0..16 {
            let mut spare = spare_of(&mut uow.tx, &needs, &from.warehouses).await?;
            let plan = fulfillment::plan(label, &codes, &needs, &mut spare, from.buffer);
            if !plan.backorders.is_empty() {
                crate::REFUSED_RESERVATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if !partial {
                    let b = &plan.backorders[0];
                    let requested = lines[b.line_no as usize].1;
                    return Err(Error::InsufficientStock {
                        line: b.line_no as usize,
                        sku: b.sku.clone(),
                        requested,
                        available: requested - b.units,
                    });
                }
            }
            let mut wanted: Vec<(&str, String, i64)> = Vec::new();
            for (code, take) in plan.takes() {
                for part in &needs[take.line_no as usize].parts {
                    let units = part.per_unit * take.units;
                    match wanted
                        .iter_mut()
                        .find(|w| w.0 == part.product_id && w.1 == code)
                    {
                        Some(w) => w.2 += units,
                        None => wanted.push((&part.product_id, code.to_string(), units)),
                    }
                }
            }
            let mut held = Vec::new();
            for (pid, code, units) in &wanted {
                if !hold_units(&mut uow.tx, pid, &wh_id(code), *units, from.buffer).await? {
                    break;
                }
                held.push((*pid, wh_id(code), *units));
            }
            if held.len() == wanted.len() {
                break 'sourced plan;
            }
            for (pid, wh, units) in held {
                give_back(&mut uow.tx, pid, &wh, units).await?;
            }
        }
        return Err(Error::Conflict {
            code: "stock_changed",
            message: "stock kept changing while this was being sourced; try again".into(),
        });
    };
    // One allocation row per (line, product, warehouse).
    let mut allocs: Vec<(i64, String, String, WarehouseRef, i64)> = Vec::new();
    for (code, take) in plan.takes() {
        let wh = WarehouseRef {
            id: wh_id(code),
            code: code.to_string(),
        };
        for part in &needs[take.line_no as usize].parts {
            let sku = skus.get(&part.product_id).cloned().unwrap_or_default();
            allocs.push((
                take.line_no,
                part.product_id.clone(),
                sku,
                wh.clone(),
                part.per_unit * take.units,
            ));
        }
    }
    let reserved: Vec<i64> = needs
        .iter()
        .map(|n| {
            plan.takes()
                .filter(|(_, t)| t.line_no == n.line_no)
                .map(|(_, t)| t.units)
                .sum()
        })
        .collect();
    let lines_json = serde_json::to_string(
        &lines
            .iter()
            .zip(&reserved)
            .map(|((p, _), q)| serde_json::json!({"sku": p.sku, "quantity": q}))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    batch.push(
        "insert into reservation (reservation_id, reference, channel_id, status, lines_json, version, created_at, updated_at) values ($1, $2, $3, 'active', $4, 1, $5, $5)",
        vec![
            id.as_str().into(),
            reference.into(),
            from.channel.as_ref().map(|c| c.0.clone()).into(),
            lines_json.into(),
            now.into(),
        ],
    );
    for chunk in allocs.chunks(64) {
        let sql = crate::sql::values_rows(
            "insert into reservation_alloc (reservation_id, line_no, sku, product_id, warehouse_id, quantity) values ",
            6,
            chunk.len(),
        );
        let mut args = Vec::with_capacity(chunk.len() * 6);
        for (line, pid, sku, wh, units) in chunk {
            args.extend([
                id.as_str().into(),
                (*line).into(),
                sku.as_str().into(),
                pid.as_str().into(),
                wh.id.as_str().into(),
                (*units).into(),
            ]);
        }
        batch.push(sql, args);
    }
    allocs.sort_by(|a, b| (a.0, &a.3.code, &a.2).cmp(&(b.0, &b.3.code, &b.2)));
    let reservation = Reservation {
        id: id.clone(),
        reference: reference.to_string(),
        channel: from.channel.as_ref().map(|c| c.1.clone()),
        status: "active".into(),
        lines: lines
            .iter()
            .zip(&reserved)
            .enumerate()
            .map(|(i, ((p, _), q))| ReservationLine {
                sku: p.sku.clone(),
                quantity: *q,
                allocations: allocs
                    .iter()
                    .filter(|a| a.0 == i as i64)
                    .map(|a| Allocation {
                        sku: a.2.clone(),
                        warehouse: a.3.code.clone(),
                        quantity: a.4,
                    })
                    .collect(),
            })
            .collect(),
        created_at: rfc3339(now),
    };
    uow.record(
        Change {
            action: "reservation.create",
            entity: "reservation",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&reservation).ok(),
        },
        Event::InventoryReserved {
            reservation_id: id.clone(),
            reference: reference.to_string(),
            channel: from.channel.as_ref().map(|c| c.1.clone()),
            units: reserved.iter().sum(),
        },
    )
    .await?;
    Ok((reservation, plan))
}

/// What is spare (on hand − reserved) of every product the needs take, in
/// each of `warehouses` (by code): one query.
pub(crate) async fn spare_of(
    conn: &mut AnyConnection,
    needs: &[Need],
    warehouses: &[WarehouseRef],
) -> Result<Spare> {
    let mut products: Vec<&str> = needs
        .iter()
        .flat_map(|n| n.parts.iter().map(|p| p.product_id.as_str()))
        .collect();
    products.sort_unstable();
    products.dedup();
    let mut spare = Spare::default();
    if products.is_empty() || warehouses.is_empty() {
        return Ok(spare);
    }
    let sql = format!(
        "select product_id, warehouse_id, on_hand - reserved from stock_level where product_id in ({}) and warehouse_id in ({})",
        crate::sql::params(1, products.len()),
        crate::sql::params(products.len() + 1, warehouses.len()),
    );
    let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
    for p in &products {
        q = q.bind(*p);
    }
    for w in warehouses {
        q = q.bind(&w.id);
    }
    for (pid, wid, units) in q.fetch_all(&mut *conn).await? {
        if let Some(w) = warehouses.iter().find(|w| w.id == wid) {
            spare.set(&pid, &w.code, units);
        }
    }
    Ok(spare)
}

/// Returns units that `hold_units` took.
async fn give_back(
    conn: &mut AnyConnection,
    product_id: &str,
    warehouse_id: &str,
    units: i64,
) -> Result<()> {
    sqlx::query("update stock_level set reserved = reserved - $3 where product_id = $1 and warehouse_id = $2")
        .bind(product_id)
        .bind(warehouse_id)
        .bind(units)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Reserves `units` of a product in a warehouse if that many are spare after
/// `buffer`; false (and nothing changed) otherwise.
async fn hold_units(
    conn: &mut AnyConnection,
    product_id: &str,
    warehouse_id: &str,
    units: i64,
    buffer: i64,
) -> Result<bool> {
    Ok(sqlx::query("update stock_level set reserved = reserved + $3 where product_id = $1 and warehouse_id = $2 and on_hand - reserved - $4 >= $3")
        .bind(product_id)
        .bind(warehouse_id)
        .bind(units)
        .bind(buffer)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

pub(crate) async fn load_reservation(conn: &mut AnyConnection, id: &str) -> Result<Reservation> {
    let row = sqlx::query(
        "select r.reservation_id, r.reference, c.code as channel, r.status, r.lines_json, r.created_at from reservation r
         left join channel c on c.channel_id = r.channel_id where r.reservation_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "reservation",
        key: id.to_string(),
    })?;
    let allocs = sqlx::query(
        "select a.line_no, p.sku, w.code, a.quantity from reservation_alloc a join product p on p.product_id = a.product_id
         join warehouse w on w.warehouse_id = a.warehouse_id where a.reservation_id = $1 order by a.line_no, w.code, p.sku",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    #[derive(Deserialize)]
    struct Asked {
        sku: String,
        quantity: i64,
    }
    let asked: Vec<Asked> = serde_json::from_str(&row.try_get::<String, _>("lines_json")?)
        .map_err(|e| Error::Internal(format!("reservation lines are unreadable: {e}")))?;
    let mut lines: Vec<ReservationLine> = asked
        .into_iter()
        .map(|a| ReservationLine {
            sku: a.sku,
            quantity: a.quantity,
            allocations: Vec::new(),
        })
        .collect();
    for a in allocs {
        let line_no: i64 = a.try_get("line_no")?;
        if let Some(line) = lines.get_mut(line_no as usize) {
            line.allocations.push(Allocation {
                sku: a.try_get("sku")?,
                warehouse: a.try_get("code")?,
                quantity: a.try_get("quantity")?,
            });
        }
    }
    Ok(Reservation {
        id: row.try_get("reservation_id")?,
        reference: row.try_get("reference")?,
        channel: row.try_get("channel")?,
        status: row.try_get("status")?,
        lines,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

pub async fn get_reservation(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    load_reservation(&mut conn, id).await
}

/// Moves an active reservation to `status`, returning it as it was.
async fn close_reservation(uow: &mut Uow, id: &str, status: &str) -> Result<Reservation> {
    let before = load_reservation(&mut uow.tx, id).await?;
    let done = sqlx::query("update reservation set status = $2, version = version + 1, updated_at = $3 where reservation_id = $1 and status = 'active'")
        .bind(id)
        .bind(status)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if done != 1 {
        return Err(Error::Conflict {
            code: "reservation_not_active",
            message: format!("reservation {id} is already {}", before.status),
        });
    }
    Ok(before)
}

async fn allocations(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Vec<(String, String, String, String, i64)>> {
    let rows = sqlx::query(
        "select a.product_id, a.warehouse_id, w.code, a.sku, a.quantity from reservation_alloc a
         join warehouse w on w.warehouse_id = a.warehouse_id where a.reservation_id = $1 order by a.product_id, a.warehouse_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("product_id")?,
                r.try_get("warehouse_id")?,
                r.try_get("code")?,
                r.try_get("sku")?,
                r.try_get("quantity")?,
            ))
        })
        .collect()
}

/// Releases an active reservation: its units become available again.
pub async fn release(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(release_once(db, ctx, id))
}

async fn release_once(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let freed = crate::fulfillment::products_of(&mut uow.tx, id).await?;
    let after = release_in(&mut uow, id).await?;
    crate::fulfillment::source_backorders(&mut uow, &freed).await?;
    uow.commit().await?;
    Ok(after)
}

/// Releases inside the caller's unit of work (an order's cancellation).
pub(crate) async fn release_in(uow: &mut Uow, id: &str) -> Result<Reservation> {
    let uow = &mut *uow;
    let before = close_reservation(uow, id, "released").await?;
    for (product_id, warehouse_id, _, sku, quantity) in allocations(&mut uow.tx, id).await? {
        let done = sqlx::query("update stock_level set reserved = reserved - $3 where product_id = $1 and warehouse_id = $2 and reserved >= $3")
            .bind(&product_id)
            .bind(&warehouse_id)
            .bind(quantity)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if done != 1 {
            return Err(Error::Internal(format!(
                "reserved units of {sku} are fewer than reservation {id} holds; run keel check"
            )));
        }
    }
    let after = load_reservation(&mut uow.tx, id).await?;
    uow.record(
        Change {
            action: "reservation.release",
            entity: "reservation",
            entity_id: id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::InventoryReleased {
            reservation_id: id.to_string(),
            reference: after.reference.clone(),
        },
    )
    .await?;
    Ok(after)
}

/// Consumes an active reservation as its units leave on a shipment: on-hand
/// and reserved fall together, and the units come out of bins FEFO.
pub async fn consume(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(consume_once(db, ctx, id))
}

async fn consume_once(db: &Db, ctx: &Ctx, id: &str) -> Result<Reservation> {
    let mut uow = db.begin(ctx).await?;
    let before = close_reservation(&mut uow, id, "consumed").await?;
    let mut units = 0;
    for (product_id, warehouse_id, code, sku, quantity) in allocations(&mut uow.tx, id).await? {
        in_scope(ctx, &code)?;
        let product = ProductRef {
            id: product_id,
            sku: sku.clone(),
            kind: "item".into(),
            track_lots: false,
            track_serials: false,
        };
        let wh = WarehouseRef {
            id: warehouse_id,
            code,
        };
        let t = Take {
            product: &product,
            wh: &wh,
            location_id: None,
            lot: None,
            kind: MovementKind::Shipment,
            using: Using::Reserved,
            reason: None,
            reference: Some(&before.reference),
        };
        if take(&mut uow, &t, quantity).await?.is_none() {
            return Err(Error::Conflict {
                code: "insufficient_stock",
                message: format!("the bins in {} no longer hold the {quantity} reserved units of {sku}; count them", wh.code),
            });
        }
        units += quantity;
    }
    let after = load_reservation(&mut uow.tx, id).await?;
    uow.record(
        Change {
            action: "reservation.consume",
            entity: "reservation",
            entity_id: id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::InventoryShipped {
            reservation_id: id.to_string(),
            reference: after.reference.clone(),
            units,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------
// Transfers between warehouses.

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    pub sku: String,
    pub quantity: i64,
    /// Take from this bin only (FEFO across the warehouse otherwise).
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    pub from: String,
    pub to: String,
    pub lines: Vec<TransferLineInput>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferReceipt {
    /// The bin the goods go to (the receiving dock when absent).
    #[serde(default)]
    pub location: Option<String>,
}

pub(crate) async fn next_number(uow: &mut Uow, counter: &str, prefix: &str) -> Result<String> {
    let n: i64 = sqlx::query_scalar(
        "update sequence_counter set value = value + 1 where name = $1 returning value",
    )
    .bind(counter)
    .fetch_one(&mut *uow.tx)
    .await?;
    Ok(format!("{prefix}-{n:06}"))
}

/// Ships stock out of one warehouse towards another; it is in transit (on
/// neither's shelves, shown against the destination) until received.
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
    let scoped = scope_list(ctx);
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "select t.transfer_id, t.created_at from stock_transfer t
         join warehouse f on f.warehouse_id = t.from_warehouse_id join warehouse d on d.warehouse_id = t.to_warehouse_id
         where ($1 is null or t.status = $1)
           and ($2 is null or t.created_at < $2 or (t.created_at = $2 and t.transfer_id < $3))
           and ($4 is null or ',' || $4 || ',' like '%,' || f.code || ',%' or ',' || $4 || ',' like '%,' || d.code || ',%')
         order by t.created_at desc, t.transfer_id desc limit $5",
    )
    .bind(status)
    .bind(at)
    .bind(after_id)
    .bind(scoped)
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
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

pub async fn get_transfer(db: &Db, ctx: &Ctx, id: &str) -> Result<Transfer> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    load_transfer(&mut conn, id).await
}

/// Books an in-transit transfer into the destination's bin, lots preserved.
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
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let before = load_transfer(&mut uow.tx, id).await?;
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
            code: "transfer_not_in_transit",
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
    crate::fulfillment::source_backorders(&mut uow, &arrived).await?;
    uow.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------
// Cycle counts.

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountInput {
    pub warehouse: String,
    pub location: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountScan {
    /// A SKU or a GTIN as scanned.
    pub code: String,
    /// Units seen with this scan (1 by default); with `set`, the total.
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub set: bool,
}

/// Opens a count of one bin, or returns the one already open there, so that
/// scanning a bin on the floor starts or resumes its count.
pub async fn open_count(db: &Db, ctx: &Ctx, input: CountInput) -> Result<CycleCount> {
    ctx.require(Permission::InventoryWrite)?;
    // An agent scoped to one warehouse may leave it out: the tablet form can
    // be submitted by a wedge scanner before its warehouse field has loaded.
    let warehouse = match (
        input.warehouse.trim(),
        ctx.actor.scope.warehouses.as_slice(),
    ) {
        ("", [only]) => only.clone(),
        ("", _) => {
            return Err(Error::invalid(
                "warehouse",
                "choose the warehouse the bin is in",
            ))
        }
        (code, _) => code.to_string(),
    };
    let mut uow = db.begin(ctx).await?;
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", &warehouse).await?;
    let code = rules::parse_location_code("location", &input.location)?;
    let location_id: String = sqlx::query_scalar(
        "select location_id from location where warehouse_id = $1 and code = $2",
    )
    .bind(&wh.id)
    .bind(&code)
    .fetch_optional(&mut *uow.tx)
    .await?
    .ok_or_else(|| Error::invalid("location", format!("there is no bin {code} in {}", wh.code)))?;
    let (id, opened) = open_count_in(&mut uow, &wh, &location_id, &code).await?;
    let count = load_count(&mut uow.tx, &id).await?;
    if opened {
        uow.commit().await?;
    }
    Ok(count)
}

/// Opens a count of one bin, or finds the one already open. Returns its id
/// and whether it was opened now (recorded and evented in `uow`).
pub(crate) async fn open_count_in(
    uow: &mut Uow,
    wh: &WarehouseRef,
    location_id: &str,
    code: &str,
) -> Result<(String, bool)> {
    let open: Option<String> = sqlx::query_scalar(
        "select count_id from cycle_count where location_id = $1 and status = 'open'",
    )
    .bind(location_id)
    .fetch_optional(&mut *uow.tx)
    .await?;
    if let Some(id) = open {
        return Ok((id, false));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_number(uow, "count", "CC").await?;
    sqlx::query("insert into cycle_count (count_id, number, warehouse_id, location_id, status, created_by, created_at, version) values ($1, $2, $3, $4, 'open', $5, $6, 1)")
        .bind(&id)
        .bind(&number)
        .bind(&wh.id)
        .bind(location_id)
        .bind(uow.ctx.actor.name.clone())
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    let count = load_count(&mut uow.tx, &id).await?;
    uow.record(
        Change {
            action: "count.open",
            entity: "count",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&count).ok(),
        },
        Event::CountOpened {
            count_id: id.clone(),
            number,
            warehouse: wh.code.clone(),
            location: code.to_string(),
        },
    )
    .await?;
    Ok((id, true))
}

async fn load_count(conn: &mut AnyConnection, id: &str) -> Result<CycleCount> {
    let row = sqlx::query(
        "select c.*, w.code as warehouse, l.code as location from cycle_count c join warehouse w on w.warehouse_id = c.warehouse_id
         join location l on l.location_id = c.location_id where c.count_id = $1 or c.number = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "count",
        key: id.to_string(),
    })?;
    let cid: String = row.try_get("count_id")?;
    let lines = sqlx::query("select p.sku, p.name, l.expected, l.counted from cycle_count_line l join product p on p.product_id = l.product_id where l.count_id = $1 order by p.sku")
        .bind(&cid)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CountLine {
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                expected: r.try_get("expected")?,
                counted: r.try_get("counted")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let currency =
        Currency::parse(rules::VALUATION_CURRENCY).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(CycleCount {
        id: cid,
        number: row.try_get("number")?,
        warehouse: row.try_get("warehouse")?,
        location: row.try_get("location")?,
        status: row.try_get("status")?,
        variance_units: row.try_get("variance_units")?,
        variance_value: Money::from_minor(row.try_get("variance_value_minor")?, currency),
        lines,
        created_by: row.try_get("created_by")?,
        counted_by: row.try_get("counted_by")?,
        decided_by: row.try_get("decided_by")?,
        created_at: rfc3339(row.try_get("created_at")?),
        version: row.try_get("version")?,
    })
}

pub async fn get_count(db: &Db, ctx: &Ctx, id: &str) -> Result<CycleCount> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    let count = load_count(&mut conn, id).await?;
    in_scope(ctx, &count.warehouse)?;
    Ok(count)
}

/// An open count of a bin the actor works in, or why not.
async fn open_count_for(uow: &mut Uow, id: &str) -> Result<CycleCount> {
    let count = load_count(&mut uow.tx, id).await?;
    in_scope(&uow.ctx, &count.warehouse)?;
    if count.status != "open" {
        return Err(Error::Conflict {
            code: "count_not_open",
            message: format!(
                "count {} is {}, no longer open",
                count.number,
                count.status.replace('_', " ")
            ),
        });
    }
    Ok(count)
}

/// Records a scan during a count: one more unit (or `quantity`) of the
/// scanned product, or with `set` the total seen.
pub async fn count_scan(db: &Db, ctx: &Ctx, id: &str, scan: CountScan) -> Result<CycleCount> {
    ctx.require(Permission::InventoryWrite)?;
    let mut uow = db.begin(ctx).await?;
    let count = open_count_for(&mut uow, id).await?;
    let code = scan.code.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", "scan or type a SKU or barcode"));
    }
    let product: Option<(String, String)> = sqlx::query_as(
        "select product_id, sku from product where (sku = $1 or gtin = $1) and kind = 'item'",
    )
    .bind(code)
    .fetch_optional(&mut *uow.tx)
    .await?;
    let Some((product_id, sku)) = product else {
        return Err(Error::invalid(
            "code",
            format!("`{code}` is not a stock item's SKU or barcode"),
        ));
    };
    let qty = scan.quantity.unwrap_or(1);
    if !(0..=1_000_000).contains(&qty) || (!scan.set && qty == 0) {
        return Err(Error::invalid(
            "quantity",
            "use a whole number from 1 to 1,000,000 (0 allowed when setting a total)",
        ));
    }
    let sql = if scan.set {
        "insert into cycle_count_line (count_id, product_id, expected, counted) values ($1, $2, 0, $3)
         on conflict (count_id, product_id) do update set counted = excluded.counted"
    } else {
        "insert into cycle_count_line (count_id, product_id, expected, counted) values ($1, $2, 0, $3)
         on conflict (count_id, product_id) do update set counted = cycle_count_line.counted + excluded.counted"
    };
    sqlx::query(sql)
        .bind(&count.id)
        .bind(&product_id)
        .bind(qty)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query(
        "update cycle_count set counted_by = $2, version = version + 1 where count_id = $1",
    )
    .bind(&count.id)
    .bind(uow.ctx.actor.name.clone())
    .execute(&mut *uow.tx)
    .await?;
    let after = load_count(&mut uow.tx, &count.id).await?;
    uow.record(
        Change {
            action: "count.scan",
            entity: "count",
            entity_id: &count.id,
            before: serde_json::to_value(&count).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::CountScanned {
            count_id: count.id.clone(),
            number: count.number.clone(),
            sku: sku.clone(),
            counted: after
                .lines
                .iter()
                .find(|l| l.sku == sku)
                .map(|l| l.counted)
                .unwrap_or(0),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

/// Ends counting: what the bin should hold is compared with what was seen.
/// A variance worth more than the threshold waits for a manager; anything
/// smaller is booked at once as count corrections.
pub async fn submit_count(db: &Db, ctx: &Ctx, id: &str) -> Result<CycleCount> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(submit_count_once(db, ctx, id))
}

async fn submit_count_once(db: &Db, ctx: &Ctx, id: &str) -> Result<CycleCount> {
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let count = open_count_for(&mut uow, id).await?;
    // Products the bin holds but nobody scanned were counted as zero.
    sqlx::query(
        "insert into cycle_count_line (count_id, product_id, expected, counted)
         select $1, b.product_id, 0, 0 from stock_balance b join cycle_count c on c.location_id = b.location_id
         where c.count_id = $1 and b.on_hand > 0 group by b.product_id
         on conflict (count_id, product_id) do nothing",
    )
    .bind(&count.id)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query(
        "update cycle_count_line set expected = (select cast(coalesce(sum(b.on_hand), 0) as bigint) from stock_balance b
         join cycle_count c on c.location_id = b.location_id where c.count_id = $1 and b.product_id = cycle_count_line.product_id)
         where count_id = $1",
    )
    .bind(&count.id)
    .execute(&mut *uow.tx)
    .await?;
    let rows = sqlx::query(
        "select l.expected, l.counted, coalesce(pp.cost_minor, 0) as cost from cycle_count_line l
         left join product_price pp on pp.product_id = l.product_id and pp.currency = $2 where l.count_id = $1",
    )
    .bind(&count.id)
    .bind(rules::VALUATION_CURRENCY)
    .fetch_all(&mut *uow.tx)
    .await?;
    let lines = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("expected")?,
                r.try_get("counted")?,
                r.try_get("cost")?,
            ))
        })
        .collect::<Result<Vec<(i64, i64, i64)>>>()?;
    let value = rules::variance_value(&lines);
    let units: i64 = lines.iter().map(|(e, c, _)| c - e).sum();
    let pending = rules::needs_approval(value);
    sqlx::query("update cycle_count set status = $2, variance_units = $3, variance_value_minor = $4, submitted_at = $5, version = version + 1 where count_id = $1")
        .bind(&count.id)
        .bind(if pending { "pending_approval" } else { "posted" })
        .bind(units)
        .bind(value)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    if !pending {
        post_count(&mut uow, &count.id).await?;
    }
    let after = load_count(&mut uow.tx, &count.id).await?;
    uow.record(
        Change {
            action: "count.submit",
            entity: "count",
            entity_id: &count.id,
            before: serde_json::to_value(&count).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        if pending {
            Event::CountSubmitted {
                count_id: count.id.clone(),
                number: count.number.clone(),
                variance_units: units,
                needs_approval: true,
            }
        } else {
            Event::CountPosted {
                count_id: count.id.clone(),
                number: count.number.clone(),
                variance_units: units,
            }
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

/// Books a count's variances as count-correction movements. A shortfall comes
/// out FEFO (and may leave fewer units than are reserved: the count is the
/// truth); a surplus goes to the bin's latest-expiring lot, or no lot.
async fn post_count(uow: &mut Uow, id: &str) -> Result<()> {
    let count = load_count(&mut uow.tx, id).await?;
    let wh = warehouse_ref(&mut uow.tx, &uow.ctx.clone(), "warehouse", &count.warehouse).await?;
    let location_id: String =
        sqlx::query_scalar("select location_id from cycle_count where count_id = $1")
            .bind(&count.id)
            .fetch_one(&mut *uow.tx)
            .await?;
    let mut found = Vec::new();
    for line in count.lines.iter().filter(|l| l.counted != l.expected) {
        let product = find_product(&mut uow.tx, &line.sku).await?.ok_or_else(|| {
            Error::Internal(format!("count line names unknown product {}", line.sku))
        })?;
        let delta = line.counted - line.expected;
        if delta > 0 {
            found.push(product.id.clone());
        }
        if delta < 0 {
            let t = Take {
                product: &product,
                wh: &wh,
                location_id: Some(&location_id),
                lot: None,
                kind: MovementKind::CountCorrection,
                using: Using::Any,
                reason: Some("count"),
                reference: Some(&count.number),
            };
            if take(uow, &t, -delta).await?.is_none() {
                return Err(Error::Conflict {
                    code: "bin_changed",
                    message: format!(
                        "{} changed in {} since it was counted; recount the bin",
                        line.sku, count.location
                    ),
                });
            }
        } else {
            let lot: Option<(String, String)> = sqlx::query_as(
                "select lot, expires_on from stock_balance where product_id = $1 and location_id = $2 order by expires_on desc, lot desc limit 1",
            )
            .bind(&product.id)
            .bind(&location_id)
            .fetch_optional(&mut *uow.tx)
            .await?;
            let (lot, expires_on) = lot.unwrap_or_default();
            put(
                uow,
                &Put {
                    product: &product,
                    wh: &wh,
                    location_id: &location_id,
                    lot: &lot,
                    expires_on: &expires_on,
                    kind: MovementKind::CountCorrection,
                    reason: Some("count"),
                    reference: Some(&count.number),
                },
                delta,
            )
            .await?;
        }
    }
    crate::fulfillment::source_backorders(uow, &found).await?;
    Ok(())
}

/// A manager's decision on a count that waits for approval.
pub async fn decide_count(db: &Db, ctx: &Ctx, id: &str, approve: bool) -> Result<CycleCount> {
    ctx.require(Permission::InventoryApprove)?;
    retrying!(decide_count_once(db, ctx, id, approve))
}

async fn decide_count_once(db: &Db, ctx: &Ctx, id: &str, approve: bool) -> Result<CycleCount> {
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let before = load_count(&mut uow.tx, id).await?;
    in_scope(ctx, &before.warehouse)?;
    let done = sqlx::query("update cycle_count set status = $2, decided_by = $3, decided_at = $4, version = version + 1 where count_id = $1 and status = 'pending_approval'")
        .bind(&before.id)
        .bind(if approve { "posted" } else { "rejected" })
        .bind(uow.ctx.actor.name.clone())
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if done != 1 {
        return Err(Error::Conflict {
            code: "count_not_pending",
            message: format!(
                "count {} is {}, not waiting for approval",
                before.number,
                before.status.replace('_', " ")
            ),
        });
    }
    if approve {
        post_count(&mut uow, &before.id).await?;
    }
    let after = load_count(&mut uow.tx, &before.id).await?;
    uow.record(
        Change {
            action: if approve {
                "count.approve"
            } else {
                "count.reject"
            },
            entity: "count",
            entity_id: &before.id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        if approve {
            Event::CountPosted {
                count_id: before.id.clone(),
                number: before.number.clone(),
                variance_units: before.variance_units,
            }
        } else {
            Event::CountRejected {
                count_id: before.id.clone(),
                number: before.number.clone(),
            }
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CountFilter {
    pub status: Option<String>,
    pub warehouse: Option<String>,
    /// Submitted on or after this UTC day (`YYYY-MM-DD`); counts still open
    /// have not been submitted and drop out.
    pub submitted_from: Option<String>,
    /// Submitted on or before this UTC day.
    pub submitted_to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Counts, newest first, by status, warehouse and the days they were
/// submitted, within the actor's scope.
pub async fn list_counts(db: &Db, ctx: &Ctx, filter: &CountFilter) -> Result<Page<CycleCount>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(filter.limit);
    let (at, after_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    let status = filter.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status {
        if !["open", "pending_approval", "posted", "rejected"].contains(&s) {
            return Err(Error::invalid(
                "status",
                "use open, pending_approval, posted or rejected",
            ));
        }
    }
    let (submitted_from, submitted_until) = crate::day_range(
        ("submitted_from", filter.submitted_from.as_deref()),
        ("submitted_to", filter.submitted_to.as_deref()),
    )?;
    let scoped = scope_list(ctx);
    // Counts number in the hundreds a year, so optional filters written as
    // `($n is null or …)` cost nothing here.
    let ids: Vec<(String, i64)> = sqlx::query_as(
        "select c.count_id, c.created_at from cycle_count c join warehouse w on w.warehouse_id = c.warehouse_id
         where ($1 is null or c.status = $1) and ($2 is null or w.code = $2)
           and ($3 is null or c.created_at < $3 or (c.created_at = $3 and c.count_id < $4))
           and ($5 is null or ',' || $5 || ',' like '%,' || w.code || ',%')
           and ($7 is null or c.submitted_at >= $7) and ($8 is null or c.submitted_at < $8)
         order by c.created_at desc, c.count_id desc limit $6",
    )
    .bind(status)
    .bind(filter.warehouse.as_deref().filter(|w| !w.is_empty()).map(str::to_uppercase))
    .bind(at)
    .bind(after_id)
    .bind(scoped)
    .bind(limit + 1)
    .bind(submitted_from)
    .bind(submitted_until)
    .fetch_all(&db.pool)
    .await?;
    let mut conn = db.pool.acquire().await?;
    let mut items = Vec::new();
    for (id, _) in ids.iter().take(limit as usize) {
        items.push(load_count(&mut conn, id).await?);
    }
    Ok(Page {
        items,
        next_cursor: crate::time_cursor_after(&ids, limit),
    })
}

/// Inventory accuracy over the last `days`: posted count lines that matched.
pub async fn accuracy(db: &Db, ctx: &Ctx, days: i64) -> Result<Accuracy> {
    ctx.require(Permission::InventoryRead)?;
    let since = ctx.now() - days * 86_400_000_000;
    let (counted, exact): (i64, i64) = sqlx::query_as(
        "select cast(count(*) as bigint), cast(coalesce(sum(case when l.counted = l.expected then 1 else 0 end), 0) as bigint)
         from cycle_count_line l join cycle_count c on c.count_id = l.count_id
         where c.status = 'posted' and c.submitted_at >= $1",
    )
    .bind(since)
    .fetch_one(&db.pool)
    .await?;
    Ok(Accuracy {
        days,
        lines_counted: counted,
        lines_exact: exact,
        percent: rules::accuracy_percent(counted, exact),
    })
}

// ---------------------------------------------------------------------------
// The checker.

/// One row where a derived figure disagrees with what the ledger says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub check: &'static str,
    pub sku: String,
    pub warehouse: String,
    pub location: String,
    pub lot: String,
    /// What the ledger (or the reservations) add up to.
    pub expected: i64,
    /// What is stored.
    pub recorded: i64,
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} in {}{}{}: expected {}, recorded {}",
            self.check,
            self.sku,
            self.warehouse,
            if self.location.is_empty() {
                String::new()
            } else {
                format!(" bin {}", self.location)
            },
            if self.lot.is_empty() {
                String::new()
            } else {
                format!(" lot {}", self.lot)
            },
            self.expected,
            self.recorded
        )
    }
}

/// Recomputes bin balances from the ledger, warehouse on-hand from the bins,
/// reserved from live reservations, and each live order's open units from
/// its fulfilments and backorders, and lists every row that differs.
pub async fn check(db: &Db) -> Result<Vec<Drift>> {
    let mut drift = Vec::new();
    let checks = [
        (
            "bin balance vs ledger",
            "select p.sku, w.code as warehouse, l.code as location, x.lot, cast(sum(x.ledger) as bigint) as expected, cast(sum(x.stored) as bigint) as recorded
             from (select product_id, location_id, lot, quantity as ledger, 0 as stored from stock_movement
                   union all select product_id, location_id, lot, 0, on_hand from stock_balance) x
             join product p on p.product_id = x.product_id join location l on l.location_id = x.location_id
             join warehouse w on w.warehouse_id = l.warehouse_id
             group by p.sku, w.code, l.code, x.lot having sum(x.ledger) <> sum(x.stored) or sum(x.ledger) < 0",
        ),
        (
            "warehouse on-hand vs bins",
            "select p.sku, w.code as warehouse, '' as location, '' as lot, cast(sum(x.bins) as bigint) as expected, cast(sum(x.stored) as bigint) as recorded
             from (select b.product_id, l.warehouse_id, b.on_hand as bins, 0 as stored from stock_balance b join location l on l.location_id = b.location_id
                   union all select product_id, warehouse_id, 0, on_hand from stock_level) x
             join product p on p.product_id = x.product_id join warehouse w on w.warehouse_id = x.warehouse_id
             group by p.sku, w.code having sum(x.bins) <> sum(x.stored)",
        ),
        (
            "reserved vs live reservations",
            "select p.sku, w.code as warehouse, '' as location, '' as lot, cast(sum(x.held) as bigint) as expected, cast(sum(x.stored) as bigint) as recorded
             from (select a.product_id, a.warehouse_id, a.quantity as held, 0 as stored from reservation_alloc a
                     join reservation r on r.reservation_id = a.reservation_id where r.status = 'active'
                   union all select product_id, warehouse_id, 0, reserved from stock_level) x
             join product p on p.product_id = x.product_id join warehouse w on w.warehouse_id = x.warehouse_id
             group by p.sku, w.code having sum(x.held) <> sum(x.stored) or sum(x.stored) < 0",
        ),
        (
            // Every open unit of a live, sourced order is in an unshipped
            // fulfilment or backordered (the "warehouse" column names the order).
            "order line units vs fulfilments and backorders",
            "select ol.sku, o.number as warehouse, '' as location, '' as lot, cast(ol.quantity - ol.cancelled_quantity - ol.shipped_quantity as bigint) as expected,
                    cast(coalesce(f.units, 0) + ol.backordered_quantity as bigint) as recorded
             from order_line ol join sales_order o on o.order_id = ol.order_id
             join reservation r on r.reservation_id = o.reservation_id and r.status = 'active'
             left join (select f.order_id, fl.line_no, sum(fl.quantity) as units from fulfillment f
                        join fulfillment_line fl on fl.fulfillment_id = f.fulfillment_id where f.status in ('open', 'picking', 'picked')
                        group by f.order_id, fl.line_no) f on f.order_id = ol.order_id and f.line_no = ol.line_no
             where o.status in ('received', 'confirmed', 'in_fulfilment') and ol.product_id is not null
               and ol.quantity - ol.cancelled_quantity - ol.shipped_quantity <> coalesce(f.units, 0) + ol.backordered_quantity",
        ),
        (
            // Units promised to pick tasks that have not shipped are still
            // in their bins; a bin holding fewer needs a count.
            "bin units vs picks waiting to ship",
            "select p.sku, w.code as warehouse, l.code as location, t.lot, cast(sum(t.quantity - t.short) as bigint) as expected,
                    cast(coalesce(max(b.on_hand), 0) as bigint) as recorded
             from pick_task t join location l on l.location_id = t.location_id join warehouse w on w.warehouse_id = l.warehouse_id
             join product p on p.product_id = t.product_id
             left join stock_balance b on b.product_id = t.product_id and b.location_id = t.location_id and b.lot = t.lot
             where t.status in ('open', 'picked')
             group by p.sku, w.code, l.code, t.lot having sum(t.quantity - t.short) > coalesce(max(b.on_hand), 0)",
        ),
        (
            // A delivery line's received units are its putaways, and an
            // announced line never passes what was announced (the
            // "warehouse" column names the delivery).
            "delivery lines vs putaways",
            "select p.sku, d.number as warehouse, '' as location, '' as lot,
                    cast(coalesce((select sum(x.quantity) from delivery_put x where x.delivery_id = l.delivery_id and x.product_id = l.product_id), 0) as bigint) as expected,
                    l.received as recorded
             from delivery_line l join delivery d on d.delivery_id = l.delivery_id join product p on p.product_id = l.product_id
             where l.received <> coalesce((select sum(x.quantity) from delivery_put x where x.delivery_id = l.delivery_id and x.product_id = l.product_id), 0)
                or (d.blind = 0 and l.received > l.expected)",
        ),
        (
            "order backordered units vs its lines",
            "select '' as sku, o.number as warehouse, '' as location, '' as lot, cast(sum(ol.backordered_quantity) as bigint) as expected,
                    o.backordered_units as recorded
             from sales_order o join order_line ol on ol.order_id = o.order_id
             group by o.order_id, o.number, o.backordered_units having sum(ol.backordered_quantity) <> o.backordered_units",
        ),
    ];
    for (name, sql) in checks {
        for r in sqlx::query(sql).fetch_all(&db.pool).await? {
            drift.push(Drift {
                check: name,
                sku: r.try_get("sku")?,
                warehouse: r.try_get("warehouse")?,
                location: r.try_get("location")?,
                lot: r.try_get("lot")?,
                expected: r.try_get("expected")?,
                recorded: r.try_get("recorded")?,
            });
        }
    }
    Ok(drift)
}
