//! Products: create, edit, read, list and export, each edit with its audit
//! row and event.

use domain::{
    catalog::{self, NewProduct, Price, ProductInput},
    events::Event,
    governance::Permission,
    money::Currency,
    views::{Component, Product, ProductFilter, ProductRow},
    FieldError, Money,
};
use serde::{Deserialize, Serialize};
use sqlx::{any::AnyRow, Row};

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Conflict, Error, Result},
    page_limit, rfc3339,
    uow::{Change, Idempotency, Uow},
    Page,
};

/// A product update: the full product as it should be, and the version read.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductUpdate {
    pub product: ProductInput,
    /// The version you read; a stale one gets 409 version_conflict.
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

#[tracing::instrument(skip_all, fields(sku = %input.sku))]
pub async fn create_product(
    db: &Db,
    ctx: &Ctx,
    input: ProductInput,
    idem: Option<&Idempotency>,
) -> Result<Product> {
    ctx.require(Permission::CatalogWrite)?;
    let new = NewProduct::parse(&input)?;
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    if product_id(&mut uow, new.sku.as_str()).await?.is_some() {
        return Err(Error::invalid(
            "sku",
            format!("a product with SKU {} already exists", new.sku),
        ));
    }
    save(&mut uow, &new, None, "product.create").await?;
    let product = load(&mut uow, new.sku.as_str()).await?;
    uow.remember(&product).await?;
    uow.commit().await?;
    Ok(product)
}

#[tracing::instrument(skip_all, fields(sku = %sku))]
pub async fn update_product(
    db: &Db,
    ctx: &Ctx,
    sku: &str,
    update: ProductUpdate,
) -> Result<Product> {
    ctx.require(Permission::CatalogWrite)?;
    let new = NewProduct::parse(&update.product)?;
    if new.sku.as_str() != sku {
        return Err(Error::invalid(
            "product.sku",
            "a SKU can't be renamed; archive this product and create a new one",
        ));
    }
    let mut uow = db.begin(ctx).await?;
    if product_id(&mut uow, sku).await?.is_none() {
        return Err(not_found(sku));
    }
    save(&mut uow, &new, Some(update.version), "product.update").await?;
    let product = load(&mut uow, sku).await?;
    uow.commit().await?;
    Ok(product)
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, sku = %sku))]
pub async fn get_product(db: &Db, ctx: &Ctx, sku: &str) -> Result<Product> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    read_product(&mut conn, sku).await
}

fn not_found(sku: &str) -> Error {
    Error::NotFound {
        entity: "product",
        key: sku.to_string(),
    }
}

async fn product_id(uow: &mut Uow, sku: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select product_id from product where sku = $1")
            .bind(sku)
            .fetch_optional(&mut *uow.tx)
            .await?,
    )
}

async fn load(uow: &mut Uow, sku: &str) -> Result<Product> {
    read_product(&mut uow.tx, sku).await
}

