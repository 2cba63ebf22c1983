//! Command-center pages: the dashboard with its live event feed, the audit
//! viewer and user administration.

use domain::{
    governance::Role,
    views::{AuditEntry, AuditFilter, EventRecord},
};
use leptos::prelude::*;

use crate::components::{
    live::on_live_events, query_param, short_time, url::urlencode, CommandFrame, Empty, ErrorBox,
    FieldMessage, Notice,
};
use crate::governance::api::{audit_page, overview, recent_events, users_page};
use crate::problem::Problem;

#[component]
pub fn Dashboard() -> impl IntoView {
    let data = Resource::new(|| (), |_| overview());
    view! {
        <CommandFrame title="Dashboard">
            <crate::analytics::pages::ExceptionTiles />
            <crate::kpi::pages::KpiStrip />
            <div class="grid gap-6 lg:grid-cols-3">
                <section aria-labelledby="wh-heading" class="rounded-lg border bg-white p-4 lg:col-span-2">
                    <h2 id="wh-heading" class="mb-3 text-lg font-semibold">"Warehouses and recent orders"</h2>
                    <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok((warehouses, orders)) => view! {
                                    <ul class="mb-4 grid gap-3 sm:grid-cols-3">
                                        {warehouses.into_iter().map(|w| view! {
                                            <li class="rounded border p-3">
                                                <span class="block font-mono text-sm font-semibold">{w.code}</span>
                                                <span class="text-sm text-slate-600">{w.name}</span>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                    {if orders.is_empty() {
                                        view! { <Empty message="No orders yet. Orders appear here as channels send them." /> }.into_any()
                                    } else {
                                        view! {
                                            <h3 id="recent-orders" class="mb-2 mt-4 font-semibold">"Recent orders"</h3>
                                            <ul aria-labelledby="recent-orders" class="divide-y text-sm">{orders.into_iter().map(|o| view! {
                                                <li class="flex flex-wrap justify-between gap-2 py-1">
                                                    <a class="font-mono text-indigo-700 underline" href=format!("/command/orders/{}", urlencode(&o.id))>{o.number.clone()}</a>
                                                    <span>{o.channel.clone()} " · " {o.customer_name.clone()}</span>
                                                    <span>{o.status.replace('_', " ")}{(!o.holds.is_empty()).then_some(" · held")}</span>
                                                    <span class="tabular-nums">{o.total.to_string()}</span>
                                                </li>
                                            }).collect_view()}</ul>
                                            <a href="/command/orders" class="mt-2 inline-block text-indigo-700 underline">"All orders"</a>
                                        }.into_any()
                                    }}
                                }.into_any(),
                                Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                            }
                        })}
                    </Suspense>
                </section>
                <LiveFeed />
            </div>
        </CommandFrame>
    }
}

