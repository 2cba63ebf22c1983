//! Order capture: one use case behind the API, the storefront webhooks, the
//! marketplace CSV import and the seeder.

use crate::error::Conflict;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    inventory, orders,
    sql::{Batch, Val},
    uow::{Change, Idempotency, Uow},
};
use domain::views::Order;
use domain::views::{CustomerRef, OrderHold, Reservation};
use domain::{
    events::Event,
    fulfillment::Plan,
    governance::Permission,
    orders::{
        self as capture, CustomerHistory, FraudAssessment, Hold, HoldReason, NewOrder, OrderIn,
        OrderStatus, PaymentStatus, Totals,
    },
    Money,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

/// What capture did: `created` is false for a replay of an order already held.
#[derive(Debug, Clone)]
pub struct Captured {
    pub order: Order,
    pub created: bool,
}

/// A storefront delivery: the platform's delivery id, so a redelivery is
/// answered without doing anything.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub topic: String,
}

#[derive(Serialize, Deserialize)]
struct Remembered {
    order_id: String,
}

enum Outcome {
    /// A new order, as the views show it.
    Created(Box<Order>),
    /// An order captured before (a replay or a redelivery).
    Known(String),
    /// Another transaction captured the same (channel, external id) first.
    Duplicate,
}

/// Captures an order. See the module invariants.
#[tracing::instrument(skip_all, fields(channel = %input.channel, external_id = %input.external_id))]
pub async fn capture(
    db: &Db,
    ctx: &Ctx,
    input: OrderIn,
    idem: Option<&Idempotency>,
    delivery: Option<&Delivery>,
) -> Result<Captured> {
    ctx.require(Permission::OrdersWrite)?;
    let input = priced_from_list(db, input).await?;
    let order = NewOrder::parse(&input)?;
    if !ctx.actor.scope.allows_channel(&order.channel) {
        return Err(Error::OutOfScope {
            what: format!("channel {}", order.channel),
        });
    }
    let known = known(db, &order).await?;
    let number = number_ahead(db, &order, &known).await?;
    let mut tries = 0u32;
    loop {
        let attempt =
            capture_once(db, ctx, &order, &known, number.as_deref(), idem, delivery).await;
        match attempt {
            Ok(Outcome::Created(order)) => {
                return Ok(Captured {
                    order: *order,
                    created: true,
                })
            }
            Ok(Outcome::Known(id)) => {
                return Ok(Captured {
                    order: orders::load(db, ctx, &id).await?,
                    created: false,
                })
            }
            // The loser of a race on the unique key finds the winner's order.
            Ok(Outcome::Duplicate) if tries < 3 => tries += 1,
            Err(e) if e.is_transient() && tries < 8 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(
                    u64::from(tries) * 3 + rand::random::<u64>() % 10,
                ))
                .await;
            }
            Ok(Outcome::Duplicate) => {
                return Err(Error::Conflict {
                    code: Conflict::CaptureConflict,
                    message: "the order is being captured by another request; retry".into(),
                })
            }
            Err(e) => return Err(e),
        }
    }
}

