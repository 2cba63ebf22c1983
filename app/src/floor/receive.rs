//! Receiving at the dock: pick an announced delivery (or open a blind
//! receipt), then scan each item, its lot when asked, a quantity (or the
//! item once per unit), and the bin the units go into. Scans queue on the
//! device like picks when the network drops.

use crate::problem::Problem;
use domain::views::{Delivery, DeliverySummary, Page};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    camera_button, floor_error, focus_on_mount, offline,
    pick::{scan_feedback, FIELD, GO},
    FloorFrame,
};
use crate::components::{query_param, short_time, ErrorBox};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiveStartView {
    pub deliveries: Page<DeliverySummary>,
    pub warehouses: Vec<String>,
}

#[server(prefix = "/sfn", endpoint = "receive_start")]
pub async fn receive_start(warehouse: String, cursor: String) -> Result<ReceiveStartView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let filter = backend::receiving::DeliveryFilter {
        warehouse: Some(warehouse),
        status: Some("open".into()),
        limit: Some(25),
        cursor: (!cursor.is_empty()).then_some(cursor),
        ..Default::default()
    };
    let deliveries = backend::receiving::list_deliveries(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)?;
    let warehouses = crate::ssr::warehouse_codes(&db, &ctx).await?;
    Ok(ReceiveStartView {
        deliveries,
        warehouses,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DockView {
    pub delivery: Delivery,
    pub key: String,
}

#[server(prefix = "/sfn", endpoint = "delivery_screen")]
pub async fn delivery_screen(id: String) -> Result<DockView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let delivery = backend::receiving::get_delivery(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(DockView {
        delivery,
        key: backend::fulfillment::scan_key(),
    })
}

#[component]
pub fn ReceiveStart() -> impl IntoView {
    let (err, warehouse, cursor) = (
        query_param("error"),
        query_param("warehouse"),
        query_param("cursor"),
    );
    let chosen = warehouse.clone();
    let data = Resource::new(
        move || (warehouse(), cursor()),
        |(w, c)| receive_start(w, c),
    );
    view! {
        <FloorFrame title="Receive">
            {floor_error(err())}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let chosen = chosen.clone();
                    Suspend::new(async move {
                    match data.await {
                        Ok(v) => start_screen(v, chosen()).into_any(),
                        Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                    }
                })}}
            </Suspense>
        </FloorFrame>
    }
}

