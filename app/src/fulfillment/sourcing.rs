//! Sourcing rules: a channel's warehouses in priority order, tried on its
//! latest orders before they are applied (split rate, shipments, backorders
//! beside the current rule), and sourcing the backorders on demand. The dry
//! run is a GET form and the changes are POSTs, so it works without
//! JavaScript.

use leptos::prelude::*;

use crate::fulfillment::api::{sourcing_page, SourcingView};
use crate::{
    components::url::urlencode,
    components::{query_param, CommandFrame, ErrorBox, FieldMessage, Notice},
};
use domain::{fulfillment::SourcingStats, views::DryRun};

const BUTTON: &str = "rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-400";
const QUIET: &str = "rounded border px-4 py-2 hover:bg-slate-100";
const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";

#[component]
pub fn Sourcing() -> impl IntoView {
    let (channel, proposed, orders) = (
        query_param("channel"),
        query_param("proposed"),
        query_param("orders"),
    );
    let (err, notice) = (query_param("error"), query_param("notice"));
    let (proposed2, orders2) = (proposed.clone(), orders.clone());
    let page = Resource::new(
        move || (channel(), proposed2(), orders2()),
        |(c, p, o)| sourcing_page(c, p, o),
    );
    view! {
        <CommandFrame title="Sourcing">
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            {move || (!notice().is_empty()).then(|| view! { <div class="mb-4"><Notice message=notice() /></div> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let (proposed, orders) = (proposed(), orders());
                    Suspend::new(async move {
                        match page.await {
                            Ok(v) if v.channels.is_empty() => view! { <p>"There are no channels yet."</p> }.into_any(),
                            Ok(v) => sourcing(v, proposed, orders).into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

fn sourcing(v: SourcingView, proposed: String, orders: String) -> impl IntoView {
    let SourcingView {
        channels,
        channel,
        warehouses,
        backordered_orders,
        run,
        can_apply,
    } = v;
    let current = channels
        .iter()
        .find(|c| c.code == channel)
        .map(|c| c.warehouses.join(", "))
        .unwrap_or_default();
    // Field errors go beside the field they are about: the list (or one of
    // its entries) or the number of orders.
    let refused: Vec<domain::FieldError> = match &run {
        Some(Err(fields)) => fields.clone(),
        _ => Vec::new(),
    };
    let beside = |pick: &dyn Fn(&str) -> bool| {
        refused
            .iter()
            .filter(|f| pick(&f.field))
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let err_proposed = beside(&|f| f.starts_with("warehouses"));
    let err_orders = beside(&|f| !f.starts_with("warehouses"));
    let proposed_value = if proposed.is_empty() {
        current.clone()
    } else {
        proposed
    };
    let waiting = match backordered_orders {
        0 => "No order is waiting for stock.".to_string(),
        200.. => "200 or more orders have units waiting for stock.".to_string(),
        n => format!("{n} order(s) have units waiting for stock."),
    };
    view! {
        <section class="rounded-lg border bg-white p-4">
            <p class="mb-3 text-sm text-slate-600">
                "Each order is sourced from its channel's warehouses: from one warehouse when one can ship it complete (the first such in the list), otherwise from the fewest warehouses, earlier ones preferred; what no warehouse has is backordered and sourced as soon as stock arrives."
            </p>
            <ul class="mb-3 text-sm" aria-label="Channels and their warehouses">
                {channels.iter().map(|c| view! {
                    <li><span class="font-mono font-semibold">{c.code.clone()}</span>": "{if c.warehouses.is_empty() { "no warehouses".to_string() } else { c.warehouses.join(" → ") }}</li>
                }).collect_view()}
            </ul>
            <form method="get" action="/command/sourcing" class="grid gap-3 sm:grid-cols-4 sm:items-end">
                <div>
                    <label for="s-channel" class="block text-sm font-medium">"Channel"</label>
                    <select id="s-channel" name="channel" class=INPUT>
                        {channels.iter().map(|c| { let selected = c.code == channel; view! { <option value=c.code.clone() selected=selected>{c.code.clone()}</option> } }).collect_view()}
                    </select>
                </div>
                <div class="sm:col-span-2">
                    <label for="s-proposed" class="block text-sm font-medium">"Warehouse priority to try (codes, first preferred)"</label>
                    <input id="s-proposed" name="proposed" value=proposed_value.clone() class=INPUT aria-describedby="s-known e-proposed"
                        aria-invalid=(!err_proposed.is_empty()).then_some("true") />
                    <p id="s-known" class="mt-1 text-xs text-slate-500">{format!("Warehouses: {}", warehouses.join(", "))}</p>
                    <FieldMessage id="e-proposed" message=err_proposed.clone() />
                </div>
                <div>
                    <label for="s-orders" class="block text-sm font-medium">"Latest orders to replay"</label>
                    <input id="s-orders" name="orders" type="number" min="1" max="5000" value=if orders.is_empty() { "500".to_string() } else { orders } class=INPUT aria-describedby="e-orders"
                        aria-invalid=(!err_orders.is_empty()).then_some("true") />
                    <FieldMessage id="e-orders" message=err_orders.clone() />
                </div>
                <div class="sm:col-span-4"><button type="submit" class=BUTTON>"Try it"</button></div>
            </form>
        </section>
        {run.and_then(Result::ok).map(|run| dry_run(run, can_apply))}
        <section class="mt-4 rounded-lg border bg-white p-4">
            <h2 class="text-lg font-semibold">"Backorders"</h2>
            <p class="text-sm">{waiting}" "<a class="text-indigo-700 underline" href="/command/orders?backordered=true">"See them in the workbench"</a></p>
            <form method="post" action="/command/sourcing/source" class="mt-2">
                <input type="hidden" name="channel" value=channel.clone() />
                <button type="submit" class=QUIET>"Source backorders now"</button>
            </form>
        </section>
    }
}

/// A row of the comparison: its label and how a rule's figure reads.
type Row = (&'static str, fn(&SourcingStats) -> String);

fn dry_run(run: DryRun, can_apply: bool) -> impl IntoView {
    let rows: [Row; 7] = [
        ("Orders", |s| s.orders.to_string()),
        ("Shipments", |s| s.shipments.to_string()),
        ("Shipments per order", |s| {
            format!("{:.2}", s.shipments as f64 / s.orders.max(1) as f64)
        }),
        ("Split orders", |s| {
            format!("{} ({:.1}%)", s.split_orders, s.split_rate())
        }),
        ("Orders with backorders", |s| {
            s.backordered_orders.to_string()
        }),
        ("Units backordered", |s| s.backordered_units.to_string()),
        ("Units per warehouse", |s| {
            s.units_by_warehouse
                .iter()
                .map(|(w, n)| format!("{w} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }),
    ];
    let (current, proposed) = (run.current.clone(), run.proposed.clone());
    let apply = run.proposed_warehouses.join(",");
    let channel = run.channel.clone();
    view! {
        <section class="mt-4 rounded-lg border bg-white p-4" aria-labelledby="dry-run">
            <h2 id="dry-run" class="text-lg font-semibold">{format!("Dry run on {}'s last {} orders", run.channel, run.orders)}</h2>
            <p class="text-sm text-slate-600">"Both rules replay the same orders, oldest first, from today's stock as if none of them were reserved. Nothing is changed."</p>
            {chart(&current, &proposed)}
            <table class="mt-3 w-full text-left text-sm">
                <caption class="text-left text-sm text-slate-500">"Current rule beside the proposed one"</caption>
                <thead><tr class="border-b">
                    <th class="p-2" scope="col">""</th>
                    <th class="p-2" scope="col">{format!("Current: {}", run.current_warehouses.join(" → "))}</th>
                    <th class="p-2" scope="col">{format!("Proposed: {}", run.proposed_warehouses.join(" → "))}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|(label, f)| view! {
                        <tr class="border-b"><th class="p-2 font-medium" scope="row">{label}</th><td class="p-2 tabular-nums">{f(&current)}</td><td class="p-2 tabular-nums">{f(&proposed)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            {can_apply.then(|| view! {
                <form method="post" action="/command/sourcing/apply" class="mt-3">
                    <input type="hidden" name="channel" value=channel />
                    <input type="hidden" name="warehouses" value=apply />
                    <button type="submit" class=BUTTON>"Apply this priority"</button>
                    <span class="ml-2 text-sm text-slate-600">"Orders from now on are sourced by it; orders already sourced keep their plan."</span>
                </form>
            })}
        </section>
    }
}

/// Split and backorder rates of both rules as bars; the table beside it
/// holds the same values.
fn chart(current: &SourcingStats, proposed: &SourcingStats) -> impl IntoView {
    let pct = |n: i64, of: i64| n as f64 * 100.0 / of.max(1) as f64;
    let bars = [
        (
            "Split, current",
            pct(current.split_orders, current.orders),
            "#94a3b8",
        ),
        (
            "Split, proposed",
            pct(proposed.split_orders, proposed.orders),
            "#4338ca",
        ),
        (
            "Backordered, current",
            pct(current.backordered_orders, current.orders),
            "#94a3b8",
        ),
        (
            "Backordered, proposed",
            pct(proposed.backordered_orders, proposed.orders),
            "#4338ca",
        ),
    ];
    let title = format!(
        "Orders split: {:.1}% now, {:.1}% proposed. Orders with backorders: {:.1}% now, {:.1}% proposed.",
        bars[0].1, bars[1].1, bars[2].1, bars[3].1
    );
    view! {
        <svg role="img" aria-labelledby="chart-title" viewBox="0 0 400 110" class="mt-3 w-full max-w-xl">
            <title id="chart-title">{title}</title>
            {bars.into_iter().enumerate().map(|(i, (label, value, color))| {
                let y = 5 + i as i32 * 26;
                view! {
                    <text x="0" y=y + 14 font-size="11" fill="#334155">{label}</text>
                    <rect x="140" y=y width=format!("{:.1}", (value * 2.0).max(1.0)) height="18" fill=color />
                    <text x=format!("{:.1}", 146.0 + value * 2.0) y=y + 14 font-size="11" fill="#0f172a">{format!("{value:.1}%")}</text>
                }
            }).collect_view()}
        </svg>
    }
}

/// The page's address for a channel, for the forms' redirects.
pub fn page_for(channel: &str) -> String {
    format!("/command/sourcing?channel={}", urlencode(channel))
}
