//! The floor app for tablets: big touch targets and a scan field that takes
//! keyboard-wedge input ending in Enter. Scans are plain form submissions,
//! so they work the same with or without JavaScript.

mod offline;
mod pack;
mod pick;
mod receive;

pub use pack::{Pack, PackQueue};
pub use pick::{PickStart, PickWave};
pub use receive::{ReceiveDelivery, ReceiveStart};

use domain::views::Scanned;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{query_param, ErrorBox, SignedIn};
use crate::inventory::api::{count_detail, my_warehouses, scan};
use crate::session::{me, Viewer};

#[component]
pub fn Floor() -> impl IntoView {
    let code = query_param("scan");
    let result = Resource::new(code.clone(), |code| async move {
        if code.is_empty() {
            Ok(None)
        } else {
            scan(code).await.map(Some)
        }
    });
    let me = Resource::new(|| (), |_| me());
    view! {
        <Title text="Floor · Keel" />
        <div class="min-h-screen bg-slate-900 text-white">
            <header class="flex flex-wrap items-center justify-between gap-2 px-6 py-4">
                <span class="text-2xl font-bold">"Keel floor"</span>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(Viewer { name, role, .. })) => view! { <SignedIn name role /> }.into_any(),
                            _ => ().into_any(),
                        }
                    })}
                </Suspense>
            </header>
            <main class="mx-auto max-w-3xl px-6 pb-10">
                <form method="get" action="/floor" class="rounded-xl bg-slate-800 p-6">
                    <label for="scan" class="block text-2xl font-semibold">"Scan"</label>
                    <p id="scan-help" class="mt-1 text-slate-300">"Scan a badge, bin or item. Typing a code and pressing Enter works too."</p>
                    <div class="mt-4 flex flex-wrap gap-3">
                        <input
                            id="scan"
                            name="scan"
                            autofocus
                            autocomplete="off"
                            inputmode="text"
                            aria-describedby="scan-help"
                            class="min-h-16 min-w-48 flex-1 rounded-lg border-2 border-slate-500 bg-white px-4 text-2xl text-slate-900"
                        />
                        {camera_button()}
                        <button type="submit" class="min-h-16 min-w-32 rounded-lg bg-indigo-500 px-6 text-2xl font-semibold">"Go"</button>
                    </div>
                </form>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match result.await {
                            Ok(None) => ().into_any(),
                            Ok(Some(Scanned::Badge { user_name, role })) => view! {
                                <p role="status" class="mt-6 rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl">
                                    "Badge: " <strong>{user_name}</strong> " (" {role} ")"
                                </p>
                            }.into_any(),
                            Ok(Some(Scanned::Product { sku, name })) => view! {
                                <p role="status" class="mt-6 rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl">
                                    "Item " <strong class="font-mono">{sku}</strong> ": " {name}
                                </p>
                            }.into_any(),
                            Ok(Some(Scanned::Location { warehouse, code })) => view! {
                                <div role="status" class="mt-6 rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl">
                                    "Bin " <strong class="font-mono">{code.clone()}</strong> " in " {warehouse.clone()}
                                    <form method="post" action="/floor/count" class="mt-4">
                                        <input type="hidden" name="warehouse" value=warehouse />
                                        <input type="hidden" name="location" value=code />
                                        <button type="submit" class="min-h-16 rounded-lg bg-indigo-500 px-6 text-2xl font-semibold">"Count this bin"</button>
                                    </form>
                                </div>
                            }.into_any(),
                            Ok(Some(Scanned::Unknown { code })) => view! {
                                <p role="alert" class="mt-6 rounded-xl border-4 border-amber-400 bg-amber-900 p-6 text-2xl">
                                    "Unknown code " <strong class="font-mono">{code}</strong> ". It is not a badge, bin or item Keel knows. Check the label and scan again."
                                </p>
                            }.into_any(),
                            Err(e) => view! { <div class="mt-6 text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                        }
                    })}
                </Suspense>
                <nav aria-label="Floor tasks" class="mt-8 grid grid-cols-2 gap-4 text-xl">
                    <a href="/floor/pick" class="flex min-h-24 items-center justify-center rounded-xl bg-indigo-600 font-semibold hover:bg-indigo-500">"Pick"</a>
                    <a href="/floor/pack" class="flex min-h-24 items-center justify-center rounded-xl bg-indigo-600 font-semibold hover:bg-indigo-500">"Pack and ship"</a>
                    <a href="/floor/receive" class="flex min-h-24 items-center justify-center rounded-xl bg-indigo-600 font-semibold hover:bg-indigo-500">"Receive"</a>
                    <a href="/floor/count" class="flex min-h-24 items-center justify-center rounded-xl bg-indigo-600 font-semibold hover:bg-indigo-500">"Count a bin"</a>
                    <span class="flex min-h-24 items-center justify-center rounded-xl bg-slate-800 text-slate-400" title="Arrives in a later release">
                        "Returns" <span class="ml-2 rounded bg-slate-700 px-2 text-sm">"soon"</span>
                    </span>
                </nav>
            </main>
        </div>
    }
}

