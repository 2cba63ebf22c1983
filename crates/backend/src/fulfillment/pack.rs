//! Packing picked units into weighed and measured packages that must verify
//! before shipping.

use super::steps::{gtin14s, load_packages, load_shipment, today};
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::Event,
    fulfillment::{self as rules, PickTarget},
    governance::Permission,
    views::{PackLine, PackView, PackageView, ScanOutcome, WaveFulfillment},
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackScanInput {
    /// The item's SKU, GTIN or GS1 element string: one unit.
    pub code: String,
    /// The package to pack into (1, 2, …): the last one when absent; the
    /// next number starts a new package.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub package: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureInput {
    #[schemars(range(min = 1, max = 70_000))]
    pub weight_g: i64,
    #[schemars(range(min = 1, max = 2700))]
    pub length_mm: i64,
    #[schemars(range(min = 1, max = 2700))]
    pub width_mm: i64,
    #[schemars(range(min = 1, max = 2700))]
    pub height_mm: i64,
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn pack_view(db: &Db, ctx: &Ctx, id: &str) -> Result<PackView> {
    ctx.require(Permission::FloorUse)?;
    let mut conn = db.pool.acquire().await?;
    let view = load_pack(&mut conn, id).await?;
    crate::refs::visible_in(ctx, &view.warehouse, "fulfillment", id)?;
    Ok(view)
}

/// Finds a fulfilment by id or by its label (`SO-000123-1`).
pub(crate) async fn fulfillment_id(conn: &mut AnyConnection, key: &str) -> Result<String> {
    let key = key.trim();
    let by_id: Option<String> =
        sqlx::query_scalar("select fulfillment_id from fulfillment where fulfillment_id = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(id) = by_id {
        return Ok(id);
    }
    if let Some((number, seq)) = key.rsplit_once('-') {
        if let Ok(seq) = seq.parse::<i64>() {
            let id: Option<String> = sqlx::query_scalar(
                "select f.fulfillment_id from fulfillment f join sales_order o on o.order_id = f.order_id where o.number = $1 and f.seq = $2",
            )
            .bind(number.to_ascii_uppercase())
            .bind(seq)
            .fetch_optional(&mut *conn)
            .await?;
            if let Some(id) = id {
                return Ok(id);
            }
        }
    }
    Err(Error::NotFound {
        entity: "fulfillment",
        key: key.to_string(),
    })
}

fn pack_states(packages: &[PackageView]) -> Vec<rules::PackState> {
    packages
        .iter()
        .map(|p| rules::PackState {
            seq: p.seq,
            units: p.items.iter().map(|i| (i.line_no, i.quantity)).collect(),
            weight_g: p.weight_g,
            dims_mm: p.dimensions_mm.map(|[l, w, h]| (l, w, h)),
        })
        .collect()
}

async fn load_pack(conn: &mut AnyConnection, key: &str) -> Result<PackView> {
    let id = fulfillment_id(conn, key).await?;
    let row = sqlx::query(
        "select f.fulfillment_id, f.seq, f.status, o.order_id, o.number, o.shipping_method, w.code as warehouse
         from fulfillment f join sales_order o on o.order_id = f.order_id join warehouse w on w.warehouse_id = f.warehouse_id
         where f.fulfillment_id = $1",
    )
    .bind(&id)
    .fetch_one(&mut *conn)
    .await?;
    let lines: Vec<(i64, String, i64, String)> = sqlx::query_as(
        "select fl.line_no, fl.sku, fl.quantity, ol.name from fulfillment_line fl
         join fulfillment f on f.fulfillment_id = fl.fulfillment_id
         join order_line ol on ol.order_id = f.order_id and ol.line_no = fl.line_no
         where fl.fulfillment_id = $1 order by fl.line_no",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    let packages = load_packages(conn, &id).await?;
    let status: String = row.try_get("status")?;
    let picked: BTreeMap<i64, (String, i64)> =
        lines.iter().map(|l| (l.0, (l.1.clone(), l.2))).collect();
    let states = pack_states(&packages);
    let problems = match status.as_str() {
        "picked" => rules::pack_problems(&picked, &states),
        "picking" => vec!["Picking is not finished yet".to_string()],
        "open" => vec!["Not picked yet: it is not in a wave".to_string()],
        "shipped" => Vec::new(),
        other => vec![format!("This fulfilment is {other}")],
    };
    let shipment_id: Option<String> =
        sqlx::query_scalar("select shipment_id from shipment where fulfillment_id = $1")
            .bind(&id)
            .fetch_optional(&mut *conn)
            .await?;
    let shipment = match shipment_id {
        Some(s) => Some(load_shipment(conn, &s).await?),
        None => None,
    };
    let number: String = row.try_get("number")?;
    let seq: i64 = row.try_get("seq")?;
    Ok(PackView {
        label: format!("{number}-{seq}"),
        fulfillment_id: id,
        order_id: row.try_get("order_id")?,
        order_number: number,
        warehouse: row.try_get("warehouse")?,
        shipping_method: row.try_get("shipping_method")?,
        verified: problems.is_empty() && status != "cancelled",
        lines: lines
            .into_iter()
            .map(|(line_no, sku, quantity, name)| PackLine {
                packed: states
                    .iter()
                    .map(|p| p.units.get(&line_no).copied().unwrap_or(0))
                    .sum(),
                line_no,
                sku,
                name,
                picked: quantity,
            })
            .collect(),
        status,
        packages,
        problems,
        shipment,
    })
}

/// Packing is open on a picked fulfilment in the actor's warehouse.
pub(crate) async fn packing(uow: &mut Uow, key: &str) -> Result<PackView> {
    let id = fulfillment_id(&mut uow.tx, key).await?;
    // Lock the fulfilment (PostgreSQL; SQLite holds its write lock) so
    // that scans from two benches queue.
    sqlx::query("update fulfillment set updated_at = updated_at where fulfillment_id = $1")
        .bind(&id)
        .execute(&mut *uow.tx)
        .await?;
    let view = load_pack(&mut uow.tx, &id).await?;
    crate::refs::visible_in(&uow.ctx, &view.warehouse, "fulfillment", key)?;
    if view.status != "picked" {
        return Err(Error::Conflict {
            code: Conflict::NotPackable,
            message: match view.status.as_str() {
                "shipped" => format!("{} has shipped already", view.label),
                "picking" | "open" => format!("{} is not picked yet", view.label),
                s => format!("{} is {s}", view.label),
            },
        });
    }
    Ok(view)
}

/// Scans one unit into a package. An item that isn't in the fulfilment, or
/// one more than was picked, is refused and changes nothing.
#[tracing::instrument(skip_all, fields(fulfillment = %key))]
pub async fn pack_scan(
    db: &Db,
    ctx: &Ctx,
    key: &str,
    input: PackScanInput,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<PackView>> {
    ctx.require(Permission::FloorUse)?;
    let code = input.code.trim().to_string();
    if code.is_empty() || code.len() > 200 {
        return Err(Error::invalid("code", "scan the item's barcode"));
    }
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let view = packing(&mut uow, key).await?;
    let last = view.packages.last().map(|p| p.seq).unwrap_or(0);
    let seq = input.package.unwrap_or(last.max(1));
    if seq < 1 || seq > last + 1 {
        return Err(Error::invalid(
            "package",
            format!("pack into package 1 to {}", last + 1),
        ));
    }
    let picked: BTreeMap<i64, (String, i64)> = view
        .lines
        .iter()
        .map(|l| (l.line_no, (l.sku.clone(), l.picked)))
        .collect();
    let states = pack_states(&view.packages);
    let today = today(uow.now());
    let skus: Vec<&str> = view.lines.iter().map(|l| l.sku.as_str()).collect();
    let gtins = gtin14s(&mut uow.tx, &skus).await?;
    let mut matched = None;
    let mut full = None;
    for l in &view.lines {
        let target = PickTarget {
            location: String::new(),
            sku: l.sku.clone(),
            name: l.name.clone(),
            gtin14: gtins.get(&l.sku).cloned(),
            lot: String::new(),
            remaining: 0,
        };
        if rules::match_item(&target, &code, &today).is_ok() {
            if rules::pack_room(&picked, &states, l.line_no) > 0 {
                matched = Some(l.clone());
                break;
            }
            full = Some(l.clone());
        }
    }
    let Some(line) = matched else {
        let message = match full {
            Some(l) => format!(
                "All {} of {} are packed already. Set this one aside.",
                l.picked, l.sku
            ),
            None => format!("{code} is not in {}. Set it aside.", view.label),
        };
        let outcome = ScanOutcome {
            accepted: false,
            message,
            state: view,
        };
        uow.remember(&outcome).await?;
        uow.commit().await?;
        return Ok(outcome);
    };
    let package_id = match view.packages.iter().find(|p| p.seq == seq) {
        Some(p) => p.id.clone(),
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            sqlx::query("insert into package (package_id, fulfillment_id, seq, created_at) values ($1, $2, $3, $4)")
                .bind(&id)
                .bind(&view.fulfillment_id)
                .bind(seq)
                .bind(uow.now())
                .execute(&mut *uow.tx)
                .await?;
            id
        }
    };
    sqlx::query(
        "insert into package_item (package_id, line_no, sku, quantity) values ($1, $2, $3, 1)
         on conflict (package_id, line_no) do update set quantity = package_item.quantity + 1",
    )
    .bind(&package_id)
    .bind(line.line_no)
    .bind(&line.sku)
    .execute(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "pack.scan",
            entity: "fulfillment",
            entity_id: &view.fulfillment_id,
            before: Some(serde_json::json!({"sku": line.sku, "packed": line.packed})),
            after: Some(
                serde_json::json!({"sku": line.sku, "packed": line.packed + 1, "package": seq}),
            ),
        },
        Event::FulfillmentPacked {
            fulfillment_id: view.fulfillment_id.clone(),
            order_number: view.order_number.clone(),
            package: seq,
            sku: line.sku.clone(),
            units: 1,
        },
    )
    .await?;
    let after = load_pack(&mut uow.tx, &view.fulfillment_id).await?;
    let outcome = ScanOutcome {
        accepted: true,
        message: format!(
            "{} into package {seq}: {} of {} packed.",
            line.sku,
            line.packed + 1,
            line.picked
        ),
        state: after,
    };
    uow.remember(&outcome).await?;
    uow.commit().await?;
    Ok(outcome)
}

/// Records a package's weight and dimensions.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, key = %key))]
pub async fn measure_package(
    db: &Db,
    ctx: &Ctx,
    key: &str,
    seq: i64,
    input: MeasureInput,
) -> Result<PackView> {
    ctx.require(Permission::FloorUse)?;
    rules::check_measures(
        input.weight_g,
        (input.length_mm, input.width_mm, input.height_mm),
    )
    .map_err(Error::Invalid)?;
    let mut uow = db.begin(ctx).await?;
    let view = packing(&mut uow, key).await?;
    let Some(p) = view.packages.iter().find(|p| p.seq == seq) else {
        return Err(Error::NotFound {
            entity: "package",
            key: format!("{} package {seq}", view.label),
        });
    };
    sqlx::query("update package set weight_g = $2, length_mm = $3, width_mm = $4, height_mm = $5 where package_id = $1")
        .bind(&p.id)
        .bind(input.weight_g)
        .bind(input.length_mm)
        .bind(input.width_mm)
        .bind(input.height_mm)
        .execute(&mut *uow.tx)
        .await?;
    let dims = [input.length_mm, input.width_mm, input.height_mm];
    uow.record(
        Change {
            action: "package.measure",
            entity: "fulfillment",
            entity_id: &view.fulfillment_id,
            before: Some(serde_json::json!({"package": seq, "weight_g": p.weight_g, "dimensions_mm": p.dimensions_mm})),
            after: Some(serde_json::json!({"package": seq, "weight_g": input.weight_g, "dimensions_mm": dims})),
        },
        Event::PackageMeasured {
            fulfillment_id: view.fulfillment_id.clone(),
            package: seq,
            weight_g: input.weight_g,
            dimensions_mm: dims,
        },
    )
    .await?;
    let after = load_pack(&mut uow.tx, &view.fulfillment_id).await?;
    uow.commit().await?;
    Ok(after)
}

/// Picked fulfilments waiting at the packing bench in the actor's
/// warehouses, oldest pick first.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn to_pack(db: &Db, ctx: &Ctx, limit: i64) -> Result<Vec<WaveFulfillment>> {
    ctx.require(Permission::FloorUse)?;
    let mut f = crate::sql::Filters::default();
    f.and("f.status = 'picked'");
    f.scope(&ctx.actor.scope.warehouses, &["w.code"], false);
    let n = f.arg(limit.clamp(1, 200));
    let sql = format!(
        "select f.fulfillment_id, f.seq, f.status, o.order_id, o.number, o.shipping_method, w.code from fulfillment f
         join sales_order o on o.order_id = f.order_id join warehouse w on w.warehouse_id = f.warehouse_id
         where {} order by f.picked_at, f.fulfillment_id limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    rows.iter().map(wave_fulfillment).collect()
}

/// A fulfilment as floor lists show it, from a row with `fulfillment_id,
/// seq, status, order_id, number, shipping_method`.
pub(crate) fn wave_fulfillment(r: &sqlx::any::AnyRow) -> Result<WaveFulfillment> {
    let number: String = r.try_get("number")?;
    let seq: i64 = r.try_get("seq")?;
    Ok(WaveFulfillment {
        id: r.try_get("fulfillment_id")?,
        label: format!("{number}-{seq}"),
        order_id: r.try_get("order_id")?,
        order_number: number,
        shipping_method: r.try_get("shipping_method")?,
        status: r.try_get("status")?,
    })
}
