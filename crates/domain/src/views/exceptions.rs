//! Read models of the exception queues.

use serde::{Deserialize, Serialize};

/// An item in an exception queue, as the queue pages and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionItem {
    pub id: String,
    pub queue: String,
    pub queue_label: String,
    pub entity: String,
    pub entity_id: String,
    /// The record's name for people: an order or fulfilment number, a SKU.
    pub entity_ref: String,
    /// Where to act on the record.
    pub link: String,
    pub reason: String,
    pub detail: String,
    /// The assignee's email, or else the owning role.
    pub owner: String,
    pub owner_role: String,
    pub owner_label: String,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub assignee_email: Option<String>,
    /// `open`, `snoozed`, `resolved` or `closed`.
    pub status: String,
    pub opened_at: String,
    pub sla_due_at: String,
    pub age_minutes: i64,
    /// Negative once the SLA has passed.
    pub sla_minutes_left: i64,
    /// `on_time`, `due_soon`, `breached`, or `done`.
    pub sla_state: String,
    pub snoozed_until: Option<String>,
    pub snooze_reason: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub resolution: Option<String>,
    pub warehouse: Option<String>,
    pub channel: Option<String>,
    pub version: i64,
}

/// One queue's counts for the dashboard tiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueCount {
    pub queue: String,
    pub label: String,
    pub description: String,
    /// Live and not snoozed.
    pub open: i64,
    /// Open and past its SLA.
    pub breached: i64,
    pub snoozed: i64,
    /// Whether a figure stopped at the count cap (shown as "1000+").
    pub capped: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionSummary {
    pub open: i64,
    pub breached: i64,
    pub queues: Vec<QueueCount>,
    pub as_of: String,
}
