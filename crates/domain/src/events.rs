//! Domain events: what happened, in past tense, as a serde-tagged enum.
//!
//! Each event has a stable `type` name and a schema version `v`. The wire form is
//! flat: `{"type":"user.created","v":1,"user_id":"…",…}`. Adding a field that old
//! readers may ignore keeps `v`; removing or changing the meaning of one bumps it,
//! and readers then match on (type, v).

use serde::{Deserialize, Serialize};

use crate::governance::{Role, Scope};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "user.created")]
    UserCreated {
        user_id: String,
        email: String,
        name: String,
        role: Role,
    },
    #[serde(rename = "user.updated")]
    UserUpdated {
        user_id: String,
        role: Role,
        active: bool,
        scope: Scope,
    },
    #[serde(rename = "user.password_changed")]
    UserPasswordChanged { user_id: String },
    #[serde(rename = "user.signed_in")]
    UserSignedIn { user_id: String },
    #[serde(rename = "user.signed_out")]
    UserSignedOut { user_id: String },
    /// A shopper proved an order is theirs in the returns portal.
    #[serde(rename = "portal.session_opened")]
    PortalSessionOpened { order_id: String },
    #[serde(rename = "portal.session_closed")]
    PortalSessionClosed { order_id: String },
    /// A change the approval policy holds for a second person.
    #[serde(rename = "approval.requested")]
    ApprovalRequested {
        change_id: String,
        kind: String,
        summary: String,
    },
    /// A held change was approved (and applied in the same transaction) or rejected.
    #[serde(rename = "approval.decided")]
    ApprovalDecided {
        change_id: String,
        kind: String,
        approved: bool,
    },
    #[serde(rename = "approval.policy_changed")]
    ApprovalPolicyChanged {
        kind: String,
        active: bool,
        threshold_minor: Option<i64>,
        /// Price overrides only; absent for the other kinds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold_percent: Option<i64>,
    },
    #[serde(rename = "api_token.created")]
    ApiTokenCreated {
        token_id: String,
        name: String,
        role: Role,
    },
    #[serde(rename = "api_token.revoked")]
    ApiTokenRevoked { token_id: String },
    #[serde(rename = "warehouse.created")]
    WarehouseCreated {
        warehouse_id: String,
        code: String,
        name: String,
    },
    #[serde(rename = "channel.created")]
    ChannelCreated {
        channel_id: String,
        code: String,
        kind: String,
        currency: String,
    },
    #[serde(rename = "channel.buffer_changed")]
    ChannelBufferChanged {
        channel_id: String,
        code: String,
        safety_buffer: i64,
    },
    /// The channel's warehouses, in priority order, changed (its sourcing
    /// rule).
    #[serde(rename = "channel.warehouses_changed")]
    ChannelWarehousesChanged {
        channel_id: String,
        code: String,
        warehouses: Vec<String>,
    },
    #[serde(rename = "channel.prices_set")]
    ChannelPricesSet {
        channel_id: String,
        code: String,
        set: i64,
        removed: i64,
    },
    #[serde(rename = "channel.report_mapping_set")]
    ChannelReportMappingSet {
        channel_id: String,
        code: String,
        fields: i64,
    },
    #[serde(rename = "product.created")]
    ProductCreated {
        product_id: String,
        sku: String,
        kind: String,
    },
    #[serde(rename = "product.updated")]
    ProductUpdated {
        product_id: String,
        sku: String,
        active: bool,
    },
    #[serde(rename = "location.created")]
    LocationCreated {
        location_id: String,
        warehouse: String,
        code: String,
    },
    #[serde(rename = "stock.received")]
    StockReceived {
        warehouse: String,
        reference: Option<String>,
        units: i64,
        skus: Vec<String>,
    },
    #[serde(rename = "stock.adjusted")]
    StockAdjusted {
        warehouse: String,
        sku: String,
        location: String,
        quantity: i64,
        reason: String,
    },
    /// A warehouse's reorder point for an item was set (`units` > 0) or
    /// removed (`units` = 0).
    #[serde(rename = "reorder_point.set")]
    ReorderPointSet {
        warehouse: String,
        sku: String,
        units: i64,
    },
    /// A refused attempt (an oversell, a rejected webhook) was counted on
    /// its incident.
    #[serde(rename = "incident.recorded")]
    IncidentRecorded {
        incident_id: String,
        kind: String,
        subject: String,
        occurrences: i64,
    },
    /// A person resolved the incident's exception; the next attempt opens a
    /// new incident.
    #[serde(rename = "incident.resolved")]
    IncidentResolved {
        incident_id: String,
        kind: String,
        subject: String,
    },
    #[serde(rename = "inventory.reserved")]
    InventoryReserved {
        reservation_id: String,
        reference: String,
        channel: Option<String>,
        units: i64,
    },
    #[serde(rename = "inventory.released")]
    InventoryReleased {
        reservation_id: String,
        reference: String,
    },
    #[serde(rename = "inventory.shipped")]
    InventoryShipped {
        reservation_id: String,
        reference: String,
        units: i64,
    },
    #[serde(rename = "transfer.shipped")]
    TransferShipped {
        transfer_id: String,
        number: String,
        from: String,
        to: String,
        units: i64,
    },
    #[serde(rename = "transfer.received")]
    TransferReceived { transfer_id: String, number: String },
    #[serde(rename = "count.opened")]
    CountOpened {
        count_id: String,
        number: String,
        warehouse: String,
        location: String,
    },
    #[serde(rename = "count.scanned")]
    CountScanned {
        count_id: String,
        number: String,
        sku: String,
        counted: i64,
    },
    #[serde(rename = "count.submitted")]
    CountSubmitted {
        count_id: String,
        number: String,
        variance_units: i64,
        needs_approval: bool,
    },
    #[serde(rename = "count.posted")]
    CountPosted {
        count_id: String,
        number: String,
        variance_units: i64,
    },
    #[serde(rename = "count.rejected")]
    CountRejected { count_id: String, number: String },
    #[serde(rename = "import.finished")]
    ImportFinished {
        job_id: String,
        created: i64,
        updated: i64,
        failed: i64,
    },
    #[serde(rename = "orders.imported")]
    OrdersImported {
        count: i64,
        first: String,
        last: String,
    },
    #[serde(rename = "tax_rules.set")]
    TaxRulesSet { country: String, rules: i64 },
    #[serde(rename = "saved_view.saved")]
    ViewSaved { view_id: String, name: String },
    /// Everything Keel holds about a customer was exported on request.
    #[serde(rename = "customer.exported")]
    CustomerExported { customer_id: String, orders: i64 },
    /// A customer was erased on request: their orders keep money, stock and
    /// tax facts under a pseudonym, and the records that named them were
    /// rewritten (audit rows keep their place in the chain).
    #[serde(rename = "customer.erased")]
    CustomerErased {
        customer_id: String,
        orders: i64,
        audit_rows: i64,
        events: i64,
    },
    #[serde(rename = "order.captured")]
    OrderCaptured {
        order_id: String,
        number: String,
        channel: String,
        external_id: String,
        total: String,
        currency: String,
        /// Reasons of the holds placed at capture (empty when confirmed).
        holds: Vec<String>,
    },
    #[serde(rename = "order.confirmed")]
    OrderConfirmed { order_id: String, number: String },
    /// Units planned into fulfilments (at capture, or when backordered units
    /// are sourced again), and what still waits for stock.
    #[serde(rename = "order.sourced")]
    OrderSourced {
        order_id: String,
        number: String,
        shipments: Vec<SourcedShipment>,
        backordered: Vec<BackorderedLine>,
    },
    /// A delivery announced by a supplier (or opened blind at the dock).
    #[serde(rename = "delivery.expected")]
    DeliveryExpected {
        delivery_id: String,
        number: String,
        warehouse: String,
        supplier: String,
        blind: bool,
        units: i64,
    },
    /// An accepted receiving scan that didn't put anything away yet: the
    /// item, its lot, or its quantity.
    #[serde(rename = "delivery.scanned")]
    DeliveryScanned {
        delivery_id: String,
        number: String,
        step: String,
        sku: String,
        quantity: i64,
    },
    /// Units of a delivery put into a bin (the stock.received of the same
    /// transaction moves the ledger).
    #[serde(rename = "delivery.put_away")]
    DeliveryPutAway {
        delivery_id: String,
        number: String,
        warehouse: String,
        sku: String,
        lot: String,
        location: String,
        quantity: i64,
    },
    #[serde(rename = "delivery.closed")]
    DeliveryClosed {
        delivery_id: String,
        number: String,
        units_expected: i64,
        units_received: i64,
        units_short: i64,
    },
    #[serde(rename = "order.held")]
    OrderHeld {
        order_id: String,
        number: String,
        reason: String,
        detail: String,
    },
    #[serde(rename = "order.hold_released")]
    OrderHoldReleased {
        order_id: String,
        number: String,
        reason: String,
        note: String,
    },
    #[serde(rename = "order.cancelled")]
    OrderCancelled {
        order_id: String,
        number: String,
        reason: String,
    },
    #[serde(rename = "order.line_cancelled")]
    OrderLineCancelled {
        order_id: String,
        number: String,
        line_no: i64,
        sku: String,
        quantity: i64,
        reason: String,
    },
    /// Fulfilments of one warehouse released to the floor as a wave of
    /// pick tasks, in bin order.
    #[serde(rename = "wave.created")]
    WaveCreated {
        wave_id: String,
        number: String,
        warehouse: String,
        orders: Vec<String>,
        tasks: i64,
        units: i64,
    },
    /// An accepted scan during picking: the bin, the item, or the units.
    #[serde(rename = "pick.scanned")]
    PickScanned {
        wave_id: String,
        number: String,
        task_id: String,
        sku: String,
        location: String,
        /// What the scan confirmed: `bin`, `item` or `quantity`.
        step: String,
        picked: i64,
    },
    /// A pick came up short: the missing units were written off the bin, a
    /// count of the bin was opened, and the units were sourced again.
    #[serde(rename = "pick.shorted")]
    PickShorted {
        wave_id: String,
        number: String,
        task_id: String,
        order_number: String,
        sku: String,
        location: String,
        short: i64,
        reason: String,
        count_number: String,
    },
    /// Items scanned into a package, or its measurements recorded.
    #[serde(rename = "fulfillment.packed")]
    FulfillmentPacked {
        fulfillment_id: String,
        order_number: String,
        package: i64,
        sku: String,
        units: i64,
    },
    #[serde(rename = "package.measured")]
    PackageMeasured {
        fulfillment_id: String,
        package: i64,
        weight_g: i64,
        dimensions_mm: [i64; 3],
    },
    /// Goods left the warehouse: the reservation is consumed and the stock
    /// moved out of its bins. Customer notifications follow this event.
    #[serde(rename = "order.shipped")]
    OrderShipped {
        order_id: String,
        number: String,
        shipment_id: String,
        shipment_number: String,
        warehouse: String,
        carrier: String,
        service: String,
        packages: Vec<ShippedPackage>,
        lines: Vec<ShippedLine>,
        /// Whether every open unit of the order has now shipped.
        complete: bool,
    },
    /// A record needs a person: it entered an exception queue.
    #[serde(rename = "exception.opened")]
    ExceptionOpened {
        exception_id: String,
        queue: String,
        entity: String,
        entity_id: String,
        entity_ref: String,
        reason: String,
    },
    /// Its condition ended (the hold was released, the pick shipped, …).
    #[serde(rename = "exception.closed")]
    ExceptionClosed {
        exception_id: String,
        queue: String,
        entity_ref: String,
    },
    #[serde(rename = "exception.assigned")]
    ExceptionAssigned {
        exception_id: String,
        queue: String,
        /// The user's email, or empty when handed back to the owning role.
        assignee: String,
    },
    #[serde(rename = "exception.snoozed")]
    ExceptionSnoozed {
        exception_id: String,
        queue: String,
        until: String,
        reason: String,
    },
    /// A person dealt with it; it stays resolved while its condition lasts.
    #[serde(rename = "exception.resolved")]
    ExceptionResolved {
        exception_id: String,
        queue: String,
        note: String,
    },
    #[serde(rename = "order.address_changed")]
    OrderAddressChanged { order_id: String, number: String },
    #[serde(rename = "order.note_added")]
    OrderNoteAdded { order_id: String, number: String },
    #[serde(rename = "order.tagged")]
    OrderTagged {
        order_id: String,
        number: String,
        added: Vec<String>,
        removed: Vec<String>,
    },
}

