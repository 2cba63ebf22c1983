//! The document assembled from the route declarations: paths, parameters, bodies and the
//! error responses every route shares.

use crate::http::declare::ApiRoute;
use serde_json::{json, Value};

/// The query and path parameters of each route. Long by design: a table
/// with one entry per route that takes parameters, and no logic.
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

pub fn document(routes: &[ApiRoute]) -> Value {
    let mut paths = serde_json::Map::new();
    for r in routes {
        let mut responses = serde_json::Map::new();
        responses.insert(r.success.to_string(), json!({"description": "Success"}));
        for (code, why) in [
            ("400", "Malformed request"),
            ("401", "No or invalid credentials"),
            ("403", "Role lacks the permission"),
            ("409", "Conflict"),
            ("413", "Body over 1 MiB"),
            ("422", "Invalid input; see error.fields"),
            (
                "429",
                "Over the caller's request rate; wait Retry-After seconds",
            ),
            (
                "503",
                "The database can't take writes; retry after Retry-After seconds",
            ),
        ] {
            let webhook = r.path.starts_with("/webhooks/");
            if r.permission.is_some() || matches!(code, "400" | "429") || (webhook && code != "403")
            {
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
