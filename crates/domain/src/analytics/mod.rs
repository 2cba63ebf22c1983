//! Exception queues: which records need a person, in which queue, who owns
//! them, and by when.
//!
//! Invariants:
//! - An exception is a fact about the current state of a record ("this
//!   order is held for a failed payment"), never a copy of an event. The
//!   rules here say, from a record's facts, which exceptions it should have
//!   open; `reconcile` turns the difference from what is open into actions.
//!   So replaying any event twice, or re-evaluating a record at any time,
//!   changes nothing, and a full recomputation must equal the projection.
//! - One live item per (queue, record, reason).
//! - An item resolved by a person stays resolved while its condition lasts;
//!   only after the condition has cleared can the same condition open a new
//!   item.

use serde::{Deserialize, Serialize};

use crate::{fulfillment, governance::Role, orders::HoldReason, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Queue {
    /// Payment failed, or pending longer than the payment window.
    Payment,
    /// Orders on hold for any other reason, by reason.
    Holds,
    /// Open orders with no progress past the configured age.
    Stuck,
    /// Fulfilments still in the warehouse after their ship-by time.
    LatePicks,
    /// Items customers wait for, that sell out where they are stocked, or
    /// that fall to a warehouse's reorder point.
    Stockouts,
    /// Reservations refused because they would have oversold an item.
    Oversells,
    /// Imports that finished with rows left out, and webhook deliveries
    /// that were rejected.
    Integration,
}

impl Queue {
    pub const ALL: [Queue; 7] = [
        Queue::Payment,
        Queue::Holds,
        Queue::Stuck,
        Queue::LatePicks,
        Queue::Stockouts,
        Queue::Oversells,
        Queue::Integration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Payment => "payment",
            Queue::Holds => "holds",
            Queue::Stuck => "stuck",
            Queue::LatePicks => "late_picks",
            Queue::Stockouts => "stockouts",
            Queue::Oversells => "oversells",
            Queue::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Result<Queue, FieldError> {
        Queue::ALL
            .into_iter()
            .find(|q| q.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    "queue",
                    "use payment, holds, stuck, late_picks, stockouts, oversells or integration",
                )
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            Queue::Payment => "Payment problems",
            Queue::Holds => "Orders on hold",
            Queue::Stuck => "Stuck orders",
            Queue::LatePicks => "Picks past ship-by",
            Queue::Stockouts => "Stockouts and low stock",
            Queue::Oversells => "Refused oversells",
            Queue::Integration => "Integration failures",
        }
    }

    /// What lands in the queue, as the page explains it.
    pub fn describe(self) -> &'static str {
        match self {
            Queue::Payment => {
                "Orders whose payment failed, or is still pending an hour after it was placed."
            }
            Queue::Holds => {
                "Orders held for fraud review, an address, totals, an unknown item, or by hand."
            }
            Queue::Stuck => "Open orders that have not moved for longer than the configured age.",
            Queue::LatePicks => {
                "Fulfilments not shipped by their ship-by time (24 h for express, 48 h otherwise)."
            }
            Queue::Stockouts => {
                "Items with orders waiting for stock, none left to sell where they are stocked, or at or below a warehouse's reorder point."
            }
            Queue::Oversells => {
                "Reservations refused because they asked for more than was available: demand the stock could not meet."
            }
            Queue::Integration => {
                "Catalogue and order imports that finished with rows left out, and webhook deliveries that were rejected."
            }
        }
    }
}

/// Thresholds the rules apply; the stuck age is set per installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    /// An open order with no progress for this long is stuck.
    pub stuck_after_hours: i64,
    /// A payment still pending this long after the hold is a payment problem.
    pub payment_pending_minutes: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            stuck_after_hours: 24,
            payment_pending_minutes: 60,
        }
    }
}

const HOUR: i64 = 3_600_000_000;
const MINUTE: i64 = 60_000_000;

/// An exception a record should have open, as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    pub queue: Queue,
    /// `order`, `fulfillment`, `product` or `import`.
    pub entity: String,
    pub entity_id: String,
    /// What a person calls the record: an order or fulfilment number, a SKU.
    pub entity_ref: String,
    /// A stable code: the hold reason, `no_progress`, `past_ship_by`, ….
    pub reason: String,
    pub detail: String,
    /// Where to act on it.
    pub link: String,
    pub owner: Role,
    /// When the condition began (the hold's time, the ship-by time, …).
    pub opened_at: i64,
    pub sla_due_at: i64,
    pub warehouse: Option<String>,
    pub channel: Option<String>,
}

