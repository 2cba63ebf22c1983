//! The floor app for tablets: big touch targets and a scan field that takes
//! keyboard-wedge input ending in Enter. A scan is a plain GET form submission,
//! so it works the same with or without JavaScript.

use domain::views::Scanned;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{me, scan, Viewer},
    components::{query_param, ErrorBox, SignedIn},
};

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
            <header class="flex items-center justify-between px-6 py-4">
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
                    <div class="mt-4 flex gap-3">
                        <input
                            id="scan"
                            name="scan"
                            autofocus
                            autocomplete="off"
                            inputmode="text"
                            aria-describedby="scan-help"
                            class="min-h-16 flex-1 rounded-lg border-2 border-slate-500 bg-white px-4 text-2xl text-slate-900"
                        />
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
                    {["Pick", "Pack", "Ship", "Receive", "Count", "Returns"].into_iter().map(|task| view! {
                        <span class="flex min-h-24 items-center justify-center rounded-xl bg-slate-800 text-slate-400" title="Arrives in a later release">
                            {task} <span class="ml-2 rounded bg-slate-700 px-2 text-sm">"soon"</span>
                        </span>
                    }).collect_view()}
                </nav>
            </main>
        </div>
    }
}
