//! The order workbench: the filtered order list with saved views and bulk
//! actions, the bulk confirmation, and the order page (lines, totals,
//! payment, holds with their release, stock, notes and the timeline).
//!
//! Writes are HTML forms posted to the server's form handlers, which redirect
//! back with a notice or an error, so every page works without JavaScript.

use domain::{
    orders::{HoldReason, OrderStatus},
    views::{Order, OrderFilter, OrderSummary},
};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::orders::api::{order_detail, orders_by_id, orders_page, OrderView, OrdersView};
use crate::{
    components::url::urlencode,
    components::{
        query_param, short_time, CommandFrame, Empty, ErrorBox, FieldAlert, Notice, Refused,
    },
};

const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";
const BUTTON: &str = "rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-400";
const QUIET: &str = "rounded border px-4 py-2 hover:bg-slate-100";

/// The filter keys, in the order the query string and saved views use.
const FILTER_KEYS: [&str; 15] = [
    "q",
    "status",
    "hold",
    "backordered",
    "channel",
    "warehouse",
    "from",
    "to",
    "shipped_from",
    "shipped_to",
    "shipped",
    "min_total",
    "max_total",
    "customer",
    "tag",
];

fn filter_from(get: &dyn Fn(&str) -> String) -> OrderFilter {
    let opt = |k: &str| Some(get(k)).filter(|v| !v.is_empty());
    OrderFilter {
        q: opt("q"),
        status: opt("status"),
        hold: opt("hold"),
        backordered: opt("backordered"),
        channel: opt("channel"),
        warehouse: opt("warehouse"),
        from: opt("from"),
        to: opt("to"),
        shipped_from: opt("shipped_from"),
        shipped_to: opt("shipped_to"),
        shipped: opt("shipped"),
        min_total: opt("min_total"),
        max_total: opt("max_total"),
        customer: opt("customer"),
        tag: opt("tag"),
        limit: Some(50),
        cursor: opt("cursor"),
    }
}

