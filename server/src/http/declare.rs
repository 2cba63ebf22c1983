//! One declaration per route: its method and path, who may call it, how the
//! OpenAPI document describes it, and the handler that serves it. The router,
//! the access gate and `/api/v1/openapi.json` are all read from the same
//! declarations, so they cannot disagree: a route that is not declared is not
//! routed.

use std::collections::BTreeMap;

use app::ssr::AppState;
use axum::{routing::MethodRouter, Router};
use domain::governance::Permission;
use serde_json::Value;

pub struct ApiRoute {
    /// Lower case, as OpenAPI spells it.
    pub method: &'static str,
    /// The whole path, parameters in braces (`/api/v1/orders/{id}`).
    pub path: &'static str,
    pub summary: &'static str,
    /// `None` for public routes.
    pub permission: Option<Permission>,
    pub body: Option<fn() -> Value>,
    pub success: u16,
    /// The handler for `method` alone (`|| get(list_orders)`).
    pub handler: fn() -> MethodRouter<AppState>,
}

/// The declared routes under `prefix`, with the prefix taken off their paths
/// (for nesting), each path's methods merged into one `MethodRouter`.
pub fn router(routes: &[ApiRoute], prefix: &str) -> Router<AppState> {
    let mut by_path: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    for r in routes {
        let Some(path) = r.path.strip_prefix(prefix) else {
            continue;
        };
        let handler = (r.handler)();
        let merged = match by_path.remove(path) {
            Some(existing) => existing.merge(handler),
            None => handler,
        };
        by_path.insert(path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
}

/// Whether a concrete path matches a declared template such as
/// `/api/v1/tokens/{id}`.
pub fn matches_template(template: &str, path: &str) -> bool {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) if ts.starts_with('{') || ts == ps => {}
            _ => return false,
        }
    }
}

/// The declaration a request is served by, if any.
pub fn find<'a>(routes: &'a [ApiRoute], method: &str, path: &str) -> Option<&'a ApiRoute> {
    routes
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && matches_template(r.path, path))
}
