//! The exception queues as people read them: filtered lists, the summary
//! counts and one item.

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    page_limit, parse_time_cursor, rfc3339, sql, time_cursor_after, Page,
};
use domain::{
    analytics::{self as rules, Queue, COUNT_CAP},
    governance::{Permission, Role},
    views::{ExceptionItem, ExceptionSummary, QueueCount},
};
use serde::Deserialize;
use sqlx::{any::AnyRow, AnyConnection, Row};
use std::collections::BTreeMap;

/// The queue list's filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ExceptionFilter {
    pub queue: Option<String>,
    /// `open` (the default: open, and snoozes that have run out), `snoozed`,
    /// `done` (resolved or closed), or `any` (every item, whatever became of
    /// it: what a KPI counted when it opened).
    pub status: Option<String>,
    /// A role name, `me`, or an assignee's email.
    pub owner: Option<String>,
    pub warehouse: Option<String>,
    pub channel: Option<String>,
    /// A reason code within the queue: a hold reason, `stockout`,
    /// `low_stock`, `webhook_rejected`, ….
    pub reason: Option<String>,
    /// Opened on or after this UTC day (`YYYY-MM-DD`).
    pub opened_from: Option<String>,
    /// Opened on or before this UTC day.
    pub opened_to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

// Who closed it is recorded as the actor's sign-in; people read names.
const ITEM: &str = "select x.*, u.email as assignee_email, c.name as closer_name from exception_item x
    left join app_user u on u.user_id = x.assignee_id left join app_user c on c.email = x.closed_by";

fn item(r: &AnyRow, now: i64) -> Result<ExceptionItem> {
    let queue: String = r.try_get("queue")?;
    let owner_role: String = r.try_get("owner_role")?;
    let assignee_email: Option<String> = r.try_get("assignee_email")?;
    let opened_at: i64 = r.try_get("opened_at")?;
    let sla_due_at: i64 = r.try_get("sla_due_at")?;
    let snoozed_until: Option<i64> = r.try_get("snoozed_until")?;
    let status: String = r.try_get("status")?;
    let closed_at: Option<i64> = r.try_get("closed_at")?;
    let live = status == "open" || status == "snoozed";
    Ok(ExceptionItem {
        id: r.try_get("exception_id")?,
        queue_label: Queue::parse(&queue)
            .map(|q| q.label())
            .unwrap_or_default()
            .into(),
        queue,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        entity_ref: r.try_get("entity_ref")?,
        link: r.try_get("link")?,
        reason: r.try_get("reason")?,
        detail: r.try_get("detail")?,
        owner: assignee_email.clone().unwrap_or_else(|| owner_role.clone()),
        owner_role: owner_role.clone(),
        owner_label: Role::parse(&owner_role)
            .map(|r| r.label())
            .unwrap_or_default()
            .into(),
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        assignee_email,
        status: if status == "snoozed" && snoozed_until.is_some_and(|u| u <= now) {
            "open".into()
        } else {
            status
        },
        opened_at: rfc3339(opened_at),
        sla_due_at: rfc3339(sla_due_at),
        age_minutes: (closed_at.unwrap_or(now) - opened_at).max(0) / 60_000_000,
        sla_minutes_left: (sla_due_at - now) / 60_000_000,
        sla_state: if live {
            rules::sla_state(sla_due_at, now)
        } else {
            "done"
        }
        .into(),
        snoozed_until: snoozed_until.map(rfc3339),
        snooze_reason: r.try_get("snooze_reason")?,
        closed_at: closed_at.map(rfc3339),
        closed_by: r
            .try_get::<Option<String>, _>("closer_name")?
            .or(r.try_get("closed_by")?),
        resolution: r.try_get("resolution")?,
        warehouse: r.try_get("warehouse_code")?,
        channel: r.try_get("channel_code")?,
        version: r.try_get("version")?,
    })
}

/// The queue filter, checked and in the store's terms.
struct Wanted {
    queue: Option<&'static str>,
    status: String,
    opened_from: Option<i64>,
    opened_until: Option<i64>,
    owner: Option<String>,
    warehouse: Option<String>,
    channel: Option<String>,
    reason: Option<String>,
}

