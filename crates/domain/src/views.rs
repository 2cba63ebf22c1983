//! Read models: the plain data that use cases return and that travels to the
//! browser as server-function results and API responses. No rules live here.

use serde::{Deserialize, Serialize};

use crate::governance::{Role, Scope};

/// Cursor-paginated list result, as every list endpoint returns it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub active: bool,
    pub version: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub occurred_at: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub request_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Matches the actor's id exactly or their name (email) as a substring.
    pub actor: Option<String>,
    /// RFC 3339 instants or dates (YYYY-MM-DD), inclusive from, exclusive to.
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub v: i32,
    pub entity: String,
    pub entity_id: String,
    pub actor_kind: String,
    pub actor_name: String,
    pub occurred_at: String,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub created_at: String,
    pub revoked: bool,
}

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
pub struct Channel {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub currency: String,
    pub warehouses: Vec<String>,
    /// Units per SKU and warehouse held back from this channel.
    #[serde(default)]
    pub safety_buffer: i64,
    /// Whether storefront webhooks can be verified (the secret is never shown).
    #[serde(default)]
    pub has_webhook_secret: bool,
    #[serde(default)]
    pub prices_include_tax: bool,
}

/// A product on a channel's price list: the channel's own price where it
/// has one, else the catalogue price in the channel's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelPrice {
    pub sku: String,
    pub name: String,
    /// What an order line without a unit price is charged; `None` when the
    /// product has neither price, and such a line is refused.
    pub price: Option<crate::Money>,
    pub channel_price: Option<crate::Money>,
    pub catalogue_price: Option<crate::Money>,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
}

