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
        method: "get",
        path: "/api/v1/orders",
        summary: "List orders, newest first (filters: status, channel)",
        permission: Some(Permission::OrdersRead),
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
];

fn parameters(path: &str, method: &str) -> Value {
    let q = |name: &str, ty: &str, desc: &str| json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}, "description": desc});
    let mut params = Vec::new();
    if path.contains("{id}") {
        params.push(
            json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}),
        );
    }
    if method == "get"
        && !path.contains("{id}")
        && !matches!(
            path,
            "/api/v1/openapi.json" | "/api/v1/me" | "/api/v1/events/stream" | "/api/v1/channels"
        )
    {
        params.push(q("limit", "integer", "1 to 200, default 50"));
        params.push(q("cursor", "string", "next_cursor from the previous page"));
    }
    match path {
        "/api/v1/orders" => {
            params.push(q("status", "string", "order status"));
            params.push(q("channel", "string", "channel code"));
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
        _ => {}
    }
    if method == "post" && path != "/api/v1/tokens" {
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
            if r.permission.is_some() || code == "400" {
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
            None => op["security"] = json!([]),
        }
        if let Some(body) = r.body {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body()}}});
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
