//! Orders and channels. Channels and the order list and portal lookup exist now;
//! capture, holds and the state machine follow (#4).
//!
//! Invariant: a channel ships only from warehouses that exist; a portal visitor
//! sees an order only with its number plus matching email or postcode.

pub use domain::views::{
    BulkAction, BulkResult, Channel, Order, OrderFilter, OrderSummary, SavedView,
};
use domain::{
    capture::{parse_tag, Address, HoldReason, OrderStatus},
    events::Event,
    governance::Permission,
    orders::{normalize_postcode, NewChannel, PortalLookup, Proof},
    views::{CustomerRef, Fraud, OrderHold, OrderLine, OrderNote, OrderTotals, TimelineEntry},
    FieldError,
};
use sqlx::{AnyConnection, Row};

use crate::{
    ctx::{ActorKind, Ctx},
    day_start,
    db::Db,
    error::{on_unique, Error, Result},
    inventory::{warehouse_codes, ReservationInput, ReservationLineInput},
    page_limit, rfc3339,
    uow::{Change, Idempotency, Uow},
    Page,
};

pub async fn create_channel(
    db: &Db,
    ctx: &Ctx,
    new: NewChannel,
    idem: Option<&Idempotency>,
) -> Result<Channel> {
    ctx.require(Permission::ChannelsManage)?;
    let known = warehouse_codes(db).await?;
    crate::inventory::check_listed(&new.warehouses, &known, "warehouse")?;
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    let warehouses_json =
        serde_json::to_string(&new.warehouses).map_err(|e| Error::Internal(e.to_string()))?;
    sqlx::query(
        "insert into channel (channel_id, code, name, kind, currency, warehouses_json, webhook_secret, prices_include_tax, active, version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $8, $9, 1, 1, $7, $7)",
    )
    .bind(&id)
    .bind(&new.code)
    .bind(&new.name)
    .bind(new.kind.as_str())
    .bind(new.currency.code())
    .bind(warehouses_json)
    .bind(now)
    .bind(new.webhook_secret.clone())
    .bind(i16::from(new.prices_include_tax))
    .execute(&mut *uow.tx)
    .await
    .map_err(|e| on_unique(e, "code", &format!("a channel with code {} already exists", new.code)))?;
    let channel = Channel {
        id: id.clone(),
        code: new.code.clone(),
        name: new.name,
        kind: new.kind.as_str().into(),
        currency: new.currency.code().into(),
        warehouses: new.warehouses,
        safety_buffer: 0,
        has_webhook_secret: new.webhook_secret.is_some(),
        prices_include_tax: new.prices_include_tax,
    };
    uow.record(
        Change {
            action: "channel.create",
            entity: "channel",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&channel).ok(),
        },
        Event::ChannelCreated {
            channel_id: id.clone(),
            code: new.code,
            kind: channel.kind.clone(),
            currency: channel.currency.clone(),
        },
    )
    .await?;
    uow.remember(&channel).await?;
    uow.commit().await?;
    Ok(channel)
}

pub async fn list_channels(db: &Db, ctx: &Ctx) -> Result<Vec<Channel>> {
    ctx.require(Permission::OrdersRead)?;
    let rows = sqlx::query(
        "select channel_id, code, name, kind, currency, warehouses_json, safety_buffer, webhook_secret, prices_include_tax from channel order by code",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let code: String = row.try_get("code")?;
        if !ctx.actor.scope.allows_channel(&code) {
            continue;
        }
        let warehouses: String = row.try_get("warehouses_json")?;
        out.push(Channel {
            id: row.try_get("channel_id")?,
            code,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
            currency: row.try_get("currency")?,
            warehouses: serde_json::from_str(&warehouses).unwrap_or_default(),
            safety_buffer: row.try_get("safety_buffer")?,
            has_webhook_secret: row
                .try_get::<Option<String>, _>("webhook_secret")?
                .is_some(),
            prices_include_tax: row.try_get::<i16, _>("prices_include_tax")? == 1,
        });
    }
    Ok(out)
}

/// Sets the units per SKU and warehouse that a channel may not sell, so a
/// marketplace that reports stock late can't take the last units.
pub async fn set_safety_buffer(db: &Db, ctx: &Ctx, code: &str, buffer: i64) -> Result<Channel> {
    ctx.require(Permission::ChannelsManage)?;
    if !(0..=10_000).contains(&buffer) {
        return Err(Error::invalid(
            "safety_buffer",
            "use a whole number from 0 to 10,000",
        ));
    }
    let mut uow = db.begin(ctx).await?;
    let row = channel_row(&mut uow.tx, code, "safety_buffer").await?;
    let id: String = row.try_get("channel_id")?;
    let before: i64 = row.try_get("safety_buffer")?;
    sqlx::query("update channel set safety_buffer = $2, version = version + 1, updated_at = $3 where channel_id = $1")
        .bind(&id)
        .bind(buffer)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "channel.safety_buffer",
            entity: "channel",
            entity_id: &id,
            before: Some(serde_json::json!({"safety_buffer": before})),
            after: Some(serde_json::json!({"safety_buffer": buffer})),
        },
        Event::ChannelBufferChanged {
            channel_id: id.clone(),
            code: code.to_string(),
            safety_buffer: buffer,
        },
    )
    .await?;
    uow.commit().await?;
    channel_view(db, ctx, &id, code).await
}