/// The query of a price list: SKU or name contains `q`; `own` keeps only the
/// products with a channel price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PriceFilter {
    pub q: Option<String>,
    pub own: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// What `PUT /api/v1/channels/{code}/prices` changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceListChanged {
    pub channel: String,
    pub set: i64,
    pub removed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub id: String,
    pub number: String,
    pub channel: String,
    pub external_id: String,
    pub status: String,
    pub total: crate::Money,
    pub placed_at: String,
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub customer_email: String,
    #[serde(default)]
    pub payment_status: String,
    /// Reasons of the open holds (empty when none).
    #[serde(default)]
    pub holds: Vec<String>,
    #[serde(default)]
    pub warehouse: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub cancelled_quantity: i64,
    /// Units not reserved while the order waits for stock.
    pub backordered_quantity: i64,
    /// Units that have left a warehouse.
    pub shipped_quantity: i64,
    pub unit_price: crate::Money,
    pub discount: crate::Money,
    pub total: crate::Money,
    /// False when the SKU is not in the catalogue.
    pub known: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderTotals {
    pub subtotal: crate::Money,
    pub discount: crate::Money,
    pub shipping: crate::Money,
    pub tax: crate::Money,
    pub total: crate::Money,
    pub prices_include_tax: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderHold {
    pub id: String,
    pub reason: String,
    pub label: String,
    pub detail: String,
    pub active: bool,
    pub placed_at: String,
    pub placed_by: String,
    pub released_at: Option<String>,
    pub released_by: Option<String>,
    pub release_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderNote {
    pub author: String,
    pub body: String,
    pub created_at: String,
}

/// One line of an order's timeline: what happened, who did it, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: i64,
    pub at: String,
    pub event: String,
    /// `user`, `token` (an integration), `system` (a rule or a channel).
    pub actor_kind: String,
    pub actor: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub id: Option<String>,
    pub email: String,
    pub name: String,
    pub orders_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fraud {
    pub score: i64,
    pub reasons: Vec<String>,
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    pub number: String,
    pub channel: String,
    pub external_id: String,
    pub status: String,
    pub payment_status: String,
    pub currency: String,
    pub customer: CustomerRef,
    pub ship_to: crate::capture::Address,
    pub bill_to: Option<crate::capture::Address>,
    pub shipping_method: String,
    pub lines: Vec<OrderLine>,
    pub totals: OrderTotals,
    /// What the channel said, where it said it (amounts as sent).
    pub stated_totals: serde_json::Value,
    /// Open holds. An order with any is not released to the warehouse.
    pub holds: Vec<OrderHold>,
    /// Every hold ever placed, open or released.
    pub hold_history: Vec<OrderHold>,
    pub fraud: Fraud,
    pub reservation: Option<Reservation>,
    pub fulfillments: Vec<Fulfillment>,
    pub tags: Vec<String>,
    pub note: String,
    pub notes: Vec<OrderNote>,
    pub manual_touches: i64,
    pub placed_at: String,
    pub version: i64,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    /// `item` holds stock; `bundle` is made of `components`.
    pub kind: String,
    pub group: Option<String>,
    pub options: std::collections::BTreeMap<String, String>,
    pub gtin: Option<String>,
    pub unit: String,
    pub weight_g: Option<i64>,
    pub dimensions_mm: Option<crate::catalog::Dimensions>,
    pub tax_category: String,
    pub track_lots: bool,
    pub track_serials: bool,
    pub active: bool,
    pub prices: Vec<crate::catalog::Price>,
    pub components: Vec<Component>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A row of the product list: enough to find the product and see its stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub kind: String,
    pub group: Option<String>,
    pub gtin: Option<String>,
    pub active: bool,
    pub on_hand: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductFilter {
    /// SKU, name or GTIN contains (case-insensitive).
    pub q: Option<String>,
    /// `active` or `archived`.
    pub status: Option<String>,
    /// `item` or `bundle`.
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    /// The line in the file, counting the header as line 1.
    pub line: i64,
    pub sku: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub failed_rows: i64,
    /// The first 500 row errors.
    pub errors: Vec<RowError>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// What an import would do, before anything is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub total_rows: i64,
    pub valid_rows: i64,
    pub errors: Vec<RowError>,
    /// The first rows as they will be read, for a person to eyeball.
    pub sample: Vec<ProductRow>,
}

/// The workbench's filters; every one is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderFilter {
    pub status: Option<String>,
    /// A hold reason, or `any` for every held order.
    pub hold: Option<String>,
    /// `true` for orders with units waiting for stock.
    #[serde(default)]
    pub backordered: Option<String>,
    pub channel: Option<String>,
    pub warehouse: Option<String>,
    /// Placed on or after this day (YYYY-MM-DD, UTC).
    pub from: Option<String>,
    /// Placed on or before this day (YYYY-MM-DD, UTC).
    pub to: Option<String>,
    /// Last units shipped on or after / on or before this day (YYYY-MM-DD, UTC).
    #[serde(default)]
    pub shipped_from: Option<String>,
    #[serde(default)]
    pub shipped_to: Option<String>,
    /// `on_time` or `late`: shipped by its ship-by time or after it.
    #[serde(default)]
    pub shipped: Option<String>,
    /// Order total at least / at most, in the order's currency.
    pub min_total: Option<String>,
    pub max_total: Option<String>,
    /// The customer's email.
    pub customer: Option<String>,
    pub tag: Option<String>,
    /// Order number, external id, email or name.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A bulk action's result for one order: done, or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkResult {
    pub order_id: String,
    pub number: String,
    pub ok: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BulkAction {
    /// Releases every open hold with this reason (all open holds when absent).
    ReleaseHold {
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        note: String,
    },
    Cancel {
        reason: String,
    },
    Tag {
        tag: String,
    },
}

/// A person's named workbench filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    pub query: String,
}

/// One order field of a report mapping, for the mapping form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportField {
    pub key: String,
    pub label: String,
    pub required: bool,
    /// The report column it reads, or empty.
    pub column: String,
}

/// An order as a report preview lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOrderRow {
    pub external_id: String,
    /// The file's lines it comes from, as "2, 4".
    pub file_lines: String,
    pub email: String,
    pub lines: i64,
    pub units: i64,
}

