//! What the floor's steps share: the dates lots are checked against, the
//! GTINs of items, packages and shipments as read back, and the reservation
//! reduced when units leave it (a short pick or a shipment).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::{
    views::{FulfillmentLine, PackageView, Shipment},
    Gtin,
};
use sqlx::{AnyConnection, Row};

use crate::{
    error::{Error, Result},
    rfc3339,
    sql::in_chunks,
    uow::Uow,
};

pub(crate) async fn reduce_line(
    uow: &mut Uow,
    reservation_id: &str,
    line_no: i64,
    units: i64,
) -> Result<()> {
    let json: String =
        sqlx::query_scalar("select lines_json from reservation where reservation_id = $1")
            .bind(reservation_id)
            .fetch_one(&mut *uow.tx)
            .await?;
    let mut lines: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap_or_default();
    crate::fulfillment::records::add_to_line(&mut lines, line_no, -units);
    sqlx::query("update reservation set lines_json = $2, version = version + 1, updated_at = $3 where reservation_id = $1")
        .bind(reservation_id)
        .bind(serde_json::Value::from(lines).to_string())
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

pub(crate) async fn load_shipment(conn: &mut AnyConnection, id: &str) -> Result<Shipment> {
    let row = sqlx::query(
        "select s.*, o.number as order_number, w.code as warehouse from shipment s
         join sales_order o on o.order_id = s.order_id join warehouse w on w.warehouse_id = s.warehouse_id
         where s.shipment_id = $1 or s.number = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "shipment",
        key: id.to_string(),
    })?;
    let fulfillment_id: String = row.try_get("fulfillment_id")?;
    Ok(Shipment {
        id: row.try_get("shipment_id")?,
        number: row.try_get("number")?,
        order_id: row.try_get("order_id")?,
        order_number: row.try_get("order_number")?,
        packages: load_packages(conn, &fulfillment_id).await?,
        fulfillment_id,
        warehouse: row.try_get("warehouse")?,
        carrier: row.try_get("carrier")?,
        service: row.try_get("service")?,
        shipped_by: row.try_get("shipped_by")?,
        shipped_at: rfc3339(row.try_get("shipped_at")?),
    })
}

/// The UTC date of an instant, as GS1 expiry dates compare.
pub(crate) fn today(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// The GTIN-14 of each of these products that has a GTIN, by SKU, in one
/// read.
pub(crate) async fn gtin14s(
    conn: &mut AnyConnection,
    skus: &[&str],
) -> Result<HashMap<String, String>> {
    let rows: Vec<(String, Option<String>)> = in_chunks(
        conn,
        "select sku, gtin from product where sku in ({ids})",
        skus,
        &mut 0,
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(sku, gtin)| Some((sku, Gtin::parse(&gtin?).ok()?.to_gtin14())))
        .collect())
}

/// Lowers an order's reservation of one product on one line in one
/// warehouse by `units` (component units for bundles).
pub(crate) async fn reduce_allocation(
    uow: &mut Uow,
    reservation_id: &str,
    line_no: i64,
    product_id: &str,
    warehouse_id: &str,
    units: i64,
) -> Result<()> {
    // An allocation row is never zero (a check): the last units delete it.
    // The delete goes first, as the update's condition reads the old quantity.
    sqlx::query("delete from reservation_alloc where reservation_id = $1 and line_no = $2 and product_id = $3 and warehouse_id = $4 and quantity <= $5")
        .bind(reservation_id)
        .bind(line_no)
        .bind(product_id)
        .bind(warehouse_id)
        .bind(units)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update reservation_alloc set quantity = quantity - $5 where reservation_id = $1 and line_no = $2 and product_id = $3 and warehouse_id = $4 and quantity > $5")
        .bind(reservation_id)
        .bind(line_no)
        .bind(product_id)
        .bind(warehouse_id)
        .bind(units)
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

pub(crate) async fn load_packages(
    conn: &mut AnyConnection,
    fulfillment_id: &str,
) -> Result<Vec<PackageView>> {
    let rows = sqlx::query(
        "select package_id, seq, weight_g, length_mm, width_mm, height_mm, tracking from package where fulfillment_id = $1 order by seq",
    )
    .bind(fulfillment_id)
    .fetch_all(&mut *conn)
    .await?;
    let items: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "select i.package_id, i.line_no, i.sku, i.quantity from package_item i join package p on p.package_id = i.package_id
         where p.fulfillment_id = $1 order by i.line_no",
    )
    .bind(fulfillment_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("package_id")?;
            let dims: [Option<i64>; 3] = [
                r.try_get("length_mm")?,
                r.try_get("width_mm")?,
                r.try_get("height_mm")?,
            ];
            Ok(PackageView {
                items: items
                    .iter()
                    .filter(|i| i.0 == id)
                    .map(|i| FulfillmentLine {
                        line_no: i.1,
                        sku: i.2.clone(),
                        quantity: i.3,
                    })
                    .collect(),
                id,
                seq: r.try_get("seq")?,
                weight_g: r.try_get("weight_g")?,
                dimensions_mm: match dims {
                    [Some(l), Some(w), Some(h)] => Some([l, w, h]),
                    _ => None,
                },
                tracking: r.try_get("tracking")?,
            })
        })
        .collect()
}