fn wanted(ctx: &Ctx, f: &ExceptionFilter) -> Result<Wanted> {
    let trimmed = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let queue = trimmed(&f.queue)
        .map(|q| Queue::parse(&q).map(|q| q.as_str()))
        .transpose()
        .map_err(|e| Error::Invalid(vec![e]))?;
    let status = trimmed(&f.status).unwrap_or_else(|| "open".into());
    if !["open", "snoozed", "done", "any"].contains(&status.as_str()) {
        return Err(Error::invalid("status", "use open, snoozed, done or any"));
    }
    let (opened_from, opened_until) = crate::day_range(
        ("opened_from", f.opened_from.as_deref()),
        ("opened_to", f.opened_to.as_deref()),
    )?;
    let owner = match trimmed(&f.owner) {
        Some(o) if o == "me" => Some(ctx.actor.id.clone().ok_or_else(|| {
            Error::invalid(
                "owner",
                "`me` needs a signed-in person; use a role or an email",
            )
        })?),
        Some(o) if Role::parse(&o).is_ok() => Some(o),
        Some(o) if o.contains('@') => Some(o.to_lowercase()),
        Some(_) => return Err(Error::invalid(
            "owner",
            "use a role (admin, manager, warehouse, finance, support), `me`, or a person's email",
        )),
        None => None,
    };
    let reason = trimmed(&f.reason).map(|r| r.to_ascii_lowercase());
    if reason
        .as_deref()
        .is_some_and(|r| r.len() > 40 || !r.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    {
        return Err(Error::invalid(
            "reason",
            "use a reason code such as stockout, low_stock or fraud_review",
        ));
    }
    Ok(Wanted {
        queue,
        status,
        opened_from,
        opened_until,
        owner,
        warehouse: trimmed(&f.warehouse).map(|w| w.to_ascii_uppercase()),
        channel: trimmed(&f.channel).map(|c| c.to_ascii_uppercase()),
        reason,
    })
}

/// Live items oldest first (or finished ones newest first), filtered and
/// paged by key.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list(db: &Db, ctx: &Ctx, f: &ExceptionFilter) -> Result<Page<ExceptionItem>> {
    ctx.require(Permission::ExceptionsRead)?;
    let limit = page_limit(f.limit);
    let want = wanted(ctx, f)?;
    let (at, after) = parse_time_cursor(f.cursor.as_deref())?;
    let now = ctx.now();
    // Only the filters given become conditions, so the planner walks the
    // index they call for: an empty queue, or the first page of all queues,
    // must not cost a scan of every item.
    let mut w = sql::Filters::default();
    let order = match want.status.as_str() {
        "open" => {
            let now = w.arg(now);
            w.and(format!(
                "x.status in ('open', 'snoozed') and (x.status = 'open' or x.snoozed_until <= {now})"
            ));
            "x.opened_at, x.exception_id"
        }
        "snoozed" => {
            let now = w.arg(now);
            w.and(format!(
                "x.status in ('open', 'snoozed') and x.status = 'snoozed' and x.snoozed_until > {now}"
            ));
            "x.opened_at, x.exception_id"
        }
        "done" => {
            w.and("x.closed_at is not null");
            "x.closed_at desc, x.exception_id desc"
        }
        _ => "x.opened_at, x.exception_id",
    };
    let done = want.status == "done";
    let (key_col, cmp) = if done {
        ("x.closed_at", "<")
    } else {
        ("x.opened_at", ">")
    };
    w.eq("x.queue", want.queue);
    if let Some(owner) = want.owner {
        let p = w.arg(owner);
        w.and(format!(
            "(x.owner_role = {p} or x.assignee_id = {p} or lower(u.email) = {p})"
        ));
    }
    w.eq("x.warehouse_code", want.warehouse);
    w.eq("x.channel_code", want.channel);
    // An item of no warehouse (or no channel) is everyone's.
    w.scope(&ctx.actor.scope.warehouses, &["x.warehouse_code"], true);
    w.scope(&ctx.actor.scope.channels, &["x.channel_code"], true);
    w.past(
        key_col,
        "x.exception_id",
        cmp,
        at.map(|at| (at, after.unwrap_or_default())),
    );
    w.eq("x.reason", want.reason);
    if let Some(at) = want.opened_from {
        let p = w.arg(at);
        w.and(format!("x.opened_at >= {p}"));
    }
    if let Some(at) = want.opened_until {
        let p = w.arg(at);
        w.and(format!("x.opened_at < {p}"));
    }
    let take = w.arg(limit + 1);
    let text = format!("{ITEM} where {} order by {order} limit {take}", w.clause());
    let rows = w.query(&text).fetch_all(&db.pool).await?;
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for r in &rows {
        let i = item(r, now)?;
        let key: Option<i64> = r.try_get(if done { "closed_at" } else { "opened_at" })?;
        keys.push((i.id.clone(), key.unwrap_or_default()));
        items.push(i);
    }
    let next_cursor = time_cursor_after(&keys, limit);
    items.truncate(limit as usize);
    Ok(Page { items, next_cursor })
}

