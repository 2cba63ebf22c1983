//! `/api/v1` for the warehouse floor: waves and pick scans, packing,
//! shipments and their labels.

use crate::{http::declare::ApiRoute, openapi::schemas};
use app::ssr::AppState;
use axum::routing;
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::IntoResponse,
    Json,
};
use backend::fulfillment::{
    self, LabelFormat, MeasureInput, PackScanInput, ScanInput, ShipInput, ShortInput, StatusFilter,
    WaveFilter, WaveInput,
};
use backend::receiving::{self, DeliveryFilter, DeliveryInput};
use domain::governance::Permission;
use serde::Deserialize;

use crate::http::{
    error::ApiError,
    extract::{idempotency, Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

pub async fn build_wave(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<WaveInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    let wave = fulfillment::build_wave(&s.db, &ctx, body.value, idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(wave)))
}

pub async fn list_waves(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(filter): Query<WaveFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(fulfillment::list_waves(&s.db, &ctx, &filter).await?))
}

pub async fn get_wave(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(fulfillment::get_wave(&s.db, &ctx, &id).await?))
}

/// A scan answers 200 whether it was accepted or refused (`accepted`,
/// `message`): a refusal is the floor working, not a broken request.
pub async fn pick_scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ScanInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    Ok(Json(
        fulfillment::pick_scan(&s.db, &ctx, &id, body.value, idem.as_ref()).await?,
    ))
}

pub async fn short_pick(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ShortInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    Ok(Json(
        fulfillment::short_pick(&s.db, &ctx, &id, body.value, idem.as_ref()).await?,
    ))
}

pub async fn pack_view(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(fulfillment::pack_view(&s.db, &ctx, &id).await?))
}

pub async fn pack_scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<PackScanInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    Ok(Json(
        fulfillment::pack_scan(&s.db, &ctx, &id, body.value, idem.as_ref()).await?,
    ))
}

pub async fn measure(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path((id, seq)): Path<(String, i64)>,
    body: JsonBody<MeasureInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        fulfillment::measure_package(&s.db, &ctx, &id, seq, body.value).await?,
    ))
}

pub async fn ship(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ShipInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    let shipment = fulfillment::ship(&s.db, &ctx, &id, body.value, idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(shipment)))
}

pub async fn get_shipment(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(fulfillment::get_shipment(&s.db, &ctx, &id).await?))
}

#[derive(Deserialize)]
pub struct LabelQuery {
    #[serde(default)]
    format: String,
}

pub async fn label(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Query(q): Query<LabelQuery>,
) -> ApiResult<impl IntoResponse> {
    let format = LabelFormat::parse(&q.format)?;
    let (shipment, body) = fulfillment::label(&s.db, &ctx, &id, format).await?;
    let ext = match format {
        LabelFormat::Zpl => "zpl",
        LabelFormat::Pdf => "pdf",
    };
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}.{ext}\"", shipment.number),
            ),
        ],
        body,
    ))
}

pub async fn status(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(filter): Query<StatusFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(fulfillment::status(&s.db, &ctx, &filter).await?))
}

pub async fn create_delivery(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<DeliveryInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    let d = receiving::create_delivery(&s.db, &ctx, body.value, idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

pub async fn list_deliveries(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(filter): Query<DeliveryFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        receiving::list_deliveries(&s.db, &ctx, &filter).await?,
    ))
}

pub async fn get_delivery(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(receiving::get_delivery(&s.db, &ctx, &id).await?))
}

/// Like a pick scan, a refused receiving scan is 200 with `accepted` false.
pub async fn receive_scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ScanInput>,
) -> ApiResult<impl IntoResponse> {
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    Ok(Json(
        receiving::receive_scan(&s.db, &ctx, &id, body.value, idem.as_ref()).await?,
    ))
}

pub async fn clear_receive_scan(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(receiving::clear_scan(&s.db, &ctx, &id).await?))
}

pub async fn close_delivery(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let target = format!("POST /api/v1/deliveries/{id}/close");
    let idem = idempotency(&headers, &target, &[])?;
    Ok(Json(
        receiving::close_delivery(&s.db, &ctx, &id, idem.as_ref()).await?,
    ))
}

