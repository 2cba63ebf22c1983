//! The OpenAPI 3.1 document for `/api/v1`, generated from `ROUTES`. The
//! authorization matrix test walks the same table, so a documented route that
//! skips its permission check fails the build.

use domain::governance::Permission;
use serde_json::{json, Value};

pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// `None` for public routes.
    pub permission: Option<Permission>,
    pub body: Option<fn() -> Value>,
    pub success: u16,
}

fn warehouse_body() -> Value {
    json!({"type": "object", "required": ["code", "name"], "additionalProperties": false,
           "properties": {"code": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,16}$"}, "name": {"type": "string", "maxLength": 120}}})
}

fn user_body() -> Value {
    json!({"type": "object", "required": ["email", "name", "role", "password"], "additionalProperties": false,
           "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"},
                          "role": {"enum": ["admin", "manager", "warehouse", "finance", "support"]},
                          "password": {"type": "string", "minLength": 12}, "scope": {"$ref": "#/components/schemas/Scope"}}})
}

fn user_update_body() -> Value {
    json!({"type": "object", "required": ["role", "active", "version"], "additionalProperties": false,
           "properties": {"role": {"enum": ["admin", "manager", "warehouse", "finance", "support"]}, "active": {"type": "boolean"},
                          "scope": {"$ref": "#/components/schemas/Scope"}, "version": {"type": "integer", "description": "the version you read; a stale one gets 409 version_conflict"}}})
}

fn password_body() -> Value {
    json!({"type": "object", "required": ["password"], "additionalProperties": false, "properties": {"password": {"type": "string", "minLength": 12}}})
}

fn token_body() -> Value {
    json!({"type": "object", "required": ["name", "role"], "additionalProperties": false,
           "properties": {"name": {"type": "string"}, "role": {"enum": ["admin", "manager", "warehouse", "finance", "support"]},
                          "scope": {"$ref": "#/components/schemas/Scope"}}})
}

fn product_body() -> Value {
    json!({"type": "object", "required": ["sku", "name"], "additionalProperties": false, "properties": {
        "sku": {"type": "string", "maxLength": 64}, "name": {"type": "string", "maxLength": 120},
        "gtin": {"type": "string", "description": "GTIN-8/12/13/14; the check digit is verified"},
        "group": {"type": "string", "description": "variant group (style) code"},
        "options": {"type": "object", "additionalProperties": {"type": "string"}},
        "unit": {"enum": ["each", "pair", "pack", "set", "kg", "m"]}, "weight_g": {"type": "integer"},
        "dimensions_mm": {"type": "object", "properties": {"length": {"type": "integer"}, "width": {"type": "integer"}, "height": {"type": "integer"}}},
        "tax_category": {"enum": ["standard", "reduced", "zero", "exempt"]}, "track_lots": {"type": "boolean"}, "track_serials": {"type": "boolean", "description": "one unit per serial number; implies track_lots"}, "active": {"type": "boolean"},
        "prices": {"type": "array", "items": {"type": "object", "required": ["currency", "cost", "price"], "properties": {
            "currency": {"type": "string"}, "cost": {"type": "string"}, "price": {"type": "string"}}}},
        "components": {"type": "array", "description": "present for a bundle or kit", "items": {"type": "object", "required": ["sku", "quantity"],
            "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}}}}}})
}

fn product_update_body() -> Value {
    json!({"type": "object", "required": ["product", "version"], "additionalProperties": false,
           "properties": {"product": product_body(), "version": {"type": "integer", "description": "the version you read; a stale one gets 409 version_conflict"}}})
}

fn address_schema() -> Value {
    json!({"type": "object", "properties": {
        "name": {"type": "string"}, "line1": {"type": "string"}, "line2": {"type": "string"}, "city": {"type": "string"},
        "region": {"type": "string"}, "postcode": {"type": "string"}, "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
        "phone": {"type": "string"}}})
}

fn amount_schema(desc: &str) -> Value {
    json!({"description": desc, "oneOf": [{"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}, {"$ref": "#/components/schemas/Money"}]})
}

fn channel_body() -> Value {
    json!({"type": "object", "required": ["code", "kind", "currency"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,16}$"}, "name": {"type": "string"},
        "kind": {"enum": ["web", "shopify", "woocommerce", "marketplace", "b2b", "manual"]},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "warehouses": {"type": "array", "items": {"type": "string"}, "description": "warehouse codes in priority order"},
        "webhook_secret": {"type": "string", "minLength": 8, "description": "the secret storefront webhooks are signed with; never returned"},
        "prices_include_tax": {"type": "boolean"}}})
}

fn order_body() -> Value {
    json!({"type": "object", "required": ["channel", "external_id", "currency", "customer", "lines", "payment_status"], "additionalProperties": false,
        "description": "Idempotent by channel plus external_id: a replay answers 200 with the original order. Problems that a person can fix (payment, fraud score, address, totals that don't add up, unknown SKUs) capture the order on hold rather than refusing it. Sourcing plans the stocked units into fulfillments (one per warehouse, each with its reason: the channel's priority, ship complete, else the fewest warehouses) and backorders the rest on the lines; backorders are sourced automatically when stock arrives.",
        "properties": {
        "channel": {"type": "string"}, "external_id": {"type": "string", "maxLength": 100}, "currency": {"type": "string"},
        "customer": {"oneOf": [{"type": "string", "format": "email"}, {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}, "name": {"type": "string"}, "phone": {"type": "string"}}}]},
        "lines": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "name": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
            "unit_price": amount_schema("price per unit; without it, the channel's list price (GET /api/v1/channels/{code}/prices), and a SKU with none is refused"), "discount": amount_schema("discount on the whole line")}}},
        "shipping": {"type": "object", "properties": {"address": address_schema(), "price": amount_schema("shipping charged"), "method": {"type": "string"}}},
        "billing_address": address_schema(),
        "payment_status": {"enum": ["paid", "authorized", "pending", "failed"]},
        "discount": amount_schema("order-level discount"),
        "prices_include_tax": {"type": "boolean"},
        "totals": {"type": "object", "description": "what the channel computed; compared with Keel's recomputation", "properties": {
            "subtotal": amount_schema(""), "discount": amount_schema(""), "tax": amount_schema("tax the channel charged; used instead of Keel's regional rule"), "total": amount_schema("")}},
        "placed_at": {"type": "string", "format": "date-time"}, "note": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}})
}

fn cancel_line_body() -> Value {
    json!({"type": "object", "required": ["quantity", "reason"], "additionalProperties": false, "properties": {
        "quantity": {"type": "integer", "minimum": 1, "description": "units to cancel, at most the line's open units"},
        "reason": {"type": "string", "description": "why, for the timeline"}}})
}

fn reason_body() -> Value {
    json!({"type": "object", "required": ["reason"], "additionalProperties": false, "properties": {"reason": {"type": "string"}}})
}

fn hold_body() -> Value {
    json!({"type": "object", "required": ["detail"], "additionalProperties": false, "properties": {"detail": {"type": "string", "description": "why the order is held"}}})
}

fn release_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"note": {"type": "string"}}})
}

