//! Shared widgets: the command-center frame, field errors, empty states.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::session::{me, Viewer};

pub mod live;
pub mod url;

/// A query parameter as a plain string ("" when absent).
pub fn query_param(name: &'static str) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let query = use_query_map();
    move || query.read().get(name).unwrap_or_default()
}

/// An RFC 3339 instant as people read it: `2026-11-26 17:50:23 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match rfc3339.get(..19) {
        Some(prefix) if rfc3339.ends_with('Z') => format!("{} UTC", prefix.replace('T', " ")),
        _ => rfc3339.to_string(),
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found · Keel" />
        <main class="mx-auto max-w-xl p-8">
            <h1 class="text-2xl font-bold">"Page not found"</h1>
            <p class="mt-2">"There is nothing at this address. " <a class="text-indigo-700 underline" href="/">"Go to the start page"</a></p>
        </main>
    }
}

/// The desktop frame of the command center: navigation for every context
/// (those still to come are shown, marked as coming), the signed-in user, and sign out.
#[component]
pub fn CommandFrame(title: &'static str, children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |_| me());
    let nav_link = |href: &'static str, label: &'static str, current: bool| {
        view! {
            <li>
                <a
                    href=href
                    aria-current=if current { Some("page") } else { None }
                    class="block rounded px-3 py-2 hover:bg-slate-700 aria-[current=page]:bg-slate-700 aria-[current=page]:font-semibold"
                >
                    {label}
                </a>
            </li>
        }
    };
    let coming = |label: &'static str| {
        view! {
            <li class="px-3 py-2 text-slate-400" title="Arrives in a later release">
                {label}
                <span class="ml-2 rounded bg-slate-700 px-1 text-xs">"soon"</span>
            </li>
        }
    };
    view! {
        <Title text=format!("{title} · Keel command center") />
        <div class="flex min-h-screen flex-col md:flex-row">
            <nav aria-label="Command center" class="shrink-0 bg-slate-800 p-4 text-slate-100 md:w-56">
                <a href="/command" class="mb-2 block text-xl font-bold md:mb-6">"Keel"</a>
                <ul class="flex flex-wrap gap-1 text-sm md:block md:space-y-1">
                    {nav_link("/command", "Dashboard", title == "Dashboard")}
                    {nav_link("/command/kpis", "KPIs", title == "KPIs")}
                    {nav_link("/command/orders", "Orders", title == "Orders" || title == "Order" || title == "Confirm bulk action")}
                    {nav_link("/command/products", "Products", title == "Products" || title == "Product" || title == "New product" || title == "Import catalogue")}
                    {nav_link("/command/prices", "Price lists", title == "Price lists")}
                    {nav_link("/command/sourcing", "Sourcing", title == "Sourcing")}
                    {nav_link("/command/transfers", "Transfers", title == "Transfers")}
                    {nav_link("/command/counts", "Cycle counts", title == "Cycle counts")}
                    {nav_link("/command/fulfilment", "Fulfilment", title == "Fulfilment")}
                    {nav_link("/command/exceptions", "Exceptions", title == "Exceptions")}
                    {nav_link("/command/approvals", "Approvals", title == "Approvals")}
                    {coming("Returns")}
                    {coming("Finance")}
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let viewer = me.await.ok().flatten();
                            let (audit, users, privacy) = viewer.map(|v| (v.can_audit, v.can_manage_users, v.can_privacy)).unwrap_or_default();
                            view! {
                                {audit.then(|| nav_link("/command/audit", "Audit log", title == "Audit log"))}
                                {users.then(|| nav_link("/command/users", "Users", title == "Users"))}
                                {privacy.then(|| nav_link("/command/privacy", "Privacy", title == "Privacy"))}
                            }
                        })}
                    </Suspense>
                </ul>
            </nav>
            <div class="min-w-0 flex-1">
                <header class="flex flex-wrap items-center justify-between gap-2 border-b bg-white px-6 py-3">
                    <h1 class="text-xl font-semibold">{title}</h1>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            match me.await {
                                Ok(Some(Viewer { name, role, .. })) => view! { <SignedIn name role /> }.into_any(),
                                _ => view! { <a href="/signin">"Sign in"</a> }.into_any(),
                            }
                        })}
                    </Suspense>
                </header>
                <main class="overflow-x-auto p-4 md:p-6">{children()}</main>
            </div>
        </div>
    }
}

