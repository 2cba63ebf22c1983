//! `/api/v1` for the catalogue and the stock ledger: thin handlers that parse,
//! call one use case, and shape the reply.

use crate::http::extract::IMPORT_LIMIT;
use crate::{http::declare::ApiRoute, openapi::schemas};
use app::ssr::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use backend::{
    catalog::{self, ProductUpdate},
    inventory::{
        self, AdjustmentInput, CountFilter, CountInput, CountScan, LocationInput, ReceiptInput,
        ReservationInput, TransferFilter, TransferInput, TransferReceipt,
    },
    orders,
};
use domain::{catalog::ProductInput, governance::Permission, views::ProductFilter};
use serde::Deserialize;

use crate::http::{
    api::governance::ListQuery,
    error::ApiError,
    extract::{idempotency, Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

/// Creating handlers all look alike: check, read the idempotency key, call,
/// answer 201.
macro_rules! create {
    ($name:ident, $input:ty, $permission:expr, $call:path) => {
        pub async fn $name(
            State(s): State<AppState>,
            Caller(ctx): Caller,
            headers: HeaderMap,
            body: JsonBody<$input>,
        ) -> ApiResult<impl IntoResponse> {
            ctx.require($permission)?;
            let idem = idempotency(&headers, &body.target, &body.raw)?;
            let out = $call(&s.db, &ctx, body.value, idem.as_ref()).await?;
            Ok((StatusCode::CREATED, Json(out)))
        }
    };
}

create!(
    create_product,
    ProductInput,
    Permission::CatalogWrite,
    catalog::create_product
);
create!(
    receive,
    ReceiptInput,
    Permission::InventoryWrite,
    inventory::receive
);
/// 201 with the adjustment, or 202 with the pending change when it waits
/// for a second person.
pub async fn adjust(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<AdjustmentInput>,
) -> ApiResult<Response> {
    ctx.require(Permission::InventoryWrite)?;
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    let out = inventory::adjust(&s.db, &ctx, body.value, idem.as_ref()).await?;
    Ok(super::approvals::answer(out, StatusCode::CREATED))
}
create!(
    create_transfer,
    TransferInput,
    Permission::InventoryWrite,
    inventory::create_transfer
);
create!(
    reserve,
    ReservationInput,
    Permission::InventoryWrite,
    inventory::reserve
);

pub async fn list_products(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(f): Query<ProductFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(catalog::list_products(&s.db, &ctx, &f).await?))
}

pub async fn get_product(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(catalog::get_product(&s.db, &ctx, &sku).await?))
}

pub async fn update_product(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
    body: JsonBody<ProductUpdate>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        catalog::update_product(&s.db, &ctx, &sku, body.value).await?,
    ))
}

pub async fn export_catalog(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<impl IntoResponse> {
    let csv = catalog::export_csv(&s.db, &ctx).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"keel-catalog.csv\"",
            ),
        ],
        csv,
    ))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// The body is the CSV file itself. `?dry_run=true` answers with the preview
/// and writes nothing; otherwise the import starts and 202 returns its job.
pub async fn import_catalog(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult<Response> {
    ctx.require(Permission::CatalogWrite)?;
    let text = csv_text(&body)?;
    if q.dry_run {
        let preview = catalog::preview_import(&s.db, &ctx, text).await?;
        return Ok(Json(preview).into_response());
    }
    let job = catalog::prepare_import(&s.db, &ctx, text).await?.spawn();
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

/// An uploaded CSV body as text, or 422 naming the file.
pub fn csv_text(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("the file is not UTF-8 text (byte {})", e.valid_up_to()),
        )
        .field("file", "save the CSV as UTF-8")
    })
}

pub async fn get_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(catalog::get_import(&s.db, &ctx, &id).await?))
}

pub async fn stock(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::stock(&s.db, &ctx, &sku).await?))
}

pub async fn bins(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let items = inventory::bins_of(&s.db, &ctx, &sku).await?;
    Ok(Json(
        serde_json::json!({"items": items, "next_cursor": null}),
    ))
}

pub async fn movements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::movements(&s.db, &ctx, &sku, q.limit, q.cursor.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
pub struct AvailabilityQuery {
    pub sku: Option<String>,
}

pub async fn availability(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    Query(q): Query<AvailabilityQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::availability(&s.db, &ctx, &code, q.sku.as_deref().unwrap_or("")).await?,
    ))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BufferInput {
    #[schemars(range(min = 0))]
    pub safety_buffer: i64,
}

