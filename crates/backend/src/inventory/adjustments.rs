//! Stock adjustments: found, damaged, written off.

use super::ledger::{put, take, Put, Take, Taken, Using};
use super::ledger::{reference, serial_in_stock, units_at};
use crate::governance::approvals::{self, Outcome};
use crate::refs::{bin, line_product, warehouse_ref, ProductRef, WarehouseRef};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::Event,
    governance::{approvals::ApprovalKind, Permission},
    inventory::{self as rules, MovementKind},
    FieldError,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub warehouse: String,
    pub sku: String,
    /// Never below what is reserved.
    /// Units to add (positive) or remove (negative).
    #[schemars(range(min = -1_000_000, max = 1_000_000))]
    pub quantity: i64,
    #[schemars(extend("enum" = ["damaged", "found", "lost", "theft", "expired", "data_correction", "other"]))]
    pub reason: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub expires_on: Option<String>,
    /// `adjustment` (default) or `scrap`, which must remove units.
    #[serde(default)]
    #[schemars(extend("enum" = ["adjustment", "scrap"]))]
    pub kind: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjusted {
    pub id: String,
    pub sku: String,
    pub warehouse: String,
    pub kind: MovementKind,
    pub quantity: i64,
    pub reason: String,
    pub bins: Vec<Taken>,
}

#[tracing::instrument(skip_all, fields(sku = %input.sku))]
/// A manual adjustment. One worth more at cost than the `stock_adjustment`
/// policy's threshold waits for a second person with `inventory.approve`.
pub async fn adjust(
    db: &Db,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&Idempotency>,
) -> Result<Outcome<Adjusted>> {
    retrying!(adjust_once(db, ctx, input.clone(), idem))
}

/// A held adjustment, applied in the approver's transaction: checked again
/// against the stock as it is now.
pub(crate) async fn apply_held(uow: &mut Uow, payload: &serde_json::Value) -> Result<()> {
    let input: AdjustmentInput = serde_json::from_value(payload.clone())
        .map_err(|e| Error::Internal(format!("a held adjustment can't be read: {e}")))?;
    let ctx = uow.ctx.clone();
    let c = check(uow, &ctx, &input).await?;
    apply(uow, c, input.quantity).await.map(|_| ())
}

/// The value at cost of moving `units` of a product, for the policy.
async fn unit_cost(uow: &mut Uow, product_id: &str) -> Result<i64> {
    let cost: Option<i64> = sqlx::query_scalar(
        "select cost_minor from product_price where product_id = $1 and currency = $2",
    )
    .bind(product_id)
    .bind(rules::VALUATION_CURRENCY)
    .fetch_optional(&mut *uow.tx)
    .await?;
    Ok(cost.unwrap_or(0))
}

/// An adjustment whose every field checked out against the store.
struct Checked {
    wh: WarehouseRef,
    product: ProductRef,
    kind: MovementKind,
    location_id: String,
    location_code: String,
    lot: String,
    expires: String,
    note: Option<String>,
    reason: String,
}

async fn adjust_once(
    db: &Db,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&Idempotency>,
) -> Result<Outcome<Adjusted>> {
    ctx.require(Permission::InventoryWrite)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let c = check(&mut uow, ctx, &input).await?;
    let cost = unit_cost(&mut uow, &c.product.id).await?;
    if approvals::applies_to(ctx)
        && approvals::policy(&mut uow.tx, ApprovalKind::StockAdjustment)
            .await?
            .holds_adjustment(input.quantity, cost)
    {
        let value = domain::money::Money::from_minor(
            input.quantity.saturating_abs().saturating_mul(cost),
            domain::money::Currency::parse(rules::VALUATION_CURRENCY)
                .map_err(|e| Error::Internal(e.to_string()))?,
        );
        let summary = format!(
            "{} in {}: {:+} units ({}), {value} at cost",
            c.product.sku, c.wh.code, input.quantity, c.reason
        );
        let payload = serde_json::to_value(&input).map_err(|e| Error::Internal(e.to_string()))?;
        let held =
            approvals::hold(&mut uow, ApprovalKind::StockAdjustment, summary, payload).await?;
        let outcome = Outcome::Held(Box::new(held));
        uow.remember(&outcome).await?;
        uow.commit().await?;
        return Ok(outcome);
    }
    let adjusted = apply(&mut uow, c, input.quantity).await?;
    let outcome = Outcome::Applied(adjusted);
    uow.remember(&outcome).await?;
    uow.commit().await?;
    Ok(outcome)
}

/// Moves the units, records the change and sources backorders a find frees.
async fn apply(uow: &mut Uow, c: Checked, quantity: i64) -> Result<Adjusted> {
    let bins = move_units(uow, &c, quantity).await?;
    let Checked {
        wh,
        product,
        kind,
        location_code,
        reason,
        ..
    } = c;
    let id = uuid::Uuid::now_v7().to_string();
    let adjusted = Adjusted {
        id: id.clone(),
        sku: product.sku.clone(),
        warehouse: wh.code.clone(),
        kind,
        quantity,
        reason: reason.clone(),
        bins,
    };
    uow.record(
        Change {
            action: "stock.adjust",
            entity: "product",
            entity_id: &product.id,
            before: None,
            after: serde_json::to_value(&adjusted).ok(),
        },
        Event::StockAdjusted {
            warehouse: wh.code,
            sku: product.sku,
            location: location_code,
            quantity,
            reason,
        },
    )
    .await?;
    if quantity > 0 {
        crate::fulfillment::sourcing::source_backorders(uow, std::slice::from_ref(&product.id))
            .await?;
    }
    Ok(adjusted)
}

