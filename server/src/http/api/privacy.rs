//! `/api/v1/privacy`: a customer's data as one JSON document, and erasure
//! on request. The customer is named by email in the body, never in the
//! path, so the address stays out of access logs.

use crate::{http::declare::ApiRoute, openapi::schemas};
use app::ssr::AppState;
use axum::{extract::State, response::IntoResponse, routing, Json};
use backend::orders::privacy;
use domain::governance::Permission;
use serde::Deserialize;

use crate::http::{
    error::ApiError,
    extract::{Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportInput {
    /// The customer's email, as their orders carry it (any case).
    #[schemars(length(max = 254))]
    pub email: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    /// The customer's email, as their orders carry it (any case).
    #[schemars(length(max = 254))]
    pub email: String,
    /// Why, for the audit log: the request's reference (1 to 500
    /// characters). The customer's own details are cut out of it.
    #[schemars(length(min = 1, max = 500))]
    pub reason: String,
}

pub async fn export(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<ExportInput>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(privacy::export(&s.db, &ctx, &body.value.email).await?))
}

pub async fn erase(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<ErasureInput>,
) -> ApiResult<impl IntoResponse> {
    let b = body.value;
    Ok(Json(
        privacy::erase(&s.db, &ctx, &b.email, &b.reason).await?,
    ))
}

/// The routes this file serves, each declared once.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "post",
            path: "/api/v1/privacy/exports",
            summary: "Everything Keel holds about a customer, as one JSON document (keel.customer-export/1): the customer, their address book, every order whole, and portal visits; audited. Unscoped privacy managers only (404 when no customer has that email)",
            permission: Some(Permission::PrivacyManage),
            body: Some(schemas::of::<ExportInput>),
            success: 200,
            handler: || routing::post(export),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/privacy/erasures",
            summary: "Erase a customer on request: their orders keep money, stock, status, country and region under a pseudonym; names, addresses, contact details, notes and free text are rewritten everywhere, audit rows included (the hash chain still verifies). Refused while an order still needs the address (409 orders_open) and once done (409 already_erased)",
            permission: Some(Permission::PrivacyManage),
            body: Some(schemas::of::<ErasureInput>),
            success: 200,
            handler: || routing::post(erase),
        },
    ]
}
