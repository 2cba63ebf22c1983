//! HTML form handlers for the order workbench and the order page:
//! post/redirect/get with a notice or an error in the query string, so each
//! works the same with JavaScript off.

use std::net::SocketAddr;

use app::{components::url::urlencode, ssr::AppState};
use axum::{
    body::Bytes,
    extract::{ConnectInfo, Multipart, Path, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use backend::{
    governance::Outcome,
    order_import,
    orders::{self, BulkAction, OrderFilter},
    price_list, Error,
};
use domain::orders::{Address, PortalLookup, PORTAL_SESSION_SECS};
use serde::Deserialize;

use crate::http::{
    credentials::PORTAL_COOKIE,
    extract::Caller,
    forms::common::{message, read_upload, refused, remote, session_cookie, started, to, waiting},
};

fn order_path(id: &str) -> String {
    format!("/command/orders/{}", urlencode(id))
}

/// One of the order page's forms: its fields, from the use case's names to
/// the page's (each prefixed with the form's name, since the page holds
/// several forms), and what was typed into them.
struct OrderForm<'a> {
    fields: &'a [(&'a str, &'a str)],
    typed: &'a [(&'a str, &'a str)],
}

/// Redirects to the order page with a notice, or with each field's error
/// beside it (an error about no field of the form is the page's).
fn back(
    ctx: &backend::Ctx,
    id: &str,
    result: backend::Result<backend::orders::Order>,
    form: OrderForm<'_>,
    done: impl FnOnce(&backend::orders::Order) -> String,
) -> Response {
    match result {
        Ok(o) => to(&order_path(id), "notice", &done(&o)),
        Err(e) => refused(ctx, &order_path(id), e, form.fields, form.typed),
    }
}

/// A form whose only input is optional or hidden: any error is the page's.
const NO_FIELDS: OrderForm<'static> = OrderForm {
    fields: &[],
    typed: &[],
};

#[derive(Deserialize)]
pub struct ReleaseForm {
    #[serde(default)]
    note: String,
}

pub async fn release_hold(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, hold)): Path<(String, String)>,
    Form(form): Form<ReleaseForm>,
) -> Response {
    let r = orders::release_hold(&state.db, &ctx, &id, &hold, &form.note).await;
    back(&ctx, &id, r, NO_FIELDS, |o| {
        let released = o
            .hold_history
            .iter()
            .find(|h| h.id == hold)
            .map_or("the hold".to_string(), |h| h.label.clone());
        format!(
            "Released {released} on {}; it is now {}",
            o.number,
            o.status.replace('_', " ")
        )
    })
}

#[derive(Deserialize)]
pub struct HoldForm {
    #[serde(default)]
    detail: String,
}

