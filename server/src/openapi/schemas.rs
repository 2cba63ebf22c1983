//! The request bodies' JSON schemas, by route.

use serde_json::{json, Value};

pub(crate) fn warehouse_body() -> Value {
    json!({"type": "object", "required": ["code", "name"], "additionalProperties": false,
           "properties": {"code": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,16}$"}, "name": {"type": "string", "maxLength": 120}}})
}

pub(crate) fn user_body() -> Value {
    json!({"type": "object", "required": ["email", "name", "role", "password"], "additionalProperties": false,
           "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"},
                          "role": {"enum": ["admin", "manager", "warehouse", "finance", "support"]},
                          "password": {"type": "string", "minLength": 12}, "scope": {"$ref": "#/components/schemas/Scope"}}})
}

pub(crate) fn user_update_body() -> Value {
    json!({"type": "object", "required": ["role", "active", "version"], "additionalProperties": false,
           "properties": {"role": {"enum": ["admin", "manager", "warehouse", "finance", "support"]}, "active": {"type": "boolean"},
                          "scope": {"$ref": "#/components/schemas/Scope"}, "version": {"type": "integer", "description": "the version you read; a stale one gets 409 version_conflict"}}})
}

pub(crate) fn password_body() -> Value {
    json!({"type": "object", "required": ["password"], "additionalProperties": false, "properties": {"password": {"type": "string", "minLength": 12}}})
}

pub(crate) fn token_body() -> Value {
    json!({"type": "object", "required": ["name", "role"], "additionalProperties": false,
           "properties": {"name": {"type": "string"}, "role": {"enum": ["admin", "manager", "warehouse", "finance", "support"]},
                          "scope": {"$ref": "#/components/schemas/Scope"}}})
}

pub(crate) fn product_body() -> Value {
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

pub(crate) fn product_update_body() -> Value {
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

pub(crate) fn channel_body() -> Value {
    json!({"type": "object", "required": ["code", "kind", "currency"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9-]{2,16}$"}, "name": {"type": "string"},
        "kind": {"enum": ["web", "shopify", "woocommerce", "marketplace", "b2b", "manual"]},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "warehouses": {"type": "array", "items": {"type": "string"}, "description": "warehouse codes in priority order"},
        "webhook_secret": {"type": "string", "minLength": 8, "description": "the secret storefront webhooks are signed with; never returned"},
        "prices_include_tax": {"type": "boolean"}}})
}

pub(crate) fn order_body() -> Value {
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

pub(crate) fn cancel_line_body() -> Value {
    json!({"type": "object", "required": ["quantity", "reason"], "additionalProperties": false, "properties": {
        "quantity": {"type": "integer", "minimum": 1, "description": "units to cancel, at most the line's open units"},
        "reason": {"type": "string", "description": "why, for the timeline"}}})
}

pub(crate) fn reason_body() -> Value {
    json!({"type": "object", "required": ["reason"], "additionalProperties": false, "properties": {"reason": {"type": "string"}}})
}

pub(crate) fn hold_body() -> Value {
    json!({"type": "object", "required": ["detail"], "additionalProperties": false, "properties": {"detail": {"type": "string", "description": "why the order is held"}}})
}

pub(crate) fn release_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"note": {"type": "string"}}})
}

pub(crate) fn address_body() -> Value {
    json!({"type": "object", "required": ["address"], "additionalProperties": false, "properties": {"address": address_schema(), "version": {"type": "integer"}}})
}

pub(crate) fn note_body() -> Value {
    json!({"type": "object", "required": ["body"], "additionalProperties": false, "properties": {"body": {"type": "string", "maxLength": 2000}}})
}

pub(crate) fn tag_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"add": {"type": "array", "items": {"type": "string"}}, "remove": {"type": "array", "items": {"type": "string"}}}})
}

pub(crate) fn bulk_body() -> Value {
    json!({"type": "object", "required": ["ids", "action"], "properties": {"ids": {"type": "array", "maxItems": 200, "items": {"type": "string"}},
        "action": {"enum": ["release_hold", "cancel", "tag"]}, "reason": {"type": "string", "description": "release_hold: the hold reason to release (all when absent); cancel: why"},
        "note": {"type": "string"}, "tag": {"type": "string"}}})
}

pub(crate) fn view_body() -> Value {
    json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {"name": {"type": "string", "maxLength": 60},
        "filter": {"type": "object", "description": "the GET /api/v1/orders filters"}}})
}

pub(crate) fn storefront_body() -> Value {
    json!({"type": "object", "description": "the platform's order resource, signed over the raw body"})
}

pub(crate) fn csv_body() -> Value {
    json!({"type": "string", "description": "text/csv with a header line; columns: sku, name, group, options, gtin, unit, weight_g, length_mm, width_mm, height_mm, tax_category, currency, cost, price, status, components"})
}