#[component]
pub fn SignedIn(name: String, role: String) -> impl IntoView {
    view! {
        <div class="flex min-w-0 flex-wrap items-center gap-x-4 gap-y-1 text-sm">
            <span class="min-w-0 break-all">
                <span class="font-medium">{name}</span>
                <span class="ml-2 text-slate-500">{role}</span>
            </span>
            <a href="/account" class="rounded border px-3 py-1 hover:bg-slate-100">"Account"</a>
            <form method="post" action="/signout">
                <button type="submit" class="rounded border px-3 py-1 hover:bg-slate-100">"Sign out"</button>
            </form>
        </div>
    }
}

/// A message under a form field, tied to it by id for screen readers.
#[component]
pub fn FieldMessage(id: &'static str, message: String) -> impl IntoView {
    (!message.is_empty())
        .then(|| view! { <p id=id class="mt-1 text-sm text-red-700" role="alert">{message}</p> })
}

/// What a refused form sent back with the page's address: each field's
/// message (`error_<field>`) and what was typed (`value_<field>`), read once
/// when the page is built, so the form shows them beside its fields with
/// JavaScript and without it.
#[derive(Clone, Default)]
pub struct Refused {
    errors: std::collections::HashMap<String, String>,
    values: std::collections::HashMap<String, String>,
}

impl Refused {
    pub fn read() -> Self {
        let query = use_query_map();
        let map = query.read_untracked();
        let mut out = Refused::default();
        for (k, v) in map.latest_values() {
            if let Some(field) = k.strip_prefix("error_") {
                out.errors.insert(field.to_string(), v.to_string());
            } else if let Some(field) = k.strip_prefix("value_") {
                out.values.insert(field.to_string(), v.to_string());
            }
        }
        out
    }

    /// The message for `field`, or an empty string.
    pub fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    /// What was typed into `field` when the form was refused, else `stored`.
    pub fn value(&self, field: &str, stored: String) -> String {
        self.values.get(field).cloned().unwrap_or(stored)
    }

    /// Whether any of `fields` was refused (to open the form that holds them).
    pub fn any(&self, fields: &[&str]) -> bool {
        fields.iter().any(|f| self.errors.contains_key(*f))
    }
}

/// A field's error beside it, tied to the input by `id`. An alert is heard
/// out of context, so screen readers hear the field's label first.
#[component]
pub fn FieldAlert(
    id: String,
    label: String,
    message: String,
    /// On the floor's dark screens.
    #[prop(optional)]
    dark: bool,
) -> impl IntoView {
    let class = if dark {
        "mt-1 text-lg font-semibold text-red-300"
    } else {
        "mt-1 text-sm font-medium text-red-700"
    };
    (!message.is_empty()).then(|| {
        view! {
            <p id=id class=class role="alert">
                <span class="sr-only">{label} ": "</span>
                {message}
            </p>
        }
    })
}

/// A labelled text input that shows its error from the query string and
/// keeps what was typed.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] kind: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: &'static str,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional, into)] error: Option<String>,
    /// Names the form when a page has two with the same field, so every id
    /// (and the label and error tied to it) stays unique.
    #[prop(optional)]
    form: &'static str,
) -> impl IntoView {
    let key = if form.is_empty() {
        name.to_string()
    } else {
        format!("{form}-{name}")
    };
    let id = format!("f-{key}");
    let err_id = format!("e-{key}");
    let error = error.unwrap_or_default();
    let described = (!error.is_empty() || !hint.is_empty()).then(|| err_id.clone());
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input id=id name=name type=if kind.is_empty() { "text" } else { kind } required=required value=value.unwrap_or_default()
                aria-describedby=described aria-invalid=(!error.is_empty()).then_some("true") class="mt-1 w-full rounded border px-2 py-2" />
            {(!hint.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-500">{hint}</p> })}
            <FieldAlert id=err_id label=label.to_string() message=error />
        </div>
    }
}

#[component]
pub fn Notice(message: String) -> impl IntoView {
    (!message.is_empty()).then(|| view! { <p role="status" class="mb-4 rounded border border-green-300 bg-green-50 p-3 text-green-900">{message}</p> })
}

#[component]
pub fn ErrorBox(message: String) -> impl IntoView {
    view! { <p role="alert" class="rounded border border-red-300 bg-red-50 p-3 text-red-900">{message}</p> }
}

#[component]
pub fn Empty(message: &'static str) -> impl IntoView {
    view! { <p class="rounded border border-dashed p-6 text-center text-slate-500">{message}</p> }
}

#[cfg(test)]
mod tests {
    use super::short_time;

    #[test]
    fn instants_are_shown_to_the_second_in_utc() {
        assert_eq!(
            short_time("2026-11-26T17:50:23.991160Z"),
            "2026-11-26 17:50:23 UTC"
        );
        assert_eq!(short_time("not a time"), "not a time");
    }
}
