//! Read models of warehouses, stock, reservations, transfers and counts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warehouse {
    pub id: String,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub created_at: String,
}

/// What a code scanned on the warehouse floor turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scanned {
    Badge { user_name: String, role: String },
    Product { sku: String, name: String },
    Location { warehouse: String, code: String },
    Unknown { code: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseStock {
    pub warehouse: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    /// Units on their way here on open transfers.
    pub in_transit: i64,
    /// At or below this many available units the warehouse should reorder
    /// (the item shows in the low-stock queue); none for bundles.
    pub reorder_point: Option<i64>,
}

/// `GET /api/v1/stock/{sku}`. For a bundle the figures are whole bundles the
/// components make (`reserved` is then on_hand − available).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stock {
    pub sku: String,
    pub kind: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
    pub in_transit: i64,
    pub warehouses: Vec<WarehouseStock>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinStock {
    pub warehouse: String,
    pub location: String,
    pub lot: String,
    pub expires_on: String,
    pub on_hand: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    pub id: String,
    pub occurred_at: String,
    pub kind: String,
    pub quantity: i64,
    pub warehouse: String,
    pub location: Option<String>,
    pub lot: String,
    pub reason: Option<String>,
    pub reference: Option<String>,
    pub actor_name: String,
}

/// Available to promise for one channel: what it may still sell, over the
/// warehouses it ships from, after its safety buffer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    pub channel: String,
    pub sku: String,
    pub available: i64,
    pub safety_buffer: i64,
    pub warehouses: Vec<WarehouseAvailability>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseAvailability {
    pub warehouse: String,
    pub available: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationLine {
    pub sku: String,
    pub quantity: i64,
    /// Where the units are held: for a bundle, one entry per component.
    pub allocations: Vec<Allocation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    pub sku: String,
    pub warehouse: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: String,
    pub reference: String,
    pub channel: Option<String>,
    /// `active`, `released` or `consumed`.
    pub status: String,
    pub lines: Vec<ReservationLine>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub id: String,
    pub warehouse: String,
    pub code: String,
    pub pick_sequence: i64,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferLine {
    pub sku: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub id: String,
    pub number: String,
    pub from_warehouse: String,
    pub to_warehouse: String,
    /// `in_transit` or `received`.
    pub status: String,
    pub lines: Vec<TransferLine>,
    pub created_at: String,
    pub received_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountLine {
    pub sku: String,
    pub name: String,
    pub expected: i64,
    pub counted: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleCount {
    pub id: String,
    pub number: String,
    pub warehouse: String,
    pub location: String,
    /// `open`, `pending_approval`, `posted` or `rejected`.
    pub status: String,
    pub variance_units: i64,
    pub variance_value: crate::Money,
    pub lines: Vec<CountLine>,
    pub created_by: String,
    pub counted_by: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: String,
    pub version: i64,
}

/// The inventory-accuracy KPI over posted counts in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    pub days: i64,
    pub lines_counted: i64,
    pub lines_exact: i64,
    pub percent: Option<f64>,
}
