//! `/api/v1/approvals` and `/api/v1/approval-policies`: four eyes. A change
//! the policy holds answers 202 with the pending change wherever it was
//! asked for ([`answer`]); someone else approves or rejects it here.

use crate::{http::declare::ApiRoute, openapi::schemas};
use app::ssr::AppState;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing, Json,
};
use backend::governance::approvals::{self, Outcome, PendingFilter};
use domain::governance::{approvals::ApprovalKind, Permission};
use serde::{Deserialize, Serialize};

use crate::http::{
    error::ApiError,
    extract::{Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

/// A change request's answer: `applied` with the route's own status and
/// body, or 202 with the pending change when it waits for a second person.
pub(crate) fn answer<T: Serialize>(outcome: Outcome<T>, applied: StatusCode) -> Response {
    match outcome {
        Outcome::Applied(value) => (applied, Json(value)).into_response(),
        Outcome::Held(pending) => (StatusCode::ACCEPTED, Json(pending)).into_response(),
    }
}

pub async fn list(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(f): Query<PendingFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(approvals::list(&s.db, &ctx, &f).await?))
}

pub async fn get(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(approvals::get(&s.db, &ctx, &id).await?))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why, for the requester and the audit log (up to 500 characters).
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub note: String,
}

async fn decide(
    s: AppState,
    ctx: backend::Ctx,
    id: &str,
    approve: bool,
    body: Decision,
) -> ApiResult<Response> {
    let decided = backend::approvals::decide(&s.db, &ctx, id, approve, &body.note).await?;
    Ok(Json(decided).into_response())
}

pub async fn approve(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<Decision>,
) -> ApiResult<Response> {
    decide(s, ctx, &id, true, body.value).await
}

pub async fn reject(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<Decision>,
) -> ApiResult<Response> {
    decide(s, ctx, &id, false, body.value).await
}

pub async fn policies(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(approvals::policies(&s.db, &ctx).await?))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    pub active: bool,
    /// Stock adjustments: the value at cost in minor units above which one
    /// waits for approval (0 to 1,000,000,000). Ignored for role changes.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub threshold_minor: Option<i64>,
    /// Price overrides: how far a channel price may depart from the
    /// catalogue's, in percent, before it waits for approval (0 to 1,000).
    /// Ignored for the other kinds.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1_000))]
    pub threshold_percent: Option<i64>,
}

pub async fn set_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(kind): Path<String>,
    body: JsonBody<PolicyInput>,
) -> ApiResult<impl IntoResponse> {
    let kind = ApprovalKind::parse(&kind).ok_or_else(|| {
        ApiError::from(backend::Error::NotFound {
            entity: "approval policy",
            key: kind.clone(),
        })
    })?;
    let p = body.value;
    Ok(Json(
        approvals::set_policy(
            &s.db,
            &ctx,
            kind,
            p.active,
            p.threshold_minor,
            p.threshold_percent,
        )
        .await?,
    ))
}

/// The routes this file serves, each declared once.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "get",
            path: "/api/v1/approvals",
            summary: "Changes held for a second person, newest first: the ones the caller may decide on and their own (?status=pending|applied|rejected, ?kind=stock_adjustment|role_change|price_override|channel_change, limit, cursor)",
            permission: Some(Permission::CommandView),
            body: None,
            success: 200,
            handler: || routing::get(list),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/approvals/{id}",
            summary: "One held change",
            permission: Some(Permission::CommandView),
            body: None,
            success: 200,
            handler: || routing::get(get),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/approvals/{id}/approve",
            summary: "Approve a held change and apply it, once, in the same transaction; by someone with the kind's permission (inventory.approve for stock adjustments, users.manage for role changes, catalog.write for price overrides, channels.manage for channel and sourcing-rule changes) who didn't ask for it (409 self_approval, 409 change_not_pending)",
            permission: Some(Permission::CommandView),
            body: Some(schemas::of::<Decision>),
            success: 200,
            handler: || routing::post(approve),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/approvals/{id}/reject",
            summary: "Reject a held change: nothing is applied; same deciders as approval",
            permission: Some(Permission::CommandView),
            body: Some(schemas::of::<Decision>),
            success: 200,
            handler: || routing::post(reject),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/approval-policies",
            summary: "The approval policy table: which changes wait for a second person, and above what",
            permission: Some(Permission::CommandView),
            body: None,
            success: 200,
            handler: || routing::get(policies),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/approval-policies/{kind}",
            summary: "Turn a policy on or off, or set its threshold (stock_adjustment: threshold_minor; price_override: threshold_percent; role_change, channel_change); administrators, audited",
            permission: Some(Permission::UsersManage),
            body: Some(schemas::of::<PolicyInput>),
            success: 200,
            handler: || routing::put(set_policy),
        },
    ]
}
