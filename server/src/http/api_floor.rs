//! `/api/v1` for the warehouse floor: waves and pick scans, packing,
//! shipments and their labels.

use app::ssr::AppState;
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
use serde::Deserialize;

use super::{
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &body.raw)?;
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
    let idem = idempotency(&headers, &[])?;
    Ok(Json(
        receiving::close_delivery(&s.db, &ctx, &id, idem.as_ref()).await?,
    ))
}