fn address_body() -> Value {
    json!({"type": "object", "required": ["address"], "additionalProperties": false, "properties": {"address": address_schema(), "version": {"type": "integer"}}})
}

fn note_body() -> Value {
    json!({"type": "object", "required": ["body"], "additionalProperties": false, "properties": {"body": {"type": "string", "maxLength": 2000}}})
}

fn tag_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"add": {"type": "array", "items": {"type": "string"}}, "remove": {"type": "array", "items": {"type": "string"}}}})
}

fn bulk_body() -> Value {
    json!({"type": "object", "required": ["ids", "action"], "properties": {"ids": {"type": "array", "maxItems": 200, "items": {"type": "string"}},
        "action": {"enum": ["release_hold", "cancel", "tag"]}, "reason": {"type": "string", "description": "release_hold: the hold reason to release (all when absent); cancel: why"},
        "note": {"type": "string"}, "tag": {"type": "string"}}})
}

fn view_body() -> Value {
    json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string", "maxLength": 60},
        "filter": {"type": "object", "description": "the GET /api/v1/orders filters"}}})
}

fn storefront_body() -> Value {
    json!({"type": "object", "description": "the platform's order resource, signed over the raw body"})
}

fn csv_body() -> Value {
    json!({"type": "string", "description": "text/csv with a header line; columns: sku, name, group, options, gtin, unit, weight_g, length_mm, width_mm, height_mm, tax_category, currency, cost, price, status, components"})
}

fn receipt_body() -> Value {
    json!({"type": "object", "required": ["warehouse", "lines"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"}, "reference": {"type": "string"},
        "lines": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}, "location": {"type": "string", "description": "ZONE-AISLE-BIN; the receiving dock when absent"},
            "lot": {"type": "string"}, "expires_on": {"type": "string", "format": "date"}}}}}})
}

fn adjustment_body() -> Value {
    json!({"type": "object", "required": ["warehouse", "sku", "quantity", "reason"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"}, "sku": {"type": "string"}, "quantity": {"type": "integer", "description": "positive adds, negative removes; never below reserved"},
        "reason": {"enum": ["damaged", "found", "lost", "theft", "expired", "data_correction", "other"]}, "location": {"type": "string"},
        "lot": {"type": "string"}, "expires_on": {"type": "string", "format": "date"}, "kind": {"enum": ["adjustment", "scrap"]}, "note": {"type": "string"}}})
}

fn transfer_body() -> Value {
    json!({"type": "object", "required": ["from", "to", "lines"], "additionalProperties": false, "properties": {
        "from": {"type": "string"}, "to": {"type": "string"},
        "lines": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}, "location": {"type": "string"}, "lot": {"type": "string"}}}}}})
}

fn transfer_receipt_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"location": {"type": "string"}}, "description": "optional"})
}

fn reservation_body() -> Value {
    json!({"type": "object", "required": ["reference", "lines"], "additionalProperties": false, "properties": {
        "reference": {"type": "string", "maxLength": 80}, "channel": {"type": "string", "description": "reserve within this channel's warehouses, after its safety buffer"},
        "lines": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}}}}},
        "description": "All lines or none. 409 insufficient_stock names the line, the requested and the available quantity."})
}

fn price_list_body() -> Value {
    json!({"type": "object", "required": ["prices"], "additionalProperties": false, "properties": {
        "prices": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object", "required": ["sku", "price"], "additionalProperties": false, "properties": {
            "sku": {"type": "string"},
            "price": {"type": ["string", "null"], "description": "decimal in the channel's currency; null removes the channel's price, and the catalogue price applies again"}}}}}})
}

