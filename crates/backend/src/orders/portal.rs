//! The returns portal's order lookup: a number plus the email or postcode.

use super::read::order_from_row;
use crate::{db::Db, error::Result};
use domain::orders::{normalize_postcode, PortalLookup, Proof};
use domain::views::OrderSummary;
use sqlx::Row;

/// The returns portal's lookup: public, so it reveals nothing unless both the
/// number and the email or postcode match.
#[tracing::instrument(skip_all)]
pub async fn portal_lookup(db: &Db, lookup: &PortalLookup) -> Result<Option<OrderSummary>> {
    let row = sqlx::query(
        "select o.order_id, o.number, c.code as channel_code, o.external_id, o.status, o.currency, o.total_minor, o.placed_at,
                o.customer_email, o.ship_postcode
         from sales_order o join channel c on c.channel_id = o.channel_id where o.number = $1",
    )
    .bind(&lookup.number)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let email: String = row.try_get("customer_email")?;
    let postcode: String = row.try_get("ship_postcode")?;
    let matches = match &lookup.proof {
        Proof::Email(e) => e.as_str() == email.to_lowercase(),
        Proof::Postcode(p) => *p == normalize_postcode(&postcode),
    };
    if matches {
        order_from_row(&row).map(Some)
    } else {
        Ok(None)
    }
}
