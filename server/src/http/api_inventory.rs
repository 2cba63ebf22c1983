//! `/api/v1` for the catalogue and the stock ledger: thin handlers that parse,
//! call one use case, and shape the reply.

use app::ssr::AppState;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
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

use super::{
    api::ListQuery,
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
            let idem = idempotency(&headers, &body.raw)?;
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
create!(
    adjust,
    AdjustmentInput,
    Permission::InventoryWrite,
    inventory::adjust
);
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
) -> ApiResult<axum::response::Response> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufferInput {
    pub safety_buffer: i64,
}

pub async fn set_buffer(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<BufferInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        orders::set_safety_buffer(&s.db, &ctx, &code, body.value.safety_buffer).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReorderPointInput {
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
