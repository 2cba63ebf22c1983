//! Picking: start a wave for a warehouse, then walk it task by task. Each
//! task asks for the bin label, then the item, then the quantity; a wrong
//! scan is refused in red (with a beep where the browser allows) and
//! changes nothing. Every scan form carries a key, so a double submit or a
//! reload replays the first answer instead of picking twice.

use crate::problem::Problem;
use domain::{
    fulfillment::ShortReason,
    views::{PickTask, Wave, WaveSummary},
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{floor_error, focus_on_mount, offline, FloorFrame};
use crate::components::{query_param, ErrorBox, FieldAlert, Refused};

/// What the pick start screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickStartView {
    pub waves: Vec<WaveSummary>,
    pub warehouses: Vec<String>,
}

#[server(prefix = "/sfn", endpoint = "pick_start")]
pub async fn pick_start() -> Result<PickStartView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let filter = backend::fulfillment::WaveFilter {
        status: Some("open".into()),
        limit: Some(50),
        ..Default::default()
    };
    let waves = backend::fulfillment::list_waves(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)?
        .items;
    let warehouses = crate::ssr::warehouse_codes(&db, &ctx).await?;
    Ok(PickStartView { waves, warehouses })
}

/// A wave and a fresh key for the next scan form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaveScreen {
    pub wave: Wave,
    pub key: String,
}

#[server(prefix = "/sfn", endpoint = "wave_view")]
pub async fn wave_view(id: String) -> Result<WaveScreen, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let wave = backend::fulfillment::get_wave(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(WaveScreen {
        wave,
        key: backend::fulfillment::scan_key(),
    })
}

pub(crate) const FIELD: &str = "min-h-16 min-w-48 flex-1 rounded-lg border-2 border-slate-500 bg-white px-4 text-2xl text-slate-900";
pub(crate) const GO: &str =
    "min-h-16 min-w-32 rounded-lg bg-indigo-500 px-6 text-2xl font-semibold";

/// The answer to the last scan: green for accepted, red for refused. A
/// refusal also beeps once the page runs in the browser.
pub(crate) fn scan_feedback(
    err: impl Fn() -> String + Send + Sync + 'static,
    notice: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    let (err, notice) = (Signal::derive(err), Signal::derive(notice));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if !err.get().is_empty() {
            beep();
        }
    });
    let (err, notice) = (move || err.get(), move || notice.get());
    view! {
        {move || (!err().is_empty()).then(|| view! {
            <p role="alert" class="mb-4 rounded-xl border-4 border-red-400 bg-red-900 p-5 text-2xl font-semibold">
                <span aria-hidden="true">"✗ "</span>{err()}
            </p>
        })}
        {move || (!notice().is_empty()).then(|| view! {
            <p role="status" class="mb-4 rounded-xl border-4 border-green-400 bg-green-900 p-5 text-2xl">
                <span aria-hidden="true">"✓ "</span>{notice()}
            </p>
        })}
    }
}

/// A short low tone. Browsers that block sound until the page is touched
/// stay silent; the red banner says the same.
#[cfg(feature = "hydrate")]
fn beep() {
    let Ok(ctx) = web_sys::AudioContext::new() else {
        return;
    };
    let Ok(osc) = ctx.create_oscillator() else {
        return;
    };
    osc.set_type(web_sys::OscillatorType::Square);
    osc.frequency().set_value(220.0);
    if osc.connect_with_audio_node(&ctx.destination()).is_err() {
        return;
    }
    let now = ctx.current_time();
    let _ = osc.start_with_when(now);
    let _ = osc.stop_with_when(now + 0.25);
}

