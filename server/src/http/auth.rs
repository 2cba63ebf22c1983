//! Authentication and page access. Every request gets a `RequestCtx` (the
//! actor from a bearer token or the session cookie, plus the request id).
//! Pages and server functions are then checked against `ACCESS`, the table of
//! which path needs which permission; the use cases check again, so no door can
//! skip authorization.

use super::credentials::{actor_for, cookie, PORTAL_COOKIE};
use app::ssr::{AppState, RequestCtx};
use axum::{
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use domain::governance::Permission;

/// What a path needs. `None` means public.
pub const ACCESS: &[(&str, Option<Permission>)] = &[
    ("/command/users", Some(Permission::UsersManage)),
    ("/command/audit", Some(Permission::AuditRead)),
    ("/command/approvals", Some(Permission::CommandView)),
    ("/command/approvals/policies", Some(Permission::UsersManage)),
    ("/sfn/approvals_page", Some(Permission::CommandView)),
    ("/command/privacy", Some(Permission::PrivacyManage)),
    ("/sfn/privacy_page", Some(Permission::PrivacyManage)),
    ("/command", Some(Permission::CommandView)),
    ("/command/products/new", Some(Permission::CatalogWrite)),
    ("/command/catalog", Some(Permission::CatalogWrite)),
    ("/floor", Some(Permission::FloorUse)),
    ("/sfn/me", None),
    ("/sfn/portal_view", None),
    ("/sfn/recent_events", Some(Permission::EventsRead)),
    ("/sfn/audit_page", Some(Permission::AuditRead)),
    ("/sfn/users_page", Some(Permission::UsersManage)),
    ("/sfn/overview", Some(Permission::CommandView)),
    ("/sfn/scan", Some(Permission::FloorUse)),
    ("/sfn/products_page", Some(Permission::InventoryRead)),
    ("/sfn/product_detail", Some(Permission::InventoryRead)),
    ("/sfn/import_status", Some(Permission::CatalogWrite)),
    ("/sfn/counts_page", Some(Permission::InventoryRead)),
    ("/sfn/count_detail", Some(Permission::InventoryRead)),
    ("/sfn/my_warehouses", Some(Permission::InventoryRead)),
    ("/sfn/transfers_page", Some(Permission::InventoryRead)),
    ("/sfn/orders_page", Some(Permission::OrdersRead)),
    ("/sfn/orders_by_id", Some(Permission::OrdersRead)),
    ("/sfn/order_detail", Some(Permission::OrdersRead)),
    ("/command/orders", Some(Permission::OrdersRead)),
    ("/command/orders/import", Some(Permission::OrdersWrite)),
    ("/sfn/report_channels", Some(Permission::OrdersWrite)),
    ("/sfn/report_import_status", Some(Permission::OrdersWrite)),
    ("/command/prices", Some(Permission::OrdersRead)),
    ("/sfn/price_list_page", Some(Permission::OrdersRead)),
    ("/command/sourcing", Some(Permission::OrdersRead)),
    ("/sfn/sourcing_page", Some(Permission::OrdersRead)),
    ("/sfn/pick_start", Some(Permission::FloorUse)),
    ("/sfn/wave_view", Some(Permission::FloorUse)),
    ("/sfn/pack_queue", Some(Permission::FloorUse)),
    ("/sfn/pack_screen", Some(Permission::FloorUse)),
    ("/sfn/queued_scan", Some(Permission::FloorUse)),
    ("/sfn/receive_start", Some(Permission::FloorUse)),
    ("/sfn/delivery_screen", Some(Permission::FloorUse)),
    ("/command/fulfilment", Some(Permission::OrdersRead)),
    ("/sfn/fulfillment_status", Some(Permission::OrdersRead)),
    ("/sfn/exceptions_page", Some(Permission::ExceptionsRead)),
    ("/sfn/exception_counts", Some(Permission::ExceptionsRead)),
    ("/sfn/kpis_page", Some(Permission::KpisRead)),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Public,
    Needs(Permission),
    /// A server function missing from `ACCESS`: refused for everyone, so a new
    /// one can't go live without a decision about who may call it.
    Unlisted,
}

/// The rule for a request. API routes and webhooks follow the permission
/// declared with them (`http::api::ROUTES`); a path under `/api/v1` that no
/// declaration serves is not routed either and gets the API's 404. Pages and
/// server functions follow `ACCESS`.
pub fn rule_for_request(method: &str, path: &str) -> Rule {
    if path.starts_with("/api/v1/") || path.starts_with("/webhooks/") {
        return super::declare::find(&super::api::ROUTES, method, path)
            .map(|r| r.permission.map_or(Rule::Public, Rule::Needs))
            .unwrap_or(Rule::Public);
    }
    rule_for(path)
}

/// The rule for a page or server-function path: the longest matching prefix in `ACCESS`.
pub fn rule_for(path: &str) -> Rule {
    let hit = ACCESS
        .iter()
        .filter(|(prefix, _)| path == *prefix || path.starts_with(&format!("{prefix}/")))
        .max_by_key(|(p, _)| p.len());
    match hit {
        Some((_, Some(permission))) => Rule::Needs(*permission),
        Some((_, None)) => Rule::Public,
        None if path.starts_with("/sfn/") => Rule::Unlisted,
        None => Rule::Public,
    }
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let actor = actor_for(&state, req.headers()).await;
    let portal = cookie(req.headers(), PORTAL_COOKIE).map(str::to_string);
    req.extensions_mut().insert(RequestCtx {
        actor,
        request_id,
        portal,
    });
    next.run(req).await
}

/// Refuses pages and server functions the caller may not use: 401 with a way to
/// sign in when nobody is signed in, 403 naming the missing permission otherwise.
pub async fn guard(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let permission = match rule_for_request(req.method().as_str(), &path) {
        Rule::Public => return next.run(req).await,
        Rule::Unlisted => {
            tracing::error!(path, "server function has no access rule");
            return super::error::ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this function has no access rule",
            )
            .into_response();
        }
        Rule::Needs(permission) => permission,
    };
    let Some(ctx) = req.extensions().get::<RequestCtx>() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let wants_json = path.starts_with("/sfn/") || path.starts_with("/api/");
    if !ctx.actor.is_authenticated() {
        if wants_json {
            return super::error::ApiError::from(backend::Error::Unauthenticated).into_response();
        }
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/command");
        let next_url = format!("/signin?next={}", app::components::url::urlencode(target));
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={next_url}\"><title>Sign in · Keel</title></head>\
             <body><main><h1>Sign in to continue</h1><p><a href=\"{next_url}\">Sign in</a> to open this page.</p></main></body></html>"
        );
        return (StatusCode::UNAUTHORIZED, Html(body)).into_response();
    }
    if !ctx.actor.may(permission) {
        if wants_json {
            return super::error::ApiError::from(backend::Error::Forbidden { permission })
                .into_response();
        }
        let role = ctx.actor.role.map(|r| r.label()).unwrap_or("your account");
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not allowed · Keel</title></head>\
             <body><main><h1>You don't have access to this page</h1><p>{role} lacks the <code>{permission}</code> permission. \
             Ask an administrator, or go <a href=\"/\">back to the start</a>.</p></main></body></html>"
        );
        return (StatusCode::FORBIDDEN, Html(body)).into_response();
    }
    next.run(req).await
}
