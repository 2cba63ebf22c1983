//! What a privacy request answers: everything Keel holds about a customer,
//! and what an erasure rewrote.

use serde::{Deserialize, Serialize};

use super::orders::Order;
use crate::orders::Address;

/// The customer as Keel holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedCustomer {
    pub id: String,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub orders_count: i64,
    pub first_order_at: Option<String>,
    pub last_order_at: Option<String>,
    pub created_at: String,
    /// When they were erased, for an export after erasure (which then holds
    /// only the pseudonym).
    pub erased_at: Option<String>,
}

/// A customer's data as one JSON document, for a subject access request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerExport {
    /// `keel.customer-export/1`: the shape of this document.
    pub format: String,
    pub exported_at: String,
    pub customer: ExportedCustomer,
    /// Every address they shipped or billed to, as their address book holds it.
    pub addresses: Vec<Address>,
    /// Every order, whole: lines, totals, holds, notes, fulfilments,
    /// shipments and its timeline.
    pub orders: Vec<Order>,
    /// Returns-portal visits, by order number.
    pub portal_sessions: Vec<PortalVisit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortalVisit {
    pub order: String,
    pub opened_at: String,
    pub expires_at: String,
}

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Erasure {
    /// The erasure's id, as the rewritten audit rows name it.
    pub id: String,
    pub customer_id: String,
    /// Orders kept, under the pseudonym, with their money, stock and tax facts.
    pub orders: i64,
    /// Audit rows rewritten (they keep their place in the hash chain).
    pub audit_rows: i64,
    /// Event payloads rewritten.
    pub events: i64,
    pub erased_at: String,
}
