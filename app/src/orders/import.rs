//! Importing a marketplace's order report: choose the channel and the file,
//! check which column feeds which order field (the channel remembers it),
//! see the orders and the rows left out, then import and watch the progress.
//! Every step is a form post, so it works without JavaScript.

use domain::views::{ImportJob, ReportPreview};
use leptos::prelude::*;
use leptos_meta::Meta;
use leptos_router::hooks::use_params_map;

use crate::orders::api::{report_channels, report_import_status, ReportImportView};
use crate::{
    components::url::urlencode,
    components::{query_param, CommandFrame, ErrorBox, Notice},
};

const BUTTON: &str = "rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800 focus:outline-none focus:ring-2 focus:ring-indigo-400";
const INPUT: &str = "mt-1 w-full rounded border px-2 py-2";

#[component]
pub fn OrderImport() -> impl IntoView {
    let err = query_param("error");
    let channels = Resource::new(|| (), |_| report_channels());
    view! {
        <CommandFrame title="Import a marketplace order report">
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            <section class="max-w-3xl rounded-lg border bg-white p-6">
                <p class="mb-4 text-sm text-slate-600">
                    "Upload the marketplace's order report as CSV, one row per order line. You choose which column holds what on the next page (the channel remembers it), and see the orders before anything is saved. Orders already in Keel are left as they are, so importing the same report twice changes nothing."
                </p>
                <form method="post" action="/command/orders/import" enctype="multipart/form-data" class="grid gap-3 sm:grid-cols-2">
                    <div>
                        <label for="r-channel" class="block text-sm font-medium">"Channel"</label>
                        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                            {move || Suspend::new(async move {
                                match channels.await {
                                    Ok(list) => view! {
                                        <select id="r-channel" name="channel" required class=INPUT>
                                            {list.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                                        </select>
                                    }.into_any(),
                                    Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                                }
                            })}
                        </Suspense>
                    </div>
                    <div>
                        <label for="r-file" class="block text-sm font-medium">"Report (CSV)"</label>
                        <input id="r-file" name="file" type="file" accept=".csv,.txt,text/csv" required class="mt-1" />
                    </div>
                    <div class="sm:col-span-2"><button type="submit" class=BUTTON>"Upload and preview"</button></div>
                </form>
            </section>
        </CommandFrame>
    }
}

#[component]
pub fn OrderImportJob() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let status = Resource::new(id, report_import_status);
    let (err, notice) = (query_param("error"), query_param("notice"));
    view! {
        <CommandFrame title="Import a marketplace order report">
            {move || (!err().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=err() /></div> })}
            {move || (!notice().is_empty()).then(|| view! { <div class="mb-4"><Notice message=notice() /></div> })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let id = id();
                    Suspend::new(async move {
                        match status.await {
                            Ok(s) => job_view(id, s),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

fn job_view(id: String, s: ReportImportView) -> AnyView {
    match s.preview {
        Some(p) => staged_view(id, p).into_any(),
        None => progress_view(s.job).into_any(),
    }
}

fn staged_view(id: String, p: ReportPreview) -> impl IntoView {
    let base = format!("/command/orders/import/{}", urlencode(&id));
    let ready = p.mapping_errors.is_empty();
    let errors = p.mapping_errors.clone();
    let headers = p.headers.clone();
    view! {
        <section class="max-w-4xl rounded-lg border bg-white p-6">
            <h2 class="text-lg font-semibold">{format!("Columns for channel {}", p.channel)}</h2>
            <p class="mt-1 text-sm text-slate-600">{if p.mapping_saved { "The channel's saved columns. Change them if this report differs." } else { "Guessed from the header line. Check them; the channel remembers them once the import is set up." }}</p>
            <form method="post" action=format!("{base}/mapping") class="mt-3 grid gap-2 sm:grid-cols-2">
                {p.fields.into_iter().map(|f| {
                    let fid = format!("m-{}", f.key);
                    let problem = errors.iter().find(|e| e.field == f.key).map(|e| e.message.clone());
                    let headers = headers.clone();
                    let current = f.column.clone();
                    view! {
                        <div>
                            <label for=fid.clone() class="block text-sm font-medium">{if f.required { format!("{} (required)", f.label) } else { f.label.clone() }}</label>
                            <select id=fid name=f.key.clone() class=INPUT aria-invalid=problem.is_some().to_string()>
                                <option value="" selected=current.is_empty()>"(not in this report)"</option>
                                {headers.into_iter().map(|h| { let selected = h == current; view! { <option value=h.clone() selected=selected>{h.clone()}</option> } }).collect_view()}
                            </select>
                            {problem.map(|m| view! { <p class="text-sm text-red-700">{m}</p> })}
                        </div>
                    }
                }).collect_view()}
                <div class="sm:col-span-2"><button type="submit" class="rounded border px-4 py-2 hover:bg-slate-100">"Use these columns"</button></div>
            </form>
            {(!ready).then(|| view! { <p class="mt-3 font-semibold text-red-700" role="alert">"Choose the missing columns before importing."</p> })}
            {ready.then(|| view! {
                <h2 class="mt-6 text-lg font-semibold">"Preview"</h2>
                <p class="mt-1" role="status">{format!("{} ready to import; {} left out.", count(p.orders, "order"), count(p.problems.len() as i64, "row"))}</p>
                <table class="mt-3 w-full text-left text-sm">
                    <caption class="text-left text-sm text-slate-500">"The first orders as they will be read"</caption>
                    <thead><tr class="border-b"><th class="p-2">"Order id"</th><th class="p-2">"Buyer"</th><th class="p-2 text-right">"Lines"</th><th class="p-2 text-right">"Units"</th><th class="p-2">"File lines"</th></tr></thead>
                    <tbody>{p.sample.into_iter().map(|o| view! { <tr class="border-b"><td class="p-2 font-mono">{o.external_id}</td><td class="p-2">{o.email}</td><td class="p-2 text-right tabular-nums">{o.lines}</td><td class="p-2 text-right tabular-nums">{o.units}</td><td class="p-2 tabular-nums">{o.file_lines}</td></tr> }).collect_view()}</tbody>
                </table>
                <form method="post" action=format!("{base}/start") class="mt-4">
                    <button type="submit" class=BUTTON>{format!("Import {}", count(p.orders, "order"))}</button>
                    <a href="/command/orders/import" class="ml-3 text-indigo-700 underline">"Choose another file"</a>
                </form>
            })}
            {problems_table(p.problems)}
        </section>
    }
}

/// "1 order", "2 orders".
fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn progress_view(job: ImportJob) -> impl IntoView {
    let done = job.processed_rows;
    let pct = done * 100 / job.total_rows.max(1);
    view! {
        {(job.status == "running").then(|| view! { <Meta http_equiv="refresh" content="1" /> })}
        <section class="max-w-4xl rounded-lg border bg-white p-6">
            <h2 class="text-lg font-semibold">{match job.status.as_str() { "running" => "Importing…", "done" => "Import finished", _ => "Import failed" }}</h2>
            <label for="progress" class="mt-3 block text-sm">{format!("{done} of {} orders processed ({pct}%)", job.total_rows)}</label>
            <progress id="progress" class="h-4 w-full" max=job.total_rows value=done>{format!("{pct}%")}</progress>
            <p class="mt-3" role="status">{format!("Created {} · already in Keel {} · failed {}", job.created_rows, job.unchanged_rows, job.failed_rows)}</p>
            {(job.status == "done").then(|| view! { <a href="/command/orders" class="mt-3 inline-block text-indigo-700 underline">"See the orders"</a> })}
            {problems_table(job.errors)}
        </section>
    }
}

fn problems_table(rows: Vec<domain::views::RowError>) -> impl IntoView {
    (!rows.is_empty()).then(|| view! {
        <h3 class="mt-6 font-semibold">"Rows left out"</h3>
        <table class="mt-2 w-full text-left text-sm">
            <thead><tr class="border-b"><th class="p-2">"Line"</th><th class="p-2">"Order id"</th><th class="p-2">"Problem"</th></tr></thead>
            <tbody>{rows.into_iter().map(|e| view! { <tr class="border-b"><td class="p-2 tabular-nums">{e.line}</td><td class="p-2 font-mono">{e.sku}</td><td class="p-2">{e.message}</td></tr> }).collect_view()}</tbody>
        </table>
    })
}