pub async fn set_buffer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<BufferInput>,
) -> ApiResult<Response> {
    let outcome = orders::set_safety_buffer(&s.db, &ctx, &code, body.value.safety_buffer).await?;
    Ok(super::approvals::answer(outcome, StatusCode::OK))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderPointInput {
    /// At or below this many available units the warehouse should reorder; 0 removes the reorder point.
    #[schemars(range(min = 0, max = 1_000_000))]
    pub units: i64,
}

pub async fn set_reorder_point(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((sku, warehouse)): Path<(String, String)>,
    body: JsonBody<ReorderPointInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::set_reorder_point(&s.db, &ctx, &sku, &warehouse, body.value.units).await?,
    ))
}

pub async fn get_reservation(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::get_reservation(&s.db, &ctx, &id).await?))
}

pub async fn release(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::release(&s.db, &ctx, &id).await?))
}

pub async fn consume(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::consume(&s.db, &ctx, &id).await?))
}

pub async fn list_transfers(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(f): Query<TransferFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::list_transfers(&s.db, &ctx, &f).await?))
}

pub async fn get_transfer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::get_transfer(&s.db, &ctx, &id).await?))
}

pub async fn receive_transfer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    // The body is optional: without one the goods go to the receiving dock.
    let input: TransferReceipt = if body.iter().all(u8::is_ascii_whitespace) {
        TransferReceipt::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("the body is not a valid transfer receipt: {e}"),
            )
        })?
    };
    Ok(Json(
        inventory::receive_transfer(&s.db, &ctx, &id, input).await?,
    ))
}

pub async fn list_locations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::list_locations(&s.db, &ctx, &code, q.limit, q.cursor.as_deref()).await?,
    ))
}

pub async fn create_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<LocationInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(inventory::create_location(&s.db, &ctx, &code, body.value).await?),
    ))
}

pub async fn list_counts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(f): Query<CountFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::list_counts(&s.db, &ctx, &f).await?))
}

pub async fn open_count(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<CountInput>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(inventory::open_count(&s.db, &ctx, body.value).await?),
    ))
}

pub async fn get_count(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::get_count(&s.db, &ctx, &id).await?))
}

pub async fn count_scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<CountScan>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::count_scan(&s.db, &ctx, &id, body.value).await?,
    ))
}

pub async fn submit_count(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::submit_count(&s.db, &ctx, &id).await?))
}

pub async fn approve_count(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(inventory::decide_count(&s.db, &ctx, &id, true).await?))
}

pub async fn reject_count(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::decide_count(&s.db, &ctx, &id, false).await?,
    ))
}

#[derive(Deserialize)]
pub struct AccuracyQuery {
    pub days: Option<i64>,
}

pub async fn accuracy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(q): Query<AccuracyQuery>,
) -> ApiResult<impl IntoResponse> {
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "days: use 1 to 366",
        )
        .field("days", "use 1 to 366"));
    }
    Ok(Json(inventory::accuracy(&s.db, &ctx, days).await?))
}

