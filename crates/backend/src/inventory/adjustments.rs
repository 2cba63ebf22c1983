//! Stock adjustments: found, damaged, written off.

use super::ledger::{put, take, Put, Take, Taken, Using};
use super::ledger::{reference, serial_in_stock, units_at};
use crate::refs::{bin, line_product, warehouse_ref};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    uow::{Change, Idempotency},
};
use domain::{
    events::Event,
    governance::Permission,
    inventory::{self as rules, MovementKind},
    FieldError,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    pub warehouse: String,
    pub sku: String,
    /// Units to add (positive) or remove (negative).
    pub quantity: i64,
    pub reason: String,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    pub expires_on: Option<String>,
    /// `adjustment` (default) or `scrap`, which must remove units.
    #[serde(default)]
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
pub async fn adjust(
    db: &Db,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&Idempotency>,
) -> Result<Adjusted> {
    retrying!(adjust_once(db, ctx, input.clone(), idem))
}

async fn adjust_once(
    db: &Db,
    ctx: &Ctx,
    input: AdjustmentInput,
    idem: Option<&Idempotency>,
) -> Result<Adjusted> {
    ctx.require(Permission::InventoryWrite)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
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
    if input.quantity == 0 || input.quantity.abs() > 1_000_000 {
        errors.push(FieldError::new(
            "quantity",
            "use a whole number from -1,000,000 to 1,000,000, not 0",
        ));
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
    let location = bin(&mut uow, &wh, "location", input.location.as_deref())
        .await
        .map_err(|e| errors.push(e))
        .ok();
    if let Some(p) = &product {
        if p.track_lots && input.quantity > 0 && lot.is_empty() {
            errors.push(FieldError::new(
                "lot",
                format!("{} is lot-tracked: name the lot", p.sku),
            ));
        }
        if p.track_serials && input.quantity > 1 {
            errors.push(FieldError::new(
                "quantity",
                format!("{} is serial-tracked: add one serial at a time", p.sku),
            ));
        }
        if p.track_serials
            && input.quantity > 0
            && !lot.is_empty()
            && serial_in_stock(&mut uow.tx, p, &lot).await?
        {
            errors.push(FieldError::new(
                "lot",
                format!("serial {lot} of {} is already in stock", p.sku),
            ));
        }
    }
    let (Some(product), Some((location_id, location_code)), true) =
        (product, location, errors.is_empty())
    else {
        return Err(Error::Invalid(errors));
    };
    let reason = input.reason.trim().to_string();
    let id = uuid::Uuid::now_v7().to_string();
    let bins = if input.quantity > 0 {
        put(
            &mut uow,
            &Put {
                product: &product,
                wh: &wh,
                location_id: &location_id,
                lot: &lot,
                expires_on: &expires,
                kind,
                reason: Some(&reason),
                reference: note.as_deref(),
            },
            input.quantity,
        )
        .await?;
        vec![Taken {
            location: location_code.clone(),
            lot: lot.clone(),
            expires_on: expires.clone(),
            quantity: input.quantity,
        }]
    } else {
        let t = Take {
            product: &product,
            wh: &wh,
            location_id: Some(&location_id),
            lot: (!lot.is_empty()).then_some(lot.as_str()),
            kind,
            using: Using::Unreserved,
            reason: Some(&reason),
            reference: note.as_deref(),
        };
        match take(&mut uow, &t, -input.quantity).await? {
            Some(bins) => bins,
            None => {
                let (bin_units, spare) = units_at(&mut uow.tx, &product, &wh, &location_id).await?;
                return Err(Error::invalid(
                    "quantity",
                    format!(
                        "can't remove {}: {location_code} holds {bin_units} and {} has {spare} unreserved in total",
                        -input.quantity, wh.code
                    ),
                ));
            }
        }
    };
    let adjusted = Adjusted {
        id: id.clone(),
        sku: product.sku.clone(),
        warehouse: wh.code.clone(),
        kind,
        quantity: input.quantity,
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
            quantity: input.quantity,
            reason,
        },
    )
    .await?;
    if input.quantity > 0 {
        crate::fulfillment::sourcing::source_backorders(
            &mut uow,
            std::slice::from_ref(&product.id),
        )
        .await?;
    }
    uow.remember(&adjusted).await?;
    uow.commit().await?;
    Ok(adjusted)
}
