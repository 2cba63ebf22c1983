//! Command-center pages for stock that moves: cycle counts with their
//! approvals, and transfers between warehouses. Writes are HTML forms posted
//! to the server's form handlers, so every page works without JavaScript.

use crate::inventory::api::{counts_page, my_warehouses, transfers_page};
use crate::{
    components::url::{href, urlencode},
    components::{
        query_param, short_time, CommandFrame, Empty, ErrorBox, Field, FieldMessage, Notice,
        Refused,
    },
};
use leptos::prelude::*;

const COUNT_TABS: [(&str, &str); 5] = [
    ("", "All"),
    ("pending_approval", "Waiting for approval"),
    ("open", "Open"),
    ("posted", "Posted"),
    ("rejected", "Rejected"),
];
const TRANSFER_TABS: [(&str, &str); 3] = [
    ("", "All"),
    ("in_transit", "In transit"),
    ("received", "Received"),
];

/// Links that filter a list by status; the current one is marked for
/// assistive technology and styled from that mark.
const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";
const BUTTON: &str = "rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800";

#[component]
fn StatusTabs(
    base: &'static str,
    label: &'static str,
    tabs: &'static [(&'static str, &'static str)],
    current: String,
) -> impl IntoView {
    view! {
        <nav aria-label=label class="mb-4 flex flex-wrap gap-2">
            {tabs.iter().map(|(v, l)| {
                let here = current == *v;
                let href = if v.is_empty() { base.to_string() } else { format!("{base}?status={v}") };
                view! { <a href=href aria-current=here.then_some("page") class="rounded border px-3 py-1 aria-[current=page]:bg-slate-800 aria-[current=page]:text-white">{*l}</a> }
            }).collect_view()}
        </nav>
    }
}