/// The newest events, rendered on the server and then kept live in the browser
/// by the SSE stream.
#[component]
fn LiveFeed() -> impl IntoView {
    let initial = Resource::new(|| (), |_| recent_events());
    let (live, set_live) = signal(Vec::<EventRecord>::new());
    let (connected, set_connected) = signal(false);
    Effect::new(move |_| subscribe(set_live, set_connected));
    view! {
        <section aria-labelledby="feed-heading" class="rounded-lg border bg-white p-4" data-live=move || if connected.get() { "open" } else { "closed" }>
            <h2 id="feed-heading" class="mb-3 flex items-center justify-between text-lg font-semibold">
                "Live events"
                <span class="text-xs font-normal text-slate-500">
                    {move || if connected.get() { "● updating live" } else { "as of page load" }}
                </span>
            </h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(events) => {
                            let newest_initial = events.first().map(|e| e.seq).unwrap_or(0);
                            view! {
                                <ol aria-label="Event feed" aria-live="polite" class="space-y-2 text-sm">
                                    {move || live.get().into_iter().filter(|e| e.seq > newest_initial).map(event_item).collect_view()}
                                    {events.into_iter().map(event_item).collect_view()}
                                </ol>
                            }.into_any()
                        }
                        // A person limited to some warehouses or channels: the
                        // feed spans them all, so it is not theirs to read.
                        Err(Problem::Denied(_)) => view! {
                            <p class="text-sm text-slate-600">"The live feed spans every warehouse and channel; your account is limited to some of them."</p>
                        }.into_any(),
                        Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn event_item(e: EventRecord) -> impl IntoView {
    view! {
        <li class="border-b pb-2">
            <span class="font-mono text-xs text-slate-500">"#" {e.seq}</span>
            <span class="ml-2 font-medium">{e.event_type}</span>
            <span class="block text-slate-600">{e.actor_name} " · " <time datetime=e.occurred_at.clone()>{short_time(&e.occurred_at)}</time></span>
        </li>
    }
}

fn subscribe(set_live: WriteSignal<Vec<EventRecord>>, set_connected: WriteSignal<bool>) {
    on_live_events(
        move |event| {
            set_live.update(|list| {
                list.insert(0, event);
                list.truncate(50);
            })
        },
        set_connected,
    );
}

const ENTITIES: [&str; 11] = [
    "user",
    "api_token",
    "warehouse",
    "channel",
    "order",
    "product",
    "reorder_point",
    "exception",
    "incident",
    "pending_change",
    "approval_policy",
];

#[component]
pub fn Audit() -> impl IntoView {
    let (entity, entity_id, actor, from, to, cursor) = (
        query_param("entity"),
        query_param("entity_id"),
        query_param("actor"),
        query_param("from"),
        query_param("to"),
        query_param("cursor"),
    );
    let filter = {
        let (entity, entity_id, actor, from, to, cursor) = (
            entity.clone(),
            entity_id.clone(),
            actor.clone(),
            from.clone(),
            to.clone(),
            cursor.clone(),
        );
        move || {
            let opt = |s: String| (!s.is_empty()).then_some(s);
            AuditFilter {
                entity: opt(entity()),
                entity_id: opt(entity_id()),
                actor: opt(actor()),
                from: opt(from()),
                to: opt(to()),
                limit: Some(50),
                cursor: opt(cursor()),
            }
        }
    };
    let page = Resource::new(filter.clone(), audit_page);
    let next_href = move |next: String| {
        let f = filter();
        let mut q = vec![format!("cursor={}", urlencode(&next))];
        for (k, v) in [
            ("entity", f.entity),
            ("entity_id", f.entity_id),
            ("actor", f.actor),
            ("from", f.from),
            ("to", f.to),
        ] {
            if let Some(v) = v {
                q.push(format!("{k}={}", urlencode(&v)));
            }
        }
        format!("/command/audit?{}", q.join("&"))
    };
    let selected = entity.clone();
    let one_record = entity_id();
    view! {
        <CommandFrame title="Audit log">
            <form method="get" action="/command/audit" class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border bg-white p-4">
                {(!one_record.is_empty()).then(|| view! {
                    <p class="w-full text-sm">
                        "The history of one record: " <span class="font-mono">{one_record.clone()}</span>
                        <input type="hidden" name="entity_id" value=one_record.clone() />
                    </p>
                })}
                <div>
                    <label for="entity" class="block text-sm font-medium">"Entity"</label>
                    <select id="entity" name="entity" class="mt-1 rounded border px-2 py-2">
                        <option value="">"All"</option>
                        {ENTITIES.into_iter().map(|e| { let sel = selected() == e; view! { <option value=e selected=sel>{e}</option> } }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="actor" class="block text-sm font-medium">"Actor (email or id)"</label>
                    <input id="actor" name="actor" value=actor() class="mt-1 rounded border px-2 py-2" />
                </div>
                <div>
                    <label for="from" class="block text-sm font-medium">"From"</label>
                    <input id="from" name="from" type="date" value=from() class="mt-1 rounded border px-2 py-2" />
                </div>
                <div>
                    <label for="to" class="block text-sm font-medium">"To"</label>
                    <input id="to" name="to" type="date" value=to() class="mt-1 rounded border px-2 py-2" />
                </div>
                <button type="submit" class="rounded bg-indigo-700 px-4 py-2 font-semibold text-white">"Filter"</button>
                <a href="/command/audit" class="px-2 py-2 text-indigo-700 underline">"Clear"</a>
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let next_href = next_href.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(page) if page.items.is_empty() => view! { <Empty message="No audit entries match these filters." /> }.into_any(),
                            Ok(page) => view! {
                                <table class="w-full border bg-white text-left text-sm">
                                    <caption class="sr-only">"Audit entries, newest first"</caption>
                                    <thead class="bg-slate-100">
                                        <tr><th class="p-2">"When"</th><th class="p-2">"Actor"</th><th class="p-2">"Action"</th><th class="p-2">"Entity"</th><th class="p-2">"Change"</th></tr>
                                    </thead>
                                    <tbody>
                                        {page.items.into_iter().map(|a| { let changes = field_changes(&a); view! {
                                            <tr class="border-t align-top">
                                                <td class="p-2 whitespace-nowrap"><time datetime=a.occurred_at.clone()>{short_time(&a.occurred_at)}</time></td>
                                                <td class="p-2">{a.actor_name}<span class="block text-xs text-slate-500">{a.actor_kind}</span></td>
                                                <td class="p-2 font-mono">{a.action}</td>
                                                <td class="p-2">{a.entity}<span class="block font-mono text-xs text-slate-500">{a.entity_id}</span></td>
                                                <td class="p-2">{changes}</td>
                                            </tr>
                                        }}).collect_view()}
                                    </tbody>
                                </table>
                                {page.next_cursor.map(|c| view! { <a class="mt-4 inline-block text-indigo-700 underline" href=next_href(c)>"Older entries"</a> })}
                            }.into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

/// What an audited change did, field by field: before struck through,
/// after beside it.
fn field_changes(a: &AuditEntry) -> impl IntoView {
    let changes = a.changes();
    if changes.is_empty() {
        return view! { <span class="text-slate-500">"No field changed"</span> }.into_any();
    }
    view! {
        <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs" aria-label="Changed fields">
            {changes.into_iter().map(|c| view! {
                <dt class="font-mono text-slate-600">{c.field}</dt>
                <dd>
                    {c.before.map(|b| view! { <del class="mr-1 bg-red-50 text-red-800" aria-label="before">{b}</del> })}
                    {c.after.map(|v| view! { <ins class="bg-green-50 text-green-800 no-underline" aria-label="after">{v}</ins> })}
                </dd>
            }).collect_view()}
        </dl>
    }
    .into_any()
}

/// The people who use Keel and the form to add one. Long by design: one
/// screen's markup with its form's fields, each beside its error.
#[component]
pub fn Users() -> impl IntoView {
    let (q, role, cursor, notice) = (
        query_param("q"),
        query_param("role"),
        query_param("cursor"),
        query_param("notice"),
    );
    let (err_email, err_name, err_role, err_password, err_form) = (
        query_param("error_email"),
        query_param("error_name"),
        query_param("error_role"),
        query_param("error_password"),
        query_param("error"),
    );
    let (v_email, v_name) = (query_param("email"), query_param("name"));
    let (err_warehouses, err_channels) = (
        query_param("error_scope.warehouses"),
        query_param("error_scope.channels"),
    );
    let key = {
        let (q, role, cursor) = (q.clone(), role.clone(), cursor.clone());
        move || (q(), role(), cursor())
    };
    let page = Resource::new(key, |(q, role, cursor)| {
        let opt = |s: String| (!s.is_empty()).then_some(s);
        users_page(opt(q), opt(role), opt(cursor))
    });
    let role_options = |current: String| {
        Role::ALL
            .into_iter()
            .map(move |r| {
                let sel = r.as_str() == current;
                view! { <option value=r.as_str() selected=sel>{r.label()}</option> }
            })
            .collect_view()
    };
    view! {
        <CommandFrame title="Users">
            <Notice message=notice() />
            {(!err_form().is_empty()).then(|| view! { <ErrorBox message=err_form() /> })}
            <div class="grid gap-6 xl:grid-cols-3">
                <section aria-labelledby="list-heading" class="xl:col-span-2">
                    <h2 id="list-heading" class="sr-only">"Staff accounts"</h2>
                    <form method="get" action="/command/users" class="mb-3 flex flex-wrap items-end gap-3">
                        <div>
                            <label for="q" class="block text-sm font-medium">"Search name or email"</label>
                            <input id="q" name="q" value=q() class="mt-1 rounded border px-2 py-2" />
                        </div>
                        <div>
                            <label for="role-filter" class="block text-sm font-medium">"Filter by role"</label>
                            <select id="role-filter" name="role" class="mt-1 rounded border px-2 py-2">
                                <option value="">"All roles"</option>
                                {role_options(role())}
                            </select>
                        </div>
                        <button type="submit" class="rounded border px-4 py-2">"Search"</button>
                    </form>
                    <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match page.await {
                                Ok(page) if page.items.is_empty() => view! { <Empty message="No users match." /> }.into_any(),
                                Ok(page) => view! {
                                    <table class="w-full border bg-white text-left text-sm">
                                        <thead class="bg-slate-100"><tr><th class="p-2">"Name"</th><th class="p-2">"Email"</th><th class="p-2">"Role, scope and status"</th></tr></thead>
                                        <tbody>
                                            {page.items.into_iter().map(|u| {
                                                let label = format!("Role for {}", u.email);
                                                let active_label = format!("{} is active", u.email);
                                                let scope = u.scope.warehouses.join(", ");
                                                let scope_label = format!("Warehouses for {}", u.email);
                                                let channels = u.scope.channels.join(", ");
                                                let channels_label = format!("Channels for {}", u.email);
                                                view! {
                                                    <tr class="border-t">
                                                        <td class="p-2">{u.name.clone()}</td>
                                                        <td class="p-2">{u.email.clone()}</td>
                                                        <td class="p-2">
                                                            <form method="post" action=format!("/command/users/{}", u.id) class="flex flex-wrap items-center gap-2">
                                                                <input type="hidden" name="version" value=u.version />
                                                                <select name="role" aria-label=label class="rounded border px-2 py-1">{role_options(u.role.as_str().to_string())}</select>
                                                                <input name="warehouses" aria-label=scope_label placeholder="all warehouses" value=scope class="w-32 rounded border px-2 py-1" />
                                                                <input name="channels" aria-label=channels_label placeholder="all channels" value=channels class="w-32 rounded border px-2 py-1" />
                                                                <label class="flex items-center gap-1"><input type="checkbox" name="active" value="on" checked=u.active aria-label=active_label />"active"</label>
                                                                <button type="submit" class="rounded border px-2 py-1 hover:bg-slate-100">"Save"</button>
                                                            </form>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    {page.next_cursor.map(|c| view! { <a class="mt-3 inline-block text-indigo-700 underline" href=format!("/command/users?cursor={}", urlencode(&c))>"Next page"</a> })}
                                }.into_any(),
                                Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                            }
                        })}
                    </Suspense>
                </section>
                <section aria-labelledby="new-heading" class="rounded-lg border bg-white p-4">
                    <h2 id="new-heading" class="mb-3 text-lg font-semibold">"Add a user"</h2>
                    <form method="post" action="/command/users" class="space-y-3">
                        <div>
                            <label for="new-email" class="block text-sm font-medium">"Email"</label>
                            <input id="new-email" name="email" type="email" required value=v_email() aria-describedby="e-email" class="mt-1 w-full rounded border px-2 py-2" />
                            <FieldMessage id="e-email" message=err_email() />
                        </div>
                        <div>
                            <label for="new-name" class="block text-sm font-medium">"Full name"</label>
                            <input id="new-name" name="name" required value=v_name() aria-describedby="e-name" class="mt-1 w-full rounded border px-2 py-2" />
                            <FieldMessage id="e-name" message=err_name() />
                        </div>
                        <div>
                            <label for="new-role" class="block text-sm font-medium">"Role"</label>
                            <select id="new-role" name="role" aria-describedby="e-role" class="mt-1 w-full rounded border px-2 py-2">{role_options("support".into())}</select>
                            <FieldMessage id="e-role" message=err_role() />
                        </div>
                        <div>
                            <label for="new-warehouses" class="block text-sm font-medium">"Warehouses (comma-separated, empty for all)"</label>
                            <input id="new-warehouses" name="warehouses" aria-describedby="e-warehouses" class="mt-1 w-full rounded border px-2 py-2" />
                            <FieldMessage id="e-warehouses" message=err_warehouses() />
                        </div>
                        <div>
                            <label for="new-channels" class="block text-sm font-medium">"Channels (comma-separated, empty for all)"</label>
                            <input id="new-channels" name="channels" aria-describedby="e-channels" class="mt-1 w-full rounded border px-2 py-2" />
                            <FieldMessage id="e-channels" message=err_channels() />
                        </div>
                        <div>
                            <label for="new-password" class="block text-sm font-medium">"Initial password (12+ characters)"</label>
                            <input id="new-password" name="password" type="password" required minlength="12" autocomplete="new-password" aria-describedby="e-password" class="mt-1 w-full rounded border px-2 py-2" />
                            <FieldMessage id="e-password" message=err_password() />
                        </div>
                        <button type="submit" class="w-full rounded bg-indigo-700 px-4 py-2 font-semibold text-white">"Add user"</button>
                    </form>
                </section>
            </div>
        </CommandFrame>
    }
}