fn start_screen(v: ReceiveStartView, chosen: String) -> impl IntoView {
    let ReceiveStartView {
        deliveries,
        warehouses,
    } = v;
    let next = deliveries.next_cursor.clone().map(|c| {
        format!(
            "/floor/receive?warehouse={}&cursor={}",
            crate::components::url::urlencode(&chosen),
            crate::components::url::urlencode(&c)
        )
    });
    let options = move |selected: &str| {
        warehouses
            .iter()
            .map(|w| view! { <option value=w.clone() selected=w == selected>{w.clone()}</option> })
            .collect_view()
    };
    view! {
        <form method="get" action="/floor/receive" class="mb-6 flex flex-wrap items-end gap-3 rounded-xl bg-slate-800 p-4">
            <div class="min-w-48 flex-1">
                <label for="filter-warehouse" class="block text-xl">"Show deliveries for"</label>
                <select id="filter-warehouse" name="warehouse" class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900">
                    <option value="" selected=chosen.is_empty()>"All my warehouses"</option>
                    {options(&chosen)}
                </select>
            </div>
            <button type="submit" class=GO>"Show"</button>
        </form>
        <section aria-labelledby="expected">
            <h2 id="expected" class="text-2xl font-semibold">"Deliveries to receive"</h2>
            {if deliveries.items.is_empty() {
                view! { <p class="mt-2 text-xl text-slate-300">"No delivery is expected. Receive what arrived blind below."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-3 grid gap-3">
                        {deliveries.items.into_iter().map(|d| {
                            let who = if d.blind { "Blind receipt".to_string() } else if d.supplier.is_empty() { "Delivery".to_string() } else { d.supplier.clone() };
                            let when = if d.expected_on.is_empty() { String::new() } else { format!(" · due {}", d.expected_on) };
                            let progress = if d.blind { format!("{} units", d.units_received) } else { format!("{} of {} units", d.units_received, d.units_expected) };
                            view! {
                                <li>
                                    <a href=format!("/floor/receive/{}", d.id) class="flex min-h-20 flex-wrap items-center justify-between gap-2 rounded-xl bg-slate-800 px-5 py-3 text-xl hover:bg-slate-700">
                                        <span>
                                            <strong class="font-mono">{d.number.clone()}</strong>" · "{d.warehouse.clone()}" · "{who}
                                            <span class="block text-base text-slate-300">{d.reference.clone().unwrap_or_default()}{when}</span>
                                        </span>
                                        <span class="tabular-nums">{progress}</span>
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {next.map(|href| view! { <a href=href class="mt-4 inline-flex min-h-14 items-center rounded-lg bg-slate-700 px-5 text-xl">"Older deliveries →"</a> })}
        </section>
        <form method="post" action="/floor/receive" class="mt-8 rounded-xl bg-slate-800 p-6">
            <h2 class="text-2xl font-semibold">"Receive blind"</h2>
            <p class="mt-1 text-slate-300">"For goods that arrived without an announcement: any item is taken, and each is counted as you scan it."</p>
            <div class="mt-4 grid gap-4 sm:grid-cols-2">
                <div>
                    <label for="blind-warehouse" class="block text-xl">"Warehouse"</label>
                    <select id="blind-warehouse" name="warehouse" class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900">
                        {options(&chosen)}
                    </select>
                </div>
                <div>
                    <label for="supplier" class="block text-xl">"Supplier (if known)"</label>
                    <input id="supplier" name="supplier" maxlength="120" autocomplete="off" class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900" />
                </div>
            </div>
            <button type="submit" class=format!("{GO} mt-6 w-full")>"Start blind receipt"</button>
        </form>
    }
}

#[component]
pub fn ReceiveDelivery() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let (err, notice) = (offline::answer("error"), offline::answer("notice"));
    let data = Resource::new(id, delivery_screen);
    view! {
        <FloorFrame title="Receive">
            {scan_feedback(err, notice)}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => delivery_view(v).into_any(),
                        Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </FloorFrame>
    }
}

/// What the agent is asked to do next.
fn instruction(d: &Delivery) -> AnyView {
    match &d.pending {
        None => view! {
            <p class="text-3xl">"Scan an item"</p>
            <p class="mt-1 text-xl text-slate-300">"Its barcode, GTIN or GS1 label with lot and expiry, or type the SKU."</p>
        }
        .into_any(),
        Some(p) if p.step == "lot" => view! {
            <p class="text-3xl">"Scan the lot of " <strong class="font-mono">{p.sku.clone()}</strong></p>
            <p class="mt-1 text-xl text-slate-300">{p.name.clone()} ": the lot printed on the case, or type it."</p>
        }
        .into_any(),
        Some(p) => {
            let lot = (!p.lot.is_empty()).then(|| {
                let exp = if p.expires_on.is_empty() {
                    String::new()
                } else {
                    format!(", expires {}", p.expires_on)
                };
                view! { <p class="mt-2 text-xl text-amber-200">"Lot " <strong class="font-mono">{p.lot.clone()}</strong>{exp}</p> }
            });
            let hint = match &p.suggested_bin {
                Some(b) => format!("Suggested bin: {b}, where {} is kept.", p.sku),
                None => "No bin holds this item yet; choose an empty one.".into(),
            };
            view! {
                <p class="text-3xl"><strong class="text-5xl tabular-nums">{p.quantity}</strong> " × " <strong class="font-mono">{p.sku.clone()}</strong></p>
                <p class="mt-1 text-xl text-slate-300">{p.name.clone()}</p>
                {lot}
                <p class="mt-2 text-xl">"Type the quantity or scan each unit, then scan the bin label. " {hint}</p>
            }
            .into_any()
        }
    }
}

fn delivery_view(v: DockView) -> impl IntoView {
    let DockView { delivery: d, key } = v;
    let pending = offline::start();
    let scan_field = focus_on_mount();
    let id = d.summary.id.clone();
    let s = &d.summary;
    let who = if s.blind {
        "Blind receipt".to_string()
    } else {
        [s.supplier.clone(), s.reference.clone().unwrap_or_default()]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let headline = format!("{} · {} · {}", s.number, s.warehouse, who);
    let pct = match s.units_expected {
        0 => 0,
        n => (s.units_received * 100 / n).min(100),
    };
    let progress = (!s.blind).then(|| {
        view! {
            <p class="mt-2 text-xl tabular-nums">{format!("{} of {} units received", s.units_received, s.units_expected)}</p>
            <div class="mb-2 mt-2 h-4 rounded bg-slate-700" role="progressbar" aria-label="Delivery received"
                aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct.to_string()>
                <div class="h-4 rounded bg-green-500" style=format!("width: {pct}%")></div>
            </div>
        }
    });
    let closed = s.status == "closed";
    let short = d.units_short();
    let scan = (!closed).then(|| {
        let action = format!("/floor/receive/{id}/scan");
        let clear = d.pending.as_ref().map(|p| {
            view! {
                <form method="post" action=format!("/floor/receive/{id}/clear") class="mt-4">
                    <button type="submit" class="min-h-14 w-full rounded-lg bg-slate-600 text-xl font-semibold">{format!("Start {} over", p.sku)}</button>
                </form>
            }
        });
        let close_text = if short == 0 {
            "Nothing more is received on it.".to_string()
        } else {
            format!("{short} announced unit{} not received will be recorded short.", if short == 1 { "" } else { "s" })
        };
        view! {
            <div class="mt-4 rounded-xl border-4 border-indigo-400 bg-slate-800 p-6" aria-label="Next step">
                {instruction(&d)}
            </div>
            <form method="post" action=action class="mt-4 rounded-xl bg-slate-800 p-6"
                on:submit=move |ev| offline::submit(ev, offline::Flow::Receive, &id, scan_field, pending)>
                <input type="hidden" name="key" value=key.clone() />
                <label for="scan" class="block text-2xl font-semibold">"Scan"</label>
                <div class="mt-3 flex flex-wrap gap-3">
                    <input id="scan" name="code" autofocus autocomplete="off" required node_ref=scan_field class=FIELD />
                    {camera_button()}
                    <button type="submit" class=GO>"Enter"</button>
                </div>
            </form>
            {clear}
            <details class="mt-4 rounded-xl bg-slate-800 p-6">
                <summary class="min-h-12 cursor-pointer text-2xl font-semibold">"Close delivery"</summary>
                <form method="post" action=format!("/floor/receive/{}/close", d.summary.id) class="mt-4">
                    <p class="text-xl">{close_text}</p>
                    <button type="submit" class="mt-4 min-h-16 w-full rounded-lg bg-amber-600 text-2xl font-semibold">{format!("Close delivery {}", d.summary.number)}</button>
                </form>
            </details>
        }
    });
    let done = closed.then(|| {
        view! {
            <div role="status" class="mt-4 rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl">
                {format!("Delivery {} is closed{}.", d.summary.number, d.closed_at.as_deref().map(|t| format!(" ({})", short_time(t))).unwrap_or_default())}
            </div>
            <a href="/floor/receive" class="mt-4 flex min-h-16 items-center justify-center rounded-lg bg-indigo-500 text-2xl font-semibold">"Receive another delivery"</a>
        }
    });
    let lines = if d.lines.is_empty() {
        view! { <p class="mt-8 text-xl text-slate-300">"Nothing received yet."</p> }.into_any()
    } else {
        view! {
            <table class="mt-8 w-full text-left text-lg">
                <caption class="text-left text-xl text-slate-300">{if d.summary.blind { "Received" } else { "Announced and received" }}</caption>
                <thead><tr class="border-b border-slate-600"><th class="p-2">"Item"</th><th class="p-2 text-right">"Expected"</th><th class="p-2 text-right">"Received"</th><th class="p-2 text-right">"Open"</th></tr></thead>
                <tbody>
                    {d.lines.iter().map(|l| {
                        let open = if d.summary.blind { "—".to_string() } else { l.open().to_string() };
                        view! {
                            <tr class="border-b border-slate-700">
                                <td class="p-2"><span class="font-mono">{l.sku.clone()}</span><span class="block text-base text-slate-300">{l.name.clone()}</span></td>
                                <td class="p-2 text-right tabular-nums">{if d.summary.blind { "—".to_string() } else { l.expected.to_string() }}</td>
                                <td class="p-2 text-right tabular-nums">{l.received}</td>
                                <td class="p-2 text-right tabular-nums">{open}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    };
    let puts = (!d.puts.is_empty()).then(|| {
        view! {
            <table class="mt-8 w-full text-left text-lg">
                <caption class="text-left text-xl text-slate-300">"Put away, newest first"</caption>
                <thead><tr class="border-b border-slate-600"><th class="p-2">"Bin"</th><th class="p-2">"Item"</th><th class="p-2">"Lot"</th><th class="p-2 text-right">"Qty"</th><th class="p-2">"By"</th></tr></thead>
                <tbody>
                    {d.puts.iter().map(|p| view! {
                        <tr class="border-b border-slate-700">
                            <td class="p-2 font-mono">{p.location.clone()}</td>
                            <td class="p-2 font-mono">{p.sku.clone()}</td>
                            <td class="p-2 font-mono">{p.lot.clone()}</td>
                            <td class="p-2 text-right tabular-nums">{p.quantity}</td>
                            <td class="p-2">{p.put_by.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    view! {
        {offline::pending_notice(pending)}
        <p class="text-xl">{headline}</p>
        {progress}
        {scan}
        {done}
        {lines}
        {puts}
    }
}