pub(crate) fn receipt_body() -> Value {
    json!({"type": "object", "required": ["warehouse", "lines"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"}, "reference": {"type": "string"},
        "lines": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}, "location": {"type": "string", "description": "ZONE-AISLE-BIN; the receiving dock when absent"},
            "lot": {"type": "string"}, "expires_on": {"type": "string", "format": "date"}}}}}})
}

pub(crate) fn adjustment_body() -> Value {
    json!({"type": "object", "required": ["warehouse", "sku", "quantity", "reason"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"}, "sku": {"type": "string"}, "quantity": {"type": "integer", "description": "positive adds, negative removes; never below reserved"},
        "reason": {"enum": ["damaged", "found", "lost", "theft", "expired", "data_correction", "other"]}, "location": {"type": "string"},
        "lot": {"type": "string"}, "expires_on": {"type": "string", "format": "date"}, "kind": {"enum": ["adjustment", "scrap"]}, "note": {"type": "string"}}})
}

pub(crate) fn transfer_body() -> Value {
    json!({"type": "object", "required": ["from", "to", "lines"], "additionalProperties": false, "properties": {
        "from": {"type": "string"}, "to": {"type": "string"},
        "lines": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}, "location": {"type": "string"}, "lot": {"type": "string"}}}}}})
}

pub(crate) fn transfer_receipt_body() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {"location": {"type": "string"}}, "description": "optional"})
}

pub(crate) fn reservation_body() -> Value {
    json!({"type": "object", "required": ["reference", "lines"], "additionalProperties": false, "properties": {
        "reference": {"type": "string", "maxLength": 80}, "channel": {"type": "string", "description": "reserve within this channel's warehouses, after its safety buffer"},
        "lines": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["sku", "quantity"], "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}}}}},
        "description": "All lines or none. 409 insufficient_stock names the line, the requested and the available quantity."})
}

pub(crate) fn price_list_body() -> Value {
    json!({"type": "object", "required": ["prices"], "additionalProperties": false, "properties": {
        "prices": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {"type": "object", "required": ["sku", "price"], "additionalProperties": false, "properties": {
            "sku": {"type": "string"},
            "price": {"type": ["string", "null"], "description": "decimal in the channel's currency; null removes the channel's price, and the catalogue price applies again"}}}}}})
}

pub(crate) fn wave_body() -> Value {
    json!({"type": "object", "required": ["warehouse"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"},
        "max_orders": {"type": "integer", "minimum": 1, "maximum": 200, "description": "fulfilments at most (default 25)"},
        "express_only": {"type": "boolean", "description": "only express services (the earliest carrier cut-off)"}},
        "description": "Takes the warehouse's confirmed, unheld fulfilments: express services first, then the oldest orders. Each unit gets a bin (FEFO, then walk order) and the tasks are sorted by bin sequence. 409 nothing_to_pick when none waits."})
}

pub(crate) fn pick_scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "maxLength": 200, "description": "a bin label, an item's SKU, GTIN or GS1 element string (]C1…, (01)…(10)…), or at the quantity step the number of units picked"}},
        "description": "Send an Idempotency-Key per scan: a device replaying its offline queue gets the first answer back. The answer is 200 with accepted=false and a message when the scan is refused (wrong bin, item, lot, expired unit, too many); a refusal changes nothing."})
}

pub(crate) fn delivery_body() -> Value {
    json!({"type": "object", "required": ["warehouse"], "additionalProperties": false, "properties": {
        "warehouse": {"type": "string"},
        "supplier": {"type": "string", "maxLength": 120},
        "reference": {"type": "string", "maxLength": 80, "description": "the supplier's advice or purchase order number"},
        "expected_on": {"type": "string", "format": "date"},
        "lines": {"type": "array", "maxItems": 1000, "items": {"type": "object", "required": ["sku", "quantity"], "additionalProperties": false, "properties": {
            "sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1, "maximum": 1000000}}}}},
        "description": "Announces a delivery. With no lines it opens a blind receipt at the dock, which takes any stocked item. Every bad field is reported at once (422) and nothing is created."})
}

pub(crate) fn receive_scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "maxLength": 200, "description": "the item (SKU, GTIN or GS1 element string with lot and expiry), then its lot when lot-tracked and the barcode had none, then a quantity or the item again per unit, then the bin label that puts the units away"}},
        "description": "Send an Idempotency-Key per scan. The answer is 200 with accepted=false and a message when the scan is refused (an item not on the delivery, more than announced, an expired case, an unknown bin); a refusal changes nothing. The bin scan posts a stock receipt (reference: the delivery number) and sources backorders in the same transaction."})
}

