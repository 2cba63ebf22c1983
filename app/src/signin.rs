//! The sign-in page. The form posts to `/signin`, which sets the session cookie
//! and redirects; errors come back as query parameters, so it needs no JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{query_param, FieldMessage};

#[component]
pub fn SignIn() -> impl IntoView {
    let (error, email, next) = (
        query_param("error"),
        query_param("email"),
        query_param("next"),
    );
    let next = move || {
        let n = next();
        if n.is_empty() {
            "/command".to_string()
        } else {
            n
        }
    };
    view! {
        <Title text="Sign in · Keel" />
        <main class="mx-auto mt-16 max-w-md p-6">
            <h1 class="text-3xl font-bold">"Sign in to Keel"</h1>
            <form method="post" action="/signin" class="mt-8 space-y-5 rounded-lg border bg-white p-6 shadow-sm">
                <input type="hidden" name="next" value=next />
                <div>
                    <label for="email" class="block text-base font-medium">"Email"</label>
                    <input
                        id="email"
                        name="email"
                        type="email"
                        required
                        autocomplete="username"
                        value=email
                        aria-describedby="signin-error"
                        class="mt-1 block w-full rounded border px-3 py-3 text-lg"
                    />
                </div>
                <div>
                    <label for="password" class="block text-base font-medium">"Password"</label>
                    <input
                        id="password"
                        name="password"
                        type="password"
                        required
                        autocomplete="current-password"
                        aria-describedby="signin-error"
                        class="mt-1 block w-full rounded border px-3 py-3 text-lg"
                    />
                    <FieldMessage id="signin-error" message=error() />
                </div>
                <button type="submit" class="w-full rounded bg-indigo-700 px-4 py-3 text-lg font-semibold text-white hover:bg-indigo-800">
                    "Sign in"
                </button>
            </form>
        </main>
    }
}