pub struct HoldFact {
    pub reason: String,
    pub detail: String,
    pub placed_at: i64,
}

pub struct FulfillmentFact {
    pub id: String,
    pub seq: i64,
    pub status: String,
    pub warehouse: String,
}

/// What the rules need to know about one order.
pub struct OrderFacts {
    pub order_id: String,
    pub number: String,
    pub status: String,
    pub placed_at: i64,
    /// The latest change to the order or any of its fulfilments.
    pub last_progress_at: i64,
    pub shipping_method: String,
    pub channel: String,
    pub warehouse: Option<String>,
    pub backordered_units: i64,
    /// Active holds only.
    pub holds: Vec<HoldFact>,
    pub fulfillments: Vec<FulfillmentFact>,
}

fn order_link(order_id: &str) -> String {
    format!("/command/orders/{order_id}")
}

/// Hours allowed to deal with an exception once it opens.
pub fn sla_hours(queue: Queue, reason: &str) -> i64 {
    match (queue, reason) {
        (Queue::Payment, "payment_failed") => 4,
        (Queue::Payment, _) => 2,
        (Queue::Holds, "fraud_review") => 4,
        (Queue::Holds, "manual") => 24,
        (Queue::Holds, _) => 8,
        (Queue::Stuck, _) => 4,
        // It opens at its ship-by time, so it is overdue from the start.
        (Queue::LatePicks, _) => 0,
        (Queue::Stockouts, "low_stock") => 48,
        (Queue::Oversells, _) => 8,
        (Queue::Integration, "webhook_rejected") => 4,
        (Queue::Stockouts, _) | (Queue::Integration, _) => 24,
    }
}

fn hold_owner(reason: &str) -> Role {
    match reason {
        "payment_failed" | "payment_pending" => Role::Finance,
        "fraud_review" | "unknown_item" => Role::Manager,
        _ => Role::Support,
    }
}

const OPEN_STATUSES: [&str; 3] = ["received", "confirmed", "in_fulfilment"];
const UNSHIPPED: [&str; 3] = ["open", "picking", "picked"];

/// The exceptions an order (and its fulfilments) should have open now.
pub fn order_exceptions(o: &OrderFacts, t: &Thresholds, now: i64) -> Vec<Wanted> {
    let mut out = Vec::new();
    let base = |queue: Queue, reason: &str, detail: String, owner: Role, opened_at: i64| Wanted {
        queue,
        entity: "order".into(),
        entity_id: o.order_id.clone(),
        entity_ref: o.number.clone(),
        reason: reason.into(),
        detail,
        link: order_link(&o.order_id),
        owner,
        opened_at,
        sla_due_at: opened_at + sla_hours(queue, reason) * HOUR,
        warehouse: o.warehouse.clone(),
        channel: Some(o.channel.clone()),
    };
    if o.status == "cancelled" {
        return out;
    }
    for h in &o.holds {
        let label = HoldReason::parse(&h.reason).map_or(h.reason.as_str(), |r| r.label());
        let said = h.detail.trim();
        // Some hold details already open with their reason's words.
        let detail = if said.is_empty() {
            label.to_string()
        } else if said.to_lowercase().starts_with(&label.to_lowercase()) {
            capitalise(said)
        } else {
            format!("{label}: {said}")
        };
        match h.reason.as_str() {
            "payment_failed" => out.push(base(
                Queue::Payment,
                &h.reason,
                detail,
                Role::Finance,
                h.placed_at,
            )),
            "payment_pending" => {
                let due = h.placed_at + t.payment_pending_minutes * MINUTE;
                if now >= due {
                    out.push(base(
                        Queue::Payment,
                        &h.reason,
                        format!(
                            "Payment still pending {} min after the order was held",
                            t.payment_pending_minutes
                        ),
                        Role::Finance,
                        due,
                    ));
                }
            }
            reason => out.push(base(
                Queue::Holds,
                reason,
                detail,
                hold_owner(reason),
                h.placed_at,
            )),
        }
    }
    let stuck_since = o.last_progress_at + t.stuck_after_hours * HOUR;
    if o.holds.is_empty() && OPEN_STATUSES.contains(&o.status.as_str()) && now >= stuck_since {
        let waiting = if o.backordered_units > 0 {
            format!("; {} units wait for stock", o.backordered_units)
        } else {
            String::new()
        };
        out.push(base(
            Queue::Stuck,
            "no_progress",
            format!(
                "{} and unchanged for over {} h{waiting}",
                capitalise(&o.status.replace('_', " ")),
                t.stuck_after_hours
            ),
            Role::Manager,
            stuck_since,
        ));
    }
    let ship_by = o.placed_at + fulfillment::ship_by_hours(&o.shipping_method) * HOUR;
    if now >= ship_by {
        for f in o
            .fulfillments
            .iter()
            .filter(|f| UNSHIPPED.contains(&f.status.as_str()))
        {
            out.push(Wanted {
                queue: Queue::LatePicks,
                entity: "fulfillment".into(),
                entity_id: f.id.clone(),
                entity_ref: format!("{}-{}", o.number, f.seq),
                reason: "past_ship_by".into(),
                detail: format!(
                    "Still {} at {}; {} orders ship within {} h",
                    f.status,
                    f.warehouse,
                    if fulfillment::ship_by_hours(&o.shipping_method) == 24 {
                        "express"
                    } else {
                        "standard"
                    },
                    fulfillment::ship_by_hours(&o.shipping_method)
                ),
                link: order_link(&o.order_id),
                owner: Role::Warehouse,
                opened_at: ship_by,
                sla_due_at: ship_by,
                warehouse: Some(f.warehouse.clone()),
                channel: Some(o.channel.clone()),
            });
        }
    }
    out
}