#[component]
pub fn Counts() -> impl IntoView {
    let (status, cursor, notice, err) = (
        query_param("status"),
        query_param("cursor"),
        query_param("notice"),
        query_param("error"),
    );
    let (warehouse, from, to) = (
        query_param("warehouse"),
        query_param("submitted_from"),
        query_param("submitted_to"),
    );
    // The filters as the address gives them, in the order links carry them.
    let filters = {
        let (status, warehouse, from, to) =
            (status.clone(), warehouse.clone(), from.clone(), to.clone());
        move || {
            [
                ("status", status()),
                ("warehouse", warehouse()),
                ("submitted_from", from()),
                ("submitted_to", to()),
            ]
        }
    };
    let key = {
        let (filters, cursor) = (filters.clone(), cursor.clone());
        move || (filters(), cursor())
    };
    let page = Resource::new(key, |([(_, s), (_, w), (_, f), (_, t)], c)| {
        let opt = |v: String| (!v.is_empty()).then_some(v);
        counts_page(opt(s), opt(w), opt(f), opt(t), opt(c))
    });
    let older = {
        let filters = filters.clone();
        move |next: String| {
            href(
                "/command/counts",
                [("cursor", next)].into_iter().chain(filters()),
            )
        }
    };
    view! {
        <CommandFrame title="Cycle counts">
            <Notice message=notice() />
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            <StatusTabs base="/command/counts" label="Count status" tabs=&COUNT_TABS current=status() />
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let [(_, status), (_, warehouse), (_, from), (_, to)] = filters();
                    let older = older.clone();
                    Suspend::new(async move {
                    match page.await {
                        Ok(v) => {
                            let acc = v.accuracy;
                            view! {
                                <form method="get" action="/command/counts" class="mb-4 flex flex-wrap items-end gap-3">
                                    {(!status.is_empty()).then(|| view! { <input type="hidden" name="status" value=status.clone() /> })}
                                    <div>
                                        <label for="c-warehouse" class="block text-sm font-medium">"Warehouse"</label>
                                        <select id="c-warehouse" name="warehouse" class="mt-1 rounded border px-2 py-2">
                                            <option value="">"All warehouses"</option>
                                            {v.warehouses.iter().map(|w| { let sel = *w == warehouse; view! { <option value=w.clone() selected=sel>{w.clone()}</option> } }).collect_view()}
                                        </select>
                                    </div>
                                    <div>
                                        <label for="c-from" class="block text-sm font-medium">"Submitted from"</label>
                                        <input id="c-from" name="submitted_from" type="date" value=from class="mt-1 rounded border px-2 py-2" />
                                    </div>
                                    <div>
                                        <label for="c-to" class="block text-sm font-medium">"Submitted to"</label>
                                        <input id="c-to" name="submitted_to" type="date" value=to class="mt-1 rounded border px-2 py-2" />
                                    </div>
                                    <button type="submit" class="rounded border px-4 py-2">"Filter"</button>
                                    <a href="/command/counts" class="px-2 py-2 text-indigo-700 underline">"Clear"</a>
                                </form>
                                <section aria-labelledby="acc-h" class="mb-4 inline-block rounded-lg border bg-white p-4">
                                    <h2 id="acc-h" class="text-sm text-slate-500">"Inventory accuracy, last 30 days"</h2>
                                    <p class="text-3xl font-bold tabular-nums">{acc.percent.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())}</p>
                                    <p class="text-sm text-slate-600">{format!("{} of {} counted lines matched", acc.lines_exact, acc.lines_counted)}</p>
                                </section>
                                {if v.counts.items.is_empty() {
                                    view! { <Empty message="No counts match these filters. Agents start one by scanning a bin in the floor app." /> }.into_any()
                                } else {
                                    let can_approve = v.can_approve;
                                    view! {
                                        <table class="w-full border bg-white text-left text-sm">
                                            <thead class="bg-slate-100"><tr><th class="p-2">"Count"</th><th class="p-2">"Bin"</th><th class="p-2">"Status"</th><th class="p-2 text-right">"Variance"</th><th class="p-2 text-right">"Value"</th><th class="p-2">"Lines"</th><th class="p-2">"Decision"</th></tr></thead>
                                            <tbody>
                                                {v.counts.items.into_iter().map(|c| {
                                                    let pending = c.status == "pending_approval";
                                                    view! {
                                                        <tr class="border-t align-top">
                                                            <td class="p-2 font-mono">{c.number.clone()}<span class="block text-xs text-slate-500">{short_time(&c.created_at)}</span></td>
                                                            <td class="p-2 font-mono">{format!("{} {}", c.warehouse, c.location)}</td>
                                                            <td class="p-2">{c.status.replace('_', " ")}<span class="block text-xs text-slate-500">{c.counted_by.clone().unwrap_or_default()}</span></td>
                                                            <td class="p-2 text-right tabular-nums">{c.variance_units}</td>
                                                            <td class="p-2 text-right tabular-nums">{c.variance_value.to_string()}</td>
                                                            <td class="p-2"><details><summary class="cursor-pointer">{format!("{} products", c.lines.len())}</summary>
                                                                <ul>{c.lines.iter().map(|l| view! { <li class="font-mono text-xs">{format!("{}: expected {}, counted {}", l.sku, l.expected, l.counted)}</li> }).collect_view()}</ul>
                                                            </details></td>
                                                            <td class="p-2">
                                                                {(pending && can_approve).then(|| view! {
                                                                    <div class="flex gap-2">
                                                                        <form method="post" action=format!("/command/counts/{}/approve", c.id)><button type="submit" aria-label=format!("Approve {}", c.number) class="rounded bg-green-700 px-3 py-1 text-white">"Approve"</button></form>
                                                                        <form method="post" action=format!("/command/counts/{}/reject", c.id)><button type="submit" aria-label=format!("Reject {}", c.number) class="rounded border px-3 py-1">"Reject"</button></form>
                                                                    </div>
                                                                })}
                                                                {c.decided_by.clone().map(|d| view! { <span class="text-xs text-slate-500">{format!("by {d}")}</span> })}
                                                            </td>
                                                        </tr>
                                                    }
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                        {v.counts.next_cursor.map(|c| view! { <a class="mt-3 inline-block text-indigo-700 underline" href=older(c)>"Older counts"</a> })}
                                    }.into_any()
                                }}
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}}
            </Suspense>
        </CommandFrame>
    }
}

#[component]
pub fn Transfers() -> impl IntoView {
    let (status, cursor, notice, err) = (
        query_param("status"),
        query_param("cursor"),
        query_param("notice"),
        query_param("error"),
    );
    let key = {
        let (status, cursor) = (status.clone(), cursor.clone());
        move || (status(), cursor())
    };
    let page = Resource::new(key, |(s, c)| {
        let opt = |v: String| (!v.is_empty()).then_some(v);
        transfers_page(opt(s), opt(c))
    });
    let warehouses = Resource::new(|| (), |_| my_warehouses());
    let refused = Refused::read();
    let err_to = refused.error("to");
    view! {
        <CommandFrame title="Transfers">
            <Notice message=notice() />
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            <div class="grid gap-6 xl:grid-cols-3">
                <section aria-labelledby="tr-list" class="xl:col-span-2">
                    <h2 id="tr-list" class="sr-only">"Transfers"</h2>
                    <StatusTabs base="/command/transfers" label="Transfer status" tabs=&TRANSFER_TABS current=status() />
                    <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match page.await {
                                Ok(p) if p.items.is_empty() => view! { <Empty message="No transfers here. Send stock between warehouses with the form." /> }.into_any(),
                                Ok(p) => view! {
                                    <table class="w-full border bg-white text-left text-sm">
                                        <thead class="bg-slate-100"><tr><th class="p-2">"Transfer"</th><th class="p-2">"Route"</th><th class="p-2">"Lines"</th><th class="p-2">"Status"</th><th class="p-2">"Receive"</th></tr></thead>
                                        <tbody>
                                            {p.items.into_iter().map(|t| {
                                                let open = t.status == "in_transit";
                                                view! {
                                                    <tr class="border-t align-top">
                                                        <td class="p-2 font-mono">{t.number.clone()}<span class="block text-xs text-slate-500">{short_time(&t.created_at)}</span></td>
                                                        <td class="p-2 font-mono">{format!("{} → {}", t.from_warehouse, t.to_warehouse)}</td>
                                                        <td class="p-2"><ul>{t.lines.iter().map(|l| view! { <li class="font-mono text-xs">{format!("{} × {}{}", l.quantity, l.sku, if l.lot.is_empty() { String::new() } else { format!(" lot {}", l.lot) })}</li> }).collect_view()}</ul></td>
                                                        <td class="p-2">{t.status.replace('_', " ")}</td>
                                                        <td class="p-2">
                                                            {open.then(|| view! {
                                                                <form method="post" action=format!("/command/transfers/{}/receive", t.id) class="flex flex-wrap gap-2">
                                                                    <input name="location" aria-label=format!("Bin for {}", t.number) placeholder="dock" class="w-24 rounded border px-2 py-1" />
                                                                    <button type="submit" aria-label=format!("Receive {}", t.number) class="rounded border px-3 py-1">"Receive"</button>
                                                                </form>
                                                            })}
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {p.next_cursor.map(|c| view! { <a class="mt-3 inline-block text-indigo-700 underline" href=format!("/command/transfers?cursor={}", urlencode(&c))>"Older transfers"</a> })}
                                }.into_any(),
                                Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                            }
                        })}
                    </Suspense>
                </section>
                <section aria-labelledby="tr-new" class="rounded-lg border bg-white p-4">
                    <h2 id="tr-new" class="mb-3 text-lg font-semibold">"Send stock"</h2>
                    <form method="post" action="/command/transfers" class="space-y-3">
                        <Suspense fallback=|| ()>
                            {move || {
                            let err_to = err_to.clone();
                            Suspend::new(async move {
                                let list = warehouses.await.unwrap_or_default();
                                let opts = move |skip: usize| list.iter().enumerate().map(|(i, w)| { let sel = i == skip; view! { <option value=w.clone() selected=sel>{w.clone()}</option> } }).collect_view();
                                let opts2 = opts.clone();
                                view! {
                                    <div>
                                        <label for="t-from" class="block text-sm font-medium">"From"</label>
                                        <select id="t-from" name="from" class=INPUT>{opts(0)}</select>
                                    </div>
                                    <div>
                                        <label for="t-to" class="block text-sm font-medium">"To"</label>
                                        <select id="t-to" name="to" class=INPUT aria-describedby="e-to">{opts2(1)}</select>
                                        <FieldMessage id="e-to" message=err_to.clone() />
                                    </div>
                                }
                            })}}
                        </Suspense>
                        <Field name="sku" label="SKU" required=true value=refused.value("sku", String::new()) error=refused.error("sku") />
                        <Field name="quantity" label="Quantity" kind="number" required=true value=refused.value("quantity", String::new()) error=refused.error("quantity") />
                        <Field name="location" label="From bin (optional)" hint="Empty takes first-expiry-first across the warehouse"
                            value=refused.value("location", String::new()) error=refused.error("location") />
                        <button type="submit" class=BUTTON>"Send"</button>
                    </form>
                </section>
            </div>
        </CommandFrame>
    }
}
