//! Command-center pages for the catalogue and stock: the product list, the
//! new-product form, the product page (stock by warehouse, ATP per channel,
//! bins, movements, receive and adjust), the CSV import with its preview and
//! progress, and cycle counts with their approvals.
//!
//! Writes are HTML forms posted to the server's form handlers, which redirect
//! back with a notice or per-field errors, so every page works without
//! JavaScript.

use crate::catalog::api::{import_status, product_detail, products_page};
use crate::inventory::api::my_warehouses;
use crate::{
    components::url::urlencode,
    components::{
        query_param, short_time, CommandFrame, Empty, ErrorBox, Field, FieldMessage, Notice,
        Refused,
    },
};
use domain::{
    catalog::{TAX_CATEGORIES, UNITS},
    inventory::ADJUSTMENT_REASONS,
    views::{ProductFilter, Stock},
};
use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_params_map;

fn path_param(name: &'static str) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let params = use_params_map();
    move || params.read().get(name).unwrap_or_default()
}

const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";
const BUTTON: &str = "rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800";

#[component]
pub fn Products() -> impl IntoView {
    let (q, status, kind, cursor, notice) = (
        query_param("q"),
        query_param("status"),
        query_param("kind"),
        query_param("cursor"),
        query_param("notice"),
    );
    let filter = {
        let (q, status, kind, cursor) = (q.clone(), status.clone(), kind.clone(), cursor.clone());
        move || {
            let opt = |s: String| (!s.is_empty()).then_some(s);
            ProductFilter {
                q: opt(q()),
                status: opt(status()),
                kind: opt(kind()),
                limit: Some(50),
                cursor: opt(cursor()),
            }
        }
    };
    let page = Resource::new(filter.clone(), products_page);
    let next_href = move |next: String| {
        let f = filter();
        let mut parts = vec![format!("cursor={}", urlencode(&next))];
        for (k, v) in [("q", f.q), ("status", f.status), ("kind", f.kind)] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", urlencode(&v)));
            }
        }
        format!("/command/products?{}", parts.join("&"))
    };
    let select = |name: &'static str,
                  label: &'static str,
                  current: String,
                  options: &'static [(&'static str, &'static str)]| {
        view! {
            <div>
                <label for=name class="block text-sm font-medium">{label}</label>
                <select id=name name=name class="mt-1 rounded border px-2 py-2">
                    {options.iter().map(|(v, l)| { let sel = current == *v; view! { <option value=*v selected=sel>{*l}</option> } }).collect_view()}
                </select>
            </div>
        }
    };
    view! {
        <CommandFrame title="Products">
            <Notice message=notice() />
            <div class="mb-4 flex flex-wrap items-end justify-between gap-3">
                <form method="get" action="/command/products" class="flex flex-wrap items-end gap-3">
                    <div>
                        <label for="q" class="block text-sm font-medium">"Search SKU, name or barcode"</label>
                        <input id="q" name="q" type="search" value=q() class="mt-1 rounded border px-2 py-2" />
                    </div>
                    {select("status", "Status", status(), &[("", "Any"), ("active", "Active"), ("archived", "Archived")])}
                    {select("kind", "Kind", kind(), &[("", "Any"), ("item", "Items"), ("bundle", "Bundles and kits")])}
                    <button type="submit" class="rounded border px-4 py-2">"Search"</button>
                    <a href="/command/products" class="px-2 py-2 text-indigo-700 underline">"Clear"</a>
                </form>
                <div class="flex gap-2">
                    <a href="/command/products/new" class=BUTTON>"New product"</a>
                    <a href="/command/catalog/import" class="rounded border px-4 py-2">"Import CSV"</a>
                    <a href="/api/v1/catalog/export" class="rounded border px-4 py-2" download="keel-catalog.csv">"Export CSV"</a>
                </div>
            </div>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let next_href = next_href.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(page) if page.items.is_empty() => view! { <Empty message="No products match. Create one, or import your catalogue as CSV." /> }.into_any(),
                            Ok(page) => view! {
                                <table class="w-full border bg-white text-left text-sm">
                                    <caption class="sr-only">"Products by SKU"</caption>
                                    <thead class="bg-slate-100">
                                        <tr><th class="p-2">"SKU"</th><th class="p-2">"Name"</th><th class="p-2">"Kind"</th><th class="p-2">"GTIN"</th><th class="p-2 text-right">"On hand"</th><th class="p-2 text-right">"Available"</th><th class="p-2">"Status"</th></tr>
                                    </thead>
                                    <tbody>
                                        {page.items.into_iter().map(|p| view! {
                                            <tr class="border-t">
                                                <td class="p-2 font-mono"><a class="text-indigo-700 underline" href=format!("/command/products/{}", urlencode(&p.sku))>{p.sku.clone()}</a></td>
                                                <td class="p-2">{p.name}</td>
                                                <td class="p-2">{p.kind}</td>
                                                <td class="p-2 font-mono text-xs">{p.gtin.unwrap_or_default()}</td>
                                                <td class="p-2 text-right tabular-nums">{p.on_hand}</td>
                                                <td class="p-2 text-right tabular-nums" class:text-red-700=p.available <= 0>{p.available}</td>
                                                <td class="p-2">{if p.active { "active" } else { "archived" }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                {page.next_cursor.map(|c| view! { <a class="mt-4 inline-block text-indigo-700 underline" href=next_href(c)>"Next page"</a> })}
                            }.into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

#[component]
pub fn NewProduct() -> impl IntoView {
    let v = |n: &'static str| query_param(n)();
    let e = |n: &'static str| {
        let q = use_leptos_router_query();
        q(n)
    };
    let tax = v("tax_category");
    let unit = v("unit");
    view! {
        <CommandFrame title="New product">
            {(!e("error").is_empty()).then(|| view! { <ErrorBox message=e("error") /> })}
            <form method="post" action="/command/products" class="grid max-w-4xl gap-4 rounded-lg border bg-white p-6 md:grid-cols-2">
                <Field name="sku" label="SKU" required=true value=v("sku") error=e("error_sku") hint="Letters, digits and - _ . / + #" />
                <Field name="name" label="Name" required=true value=v("name") error=e("error_name") />
                <Field name="gtin" label="GTIN / EAN / UPC (optional)" value=v("gtin") error=e("error_gtin") hint="8, 12, 13 or 14 digits; the check digit is verified" />
                <Field name="group" label="Variant group (optional)" value=v("group") error=e("error_group") hint="The style code its variants share, e.g. TEE-CLASSIC" />
                <Field name="options" label="Options (optional)" value=v("options") error=e("error_options") hint="e.g. size=M; colour=Navy" />
                <div>
                    <label for="f-unit" class="block text-sm font-medium">"Unit"</label>
                    <select id="f-unit" name="unit" class=INPUT>
                        {UNITS.into_iter().map(|u| { let sel = unit == u; view! { <option value=u selected=sel>{u}</option> } }).collect_view()}
                    </select>
                </div>
                <Field name="weight_g" label="Weight in grams (optional)" kind="number" value=v("weight_g") error=e("error_weight_g") />
                <div>
                    <label for="f-tax" class="block text-sm font-medium">"Tax category"</label>
                    <select id="f-tax" name="tax_category" class=INPUT>
                        {TAX_CATEGORIES.into_iter().map(|t| { let sel = tax == t; view! { <option value=t selected=sel>{t}</option> } }).collect_view()}
                    </select>
                </div>
                <Field name="currency" label="Currency" value=if v("currency").is_empty() { "USD".to_string() } else { v("currency") } error=e("error_prices[0].currency") />
                <Field name="price" label="List price" value=v("price") error=e("error_prices[0].price") hint="e.g. 24.00" />
                <Field name="cost" label="Unit cost" value=v("cost") error=e("error_prices[0].cost") />
                <fieldset class="pt-2">
                    <legend class="text-sm font-medium">"Tracking"</legend>
                    <div class="mt-1 flex items-center gap-2">
                        <input id="f-lots" type="checkbox" name="track_lots" value="on" />
                        <label for="f-lots" class="text-sm">"Lots and expiry dates"</label>
                    </div>
                    <div class="mt-1 flex items-center gap-2">
                        <input id="f-serials" type="checkbox" name="track_serials" value="on" />
                        <label for="f-serials" class="text-sm">"Serial numbers (one per unit)"</label>
                    </div>
                </fieldset>
                <div class="md:col-span-2">
                    <label for="f-components" class="block text-sm font-medium">"Bundle components (leave empty for a stock item)"</label>
                    <textarea id="f-components" name="components" rows="3" aria-describedby="e-components" class=INPUT placeholder="SKU*quantity; one per line or separated by ;">{v("components")}</textarea>
                    <FieldMessage id="e-components" message=e("error_components") />
                    <p class="mt-1 text-xs text-slate-500">"A bundle holds no stock: it is available as often as its scarcest component allows."</p>
                </div>
                <div class="md:col-span-2">
                    <button type="submit" class=BUTTON>"Create product"</button>
                    <a href="/command/products" class="ml-3 text-indigo-700 underline">"Cancel"</a>
                </div>
            </form>
        </CommandFrame>
    }
}

/// Reads query parameters once; errors are keyed `error_<field>`, and a
/// field error for a component line is shown on the components box.
fn use_leptos_router_query() -> impl Fn(&str) -> String {
    let query = leptos_router::hooks::use_query_map();
    move |name: &str| {
        let map = query.read_untracked();
        if name == "error_components" {
            return map
                .clone()
                .into_iter()
                .filter(|(k, _)| k.starts_with("error_components"))
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join("; ");
        }
        map.get(name).unwrap_or_default()
    }
}

fn bar(value: i64, max: i64, color: &'static str, label: String) -> impl IntoView {
    let pct = if max > 0 {
        (value.max(0) * 100 / max).min(100)
    } else {
        0
    };
    view! {
        <div class="h-3 w-full rounded bg-slate-100" role="img" aria-label=label>
            <div class=format!("h-3 rounded {color}") style=format!("width: {pct}%")></div>
        </div>
    }
}

fn stock_table(stock: &Stock) -> impl IntoView {
    let max = stock
        .warehouses
        .iter()
        .map(|w| w.on_hand)
        .max()
        .unwrap_or(0);
    view! {
        <table class="w-full text-left text-sm">
            <caption class="sr-only">"Stock by warehouse"</caption>
            <thead><tr class="border-b"><th class="p-2">"Warehouse"</th><th class="p-2 text-right">"On hand"</th><th class="p-2 text-right">"Reserved"</th><th class="p-2 text-right">"Available"</th><th class="p-2 text-right">"In transit"</th><th class="p-2 text-right">"Reorder at"</th><th class="w-1/3 p-2">"Reserved of on hand"</th></tr></thead>
            <tbody>
                {stock.warehouses.iter().map(|w| view! {
                    <tr class="border-b">
                        <td class="p-2 font-mono">{w.warehouse.clone()}</td>
                        <td class="p-2 text-right tabular-nums">{w.on_hand}</td>
                        <td class="p-2 text-right tabular-nums">{w.reserved}</td>
                        <td class="p-2 text-right tabular-nums font-semibold" class:text-red-700=w.available <= 0>{w.available}</td>
                        <td class="p-2 text-right tabular-nums">{w.in_transit}</td>
                        <td class="p-2 text-right tabular-nums" data-testid=format!("reorder-{}", w.warehouse)>
                            {match w.reorder_point {
                                Some(point) if w.available <= point => view! {
                                    {point}" "<span class="rounded bg-amber-100 px-1 text-xs font-semibold text-amber-900">"low"</span>
                                }.into_any(),
                                Some(point) => point.to_string().into_any(),
                                None => view! { <span class="text-slate-400" aria-label="none">"—"</span> }.into_any(),
                            }}
                        </td>
                        <td class="p-2">
                            {bar(w.on_hand, max, "bg-indigo-300", format!("{}: {} on hand of {} at most", w.warehouse, w.on_hand, max))}
                            <div class="mt-1">{bar(w.reserved, max, "bg-amber-400", format!("{}: {} reserved", w.warehouse, w.reserved))}</div>
                        </td>
                    </tr>
                }).collect_view()}
                <tr class="font-semibold">
                    <td class="p-2">"Total"</td>
                    <td class="p-2 text-right tabular-nums" data-testid="total-on-hand">{stock.on_hand}</td>
                    <td class="p-2 text-right tabular-nums">{stock.reserved}</td>
                    <td class="p-2 text-right tabular-nums" data-testid="total-available">{stock.available}</td>
                    <td class="p-2 text-right tabular-nums">{stock.in_transit}</td>
                    <td></td>
                    <td></td>
                </tr>
            </tbody>
        </table>
    }
}

#[component]
pub fn ProductPage() -> impl IntoView {
    let sku = path_param("sku");
    let cursor = query_param("cursor");
    let notice = query_param("notice");
    let err = query_param("error");
    let refused = Refused::read();
    let key = {
        let (sku, cursor) = (sku.clone(), cursor.clone());
        move || (sku(), cursor())
    };
    let detail = Resource::new(key, |(sku, cursor)| {
        product_detail(sku, (!cursor.is_empty()).then_some(cursor))
    });
    let warehouses = Resource::new(|| (), |_| my_warehouses());
    view! {
        <CommandFrame title="Product">
            <Notice message=notice() />
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let refused = refused.clone();
                    Suspend::new(async move {
                    let whs = warehouses.await.unwrap_or_default();
                    match detail.await {
                        Ok(d) => product_view(d, whs, refused).into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })
                }}
            </Suspense>
        </CommandFrame>
    }
}

fn product_view(
    d: crate::catalog::api::ProductView,
    warehouses: Vec<String>,
    refused: Refused,
) -> impl IntoView {
    let p = d.product.clone();
    let is_item = p.kind == "item";
    let moves = is_item && d.can_move_stock;
    view! {
        <div class="mb-4 flex flex-wrap items-baseline gap-3">
            <h2 class="text-2xl font-bold">{p.name.clone()}</h2>
            <span class="font-mono text-slate-600">{p.sku.clone()}</span>
            <span class="rounded bg-slate-200 px-2 text-sm">{p.kind.clone()}</span>
            <span class="rounded px-2 text-sm" class:bg-green-100=p.active class:bg-slate-300=!p.active>{if p.active { "active" } else { "archived" }}</span>
        </div>
        <div class="grid gap-6 xl:grid-cols-3">
            {stock_section(&d).into_any()}
            {facts_section(&d, refused.clone()).into_any()}
        </div>
        {moves.then(|| stock_forms(&p.sku, warehouses, &refused).into_any())}
        {is_item.then(|| history_section(&p.sku, d.bins.clone(), d.movements.clone()).into_any())}
    }
}

fn stock_section(d: &crate::catalog::api::ProductView) -> impl IntoView {
    let channels = d.channels.clone();
    view! {
        <section aria-labelledby="stock-h" class="rounded-lg border bg-white p-4 xl:col-span-2">
            <h3 id="stock-h" class="mb-2 text-lg font-semibold">"Stock by warehouse"</h3>
            {stock_table(&d.stock).into_any()}
            <h3 id="atp-h" class="mb-2 mt-6 text-lg font-semibold">"Available to promise by channel"</h3>
            <table aria-labelledby="atp-h" class="w-full text-left text-sm">
                <thead><tr class="border-b"><th class="p-2">"Channel"</th><th class="p-2 text-right">"Safety buffer"</th><th class="p-2">"Ships from"</th><th class="p-2 text-right">"Available"</th></tr></thead>
                <tbody>
                    {channels.into_iter().map(|a| view! {
                        <tr class="border-b" data-channel=a.channel.clone()>
                            <td class="p-2 font-mono">{a.channel.clone()}</td>
                            <td class="p-2 text-right tabular-nums">{a.safety_buffer}</td>
                            <td class="p-2">{a.warehouses.iter().map(|w| format!("{} {}", w.warehouse, w.available)).collect::<Vec<_>>().join(" · ")}</td>
                            <td class="p-2 text-right text-base font-semibold tabular-nums" data-testid=format!("atp-{}", a.channel)>{a.available}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

fn facts_section(d: &crate::catalog::api::ProductView, refused: Refused) -> impl IntoView {
    let p = d.product.clone();
    let can_edit = d.can_edit;
    let components = p.components.clone();
    let prices = p.prices.clone();
    view! {
        <section aria-labelledby="facts-h" class="rounded-lg border bg-white p-4">
            <h3 id="facts-h" class="mb-2 text-lg font-semibold">"Details"</h3>
            <dl class="grid grid-cols-2 gap-1 text-sm">
                <dt class="text-slate-500">"GTIN"</dt><dd class="font-mono">{p.gtin.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"Group"</dt><dd>{p.group.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"Options"</dt><dd>{p.options.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ")}</dd>
                <dt class="text-slate-500">"Unit"</dt><dd>{p.unit.clone()}</dd>
                <dt class="text-slate-500">"Weight"</dt><dd>{p.weight_g.map(|w| format!("{w} g")).unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"Tax category"</dt><dd>{p.tax_category.clone()}</dd>
                <dt class="text-slate-500">"Lots"</dt><dd>{match (p.track_lots, p.track_serials) {
                    (_, true) => "serial numbers, one per unit",
                    (true, false) => "tracked, picked first-expiry-first",
                    _ => "not tracked",
                }}</dd>
                {prices.into_iter().map(|pr| view! {
                    <dt class="text-slate-500">{format!("Price / cost {}", pr.currency)}</dt><dd class="tabular-nums">{format!("{} / {}", pr.price.amount(), pr.cost.amount())}</dd>
                }).collect_view()}
            </dl>
            {(!components.is_empty()).then(|| view! {
                <h4 class="mt-4 font-semibold">"Components"</h4>
                <ul class="text-sm">
                    {components.into_iter().map(|c| view! {
                        <li>{c.quantity} " × " <a class="font-mono text-indigo-700 underline" href=format!("/command/products/{}", urlencode(&c.sku))>{c.sku.clone()}</a> " " {c.name.clone()}</li>
                    }).collect_view()}
                </ul>
            }.into_any())}
            {can_edit.then(|| edit_form(&p, &refused).into_any())}
        </section>
    }
}

/// The product's edit form; after a refusal it opens with each message
/// beside its field and what was typed kept.
fn edit_form(p: &domain::views::Product, refused: &Refused) -> impl IntoView {
    let price = p.prices.first().cloned();
    let open = refused.any(&["name", "gtin", "price", "cost"]);
    let stored = |x: Option<String>| x.unwrap_or_default();
    view! {
        <details class="mt-4" open=open>
            <summary class="cursor-pointer font-semibold text-indigo-700">"Edit"</summary>
            <form method="post" action=format!("/command/products/{}", urlencode(&p.sku)) class="mt-2 space-y-2" novalidate>
                <input type="hidden" name="version" value=p.version />
                <Field name="name" label="Name" value=refused.value("name", p.name.clone()) error=refused.error("name") />
                <Field name="gtin" label="GTIN" value=refused.value("gtin", stored(p.gtin.clone())) error=refused.error("gtin") />
                <Field name="price" label=if price.is_some() { "List price" } else { "List price (USD)" }
                    value=refused.value("price", stored(price.as_ref().map(|x| x.price.amount().to_string())))
                    error=refused.error("price") />
                <Field name="cost" label="Unit cost"
                    value=refused.value("cost", stored(price.as_ref().map(|x| x.cost.amount().to_string())))
                    error=refused.error("cost") />
                <div class="flex items-center gap-2">
                    <input id="f-active" type="checkbox" name="active" value="on" checked=p.active />
                    <label for="f-active" class="text-sm">"Active (uncheck to archive)"</label>
                </div>
                <button type="submit" class=BUTTON>"Save changes"</button>
            </form>
        </details>
    }
}

/// Receiving, adjusting and the reorder point. Their fields share names, so a
/// refused form's errors and typed values come back prefixed with the form's
/// name (`receive-quantity`), and land beside the right field.
fn stock_forms(sku: &str, warehouses: Vec<String>, refused: &Refused) -> impl IntoView {
    let sku_path = urlencode(sku);
    let (e, v) = (
        |f: &str| refused.error(f),
        |f: &str| refused.value(f, String::new()),
    );
    let options = move || {
        warehouses
            .iter()
            .map(|w| view! { <option value=w.clone()>{w.clone()}</option> })
            .collect_view()
    };
    let options2 = options.clone();
    let options3 = options.clone();
    view! {
        <div class="mt-6 grid gap-6 lg:grid-cols-3">
            <section aria-labelledby="recv-h" class="rounded-lg border bg-white p-4">
                <h3 id="recv-h" class="mb-2 text-lg font-semibold">"Receive stock"</h3>
                <form method="post" action=format!("/command/products/{sku_path}/receive") class="grid gap-3 sm:grid-cols-2">
                    <div>
                        <label for="r-wh" class="block text-sm font-medium">"Warehouse"</label>
                        <select id="r-wh" name="warehouse" class=INPUT>{options()}</select>
                    </div>
                    <Field form="receive" name="quantity" value=v("receive-quantity") error=e("receive-quantity") label="Quantity" kind="number" required=true />
                    <Field form="receive" name="location" value=v("receive-location") error=e("receive-location") label="Bin (empty for the receiving dock)" hint="ZONE-AISLE-BIN, e.g. A-01-03" />
                    <Field form="receive" name="reference" value=v("receive-reference") error=e("receive-reference") label="Reference (PO, ASN)" />
                    <Field form="receive" name="lot" value=v("receive-lot") error=e("receive-lot") label="Lot" />
                    <Field form="receive" name="expires_on" value=v("receive-expires_on") error=e("receive-expires_on") label="Expiry" kind="date" />
                    <div class="sm:col-span-2"><button type="submit" class=BUTTON>"Receive"</button></div>
                </form>
            </section>
            <section aria-labelledby="adj-h" class="rounded-lg border bg-white p-4">
                <h3 id="adj-h" class="mb-2 text-lg font-semibold">"Adjust stock"</h3>
                <form method="post" action=format!("/command/products/{sku_path}/adjust") class="grid gap-3 sm:grid-cols-2">
                    <div>
                        <label for="a-wh" class="block text-sm font-medium">"Warehouse"</label>
                        <select id="a-wh" name="warehouse" class=INPUT>{options2()}</select>
                    </div>
                    <Field form="adjust" name="quantity" value=v("adjust-quantity") error=e("adjust-quantity") label="Change (+ adds, − removes)" kind="number" required=true />
                    <Field form="adjust" name="location" value=v("adjust-location") error=e("adjust-location") label="Bin" required=true />
                    <div>
                        <label for="a-reason" class="block text-sm font-medium">"Reason"</label>
                        <select id="a-reason" name="reason" class=INPUT>
                            {ADJUSTMENT_REASONS.into_iter().map(|r| view! { <option value=r>{r.replace('_', " ")}</option> }).collect_view()}
                        </select>
                    </div>
                    <Field form="adjust" name="lot" value=v("adjust-lot") error=e("adjust-lot") label="Lot (optional)" />
                    <Field form="adjust" name="note" value=v("adjust-note") error=e("adjust-note") label="Note" />
                    <div class="sm:col-span-2"><button type="submit" class=BUTTON>"Adjust"</button></div>
                </form>
            </section>
            <section aria-labelledby="rop-h" class="rounded-lg border bg-white p-4">
                <h3 id="rop-h" class="mb-2 text-lg font-semibold">"Reorder point"</h3>
                <p class="mb-2 text-sm text-slate-600">"When a warehouse's available units fall to this level, the item shows under low stock in the exception queues."</p>
                <form method="post" action=format!("/command/products/{sku_path}/reorder-point") class="grid gap-3 sm:grid-cols-2">
                    <div>
                        <label for="o-wh" class="block text-sm font-medium">"Warehouse"</label>
                        <select id="o-wh" name="warehouse" class=INPUT>{options3()}</select>
                    </div>
                    <Field form="reorder" name="units" label="Reorder at (units)" kind="number" hint="0 or empty removes it" value=v("reorder-units") error=e("reorder-units") />
                    <div class="sm:col-span-2"><button type="submit" class=BUTTON>"Set reorder point"</button></div>
                </form>
            </section>
        </div>
    }
}

fn history_section(
    sku: &str,
    bins: Vec<domain::views::BinStock>,
    movements: domain::views::Page<domain::views::Movement>,
) -> impl IntoView {
    let sku_path = urlencode(sku);
    view! {
        <section aria-labelledby="bins-h" class="mt-6 rounded-lg border bg-white p-4">
            <h3 id="bins-h" class="mb-2 text-lg font-semibold">"Bins and lots"</h3>
            {if bins.is_empty() {
                view! { <Empty message="No units in any bin. Receive stock to put some away." /> }.into_any()
            } else {
                view! {
                    <table class="w-full text-left text-sm">
                        <thead><tr class="border-b"><th class="p-2">"Warehouse"</th><th class="p-2">"Bin"</th><th class="p-2">"Lot"</th><th class="p-2">"Expires"</th><th class="p-2 text-right">"On hand"</th></tr></thead>
                        <tbody>
                            {bins.into_iter().map(|b| view! {
                                <tr class="border-b"><td class="p-2 font-mono">{b.warehouse}</td><td class="p-2 font-mono">{b.location}</td><td class="p-2 font-mono">{b.lot}</td><td class="p-2">{b.expires_on}</td><td class="p-2 text-right tabular-nums">{b.on_hand}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="mv-h" class="mt-6 rounded-lg border bg-white p-4">
            <h3 id="mv-h" class="mb-2 text-lg font-semibold">"Movement history"</h3>
            {if movements.items.is_empty() {
                view! { <Empty message="No movements yet." /> }.into_any()
            } else {
                let next = movements.next_cursor.clone();
                view! {
                    <table class="w-full text-left text-sm">
                        <thead><tr class="border-b"><th class="p-2">"When"</th><th class="p-2">"Kind"</th><th class="p-2 text-right">"Quantity"</th><th class="p-2">"Where"</th><th class="p-2">"Lot"</th><th class="p-2">"Reason / reference"</th><th class="p-2">"By"</th></tr></thead>
                        <tbody>
                            {movements.items.into_iter().map(|m| view! {
                                <tr class="border-b">
                                    <td class="whitespace-nowrap p-2"><time datetime=m.occurred_at.clone()>{short_time(&m.occurred_at)}</time></td>
                                    <td class="p-2">{m.kind.replace('_', " ")}</td>
                                    <td class="p-2 text-right tabular-nums" class:text-red-700=m.quantity < 0>{if m.quantity > 0 { format!("+{}", m.quantity) } else { m.quantity.to_string() }}</td>
                                    <td class="p-2 font-mono">{format!("{} {}", m.warehouse, m.location.unwrap_or_default())}</td>
                                    <td class="p-2 font-mono">{m.lot}</td>
                                    <td class="p-2">{[m.reason, m.reference].into_iter().flatten().collect::<Vec<_>>().join(" · ")}</td>
                                    <td class="p-2">{m.actor_name}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {next.map(|c| view! { <a class="mt-3 inline-block text-indigo-700 underline" href=format!("/command/products/{sku_path}?cursor={}", urlencode(&c))>"Older movements"</a> })}
                }.into_any()
            }}
        </section>
    }
}

#[component]
pub fn Import() -> impl IntoView {
    let err = query_param("error");
    view! {
        <CommandFrame title="Import catalogue">
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            <section class="max-w-3xl rounded-lg border bg-white p-6">
                <p class="mb-4 text-sm text-slate-600">
                    "Upload a CSV with a header line. Columns: " <code>{domain::catalog::CSV_COLUMNS.join(", ")}</code>
                    ". Only sku and name are required. Rows are matched by SKU, so importing the same file twice changes nothing. You see a preview before anything is saved."
                </p>
                <form method="post" action="/command/catalog/import" enctype="multipart/form-data" class="flex flex-wrap items-end gap-3">
                    <div>
                        <label for="file" class="block text-sm font-medium">"CSV file"</label>
                        <input id="file" name="file" type="file" accept=".csv,text/csv" required class="mt-1" />
                    </div>
                    <button type="submit" class=BUTTON>"Upload and preview"</button>
                </form>
            </section>
        </CommandFrame>
    }
}

#[component]
pub fn ImportJobPage() -> impl IntoView {
    let id = path_param("id");
    let status = Resource::new(id.clone(), import_status);
    view! {
        <CommandFrame title="Import catalogue">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let id = id();
                    Suspend::new(async move {
                        match status.await {
                            Ok(s) => import_view(id, s).into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

fn import_view(id: String, s: crate::catalog::api::ImportView) -> impl IntoView {
    let job = s.job;
    let done = job.processed_rows;
    let total = job.total_rows.max(1);
    let pct = done * 100 / total;
    let errors = job.errors.clone();
    view! {
        {(job.status == "running").then(|| view! { <Meta http_equiv="refresh" content="1" /> })}
        <section class="max-w-4xl rounded-lg border bg-white p-6">
            {match s.preview {
                Some(preview) => view! {
                    <h2 class="text-lg font-semibold">"Preview"</h2>
                    <p class="mt-1" role="status">{format!("{} rows: {} ready to import, {} with errors.", preview.total_rows, preview.valid_rows, preview.total_rows - preview.valid_rows)}</p>
                    <table class="mt-3 w-full text-left text-sm">
                        <caption class="text-left text-sm text-slate-500">"The first rows as they will be read"</caption>
                        <thead><tr class="border-b"><th class="p-2">"SKU"</th><th class="p-2">"Name"</th><th class="p-2">"Kind"</th><th class="p-2">"GTIN"</th></tr></thead>
                        <tbody>{preview.sample.into_iter().map(|p| view! { <tr class="border-b"><td class="p-2 font-mono">{p.sku}</td><td class="p-2">{p.name}</td><td class="p-2">{p.kind}</td><td class="p-2 font-mono">{p.gtin.unwrap_or_default()}</td></tr> }).collect_view()}</tbody>
                    </table>
                    <form method="post" action=format!("/command/catalog/import/{id}/start") class="mt-4">
                        <button type="submit" class=BUTTON>{format!("Import {} rows", preview.valid_rows)}</button>
                        <a href="/command/catalog/import" class="ml-3 text-indigo-700 underline">"Choose another file"</a>
                    </form>
                }.into_any(),
                None => view! {
                    <h2 class="text-lg font-semibold">{match job.status.as_str() { "running" => "Importing…", "done" => "Import finished", _ => "Import failed" }}</h2>
                    <label for="progress" class="mt-3 block text-sm">{format!("{done} of {} rows processed ({pct}%)", job.total_rows)}</label>
                    <progress id="progress" class="h-4 w-full" max=job.total_rows value=done>{format!("{pct}%")}</progress>
                    <p class="mt-3" role="status">{format!("Created {} · updated {} · unchanged {} · failed {}", job.created_rows, job.updated_rows, job.unchanged_rows, job.failed_rows)}</p>
                    {(job.status == "done").then(|| view! { <a href="/command/products" class="mt-3 inline-block text-indigo-700 underline">"See the products"</a> })}
                }.into_any(),
            }}
            {(!errors.is_empty()).then(|| view! {
                <h3 class="mt-6 font-semibold">"Rows with errors"</h3>
                <table class="mt-2 w-full text-left text-sm">
                    <thead><tr class="border-b"><th class="p-2">"Line"</th><th class="p-2">"SKU"</th><th class="p-2">"Problem"</th></tr></thead>
                    <tbody>{errors.into_iter().map(|e| view! { <tr class="border-b"><td class="p-2 tabular-nums">{e.line}</td><td class="p-2 font-mono">{e.sku}</td><td class="p-2">{e.message}</td></tr> }).collect_view()}</tbody>
                </table>
            })}
        </section>
    }
}