/// When an order should next be looked at because a condition may begin
/// with time alone: the end of a pending payment's window, the stuck age,
/// or the ship-by time of an unshipped fulfilment. `None` when nothing can
/// begin without an event (every change to an order emits one).
pub fn next_check(o: &OrderFacts, t: &Thresholds, now: i64) -> Option<i64> {
    if o.status == "cancelled" {
        return None;
    }
    let mut due = Vec::new();
    for h in o.holds.iter().filter(|h| h.reason == "payment_pending") {
        due.push(h.placed_at + t.payment_pending_minutes * MINUTE);
    }
    if o.holds.is_empty() && OPEN_STATUSES.contains(&o.status.as_str()) {
        due.push(o.last_progress_at + t.stuck_after_hours * HOUR);
    }
    if o.fulfillments
        .iter()
        .any(|f| UNSHIPPED.contains(&f.status.as_str()))
    {
        due.push(o.placed_at + fulfillment::ship_by_hours(&o.shipping_method) * HOUR);
    }
    due.into_iter().filter(|d| *d > now).min()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What the rules need to know about one product's stock.
pub struct StockFacts {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub backordered_units: i64,
    pub waiting_orders: i64,
    /// Whether any warehouse has ever held it (a stock level exists).
    pub stocked: bool,
    /// On hand less reserved, over every warehouse.
    pub available: i64,
    /// Each warehouse that stocks it or has a reorder point for it.
    pub levels: Vec<LevelFact>,
}

/// One warehouse's stock of an item, against its reorder point.
pub struct LevelFact {
    pub warehouse_id: String,
    pub warehouse: String,
    /// On hand less reserved here.
    pub available: i64,
    pub reorder_point: Option<i64>,
}

/// The record a low-stock item is about: one item in one warehouse.
pub fn stock_level_key(product_id: &str, warehouse_id: &str) -> String {
    format!("{product_id}/{warehouse_id}")
}

/// Low stock: a warehouse's available units at or below its reorder point,
/// one item per warehouse so each can be scoped and owned there. An item
/// out of stock everywhere is a stockout instead, and only that is raised.
pub fn low_stock_exceptions(s: &StockFacts, now: i64) -> Vec<Wanted> {
    if stock_exception(s, now).is_some() {
        return Vec::new();
    }
    s.levels
        .iter()
        .filter_map(|l| {
            let point = l.reorder_point?;
            (l.available <= point).then(|| Wanted {
                queue: Queue::Stockouts,
                entity: "stock".into(),
                entity_id: stock_level_key(&s.product_id, &l.warehouse_id),
                entity_ref: format!("{} at {}", s.sku, l.warehouse),
                reason: "low_stock".into(),
                detail: format!(
                    "{}: {} available at {}, reorder point {}",
                    s.name,
                    l.available.max(0),
                    l.warehouse,
                    point
                ),
                link: format!("/command/products/{}", s.sku),
                owner: Role::Manager,
                opened_at: now,
                sla_due_at: now + sla_hours(Queue::Stockouts, "low_stock") * HOUR,
                warehouse: Some(l.warehouse.clone()),
                channel: None,
            })
        })
        .collect()
}

/// A reservation refused because it asked for more than was available.
pub const OVERSELL_REFUSED: &str = "oversell_refused";
/// A webhook delivery refused for its signature or its body.
pub const WEBHOOK_REJECTED: &str = "webhook_rejected";

/// An event a projection (exception queues, KPI figures) could not apply
/// and stepped past, so the rest went on.
pub const PROJECTION_SKIPPED: &str = "projection_skipped";

/// What the rules need to know about one incident: refused attempts of one
/// kind about one subject, counted until a person resolves them.
pub struct IncidentFacts {
    pub incident_id: String,
    /// `oversell_refused` or `webhook_rejected`.
    pub kind: String,
    pub subject_ref: String,
    pub channel: Option<String>,
    pub occurrences: i64,
    pub first_at: i64,
    pub last_detail: String,
    pub resolved: bool,
}

fn times(n: i64) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

/// An incident stays in its queue until a person resolves it: nothing in
/// the records ends it by itself, since the attempts were refused.
pub fn incident_exception(i: &IncidentFacts) -> Option<Wanted> {
    if i.resolved {
        return None;
    }
    let (queue, owner, link, detail) = match i.kind.as_str() {
        OVERSELL_REFUSED => (
            Queue::Oversells,
            Role::Manager,
            format!("/command/products/{}", i.subject_ref),
            format!("Refused {}; last: {}", times(i.occurrences), i.last_detail),
        ),
        PROJECTION_SKIPPED => (
            Queue::Integration,
            Role::Admin,
            format!("/command/audit?entity=incident&entity_id={}", i.incident_id),
            format!(
                "Events {} could not apply, stepped past {} (run keel check); last: {}",
                i.subject_ref,
                times(i.occurrences),
                i.last_detail
            ),
        ),
        _ => (
            Queue::Integration,
            Role::Admin,
            format!("/command/audit?entity=incident&entity_id={}", i.incident_id),
            format!(
                "Webhook deliveries to {} rejected {}; last: {}",
                i.subject_ref,
                times(i.occurrences),
                i.last_detail
            ),
        ),
    };
    Some(Wanted {
        queue,
        entity: "incident".into(),
        entity_id: i.incident_id.clone(),
        entity_ref: i.subject_ref.clone(),
        reason: i.kind.clone(),
        detail,
        link,
        owner,
        opened_at: i.first_at,
        sla_due_at: i.first_at + sla_hours(queue, &i.kind) * HOUR,
        warehouse: None,
        channel: i.channel.clone(),
    })
}

/// A stockout: customers wait for the item, or it is stocked and none is
/// left to sell. `now` is when the condition was first seen.
pub fn stock_exception(s: &StockFacts, now: i64) -> Option<Wanted> {
    let detail = if s.backordered_units > 0 {
        format!(
            "{} units on {} {} wait for stock",
            s.backordered_units,
            s.waiting_orders,
            if s.waiting_orders == 1 {
                "order"
            } else {
                "orders"
            }
        )
    } else if s.stocked && s.available <= 0 {
        "None left to sell in any warehouse".to_string()
    } else {
        return None;
    };
    Some(Wanted {
        queue: Queue::Stockouts,
        entity: "product".into(),
        entity_id: s.product_id.clone(),
        entity_ref: s.sku.clone(),
        reason: "stockout".into(),
        detail: format!("{}: {detail}", s.name),
        link: format!("/command/products/{}", s.sku),
        owner: Role::Manager,
        opened_at: now,
        sla_due_at: now + sla_hours(Queue::Stockouts, "stockout") * HOUR,
        warehouse: None,
        channel: None,
    })
}

/// What the rules need to know about one import job.
pub struct ImportFacts {
    pub job_id: String,
    /// `products` or `orders`.
    pub kind: String,
    pub status: String,
    pub total_rows: i64,
    pub failed_rows: i64,
    pub finished_at: Option<i64>,
}

/// An import that finished with rows left out needs someone to fix the file.
pub fn import_exception(i: &ImportFacts) -> Option<Wanted> {
    let finished = i.finished_at?;
    if i.failed_rows == 0 || !matches!(i.status.as_str(), "done" | "failed") {
        return None;
    }
    let (what, link) = if i.kind == "orders" {
        (
            "Order report",
            format!("/command/orders/import/{}", i.job_id),
        )
    } else {
        (
            "Catalogue import",
            format!("/command/catalog/import/{}", i.job_id),
        )
    };
    Some(Wanted {
        queue: Queue::Integration,
        entity: "import".into(),
        entity_id: i.job_id.clone(),
        entity_ref: format!("{what} {}", &i.job_id[..i.job_id.len().min(8)]),
        reason: "import_errors".into(),
        detail: format!(
            "{what}: {} of {} rows left out",
            i.failed_rows, i.total_rows
        ),
        link,
        owner: Role::Admin,
        opened_at: finished,
        sla_due_at: finished + sla_hours(Queue::Integration, "import_errors") * HOUR,
        warehouse: None,
        channel: None,
    })
}

/// An item's state: `open`, `snoozed`, `resolved` (by a person) or `closed`
/// (its condition ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub id: String,
    pub queue: Queue,
    pub entity_id: String,
    pub reason: String,
    pub status: String,
    /// For a resolved item: whether its condition has since ended.
    pub cleared: bool,
    pub detail: String,
}

