//! Receiving at the dock: deliveries a supplier announced (or opened blind),
//! received by scan and put away into bins.
//!
//! Invariants:
//! - On an announced delivery a line's received units never exceed what
//!   was announced; an unannounced item or an extra unit is refused and is
//!   received blind instead.
//! - Every putaway is a stock receipt on the ledger (movement, balance,
//!   `stock.received`, backorders sourced) in the same transaction as the
//!   delivery's line, its putaway row and `delivery.put_away`.
//! - What an agent scanned and hasn't put away yet is kept per agent and
//!   delivery (`delivery_scan`), so scans continue across devices and an
//!   offline queue replays them in order; each scan is idempotent by key.

use crate::error::Conflict;
use domain::{
    events::Event,
    governance::Permission,
    gs1, inventory as stock_rules,
    receiving::{self as rules, Pending, ReceiveMove, ReceiveStep, Scan, ScannedItem, Tracking},
    views::{
        Delivery, DeliveryLine, DeliveryPut, DeliverySummary, Page, PendingReceipt, ScanOutcome,
    },
    FieldError,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

/// The request bodies are the domain's; callers name them here.
pub use domain::receiving::{DeliveryInput, DeliveryLineInput};

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    fulfillment::{pick::ScanInput, steps::today},
    inventory::{self, receipts::Planned},
    page_limit, parse_time_cursor,
    refs::{ProductRef, WarehouseRef},
    rfc3339, time_cursor_after,
    uow::{Change, Idempotency, Uow},
};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeliveryFilter {
    pub warehouse: Option<String>,
    /// expected | receiving | closed, or `open` for both of the first two.
    pub status: Option<String>,
    /// Part of the number, supplier or reference.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

const MAX_LINES: usize = 1000;

fn text(field: &str, v: Option<&str>, max: usize) -> Result<String, FieldError> {
    let v = v.map(str::trim).unwrap_or_default();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("use at most {max} printable characters"),
        ));
    }
    Ok(v.to_string())
}

fn date(field: &str, v: Option<&str>) -> Result<String, FieldError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(String::new()),
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(|d| d.format("%Y-%m-%d").to_string())
            .map_err(|_| FieldError::new(field, "use a date as YYYY-MM-DD")),
    }
}

/// Announces a delivery (or opens a blind receipt) for a warehouse.
#[tracing::instrument(skip_all, fields(warehouse = %input.warehouse))]
pub async fn create_delivery(
    db: &Db,
    ctx: &Ctx,
    input: DeliveryInput,
    idem: Option<&Idempotency>,
) -> Result<Delivery> {
    ctx.require(Permission::InventoryWrite)?;
    if input.lines.len() > MAX_LINES {
        return Err(Error::invalid(
            "lines",
            format!("at most {MAX_LINES} lines per delivery"),
        ));
    }
    let id = retrying!(create_once(db, ctx, &input, idem))?;
    get_delivery(db, ctx, &id).await
}

