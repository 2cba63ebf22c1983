//! `/api/v1` order routes and the storefront webhooks: parse, call one use
//! case, shape the reply.

use app::ssr::AppState;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use backend::{
    order_import,
    orders::{self, BulkAction, OrderFilter},
    price_list,
    webhooks::{self, Platform, Received},
};
use domain::{
    capture::{Address, OrderIn},
    governance::Permission,
    orders::{ChannelInput, PriceListInput},
    views::PriceFilter,
};
use serde::Deserialize;
use serde_json::json;

use super::{
    error::ApiError,
    extract::{idempotency, Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

pub async fn create_channel(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<ChannelInput>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Permission::ChannelsManage)?;
    let idem = idempotency(&headers, &body.raw)?;
    let new = body.value.parse().map_err(backend::Error::Invalid)?;
    let channel = orders::create_channel(&s.db, &ctx, new, idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(channel)))
}

/// 201 with the new order; 200 with the original for a replay.
pub async fn capture_order(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<OrderIn>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Permission::OrdersWrite)?;
    let idem = idempotency(&headers, &body.raw)?;
    let c = orders::capture(&s.db, &ctx, body.value, idem.as_ref(), None).await?;
    let status = if c.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(c.order)))
}

/// The channel's price list: its own prices and the catalogue's, by SKU.
pub async fn channel_prices(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    Query(f): Query<PriceFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(price_list::list(&s.db, &ctx, &code, &f).await?))
}

pub async fn set_channel_prices(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<PriceListInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        price_list::set(&s.db, &ctx, &code, &body.value).await?,
    ))
}

pub async fn list_orders(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    axum::extract::Query(f): axum::extract::Query<OrderFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::list_orders(&s.db, &ctx, &f).await?))
}

pub async fn get_order(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(orders::get_order(&s.db, &ctx, &id).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    #[serde(default)]
    pub note: String,
}

/// An optional JSON body: empty means the default.
fn optional<T: Default + serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("the body is not valid: {e}"),
        )
    })
}

pub async fn release_hold(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, hold)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let b: NoteBody = optional(&body)?;
    Ok(Json(
        orders::release_hold(&s.db, &ctx, &id, &hold, &b.note).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    pub detail: String,
}

pub async fn place_hold(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<HoldBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        orders::place_hold(&s.db, &ctx, &id, &body.value.detail).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub reason: String,
}

pub async fn cancel(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<CancelBody>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        orders::cancel_order(&s.db, &ctx, &id, &body.value.reason).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelLineBody {
    pub quantity: i64,
    pub reason: String,
}

pub async fn cancel_line(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, line)): Path<(String, i64)>,
    body: JsonBody<CancelLineBody>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    Ok(Json(
        orders::cancel_line(&s.db, &ctx, &id, line, b.quantity, &b.reason).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressBody {
    pub address: Address,
    #[serde(default)]
    pub version: Option<i64>,
}

pub async fn change_address(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<AddressBody>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    Ok(Json(
        orders::change_address(&s.db, &ctx, &id, b.address, b.version).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub body: String,
}

pub async fn add_note(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<NoteInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        orders::add_note(&s.db, &ctx, &id, &body.value.body).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

pub async fn tag(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<TagBody>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    Ok(Json(
        orders::tag(&s.db, &ctx, &id, &b.add, &b.remove).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub ids: Vec<String>,
    #[serde(flatten)]
    pub action: BulkAction,
}

pub async fn bulk(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<BulkBody>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    let results = orders::bulk(&s.db, &ctx, &b.ids, &b.action).await?;
    Ok(Json(json!({"results": results})))
}

pub async fn list_views(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        json!({"items": orders::saved_views(&s.db, &ctx).await?, "next_cursor": null}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewBody {
    pub name: String,
    #[serde(default)]
    pub filter: OrderFilter,
}

pub async fn save_view(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<ViewBody>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    Ok((
        StatusCode::CREATED,
        Json(orders::save_view(&s.db, &ctx, &b.name, &b.filter).await?),
    ))
}

async fn webhook(
    s: AppState,
    platform: Platform,
    channel: String,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::response::Response> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    match webhooks::receive(&s.db, platform, &channel, &header, &body).await {
        Ok(Received::Order(c)) => {
            let status = if c.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let o = c.order;
            Ok((
                status,
                Json(json!({"order_id": o.id, "number": o.number, "status": o.status,
                            "holds": o.holds.iter().map(|h| json!({"reason": h.reason, "detail": h.detail})).collect::<Vec<_>>(),
                            "replay": !c.created})),
            )
                .into_response())
        }
        Ok(Received::Ignored { topic }) => Ok((
            StatusCode::OK,
            Json(json!({"ignored": true, "topic": topic})),
        )
            .into_response()),
        Err(e) => {
            tracing::warn!(channel, error = %e, "storefront webhook refused");
            Err(e.into())
        }
    }
}

pub async fn shopify(
    State(s): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::response::Response> {
    webhook(s, Platform::Shopify, channel, headers, body).await
}

pub async fn woocommerce(
    State(s): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::response::Response> {
    webhook(s, Platform::WooCommerce, channel, headers, body).await
}

#[derive(Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    pub dry_run: bool,
}

/// The body is the marketplace's order report (CSV). `?dry_run=true` answers
/// with the preview and writes nothing; otherwise the report is staged with
/// the channel's saved mapping (or one guessed from its header line), the
/// import starts, and 202 returns its job.
pub async fn import_report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(channel): Path<String>,
    Query(q): Query<ReportQuery>,
    body: Bytes,
) -> ApiResult<axum::response::Response> {
    let text = super::api_inventory::csv_text(&body)?;
    if q.dry_run {
        let p = order_import::preview(&s.db, &ctx, &channel, text, None).await?;
        return Ok(Json(report_preview_json(&p)).into_response());
    }
    let job = order_import::import_now(&s.db, &ctx, &channel, text)
        .await?
        .spawn();
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

fn report_preview_json(p: &order_import::ReportPreview) -> serde_json::Value {
    json!({
        "headers": p.headers,
        "mapping": p.mapping,
        "mapping_saved": p.mapping_saved,
        "mapping_errors": p.mapping_errors.iter().map(|e| (e.field.clone(), json!(e.message))).collect::<serde_json::Map<_, _>>(),
        "orders": p.orders.len(),
        "sample": p.orders.iter().take(10).map(|o| json!({
            "external_id": o.order.external_id,
            "file_lines": o.lines,
            "lines": o.order.lines.len(),
            "units": o.order.lines.iter().map(|l| l.quantity).sum::<i64>(),
        })).collect::<Vec<_>>(),
        "problems": p.problems,
    })
}

pub async fn get_report_import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(order_import::get_job(&s.db, &ctx, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarehousesInput {
    pub warehouses: Vec<String>,
}

pub async fn set_warehouses(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<WarehousesInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        orders::set_warehouses(&s.db, &ctx, &code, &body.value.warehouses).await?,
    ))
}

pub async fn sourcing_dry_run(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<domain::fulfillment::RuleInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        backend::fulfillment::dry_run(&s.db, &ctx, &code, &body.value).await?,
    ))
}

pub async fn source_backorders(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        backend::fulfillment::source_waiting(&s.db, &ctx).await?,
    ))
}
