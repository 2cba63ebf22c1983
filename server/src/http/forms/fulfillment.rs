//! Form handlers for the floor's pick and pack screens: each posts one scan
//! or step, then redirects back with the answer in words (`notice` when
//! accepted, `error` when refused), so the screens work without JavaScript
//! and a keyboard-wedge scanner drives them with Enter.

use std::collections::HashMap;

use app::{components::url::urlencode, ssr::AppState};
use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use backend::{
    fulfillment::{
        self, MeasureInput, PackScanInput, PackageTracking, ScanInput, ShipInput, ShortInput,
        WaveInput,
    },
    receiving::{self, DeliveryInput},
    Ctx, Error, Idempotency,
};
use domain::{views::ScanOutcome, FieldError};
use serde::Deserialize;

use crate::http::{
    extract::Caller,
    forms::common::{message, refused, to, whole},
};

/// The form's key as an idempotency key over where it was sent (the form
/// and its record) and what it sent, so a repeated submission of one
/// rendered form replays its first answer and nothing else does.
fn form_key(key: &str, target: &str, body: &str) -> Option<Idempotency> {
    Idempotency::new(key, target, body.as_bytes()).ok()
}

fn answer<T>(page: &str, ctx: &Ctx, result: Result<ScanOutcome<T>, Error>) -> Response {
    match result {
        Ok(o) if o.accepted => to(page, "notice", &o.message),
        Ok(o) => to(page, "error", &o.message),
        Err(err) => to(page, "error", &message(ctx, err)),
    }
}

#[derive(Deserialize)]
pub struct StartWaveForm {
    warehouse: String,
    #[serde(default)]
    max_orders: String,
    #[serde(default)]
    express_only: Option<String>,
}

pub async fn start_wave(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<StartWaveForm>,
) -> Response {
    let max_orders = match form.max_orders.trim() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return to(
                    "/floor/pick",
                    "error",
                    "Orders at most: enter a whole number",
                )
            }
        },
    };
    let input = WaveInput {
        warehouse: form.warehouse,
        max_orders,
        express_only: form.express_only.is_some(),
    };
    match fulfillment::build_wave(&state.db, &ctx, input, None).await {
        Ok(w) => Redirect::to(&format!("/floor/pick/{}", w.id)).into_response(),
        Err(err) => to("/floor/pick", "error", &message(&ctx, err)),
    }
}

#[derive(Deserialize)]
pub struct ScanForm {
    code: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    package: String,
}

pub async fn pick_scan(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<ScanForm>,
) -> Response {
    let page = format!("/floor/pick/{}", urlencode(&id));
    let idem = form_key(&form.key, &format!("pick-scan {id}"), &form.code);
    let input = ScanInput { code: form.code };
    answer(
        &page,
        &ctx,
        fulfillment::pick_scan(&state.db, &ctx, &id, input, idem.as_ref()).await,
    )
}

#[derive(Deserialize)]
pub struct ShortForm {
    picked: String,
    reason: String,
    #[serde(default)]
    key: String,
}

pub async fn short_pick(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<ShortForm>,
) -> Response {
    let page = format!("/floor/pick/{}", urlencode(&id));
    // The short form's two fields: a refusal stands beside the one it is
    // about, and the form opens again with the count that was typed.
    let fields = [("picked", "picked"), ("reason", "reason")];
    let typed = [("picked", form.picked.as_str())];
    let picked = match whole("picked", &form.picked) {
        Ok(n) => n,
        Err(e) => return refused(&ctx, &page, Error::Invalid(vec![e]), &fields, &typed),
    };
    let idem = form_key(
        &form.key,
        &format!("short-pick {id}"),
        &format!("{picked}:{}", form.reason),
    );
    let input = ShortInput {
        picked,
        reason: form.reason,
    };
    match fulfillment::short_pick(&state.db, &ctx, &id, input, idem.as_ref()).await {
        Err(err) => refused(&ctx, &page, err, &fields, &typed),
        result => answer(&page, &ctx, result),
    }
}

#[derive(Deserialize)]
pub struct OpenPackForm {
    code: String,
}

pub async fn open_pack(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<OpenPackForm>,
) -> Response {
    match fulfillment::pack_view(&state.db, &ctx, &form.code).await {
        Ok(p) => Redirect::to(&format!("/floor/pack/{}", p.fulfillment_id)).into_response(),
        Err(err) => to("/floor/pack", "error", &message(&ctx, err)),
    }
}

pub async fn pack_scan(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<ScanForm>,
) -> Response {
    let package = match form.package.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return to(
                    &format!("/floor/pack/{}", urlencode(&id)),
                    "error",
                    &format!("package “{text}” is not a package number; choose a package"),
                )
            }
        },
    };
    let page = match package {
        Some(n) => format!("/floor/pack/{}?package={n}", urlencode(&id)),
        None => format!("/floor/pack/{}", urlencode(&id)),
    };
    let idem = form_key(
        &form.key,
        &format!("pack-scan {id}"),
        &format!("{}:{}", form.code, form.package),
    );
    let input = PackScanInput {
        code: form.code,
        package,
    };
    answer(
        &page,
        &ctx,
        fulfillment::pack_scan(&state.db, &ctx, &id, input, idem.as_ref()).await,
    )
}

