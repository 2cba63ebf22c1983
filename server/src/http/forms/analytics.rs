//! HTML form handlers for the exception queues: assign, snooze and resolve,
//! post/redirect/get back to the queue the person was looking at.

use app::ssr::AppState;
use axum::{
    extract::{Path, State},
    response::Response,
    Form,
};
use backend::analytics;
use domain::views::ExceptionItem;
use serde::Deserialize;

use crate::http::{
    extract::Caller,
    forms::common::{message, refused, to},
};

/// Only the queue page itself is a place to go back to.
fn back_to(back: &str) -> &str {
    if back.starts_with("/command/exceptions") && !back.contains("//") {
        back
    } else {
        "/command/exceptions"
    }
}

/// Back to the queue with a notice, or with the refusal beside the row's
/// field: `field` maps the use case's field to the form's, keyed by the item
/// (`snooze-<id>-reason`), since every row has the same forms.
fn done(
    ctx: &backend::Ctx,
    back: &str,
    r: backend::Result<ExceptionItem>,
    field: Option<(&str, String)>,
    say: impl FnOnce(&ExceptionItem) -> String,
) -> Response {
    match (r, field) {
        (Ok(x), _) => to(back_to(back), "notice", &say(&x)),
        (Err(e), Some((from, name))) => refused(ctx, back_to(back), e, &[(from, &name)], &[]),
        (Err(e), None) => to(back_to(back), "error", &message(ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    back: String,
}

pub async fn assign(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<AssignForm>,
) -> Response {
    // "me" is the person at the screen.
    let assignee = match form.assignee.trim() {
        "me" => ctx.actor.id.clone(),
        a => Some(a.to_string()),
    };
    let r = analytics::assign(&state.db, &ctx, &id, assignee.as_deref()).await;
    done(&ctx, &form.back, r, None, |x| match &x.assignee_name {
        Some(n) => format!("{} is now with {n}", x.entity_ref),
        None => format!("{} is back with {}", x.entity_ref, x.owner_label),
    })
}

#[derive(Deserialize)]
pub struct SnoozeForm {
    hours: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    back: String,
}

pub async fn snooze(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<SnoozeForm>,
) -> Response {
    let Ok(hours) = form.hours.trim().parse::<i64>() else {
        return to(
            back_to(&form.back),
            "error",
            "hours: choose how long to snooze",
        );
    };
    let r = analytics::snooze(&state.db, &ctx, &id, hours, &form.reason).await;
    let field = Some(("reason", format!("snooze-{id}-reason")));
    done(&ctx, &form.back, r, field, |x| {
        format!(
            "{} snoozed until {}",
            x.entity_ref,
            app::components::short_time(x.snoozed_until.as_deref().unwrap_or_default())
        )
    })
}

#[derive(Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

pub async fn resolve(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Response {
    let r = analytics::resolve(&state.db, &ctx, &id, &form.note).await;
    let field = Some(("note", format!("resolve-{id}-note")));
    done(&ctx, &form.back, r, field, |x| {
        format!("{} resolved", x.entity_ref)
    })
}
