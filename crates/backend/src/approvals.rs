//! Deciding on a held change (four eyes, `domain::governance::approvals`).
//! This sits above the contexts because approving applies their change, in
//! the approver's transaction: a role change through governance, a stock
//! adjustment through inventory, a price override through the price lists,
//! a channel or sourcing-rule change through orders. Holding and reading pending changes is
//! governance's own (`governance::approvals`).

use domain::{
    events::Event,
    governance::{
        approvals::{may_decide, ApprovalKind, Refusal},
        Permission,
    },
};

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Conflict, Error, Result},
    governance::approvals::{load, may_decide_kind, principal, PendingChange},
    uow::Change,
};

/// The longest decision note kept.
const NOTE_MAX: usize = 500;

/// Approves (and applies, once) or rejects a pending change. Only someone
/// else than the requester, holding the kind's permission, decides.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id, approve))]
pub async fn decide(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    approve: bool,
    note: &str,
) -> Result<PendingChange> {
    ctx.require(Permission::CommandView)?;
    let note = note.trim();
    if note.chars().count() > NOTE_MAX {
        return Err(Error::invalid(
            "note",
            format!("keep the note under {NOTE_MAX} characters"),
        ));
    }
    retrying!(decide_once(db, ctx, id, approve, note))
}

async fn decide_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    approve: bool,
    note: &str,
) -> Result<PendingChange> {
    let mut uow = db.begin(ctx).await?;
    let before = load(&mut uow.tx, id).await?;
    let kind = ApprovalKind::parse(&before.kind)
        .ok_or_else(|| Error::Internal(format!("unknown approval kind {}", before.kind)))?;
    if approve && kind == ApprovalKind::StockAdjustment {
        // Applying it may source backorders: take the turn its own use case
        // takes before its first write, so the two can't deadlock.
        crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    }
    let permission = kind.approver_permission();
    let me = principal(&mut uow.tx, ctx).await?;
    if !may_decide_kind(ctx, kind) {
        // Someone who may neither decide nor asked reads it as absent.
        if before.requested_by != me {
            return Err(Error::NotFound {
                entity: "pending change",
                key: id.to_string(),
            });
        }
        return Err(if ctx.actor.may(permission) {
            Error::OutOfScope {
                what: "every warehouse and channel, which deciding on held changes needs".into(),
            }
        } else {
            Error::Forbidden { permission }
        });
    }
    may_decide(&before.status, &before.requested_by, &me).map_err(|r| match r {
        Refusal::NotPending(status) => Error::Conflict {
            code: Conflict::ChangeNotPending,
            message: format!("this change is already {status}"),
        },
        Refusal::SelfApproval(message) => Error::Conflict {
            code: Conflict::SelfApproval,
            message,
        },
    })?;
    // One decision wins: the update takes only a change still pending.
    let status = if approve { "applied" } else { "rejected" };
    let (now, by) = (uow.now(), uow.ctx.actor.name.clone());
    let claimed = sqlx::query(
        "update pending_change set status = $2, decided_by = $3, decided_at = $4, decision_note = $5, version = version + 1
         where change_id = $1 and status = 'pending'",
    )
    .bind(&before.id)
    .bind(status)
    .bind(by)
    .bind(now)
    .bind((!note.is_empty()).then_some(note))
    .execute(&mut *uow.tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Err(Error::Conflict {
            code: Conflict::ChangeNotPending,
            message: "someone else decided on this change first".into(),
        });
    }
    if approve {
        match kind {
            ApprovalKind::StockAdjustment => {
                crate::inventory::adjustments::apply_held(&mut uow, &before.payload).await?
            }
            ApprovalKind::RoleChange => {
                crate::governance::apply_held_user_update(&mut uow, &before.payload).await?
            }
            ApprovalKind::PriceOverride => {
                crate::price_list::apply_held(&mut uow, &before.payload).await?
            }
            ApprovalKind::ChannelChange => {
                crate::orders::channels::apply_held(&mut uow, &before.payload).await?
            }
        }
    }
    let after = load(&mut uow.tx, &before.id).await?;
    uow.record(
        Change {
            action: if approve {
                "approval.approve"
            } else {
                "approval.reject"
            },
            entity: "pending_change",
            entity_id: &before.id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::ApprovalDecided {
            change_id: before.id.clone(),
            kind: before.kind.clone(),
            approved: approve,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}
