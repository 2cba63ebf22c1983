//! Read models of channels, prices, orders and the order workbench.

use super::catalog::RowError;
use super::fulfillment::Fulfillment;
use super::inventory::Reservation;
use serde::{Deserialize, Serialize};

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
    pub ship_to: crate::orders::Address,
    pub bill_to: Option<crate::orders::Address>,
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

/// The workbench's filters; every one is optional and they combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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

/// What the returns portal shows a shopper who proved an order is theirs:
/// the order as they know it, no staff-side detail (holds, channel, tags) and
/// nothing about the customer they didn't type themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalOrder {
    pub number: String,
    pub status: String,
    pub placed_at: String,
    pub total: crate::Money,
    pub lines: Vec<PortalLine>,
    pub shipments: Vec<PortalShipment>,
    /// When this portal session ends (RFC 3339).
    pub session_expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub cancelled: i64,
    pub shipped: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalShipment {
    pub number: String,
    pub carrier: String,
    pub service: String,
    pub shipped_at: String,
    pub tracking: Vec<String>,
}