/// The query string of the current filters (no cursor), for links and views.
fn query_of(get: &dyn Fn(&str) -> String) -> String {
    FILTER_KEYS
        .iter()
        .filter_map(|k| {
            let v = get(k);
            (!v.is_empty()).then(|| format!("{k}={}", urlencode(&v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn status_badge(status: &str) -> impl IntoView {
    let color = match status {
        "received" => "bg-amber-100 text-amber-900",
        "confirmed" => "bg-sky-100 text-sky-900",
        "cancelled" => "bg-slate-200 text-slate-700",
        "shipped" | "delivered" | "closed" => "bg-green-100 text-green-900",
        _ => "bg-indigo-100 text-indigo-900",
    };
    view! { <span class=format!("rounded px-2 py-0.5 text-xs font-semibold {color}")>{status.replace('_', " ")}</span> }
}

fn hold_label(reason: &str) -> String {
    HoldReason::parse(reason).map_or(reason.to_string(), |r| r.label().to_string())
}

fn select(
    name: &'static str,
    label: &'static str,
    current: String,
    options: Vec<(String, String)>,
) -> impl IntoView {
    view! {
        <div>
            <label for=format!("f-{name}") class="block text-sm font-medium">{label}</label>
            <select id=format!("f-{name}") name=name class="mt-1 rounded border px-2 py-2">
                {options.into_iter().map(|(v, l)| { let sel = current == v; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
            </select>
        </div>
    }
}

fn text_filter(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    width: &'static str,
) -> impl IntoView {
    view! {
        <div>
            <label for=format!("f-{name}") class="block text-sm font-medium">{label}</label>
            <input id=format!("f-{name}") name=name type=kind value=value class=format!("mt-1 rounded border px-2 py-2 {width}") />
        </div>
    }
}

fn filters_form(
    get: &dyn Fn(&str) -> String,
    channels: Vec<String>,
    warehouses: Vec<String>,
) -> AnyView {
    let any = || vec![(String::new(), "Any".to_string())];
    let mut statuses = any();
    statuses.push(("open".into(), "Open (not shipped or cancelled)".into()));
    statuses.extend(
        OrderStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), s.to_string())),
    );
    let mut holds = any();
    holds.push(("any".into(), "Held, any reason".into()));
    holds.extend(
        HoldReason::ALL
            .iter()
            .map(|h| (h.as_str().to_string(), h.label().to_string())),
    );
    let mut chans = any();
    chans.extend(channels.into_iter().map(|c| (c.clone(), c)));
    let mut whs = any();
    whs.extend(warehouses.into_iter().map(|w| (w.clone(), w)));
    view! {
        <form method="get" action="/command/orders" role="search" aria-label="Filter orders" class="mb-4 grid grid-cols-2 gap-3 rounded-lg border bg-white p-4 sm:grid-cols-3 lg:grid-cols-6">
            <div class="col-span-2 sm:col-span-3 lg:col-span-2">
                <label for="f-q" class="block text-sm font-medium">"Search number, external id, email or name " <kbd class="rounded border px-1 text-xs">"/"</kbd></label>
                <input id="f-q" name="q" type="search" value=get("q") class=INPUT />
            </div>
            {select("status", "Status", get("status"), statuses)}
            {select("hold", "Hold", get("hold"), holds)}
            {select("backordered", "Waiting for stock", get("backordered"), vec![(String::new(), "Any".to_string()), ("true".into(), "Backordered units".into())])}
            {select("channel", "Channel", get("channel"), chans)}
            {select("warehouse", "Warehouse", get("warehouse"), whs)}
            {text_filter("from", "Placed from", "date", get("from"), "w-full")}
            {text_filter("to", "Placed to", "date", get("to"), "w-full")}
            {text_filter("shipped_from", "Shipped from", "date", get("shipped_from"), "w-full")}
            {text_filter("shipped_to", "Shipped to", "date", get("shipped_to"), "w-full")}
            {select("shipped", "Against ship-by", get("shipped"), vec![(String::new(), "Any".to_string()), ("on_time".into(), "Shipped on time".into()), ("late".into(), "Shipped late".into())])}
            {text_filter("min_total", "Total at least", "text", get("min_total"), "w-full")}
            {text_filter("max_total", "Total at most", "text", get("max_total"), "w-full")}
            {text_filter("customer", "Customer email", "email", get("customer"), "w-full")}
            {text_filter("tag", "Tag", "text", get("tag"), "w-full")}
            <div class="col-span-2 flex items-end gap-2 sm:col-span-3 lg:col-span-6">
                <button type="submit" class=BUTTON>"Apply filters"</button>
                <a href="/command/orders" class="px-2 py-2 text-indigo-700 underline">"Clear"</a>
            </div>
        </form>
    }
    .into_any()
}

fn order_row(o: OrderSummary, can_edit: bool) -> impl IntoView {
    let holds = o.holds.clone();
    view! {
        <tr class="border-t align-top" class:bg-amber-50=!holds.is_empty()>
            {can_edit.then(|| view! {
                <td class="p-2"><input type="checkbox" name="ids" value=o.id.clone() form="bulk" aria-label=format!("Select {}", o.number) class="h-5 w-5" /></td>
            })}
            <td class="p-2 font-mono"><a class="text-indigo-700 underline" href=format!("/command/orders/{}", urlencode(&o.id))>{o.number.clone()}</a></td>
            <td class="p-2 whitespace-nowrap">{short_time(&o.placed_at)}</td>
            <td class="p-2">{o.channel.clone()}<span class="block text-xs text-slate-500">{o.external_id.clone()}</span></td>
            <td class="p-2">{o.customer_name.clone()}<span class="block text-xs text-slate-500">{o.customer_email.clone()}</span></td>
            <td class="p-2">{status_badge(&o.status)}</td>
            <td class="p-2">
                {holds.iter().map(|h| view! { <span class="mr-1 inline-block rounded bg-amber-200 px-2 py-0.5 text-xs font-medium text-amber-950">{hold_label(h)}</span> }).collect_view()}
            </td>
            <td class="p-2">{o.warehouse.clone().unwrap_or_default()}</td>
            <td class="p-2 text-right tabular-nums">{o.total.amount().to_string()} " " {o.total.currency().code()}</td>
        </tr>
    }
}

fn orders_table(v: OrdersView, query: String, next_href: Option<String>) -> AnyView {
    if v.page.items.is_empty() {
        return view! { <Empty message="No orders match these filters. Clear a filter or widen the dates." /> }.into_any();
    }
    let can_edit = v.can_edit;
    view! {
        {can_edit.then(|| bulk_form(query.clone()))}
        <table class="w-full border bg-white text-left text-sm">
            <caption class="sr-only">"Orders, newest first"</caption>
            <thead class="bg-slate-100">
                <tr>
                    {can_edit.then(|| view! { <th class="p-2"><span class="sr-only">"Select"</span></th> })}
                    <th class="p-2">"Order"</th><th class="p-2">"Placed"</th><th class="p-2">"Channel"</th><th class="p-2">"Customer"</th>
                    <th class="p-2">"Status"</th><th class="p-2">"Holds"</th><th class="p-2">"Warehouse"</th><th class="p-2 text-right">"Total"</th>
                </tr>
            </thead>
            <tbody>{v.page.items.into_iter().map(|o| order_row(o, can_edit)).collect_view()}</tbody>
        </table>
        {next_href.map(|h| view! { <a class="mt-4 inline-block text-indigo-700 underline" href=h>"Next page"</a> })}
    }
    .into_any()
}

fn bulk_form(query: String) -> impl IntoView {
    view! {
        <form id="bulk" method="post" action="/command/orders/bulk" aria-label="Bulk action on the selected orders" class="mb-3 flex flex-wrap items-end gap-3 rounded-lg border bg-white p-3">
            <input type="hidden" name="back" value=query />
            <div>
                <label for="b-action" class="block text-sm font-medium">"With the selected orders"</label>
                <select id="b-action" name="action" class="mt-1 rounded border px-2 py-2">
                    <option value="release_hold">"Release holds"</option>
                    <option value="tag">"Add a tag"</option>
                    <option value="cancel">"Cancel"</option>
                </select>
            </div>
            <div>
                <label for="b-reason" class="block text-sm font-medium">"Hold reason or cancel reason"</label>
                <input id="b-reason" name="reason" class="mt-1 rounded border px-2 py-2" placeholder="e.g. payment_pending" />
            </div>
            <div>
                <label for="b-tag" class="block text-sm font-medium">"Tag to add"</label>
                <input id="b-tag" name="tag" class="mt-1 rounded border px-2 py-2" />
            </div>
            <button type="submit" class=QUIET>"Review…"</button>
        </form>
    }
}

#[component]
pub fn Orders() -> impl IntoView {
    let query = use_query_map();
    let (notice, error) = (query_param("notice"), query_param("error"));
    let get = move |k: &str| query.read().get(k).unwrap_or_default();
    let page = Resource::new(move || filter_from(&get), orders_page);
    view! {
        <CommandFrame title="Orders">
            <Notice message=notice() />
            {(!error().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=error() /></div> })}
            <SearchShortcut />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let get = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
                    match page.await {
                        Ok(v) => {
                            let q = query_of(&get);
                            let next_href = v.page.next_cursor.clone().map(|c| {
                                let sep = if q.is_empty() { "" } else { "&" };
                                format!("/command/orders?{q}{sep}cursor={}", urlencode(&c))
                            });
                            view! {
                                {v.can_edit.then(|| view! { <p class="mb-2 text-right"><a href="/command/orders/import" class="text-indigo-700 underline">"Import a marketplace order report"</a></p> })}
                                {saved_views(&v, q.clone())}
                                {filters_form(&get, v.channels.clone(), v.warehouses.clone())}
                                {orders_table(v, q, next_href)}
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </CommandFrame>
    }
}

fn saved_views(v: &OrdersView, query: String) -> impl IntoView {
    let quick = [
        ("All orders", String::new()),
        ("Held", "hold=any".to_string()),
        ("Payment failed", "hold=payment_failed".to_string()),
        ("Backorders", "backordered=true".to_string()),
        ("Confirmed", "status=confirmed".to_string()),
    ];
    let current = query.clone();
    view! {
        <nav aria-label="Views" class="mb-3 flex flex-wrap items-center gap-2 text-sm">
            {quick.into_iter().chain(v.views.iter().map(|s| (s.name.as_str(), s.query.clone()))).map(|(name, q)| {
                let here = q == current;
                let href = if q.is_empty() { "/command/orders".to_string() } else { format!("/command/orders?{q}") };
                view! { <a href=href aria-current=here.then_some("page") class="rounded-full border px-3 py-1 hover:bg-slate-100 aria-[current=page]:bg-slate-800 aria-[current=page]:text-white">{name.to_string()}</a> }
            }).collect_view()}
            <form method="post" action="/command/orders/views" class="ml-auto flex items-center gap-2">
                <input type="hidden" name="query" value=query />
                <label for="v-name" class="sr-only">"Name for this view"</label>
                <input id="v-name" name="name" required maxlength="60" placeholder="Name this view" class="rounded border px-2 py-1" />
                <button type="submit" class="rounded border px-3 py-1 hover:bg-slate-100">"Save view"</button>
            </form>
        </nav>
    }
}

/// "/" focuses the search box, as in most list tools; JavaScript only, and
/// ignored while typing in a field.
#[component]
fn SearchShortcut() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, |ev| {
            if ev.key() != "/" {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                });
            if typing {
                return;
            }
            if let Some(el) = document()
                .get_element_by_id("f-q")
                .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
            {
                ev.prevent_default();
                let _ = el.focus();
            }
        });
        on_cleanup(move || handle.remove());
    }
}

/// The confirmation step of a bulk action: the orders and what will happen.
#[component]
pub fn BulkConfirm() -> impl IntoView {
    let query = use_query_map();
    let all = move |k: &str| query.read_untracked().get_all(k).unwrap_or_default();
    let one = move |k: &str| query.read_untracked().get(k).unwrap_or_default();
    let ids = all("ids");
    let list = Resource::new(move || ids.clone(), orders_by_id);
    let action = one("action");
    let (reason, note, tag, back) = (one("reason"), one("note"), one("tag"), one("back"));
    let what = match action.as_str() {
        "release_hold" if reason.is_empty() => "Release every open hold on".to_string(),
        "release_hold" => format!("Release the “{}” hold on", hold_label(&reason)),
        "cancel" => format!("Cancel (reason: “{reason}”)"),
        "tag" => format!("Tag with “{tag}”"),
        _ => "Change".to_string(),
    };
    let back_href = if back.is_empty() {
        "/command/orders".to_string()
    } else {
        format!("/command/orders?{back}")
    };
    view! {
        <CommandFrame title="Confirm bulk action">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let (what, action, reason, note, tag, back, back_href) = (what.clone(), action.clone(), reason.clone(), note.clone(), tag.clone(), back.clone(), back_href.clone());
                    Suspend::new(async move {
                        match list.await {
                            Ok(orders) if orders.is_empty() => view! { <Empty message="None of the selected orders exist any more." /> }.into_any(),
                            Ok(orders) => view! {
                                <form method="post" action="/command/orders/bulk" class="max-w-2xl rounded-lg border bg-white p-6">
                                    <h2 class="text-lg font-semibold">{format!("{what} {} orders?", orders.len())}</h2>
                                    <ul class="mt-3 list-disc pl-6">
                                        {orders.iter().map(|o| view! {
                                            <li><span class="font-mono">{o.number.clone()}</span> " · " {o.customer_name.clone()} " · " {o.status.replace('_', " ")}
                                                {(!o.holds.is_empty()).then(|| format!(" · held: {}", o.holds.iter().map(|h| hold_label(h)).collect::<Vec<_>>().join(", ")))}
                                                <input type="hidden" name="ids" value=o.id.clone() /></li>
                                        }).collect_view()}
                                    </ul>
                                    <input type="hidden" name="action" value=action />
                                    <input type="hidden" name="reason" value=reason />
                                    <input type="hidden" name="tag" value=tag />
                                    <input type="hidden" name="back" value=back />
                                    <input type="hidden" name="confirm" value="yes" />
                                    <label for="c-note" class="mt-4 block text-sm font-medium">"Note for the timeline (optional)"</label>
                                    <input id="c-note" name="note" value=note class=INPUT />
                                    <div class="mt-4 flex gap-3">
                                        <button type="submit" class=BUTTON>"Confirm"</button>
                                        <a href=back_href class=QUIET>"Go back"</a>
                                    </div>
                                </form>
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
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let (notice, error) = (query_param("notice"), query_param("error"));
    let refused = Refused::read();
    let order = Resource::new(id, order_detail);
    view! {
        <CommandFrame title="Order">
            <Notice message=notice() />
            {(!error().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=error() /></div> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let refused = refused.clone();
                    Suspend::new(async move {
                        match order.await {
                            Ok(v) => order_view(v, refused),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

fn order_view(v: OrderView, refused: Refused) -> AnyView {
    let o = v.order;
    let can_edit = v.can_edit && OrderStatus::parse(&o.status).is_some_and(|s| s.is_editable());
    view! {
        <div class="mb-4 flex flex-wrap items-baseline gap-3">
            <h2 class="font-mono text-2xl font-bold">{o.number.clone()}</h2>
            {status_badge(&o.status)}
            <span class="text-sm text-slate-600">{format!("{} · external id {} · placed {}", o.channel, o.external_id, short_time(&o.placed_at))}</span>
            <span class="text-sm text-slate-600">{format!("Manual touches: {}", o.manual_touches)}</span>
        </div>
        {holds_panel(&o, can_edit)}
        <div class="grid gap-4 lg:grid-cols-3">
            <div class="space-y-4 lg:col-span-2">
                {lines_section(&o)}
                {stock_section(&o)}
                {timeline_section(&o)}
            </div>
            <div class="space-y-4">
                {customer_section(&o)}
                {payment_section(&o)}
                {actions_section(&o, can_edit, &refused)}
            </div>
        </div>
    }
    .into_any()
}

fn section(title: &'static str, body: AnyView) -> AnyView {
    let id = format!("s-{}", title.to_lowercase().replace(' ', "-"));
    let heading = id.clone();
    view! {
        <section aria-labelledby=id class="rounded-lg border bg-white p-4">
            <h3 id=heading class="mb-2 text-lg font-semibold">{title}</h3>
            {body}
        </section>
    }
    .into_any()
}

fn holds_panel(o: &Order, can_edit: bool) -> AnyView {
    if o.holds.is_empty() {
        return ().into_any();
    }
    let id = o.id.clone();
    view! {
        <section aria-labelledby="s-holds" class="mb-4 rounded-lg border-2 border-amber-400 bg-amber-50 p-4">
            <h3 id="s-holds" class="text-lg font-semibold">"On hold: this order won't reach the warehouse until every hold is released"</h3>
            <ul class="mt-2 space-y-3">
                {o.holds.iter().map(|h| {
                    let action = format!("/command/orders/{}/holds/{}/release", urlencode(&id), urlencode(&h.id));
                    let note_id = format!("note-{}", h.id);
                    view! {
                        <li class="rounded border border-amber-300 bg-white p-3">
                            <p class="font-semibold">{h.label.clone()}</p>
                            <p class="text-sm">{h.detail.clone()}</p>
                            <p class="text-xs text-slate-500">{format!("Placed by {} at {}", h.placed_by, short_time(&h.placed_at))}</p>
                            {can_edit.then(|| view! {
                                <form method="post" action=action class="mt-2 flex flex-wrap items-end gap-2">
                                    <div>
                                        <label for=note_id.clone() class="block text-xs font-medium">"Note (optional)"</label>
                                        <input id=note_id name="note" class="rounded border px-2 py-1" />
                                    </div>
                                    <button type="submit" class=BUTTON aria-label=format!("Release hold: {}", h.label)>"Release hold"</button>
                                </form>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

fn lines_section(o: &Order) -> AnyView {
    let t = &o.totals;
    let row = |label: &'static str, m: domain::Money, strong: bool| {
        view! { <tr class:font-bold=strong><th scope="row" class="p-1 text-right font-normal">{label}</th><td class="p-1 text-right tabular-nums">{m.amount().to_string()}</td></tr> }
    };
    let stated = o.stated_totals.clone();
    let stated_text = ["subtotal", "discount", "tax", "total"]
        .iter()
        .filter_map(|k| {
            stated
                .get(*k)
                .and_then(|v| v.as_str())
                .map(|v| format!("{k} {v}"))
        })
        .collect::<Vec<_>>()
        .join(", ");
    section(
        "Lines and totals",
        view! {
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Order lines"</caption>
                <thead class="bg-slate-100"><tr><th class="p-2">"SKU"</th><th class="p-2">"Item"</th><th class="p-2 text-right">"Qty"</th><th class="p-2 text-right">"Backordered"</th><th class="p-2 text-right">"Unit price"</th><th class="p-2 text-right">"Discount"</th><th class="p-2 text-right">"Line total"</th></tr></thead>
                <tbody>
                    {o.lines.iter().map(|l| view! {
                        <tr class="border-t">
                            <td class="p-2 font-mono">{if l.known { view! { <a class="text-indigo-700 underline" href=format!("/command/products/{}", urlencode(&l.sku))>{l.sku.clone()}</a> }.into_any() } else { view! { <span>{l.sku.clone()} " (not in catalogue)"</span> }.into_any() }}</td>
                            <td class="p-2">{l.name.clone()}{(l.cancelled_quantity > 0).then(|| format!(" · {} cancelled", l.cancelled_quantity))}</td>
                            <td class="p-2 text-right tabular-nums">{l.quantity}</td>
                            <td class="p-2 text-right tabular-nums" class:text-red-700=(l.backordered_quantity > 0)>{l.backordered_quantity}</td>
                            <td class="p-2 text-right tabular-nums">{l.unit_price.amount().to_string()}</td>
                            <td class="p-2 text-right tabular-nums">{l.discount.amount().to_string()}</td>
                            <td class="p-2 text-right tabular-nums">{l.total.amount().to_string()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <table class="ml-auto mt-3 text-sm">
                <caption class="sr-only">{format!("Totals in {}", o.currency)}</caption>
                <tbody>
                    {row("Subtotal", t.subtotal, false)}
                    {row("Discounts", t.discount, false)}
                    {row("Shipping", t.shipping, false)}
                    {row(if t.prices_include_tax { "Tax (included)" } else { "Tax" }, t.tax, false)}
                    {row("Total", t.total, true)}
                </tbody>
            </table>
            <p class="mt-1 text-right text-xs text-slate-500">{format!("Amounts in {}.", o.currency)}</p>
            {(!stated_text.is_empty()).then(|| view! { <p class="mt-1 text-right text-xs text-slate-500">{format!("The channel stated: {stated_text}.")}</p> })}
        }
        .into_any(),
    )
}

/// Cancels units of one line: the line, how many, and why. Only lines with
/// open units are offered.
fn cancel_line_form(o: &Order, base: &str, refused: &Refused) -> AnyView {
    let open: Vec<_> = o
        .lines
        .iter()
        .filter(|l| l.quantity > l.cancelled_quantity)
        .map(|l| {
            (
                l.line_no,
                format!(
                    "{} · {} ({} open)",
                    l.sku,
                    l.name,
                    l.quantity - l.cancelled_quantity
                ),
            )
        })
        .collect();
    if open.is_empty() {
        return ().into_any();
    }
    let (line_error, qty_error, reason_error) = (
        refused.error("cancel_line-line"),
        refused.error("cancel_line-quantity"),
        refused.error("cancel_line-reason"),
    );
    let reopen = !line_error.is_empty() || !qty_error.is_empty() || !reason_error.is_empty();
    let typed_qty = refused.value("cancel_line-quantity", "1".to_string());
    let typed_reason = refused.value("cancel_line-reason", String::new());
    view! {
        <details class="mt-4" open=reopen>
            <summary class="cursor-pointer text-sm font-medium">"Cancel units of a line"</summary>
            <form method="post" action=format!("{base}/lines/cancel") class="mt-2 grid grid-cols-2 gap-2">
                <div class="col-span-2">
                    <label for="cl-line" class="block text-xs font-medium">"Line"</label>
                    <select id="cl-line" name="line" class=INPUT aria-invalid=(!line_error.is_empty()).then_some("true")
                        aria-describedby=(!line_error.is_empty()).then_some("cl-line-error")>
                        {open.into_iter().map(|(n, label)| view! { <option value=n.to_string()>{label}</option> }).collect_view()}
                    </select>
                    <FieldAlert id="cl-line-error".to_string() label="Line".to_string() message=line_error />
                </div>
                <div>
                    <label for="cl-qty" class="block text-xs font-medium">"Units to cancel"</label>
                    <input id="cl-qty" name="quantity" type="number" min="1" value=typed_qty required inputmode="numeric" class=INPUT
                        aria-invalid=(!qty_error.is_empty()).then_some("true") aria-describedby=(!qty_error.is_empty()).then_some("cl-qty-error") />
                    <FieldAlert id="cl-qty-error".to_string() label="Units to cancel".to_string() message=qty_error />
                </div>
                <div>
                    <label for="cl-reason" class="block text-xs font-medium">"Because…"</label>
                    <input id="cl-reason" name="reason" required value=typed_reason class=INPUT
                        aria-invalid=(!reason_error.is_empty()).then_some("true") aria-describedby=(!reason_error.is_empty()).then_some("cl-reason-error") />
                    <FieldAlert id="cl-reason-error".to_string() label="Because…".to_string() message=reason_error />
                </div>
                <p class="col-span-2 text-xs text-slate-500">"The line's stock is released; the totals stay as the channel charged them."</p>
                <button type="submit" class=format!("{QUIET} col-span-2")>"Cancel units"</button>
            </form>
        </details>
    }
    .into_any()
}

fn stock_section(o: &Order) -> AnyView {
    let waiting: Vec<String> = o
        .lines
        .iter()
        .filter(|l| l.backordered_quantity > 0)
        .map(|l| format!("{} × {}", l.backordered_quantity, l.sku))
        .collect();
    let reservation = match &o.reservation {
        None => "No stock is reserved for this order.".to_string(),
        Some(r) => format!("Reservation {} is {}.", r.id, r.status),
    };
    let body = view! {
        <p class="text-sm">{reservation}</p>
        {(!waiting.is_empty()).then(|| view! {
            <p class="mt-2 rounded bg-amber-50 p-2 text-sm text-amber-900">
                {format!("Waiting for stock: {}. They are sourced as soon as stock arrives.", waiting.join(", "))}
            </p>
        })}
        <h3 class="mt-3 text-sm font-semibold">"Fulfilments"</h3>
        {o.fulfillments.is_empty().then(|| view! { <p class="text-sm text-slate-600">"None yet: nothing is planned to ship."</p> })}
        <ul class="mt-2 space-y-2 text-sm" aria-label="Fulfilments">
            {o.fulfillments.iter().map(|f| view! {
                <li class="rounded border p-2" class:opacity-60=(f.status == "cancelled")>
                    <p class="font-semibold">{format!("{}-{} · {} · {}", o.number, f.seq, f.warehouse, f.status)}</p>
                    <p>{f.lines.iter().map(|l| format!("{} × {}", l.quantity, l.sku)).collect::<Vec<_>>().join(", ")}</p>
                    <p class="text-slate-600">{f.reason.clone()}</p>
                </li>
            }).collect_view()}
        </ul>
    };
    section("Stock and fulfilments", body.into_any())
}

fn timeline_section(o: &Order) -> AnyView {
    section(
        "Timeline",
        view! {
            <ol class="space-y-2 text-sm">
                {o.timeline.iter().map(|t| view! {
                    <li class="border-l-4 border-indigo-300 pl-3">
                        <p>{t.summary.clone()}</p>
                        <p class="text-xs text-slate-500">{format!("{} · {} ({})", short_time(&t.at), t.actor, t.actor_kind)}</p>
                    </li>
                }).collect_view()}
            </ol>
            {(!o.notes.is_empty()).then(|| view! {
                <h4 class="mt-4 font-semibold">"Notes"</h4>
                <ul class="mt-1 space-y-2 text-sm">
                    {o.notes.iter().map(|n| view! { <li><p>{n.body.clone()}</p><p class="text-xs text-slate-500">{format!("{} · {}", n.author, short_time(&n.created_at))}</p></li> }).collect_view()}
                </ul>
            })}
        }
        .into_any(),
    )
}

fn customer_section(o: &Order) -> AnyView {
    let c = &o.customer;
    section(
        "Customer",
        view! {
            <p class="font-medium">{c.name.clone()}</p>
            <p class="text-sm"><a class="text-indigo-700 underline" href=format!("/command/orders?customer={}", urlencode(&c.email))>{c.email.clone()}</a></p>
            <p class="text-sm text-slate-600">{format!("{} orders in all", c.orders_count)}</p>
            <h4 class="mt-3 text-sm font-semibold">"Ship to"</h4>
            <p class="text-sm">{o.ship_to.one_line()}</p>
            <p class="text-sm text-slate-600">{o.shipping_method.clone()}</p>
            {o.bill_to.as_ref().map(|b| view! { <h4 class="mt-3 text-sm font-semibold">"Bill to"</h4><p class="text-sm">{b.one_line()}</p> })}
            {(!o.tags.is_empty()).then(|| view! { <p class="mt-3 text-sm">"Tags: " {o.tags.join(", ")}</p> })}
        }
        .into_any(),
    )
}

fn payment_section(o: &Order) -> AnyView {
    section(
        "Payment and risk",
        view! {
            <p class="text-sm">"Payment: " <strong>{o.payment_status.clone()}</strong></p>
            <p class="text-sm">{format!("Fraud score {}", o.fraud.score)}</p>
            {(!o.fraud.reasons.is_empty()).then(|| view! { <ul class="list-disc pl-5 text-sm">{o.fraud.reasons.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul> })}
        }
        .into_any(),
    )
}

fn actions_section(o: &Order, can_edit: bool, refused: &Refused) -> AnyView {
    if !can_edit {
        return ().into_any();
    }
    let base = format!("/command/orders/{}", urlencode(&o.id));
    let a = o.ship_to.clone();
    // After a refusal the address form opens with each message beside its
    // field and what was typed kept.
    let field = |name: &'static str, label: &'static str, stored: String| {
        let error = refused.error(name);
        let invalid = !error.is_empty();
        view! {
            <div>
                <label for=format!("a-{name}") class="block text-xs font-medium">{label}</label>
                <input id=format!("a-{name}") name=name value=refused.value(name, stored) class="w-full rounded border px-2 py-1"
                    aria-invalid=invalid.then_some("true") aria-describedby=invalid.then(|| format!("a-{name}-error")) />
                <FieldAlert id=format!("a-{name}-error") label=label.to_string() message=error />
            </div>
        }
    };
    let note_error = Some(refused.error("note-body")).filter(|e| !e.is_empty());
    let address_refused = refused.any(&[
        "name", "line1", "line2", "city", "region", "postcode", "country", "phone",
    ]);
    section(
        "Actions",
        view! {
            <form method="post" action=format!("{base}/note") class="space-y-1">
                <label for="o-note" class="block text-sm font-medium">"Add a note"</label>
                <textarea id="o-note" name="body" rows="2" required class=INPUT aria-invalid=note_error.is_some().then_some("true")
                    aria-describedby=note_error.is_some().then_some("o-note-error")>{refused.value("note-body", String::new())}</textarea>
                <FieldAlert id="o-note-error".to_string() label="Add a note".to_string() message=note_error.unwrap_or_default() />
                <button type="submit" class=QUIET>"Add note"</button>
            </form>
            <form method="post" action=format!("{base}/tags") class="mt-4 grid grid-cols-2 gap-2">
                <div>{action_input(refused, ("o-add", "add", "tags-add"), "Add tags", false)}</div>
                <div>{action_input(refused, ("o-remove", "remove", "tags-remove"), "Remove tags", false)}</div>
                <button type="submit" class=format!("{QUIET} col-span-2")>"Update tags"</button>
            </form>
            <form method="post" action=format!("{base}/hold") class="mt-4 space-y-1">
                {action_input(refused, ("o-hold", "detail", "hold-detail"), "Hold this order because…", true)}
                <button type="submit" class=QUIET>"Put on hold"</button>
            </form>
            <details class="mt-4" open=address_refused>
                <summary class="cursor-pointer text-sm font-medium">"Change the shipping address"</summary>
                <form method="post" action=format!("{base}/address") class="mt-2 grid grid-cols-2 gap-2" novalidate>
                    <input type="hidden" name="version" value=o.version.to_string() />
                    {field("name", "Name", a.name)}
                    {field("line1", "Street", a.line1)}
                    {field("line2", "Apartment, suite", a.line2)}
                    {field("city", "City", a.city)}
                    {field("region", "State or region", a.region)}
                    {field("postcode", "Postcode", a.postcode)}
                    {field("country", "Country (2 letters)", a.country)}
                    {field("phone", "Phone", a.phone)}
                    <button type="submit" class=format!("{QUIET} col-span-2")>"Save address"</button>
                </form>
            </details>
            {cancel_line_form(o, &base, refused)}
            <form method="post" action=format!("{base}/cancel") class="mt-4 space-y-1 border-t pt-4">
                {action_input(refused, ("o-cancel", "reason", "cancel-reason"), "Cancel the order because…", true)}
                <button type="submit" class="rounded bg-red-700 px-4 py-2 font-semibold text-white hover:bg-red-800">"Cancel order"</button>
            </form>
        }
        .into_any(),
    )
}

/// A labelled input of one of the order's action forms. `field` is the
/// input's id, its name, and its key in a refusal (`hold-detail`: the page
/// has several forms, so the key carries the form's name).
fn action_input(
    refused: &Refused,
    field: (&'static str, &'static str, &'static str),
    label: &'static str,
    required: bool,
) -> impl IntoView {
    let (id, name, key) = field;
    let error = refused.error(key);
    let invalid = !error.is_empty();
    let err_id = format!("{id}-error");
    view! {
        <label for=id class="block text-sm font-medium">{label}</label>
        <input id=id name=name required=required value=refused.value(key, String::new()) class=INPUT
            aria-invalid=invalid.then_some("true") aria-describedby=invalid.then(|| err_id.clone()) />
        <FieldAlert id=err_id label=label.to_string() message=error />
    }
}