/// Lines sent without a unit price are charged the channel's list price (see
/// `price_list`); a line that has none stays unpriced, and parsing names it.
async fn priced_from_list(db: &Db, mut input: OrderIn) -> Result<OrderIn> {
    let missing: Vec<&str> = input
        .lines
        .iter()
        .filter(|l| l.unit_price.is_none())
        .map(|l| l.sku.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if missing.is_empty() {
        return Ok(input);
    }
    let mut conn = db.pool.acquire().await?;
    let channel = input.channel.trim().to_ascii_uppercase();
    let prices = crate::price_list::prices_for(&mut conn, &channel, &missing).await?;
    for l in input.lines.iter_mut().filter(|l| l.unit_price.is_none()) {
        if let Some((minor, currency)) = prices.get(l.sku.trim()) {
            l.unit_price = Some(capture::AmountIn::Text(
                Money::from_minor(*minor, *currency).amount().to_string(),
            ));
        }
    }
    Ok(input)
}

/// What capture needs to know of the channel: its row, and the tax rate for
/// the order's destination (the region's rule, else the country's). Reference
/// data, read before the write turn so it doesn't lengthen it.
pub(crate) struct Channel {
    pub(crate) id: String,
    pub(crate) currency: String,
    pub(crate) prices_include_tax: bool,
    pub(crate) warehouses: Vec<String>,
    pub(crate) buffer: i64,
    pub(crate) rate: Option<Decimal>,
}

pub(crate) async fn channel_facts(conn: &mut AnyConnection, order: &NewOrder) -> Result<Channel> {
    let row = sqlx::query(
        "select c.channel_id, c.currency, c.prices_include_tax, c.warehouses_json, c.safety_buffer,
            (select t.rate from tax_rule t where t.country = $2 and (t.region = $3 or t.region = '')
              order by length(t.region) desc limit 1) as rate
         from channel c where c.code = $1 and c.active = 1",
    )
    .bind(&order.channel)
    .bind(&order.ship_to.country)
    .bind(&order.ship_to.region)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::invalid("channel", format!("there is no channel {}", order.channel)))?;
    let rate = row
        .try_get::<Option<String>, _>("rate")?
        .map(|r| {
            r.parse::<Decimal>().map_err(|_| {
                Error::Internal(format!(
                    "tax rule rate `{r}` for {} is not a decimal",
                    order.ship_to.country
                ))
            })
        })
        .transpose()?;
    let channel = Channel {
        id: row.try_get("channel_id")?,
        currency: row.try_get("currency")?,
        prices_include_tax: row.try_get::<i16, _>("prices_include_tax")? == 1,
        warehouses: crate::refs::stored_warehouses(
            &order.channel,
            &row.try_get::<String, _>("warehouses_json")?,
        )?,
        buffer: row.try_get("safety_buffer")?,
        rate,
    };
    if channel.currency != order.currency.code() {
        return Err(Error::invalid(
            "currency",
            format!(
                "channel {} sells in {}, not {}",
                order.channel, channel.currency, order.currency
            ),
        ));
    }
    Ok(channel)
}

/// The order already captured under this delivery id, and the order already
/// captured under this external id: read inside the write turn, where the
/// answer can't change before the commit.
pub(crate) async fn seen(
    conn: &mut AnyConnection,
    channel_id: &str,
    external_id: &str,
    delivery: Option<&Delivery>,
) -> Result<(Option<String>, Option<String>)> {
    Ok(sqlx::query_as(
        "select (select d.order_id from webhook_delivery d where d.channel_id = $1 and d.delivery_id = $3),
                (select o.order_id from sales_order o where o.channel_id = $1 and o.external_id = $2)",
    )
    .bind(channel_id)
    .bind(external_id)
    .bind(delivery.map(|d| d.id.as_str()).unwrap_or(""))
    .fetch_one(&mut *conn)
    .await?)
}

/// Everything capture reads before its write turn.
struct Known {
    channel: Channel,
    catalogue: std::collections::HashMap<String, crate::refs::ProductRef>,
    from: inventory::reservations::ReserveFrom,
}

async fn known(db: &Db, order: &NewOrder) -> Result<Known> {
    let mut conn = db.pool.acquire().await?;
    let channel = channel_facts(&mut conn, order).await?;
    let catalogue = products(&mut conn, order).await?;
    let from = inventory::reservations::reserve_from(
        &mut conn,
        inventory::reservations::ChannelKey {
            id: channel.id.clone(),
            code: order.channel.clone(),
        },
        &channel.warehouses,
        channel.buffer,
    )
    .await?;
    Ok(Known {
        channel,
        catalogue,
        from,
    })
}

