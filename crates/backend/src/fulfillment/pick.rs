//! Picking by scan (bin, item, quantity), and short picks that write the bin
//! off, open a count and source the units again.

use super::steps::{gtin14s, reduce_allocation, reduce_line, today};
use super::waves::load_wave;
use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    inventory::{self, ledger::Take, ledger::Using},
    refs::{ProductRef, WarehouseRef},
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::Event,
    fulfillment::{self as rules, PickMove, PickStep, PickTarget, ShortReason},
    governance::Permission,
    inventory::MovementKind,
    views::{PickTask, ScanOutcome, Wave},
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanInput {
    /// What the scanner sent (or the agent typed): a bin label, an item's
    /// SKU, GTIN or GS1 element string, or at the quantity step a number.
    #[schemars(length(max = 200))]
    pub code: String,
}

impl ScanInput {
    /// The code trimmed, or what to scan instead when it is empty or longer
    /// than any label Keel reads.
    pub(crate) fn checked(&self, what_to_scan: &str) -> Result<String> {
        let code = self.code.trim();
        if code.is_empty() || code.len() > 200 {
            return Err(Error::invalid("code", what_to_scan));
        }
        Ok(code.to_string())
    }
}

/// The missing units are written off the bin, a count of the bin is opened, and the order's units are backordered and sourced again.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortInput {
    /// Units the agent did find and take (fewer than the task asks).
    #[schemars(range(min = 0))]
    pub picked: i64,
    #[schemars(extend("enum" = ["not_in_bin", "damaged", "wrong_item_in_bin", "expired"]))]
    pub reason: String,
}

/// The wave's next open task, in walk order.
fn current(wave: &Wave) -> Option<&PickTask> {
    wave.tasks.iter().find(|t| t.status == "open")
}

async fn open_wave(uow: &mut Uow, id: &str) -> Result<Wave> {
    let wave = load_wave(&mut uow.tx, id).await?;
    crate::refs::visible_in(&uow.ctx, &wave.warehouse, "wave", id)?;
    if wave.status != "open" {
        return Err(Error::Conflict {
            code: Conflict::WaveNotOpen,
            message: format!(
                "wave {} is {}; nothing is left to pick",
                wave.number, wave.status
            ),
        });
    }
    Ok(wave)
}