/// Sets the channel's warehouses in priority order: its sourcing rule for
/// the orders that come next (orders already sourced keep their plan).
pub async fn set_warehouses(
    db: &Db,
    ctx: &Ctx,
    code: &str,
    warehouses: &[String],
) -> Result<Channel> {
    ctx.require(Permission::ChannelsManage)?;
    let rule = domain::fulfillment::RuleInput {
        warehouses: warehouses.to_vec(),
        orders: None,
    }
    .parse()
    .map_err(Error::Invalid)?;
    let mut uow = db.begin(ctx).await?;
    let row = channel_row(&mut uow.tx, code, "warehouses_json").await?;
    let id: String = row.try_get("channel_id")?;
    let before: Vec<String> =
        serde_json::from_str(&row.try_get::<String, _>("warehouses_json")?).unwrap_or_default();
    let known = crate::inventory::warehouse_codes_in(&mut uow.tx).await?;
    crate::inventory::check_listed(&rule.warehouses, &known, "active warehouse")?;
    if before != rule.warehouses {
        sqlx::query("update channel set warehouses_json = $2, version = version + 1, updated_at = $3 where channel_id = $1")
            .bind(&id)
            .bind(serde_json::to_string(&rule.warehouses).unwrap_or_default())
            .bind(uow.now())
            .execute(&mut *uow.tx)
            .await?;
        uow.record(
            Change {
                action: "channel.warehouses",
                entity: "channel",
                entity_id: &id,
                before: Some(serde_json::json!({"warehouses": before})),
                after: Some(serde_json::json!({"warehouses": rule.warehouses})),
            },
            Event::ChannelWarehousesChanged {
                channel_id: id.clone(),
                code: code.to_string(),
                warehouses: rule.warehouses.clone(),
            },
        )
        .await?;
    }
    uow.commit().await?;
    channel_view(db, ctx, &id, code).await
}

/// The channel's id and one more column, by code, inside a unit of work.
async fn channel_row(
    conn: &mut AnyConnection,
    code: &str,
    column: &str,
) -> Result<sqlx::any::AnyRow> {
    sqlx::query(&format!(
        "select channel_id, {column} from channel where code = $1"
    ))
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "channel",
        key: code.to_string(),
    })
}

/// A channel as the views show it, after a change to it.
async fn channel_view(db: &Db, ctx: &Ctx, id: &str, code: &str) -> Result<Channel> {
    list_channels(db, ctx)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| Error::NotFound {
            entity: "channel",
            key: code.to_string(),
        })
}

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