/// The catalogue's products for the order's SKUs, in one query.
pub(crate) async fn products(
    conn: &mut AnyConnection,
    order: &NewOrder,
) -> Result<std::collections::HashMap<String, crate::refs::ProductRef>> {
    let mut skus: Vec<&str> = order
        .lines
        .iter()
        .map(|l| l.sku.trim())
        .filter(|s| !s.is_empty())
        .collect();
    skus.sort_unstable();
    skus.dedup();
    if skus.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "select product_id, sku, kind, track_lots from product where sku in ({})",
        crate::sql::params(1, skus.len())
    );
    let mut q = sqlx::query(&sql);
    for s in &skus {
        q = q.bind(*s);
    }
    q.fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let p = crate::refs::ProductRef::from_row(r)?;
            Ok((p.sku.clone(), p))
        })
        .collect()
}

/// On PostgreSQL, the new order's number, taken before its transaction in a
/// statement of its own: inside, the counter row would stay locked until the
/// commit and every capture would queue on it. A capture that then fails or
/// loses a race leaves a gap in the numbers. An order that is already there
/// (a redelivery) takes none. SQLite's writes are serial anyway, so there the
/// number is taken inside the capture's turn (`None`), without gaps.
async fn number_ahead(db: &Db, order: &NewOrder, known: &Known) -> Result<Option<String>> {
    if db.backend == crate::db::Backend::Sqlite {
        return Ok(None);
    }
    let existing: Option<String> = sqlx::query_scalar(
        "select order_id from sales_order where channel_id = $1 and external_id = $2",
    )
    .bind(&known.channel.id)
    .bind(&order.external_id)
    .fetch_optional(&db.pool)
    .await?;
    if existing.is_some() {
        return Ok(None);
    }
    let n: i64 = sqlx::query_scalar(
        "update sequence_counter set value = value + 1 where name = 'order' returning value",
    )
    .fetch_one(&db.pool)
    .await?;
    Ok(Some(domain::orders::order_number(n)))
}

