//! Shipping labels, 4x6, as ZPL or PDF.

use super::ship::get_shipment;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
};
use domain::{
    label::{self, LabelData},
    views::Shipment,
};
use sqlx::Row;

/// A label format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelFormat {
    Zpl,
    Pdf,
}

impl LabelFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zpl" => Ok(Self::Zpl),
            "pdf" | "" => Ok(Self::Pdf),
            _ => Err(Error::invalid("format", "use zpl or pdf")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Zpl => "application/x-zpl",
            Self::Pdf => "application/pdf",
        }
    }
}

/// The shipment's labels, one per package: ZPL blocks one after another, or
/// a PDF with one 4×6 page per package.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn label(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    format: LabelFormat,
) -> Result<(Shipment, Vec<u8>)> {
    let shipment = get_shipment(db, ctx, id).await?;
    let mut conn = db.pool.acquire().await?;
    let row = sqlx::query(
        "select o.ship_to_json, o.customer_name, w.name as warehouse_name from sales_order o, warehouse w
         where o.order_id = $1 and w.code = $2",
    )
    .bind(&shipment.order_id)
    .bind(&shipment.warehouse)
    .fetch_one(&mut *conn)
    .await?;
    let to: domain::orders::Address =
        serde_json::from_str(&row.try_get::<String, _>("ship_to_json")?).unwrap_or_default();
    let name = if to.name.is_empty() {
        row.try_get("customer_name")?
    } else {
        to.name.clone()
    };
    let ship_to: Vec<String> = [
        name,
        to.line1.clone(),
        to.line2.clone(),
        [to.city.as_str(), to.region.as_str(), to.postcode.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        to.country.clone(),
    ]
    .into_iter()
    .filter(|s| !s.trim().is_empty())
    .collect();
    let warehouse_name: String = row.try_get("warehouse_name")?;
    let total = shipment.packages.len();
    let labels: Vec<LabelData> = shipment
        .packages
        .iter()
        .map(|p| LabelData {
            ship_from: vec![format!("{warehouse_name} ({})", shipment.warehouse)],
            ship_to: ship_to.clone(),
            carrier: shipment.carrier.clone(),
            service: shipment.service.clone(),
            tracking: p.tracking.clone().unwrap_or_default(),
            order_number: shipment.order_number.clone(),
            shipment_number: shipment.number.clone(),
            package: format!("{} of {total}", p.seq),
            weight_g: p.weight_g.unwrap_or(0),
        })
        .collect();
    let body = match format {
        LabelFormat::Zpl => labels
            .iter()
            .map(label::zpl)
            .collect::<String>()
            .into_bytes(),
        LabelFormat::Pdf => label::pdf(&labels),
    };
    Ok((shipment, body))
}