/// The routes this file serves, each declared once: the permission the gate
/// checks, the OpenAPI description and the handler. Long by design: a table
/// with one entry per route, and no logic.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "get",
            path: "/api/v1/floor/status",
            summary: "The floor at a glance: unshipped fulfilments against their ship-by time (late, due within 4 h, on time; the 50 oldest listed), open waves, and units picked per hour by agent over the last hours",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(status),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/waves",
            summary: "Release a warehouse's confirmed fulfilments to the floor as a wave of pick tasks in bin order; their orders become in_fulfilment",
            permission: Some(Permission::FloorUse),
            body: Some(schemas::of::<WaveInput>),
            success: 201,
            handler: || routing::post(build_wave),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/waves",
            summary: "List waves, newest first (filters: warehouse, status = open | done | cancelled; limit, cursor)",
            permission: Some(Permission::FloorUse),
            body: None,
            success: 200,
            handler: || routing::get(list_waves),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/waves/{id}",
            summary: "A wave (by id or number): its pick tasks in walk order with each task's step (bin, item, quantity), picked and short units, and its fulfilments",
            permission: Some(Permission::FloorUse),
            body: None,
            success: 200,
            handler: || routing::get(get_wave),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/waves/{id}/scans",
            summary: "One scan at the wave's current task: the bin, then the item, then the quantity; answers accepted or refused with a message and the wave",
            permission: Some(Permission::FloorUse),
            body: Some(schemas::pick_scan_body),
            success: 200,
            handler: || routing::post(pick_scan),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/waves/{id}/short",
            summary: "Close the current task short, with a reason: the missing units are written off the bin, a count is opened and the units are sourced again",
            permission: Some(Permission::FloorUse),
            body: Some(schemas::of::<ShortInput>),
            success: 200,
            handler: || routing::post(short_pick),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/deliveries",
            summary: "Announce a delivery a warehouse expects (supplier, reference, date, items and quantities), or open a blind receipt with no lines",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::of::<DeliveryInput>),
            success: 201,
            handler: || routing::post(create_delivery),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/deliveries",
            summary: "List deliveries, newest first (filters: warehouse, status = expected | receiving | closed | open, q = number, supplier or reference; limit, cursor)",
            permission: Some(Permission::FloorUse),
            body: None,
            success: 200,
            handler: || routing::get(list_deliveries),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/deliveries/{id}",
            summary: "A delivery (by id or number DL-…): announced and received units per item, putaways into bins, and the caller's item scanned but not yet put away (with a suggested bin)",
            permission: Some(Permission::FloorUse),
            body: None,
            success: 200,
            handler: || routing::get(get_delivery),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/deliveries/{id}/scans",
            summary: "One receiving scan: the item, its lot, a quantity, then the bin that puts the units away as a stock receipt; answers accepted or refused with a message and the delivery. 409 delivery_closed on a closed delivery",
            permission: Some(Permission::InventoryWrite),
            body: Some(schemas::receive_scan_body),
            success: 200,
            handler: || routing::post(receive_scan),
        },
        ApiRoute {
            method: "delete",
            path: "/api/v1/deliveries/{id}/pending",
            summary: "Drop the caller's item scanned but not yet put away (nothing was received for it)",
            permission: Some(Permission::FloorUse),
            body: None,
            success: 200,
            handler: || routing::delete(clear_receive_scan),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/deliveries/{id}/close",
            summary: "Close a delivery: nothing more is received on it, units never received are recorded short (delivery.closed), and pending scans are dropped",
            permission: Some(Permission::InventoryWrite),
            body: None,
            success: 200,
            handler: || routing::post(close_delivery),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/fulfillments/{id}",
            summary: "A fulfilment at the packing bench (by id or label SO-…-1): picked and packed units per line, packages, what keeps the pack from verifying, and its shipment",
            permission: Some(Permission::FloorUse),
            body: None,
            success: 200,
            handler: || routing::get(pack_view),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/fulfillments/{id}/pack-scans",
            summary: "Scan one unit into a package; an item not in the fulfilment, or more than were picked, is refused (200, accepted=false)",
            permission: Some(Permission::FloorUse),
            body: Some(schemas::of::<PackScanInput>),
            success: 200,
            handler: || routing::post(pack_scan),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/fulfillments/{id}/packages/{seq}",
            summary: "Record a package's weight and dimensions",
            permission: Some(Permission::FloorUse),
            body: Some(schemas::of::<MeasureInput>),
            success: 200,
            handler: || routing::put(measure),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/fulfillments/{id}/ship",
            summary: "Ship a verified pack: carrier, service and a tracking number per package; consumes the reservation, moves the units out of their bins and emits order.shipped",
            permission: Some(Permission::FloorUse),
            body: Some(schemas::of::<ShipInput>),
            success: 201,
            handler: || routing::post(ship),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/shipments/{id}",
            summary: "A shipment (by id or number) with its packages and tracking numbers",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(get_shipment),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/shipments/{id}/label",
            summary: "The shipment's labels, one per package, 4×6 in: format=pdf (one page per package) or format=zpl (203 dpi, the tracking number in a ^BC Code 128 barcode)",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(label),
        },
    ]
}
