//! Four eyes, the record side (`domain::governance::approvals`): the policy
//! table, holding a change as a pending change, and reading them. Deciding on
//! one applies another context's change, so that lives above the contexts,
//! in `crate::approvals`.

use domain::{
    events::Event,
    governance::{
        approvals::{ApprovalKind, Policy},
        Permission,
    },
};
use sqlx::{any::AnyRow, AnyConnection, Row};

pub use domain::views::{PendingChange, PendingFilter};

use crate::{
    ctx::{ActorKind, Ctx},
    db::Db,
    error::{Error, Result},
    page_limit, rfc3339,
    uow::{Change, Uow},
    Page,
};

/// What asking for a change led to: applied at once, or held for a second
/// person.
/// Untagged, so an idempotent replay reads back whichever it was (the two
/// shapes share no required field).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Outcome<T> {
    Applied(T),
    Held(Box<PendingChange>),
}

impl<T> Outcome<T> {
    /// What was applied; `None` when it waits for a second person.
    pub fn applied(self) -> Option<T> {
        match self {
            Outcome::Applied(value) => Some(value),
            Outcome::Held(_) => None,
        }
    }
}

/// Whether the policies apply to this caller: people and tokens. Keel's own
/// in-process actors (CLI, seeder, jobs) act at once, audited by name.
pub(crate) fn applies_to(ctx: &Ctx) -> bool {
    matches!(ctx.actor.kind, ActorKind::User | ActorKind::Token)
}

fn policy_from_row(row: &AnyRow) -> Result<Policy> {
    let kind: String = row.try_get("kind")?;
    Ok(Policy {
        kind: ApprovalKind::parse(&kind)
            .ok_or_else(|| Error::Internal(format!("unknown approval kind {kind}")))?,
        active: row.try_get::<i16, _>("active")? == 1,
        threshold_minor: row.try_get("threshold_minor")?,
        threshold_percent: row.try_get("threshold_percent")?,
    })
}

/// The policy of one kind, as the change being checked sees it.
pub(crate) async fn policy(conn: &mut AnyConnection, kind: ApprovalKind) -> Result<Policy> {
    let row =
        sqlx::query("select kind, active, threshold_minor, threshold_percent from approval_policy where kind = $1")
            .bind(kind.as_str())
            .fetch_one(&mut *conn)
            .await?;
    policy_from_row(&row)
}

/// The policy table, for the approvals page and the API.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn policies(db: &Db, ctx: &Ctx) -> Result<Vec<Policy>> {
    ctx.require(Permission::CommandView)?;
    let rows =
        sqlx::query("select kind, active, threshold_minor, threshold_percent from approval_policy order by kind")
            .fetch_all(&db.pool)
            .await?;
    rows.iter().map(policy_from_row).collect()
}

/// Turns a policy on or off and sets its threshold: an administrator's
/// decision, audited like any other change.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, kind = %kind.as_str()))]
pub async fn set_policy(
    db: &Db,
    ctx: &Ctx,
    kind: ApprovalKind,
    active: bool,
    threshold_minor: Option<i64>,
    threshold_percent: Option<i64>,
) -> Result<Policy> {
    ctx.require(Permission::UsersManage)?;
    let threshold_minor = Policy::check_threshold(threshold_minor)
        .map_err(|m| Error::invalid("threshold_minor", m))?;
    let threshold_percent = Policy::check_percent(threshold_percent)
        .map_err(|m| Error::invalid("threshold_percent", m))?;
    let mut uow = db.begin(ctx).await?;
    let before = policy(&mut uow.tx, kind).await?;
    let after = Policy {
        kind,
        active,
        // Only adjustments have a value threshold, and price overrides a
        // percentage; a blank one keeps what was set.
        threshold_minor: (kind == ApprovalKind::StockAdjustment)
            .then(|| threshold_minor.or(before.threshold_minor))
            .flatten(),
        threshold_percent: (kind == ApprovalKind::PriceOverride)
            .then(|| threshold_percent.or(before.threshold_percent))
            .flatten(),
    };
    let (now, by) = (uow.now(), uow.ctx.actor.name.clone());
    sqlx::query("update approval_policy set active = $2, threshold_minor = $3, threshold_percent = $6, updated_by = $4, updated_at = $5 where kind = $1")
        .bind(kind.as_str())
        .bind(i16::from(after.active))
        .bind(after.threshold_minor)
        .bind(by)
        .bind(now)
        .bind(after.threshold_percent)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "approval.policy",
            entity: "approval_policy",
            entity_id: kind.as_str(),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::ApprovalPolicyChanged {
            kind: kind.as_str().into(),
            active: after.active,
            threshold_minor: after.threshold_minor,
            threshold_percent: after.threshold_percent,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

/// The person behind a caller, for four eyes: a token issued by a person
/// is that person (their email), so nobody asks with a token and approves in
/// the browser; anyone else is their audit name.
pub(crate) async fn principal(conn: &mut AnyConnection, ctx: &Ctx) -> Result<String> {
    if let (ActorKind::Token, Some(token)) = (&ctx.actor.kind, ctx.actor.id.as_deref()) {
        let owner: Option<String> = sqlx::query_scalar(
            "select u.email from api_token t join app_user u on u.user_id = t.owner_user_id where t.token_id = $1",
        )
        .bind(token)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(email) = owner {
            return Ok(email);
        }
    }
    Ok(ctx.actor.name.clone())
}

/// Holds a change for a second person instead of applying it: the pending
/// change, audited and announced in the caller's transaction.
pub(crate) async fn hold(
    uow: &mut Uow,
    kind: ApprovalKind,
    summary: String,
    payload: serde_json::Value,
) -> Result<PendingChange> {
    let id = uuid::Uuid::now_v7().to_string();
    let ctx = uow.ctx.clone();
    let (now, by) = (uow.now(), principal(&mut uow.tx, &ctx).await?);
    sqlx::query(
        "insert into pending_change (change_id, kind, summary, payload_json, requested_by, requested_at, status, version)
         values ($1, $2, $3, $4, $5, $6, 'pending', 1)",
    )
    .bind(&id)
    .bind(kind.as_str())
    .bind(&summary)
    .bind(payload.to_string())
    .bind(&by)
    .bind(now)
    .execute(&mut *uow.tx)
    .await?;
    let held = load(&mut uow.tx, &id).await?;
    uow.record(
        Change {
            action: "approval.request",
            entity: "pending_change",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&held).ok(),
        },
        Event::ApprovalRequested {
            change_id: id.clone(),
            kind: kind.as_str().into(),
            summary,
        },
    )
    .await?;
    Ok(held)
}

const COLUMNS: &str = "change_id, kind, summary, payload_json, requested_by, requested_at, status, decided_by, decided_at, decision_note";

fn from_row(row: &AnyRow) -> Result<PendingChange> {
    let payload: String = row.try_get("payload_json")?;
    Ok(PendingChange {
        id: row.try_get("change_id")?,
        kind: row.try_get("kind")?,
        summary: row.try_get("summary")?,
        payload: serde_json::from_str(&payload).unwrap_or_default(),
        requested_by: row.try_get("requested_by")?,
        requested_at: rfc3339(row.try_get("requested_at")?),
        status: row.try_get("status")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(rfc3339),
        decision_note: row.try_get("decision_note")?,
    })
}

pub(crate) async fn load(conn: &mut AnyConnection, id: &str) -> Result<PendingChange> {
    let row = sqlx::query(&format!(
        "select {COLUMNS} from pending_change where change_id = $1"
    ))
    .bind(id.trim())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "pending change",
        key: id.to_string(),
    })?;
    from_row(&row)
}