impl Existing {
    pub fn live(&self) -> bool {
        self.status == "open" || self.status == "snoozed"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Open(Wanted),
    /// The condition ended: close the live item.
    Close {
        id: String,
    },
    /// The condition holds but reads differently now (more units waiting).
    Refresh {
        id: String,
        detail: String,
    },
    /// A resolved item's condition ended, so it may open again later.
    Clear {
        id: String,
    },
}

/// Turns what the rules want for the evaluated records into actions against
/// what exists for them. `existing` must hold every live item and every
/// resolved, uncleared item of those records.
pub fn reconcile(wanted: Vec<Wanted>, existing: &[Existing]) -> Vec<Action> {
    let key = |q: Queue, id: &str, r: &str| (q, id.to_string(), r.to_string());
    let wanted_keys: std::collections::HashSet<_> = wanted
        .iter()
        .map(|w| key(w.queue, &w.entity_id, &w.reason))
        .collect();
    let mut actions = Vec::new();
    for w in wanted {
        let same = |e: &&Existing| {
            e.queue == w.queue && e.entity_id == w.entity_id && e.reason == w.reason
        };
        if let Some(live) = existing.iter().filter(same).find(|e| e.live()) {
            if live.detail != w.detail {
                actions.push(Action::Refresh {
                    id: live.id.clone(),
                    detail: w.detail,
                });
            }
        } else if !existing
            .iter()
            .filter(same)
            .any(|e| e.status == "resolved" && !e.cleared)
        {
            actions.push(Action::Open(w));
        }
    }
    for e in existing {
        if wanted_keys.contains(&key(e.queue, &e.entity_id, &e.reason)) {
            continue;
        }
        if e.live() {
            actions.push(Action::Close { id: e.id.clone() });
        } else if e.status == "resolved" && !e.cleared {
            actions.push(Action::Clear { id: e.id.clone() });
        }
    }
    actions
}

/// Queue figures stop counting here, so the dashboard's cost doesn't grow
/// with a backlog.
pub const COUNT_CAP: i64 = 1000;

/// A queue figure as shown: `1000+` once it reached the cap.
pub fn figure(n: i64) -> String {
    if n >= COUNT_CAP {
        format!("{COUNT_CAP}+")
    } else {
        n.to_string()
    }
}

/// Where an item stands against its SLA.
pub fn sla_state(sla_due_at: i64, now: i64) -> &'static str {
    if now >= sla_due_at {
        "breached"
    } else if sla_due_at - now <= HOUR {
        "due_soon"
    } else {
        "on_time"
    }
}