/// `autofocus` works on a page load but not after client-side navigation, so
/// scan fields also take focus when they mount: a scanner's keystrokes must
/// land in them without a tap.
pub(crate) fn focus_on_mount() -> NodeRef<leptos::html::Input> {
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(el) = input.get() {
            let _ = el.focus();
        }
    });
    input
}

/// The dark, large-type frame every floor screen shares.
#[component]
pub(crate) fn FloorFrame(title: &'static str, children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |_| me());
    view! {
        <Title text=format!("{title} · Keel floor") />
        <div class="min-h-screen bg-slate-900 text-white">
            <header class="flex flex-wrap items-center justify-between gap-2 px-6 py-4">
                <a href="/floor" class="text-2xl font-bold">"Keel floor"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match me.await {
                            Ok(Some(Viewer { name, role, .. })) => view! { <SignedIn name role /> }.into_any(),
                            _ => ().into_any(),
                        }
                    })}
                </Suspense>
            </header>
            <main class="mx-auto max-w-3xl px-6 pb-10">
                <h1 class="mb-4 text-3xl font-bold">{title}</h1>
                {children()}
            </main>
        </div>
    }
}

/// The camera button of a scan form. It shows only where the browser can
/// read barcodes (public/camera.js marks the page); the first barcode the
/// camera reads fills the form's scan field and submits it, as a wedge
/// scanner's Enter would.
pub(crate) fn camera_button() -> impl IntoView {
    view! {
        <button type="button" data-camera class="min-h-16 items-center rounded-lg bg-slate-600 px-5 text-2xl font-semibold">
            <span aria-hidden="true">"📷 "</span>"Camera"
        </button>
    }
}

pub(crate) fn floor_error(message: String) -> impl IntoView {
    (!message.is_empty()).then(|| view! {
        <p role="alert" class="mb-4 rounded-xl border-4 border-amber-400 bg-amber-900 p-4 text-xl">{message}</p>
    })
}

/// Start (or resume) a count by scanning the bin's label.
#[component]
pub fn CountStart() -> impl IntoView {
    let err = query_param("error");
    let warehouses = Resource::new(|| (), |_| my_warehouses());
    view! {
        <FloorFrame title="Count a bin">
            {floor_error(err())}
            <form method="post" action="/floor/count" class="rounded-xl bg-slate-800 p-6">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let list = warehouses.await.unwrap_or_default();
                        if list.len() == 1 {
                            view! { <input type="hidden" name="warehouse" value=list[0].clone() /> }.into_any()
                        } else {
                            view! {
                                <label for="warehouse" class="block text-xl font-semibold">"Warehouse"</label>
                                <select id="warehouse" name="warehouse" class="mb-4 mt-2 min-h-14 w-full rounded-lg bg-white px-3 text-xl text-slate-900">
                                    {list.into_iter().map(|w| view! { <option value=w.clone()>{w.clone()}</option> }).collect_view()}
                                </select>
                            }.into_any()
                        }
                    })}
                </Suspense>
                <label for="location" class="block text-2xl font-semibold">"Scan the bin label"</label>
                <div class="mt-4 flex gap-3">
                    <input id="location" name="location" autofocus autocomplete="off" required node_ref=focus_on_mount()
                        class="min-h-16 min-w-0 flex-1 rounded-lg border-2 border-slate-500 bg-white px-4 text-2xl text-slate-900" />
                    <button type="submit" class="min-h-16 min-w-32 rounded-lg bg-indigo-500 px-6 text-2xl font-semibold">"Start"</button>
                </div>
            </form>
        </FloorFrame>
    }
}

