//! The HTML form handlers, one file per context. They follow
//! post/redirect/get, with errors and notices in the query string, so every
//! page works the same with JavaScript off. The forms router is wrapped once
//! in the same-origin guard ([`common::same_origin_only`]).

pub mod analytics;
pub mod approvals;
pub mod common;
pub mod fulfillment;
pub mod governance;
pub mod inventory;
pub mod orders;
pub mod privacy;

use app::ssr::AppState;
use axum::{
    extract::DefaultBodyLimit,
    routing::{post, MethodRouter},
    Router,
};

use crate::http::extract::IMPORT_LIMIT;

/// A form's address and handler. Who may post it is the page's rule in
/// `auth::ACCESS` (its longest matching prefix).
pub struct FormRoute {
    pub path: &'static str,
    pub handler: fn() -> MethodRouter<AppState>,
}

/// Every form the server accepts.
pub const ROUTES: &[FormRoute] = &[
    FormRoute {
        path: "/signin",
        handler: || post(governance::sign_in),
    },
    FormRoute {
        path: "/signout",
        handler: || post(governance::sign_out),
    },
    FormRoute {
        path: "/account/password",
        handler: || post(governance::change_password),
    },
    FormRoute {
        path: "/portal",
        handler: || post(orders::portal_lookup),
    },
    FormRoute {
        path: "/portal/done",
        handler: || post(orders::portal_done),
    },
    FormRoute {
        path: "/command/users",
        handler: || post(governance::create_user),
    },
    FormRoute {
        path: "/command/exceptions/{id}/assign",
        handler: || post(analytics::assign),
    },
    FormRoute {
        path: "/command/exceptions/{id}/snooze",
        handler: || post(analytics::snooze),
    },
    FormRoute {
        path: "/command/exceptions/{id}/resolve",
        handler: || post(analytics::resolve),
    },
    FormRoute {
        path: "/command/approvals/{id}/approve",
        handler: || post(approvals::approve),
    },
    FormRoute {
        path: "/command/approvals/{id}/reject",
        handler: || post(approvals::reject),
    },
    FormRoute {
        path: "/command/approvals/policies/{kind}",
        handler: || post(approvals::set_policy),
    },
    FormRoute {
        path: "/command/privacy/export",
        handler: || post(privacy::export),
    },
    FormRoute {
        path: "/command/privacy/erase",
        handler: || post(privacy::erase),
    },
    FormRoute {
        path: "/command/users/{id}",
        handler: || post(governance::update_user),
    },
    FormRoute {
        path: "/command/products",
        handler: || post(inventory::create_product),
    },
    FormRoute {
        path: "/command/products/{sku}",
        handler: || post(inventory::update_product),
    },
    FormRoute {
        path: "/command/products/{sku}/receive",
        handler: || post(inventory::receive),
    },
    FormRoute {
        path: "/command/products/{sku}/adjust",
        handler: || post(inventory::adjust),
    },
    FormRoute {
        path: "/command/products/{sku}/reorder-point",
        handler: || post(inventory::set_reorder_point),
    },
    FormRoute {
        path: "/command/catalog/import",
        handler: || post(inventory::upload_import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
    },
    FormRoute {
        path: "/command/catalog/import/{id}/start",
        handler: || post(inventory::start_import),
    },
    FormRoute {
        path: "/command/transfers",
        handler: || post(inventory::create_transfer),
    },
    FormRoute {
        path: "/command/transfers/{id}/receive",
        handler: || post(inventory::receive_transfer),
    },
    FormRoute {
        path: "/command/counts/{id}/approve",
        handler: || post(inventory::approve_count),
    },
    FormRoute {
        path: "/command/counts/{id}/reject",
        handler: || post(inventory::reject_count),
    },
    FormRoute {
        path: "/command/orders/bulk",
        handler: || post(orders::bulk),
    },
    FormRoute {
        path: "/command/orders/views",
        handler: || post(orders::save_view),
    },
    FormRoute {
        path: "/command/orders/{id}/holds/{hold}/release",
        handler: || post(orders::release_hold),
    },
    FormRoute {
        path: "/command/orders/{id}/hold",
        handler: || post(orders::place_hold),
    },
    FormRoute {
        path: "/command/orders/{id}/cancel",
        handler: || post(orders::cancel),
    },
    FormRoute {
        path: "/command/orders/import",
        handler: || post(orders::upload_report).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
    },
    FormRoute {
        path: "/command/orders/import/{id}/mapping",
        handler: || post(orders::remap_report),
    },
    FormRoute {
        path: "/command/orders/import/{id}/start",
        handler: || post(orders::start_report),
    },
    FormRoute {
        path: "/command/orders/{id}/lines/cancel",
        handler: || post(orders::cancel_line),
    },
    FormRoute {
        path: "/command/orders/{id}/note",
        handler: || post(orders::add_note),
    },
    FormRoute {
        path: "/command/prices",
        handler: || post(orders::set_price),
    },
    FormRoute {
        path: "/command/sourcing/apply",
        handler: || post(orders::apply_sourcing),
    },
    FormRoute {
        path: "/command/sourcing/source",
        handler: || post(orders::source_now),
    },
    FormRoute {
        path: "/command/orders/{id}/tags",
        handler: || post(orders::tag),
    },
    FormRoute {
        path: "/command/orders/{id}/address",
        handler: || post(orders::change_address),
    },
    FormRoute {
        path: "/floor/pick",
        handler: || post(fulfillment::start_wave),
    },
    FormRoute {
        path: "/floor/pick/{id}/scan",
        handler: || post(fulfillment::pick_scan),
    },
    FormRoute {
        path: "/floor/pick/{id}/short",
        handler: || post(fulfillment::short_pick),
    },
    FormRoute {
        path: "/floor/pack",
        handler: || post(fulfillment::open_pack),
    },
    FormRoute {
        path: "/floor/pack/{id}/scan",
        handler: || post(fulfillment::pack_scan),
    },
    FormRoute {
        path: "/floor/pack/{id}/packages/{seq}",
        handler: || post(fulfillment::measure),
    },
    FormRoute {
        path: "/floor/pack/{id}/ship",
        handler: || post(fulfillment::ship),
    },
    FormRoute {
        path: "/floor/receive",
        handler: || post(fulfillment::receive_blind),
    },
    FormRoute {
        path: "/floor/receive/{id}/scan",
        handler: || post(fulfillment::receive_scan),
    },
    FormRoute {
        path: "/floor/receive/{id}/clear",
        handler: || post(fulfillment::receive_clear),
    },
    FormRoute {
        path: "/floor/receive/{id}/close",
        handler: || post(fulfillment::receive_close),
    },
    FormRoute {
        path: "/floor/count",
        handler: || post(inventory::floor_open_count),
    },
    FormRoute {
        path: "/floor/count/{id}/scan",
        handler: || post(inventory::floor_count_scan),
    },
    FormRoute {
        path: "/floor/count/{id}/submit",
        handler: || post(inventory::floor_submit_count),
    },
];

/// The forms.
pub fn router() -> Router<AppState> {
    ROUTES.iter().fold(Router::new(), |router, r| {
        router.route(r.path, (r.handler)())
    })
}