fn wave_body() -> Value {
    json!({"type": "object", "required": ["warehouse"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"},
        "max_orders": {"type": "integer", "minimum": 1, "maximum": 200, "description": "fulfilments at most (default 25)"},
        "express_only": {"type": "boolean", "description": "only express services (the earliest carrier cut-off)"}},
        "description": "Takes the warehouse's confirmed, unheld fulfilments: express services first, then the oldest orders. Each unit gets a bin (FEFO, then walk order) and the tasks are sorted by bin sequence. 409 nothing_to_pick when none waits."})
}

fn pick_scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "maxLength": 200, "description": "a bin label, an item's SKU, GTIN or GS1 element string (]C1…, (01)…(10)…), or at the quantity step the number of units picked"}},
        "description": "Send an Idempotency-Key per scan: a device replaying its offline queue gets the first answer back. The answer is 200 with accepted=false and a message when the scan is refused (wrong bin, item, lot, expired unit, too many); a refusal changes nothing."})
}

fn delivery_body() -> Value {
    json!({"type": "object", "required": ["warehouse"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"},
        "supplier": {"type": "string", "maxLength": 120},
        "reference": {"type": "string", "maxLength": 80, "description": "the supplier's advice or purchase order number"},
        "expected_on": {"type": "string", "format": "date"},
        "lines": {"type": "array", "maxItems": 1000, "items": {"type": "object", "required": ["sku", "quantity"], "additionalProperties": false, "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000}}}}},
        "description": "Announces a delivery. With no lines it opens a blind receipt at the dock, which takes any stocked item. Every bad field is reported at once (422) and nothing is created."})
}

fn receive_scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "maxLength": 200, "description": "the item (SKU, GTIN or GS1 element string with lot and expiry), then its lot when lot-tracked and the barcode had none, then a quantity or the item again per unit, then the bin label that puts the units away"}},
        "description": "Send an Idempotency-Key per scan. The answer is 200 with accepted=false and a message when the scan is refused (an item not on the delivery, more than announced, an expired case, an unknown bin); a refusal changes nothing. The bin scan posts a stock receipt (reference: the delivery number) and sources backorders in the same transaction."})
}

fn short_body() -> Value {
    json!({"type": "object", "required": ["picked", "reason"], "additionalProperties": false, "properties": {
        "picked": {"type": "integer", "minimum": 0, "description": "units found and taken, fewer than the task asks"},
        "reason": {"enum": ["not_in_bin", "damaged", "wrong_item_in_bin", "expired"]}},
        "description": "The missing units are written off the bin, a count of the bin is opened, and the order's units are backordered and sourced again."})
}

fn pack_scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "description": "the item's SKU, GTIN or GS1 element string: one unit"},
        "package": {"type": "integer", "minimum": 1, "description": "package number; the last one when absent, the next number starts a new package"}}})
}

fn measure_body() -> Value {
    json!({"type": "object", "required": ["weight_g", "length_mm", "width_mm", "height_mm"], "additionalProperties": false, "properties": {
        "weight_g": {"type": "integer", "minimum": 1, "maximum": 70000}, "length_mm": {"type": "integer", "minimum": 1, "maximum": 2700},
        "width_mm": {"type": "integer", "minimum": 1, "maximum": 2700}, "height_mm": {"type": "integer", "minimum": 1, "maximum": 2700}}})
}

fn ship_body() -> Value {
    json!({"type": "object", "required": ["carrier", "service", "packages"], "additionalProperties": false, "properties": {
        "carrier": {"type": "string", "maxLength": 40}, "service": {"type": "string", "maxLength": 40},
        "packages": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["package", "tracking"], "additionalProperties": false, "properties": {
            "package": {"type": "integer", "minimum": 1}, "tracking": {"type": "string", "pattern": "^[A-Za-z0-9-]{6,40}$"}}}}},
        "description": "One tracking number per package. 409 pack_not_verified lists what is missing (units not packed, a package without weight or dimensions): no shipment and no label until the pack verifies."})
}

fn buffer_body() -> Value {
    json!({"type": "object", "required": ["safety_buffer"], "additionalProperties": false, "properties": {"safety_buffer": {"type": "integer", "minimum": 0}}})
}

fn reorder_point_body() -> Value {
    json!({"type": "object", "required": ["units"], "additionalProperties": false, "properties": {
        "units": {"type": "integer", "minimum": 0, "maximum": 1000000, "description": "at or below this many available units the warehouse should reorder; 0 removes the reorder point"}}})
}

fn warehouses_body() -> Value {
    json!({"type": "object", "required": ["warehouses"], "additionalProperties": false, "properties": {
        "warehouses": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "string"}, "description": "warehouse codes, first preferred"}}})
}

fn dry_run_body() -> Value {
    json!({"type": "object", "required": ["warehouses"], "additionalProperties": false, "properties": {
        "warehouses": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "string"}, "description": "the proposed priority, first preferred"},
        "orders": {"type": "integer", "minimum": 1, "maximum": 5000, "description": "how many of the channel's latest orders to replay (default 500)"}}})
}

fn location_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9]{1,4}-[0-9]{1,3}-[0-9]{1,3}$"}, "pick_sequence": {"type": "integer", "minimum": 0}}})
}

fn count_body() -> Value {
    json!({"type": "object", "required": ["warehouse", "location"], "additionalProperties": false, "properties": {"warehouse": {"type": "string"}, "location": {"type": "string"}}})
}

