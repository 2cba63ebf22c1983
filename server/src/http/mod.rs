//! The HTTP surface: `/api/v1`, the form handlers, health and metrics, and the
//! Leptos pages and server functions, behind request ids, tracing, metrics,
//! authentication and the access guard.

pub mod api;
pub mod api_exceptions;
pub mod api_floor;
pub mod api_inventory;
pub mod api_orders;
pub mod auth;
pub mod error;
pub mod extract;
pub mod forms;
pub mod forms_exceptions;
pub mod forms_floor;
pub mod forms_inventory;
pub mod forms_orders;

use std::time::Instant;

use app::{shell, ssr::AppState, App};
use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderName, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub fn router(state: AppState) -> Router {
    use api_exceptions as ax;
    use api_floor as fl;
    use api_inventory as inv;
    use api_orders as ao;
    use forms_exceptions as fx;
    use forms_floor as ff;
    use forms_inventory as fi;
    use forms_orders as fo;
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let api = Router::new()
        .route(
            "/openapi.json",
            get(|| async { Json(crate::openapi::document()) }),
        )
        .route("/me", get(api::me))
        .route(
            "/warehouses",
            get(api::list_warehouses).post(api::create_warehouse),
        )
        .route("/channels/{code}/availability", get(inv::availability))
        .route("/channels/{code}/safety-buffer", put(inv::set_buffer))
        .route("/channels/{code}/warehouses", put(ao::set_warehouses))
        .route(
            "/channels/{code}/sourcing/dry-run",
            post(ao::sourcing_dry_run),
        )
        .route(
            "/fulfillments/source-backorders",
            post(ao::source_backorders),
        )
        .route(
            "/warehouses/{code}/locations",
            get(inv::list_locations).post(inv::create_location),
        )
        .route(
            "/products",
            get(inv::list_products).post(inv::create_product),
        )
        .route(
            "/products/{sku}",
            get(inv::get_product).put(inv::update_product),
        )
        .route("/catalog/export", get(inv::export_catalog))
        .route(
            "/catalog/imports",
            post(inv::import_catalog).layer(DefaultBodyLimit::max(extract::IMPORT_LIMIT)),
        )
        .route("/catalog/imports/{id}", get(inv::get_import))
        .route("/stock/receipts", post(inv::receive))
        .route("/stock/adjustments", post(inv::adjust))
        .route(
            "/stock/transfers",
            get(inv::list_transfers).post(inv::create_transfer),
        )
        .route("/stock/transfers/{id}", get(inv::get_transfer))
        .route("/stock/transfers/{id}/receive", post(inv::receive_transfer))
        .route("/stock/{sku}", get(inv::stock))
        .route("/stock/{sku}/bins", get(inv::bins))
        .route(
            "/stock/{sku}/reorder-points/{warehouse}",
            put(inv::set_reorder_point),
        )
        .route("/stock/{sku}/movements", get(inv::movements))
        .route("/reservations", post(inv::reserve))
        .route(
            "/reservations/{id}",
            get(inv::get_reservation).delete(inv::release),
        )
        .route("/reservations/{id}/consume", post(inv::consume))
        .route("/counts", get(inv::list_counts).post(inv::open_count))
        .route("/counts/{id}", get(inv::get_count))
        .route("/counts/{id}/scans", post(inv::count_scan))
        .route("/counts/{id}/submit", post(inv::submit_count))
        .route("/counts/{id}/approve", post(inv::approve_count))
        .route("/counts/{id}/reject", post(inv::reject_count))
        .route("/inventory/accuracy", get(inv::accuracy))
        .route("/floor/status", get(fl::status))
        .route("/waves", get(fl::list_waves).post(fl::build_wave))
        .route("/waves/{id}", get(fl::get_wave))
        .route("/waves/{id}/scans", post(fl::pick_scan))
        .route("/waves/{id}/short", post(fl::short_pick))
        .route(
            "/deliveries",
            get(fl::list_deliveries).post(fl::create_delivery),
        )
        .route("/deliveries/{id}", get(fl::get_delivery))
        .route("/deliveries/{id}/scans", post(fl::receive_scan))
        .route("/deliveries/{id}/pending", delete(fl::clear_receive_scan))
        .route("/deliveries/{id}/close", post(fl::close_delivery))
        .route("/fulfillments/{id}", get(fl::pack_view))
        .route("/fulfillments/{id}/pack-scans", post(fl::pack_scan))
        .route("/fulfillments/{id}/packages/{seq}", put(fl::measure))
        .route("/fulfillments/{id}/ship", post(fl::ship))
        .route("/shipments/{id}", get(fl::get_shipment))
        .route("/shipments/{id}/label", get(fl::label))
        .route(
            "/channels",
            get(api::list_channels).post(ao::create_channel),
        )
        .route("/orders", get(ao::list_orders).post(ao::capture_order))
        .route("/orders/bulk", post(ao::bulk))
        .route("/orders/views", get(ao::list_views).post(ao::save_view))
        .route("/orders/{id}", get(ao::get_order))
        .route("/orders/{id}/holds", post(ao::place_hold))
        .route("/orders/{id}/holds/{hold}/release", post(ao::release_hold))
        .route("/orders/{id}/cancel", post(ao::cancel))
        .route(
            "/channels/{code}/order-reports",
            post(ao::import_report).layer(DefaultBodyLimit::max(extract::IMPORT_LIMIT)),
        )
        .route("/order-reports/{id}", get(ao::get_report_import))
        .route(
            "/channels/{code}/prices",
            get(ao::channel_prices).put(ao::set_channel_prices),
        )
        .route("/orders/{id}/lines/{line}/cancel", post(ao::cancel_line))
        .route("/orders/{id}/address", put(ao::change_address))
        .route("/orders/{id}/notes", post(ao::add_note))
        .route("/orders/{id}/tags", post(ao::tag))
        .route("/users", get(api::list_users).post(api::create_user))
        .route("/users/{id}", get(api::get_user).patch(api::update_user))
        .route("/users/{id}/password", put(api::set_password))
        .route("/tokens", post(api::create_token))
        .route("/tokens/{id}", delete(api::revoke_token))
        .route("/audit", get(api::list_audit))
        .route("/events", get(api::list_events))
        .route("/events/stream", get(api::event_stream))
        .route("/exceptions", get(ax::list))
        .route("/exceptions/summary", get(ax::summary))
        .route("/exceptions/{id}", get(ax::get))
        .route("/exceptions/{id}/assign", post(ax::assign))
        .route("/exceptions/{id}/snooze", post(ax::snooze))
        .route("/exceptions/{id}/resolve", post(ax::resolve))
        .route("/kpis", get(ax::kpis))
        .fallback(|| async {
            error::ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such API route; see /api/v1/openapi.json",
            )
        });

    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api)
        .route("/webhooks/shopify/{channel}", post(ao::shopify))
        .route("/webhooks/woocommerce/{channel}", post(ao::woocommerce))
        .route("/signin", post(forms::sign_in))
        .route("/signout", post(forms::sign_out))
        .route("/command/users", post(forms::create_user))
        .route("/command/exceptions/{id}/assign", post(fx::assign))
        .route("/command/exceptions/{id}/snooze", post(fx::snooze))
        .route("/command/exceptions/{id}/resolve", post(fx::resolve))
        .route("/command/users/{id}", post(forms::update_user))
        .route("/command/products", post(fi::create_product))
        .route("/command/products/{sku}", post(fi::update_product))
        .route("/command/products/{sku}/receive", post(fi::receive))
        .route("/command/products/{sku}/adjust", post(fi::adjust))
        .route(
            "/command/products/{sku}/reorder-point",
            post(fi::set_reorder_point),
        )
        .route(
            "/command/catalog/import",
            post(fi::upload_import).layer(DefaultBodyLimit::max(extract::IMPORT_LIMIT)),
        )
        .route("/command/catalog/import/{id}/start", post(fi::start_import))
        .route("/command/transfers", post(fi::create_transfer))
        .route("/command/transfers/{id}/receive", post(fi::receive_transfer))
        .route("/command/counts/{id}/approve", post(fi::approve_count))
        .route("/command/counts/{id}/reject", post(fi::reject_count))
        .route("/command/orders/bulk", post(fo::bulk))
        .route("/command/orders/views", post(fo::save_view))
        .route("/command/orders/{id}/holds/{hold}/release", post(fo::release_hold))
        .route("/command/orders/{id}/hold", post(fo::place_hold))
        .route("/command/orders/{id}/cancel", post(fo::cancel))
        .route(
            "/command/orders/import",
            post(fo::upload_report).layer(DefaultBodyLimit::max(extract::IMPORT_LIMIT)),
        )
        .route("/command/orders/import/{id}/mapping", post(fo::remap_report))
        .route("/command/orders/import/{id}/start", post(fo::start_report))
        .route("/command/orders/{id}/lines/cancel", post(fo::cancel_line))
        .route("/command/orders/{id}/note", post(fo::add_note))
        .route("/command/prices", post(fo::set_price))
        .route("/command/sourcing/apply", post(fo::apply_sourcing))
        .route("/command/sourcing/source", post(fo::source_now))
        .route("/command/orders/{id}/tags", post(fo::tag))
        .route("/command/orders/{id}/address", post(fo::change_address))
        .route("/floor/pick", post(ff::start_wave))
        .route("/floor/pick/{id}/scan", post(ff::pick_scan))
        .route("/floor/pick/{id}/short", post(ff::short_pick))
        .route("/floor/pack", post(ff::open_pack))
        .route("/floor/pack/{id}/scan", post(ff::pack_scan))
        .route("/floor/pack/{id}/packages/{seq}", post(ff::measure))
        .route("/floor/pack/{id}/ship", post(ff::ship))
        .route("/floor/receive", post(ff::receive_blind))
        .route("/floor/receive/{id}/scan", post(ff::receive_scan))
        .route("/floor/receive/{id}/clear", post(ff::receive_clear))
        .route("/floor/receive/{id}/close", post(ff::receive_close))
        .route("/floor/count", post(fi::floor_open_count))
        .route("/floor/count/{id}/scan", post(fi::floor_count_scan))
        .route("/floor/count/{id}/submit", post(fi::floor_submit_count))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .leptos_routes_with_context(&state, routes, { let s = state.clone(); move || provide_context(s.clone()) }, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(auth::guard))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(observe))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let res = next.run(req).await;
    crate::metrics().observe(res.status().as_u16(), started.elapsed().as_micros() as u64);
    res
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let seq = *state.db.subscribe_events().borrow();
    let body = crate::metrics().render(seq, state.db.pool.size(), state.db.pool.num_idle());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
