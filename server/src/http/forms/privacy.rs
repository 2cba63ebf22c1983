//! HTML form handlers for privacy requests: an export answers with the JSON
//! file itself (a download), an erasure redirects back to the privacy page
//! with what it did. Neither puts the email into an address.

use app::ssr::AppState;
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Form, Json,
};
use backend::orders::privacy;
use serde::Deserialize;

use crate::http::{
    extract::Caller,
    forms::common::{message, to},
};

const BACK: &str = "/command/privacy";

#[derive(Deserialize)]
pub struct ExportForm {
    #[serde(default)]
    email: String,
}

pub async fn export(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<ExportForm>,
) -> Response {
    match privacy::export(&state.db, &ctx, &form.email).await {
        Ok(export) => {
            let file = format!(
                "attachment; filename=\"customer-export-{}.json\"",
                export.customer.id
            );
            ([(header::CONTENT_DISPOSITION, file)], Json(export)).into_response()
        }
        Err(e) => to(BACK, "error", &message(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct EraseForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    reason: String,
}

pub async fn erase(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<EraseForm>,
) -> Response {
    if !form.email.trim().eq_ignore_ascii_case(form.confirm.trim()) {
        return to(
            BACK,
            "error",
            "confirm: the two emails differ; nothing was erased",
        );
    }
    match privacy::erase(&state.db, &ctx, &form.email, &form.reason).await {
        Ok(e) => to(
            BACK,
            "notice",
            &format!(
                "Customer {} erased. Orders kept under the pseudonym: {}; audit rows rewritten: {}; events rewritten: {}",
                e.customer_id, e.orders, e.audit_rows, e.events
            ),
        ),
        Err(e) => to(BACK, "error", &message(&ctx, e)),
    }
}