fn scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "description": "SKU or GTIN"}, "quantity": {"type": "integer", "minimum": 0}, "set": {"type": "boolean", "description": "quantity is the total seen, not an addition"}}})
}

pub const ROUTES: &[RouteDoc] = &[
    RouteDoc {
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This document",
        permission: None,
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/me",
        summary: "The caller's identity, role and scope",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/warehouses",
        summary: "List warehouses",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/warehouses",
        summary: "Create a warehouse (honours Idempotency-Key)",
        permission: Some(Permission::InventoryWrite),
        body: Some(warehouse_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/channels",
        summary: "List sales channels",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/channels",
        summary: "Create a sales channel (honours Idempotency-Key)",
        permission: Some(Permission::ChannelsManage),
        body: Some(channel_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/orders",
        summary: "List orders, newest first, with the workbench filters",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders",
        summary: "Capture an order: 201 new, 200 replay (idempotent by channel + external_id and Idempotency-Key)",
        permission: Some(Permission::OrdersWrite),
        body: Some(order_body),
        success: 201,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/bulk",
        summary: "Release holds, cancel or tag many orders; one result per order",
        permission: Some(Permission::OrdersWrite),
        body: Some(bulk_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/orders/views",
        summary: "Your saved workbench views",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/views",
        summary: "Save (or replace) a named workbench view",
        permission: Some(Permission::OrdersRead),
        body: Some(view_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/orders/{id}",
        summary: "One order (by id or number): status, holds, lines (with backordered_quantity), totals, reservation, fulfillments [{id, seq, warehouse, status, lines [{line_no, sku, quantity}], reason}], timeline",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/{id}/holds",
        summary: "Hold an order by hand, saying why",
        permission: Some(Permission::OrdersWrite),
        body: Some(hold_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/{id}/holds/{hold}/release",
        summary: "Release one hold (an order never sourced, after a failed payment, is sourced once nothing blocks it)",
        permission: Some(Permission::OrdersWrite),
        body: Some(release_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/{id}/cancel",
        summary: "Cancel the order and release its stock",
        permission: Some(Permission::OrdersWrite),
        body: Some(reason_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/{id}/lines/{line}/cancel",
        summary: "Cancel units of one line (line = the line's line_no); its stock is released and the rest reserved again; the last open units cancel the order",
        permission: Some(Permission::OrdersWrite),
        body: Some(cancel_line_body),
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/orders/{id}/address",
        summary: "Change the shipping address (optional version check)",
        permission: Some(Permission::OrdersWrite),
        body: Some(address_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/{id}/notes",
        summary: "Add a note to the order",
        permission: Some(Permission::OrdersWrite),
        body: Some(note_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/orders/{id}/tags",
        summary: "Add and remove tags",
        permission: Some(Permission::OrdersWrite),
        body: Some(tag_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/webhooks/shopify/{channel}",
        summary: "Shopify orders/create, verified by X-Shopify-Hmac-Sha256 (201 new, 200 redelivery, 401 bad signature or headers)",
        permission: None,
        body: Some(storefront_body),
        success: 201,
    },
    RouteDoc {
        method: "post",
        path: "/webhooks/woocommerce/{channel}",
        summary: "WooCommerce order.created, verified by X-WC-Webhook-Signature (201 new, 200 redelivery, 401 bad signature or headers)",
        permission: None,
        body: Some(storefront_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/warehouses/{code}/locations",
        summary: "A warehouse's bins in walk order",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/warehouses/{code}/locations",
        summary: "Add a bin (ZONE-AISLE-BIN)",
        permission: Some(Permission::InventoryWrite),
        body: Some(location_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/channels/{code}/availability",
        summary: "Available to promise for a channel (query: sku)",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/channels/{code}/safety-buffer",
        summary: "Set the units per SKU and warehouse held back from a channel",
        permission: Some(Permission::ChannelsManage),
        body: Some(buffer_body),
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/channels/{code}/warehouses",
        summary: "Set the channel's warehouses in priority order: its sourcing rule (first preferred; ship complete from one when possible, else the fewest)",
        permission: Some(Permission::ChannelsManage),
        body: Some(warehouses_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/channels/{code}/sourcing/dry-run",
        summary: "Try a warehouse priority on the channel's latest orders beside the current one: orders, shipments, split orders, backordered orders and units, units per warehouse; writes nothing",
        permission: Some(Permission::OrdersRead),
        body: Some(dry_run_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/floor/status",
        summary: "The floor at a glance: unshipped fulfilments against their ship-by time (late, due within 4 h, on time; the 50 oldest listed), open waves, and units picked per hour by agent over the last hours",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/waves",
        summary: "Release a warehouse's confirmed fulfilments to the floor as a wave of pick tasks in bin order; their orders become in_fulfilment",
        permission: Some(Permission::FloorUse),
        body: Some(wave_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/waves",
        summary: "List waves, newest first (filters: warehouse, status = open | done | cancelled; limit, cursor)",
        permission: Some(Permission::FloorUse),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/waves/{id}",
        summary: "A wave (by id or number): its pick tasks in walk order with each task's step (bin, item, quantity), picked and short units, and its fulfilments",
        permission: Some(Permission::FloorUse),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/waves/{id}/scans",
        summary: "One scan at the wave's current task: the bin, then the item, then the quantity; answers accepted or refused with a message and the wave",
        permission: Some(Permission::FloorUse),
        body: Some(pick_scan_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/waves/{id}/short",
        summary: "Close the current task short, with a reason: the missing units are written off the bin, a count is opened and the units are sourced again",
        permission: Some(Permission::FloorUse),
        body: Some(short_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/deliveries",
        summary: "Announce a delivery a warehouse expects (supplier, reference, date, items and quantities), or open a blind receipt with no lines",
        permission: Some(Permission::InventoryWrite),
        body: Some(delivery_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/deliveries",
        summary: "List deliveries, newest first (filters: warehouse, status = expected | receiving | closed | open, q = number, supplier or reference; limit, cursor)",
        permission: Some(Permission::FloorUse),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/deliveries/{id}",
        summary: "A delivery (by id or number DL-…): announced and received units per item, putaways into bins, and the caller's item scanned but not yet put away (with a suggested bin)",
        permission: Some(Permission::FloorUse),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/deliveries/{id}/scans",
        summary: "One receiving scan: the item, its lot, a quantity, then the bin that puts the units away as a stock receipt; answers accepted or refused with a message and the delivery. 409 delivery_closed on a closed delivery",
        permission: Some(Permission::InventoryWrite),
        body: Some(receive_scan_body),
        success: 200,
    },
    RouteDoc {
        method: "delete",
        path: "/api/v1/deliveries/{id}/pending",
        summary: "Drop the caller's item scanned but not yet put away (nothing was received for it)",
        permission: Some(Permission::FloorUse),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/deliveries/{id}/close",
        summary: "Close a delivery: nothing more is received on it, units never received are recorded short (delivery.closed), and pending scans are dropped",
        permission: Some(Permission::InventoryWrite),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/fulfillments/{id}",
        summary: "A fulfilment at the packing bench (by id or label SO-…-1): picked and packed units per line, packages, what keeps the pack from verifying, and its shipment",
        permission: Some(Permission::FloorUse),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/fulfillments/{id}/pack-scans",
        summary: "Scan one unit into a package; an item not in the fulfilment, or more than were picked, is refused (200, accepted=false)",
        permission: Some(Permission::FloorUse),
        body: Some(pack_scan_body),
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/fulfillments/{id}/packages/{seq}",
        summary: "Record a package's weight and dimensions",
        permission: Some(Permission::FloorUse),
        body: Some(measure_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/fulfillments/{id}/ship",
        summary: "Ship a verified pack: carrier, service and a tracking number per package; consumes the reservation, moves the units out of their bins and emits order.shipped",
        permission: Some(Permission::FloorUse),
        body: Some(ship_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/shipments/{id}",
        summary: "A shipment (by id or number) with its packages and tracking numbers",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/shipments/{id}/label",
        summary: "The shipment's labels, one per package, 4×6 in: format=pdf (one page per package) or format=zpl (203 dpi, the tracking number in a ^BC Code 128 barcode)",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/fulfillments/source-backorders",
        summary: "Source every backordered line from what is spare now, oldest order first (receipts, transfers in, counts and releases do this for their own products)",
        permission: Some(Permission::OrdersWrite),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/channels/{code}/prices",
        summary: "A channel's price list by SKU: the price charged to an order line sent without unit_price (the channel's own, else the catalogue price in the channel's currency) (query: q, own=true for the channel's own prices only, limit, cursor)",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/channels/{code}/prices",
        summary: "Set or remove a channel's own prices, all or nothing; answers how many were set and removed",
        permission: Some(Permission::CatalogWrite),
        body: Some(price_list_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/products",
        summary: "List products with stock totals (filters: q, status, kind)",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/products",
        summary: "Create a product, variant or bundle (honours Idempotency-Key)",
        permission: Some(Permission::CatalogWrite),
        body: Some(product_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/products/{sku}",
        summary: "One product with prices and components",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/products/{sku}",
        summary: "Replace a product's master data (optimistic version check)",
        permission: Some(Permission::CatalogWrite),
        body: Some(product_update_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/catalog/export",
        summary: "The catalogue as CSV",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/catalog/imports",
        summary: "Import catalogue CSV (body: text/csv; ?dry_run=true previews); 202 with the job",
        permission: Some(Permission::CatalogWrite),
        body: Some(csv_body),
        success: 202,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/catalog/imports/{id}",
        summary: "An import job's progress and row errors",
        permission: Some(Permission::CatalogWrite),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/channels/{code}/order-reports",
        summary: "Import a marketplace order report (body: text/csv, one row per order line; ?dry_run=true previews with the mapping and row problems); the channel's saved column mapping, or one guessed from the header line; 202 with the job",
        permission: Some(Permission::OrdersWrite),
        body: Some(csv_body),
        success: 202,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/order-reports/{id}",
        summary: "An order report import's progress: orders created, already present, failed, and problems by line",
        permission: Some(Permission::OrdersRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/stock/receipts",
        summary: "Receive stock into bins (honours Idempotency-Key)",
        permission: Some(Permission::InventoryWrite),
        body: Some(receipt_body),
        success: 201,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/stock/adjustments",
        summary: "Adjust or scrap stock with a reason code (honours Idempotency-Key)",
        permission: Some(Permission::InventoryWrite),
        body: Some(adjustment_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/stock/transfers",
        summary: "Transfers, newest first (filter: status in_transit or received)",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/stock/transfers",
        summary:
            "Ship stock to another warehouse; in transit until received (honours Idempotency-Key)",
        permission: Some(Permission::InventoryWrite),
        body: Some(transfer_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/stock/transfers/{id}",
        summary: "One transfer (by id or number)",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/stock/transfers/{id}/receive",
        summary: "Receive an in-transit transfer at its destination",
        permission: Some(Permission::InventoryWrite),
        body: Some(transfer_receipt_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/stock/{sku}",
        summary: "On hand, reserved and available, in total and per warehouse, with each warehouse's reorder point",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/stock/{sku}/reorder-points/{warehouse}",
        summary: "Set (or, with 0, remove) a warehouse's reorder point for an item: at or below it the item shows in the stockouts and low stock queue; answers the stock as GET /stock/{sku}",
        permission: Some(Permission::InventoryWrite),
        body: Some(reorder_point_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/stock/{sku}/bins",
        summary: "Bin and lot balances of a SKU",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/stock/{sku}/movements",
        summary: "A SKU's movement ledger, newest first",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/reservations",
        summary: "Reserve stock for every line or none (honours Idempotency-Key)",
        permission: Some(Permission::InventoryWrite),
        body: Some(reservation_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/reservations/{id}",
        summary: "One reservation with its allocations",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "delete",
        path: "/api/v1/reservations/{id}",
        summary: "Release a reservation",
        permission: Some(Permission::InventoryWrite),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/reservations/{id}/consume",
        summary: "Consume a reservation as its units ship (bins picked first-expiry-first)",
        permission: Some(Permission::InventoryWrite),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/counts",
        summary: "Cycle counts, newest first (filters: status, warehouse, submitted_from, submitted_to)",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/counts",
        summary: "Open a count of a bin (or resume the open one)",
        permission: Some(Permission::InventoryWrite),
        body: Some(count_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/counts/{id}",
        summary: "One count with its lines",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/counts/{id}/scans",
        summary: "Record a scan or a counted total",
        permission: Some(Permission::InventoryWrite),
        body: Some(scan_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/counts/{id}/submit",
        summary: "Finish counting: small variances post, large ones wait for approval",
        permission: Some(Permission::InventoryWrite),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/counts/{id}/approve",
        summary: "Approve a held count; its corrections post",
        permission: Some(Permission::InventoryApprove),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/counts/{id}/reject",
        summary: "Reject a held count; stock is unchanged",
        permission: Some(Permission::InventoryApprove),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/inventory/accuracy",
        summary: "Inventory accuracy from posted counts (query: days, default 30)",
        permission: Some(Permission::InventoryRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/users",
        summary: "List staff users (filters: q, role)",
        permission: Some(Permission::UsersManage),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/users",
        summary: "Create a staff user (honours Idempotency-Key)",
        permission: Some(Permission::UsersManage),
        body: Some(user_body),
        success: 201,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/users/{id}",
        summary: "One staff user",
        permission: Some(Permission::UsersManage),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "patch",
        path: "/api/v1/users/{id}",
        summary: "Change a user's role, scope or active flag (optimistic version check)",
        permission: Some(Permission::UsersManage),
        body: Some(user_update_body),
        success: 200,
    },
    RouteDoc {
        method: "put",
        path: "/api/v1/users/{id}/password",
        summary: "Set a user's password; their sessions end",
        permission: Some(Permission::UsersManage),
        body: Some(password_body),
        success: 204,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/tokens",
        summary: "Issue an API token; the secret is returned once",
        permission: Some(Permission::TokensManage),
        body: Some(token_body),
        success: 201,
    },
    RouteDoc {
        method: "delete",
        path: "/api/v1/tokens/{id}",
        summary: "Revoke an API token",
        permission: Some(Permission::TokensManage),
        body: None,
        success: 204,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/audit",
        summary: "The audit log (filters: entity, entity_id, actor, from, to)",
        permission: Some(Permission::AuditRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/events",
        summary: "Events after a sequence number, oldest first",
        permission: Some(Permission::EventsRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/events/stream",
        summary: "Live events as server-sent events (resumes from Last-Event-ID)",
        permission: Some(Permission::EventsRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/exceptions",
        summary: "Exception queue items, oldest first: queue, entity, entity_id, entity_ref, link, reason, detail, owner (assignee's email or the owning role), opened_at, sla_due_at, sla_state (filters: queue, status = open | snoozed | done | any, owner = role | me | email, warehouse, channel, reason, opened_from, opened_to; limit, cursor)",
        permission: Some(Permission::ExceptionsRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/exceptions/summary",
        summary: "Per queue: items open, past their SLA and snoozed",
        permission: Some(Permission::ExceptionsRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/exceptions/{id}",
        summary: "One exception item",
        permission: Some(Permission::ExceptionsRead),
        body: None,
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/exceptions/{id}/assign",
        summary: "Assign an item to an active user (email or id), or hand it back to its role with an empty assignee. Managers and administrators may work any item; others those of their role's queues or assigned to them (409 not_your_queue)",
        permission: Some(Permission::ExceptionsWork),
        body: Some(assign_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/exceptions/{id}/snooze",
        summary: "Hide an item from the open queue for 1 to 168 hours, with a reason",
        permission: Some(Permission::ExceptionsWork),
        body: Some(snooze_body),
        success: 200,
    },
    RouteDoc {
        method: "post",
        path: "/api/v1/exceptions/{id}/resolve",
        summary: "Mark an item dealt with, saying what was done. It stays resolved while its condition lasts; 409 exception_closed if it already ended",
        permission: Some(Permission::ExceptionsWork),
        body: Some(resolve_body),
        success: 200,
    },
    RouteDoc {
        method: "get",
        path: "/api/v1/kpis",
        summary: "The KPI board for a period: order cycle time, on-time shipment rate, inventory accuracy, manual touches per order, gross margin, orders, revenue, backlog and stockouts, each with its definition, value, the previous period's value and change, a daily series and a breakdown, every figure with the link to its records (slots for return and ticket times). Read from figures the event stream maintains",
        permission: Some(Permission::KpisRead),
        body: None,
        success: 200,
    },
];

fn assign_body() -> Value {
    json!({"type": "object", "required": ["assignee"], "additionalProperties": false,
           "properties": {"assignee": {"type": ["string", "null"], "description": "a user's email or id; empty or null hands it back to the owning role"}}})
}

fn snooze_body() -> Value {
    json!({"type": "object", "required": ["hours", "reason"], "additionalProperties": false,
           "properties": {"hours": {"type": "integer", "minimum": 1, "maximum": 168}, "reason": {"type": "string", "minLength": 3, "maxLength": 200}}})
}

fn resolve_body() -> Value {
    json!({"type": "object", "required": ["note"], "additionalProperties": false,
           "properties": {"note": {"type": "string", "minLength": 3, "maxLength": 500, "description": "what was done"}}})
}

fn parameters(path: &str, method: &str) -> Value {
    let q = |name: &str, ty: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}, "description": desc});
    let mut params = Vec::new();
    for segment in path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            params.push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
    }
    let is_list = matches!(
        path,
        "/api/v1/warehouses"
            | "/api/v1/orders"
            | "/api/v1/users"
            | "/api/v1/audit"
            | "/api/v1/events"
            | "/api/v1/products"
            | "/api/v1/counts"
            | "/api/v1/stock/transfers"
            | "/api/v1/stock/{sku}/movements"
            | "/api/v1/warehouses/{code}/locations"
            | "/api/v1/waves"
            | "/api/v1/deliveries"
            | "/api/v1/exceptions"
    );
    if method == "get" && is_list {
        params.push(q("limit", "integer", "1 to 200, default 50"));
        params.push(q("cursor", "string", "next_cursor from the previous page"));
    }
    match path {
        "/api/v1/orders" if method == "get" => {
            for (n, d) in [
                (
                    "status",
                    "received, confirmed, in_fulfilment, shipped, delivered, closed or cancelled; open for the first three",
                ),
                ("hold", "a hold reason, or any"),
                (
                    "backordered",
                    "true: only orders with units waiting for stock",
                ),
                ("channel", "channel code"),
                ("warehouse", "warehouse code holding the stock"),
                ("from", "placed on or after (YYYY-MM-DD)"),
                ("to", "placed on or before (YYYY-MM-DD)"),
                ("shipped_from", "last units shipped on or after (YYYY-MM-DD)"),
                ("shipped_to", "last units shipped on or before (YYYY-MM-DD)"),
                ("shipped", "on_time or late: against the ship-by time"),
                ("min_total", "total at least (decimal)"),
                ("max_total", "total at most (decimal)"),
                ("customer", "customer email"),
                ("tag", "tag"),
                ("q", "order number, external id, email or name"),
            ] {
                params.push(q(n, "string", d));
            }
        }
        "/api/v1/users" => {
            params.push(q("q", "string", "name or email contains"));
            params.push(q("role", "string", "role"));
        }
        "/api/v1/audit" => {
            for (n, d) in [
                ("entity", "entity kind"),
                ("entity_id", "entity id"),
                ("actor", "actor id or email"),
                ("from", "date or RFC 3339, inclusive"),
                ("to", "date or RFC 3339, exclusive"),
            ] {
                params.push(q(n, "string", d));
            }
        }
        "/api/v1/events" | "/api/v1/events/stream" => {
            params.push(q("after", "integer", "sequence number to start after"))
        }
        "/api/v1/products" => {
            params.push(q("q", "string", "SKU, name or GTIN contains"));
            params.push(q("status", "string", "active or archived"));
            params.push(q("kind", "string", "item or bundle"));
        }
        "/api/v1/stock/transfers" if method == "get" => {
            params.push(q("status", "string", "in_transit or received"))
        }
        "/api/v1/counts" => {
            params.push(q(
                "status",
                "string",
                "open, pending_approval, posted or rejected",
            ));
            params.push(q("warehouse", "string", "warehouse code"));
            params.push(q("submitted_from", "string", "submitted on or after this day, YYYY-MM-DD (UTC)"));
            params.push(q("submitted_to", "string", "submitted on or before this day, YYYY-MM-DD (UTC)"));
        }
        "/api/v1/channels/{code}/availability" => params.push(
            json!({"name": "sku", "in": "query", "required": true, "schema": {"type": "string"}}),
        ),
        "/api/v1/catalog/imports" | "/api/v1/channels/{code}/order-reports" => {
            params.push(q("dry_run", "boolean", "preview only; nothing is written"))
        }
        "/api/v1/inventory/accuracy" => params.push(q("days", "integer", "1 to 366, default 30")),
        "/api/v1/deliveries" if method == "get" => {
            params.push(q("warehouse", "string", "warehouse code"));
            params.push(q(
                "status",
                "string",
                "expected, receiving, closed, or open (not closed)",
            ));
            params.push(q(
                "q",
                "string",
                "part of the number, supplier or reference",
            ));
        }
        "/api/v1/exceptions" => {
            params.push(q(
                "queue",
                "string",
                "payment, holds, stuck, late_picks, stockouts (and low stock), oversells or integration",
            ));
            params.push(q(
                "status",
                "string",
                "open (default; includes snoozes that ran out), snoozed, done (resolved or closed, newest first), or any (every item, oldest first)",
            ));
            params.push(q("owner", "string", "a role, me, or an assignee's email"));
            params.push(q(
                "reason",
                "string",
                "a reason code within the queue, e.g. stockout, low_stock, fraud_review, webhook_rejected",
            ));
            params.push(q("warehouse", "string", "warehouse code"));
            params.push(q("channel", "string", "channel code"));
            params.push(q("opened_from", "string", "opened on or after this day, YYYY-MM-DD (UTC)"));
            params.push(q("opened_to", "string", "opened on or before this day, YYYY-MM-DD (UTC)"));
        }
        "/api/v1/waves" if method == "get" => {
            params.push(q("warehouse", "string", "warehouse code"));
            params.push(q("status", "string", "open, done or cancelled"));
        }
        "/api/v1/kpis" => {
            params.push(q("from", "string", "first day, YYYY-MM-DD (default: 27 days before to)"));
            params.push(q("to", "string", "last day, YYYY-MM-DD (default: today, UTC); at most 366 days"));
            params.push(q("channel", "string", "channel code"));
            params.push(q("warehouse", "string", "warehouse code"));
            params.push(q("currency", "string", "currency of the money figures (default: the one with most orders)"));
            params.push(q("seen", "integer", "an event seq the figures must include (read your writes)"));
        }
        "/api/v1/floor/status" => {
            params.push(q("warehouse", "string", "warehouse code"));
            params.push(q(
                "hours",
                "integer",
                "hours of picking the agent rates cover, 1 to 168, default 8",
            ));
        }
        "/api/v1/shipments/{id}/label" => {
            params.push(q("format", "string", "pdf (default) or zpl"))
        }
        _ => {}
    }
    let idempotent = matches!(
        path,
        "/api/v1/warehouses"
            | "/api/v1/users"
            | "/api/v1/products"
            | "/api/v1/stock/receipts"
            | "/api/v1/stock/adjustments"
            | "/api/v1/stock/transfers"
            | "/api/v1/reservations"
            | "/api/v1/channels"
            | "/api/v1/orders"
            | "/api/v1/waves"
            | "/api/v1/waves/{id}/scans"
            | "/api/v1/waves/{id}/short"
            | "/api/v1/fulfillments/{id}/pack-scans"
            | "/api/v1/fulfillments/{id}/ship"
            | "/api/v1/deliveries"
            | "/api/v1/deliveries/{id}/scans"
            | "/api/v1/deliveries/{id}/close"
    );
    if method == "post" && idempotent {
        params.push(json!({"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string", "maxLength": 255}}));
    }
    Value::Array(params)
}

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let mut responses = serde_json::Map::new();
        responses.insert(r.success.to_string(), json!({"description": "Success"}));
        for (code, why) in [
            ("400", "Malformed request"),
            ("401", "No or invalid credentials"),
            ("403", "Role lacks the permission"),
            ("409", "Conflict"),
            ("413", "Body over 1 MiB"),
            ("422", "Invalid input; see error.fields"),
        ] {
            let webhook = r.path.starts_with("/webhooks/");
            if r.permission.is_some() || code == "400" || (webhook && code != "403") {
                responses.insert(code.into(), json!({"description": why, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
            }
        }
        let mut op = json!({
            "summary": r.summary,
            "operationId": format!("{}_{}", r.method, r.path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '.'], "_")),
            "parameters": parameters(r.path, r.method),
            "responses": responses,
        });
        match r.permission {
            Some(p) => {
                op["security"] = json!([{"bearer": []}, {"session": []}]);
                op["x-keel-permission"] = json!(p.as_str());
            }
            None if r.path.starts_with("/webhooks/") => {
                op["security"] = json!([]);
                op["x-keel-authentication"] =
                    json!("HMAC-SHA256 of the raw body under the channel's webhook secret");
            }
            None => op["security"] = json!([]),
        }
        if let Some(body) = r.body {
            let media = if r.path == "/api/v1/catalog/imports" {
                "text/csv"
            } else {
                "application/json"
            };
            op["requestBody"] = json!({"required": r.path != "/api/v1/stock/transfers/{id}/receive",
                                       "content": {media: {"schema": body()}}});
        }
        paths.entry(r.path.to_string()).or_insert_with(|| json!({}))[r.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Keel API", "version": "1", "description": "Keel's public API. Money is {amount: decimal string, currency}; ids are strings; instants are RFC 3339 UTC; lists are {items, next_cursor}."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "keel token create --name N --role R"},
                "session": {"type": "apiKey", "in": "cookie", "name": "keel_session"}
            },
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message", "fields"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
                "Scope": {"type": "object", "properties": {"warehouses": {"type": "array", "items": {"type": "string"}}, "channels": {"type": "array", "items": {"type": "string"}}}},
                "Money": {"type": "object", "required": ["amount", "currency"], "properties": {"amount": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
            }
        }
    })
}