/// One scan at the wave's current task. A wrong bin, item, lot or quantity
/// is refused with what to do instead and changes nothing.
#[tracing::instrument(skip_all, fields(wave = %wave_id))]
pub async fn pick_scan(
    db: &Db,
    ctx: &Ctx,
    wave_id: &str,
    input: ScanInput,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<Wave>> {
    ctx.require(Permission::FloorUse)?;
    let code = input.checked("scan a bin label, an item, or type a quantity")?;
    retrying!(pick_scan_once(db, ctx, wave_id, &code, idem))
}

async fn pick_scan_once(
    db: &Db,
    ctx: &Ctx,
    wave_id: &str,
    code: &str,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<Wave>> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let wave = open_wave(&mut uow, wave_id).await?;
    let task = current(&wave).cloned().ok_or_else(|| Error::Conflict {
        code: Conflict::WaveNotOpen,
        message: format!("wave {} has no task left to pick", wave.number),
    })?;
    let step = PickStep::parse(&task.step)
        .ok_or_else(|| Error::Internal(format!("pick task {} has step {}", task.id, task.step)))?;
    let target = PickTarget {
        location: task.location.clone(),
        sku: task.sku.clone(),
        name: task.name.clone(),
        gtin14: gtin14s(&mut uow.tx, &[task.sku.as_str()])
            .await?
            .remove(&task.sku),
        lot: task.lot.clone(),
        remaining: task.quantity - task.picked - task.short,
    };
    let outcome = match rules::pick_scan(step, &target, code, &today(uow.now())) {
        Err(message) => ScanOutcome {
            accepted: false,
            message,
            state: wave,
        },
        Ok(mv) => {
            let message = apply_pick(&mut uow, &wave, &task, mv).await?;
            ScanOutcome {
                accepted: true,
                message,
                state: load_wave(&mut uow.tx, &wave.id).await?,
            }
        }
    };
    uow.remember(&outcome).await?;
    uow.commit().await?;
    Ok(outcome)
}

/// Applies an accepted scan; returns what the agent is told.
async fn apply_pick(uow: &mut Uow, wave: &Wave, task: &PickTask, mv: PickMove) -> Result<String> {
    let now = uow.now();
    let actor = uow.ctx.actor.name.clone();
    let (next_step, picked, message) = match mv {
        PickMove::AtBin => (
            PickStep::Item,
            0,
            format!(
                "Bin {} confirmed. Scan the item: {} ({}).",
                task.location, task.sku, task.name
            ),
        ),
        PickMove::ItemOk => (
            PickStep::Quantity,
            0,
            format!(
                "{} confirmed. Take {} and enter the quantity.",
                task.sku,
                task.quantity - task.picked - task.short
            ),
        ),
        PickMove::Picked(n) => (PickStep::Quantity, n, String::new()),
    };
    let remaining = task.quantity - task.picked - task.short - picked;
    let done = picked > 0 && remaining == 0;
    // The step is compared so that two devices on one task can't both apply.
    let updated = sqlx::query(
        "update pick_task set step = $3, picked = picked + $4, status = $5,
                picked_by = case when $4 > 0 then $6 else picked_by end,
                picked_at = case when $4 > 0 then $7 else picked_at end
         where task_id = $1 and step = $2 and status = 'open'",
    )
    .bind(&task.id)
    .bind(&task.step)
    .bind(if done {
        PickStep::Bin.as_str()
    } else {
        next_step.as_str()
    })
    .bind(picked)
    .bind(if done { "picked" } else { "open" })
    .bind(&actor)
    .bind(now)
    .execute(&mut *uow.tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(Error::Conflict {
            code: Conflict::TaskChanged,
            message: "this pick changed on another device; scan again".into(),
        });
    }
    let mut message = message;
    if picked > 0 {
        message = if done {
            format!(
                "Picked {} × {} for {}.",
                task.quantity - task.short,
                task.sku,
                task.order_number
            )
        } else {
            format!(
                "{picked} × {} picked; {remaining} still to take from {}.",
                task.sku, task.location
            )
        };
        if done {
            finish_tasks(uow, wave, &task.fulfillment_id).await?;
        }
    }
    uow.record(
        Change {
            action: "pick.scan",
            entity: "pick_task",
            entity_id: &task.id,
            before: Some(serde_json::json!({"step": task.step, "picked": task.picked})),
            after: Some(serde_json::json!({"step": if done { "done" } else { next_step.as_str() }, "picked": task.picked + picked})),
        },
        Event::PickScanned {
            wave_id: wave.id.clone(),
            number: wave.number.clone(),
            task_id: task.id.clone(),
            sku: task.sku.clone(),
            location: task.location.clone(),
            step: match mv {
                PickMove::AtBin => "bin",
                PickMove::ItemOk => "item",
                PickMove::Picked(_) => "quantity",
            }
            .into(),
            picked,
        },
    )
    .await?;
    Ok(message)
}

/// After a task ends: the fulfilment is picked once none of its tasks is
/// open (cancelled if nothing of it is left), and the wave is done once
/// none of its tasks is.
async fn finish_tasks(uow: &mut Uow, wave: &Wave, fulfillment_id: &str) -> Result<()> {
    let now = uow.now();
    let open: i64 = sqlx::query_scalar(
        "select count(*) from pick_task where fulfillment_id = $1 and status = 'open'",
    )
    .bind(fulfillment_id)
    .fetch_one(&mut *uow.tx)
    .await?;
    if open == 0 {
        let units: i64 = sqlx::query_scalar(
            "select cast(coalesce(sum(quantity), 0) as bigint) from fulfillment_line where fulfillment_id = $1",
        )
        .bind(fulfillment_id)
        .fetch_one(&mut *uow.tx)
        .await?;
        sqlx::query("update fulfillment set status = $2, picked_at = $3, updated_at = $3 where fulfillment_id = $1 and status = 'picking'")
            .bind(fulfillment_id)
            .bind(if units > 0 { "picked" } else { "cancelled" })
            .bind(now)
            .execute(&mut *uow.tx)
            .await?;
    }
    let wave_open: i64 =
        sqlx::query_scalar("select count(*) from pick_task where wave_id = $1 and status = 'open'")
            .bind(&wave.id)
            .fetch_one(&mut *uow.tx)
            .await?;
    if wave_open == 0 {
        sqlx::query("update wave set status = 'done', completed_at = $2 where wave_id = $1 and status = 'open'")
            .bind(&wave.id)
            .bind(now)
            .execute(&mut *uow.tx)
            .await?;
    }
    Ok(())
}

/// The current task came up short: the agent took `picked` units and says
/// why the rest isn't there. The missing units are written off the bin (the
/// ledger shouldn't promise them again), a count of the bin is opened, and
/// the order's units are backordered and sourced again from wherever stock
/// is, in this transaction.
#[tracing::instrument(skip_all, fields(wave = %wave_id))]
pub async fn short_pick(
    db: &Db,
    ctx: &Ctx,
    wave_id: &str,
    input: ShortInput,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<Wave>> {
    ctx.require(Permission::FloorUse)?;
    let reason = ShortReason::parse(&input.reason).ok_or_else(|| {
        Error::invalid(
            "reason",
            format!(
                "choose why the pick is short: {}",
                ShortReason::ALL.map(|r| r.as_str()).join(", ")
            ),
        )
    })?;
    retrying!(short_pick_once(
        db,
        ctx,
        wave_id,
        input.picked,
        reason,
        idem
    ))
}

/// What a short pick touches beyond its task: the order, the product and
/// the bin it was to come from.
struct ShortTask {
    order_id: String,
    order_number: String,
    reservation_id: Option<String>,
    product: ProductRef,
    wh: WarehouseRef,
    location_id: String,
}

async fn short_pick_once(
    db: &Db,
    ctx: &Ctx,
    wave_id: &str,
    picked: i64,
    reason: ShortReason,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<Wave>> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let wave = open_wave(&mut uow, wave_id).await?;
    let task = current(&wave).cloned().ok_or_else(|| Error::Conflict {
        code: Conflict::WaveNotOpen,
        message: format!("wave {} has no task left to pick", wave.number),
    })?;
    let remaining = task.quantity - task.picked - task.short;
    if !(0..remaining).contains(&picked) {
        return Err(Error::invalid(
            "picked",
            format!(
                "enter the units you did take, 0 to {}; if all {remaining} are there, confirm the quantity instead",
                remaining - 1
            ),
        ));
    }
    let short = remaining - picked;
    let at = short_task(&mut uow, &task).await?;
    mark_short(&mut uow, &task, picked, short, reason).await?;
    let why = format!("short pick: {}", reason.label().to_lowercase());
    write_off_short(&mut uow, &at, &task, short, &why, reason.empties_bin()).await?;
    backorder_short(&mut uow, &at.order_id, &task, short).await?;
    let (count_id, _) =
        inventory::counts::open_count_in(&mut uow, &at.wh, &at.location_id, &task.location).await?;
    let count_number: String =
        sqlx::query_scalar("select number from cycle_count where count_id = $1")
            .bind(&count_id)
            .fetch_one(&mut *uow.tx)
            .await?;
    finish_tasks(&mut uow, &wave, &task.fulfillment_id).await?;
    let sourced = crate::fulfillment::sourcing::source_backorders(
        &mut uow,
        std::slice::from_ref(&at.product.id),
    )
    .await?;
    uow.record(
        Change {
            action: "pick.short",
            entity: "pick_task",
            entity_id: &task.id,
            before: Some(serde_json::json!({"picked": task.picked, "short": task.short})),
            after: Some(serde_json::json!({"picked": task.picked + picked, "short": task.short + short, "reason": reason.as_str(), "count": count_number})),
        },
        Event::PickShorted {
            wave_id: wave.id.clone(),
            number: wave.number.clone(),
            task_id: task.id.clone(),
            order_number: at.order_number.clone(),
            sku: task.sku.clone(),
            location: task.location.clone(),
            short,
            reason: reason.as_str().into(),
            count_number: count_number.clone(),
        },
    )
    .await?;
    let again = if sourced.units > 0 {
        "sourced again"
    } else {
        "backordered until stock arrives"
    };
    let outcome = ScanOutcome {
        accepted: true,
        message: format!(
            "Short {short} × {} at {}: count {count_number} opened for the bin, and the missing units are {again}.",
            task.sku, task.location
        ),
        state: load_wave(&mut uow.tx, &wave.id).await?,
    };
    uow.remember(&outcome).await?;
    uow.commit().await?;
    Ok(outcome)
}

/// Reads what the short task touches. A bundle's component is refused: a
/// missing component leaves whole bundle units short across several tasks,
/// which is not planned here yet.
async fn short_task(uow: &mut Uow, task: &PickTask) -> Result<ShortTask> {
    let row = sqlx::query(
        "select f.order_id, o.number, o.reservation_id, f.warehouse_id, w.code as warehouse, ol.product_id as line_product,
                t.product_id, t.location_id, t.lot, p.kind, p.track_lots
         from pick_task t join fulfillment f on f.fulfillment_id = t.fulfillment_id
         join sales_order o on o.order_id = f.order_id join warehouse w on w.warehouse_id = f.warehouse_id
         join order_line ol on ol.order_id = f.order_id and ol.line_no = t.line_no
         join product p on p.product_id = t.product_id where t.task_id = $1",
    )
    .bind(&task.id)
    .fetch_one(&mut *uow.tx)
    .await?;
    let product_id: String = row.try_get("product_id")?;
    if row.try_get::<String, _>("line_product")? != product_id {
        return Err(Error::Conflict {
            code: Conflict::ShortBundle,
            message: format!(
                "{} is part of a bundle; short-picking bundle components is not supported yet: set the order aside and tell a lead",
                task.sku
            ),
        });
    }
    Ok(ShortTask {
        order_id: row.try_get("order_id")?,
        order_number: row.try_get("number")?,
        reservation_id: row.try_get("reservation_id")?,
        product: ProductRef {
            id: product_id,
            sku: task.sku.clone(),
            kind: row.try_get("kind")?,
            track_lots: row.try_get::<i16, _>("track_lots")? == 1,
            track_serials: false,
        },
        wh: WarehouseRef {
            id: row.try_get("warehouse_id")?,
            code: row.try_get("warehouse")?,
        },
        location_id: row.try_get("location_id")?,
    })
}

/// Closes the task with what was taken and what is short. Another device
/// that got there first wins: the agent scans again.
async fn mark_short(
    uow: &mut Uow,
    task: &PickTask,
    picked: i64,
    short: i64,
    reason: ShortReason,
) -> Result<()> {
    let (now, actor) = (uow.now(), uow.ctx.actor.name.clone());
    let updated = sqlx::query(
        "update pick_task set picked = picked + $2, short = short + $3, status = 'picked', step = 'bin', short_reason = $4,
                picked_by = $5, picked_at = $6 where task_id = $1 and status = 'open'",
    )
    .bind(&task.id)
    .bind(picked)
    .bind(short)
    .bind(reason.as_str())
    .bind(&actor)
    .bind(now)
    .execute(&mut *uow.tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(Error::Conflict {
            code: Conflict::TaskChanged,
            message: "this pick changed on another device; scan again".into(),
        });
    }
    Ok(())
}

/// The missing units leave the bin on the ledger and the reservation; when
/// the reason says the bin is empty, the rest of it is written off too.
async fn write_off_short(
    uow: &mut Uow,
    at: &ShortTask,
    task: &PickTask,
    short: i64,
    why: &str,
    empties_bin: bool,
) -> Result<()> {
    let took = inventory::ledger::take(
        uow,
        &Take {
            product: &at.product,
            wh: &at.wh,
            location_id: Some(&at.location_id),
            lot: Some(&task.lot),
            kind: MovementKind::Adjustment,
            using: Using::Reserved,
            reason: Some(why),
            reference: Some(&at.order_number),
        },
        short,
    )
    .await?;
    if took.is_none() {
        // The bin was already corrected below the task (a count posted
        // meanwhile); only the reservation lets go.
        sqlx::query("update stock_level set reserved = reserved - $3 where product_id = $1 and warehouse_id = $2 and reserved >= $3")
            .bind(&at.product.id)
            .bind(&at.wh.id)
            .bind(short)
            .execute(&mut *uow.tx)
            .await?;
    }
    if empties_bin {
        write_off_rest(
            uow,
            &at.product,
            &at.wh,
            &at.location_id,
            &task.lot,
            why,
            &at.order_number,
        )
        .await?;
    }
    if let Some(r) = &at.reservation_id {
        reduce_allocation(uow, r, task.line_no, &at.product.id, &at.wh.id, short).await?;
        reduce_line(uow, r, task.line_no, short).await?;
    }
    Ok(())
}

/// The order's short units leave this fulfilment and wait for stock.
async fn backorder_short(uow: &mut Uow, order_id: &str, task: &PickTask, short: i64) -> Result<()> {
    // Delete first: the update's condition reads the quantity before it.
    sqlx::query("delete from fulfillment_line where fulfillment_id = $1 and line_no = $2 and quantity <= $3")
        .bind(&task.fulfillment_id)
        .bind(task.line_no)
        .bind(short)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update fulfillment_line set quantity = quantity - $3 where fulfillment_id = $1 and line_no = $2 and quantity > $3")
        .bind(&task.fulfillment_id)
        .bind(task.line_no)
        .bind(short)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update order_line set backordered_quantity = backordered_quantity + $3 where order_id = $1 and line_no = $2")
        .bind(order_id)
        .bind(task.line_no)
        .bind(short)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query(
        "update sales_order set backordered_units = backordered_units + $2 where order_id = $1",
    )
    .bind(order_id)
    .bind(short)
    .execute(&mut *uow.tx)
    .await?;
    Ok(())
}

/// Writes off what the ledger still shows in a bin (one product and lot)
/// beyond the units picked and waiting to ship: an agent found it missing.
/// Other orders' open picks from the bin then come up short too, and the
/// count opened for the bin settles what is really there.
async fn write_off_rest(
    uow: &mut Uow,
    product: &ProductRef,
    wh: &WarehouseRef,
    location_id: &str,
    lot: &str,
    why: &str,
    reference: &str,
) -> Result<()> {
    let on_hand: Option<i64> = sqlx::query_scalar(
        "select on_hand from stock_balance where product_id = $1 and location_id = $2 and lot = $3",
    )
    .bind(&product.id)
    .bind(location_id)
    .bind(lot)
    .fetch_optional(&mut *uow.tx)
    .await?;
    let held: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(picked), 0) as bigint) from pick_task where product_id = $1 and location_id = $2 and lot = $3 and status = 'picked'",
    )
    .bind(&product.id)
    .bind(location_id)
    .bind(lot)
    .fetch_one(&mut *uow.tx)
    .await?;
    let rest = on_hand.unwrap_or(0) - held;
    if rest > 0 {
        let t = Take {
            product,
            wh,
            location_id: Some(location_id),
            lot: Some(lot),
            kind: MovementKind::Adjustment,
            using: Using::Any,
            reason: Some(why),
            reference: Some(reference),
        };
        inventory::ledger::take(uow, &t, rest).await?;
    }
    Ok(())
}

/// A fresh key for one scan form: a resubmitted form (a double tap, a
/// reload) replays its first answer instead of scanning twice.
pub fn scan_key() -> String {
    uuid::Uuid::now_v7().to_string()
}
