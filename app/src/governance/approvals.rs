//! Four eyes in the command center: the changes waiting for a second person,
//! with approve and reject beside each, the ones decided, and the policy
//! table (administrators change it). Every action is a form post, so the
//! page works the same without JavaScript.

use domain::{
    governance::approvals::{ApprovalKind, Policy},
    views::{Page, PendingChange},
};
use leptos::prelude::*;

use crate::components::{query_param, short_time, CommandFrame, Empty, ErrorBox, Notice};
use crate::problem::Problem;

/// What the approvals page shows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ApprovalsView {
    pub policies: Vec<Policy>,
    pub changes: Page<PendingChange>,
    /// Who is looking: their own requests can't be approved by them.
    pub viewer: String,
    pub may_set_policies: bool,
}

#[server(prefix = "/sfn", endpoint = "approvals_page")]
pub async fn approvals_page(
    status: Option<String>,
    cursor: Option<String>,
) -> Result<ApprovalsView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let fail = crate::ssr::fail;
    let policies = backend::governance::approvals::policies(&db, &ctx)
        .await
        .map_err(fail)?;
    let filter = domain::views::PendingFilter {
        status: Some(
            status
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "pending".into()),
        ),
        kind: None,
        limit: Some(25),
        cursor,
    };
    let changes = backend::governance::approvals::list(&db, &ctx, &filter)
        .await
        .map_err(fail)?;
    Ok(ApprovalsView {
        policies,
        changes,
        viewer: ctx.actor.name.clone(),
        may_set_policies: ctx.actor.may(domain::governance::Permission::UsersManage),
    })
}

/// A threshold in minor units of the valuation currency, as a person types
/// it back into the form (`250.00`).
fn valuation(minor: i64) -> String {
    domain::money::Currency::parse(domain::inventory::VALUATION_CURRENCY)
        .map(|c| {
            domain::money::Money::from_minor(minor, c)
                .amount()
                .to_string()
        })
        .unwrap_or_else(|_| minor.to_string())
}

fn kind_label(kind: &str) -> &'static str {
    ApprovalKind::parse(kind).map_or("Change", ApprovalKind::label)
}

