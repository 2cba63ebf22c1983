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
    let recent = domain::views::OrderFilter {
        limit: Some(10),
        ..Default::default()
    };
    let orders = backend::orders::list_orders(&db, &ctx, &recent)
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
    Found(Box<OrderSummary>),
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
            Some(order) => Lookup::Found(Box::new(order)),
            None => Lookup::NoMatch,
        },
    )
}

/// Everything the product page shows, in one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductView {
    pub product: domain::views::Product,
    pub stock: domain::views::Stock,
    pub bins: Vec<domain::views::BinStock>,
    /// ATP for every channel the viewer may see.
    pub channels: Vec<domain::views::Availability>,
    pub movements: Page<domain::views::Movement>,
    pub can_edit: bool,
    pub can_move_stock: bool,
}

#[server(prefix = "/sfn", endpoint = "products_page")]
pub async fn products_page(
    filter: domain::views::ProductFilter,
) -> Result<Page<domain::views::ProductRow>, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::catalog::list_products(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "product_detail")]
pub async fn product_detail(
    sku: String,
    cursor: Option<String>,
) -> Result<ProductView, ServerFnError> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let fail = crate::ssr::fail;
    let product = backend::catalog::get_product(&db, &ctx, &sku)
        .await
        .map_err(fail)?;
    let stock = backend::inventory::stock(&db, &ctx, &sku)
        .await
        .map_err(fail)?;
    let bins = backend::inventory::bins_of(&db, &ctx, &sku)
        .await
        .map_err(fail)?;
    let mut channels = Vec::new();
    for c in backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(fail)?
    {
        channels.push(
            backend::inventory::availability(&db, &ctx, &c.code, &sku)
                .await
                .map_err(fail)?,
        );
    }
    let movements = backend::inventory::movements(&db, &ctx, &sku, Some(25), cursor.as_deref())
        .await
        .map_err(fail)?;
    Ok(ProductView {
        product,
        stock,
        bins,
        channels,
        movements,
        can_edit: ctx.actor.may(Permission::CatalogWrite),
        can_move_stock: ctx.actor.may(Permission::InventoryWrite),
    })
}

/// A catalogue import as its page shows it: the job, and while it is staged
/// the preview of what it will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportView {
    pub job: domain::views::ImportJob,
    pub preview: Option<domain::views::ImportPreview>,
}

#[server(prefix = "/sfn", endpoint = "import_status")]
pub async fn import_status(id: String) -> Result<ImportView, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    let job = backend::catalog::get_import(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    let preview = if job.status == "staged" {
        backend::catalog::staged_preview(&db, &ctx, &id)
            .await
            .map_err(crate::ssr::fail)?
    } else {
        None
    };
    Ok(ImportView { job, preview })
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
) -> Result<CountsView, ServerFnError> {
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
pub async fn count_detail(id: String) -> Result<domain::views::CycleCount, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::inventory::get_count(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "transfers_page")]
pub async fn transfers_page(
    status: Option<String>,
    cursor: Option<String>,
) -> Result<Page<domain::views::Transfer>, ServerFnError> {
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
pub async fn my_warehouses() -> Result<Vec<String>, ServerFnError> {
    let (db, ctx) = crate::ssr::context().await?;
    crate::ssr::warehouse_codes(&db, &ctx).await
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
pub async fn orders_page(filter: domain::views::OrderFilter) -> Result<OrdersView, ServerFnError> {
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
pub async fn orders_by_id(ids: Vec<String>) -> Result<Vec<OrderSummary>, ServerFnError> {
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
pub async fn order_detail(id: String) -> Result<OrderView, ServerFnError> {
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
) -> Result<PriceListView, ServerFnError> {
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
pub async fn report_channels() -> Result<Vec<String>, ServerFnError> {
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
pub async fn report_import_status(id: String) -> Result<ReportImportView, ServerFnError> {
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

/// The sourcing page: the channels with their priority lists, what waits
/// for stock, and a dry run when a proposed list is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcingView {
    pub channels: Vec<domain::views::Channel>,
    pub channel: String,
    pub warehouses: Vec<String>,
    pub backordered_orders: i64,
    /// The dry run of the proposed list, or why it could not run.
    pub run: Option<Result<domain::views::DryRun, String>>,
    pub can_apply: bool,
}

#[server(prefix = "/sfn", endpoint = "sourcing_page")]
pub async fn sourcing_page(
    channel: String,
    proposed: String,
    orders: String,
) -> Result<SourcingView, ServerFnError> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let channels = backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(crate::ssr::fail)?;
    let chosen = channels
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(channel.trim()))
        .or(channels.first())
        .map(|c| c.code.clone())
        .unwrap_or_default();
    let warehouses = backend::inventory::warehouse_codes(&db)
        .await
        .map_err(crate::ssr::fail)?;
    let waiting = backend::orders::list_orders(
        &db,
        &ctx,
        &domain::views::OrderFilter {
            backordered: Some("true".into()),
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .map_err(crate::ssr::fail)?;
    let list: Vec<String> = proposed
        .split([',', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let run = if list.is_empty() || chosen.is_empty() {
        None
    } else {
        let input = domain::fulfillment::RuleInput {
            warehouses: list,
            orders: match orders.trim() {
                "" => None,
                n => Some(n.parse::<i64>().unwrap_or(0)),
            },
        };
        // Bad input is shown beside the form; anything else is an error.
        Some(
            match backend::fulfillment::dry_run(&db, &ctx, &chosen, &input).await {
                Ok(run) => Ok(run),
                Err(e) if !e.fields().is_empty() => Err(e
                    .fields()
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ")),
                Err(e) => return Err(crate::ssr::fail(e)),
            },
        )
    };
    Ok(SourcingView {
        channels,
        channel: chosen,
        warehouses,
        backordered_orders: waiting.items.len() as i64,
        run,
        can_apply: ctx.actor.may(Permission::ChannelsManage),
    })
}
