//! HTML form handlers for four eyes: approve or reject a held change, and
//! set a policy; post/redirect/get back to the approvals page.

use app::ssr::AppState;
use axum::{
    extract::{Path, State},
    response::Response,
    Form,
};
use backend::governance::approvals;
use domain::governance::approvals::ApprovalKind;
use serde::Deserialize;

use crate::http::{
    extract::Caller,
    forms::common::{message, to},
};

const BACK: &str = "/command/approvals";

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    note: String,
}

async fn decide(
    state: AppState,
    ctx: backend::Ctx,
    id: &str,
    approve: bool,
    note: &str,
) -> Response {
    match backend::approvals::decide(&state.db, &ctx, id, approve, note).await {
        Ok(c) if approve => to(
            BACK,
            "notice",
            &format!("Approved and applied: {}", c.summary),
        ),
        Ok(c) => to(BACK, "notice", &format!("Rejected: {}", c.summary)),
        Err(e) => to(BACK, "error", &message(&ctx, e)),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    decide(state, ctx, &id, true, &form.note).await
}

pub async fn reject(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Response {
    decide(state, ctx, &id, false, &form.note).await
}

#[derive(Deserialize)]
pub struct PolicyForm {
    /// A checkbox: present when on.
    active: Option<String>,
    /// In major units, as a person types it ("250.00"); blank keeps it.
    #[serde(default)]
    threshold: String,
    /// Price overrides: whole percent ("20"); blank keeps it.
    #[serde(default)]
    percent: String,
}

pub async fn set_policy(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(kind): Path<String>,
    Form(form): Form<PolicyForm>,
) -> Response {
    let Some(kind) = ApprovalKind::parse(&kind) else {
        return to(BACK, "error", "there is no such approval policy");
    };
    let threshold = match form.threshold.trim() {
        "" => None,
        t => {
            let usd = domain::money::Currency::parse(domain::inventory::VALUATION_CURRENCY);
            match usd.and_then(|c| domain::money::Money::parse(t, c)) {
                Ok(m) => Some(m.minor()),
                Err(e) => return to(BACK, "error", &format!("threshold: {e}")),
            }
        }
    };
    let percent = match form.percent.trim() {
        "" => None,
        t => match crate::http::forms::common::whole("percent", t) {
            Ok(p) => Some(p),
            Err(e) => return to(BACK, "error", &format!("percent: {}", e.message)),
        },
    };
    let active = form.active.is_some();
    match approvals::set_policy(&state.db, &ctx, kind, active, threshold, percent).await {
        Ok(p) => to(
            BACK,
            "notice",
            &format!(
                "{} approval is {}",
                kind.label(),
                if p.active { "on" } else { "off" }
            ),
        ),
        Err(e) => to(BACK, "error", &message(&ctx, e)),
    }
}
