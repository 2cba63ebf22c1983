//! The returns portal for customers on phones: no staff chrome, one task per
//! screen. The lookup is a GET form, so it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{query_param, ErrorBox, FieldMessage};
use crate::orders::api::{portal_lookup, Lookup};

#[component]
pub fn Portal() -> impl IntoView {
    let (order, contact) = (query_param("order"), query_param("contact"));
    let submitted = {
        let query = leptos_router::hooks::use_query_map();
        move || query.read().get("order").is_some()
    };
    let key = {
        let (order, contact, submitted) = (order.clone(), contact.clone(), submitted);
        move || (submitted(), order(), contact())
    };
    let result = Resource::new(key, |(submitted, order, contact)| async move {
        if submitted {
            portal_lookup(order, contact).await.map(Some)
        } else {
            Ok(None)
        }
    });
    let field_error = move |field: &'static str| {
        move || match result.get() {
            Some(Ok(Some(Lookup::Invalid(errors)))) => errors
                .into_iter()
                .find(|e| e.field == field)
                .map(|e| e.message)
                .unwrap_or_default(),
            _ => String::new(),
        }
    };
    view! {
        <Title text="Returns · Northwind Outfitters" />
        <main class="mx-auto max-w-md p-5">
            <h1 class="text-2xl font-bold">"Return an item"</h1>
            <p class="mt-1 text-slate-600">"Find your order to start a return or follow a refund."</p>
            <form method="get" action="/portal" class="mt-6 space-y-4" novalidate>
                <div>
                    <label for="order" class="block text-base font-medium">"Order number"</label>
                    <input id="order" name="order" value=order() inputmode="text" autocomplete="off" aria-describedby="order-error" class="mt-1 block w-full rounded-lg border px-3 py-3 text-lg" />
                    <Suspense fallback=|| ()>{move || view! { <FieldMessage id="order-error" message=field_error("order")() /> }}</Suspense>
                </div>
                <div>
                    <label for="contact" class="block text-base font-medium">"Email or postcode"</label>
                    <input id="contact" name="contact" value=contact() autocomplete="email" aria-describedby="contact-error" class="mt-1 block w-full rounded-lg border px-3 py-3 text-lg" />
                    <Suspense fallback=|| ()>{move || view! { <FieldMessage id="contact-error" message=field_error("contact")() /> }}</Suspense>
                </div>
                <button type="submit" class="min-h-12 w-full rounded-lg bg-indigo-700 px-4 py-3 text-lg font-semibold text-white">"Find my order"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match result.await {
                        Ok(Some(Lookup::Found(o))) => view! {
                            <section aria-labelledby="found" class="mt-6 rounded-lg border bg-white p-4">
                                <h2 id="found" class="text-lg font-semibold">"Order " {o.number}</h2>
                                <p>"Status: " {o.status}</p>
                                <p>"Total: " {o.total.to_string()}</p>
                            </section>
                        }.into_any(),
                        Ok(Some(Lookup::NoMatch)) => view! {
                            <p role="alert" class="mt-6 rounded-lg border border-amber-300 bg-amber-50 p-4">
                                "We couldn't find an order with that number and email or postcode. Check both against your confirmation email and try again."
                            </p>
                        }.into_any(),
                        Ok(_) => ().into_any(),
                        Err(e) => view! { <div class="mt-6"><ErrorBox message=e.to_string() /></div> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}