#[component]
pub fn Approvals() -> impl IntoView {
    let (status, cursor, notice, error) = (
        query_param("status"),
        query_param("cursor"),
        query_param("notice"),
        query_param("error"),
    );
    let page = Resource::new(
        {
            let (status, cursor) = (status.clone(), cursor.clone());
            move || (status(), cursor())
        },
        |(s, c)| approvals_page(Some(s), (!c.is_empty()).then_some(c)),
    );
    view! {
        <CommandFrame title="Approvals">
            <Notice message=notice() />
            {move || { let e = error(); (!e.is_empty()).then(|| view! { <div class="mb-4"><ErrorBox message=e /></div> }) }}
            <nav aria-label="Which changes" class="mb-4 flex gap-4 text-indigo-700">
                <a href="/command/approvals" class="underline">"Waiting"</a>
                <a href="/command/approvals?status=applied" class="underline">"Approved"</a>
                <a href="/command/approvals?status=rejected" class="underline">"Rejected"</a>
            </nav>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let status = status();
                    Suspend::new(async move {
                        match page.await {
                            Ok(v) => view! {
                                <Changes view=v.clone() status=status.clone() />
                                <Policies policies=v.policies may_set=v.may_set_policies />
                            }.into_any(),
                            Err(e) => view! { <ErrorBox message=e.to_string() /> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </CommandFrame>
    }
}

#[component]
fn Changes(view: ApprovalsView, status: String) -> impl IntoView {
    let waiting = status.is_empty() || status == "pending";
    if view.changes.items.is_empty() {
        return view! { <div class="mb-8"><Empty message="No changes here. Changes the approval policies hold for a second person appear here." /></div> }.into_any();
    }
    let next = view.changes.next_cursor.clone().map(|c| {
        format!(
            "/command/approvals?status={}&cursor={}",
            if waiting { "pending" } else { &status },
            crate::components::url::urlencode(&c)
        )
    });
    let viewer = view.viewer.clone();
    view! {
        <table class="mb-8 w-full border bg-white text-left text-sm">
            <caption class="sr-only">"Changes held for approval, newest first"</caption>
            <thead class="bg-slate-100">
                <tr><th class="p-2">"Asked"</th><th class="p-2">"Change"</th><th class="p-2">"Status"</th><th class="p-2">"Decision"</th></tr>
            </thead>
            <tbody>
                {view.changes.items.into_iter().map(|c| {
                    let own = c.requested_by == viewer;
                    view! {
                        <tr class="border-t align-top">
                            <td class="p-2 whitespace-nowrap">{c.requested_by.clone()}<span class="block text-xs text-slate-500"><time datetime=c.requested_at.clone()>{short_time(&c.requested_at)}</time></span></td>
                            <td class="p-2"><span class="block text-xs font-semibold uppercase text-slate-500">{kind_label(&c.kind)}</span>{c.summary.clone()}</td>
                            <td class="p-2">{c.status.clone()}{c.decided_by.clone().map(|by| view! { <span class="block text-xs text-slate-500">"by " {by}</span> })}{c.decision_note.clone().map(|n| view! { <span class="block text-xs">{n}</span> })}</td>
                            <td class="p-2">{decision(&c, own)}</td>
                        </tr>
                    }
                    .into_any()
                }).collect_view()}
            </tbody>
        </table>
        {next.map(|href| view! { <a class="mb-8 inline-block text-indigo-700 underline" href=href>"Older changes"</a> })}
    }
    .into_any()
}

/// Approve and reject for someone else's pending change; why not for one's own.
fn decision(c: &PendingChange, own: bool) -> impl IntoView {
    if c.status != "pending" {
        return view! { <span class="text-slate-500">"—"</span> }.into_any();
    }
    if own {
        return view! { <span class="text-slate-600">"You asked for this; another person decides."</span> }.into_any();
    }
    let (approve, reject) = (
        format!("/command/approvals/{}/approve", c.id),
        format!("/command/approvals/{}/reject", c.id),
    );
    let note_id = format!("note-{}", c.id);
    let summary = c.summary.clone();
    view! {
        <form method="post" action=approve.clone() class="flex flex-wrap items-end gap-2">
            <div>
                <label for=note_id.clone() class="block text-xs">"Note (optional)"</label>
                <input id=note_id name="note" maxlength="500" class="rounded border px-2 py-2" />
            </div>
            <button type="submit" class="min-h-11 rounded bg-indigo-700 px-3 py-2 font-semibold text-white" aria-label=format!("Approve {summary}")>"Approve"</button>
            <button type="submit" formaction=reject class="min-h-11 rounded border border-red-700 px-3 py-2 font-semibold text-red-800" aria-label=format!("Reject {summary}")>"Reject"</button>
        </form>
    }
    .into_any()
}

#[component]
fn Policies(policies: Vec<Policy>, may_set: bool) -> AnyView {
    view! {
        <section aria-labelledby="policies-heading" class="rounded-lg border bg-white p-4">
            <h2 id="policies-heading" class="mb-3 text-lg font-semibold">"Approval policies"</h2>
            <table class="w-full text-left text-sm">
                <caption class="sr-only">"Which changes wait for a second person"</caption>
                <thead><tr><th class="p-2">"Change"</th><th class="p-2">"Needs a second person"</th><th class="p-2">"Rule"</th><th class="p-2">"Decided by"</th></tr></thead>
                <tbody>
                    {policies.into_iter().map(|p| {
                        let threshold = p.threshold_minor.map(valuation);
                        view! {
                            <tr class="border-t align-top">
                                <td class="p-2">{p.kind.label()}</td>
                                <td class="p-2">{if p.active { "Yes" } else { "No" }}</td>
                                <td class="p-2">{when(&p, threshold.clone())}</td>
                                <td class="p-2 font-mono text-xs">{p.kind.approver_permission().as_str()}</td>
                            </tr>
                            {may_set.then(|| policy_form(&p, threshold))}
                        }
                        .into_any()
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

/// Which changes a policy holds (while it is on), in words.
fn when(p: &Policy, threshold: Option<String>) -> String {
    match p.kind {
        ApprovalKind::StockAdjustment => {
            threshold.map_or_else(|| "any value".into(), |t| format!("above {t} USD at cost"))
        }
        ApprovalKind::PriceOverride => format!(
            "more than {}% from the catalogue price",
            p.threshold_percent.unwrap_or(0)
        ),
        ApprovalKind::RoleChange | ApprovalKind::ChannelChange => "every change".into(),
    }
}

/// An administrator's form for one policy, in its own row. Type-erased:
/// the page's nested view types otherwise pass the compiler's depth limit.
fn policy_form(p: &Policy, threshold: Option<String>) -> AnyView {
    let kind = p.kind.as_str();
    let (active_id, threshold_id) = (format!("active-{kind}"), format!("threshold-{kind}"));
    let has_threshold = p.kind == ApprovalKind::StockAdjustment;
    let percent_id = format!("percent-{kind}");
    let has_percent = p.kind == ApprovalKind::PriceOverride;
    let percent = p.threshold_percent.map(|t| t.to_string());
    view! {
        <tr>
            <td colspan="4" class="p-2">
                <form method="post" action=format!("/command/approvals/policies/{kind}") class="flex flex-wrap items-end gap-3">
                    <label for=active_id.clone() class="flex items-center gap-2">
                        <input id=active_id.clone() type="checkbox" name="active" checked=p.active class="h-5 w-5" />
                        {format!("{}: needs a second person", p.kind.label())}
                    </label>
                    {has_threshold.then(|| view! {
                        <div>
                            <label for=threshold_id.clone() class="block text-xs">"Above this value at cost (USD)"</label>
                            <input id=threshold_id name="threshold" inputmode="decimal" value=threshold class="rounded border px-2 py-2" />
                        </div>
                    })}
                    {has_percent.then(|| view! {
                        <div>
                            <label for=percent_id.clone() class="block text-xs">"More than this % from the catalogue price"</label>
                            <input id=percent_id name="percent" inputmode="numeric" value=percent class="rounded border px-2 py-2" />
                        </div>
                    })}
                    <button type="submit" class="min-h-11 rounded border px-3 py-2 font-semibold">{format!("Save {}", p.kind.label().to_lowercase())}</button>
                </form>
            </td>
        </tr>
    }
    .into_any()
}