/// Per queue: live items, those past their SLA, and those snoozed (each at
/// most `COUNT_CAP`).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn summary(db: &Db, ctx: &Ctx) -> Result<ExceptionSummary> {
    ctx.require(Permission::ExceptionsRead)?;
    let now = ctx.now();
    let mut f = sql::Filters::default();
    let at = f.arg(now);
    // An item of no warehouse (or no channel) is everyone's.
    let scope: String = [
        f.scope_condition(&ctx.actor.scope.warehouses, &["x.warehouse_code"], true),
        f.scope_condition(&ctx.actor.scope.channels, &["x.channel_code"], true),
    ]
    .into_iter()
    .flatten()
    .map(|c| format!(" and {c}"))
    .collect();
    // Each figure counts at most COUNT_CAP items, so the dashboard costs the
    // same with a hundred items or a hundred thousand; past the cap it reads
    // "1000+". Each condition matches one index's order, so every count walks only
    // the entries it counts. An expired snooze counts as open again.
    let kinds = [
        ("open", "x.status in ('open', 'snoozed') and x.status = 'open'"),
        (
            "woke",
            "x.status = 'snoozed' and x.snoozed_until <= {now}",
        ),
        (
            "breached",
            "x.status in ('open', 'snoozed') and x.sla_due_at <= {now} and (x.status = 'open' or x.snoozed_until <= {now})",
        ),
        ("snoozed", "x.status = 'snoozed' and x.snoozed_until > {now}"),
    ];
    let (at, scope) = (&at, &scope);
    let parts: Vec<String> = Queue::ALL
        .iter()
        .flat_map(|q| {
            kinds.iter().map(move |(kind, cond)| {
                format!(
                    "select '{q}' as queue, '{kind}' as kind, (select count(*) from (select 1 from exception_item x
                       where x.queue = '{q}' and {cond}{scope}
                       limit {COUNT_CAP}) t) as n",
                    q = q.as_str(),
                    cond = cond.replace("{now}", at)
                )
            })
        })
        .collect();
    let rows = f
        .query(&parts.join(" union all "))
        .fetch_all(&db.pool)
        .await?;
    let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in &rows {
        counts.insert((r.try_get("queue")?, r.try_get("kind")?), r.try_get("n")?);
    }
    let queues: Vec<QueueCount> = Queue::ALL
        .into_iter()
        .map(|q| {
            let n = |kind: &str| {
                counts
                    .get(&(q.as_str().to_string(), kind.to_string()))
                    .copied()
                    .unwrap_or_default()
            };
            let (open, breached, snoozed) = (
                (n("open") + n("woke")).min(COUNT_CAP),
                n("breached"),
                n("snoozed"),
            );
            QueueCount {
                queue: q.as_str().into(),
                label: q.label().into(),
                description: q.describe().into(),
                capped: [open, breached, snoozed].contains(&COUNT_CAP),
                open,
                breached,
                snoozed,
            }
        })
        .collect();
    Ok(ExceptionSummary {
        open: queues.iter().map(|q| q.open).sum(),
        breached: queues.iter().map(|q| q.breached).sum(),
        queues,
        as_of: rfc3339(now),
    })
}

pub(crate) async fn load(conn: &mut AnyConnection, id: &str, now: i64) -> Result<ExceptionItem> {
    let row = sqlx::query(&format!("{ITEM} where x.exception_id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "exception",
            key: id.to_string(),
        })?;
    item(&row, now)
}

pub(crate) fn in_scope(ctx: &Ctx, x: &ExceptionItem) -> Result<()> {
    let s = &ctx.actor.scope;
    let ok = x.warehouse.as_deref().is_none_or(|w| s.allows_warehouse(w))
        && x.channel.as_deref().is_none_or(|c| s.allows_channel(c));
    if ok {
        Ok(())
    } else {
        // Out of scope reads as absent, as elsewhere.
        Err(Error::NotFound {
            entity: "exception",
            key: x.id.clone(),
        })
    }
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<ExceptionItem> {
    ctx.require(Permission::ExceptionsRead)?;
    let mut conn = db.pool.acquire().await?;
    let x = load(&mut conn, id, ctx.now()).await?;
    in_scope(ctx, &x)?;
    Ok(x)
}