async fn read_product(conn: &mut sqlx::AnyConnection, sku: &str) -> Result<Product> {
    let row = sqlx::query("select * from product where sku = $1")
        .bind(sku)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| not_found(sku))?;
    let id: String = row.try_get("product_id")?;
    let prices = sqlx::query(
        "select currency, cost_minor, price_minor from product_price where product_id = $1 order by currency",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        let code: String = r.try_get("currency")?;
        let currency = Currency::parse(&code)
            .map_err(|e| Error::Internal(format!("stored currency is invalid: {e}")))?;
        Ok(Price {
            currency: code,
            cost: Money::from_minor(r.try_get("cost_minor")?, currency),
            price: Money::from_minor(r.try_get("price_minor")?, currency),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let components = sqlx::query(
        "select p.sku, p.name, c.quantity from bundle_component c join product p on p.product_id = c.component_id
         where c.bundle_id = $1 order by p.sku",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(Component {
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            quantity: r.try_get("quantity")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    product_from_row(&row, prices, components)
}

fn product_from_row(
    row: &AnyRow,
    prices: Vec<Price>,
    components: Vec<Component>,
) -> Result<Product> {
    let dims = match (
        row.try_get::<Option<i64>, _>("length_mm")?,
        row.try_get::<Option<i64>, _>("width_mm")?,
        row.try_get::<Option<i64>, _>("height_mm")?,
    ) {
        (Some(length), Some(width), Some(height)) => Some(catalog::Dimensions {
            length,
            width,
            height,
        }),
        _ => None,
    };
    let options: String = row.try_get("options_json")?;
    Ok(Product {
        id: row.try_get("product_id")?,
        sku: row.try_get("sku")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        group: row.try_get("group_code")?,
        options: serde_json::from_str(&options).unwrap_or_default(),
        gtin: row.try_get("gtin")?,
        unit: row.try_get("unit")?,
        weight_g: row.try_get("weight_g")?,
        dimensions_mm: dims,
        tax_category: row.try_get("tax_category")?,
        track_lots: row.try_get::<i16, _>("track_lots")? >= 1,
        track_serials: row.try_get::<i16, _>("track_lots")? == 2,
        active: row.try_get::<i16, _>("active")? == 1,
        prices,
        components,
        version: row.try_get("version")?,
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    })
}

/// Whether the stored product already says exactly what `new` says.
fn same(stored: &Product, new: &NewProduct) -> bool {
    stored.name == new.name
        && stored.gtin.as_deref() == new.gtin.as_ref().map(|g| g.as_str())
        && stored.group == new.group
        && stored.options == new.options
        && stored.unit == new.unit
        && stored.weight_g == new.weight_g
        && stored.dimensions_mm == new.dimensions_mm
        && stored.tax_category == new.tax_category
        && stored.track_lots == new.track_lots
        && stored.track_serials == new.track_serials
        && stored.active == new.active
        && stored.prices == new.prices
        && {
            let mut a: Vec<(&str, i64)> = stored
                .components
                .iter()
                .map(|c| (c.sku.as_str(), c.quantity))
                .collect();
            let mut b: Vec<(&str, i64)> = new
                .components
                .iter()
                .map(|(s, q)| (s.as_str(), *q))
                .collect();
            a.sort();
            b.sort();
            a == b
        }
}

/// Writes a product (insert, or update when it exists) with its prices and
/// components, plus the audit row and event. `expected_version` is checked
/// when given. Returns what happened; an unchanged product writes nothing.
pub(super) async fn save(
    uow: &mut Uow,
    new: &NewProduct,
    expected_version: Option<i64>,
    action: &str,
) -> Result<Outcome> {
    let existing = match product_id(uow, new.sku.as_str()).await? {
        Some(_) => Some(load(uow, new.sku.as_str()).await?),
        None => None,
    };
    if let (Some(stored), Some(v)) = (&existing, expected_version) {
        if stored.version != v {
            return Err(Error::Conflict {
                code: Conflict::VersionConflict,
                message: format!(
                    "{} was changed by someone else (now version {}); reload and try again",
                    new.sku, stored.version
                ),
            });
        }
    }
    if let Some(stored) = &existing {
        if same(stored, new) {
            return Ok(Outcome::Unchanged);
        }
    }
    let component_ids = check_against_catalogue(uow, new, existing.as_ref()).await?;
    let id = write_product(uow, new, existing.as_ref()).await?;
    write_parts(uow, &id, new, &component_ids).await?;
    let after = load(uow, new.sku.as_str()).await?;
    let (outcome, event) = match existing {
        None => (
            Outcome::Created,
            Event::ProductCreated {
                product_id: id.clone(),
                sku: after.sku.clone(),
                kind: after.kind.clone(),
            },
        ),
        Some(_) => (
            Outcome::Updated,
            Event::ProductUpdated {
                product_id: id.clone(),
                sku: after.sku.clone(),
                active: after.active,
            },
        ),
    };
    uow.record(
        Change {
            action,
            entity: "product",
            entity_id: &id,
            before: existing.as_ref().and_then(|p| serde_json::to_value(p).ok()),
            after: serde_json::to_value(&after).ok(),
        },
        event,
    )
    .await?;
    Ok(outcome)
}

/// What a product may only be in the light of the rest of the catalogue:
/// its GTIN nobody else's, its components existing items (not bundles), and
/// no switch between item and bundle once it has stock history or is a
/// component. Returns the components' ids with their quantities.
async fn check_against_catalogue(
    uow: &mut Uow,
    new: &NewProduct,
    existing: Option<&Product>,
) -> Result<Vec<(String, i64)>> {
    let mut errors = Vec::new();
    if let Some(gtin) = &new.gtin {
        let owner: Option<String> = sqlx::query_scalar("select sku from product where gtin = $1")
            .bind(gtin.as_str())
            .fetch_optional(&mut *uow.tx)
            .await?;
        if let Some(owner) = owner.filter(|o| o != new.sku.as_str()) {
            errors.push(FieldError::new(
                "gtin",
                format!("GTIN {gtin} already belongs to {owner}"),
            ));
        }
    }
    let mut component_ids = Vec::new();
    for (i, (sku, qty)) in new.components.iter().enumerate() {
        let row = sqlx::query("select product_id, kind from product where sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *uow.tx)
            .await?;
        match row {
            None => errors.push(FieldError::new(
                format!("components[{i}].sku"),
                format!("there is no product {sku}; create it first"),
            )),
            Some(r) if r.try_get::<String, _>("kind")? == "bundle" => errors.push(FieldError::new(
                format!("components[{i}].sku"),
                format!("{sku} is itself a bundle; list its components instead"),
            )),
            Some(r) => component_ids.push((r.try_get::<String, _>("product_id")?, *qty)),
        }
    }
    if let Some(stored) = existing.filter(|p| p.kind != new.kind()) {
        let held: i64 = sqlx::query_scalar(
            "select cast(count(*) as bigint) from stock_movement where product_id = $1",
        )
        .bind(&stored.id)
        .fetch_one(&mut *uow.tx)
        .await?;
        let used: i64 = sqlx::query_scalar(
            "select cast(count(*) as bigint) from bundle_component where component_id = $1",
        )
        .bind(&stored.id)
        .fetch_one(&mut *uow.tx)
        .await?;
        if held > 0 || used > 0 {
            errors.push(FieldError::new(
                "components",
                format!(
                    "{} already has stock history or is part of a bundle, so it can't switch between item and bundle",
                    new.sku
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(component_ids)
    } else {
        Err(Error::Invalid(errors))
    }
}

/// The product's own row: updated in place (its prices and components
/// cleared, to be written again), or inserted. Returns its id.
async fn write_product(
    uow: &mut Uow,
    new: &NewProduct,
    existing: Option<&Product>,
) -> Result<String> {
    let now = uow.now();
    let dims = new.dimensions_mm.as_ref();
    let options = serde_json::to_string(&new.options)
        .map_err(|e| Error::Internal(format!("the options of {} don't serialize: {e}", new.sku)))?;
    let (id, sql) = match existing {
        Some(stored) => (
            stored.id.clone(),
            "update product set sku = $2, name = $3, group_code = $4, options_json = $5, gtin = $6, kind = $7, unit = $8,
             weight_g = $9, length_mm = $10, width_mm = $11, height_mm = $12, tax_category = $13, track_lots = $14,
             active = $15, version = version + 1, updated_at = $16 where product_id = $1",
        ),
        None => (
            uuid::Uuid::now_v7().to_string(),
            "insert into product (product_id, sku, name, group_code, options_json, gtin, kind, unit, weight_g,
             length_mm, width_mm, height_mm, tax_category, track_lots, active, version, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $16)",
        ),
    };
    sqlx::query(sql)
        .bind(&id)
        .bind(new.sku.as_str())
        .bind(&new.name)
        .bind(new.group.clone())
        .bind(&options)
        .bind(new.gtin.as_ref().map(|g| g.as_str().to_string()))
        .bind(new.kind())
        .bind(&new.unit)
        .bind(new.weight_g)
        .bind(dims.map(|d| d.length))
        .bind(dims.map(|d| d.width))
        .bind(dims.map(|d| d.height))
        .bind(&new.tax_category)
        .bind(tracking_code(new))
        .bind(i16::from(new.active))
        .bind(now)
        .execute(&mut *uow.tx)
        .await
        .map_err(|e| {
            crate::error::on_unique(
                e,
                "sku",
                &format!("a product with SKU {} already exists", new.sku),
            )
        })?;
    if existing.is_some() {
        for table in [
            "product_price where product_id",
            "bundle_component where bundle_id",
        ] {
            sqlx::query(&format!("delete from {table} = $1"))
                .bind(&id)
                .execute(&mut *uow.tx)
                .await?;
        }
    }
    Ok(id)
}

/// The product's prices and a bundle's components.
async fn write_parts(
    uow: &mut Uow,
    id: &str,
    new: &NewProduct,
    component_ids: &[(String, i64)],
) -> Result<()> {
    for p in &new.prices {
        sqlx::query(
            "insert into product_price (product_id, currency, cost_minor, price_minor) values ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(&p.currency)
        .bind(p.cost.minor())
        .bind(p.price.minor())
        .execute(&mut *uow.tx)
        .await?;
    }
    for (component_id, qty) in component_ids {
        sqlx::query(
            "insert into bundle_component (bundle_id, component_id, quantity) values ($1, $2, $3)",
        )
        .bind(id)
        .bind(component_id)
        .bind(qty)
        .execute(&mut *uow.tx)
        .await?;
    }
    Ok(())
}

/// `product.track_lots`: 0 untracked, 1 lots, 2 serials (lots of one).
fn tracking_code(p: &NewProduct) -> i16 {
    match (p.track_lots, p.track_serials) {
        (_, true) => 2,
        (true, false) => 1,
        _ => 0,
    }
}

/// Products by SKU with their stock totals, filtered and keyset-paginated.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_products(db: &Db, ctx: &Ctx, filter: &ProductFilter) -> Result<Page<ProductRow>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(filter.limit);
    let q = crate::sql::contains(filter.q.as_deref());
    let status = match filter.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("active") => Some(1i16),
        Some("archived") => Some(0),
        Some(_) => return Err(Error::invalid("status", "use active or archived")),
    };
    let kind = match filter.kind.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(k @ ("item" | "bundle")) => Some(k.to_string()),
        Some(_) => return Err(Error::invalid("kind", "use item or bundle")),
    };
    let mut f = crate::sql::Filters::default();
    let scoped = f
        .scope_condition(&ctx.actor.scope.warehouses, &["w.code"], false)
        .map(|c| format!(" and {c}"))
        .unwrap_or_default();
    f.like_any(&["lower(p.sku)", "lower(p.name)", "p.gtin"], q);
    f.eq("p.active", status);
    f.eq("p.kind", kind);
    if let Some(c) = filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        let p = f.arg(c);
        f.and(format!("p.sku > {p}"));
    }
    let n = f.arg(limit + 1);
    // An item's totals come with the row (over the actor's active
    // warehouses); only bundles need their components read separately.
    let sql = format!(
        "select p.product_id, p.sku, p.name, p.kind, p.group_code, p.gtin, p.active, t.on_hand, t.available
         from product p
         left join (select s.product_id, cast(sum(s.on_hand) as bigint) as on_hand,
                           cast(sum(s.on_hand - s.reserved) as bigint) as available
                    from stock_level s join warehouse w on w.warehouse_id = s.warehouse_id
                    where w.active = 1{scoped}
                    group by s.product_id) t on t.product_id = p.product_id
         where {} order by p.sku limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut conn = db.pool.acquire().await?;
    for row in rows.iter().take(limit as usize) {
        let sku: String = row.try_get("sku")?;
        let kind: String = row.try_get("kind")?;
        let (on_hand, available) = if kind == "bundle" {
            let stock = crate::inventory::stock::stock_of(&mut conn, ctx, &sku).await?;
            (stock.on_hand, stock.available)
        } else {
            (
                row.try_get::<Option<i64>, _>("on_hand")?.unwrap_or(0),
                row.try_get::<Option<i64>, _>("available")?.unwrap_or(0),
            )
        };
        items.push(ProductRow {
            sku,
            name: row.try_get("name")?,
            kind,
            group: row.try_get("group_code")?,
            gtin: row.try_get("gtin")?,
            active: row.try_get::<i16, _>("active")? == 1,
            on_hand,
            available,
        });
    }
    let next_cursor = (rows.len() as i64 > limit)
        .then(|| items.last().map(|p| p.sku.clone()))
        .flatten();
    Ok(Page { items, next_cursor })
}

/// The whole catalogue as CSV, in `catalog::CSV_COLUMNS` order.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn export_csv(db: &Db, ctx: &Ctx) -> Result<String> {
    ctx.require(Permission::InventoryRead)?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Internal(format!("CSV write failed: {e}"));
    out.write_record(catalog::CSV_COLUMNS).map_err(io)?;
    let skus: Vec<String> = sqlx::query_scalar("select sku from product order by sku")
        .fetch_all(&db.pool)
        .await?;
    let mut conn = db.pool.acquire().await?;
    for sku in skus {
        let p = read_product(&mut conn, &sku).await?;
        out.write_record(p.csv_row()).map_err(io)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("CSV write failed: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Error::Internal(e.to_string()))
}