/// What importing a staged order report would do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPreview {
    pub channel: String,
    pub headers: Vec<String>,
    pub fields: Vec<ReportField>,
    pub mapping_saved: bool,
    pub mapping_errors: Vec<crate::FieldError>,
    pub orders: i64,
    /// The first orders, as they will be read.
    pub sample: Vec<ReportOrderRow>,
    pub problems: Vec<RowError>,
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

/// An expected delivery (or a blind receipt) as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub id: String,
    pub number: String,
    pub warehouse: String,
    pub supplier: String,
    pub reference: Option<String>,
    /// `YYYY-MM-DD`, or empty when not announced.
    pub expected_on: String,
    /// Opened at the dock without an announcement: any item is taken.
    pub blind: bool,
    /// expected | receiving | closed
    pub status: String,
    pub units_expected: i64,
    pub units_received: i64,
    pub created_at: String,
}

/// One announced item of a delivery, or one item received blind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub sku: String,
    pub name: String,
    /// 0 on a blind receipt.
    pub expected: i64,
    pub received: i64,
}

/// Units put into a bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPut {
    pub sku: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
    pub location: String,
    pub put_by: String,
    pub put_at: String,
}

/// The item the signed-in agent scanned and hasn't put away yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingReceipt {
    /// lot | put: what the agent scans next.
    pub step: String,
    pub sku: String,
    pub name: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
    /// The bin of this warehouse that holds most of the item, if any does.
    pub suggested_bin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    #[serde(flatten)]
    pub summary: DeliverySummary,
    pub lines: Vec<DeliveryLine>,
    /// Putaways, newest first.
    pub puts: Vec<DeliveryPut>,
    pub pending: Option<PendingReceipt>,
    pub closed_at: Option<String>,
}

impl DeliveryLine {
    /// Announced units not received yet.
    pub fn open(&self) -> i64 {
        (self.expected - self.received).max(0)
    }
}

impl Delivery {
    /// Announced units that never came; a blind receipt announced none.
    pub fn units_short(&self) -> i64 {
        if self.summary.blind {
            return 0;
        }
        let counts: Vec<(i64, i64)> = self
            .lines
            .iter()
            .map(|l| (l.expected, l.received))
            .collect();
        crate::receiving::discrepancy(&counts).0
    }
}

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

/// One KPI on the board: its number for the period and the one before,
/// its daily trend, a breakdown, and where each figure drills down to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    pub key: String,
    pub label: String,
    /// What is counted and how, in words.
    pub definition: String,
    /// `hours`, `percent`, `count`, `per_order` or `money`.
    pub unit: String,
    /// The period's value as a decimal string; none when nothing was measured.
    pub value: Option<String>,
    pub display: String,
    pub previous: Option<String>,
    pub previous_display: String,
    /// `+12.5%` against the previous period (`+1.2 pts` for rates).
    pub change: Option<String>,
    /// Whether the change is for the better; none when unchanged.
    pub better: Option<bool>,
    /// The records behind the number.
    pub link: Option<String>,
    pub series: Vec<KpiPoint>,
    pub breakdown: Vec<KpiPart>,
    /// Whether the channel and warehouse filters apply to this KPI.
    pub by_channel: bool,
    pub by_warehouse: bool,
    /// Set for a KPI whose records arrive with a later capability.
    pub pending: Option<String>,
}

/// A day of a KPI's trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiPoint {
    pub day: String,
    pub value: Option<String>,
    pub display: String,
    pub link: Option<String>,
}

/// A line of a KPI's breakdown (a channel, a status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiPart {
    pub label: String,
    pub value: String,
    pub link: Option<String>,
}

/// The KPI board for a period and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiBoard {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    pub channel: Option<String>,
    pub warehouse: Option<String>,
    /// Money figures are in this currency; orders in others are left out of them.
    pub currency: String,
    pub currencies: Vec<String>,
    pub channels: Vec<String>,
    pub warehouses: Vec<String>,
    pub kpis: Vec<Kpi>,
    /// The last event the figures include.
    pub as_of_seq: i64,
}
