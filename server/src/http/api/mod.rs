//! `/api/v1` and the storefront webhooks: one file per context, each
//! declaring its routes with their permissions and OpenAPI descriptions
//! beside the handlers ([`ROUTES`] gathers them).

pub mod analytics;
pub mod approvals;
pub mod fulfillment;
pub mod governance;
pub mod inventory;
pub mod orders;
pub mod privacy;

use std::{ops::Deref, sync::LazyLock};

use axum::{routing::get, Json};

use crate::http::declare::ApiRoute;

/// Every declared route: the router, the access gate and the OpenAPI
/// document all read this.
pub const ROUTES: Routes = Routes;

/// The declared routes as one list. A unit value so that `for r in ROUTES`
/// and `ROUTES.iter()` read the same list, built once.
#[derive(Clone, Copy)]
pub struct Routes;

static ALL: LazyLock<Vec<ApiRoute>> = LazyLock::new(|| {
    let mut all = vec![ApiRoute {
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This document",
        permission: None,
        body: None,
        success: 200,
        handler: || get(|| async { Json(crate::openapi::document(&ALL)) }),
    }];
    all.extend(governance::routes());
    all.extend(inventory::routes());
    all.extend(orders::routes());
    all.extend(fulfillment::routes());
    all.extend(analytics::routes());
    all.extend(approvals::routes());
    all.extend(privacy::routes());
    all
});

impl Deref for Routes {
    type Target = [ApiRoute];
    fn deref(&self) -> &[ApiRoute] {
        &ALL
    }
}

impl IntoIterator for Routes {
    type Item = &'static ApiRoute;
    type IntoIter = std::slice::Iter<'static, ApiRoute>;
    fn into_iter(self) -> Self::IntoIter {
        ALL.iter()
    }
}
