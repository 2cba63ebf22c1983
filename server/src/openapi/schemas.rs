//! The request bodies' JSON schemas. Each comes from the type the handler
//! reads the body into (`schemars`): the fields, which are required, which
//! refuse unknown neighbours, their ranges and patterns, and the types' doc
//! comments as descriptions. Only bodies that are not Keel types are written
//! here: a storefront's own order resource and a CSV file.

use schemars::{generate::SchemaSettings, JsonSchema};
use serde_json::{json, Value};

/// The schema of `T`, every part inline (the document has no `$defs`).
pub(crate) fn of<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .into_generator();
    generator.into_root_schema_for::<T>().to_value()
}

/// `T`'s schema with what the route does with it, for a type that two
/// routes read differently.
fn about<T: JsonSchema>(description: &str) -> Value {
    let mut schema = of::<T>();
    schema["description"] = json!(description);
    schema
}

pub(crate) fn pick_scan_body() -> Value {
    about::<backend::fulfillment::ScanInput>("Send an Idempotency-Key per scan: a device replaying its offline queue gets the first answer back. `code` is a bin label, an item's SKU, GTIN or GS1 element string (]C1…, (01)…(10)…), or at the quantity step the number of units picked. The answer is 200 with accepted=false and a message when the scan is refused (wrong bin, item, lot, expired unit, too many); a refusal changes nothing.")
}

pub(crate) fn receive_scan_body() -> Value {
    about::<backend::fulfillment::ScanInput>("Send an Idempotency-Key per scan. `code` is the item (SKU, GTIN or GS1 element string with lot and expiry), then its lot when lot-tracked and the barcode had none, then a quantity or the item again per unit, then the bin label that puts the units away. The answer is 200 with accepted=false and a message when the scan is refused (an item not on the delivery, more than announced, an expired case, an unknown bin); a refusal changes nothing. The bin scan posts a stock receipt (reference: the delivery number) and sources backorders in the same transaction.")
}

pub(crate) fn storefront_body() -> Value {
    json!({"type": "object", "description": "the platform's order resource, signed over the raw body"})
}

pub(crate) fn csv_body() -> Value {
    json!({"type": "string", "description": "text/csv with a header line; columns: sku, name, group, options, gtin, unit, weight_g, length_mm, width_mm, height_mm, tax_category, currency, cost, price, status, components"})
}