async fn create_once(
    db: &Db,
    ctx: &Ctx,
    input: &DeliveryInput,
    idem: Option<&Idempotency>,
) -> Result<String> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency::<String>(idem).await? {
        return uow.replay(saved).await;
    }
    let wh = crate::refs::warehouse_ref(&mut uow.tx, ctx, "warehouse", &input.warehouse).await?;
    let mut errors = Vec::new();
    let supplier = text("supplier", input.supplier.as_deref(), 120);
    let reference = text("reference", input.reference.as_deref(), 80);
    let expected_on = date("expected_on", input.expected_on.as_deref());
    let mut lines: Vec<(ProductRef, i64)> = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |n: &str| format!("lines[{i}].{n}");
        let product = crate::refs::line_product(&mut uow.tx, &f("sku"), &l.sku, false).await;
        let qty = stock_rules::parse_quantity(&f("quantity"), l.quantity);
        match (product, qty) {
            (Ok(p), Ok(_)) if lines.iter().any(|(x, _)| x.id == p.id) => errors.push(
                FieldError::new(f("sku"), format!("{} is on the delivery twice", p.sku)),
            ),
            (Ok(p), Ok(q)) => lines.push((p, q)),
            (p, q) => errors.extend([p.err(), q.err()].into_iter().flatten()),
        }
    }
    let (supplier, reference, expected_on) = match (supplier, reference, expected_on) {
        (Ok(s), Ok(r), Ok(d)) if errors.is_empty() => (s, r, d),
        (s, r, d) => {
            errors.extend([s.err(), r.err(), d.err()].into_iter().flatten());
            return Err(Error::Invalid(errors));
        }
    };
    let id = uuid::Uuid::now_v7().to_string();
    let number = crate::uow::next_number(&mut uow, "delivery", "DL").await?;
    let blind = lines.is_empty();
    sqlx::query(
        "insert into delivery (delivery_id, number, warehouse_id, supplier, reference, expected_on, blind, status, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&number)
    .bind(&wh.id)
    .bind(&supplier)
    .bind((!reference.is_empty()).then_some(reference.as_str()))
    .bind(&expected_on)
    .bind(i16::from(blind))
    .bind(if blind { "receiving" } else { "expected" })
    .bind(&ctx.actor.name)
    .bind(uow.now())
    .execute(&mut *uow.tx)
    .await?;
    for (n, (p, q)) in lines.iter().enumerate() {
        sqlx::query(
            "insert into delivery_line (delivery_id, line_no, product_id, expected) values ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(n as i64 + 1)
        .bind(&p.id)
        .bind(q)
        .execute(&mut *uow.tx)
        .await?;
    }
    let after = load(&mut uow.tx, &ctx.actor.name, &id).await?;
    uow.record(
        Change {
            action: "delivery.create",
            entity: "delivery",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&after).ok(),
        },
        Event::DeliveryExpected {
            delivery_id: id.clone(),
            number,
            warehouse: wh.code,
            supplier,
            blind,
            units: lines.iter().map(|(_, q)| q).sum(),
        },
    )
    .await?;
    uow.remember(&id).await?;
    uow.commit().await?;
    Ok(id)
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_deliveries(
    db: &Db,
    ctx: &Ctx,
    filter: &DeliveryFilter,
) -> Result<Page<DeliverySummary>> {
    ctx.require(Permission::FloorUse)?;
    let limit = page_limit(filter.limit);
    let (at, after) = parse_time_cursor(filter.cursor.as_deref())?;
    let status = filter
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(s) = status {
        if !["expected", "receiving", "closed", "open"].contains(&s) {
            return Err(Error::invalid(
                "status",
                "use expected, receiving, closed or open",
            ));
        }
    }
    let warehouse = filter
        .warehouse
        .as_deref()
        .map(|w| w.trim().to_ascii_uppercase())
        .filter(|w| !w.is_empty());
    let q = filter
        .q
        .as_deref()
        .map(|q| format!("%{}%", q.trim().to_lowercase()))
        .filter(|q| q.len() > 2);
    let mut f = crate::sql::Filters::default();
    f.eq("w.code", warehouse);
    match status {
        // Open is every delivery not yet closed.
        Some("open") => f.and("d.status <> 'closed'"),
        s => f.eq("d.status", s),
    }
    f.scope(&ctx.actor.scope.warehouses, &["w.code"], false);
    f.like_any(
        &[
            "lower(d.number)",
            "lower(d.supplier)",
            "lower(coalesce(d.reference, ''))",
        ],
        q,
    );
    f.past("d.created_at", "d.delivery_id", "<", at.zip(after));
    let n = f.arg(limit + 1);
    let sql = format!(
        "{SUMMARY} where {} order by d.created_at desc, d.delivery_id desc limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for r in &rows {
        let s = summary(r)?;
        keys.push((s.id.clone(), r.try_get("created_at")?));
        items.push(s);
    }
    let next_cursor = time_cursor_after(&keys, limit);
    items.truncate(limit as usize);
    Ok(Page { items, next_cursor })
}

const SUMMARY: &str = "select d.delivery_id, d.number, w.code as warehouse, d.supplier, d.reference, d.expected_on, d.blind, d.status, d.created_at, d.closed_at,
        (select cast(coalesce(sum(l.expected), 0) as bigint) from delivery_line l where l.delivery_id = d.delivery_id) as units_expected,
        (select cast(coalesce(sum(l.received), 0) as bigint) from delivery_line l where l.delivery_id = d.delivery_id) as units_received
     from delivery d join warehouse w on w.warehouse_id = d.warehouse_id";

fn summary(r: &sqlx::any::AnyRow) -> Result<DeliverySummary> {
    Ok(DeliverySummary {
        id: r.try_get("delivery_id")?,
        number: r.try_get("number")?,
        warehouse: r.try_get("warehouse")?,
        supplier: r.try_get("supplier")?,
        reference: r.try_get("reference")?,
        expected_on: r.try_get("expected_on")?,
        blind: r.try_get::<i16, _>("blind")? == 1,
        status: r.try_get("status")?,
        units_expected: r.try_get("units_expected")?,
        units_received: r.try_get("units_received")?,
        created_at: rfc3339(r.try_get("created_at")?),
    })
}

/// A delivery by id or number, with the caller's pending scan.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_delivery(db: &Db, ctx: &Ctx, id: &str) -> Result<Delivery> {
    ctx.require(Permission::FloorUse)?;
    let mut conn = db.pool.acquire().await?;
    let d = load(&mut conn, &ctx.actor.name, id).await?;
    crate::refs::visible_in(ctx, &d.summary.warehouse, "delivery", id)?;
    Ok(d)
}