/// One warehouse's part of a sourcing decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcedShipment {
    pub warehouse: String,
    pub units: i64,
    pub reason: String,
}

/// One parcel of a shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedPackage {
    pub seq: i64,
    pub tracking: String,
    pub weight_g: i64,
}

/// Units of an order line in a shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedLine {
    pub line_no: i64,
    pub sku: String,
    pub quantity: i64,
}

/// Units of a line left waiting for stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackorderedLine {
    pub sku: String,
    pub units: i64,
    pub reason: String,
}

impl Event {
    /// The stable type name, as in the `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::UserCreated { .. } => "user.created",
            Event::UserUpdated { .. } => "user.updated",
            Event::UserPasswordChanged { .. } => "user.password_changed",
            Event::UserSignedIn { .. } => "user.signed_in",
            Event::UserSignedOut { .. } => "user.signed_out",
            Event::PortalSessionOpened { .. } => "portal.session_opened",
            Event::PortalSessionClosed { .. } => "portal.session_closed",
            Event::ApprovalRequested { .. } => "approval.requested",
            Event::ApprovalDecided { .. } => "approval.decided",
            Event::ApprovalPolicyChanged { .. } => "approval.policy_changed",
            Event::ApiTokenCreated { .. } => "api_token.created",
            Event::ApiTokenRevoked { .. } => "api_token.revoked",
            Event::WarehouseCreated { .. } => "warehouse.created",
            Event::ChannelCreated { .. } => "channel.created",
            Event::ChannelBufferChanged { .. } => "channel.buffer_changed",
            Event::ChannelWarehousesChanged { .. } => "channel.warehouses_changed",
            Event::ChannelReportMappingSet { .. } => "channel.report_mapping_set",
            Event::ChannelPricesSet { .. } => "channel.prices_set",
            Event::ProductCreated { .. } => "product.created",
            Event::ProductUpdated { .. } => "product.updated",
            Event::LocationCreated { .. } => "location.created",
            Event::StockReceived { .. } => "stock.received",
            Event::StockAdjusted { .. } => "stock.adjusted",
            Event::InventoryReserved { .. } => "inventory.reserved",
            Event::InventoryReleased { .. } => "inventory.released",
            Event::InventoryShipped { .. } => "inventory.shipped",
            Event::TransferShipped { .. } => "transfer.shipped",
            Event::TransferReceived { .. } => "transfer.received",
            Event::CountOpened { .. } => "count.opened",
            Event::CountScanned { .. } => "count.scanned",
            Event::CountSubmitted { .. } => "count.submitted",
            Event::CountPosted { .. } => "count.posted",
            Event::CountRejected { .. } => "count.rejected",
            Event::ImportFinished { .. } => "import.finished",
            Event::OrdersImported { .. } => "orders.imported",
            Event::TaxRulesSet { .. } => "tax_rules.set",
            Event::ViewSaved { .. } => "saved_view.saved",
            Event::CustomerExported { .. } => "customer.exported",
            Event::CustomerErased { .. } => "customer.erased",
            Event::OrderCaptured { .. } => "order.captured",
            Event::OrderConfirmed { .. } => "order.confirmed",
            Event::OrderSourced { .. } => "order.sourced",
            Event::WaveCreated { .. } => "wave.created",
            Event::PickScanned { .. } => "pick.scanned",
            Event::PickShorted { .. } => "pick.shorted",
            Event::FulfillmentPacked { .. } => "fulfillment.packed",
            Event::PackageMeasured { .. } => "package.measured",
            Event::OrderShipped { .. } => "order.shipped",
            Event::DeliveryExpected { .. } => "delivery.expected",
            Event::DeliveryScanned { .. } => "delivery.scanned",
            Event::DeliveryPutAway { .. } => "delivery.put_away",
            Event::DeliveryClosed { .. } => "delivery.closed",
            Event::OrderHeld { .. } => "order.held",
            Event::ReorderPointSet { .. } => "reorder_point.set",
            Event::IncidentRecorded { .. } => "incident.recorded",
            Event::IncidentResolved { .. } => "incident.resolved",
            Event::ExceptionOpened { .. } => "exception.opened",
            Event::ExceptionClosed { .. } => "exception.closed",
            Event::ExceptionAssigned { .. } => "exception.assigned",
            Event::ExceptionSnoozed { .. } => "exception.snoozed",
            Event::ExceptionResolved { .. } => "exception.resolved",
            Event::OrderHoldReleased { .. } => "order.hold_released",
            Event::OrderCancelled { .. } => "order.cancelled",
            Event::OrderLineCancelled { .. } => "order.line_cancelled",
            Event::OrderAddressChanged { .. } => "order.address_changed",
            Event::OrderNoteAdded { .. } => "order.note_added",
            Event::OrderTagged { .. } => "order.tagged",
        }
    }

    /// The payload schema version of this variant.
    pub fn version(&self) -> u32 {
        1
    }

    /// The entity the event is about, as (kind, id), for filtering and drill-down.
    pub fn entity(&self) -> (&'static str, &str) {
        match self {
            Event::UserCreated { user_id, .. }
            | Event::UserUpdated { user_id, .. }
            | Event::UserPasswordChanged { user_id }
            | Event::UserSignedIn { user_id }
            | Event::UserSignedOut { user_id } => ("user", user_id),
            Event::ApprovalRequested { change_id, .. }
            | Event::ApprovalDecided { change_id, .. } => ("pending_change", change_id),
            Event::ApprovalPolicyChanged { kind, .. } => ("approval_policy", kind),
            Event::ApiTokenCreated { token_id, .. } | Event::ApiTokenRevoked { token_id } => {
                ("api_token", token_id)
            }
            Event::WarehouseCreated { warehouse_id, .. } => ("warehouse", warehouse_id),
            Event::ChannelCreated { channel_id, .. }
            | Event::ChannelBufferChanged { channel_id, .. }
            | Event::ChannelWarehousesChanged { channel_id, .. }
            | Event::ChannelReportMappingSet { channel_id, .. }
            | Event::ChannelPricesSet { channel_id, .. } => ("channel", channel_id),
            Event::ProductCreated { product_id, .. } | Event::ProductUpdated { product_id, .. } => {
                ("product", product_id)
            }
            Event::LocationCreated { location_id, .. } => ("location", location_id),
            Event::WaveCreated { wave_id, .. }
            | Event::PickScanned { wave_id, .. }
            | Event::PickShorted { wave_id, .. } => ("wave", wave_id),
            Event::FulfillmentPacked { fulfillment_id, .. }
            | Event::PackageMeasured { fulfillment_id, .. } => ("fulfillment", fulfillment_id),
            Event::DeliveryExpected { delivery_id, .. }
            | Event::DeliveryScanned { delivery_id, .. }
            | Event::DeliveryPutAway { delivery_id, .. }
            | Event::DeliveryClosed { delivery_id, .. } => ("delivery", delivery_id),
            Event::StockReceived { warehouse, .. } => ("warehouse", warehouse),
            Event::StockAdjusted { sku, .. } | Event::ReorderPointSet { sku, .. } => {
                ("product", sku)
            }
            Event::IncidentRecorded { incident_id, .. }
            | Event::IncidentResolved { incident_id, .. } => ("incident", incident_id),
            Event::InventoryReserved { reservation_id, .. }
            | Event::InventoryReleased { reservation_id, .. }
            | Event::InventoryShipped { reservation_id, .. } => ("reservation", reservation_id),
            Event::TransferShipped { transfer_id, .. }
            | Event::TransferReceived { transfer_id, .. } => ("transfer", transfer_id),
            Event::CountOpened { count_id, .. }
            | Event::CountScanned { count_id, .. }
            | Event::CountSubmitted { count_id, .. }
            | Event::CountPosted { count_id, .. }
            | Event::CountRejected { count_id, .. } => ("count", count_id),
            Event::ImportFinished { job_id, .. } => ("import", job_id),
            Event::ExceptionOpened { exception_id, .. }
            | Event::ExceptionClosed { exception_id, .. }
            | Event::ExceptionAssigned { exception_id, .. }
            | Event::ExceptionSnoozed { exception_id, .. }
            | Event::ExceptionResolved { exception_id, .. } => ("exception", exception_id),
            Event::ViewSaved { view_id, .. } => ("saved_view", view_id),
            Event::OrdersImported { first, .. } => ("order_import", first),
            Event::TaxRulesSet { country, .. } => ("tax_rule", country),
            Event::CustomerExported { customer_id, .. }
            | Event::CustomerErased { customer_id, .. } => ("customer", customer_id),
            Event::OrderCaptured { order_id, .. }
            | Event::OrderConfirmed { order_id, .. }
            | Event::OrderSourced { order_id, .. }
            | Event::OrderShipped { order_id, .. }
            | Event::OrderHeld { order_id, .. }
            | Event::OrderHoldReleased { order_id, .. }
            | Event::OrderCancelled { order_id, .. }
            | Event::OrderLineCancelled { order_id, .. }
            | Event::OrderAddressChanged { order_id, .. }
            | Event::OrderNoteAdded { order_id, .. }
            | Event::OrderTagged { order_id, .. }
            | Event::PortalSessionOpened { order_id }
            | Event::PortalSessionClosed { order_id } => ("order", order_id),
        }
    }

    /// The flat wire form with `v` beside `type`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.insert("v".into(), self.version().into());
        }
        value
    }

    /// Reads the wire form back, ignoring `v` (every variant is at version 1).
    pub fn from_json(value: &serde_json::Value) -> Result<Event, serde_json::Error> {
        let mut value = value.clone();
        if let Some(map) = value.as_object_mut() {
            map.remove("v");
        }
        serde_json::from_value(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_flat_with_type_and_version() {
        let e = Event::UserSignedIn {
            user_id: "u1".into(),
        };
        assert_eq!(
            e.to_json(),
            serde_json::json!({"type": "user.signed_in", "v": 1, "user_id": "u1"})
        );
        assert_eq!(Event::from_json(&e.to_json()).unwrap(), e);
    }

    #[test]
    fn type_name_matches_the_serde_tag() {
        let samples = vec![
            Event::ApprovalRequested {
                change_id: "c".into(),
                kind: "role_change".into(),
                summary: "s".into(),
            },
            Event::ApprovalDecided {
                change_id: "c".into(),
                kind: "role_change".into(),
                approved: true,
            },
            Event::ApprovalPolicyChanged {
                kind: "role_change".into(),
                active: true,
                threshold_minor: None,
                threshold_percent: None,
            },
            Event::ApprovalPolicyChanged {
                kind: "price_override".into(),
                active: true,
                threshold_minor: None,
                threshold_percent: Some(20),
            },
            Event::ReorderPointSet {
                warehouse: "WEST".into(),
                sku: "TEE".into(),
                units: 10,
            },
            Event::IncidentRecorded {
                incident_id: "i".into(),
                kind: "oversell_refused".into(),
                subject: "TEE".into(),
                occurrences: 1,
            },
            Event::IncidentResolved {
                incident_id: "i".into(),
                kind: "oversell_refused".into(),
                subject: "TEE".into(),
            },
            Event::UserCreated {
                user_id: "u".into(),
                email: "a@b.co".into(),
                name: "A".into(),
                role: Role::Admin,
            },
            Event::UserUpdated {
                user_id: "u".into(),
                role: Role::Manager,
                active: true,
                scope: Scope::default(),
            },
            Event::UserPasswordChanged {
                user_id: "u".into(),
            },
            Event::UserSignedIn {
                user_id: "u".into(),
            },
            Event::UserSignedOut {
                user_id: "u".into(),
            },
            Event::PortalSessionOpened {
                order_id: "o".into(),
            },
            Event::CustomerExported {
                customer_id: "c".into(),
                orders: 2,
            },
            Event::CustomerErased {
                customer_id: "c".into(),
                orders: 2,
                audit_rows: 3,
                events: 4,
            },
            Event::ApiTokenCreated {
                token_id: "t".into(),
                name: "n".into(),
                role: Role::Admin,
            },
            Event::ApiTokenRevoked {
                token_id: "t".into(),
            },
            Event::WarehouseCreated {
                warehouse_id: "w".into(),
                code: "WEST".into(),
                name: "West".into(),
            },
            Event::ChannelCreated {
                channel_id: "c".into(),
                code: "WEB".into(),
                kind: "web".into(),
                currency: "EUR".into(),
            },
            Event::OrderHeld {
                order_id: "o".into(),
                number: "SO-1".into(),
                reason: "manual".into(),
                detail: String::new(),
            },
            Event::ExceptionOpened {
                exception_id: "x".into(),
                queue: "holds".into(),
                entity: "order".into(),
                entity_id: "o".into(),
                entity_ref: "SO-1".into(),
                reason: "manual".into(),
            },
        ];
        for e in samples {
            assert_eq!(e.to_json()["type"], e.type_name());
            assert_eq!(Event::from_json(&e.to_json()).unwrap(), e);
        }
    }
}
