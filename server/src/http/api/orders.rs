//! `/api/v1` order routes and the storefront webhooks: parse, call one use
//! case, shape the reply.

use crate::http::extract::IMPORT_LIMIT;
use crate::{http::declare::ApiRoute, openapi::schemas};
use app::ssr::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing;
use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use backend::{
    order_import,
    orders::{self, BulkAction, OrderFilter},
    price_list,
    webhooks::{self, Platform, Received},
};
use domain::{
    governance::Permission,
    orders::{Address, OrderIn},
    orders::{ChannelInput, PriceListInput},
    views::PriceFilter,
};
use serde::Deserialize;
use serde_json::json;

use crate::http::{
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
    let idem = idempotency(&headers, &body.target, &body.raw)?;
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
    let idem = idempotency(&headers, &body.target, &body.raw)?;
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
) -> ApiResult<Response> {
    let outcome = price_list::set(&s.db, &ctx, &code, &body.value).await?;
    Ok(super::approvals::answer(outcome, StatusCode::OK))
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

#[derive(Deserialize, Default, schemars::JsonSchema)]
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    /// Why the order is held.
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

#[derive(Deserialize, schemars::JsonSchema)]
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelLineBody {
    /// Units to cancel, at most the line's open units.
    #[schemars(range(min = 1))]
    pub quantity: i64,
    /// Why, for the timeline.
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

#[derive(Deserialize, schemars::JsonSchema)]
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[schemars(length(max = 2000))]
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

#[derive(Deserialize, schemars::JsonSchema)]
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    #[schemars(length(max = 200))]
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewBody {
    #[schemars(length(max = 60))]
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
    let text = crate::http::api::inventory::csv_text(&body)?;
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarehousesInput {
    /// Warehouse codes, first preferred.
    #[schemars(length(min = 1, max = 20))]
    pub warehouses: Vec<String>,
}

pub async fn set_warehouses(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(code): Path<String>,
    body: JsonBody<WarehousesInput>,
) -> ApiResult<Response> {
    let outcome = orders::set_warehouses(&s.db, &ctx, &code, &body.value.warehouses).await?;
    Ok(super::approvals::answer(outcome, StatusCode::OK))
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

/// The routes this file serves, each declared once: the permission the gate
/// checks, the OpenAPI description and the handler. Long by design: a table
/// with one entry per route, and no logic.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "post",
            path: "/api/v1/channels",
            summary: "Create a sales channel (honours Idempotency-Key)",
            permission: Some(Permission::ChannelsManage),
            body: Some(schemas::of::<ChannelInput>),
            success: 201,
            handler: || routing::post(create_channel),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/orders",
            summary: "List orders, newest first, with the workbench filters",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(list_orders),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders",
            summary: "Capture an order: 201 new, 200 replay (idempotent by channel + external_id and Idempotency-Key)",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<OrderIn>),
            success: 201,
            handler: || routing::post(capture_order),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/bulk",
            summary: "Release holds, cancel or tag many orders; one result per order",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<BulkBody>),
            success: 200,
            handler: || routing::post(bulk),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/orders/views",
            summary: "Your saved workbench views",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(list_views),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/views",
            summary: "Save (or replace) a named workbench view",
            permission: Some(Permission::OrdersRead),
            body: Some(schemas::of::<ViewBody>),
            success: 201,
            handler: || routing::post(save_view),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/orders/{id}",
            summary: "One order (by id or number): status, holds, lines (with backordered_quantity), totals, reservation, fulfillments [{id, seq, warehouse, status, lines [{line_no, sku, quantity}], reason}], timeline",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(get_order),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/{id}/holds",
            summary: "Hold an order by hand, saying why",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<HoldBody>),
            success: 200,
            handler: || routing::post(place_hold),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/{id}/holds/{hold}/release",
            summary: "Release one hold (an order never sourced, after a failed payment, is sourced once nothing blocks it)",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<NoteBody>),
            success: 200,
            handler: || routing::post(release_hold),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/{id}/cancel",
            summary: "Cancel the order and release its stock",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<CancelBody>),
            success: 200,
            handler: || routing::post(cancel),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/{id}/lines/{line}/cancel",
            summary: "Cancel units of one line (line = the line's line_no); its stock is released and the rest reserved again; the last open units cancel the order",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<CancelLineBody>),
            success: 200,
            handler: || routing::post(cancel_line),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/orders/{id}/address",
            summary: "Change the shipping address (optional version check)",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<AddressBody>),
            success: 200,
            handler: || routing::put(change_address),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/{id}/notes",
            summary: "Add a note to the order",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<NoteInput>),
            success: 200,
            handler: || routing::post(add_note),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/orders/{id}/tags",
            summary: "Add and remove tags",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::of::<TagBody>),
            success: 200,
            handler: || routing::post(tag),
        },
        ApiRoute {
            method: "post",
            path: "/webhooks/shopify/{channel}",
            summary: "Shopify orders/create, verified by X-Shopify-Hmac-Sha256 (201 new, 200 redelivery, 401 bad signature or headers)",
            permission: None,
            body: Some(schemas::storefront_body),
            success: 201,
            handler: || routing::post(shopify),
        },
        ApiRoute {
            method: "post",
            path: "/webhooks/woocommerce/{channel}",
            summary: "WooCommerce order.created, verified by X-WC-Webhook-Signature (201 new, 200 redelivery, 401 bad signature or headers)",
            permission: None,
            body: Some(schemas::storefront_body),
            success: 201,
            handler: || routing::post(woocommerce),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/channels/{code}/warehouses",
            summary: "Set the channel's warehouses in priority order: its sourcing rule (first preferred; ship complete from one when possible, else the fewest)",
            permission: Some(Permission::ChannelsManage),
            body: Some(schemas::of::<WarehousesInput>),
            success: 200,
            handler: || routing::put(set_warehouses),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/channels/{code}/sourcing/dry-run",
            summary: "Try a warehouse priority on the channel's latest orders beside the current one: orders, shipments, split orders, backordered orders and units, units per warehouse; writes nothing",
            permission: Some(Permission::OrdersRead),
            body: Some(schemas::of::<domain::fulfillment::RuleInput>),
            success: 200,
            handler: || routing::post(sourcing_dry_run),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/fulfillments/source-backorders",
            summary: "Source every backordered line from what is spare now, oldest order first (receipts, transfers in, counts and releases do this for their own products)",
            permission: Some(Permission::OrdersWrite),
            body: None,
            success: 200,
            handler: || routing::post(source_backorders),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/channels/{code}/prices",
            summary: "A channel's price list by SKU: the price charged to an order line sent without unit_price (the channel's own, else the catalogue price in the channel's currency) (query: q, own=true for the channel's own prices only, limit, cursor)",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(channel_prices),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/channels/{code}/prices",
            summary: "Set or remove a channel's own prices, all or nothing; answers how many were set and removed",
            permission: Some(Permission::CatalogWrite),
            body: Some(schemas::of::<PriceListInput>),
            success: 200,
            handler: || routing::put(set_channel_prices),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/channels/{code}/order-reports",
            summary: "Import a marketplace order report (body: text/csv, one row per order line; ?dry_run=true previews with the mapping and row problems); the channel's saved column mapping, or one guessed from the header line; 202 with the job",
            permission: Some(Permission::OrdersWrite),
            body: Some(schemas::csv_body),
            success: 202,
            handler: || routing::post(import_report).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/order-reports/{id}",
            summary: "An order report import's progress: orders created, already present, failed, and problems by line",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(get_report_import),
        },
    ]
}
