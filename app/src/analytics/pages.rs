//! The exception queues in the command center: a tab per queue with its
//! counts, the items oldest first with owner, age and SLA clock, a link to
//! where to act, and forms to assign, snooze and resolve. Filters are a GET
//! form and the actions plain forms, so the page works without JavaScript;
//! hydrated, it refreshes as exception events arrive.

use super::api::{exception_counts, exceptions_page, ExceptionsView, Filters};
use crate::{
    components::{
        live::on_live_events,
        url::{href, urlencode},
    },
    components::{query_param, short_time, CommandFrame, ErrorBox, FieldAlert, Notice, Refused},
};
use domain::{
    analytics::figure,
    views::{ExceptionItem, QueueCount},
};
use leptos::prelude::*;

/// A counter bumped by every exception event the live stream brings (a
/// resource keyed on it refetches), and whether the stream is up.
fn exception_ticks() -> (ReadSignal<u64>, ReadSignal<bool>) {
    let (tick, set_tick) = signal(0u64);
    let (connected, set_connected) = signal(false);
    Effect::new(move |_| {
        on_live_events(
            move |e| {
                if e.event_type.starts_with("exception.") {
                    set_tick.update(|t| *t += 1);
                }
            },
            set_connected,
        )
    });
    (tick, connected)
}

