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

/// Resolves a scanned code on the warehouse floor. Only badges exist yet; bins,
/// products and totes join as their contexts land.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scanned {
    Badge { user_name: String, role: String },
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
}
