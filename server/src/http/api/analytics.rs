//! `/api/v1/exceptions` and `/api/v1/kpis`: the command center's exception
//! queues and KPI board.

use crate::{http::declare::ApiRoute, openapi::schemas};
use app::ssr::AppState;
use axum::routing;
use axum::{
    extract::{Path, Query, State},
    response::IntoResponse,
    Json,
};
use backend::analytics::{self, ExceptionFilter};
use domain::governance::Permission;
use serde::Deserialize;

use crate::http::{
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// A user's email or id; empty or null hands it back to the owning role.
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnoozeInput {
    #[schemars(range(min = 1, max = 168))]
    hours: i64,
    #[schemars(length(min = 3, max = 200))]
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

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    /// What was done.
    #[schemars(length(min = 3, max = 500))]
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

/// The routes this file serves, each declared once: the permission the gate
/// checks, the OpenAPI description and the handler. Long by design: a table
/// with one entry per route, and no logic.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "get",
            path: "/api/v1/exceptions",
            summary: "Exception queue items, oldest first: queue, entity, entity_id, entity_ref, link, reason, detail, owner (assignee's email or the owning role), opened_at, sla_due_at, sla_state (filters: queue, status = open | snoozed | done | any, owner = role | me | email, warehouse, channel, reason, opened_from, opened_to; limit, cursor)",
            permission: Some(Permission::ExceptionsRead),
            body: None,
            success: 200,
            handler: || routing::get(list),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/exceptions/summary",
            summary: "Per queue: items open, past their SLA and snoozed",
            permission: Some(Permission::ExceptionsRead),
            body: None,
            success: 200,
            handler: || routing::get(summary),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/exceptions/{id}",
            summary: "One exception item",
            permission: Some(Permission::ExceptionsRead),
            body: None,
            success: 200,
            handler: || routing::get(get),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/exceptions/{id}/assign",
            summary: "Assign an item to an active user (email or id), or hand it back to its role with an empty assignee. Managers and administrators may work any item; others those of their role's queues or assigned to them (409 not_your_queue)",
            permission: Some(Permission::ExceptionsWork),
            body: Some(schemas::of::<AssignInput>),
            success: 200,
            handler: || routing::post(assign),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/exceptions/{id}/snooze",
            summary: "Hide an item from the open queue for 1 to 168 hours, with a reason",
            permission: Some(Permission::ExceptionsWork),
            body: Some(schemas::of::<SnoozeInput>),
            success: 200,
            handler: || routing::post(snooze),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/exceptions/{id}/resolve",
            summary: "Mark an item dealt with, saying what was done. It stays resolved while its condition lasts; 409 exception_closed if it already ended",
            permission: Some(Permission::ExceptionsWork),
            body: Some(schemas::of::<ResolveInput>),
            success: 200,
            handler: || routing::post(resolve),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/kpis",
            summary: "The KPI board for a period: order cycle time, on-time shipment rate, inventory accuracy, manual touches per order, gross margin, orders, revenue, backlog and stockouts, each with its definition, value, the previous period's value and change, a daily series and a breakdown, every figure with the link to its records (slots for return and ticket times). Read from figures the event stream maintains",
            permission: Some(Permission::KpisRead),
            body: None,
            success: 200,
            handler: || routing::get(kpis),
        },
    ]
}
