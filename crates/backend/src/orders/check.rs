//! The order checker: an order's reservation agrees with where the order is.
//! A reservation that belongs to an order changes only through the order's
//! own use cases (capture, cancel, ship), so any disagreement is drift.

use sqlx::Row;

use crate::{db::Db, error::Result};

/// Live orders (received, confirmed, in fulfilment) whose reservation is no
/// longer active, and finished ones whose reservation still holds stock.
#[tracing::instrument(skip_all)]
pub async fn check(db: &Db) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "select o.number, o.status, r.reservation_id, r.status as reservation_status
         from sales_order o join reservation r on r.reservation_id = o.reservation_id
         where (o.status in ('received', 'confirmed', 'in_fulfilment') and r.status <> 'active')
            or (o.status not in ('received', 'confirmed', 'in_fulfilment') and r.status = 'active')
         order by o.number",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let text = |c: &str| {
                r.try_get::<String, _>(c)
                    .unwrap_or_else(|e| format!("unreadable ({e})"))
            };
            format!(
                "order vs its reservation: {} is {} but its reservation {} is {}",
                text("number"),
                text("status"),
                text("reservation_id"),
                text("reservation_status")
            )
        })
        .collect())
}
