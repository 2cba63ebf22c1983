//! Server-only glue: the state server functions read, and the mapping from use
//! case errors to HTTP statuses for server-function responses.

use crate::problem::Problem;
use axum::extract::FromRef;
use backend::{Actor, Ctx, Db, Error};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Who is asking and under which request id; the server's auth layer puts it
/// into every request's extensions.
#[derive(Clone, Debug)]
pub struct RequestCtx {
    pub actor: Actor,
    pub request_id: Option<String>,
    /// The returns portal's session secret, from its cookie.
    pub portal: Option<String>,
}

/// The database and use-case context for the current server-function call.
pub async fn context() -> Result<(Db, Ctx), Problem> {
    let state = expect_context::<AppState>();
    let axum::Extension(req): axum::Extension<RequestCtx> =
        leptos_axum::extract().await.map_err(|e| {
            // The auth layer puts the context on every request; without it
            // the server is wired wrong, which no person can fix.
            tracing::error!(error = %e, "a server function ran without a request context");
            Problem::Internal
        })?;
    Ok((state.db, Ctx::new(req.actor, req.request_id)))
}

pub fn db() -> Db {
    expect_context::<AppState>().db
}

/// Maps a use-case error to the problem a page shows, and the response to the
/// matching status. Internal causes are logged here and never sent.
pub fn fail(err: Error) -> Problem {
    let status = http::StatusCode::from_u16(err.status_code())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(status);
    }
    match err {
        e if e.is_unavailable() => {
            tracing::warn!(error = %e, "the database is unavailable");
            if let Some(options) = use_context::<ResponseOptions>() {
                options.insert_header(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from(backend::error::UNAVAILABLE_RETRY_SECS),
                );
            }
            Problem::Unreachable("the database is unavailable".into())
        }
        Error::Database(_) | Error::Internal(_) => {
            tracing::error!(error = %err, "server function failed");
            Problem::Internal
        }
        Error::Invalid(_) | Error::InsufficientStock { .. } => Problem::Invalid(err.fields()),
        Error::Conflict { code, message } => Problem::Conflict {
            code: code.code().to_string(),
            message,
        },
        Error::NotFound { .. } => Problem::NotFound(err.to_string()),
        Error::Unauthenticated
        | Error::BadSignature(_)
        | Error::Forbidden { .. }
        | Error::OutOfScope { .. }
        | Error::Throttled { .. } => Problem::Denied(err.to_string()),
    }
}

/// The codes of the warehouses the actor may see, for pickers and filters.
pub async fn warehouse_codes(db: &Db, ctx: &Ctx) -> Result<Vec<String>, Problem> {
    Ok(
        backend::inventory::list_warehouses(db, ctx, Some(200), None)
            .await
            .map_err(fail)?
            .items
            .into_iter()
            .map(|w| w.code)
            .collect(),
    )
}
