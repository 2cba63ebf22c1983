//! Stock receipts into bins.

use super::ledger::{check_lines, reference, serial_in_stock};
use super::ledger::{put, Put};
use crate::refs::{bin, line_product, warehouse_ref, ProductRef, WarehouseRef};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    rfc3339,
    uow::{Change, Idempotency, Uow},
};
use domain::{
    events::Event,
    governance::Permission,
    inventory::{self as rules, MovementKind},
    FieldError,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineInput {
    pub sku: String,
    #[schemars(range(min = 1))]
    pub quantity: i64,
    /// ZONE-AISLE-BIN; the receiving dock when absent.
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub warehouse: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[schemars(length(min = 1, max = 1000))]
    pub lines: Vec<ReceiptLineInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedLine {
    pub sku: String,
    pub quantity: i64,
    pub location: String,
    pub lot: String,
    pub expires_on: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: String,
    pub warehouse: String,
    pub reference: Option<String>,
    pub lines: Vec<ReceivedLine>,
    pub received_at: String,
}

/// A receipt line once checked: what goes into which bin.
pub(crate) struct Planned {
    pub product: ProductRef,
    pub quantity: i64,
    pub lot: String,
    pub expires_on: String,
    /// (location id, bin code)
    pub bin: (String, String),
}

#[tracing::instrument(skip_all, fields(warehouse = %input.warehouse))]
pub async fn receive(
    db: &Db,
    ctx: &Ctx,
    input: ReceiptInput,
    idem: Option<&Idempotency>,
) -> Result<Receipt> {
    retrying!(receive_once(db, ctx, input.clone(), idem))
}

async fn receive_once(
    db: &Db,
    ctx: &Ctx,
    input: ReceiptInput,
    idem: Option<&Idempotency>,
) -> Result<Receipt> {
    ctx.require(Permission::InventoryWrite)?;
    check_lines(&input.lines)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", &input.warehouse).await?;
    let reference = reference("reference", input.reference.as_deref())?;
    let mut errors = Vec::new();
    let mut plan: Vec<Planned> = Vec::new();
    for (i, line) in input.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let product = line_product(&mut uow.tx, &f("sku"), &line.sku, false).await;
        let qty = rules::parse_quantity(&f("quantity"), line.quantity);
        let lot = rules::parse_lot(&f("lot"), line.lot.as_deref().unwrap_or(""));
        let expires =
            rules::parse_expiry(&f("expires_on"), line.expires_on.as_deref().unwrap_or(""));
        let location = bin(&mut uow, &wh, &f("location"), line.location.as_deref()).await;
        match (product, qty, lot, expires, location) {
            (Ok(p), Ok(q), Ok(lot), Ok(exp), Ok(loc)) => {
                let repeated = plan.iter().any(|x| x.product.id == p.id && x.lot == lot);
                if p.track_serials && (lot.is_empty() || q != 1) {
                    errors.push(FieldError::new(
                        f(if lot.is_empty() { "lot" } else { "quantity" }),
                        format!("{} is serial-tracked: one line per unit, quantity 1, with its serial number as the lot", p.sku),
                    ));
                } else if p.track_serials
                    && (repeated || serial_in_stock(&mut uow.tx, &p, &lot).await?)
                {
                    errors.push(FieldError::new(
                        f("lot"),
                        format!("serial {lot} of {} is already in stock", p.sku),
                    ));
                } else if p.track_lots && lot.is_empty() {
                    errors.push(FieldError::new(
                        f("lot"),
                        format!(
                            "{} is lot-tracked: enter the lot printed on the case",
                            p.sku
                        ),
                    ));
                } else {
                    plan.push(Planned {
                        product: p,
                        quantity: q,
                        lot,
                        expires_on: exp,
                        bin: loc,
                    });
                }
            }
            (p, q, l, e, loc) => errors.extend(
                [p.err(), q.err(), l.err(), e.err(), loc.err()]
                    .into_iter()
                    .flatten(),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let receipt = post_receipt(&mut uow, wh, &plan, reference).await?;
    uow.remember(&receipt).await?;
    uow.commit().await?;
    Ok(receipt)
}

/// Puts checked receipt lines into their bins, records the receipt, and
/// sources the orders waiting for these products from the new stock, all
/// in the caller's transaction.
pub(crate) async fn post_receipt(
    uow: &mut Uow,
    wh: WarehouseRef,
    plan: &[Planned],
    reference: Option<String>,
) -> Result<Receipt> {
    let id = uuid::Uuid::now_v7().to_string();
    let mut lines = Vec::new();
    let mut skus = Vec::new();
    for Planned {
        product,
        quantity: qty,
        lot,
        expires_on,
        bin: (location_id, location),
    } in plan
    {
        put(
            uow,
            &Put {
                product,
                wh: &wh,
                location_id,
                lot,
                expires_on,
                kind: MovementKind::Receipt,
                reason: None,
                reference: Some(reference.as_deref().unwrap_or(&id)),
            },
            *qty,
        )
        .await?;
        lines.push(ReceivedLine {
            sku: product.sku.clone(),
            quantity: *qty,
            location: location.clone(),
            lot: lot.clone(),
            expires_on: expires_on.clone(),
        });
        if !skus.contains(&product.sku) {
            skus.push(product.sku.clone());
        }
    }
    let receipt = Receipt {
        id: id.clone(),
        warehouse: wh.code.clone(),
        reference: reference.clone(),
        lines,
        received_at: rfc3339(uow.now()),
    };
    uow.record(
        Change {
            action: "stock.receive",
            entity: "receipt",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&receipt).ok(),
        },
        Event::StockReceived {
            warehouse: wh.code,
            reference,
            units: plan.iter().map(|p| p.quantity).sum(),
            skus,
        },
    )
    .await?;
    // Orders waiting for these products are sourced from the new stock in
    // the same transaction.
    let received: Vec<String> = plan.iter().map(|p| p.product.id.clone()).collect();
    crate::fulfillment::sourcing::source_backorders(uow, &received).await?;
    Ok(receipt)
}
