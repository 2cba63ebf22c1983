//! The KPI board: each KPI's number for the period against the one before,
//! its definition, a daily trend as a server-rendered SVG with the figures
//! as a table, and a breakdown; every figure links to the records behind
//! it. Filters are a GET form, so the page works without JavaScript;
//! hydrated, it refreshes as orders change.

use super::api::kpis_page;
use crate::{
    components::{live::on_live_events, url::urlencode},
    components::{query_param, CommandFrame, ErrorBox},
};
use domain::views::{Kpi, KpiBoard, KpiPoint};
use leptos::prelude::*;

/// The newest event seq seen on the live stream, updated at most twice
/// a second: during a busy hour hundreds of orders a second change the
/// figures, and two refreshes a second show them all.
fn live_seq() -> (ReadSignal<i64>, ReadSignal<bool>) {
    let (seq, set_seq) = signal(0i64);
    let (connected, set_connected) = signal(false);
    Effect::new(move |_| {
        use std::{cell::Cell, rc::Rc};
        let latest = Rc::new(Cell::new(0i64));
        let waiting = Rc::new(Cell::new(false));
        on_live_events(
            move |e| {
                if e.event_type.starts_with("exception.") {
                    return;
                }
                latest.set(latest.get().max(e.seq));
                if waiting.replace(true) {
                    return;
                }
                let (latest, waiting) = (latest.clone(), waiting.clone());
                set_timeout(
                    move || {
                        waiting.set(false);
                        set_seq.set(latest.get());
                    },
                    std::time::Duration::from_millis(500),
                );
            },
            set_connected,
        )
    });
    (seq, connected)
}

const INPUT: &str = "mt-1 rounded border px-2 py-2";

#[component]
pub fn Kpis() -> impl IntoView {
    let (from, to, channel, warehouse, currency) = (
        query_param("from"),
        query_param("to"),
        query_param("channel"),
        query_param("warehouse"),
        query_param("currency"),
    );
    let (seq, connected) = live_seq();
    let key = move || (from(), to(), channel(), warehouse(), currency(), seq.get());
    let data = Resource::new(key, |(f, t, c, w, cur, seen)| {
        kpis_page(f, t, c, w, cur, seen)
    });
    view! {
        <CommandFrame title="KPIs">
            <p class="mb-3 text-sm text-slate-600" data-live=move || if connected.get() { "open" } else { "closed" }>
                {move || if connected.get() { "● Updating live as orders change" } else { "As of page load. Reload to refresh." }}
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(b) => board(b).into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </CommandFrame>
    }
}

fn board(b: KpiBoard) -> impl IntoView {
    let select = |id: &'static str,
                  label: &'static str,
                  current: Option<String>,
                  all: Vec<String>,
                  any: &'static str| {
        let current = current.unwrap_or_default();
        view! {
            <div>
                <label for=id class="block text-sm font-semibold">{label}</label>
                <select id=id name=&id[2..] class=INPUT>
                    <option value="">{any}</option>
                    {all.into_iter().map(|v| { let sel = v == current; view! { <option value=v.clone() selected=sel>{v.clone()}</option> } }).collect_view()}
                </select>
            </div>
        }
    };
    let filters = view! {
        <form method="get" action="/command/kpis" aria-label="KPI filters" class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border bg-white p-4">
            <div>
                <label for="k-from" class="block text-sm font-semibold">"From"</label>
                <input id="k-from" name="from" type="date" value=b.from.clone() class=INPUT />
            </div>
            <div>
                <label for="k-to" class="block text-sm font-semibold">"To"</label>
                <input id="k-to" name="to" type="date" value=b.to.clone() class=INPUT />
            </div>
            {select("k-channel", "Channel", b.channel.clone(), b.channels.clone(), "All channels")}
            {select("k-warehouse", "Warehouse", b.warehouse.clone(), b.warehouses.clone(), "All warehouses")}
            <div>
                <label for="k-currency" class="block text-sm font-semibold">"Money in"</label>
                <select id="k-currency" name="currency" class=INPUT>
                    {b.currencies.iter().map(|c| { let sel = *c == b.currency; view! { <option value=c.clone() selected=sel>{c.clone()}</option> } }).collect_view()}
                </select>
            </div>
            <button type="submit" class="rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800">"Show"</button>
            <a href="/command/kpis" class="px-2 py-2 text-indigo-700 underline">"Last 4 weeks"</a>
        </form>
    }
    .into_any();
    let filtered = b.channel.is_some() || b.warehouse.is_some();
    let period = format!(
        "{} to {}, compared with {} to {}",
        b.from, b.to, b.previous_from, b.previous_to
    );
    view! {
        {filters}
        <p class="mb-4 text-sm text-slate-700">{period}</p>
        <div class="grid gap-4 lg:grid-cols-2 2xl:grid-cols-3">
            {b.kpis.into_iter().map(|k| card(k, filtered)).collect_view()}
        </div>
    }
}

