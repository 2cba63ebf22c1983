//! Incidents: attempts Keel refused (a reservation that would have oversold
//! an item, a webhook delivery that failed its signature or could not be
//! read), counted so a person sees them in the exception queues.
//!
//! Invariants:
//! - A refused request's own transaction rolls back and leaves nothing, so
//!   the attempt is recorded afterwards in a transaction of its own, with
//!   its audit row and an `incident.recorded` event. Recording never
//!   changes the answer the caller gets: if it fails, it is logged.
//! - Attempts of one kind about one subject add to its open incident (one
//!   row, however many attempts) until a person resolves the incident's
//!   exception, which resolves the incident in the same transaction; the
//!   next attempt then opens a new one. The row's count is exact; for a
//!   rejected webhook (an anonymous sender) its audit row and event come at
//!   the 1st, 2nd, 4th, 8th, … attempt only, so a flood grows the audit log
//!   by its logarithm (#19).
//! - Only subjects Keel knows are recorded (an existing product, an existing
//!   channel), so a stream of made-up names can't grow the table.

use domain::events::Event;

use crate::{
    ctx::Ctx,
    db::Db,
    error::Result,
    uow::{Change, Uow},
};

/// One refused attempt.
pub struct Attempt<'a> {
    /// `domain::analytics::OVERSELL_REFUSED` or `WEBHOOK_REJECTED`.
    pub kind: &'a str,
    /// The product or channel it is about, and what a person calls it.
    pub subject_id: &'a str,
    pub subject_ref: &'a str,
    pub channel: Option<&'a str>,
    /// What was refused and why, in words.
    pub detail: String,
}

/// Counts the attempt on its incident; logs rather than fails, since the
/// caller is answering a refusal that must not change.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn record(db: &Db, ctx: &Ctx, attempt: &Attempt<'_>) {
    if let Err(e) = retrying!(record_once(db, ctx, attempt)) {
        tracing::error!(error = %e, kind = attempt.kind, subject = attempt.subject_ref, "a refused attempt could not be recorded");
    }
}

async fn add_to_open(uow: &mut Uow, a: &Attempt<'_>) -> Result<Option<(String, i64)>> {
    let now = uow.now();
    Ok(sqlx::query_as(
        "update incident set occurrences = occurrences + 1, last_at = $1, last_detail = $2, last_actor = $3, version = version + 1
         where kind = $4 and subject_id = $5 and resolved_at is null
         returning incident_id, occurrences",
    )
    .bind(now)
    .bind(&a.detail)
    .bind(&uow.ctx.actor.name)
    .bind(a.kind)
    .bind(a.subject_id)
    .fetch_optional(&mut *uow.tx)
    .await?)
}

async fn record_once(db: &Db, ctx: &Ctx, a: &Attempt<'_>) -> Result<()> {
    let mut uow = db.begin(ctx).await?;
    let now = uow.now();
    let (id, occurrences) = match add_to_open(&mut uow, a).await? {
        Some(found) => found,
        None => {
            let id = uuid::Uuid::now_v7().to_string();
            // A concurrent first attempt may have opened it meanwhile (the
            // partial unique index lets only one in); then add to that one.
            let inserted = sqlx::query(
                "insert into incident (incident_id, kind, subject_id, subject_ref, channel_code, occurrences, first_at, last_at,
                     last_detail, last_actor)
                 values ($1, $2, $3, $4, $5, 1, $6, $6, $7, $8)
                 on conflict (kind, subject_id) where resolved_at is null do nothing",
            )
            .bind(&id)
            .bind(a.kind)
            .bind(a.subject_id)
            .bind(a.subject_ref)
            .bind(a.channel)
            .bind(now)
            .bind(&a.detail)
            .bind(&ctx.actor.name)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                (id, 1)
            } else {
                add_to_open(&mut uow, a).await?.ok_or_else(|| {
                    crate::error::Error::Internal("an incident vanished while being counted".into())
                })?
            }
        }
    };
    // A refused person is audited each time (who asked, and the count
    // after). An anonymous sender can flood, so for a rejected webhook the
    // row's count stays exact but the audit row and event that refresh the
    // queue come at 1, 2, 4, 8, … occurrences: the audit log grows by the
    // flood's logarithm, not by one per request.
    let anonymous = a.kind == domain::analytics::WEBHOOK_REJECTED;
    if anonymous && !u64::try_from(occurrences).is_ok_and(u64::is_power_of_two) {
        return uow.commit().await;
    }
    uow.record(
        Change {
            action: "incident.record",
            entity: "incident",
            entity_id: &id,
            before: (occurrences > 1).then(|| serde_json::json!({"occurrences": occurrences - 1})),
            after: Some(serde_json::json!({
                "kind": a.kind,
                "subject": a.subject_ref,
                "occurrences": occurrences,
                "last_detail": a.detail,
            })),
        },
        Event::IncidentRecorded {
            incident_id: id.clone(),
            kind: a.kind.to_string(),
            subject: a.subject_ref.to_string(),
            occurrences,
        },
    )
    .await?;
    uow.commit().await
}
