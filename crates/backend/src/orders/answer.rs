//! The order capture answers with, built from what it just wrote rather
//! than read back: the same view `orders::load` gives (a store test holds
//! them equal).

use domain::{
    orders::{FraudAssessment, NewOrder, OrderStatus, Totals},
    views::{CustomerRef, Fraud, Fulfillment, Order, OrderHold, OrderTotals, Reservation},
};

use super::read::{money, order_line, timeline_entry, LineFacts};
use crate::uow::Written;

/// What capture decided and wrote.
pub(crate) struct Facts<'a> {
    pub id: String,
    pub number: String,
    pub order: &'a NewOrder,
    pub prices_include_tax: bool,
    pub status: OrderStatus,
    pub customer: CustomerRef,
    pub totals: Totals,
    pub fraud: FraudAssessment,
    pub product_ids: Vec<Option<String>>,
    pub backordered: Vec<i64>,
    pub holds: Vec<OrderHold>,
    pub reservation: Option<Reservation>,
    pub fulfillments: Vec<Fulfillment>,
    pub stated: serde_json::Value,
    pub placed_at: i64,
    /// The events the unit of work wrote, for the timeline.
    pub written: Vec<Written>,
}

pub(crate) fn captured_order(f: Facts) -> Order {
    let order = f.order;
    let timeline = f
        .written
        .iter()
        .filter(|w| {
            (w.entity == "order" && w.entity_id == f.id)
                || (w.entity == "reservation"
                    && f.reservation.as_ref().is_some_and(|r| r.id == w.entity_id))
        })
        .map(|w| {
            timeline_entry(
                w.seq,
                w.at,
                w.event_type,
                w.actor_kind,
                &w.actor_name,
                &w.payload,
            )
        })
        .collect();
    let currency = order.currency;
    let lines = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            order_line(
                LineFacts {
                    line_no: i as i64,
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    quantity: l.quantity,
                    cancelled: 0,
                    unit_minor: l.unit_price.minor(),
                    discount_minor: l.discount.minor(),
                    known: f.product_ids[i].is_some(),
                    backordered: f.backordered[i],
                    shipped: 0,
                },
                currency,
            )
        })
        .collect();
    let money = |minor| money(minor, currency);
    let mut tags = order.tags.clone();
    tags.sort();
    Order {
        id: f.id,
        number: f.number,
        channel: order.channel.clone(),
        external_id: order.external_id.clone(),
        status: f.status.as_str().to_string(),
        payment_status: order.payment.as_str().to_string(),
        currency: currency.code().to_string(),
        customer: f.customer,
        ship_to: order.ship_to.clone(),
        bill_to: order.bill_to.clone(),
        shipping_method: order.shipping_method.clone(),
        lines,
        totals: OrderTotals {
            subtotal: money(f.totals.subtotal),
            discount: money(f.totals.discount),
            shipping: money(f.totals.shipping),
            tax: money(f.totals.tax),
            total: money(f.totals.total),
            prices_include_tax: f.prices_include_tax,
        },
        stated_totals: f.stated,
        holds: f.holds.clone(),
        hold_history: f.holds,
        fraud: Fraud {
            score: f.fraud.score,
            reasons: f.fraud.reasons,
        },
        reservation: f.reservation,
        fulfillments: f.fulfillments,
        tags,
        note: order.note.clone(),
        notes: Vec::new(),
        manual_touches: 0,
        placed_at: crate::rfc3339(f.placed_at),
        version: 1,
        timeline,
    }
}
