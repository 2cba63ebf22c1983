//! The whole-business feeds: the audit log and the event feed (list and live
//! stream). They span every warehouse and channel, so they are read only by
//! callers whose scope is unrestricted: a caller limited to some warehouses or
//! channels would otherwise read the others' orders and customers here.

use domain::governance::Permission;
use sqlx::Row;

use super::{AuditEntry, AuditFilter, EventRecord};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    page_limit, rfc3339, Page,
};

/// Refuses a scoped caller: these feeds can't be cut down to a scope, so they
/// are all or nothing.
pub fn require_whole_business(ctx: &Ctx, permission: Permission) -> Result<()> {
    ctx.require(permission)?;
    if ctx.actor.scope.is_unrestricted() {
        Ok(())
    } else {
        Err(Error::OutOfScope {
            what: "every warehouse and channel, which this feed spans".into(),
        })
    }
}

fn parse_instant(field: &str, s: &str, end_of_day: bool) -> Result<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end_of_day {
            d.succ_opt().unwrap_or(d)
        } else {
            d
        };
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_micros());
    }
    Err(Error::invalid(
        field,
        format!("`{s}` is not a date (YYYY-MM-DD) or an RFC 3339 instant"),
    ))
}

/// The audit log, newest first, keyset-paginated on (occurred_at, id).
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_audit(db: &Db, ctx: &Ctx, filter: &AuditFilter) -> Result<Page<AuditEntry>> {
    require_whole_business(ctx, Permission::AuditRead)?;
    let limit = page_limit(filter.limit);
    let nonempty = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let from = nonempty(&filter.from)
        .map(|s| parse_instant("from", &s, false))
        .transpose()?;
    let to = nonempty(&filter.to)
        .map(|s| parse_instant("to", &s, true))
        .transpose()?;
    let (cursor_at, cursor_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    let actor = nonempty(&filter.actor);
    let actor_like = actor.as_ref().map(|a| format!("%{}%", a.to_lowercase()));
    let mut f = crate::sql::Filters::default();
    f.eq("entity", nonempty(&filter.entity));
    f.eq("entity_id", nonempty(&filter.entity_id));
    if let (Some(actor), Some(like)) = (actor, actor_like) {
        let (a, l) = (f.arg(actor), f.arg(like));
        f.and(format!("(actor_id = {a} or lower(actor_name) like {l})"));
    }
    if let Some(from) = from {
        let p = f.arg(from);
        f.and(format!("occurred_at >= {p}"));
    }
    if let Some(to) = to {
        let p = f.arg(to);
        f.and(format!("occurred_at < {p}"));
    }
    f.past("occurred_at", "audit_id", "<", cursor_at.zip(cursor_id));
    let n = f.arg(limit + 1);
    let sql = format!(
        "select audit_id, occurred_at, actor_kind, actor_id, actor_name, request_id, action, entity, entity_id, before_json, after_json
         from audit_log where {} order by occurred_at desc, audit_id desc limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let at: i64 = row.try_get("occurred_at")?;
        let id: String = row.try_get("audit_id")?;
        items.push(AuditEntry {
            id,
            occurred_at: rfc3339(at),
            actor_kind: row.try_get("actor_kind")?,
            actor_id: row.try_get("actor_id")?,
            actor_name: row.try_get("actor_name")?,
            request_id: row.try_get("request_id")?,
            action: row.try_get("action")?,
            entity: row.try_get("entity")?,
            entity_id: row.try_get("entity_id")?,
            before: json(row.try_get("before_json")?),
            after: json(row.try_get("after_json")?),
        });
    }
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let last = &rows[limit as usize - 1];
        Some(format!(
            "{}_{}",
            last.try_get::<i64, _>("occurred_at")?,
            last.try_get::<String, _>("audit_id")?
        ))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Events after a sequence number, oldest first. Because sequence numbers are
/// taken at commit order, a client that keeps the last `seq` it saw never misses one.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_events(
    db: &Db,
    ctx: &Ctx,
    after: i64,
    limit: Option<i64>,
) -> Result<Vec<EventRecord>> {
    require_whole_business(ctx, Permission::EventsRead)?;
    events_after(db, after, page_limit(limit)).await
}

/// The newest events, newest first, for a feed's first paint.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn recent_events(db: &Db, ctx: &Ctx, limit: i64) -> Result<Vec<EventRecord>> {
    require_whole_business(ctx, Permission::EventsRead)?;
    let latest = db.max_event_seq().await?;
    let mut events = events_after(db, (latest - limit).max(0), limit).await?;
    events.reverse();
    Ok(events)
}

/// The unchecked read behind the feed and the SSE stream; callers authorize first.
#[tracing::instrument(skip_all)]
pub async fn events_after(db: &Db, after: i64, limit: i64) -> Result<Vec<EventRecord>> {
    let rows = sqlx::query(
        "select seq, event_id, event_type, version, entity, entity_id, actor_kind, actor_name, payload, occurred_at
         from event where seq > $1 order by seq limit $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(EventRecord {
                seq: row.try_get("seq")?,
                id: row.try_get("event_id")?,
                event_type: row.try_get("event_type")?,
                v: row.try_get("version")?,
                entity: row.try_get("entity")?,
                entity_id: row.try_get("entity_id")?,
                actor_kind: row.try_get("actor_kind")?,
                actor_name: row.try_get("actor_name")?,
                occurred_at: rfc3339(row.try_get("occurred_at")?),
                data: serde_json::from_str(&payload).unwrap_or_default(),
            })
        })
        .collect()
}
