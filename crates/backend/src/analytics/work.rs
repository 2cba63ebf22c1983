//! Working an item: assign, snooze and resolve, audited, with events.

use super::queue::{in_scope, load};
use crate::error::Conflict;
use crate::{
    ctx::{ActorKind, Ctx},
    db::Db,
    error::{Error, Result},
    rfc3339,
    uow::{Change, Uow},
};
use domain::{
    analytics::{self as rules},
    events::Event,
    governance::{Permission, Role},
    views::ExceptionItem,
};

/// Loads a live item for a person to work on, checking who may.
async fn workable(uow: &mut Uow, ctx: &Ctx, id: &str) -> Result<ExceptionItem> {
    ctx.require(Permission::ExceptionsWork)?;
    let now = uow.now();
    let x = load(&mut uow.tx, id, now).await?;
    in_scope(ctx, &x)?;
    let owner = Role::parse(&x.owner_role).map_err(Error::Internal)?;
    let allowed = match ctx.actor.kind {
        ActorKind::System => true,
        _ => ctx.actor.role.is_some_and(|r| {
            rules::may_work(r, ctx.actor.id.as_deref(), owner, x.assignee_id.as_deref())
        }),
    };
    if !allowed {
        return Err(Error::Conflict {
            code: Conflict::NotYourQueue,
            message: format!(
                "{} belongs to {}; ask a manager to assign it to you",
                x.entity_ref, x.owner_label
            ),
        });
    }
    if x.closed_at.is_some() {
        return Err(Error::Conflict {
            code: Conflict::ExceptionClosed,
            message: format!("{} is already {}", x.entity_ref, x.status),
        });
    }
    Ok(x)
}

async fn finish(db: &Db, uow: Uow, id: &str) -> Result<ExceptionItem> {
    let now = uow.now();
    uow.commit().await?;
    let mut conn = db.pool.acquire().await?;
    load(&mut conn, id, now).await
}

/// Hands an item to a person (by email or id), or back to its role (`None`).
#[tracing::instrument(skip_all, fields(id))]
pub async fn assign(db: &Db, ctx: &Ctx, id: &str, assignee: Option<&str>) -> Result<ExceptionItem> {
    let mut uow = db.begin(ctx).await?;
    let x = workable(&mut uow, ctx, id).await?;
    let user = match assignee.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => Some(
            sqlx::query_as::<_, (String, String, String)>(
                "select user_id, name, email from app_user where (user_id = $1 or lower(email) = lower($1)) and active = 1",
            )
            .bind(a)
            .fetch_optional(&mut *uow.tx)
            .await?
            .ok_or_else(|| Error::invalid("assignee", format!("no active user is {a}")))?,
        ),
        None => None,
    };
    sqlx::query(
        "update exception_item set assignee_id = $1, assignee_name = $2, updated_at = $3, version = version + 1 where exception_id = $4",
    )
    .bind(user.as_ref().map(|u| u.0.clone()))
    .bind(user.as_ref().map(|u| u.1.clone()))
    .bind(uow.now())
    .bind(id)
    .execute(&mut *uow.tx)
    .await?;
    let email = user.as_ref().map(|u| u.2.clone()).unwrap_or_default();
    uow.record(
        Change {
            action: "exception.assign",
            entity: "exception",
            entity_id: id,
            before: Some(serde_json::json!({"assignee": x.assignee_email})),
            after: Some(serde_json::json!({"assignee": user.as_ref().map(|u| &u.2)})),
        },
        Event::ExceptionAssigned {
            exception_id: id.into(),
            queue: x.queue.clone(),
            assignee: email,
        },
    )
    .await?;
    finish(db, uow, id).await
}

/// Hides an item from the open queue for some hours, with the reason.
#[tracing::instrument(skip_all, fields(id))]
pub async fn snooze(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    hours: i64,
    reason: &str,
) -> Result<ExceptionItem> {
    let (hours, reason) = rules::parse_snooze(hours, reason).map_err(Error::Invalid)?;
    let mut uow = db.begin(ctx).await?;
    let x = workable(&mut uow, ctx, id).await?;
    let until = uow.now() + hours * 3_600_000_000;
    sqlx::query(
        "update exception_item set status = 'snoozed', snoozed_until = $1, snooze_reason = $2, updated_at = $3, version = version + 1 where exception_id = $4",
    )
    .bind(until)
    .bind(&reason)
    .bind(uow.now())
    .bind(id)
    .execute(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "exception.snooze",
            entity: "exception",
            entity_id: id,
            before: Some(serde_json::json!({"status": x.status, "snoozed_until": x.snoozed_until})),
            after: Some(serde_json::json!({"status": "snoozed", "snoozed_until": rfc3339(until), "reason": reason})),
        },
        Event::ExceptionSnoozed {
            exception_id: id.into(),
            queue: x.queue.clone(),
            until: rfc3339(until),
            reason,
        },
    )
    .await?;
    finish(db, uow, id).await
}

/// A person dealt with the item. It stays resolved while its condition
/// lasts; the same condition arising again later opens a new item.
#[tracing::instrument(skip_all, fields(id))]
pub async fn resolve(db: &Db, ctx: &Ctx, id: &str, note: &str) -> Result<ExceptionItem> {
    let note = rules::parse_resolution(note).map_err(|e| Error::Invalid(vec![e]))?;
    let mut uow = db.begin(ctx).await?;
    let x = workable(&mut uow, ctx, id).await?;
    let now = uow.now();
    sqlx::query(
        "update exception_item set status = 'resolved', closed_at = $1, closed_by = $2, resolution = $3, updated_at = $1, version = version + 1
         where exception_id = $4 and status in ('open', 'snoozed')",
    )
    .bind(now)
    .bind(&ctx.actor.name)
    .bind(&note)
    .bind(id)
    .execute(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "exception.resolve",
            entity: "exception",
            entity_id: id,
            before: Some(serde_json::json!({"status": x.status})),
            after: Some(serde_json::json!({"status": "resolved", "note": note})),
        },
        Event::ExceptionResolved {
            exception_id: id.into(),
            queue: x.queue.clone(),
            note,
        },
    )
    .await?;
    if x.entity == "incident" {
        resolve_incident(&mut uow, &x.entity_id).await?;
    }
    finish(db, uow, id).await
}

/// Resolving an incident's item resolves the incident, so the next refused
/// attempt of its kind opens a new one rather than adding to this.
async fn resolve_incident(uow: &mut Uow, incident_id: &str) -> Result<()> {
    let now = uow.now();
    let Some((kind, subject, occurrences)) = sqlx::query_as::<_, (String, String, i64)>(
        "update incident set resolved_at = $1, version = version + 1 where incident_id = $2 and resolved_at is null
         returning kind, subject_ref, occurrences",
    )
    .bind(now)
    .bind(incident_id)
    .fetch_optional(&mut *uow.tx)
    .await?
    else {
        return Ok(());
    };
    uow.record(
        Change {
            action: "incident.resolve",
            entity: "incident",
            entity_id: incident_id,
            before: Some(serde_json::json!({"resolved_at": null, "occurrences": occurrences})),
            after: Some(
                serde_json::json!({"resolved_at": rfc3339(now), "occurrences": occurrences}),
            ),
        },
        Event::IncidentResolved {
            incident_id: incident_id.into(),
            kind,
            subject,
        },
    )
    .await
}
