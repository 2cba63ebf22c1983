//! Server functions of the command center's home, audit viewer and user
//! administration: each authenticates through the request context and calls
//! one use case. They hold no rules of their own.

use crate::problem::Problem;
use domain::views::{AuditEntry, AuditFilter, EventRecord, OrderSummary, Page, User, Warehouse};
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "recent_events")]
pub async fn recent_events() -> Result<Vec<EventRecord>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::governance::recent_events(&db, &ctx, 25)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "audit_page")]
pub async fn audit_page(filter: AuditFilter) -> Result<Page<AuditEntry>, Problem> {
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
) -> Result<Page<User>, Problem> {
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
pub async fn overview() -> Result<(Vec<Warehouse>, Vec<OrderSummary>), Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let warehouses = backend::inventory::list_warehouses(&db, &ctx, Some(50), None)
        .await
        .map_err(crate::ssr::fail)?;
    let recent = domain::views::OrderFilter {
        limit: Some(10),
        ..Default::default()
    };
    let orders = backend::orders::list_orders(&db, &ctx, &recent)
        .await
        .map_err(crate::ssr::fail)?;
    Ok((warehouses.items, orders.items))
}