/// One attempt at capturing an order, in one unit of work. Long by design:
/// its phases (replay, read, plan, batch, record, commit, answer) must run in
/// this order and each is a call; split further, the batch and the facts the
/// answer needs would be passed through every piece.
async fn capture_once(
    db: &Db,
    ctx: &Ctx,
    order: &NewOrder,
    known: &Known,
    number: Option<&str>,
    idem: Option<&Idempotency>,
    delivery: Option<&Delivery>,
) -> Result<Outcome> {
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency::<Remembered>(idem).await? {
        let saved = uow.replay(saved).await?;
        return Ok(Outcome::Known(saved.order_id));
    }
    let channel = &known.channel;
    if let Some(id) = captured_before(&mut uow, &channel.id, order, delivery).await? {
        uow.commit().await?;
        return Ok(Outcome::Known(id));
    }
    let now = uow.now();
    let placed_at = order.placed_at.map(|t| t.timestamp_micros()).unwrap_or(now);
    let id = uuid::Uuid::now_v7().to_string();

    // Writes nothing in this unit reads again go out with the audit rows and
    // events, in one batch (see `sql::Batch`).
    let mut batch = Batch::default();
    // The customer, unified by email. Their history feeds the fraud rules.
    let customer = upsert_customer(&mut uow, order, placed_at, &mut batch).await?;
    let mut priced = order.clone();
    priced.prices_include_tax |= channel.prices_include_tax;
    let Assessed {
        totals,
        fraud,
        holds,
        found,
        product_ids,
        all_known,
    } = assess(&priced, known, &customer)?;
    let number = match number {
        Some(n) => n.to_string(),
        None => next_order_number(&mut uow).await?,
    };

    // Source and reserve unless the order can't ship as it stands (unknown
    // items, or a payment that failed). Units no warehouse has are
    // backordered on their lines; the rest is planned into fulfilments.
    let reserved = if all_known && order.payment != PaymentStatus::Failed {
        Some(source(&mut uow, &known.from, &found, &number, &mut batch).await?)
    } else {
        None
    };
    let mut backordered = vec![0i64; order.lines.len()];
    for b in reserved.iter().flat_map(|r| &r.plan.backorders) {
        backordered[b.line_no as usize] += b.units;
    }
    let status = if holds.is_empty() {
        OrderStatus::Confirmed
    } else {
        OrderStatus::Received
    };
    insert_order(
        &mut batch,
        &NewRow {
            id: &id,
            channel_id: &channel.id,
            number: &number,
            order: &priced,
            status,
            placed_at,
            customer_id: &customer.id,
            name: &customer.name,
            totals: &totals,
            fraud: &fraud,
            product_ids: &product_ids,
            backordered: &backordered,
            holds: holds.len() as i64,
            reservation: reserved.as_ref().map(|r| r.reservation.id.as_str()),
            warehouse: reserved.as_ref().and_then(|r| r.warehouse.as_deref()),
            shipped: None,
        },
        now,
    );
    let fulfillments = match &reserved {
        Some(r) => crate::fulfillment::records::insert(
            &mut batch,
            &id,
            1,
            &r.plan,
            &known.from.warehouses,
            now,
        ),
        None => Vec::new(),
    };
    let by = ctx.actor.name.clone();
    let hold_views: Vec<OrderHold> = holds
        .iter()
        .map(|h| insert_hold(&mut batch, &id, h, (&by, now)))
        .collect();
    let plan = reserved.as_ref().map(|r| &r.plan);
    record_capture(&mut uow, &id, &number, order, status, &holds, &totals, plan).await?;
    remember_delivery(&mut uow, &channel.id, delivery, &id).await?;
    uow.remember(&Remembered {
        order_id: id.clone(),
    })
    .await?;
    let written = match uow.commit_written(batch).await {
        Ok(w) => w,
        // The (channel, external id) was taken by a concurrent capture on
        // another connection (PostgreSQL); nothing of this attempt remains.
        Err(Error::Database(sqlx::Error::Database(d))) if d.is_unique_violation() => {
            return Ok(Outcome::Duplicate)
        }
        Err(e) => return Err(e),
    };
    crate::ORDERS_CAPTURED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Outcome::Created(Box::new(super::answer::captured_order(
        super::answer::Facts {
            id,
            number,
            order,
            prices_include_tax: priced.prices_include_tax,
            status,
            customer: CustomerRef {
                id: Some(customer.id),
                email: order.customer.email.as_str().to_string(),
                name: customer.name,
                orders_count: customer.previous_orders + 1,
            },
            totals,
            fraud,
            product_ids,
            backordered,
            holds: hold_views,
            reservation: reserved.map(|r| r.reservation),
            fulfillments,
            stated: stated_json(order),
            placed_at,
            written,
        },
    ))))
}

/// An order captured before: by this very delivery, or by its external id
/// under a new delivery id (remembered, so its next redelivery short-cuts
/// too). The caller commits.
async fn captured_before(
    uow: &mut Uow,
    channel_id: &str,
    order: &NewOrder,
    delivery: Option<&Delivery>,
) -> Result<Option<String>> {
    let (delivered, existing) = seen(&mut uow.tx, channel_id, &order.external_id, delivery).await?;
    if delivered.is_some() {
        return Ok(delivered);
    }
    if let Some(id) = &existing {
        remember_delivery(uow, channel_id, delivery, id).await?;
        uow.remember(&Remembered {
            order_id: id.clone(),
        })
        .await?;
    }
    Ok(existing)
}

/// What capture decides about an order before writing it.
struct Assessed {
    totals: Totals,
    fraud: FraudAssessment,
    holds: Vec<Hold>,
    /// The lines whose SKU the catalogue knows, with their quantities.
    found: Vec<(crate::refs::ProductRef, i64)>,
    /// Each line's product id; `None` where the catalogue doesn't know it.
    product_ids: Vec<Option<String>>,
    /// Every line's SKU is in the catalogue (else the order is held).
    all_known: bool,
}