fn card(k: Kpi, filtered: bool) -> AnyView {
    let heading = format!("kpi-{}", k.key);
    let labelled = heading.clone();
    if let Some(when) = k.pending.clone() {
        return view! {
            <section aria-labelledby=labelled class="rounded-lg border border-dashed bg-white p-4 text-slate-600" data-kpi=k.key.clone()>
                <h2 id=heading class="font-semibold">{k.label.clone()}</h2>
                <p class="mt-1 text-sm">{k.definition.clone()}</p>
                <p class="mt-2 text-sm italic">{when}</p>
            </section>
        }
        .into_any();
    }
    let tone = match k.better {
        Some(true) => "text-emerald-800",
        Some(false) => "text-red-800",
        None => "text-slate-600",
    };
    let not_filtered = (filtered && !(k.by_channel && k.by_warehouse)).then(|| {
        let what = match (k.by_channel, k.by_warehouse) {
            (false, true) => "Not split by channel; the warehouse filter applies.",
            (true, false) => "Not split by warehouse; the channel filter applies.",
            _ => "Across all channels and warehouses.",
        };
        view! { <p class="mt-1 text-xs text-amber-800">{what}</p> }
    });
    let number = match k.link.clone() {
        Some(href) => view! { <a href=href class="text-3xl font-bold tabular-nums text-indigo-800 hover:underline" aria-label=format!("{}: {}. Show the records", k.label, k.display)>{k.display.clone()}</a> }.into_any(),
        None => view! { <span class="text-3xl font-bold tabular-nums">{k.display.clone()}</span> }.into_any(),
    };
    let change = view! {
        <p class=format!("text-sm {tone}")>
            {k.change.clone().map_or_else(|| "No change to compare".to_string(), |c| format!("{c} vs previous period"))}
            <span class="text-slate-600">{format!(" (was {})", k.previous_display)}</span>
        </p>
    }
    .into_any();
    let breakdown = (!k.breakdown.is_empty()).then(|| {
        view! {
            <ul class="mt-3 grid grid-cols-2 gap-x-4 gap-y-1 text-sm" aria-label=format!("{} breakdown", k.label)>
                {k.breakdown.iter().map(|p| view! {
                    <li class="flex justify-between gap-2">
                        <span>{p.label.clone()}</span>
                        {match p.link.clone() {
                            Some(href) => view! { <a href=href class="tabular-nums text-indigo-700 underline">{p.value.clone()}</a> }.into_any(),
                            None => view! { <span class="tabular-nums">{p.value.clone()}</span> }.into_any(),
                        }}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    });
    view! {
        <section aria-labelledby=labelled class="rounded-lg border bg-white p-4" data-kpi=k.key.clone()>
            <h2 id=heading class="font-semibold">{k.label.clone()}</h2>
            <div class="mt-1 flex flex-wrap items-baseline gap-3">
                {number}
                {change}
            </div>
            <p class="mt-1 text-xs text-slate-600">{k.definition.clone()}</p>
            {not_filtered}
            {trend(&k.key, &k.label, &k.series).into_any()}
            {breakdown}
        </section>
    }
    .into_any()
}

/// The daily values as a line, each day's point a link to its records, and
/// the same figures as a table for screen readers and keyboards.
fn trend(key: &str, label: &str, series: &[KpiPoint]) -> impl IntoView {
    let values: Vec<Option<f64>> = series
        .iter()
        .map(|p| p.value.as_deref().and_then(|v| v.parse::<f64>().ok()))
        .collect();
    let (lo, hi) = values
        .iter()
        .flatten()
        .fold((0f64, 0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = (hi - lo).max(f64::EPSILON);
    let (w, h) = (300.0, 70.0);
    let step = if series.len() > 1 {
        w / (series.len() - 1) as f64
    } else {
        0.0
    };
    let xy = |i: usize, v: f64| (i as f64 * step, h - 4.0 - (v - lo) / span * (h - 8.0));
    let mut path = String::new();
    let mut pen_up = true;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let (x, y) = xy(i, *v);
                path.push_str(&format!("{}{x:.1},{y:.1} ", if pen_up { "M" } else { "L" }));
                pen_up = false;
            }
            None => pen_up = true,
        }
    }
    let title_id = format!("trend-{key}");
    let labelled = title_id.clone();
    let summary = match (series.first(), series.last()) {
        (Some(a), Some(z)) => format!(
            "{label} by day, {} to {}: from {} to {}",
            a.day, z.day, a.display, z.display
        ),
        _ => format!("{label}: no days"),
    };
    let points = series
        .iter()
        .zip(values.iter())
        .enumerate()
        .filter_map(|(i, (p, v))| {
            let (x, y) = xy(i, (*v)?);
            let dot = view! { <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r="3" fill="#4338ca"><title>{format!("{}: {}", p.day, p.display)}</title></circle> };
            Some(match p.link.clone() {
                Some(href) => view! { <a href=href tabindex="-1">{dot}</a> }.into_any(),
                None => dot.into_any(),
            })
        })
        .collect_view();
    view! {
        <figure class="mt-3 text-sm">
            <svg role="img" aria-labelledby=labelled viewBox=format!("-4 0 {} {h}", w + 8.0) class="h-20 w-full" preserveAspectRatio="none">
                <title id=title_id>{summary}</title>
                <line x1="0" x2=w.to_string() y1=format!("{:.1}", h - 4.0) y2=format!("{:.1}", h - 4.0) stroke="#e2e8f0" />
                <path d=path fill="none" stroke="#6366f1" stroke-width="1.5" />
                {points}
            </svg>
            <figcaption>
                <details>
                    <summary class="cursor-pointer text-slate-600">"Figures by day"</summary>
                    <table class="mt-1 w-full text-left">
                        <thead><tr><th class="pr-2">"Day"</th><th class="text-right">{label.to_string()}</th></tr></thead>
                        <tbody>
                            {series.iter().map(|p| view! {
                                <tr>
                                    <th scope="row" class="pr-2 font-normal">{p.day.clone()}</th>
                                    <td class="text-right tabular-nums">
                                        {match p.link.clone() {
                                            Some(href) => view! { <a href=href class="text-indigo-700 underline">{p.display.clone()}</a> }.into_any(),
                                            None => p.display.clone().into_any(),
                                        }}
                                    </td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            </figcaption>
        </figure>
    }
}

/// The dashboard's strip of headline KPIs for the last four weeks, each a
/// link to its card on the board.
#[component]
pub fn KpiStrip() -> impl IntoView {
    let (seq, _) = live_seq();
    let data = Resource::new(
        move || seq.get(),
        |seen| {
            kpis_page(
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                seen,
            )
        },
    );
    view! {
        <section aria-labelledby="kpi-strip-heading" class="mb-6 rounded-lg border bg-white p-4">
            <h2 id="kpi-strip-heading" class="mb-3 flex items-center justify-between text-lg font-semibold">
                <a href="/command/kpis" class="hover:underline">"Last 4 weeks"</a>
            </h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(b) => view! {
                            <ul class="grid gap-3 sm:grid-cols-3 xl:grid-cols-5">
                                {b.kpis.into_iter().filter(|k| k.pending.is_none() && ["cycle_time", "on_time", "orders", "revenue", "backlog"].contains(&k.key.as_str())).map(|k| view! {
                                    <li>
                                        <a href=format!("/command/kpis#kpi-{}", urlencode(&k.key)) class="block rounded-lg border p-3 hover:border-indigo-500"
                                            aria-label=format!("{}: {}{}", k.label, k.display, k.change.clone().map(|c| format!(", {c} vs previous period")).unwrap_or_default())>
                                            <span class="block text-sm">{k.label.clone()}</span>
                                            <span class="block text-2xl font-bold tabular-nums" data-kpi-value=k.key.clone()>{k.display.clone()}</span>
                                            <span class="block text-xs text-slate-600">{k.change.clone().unwrap_or_else(|| "—".into())}</span>
                                        </a>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
