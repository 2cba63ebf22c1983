//! Fulfilment in the command center: what has not shipped against its
//! ship-by time, the waves on the floor, and each agent's pick rate. The
//! filter is a GET form, so the page works without JavaScript.

use super::api::{fulfillment_status, FulfillmentView};
use crate::components::{query_param, short_time, CommandFrame, ErrorBox};
use domain::views::AgentRate;
use leptos::prelude::*;

const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";

#[component]
pub fn Fulfillment() -> impl IntoView {
    let (warehouse, hours) = (query_param("warehouse"), query_param("hours"));
    let data = Resource::new(
        move || (warehouse(), hours()),
        |(w, h)| fulfillment_status(w, h),
    );
    view! {
        <CommandFrame title="Fulfilment">
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => page(v).into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </CommandFrame>
    }
}

fn state_label(state: &str) -> &'static str {
    match state {
        "late" => "Late",
        "due_soon" => "Due within 4 h",
        _ => "On time",
    }
}

fn page(v: FulfillmentView) -> impl IntoView {
    let FulfillmentView {
        status: s,
        warehouses,
    } = v;
    let chosen = s.warehouse.clone().unwrap_or_default();
    let tile = |label: &'static str, n: i64, tone: &'static str| {
        view! {
            <div class=format!("rounded-lg border p-4 {tone}")>
                <p class="text-sm">{label}</p>
                <p class="text-3xl font-bold tabular-nums">{n}</p>
            </div>
        }
    };
    view! {
        <form method="get" action="/command/fulfilment" class="mb-6 flex flex-wrap items-end gap-4 rounded-lg border bg-white p-4">
            <div>
                <label for="warehouse" class="block text-sm font-semibold">"Warehouse"</label>
                <select id="warehouse" name="warehouse" class=INPUT>
                    <option value="">"All warehouses"</option>
                    {warehouses.into_iter().map(|w| {
                        let selected = w == chosen;
                        view! { <option value=w.clone() selected=selected>{w.clone()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="hours" class="block text-sm font-semibold">"Pick rates over the last (hours)"</label>
                <input id="hours" name="hours" type="number" min="1" max="168" value=s.window_hours.to_string() class=INPUT />
            </div>
            <button type="submit" class="rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800">"Show"</button>
        </form>

        <section aria-labelledby="aging-heading" class="rounded-lg border bg-white p-4">
            <h2 id="aging-heading" class="text-lg font-semibold">"Not shipped yet, against ship-by"</h2>
            <p class="text-sm text-slate-600">"Express services ship within 24 hours of the order, the others within 48."</p>
            <div class="mt-3 grid grid-cols-3 gap-3" aria-label="Ship-by summary">
                {tile("Late", s.late, "border-red-300 bg-red-50 text-red-900")}
                {tile("Due within 4 h", s.due_soon, "border-amber-300 bg-amber-50 text-amber-900")}
                {tile("On time", s.on_time, "border-green-300 bg-green-50 text-green-900")}
            </div>
            {if s.aging.is_empty() {
                view! { <p class="mt-3">"Everything has shipped."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-4 overflow-x-auto">
                        <table class="w-full text-left text-sm">
                            <caption class="text-left text-slate-600">"Oldest first (50 at most)"</caption>
                            <thead><tr class="border-b"><th class="p-2">"Fulfilment"</th><th class="p-2">"Warehouse"</th><th class="p-2">"Status"</th><th class="p-2">"Service"</th><th class="p-2">"Ship by"</th><th class="p-2">"State"</th></tr></thead>
                            <tbody>
                                {s.aging.iter().map(|a| view! {
                                    <tr class="border-b">
                                        <td class="p-2"><a class="text-indigo-700 underline" href=format!("/command/orders/{}", a.order_id)>{a.label.clone()}</a></td>
                                        <td class="p-2">{a.warehouse.clone()}</td>
                                        <td class="p-2">{a.status.clone()}</td>
                                        <td class="p-2">{a.shipping_method.clone()}</td>
                                        <td class="p-2">{short_time(&a.ship_by)}</td>
                                        <td class=if a.state == "late" { "p-2 font-semibold text-red-800" } else { "p-2" }>{state_label(&a.state)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>

        <section aria-labelledby="waves-heading" class="mt-6 rounded-lg border bg-white p-4">
            <h2 id="waves-heading" class="text-lg font-semibold">"Waves in progress"</h2>
            {if s.waves.is_empty() {
                view! { <p class="mt-2">"No wave is open. Agents start them on the floor app."</p> }.into_any()
            } else {
                view! {
                    <table class="mt-2 w-full text-left text-sm">
                        <thead><tr class="border-b"><th class="p-2">"Wave"</th><th class="p-2">"Warehouse"</th><th class="p-2 text-right">"Orders"</th><th class="p-2">"Picked"</th><th class="p-2">"Started"</th></tr></thead>
                        <tbody>
                            {s.waves.iter().map(|w| {
                                let pct = if w.units > 0 { w.picked_units * 100 / w.units } else { 0 };
                                view! {
                                    <tr class="border-b">
                                        <td class="p-2 font-mono">{w.number.clone()}</td>
                                        <td class="p-2">{w.warehouse.clone()}</td>
                                        <td class="p-2 text-right tabular-nums">{w.fulfillments}</td>
                                        <td class="p-2">
                                            <span class="tabular-nums">{format!("{} of {} units", w.picked_units, w.units)}</span>
                                            <div class="mt-1 h-2 w-32 rounded bg-slate-200" aria-hidden="true"><div class="h-2 rounded bg-green-600" style=format!("width: {pct}%")></div></div>
                                        </td>
                                        <td class="p-2">{short_time(&w.created_at)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>

        <section aria-labelledby="agents-heading" class="mt-6 rounded-lg border bg-white p-4">
            <h2 id="agents-heading" class="text-lg font-semibold">{format!("Units per hour by agent, last {} h", s.window_hours)}</h2>
            {if s.agents.is_empty() {
                view! { <p class="mt-2">"Nobody has picked in this window."</p> }.into_any()
            } else {
                view! {
                    {rate_chart(&s.agents)}
                    <table class="mt-3 w-full text-left text-sm">
                        <caption class="sr-only">"Picks by agent"</caption>
                        <thead><tr class="border-b"><th class="p-2">"Agent"</th><th class="p-2 text-right">"Units"</th><th class="p-2 text-right">"Tasks"</th><th class="p-2 text-right">"Units per hour"</th></tr></thead>
                        <tbody>
                            {s.agents.iter().map(|a| view! {
                                <tr class="border-b">
                                    <th scope="row" class="p-2 font-normal">{a.agent.clone()}</th>
                                    <td class="p-2 text-right tabular-nums">{a.units}</td>
                                    <td class="p-2 text-right tabular-nums">{a.tasks}</td>
                                    <td class="p-2 text-right tabular-nums">{format!("{:.1}", a.units_per_hour)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// Horizontal bars of units per hour, scaled to the fastest agent.
fn rate_chart(agents: &[AgentRate]) -> impl IntoView {
    let top = agents
        .iter()
        .map(|a| a.units_per_hour)
        .fold(1.0_f64, f64::max);
    let title = agents
        .iter()
        .map(|a| format!("{}: {:.1} units per hour", a.agent, a.units_per_hour))
        .collect::<Vec<_>>()
        .join(". ");
    let height = 10 + agents.len() * 24;
    view! {
        <svg role="img" aria-labelledby="rate-title" viewBox=format!("0 0 420 {height}") class="mt-3 w-full max-w-xl">
            <title id="rate-title">{title}</title>
            {agents.iter().enumerate().map(|(i, a)| {
                let y = 5 + i * 24;
                let w = a.units_per_hour / top * 200.0;
                view! {
                    <text x="0" y=y + 14 font-size="11" fill="#334155">{a.agent.clone()}</text>
                    <rect x="150" y=y width=format!("{:.1}", w.max(1.0)) height="16" fill="#4338ca" />
                    <text x=format!("{:.1}", 156.0 + w) y=y + 13 font-size="11" fill="#0f172a">{format!("{:.1}", a.units_per_hour)}</text>
                }
            }).collect_view()}
        </svg>
    }
}