/// Totals, the fraud score and the holds, and each line's product. Every
/// SKU the catalogue knows is reserved; an unknown one holds the order,
/// because refusing it would lose a sale the customer has made. No I/O;
/// refused only when the totals leave the range an order may hold.
fn assess(priced: &NewOrder, known: &Known, customer: &CustomerFacts) -> Result<Assessed> {
    let totals =
        capture::totals(priced, known.channel.rate).map_err(|e| Error::Invalid(vec![e]))?;
    let fraud = capture::fraud(
        priced,
        totals.total,
        CustomerHistory {
            previous_orders: customer.previous_orders,
            orders_last_day: customer.orders_last_day,
        },
    );
    let mut holds = capture::assess(priced, &totals, &fraud);
    let catalogue = &known.catalogue;
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for (i, l) in priced.lines.iter().enumerate() {
        match catalogue.get(l.sku.trim()) {
            Some(p) => found.push((p.clone(), l.quantity)),
            None if l.sku.trim().is_empty() => {
                unknown.push(format!("line {} ({}) has no SKU", i + 1, l.name))
            }
            None => unknown.push(format!("line {}: {} is not in the catalogue", i + 1, l.sku)),
        }
    }
    let product_ids = priced
        .lines
        .iter()
        .map(|l| catalogue.get(l.sku.trim()).map(|p| p.id.clone()))
        .collect();
    let all_known = unknown.is_empty();
    if !all_known {
        holds.push(Hold {
            reason: HoldReason::UnknownItem,
            detail: unknown.join("; "),
        });
    }
    Ok(Assessed {
        totals,
        fraud,
        holds,
        found,
        product_ids,
        all_known,
    })
}

/// The audit rows and events of a capture: captured, each hold, sourced,
/// and confirmed when nothing holds it.
#[allow(clippy::too_many_arguments)] // what was decided, each from a different phase
async fn record_capture(
    uow: &mut Uow,
    id: &str,
    number: &str,
    order: &NewOrder,
    status: OrderStatus,
    holds: &[Hold],
    totals: &Totals,
    plan: Option<&Plan>,
) -> Result<()> {
    let total = Money::from_minor(totals.total, order.currency);
    uow.record(
        Change {
            action: "order.capture",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({
                "number": number, "channel": order.channel, "external_id": order.external_id,
                "status": status.as_str(), "total": total.amount().to_string(), "currency": order.currency.code(),
                "holds": holds.iter().map(|h| h.reason.as_str()).collect::<Vec<_>>(),
            })),
        },
        Event::OrderCaptured {
            order_id: id.to_string(),
            number: number.to_string(),
            channel: order.channel.clone(),
            external_id: order.external_id.clone(),
            total: total.amount().to_string(),
            currency: order.currency.code().into(),
            holds: holds.iter().map(|h| h.reason.as_str().to_string()).collect(),
        },
    )
    .await?;
    for h in holds {
        uow.record(
            Change {
                action: "order.hold",
                entity: "order",
                entity_id: id,
                before: None,
                after: Some(serde_json::json!({"reason": h.reason.as_str(), "detail": h.detail})),
            },
            Event::OrderHeld {
                order_id: id.to_string(),
                number: number.to_string(),
                reason: h.reason.as_str().into(),
                detail: h.detail.clone(),
            },
        )
        .await?;
    }
    if let Some(plan) = plan {
        record_sourced(uow, id, number, plan).await?;
    }
    if status == OrderStatus::Confirmed {
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
                number: number.to_string(),
            },
        )
        .await?;
    }
    Ok(())
}

/// The totals the channel stated, as stored and shown.
fn stated_json(order: &NewOrder) -> serde_json::Value {
    serde_json::json!({
        "subtotal": order.stated.subtotal.map(|m| m.amount().to_string()),
        "discount": order.stated.discount.map(|m| m.amount().to_string()),
        "tax": order.stated.tax.map(|m| m.amount().to_string()),
        "total": order.stated.total.map(|m| m.amount().to_string()),
    })
}

/// What the fraud rules need to know about the customer, and who they are.
pub(crate) struct CustomerFacts {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) previous_orders: i64,
    pub(crate) orders_last_day: i64,
}

