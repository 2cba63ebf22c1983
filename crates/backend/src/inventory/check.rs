//! The checker: the balances recomputed from the ledger, drift reported.

use crate::{db::Db, error::Result};
use serde::Serialize;
use sqlx::Row;

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
#[tracing::instrument(skip_all)]
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
            let read = || -> std::result::Result<Drift, sqlx::Error> {
                Ok(Drift {
                    check: name,
                    sku: r.try_get("sku")?,
                    warehouse: r.try_get("warehouse")?,
                    location: r.try_get("location")?,
                    lot: r.try_get("lot")?,
                    expected: r.try_get("expected")?,
                    recorded: r.try_get("recorded")?,
                })
            };
            // A row the checker can't read (a REAL in a BIGINT column on
            // SQLite) is drift in itself, reported rather than stopping.
            drift.push(read().unwrap_or_else(|e| Drift {
                check: name,
                sku: format!("unreadable row ({e})"),
                warehouse: r.try_get("warehouse").unwrap_or_default(),
                location: String::new(),
                lot: String::new(),
                expected: 0,
                recorded: 0,
            }));
        }
    }
    Ok(drift)
}
