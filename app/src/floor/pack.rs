//! Packing and shipping at the bench: scan every picked unit into a
//! package, weigh and measure each package, then enter the carrier,
//! service and tracking numbers. The ship button stays disabled, and the
//! server refuses a shipment, until the pack verifies; the labels (PDF and
//! ZPL) exist only once it has shipped.

use crate::problem::Problem;
use domain::views::{PackView, WaveFulfillment};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    floor_error, focus_on_mount,
    pick::{scan_feedback, FIELD, GO},
    FloorFrame,
};
use crate::components::{query_param, ErrorBox, FieldAlert, Refused};

#[server(prefix = "/sfn", endpoint = "pack_queue")]
pub async fn pack_queue() -> Result<Vec<WaveFulfillment>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::fulfillment::to_pack(&db, &ctx, 50)
        .await
        .map_err(crate::ssr::fail)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackBench {
    pub pack: PackView,
    pub key: String,
}

#[server(prefix = "/sfn", endpoint = "pack_screen")]
pub async fn pack_screen(id: String) -> Result<PackBench, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let pack = backend::fulfillment::pack_view(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    Ok(PackBench {
        pack,
        key: backend::fulfillment::scan_key(),
    })
}

/// Carriers offered first; any other name can be typed.
const CARRIERS: [&str; 8] = [
    "UPS",
    "FedEx",
    "USPS",
    "DHL Express",
    "DPD",
    "GLS",
    "Royal Mail",
    "Canada Post",
];