/// Creates or updates the customer for the order's email and files its
/// addresses in their address book.
/// The address book insert goes into `batch`.
pub(crate) async fn upsert_customer(
    uow: &mut Uow,
    order: &NewOrder,
    placed_at: i64,
    batch: &mut Batch,
) -> Result<CustomerFacts> {
    let now = uow.now();
    let email = order.customer.email.as_str().to_string();
    let name = if order.customer.name.is_empty() {
        order.ship_to.name.clone()
    } else {
        order.customer.name.clone()
    };
    let keys = capture::name_keys(&name);
    // The count returned includes this order; the orders of the day before it
    // (this one not yet written) feed the velocity rule.
    let (id, orders_count, orders_last_day): (String, i64, i64) = sqlx::query_as(
        "insert into customer (customer_id, email, name, phone, orders_count, first_order_at, last_order_at, version, created_at, updated_at, name_key, last_key)
         values ($1, $2, $3, $4, 1, $5, $5, 1, $6, $6, $7, $8)
         on conflict (email) do update set orders_count = customer.orders_count + 1,
             name = case when excluded.name <> '' then excluded.name else customer.name end,
             name_key = case when excluded.name <> '' then excluded.name_key else customer.name_key end,
             last_key = case when excluded.name <> '' then excluded.last_key else customer.last_key end,
             phone = case when excluded.phone <> '' then excluded.phone else customer.phone end,
             last_order_at = case when excluded.last_order_at > customer.last_order_at then excluded.last_order_at else customer.last_order_at end,
             version = customer.version + 1, updated_at = excluded.updated_at
         returning customer_id, orders_count,
             (select count(*) from sales_order o where o.customer_email = $2 and o.placed_at > $9 and o.placed_at <= $5)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&email)
    .bind(&name)
    .bind(&order.customer.phone)
    .bind(placed_at)
    .bind(now)
    .bind(&keys.0)
    .bind(&keys.1)
    .bind(placed_at - 86_400_000_000)
    .fetch_one(&mut *uow.tx)
    .await?;
    let book: Vec<&domain::orders::Address> = std::iter::once(&order.ship_to)
        .chain(order.bill_to.iter())
        .filter(|a| !a.line1.is_empty())
        .collect();
    if !book.is_empty() {
        let sql = crate::sql::values_rows(
            "insert into customer_address (address_id, customer_id, fingerprint, address_json, created_at) values ",
            5,
            book.len(),
        ) + " on conflict (customer_id, fingerprint) do nothing";
        let mut args = Vec::with_capacity(book.len() * 5);
        for a in book {
            args.extend([
                Val::Text(uuid::Uuid::now_v7().to_string()),
                id.as_str().into(),
                a.fingerprint().into(),
                serde_json::to_string(a).unwrap_or_default().into(),
                now.into(),
            ]);
        }
        batch.push(sql, args);
    }
    Ok(CustomerFacts {
        id,
        name,
        previous_orders: orders_count - 1,
        orders_last_day,
    })
}

/// Everything an order row needs, computed before it is written.
pub(crate) struct NewRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) channel_id: &'a str,
    pub(crate) number: &'a str,
    pub(crate) order: &'a NewOrder,
    pub(crate) status: OrderStatus,
    pub(crate) placed_at: i64,
    pub(crate) customer_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) totals: &'a Totals,
    pub(crate) fraud: &'a FraudAssessment,
    pub(crate) product_ids: &'a [Option<String>],
    /// Units of each line left waiting for stock.
    pub(crate) backordered: &'a [i64],
    /// Active holds, counted on the row for the held-orders index.
    pub(crate) holds: i64,
    pub(crate) reservation: Option<&'a str>,
    /// The warehouse holding most of the reserved units (or, for history,
    /// the one it shipped from).
    pub(crate) warehouse: Option<&'a str>,
    /// When the last units shipped, and whether past ship-by (history only).
    pub(crate) shipped: Option<(i64, bool)>,
}

/// A finished order from before Keel: its status and, if it shipped, when
/// and from where.
#[derive(Debug, Clone)]
pub struct PastOrder {
    pub order: OrderIn,
    pub status: String,
    pub shipped_at: Option<chrono::DateTime<chrono::Utc>>,
    pub warehouse: Option<String>,
}