#[derive(Deserialize)]
pub struct MeasureForm {
    weight_g: String,
    length_mm: String,
    width_mm: String,
    height_mm: String,
}

pub async fn measure(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path((id, seq)): Path<(String, i64)>,
    Form(form): Form<MeasureForm>,
) -> Response {
    let page = format!("/floor/pack/{}", urlencode(&id));
    // Each package's fields are named with its number on the page.
    let name = |field: &str| format!("{field}_{seq}");
    let (weight, dims) = (name("weight_g"), name("dimensions"));
    let (length, width, height) = (name("length_mm"), name("width_mm"), name("height_mm"));
    let fields = [("weight_g", weight.as_str()), ("dimensions", dims.as_str())];
    let typed = [
        (weight.as_str(), form.weight_g.as_str()),
        (length.as_str(), form.length_mm.as_str()),
        (width.as_str(), form.width_mm.as_str()),
        (height.as_str(), form.height_mm.as_str()),
    ];
    let input = match (
        whole("weight_g", &form.weight_g),
        whole("dimensions", &form.length_mm),
        whole("dimensions", &form.width_mm),
        whole("dimensions", &form.height_mm),
    ) {
        (Ok(weight_g), Ok(length_mm), Ok(width_mm), Ok(height_mm)) => MeasureInput {
            weight_g,
            length_mm,
            width_mm,
            height_mm,
        },
        (w, l, wi, h) => {
            let mut errors: Vec<FieldError> = w.err().into_iter().collect();
            // One message for the sides, as the rule gives it.
            errors.extend([l.err(), wi.err(), h.err()].into_iter().flatten().take(1));
            return refused(&ctx, &page, Error::Invalid(errors), &fields, &typed);
        }
    };
    match fulfillment::measure_package(&state.db, &ctx, &id, seq, input).await {
        Ok(_) => to(
            &page,
            "notice",
            &format!("Package {seq} weighed and measured."),
        ),
        Err(err) => refused(&ctx, &page, err, &fields, &typed),
    }
}

/// Carrier, service, and `tracking_<n>` for each package n.
pub async fn ship(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let page = format!("/floor/pack/{}", urlencode(&id));
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut packages: Vec<PackageTracking> = form
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("tracking_")?.parse::<i64>().ok()?;
            Some(PackageTracking {
                package: n,
                tracking: v.clone(),
            })
        })
        .collect();
    packages.sort_by_key(|p| p.package);
    let body = packages
        .iter()
        .map(|p| format!("{}={}", p.package, p.tracking))
        .collect::<Vec<_>>()
        .join("&");
    let idem = form_key(
        &field("key"),
        &format!("ship {id}"),
        &format!("{}:{}:{body}", field("carrier"), field("service")),
    );
    let input = ShipInput {
        carrier: field("carrier"),
        service: field("service"),
        packages,
    };
    match fulfillment::ship(&state.db, &ctx, &id, input, idem.as_ref()).await {
        Ok(s) => to(
            &page,
            "notice",
            &format!(
                "Shipped {} with {} package(s). Print the label.",
                s.number,
                s.packages.len()
            ),
        ),
        Err(err) => to(&page, "error", &message(&ctx, err)),
    }
}

#[derive(Deserialize)]
pub struct BlindForm {
    warehouse: String,
    #[serde(default)]
    supplier: String,
}

/// Opens a blind receipt at the dock and goes to it.
pub async fn receive_blind(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<BlindForm>,
) -> Response {
    let input = DeliveryInput {
        warehouse: form.warehouse,
        supplier: Some(form.supplier),
        reference: None,
        expected_on: None,
        lines: Vec::new(),
    };
    match receiving::create_delivery(&state.db, &ctx, input, None).await {
        Ok(d) => Redirect::to(&format!("/floor/receive/{}", d.summary.id)).into_response(),
        Err(err) => to("/floor/receive", "error", &message(&ctx, err)),
    }
}

pub async fn receive_scan(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<ScanForm>,
) -> Response {
    let page = format!("/floor/receive/{}", urlencode(&id));
    let idem = form_key(&form.key, &format!("receive-scan {id}"), &form.code);
    let input = ScanInput { code: form.code };
    answer(
        &page,
        &ctx,
        receiving::receive_scan(&state.db, &ctx, &id, input, idem.as_ref()).await,
    )
}

pub async fn receive_clear(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Response {
    let page = format!("/floor/receive/{}", urlencode(&id));
    match receiving::clear_scan(&state.db, &ctx, &id).await {
        Ok(_) => to(&page, "notice", "Cleared. Scan the next item."),
        Err(err) => to(&page, "error", &message(&ctx, err)),
    }
}

pub async fn receive_close(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Response {
    let page = format!("/floor/receive/{}", urlencode(&id));
    match receiving::close_delivery(&state.db, &ctx, &id, None).await {
        Ok(d) => {
            let short = d.units_short();
            let text = if short == 0 {
                format!("Delivery {} closed.", d.summary.number)
            } else {
                format!(
                    "Delivery {} closed with {short} unit{} short.",
                    d.summary.number,
                    if short == 1 { "" } else { "s" }
                )
            };
            to(&page, "notice", &text)
        }
        Err(err) => to(&page, "error", &message(&ctx, err)),
    }
}