/// The routes this file serves, each declared once: the permission the gate
/// checks, the OpenAPI description and the handler. Long by design: a table
/// with one entry per route, and no logic.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "get",
            path: "/api/v1/warehouses/{code}/locations",
            summary: "A warehouse's bins in walk order",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(list_locations),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/warehouses/{code}/locations",
            summary: "Add a bin (ZONE-AISLE-BIN)",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<LocationInput>),
            success: 201,
            handler: || routing::post(create_location),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/channels/{code}/availability",
            summary: "Available to promise for a channel (query: sku)",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(availability),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/channels/{code}/safety-buffer",
            summary: "Set the units per SKU and warehouse held back from a channel",
            permission: Some(Permission::ChannelsManage),
            body: Some(schemas::of::<BufferInput>),
            success: 200,
            handler: || routing::put(set_buffer),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/products",
            summary: "List products with stock totals (filters: q, status, kind)",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(list_products),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/products",
            summary: "Create a product, variant or bundle (honours Idempotency-Key)",
            permission: Some(Permission::CatalogWrite),
            body: Some(schemas::of::<ProductInput>),
            success: 201,
            handler: || routing::post(create_product),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/products/{sku}",
            summary: "One product with prices and components",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(get_product),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/products/{sku}",
            summary: "Replace a product's master data (optimistic version check)",
            permission: Some(Permission::CatalogWrite),
            body: Some(schemas::of::<ProductUpdate>),
            success: 200,
            handler: || routing::put(update_product),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/catalog/export",
            summary: "The catalogue as CSV",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(export_catalog),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/catalog/imports",
            summary: "Import catalogue CSV (body: text/csv; ?dry_run=true previews); 202 with the job",
            permission: Some(Permission::CatalogWrite),
            body: Some(schemas::csv_body),
            success: 202,
            handler: || routing::post(import_catalog).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/catalog/imports/{id}",
            summary: "An import job's progress and row errors",
            permission: Some(Permission::CatalogWrite),
            body: None,
            success: 200,
            handler: || routing::get(get_import),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/stock/receipts",
            summary: "Receive stock into bins (honours Idempotency-Key)",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<ReceiptInput>),
            success: 201,
            handler: || routing::post(receive),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/stock/adjustments",
            summary: "Adjust or scrap stock with a reason code (honours Idempotency-Key); 201 applied, or 202 with the pending change when its value at cost is over the stock_adjustment approval policy's threshold",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<AdjustmentInput>),
            success: 201,
            handler: || routing::post(adjust),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/stock/transfers",
            summary: "Transfers, newest first (filter: status in_transit or received)",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(list_transfers),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/stock/transfers",
            summary: "Ship stock to another warehouse; in transit until received (honours Idempotency-Key)",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<TransferInput>),
            success: 201,
            handler: || routing::post(create_transfer),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/stock/transfers/{id}",
            summary: "One transfer (by id or number)",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(get_transfer),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/stock/transfers/{id}/receive",
            summary: "Receive an in-transit transfer at its destination",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<TransferReceipt>),
            success: 200,
            handler: || routing::post(receive_transfer),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/stock/{sku}",
            summary: "On hand, reserved and available, in total and per warehouse, with each warehouse's reorder point",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(stock),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/stock/{sku}/reorder-points/{warehouse}",
            summary: "Set (or, with 0, remove) a warehouse's reorder point for an item: at or below it the item shows in the stockouts and low stock queue; answers the stock as GET /stock/{sku}",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<ReorderPointInput>),
            success: 200,
            handler: || routing::put(set_reorder_point),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/stock/{sku}/bins",
            summary: "Bin and lot balances of a SKU",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(bins),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/stock/{sku}/movements",
            summary: "A SKU's movement ledger, newest first",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(movements),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/reservations",
            summary: "Reserve stock for every line or none (honours Idempotency-Key)",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<ReservationInput>),
            success: 201,
            handler: || routing::post(reserve),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/reservations/{id}",
            summary: "One reservation with its allocations",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(get_reservation),
        },
        ApiRoute {
            method: "delete",
            path: "/api/v1/reservations/{id}",
            summary: "Release a reservation",
            permission: Some(Permission::InventoryWrite),
            body: None,
            success: 200,
            handler: || routing::delete(release),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/reservations/{id}/consume",
            summary: "Consume a reservation as its units ship (bins picked first-expiry-first)",
            permission: Some(Permission::InventoryWrite),
            body: None,
            success: 200,
            handler: || routing::post(consume),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/counts",
            summary: "Cycle counts, newest first (filters: status, warehouse, submitted_from, submitted_to)",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(list_counts),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/counts",
            summary: "Open a count of a bin (or resume the open one)",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<CountInput>),
            success: 201,
            handler: || routing::post(open_count),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/counts/{id}",
            summary: "One count with its lines",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(get_count),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/counts/{id}/scans",
            summary: "Record a scan or a counted total",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<CountScan>),
            success: 200,
            handler: || routing::post(count_scan),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/counts/{id}/submit",
            summary: "Finish counting: small variances post, large ones wait for approval",
            permission: Some(Permission::InventoryWrite),
            body: None,
            success: 200,
            handler: || routing::post(submit_count),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/counts/{id}/approve",
            summary: "Approve a held count; its corrections post",
            permission: Some(Permission::InventoryApprove),
            body: None,
            success: 200,
            handler: || routing::post(approve_count),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/counts/{id}/reject",
            summary: "Reject a held count; stock is unchanged",
            permission: Some(Permission::InventoryApprove),
            body: None,
            success: 200,
            handler: || routing::post(reject_count),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/inventory/accuracy",
            summary: "Inventory accuracy from posted counts (query: days, default 30)",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(accuracy),
        },
    ]
}