#[component]
pub fn PackQueue() -> impl IntoView {
    let err = query_param("error");
    let queue = Resource::new(|| (), |_| pack_queue());
    view! {
        <FloorFrame title="Pack and ship">
            {floor_error(err())}
            <form method="post" action="/floor/pack" class="rounded-xl bg-slate-800 p-6">
                <label for="fulfillment" class="block text-2xl font-semibold">"Scan the pick (fulfilment number)"</label>
                <div class="mt-3 flex gap-3">
                    <input id="fulfillment" name="code" autofocus autocomplete="off" required node_ref=focus_on_mount() class=FIELD />
                    <button type="submit" class=GO>"Open"</button>
                </div>
            </form>
            <section class="mt-8" aria-labelledby="to-pack">
                <h2 id="to-pack" class="text-2xl font-semibold">"Waiting to pack"</h2>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match queue.await {
                            Ok(list) if list.is_empty() => view! { <p class="mt-2 text-xl text-slate-300">"Nothing is picked and waiting. Finished waves show up here."</p> }.into_any(),
                            Ok(list) => view! {
                                <ul class="mt-3 grid gap-3">
                                    {list.into_iter().map(|f| view! {
                                        <li><a href=format!("/floor/pack/{}", f.id) class="flex min-h-16 items-center justify-between rounded-xl bg-slate-800 px-5 text-xl hover:bg-slate-700">
                                            <strong class="font-mono">{f.label.clone()}</strong><span>{f.shipping_method.clone()}</span>
                                        </a></li>
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </FloorFrame>
    }
}

#[component]
pub fn Pack() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let (err, notice, package) = (
        query_param("error"),
        query_param("notice"),
        query_param("package"),
    );
    let refused = Refused::read();
    let data = Resource::new(id, pack_screen);
    view! {
        <FloorFrame title="Pack and ship">
            {scan_feedback(err, notice)}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let (package, refused) = (package(), refused.clone());
                    Suspend::new(async move {
                        match data.await {
                            Ok(v) => pack_screen_view(v, &package, &refused).into_any(),
                            Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </FloorFrame>
    }
}

/// The pack bench: the scan, the packages with their measures, and the
/// ship form. Long by design: one screen's markup, top to bottom as the
/// agent works it.
fn pack_screen_view(v: PackBench, package: &str, refused: &Refused) -> impl IntoView {
    let PackBench { pack: p, key } = v;
    let last = p.packages.last().map(|x| x.seq).unwrap_or(0);
    // The package being filled: the one asked for, else the last (or 1).
    let current = package
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=last + 1).contains(n))
        .unwrap_or(last.max(1));
    let current_empty = p
        .packages
        .iter()
        .find(|x| x.seq == current)
        .is_none_or(|x| x.items.is_empty());
    let base = format!("/floor/pack/{}", p.fulfillment_id);
    let heading = format!("{} · {} · {}", p.label, p.warehouse, p.shipping_method);
    let packing = p.status == "picked";
    view! {
        <p class="mb-4 text-2xl font-semibold">{heading}</p>
        {packing.then(|| view! {
            <form method="post" action=format!("{base}/scan") class="rounded-xl bg-slate-800 p-6">
                <input type="hidden" name="key" value=key.clone() />
                <input type="hidden" name="package" value=current.to_string() />
                <label for="scan" class="block text-2xl font-semibold">{format!("Scan each item into package {current}")}</label>
                <div class="mt-3 flex flex-wrap gap-3">
                    <input id="scan" name="code" autofocus autocomplete="off" required node_ref=focus_on_mount() class=FIELD />
                    {super::camera_button()}
                    <button type="submit" class=GO>"Enter"</button>
                </div>
                {(!current_empty).then(|| view! {
                    <a href=format!("{base}?package={}", last + 1) class="mt-4 flex min-h-14 items-center justify-center rounded-lg border-2 border-indigo-300 text-xl">
                        {format!("Start package {}", last + 1)}
                    </a>
                })}
            </form>
        })}
        <table class="mt-6 w-full text-left text-xl">
            <caption class="text-left text-slate-300">"Items"</caption>
            <thead><tr class="border-b border-slate-600"><th class="p-2">"Item"</th><th class="p-2 text-right">"Picked"</th><th class="p-2 text-right">"Packed"</th></tr></thead>
            <tbody>
                {p.lines.iter().map(|l| view! {
                    <tr class="border-b border-slate-700">
                        <td class="p-2"><span class="font-mono">{l.sku.clone()}</span><span class="block text-base text-slate-300">{l.name.clone()}</span></td>
                        <td class="p-2 text-right tabular-nums">{l.picked}</td>
                        <td class=if l.packed == l.picked { "p-2 text-right tabular-nums text-green-300" } else { "p-2 text-right tabular-nums" }>{l.packed}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {p.packages.iter().map(|pk| {
            let [l, w, h] = pk.dimensions_mm.unwrap_or([0, 0, 0]);
            let items = pk.items.iter().map(|i| format!("{} × {}", i.quantity, i.sku)).collect::<Vec<_>>().join(", ");
            let seq = pk.seq;
            let num = |v: i64| if v > 0 { v.to_string() } else { String::new() };
            // After a refusal each message stands beside its field (the
            // sides share one) and what was typed is kept.
            let typed = |field: &str, stored: i64| refused.value(&format!("{field}_{seq}"), num(stored));
            let (weight_value, length_value, width_value, height_value) = (
                typed("weight_g", pk.weight_g.unwrap_or(0)),
                typed("length_mm", l),
                typed("width_mm", w),
                typed("height_mm", h),
            );
            let weight_error = refused.error(&format!("weight_g_{seq}"));
            let dims_error = refused.error(&format!("dimensions_{seq}"));
            // `shown`: the sides share one message, under the last of them,
            // and each side points to it.
            let measure = move |id: &'static str, name: &'static str, label: &'static str, max: &'static str, value: String, (error, shown): (String, bool)| {
                let input_id = format!("{id}-{seq}");
                let error_id = if name == "weight_g" { format!("weight-{seq}-error") } else { format!("sides-{seq}-error") };
                let invalid = !error.is_empty();
                let alert_label = if name == "weight_g" { label.to_string() } else { format!("Package {seq} sides") };
                view! {
                    <div><label for=input_id.clone() class="block text-lg">{label}</label>
                        <input id=input_id name=name type="number" min="1" max=max inputmode="numeric" required value=value
                            aria-invalid=invalid.then_some("true") aria-describedby=invalid.then(|| error_id.clone())
                            class="mt-1 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900" />
                        {shown.then(|| view! { <FieldAlert id=error_id label=alert_label message=error dark=true /> })}</div>
                }
            };
            view! {
                <section class="mt-6 rounded-xl bg-slate-800 p-6" aria-label=format!("Package {seq}")>
                    <h2 class="text-2xl font-semibold">{format!("Package {seq}")}</h2>
                    <p class="mt-1 text-xl text-slate-300">{if items.is_empty() { "Empty".to_string() } else { items }}</p>
                    {pk.tracking.clone().map(|t| view! { <p class="mt-1 text-xl">"Tracking " <strong class="font-mono">{t}</strong></p> })}
                    {packing.then(|| view! {
                        <form method="post" action=format!("{base}/packages/{seq}") class="mt-4 grid grid-cols-2 gap-4 sm:grid-cols-5" novalidate>
                            {measure("weight", "weight_g", "Weight (g)", "70000", weight_value, (weight_error, true))}
                            {measure("length", "length_mm", "Length (mm)", "2700", length_value, (dims_error.clone(), false))}
                            {measure("width", "width_mm", "Width (mm)", "2700", width_value, (dims_error.clone(), false))}
                            {measure("height", "height_mm", "Height (mm)", "2700", height_value, (dims_error, true))}
                            <button type="submit" class="min-h-14 self-end rounded-lg bg-indigo-500 text-xl font-semibold">{format!("Save package {seq}")}</button>
                        </form>
                    })}
                </section>
            }
        }).collect_view()}
        {match (&p.shipment, packing) {
            (Some(s), _) => view! {
                <section class="mt-6 rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl" aria-label="Shipment">
                    <p>{format!("Shipped {} via {} {}", s.number, s.carrier, s.service)}</p>
                    <div class="mt-4 flex flex-wrap gap-3">
                        <a href=format!("/api/v1/shipments/{}/label?format=pdf", s.id) class="flex min-h-14 items-center rounded-lg bg-white px-5 font-semibold text-slate-900">"Label (PDF)"</a>
                        <a href=format!("/api/v1/shipments/{}/label?format=zpl", s.id) class="flex min-h-14 items-center rounded-lg bg-white px-5 font-semibold text-slate-900">"Label (ZPL)"</a>
                    </div>
                </section>
                <a href="/floor/pack" class="mt-6 flex min-h-16 items-center justify-center rounded-lg bg-indigo-500 text-2xl font-semibold">"Pack the next one"</a>
            }.into_any(),
            (None, true) => {
                let verified = p.verified;
                view! {
                    <section class="mt-6 rounded-xl bg-slate-800 p-6" aria-labelledby="ship-heading">
                        <h2 id="ship-heading" class="text-2xl font-semibold">"Ship"</h2>
                        {(!verified).then(|| view! {
                            <div role="status" class="mt-3 rounded-lg border-4 border-amber-400 bg-amber-900 p-4 text-xl" aria-label="Pack check">
                                <p class="font-semibold">"Label blocked until the pack verifies:"</p>
                                <ul class="ml-6 list-disc">{p.problems.iter().map(|m| view! { <li>{m.clone()}</li> }).collect_view()}</ul>
                            </div>
                        })}
                        {verified.then(|| view! { <p role="status" class="mt-3 text-xl text-green-300">"Pack verified: every unit is packed, weighed and measured."</p> })}
                        <form method="post" action=format!("{base}/ship") class="mt-4 grid gap-4">
                            <input type="hidden" name="key" value=format!("{key}-ship") />
                            <div class="grid gap-4 sm:grid-cols-2">
                                <div><label for="carrier" class="block text-xl">"Carrier"</label>
                                    <input id="carrier" name="carrier" list="carriers" required autocomplete="off" class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900" />
                                    <datalist id="carriers">{CARRIERS.map(|c| view! { <option value=c></option> }).collect_view()}</datalist></div>
                                <div><label for="service" class="block text-xl">"Service"</label>
                                    <input id="service" name="service" required value=p.shipping_method.clone() class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900" /></div>
                            </div>
                            {p.packages.iter().map(|pk| view! {
                                <div><label for=format!("tracking-{}", pk.seq) class="block text-xl">{format!("Tracking number, package {}", pk.seq)}</label>
                                    <input id=format!("tracking-{}", pk.seq) name=format!("tracking_{}", pk.seq) required autocomplete="off" class="mt-2 min-h-14 w-full rounded-lg bg-white px-3 font-mono text-xl text-slate-900" /></div>
                            }).collect_view()}
                            <button type="submit" disabled=!verified class="min-h-16 rounded-lg bg-green-600 text-2xl font-semibold disabled:cursor-not-allowed disabled:bg-slate-600 disabled:text-slate-300">"Ship and print label"</button>
                        </form>
                    </section>
                }.into_any()
            }
            (None, false) => view! {
                <p role="status" class="mt-6 rounded-xl border-4 border-amber-400 bg-amber-900 p-5 text-xl">{p.problems.join("; ")}</p>
            }.into_any(),
        }}
    }
}