/// Whether someone may assign, snooze or resolve an item: managers and
/// administrators always; otherwise the role that owns it, or the person it
/// is assigned to.
pub fn may_work(role: Role, user_id: Option<&str>, owner: Role, assignee: Option<&str>) -> bool {
    matches!(role, Role::Admin | Role::Manager)
        || role == owner
        || (user_id.is_some() && user_id == assignee)
}

/// A snooze: 1 to 168 hours, with a reason a colleague can read.
pub fn parse_snooze(hours: i64, reason: &str) -> Result<(i64, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !(1..=168).contains(&hours) {
        errors.push(FieldError::new("hours", "snooze for 1 to 168 hours"));
    }
    let reason = reason.trim();
    if reason.chars().count() < 3 || reason.chars().count() > 200 {
        errors.push(FieldError::new(
            "reason",
            "say why in 3 to 200 characters, so whoever picks it up knows",
        ));
    }
    if errors.is_empty() {
        Ok((hours, reason.to_string()))
    } else {
        Err(errors)
    }
}

/// A resolution note: what was done, 3 to 500 characters.
pub fn parse_resolution(note: &str) -> Result<String, FieldError> {
    let note = note.trim();
    if note.chars().count() < 3 || note.chars().count() > 500 {
        return Err(FieldError::new(
            "note",
            "say what was done in 3 to 500 characters",
        ));
    }
    Ok(note.to_string())
}

#[cfg(test)]
mod tests;
