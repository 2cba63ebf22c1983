//! HTML form handlers for the catalogue, stock and counts pages, and for
//! counting on the floor. Post/redirect/get, with notices and per-field errors
//! in the query string, so every page works the same with JavaScript off.

use app::{components::url::urlencode, ssr::AppState};
use axum::{
    extract::{Multipart, Path, State},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use backend::{
    catalog::{self, ProductUpdate},
    governance,
    inventory::{
        self, AdjustmentInput, CountInput, CountScan, ReceiptInput, ReceiptLineInput,
        TransferInput, TransferLineInput, TransferReceipt,
    },
    Error,
};
use domain::catalog::{product_from_csv, PriceInput, ProductInput};
use serde::Deserialize;

use crate::http::{
    extract::Caller,
    forms::common::{
        form_error, message, read_upload, refused, sentence, started, to, waiting, whole,
    },
};

fn product_path(sku: &str) -> String {
    format!("/command/products/{}", urlencode(sku))
}

#[derive(Deserialize)]
pub struct NewProductForm {
    sku: String,
    name: String,
    #[serde(default)]
    gtin: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    options: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    weight_g: String,
    #[serde(default)]
    tax_category: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    cost: String,
    #[serde(default)]
    track_lots: Option<String>,
    #[serde(default)]
    track_serials: Option<String>,
    #[serde(default)]
    components: String,
}

/// The form is read through the same mapping as a CSV row, so both accept
/// exactly the same spellings (`size=M; colour=Navy`, `SKU*2`).
pub async fn create_product(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<NewProductForm>,
) -> Response {
    let components = form.components.replace(['\n', '\r'], ";");
    let cell = |c: &str| -> String {
        match c {
            "sku" => form.sku.clone(),
            "name" => form.name.clone(),
            "gtin" => form.gtin.clone(),
            "group" => form.group.clone(),
            "options" => form.options.clone(),
            "unit" => form.unit.clone(),
            "weight_g" => form.weight_g.clone(),
            "tax_category" => form.tax_category.clone(),
            "currency" if !form.price.trim().is_empty() => form.currency.clone(),
            "price" => form.price.clone(),
            "cost" => form.cost.clone(),
            "components" => components.clone(),
            _ => String::new(),
        }
    };
    let result = match product_from_csv(cell) {
        Ok(mut input) => {
            input.track_lots = Some(form.track_lots.is_some());
            input.track_serials = Some(form.track_serials.is_some());
            catalog::create_product(&state.db, &ctx, input, None).await
        }
        Err(fields) => Err(Error::Invalid(fields)),
    };
    match result {
        Ok(p) => to(
            &product_path(&p.sku),
            "notice",
            &format!("Created {}", p.sku),
        ),
        Err(err) => {
            let mut q: Vec<String> = [
                ("sku", &form.sku),
                ("name", &form.name),
                ("gtin", &form.gtin),
                ("group", &form.group),
                ("options", &form.options),
                ("unit", &form.unit),
                ("weight_g", &form.weight_g),
                ("tax_category", &form.tax_category),
                ("currency", &form.currency),
                ("price", &form.price),
                ("cost", &form.cost),
                ("components", &form.components),
            ]
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
            match err {
                Error::Invalid(fields) => {
                    for f in fields {
                        q.push(format!("error_{}={}", f.field, urlencode(&f.message)));
                    }
                }
                other => q.push(format!("error={}", urlencode(&form_error(&ctx, other)))),
            }
            Redirect::to(&format!("/command/products/new?{}", q.join("&"))).into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct EditProductForm {
    version: i64,
    name: String,
    #[serde(default)]
    gtin: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    cost: String,
    #[serde(default)]
    active: Option<String>,
}

pub async fn update_product(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
    Form(form): Form<EditProductForm>,
) -> Response {
    let back = product_path(&sku);
    let typed = (
        form.name.clone(),
        form.gtin.clone(),
        form.price.clone(),
        form.cost.clone(),
    );
    let current = match catalog::get_product(&state.db, &ctx, &sku).await {
        Ok(p) => p,
        Err(err) => return to(&back, "error", &message(&ctx, err)),
    };
    // The form edits the first price; other currencies stay as they are.
    let mut prices: Vec<PriceInput> = current
        .prices
        .iter()
        .map(|p| PriceInput {
            currency: p.currency.clone(),
            cost: p.cost.amount().to_string(),
            price: p.price.amount().to_string(),
        })
        .collect();
    match prices.first_mut() {
        Some(first) => {
            first.price = form.price.clone();
            first.cost = form.cost.clone();
        }
        None if !form.price.trim().is_empty() => prices.push(PriceInput {
            currency: "USD".into(),
            cost: if form.cost.trim().is_empty() {
                "0".into()
            } else {
                form.cost.clone()
            },
            price: form.price.clone(),
        }),
        None => {}
    }
    let input = ProductInput {
        sku: current.sku.clone(),
        name: form.name,
        gtin: Some(form.gtin),
        group: current.group.clone(),
        options: current.options.clone(),
        unit: Some(current.unit.clone()),
        weight_g: current.weight_g,
        dimensions_mm: current.dimensions_mm.clone(),
        tax_category: Some(current.tax_category.clone()),
        track_lots: Some(current.track_lots),
        track_serials: Some(current.track_serials),
        active: Some(form.active.is_some()),
        prices,
        components: current
            .components
            .iter()
            .map(|c| domain::catalog::ComponentInput {
                sku: c.sku.clone(),
                quantity: c.quantity,
            })
            .collect(),
    };
    let update = ProductUpdate {
        product: input,
        version: form.version,
    };
    match catalog::update_product(&state.db, &ctx, &sku, update).await {
        Ok(p) => to(&back, "notice", &format!("Saved {}", p.sku)),
        Err(err) => refused(
            &ctx,
            &back,
            err,
            &[
                ("name", "name"),
                ("gtin", "gtin"),
                ("prices[0].price", "price"),
                ("prices[0].cost", "cost"),
                ("prices[0].currency", "price"),
            ],
            &[
                ("name", &typed.0),
                ("gtin", &typed.1),
                ("price", &typed.2),
                ("cost", &typed.3),
            ],
        ),
    }
}

#[derive(Deserialize)]
pub struct ReceiveForm {
    warehouse: String,
    quantity: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    lot: String,
    #[serde(default)]
    expires_on: String,
}

fn quantity(text: &str) -> Result<i64, Error> {
    whole("quantity", text).map_err(|e| Error::Invalid(vec![e]))
}

pub async fn receive(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
    Form(form): Form<ReceiveForm>,
) -> Response {
    let back = product_path(&sku);
    let typed = [
        ("receive-quantity", form.quantity.clone()),
        ("receive-location", form.location.clone()),
        ("receive-reference", form.reference.clone()),
        ("receive-lot", form.lot.clone()),
        ("receive-expires_on", form.expires_on.clone()),
    ];
    let typed = typed.each_ref().map(|(k, v)| (*k, v.as_str()));
    let result = match quantity(&form.quantity) {
        Ok(q) => {
            let input = ReceiptInput {
                warehouse: form.warehouse.clone(),
                reference: Some(form.reference),
                lines: vec![ReceiptLineInput {
                    sku: sku.clone(),
                    quantity: q,
                    location: Some(form.location),
                    lot: Some(form.lot),
                    expires_on: Some(form.expires_on),
                }],
            };
            inventory::receive(&state.db, &ctx, input, None).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => {
            let l = &r.lines[0];
            to(
                &back,
                "notice",
                &format!(
                    "Received {} × {} into {} {}",
                    l.quantity, l.sku, r.warehouse, l.location
                ),
            )
        }
        Err(err) => refused(&ctx, &back, err, RECEIVE_FIELDS, &typed),
    }
}

/// The receive form's fields, from the use case's names to the form's: the
/// product page has three stock forms, so each field carries its form's name.
const RECEIVE_FIELDS: &[(&str, &str)] = &[
    ("quantity", "receive-quantity"),
    ("lines[0].quantity", "receive-quantity"),
    ("lines[0].location", "receive-location"),
    ("lines[0].lot", "receive-lot"),
    ("lines[0].expires_on", "receive-expires_on"),
    ("reference", "receive-reference"),
];

#[derive(Deserialize)]
pub struct ReorderPointForm {
    warehouse: String,
    units: String,
}

pub async fn set_reorder_point(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
    Form(form): Form<ReorderPointForm>,
) -> Response {
    let back = product_path(&sku);
    let typed = [("reorder-units", form.units.as_str())];
    // An empty field clears the reorder point, as 0 does.
    let units = match form.units.trim() {
        "" => Ok(0),
        text => text
            .parse::<i64>()
            .map_err(|_| Error::invalid("units", "enter a whole number of units, or 0 for none")),
    };
    let result = match units {
        Ok(units) => inventory::set_reorder_point(&state.db, &ctx, &sku, &form.warehouse, units)
            .await
            .map(|_| units),
        Err(e) => Err(e),
    };
    match result {
        Ok(0) => to(
            &back,
            "notice",
            &format!(
                "{} has no reorder point in {} now",
                sku,
                form.warehouse.trim()
            ),
        ),
        Ok(units) => to(
            &back,
            "notice",
            &format!(
                "{} reorders in {} at {units} available",
                sku,
                form.warehouse.trim()
            ),
        ),
        Err(err) => refused(&ctx, &back, err, &[("units", "reorder-units")], &typed),
    }
}

#[derive(Deserialize)]
pub struct AdjustForm {
    warehouse: String,
    quantity: String,
    location: String,
    reason: String,
    #[serde(default)]
    lot: String,
    #[serde(default)]
    note: String,
}

pub async fn adjust(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(sku): Path<String>,
    Form(form): Form<AdjustForm>,
) -> Response {
    let back = product_path(&sku);
    let typed = [
        ("adjust-quantity", form.quantity.clone()),
        ("adjust-location", form.location.clone()),
        ("adjust-lot", form.lot.clone()),
        ("adjust-note", form.note.clone()),
    ];
    let typed = typed.each_ref().map(|(k, v)| (*k, v.as_str()));
    let result = match quantity(&form.quantity) {
        Ok(q) => {
            let input = AdjustmentInput {
                warehouse: form.warehouse,
                sku: sku.clone(),
                quantity: q,
                reason: form.reason,
                location: Some(form.location),
                lot: Some(form.lot),
                expires_on: None,
                kind: None,
                note: Some(form.note),
            };
            inventory::adjust(&state.db, &ctx, input, None).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(governance::Outcome::Applied(a)) => to(
            &back,
            "notice",
            &format!(
                "Adjusted {} by {} in {} ({})",
                a.sku, a.quantity, a.warehouse, a.reason
            ),
        ),
        Ok(governance::Outcome::Held(pending)) => waiting(&back, &pending),
        Err(err) => refused(&ctx, &back, err, ADJUST_FIELDS, &typed),
    }
}

/// The adjust form's fields, from the use case's names to the form's.
const ADJUST_FIELDS: &[(&str, &str)] = &[
    ("quantity", "adjust-quantity"),
    ("location", "adjust-location"),
    ("lot", "adjust-lot"),
    ("note", "adjust-note"),
];

/// The upload: the file is staged and its preview shown; nothing is imported
/// until the person confirms.
pub async fn upload_import(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    mut multipart: Multipart,
) -> Response {
    let back = "/command/catalog/import";
    let (_, text) = match read_upload(&mut multipart).await {
        Ok(upload) => upload,
        Err(problem) => return to(back, "error", &problem),
    };
    match catalog::stage_import(&state.db, &ctx, &text).await {
        Ok(job) => Redirect::to(&format!("{back}/{}", job.id)).into_response(),
        Err(err) => to(back, "error", &message(&ctx, err)),
    }
}

pub async fn start_import(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Response {
    let page = format!("/command/catalog/import/{}", urlencode(&id));
    let r = catalog::begin_import(&state.db, &ctx, &id).await;
    started(&ctx, &page, r.map(|prepared| drop(prepared.spawn())))
}

#[derive(Deserialize)]
pub struct TransferForm {
    from: String,
    to: String,
    sku: String,
    quantity: String,
    #[serde(default)]
    location: String,
}

pub async fn create_transfer(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<TransferForm>,
) -> Response {
    let back = "/command/transfers";
    let typed = [
        ("sku", form.sku.clone()),
        ("quantity", form.quantity.clone()),
        ("location", form.location.clone()),
    ];
    let typed = typed.each_ref().map(|(k, v)| (*k, v.as_str()));
    let result = match quantity(&form.quantity) {
        Ok(q) => {
            let input = TransferInput {
                from: form.from,
                to: form.to,
                lines: vec![TransferLineInput {
                    sku: form.sku,
                    quantity: q,
                    location: Some(form.location),
                    lot: None,
                }],
            };
            inventory::create_transfer(&state.db, &ctx, input, None).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => to(
            back,
            "notice",
            &format!(
                "{} is on its way from {} to {}",
                t.number, t.from_warehouse, t.to_warehouse
            ),
        ),
        Err(err) => refused(&ctx, back, err, TRANSFER_FIELDS, &typed),
    }
}

/// The transfer form's fields, from the use case's names to the form's.
const TRANSFER_FIELDS: &[(&str, &str)] = &[
    ("to", "to"),
    ("quantity", "quantity"),
    ("lines[0].sku", "sku"),
    ("lines[0].quantity", "quantity"),
    ("lines[0].location", "location"),
];

#[derive(Deserialize)]
pub struct TransferReceiveForm {
    #[serde(default)]
    location: String,
}

pub async fn receive_transfer(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<TransferReceiveForm>,
) -> Response {
    let back = "/command/transfers";
    let input = TransferReceipt {
        location: Some(form.location),
    };
    match inventory::receive_transfer(&state.db, &ctx, &id, input).await {
        Ok(t) => to(
            back,
            "notice",
            &format!("Received {} into {}", t.number, t.to_warehouse),
        ),
        Err(err) => to(back, "error", &message(&ctx, err)),
    }
}

pub async fn approve_count(state: State<AppState>, caller: Caller, id: Path<String>) -> Response {
    decide(state, caller, id, true).await
}

pub async fn reject_count(state: State<AppState>, caller: Caller, id: Path<String>) -> Response {
    decide(state, caller, id, false).await
}

async fn decide(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    approve: bool,
) -> Response {
    match inventory::decide_count(&state.db, &ctx, &id, approve).await {
        Ok(c) => to(
            "/command/counts",
            "notice",
            &format!(
                "{} {}",
                if approve {
                    "Approved and posted"
                } else {
                    "Rejected"
                },
                c.number
            ),
        ),
        Err(err) => to("/command/counts", "error", &message(&ctx, err)),
    }
}

#[derive(Deserialize)]
pub struct CountStartForm {
    #[serde(default)]
    warehouse: String,
    location: String,
}

pub async fn floor_open_count(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<CountStartForm>,
) -> Response {
    let input = CountInput {
        warehouse: form.warehouse,
        location: form.location,
    };
    match inventory::open_count(&state.db, &ctx, input).await {
        Ok(c) => Redirect::to(&format!("/floor/count/{}", c.id)).into_response(),
        Err(err) => to("/floor/count", "error", &sentence(&ctx, err)),
    }
}

#[derive(Deserialize)]
pub struct ScanForm {
    code: String,
    #[serde(default)]
    quantity: String,
}

pub async fn floor_count_scan(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<ScanForm>,
) -> Response {
    let page = format!("/floor/count/{}", urlencode(&id));
    // An empty quantity means "one more"; a typed one is the total seen.
    let scan = match form.quantity.trim() {
        "" => Ok(CountScan {
            code: form.code.clone(),
            quantity: None,
            set: false,
        }),
        q => quantity(q).map(|n| CountScan {
            code: form.code.clone(),
            quantity: Some(n),
            set: true,
        }),
    };
    let result = match scan {
        Ok(scan) => inventory::count_scan(&state.db, &ctx, &id, scan).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => {
            let code = form.code.trim();
            let line = c
                .lines
                .iter()
                .find(|l| l.sku == code)
                .or_else(|| c.lines.iter().max_by_key(|l| l.counted));
            let text = line
                .map(|l| format!("{}: {} counted", l.sku, l.counted))
                .unwrap_or_default();
            to(&page, "notice", &text)
        }
        Err(err) => to(&page, "error", &sentence(&ctx, err)),
    }
}

pub async fn floor_submit_count(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
) -> Response {
    let page = format!("/floor/count/{}", urlencode(&id));
    match inventory::submit_count(&state.db, &ctx, &id).await {
        Ok(_) => Redirect::to(&page).into_response(),
        Err(err) => to(&page, "error", &message(&ctx, err)),
    }
}
