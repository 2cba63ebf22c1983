//! What every change to an order shares: the expected version, the manual
//! touch it counts, and the confirmation once the last hold is gone.

use crate::error::Conflict;
use crate::{
    ctx::{ActorKind, Ctx},
    error::{Error, Result},
    uow::{Change, Uow},
};
use domain::{events::Event, orders::OrderStatus};
use sqlx::Row;

/// Whether a change counts as a manual touch: a person did it by hand.
fn manual(ctx: &Ctx) -> i64 {
    i64::from(ctx.actor.kind == ActorKind::User)
}

/// The row an edit starts from, locked for the rest of the transaction.
pub(crate) struct Editing {
    pub(crate) number: String,
    pub(crate) status: OrderStatus,
    pub(crate) channel: String,
    pub(crate) reservation_id: Option<String>,
}

pub(crate) async fn editing(
    uow: &mut Uow,
    id: &str,
    expected_version: Option<i64>,
) -> Result<Editing> {
    // A no-op update takes the row lock on PostgreSQL (SQLite's write lock is
    // already held), so concurrent edits of one order queue instead of racing.
    sqlx::query("update sales_order set version = version where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    let row = sqlx::query(
        "select o.number, o.status, o.version, o.reservation_id, c.code from sales_order o join channel c on c.channel_id = o.channel_id where o.order_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *uow.tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "order",
        key: id.to_string(),
    })?;
    let channel: String = row.try_get("code")?;
    super::read::visible(&mut uow.tx, &uow.ctx, id, &channel).await?;
    let version: i64 = row.try_get("version")?;
    if let Some(v) = expected_version {
        if v != version {
            return Err(Error::Conflict {
                code: Conflict::VersionConflict,
                message: format!(
                    "the order changed since you loaded it (version {v}, now {version}); reload and try again"
                ),
            });
        }
    }
    let status: String = row.try_get("status")?;
    Ok(Editing {
        number: row.try_get("number")?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("order {id} has unknown status {status}")))?,
        channel,
        reservation_id: row.try_get("reservation_id")?,
    })
}

pub(crate) async fn touch(uow: &mut Uow, id: &str) -> Result<()> {
    sqlx::query("update sales_order set version = version + 1, updated_at = $2, manual_touches = manual_touches + $3 where order_id = $1")
        .bind(id)
        .bind(uow.now())
        .bind(manual(&uow.ctx))
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

/// Confirms a received order once its last hold is gone.
pub(crate) async fn confirm_if_clear(uow: &mut Uow, id: &str, e: &Editing) -> Result<()> {
    let open: i64 =
        sqlx::query_scalar("select count(*) from order_hold where order_id = $1 and active = 1")
            .bind(id)
            .fetch_one(&mut *uow.tx)
            .await?;
    sqlx::query("update sales_order set hold_count = $2 where order_id = $1")
        .bind(id)
        .bind(open)
        .execute(&mut *uow.tx)
        .await?;
    if open == 0 && e.status == OrderStatus::Received {
        let next = e
            .status
            .transition(OrderStatus::Confirmed)
            .map_err(transition_error)?;
        sqlx::query("update sales_order set status = $2 where order_id = $1")
            .bind(id)
            .bind(next.as_str())
            .execute(&mut *uow.tx)
            .await?;
        uow.record(
            Change {
                action: "order.confirm",
                entity: "order",
                entity_id: id,
                before: Some(serde_json::json!({"status": "received"})),
                after: Some(serde_json::json!({"status": "confirmed"})),
            },
            Event::OrderConfirmed {
                order_id: id.to_string(),
                number: e.number.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

pub(crate) fn transition_error(e: domain::orders::TransitionError) -> Error {
    Error::Conflict {
        code: Conflict::InvalidTransition,
        message: e.to_string(),
    }
}