fn order_from_row(row: &sqlx::any::AnyRow) -> Result<OrderSummary> {
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
pub async fn list_orders(db: &Db, ctx: &Ctx, filter: &OrderFilter) -> Result<Page<OrderSummary>> {
    ctx.require(Permission::OrdersRead)?;
    check_filter(filter)?;
    let limit = page_limit(filter.limit);
    let (cursor_at, cursor_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    let mut sql = format!(
        "select {SUMMARY_COLUMNS} from sales_order o join channel c on c.channel_id = o.channel_id where 1 = 1"
    );
    let mut args: Vec<Arg> = Vec::new();
    let mut bind = |sql: &mut String, clause: &str, v: Arg| {
        args.push(v);
        sql.push_str(&clause.replace("$?", &format!("${}", args.len())));
    };
    match nonblank(&filter.status).as_deref() {
        None => {}
        Some("open") => sql.push_str(" and o.status in ('received', 'confirmed', 'in_fulfilment')"),
        Some(s) => bind(&mut sql, " and o.status = $?", Arg::Text(s.to_string())),
    }
    match nonblank(&filter.hold).as_deref() {
        None => {}
        // Held orders are a few percent of all: `hold_count > 0` matches the
        // partial index of held orders by time, and a reason is then checked
        // per held order by index, so a page stops after about `limit` rows.
        Some("any") => sql.push_str(" and o.hold_count > 0"),
        Some(h) => bind(
            &mut sql,
            " and o.hold_count > 0 and exists (select 1 from order_hold h where h.order_id = o.order_id and h.active = 1 and h.reason = $?)",
            Arg::Text(h.to_string()),
        ),
    }
    if nonblank(&filter.backordered).is_some_and(|b| b == "true" || b == "1") {
        sql.push_str(" and o.backordered_units > 0");
    }
    // Channels are few: resolving codes to ids here lets the order indexes
    // that lead with channel_id do the work.
    let channels: Vec<(String, String)> = sqlx::query_as("select channel_id, code from channel")
        .fetch_all(&db.pool)
        .await?;
    let id_of = |code: &str| {
        channels
            .iter()
            .find(|(_, c)| c.eq_ignore_ascii_case(code))
            .map_or_else(String::new, |(id, _)| id.clone())
    };
    if let Some(c) = nonblank(&filter.channel) {
        bind(&mut sql, " and o.channel_id = $?", Arg::Text(id_of(&c)));
    }
    if let Some(w) = nonblank(&filter.warehouse) {
        bind(
            &mut sql,
            " and o.warehouse_code = $?",
            Arg::Text(w.to_uppercase()),
        );
    }
    if let Some(f) = nonblank(&filter.from) {
        bind(
            &mut sql,
            " and o.placed_at >= $?",
            Arg::Int(day_start("from", &f)?),
        );
    }
    if let Some(t) = nonblank(&filter.to) {
        bind(
            &mut sql,
            " and o.placed_at < $?",
            Arg::Int(day_start("to", &t)? + 86_400_000_000),
        );
    }
    if let Some(f) = nonblank(&filter.shipped_from) {
        bind(
            &mut sql,
            " and o.shipped_at >= $?",
            Arg::Int(day_start("shipped_from", &f)?),
        );
    }
    if let Some(t) = nonblank(&filter.shipped_to) {
        bind(
            &mut sql,
            " and o.shipped_at < $?",
            Arg::Int(day_start("shipped_to", &t)? + 86_400_000_000),
        );
    }
    match nonblank(&filter.shipped).as_deref() {
        Some("late") => sql.push_str(" and o.shipped_late = 1"),
        Some("on_time") => sql.push_str(" and o.shipped_late = 0"),
        _ => {}
    }
    if let Some(v) = nonblank(&filter.min_total) {
        bind(
            &mut sql,
            " and o.total_minor >= $?",
            Arg::Int(minor_of("min_total", &v)?),
        );
    }
    if let Some(v) = nonblank(&filter.max_total) {
        bind(
            &mut sql,
            " and o.total_minor <= $?",
            Arg::Int(minor_of("max_total", &v)?),
        );
    }
    if let Some(e) = nonblank(&filter.customer) {
        bind(
            &mut sql,
            " and o.customer_email = $?",
            Arg::Text(e.to_lowercase()),
        );
    }
    if let Some(t) = nonblank(&filter.tag) {
        bind(
            &mut sql,
            " and exists (select 1 from order_tag t where t.order_id = o.order_id and t.tag = $?)",
            Arg::Text(t.to_lowercase()),
        );
    }
    if let Some(q) = nonblank(&filter.q) {
        let q = q.trim_start_matches('#').to_lowercase();
        if q.contains('@') {
            bind(&mut sql, " and o.customer_email = $?", Arg::Text(q));
        } else {
            // An order number or external id, or the start of a customer's
            // first or last name or email: customers are far fewer than
            // orders, so they are matched first and their orders found by index.
            let key = q.split_whitespace().collect::<Vec<_>>().join(" ");
            let bound = domain::capture::prefix_bound(&key);
            // Index ranges on either name key or the email, re-checked with
            // LIKE because a database collation may order strings otherwise.
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
            args.push(Arg::Text(q.to_uppercase()));
            let n = args.len();
            args.push(Arg::Text(q.clone()));
            let e = args.len();
            let mut clause = format!(" and (o.number = ${n} or o.external_id = ${e}");
            if !customers.is_empty() {
                let mut marks = Vec::new();
                for c in customers {
                    args.push(Arg::Text(c));
                    marks.push(format!("${}", args.len()));
                }
                clause.push_str(&format!(" or o.customer_id in ({})", marks.join(", ")));
            }
            clause.push(')');
            sql.push_str(&clause);
        }
    }
    let scope = &ctx.actor.scope;
    if !scope.channels.is_empty() {
        let mut marks = Vec::new();
        for c in &scope.channels {
            args.push(Arg::Text(id_of(c)));
            marks.push(format!("${}", args.len()));
        }
        sql.push_str(&format!(" and o.channel_id in ({})", marks.join(", ")));
    }
    if let (Some(at), Some(id)) = (cursor_at, cursor_id) {
        args.push(Arg::Int(at));
        let a = args.len();
        args.push(Arg::Text(id));
        let i = args.len();
        sql.push_str(&format!(
            " and (o.placed_at < ${a} or (o.placed_at = ${a} and o.order_id < ${i}))"
        ));
    }
    args.push(Arg::Int(limit + 1));
    sql.push_str(&format!(
        " order by o.placed_at desc, o.order_id desc limit ${}",
        args.len()
    ));
    let mut query = sqlx::query(&sql);
    for a in args {
        query = match a {
            Arg::Text(t) => query.bind(t),
            Arg::Int(i) => query.bind(i),
        };
    }
    let rows = query.fetch_all(&db.pool).await?;
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

enum Arg {
    Text(String),
    Int(i64),
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
pub async fn summaries(db: &Db, ctx: &Ctx, ids: &[String]) -> Result<Vec<OrderSummary>> {
    ctx.require(Permission::OrdersRead)?;
    if ids.is_empty() || ids.len() > 200 {
        return Err(Error::invalid("ids", "choose 1 to 200 orders"));
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select {SUMMARY_COLUMNS} from sales_order o join channel c on c.channel_id = o.channel_id where o.order_id in ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.clone());
    }
    let mut items = Vec::new();
    for row in q.fetch_all(&db.pool).await? {
        let s = order_from_row(&row)?;
        if ctx.actor.scope.allows_channel(&s.channel) {
            items.push(s);
        }
    }
    items.sort_by_key(|s| ids.iter().position(|i| *i == s.id));
    decorate(db, &mut items).await?;
    Ok(items)
}

/// Finds an order by id or by number, within the caller's channels.
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
    if !ctx.actor.scope.allows_channel(&channel) {
        return Err(Error::OutOfScope {
            what: format!("channel {channel}"),
        });
    }
    let currency_code: String = row.try_get("currency")?;
    let currency =
        domain::Currency::parse(&currency_code).map_err(|e| Error::Internal(e.to_string()))?;
    let status: String = row.try_get("status")?;
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
    let holds: Vec<OrderHold> = hold_history.iter().filter(|h| h.active).cloned().collect();
    let reservation_id: Option<String> = row.try_get("reservation_id")?;
    let reservation = match &reservation_id {
        Some(r) => Some(crate::inventory::load_reservation(&mut conn, r).await?),
        None => None,
    };
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
    let fulfillments = crate::fulfillment::of_order(&mut conn, id).await?;
    let tags: Vec<String> =
        sqlx::query_scalar("select tag from order_tag where order_id = $1 order by tag")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let notes = sqlx::query_as::<_, (String, String, i64)>(
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
        ship_to: serde_json::from_str(&row.try_get::<String, _>("ship_to_json")?)
            .unwrap_or_default(),
        bill_to: row
            .try_get::<Option<String>, _>("bill_to_json")?
            .and_then(|b| serde_json::from_str(&b).ok()),
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
        stated_totals: serde_json::from_str(&row.try_get::<String, _>("stated_json")?)
            .unwrap_or_default(),
        holds,
        hold_history,
        fraud: Fraud {
            score: row.try_get("fraud_score")?,
            reasons: serde_json::from_str(&row.try_get::<String, _>("fraud_reasons_json")?)
                .unwrap_or_default(),
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

/// Whether a change counts as a manual touch: a person did it by hand.
fn manual(ctx: &Ctx) -> i64 {
    i64::from(ctx.actor.kind == ActorKind::User)
}

/// The row an edit starts from, locked for the rest of the transaction.
struct Editing {
    number: String,
    status: OrderStatus,
    channel: String,
    reservation_id: Option<String>,
}

async fn editing(uow: &mut Uow, id: &str, expected_version: Option<i64>) -> Result<Editing> {
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
    if !uow.ctx.actor.scope.allows_channel(&channel) {
        return Err(Error::OutOfScope {
            what: format!("channel {channel}"),
        });
    }
    let version: i64 = row.try_get("version")?;
    if let Some(v) = expected_version {
        if v != version {
            return Err(Error::Conflict {
                code: "version_conflict",
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

async fn touch(uow: &mut Uow, id: &str) -> Result<()> {
    sqlx::query("update sales_order set version = version + 1, updated_at = $2, manual_touches = manual_touches + $3 where order_id = $1")
        .bind(id)
        .bind(uow.now())
        .bind(manual(&uow.ctx))
        .execute(&mut *uow.tx)
        .await?;
    Ok(())
}

/// Confirms a received order once its last hold is gone.
async fn confirm_if_clear(uow: &mut Uow, id: &str, e: &Editing) -> Result<()> {
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

fn transition_error(e: domain::capture::TransitionError) -> Error {
    Error::Conflict {
        code: "invalid_transition",
        message: e.to_string(),
    }
}

/// Releases one open hold. An order that was never sourced (its payment had
/// failed) is sourced once its last blocking hold goes.
pub async fn release_hold(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    hold_id: &str,
    note: &str,
) -> Result<Order> {
    retrying!(release_hold_once(db, ctx, id, hold_id, note))
}

async fn release_hold_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    hold_id: &str,
    note: &str,
) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let note: String = note.trim().chars().take(500).collect();
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let e = editing(&mut uow, id, None).await?;
    if !e.status.is_editable() {
        return Err(Error::Conflict {
            code: "invalid_transition",
            message: format!(
                "order {} is {} and its holds can't change",
                e.number, e.status
            ),
        });
    }
    let hold = sqlx::query_as::<_, (String, String, i16)>(
        "select reason, detail, active from order_hold where hold_id = $1 and order_id = $2",
    )
    .bind(hold_id)
    .bind(id)
    .fetch_optional(&mut *uow.tx)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "hold",
        key: hold_id.to_string(),
    })?;
    if hold.2 != 1 {
        return Err(Error::Conflict {
            code: "hold_not_active",
            message: "this hold was already released".into(),
        });
    }
    let reason = HoldReason::parse(&hold.0);
    if reason == Some(HoldReason::UnknownItem) {
        return Err(Error::Conflict {
            code: "hold_not_releasable",
            message: "an order with items that are not in the catalogue can't ship; add the products or cancel the order".into(),
        });
    }
    let by = ctx.actor.name.clone();
    sqlx::query("update order_hold set active = 0, released_at = $2, released_by = $3, release_note = $4 where hold_id = $1")
        .bind(hold_id)
        .bind(uow.now())
        .bind(&by)
        .bind(&note)
        .execute(&mut *uow.tx)
        .await?;
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.release_hold",
            entity: "order",
            entity_id: id,
            before: Some(serde_json::json!({"hold": hold_id, "reason": hold.0, "detail": hold.1, "active": true})),
            after: Some(serde_json::json!({"hold": hold_id, "active": false, "note": note})),
        },
        Event::OrderHoldReleased {
            order_id: id.to_string(),
            number: e.number.clone(),
            reason: hold.0.clone(),
            note: note.clone(),
        },
    )
    .await?;
    // An order held before it could be sourced (a failed payment) is sourced
    // once nothing stops it shipping.
    if e.reservation_id.is_none() && !has_unknown_items(&mut uow, id).await? {
        source_open_lines(&mut uow, id, &e).await?;
    }
    confirm_if_clear(&mut uow, id, &e).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

async fn has_unknown_items(uow: &mut Uow, id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from order_line where order_id = $1 and product_id is null",
    )
    .bind(id)
    .fetch_one(&mut *uow.tx)
    .await?;
    Ok(n > 0)
}

/// Puts a hold on the order: the row, the count, the audit row and the event.
async fn add_hold(
    uow: &mut Uow,
    id: &str,
    number: &str,
    hold: &domain::capture::Hold,
) -> Result<()> {
    let by = uow.ctx.actor.name.clone();
    let mut batch = crate::sql::Batch::default();
    crate::capture::insert_hold(&mut batch, id, hold, (&by, uow.now()));
    batch.run(&mut uow.tx, uow.backend).await?;
    sqlx::query("update sales_order set hold_count = hold_count + 1 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "order.hold",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"reason": hold.reason.as_str(), "detail": hold.detail})),
        },
        Event::OrderHeld {
            order_id: id.to_string(),
            number: number.to_string(),
            reason: hold.reason.as_str().into(),
            detail: hold.detail.clone(),
        },
    )
    .await
}

/// Sources the order's open units afresh: reserves what the warehouses
/// have, plans it into fulfilments (replacing those not started), and
/// backorders the rest on the lines.
async fn source_open_lines(uow: &mut Uow, id: &str, e: &Editing) -> Result<()> {
    let input = ReservationInput {
        reference: e.number.clone(),
        channel: Some(e.channel.clone()),
        lines: open_lines(uow, id).await?,
    };
    let (from, lines) = crate::inventory::resolve_reservation(uow, &input).await?;
    let mut batch = crate::sql::Batch::default();
    let (r, plan, wh) = crate::capture::source(uow, &from, &lines, &e.number, &mut batch).await?;
    crate::fulfillment::cancel_open(uow, id).await?;
    let seq = crate::fulfillment::next_seq(&mut uow.tx, id).await?;
    crate::fulfillment::insert(&mut batch, id, seq, &plan, &from.warehouses, uow.now());
    batch.run(&mut uow.tx, uow.backend).await?;
    sqlx::query("update order_line set backordered_quantity = 0 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    for b in &plan.backorders {
        sqlx::query(
            "update order_line set backordered_quantity = $3 where order_id = $1 and line_no = $2",
        )
        .bind(id)
        .bind(b.line_no)
        .bind(b.units)
        .execute(&mut *uow.tx)
        .await?;
    }
    sqlx::query("update sales_order set reservation_id = $2, warehouse_code = $3, backordered_units = $4 where order_id = $1")
        .bind(id)
        .bind(r.id)
        .bind(wh)
        .bind(plan.backordered_units())
        .execute(&mut *uow.tx)
        .await?;
    crate::capture::record_sourced(uow, id, &e.number, &plan).await
}

/// The open units of every line, in line order. Fully cancelled lines stay in
/// (with nothing to reserve) so that reservation line i is order line i.
async fn open_lines(uow: &mut Uow, id: &str) -> Result<Vec<ReservationLineInput>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select sku, quantity - cancelled_quantity from order_line where order_id = $1 order by line_no",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, quantity)| ReservationLineInput { sku, quantity })
        .collect())
}

/// Puts an order on hold by hand, with the reason in words.
pub async fn place_hold(db: &Db, ctx: &Ctx, id: &str, detail: &str) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let detail: String = detail.trim().chars().take(500).collect();
    if detail.is_empty() {
        return Err(Error::invalid("detail", "say why the order is held"));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, None).await?;
    if !e.status.is_editable() {
        return Err(Error::Conflict {
            code: "invalid_transition",
            message: format!("order {} is {} and can't be held", e.number, e.status),
        });
    }
    let hold = domain::capture::Hold {
        reason: HoldReason::Manual,
        detail: detail.clone(),
    };
    add_hold(&mut uow, id, &e.number, &hold).await?;
    touch(&mut uow, id).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Cancels the whole order and releases its stock.
pub async fn cancel_order(db: &Db, ctx: &Ctx, id: &str, reason: &str) -> Result<Order> {
    retrying!(cancel_order_once(db, ctx, id, reason))
}

async fn cancel_order_once(db: &Db, ctx: &Ctx, id: &str, reason: &str) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let reason = cancel_reason(reason)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let e = editing(&mut uow, id, None).await?;
    cancel_in(&mut uow, id, &e, reason).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

fn cancel_reason(reason: &str) -> Result<String> {
    let reason: String = reason.trim().chars().take(500).collect();
    if reason.is_empty() {
        return Err(Error::invalid("reason", "say why the order is cancelled"));
    }
    Ok(reason)
}

/// Cancels the order being edited: releases its stock, cancels every line
/// and ends its holds.
async fn cancel_in(uow: &mut Uow, id: &str, e: &Editing, reason: String) -> Result<()> {
    let next = e
        .status
        .transition(OrderStatus::Cancelled)
        .map_err(transition_error)?;
    let shipped: i64 = sqlx::query_scalar(
        "select cast(coalesce(sum(shipped_quantity), 0) as bigint) from order_line where order_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *uow.tx)
    .await?;
    if shipped > 0 {
        return Err(Error::Conflict {
            code: "invalid_transition",
            message: format!(
                "{shipped} units of order {} have shipped; it can't be cancelled (the shipped units come back as a return)",
                e.number
            ),
        });
    }
    let freed = release_active(uow, e).await?;
    let now = uow.now();
    sqlx::query(
        "update sales_order set status = $2, cancelled_at = $3, hold_count = 0 where order_id = $1",
    )
    .bind(id)
    .bind(next.as_str())
    .bind(now)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query("update order_line set cancelled_quantity = quantity, backordered_quantity = 0 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("update sales_order set backordered_units = 0 where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    crate::fulfillment::cancel_unshipped(uow, id).await?;
    // The order is cancelled now, so what it freed goes to others waiting.
    if let Some(freed) = freed {
        crate::fulfillment::source_backorders(uow, &freed).await?;
    }
    let by = uow.ctx.actor.name.clone();
    sqlx::query("update order_hold set active = 0, released_at = $2, released_by = $3, release_note = 'order cancelled' where order_id = $1 and active = 1")
        .bind(id)
        .bind(now)
        .bind(by)
        .execute(&mut *uow.tx)
        .await?;
    touch(uow, id).await?;
    uow.record(
        Change {
            action: "order.cancel",
            entity: "order",
            entity_id: id,
            before: Some(serde_json::json!({"status": e.status.as_str()})),
            after: Some(serde_json::json!({"status": "cancelled", "reason": reason})),
        },
        Event::OrderCancelled {
            order_id: id.to_string(),
            number: e.number.clone(),
            reason,
        },
    )
    .await
}

/// Releases the order's reservation if it still holds stock, returning the
/// products it freed.
async fn release_active(uow: &mut Uow, e: &Editing) -> Result<Option<Vec<String>>> {
    let Some(r) = &e.reservation_id else {
        return Ok(None);
    };
    let status: String =
        sqlx::query_scalar("select status from reservation where reservation_id = $1")
            .bind(r)
            .fetch_one(&mut *uow.tx)
            .await?;
    if status != "active" {
        return Ok(None);
    }
    let freed = crate::fulfillment::products_of(&mut uow.tx, r).await?;
    crate::inventory::release_in(uow, r).await?;
    Ok(Some(freed))
}

/// Cancels `quantity` units of one line (`line_no` as the order shows it).
/// The order's stock is released and its open units reserved again, in the
/// same transaction, so the reservation always matches the open lines; units
/// whose stock has gone meanwhile are backordered.
/// Cancelling the last open units cancels the order. The captured totals
/// stay as the channel charged them; the cancelled units are on the lines.
pub async fn cancel_line(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    line_no: i64,
    quantity: i64,
    reason: &str,
) -> Result<Order> {
    retrying!(cancel_line_once(db, ctx, id, line_no, quantity, reason))
}

async fn cancel_line_once(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    line_no: i64,
    quantity: i64,
    reason: &str,
) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let reason = cancel_reason(reason)?;
    let mut uow = db.begin(ctx).await?;
    crate::fulfillment::sourcing_turn(&mut uow).await?;
    let e = editing(&mut uow, id, None).await?;
    let lines: Vec<(i64, String, i64)> = sqlx::query_as(
        "select line_no, sku, quantity - cancelled_quantity from order_line where order_id = $1 order by line_no",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    let Some(index) = lines.iter().position(|l| l.0 == line_no) else {
        return Err(Error::NotFound {
            entity: "order line",
            key: format!("{} line {line_no}", e.number),
        });
    };
    let open: Vec<i64> = lines.iter().map(|l| l.2).collect();
    let cancel =
        domain::capture::cancel_line(e.status, &open, index, quantity).map_err(
            |err| match err {
                domain::capture::LineCancelError::NotEditable(_) => Error::Conflict {
                    code: "invalid_transition",
                    message: err.to_string(),
                },
                _ => Error::invalid("quantity", err.to_string()),
            },
        )?;
    let sku = lines[index].1.clone();
    if cancel.order_open == 0 {
        cancel_in(&mut uow, id, &e, reason).await?;
        uow.commit().await?;
        return load(db, ctx, id).await;
    }
    sqlx::query("update order_line set cancelled_quantity = cancelled_quantity + $3 where order_id = $1 and line_no = $2")
        .bind(id)
        .bind(line_no)
        .bind(quantity)
        .execute(&mut *uow.tx)
        .await?;
    if let Some(freed) = release_active(&mut uow, &e).await? {
        source_open_lines(&mut uow, id, &e).await?;
        // What the cancelled units freed goes to orders waiting for it.
        crate::fulfillment::source_backorders(&mut uow, &freed).await?;
    }
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.cancel_line",
            entity: "order",
            entity_id: id,
            before: Some(serde_json::json!({"line_no": line_no, "sku": sku, "open": open[index]})),
            after: Some(serde_json::json!({"line_no": line_no, "sku": sku, "open": cancel.line_open, "reason": reason})),
        },
        Event::OrderLineCancelled {
            order_id: id.to_string(),
            number: e.number.clone(),
            line_no,
            sku,
            quantity,
            reason,
        },
    )
    .await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Replaces the shipping address. A valid new address releases an
/// invalid-address hold, recorded as the system's rule.
pub async fn change_address(
    db: &Db,
    ctx: &Ctx,
    id: &str,
    address: Address,
    expected_version: Option<i64>,
) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let address = address.normalized();
    let problems = address.problems();
    if !problems.is_empty() {
        return Err(Error::invalid("address", problems.join("; ")));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, expected_version).await?;
    if !e.status.is_editable() {
        return Err(Error::Conflict {
            code: "invalid_transition",
            message: format!(
                "order {} is {}; its address can't change",
                e.number, e.status
            ),
        });
    }
    let before: String =
        sqlx::query_scalar("select ship_to_json from sales_order where order_id = $1")
            .bind(id)
            .fetch_one(&mut *uow.tx)
            .await?;
    sqlx::query("update sales_order set ship_to_json = $2, ship_country = $3, ship_postcode = $4 where order_id = $1")
        .bind(id)
        .bind(serde_json::to_string(&address).unwrap_or_default())
        .bind(&address.country)
        .bind(&address.postcode)
        .execute(&mut *uow.tx)
        .await?;
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.change_address",
            entity: "order",
            entity_id: id,
            before: serde_json::from_str(&before).ok(),
            after: serde_json::to_value(&address).ok(),
        },
        Event::OrderAddressChanged {
            order_id: id.to_string(),
            number: e.number.clone(),
        },
    )
    .await?;
    let stale: Vec<String> = sqlx::query_scalar(
        "select hold_id from order_hold where order_id = $1 and reason = 'invalid_address' and active = 1",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    for hold_id in stale {
        sqlx::query("update order_hold set active = 0, released_at = $2, released_by = $3, release_note = 'the new address is complete' where hold_id = $1")
            .bind(&hold_id)
            .bind(uow.now())
            .bind(&ctx.actor.name)
            .execute(&mut *uow.tx)
            .await?;
        uow.record(
            Change {
                action: "order.release_hold",
                entity: "order",
                entity_id: id,
                before: Some(serde_json::json!({"hold": hold_id, "reason": "invalid_address", "active": true})),
                after: Some(serde_json::json!({"hold": hold_id, "active": false})),
            },
            Event::OrderHoldReleased {
                order_id: id.to_string(),
                number: e.number.clone(),
                reason: "invalid_address".into(),
                note: "the new address is complete".into(),
            },
        )
        .await?;
    }
    confirm_if_clear(&mut uow, id, &e).await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Adds a note for colleagues; it is part of the order's timeline.
pub async fn add_note(db: &Db, ctx: &Ctx, id: &str, body: &str) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 2000 {
        return Err(Error::invalid(
            "body",
            "write a note of 1 to 2,000 characters",
        ));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, None).await?;
    sqlx::query("insert into order_note (note_id, order_id, author, body, created_at) values ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(id)
        .bind(&ctx.actor.name)
        .bind(body)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.note",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"note": body})),
        },
        Event::OrderNoteAdded {
            order_id: id.to_string(),
            number: e.number.clone(),
        },
    )
    .await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Adds and removes tags; unchanged tags write nothing.
pub async fn tag(db: &Db, ctx: &Ctx, id: &str, add: &[String], remove: &[String]) -> Result<Order> {
    ctx.require(Permission::OrdersWrite)?;
    let mut errors = Vec::new();
    let mut parse = |field: &str, list: &[String]| {
        let mut out = Vec::new();
        for (i, t) in list.iter().enumerate() {
            match parse_tag(&format!("{field}[{i}]"), t) {
                Ok(t) if !out.contains(&t) => out.push(t),
                Ok(_) => {}
                Err(e) => errors.push(e),
            }
        }
        out
    };
    let (add, remove) = (parse("add", add), parse("remove", remove));
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    if add.is_empty() && remove.is_empty() {
        return Err(Error::invalid("add", "name a tag to add or remove"));
    }
    let mut uow = db.begin(ctx).await?;
    let e = editing(&mut uow, id, None).await?;
    let mut added = Vec::new();
    for t in &add {
        let n = sqlx::query("insert into order_tag (order_id, tag) values ($1, $2) on conflict (order_id, tag) do nothing")
            .bind(id)
            .bind(t)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if n == 1 {
            added.push(t.clone());
        }
    }
    let mut removed = Vec::new();
    for t in &remove {
        let n = sqlx::query("delete from order_tag where order_id = $1 and tag = $2")
            .bind(id)
            .bind(t)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected();
        if n == 1 {
            removed.push(t.clone());
        }
    }
    if added.is_empty() && removed.is_empty() {
        drop(uow);
        return load(db, ctx, id).await;
    }
    touch(&mut uow, id).await?;
    uow.record(
        Change {
            action: "order.tag",
            entity: "order",
            entity_id: id,
            before: None,
            after: Some(serde_json::json!({"added": added, "removed": removed})),
        },
        Event::OrderTagged {
            order_id: id.to_string(),
            number: e.number.clone(),
            added,
            removed,
        },
    )
    .await?;
    uow.commit().await?;
    load(db, ctx, id).await
}

/// Applies one action to many orders, each in its own transaction, so one
/// failure never undoes the others. Every order gets its own result line.
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
                            code: "hold_not_active",
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

pub async fn saved_views(db: &Db, ctx: &Ctx) -> Result<Vec<SavedView>> {
    ctx.require(Permission::OrdersRead)?;
    let Some(user) = ctx.actor.id.clone() else {
        return Ok(Vec::new());
    };
    Ok(sqlx::query_as::<_, (String, String, String)>(
        "select view_id, name, query from saved_view where user_id = $1 order by name",
    )
    .bind(user)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, name, query)| SavedView { id, name, query })
    .collect())
}

