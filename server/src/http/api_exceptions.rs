//! `/api/v1/exceptions` and `/api/v1/kpis`: the command center's exception
//! queues and KPI board.

use app::ssr::AppState;
use axum::{
    extract::{Path, Query, State},
    response::IntoResponse,
    Json,
};
use backend::analytics::{self, ExceptionFilter};
use serde::Deserialize;

use super::{
    error::ApiError,
    extract::{Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(filter): Query<ExceptionFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(analytics::list(&s.db, &ctx, &filter).await?))
}

pub async fn kpis(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(filter): Query<backend::kpi::KpiFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(backend::kpi::board(&s.db, &ctx, &filter).await?))
}

pub async fn summary(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(analytics::summary(&s.db, &ctx).await?))
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(analytics::get(&s.db, &ctx, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    assignee: Option<String>,
}

pub async fn assign(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<AssignInput>,
) -> ApiResult<impl IntoResponse> {
    let a = body.value.assignee;
    Ok(Json(
        analytics::assign(&s.db, &ctx, &id, a.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnoozeInput {
    hours: i64,
    reason: String,
}

pub async fn snooze(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<SnoozeInput>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    Ok(Json(
        analytics::snooze(&s.db, &ctx, &id, b.hours, &b.reason).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    note: String,
}

pub async fn resolve(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<ResolveInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        analytics::resolve(&s.db, &ctx, &id, &body.value.note).await?,
    ))
}
