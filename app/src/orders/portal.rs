//! The returns portal for customers on phones: no staff chrome, one task per
//! screen. The lookup form posts to `/portal`, which checks the proof and
//! opens a portal session for that one order (a cookie), then shows it at
//! `/portal/order`. Plain forms, so it works the same without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{query_param, short_time, ErrorBox, FieldAlert, Refused};
use crate::orders::api::portal_view;
use crate::problem::Problem;

const INPUT: &str = "mt-1 block w-full rounded-lg border px-3 py-3 text-lg";

#[component]
fn PortalField(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    refused: Refused,
) -> impl IntoView {
    let error = refused.error(name);
    let (id, err_id, hint_id) = (
        format!("p-{name}"),
        format!("pe-{name}"),
        format!("ph-{name}"),
    );
    let described = format!("{hint_id} {err_id}");
    view! {
        <div>
            <label for=id.clone() class="block text-base font-medium">{label}</label>
            <p id=hint_id class="text-sm text-slate-600">{hint}</p>
            <input id=id name=name value=refused.value(name, String::new()) autocomplete=autocomplete
                aria-describedby=described aria-invalid=(!error.is_empty()).then_some("true") class=INPUT />
            <FieldAlert id=err_id label=label.to_string() message=error />
        </div>
    }
}

#[component]
pub fn Portal() -> impl IntoView {
    let refused = Refused::read();
    let error = query_param("error");
    view! {
        <Title text="Returns" />
        <main class="mx-auto max-w-md p-5">
            <h1 class="text-2xl font-bold">"Return an item"</h1>
            <p class="mt-1 text-slate-600">"Find your order to start a return or follow a refund."</p>
            {move || (!error().is_empty()).then(|| view! { <div class="mt-4"><ErrorBox message=error() /></div> })}
            <form method="post" action="/portal" class="mt-6 space-y-4" novalidate>
                <PortalField name="order" label="Order number" hint="As shown in your confirmation email, such as SO-1042." refused=refused.clone() />
                <PortalField name="contact" label="Email or postcode" hint="The email address or shipping postcode on the order." autocomplete="email" refused=refused.clone() />
                <PortalField name="detail" label="Order total or date (with a postcode)" hint="Only needed with a postcode: the total, such as 59.90, or the day you ordered, such as 2026-03-12." refused=refused.clone() />
                <button type="submit" class="min-h-12 w-full rounded-lg bg-indigo-700 px-4 py-3 text-lg font-semibold text-white">"Find my order"</button>
            </form>
        </main>
    }
}

/// The order a portal session sees. Without a live session it says so and
/// leads back to the lookup.
#[component]
pub fn PortalOrderPage() -> impl IntoView {
    let order = Resource::new(|| (), |_| portal_view());
    view! {
        <Title text="Your order" />
        <main class="mx-auto max-w-md p-5">
            <Suspense fallback=|| view! { <p>"Loading your order…"</p> }>
                {move || Suspend::new(async move {
                    match order.await {
                        Ok(o) => view! { <PortalOrderView order=o /> }.into_any(),
                        Err(Problem::NotFound(_)) => view! {
                            <h1 class="text-2xl font-bold">"Find your order again"</h1>
                            <p class="mt-2">"For your privacy, an order stays open here for 30 minutes, on this device only."</p>
                            <a href="/portal" class="mt-6 block min-h-12 w-full rounded-lg bg-indigo-700 px-4 py-3 text-center text-lg font-semibold text-white">"Find my order"</a>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn PortalOrderView(order: domain::views::PortalOrder) -> impl IntoView {
    let shipments = order.shipments.clone();
    view! {
        <h1 class="text-2xl font-bold">"Order " {order.number.clone()}</h1>
        <dl class="mt-4 grid grid-cols-2 gap-2 rounded-lg border bg-white p-4">
            <dt class="text-slate-600">"Status"</dt><dd class="font-semibold">{order.status.replace('_', " ")}</dd>
            <dt class="text-slate-600">"Ordered"</dt><dd>{short_time(&order.placed_at)}</dd>
            <dt class="text-slate-600">"Total"</dt><dd>{order.total.to_string()}</dd>
        </dl>
        <h2 class="mt-6 text-lg font-semibold">"Items"</h2>
        <ul class="mt-2 divide-y rounded-lg border bg-white">
            {order.lines.into_iter().map(|l| view! {
                <li class="p-3">
                    <p class="font-medium">{l.name}</p>
                    <p class="text-sm text-slate-600">{format!("{} · {} ordered", l.sku, l.quantity)}
                        {(l.shipped > 0).then(|| format!(" · {} shipped", l.shipped))}
                        {(l.cancelled > 0).then(|| format!(" · {} cancelled", l.cancelled))}
                    </p>
                </li>
            }).collect_view()}
        </ul>
        <h2 class="mt-6 text-lg font-semibold">"Shipments"</h2>
        {if shipments.is_empty() {
            view! { <p class="mt-2 text-slate-600">"Nothing has shipped yet."</p> }.into_any()
        } else {
            view! {
                <ul class="mt-2 divide-y rounded-lg border bg-white">
                    {shipments.into_iter().map(|s| view! {
                        <li class="p-3">
                            <p class="font-medium">{format!("{} · {} {}", s.number, s.carrier, s.service)}</p>
                            <p class="text-sm text-slate-600">"Shipped " {short_time(&s.shipped_at)}</p>
                            {(!s.tracking.is_empty()).then(|| view! { <p class="text-sm">"Tracking: " {s.tracking.join(", ")}</p> })}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        <p class="mt-6 text-sm text-slate-600">"This page stays open on this device until " {short_time(&order.session_expires_at)} "."</p>
        <form method="post" action="/portal/done" class="mt-4">
            <button type="submit" class="min-h-12 w-full rounded-lg border px-4 py-3 text-lg">"Done: close this order"</button>
        </form>
    }
}