/// Whether a caller may decide on changes of `kind`: they hold its
/// permission, and their scope is unrestricted (a held change may touch
/// any warehouse, and its summary says so).
pub fn may_decide_kind(ctx: &Ctx, kind: ApprovalKind) -> bool {
    ctx.actor.may(kind.approver_permission()) && ctx.actor.scope.is_unrestricted()
}

/// The kinds a caller may decide on.
fn decidable(ctx: &Ctx) -> Vec<&'static str> {
    ApprovalKind::ALL
        .into_iter()
        .filter(|k| may_decide_kind(ctx, *k))
        .map(ApprovalKind::as_str)
        .collect()
}

/// A change the caller (who is `me`) may see: one they may decide on, or their own.
fn visible(ctx: &Ctx, me: &str, c: &PendingChange) -> bool {
    decidable(ctx).contains(&c.kind.as_str()) || c.requested_by == me
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get(db: &Db, ctx: &Ctx, id: &str) -> Result<PendingChange> {
    ctx.require(Permission::CommandView)?;
    let mut conn = db.pool.acquire().await?;
    let c = load(&mut conn, id).await?;
    let me = principal(&mut conn, ctx).await?;
    if visible(ctx, &me, &c) {
        Ok(c)
    } else {
        Err(Error::NotFound {
            entity: "pending change",
            key: id.to_string(),
        })
    }
}

/// Pending changes newest first, the ones the caller may decide on or asked
/// for; filtered by status and kind, keyset-paginated.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list(db: &Db, ctx: &Ctx, filter: &PendingFilter) -> Result<Page<PendingChange>> {
    ctx.require(Permission::CommandView)?;
    let limit = page_limit(filter.limit);
    let mut f = crate::sql::Filters::default();
    if let Some(status) = filter
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !["pending", "applied", "rejected"].contains(&status) {
            return Err(Error::invalid("status", "use pending, applied or rejected"));
        }
        f.eq("status", Some(status.to_string()));
    }
    if let Some(kind) = filter
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let kind = ApprovalKind::parse(kind).ok_or_else(|| {
            Error::invalid("kind", format!("use one of {}", ApprovalKind::names()))
        })?;
        f.eq("kind", Some(kind.as_str().to_string()));
    }
    let mut mine = vec![];
    for k in decidable(ctx) {
        mine.push(f.arg(k.to_string()));
    }
    let me = {
        let mut conn = db.pool.acquire().await?;
        principal(&mut conn, ctx).await?
    };
    let me = f.arg(me);
    let kinds = if mine.is_empty() {
        String::new()
    } else {
        format!("kind in ({}) or ", mine.join(", "))
    };
    f.and(format!("({kinds}requested_by = {me})"));
    let (cursor_at, cursor_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    f.past("requested_at", "change_id", "<", cursor_at.zip(cursor_id));
    let n = f.arg(limit + 1);
    let sql = format!(
        "select {COLUMNS} from pending_change where {} order by requested_at desc, change_id desc limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let mut items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let keys: Vec<(String, i64)> = rows
        .iter()
        .map(|r| Ok((r.try_get("change_id")?, r.try_get("requested_at")?)))
        .collect::<Result<_>>()?;
    let next_cursor = crate::time_cursor_after(&keys, limit);
    items.truncate(limit as usize);
    Ok(Page { items, next_cursor })
}