/// Whether someone is working a form in the items table: a Snooze or
/// Resolve form open, or focus in one of its fields.
fn form_in_use() -> bool {
    #[cfg(feature = "hydrate")]
    {
        document()
            .query_selector("#exception-items details[open], #exception-items form :focus")
            .ok()
            .flatten()
            .is_some()
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Minutes as people say them: `45 min`, `3 h 20 min`, `2 d 4 h`.
pub fn duration(minutes: i64) -> String {
    let m = minutes.abs();
    if m < 60 {
        format!("{m} min")
    } else if m < 24 * 60 {
        match m % 60 {
            0 => format!("{} h", m / 60),
            r => format!("{} h {r} min", m / 60),
        }
    } else {
        match (m / 60) % 24 {
            0 => format!("{} d", m / 1440),
            h => format!("{} d {h} h", m / 1440),
        }
    }
}

fn sla_text(x: &ExceptionItem) -> String {
    match x.sla_state.as_str() {
        "breached" => format!("Overdue by {}", duration(x.sla_minutes_left)),
        "done" => "—".into(),
        _ => format!("Due in {}", duration(x.sla_minutes_left)),
    }
}

fn sla_class(state: &str) -> &'static str {
    match state {
        "breached" => "font-semibold text-red-800",
        "due_soon" => "font-semibold text-amber-800",
        _ => "text-slate-700",
    }
}

const INPUT: &str = "mt-1 rounded border px-2 py-2";

#[component]
pub fn Exceptions() -> impl IntoView {
    let (queue, status, owner, warehouse, reason, cursor, notice, error) = (
        query_param("queue"),
        query_param("status"),
        query_param("owner"),
        query_param("warehouse"),
        query_param("reason"),
        query_param("cursor"),
        query_param("notice"),
        query_param("error"),
    );
    let (opened_from, opened_to) = (query_param("opened_from"), query_param("opened_to"));
    let (tick, connected) = exception_ticks();
    // The change count the list shows. It follows the stream unless someone
    // is working a form in the list: re-rendering the rows would close their
    // open Snooze or Resolve form mid-typing. Held changes are offered as a
    // refresh instead, and applied once the form closes.
    let (shown, set_shown) = signal(0u64);
    let catch_up = move || {
        if !form_in_use() {
            set_shown.set(tick.get_untracked());
        }
    };
    Effect::new(move |_| {
        tick.track();
        catch_up();
    });
    let held = move || tick.get().saturating_sub(shown.get());
    let filters = {
        let (queue, status, owner, warehouse, reason, opened_from, opened_to) = (
            queue.clone(),
            status.clone(),
            owner.clone(),
            warehouse.clone(),
            reason.clone(),
            opened_from.clone(),
            opened_to.clone(),
        );
        move || Filters {
            queue: queue(),
            status: status(),
            owner: owner(),
            warehouse: warehouse(),
            reason: reason(),
            opened_from: opened_from(),
            opened_to: opened_to(),
        }
    };
    let key = {
        let (filters, cursor) = (filters.clone(), cursor.clone());
        move || (filters(), cursor(), shown.get())
    };
    let data = Resource::new(key, |(f, c, _)| exceptions_page(f, c));
    let here = {
        let filters = filters.clone();
        move || {
            let f = filters();
            href(
                "/command/exceptions",
                [
                    ("queue", f.queue),
                    ("status", f.status),
                    ("owner", f.owner),
                    ("warehouse", f.warehouse),
                    ("reason", f.reason),
                    ("opened_from", f.opened_from),
                    ("opened_to", f.opened_to),
                ],
            )
        }
    };
    view! {
        <CommandFrame title="Exceptions">
            <Notice message=notice() />
            {(!error().is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=error() /></div> })}
            <p class="mb-3 text-sm text-slate-600" data-live=move || if connected.get() { "open" } else { "closed" }>
                {move || if connected.get() { "● Updating live as records change" } else { "As of page load. Reload to refresh." }}
            </p>
            <div aria-live="polite">
                {move || (held() > 0).then(|| view! {
                    <p class="mb-3 flex items-center gap-3 rounded border border-amber-300 bg-amber-50 px-3 py-2 text-sm" data-held-changes=held().to_string()>
                        {match held() { 1 => "1 new change".to_string(), n => format!("{n} new changes") }}" since this list was shown."
                        <button type="button" class="rounded border bg-white px-3 py-1 font-semibold hover:bg-slate-100" on:click=move |_| set_shown.set(tick.get_untracked())>"Refresh"</button>
                    </p>
                })}
            </div>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let filters = filters();
                    let here = here();
                    Suspend::new(async move {
                        match data.await {
                            Ok(v) => page(v, filters, here, catch_up).into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

/// The queues' tabs, filters and list. Long by design: one screen's markup,
/// top to bottom as it reads.
fn page(
    v: ExceptionsView,
    filters: Filters,
    here: String,
    catch_up: impl Fn() + Copy + Send + 'static,
) -> impl IntoView {
    let Filters {
        queue,
        status,
        owner,
        warehouse,
        reason,
        opened_from,
        opened_to,
    } = filters;
    let ExceptionsView {
        summary,
        page,
        warehouses,
    } = v;
    let refused = Refused::read();
    let tab = |href: String, label: String, open: i64, breached: i64, current: bool| {
        view! {
            <li>
                <a href=href aria-current=current.then_some("page")
                    class="flex items-center gap-2 rounded-t border border-b-0 px-3 py-2 text-sm hover:bg-slate-100 aria-[current=page]:bg-white aria-[current=page]:font-semibold">
                    {label}
                    <span class="rounded bg-slate-200 px-1.5 tabular-nums" aria-label=format!("{} open", figure(open))>{figure(open)}</span>
                    {(breached > 0).then(|| view! { <span class="rounded bg-red-100 px-1.5 text-red-800 tabular-nums" aria-label=format!("{} past SLA", figure(breached))>{figure(breached)}" late"</span> })}
                </a>
            </li>
        }
    };
    let current = summary.queues.iter().find(|q| q.queue == queue).cloned();
    let next = page.next_cursor.clone().map(|c| {
        format!(
            "{here}{}cursor={}",
            if here.contains('?') { "&" } else { "?" },
            urlencode(&c)
        )
    });
    let status_options = [
        ("", "Open"),
        ("snoozed", "Snoozed"),
        ("done", "Resolved or closed"),
        ("any", "Any status"),
    ];
    let owner_options = [
        ("", "Anyone"),
        ("me", "Assigned to me"),
        ("manager", "Operations managers"),
        ("finance", "Finance"),
        ("support", "Customer support"),
        ("warehouse", "Warehouse agents"),
        ("admin", "Administrators"),
    ];
    let tabs = view! {
        <nav aria-label="Queues">
            <ul class="flex flex-wrap gap-1 border-b">
                {tab("/command/exceptions".into(), "All queues".into(), summary.open, summary.breached, queue.is_empty())}
                {summary.queues.iter().map(|q| tab(format!("/command/exceptions?queue={}", q.queue), q.label.clone(), q.open, q.breached, q.queue == queue)).collect_view()}
            </ul>
        </nav>
    }
    .into_any();
    let filters = view! {
        <form method="get" action="/command/exceptions" class="mt-3 flex flex-wrap items-end gap-3">
            <input type="hidden" name="queue" value=queue.clone() />
            {(!reason.is_empty()).then(|| view! {
                <p class="w-full text-sm">
                    "Only items for " <span class="font-mono" data-testid="reason-filter">{reason.replace('_', " ")}</span>". "
                    <a class="text-indigo-700 underline" href=format!("/command/exceptions?queue={}", urlencode(&queue))>"Show every reason"</a>
                    <input type="hidden" name="reason" value=reason.clone() />
                </p>
            })}
            <div>
                <label for="x-status" class="block text-sm font-semibold">"Status"</label>
                <select id="x-status" name="status" class=INPUT>
                    {status_options.into_iter().map(|(v, l)| view! { <option value=v selected=status == v>{l}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label for="x-owner" class="block text-sm font-semibold">"Owner"</label>
                <select id="x-owner" name="owner" class=INPUT>
                    {owner_options.into_iter().map(|(v, l)| view! { <option value=v selected=owner == v>{l}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label for="x-warehouse" class="block text-sm font-semibold">"Warehouse"</label>
                <select id="x-warehouse" name="warehouse" class=INPUT>
                    <option value="">"All warehouses"</option>
                    {warehouses.into_iter().map(|w| { let sel = w == warehouse; view! { <option value=w.clone() selected=sel>{w.clone()}</option> } }).collect_view()}
                </select>
            </div>
            <div>
                <label for="x-opened-from" class="block text-sm font-semibold">"Opened from"</label>
                <input id="x-opened-from" name="opened_from" type="date" value=opened_from class=INPUT />
            </div>
            <div>
                <label for="x-opened-to" class="block text-sm font-semibold">"Opened to"</label>
                <input id="x-opened-to" name="opened_to" type="date" value=opened_to class=INPUT />
            </div>
            <button type="submit" class="rounded bg-indigo-700 px-4 py-2 font-semibold text-white hover:bg-indigo-800">"Filter"</button>
        </form>
    }
    .into_any();
    let intro = current.as_ref().map_or(
        "Every queue, oldest first. Each item links to the record where it is fixed.".to_string(),
        |q| q.description.clone(),
    );
    view! {
        {tabs}
        <div class="grid gap-4 rounded-b border border-t-0 bg-white p-4 lg:grid-cols-3">
            <div class="lg:col-span-2">
                <p class="text-sm text-slate-700">{intro}</p>
                {filters}
            </div>
            {queue_chart(&summary.queues).into_any()}
        </div>
        <section aria-labelledby="items-heading" class="mt-4">
            <h2 id="items-heading" class="sr-only">"Items"</h2>
            {if page.items.is_empty() {
                view! { <p class="rounded border border-dashed bg-white p-6 text-center text-slate-600">{match status.as_str() { "done" => "Nothing resolved or closed matches these filters.", "any" => "No item matches these filters.", _ => "Nothing waiting here. New problems appear as soon as they happen." }}</p> }.into_any()
            } else {
                view! {
                    <table id="exception-items" class="w-full border bg-white text-left text-sm">
                        <caption class="sr-only">"Exception items, oldest first"</caption>
                        <thead class="bg-slate-100">
                            <tr><th class="p-2">"Record"</th><th class="p-2">"Problem"</th><th class="p-2">"Owner"</th><th class="p-2">"Age"</th><th class="p-2">"SLA"</th><th class="p-2">"Act"</th></tr>
                        </thead>
                        <tbody>
                            {page.items.into_iter().map(|x| row(x, here.clone(), catch_up, &refused)).collect_view()}
                        </tbody>
                    </table>
                    {next.map(|n| view! { <a class="mt-3 inline-block text-indigo-700 underline" href=n>"Next page"</a> })}
                }.into_any()
            }}
        </section>
    }
}

fn row(
    x: ExceptionItem,
    back: String,
    catch_up: impl Fn() + Copy + Send + 'static,
    refused: &Refused,
) -> AnyView {
    let action = |verb: &str| format!("/command/exceptions/{}/{verb}", urlencode(&x.id));
    // A refused snooze or resolve comes back keyed by the item, so its
    // message stands in this row's form, which opens again by itself.
    let (snooze_error, resolve_error) = (
        refused.error(&format!("snooze-{}-reason", x.id)),
        refused.error(&format!("resolve-{}-note", x.id)),
    );
    let (snooze_id, resolve_id) = (
        format!("snooze-{}-error", x.id),
        format!("resolve-{}-error", x.id),
    );
    let (snooze_open, resolve_open) = (!snooze_error.is_empty(), !resolve_error.is_empty());
    let live = x.closed_at.is_none();
    let owner = x
        .assignee_name
        .clone()
        .map(|n| format!("{n} ({})", x.owner_label))
        .unwrap_or_else(|| x.owner_label.clone());
    let label = |what: &str| format!("{what} {}", x.entity_ref);
    let actions = live.then(|| view! {
                    <div class="flex flex-wrap gap-2">
                        <form method="post" action=action("assign")>
                            <input type="hidden" name="assignee" value="me" />
                            <input type="hidden" name="back" value=back.clone() />
                            <button type="submit" class="rounded border px-2 py-1 hover:bg-slate-100" aria-label=label("Assign to me:")>"Take it"</button>
                        </form>
                        <details on:toggle=move |_| catch_up() open=snooze_open>
                            <summary class="cursor-pointer rounded border px-2 py-1">"Snooze"</summary>
                            <form method="post" action=action("snooze") class="mt-2 space-y-2">
                                <input type="hidden" name="back" value=back.clone() />
                                <label class="block text-xs font-semibold">"For"
                                    <select name="hours" class="ml-1 rounded border px-1 py-1">
                                        <option value="1">"1 hour"</option>
                                        <option value="4" selected>"4 hours"</option>
                                        <option value="24">"1 day"</option>
                                        <option value="72">"3 days"</option>
                                    </select>
                                </label>
                                <label class="block text-xs font-semibold">"Why"
                                    <input name="reason" required minlength="3" class="mt-1 block w-48 rounded border px-2 py-1"
                                        aria-invalid=snooze_open.then_some("true") aria-describedby=snooze_open.then(|| snooze_id.clone()) />
                                </label>
                                <FieldAlert id=snooze_id.clone() label="Why".to_string() message=snooze_error.clone() />
                                <button type="submit" class="rounded border px-2 py-1 hover:bg-slate-100" aria-label=label("Snooze")>"Snooze"</button>
                            </form>
                        </details>
                        <details on:toggle=move |_| catch_up() open=resolve_open>
                            <summary class="cursor-pointer rounded border px-2 py-1">"Resolve"</summary>
                            <form method="post" action=action("resolve") class="mt-2 space-y-2">
                                <input type="hidden" name="back" value=back.clone() />
                                <label class="block text-xs font-semibold">"What was done"
                                    <input name="note" required minlength="3" class="mt-1 block w-56 rounded border px-2 py-1"
                                        aria-invalid=resolve_open.then_some("true") aria-describedby=resolve_open.then(|| resolve_id.clone()) />
                                </label>
                                <FieldAlert id=resolve_id.clone() label="What was done".to_string() message=resolve_error.clone() />
                                <button type="submit" class="rounded bg-indigo-700 px-2 py-1 font-semibold text-white hover:bg-indigo-800" aria-label=label("Resolve")>"Resolve"</button>
                            </form>
                        </details>
                    </div>
                }.into_any());
    // What happened to it, in a line under the problem.
    let note = if x.status == "snoozed" {
        x.snoozed_until.clone().map(|u| {
            format!(
                "Snoozed until {}: {}",
                short_time(&u),
                x.snooze_reason.clone().unwrap_or_default()
            )
        })
    } else if let Some(r) = &x.resolution {
        Some(format!(
            "Resolved by {}: {r}",
            x.closed_by.clone().unwrap_or_default()
        ))
    } else {
        (x.status == "closed").then(|| "Closed: the condition ended".to_string())
    }
    .map(|n| view! { <span class="block text-xs text-slate-600">{n}</span> });
    view! {
        <tr class="border-t align-top" data-exception=x.id.clone()>
            <td class="p-2">
                <a class="font-mono font-semibold text-indigo-700 underline" href=x.link.clone()>{x.entity_ref.clone()}</a>
                <span class="block text-xs text-slate-500">{x.queue_label.clone()}</span>
            </td>
            <td class="p-2">
                {x.detail.clone()}
                {note}
            </td>
            <td class="p-2">{owner}</td>
            <td class="p-2 whitespace-nowrap"><time datetime=x.opened_at.clone() title=short_time(&x.opened_at)>{duration(x.age_minutes)}</time></td>
            <td class=format!("p-2 whitespace-nowrap {}", sla_class(&x.sla_state))>{sla_text(&x)}</td>
            <td class="p-2">
                {actions}
            </td>
        </tr>
    }
    .into_any()
}

/// Open items per queue as bars, those past their SLA in red, with the
/// figures as a table beside them.
pub fn queue_chart(queues: &[QueueCount]) -> impl IntoView {
    let top = queues.iter().map(|q| q.open).max().unwrap_or(0).max(1) as f64;
    let title = queues
        .iter()
        .map(|q| {
            format!(
                "{}: {} open, {} past SLA",
                q.label,
                figure(q.open),
                figure(q.breached)
            )
        })
        .collect::<Vec<_>>()
        .join(". ");
    let height = 8 + queues.len() * 22;
    view! {
        <figure class="text-sm">
            <svg role="img" aria-labelledby="queue-chart-title" viewBox=format!("0 0 300 {height}") class="w-full max-w-sm">
                <title id="queue-chart-title">{format!("Open exceptions by queue. {title}")}</title>
                {queues.iter().enumerate().map(|(i, q)| {
                    let y = 4 + i * 22;
                    let w = q.open as f64 / top * 120.0;
                    let late = q.breached as f64 / top * 120.0;
                    view! {
                        <text x="0" y=y + 13 font-size="10" fill="#334155">{q.label.clone()}</text>
                        <rect x="130" y=y width=format!("{:.1}", w.max(0.5)) height="15" fill="#94a3b8" />
                        <rect x="130" y=y width=format!("{late:.1}") height="15" fill="#b91c1c" />
                        <text x=format!("{:.1}", 134.0 + w) y=y + 12 font-size="10" fill="#0f172a">{figure(q.open)}</text>
                    }
                }).collect_view()}
            </svg>
            <figcaption>
                <details>
                    <summary class="cursor-pointer text-slate-600">"Figures"</summary>
                    <table class="mt-1 w-full text-left">
                        <thead><tr><th class="pr-2">"Queue"</th><th class="pr-2 text-right">"Open"</th><th class="pr-2 text-right">"Past SLA"</th><th class="text-right">"Snoozed"</th></tr></thead>
                        <tbody>
                            {queues.iter().map(|q| view! {
                                <tr><th scope="row" class="pr-2 font-normal">{q.label.clone()}</th><td class="pr-2 text-right tabular-nums">{figure(q.open)}</td><td class="pr-2 text-right tabular-nums">{figure(q.breached)}</td><td class="text-right tabular-nums">{figure(q.snoozed)}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </details>
            </figcaption>
        </figure>
    }
}

/// The dashboard's tiles: one per queue with its open and late counts,
/// each a link to the queue, refreshed live.
#[component]
pub fn ExceptionTiles() -> impl IntoView {
    let (tick, connected) = exception_ticks();
    let data = Resource::new(move || tick.get(), |_| exception_counts());
    view! {
        <section aria-labelledby="x-heading" class="mb-6 rounded-lg border bg-white p-4" data-live=move || if connected.get() { "open" } else { "closed" }>
            <h2 id="x-heading" class="mb-3 flex items-center justify-between text-lg font-semibold">
                <a href="/command/exceptions" class="hover:underline">"Needs attention"</a>
                <span class="text-xs font-normal text-slate-500">{move || if connected.get() { "● updating live" } else { "as of page load" }}</span>
            </h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(s) => view! {
                            <ul class="grid gap-3 sm:grid-cols-3 xl:grid-cols-6">
                                {s.queues.into_iter().map(|q| {
                                    let tone = if q.breached > 0 { "border-red-300 bg-red-50" } else if q.open > 0 { "border-amber-300 bg-amber-50" } else { "border-slate-200" };
                                    view! {
                                        <li>
                                            <a href=format!("/command/exceptions?queue={}", q.queue) class=format!("block rounded-lg border p-3 hover:border-indigo-500 {tone}")
                                                aria-label=format!("{}: {} open, {} past SLA", q.label, figure(q.open), figure(q.breached))>
                                                <span class="block text-sm">{q.label.clone()}</span>
                                                <span class="block text-3xl font-bold tabular-nums" data-queue-count=q.queue.clone()>{figure(q.open)}</span>
                                                <span class="block text-xs text-slate-600">{if q.breached > 0 { format!("{} past SLA", figure(q.breached)) } else { "none late".to_string() }}</span>
                                            </a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0), "0 min");
        assert_eq!(duration(45), "45 min");
        assert_eq!(duration(60), "1 h");
        assert_eq!(duration(200), "3 h 20 min");
        assert_eq!(duration(-90), "1 h 30 min");
        assert_eq!(duration(2 * 1440 + 4 * 60 + 10), "2 d 4 h");
        assert_eq!(duration(1440), "1 d");
    }
}
