//! Server functions for stock: scans, cycle counts, transfers and the
//! viewer's warehouses. Each calls one use case and holds no rules.

use crate::problem::Problem;
use domain::views::{Page, Scanned};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[server(prefix = "/sfn", endpoint = "scan")]
pub async fn scan(code: String) -> Result<Scanned, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::inventory::resolve_scan(&db, &ctx, &code)
        .await
        .map_err(crate::ssr::fail)
}

/// The count list with the accuracy KPI above it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountsView {
    pub counts: Page<domain::views::CycleCount>,
    pub accuracy: domain::views::Accuracy,
    pub can_approve: bool,
    /// The warehouses the filter offers: those in the person's scope.
    pub warehouses: Vec<String>,
}

#[server(prefix = "/sfn", endpoint = "counts_page")]
pub async fn counts_page(
    status: Option<String>,
    warehouse: Option<String>,
    submitted_from: Option<String>,
    submitted_to: Option<String>,
    cursor: Option<String>,
) -> Result<CountsView, Problem> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let filter = backend::inventory::CountFilter {
        status,
        warehouse,
        submitted_from,
        submitted_to,
        limit: Some(25),
        cursor,
    };
    let counts = backend::inventory::list_counts(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)?;
    let accuracy = backend::inventory::accuracy(&db, &ctx, 30)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(CountsView {
        counts,
        accuracy,
        can_approve: ctx.actor.may(Permission::InventoryApprove),
        warehouses: crate::ssr::warehouse_codes(&db, &ctx).await?,
    })
}

#[server(prefix = "/sfn", endpoint = "count_detail")]
pub async fn count_detail(id: String) -> Result<domain::views::CycleCount, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::inventory::get_count(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "transfers_page")]
pub async fn transfers_page(
    status: Option<String>,
    cursor: Option<String>,
) -> Result<Page<domain::views::Transfer>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let filter = backend::inventory::TransferFilter {
        status,
        limit: Some(25),
        cursor,
    };
    backend::inventory::list_transfers(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}

/// Warehouse codes the viewer works in, for the stock forms.
#[server(prefix = "/sfn", endpoint = "my_warehouses")]
pub async fn my_warehouses() -> Result<Vec<String>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    crate::ssr::warehouse_codes(&db, &ctx).await
}