pub(crate) fn short_body() -> Value {
    json!({"type": "object", "required": ["picked", "reason"], "additionalProperties": false, "properties": {
        "picked": {"type": "integer", "minimum": 0, "description": "units found and taken, fewer than the task asks"},
        "reason": {"enum": ["not_in_bin", "damaged", "wrong_item_in_bin", "expired"]}},
        "description": "The missing units are written off the bin, a count of the bin is opened, and the order's units are backordered and sourced again."})
}

pub(crate) fn pack_scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "description": "the item's SKU, GTIN or GS1 element string: one unit"},
        "package": {"type": "integer", "minimum": 1, "description": "package number; the last one when absent, the next number starts a new package"}}})
}

pub(crate) fn measure_body() -> Value {
    json!({"type": "object", "required": ["weight_g", "length_mm", "width_mm", "height_mm"], "additionalProperties": false, "properties": {
        "weight_g": {"type": "integer", "minimum": 1, "maximum": 70000}, "length_mm": {"type": "integer", "minimum": 1, "maximum": 2700},
        "width_mm": {"type": "integer", "minimum": 1, "maximum": 2700}, "height_mm": {"type": "integer", "minimum": 1, "maximum": 2700}}})
}

pub(crate) fn ship_body() -> Value {
    json!({"type": "object", "required": ["carrier", "service", "packages"], "additionalProperties": false, "properties": {
        "carrier": {"type": "string", "maxLength": 40}, "service": {"type": "string", "maxLength": 40},
        "packages": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["package", "tracking"], "additionalProperties": false, "properties": {
            "package": {"type": "integer", "minimum": 1}, "tracking": {"type": "string", "pattern": "^[A-Za-z0-9-]{6,40}$"}}}}},
        "description": "One tracking number per package. 409 pack_not_verified lists what is missing (units not packed, a package without weight or dimensions): no shipment and no label until the pack verifies."})
}

pub(crate) fn buffer_body() -> Value {
    json!({"type": "object", "required": ["safety_buffer"], "additionalProperties": false, "properties": {"safety_buffer": {"type": "integer", "minimum": 0}}})
}

pub(crate) fn reorder_point_body() -> Value {
    json!({"type": "object", "required": ["units"], "additionalProperties": false, "properties": {
        "units": {"type": "integer", "minimum": 0, "maximum": 1000000, "description": "at or below this many available units the warehouse should reorder; 0 removes the reorder point"}}})
}

pub(crate) fn warehouses_body() -> Value {
    json!({"type": "object", "required": ["warehouses"], "additionalProperties": false, "properties": {
        "warehouses": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "string"}, "description": "warehouse codes, first preferred"}}})
}

pub(crate) fn dry_run_body() -> Value {
    json!({"type": "object", "required": ["warehouses"], "additionalProperties": false, "properties": {
        "warehouses": {"type": "array", "minItems": 1, "maxItems": 20, "items": {"type": "string"}, "description": "the proposed priority, first preferred"},
        "orders": {"type": "integer", "minimum": 1, "maximum": 5000, "description": "how many of the channel's latest orders to replay (default 500)"}}})
}

pub(crate) fn location_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9]{1,4}-[0-9]{1,3}-[0-9]{1,3}$"}, "pick_sequence": {"type": "integer", "minimum": 0}}})
}

pub(crate) fn count_body() -> Value {
    json!({"type": "object", "required": ["warehouse", "location"], "additionalProperties": false, "properties": {"warehouse": {"type": "string"}, "location": {"type": "string"}}})
}

pub(crate) fn scan_body() -> Value {
    json!({"type": "object", "required": ["code"], "additionalProperties": false, "properties": {
        "code": {"type": "string", "description": "SKU or GTIN"}, "quantity": {"type": "integer", "minimum": 0}, "set": {"type": "boolean", "description": "quantity is the total seen, not an addition"}}})
}

pub(crate) fn assign_body() -> Value {
    json!({"type": "object", "required": ["assignee"], "additionalProperties": false,
           "properties": {"assignee": {"type": ["string", "null"], "description": "a user's email or id; empty or null hands it back to the owning role"}}})
}

pub(crate) fn snooze_body() -> Value {
    json!({"type": "object", "required": ["hours", "reason"], "additionalProperties": false,
           "properties": {"hours": {"type": "integer", "minimum": 1, "maximum": 168}, "reason": {"type": "string", "minLength": 3, "maxLength": 200}}})
}

pub(crate) fn resolve_body() -> Value {
    json!({"type": "object", "required": ["note"], "additionalProperties": false,
           "properties": {"note": {"type": "string", "minLength": 3, "maxLength": 500, "description": "what was done"}}})
}