/// Counting one bin: scan each item (or type a quantity), then finish. The
/// expected quantity is not shown, so the count is blind.
#[component]
pub fn CountBin() -> impl IntoView {
    let params = leptos_router::hooks::use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let (err, notice) = (query_param("error"), query_param("notice"));
    let count = Resource::new(id, count_detail);
    view! {
        <FloorFrame title="Count">
            {floor_error(err())}
            {move || (!notice().is_empty()).then(|| view! { <p role="status" class="mb-4 rounded-xl border-4 border-green-400 bg-green-900 p-4 text-xl">{notice()}</p> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match count.await {
                        Ok(c) if c.status == "open" => view! {
                            <p class="mb-4 text-2xl">"Bin " <strong class="font-mono">{c.location.clone()}</strong> " in " {c.warehouse.clone()} " · " <span class="font-mono">{c.number.clone()}</span></p>
                            <form method="post" action=format!("/floor/count/{}/scan", c.id) class="rounded-xl bg-slate-800 p-6">
                                <label for="code" class="block text-2xl font-semibold">"Scan each item"</label>
                                <p id="code-help" class="mt-1 text-slate-300">"Every scan adds one. To enter a total instead, type it in Quantity first."</p>
                                <div class="mt-4 flex flex-wrap gap-3">
                                    <input id="code" name="code" autofocus autocomplete="off" required aria-describedby="code-help" node_ref=focus_on_mount()
                                        class="min-h-16 min-w-48 flex-1 rounded-lg border-2 border-slate-500 bg-white px-4 text-2xl text-slate-900" />
                                    {camera_button()}
                                    <label for="quantity" class="sr-only">"Quantity"</label>
                                    <input id="quantity" name="quantity" type="number" min="0" inputmode="numeric" placeholder="Qty"
                                        class="min-h-16 w-28 rounded-lg border-2 border-slate-500 bg-white px-3 text-2xl text-slate-900" />
                                    <button type="submit" class="min-h-16 min-w-32 rounded-lg bg-indigo-500 px-6 text-2xl font-semibold">"Add"</button>
                                </div>
                            </form>
                            <table class="mt-6 w-full text-left text-xl">
                                <caption class="text-left text-slate-300">"Counted so far"</caption>
                                <thead><tr class="border-b border-slate-600"><th class="p-2">"Item"</th><th class="p-2 text-right">"Counted"</th></tr></thead>
                                <tbody>
                                    {c.lines.iter().map(|l| view! {
                                        <tr class="border-b border-slate-700"><td class="p-2"><span class="font-mono">{l.sku.clone()}</span><span class="block text-base text-slate-300">{l.name.clone()}</span></td><td class="p-2 text-right text-2xl font-bold tabular-nums">{l.counted}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <form method="post" action=format!("/floor/count/{}/submit", c.id) class="mt-6">
                                <button type="submit" class="min-h-16 w-full rounded-lg bg-green-600 px-6 text-2xl font-semibold">"Finish count"</button>
                            </form>
                        }.into_any(),
                        Ok(c) => view! {
                            <p role="status" class="rounded-xl border-4 border-green-400 bg-green-900 p-6 text-2xl">
                                {match c.status.as_str() {
                                    "posted" => format!("Count {} is done. Stock in {} now matches what you counted.", c.number, c.location),
                                    "pending_approval" => format!("Count {} is done. The difference ({} units, {}) waits for a manager's approval.", c.number, c.variance_units, c.variance_value),
                                    other => format!("Count {} is {}.", c.number, other.replace('_', " ")),
                                }}
                            </p>
                            <a href="/floor/count" class="mt-6 flex min-h-16 items-center justify-center rounded-lg bg-indigo-500 text-2xl font-semibold">"Count another bin"</a>
                        }.into_any(),
                        Err(e) => view! { <div class="text-slate-900"><ErrorBox message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </FloorFrame>
    }
}