#[component]
pub fn PickStart() -> impl IntoView {
    let err = query_param("error");
    let data = Resource::new(|| (), |_| pick_start());
    view! {
        <FloorFrame title="Pick">
            {floor_error(err())}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! {
                            <form method="post" action="/floor/pick" class="rounded-xl bg-slate-800 p-6">
                                <h2 class="text-2xl font-semibold">"Start a wave"</h2>
                                <p class="mt-1 text-slate-300">"Express orders first, then the oldest. The pick list is in bin order."</p>
                                <div class="mt-4 grid gap-4 sm:grid-cols-3">
                                    <div>
                                        <label for="warehouse" class="block text-xl">"Warehouse"</label>
                                        <select id="warehouse" name="warehouse" class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900">
                                            {v.warehouses.iter().map(|w| view! { <option value=w.clone()>{w.clone()}</option> }).collect_view()}
                                        </select>
                                    </div>
                                    <div>
                                        <label for="max_orders" class="block text-xl">"Orders at most"</label>
                                        <input id="max_orders" name="max_orders" type="number" min="1" max="200" value="25" inputmode="numeric"
                                            class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900" />
                                    </div>
                                    <label class="flex min-h-14 items-center gap-3 self-end text-xl">
                                        <input type="checkbox" name="express_only" value="true" class="h-8 w-8" />
                                        "Express only"
                                    </label>
                                </div>
                                <button type="submit" class=format!("{GO} mt-6 w-full")>"Start wave"</button>
                            </form>
                            <section class="mt-8" aria-labelledby="open-waves">
                                <h2 id="open-waves" class="text-2xl font-semibold">"Open waves"</h2>
                                {if v.waves.is_empty() {
                                    view! { <p class="mt-2 text-xl text-slate-300">"No wave is open. Start one above."</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="mt-3 grid gap-3">
                                            {v.waves.into_iter().map(|w| view! {
                                                <li>
                                                    <a href=format!("/floor/pick/{}", w.id) class="flex min-h-16 items-center justify-between rounded-xl bg-slate-800 px-5 text-xl hover:bg-slate-700">
                                                        <span><strong class="font-mono">{w.number.clone()}</strong>" · "{w.warehouse.clone()}" · "{w.fulfillments}" orders"</span>
                                                        <span class="tabular-nums">{format!("{} of {} units", w.picked_units, w.units)}</span>
                                                    </a>
                                                </li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }}
                            </section>
                        }.into_any(),
                        Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </FloorFrame>
    }
}

/// What the agent is asked to do at the task's step.
fn instruction(t: &PickTask) -> AnyView {
    let lot = (!t.lot.is_empty()).then(|| {
        let exp = if t.expires_on.is_empty() {
            String::new()
        } else {
            format!(", expires {}", t.expires_on)
        };
        view! { <p class="mt-2 text-xl text-amber-200">"Lot " <strong class="font-mono">{t.lot.clone()}</strong>{exp}</p> }
    });
    let left = t.quantity - t.picked - t.short;
    let head = match t.step.as_str() {
        "bin" => view! { <p class="text-3xl">"Go to bin " <strong class="font-mono text-4xl">{t.location.clone()}</strong></p><p class="mt-1 text-xl text-slate-300">"Scan the bin label."</p> }.into_any(),
        "item" => view! { <p class="text-3xl">"Scan the item " <strong class="font-mono text-4xl">{t.sku.clone()}</strong></p><p class="mt-1 text-xl text-slate-300">{t.name.clone()} " · bin " {t.location.clone()}</p> }.into_any(),
        _ => view! { <p class="text-3xl">"Take " <strong class="text-5xl tabular-nums">{left}</strong> " × " <strong class="font-mono">{t.sku.clone()}</strong></p><p class="mt-1 text-xl text-slate-300">"Type the quantity you took and press Enter, or tap Confirm."</p> }.into_any(),
    };
    view! {
        <div class="rounded-xl border-4 border-indigo-400 bg-slate-800 p-6" aria-label="Current task">
            {head}
            {lot}
            <p class="mt-2 text-lg text-slate-300">"For " {t.order_number.clone()} " · " {format!("{} of {} picked", t.picked, t.quantity)}</p>
        </div>
    }
    .into_any()
}

#[component]
pub fn PickWave() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let (err, notice) = (offline::answer("error"), offline::answer("notice"));
    let data = Resource::new(id, wave_view);
    let refused = Refused::read();
    view! {
        <FloorFrame title="Pick">
            {scan_feedback(err, notice)}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let refused = refused.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(v) => wave_screen(v, &refused).into_any(),
                            Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </FloorFrame>
    }
}

fn wave_screen(v: WaveScreen, refused: &Refused) -> impl IntoView {
    let (picked_error, reason_error) = (refused.error("picked"), refused.error("reason"));
    let short_refused = !picked_error.is_empty() || !reason_error.is_empty();
    let picked_value = refused.value("picked", "0".to_string());
    let WaveScreen { wave, key } = v;
    let pending = offline::start();
    let scan_field = focus_on_mount();
    let wave_id = wave.id.clone();
    let pct = if wave.units > 0 {
        wave.picked_units * 100 / wave.units
    } else {
        100
    };
    let current = wave.tasks.iter().find(|t| t.status == "open").cloned();
    let action = format!("/floor/pick/{}/scan", wave.id);
    let short_action = format!("/floor/pick/{}/short", wave.id);
    let summary = format!(
        "{} · {} · {} of {} units picked",
        wave.number, wave.warehouse, wave.picked_units, wave.units
    );
    view! {
        {offline::pending_notice(pending)}
        <p class="text-xl">{summary}</p>
        <div class="mb-6 mt-2 h-4 rounded bg-slate-700" role="progressbar" aria-label="Wave progress"
            aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct.to_string()>
            <div class="h-4 rounded bg-green-500" style=format!("width: {pct}%")></div>
        </div>
        {match current {
            Some(t) => {
                let confirm = (t.step == "quantity").then(|| {
                    let left = t.quantity - t.picked - t.short;
                    view! {
                        <form method="post" action=action.clone() class="mt-4">
                            <input type="hidden" name="key" value=format!("{key}-confirm") />
                            <input type="hidden" name="code" value=left.to_string() />
                            <button type="submit" class="min-h-16 w-full rounded-lg bg-green-600 text-2xl font-semibold">{format!("Confirm {left}")}</button>
                        </form>
                    }
                });
                let left = t.quantity - t.picked - t.short;
                view! {
                    {instruction(&t)}
                    <form method="post" action=action.clone() class="mt-4 rounded-xl bg-slate-800 p-6"
                        on:submit=move |ev| offline::submit(ev, offline::Flow::Pick, &wave_id, scan_field, pending)>
                        <input type="hidden" name="key" value=key.clone() />
                        <label for="scan" class="block text-2xl font-semibold">"Scan"</label>
                        <div class="mt-3 flex flex-wrap gap-3">
                            <input id="scan" name="code" autofocus autocomplete="off" required node_ref=scan_field class=FIELD />
                            {super::camera_button()}
                            <button type="submit" class=GO>"Enter"</button>
                        </div>
                    </form>
                    {confirm}
                    <details class="mt-4 rounded-xl bg-slate-800 p-6" open=short_refused>
                        <summary class="min-h-12 cursor-pointer text-2xl font-semibold">"Short pick"</summary>
                        <form method="post" action=short_action.clone() class="mt-4 grid gap-4">
                            <input type="hidden" name="key" value=format!("{key}-short") />
                            <div>
                                <label for="picked" class="block text-xl">{format!("Units you found (fewer than {left})")}</label>
                                <input id="picked" name="picked" type="number" min="0" max=(left - 1).to_string() value=picked_value.clone() inputmode="numeric" required
                                    aria-invalid=(!picked_error.is_empty()).then_some("true") aria-describedby=(!picked_error.is_empty()).then_some("picked-error")
                                    class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900" />
                                <FieldAlert id="picked-error".to_string() label="Units you found".to_string() message=picked_error.clone() dark=true />
                            </div>
                            <div>
                                <label for="reason" class="block text-xl">"Reason"</label>
                                <select id="reason" name="reason" required class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900"
                                    aria-invalid=(!reason_error.is_empty()).then_some("true") aria-describedby=(!reason_error.is_empty()).then_some("reason-error")>
                                    {ShortReason::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                                </select>
                                <FieldAlert id="reason-error".to_string() label="Reason".to_string() message=reason_error.clone() dark=true />
                            </div>
                            <button type="submit" class="min-h-16 rounded-lg bg-amber-600 text-2xl font-semibold">"Record short pick"</button>
                        </form>
                    </details>
                }.into_any()
            }
            None => view! {
                <div role="status" class="rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl">
                    {format!("Wave {} is {}. Take the picks to packing.", wave.number, wave.status)}
                </div>
                <ul class="mt-4 grid gap-3" aria-label="Ready to pack">
                    {wave.fulfillments.iter().filter(|f| f.status == "picked").map(|f| view! {
                        <li><a href=format!("/floor/pack/{}", f.id) class="flex min-h-16 items-center rounded-xl bg-indigo-600 px-5 text-2xl font-semibold">{format!("Pack {}", f.label)}</a></li>
                    }).collect_view()}
                </ul>
            }.into_any(),
        }}
        <table class="mt-8 w-full text-left text-lg">
            <caption class="text-left text-xl text-slate-300">"Pick list, in walk order"</caption>
            <thead><tr class="border-b border-slate-600"><th class="p-2">"Bin"</th><th class="p-2">"Item"</th><th class="p-2">"Order"</th><th class="p-2 text-right">"Qty"</th><th class="p-2 text-right">"Picked"</th><th class="p-2">"Status"</th></tr></thead>
            <tbody>
                {wave.tasks.iter().map(|t| {
                    let status = match (t.status.as_str(), t.short) {
                        ("open", _) => "to pick".to_string(),
                        (_, 0) => t.status.clone(),
                        (s, n) => format!("{s}, {n} short"),
                    };
                    view! {
                        <tr class="border-b border-slate-700">
                            <td class="p-2 font-mono">{t.location.clone()}</td>
                            <td class="p-2"><span class="font-mono">{t.sku.clone()}</span></td>
                            <td class="p-2">{t.order_number.clone()}</td>
                            <td class="p-2 text-right tabular-nums">{t.quantity}</td>
                            <td class="p-2 text-right tabular-nums">{t.picked}</td>
                            <td class="p-2">{status}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