async fn load(conn: &mut AnyConnection, agent: &str, id: &str) -> Result<Delivery> {
    let row = sqlx::query(&format!(
        "{SUMMARY} where d.delivery_id = $1 or d.number = $1"
    ))
    .bind(id.trim())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "delivery",
        key: id.to_string(),
    })?;
    let summary = summary(&row)?;
    let closed_at: Option<i64> = row.try_get("closed_at")?;
    let lines = sqlx::query(
        "select p.sku, p.name, l.expected, l.received from delivery_line l join product p on p.product_id = l.product_id
         where l.delivery_id = $1 order by l.line_no",
    )
    .bind(&summary.id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(DeliveryLine {
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            expected: r.try_get("expected")?,
            received: r.try_get("received")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let puts = sqlx::query(
        "select p.sku, x.lot, x.expires_on, x.quantity, l.code, coalesce(u.name, x.put_by) as put_by, x.put_at
         from delivery_put x join product p on p.product_id = x.product_id
         join location l on l.location_id = x.location_id
         left join app_user u on u.email = x.put_by
         where x.delivery_id = $1 order by x.put_at desc, x.put_id desc",
    )
    .bind(&summary.id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(DeliveryPut {
            sku: r.try_get("sku")?,
            lot: r.try_get("lot")?,
            expires_on: r.try_get("expires_on")?,
            quantity: r.try_get("quantity")?,
            location: r.try_get("code")?,
            put_by: r.try_get("put_by")?,
            put_at: rfc3339(r.try_get("put_at")?),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let pending = match sqlx::query(
        "select s.step, p.sku, p.name, s.lot, s.expires_on, s.quantity, s.product_id, d.warehouse_id
         from delivery_scan s join product p on p.product_id = s.product_id
         join delivery d on d.delivery_id = s.delivery_id
         where s.delivery_id = $1 and s.agent = $2",
    )
    .bind(&summary.id)
    .bind(agent)
    .fetch_optional(&mut *conn)
    .await?
    {
        None => None,
        Some(r) => {
            // Where the item already lives, so like goes with like.
            let suggested_bin: Option<String> = sqlx::query_scalar(
                "select l.code from stock_balance b join location l on l.location_id = b.location_id
                 where b.product_id = $1 and l.warehouse_id = $2 and l.active = 1 and b.on_hand > 0 and l.code <> $3
                 order by b.on_hand desc, l.code limit 1",
            )
            .bind(r.try_get::<String, _>("product_id")?)
            .bind(r.try_get::<String, _>("warehouse_id")?)
            .bind(stock_rules::RECEIVING_LOCATION)
            .fetch_optional(&mut *conn)
            .await?;
            Some(PendingReceipt {
                step: r.try_get("step")?,
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                lot: r.try_get("lot")?,
                expires_on: r.try_get("expires_on")?,
                quantity: r.try_get("quantity")?,
                suggested_bin,
            })
        }
    };
    Ok(Delivery {
        summary,
        lines,
        puts,
        pending,
        closed_at: closed_at.map(rfc3339),
    })
}

/// The delivery's row as a scan needs it.
struct Open {
    id: String,
    number: String,
    wh: WarehouseRef,
    blind: bool,
    status: String,
}

async fn open_delivery(uow: &mut Uow, id: &str) -> Result<Open> {
    let row = sqlx::query(
        "select d.delivery_id, d.number, d.blind, d.status, w.warehouse_id, w.code
         from delivery d join warehouse w on w.warehouse_id = d.warehouse_id
         where d.delivery_id = $1 or d.number = $1",
    )
    .bind(id.trim())
    .fetch_optional(&mut *uow.tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "delivery",
        key: id.to_string(),
    })?;
    let open = Open {
        id: row.try_get("delivery_id")?,
        number: row.try_get("number")?,
        wh: WarehouseRef {
            id: row.try_get("warehouse_id")?,
            code: row.try_get("code")?,
        },
        blind: row.try_get::<i16, _>("blind")? == 1,
        status: row.try_get("status")?,
    };
    crate::refs::visible_in(&uow.ctx, &open.wh.code, "delivery", id)?;
    if open.status == "closed" {
        return Err(Error::Conflict {
            code: Conflict::DeliveryClosed,
            message: format!(
                "delivery {} is closed; nothing more is received on it",
                open.number
            ),
        });
    }
    Ok(open)
}

/// The forms a product's stored GTIN may take for the GTIN-14 of a GS1
/// barcode: GTIN-13, -12 and -8 are the same number padded with leading
/// zeros, so only zeros may be dropped.
fn gtin_forms(g14: &str) -> [String; 4] {
    [0, 1, 2, 6].map(|n| match g14.get(..n) {
        Some(pad) if pad.bytes().all(|b| b == b'0') => g14[n..].to_string(),
        _ => g14.to_string(),
    })
}

/// What the delivery expects of a product: `None` blind; `Some(None)` when
/// an announced delivery doesn't carry it; else the units still open.
async fn expectation(
    conn: &mut AnyConnection,
    d: &Open,
    product_id: &str,
) -> Result<Option<Option<i64>>> {
    if d.blind {
        return Ok(None);
    }
    let open: Option<i64> = sqlx::query_scalar(
        "select expected - received from delivery_line where delivery_id = $1 and product_id = $2",
    )
    .bind(&d.id)
    .bind(product_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(Some(open))
}

/// Looks a code up as an item (SKU, GTIN or GS1 element string) and as a
/// bin of the delivery's warehouse.
async fn resolve(
    conn: &mut AnyConnection,
    d: &Open,
    code: &str,
) -> Result<(Scan, Option<ProductRef>)> {
    let mut scan = Scan {
        raw: code.to_string(),
        ..Default::default()
    };
    let cols = "select product_id, sku, kind, track_lots from product";
    let (row, gs1) = match gs1::parse(code) {
        Some(Err(why)) => {
            scan.unreadable = Some(why);
            return Ok((scan, None));
        }
        Some(Ok(g)) => {
            let row = match &g.gtin {
                Some(g14) => {
                    let [a, b, c, e] = gtin_forms(g14);
                    sqlx::query(&format!("{cols} where gtin in ($1, $2, $3, $4)"))
                        .bind(a)
                        .bind(b)
                        .bind(c)
                        .bind(e)
                        .fetch_optional(&mut *conn)
                        .await?
                }
                None => None,
            };
            (row, Some(g))
        }
        None => (
            sqlx::query(&format!("{cols} where sku = $1 or gtin = $1"))
                .bind(code)
                .fetch_optional(&mut *conn)
                .await?,
            None,
        ),
    };
    let product = row.as_ref().map(ProductRef::from_row).transpose()?;
    if let Some(p) = &product {
        let tracking = match (p.track_serials, p.track_lots) {
            (true, _) => Tracking::Serials,
            (false, true) => Tracking::Lots,
            _ => Tracking::None,
        };
        let (lot, expires_on) = match gs1 {
            Some(g) if tracking == Tracking::Serials => (g.serial.or(g.lot), g.expires_on),
            Some(g) => (g.lot, g.expires_on),
            None => (None, None),
        };
        let expected = expectation(conn, d, &p.id).await?;
        scan.item = Some(ScannedItem {
            sku: p.sku.clone(),
            bundle: p.kind == "bundle",
            tracking,
            lot,
            expires_on,
            open: expected.flatten(),
            on_delivery: expected.is_none_or(|e| e.is_some()),
        });
    }
    let bin: Option<String> = sqlx::query_scalar(
        "select code from location where warehouse_id = $1 and code = $2 and active = 1",
    )
    .bind(&d.wh.id)
    .bind(code.to_ascii_uppercase())
    .fetch_optional(&mut *conn)
    .await?;
    scan.bin = bin;
    Ok((scan, product))
}

/// The caller's pending item on a delivery, with its product.
async fn pending(
    conn: &mut AnyConnection,
    d: &Open,
    agent: &str,
) -> Result<Option<(ReceiveStep, Pending, ProductRef)>> {
    let Some(r) = sqlx::query(
        "select s.step, s.lot, s.expires_on, s.quantity, p.product_id, p.sku, p.kind, p.track_lots
         from delivery_scan s join product p on p.product_id = s.product_id
         where s.delivery_id = $1 and s.agent = $2",
    )
    .bind(&d.id)
    .bind(agent)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let product = ProductRef::from_row(&r)?;
    let step: String = r.try_get("step")?;
    let step = ReceiveStep::parse(&step)
        .ok_or_else(|| Error::Internal(format!("delivery scan step {step}")))?;
    let open = expectation(conn, d, &product.id).await?.flatten();
    let p = Pending {
        sku: product.sku.clone(),
        lot: r.try_get("lot")?,
        expires_on: r.try_get("expires_on")?,
        quantity: r.try_get("quantity")?,
        open,
        serial: product.track_serials,
    };
    Ok(Some((step, p, product)))
}

/// One scan on a delivery: the item, its lot when needed, a quantity (or
/// the item again, one unit each), then the bin that puts the units away.
#[tracing::instrument(skip_all, fields(delivery = %id))]
pub async fn receive_scan(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    input: ScanInput,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<Delivery>> {
    ctx.require(Permission::FloorUse)?;
    ctx.require(Permission::InventoryWrite)?;
    let code = input.checked("scan an item, a lot, a bin label, or type a quantity")?;
    retrying!(receive_scan_once(db, ctx, id, &code, idem))
}

async fn receive_scan_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    code: &str,
    idem: Option<&Idempotency>,
) -> Result<ScanOutcome<Delivery>> {
    let mut uow = db.begin(ctx).await?;
    // A putaway sources backorders, which takes the sourcing turn; taking it
    // first keeps the lock order the same as every other stock write.
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let d = open_delivery(&mut uow, id).await?;
    let agent = ctx.actor.name.clone();
    let current = pending(&mut uow.tx, &d, &agent).await?;
    let (scan, product) = resolve(&mut uow.tx, &d, code).await?;
    let step = current.as_ref().map_or(ReceiveStep::Item, |c| c.0);
    let mv = rules::receive_scan(
        step,
        current.as_ref().map(|c| &c.1),
        &scan,
        &today(uow.now()),
    );
    let (accepted, message) = match mv {
        Err(message) => (false, message),
        Ok(mv) => apply(&mut uow, &d, current, product, mv).await?,
    };
    // Receiving starts with the first scan that stands; a refused one
    // (a serial already in stock, say) leaves the delivery as it was.
    if accepted && d.status == "expected" {
        sqlx::query("update delivery set status = 'receiving' where delivery_id = $1")
            .bind(&d.id)
            .execute(&mut *uow.tx)
            .await?;
    }
    let outcome = ScanOutcome {
        accepted,
        message,
        state: load(&mut uow.tx, &agent, &d.id).await?,
    };
    uow.remember(&outcome).await?;
    uow.commit().await?;
    Ok(outcome)
}

/// Applies an accepted scan; returns whether it stood and what the agent
/// is told.
async fn apply(
    uow: &mut Uow,
    d: &Open,
    current: Option<(ReceiveStep, Pending, ProductRef)>,
    scanned: Option<ProductRef>,
    mv: ReceiveMove,
) -> Result<(bool, String)> {
    let agent = uow.ctx.actor.name.clone();
    let (step, p) = match (mv, current, scanned) {
        (ReceiveMove::Item { pending, needs_lot }, _, Some(product)) => {
            let step = if needs_lot {
                ReceiveStep::Lot
            } else {
                ReceiveStep::Put
            };
            if !needs_lot && pending.serial {
                if let Some(why) = serial_taken(uow, &product, &pending.lot).await? {
                    return Ok((false, why));
                }
            }
            sqlx::query(
                "insert into delivery_scan (delivery_id, agent, step, product_id, lot, expires_on, quantity) values ($1, $2, $3, $4, $5, $6, 1)",
            )
            .bind(&d.id)
            .bind(&agent)
            .bind(step.as_str())
            .bind(&product.id)
            .bind(&pending.lot)
            .bind(&pending.expires_on)
            .execute(&mut *uow.tx)
            .await?;
            (step, pending)
        }
        (ReceiveMove::PutAway(bin), Some((_, p, product)), _) => {
            return put_away(uow, d, &p, &product, &bin)
                .await
                .map(|m| (true, m));
        }
        (mv, Some((step, mut p, product)), _) => {
            let next = match mv {
                ReceiveMove::Lot(lot) => {
                    if p.serial {
                        if let Some(why) = serial_taken(uow, &product, &lot).await? {
                            return Ok((false, why));
                        }
                    }
                    p.lot = lot;
                    ReceiveStep::Put
                }
                ReceiveMove::Quantity(n) => {
                    p.quantity = n;
                    ReceiveStep::Put
                }
                ReceiveMove::OneMore => {
                    p.quantity += 1;
                    ReceiveStep::Put
                }
                ReceiveMove::Item { .. } | ReceiveMove::PutAway(_) => {
                    return Err(Error::Internal("receiving scan out of step".into()));
                }
            };
            // The step is compared so two devices of one agent can't both apply.
            let updated = sqlx::query(
                "update delivery_scan set step = $3, lot = $4, quantity = $5 where delivery_id = $1 and agent = $2 and step = $6",
            )
            .bind(&d.id)
            .bind(&agent)
            .bind(next.as_str())
            .bind(&p.lot)
            .bind(p.quantity)
            .bind(step.as_str())
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
            if updated != 1 {
                return Err(Error::Conflict {
                    code: Conflict::ScanChanged,
                    message: "this receipt changed on another device; scan again".into(),
                });
            }
            (next, p)
        }
        _ => return Err(Error::Internal("receiving scan without an item".into())),
    };
    uow.record(
        Change {
            action: "delivery.scan",
            entity: "delivery",
            entity_id: &d.id,
            before: None,
            after: serde_json::to_value(&p).ok(),
        },
        Event::DeliveryScanned {
            delivery_id: d.id.clone(),
            number: d.number.clone(),
            step: step.as_str().into(),
            sku: p.sku.clone(),
            quantity: p.quantity,
        },
    )
    .await?;
    Ok((true, rules::prompt(step, &p)))
}

async fn serial_taken(uow: &mut Uow, product: &ProductRef, serial: &str) -> Result<Option<String>> {
    Ok(
        inventory::ledger::serial_in_stock(&mut uow.tx, product, serial)
            .await?
            .then(|| {
                format!(
                    "Serial {serial} of {} is already in stock. Set this unit aside for your lead.",
                    product.sku
                )
            }),
    )
}

async fn put_away(
    uow: &mut Uow,
    d: &Open,
    p: &Pending,
    product: &ProductRef,
    bin_code: &str,
) -> Result<String> {
    let agent = uow.ctx.actor.name.clone();
    let bin = crate::refs::bin(uow, &d.wh, "code", Some(bin_code))
        .await
        .map_err(|e| Error::Invalid(vec![e]))?;
    let n = p.quantity;
    // On an announced delivery the line can't pass what was announced, even
    // with another agent receiving the same item at the same time.
    let line: Option<(i64, i64)> = if d.blind {
        sqlx::query_as(
            "insert into delivery_line (delivery_id, line_no, product_id, expected, received)
             values ($1, (select coalesce(max(line_no), 0) + 1 from delivery_line where delivery_id = $1), $2, 0, $3)
             on conflict (delivery_id, product_id) do update set received = delivery_line.received + excluded.received
             returning expected, received",
        )
        .bind(&d.id)
        .bind(&product.id)
        .bind(n)
        .fetch_optional(&mut *uow.tx)
        .await?
    } else {
        sqlx::query_as(
            "update delivery_line set received = received + $3
             where delivery_id = $1 and product_id = $2 and received + $3 <= expected
             returning expected, received",
        )
        .bind(&d.id)
        .bind(&product.id)
        .bind(n)
        .fetch_optional(&mut *uow.tx)
        .await?
    };
    let Some((expected, received)) = line else {
        return Err(Error::Conflict {
            code: Conflict::OverReceipt,
            message: format!(
                "{} more of {} would pass what delivery {} announced; someone else received them meanwhile. Count again.",
                n, p.sku, d.number
            ),
        });
    };
    let planned = Planned {
        product: product.clone(),
        quantity: n,
        lot: p.lot.clone(),
        expires_on: p.expires_on.clone(),
        bin: bin.clone(),
    };
    inventory::receipts::post_receipt(uow, d.wh.clone(), &[planned], Some(d.number.clone()))
        .await?;
    sqlx::query(
        "insert into delivery_put (put_id, delivery_id, product_id, location_id, lot, expires_on, quantity, put_by, put_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&d.id)
    .bind(&product.id)
    .bind(&bin.0)
    .bind(&p.lot)
    .bind(&p.expires_on)
    .bind(n)
    .bind(&agent)
    .bind(uow.now())
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query("delete from delivery_scan where delivery_id = $1 and agent = $2")
        .bind(&d.id)
        .bind(&agent)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "delivery.put_away",
            entity: "delivery",
            entity_id: &d.id,
            before: Some(serde_json::json!({ "sku": p.sku, "received": received - n })),
            after: Some(serde_json::json!({ "sku": p.sku, "received": received, "location": bin.1, "lot": p.lot })),
        },
        Event::DeliveryPutAway {
            delivery_id: d.id.clone(),
            number: d.number.clone(),
            warehouse: d.wh.code.clone(),
            sku: p.sku.clone(),
            lot: p.lot.clone(),
            location: bin.1.clone(),
            quantity: n,
        },
    )
    .await?;
    let lot = if p.lot.is_empty() {
        String::new()
    } else {
        format!(" (lot {})", p.lot)
    };
    Ok(if d.blind {
        format!(
            "Put {n} × {}{lot} into {}. Scan the next item.",
            p.sku, bin.1
        )
    } else {
        format!(
            "Put {n} × {}{lot} into {}. {received} of {expected} received. Scan the next item.",
            p.sku, bin.1
        )
    })
}

/// Drops the caller's pending item (scanned but not put away); nothing was
/// received, so only the pending row goes.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn clear_scan(db: &Db, ctx: &Ctx, id: &str) -> Result<Delivery> {
    ctx.require(Permission::FloorUse)?;
    retrying!(clear_once(db, ctx, id))
}

async fn clear_once(db: &Db, ctx: &Ctx, id: &str) -> Result<Delivery> {
    let mut uow = db.begin(ctx).await?;
    let d = open_delivery(&mut uow, id).await?;
    let agent = ctx.actor.name.clone();
    if let Some((_, p, _)) = pending(&mut uow.tx, &d, &agent).await? {
        sqlx::query("delete from delivery_scan where delivery_id = $1 and agent = $2")
            .bind(&d.id)
            .bind(&agent)
            .execute(&mut *uow.tx)
            .await?;
        uow.record(
            Change {
                action: "delivery.scan_cleared",
                entity: "delivery",
                entity_id: &d.id,
                before: serde_json::to_value(&p).ok(),
                after: None,
            },
            Event::DeliveryScanned {
                delivery_id: d.id.clone(),
                number: d.number.clone(),
                step: ReceiveStep::Item.as_str().into(),
                sku: p.sku.clone(),
                quantity: 0,
            },
        )
        .await?;
    }
    let out = load(&mut uow.tx, &agent, &d.id).await?;
    uow.commit().await?;
    Ok(out)
}

/// Closes a delivery: nothing more is received on it, and what never came
/// is recorded as short. Items scanned but not put away are dropped.
#[tracing::instrument(skip_all, fields(delivery = %id))]
pub async fn close_delivery(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    idem: Option<&Idempotency>,
) -> Result<Delivery> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(close_once(db, ctx, id, idem))
}

async fn close_once(db: &Db, ctx: &Ctx, id: &str, idem: Option<&Idempotency>) -> Result<Delivery> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let d = open_delivery(&mut uow, id).await?;
    let before = load(&mut uow.tx, &ctx.actor.name, &d.id).await?;
    sqlx::query("delete from delivery_scan where delivery_id = $1")
        .bind(&d.id)
        .execute(&mut *uow.tx)
        .await?;
    let closed = sqlx::query(
        "update delivery set status = 'closed', closed_by = $2, closed_at = $3 where delivery_id = $1 and status <> 'closed'",
    )
    .bind(&d.id)
    .bind(&ctx.actor.name)
    .bind(uow.now())
    .execute(&mut *uow.tx)
    .await?
    .rows_affected();
    if closed != 1 {
        return Err(Error::Conflict {
            code: Conflict::DeliveryClosed,
            message: format!("delivery {} is closed already", d.number),
        });
    }
    let after = load(&mut uow.tx, &ctx.actor.name, &d.id).await?;
    uow.record(
        Change {
            action: "delivery.close",
            entity: "delivery",
            entity_id: &d.id,
            before: serde_json::to_value(&before.summary).ok(),
            after: serde_json::to_value(&after.summary).ok(),
        },
        Event::DeliveryClosed {
            delivery_id: d.id.clone(),
            number: d.number.clone(),
            units_expected: after.summary.units_expected,
            units_received: after.summary.units_received,
            units_short: after.units_short(),
        },
    )
    .await?;
    uow.remember(&after).await?;
    uow.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::gtin_forms;

    #[test]
    fn a_gtin_14_matches_only_its_zero_padded_shorter_forms() {
        let forms = gtin_forms("04006381333931");
        assert_eq!(forms[1], "4006381333931");
        // "006381333931" would be another product's GTIN-12.
        assert_eq!(forms[2], "04006381333931");
        assert_eq!(gtin_forms("00000096385074")[3], "96385074");
    }
}
