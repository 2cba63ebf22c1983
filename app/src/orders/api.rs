//! Server functions for orders: the workbench, one order, price lists,
//! order-report imports and the portal's order. Each calls one use case and
//! holds no rules.

use crate::problem::Problem;
use domain::views::{OrderSummary, Page};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The order the caller's portal session sees (public: the portal cookie is
/// the credential). `NotFound` when there is no live session.
#[server(prefix = "/sfn", endpoint = "portal_view")]
pub async fn portal_view() -> Result<domain::views::PortalOrder, Problem> {
    let axum::Extension(req): axum::Extension<crate::ssr::RequestCtx> = leptos_axum::extract()
        .await
        .map_err(|_| Problem::Internal)?;
    let db = crate::ssr::db();
    let now = backend::Ctx::new(req.actor, req.request_id).now();
    let secret = req.portal.unwrap_or_default();
    backend::orders::portal_order(&db, &secret, now)
        .await
        .map_err(crate::ssr::fail)
}

/// The order workbench: a page of orders plus what its filters offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrdersView {
    pub page: Page<OrderSummary>,
    pub channels: Vec<String>,
    pub warehouses: Vec<String>,
    pub views: Vec<domain::views::SavedView>,
    pub can_edit: bool,
}

#[server(prefix = "/sfn", endpoint = "orders_page")]
pub async fn orders_page(filter: domain::views::OrderFilter) -> Result<OrdersView, Problem> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let fail = crate::ssr::fail;
    let page = backend::orders::list_orders(&db, &ctx, &filter)
        .await
        .map_err(fail)?;
    let channels = backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|c| c.code)
        .collect();
    let warehouses = backend::inventory::warehouse_codes(&db)
        .await
        .map_err(fail)?;
    let views = backend::orders::saved_views(&db, &ctx)
        .await
        .map_err(fail)?;
    Ok(OrdersView {
        page,
        channels,
        warehouses,
        views,
        can_edit: ctx.actor.may(Permission::OrdersWrite),
    })
}

/// The orders a bulk action is about to touch, for its confirmation.
#[server(prefix = "/sfn", endpoint = "orders_by_id")]
pub async fn orders_by_id(ids: Vec<String>) -> Result<Vec<OrderSummary>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::orders::summaries(&db, &ctx, &ids)
        .await
        .map_err(crate::ssr::fail)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub order: domain::views::Order,
    pub can_edit: bool,
}

#[server(prefix = "/sfn", endpoint = "order_detail")]
pub async fn order_detail(id: String) -> Result<OrderView, Problem> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let order = backend::orders::get_order(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(OrderView {
        order,
        can_edit: ctx.actor.may(Permission::OrdersWrite),
    })
}

/// A channel's price list as its page shows it, with the channels to choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceListView {
    pub channels: Vec<String>,
    pub channel: String,
    pub currency: String,
    pub page: domain::views::Page<domain::views::ChannelPrice>,
}

/// One page of a channel's price list; the first channel when none is named.
#[server(prefix = "/sfn", endpoint = "price_list_page")]
pub async fn price_list_page(
    channel: String,
    q: String,
    own: bool,
    cursor: String,
) -> Result<PriceListView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let channels = backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(crate::ssr::fail)?;
    let chosen = channels
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(channel.trim()))
        .or(channels.first())
        .cloned();
    let Some(chosen) = chosen else {
        return Ok(PriceListView {
            channels: Vec::new(),
            channel: String::new(),
            currency: String::new(),
            page: domain::views::Page {
                items: Vec::new(),
                next_cursor: None,
            },
        });
    };
    let filter = domain::views::PriceFilter {
        q: Some(q),
        own: Some(own),
        limit: Some(50),
        cursor: Some(cursor),
    };
    let page = backend::price_list::list(&db, &ctx, &chosen.code, &filter)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(PriceListView {
        channels: channels.into_iter().map(|c| c.code).collect(),
        channel: chosen.code,
        currency: chosen.currency,
        page,
    })
}

/// The channels an order report can be imported into.
#[server(prefix = "/sfn", endpoint = "report_channels")]
pub async fn report_channels() -> Result<Vec<String>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    Ok(backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(crate::ssr::fail)?
        .into_iter()
        .map(|c| c.code)
        .collect())
}

/// An order report import as its page shows it: the job, and while it is
/// staged the mapping and the preview of what it will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportImportView {
    pub job: domain::views::ImportJob,
    pub preview: Option<domain::views::ReportPreview>,
}

#[server(prefix = "/sfn", endpoint = "report_import_status")]
pub async fn report_import_status(id: String) -> Result<ReportImportView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let job = backend::order_import::get_job(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    let preview = if job.status == "staged" {
        backend::order_import::staged_preview(&db, &ctx, &id)
            .await
            .map_err(crate::ssr::fail)?
    } else {
        None
    };
    Ok(ReportImportView { job, preview })
}
