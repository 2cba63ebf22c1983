//! One action over many orders, each in its own unit of work.

use super::changes::{cancel_order, tag};
use super::holds::release_hold;
use super::read::load;
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
};
use domain::governance::Permission;
use domain::views::{BulkAction, BulkResult};

/// Applies one action to many orders, each in its own transaction, so one
/// failure never undoes the others. Every order gets its own result line.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn bulk(
    db: &Db,
    ctx: &Ctx,
    ids: &[String],
    action: &BulkAction,
) -> Result<Vec<BulkResult>> {
    ctx.require(Permission::OrdersWrite)?;
    if ids.is_empty() || ids.len() > 200 {
        return Err(Error::invalid("ids", "choose 1 to 200 orders"));
    }
    let mut out = Vec::new();
    for id in ids {
        let result = match action {
            BulkAction::ReleaseHold { reason, note } => match load(db, ctx, id).await {
                Ok(o) => {
                    let mut last = Ok(o.clone());
                    let targets: Vec<_> = o
                        .holds
                        .iter()
                        .filter(|h| {
                            reason
                                .as_deref()
                                .is_none_or(|r| r.is_empty() || h.reason == r)
                        })
                        .collect();
                    if targets.is_empty() {
                        last = Err(Error::Conflict {
                            code: Conflict::HoldNotActive,
                            message: "no matching open hold".into(),
                        });
                    }
                    for h in targets {
                        last = release_hold(db, ctx, id, &h.id, note).await;
                        if last.is_err() {
                            break;
                        }
                    }
                    last
                }
                Err(e) => Err(e),
            },
            BulkAction::Cancel { reason } => cancel_order(db, ctx, id, reason).await,
            BulkAction::Tag { tag: t } => tag(db, ctx, id, std::slice::from_ref(t), &[]).await,
        };
        out.push(match result {
            Ok(o) => BulkResult {
                order_id: id.clone(),
                number: o.number,
                ok: true,
                message: format!("done; now {}", o.status.replace('_', " ")),
            },
            Err(e) => BulkResult {
                order_id: id.clone(),
                number: sqlx::query_scalar::<_, String>(
                    "select number from sales_order where order_id = $1",
                )
                .bind(id)
                .fetch_optional(&db.pool)
                .await?
                .unwrap_or_else(|| id.clone()),
                ok: false,
                message: match e.fields().first() {
                    Some(f) => format!("{}: {}", f.field, f.message),
                    None => e.to_string(),
                },
            },
        });
    }
    Ok(out)
}