/// Adds the order, its lines and its tags to `batch`. Run on its own, a
/// unique violation means the (channel, external id) was taken by a
/// concurrent capture.
pub(crate) fn insert_order(batch: &mut Batch, r: &NewRow<'_>, now: i64) {
    let order = r.order;
    let cancelled = r.status == OrderStatus::Cancelled;
    batch.push(
        "insert into sales_order (order_id, channel_id, number, external_id, customer_email, ship_postcode, status, currency, total_minor, placed_at,
            version, created_at, updated_at, customer_id, customer_name, payment_status, subtotal_minor, discount_minor, shipping_minor, tax_minor,
            prices_include_tax, stated_json, ship_to_json, bill_to_json, ship_country, shipping_method, fraud_score, fraud_reasons_json,
            hold_count, manual_touches, note, cancelled_at, reservation_id, warehouse_code, backordered_units, shipped_at, shipped_late)
         values ($1, $2, $3, $4, $5, $6, $27, $7, $8, $9, 1, $10, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $29, 0, $26, $28, $30, $31, $32, $33, $34)",
        vec![
            r.id.into(),
            r.channel_id.into(),
            r.number.into(),
            order.external_id.as_str().into(),
            order.customer.email.as_str().into(),
            order.ship_to.postcode.as_str().into(),
            order.currency.code().into(),
            r.totals.total.into(),
            r.placed_at.into(),
            now.into(),
            r.customer_id.into(),
            r.name.into(),
            order.payment.as_str().into(),
            r.totals.subtotal.into(),
            r.totals.discount.into(),
            r.totals.shipping.into(),
            r.totals.tax.into(),
            i16::from(order.prices_include_tax).into(),
            stated_json(order).to_string().into(),
            serde_json::to_string(&order.ship_to).unwrap_or_default().into(),
            order
                .bill_to
                .as_ref()
                .map(|b| serde_json::to_string(b).unwrap_or_default())
                .into(),
            order.ship_to.country.as_str().into(),
            order.shipping_method.as_str().into(),
            r.fraud.score.into(),
            serde_json::to_string(&r.fraud.reasons).unwrap_or_default().into(),
            order.note.as_str().into(),
            r.status.as_str().into(),
            cancelled.then_some(r.placed_at).into(),
            r.holds.into(),
            r.reservation.into(),
            r.warehouse.into(),
            r.backordered.iter().sum::<i64>().into(),
            r.shipped.map(|(at, _)| at).into(),
            r.shipped.map(|(_, late)| i16::from(late)).into(),
        ],
    );
    for (c, chunk) in order.lines.chunks(32).enumerate() {
        let mut args = Vec::with_capacity(chunk.len() * 10);
        for (j, l) in chunk.iter().enumerate() {
            let i = c * 32 + j;
            args.extend([
                r.id.into(),
                (i as i64).into(),
                l.sku.as_str().into(),
                r.product_ids.get(i).cloned().flatten().into(),
                l.name.as_str().into(),
                l.quantity.into(),
                (if cancelled { l.quantity } else { 0 }).into(),
                l.unit_price.minor().into(),
                l.discount.minor().into(),
                r.backordered.get(i).copied().unwrap_or(0).into(),
            ]);
        }
        batch.push(
            crate::sql::values_rows(
                "insert into order_line (order_id, line_no, sku, product_id, name, quantity, cancelled_quantity, unit_price_minor, discount_minor, backordered_quantity) values ",
                10,
                chunk.len(),
            ),
            args,
        );
    }
    for t in &order.tags {
        batch.push(
            "insert into order_tag (order_id, tag) values ($1, $2)",
            vec![r.id.into(), t.as_str().into()],
        );
    }
}

