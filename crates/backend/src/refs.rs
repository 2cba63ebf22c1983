//! Products, warehouses, bins and channels as every context reads them, with
//! the viewer's warehouse scope.

use std::collections::HashMap;

use domain::{
    fulfillment::Part,
    inventory::{self as rules},
    FieldError, Sku,
};
use sqlx::{AnyConnection, Row};

use crate::{
    ctx::Ctx,
    error::{Error, Result},
    sql::in_chunks,
    uow::Uow,
};

/// A channel's stored warehouse list (its sourcing rule). A list that does
/// not parse is an error, never an empty rule: an empty rule would quietly
/// backorder every order of the channel. `keel check` names such channels.
pub(crate) fn stored_warehouses(channel: &str, json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| {
        Error::Internal(format!(
            "channel {channel}'s stored warehouse list is not a JSON list of codes ({e}); `keel check` reports it"
        ))
    })
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

#[derive(Debug, Clone)]
pub(crate) struct ProductRef {
    pub id: String,
    pub sku: String,
    pub kind: String,
    pub track_lots: bool,
    pub track_serials: bool,
}

impl ProductRef {
    pub(crate) fn is_bundle(&self) -> bool {
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

pub(crate) fn in_scope(ctx: &Ctx, code: &str) -> Result<()> {
    if ctx.actor.scope.allows_warehouse(code) {
        Ok(())
    } else {
        Err(Error::OutOfScope {
            what: format!("warehouse {code}"),
        })
    }
}

/// A record of a warehouse outside the caller's scope reads as absent: the
/// same 404 as a record that doesn't exist, so its existence isn't told.
/// (A warehouse itself, named by code, is refused as out of scope instead:
/// every caller can list the warehouses.)
pub(crate) fn visible_in(
    ctx: &Ctx,
    warehouse: &str,
    entity: &'static str,
    key: &str,
) -> Result<()> {
    if ctx.actor.scope.allows_warehouse(warehouse) {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity,
            key: key.to_string(),
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

pub(crate) struct ChannelRef {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) warehouses: Vec<WarehouseRef>,
    pub(crate) buffer: i64,
}

/// The id of the warehouse with `code` among `warehouses`. Plans only name
/// the warehouses they were given, so the code is always among them.
pub(crate) fn warehouse_id_in(warehouses: &[WarehouseRef], code: &str) -> String {
    warehouses
        .iter()
        .find(|w| w.code == code)
        .map(|w| w.id.clone())
        .unwrap_or_default()
}

pub(crate) async fn channel_ref(
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
    let codes = stored_warehouses(&code, &row.try_get::<String, _>("warehouses_json")?)?;
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

/// Components of a bundle as (component product id, quantity per bundle),
/// sorted by id so that every transaction locks stock rows in the same order.
pub(crate) async fn components_of(
    conn: &mut sqlx::AnyConnection,
    bundle_id: &str,
) -> Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "select c.component_id, p.sku, c.quantity from bundle_component c join product p on p.product_id = c.component_id
         where c.bundle_id = $1 order by c.component_id",
    )
    .bind(bundle_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("component_id")?,
                r.try_get("sku")?,
                r.try_get("quantity")?,
            ))
        })
        .collect()
}

/// What each bundle among `products` is made of.
pub(crate) async fn components(
    conn: &mut AnyConnection,
    products: &[String],
    statements: &mut i64,
) -> Result<HashMap<String, Vec<Part>>> {
    let mut out: HashMap<String, Vec<Part>> = HashMap::new();
    let rows: Vec<(String, String, i64)> = in_chunks(
        conn,
        "select bundle_id, component_id, quantity from bundle_component where bundle_id in ({ids})",
        products,
        statements,
    )
    .await?;
    for (bundle, component, per_unit) in rows {
        out.entry(bundle).or_default().push(Part {
            product_id: component,
            per_unit,
        });
    }
    Ok(out)
}