pub async fn place_hold(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<HoldForm>,
) -> Response {
    let r = orders::place_hold(&state.db, &ctx, &id, &form.detail).await;
    let form = OrderForm {
        fields: &[("detail", "hold-detail")],
        typed: &[("hold-detail", &form.detail)],
    };
    back(&ctx, &id, r, form, |o| format!("{} is on hold", o.number))
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Response {
    let r = orders::cancel_order(&state.db, &ctx, &id, &form.reason).await;
    let form = OrderForm {
        fields: &[("reason", "cancel-reason")],
        typed: &[("cancel-reason", &form.reason)],
    };
    back(&ctx, &id, r, form, |o| {
        format!("Cancelled {}; its stock is released", o.number)
    })
}

#[derive(Deserialize)]
pub struct CancelLineForm {
    #[serde(default)]
    line: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    reason: String,
}

pub async fn cancel_line(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<CancelLineForm>,
) -> Response {
    let line = form.line.trim().parse::<i64>();
    let r = match (&line, form.quantity.trim().parse::<i64>()) {
        (Err(_), _) => Err(backend::Error::invalid(
            "line",
            "choose the line to cancel units of",
        )),
        (_, Err(_)) => Err(backend::Error::invalid(
            "quantity",
            "enter the number of units to cancel",
        )),
        (Ok(line), Ok(q)) => {
            orders::cancel_line(&state.db, &ctx, &id, *line, q, &form.reason).await
        }
    };
    let line = line.ok();
    let form = OrderForm {
        fields: &[
            ("line", "cancel_line-line"),
            ("quantity", "cancel_line-quantity"),
            ("reason", "cancel_line-reason"),
        ],
        typed: &[
            ("cancel_line-quantity", &form.quantity),
            ("cancel_line-reason", &form.reason),
        ],
    };
    back(&ctx, &id, r, form, |o| {
        match o.lines.iter().find(|l| Some(l.line_no) == line) {
            Some(l) if o.status != "cancelled" => format!(
                "Cancelled units of {} on {}; {} of {} still open",
                l.sku,
                o.number,
                l.quantity - l.cancelled_quantity,
                l.quantity
            ),
            _ => format!("Cancelled {}; its stock is released", o.number),
        }
    })
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    body: String,
}

pub async fn add_note(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Response {
    let r = orders::add_note(&state.db, &ctx, &id, &form.body).await;
    let form = OrderForm {
        fields: &[("body", "note-body")],
        typed: &[("note-body", &form.body)],
    };
    back(&ctx, &id, r, form, |_| "Note added".to_string())
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    add: String,
    #[serde(default)]
    remove: String,
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

pub async fn tag(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<TagForm>,
) -> Response {
    let r = orders::tag(&state.db, &ctx, &id, &list(&form.add), &list(&form.remove)).await;
    let form = OrderForm {
        fields: &[("add", "tags-add"), ("remove", "tags-remove")],
        typed: &[("tags-add", &form.add), ("tags-remove", &form.remove)],
    };
    back(&ctx, &id, r, form, |o| {
        if o.tags.is_empty() {
            "Tags updated; none left".to_string()
        } else {
            format!("Tags: {}", o.tags.join(", "))
        }
    })
}

#[derive(Deserialize)]
pub struct AddressForm {
    #[serde(flatten)]
    address: Address,
    #[serde(default)]
    version: Option<i64>,
}

pub async fn change_address(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<AddressForm>,
) -> Response {
    let a = form.address.clone();
    match orders::change_address(&state.db, &ctx, &id, form.address, form.version).await {
        Ok(_) => to(&order_path(&id), "notice", "Shipping address changed"),
        Err(err) => refused(
            &ctx,
            &order_path(&id),
            err,
            &[
                ("address.name", "name"),
                ("address.line1", "line1"),
                ("address.line2", "line2"),
                ("address.city", "city"),
                ("address.region", "region"),
                ("address.postcode", "postcode"),
                ("address.country", "country"),
                ("address.phone", "phone"),
            ],
            &[
                ("name", &a.name),
                ("line1", &a.line1),
                ("line2", &a.line2),
                ("city", &a.city),
                ("region", &a.region),
                ("postcode", &a.postcode),
                ("country", &a.country),
                ("phone", &a.phone),
            ],
        ),
    }
}

/// The workbench's bulk form: repeated `ids`, the action, and the list's
/// query string to return to.
pub async fn bulk(State(state): State<AppState>, Caller(ctx): Caller, body: Bytes) -> Response {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return to(
            "/command/orders",
            "error",
            "the bulk form could not be read; select the orders again",
        );
    };
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    let query = get("back");
    let list_path = if query.is_empty() {
        "/command/orders".to_string()
    } else {
        format!("/command/orders?{query}")
    };
    let action = match get("action").as_str() {
        "release_hold" => BulkAction::ReleaseHold {
            reason: Some(get("reason")).filter(|r| !r.is_empty()),
            note: get("note"),
        },
        "cancel" => BulkAction::Cancel {
            reason: get("reason"),
        },
        "tag" => BulkAction::Tag { tag: get("tag") },
        _ => {
            return to(
                &list_path,
                "error",
                "choose an action: release hold, cancel or tag",
            )
        }
    };
    if ids.is_empty() {
        return to(&list_path, "error", "select at least one order first");
    }
    // A bulk change is confirmed on its own page first, listing the orders.
    if get("confirm") != "yes" {
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        return axum::response::Redirect::to(&format!("/command/orders/confirm?{query}"))
            .into_response();
    }
    match orders::bulk(&state.db, &ctx, &ids, &action).await {
        Ok(results) => {
            let ok = results.iter().filter(|r| r.ok).count();
            let lines: Vec<String> = results
                .iter()
                .map(|r| format!("{}: {}", r.number, r.message))
                .collect();
            to(
                &list_path,
                "notice",
                &format!("{ok} of {} done. {}", results.len(), lines.join("; ")),
            )
        }
        Err(e) => to(&list_path, "error", &message(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct ViewForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    query: String,
}

pub async fn save_view(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<ViewForm>,
) -> Response {
    let list_path = if form.query.is_empty() {
        "/command/orders".to_string()
    } else {
        format!("/command/orders?{}", form.query)
    };
    let Ok(filter) = serde_urlencoded::from_str::<OrderFilter>(&form.query) else {
        return to(
            &list_path,
            "error",
            "this list's filters could not be read, so the view was not saved; filter the list again",
        );
    };
    match orders::save_view(&state.db, &ctx, &form.name, &filter).await {
        Ok(v) => to(
            &list_path,
            "notice",
            &format!("Saved the view “{}”", v.name),
        ),
        Err(e) => to(&list_path, "error", &message(&ctx, e)),
    }
}

/// The upload: the report is staged with the channel's saved columns (or
/// ones guessed from its header line) and its page shows the preview.
pub async fn upload_report(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    mut multipart: Multipart,
) -> Response {
    let back = "/command/orders/import";
    let (fields, text) = match read_upload(&mut multipart).await {
        Ok(upload) => upload,
        Err(problem) => return to(back, "error", &problem),
    };
    let channel = fields.get("channel").cloned().unwrap_or_default();
    match order_import::stage(&state.db, &ctx, &channel, &text, None).await {
        Ok((job, _)) => Redirect::to(&format!("{back}/{}", urlencode(&job.id))).into_response(),
        Err(err) => to(back, "error", &message(&ctx, err)),
    }
}

/// The mapping form: one select per order field, named by the field.
pub async fn remap_report(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<std::collections::BTreeMap<String, String>>,
) -> Response {
    let page = format!("/command/orders/import/{}", urlencode(&id));
    let mapping = form
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    match order_import::remap(&state.db, &ctx, &id, mapping).await {
        Ok(p) if p.mapping_errors.is_empty() => {
            to(&page, "notice", "Columns saved for this channel")
        }
        Ok(_) => Redirect::to(&page).into_response(),
        Err(err) => to(&page, "error", &message(&ctx, err)),
    }
}

pub async fn start_report(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Response {
    let page = format!("/command/orders/import/{}", urlencode(&id));
    let r = order_import::begin(&state.db, &ctx, &id).await;
    started(&ctx, &page, r.map(|prepared| drop(prepared.spawn())))
}

#[derive(Deserialize)]
pub struct PriceForm {
    channel: String,
    sku: String,
    #[serde(default)]
    price: String,
}

/// The price list's form: sets one SKU's channel price, or removes it when
/// the price is empty.
pub async fn set_price(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<PriceForm>,
) -> Response {
    let page = format!(
        "/command/prices?channel={}&q={}",
        urlencode(&form.channel),
        urlencode(form.sku.trim())
    );
    let price = Some(form.price.trim().to_string()).filter(|p| !p.is_empty());
    let input = domain::orders::PriceListInput {
        prices: vec![domain::orders::PriceEntryInput {
            sku: form.sku.clone(),
            price: price.clone(),
        }],
    };
    match price_list::set(&state.db, &ctx, &form.channel, &input).await {
        Ok(Outcome::Held(held)) => waiting(&page, &held),
        Ok(Outcome::Applied(c)) if c.set + c.removed == 0 => {
            to(&page, "notice", "Nothing changed: the price was already so")
        }
        Ok(Outcome::Applied(_)) => match price {
            Some(p) => to(
                &page,
                "notice",
                &format!("{} now costs {p} on {}", form.sku.trim(), form.channel),
            ),
            None => to(
                &page,
                "notice",
                &format!(
                    "{} is back at the catalogue price on {}",
                    form.sku.trim(),
                    form.channel
                ),
            ),
        },
        // The form has one entry: its fields are named as the form names them.
        Err(err) => refused(
            &ctx,
            &page,
            err,
            &[("prices[0].price", "price"), ("prices[0].sku", "sku")],
            &[("sku", form.sku.trim()), ("price", form.price.trim())],
        ),
    }
}

#[derive(Deserialize)]
pub struct SourcingForm {
    channel: String,
    #[serde(default)]
    warehouses: String,
}

/// Applies a tried warehouse priority to the channel.
pub async fn apply_sourcing(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<SourcingForm>,
) -> Response {
    let page = app::fulfillment::sourcing::page_for(&form.channel);
    let list: Vec<String> = form
        .warehouses
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    match orders::set_warehouses(&state.db, &ctx, &form.channel, &list).await {
        Ok(Outcome::Applied(c)) => to(
            &page,
            "notice",
            &format!("{} now sources from {}", c.code, c.warehouses.join(" → ")),
        ),
        Ok(Outcome::Held(held)) => waiting(&page, &held),
        Err(e) => to(&page, "error", &message(&ctx, e)),
    }
}

/// Sources every backordered line from what is spare now.
pub async fn source_now(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<SourcingForm>,
) -> Response {
    let page = app::fulfillment::sourcing::page_for(&form.channel);
    match backend::fulfillment::source_waiting(&state.db, &ctx).await {
        Ok(run) if run.orders == 0 => to(
            &page,
            "notice",
            &format!(
                "Nothing new could be sourced: {} unit(s) still wait for stock",
                run.still_backordered
            ),
        ),
        Ok(run) => to(
            &page,
            "notice",
            &format!(
                "Sourced {} unit(s) for {} order(s); {} unit(s) still wait for stock",
                run.units, run.orders, run.still_backordered
            ),
        ),
        Err(e) => to(&page, "error", &message(&ctx, e)),
    }
}

#[derive(Deserialize)]
pub struct PortalForm {
    #[serde(default)]
    order: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    detail: String,
}

/// The portal's one answer for every unproven lookup: it never says which
/// part was wrong, or whether the order exists.
const NO_MATCH: &str = "We couldn't find an order with those details. Check the order number and the email or postcode against your confirmation email and try again.";

/// The portal lookup: a proven order opens a portal session (cookie) and
/// shows the order; anything else goes back to the form. Only the order
/// number comes back into the address, never the email or postcode.
pub async fn portal_lookup(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<PortalForm>,
) -> Response {
    let typed = [("order", form.order.trim())];
    let lookup = match PortalLookup::parse(&form.order, &form.contact, &form.detail) {
        Ok(l) => l,
        Err(errors) => {
            let fields = [
                ("order", "order"),
                ("contact", "contact"),
                ("detail", "detail"),
            ];
            return refused(&ctx, "/portal", Error::Invalid(errors), &fields, &typed);
        }
    };
    let back = format!("/portal?value_order={}", urlencode(form.order.trim()));
    match orders::open_portal_session(&state.db, &ctx, &lookup, &remote(connect, &headers)).await {
        Ok(Some(session)) => {
            let mut res = Redirect::to("/portal/order").into_response();
            if let Some(v) = session_cookie(PORTAL_COOKIE, &session.secret, PORTAL_SESSION_SECS) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Ok(None) => to(&back, "error", NO_MATCH),
        Err(Error::Throttled { .. }) => to(
            &back,
            "error",
            "Too many lookups. For the safety of everyone's orders, wait 15 minutes and try again.",
        ),
        Err(err) => to(&back, "error", &message(&ctx, err)),
    }
}

/// "Done": ends this device's portal session and goes back to the lookup.
pub async fn portal_done(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = crate::http::credentials::cookie(&headers, PORTAL_COOKIE) {
        if let Err(e) = orders::close_portal_session(&state.db, &ctx, secret).await {
            tracing::error!(error = %e, "closing a portal session failed");
        }
    }
    let mut res = Redirect::to("/portal").into_response();
    if let Some(v) = session_cookie(PORTAL_COOKIE, "", 0) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}