/// Saves (or replaces) a named view of the workbench for the signed-in person.
pub async fn save_view(db: &Db, ctx: &Ctx, name: &str, filter: &OrderFilter) -> Result<SavedView> {
    ctx.require(Permission::OrdersRead)?;
    let user = ctx.actor.id.clone().ok_or(Error::Unauthenticated)?;
    let name: String = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::invalid(
            "name",
            "name the view in 1 to 60 characters",
        ));
    }
    check_filter(filter)?;
    let mut f = filter.clone();
    f.cursor = None;
    f.limit = None;
    let query = serde_urlencoded::to_string(&f).map_err(|e| Error::Internal(e.to_string()))?;
    let mut uow = db.begin(ctx).await?;
    let id: String = sqlx::query_scalar(
        "insert into saved_view (view_id, user_id, name, query, created_at) values ($1, $2, $3, $4, $5)
         on conflict (user_id, name) do update set query = excluded.query returning view_id",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&user)
    .bind(&name)
    .bind(&query)
    .bind(uow.now())
    .fetch_one(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "saved_view.save",
            entity: "saved_view",
            entity_id: &id,
            before: None,
            after: Some(serde_json::json!({"name": name, "query": query})),
        },
        Event::ViewSaved {
            view_id: id.clone(),
            name: name.clone(),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(SavedView { id, name, query })
}

/// The returns portal's lookup: public, so it reveals nothing unless both the
/// number and the email or postcode match.
pub async fn portal_lookup(db: &Db, lookup: &PortalLookup) -> Result<Option<OrderSummary>> {
    let row = sqlx::query(
        "select o.order_id, o.number, c.code as channel_code, o.external_id, o.status, o.currency, o.total_minor, o.placed_at,
                o.customer_email, o.ship_postcode
         from sales_order o join channel c on c.channel_id = o.channel_id where o.number = $1",
    )
    .bind(&lookup.number)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let email: String = row.try_get("customer_email")?;
    let postcode: String = row.try_get("ship_postcode")?;
    let matches = match &lookup.proof {
        Proof::Email(e) => e.as_str() == email.to_lowercase(),
        Proof::Postcode(p) => *p == normalize_postcode(&postcode),
    };
    if matches {
        order_from_row(&row).map(Some)
    } else {
        Ok(None)
    }
}
