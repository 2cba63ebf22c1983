//! Read models of fulfilments, waves, picking, packing, shipments and the
//! floor's status.

use serde::{Deserialize, Serialize};

/// A sourcing decision: which warehouse ships what, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub id: String,
    /// Its number within the order (1, 2, …), in planning order.
    pub seq: i64,
    pub warehouse: String,
    /// `open` (planned, not started), `picking` (in a wave), `picked`,
    /// `shipped` or `cancelled`.
    pub status: String,
    pub lines: Vec<FulfillmentLine>,
    /// Why this warehouse, in words.
    pub reason: String,
    pub created_at: String,
}

/// A sourcing rule tried on a channel's latest orders beside the rule it has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRun {
    pub channel: String,
    /// Orders replayed, oldest first, from today's stock as if none of them
    /// were reserved.
    pub orders: i64,
    pub current_warehouses: Vec<String>,
    pub proposed_warehouses: Vec<String>,
    pub current: crate::fulfillment::SourcingStats,
    pub proposed: crate::fulfillment::SourcingStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentLine {
    /// The order line (`lines[].line_no`).
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
}

/// A wave: one warehouse's fulfilments picked in one round, bin by bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wave {
    pub id: String,
    pub number: String,
    pub warehouse: String,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    /// Pick tasks in walk order (bin sequence).
    pub tasks: Vec<PickTask>,
    pub fulfillments: Vec<WaveFulfillment>,
    pub units: i64,
    pub picked_units: i64,
    pub created_by: String,
    pub created_at: String,
    pub completed_at: Option<String>,
}

/// One fulfilment in a wave and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveFulfillment {
    pub id: String,
    /// `SO-000123-1`: the order number and the fulfilment's sequence.
    pub label: String,
    pub order_id: String,
    pub order_number: String,
    pub shipping_method: String,
    /// `picking`, `picked`, `shipped` or `cancelled`.
    pub status: String,
}

/// Take `quantity` units of one item from one bin for one fulfilment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickTask {
    pub id: String,
    pub fulfillment_id: String,
    pub order_number: String,
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub location: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
    pub picked: i64,
    pub short: i64,
    /// What the agent scans next: `bin`, `item` or `quantity`.
    pub step: String,
    /// `open`, `done` or `cancelled`.
    pub status: String,
    pub short_reason: Option<String>,
    pub picked_by: Option<String>,
}

/// The answer to a floor scan: accepted or refused, in words, and the state
/// after it. A refused scan changed nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanOutcome<T> {
    pub accepted: bool,
    pub message: String,
    pub state: T,
}

/// A wave as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveSummary {
    pub id: String,
    pub number: String,
    pub warehouse: String,
    pub status: String,
    pub fulfillments: i64,
    pub units: i64,
    pub picked_units: i64,
    pub created_at: String,
}

/// A fulfilment at the packing bench.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackView {
    pub fulfillment_id: String,
    pub label: String,
    pub order_id: String,
    pub order_number: String,
    pub warehouse: String,
    pub shipping_method: String,
    /// `picking`, `picked`, `shipped` or `cancelled`.
    pub status: String,
    pub lines: Vec<PackLine>,
    pub packages: Vec<PackageView>,
    /// Why the pack does not verify yet; empty when it does.
    pub problems: Vec<String>,
    pub verified: bool,
    pub shipment: Option<Shipment>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackLine {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub picked: i64,
    pub packed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageView {
    pub id: String,
    pub seq: i64,
    pub items: Vec<FulfillmentLine>,
    pub weight_g: Option<i64>,
    /// Length, width, height in millimetres.
    pub dimensions_mm: Option<[i64; 3]>,
    pub tracking: Option<String>,
}

/// Goods that left a warehouse: one fulfilment, one or more packages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: String,
    pub number: String,
    pub order_id: String,
    pub order_number: String,
    pub fulfillment_id: String,
    pub warehouse: String,
    pub carrier: String,
    pub service: String,
    pub packages: Vec<PackageView>,
    pub shipped_by: String,
    pub shipped_at: String,
}

/// The floor as a manager watches it: unshipped picks against their ship-by
/// time, waves in progress, and each agent's pick rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloorStatus {
    /// The warehouse shown, or every one the viewer may see.
    pub warehouse: Option<String>,
    pub late: i64,
    pub due_soon: i64,
    pub on_time: i64,
    /// The oldest unshipped fulfilments, oldest first (at most 50).
    pub aging: Vec<AgingPick>,
    pub waves: Vec<WaveSummary>,
    /// Agents who picked in the last `window_hours`, most units first.
    pub agents: Vec<AgentRate>,
    pub window_hours: i64,
}

/// An unshipped fulfilment and its ship-by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgingPick {
    pub fulfillment_id: String,
    pub label: String,
    pub order_id: String,
    pub warehouse: String,
    /// `open`, `picking` or `picked`.
    pub status: String,
    pub shipping_method: String,
    pub placed_at: String,
    pub ship_by: String,
    pub age_minutes: i64,
    /// `late`, `due_soon` or `on_time`.
    pub state: String,
}

/// Units one agent picked in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentRate {
    pub agent: String,
    pub units: i64,
    pub tasks: i64,
    pub units_per_hour: f64,
}
