//! `/api/v1`: thin handlers that parse, call one use case, and shape the reply.

use crate::{http::declare::ApiRoute, openapi::schemas};
use axum::routing;
use std::{collections::VecDeque, convert::Infallible, time::Duration};

use app::ssr::AppState;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{
        sse::{Event as SseEvent, KeepAlive, Sse},
        IntoResponse,
    },
    Json,
};
use backend::{
    governance::{self, AuditFilter, NewUser, UserFilter, UserUpdate},
    inventory::{self, WarehouseInput},
    orders,
};
use domain::governance::{Permission, Scope};
use futures::Stream;
use serde::Deserialize;
use serde_json::json;

use crate::http::{
    error::ApiError,
    extract::{idempotency, Caller, JsonBody},
};

type ApiResult<T> = Result<T, ApiError>;

#[derive(Deserialize)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

pub async fn me(Caller(ctx): Caller) -> ApiResult<impl IntoResponse> {
    if !ctx.actor.is_authenticated() {
        return Err(backend::Error::Unauthenticated.into());
    }
    let a = ctx.actor;
    Ok(Json(
        json!({"kind": a.kind, "id": a.id, "name": a.name, "role": a.role, "scope": a.scope}),
    ))
}

pub async fn list_warehouses(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        inventory::list_warehouses(&s.db, &ctx, q.limit, q.cursor.as_deref()).await?,
    ))
}

pub async fn create_warehouse(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<WarehouseInput>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Permission::InventoryWrite)?;
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    let w = inventory::create_warehouse(&s.db, &ctx, body.value, idem.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(w)))
}

pub async fn list_channels(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        json!({"items": orders::list_channels(&s.db, &ctx).await?, "next_cursor": null}),
    ))
}

pub async fn list_users(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(f): Query<UserFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(governance::list_users(&s.db, &ctx, &f).await?))
}

pub async fn create_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<NewUser>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Permission::UsersManage)?;
    let idem = idempotency(&headers, &body.target, &body.raw)?;
    Ok((
        StatusCode::CREATED,
        Json(governance::create_user(&s.db, &ctx, body.value, idem.as_ref()).await?),
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(governance::get_user(&s.db, &ctx, &id).await?))
}

pub async fn update_user(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<UserUpdate>,
) -> ApiResult<axum::response::Response> {
    let out = governance::update_user(&s.db, &ctx, &id, body.value).await?;
    Ok(super::approvals::answer(out, StatusCode::OK))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    #[schemars(length(min = 12, max = 256))]
    pub new_password: String,
}

/// A person changes their own password; the session it came from (if any)
/// stays signed in, their others end.
pub async fn change_own_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    body: JsonBody<PasswordChange>,
) -> ApiResult<impl IntoResponse> {
    let keep = crate::http::credentials::cookie(&headers, crate::http::credentials::SESSION_COOKIE);
    let b = body.value;
    governance::change_own_password(&s.db, &ctx, &b.current_password, &b.new_password, keep)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    #[schemars(length(min = 12))]
    pub password: String,
}

pub async fn set_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    body: JsonBody<NewPassword>,
) -> ApiResult<impl IntoResponse> {
    governance::set_password(&s.db, &ctx, &id, body.value.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    #[schemars(extend("enum" = ["admin", "manager", "warehouse", "finance", "support"]))]
    pub role: String,
    #[serde(default)]
    pub scope: Scope,
}

pub async fn create_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: JsonBody<NewToken>,
) -> ApiResult<impl IntoResponse> {
    ctx.require(Permission::TokensManage)?;
    let t = body.value;
    Ok((
        StatusCode::CREATED,
        Json(governance::create_token(&s.db, &ctx, &t.name, &t.role, t.scope).await?),
    ))
}

pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    governance::revoke_token(&s.db, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_audit(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(f): Query<AuditFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(governance::list_audit(&s.db, &ctx, &f).await?))
}

#[derive(Deserialize)]
pub struct EventsQuery {
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

pub async fn list_events(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    Query(q): Query<EventsQuery>,
) -> ApiResult<impl IntoResponse> {
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            "after: must be 0 or a sequence number",
        )
        .field("after", "must be 0 or a sequence number"));
    }
    let items = governance::list_events(&s.db, &ctx, after, q.limit).await?;
    let next_cursor = items.last().map(|e| e.seq.to_string());
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})))
}

/// How often a quiet stream checks that its credential still holds. A change
/// that emits an event (revoking the token, disabling the user, changing the
/// role or scope) is caught at once; this catches the silent ones, a session
/// running out.
const STREAM_RECHECK: Duration = Duration::from_secs(10);

/// Server-sent events: every event committed after `after` (or `Last-Event-ID`,
/// or now), as it commits, on this instance or any other sharing the database.
/// The stream ends when its credential stops granting it: revoked, expired,
/// signed out, or the person disabled or moved to another role or scope.
pub async fn event_stream(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    governance::require_whole_business(&ctx, Permission::EventsRead)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let start = match resume.or(q.after) {
        Some(seq) => seq,
        None => s.db.max_event_seq().await?,
    };
    let rx = s.db.subscribe_events();
    let follow = Follow {
        state: s,
        headers,
        actor: ctx.actor,
        rx,
        last: start,
        buffer: VecDeque::new(),
    };
    let stream = futures::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok(event), f))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One live stream's position and the credential it was opened with.
