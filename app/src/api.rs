//! Server functions: each authenticates through the request context and calls
//! one use case. They hold no rules of their own.

use domain::views::{
    AuditEntry, AuditFilter, EventRecord, OrderSummary, Page, Scanned, User, Warehouse,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in person as the UI shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    pub role: String,
    pub can_audit: bool,
    pub can_manage_users: bool,
}

#[server(prefix = "/sfn", endpoint = "me")]
pub async fn me() -> Result<Option<Viewer>, ServerFnError> {
    use domain::governance::Permission;
    let (_, ctx) = crate::ssr::context().await?;
    let actor = ctx.actor;
    Ok(actor.is_authenticated().then(|| Viewer {
        name: actor.name.clone(),
        role: actor
            .role
            .map(|r| r.label().to_string())
            .unwrap_or_else(|| "system".into()),
        can_audit: actor.may(Permission::AuditRead),
        can_manage_users: actor.may(Permission::UsersManage),
    }))
}

#[server(prefix = "/sfn", endpoint = "recent_events")]
pub async fn recent_events() -> Result<Vec<EventRecord>, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::governance::recent_events(&db, &ctx, 25)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "audit_page")]
pub async fn audit_page(filter: AuditFilter) -> Result<Page<AuditEntry>, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::governance::list_audit(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "users_page")]
pub async fn users_page(
    q: Option<String>,
    role: Option<String>,
    cursor: Option<String>,
) -> Result<Page<User>, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    let filter = backend::governance::UserFilter {
        q,
        role,
        cursor,
        limit: Some(25),
    };
    backend::governance::list_users(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "overview")]
pub async fn overview() -> Result<(Vec<Warehouse>, Vec<OrderSummary>), ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    let warehouses = backend::inventory::list_warehouses(&db, &ctx, Some(50), None)
        .await
        .map_err(crate::ssr::fail)?;
    let orders = backend::orders::list_orders(&db, &ctx, &Default::default())
        .await
        .map_err(crate::ssr::fail)?;
    Ok((warehouses.items, orders.items))
}

#[server(prefix = "/sfn", endpoint = "scan")]
pub async fn scan(code: String) -> Result<Scanned, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::inventory::resolve_scan(&db, &ctx, &code)
        .await
        .map_err(crate::ssr::fail)
}

/// The outcome of a portal lookup: field errors, a match, or plainly nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Lookup {
    Invalid(Vec<domain::FieldError>),
    Found(OrderSummary),
    NoMatch,
}

/// Public: the portal has no staff session. It reveals an order only when the
/// number and the email or postcode both match.
#[server(prefix = "/sfn", endpoint = "portal_lookup")]
pub async fn portal_lookup(order: String, contact: String) -> Result<Lookup, ServerFnError> {
    let lookup = match domain::orders::PortalLookup::parse(&order, &contact) {
        Ok(l) => l,
        Err(errors) => return Ok(Lookup::Invalid(errors)),
    };
    let db = crate::ssr::db();
    Ok(
        match backend::orders::portal_lookup(&db, &lookup)
            .await
            .map_err(crate::ssr::fail)?
        {
            Some(order) => Lookup::Found(order),
            None => Lookup::NoMatch,
        },
    )
}
