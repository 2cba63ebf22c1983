//! Your account: who you are signed in as, and your own password. Every role
//! has it (`account.own`), from the command center and the floor alike. The
//! form posts to `/account/password` and comes back with a notice or each
//! field's error; nothing typed is echoed back.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{query_param, ErrorBox, Field, Notice, Refused, SignedIn};
use crate::session::me;

#[component]
pub fn Account() -> impl IntoView {
    let refused = Refused::read();
    let (notice, error) = (query_param("notice"), query_param("error"));
    let viewer = Resource::new(|| (), |_| me());
    view! {
        <Title text="Your account · Keel" />
        <main class="mx-auto mt-10 max-w-md p-6">
            <h1 class="text-3xl font-bold">"Your account"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let refused = refused.clone();
                    let (notice, error) = (notice(), error());
                    Suspend::new(async move {
                        match viewer.await {
                            Ok(Some(v)) => view! {
                                <div class="mt-2"><SignedIn name=v.name role=v.role /></div>
                                <nav class="mt-2 flex gap-4 text-indigo-700" aria-label="Back">
                                    <a href="/command" class="underline">"Command center"</a>
                                    <a href="/floor" class="underline">"Floor"</a>
                                </nav>
                                <div class="mt-6"><Notice message=notice /></div>
                                {(!error.is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=error /></div> })}
                                <form method="post" action="/account/password" class="space-y-4 rounded-lg border bg-white p-6 shadow-sm">
                                    <h2 class="text-lg font-semibold">"Change your password"</h2>
                                    <Field name="current_password" label="Current password" kind="password" required=true error=refused.error("current_password") />
                                    <Field name="new_password" label="New password" kind="password" required=true hint="At least 12 characters. Your other sessions end when you change it." error=refused.error("new_password") />
                                    <Field name="confirm_password" label="New password again" kind="password" required=true error=refused.error("confirm_password") />
                                    <button type="submit" class="min-h-12 w-full rounded bg-indigo-700 px-4 py-3 text-lg font-semibold text-white hover:bg-indigo-800">"Change password"</button>
                                </form>
                            }.into_any(),
                            Ok(None) => view! {
                                <p class="mt-4">"Sign in to look after your account."</p>
                                <a href="/signin?next=/account" class="mt-4 inline-block rounded bg-indigo-700 px-4 py-3 font-semibold text-white">"Sign in"</a>
                            }.into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </main>
    }
}