struct Follow {
    state: AppState,
    headers: HeaderMap,
    actor: backend::Actor,
    rx: tokio::sync::watch::Receiver<i64>,
    last: i64,
    buffer: VecDeque<governance::EventRecord>,
}

impl Follow {
    /// The next event to send, or `None` when the stream must end.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                return Some(
                    SseEvent::default()
                        .id(e.seq.to_string())
                        .data(serde_json::to_string(&e).unwrap_or_default()),
                );
            }
            if !self.still_granted().await {
                return None;
            }
            // Mark the current value seen before reading, so a commit that lands
            // during the read still wakes the next wait.
            self.rx.borrow_and_update();
            match governance::events_after(&self.state.db, self.last, 500).await {
                Ok(events) if !events.is_empty() => {
                    self.last = events.last().map(|e| e.seq).unwrap_or(self.last);
                    self.buffer.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "event stream read failed; retrying on the next change")
                }
            }
            tokio::select! {
                changed = self.rx.changed() => if changed.is_err() { return None },
                () = tokio::time::sleep(STREAM_RECHECK) => {}
            }
        }
    }

    /// Whether the request's credential still resolves to the same actor,
    /// still allowed the whole feed.
    async fn still_granted(&self) -> bool {
        let now = crate::http::credentials::actor_for(&self.state, &self.headers).await;
        now == self.actor
            && governance::require_whole_business(
                &backend::Ctx::new(now, None),
                Permission::EventsRead,
            )
            .is_ok()
    }
}

/// The routes this file serves, each declared once: the permission the gate
/// checks, the OpenAPI description and the handler. Long by design: a table
/// with one entry per route, and no logic.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "get",
            path: "/api/v1/me",
            summary: "The caller's identity, role and scope",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(me),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/warehouses",
            summary: "List warehouses",
            permission: Some(Permission::InventoryRead),
            body: None,
            success: 200,
            handler: || routing::get(list_warehouses),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/warehouses",
            summary: "Create a warehouse (honours Idempotency-Key)",
            permission: Some(Permission::WarehousesManage),
            body: Some(schemas::of::<WarehouseInput>),
            success: 201,
            handler: || routing::post(create_warehouse),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/channels",
            summary: "List sales channels",
            permission: Some(Permission::OrdersRead),
            body: None,
            success: 200,
            handler: || routing::get(list_channels),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/users",
            summary: "List staff users (filters: q, role)",
            permission: Some(Permission::UsersManage),
            body: None,
            success: 200,
            handler: || routing::get(list_users),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/users",
            summary: "Create a staff user (honours Idempotency-Key)",
            permission: Some(Permission::UsersManage),
            body: Some(schemas::of::<NewUser>),
            success: 201,
            handler: || routing::post(create_user),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/users/{id}",
            summary: "One staff user",
            permission: Some(Permission::UsersManage),
            body: None,
            success: 200,
            handler: || routing::get(get_user),
        },
        ApiRoute {
            method: "patch",
            path: "/api/v1/users/{id}",
            summary: "Change a user's role, scope or active flag (optimistic version check); 200 applied, or 202 with the pending change when the role_change approval policy holds a new role for a second administrator",
            permission: Some(Permission::UsersManage),
            body: Some(schemas::of::<UserUpdate>),
            success: 200,
            handler: || routing::patch(update_user),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/users/{id}/password",
            summary: "Set a user's password; their sessions end",
            permission: Some(Permission::UsersManage),
            body: Some(schemas::of::<NewPassword>),
            success: 204,
            handler: || routing::put(set_password),
        },
        ApiRoute {
            method: "put",
            path: "/api/v1/me/password",
            summary: "Change your own password (a signed-in person, any role; not a token); your other sessions end",
            permission: Some(Permission::AccountOwn),
            body: Some(schemas::of::<PasswordChange>),
            success: 204,
            handler: || routing::put(change_own_password),
        },
        ApiRoute {
            method: "post",
            path: "/api/v1/tokens",
            summary: "Issue an API token; the secret is returned once",
            permission: Some(Permission::TokensManage),
            body: Some(schemas::of::<NewToken>),
            success: 201,
            handler: || routing::post(create_token),
        },
        ApiRoute {
            method: "delete",
            path: "/api/v1/tokens/{id}",
            summary: "Revoke an API token",
            permission: Some(Permission::TokensManage),
            body: None,
            success: 204,
            handler: || routing::delete(revoke_token),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/audit",
            summary: "The audit log (filters: entity, entity_id, actor, from, to)",
            permission: Some(Permission::AuditRead),
            body: None,
            success: 200,
            handler: || routing::get(list_audit),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/events",
            summary: "Events after a sequence number, oldest first",
            permission: Some(Permission::EventsRead),
            body: None,
            success: 200,
            handler: || routing::get(list_events),
        },
        ApiRoute {
            method: "get",
            path: "/api/v1/events/stream",
            summary: "Live events as server-sent events (resumes from Last-Event-ID)",
            permission: Some(Permission::EventsRead),
            body: None,
            success: 200,
            handler: || routing::get(event_stream),
        },
    ]
}
