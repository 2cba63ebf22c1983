//! Server functions for the exception queues. Each calls one use case and
//! holds no rules.

use crate::problem::Problem;
use domain::views::{ExceptionItem, ExceptionSummary, Page};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionsView {
    pub summary: ExceptionSummary,
    pub page: Page<ExceptionItem>,
    pub warehouses: Vec<String>,
}

#[server(prefix = "/sfn", endpoint = "exceptions_page")]
pub async fn exceptions_page(filters: Filters, cursor: String) -> Result<ExceptionsView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let opt = |s: String| (!s.trim().is_empty()).then_some(s);
    let filter = backend::analytics::ExceptionFilter {
        queue: opt(filters.queue),
        status: opt(filters.status),
        owner: opt(filters.owner),
        warehouse: opt(filters.warehouse),
        channel: None,
        reason: opt(filters.reason),
        opened_from: opt(filters.opened_from),
        opened_to: opt(filters.opened_to),
        limit: Some(50),
        cursor: opt(cursor),
    };
    let page = backend::analytics::list(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)?;
    let summary = backend::analytics::summary(&db, &ctx)
        .await
        .map_err(crate::ssr::fail)?;
    let warehouses = crate::ssr::warehouse_codes(&db, &ctx).await?;
    Ok(ExceptionsView {
        summary,
        page,
        warehouses,
    })
}

#[server(prefix = "/sfn", endpoint = "exception_counts")]
pub async fn exception_counts() -> Result<ExceptionSummary, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::analytics::summary(&db, &ctx)
        .await
        .map_err(crate::ssr::fail)
}

/// The list's filters as the address gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    pub queue: String,
    pub status: String,
    pub owner: String,
    pub warehouse: String,
    pub reason: String,
    /// Opened on or after this day, and on or before `opened_to`: what a KPI
    /// day point links to.
    pub opened_from: String,
    pub opened_to: String,
}
