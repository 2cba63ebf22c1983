//! Cycle counts: opened, scanned, submitted and approved or rejected.

use super::ledger::{put, take, Put, Take, Using};
use crate::error::Conflict;
use crate::refs::{find_product, visible_in, warehouse_ref, WarehouseRef};
use crate::sql::Filters;
use crate::uow::next_number;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    page_limit, rfc3339,
    uow::{Change, Uow},
    Page,
};
use domain::{
    events::Event,
    governance::Permission,
    inventory::{self as rules, MovementKind},
    money::Currency,
    views::{Accuracy, CountLine, CycleCount},
    Money,
};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountInput {
    pub warehouse: String,
    pub location: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CountScan {
    /// A SKU or a GTIN as scanned.
    pub code: String,
    /// Units seen with this scan (1 by default); with `set`, the total.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub quantity: Option<i64>,
    /// `quantity` is the total seen, not an addition.
    #[serde(default)]
    pub set: bool,
}

/// Opens a count of one bin, or returns the one already open there, so that
/// scanning a bin on the floor starts or resumes its count.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn open_count(db: &Db, ctx: &Ctx, input: CountInput) -> Result<CycleCount> {
    ctx.require(Permission::InventoryWrite)?;
    // An agent scoped to one warehouse may leave it out: the tablet form can
    // be submitted by a wedge scanner before its warehouse field has loaded.
    let warehouse = match (
        input.warehouse.trim(),
        ctx.actor.scope.warehouses.as_slice(),
    ) {
        ("", [only]) => only.clone(),
        ("", _) => {
            return Err(Error::invalid(
                "warehouse",
                "choose the warehouse the bin is in",
            ))
        }
        (code, _) => code.to_string(),
    };
    let mut uow = db.begin(ctx).await?;
    let wh = warehouse_ref(&mut uow.tx, ctx, "warehouse", &warehouse).await?;
    let code = rules::parse_location_code("location", &input.location)?;
    let location_id: String = sqlx::query_scalar(
        "select location_id from location where warehouse_id = $1 and code = $2",
    )
    .bind(&wh.id)
    .bind(&code)
    .fetch_optional(&mut *uow.tx)
    .await?
    .ok_or_else(|| Error::invalid("location", format!("there is no bin {code} in {}", wh.code)))?;
    let (id, opened) = open_count_in(&mut uow, &wh, &location_id, &code).await?;
    let count = load_count(&mut uow.tx, &id).await?;
    if opened {
        uow.commit().await?;
    }
    Ok(count)
}

/// Opens a count of one bin, or finds the one already open. Returns its id
/// and whether it was opened now (recorded and evented in `uow`).
pub(crate) async fn open_count_in(
    uow: &mut Uow,
    wh: &WarehouseRef,
    location_id: &str,
    code: &str,
) -> Result<(String, bool)> {
    let open: Option<String> = sqlx::query_scalar(
        "select count_id from cycle_count where location_id = $1 and status = 'open'",
    )
    .bind(location_id)
    .fetch_optional(&mut *uow.tx)
    .await?;
    if let Some(id) = open {
        return Ok((id, false));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let number = next_number(uow, "count", "CC").await?;
    sqlx::query("insert into cycle_count (count_id, number, warehouse_id, location_id, status, created_by, created_at, version) values ($1, $2, $3, $4, 'open', $5, $6, 1)")
        .bind(&id)
        .bind(&number)
        .bind(&wh.id)
        .bind(location_id)
        .bind(uow.ctx.actor.name.clone())
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    let count = load_count(&mut uow.tx, &id).await?;
    uow.record(
        Change {
            action: "count.open",
            entity: "count",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&count).ok(),
        },
        Event::CountOpened {
            count_id: id.clone(),
            number,
            warehouse: wh.code.clone(),
            location: code.to_string(),
        },
    )
    .await?;
    Ok((id, true))
}

