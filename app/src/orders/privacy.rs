//! Privacy requests in the command center: download everything about a
//! customer, erase a customer, and the requests made so far. The email goes
//! in a form body, never the address bar, and every action is a form post,
//! so the page works the same without JavaScript.

use domain::views::{AuditEntry, Page};
use leptos::prelude::*;

use crate::components::{query_param, short_time, CommandFrame, Empty, ErrorBox, Notice};
use crate::problem::Problem;

/// The privacy requests made so far (exports and erasures), newest first.
#[server(prefix = "/sfn", endpoint = "privacy_page")]
pub async fn privacy_page(cursor: Option<String>) -> Result<Page<AuditEntry>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    ctx.require(domain::governance::Permission::PrivacyManage)
        .map_err(crate::ssr::fail)?;
    let filter = domain::views::AuditFilter {
        entity: Some("customer".into()),
        limit: Some(25),
        cursor: cursor.filter(|c| !c.is_empty()),
        ..Default::default()
    };
    backend::governance::list_audit(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}

const FIELD: &str = "w-full rounded border px-3 py-2";
const LABEL: &str = "mb-1 block text-sm font-medium";

#[component]
pub fn Privacy() -> impl IntoView {
    let (cursor, notice, error) = (
        query_param("cursor"),
        query_param("notice"),
        query_param("error"),
    );
    let page = Resource::new(cursor.clone(), |c| privacy_page(Some(c)));
    view! {
        <CommandFrame title="Privacy">
            <Notice message=notice() />
            {move || { let e = error(); (!e.is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=e /></div> }) }}
            <div class="mb-8 grid items-start gap-6 lg:grid-cols-2">
                <ExportForm />
                <EraseForm />
            </div>
            <h2 class="mb-3 text-lg font-semibold">"Requests so far"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => requests(p),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </CommandFrame>
    }
}

#[component]
fn ExportForm() -> impl IntoView {
    view! {
        <section aria-labelledby="export-heading" class="rounded-lg border bg-white p-4">
            <h2 id="export-heading" class="mb-2 text-lg font-semibold">"Export a customer's data"</h2>
            <p class="mb-3 text-sm text-slate-600">"One JSON file with the customer, their addresses, every order whole (lines, totals, notes, shipments, history) and their returns-portal visits. The export is recorded in the audit log."</p>
            <form method="post" action="/command/privacy/export" class="space-y-3">
                <div>
                    <label for="export-email" class=LABEL>"Customer's email"</label>
                    <input id="export-email" name="email" type="email" required maxlength="254" autocomplete="off" class=FIELD />
                </div>
                <button type="submit" class="min-h-11 rounded bg-indigo-700 px-4 py-2 font-semibold text-white">"Download export (JSON)"</button>
            </form>
        </section>
    }
}

#[component]
fn EraseForm() -> impl IntoView {
    view! {
        <section aria-labelledby="erase-heading" class="rounded-lg border border-red-200 bg-white p-4">
            <h2 id="erase-heading" class="mb-2 text-lg font-semibold">"Erase a customer"</h2>
            <p class="mb-3 text-sm text-slate-600">"Their orders stay, with money, stock, status, country and region, under the name “Erased customer”. Names, addresses, contact details, notes and anything else written about them are erased everywhere, the audit log included. This can't be undone. Orders still to ship must be shipped or cancelled first."</p>
            <form method="post" action="/command/privacy/erase" class="space-y-3">
                <div>
                    <label for="erase-email" class=LABEL>"Customer's email"</label>
                    <input id="erase-email" name="email" type="email" required maxlength="254" autocomplete="off" class=FIELD />
                </div>
                <div>
                    <label for="erase-confirm" class=LABEL>"Type the email again to confirm"</label>
                    <input id="erase-confirm" name="confirm" type="email" required maxlength="254" autocomplete="off" class=FIELD />
                </div>
                <div>
                    <label for="erase-reason" class=LABEL>"Reason (the request's reference)"</label>
                    <input id="erase-reason" name="reason" required maxlength="500" class=FIELD />
                </div>
                <button type="submit" class="min-h-11 rounded bg-red-700 px-4 py-2 font-semibold text-white">"Erase customer"</button>
            </form>
        </section>
    }
}

/// A number from a request's recorded facts.
fn fact(e: &AuditEntry, key: &str) -> i64 {
    let v = e.after.as_ref().map(|a| &a[key]);
    v.and_then(|v| v.as_i64().or_else(|| v.as_array().map(|a| a.len() as i64)))
        .unwrap_or(0)
}

fn requests(page: Page<AuditEntry>) -> AnyView {
    if page.items.is_empty() {
        return view! { <Empty message="No privacy requests yet. Exports and erasures appear here, newest first." /> }.into_any();
    }
    let next = page.next_cursor.clone().map(|c| {
        format!(
            "/command/privacy?cursor={}",
            crate::components::url::urlencode(&c)
        )
    });
    view! {
        <table class="w-full border bg-white text-left text-sm">
            <caption class="sr-only">"Privacy requests, newest first"</caption>
            <thead class="bg-slate-100">
                <tr><th class="p-2">"When"</th><th class="p-2">"Request"</th><th class="p-2">"Customer"</th><th class="p-2">"By"</th><th class="p-2">"What it touched"</th></tr>
            </thead>
            <tbody>
                {page.items.into_iter().map(|e| {
                    let erasure = e.action == "customer.erase";
                    let touched = if erasure {
                        format!("Orders kept: {} · audit rows rewritten: {} · events rewritten: {}", fact(&e, "orders"), fact(&e, "audit_rows"), fact(&e, "events"))
                    } else {
                        format!("Orders exported: {}", fact(&e, "orders"))
                    };
                    let reason = e.after.as_ref().and_then(|a| a["reason"].as_str().map(str::to_string));
                    view! {
                        <tr class="border-t align-top">
                            <td class="p-2 whitespace-nowrap"><time datetime=e.occurred_at.clone()>{short_time(&e.occurred_at)}</time></td>
                            <td class="p-2">{if erasure { "Erasure" } else { "Export" }}{reason.map(|r| view! { <span class="block text-xs text-slate-500">{r}</span> })}</td>
                            <td class="p-2 font-mono text-xs">{e.entity_id.clone()}</td>
                            <td class="p-2">{e.actor_name.clone()}</td>
                            <td class="p-2">{touched}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {next.map(|href| view! { <a class="mt-4 inline-block text-indigo-700 underline" href=href>"Older requests"</a> })}
    }
    .into_any()
}