/// Checks every field, against the store where it must (the SKU, the bin,
/// a serial already in stock), and collects all the errors at once.
async fn check(uow: &mut Uow, ctx: &Ctx, input: &AdjustmentInput) -> Result<Checked> {
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", &input.warehouse).await?;
    let mut errors = Vec::new();
    let product = line_product(&mut uow.tx, "sku", &input.sku, false)
        .await
        .map_err(|e| errors.push(e))
        .ok();
    let kind = match input.kind.as_deref().unwrap_or("adjustment") {
        "adjustment" => MovementKind::Adjustment,
        "scrap" => MovementKind::Scrap,
        _ => {
            errors.push(FieldError::new("kind", "use adjustment or scrap"));
            MovementKind::Adjustment
        }
    };
    if let Err(e) = domain::inventory::parse_change("quantity", input.quantity) {
        errors.push(e);
    }
    if kind == MovementKind::Scrap && input.quantity > 0 {
        errors.push(FieldError::new(
            "quantity",
            "scrap removes units: use a negative quantity",
        ));
    }
    if !rules::ADJUSTMENT_REASONS.contains(&input.reason.trim()) {
        errors.push(FieldError::new(
            "reason",
            format!("use one of {}", rules::ADJUSTMENT_REASONS.join(", ")),
        ));
    }
    let note = reference("note", input.note.as_deref())
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let lot = rules::parse_lot("lot", input.lot.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let expires = rules::parse_expiry("expires_on", input.expires_on.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let location = bin(uow, &wh, "location", input.location.as_deref())
        .await
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(p) = &product {
        errors.extend(tracking_errors(uow, p, input.quantity, &lot).await?);
    }
    let (Some(product), Some((location_id, location_code)), true) =
        (product, location, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    Ok(Checked {
        wh,
        product,
        kind,
        location_id,
        location_code,
        lot,
        expires,
        note,
        reason: input.reason.trim().to_string(),
    })
}

/// A lot-tracked item is added with its lot; a serial-tracked one one unit
/// at a time, under a serial not already in stock.
async fn tracking_errors(
    uow: &mut Uow,
    p: &ProductRef,
    quantity: i64,
    lot: &str,
) -> Result<Vec<FieldError>> {
    let mut errors = Vec::new();
    if p.track_lots && quantity > 0 && lot.is_empty() {
        errors.push(FieldError::new(
            "lot",
            format!("{} is lot-tracked: name the lot", p.sku),
        ));
    }
    if p.track_serials && quantity > 1 {
        errors.push(FieldError::new(
            "quantity",
            format!("{} is serial-tracked: add one serial at a time", p.sku),
        ));
    }
    if p.track_serials
        && quantity > 0
        && !lot.is_empty()
        && serial_in_stock(&mut uow.tx, p, lot).await?
    {
        errors.push(FieldError::new(
            "lot",
            format!("serial {lot} of {} is already in stock", p.sku),
        ));
    }
    Ok(errors)
}

/// Puts units into the bin, or takes them out of it (never from units
/// promised to orders). Returns the bins and lots that moved.
async fn move_units(uow: &mut Uow, c: &Checked, quantity: i64) -> Result<Vec<Taken>> {
    if quantity > 0 {
        put(
            uow,
            &Put {
                product: &c.product,
                wh: &c.wh,
                location_id: &c.location_id,
                lot: &c.lot,
                expires_on: &c.expires,
                kind: c.kind,
                reason: Some(&c.reason),
                reference: c.note.as_deref(),
            },
            quantity,
        )
        .await?;
        return Ok(vec![Taken {
            location: c.location_code.clone(),
            lot: c.lot.clone(),
            expires_on: c.expires.clone(),
            quantity,
        }]);
    }
    let t = Take {
        product: &c.product,
        wh: &c.wh,
        location_id: Some(&c.location_id),
        lot: (!c.lot.is_empty()).then_some(c.lot.as_str()),
        kind: c.kind,
        using: Using::Unreserved,
        reason: Some(&c.reason),
        reference: c.note.as_deref(),
    };
    match take(uow, &t, -quantity).await? {
        Some(bins) => Ok(bins),
        None => {
            let (bin_units, spare) =
                units_at(&mut uow.tx, &c.product, &c.wh, &c.location_id).await?;
            Err(Error::invalid(
                "quantity",
                format!(
                    "can't remove {}: {} holds {bin_units} and {} has {spare} unreserved in total",
                    -quantity, c.location_code, c.wh.code
                ),
            ))
        }
    }
}