async fn load_count(conn: &mut AnyConnection, id: &str) -> Result<CycleCount> {
    let row = sqlx::query(
        "select c.*, w.code as warehouse, l.code as location from cycle_count c join warehouse w on w.warehouse_id = c.warehouse_id
         join location l on l.location_id = c.location_id where c.count_id = $1 or c.number = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "count",
        key: id.to_string(),
    })?;
    let cid: String = row.try_get("count_id")?;
    let lines = sqlx::query("select p.sku, p.name, l.expected, l.counted from cycle_count_line l join product p on p.product_id = l.product_id where l.count_id = $1 order by p.sku")
        .bind(&cid)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CountLine {
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                expected: r.try_get("expected")?,
                counted: r.try_get("counted")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let currency =
        Currency::parse(rules::VALUATION_CURRENCY).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(CycleCount {
        id: cid,
        number: row.try_get("number")?,
        warehouse: row.try_get("warehouse")?,
        location: row.try_get("location")?,
        status: row.try_get("status")?,
        variance_units: row.try_get("variance_units")?,
        variance_value: Money::from_minor(row.try_get("variance_value_minor")?, currency),
        lines,
        created_by: row.try_get("created_by")?,
        counted_by: row.try_get("counted_by")?,
        decided_by: row.try_get("decided_by")?,
        created_at: rfc3339(row.try_get("created_at")?),
        version: row.try_get("version")?,
    })
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn get_count(db: &Db, ctx: &Ctx, id: &str) -> Result<CycleCount> {
    ctx.require(Permission::InventoryRead)?;
    let mut conn = db.pool.acquire().await?;
    let count = load_count(&mut conn, id).await?;
    visible_in(ctx, &count.warehouse, "count", id)?;
    Ok(count)
}

/// An open count of a bin the actor works in, or why not.
async fn open_count_for(uow: &mut Uow, id: &str) -> Result<CycleCount> {
    let count = load_count(&mut uow.tx, id).await?;
    visible_in(&uow.ctx, &count.warehouse, "count", id)?;
    if count.status != "open" {
        return Err(Error::Conflict {
            code: Conflict::CountNotOpen,
            message: format!(
                "count {} is {}, no longer open",
                count.number,
                count.status.replace('_', " ")
            ),
        });
    }
    Ok(count)
}

/// Records a scan during a count: one more unit (or `quantity`) of the
/// scanned product, or with `set` the total seen.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn count_scan(db: &Db, ctx: &Ctx, id: &str, scan: CountScan) -> Result<CycleCount> {
    ctx.require(Permission::InventoryWrite)?;
    let mut uow = db.begin(ctx).await?;
    let count = open_count_for(&mut uow, id).await?;
    let code = scan.code.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", "scan or type a SKU or barcode"));
    }
    let product: Option<(String, String)> = sqlx::query_as(
        "select product_id, sku from product where (sku = $1 or gtin = $1) and kind = 'item'",
    )
    .bind(code)
    .fetch_optional(&mut *uow.tx)
    .await?;
    let Some((product_id, sku)) = product else {
        return Err(Error::invalid(
            "code",
            format!("`{code}` is not a stock item's SKU or barcode"),
        ));
    };
    let qty = scan.quantity.unwrap_or(1);
    if !(0..=1_000_000).contains(&qty) || (!scan.set && qty == 0) {
        return Err(Error::invalid(
            "quantity",
            "use a whole number from 1 to 1,000,000 (0 allowed when setting a total)",
        ));
    }
    let sql = if scan.set {
        "insert into cycle_count_line (count_id, product_id, expected, counted) values ($1, $2, 0, $3)
         on conflict (count_id, product_id) do update set counted = excluded.counted"
    } else {
        "insert into cycle_count_line (count_id, product_id, expected, counted) values ($1, $2, 0, $3)
         on conflict (count_id, product_id) do update set counted = cycle_count_line.counted + excluded.counted"
    };
    sqlx::query(sql)
        .bind(&count.id)
        .bind(&product_id)
        .bind(qty)
        .execute(&mut *uow.tx)
        .await?;
    // The person behind the scan (a token counts as whoever issued it), so
    // four eyes holds whichever way they later try to approve.
    let ctx = uow.ctx.clone();
    let counted_by = crate::governance::approvals::principal(&mut uow.tx, &ctx).await?;
    sqlx::query(
        "update cycle_count set counted_by = $2, version = version + 1 where count_id = $1",
    )
    .bind(&count.id)
    .bind(counted_by)
    .execute(&mut *uow.tx)
    .await?;
    let after = load_count(&mut uow.tx, &count.id).await?;
    uow.record(
        Change {
            action: "count.scan",
            entity: "count",
            entity_id: &count.id,
            before: serde_json::to_value(&count).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::CountScanned {
            count_id: count.id.clone(),
            number: count.number.clone(),
            sku: sku.clone(),
            counted: after
                .lines
                .iter()
                .find(|l| l.sku == sku)
                .map(|l| l.counted)
                .unwrap_or(0),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

/// Ends counting: what the bin should hold is compared with what was seen.
/// A variance worth more than the threshold waits for a manager; anything
/// smaller is booked at once as count corrections.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn submit_count(db: &Db, ctx: &Ctx, id: &str) -> Result<CycleCount> {
    ctx.require(Permission::InventoryWrite)?;
    retrying!(submit_count_once(db, ctx, id))
}

async fn submit_count_once(db: &Db, ctx: &Ctx, id: &str) -> Result<CycleCount> {
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let count = open_count_for(&mut uow, id).await?;
    // Products the bin holds but nobody scanned were counted as zero.
    sqlx::query(
        "insert into cycle_count_line (count_id, product_id, expected, counted)
         select $1, b.product_id, 0, 0 from stock_balance b join cycle_count c on c.location_id = b.location_id
         where c.count_id = $1 and b.on_hand > 0 group by b.product_id
         on conflict (count_id, product_id) do nothing",
    )
    .bind(&count.id)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query(
        "update cycle_count_line set expected = (select cast(coalesce(sum(b.on_hand), 0) as bigint) from stock_balance b
         join cycle_count c on c.location_id = b.location_id where c.count_id = $1 and b.product_id = cycle_count_line.product_id)
         where count_id = $1",
    )
    .bind(&count.id)
    .execute(&mut *uow.tx)
    .await?;
    let rows = sqlx::query(
        "select l.expected, l.counted, coalesce(pp.cost_minor, 0) as cost from cycle_count_line l
         left join product_price pp on pp.product_id = l.product_id and pp.currency = $2 where l.count_id = $1",
    )
    .bind(&count.id)
    .bind(rules::VALUATION_CURRENCY)
    .fetch_all(&mut *uow.tx)
    .await?;
    let lines = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("expected")?,
                r.try_get("counted")?,
                r.try_get("cost")?,
            ))
        })
        .collect::<Result<Vec<(i64, i64, i64)>>>()?;
    let value = rules::variance_value(&lines);
    let units: i64 = lines.iter().map(|(e, c, _)| c - e).sum();
    let pending = rules::needs_approval(value);
    sqlx::query("update cycle_count set status = $2, variance_units = $3, variance_value_minor = $4, submitted_at = $5, version = version + 1 where count_id = $1")
        .bind(&count.id)
        .bind(if pending { "pending_approval" } else { "posted" })
        .bind(units)
        .bind(value)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    if !pending {
        post_count(&mut uow, &count.id).await?;
    }
    let after = load_count(&mut uow.tx, &count.id).await?;
    uow.record(
        Change {
            action: "count.submit",
            entity: "count",
            entity_id: &count.id,
            before: serde_json::to_value(&count).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        if pending {
            Event::CountSubmitted {
                count_id: count.id.clone(),
                number: count.number.clone(),
                variance_units: units,
                needs_approval: true,
            }
        } else {
            Event::CountPosted {
                count_id: count.id.clone(),
                number: count.number.clone(),
                variance_units: units,
            }
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

/// Books a count's variances as count-correction movements. A shortfall comes
/// out FEFO (and may leave fewer units than are reserved: the count is the
/// truth); a surplus goes to the bin's latest-expiring lot, or no lot.
async fn post_count(uow: &mut Uow, id: &str) -> Result<()> {
    let count = load_count(&mut uow.tx, id).await?;
    let wh = warehouse_ref(&mut uow.tx, &uow.ctx.clone(), "warehouse", &count.warehouse).await?;
    let location_id: String =
        sqlx::query_scalar("select location_id from cycle_count where count_id = $1")
            .bind(&count.id)
            .fetch_one(&mut *uow.tx)
            .await?;
    let mut found = Vec::new();
    for line in count.lines.iter().filter(|l| l.counted != l.expected) {
        let product = find_product(&mut uow.tx, &line.sku).await?.ok_or_else(|| {
            Error::Internal(format!("count line names unknown product {}", line.sku))
        })?;
        let delta = line.counted - line.expected;
        if delta > 0 {
            found.push(product.id.clone());
        }
        if delta < 0 {
            let t = Take {
                product: &product,
                wh: &wh,
                location_id: Some(&location_id),
                lot: None,
                kind: MovementKind::CountCorrection,
                using: Using::Any,
                reason: Some("count"),
                reference: Some(&count.number),
            };
            if take(uow, &t, -delta).await?.is_none() {
                return Err(Error::Conflict {
                    code: Conflict::BinChanged,
                    message: format!(
                        "{} changed in {} since it was counted; recount the bin",
                        line.sku, count.location
                    ),
                });
            }
        } else {
            let lot: Option<(String, String)> = sqlx::query_as(
                "select lot, expires_on from stock_balance where product_id = $1 and location_id = $2 order by expires_on desc, lot desc limit 1",
            )
            .bind(&product.id)
            .bind(&location_id)
            .fetch_optional(&mut *uow.tx)
            .await?;
            let (lot, expires_on) = lot.unwrap_or_default();
            put(
                uow,
                &Put {
                    product: &product,
                    wh: &wh,
                    location_id: &location_id,
                    lot: &lot,
                    expires_on: &expires_on,
                    kind: MovementKind::CountCorrection,
                    reason: Some("count"),
                    reference: Some(&count.number),
                },
                delta,
            )
            .await?;
        }
    }
    crate::fulfillment::sourcing::source_backorders(uow, &found).await?;
    Ok(())
}

/// A manager's decision on a count that waits for approval.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn decide_count(db: &Db, ctx: &Ctx, id: &str, approve: bool) -> Result<CycleCount> {
    ctx.require(Permission::InventoryApprove)?;
    retrying!(decide_count_once(db, ctx, id, approve))
}

async fn decide_count_once(db: &Db, ctx: &Ctx, id: &str, approve: bool) -> Result<CycleCount> {
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing::sourcing_turn(&mut uow).await?;
    let before = load_count(&mut uow.tx, id).await?;
    visible_in(ctx, &before.warehouse, "count", id)?;
    let approver = crate::governance::approvals::principal(&mut uow.tx, ctx).await?;
    domain::governance::second_person(before.counted_by.as_deref(), &approver).map_err(
        |message| Error::Conflict {
            code: Conflict::SelfApproval,
            message: format!("count {}: {message}", before.number),
        },
    )?;
    let done = sqlx::query("update cycle_count set status = $2, decided_by = $3, decided_at = $4, version = version + 1 where count_id = $1 and status = 'pending_approval'")
        .bind(&before.id)
        .bind(if approve { "posted" } else { "rejected" })
        .bind(uow.ctx.actor.name.clone())
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?
        .rows_affected();
    if done != 1 {
        return Err(Error::Conflict {
            code: Conflict::CountNotPending,
            message: format!(
                "count {} is {}, not waiting for approval",
                before.number,
                before.status.replace('_', " ")
            ),
        });
    }
    if approve {
        post_count(&mut uow, &before.id).await?;
    }
    let after = load_count(&mut uow.tx, &before.id).await?;
    uow.record(
        Change {
            action: if approve {
                "count.approve"
            } else {
                "count.reject"
            },
            entity: "count",
            entity_id: &before.id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        if approve {
            Event::CountPosted {
                count_id: before.id.clone(),
                number: before.number.clone(),
                variance_units: before.variance_units,
            }
        } else {
            Event::CountRejected {
                count_id: before.id.clone(),
                number: before.number.clone(),
            }
        },
    )
    .await?;
    uow.commit().await?;
    Ok(after)
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CountFilter {
    pub status: Option<String>,
    pub warehouse: Option<String>,
    /// Submitted on or after this UTC day (`YYYY-MM-DD`); counts still open
    /// have not been submitted and drop out.
    pub submitted_from: Option<String>,
    /// Submitted on or before this UTC day.
    pub submitted_to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Counts, newest first, by status, warehouse and the days they were
/// submitted, within the actor's scope.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_counts(db: &Db, ctx: &Ctx, filter: &CountFilter) -> Result<Page<CycleCount>> {
    ctx.require(Permission::InventoryRead)?;
    let limit = page_limit(filter.limit);
    let (at, after_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    let status = filter.status.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = status {
        if !["open", "pending_approval", "posted", "rejected"].contains(&s) {
            return Err(Error::invalid(
                "status",
                "use open, pending_approval, posted or rejected",
            ));
        }
    }
    let (submitted_from, submitted_until) = crate::day_range(
        ("submitted_from", filter.submitted_from.as_deref()),
        ("submitted_to", filter.submitted_to.as_deref()),
    )?;
    let mut f = Filters::default();
    f.eq("c.status", status);
    f.eq(
        "w.code",
        filter
            .warehouse
            .as_deref()
            .filter(|w| !w.is_empty())
            .map(str::to_uppercase),
    );
    f.past("c.created_at", "c.count_id", "<", at.zip(after_id));
    f.scope(&ctx.actor.scope.warehouses, &["w.code"], false);
    if let Some(from) = submitted_from {
        let p = f.arg(from);
        f.and(format!("c.submitted_at >= {p}"));
    }
    if let Some(until) = submitted_until {
        let p = f.arg(until);
        f.and(format!("c.submitted_at < {p}"));
    }
    let n = f.arg(limit + 1);
    let sql = format!(
        "select c.count_id, c.created_at from cycle_count c join warehouse w on w.warehouse_id = c.warehouse_id
         where {} order by c.created_at desc, c.count_id desc limit {n}",
        f.clause()
    );
    let ids: Vec<(String, i64)> = f.query_as(&sql).fetch_all(&db.pool).await?;
    let mut conn = db.pool.acquire().await?;
    let mut items = Vec::new();
    for (id, _) in ids.iter().take(limit as usize) {
        items.push(load_count(&mut conn, id).await?);
    }
    Ok(Page {
        items,
        next_cursor: crate::time_cursor_after(&ids, limit),
    })
}

/// Inventory accuracy over the last `days`: posted count lines that matched.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn accuracy(db: &Db, ctx: &Ctx, days: i64) -> Result<Accuracy> {
    ctx.require(Permission::InventoryRead)?;
    let since = ctx.now() - days * 86_400_000_000;
    let (counted, exact): (i64, i64) = sqlx::query_as(
        "select cast(count(*) as bigint), cast(coalesce(sum(case when l.counted = l.expected then 1 else 0 end), 0) as bigint)
         from cycle_count_line l join cycle_count c on c.count_id = l.count_id
         where c.status = 'posted' and c.submitted_at >= $1",
    )
    .bind(since)
    .fetch_one(&db.pool)
    .await?;
    Ok(Accuracy {
        days,
        lines_counted: counted,
        lines_exact: exact,
        percent: rules::accuracy_percent(counted, exact),
    })
}