async fn remember_delivery(
    uow: &mut Uow,
    channel_id: &str,
    delivery: Option<&Delivery>,
    order_id: &str,
) -> Result<()> {
    if let Some(d) = delivery {
        sqlx::query(
            "insert into webhook_delivery (channel_id, delivery_id, topic, order_id, received_at) values ($1, $2, $3, $4, $5)
             on conflict (channel_id, delivery_id) do nothing",
        )
        .bind(channel_id)
        .bind(&d.id)
        .bind(&d.topic)
        .bind(order_id)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    }
    Ok(())
}

pub(crate) async fn next_order_number(uow: &mut Uow) -> Result<String> {
    let n: i64 = sqlx::query_scalar(
        "update sequence_counter set value = value + 1 where name = 'order' returning value",
    )
    .fetch_one(&mut *uow.tx)
    .await?;
    Ok(domain::orders::order_number(n))
}

/// Adds a hold placed `at` to `batch`; returns it as the order views show it.
pub(crate) fn insert_hold(
    batch: &mut Batch,
    order_id: &str,
    h: &Hold,
    (by, at): (&str, i64),
) -> OrderHold {
    let id = uuid::Uuid::now_v7().to_string();
    batch.push(
        "insert into order_hold (hold_id, order_id, reason, detail, active, placed_at, placed_by) values ($1, $2, $3, $4, 1, $5, $6)",
        vec![
            id.as_str().into(),
            order_id.into(),
            h.reason.as_str().into(),
            h.detail.as_str().into(),
            at.into(),
            by.into(),
        ],
    );
    OrderHold {
        id,
        reason: h.reason.as_str().to_string(),
        label: h.reason.label().to_string(),
        detail: h.detail.clone(),
        active: true,
        placed_at: crate::rfc3339(at),
        placed_by: by.to_string(),
        released_at: None,
        released_by: None,
        release_note: None,
    }
}

/// Reserves what sourcing plans (`domain::fulfillment::plan`): the
/// reservation, the plan (what each warehouse ships, and the units no
/// warehouse has, left backordered), and the warehouse holding most units.
pub(crate) async fn source(
    uow: &mut Uow,
    from: &inventory::reservations::ReserveFrom,
    lines: &[(crate::refs::ProductRef, i64)],
    reference: &str,
    batch: &mut Batch,
) -> Result<Sourced> {
    let (reservation, plan) =
        inventory::reservations::reserve_resolved(uow, from, lines, reference, true, batch).await?;
    let mut by_wh: Vec<(String, i64)> = Vec::new();
    for a in reservation.lines.iter().flat_map(|l| &l.allocations) {
        match by_wh.iter_mut().find(|(w, _)| *w == a.warehouse) {
            Some(e) => e.1 += a.quantity,
            None => by_wh.push((a.warehouse.clone(), a.quantity)),
        }
    }
    by_wh.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let warehouse = by_wh.first().map(|w| w.0.clone());
    Ok(Sourced {
        reservation,
        plan,
        warehouse,
    })
}

/// An order's units sourced: the reservation, the plan of fulfilments and
/// backorders, and the warehouse that ships most of it.
pub(crate) struct Sourced {
    pub(crate) reservation: Reservation,
    pub(crate) plan: Plan,
    pub(crate) warehouse: Option<String>,
}

/// The audit row and event of a sourcing decision.
pub(crate) async fn record_sourced(
    uow: &mut Uow,
    order_id: &str,
    number: &str,
    plan: &Plan,
) -> Result<()> {
    uow.record(
        Change {
            action: "order.source",
            entity: "order",
            entity_id: order_id,
            before: None,
            after: Some(serde_json::json!({
                "shipments": plan.shipments.iter().map(|s| serde_json::json!({"warehouse": s.warehouse, "units": s.lines.iter().map(|t| t.units).sum::<i64>(), "reason": s.reason})).collect::<Vec<_>>(),
                "backordered": plan.backorders.iter().map(|b| serde_json::json!({"line_no": b.line_no, "sku": b.sku, "units": b.units})).collect::<Vec<_>>(),
            })),
        },
        crate::fulfillment::records::sourced_event(order_id, number, plan),
    )
    .await
}
