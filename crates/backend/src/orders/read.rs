//! Reading orders: the filtered list, summaries, and one order with its
//! lines, holds, fulfilments and timeline.

use crate::{
    ctx::Ctx,
    day_start,
    db::Db,
    error::{Error, Result},
    page_limit, rfc3339,
    sql::{stored_json, Filters},
    Page,
};
use domain::views::{Order, OrderFilter, OrderSummary};
use domain::{
    governance::Permission,
    orders::{HoldReason, OrderStatus},
    views::{CustomerRef, Fraud, OrderHold, OrderLine, OrderNote, OrderTotals, TimelineEntry},
    FieldError,
};
use sqlx::{AnyConnection, Row};

fn nonblank(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn minor_of(field: &str, v: &str) -> Result<i64> {
    // Filters compare across currencies by their minor units, which are
    // cents for nearly every currency Keel's channels sell in.
    let d: rust_decimal::Decimal = v
        .parse()
        .map_err(|_| Error::invalid(field, format!("`{v}` is not an amount like 250.00")))?;
    (d * rust_decimal::Decimal::from(100))
        .round()
        .try_into()
        .map_err(|_| Error::invalid(field, "is out of range"))
}

/// Checks every filter, naming the bad ones, before any query runs.
pub fn check_filter(f: &OrderFilter) -> Result<()> {
    let mut errors = Vec::new();
    if let Some(s) = nonblank(&f.status) {
        if s != "open" && OrderStatus::parse(&s).is_none() {
            errors.push(FieldError::new(
                "status",
                format!("`{s}` is not an order status"),
            ));
        }
    }
    if let Some(b) = nonblank(&f.backordered) {
        if !["true", "1", "false", "0"].contains(&b.as_str()) {
            errors.push(FieldError::new(
                "backordered",
                format!("`{b}` is not true or false"),
            ));
        }
    }
    if let Some(h) = nonblank(&f.hold) {
        if h != "any" && HoldReason::parse(&h).is_none() {
            errors.push(FieldError::new(
                "hold",
                format!("`{h}` is not a hold reason"),
            ));
        }
    }
    if let Some(s) = nonblank(&f.shipped) {
        if !["on_time", "late"].contains(&s.as_str()) {
            errors.push(FieldError::new(
                "shipped",
                format!("`{s}` is not on_time or late"),
            ));
        }
    }
    for (field, v) in [
        ("from", &f.from),
        ("to", &f.to),
        ("shipped_from", &f.shipped_from),
        ("shipped_to", &f.shipped_to),
    ] {
        if let Some(v) = nonblank(v) {
            if let Err(Error::Invalid(mut e)) = day_start(field, &v) {
                errors.append(&mut e);
            }
        }
    }
    for (field, v) in [("min_total", &f.min_total), ("max_total", &f.max_total)] {
        if let Some(v) = nonblank(v) {
            if let Err(Error::Invalid(mut e)) = minor_of(field, &v) {
                errors.append(&mut e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

const SUMMARY_COLUMNS: &str = "o.order_id, o.number, c.code as channel_code, o.external_id, o.status, o.currency, o.total_minor, o.placed_at,
    o.customer_name, o.customer_email, o.payment_status, o.warehouse_code, o.hold_count";

pub(crate) fn order_from_row(row: &sqlx::any::AnyRow) -> Result<OrderSummary> {
    let currency: String = row.try_get("currency")?;
    let currency =
        domain::Currency::parse(&currency).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(OrderSummary {
        id: row.try_get("order_id")?,
        number: row.try_get("number")?,
        channel: row.try_get("channel_code")?,
        external_id: row.try_get("external_id")?,
        status: row.try_get("status")?,
        total: domain::Money::from_minor(row.try_get("total_minor")?, currency),
        placed_at: rfc3339(row.try_get("placed_at")?),
        customer_name: row.try_get("customer_name")?,
        customer_email: row.try_get("customer_email")?,
        payment_status: row.try_get("payment_status")?,
        holds: Vec::new(),
        warehouse: row.try_get("warehouse_code")?,
        tags: Vec::new(),
    })
}

/// Orders newest first, keyset-paginated on (placed_at, id). Scope, filters
/// and the page limit are all in the query, so a page costs the same however
/// many orders lie outside it.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_orders(db: &Db, ctx: &Ctx, filter: &OrderFilter) -> Result<Page<OrderSummary>> {
    ctx.require(Permission::OrdersRead)?;
    check_filter(filter)?;
    let limit = page_limit(filter.limit);
    let (cursor_at, cursor_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    // Channels are few: resolving codes to ids here lets the order indexes
    // that lead with channel_id do the work.
    let channels: Vec<(String, String)> = sqlx::query_as("select channel_id, code from channel")
        .fetch_all(&db.pool)
        .await?;
    let search = match nonblank(&filter.q) {
        Some(q) => Some(search(db, &q).await?),
        None => None,
    };
    let mut f = order_conditions(ctx, filter, &channels, search)?;
    f.past("o.placed_at", "o.order_id", "<", cursor_at.zip(cursor_id));
    let n = f.arg(limit + 1);
    let sql = format!(
        "select {SUMMARY_COLUMNS} from sales_order o join channel c on c.channel_id = o.channel_id
         where {} order by o.placed_at desc, o.order_id desc limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for row in &rows {
        let summary = order_from_row(row)?;
        keys.push((summary.id.clone(), row.try_get::<i64, _>("placed_at")?));
        items.push(summary);
    }
    let next_cursor = crate::time_cursor_after(&keys, limit);
    items.truncate(limit as usize);
    decorate(db, &mut items).await?;
    Ok(Page { items, next_cursor })
}

/// What the search box asks for: a customer's email, or an order number or
/// external id with the customers whose name or email starts with it.
enum Search {
    Email(String),
    Key {
        text: String,
        /// As typed (less a leading `#`): a marketplace's id keeps its
        /// capitals, so it is matched as typed as well as lower- and
        /// upper-cased, each by the external-id index.
        typed: String,
        customers: Vec<String>,
    },
}

/// Reads the search box. Customers are far fewer than orders, so they are
/// matched first and their orders found by index.
async fn search(db: &Db, q: &str) -> Result<Search> {
    let typed = q.trim().trim_start_matches('#').to_string();
    let q = typed.to_lowercase();
    if q.contains('@') {
        return Ok(Search::Email(q));
    }
    let key = q.split_whitespace().collect::<Vec<_>>().join(" ");
    let bound = domain::orders::prefix_bound(&key);
    // Index ranges on either name key or the email, re-checked with LIKE
    // because a database collation may order strings otherwise.
    let like = format!("{}%", key.replace(['%', '_'], ""));
    let customers: Vec<String> = sqlx::query_scalar(
        "select customer_id from customer
         where ((name_key >= $1 and name_key < $2 and name_key like $3)
             or (last_key >= $1 and last_key < $2 and last_key like $3)
             or (email >= $1 and email < $2 and email like $3))
         order by last_order_at desc limit 200",
    )
    .bind(&key)
    .bind(&bound)
    .bind(&like)
    .fetch_all(&db.pool)
    .await?;
    Ok(Search::Key {
        text: q,
        typed,
        customers,
    })
}

/// The order list's where clause: each filter given, the search, and the
/// viewer's channel scope.
fn order_conditions(
    ctx: &Ctx,
    filter: &OrderFilter,
    channels: &[(String, String)],
    search: Option<Search>,
) -> Result<Filters> {
    let mut f = Filters::default();
    match nonblank(&filter.status).as_deref() {
        None => {}
        Some("open") => f.and("o.status in ('received', 'confirmed', 'in_fulfilment')"),
        Some(s) => f.eq("o.status", Some(s)),
    }
    match nonblank(&filter.hold).as_deref() {
        None => {}
        // Held orders are a few percent of all: `hold_count > 0` matches the
        // partial index of held orders by time, and a reason is then checked
        // per held order by index, so a page stops after about `limit` rows.
        Some("any") => f.and("o.hold_count > 0"),
        Some(h) => {
            let p = f.arg(h);
            f.and(format!(
                "o.hold_count > 0 and exists (select 1 from order_hold h where h.order_id = o.order_id and h.active = 1 and h.reason = {p})"
            ));
        }
    }
    if nonblank(&filter.backordered).is_some_and(|b| b == "true" || b == "1") {
        f.and("o.backordered_units > 0");
    }
    let id_of = |code: &str| {
        channels
            .iter()
            .find(|(_, c)| c.eq_ignore_ascii_case(code))
            .map_or_else(String::new, |(id, _)| id.clone())
    };
    f.eq("o.channel_id", nonblank(&filter.channel).map(|c| id_of(&c)));
    f.eq(
        "o.warehouse_code",
        nonblank(&filter.warehouse).map(|w| w.to_uppercase()),
    );
    let since = |f: &mut Filters, column: &str, cmp: &str, at: Option<i64>| {
        if let Some(at) = at {
            let p = f.arg(at);
            f.and(format!("{column} {cmp} {p}"));
        }
    };
    const DAY: i64 = 86_400_000_000;
    let day = |field: &str, v: &Option<String>, plus: i64| {
        nonblank(v)
            .map(|d| day_start(field, &d).map(|t| t + plus))
            .transpose()
    };
    since(&mut f, "o.placed_at", ">=", day("from", &filter.from, 0)?);
    since(&mut f, "o.placed_at", "<", day("to", &filter.to, DAY)?);
    since(
        &mut f,
        "o.shipped_at",
        ">=",
        day("shipped_from", &filter.shipped_from, 0)?,
    );
    since(
        &mut f,
        "o.shipped_at",
        "<",
        day("shipped_to", &filter.shipped_to, DAY)?,
    );
    match nonblank(&filter.shipped).as_deref() {
        Some("late") => f.and("o.shipped_late = 1"),
        Some("on_time") => f.and("o.shipped_late = 0"),
        _ => {}
    }
    let total =
        |field: &str, v: &Option<String>| nonblank(v).map(|v| minor_of(field, &v)).transpose();
    since(
        &mut f,
        "o.total_minor",
        ">=",
        total("min_total", &filter.min_total)?,
    );
    since(
        &mut f,
        "o.total_minor",
        "<=",
        total("max_total", &filter.max_total)?,
    );
    f.eq(
        "o.customer_email",
        nonblank(&filter.customer).map(|e| e.to_lowercase()),
    );
    if let Some(t) = nonblank(&filter.tag) {
        let p = f.arg(t.to_lowercase());
        f.and(format!(
            "exists (select 1 from order_tag t where t.order_id = o.order_id and t.tag = {p})"
        ));
    }
    match search {
        None => {}
        Some(Search::Email(e)) => f.eq("o.customer_email", Some(e)),
        Some(Search::Key {
            text,
            typed,
            customers,
        }) => {
            let n = f.arg(text.to_uppercase());
            let ids = [typed.clone(), text.clone(), text.to_uppercase()].map(|id| f.arg(id));
            let mut any = format!("o.number = {n} or o.external_id in ({})", ids.join(", "));
            if !customers.is_empty() {
                let marks: Vec<String> = customers.into_iter().map(|c| f.arg(c)).collect();
                any.push_str(&format!(" or o.customer_id in ({})", marks.join(", ")));
            }
            f.and(format!("({any})"));
        }
    }
    let scoped: Vec<String> = ctx.actor.scope.channels.iter().map(|c| id_of(c)).collect();
    f.scope(&scoped, &["o.channel_id"], false);
    warehouse_scope(&mut f, ctx);
    Ok(f)
}

/// A warehouse-scoped viewer sees the orders their warehouses ship: the
/// order's main warehouse, or one of its fulfilments' (`o` is the order).
fn warehouse_scope(f: &mut Filters, ctx: &Ctx) {
    let houses = &ctx.actor.scope.warehouses;
    if let (Some(main), Some(any)) = (
        f.scope_condition(houses, &["o.warehouse_code"], false),
        f.scope_condition(houses, &["sw.code"], false),
    ) {
        f.and(format!(
            "({main} or exists (select 1 from fulfillment sf join warehouse sw on sw.warehouse_id = sf.warehouse_id
              where sf.order_id = o.order_id and {any}))"
        ));
    }
}

/// Whether the caller may see this order: its channel is in their scope,
/// and so is its main warehouse or one of its fulfilments' when they are
/// scoped to warehouses. Out of scope reads as absent everywhere, so an
/// answer never tells that an order exists.
pub(crate) async fn visible(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    order_id: &str,
    channel: &str,
) -> Result<()> {
    let scope = &ctx.actor.scope;
    let mut ok = scope.allows_channel(channel);
    if ok && !scope.warehouses.is_empty() {
        let houses: Vec<Option<String>> = sqlx::query_scalar(
            "select warehouse_code from sales_order where order_id = $1
             union all select w.code from fulfillment f join warehouse w on w.warehouse_id = f.warehouse_id where f.order_id = $1",
        )
        .bind(order_id)
        .fetch_all(&mut *conn)
        .await?;
        ok = houses.iter().flatten().any(|w| scope.allows_warehouse(w));
    }
    if ok {
        Ok(())
    } else {
        Err(Error::NotFound {
            entity: "order",
            key: order_id.to_string(),
        })
    }
}

/// Adds open hold reasons and tags to a page of orders, in two queries.
async fn decorate(db: &Db, items: &mut [OrderSummary]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let marks: Vec<String> = (1..=items.len()).map(|i| format!("${i}")).collect();
    let marks = marks.join(", ");
    for (sql, is_hold) in [
        (
            format!("select order_id, reason from order_hold where active = 1 and order_id in ({marks}) order by placed_at"),
            true,
        ),
        (
            format!("select order_id, tag from order_tag where order_id in ({marks}) order by tag"),
            false,
        ),
    ] {
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for o in items.iter() {
            q = q.bind(o.id.clone());
        }
        for (id, v) in q.fetch_all(&db.pool).await? {
            if let Some(o) = items.iter_mut().find(|o| o.id == id) {
                if is_hold {
                    o.holds.push(v);
                } else {
                    o.tags.push(v);
                }
            }
        }
    }
    Ok(())
}

/// Summaries of the named orders, in the order given (unknown or
/// out-of-scope ids are left out), for confirming a bulk action.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn summaries(db: &Db, ctx: &Ctx, ids: &[String]) -> Result<Vec<OrderSummary>> {
    ctx.require(Permission::OrdersRead)?;
    if ids.is_empty() || ids.len() > 200 {
        return Err(Error::invalid("ids", "choose 1 to 200 orders"));
    }
    let mut f = Filters::default();
    let marks: Vec<String> = ids.iter().map(|id| f.arg(id.as_str())).collect();
    f.and(format!("o.order_id in ({})", marks.join(", ")));
    // The same scope as the list and `visible`, in the one query.
    f.scope(&ctx.actor.scope.channels, &["c.code"], false);
    warehouse_scope(&mut f, ctx);
    let sql = format!(
        "select {SUMMARY_COLUMNS} from sales_order o join channel c on c.channel_id = o.channel_id where {}",
        f.clause()
    );
    let mut items = Vec::new();
    for row in f.query(&sql).fetch_all(&db.pool).await? {
        items.push(order_from_row(&row)?);
    }
    items.sort_by_key(|s| ids.iter().position(|i| *i == s.id));
    decorate(db, &mut items).await?;
    Ok(items)
}

/// Finds an order by id or by number, within the caller's channels.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, key = %key))]
pub async fn get_order(db: &Db, ctx: &Ctx, key: &str) -> Result<Order> {
    ctx.require(Permission::OrdersRead)?;
    let id: Option<String> =
        sqlx::query_scalar("select order_id from sales_order where order_id = $1 or number = $2")
            .bind(key.trim())
            .bind(key.trim().trim_start_matches('#').to_uppercase())
            .fetch_optional(&db.pool)
            .await?;
    let id = id.ok_or_else(|| Error::NotFound {
        entity: "order",
        key: key.to_string(),
    })?;
    load(db, ctx, &id).await
}

pub(crate) fn money(minor: i64, currency: domain::Currency) -> domain::Money {
    domain::Money::from_minor(minor, currency)
}

/// An order line as stored.
pub(crate) struct LineFacts {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub cancelled: i64,
    pub unit_minor: i64,
    pub discount_minor: i64,
    pub known: bool,
    /// Units waiting for stock.
    pub backordered: i64,
    /// Units that have left a warehouse.
    pub shipped: i64,
}

/// A line as the views show it.
pub(crate) fn order_line(l: LineFacts, currency: domain::Currency) -> OrderLine {
    OrderLine {
        line_no: l.line_no,
        sku: l.sku,
        name: l.name,
        quantity: l.quantity,
        cancelled_quantity: l.cancelled,
        backordered_quantity: l.backordered,
        shipped_quantity: l.shipped,
        unit_price: money(l.unit_minor, currency),
        discount: money(l.discount_minor, currency),
        total: money(l.unit_minor * l.quantity - l.discount_minor, currency),
        known: l.known,
    }
}

/// One timeline entry, from an event as stored.
pub(crate) fn timeline_entry(
    seq: i64,
    at: i64,
    event: &str,
    actor_kind: &str,
    actor: &str,
    payload: &str,
) -> TimelineEntry {
    let payload: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
    TimelineEntry {
        seq,
        at: rfc3339(at),
        summary: summarize(event, &payload),
        event: event.to_string(),
        actor_kind: actor_kind.to_string(),
        actor: actor.to_string(),
    }
}

/// The whole order as the API and the order page show it.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, id = %id))]
pub async fn load(db: &Db, ctx: &Ctx, id: &str) -> Result<Order> {
    let mut conn = db.pool.acquire().await?;
    let row = sqlx::query(
        "select o.*, c.code as channel_code, cu.orders_count from sales_order o
         join channel c on c.channel_id = o.channel_id
         left join customer cu on cu.customer_id = o.customer_id where o.order_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "order",
        key: id.to_string(),
    })?;
    let channel: String = row.try_get("channel_code")?;
    visible(&mut conn, ctx, id, &channel).await?;
    let currency_code: String = row.try_get("currency")?;
    let currency =
        domain::Currency::parse(&currency_code).map_err(|e| Error::Internal(e.to_string()))?;
    let status: String = row.try_get("status")?;
    let hold_history = hold_history(&mut conn, id).await?;
    let holds: Vec<OrderHold> = hold_history.iter().filter(|h| h.active).cloned().collect();
    let reservation_id: Option<String> = row.try_get("reservation_id")?;
    let reservation = match &reservation_id {
        Some(r) => Some(crate::inventory::reservations::load_reservation(&mut conn, r).await?),
        None => None,
    };
    let lines = lines_of(&mut conn, id, currency).await?;
    let fulfillments = crate::fulfillment::records::of_order(&mut conn, id).await?;
    let tags: Vec<String> =
        sqlx::query_scalar("select tag from order_tag where order_id = $1 order by tag")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let notes = notes_of(&mut conn, id).await?;
    let number: String = row.try_get("number")?;
    let channel_id: String = row.try_get("channel_id")?;
    let timeline = timeline(&mut conn, id, &number, &channel_id).await?;
    let prices_include_tax = row.try_get::<i16, _>("prices_include_tax")? == 1;
    Ok(Order {
        id: id.to_string(),
        number: row.try_get("number")?,
        channel,
        external_id: row.try_get("external_id")?,
        status,
        payment_status: row.try_get("payment_status")?,
        currency: currency_code,
        customer: CustomerRef {
            id: row.try_get("customer_id")?,
            email: row.try_get("customer_email")?,
            name: row.try_get("customer_name")?,
            orders_count: row.try_get::<Option<i64>, _>("orders_count")?.unwrap_or(0),
        },
        ship_to: stored_json(
            &format!("ship-to address of order {number}"),
            &row.try_get::<String, _>("ship_to_json")?,
        )?,
        bill_to: row
            .try_get::<Option<String>, _>("bill_to_json")?
            .map(|b| stored_json(&format!("bill-to address of order {number}"), &b))
            .transpose()?,
        shipping_method: row.try_get("shipping_method")?,
        lines,
        totals: OrderTotals {
            subtotal: money(row.try_get("subtotal_minor")?, currency),
            discount: money(row.try_get("discount_minor")?, currency),
            shipping: money(row.try_get("shipping_minor")?, currency),
            tax: money(row.try_get("tax_minor")?, currency),
            total: money(row.try_get("total_minor")?, currency),
            prices_include_tax,
        },
        stated_totals: stored_json(
            &format!("channel-stated totals of order {number}"),
            &row.try_get::<String, _>("stated_json")?,
        )?,
        holds,
        hold_history,
        fraud: Fraud {
            score: row.try_get("fraud_score")?,
            reasons: stored_json(
                &format!("fraud reasons of order {number}"),
                &row.try_get::<String, _>("fraud_reasons_json")?,
            )?,
        },
        reservation,
        fulfillments,
        tags,
        note: row.try_get("note")?,
        notes,
        manual_touches: row.try_get("manual_touches")?,
        placed_at: rfc3339(row.try_get("placed_at")?),
        version: row.try_get("version")?,
        timeline,
    })
}

/// Every hold the order has had, active or released, oldest first.
async fn hold_history(conn: &mut AnyConnection, id: &str) -> Result<Vec<OrderHold>> {
    let holds_rows = sqlx::query(
        "select hold_id, reason, detail, active, placed_at, placed_by, released_at, released_by, release_note
         from order_hold where order_id = $1 order by placed_at, hold_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut hold_history = Vec::new();
    for h in &holds_rows {
        let reason: String = h.try_get("reason")?;
        hold_history.push(OrderHold {
            id: h.try_get("hold_id")?,
            label: HoldReason::parse(&reason).map_or(reason.clone(), |r| r.label().to_string()),
            reason,
            detail: h.try_get("detail")?,
            active: h.try_get::<i16, _>("active")? == 1,
            placed_at: rfc3339(h.try_get("placed_at")?),
            placed_by: h.try_get("placed_by")?,
            released_at: h.try_get::<Option<i64>, _>("released_at")?.map(rfc3339),
            released_by: h.try_get("released_by")?,
            release_note: h.try_get("release_note")?,
        });
    }
    Ok(hold_history)
}

/// The order's lines with their amounts in the order's currency.
async fn lines_of(
    conn: &mut AnyConnection,
    id: &str,
    currency: domain::Currency,
) -> Result<Vec<OrderLine>> {
    let line_rows = sqlx::query(
        "select line_no, sku, product_id, name, quantity, cancelled_quantity, unit_price_minor, discount_minor, backordered_quantity, shipped_quantity
         from order_line where order_id = $1 order by line_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut lines = Vec::new();
    for l in &line_rows {
        lines.push(order_line(
            LineFacts {
                line_no: l.try_get("line_no")?,
                sku: l.try_get("sku")?,
                name: l.try_get("name")?,
                quantity: l.try_get("quantity")?,
                cancelled: l.try_get("cancelled_quantity")?,
                unit_minor: l.try_get("unit_price_minor")?,
                discount_minor: l.try_get("discount_minor")?,
                known: l.try_get::<Option<String>, _>("product_id")?.is_some(),
                backordered: l.try_get("backordered_quantity")?,
                shipped: l.try_get("shipped_quantity")?,
            },
            currency,
        ));
    }
    Ok(lines)
}

/// Colleagues' notes on the order, oldest first.
async fn notes_of(conn: &mut AnyConnection, id: &str) -> Result<Vec<OrderNote>> {
    let notes: Vec<OrderNote> = sqlx::query_as::<_, (String, String, i64)>(
        "select author, body, created_at from order_note where order_id = $1 order by created_at, note_id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(author, body, at)| OrderNote {
        author,
        body,
        created_at: rfc3339(at),
    })
    .collect();
    Ok(notes)
}

/// The order's events and those of every reservation made for it (a line
/// cancellation replaces the reservation), oldest first, with the actor.
async fn timeline(
    conn: &mut AnyConnection,
    order_id: &str,
    number: &str,
    channel_id: &str,
) -> Result<Vec<TimelineEntry>> {
    let reservations: Vec<String> = sqlx::query_scalar(
        "select reservation_id from reservation where reference = $1 and channel_id = $2",
    )
    .bind(number)
    .bind(channel_id)
    .fetch_all(&mut *conn)
    .await?;
    let sql = format!(
        "select e.seq, e.event_type, e.actor_kind, coalesce(u.name, e.actor_name) as actor_name, e.payload, e.occurred_at from event e
         left join app_user u on e.actor_kind = 'user' and u.user_id = e.actor_id
         where (e.entity = 'order' and e.entity_id = $1) or (e.entity = 'reservation' and e.entity_id in ({}))
         order by e.seq limit 500",
        if reservations.is_empty() {
            "''".to_string()
        } else {
            crate::sql::params(2, reservations.len())
        }
    );
    let mut q = sqlx::query(&sql).bind(order_id);
    for r in &reservations {
        q = q.bind(r);
    }
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(timeline_entry(
                r.try_get("seq")?,
                r.try_get("occurred_at")?,
                &r.try_get::<String, _>("event_type")?,
                &r.try_get::<String, _>("actor_kind")?,
                &r.try_get::<String, _>("actor_name")?,
                &r.try_get::<String, _>("payload")?,
            ))
        })
        .collect()
}

/// One sentence per timeline event, from its payload.
fn summarize(event: &str, p: &serde_json::Value) -> String {
    let s = |k: &str| {
        p.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let list = |k: &str| {
        p.get(k)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    match event {
        "order.captured" => format!(
            "Captured from {} (external id {}), {} {}",
            s("channel"),
            s("external_id"),
            s("total"),
            s("currency")
        ),
        "order.confirmed" => "Confirmed: no holds".into(),
        "order.held" => format!(
            "Held: {} ({})",
            HoldReason::parse(&s("reason")).map_or(s("reason"), |r| r.label().to_string()),
            s("detail")
        ),
        "order.hold_released" => {
            let label =
                HoldReason::parse(&s("reason")).map_or(s("reason"), |r| r.label().to_string());
            match s("note") {
                n if n.is_empty() => format!("Released hold: {label}"),
                n => format!("Released hold: {label}. Note: {n}"),
            }
        }
        "order.sourced" => {
            let reasons = |k: &str| {
                p.get(k)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.get("reason").and_then(|r| r.as_str()))
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default()
            };
            match (reasons("shipments"), reasons("backordered")) {
                (s, b) if b.is_empty() => format!("Sourced: {s}"),
                (s, b) if s.is_empty() => format!("Backordered: {b}"),
                (s, b) => format!("Sourced: {s}. Backordered: {b}"),
            }
        }
        "order.cancelled" => format!("Cancelled: {}", s("reason")),
        "order.line_cancelled" => format!(
            "Cancelled {} × {}: {}",
            p.get("quantity").and_then(|v| v.as_i64()).unwrap_or(0),
            s("sku"),
            s("reason")
        ),
        "order.address_changed" => "Changed the shipping address".into(),
        "order.note_added" => "Added a note".into(),
        "order.tagged" => match (list("added"), list("removed")) {
            (a, r) if r.is_empty() => format!("Tagged {a}"),
            (a, r) if a.is_empty() => format!("Removed tag {r}"),
            (a, r) => format!("Tagged {a}; removed {r}"),
        },
        "inventory.reserved" => format!(
            "Reserved {} units",
            p.get("units").and_then(|v| v.as_i64()).unwrap_or(0)
        ),
        "inventory.released" => "Released the reserved stock".into(),
        "inventory.shipped" => "Shipped the reserved stock".into(),
        other => other.to_string(),
    }
}
