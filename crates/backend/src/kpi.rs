//! The KPI projection and board. Each order's contribution to the daily
//! figures (`kpi_order`) is recomputed from its row whenever an event
//! touches it, and the difference from what it contributed before is added
//! to `kpi_day` and `kpi_backlog`, so the board sums a few rows per day
//! whatever the number of orders. The rows are derived bookkeeping, like a
//! counter: the events that changed the orders are already in the outbox,
//! so the projection writes no audit rows or events of its own.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, Utc};
use domain::{
    events::Event,
    governance::Permission,
    kpi::{
        self as rules, BoardInputs, CountFigures, Measures, OrderFact, OrderInputs, Period, Scope,
    },
    money::Currency,
    views::KpiBoard,
};
use serde::Deserialize;
use sqlx::{any::AnyRow, AnyConnection, Row};

use crate::{
    ctx::{Clock, Ctx},
    db::Db,
    error::Error,
    projection::{self, fetch_in, Claim},
    sql::Filters,
    Result,
};

const CURSOR: &str = "kpis";
/// Events read per projector transaction.
const BATCH: i64 = 500;
const DAY: i64 = 86_400_000_000;

/// The orders an event changed in a way the figures may see.
fn touched(event: &Event, orders: &mut BTreeSet<String>, numbers: &mut BTreeSet<String>) {
    use Event as E;
    match event {
        E::OrderCaptured { order_id, .. }
        | E::OrderSourced { order_id, .. }
        | E::OrderCancelled { order_id, .. }
        | E::OrderLineCancelled { order_id, .. }
        | E::OrderShipped { order_id, .. }
        | E::OrderConfirmed { order_id, .. }
        | E::OrderHeld { order_id, .. }
        | E::OrderHoldReleased { order_id, .. }
        | E::OrderAddressChanged { order_id, .. }
        | E::OrderNoteAdded { order_id, .. }
        | E::OrderTagged { order_id, .. } => {
            orders.insert(order_id.clone());
        }
        // A wave moves its orders into fulfilment; a short pick may
        // backorder units.
        E::WaveCreated { orders, .. } => numbers.extend(orders.iter().cloned()),
        E::PickShorted { order_number, .. } => {
            numbers.insert(order_number.clone());
        }
        // A history import numbers its orders consecutively in one
        // transaction, so the first and last name them all.
        E::OrdersImported { first, last, .. } => {
            use domain::orders::{order_number, order_serial};
            if let (Some(a), Some(b)) = (order_serial(first), order_serial(last)) {
                numbers.extend((a..=b.min(a + 10_000)).map(order_number));
            }
        }
        _ => {}
    }
}

/// The columns `order_inputs` reads, cost of goods included.
const ORDER_COLUMNS: &str = "o.order_id, o.status, c.code, o.warehouse_code, o.currency, o.placed_at, o.total_minor, o.tax_minor,
    o.shipping_minor, o.manual_touches, o.cancelled_at, o.shipped_at, o.shipped_late, o.updated_at,
    cast(coalesce((select sum((l.quantity - l.cancelled_quantity) * pp.cost_minor) from order_line l
        join product_price pp on pp.product_id = l.product_id and pp.currency = o.currency
        where l.order_id = o.order_id), 0) as bigint) as cogs";

fn order_inputs(r: &AnyRow) -> Result<(String, OrderInputs)> {
    Ok((
        r.try_get("order_id")?,
        OrderInputs {
            status: r.try_get("status")?,
            channel: r.try_get("code")?,
            warehouse: r.try_get("warehouse_code")?,
            currency: r.try_get("currency")?,
            placed_at: r.try_get("placed_at")?,
            total_minor: r.try_get("total_minor")?,
            tax_minor: r.try_get("tax_minor")?,
            shipping_minor: r.try_get("shipping_minor")?,
            cogs_minor: r.try_get("cogs")?,
            manual_touches: r.try_get("manual_touches")?,
            cancelled_at: r.try_get("cancelled_at")?,
            shipped_at: r.try_get("shipped_at")?,
            shipped_late: r.try_get::<Option<i16>, _>("shipped_late")?.map(|l| l == 1),
            updated_at: r.try_get("updated_at")?,
        },
    ))
}

/// Recomputes the orders' contributions and moves the figures by the
/// difference.
async fn apply(conn: &mut AnyConnection, ids: &[String]) -> Result<usize> {
    let mut now: BTreeMap<String, OrderFact> = BTreeMap::new();
    for r in fetch_in(
        conn,
        &format!("select {ORDER_COLUMNS} from sales_order o join channel c on c.channel_id = o.channel_id where o.order_id in ({{ids}})"),
        ids,
    )
    .await?
    {
        let (id, inputs) = order_inputs(&r)?;
        now.insert(id, rules::order_fact(&inputs));
    }
    let mut before: BTreeMap<String, OrderFact> = BTreeMap::new();
    for r in fetch_in(
        conn,
        "select order_id, fact from kpi_order where order_id in ({ids})",
        ids,
    )
    .await?
    {
        let fact: String = r.try_get("fact")?;
        before.insert(
            r.try_get("order_id")?,
            serde_json::from_str(&fact).map_err(|e| Error::Internal(e.to_string()))?,
        );
    }
    let mut days: BTreeMap<rules::DayKey, Measures> = BTreeMap::new();
    let mut backlog: BTreeMap<rules::BacklogKey, i64> = BTreeMap::new();
    let mut changed = 0;
    for id in ids {
        let (old, new) = (before.get(id), now.get(id));
        if old == new {
            continue;
        }
        changed += 1;
        let rules::Delta {
            days: d,
            backlog: b,
        } = rules::delta(old, new);
        for (k, m) in d {
            days.entry(k).or_default().add(&m);
        }
        for (k, n) in b {
            *backlog.entry(k).or_default() += n;
        }
        match new {
            Some(f) => {
                sqlx::query(
                    "insert into kpi_order (order_id, fact) values ($1, $2)
                     on conflict (order_id) do update set fact = excluded.fact",
                )
                .bind(id)
                .bind(serde_json::to_string(f).map_err(|e| Error::Internal(e.to_string()))?)
                .execute(&mut *conn)
                .await?;
            }
            None => {
                sqlx::query("delete from kpi_order where order_id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    for ((day, channel, warehouse, currency), m) in days {
        if m.is_zero() {
            continue;
        }
        sqlx::query(
            "insert into kpi_day (day, channel, warehouse, currency, orders, cancelled, revenue_minor, cogs_minor, shipping_minor,
                touches, shipped, cycle_minutes, on_time, finished)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             on conflict (day, channel, warehouse, currency) do update set
                orders = kpi_day.orders + excluded.orders,
                cancelled = kpi_day.cancelled + excluded.cancelled,
                revenue_minor = kpi_day.revenue_minor + excluded.revenue_minor,
                cogs_minor = kpi_day.cogs_minor + excluded.cogs_minor,
                shipping_minor = kpi_day.shipping_minor + excluded.shipping_minor,
                touches = kpi_day.touches + excluded.touches,
                shipped = kpi_day.shipped + excluded.shipped,
                cycle_minutes = kpi_day.cycle_minutes + excluded.cycle_minutes,
                on_time = kpi_day.on_time + excluded.on_time,
                finished = kpi_day.finished + excluded.finished",
        )
        .bind(day)
        .bind(channel)
        .bind(warehouse)
        .bind(currency)
        .bind(m.orders)
        .bind(m.cancelled)
        .bind(m.revenue_minor)
        .bind(m.cogs_minor)
        .bind(m.shipping_minor)
        .bind(m.touches)
        .bind(m.shipped)
        .bind(m.cycle_minutes)
        .bind(m.on_time)
        .bind(m.finished)
        .execute(&mut *conn)
        .await?;
    }
    for ((status, channel, warehouse), n) in backlog {
        if n == 0 {
            continue;
        }
        sqlx::query(
            "insert into kpi_backlog (status, channel, warehouse, orders) values ($1, $2, $3, $4)
             on conflict (status, channel, warehouse) do update set orders = kpi_backlog.orders + excluded.orders",
        )
        .bind(status)
        .bind(channel)
        .bind(warehouse)
        .bind(n)
        .execute(&mut *conn)
        .await?;
    }
    Ok(changed)
}

/// Catches the figures up with the outbox, a batch per transaction. Returns
/// the orders whose contribution changed.
#[tracing::instrument(skip_all)]
pub async fn project(db: &Db, clock: &Clock) -> Result<usize> {
    projection::drive(db, CURSOR, BATCH, |size| project_batch(db, clock, size)).await
}

async fn project_batch(db: &Db, clock: &Clock, size: i64) -> Result<(bool, usize)> {
    let ctx = Ctx::system("kpis").with_clock(clock.clone());
    let mut uow = db.begin(&ctx).await?;
    let (events, more) = match projection::claim(&mut uow, CURSOR, size).await? {
        Claim::Done => {
            uow.commit().await?;
            return Ok((true, 0));
        }
        Claim::Lost => {
            uow.commit().await?;
            return Ok((false, 0));
        }
        Claim::Batch { events, more, .. } => (events, more),
    };
    let (mut orders, mut numbers) = (BTreeSet::new(), BTreeSet::new());
    for event in &events {
        touched(event, &mut orders, &mut numbers);
    }
    let numbers: Vec<String> = numbers.into_iter().collect();
    for r in fetch_in(
        &mut uow.tx,
        "select order_id from sales_order where number in ({ids})",
        &numbers,
    )
    .await?
    {
        orders.insert(r.try_get(0)?);
    }
    let ids: Vec<String> = orders.into_iter().collect();
    let changed = apply(&mut uow.tx, &ids).await?;
    uow.commit().await?;
    Ok((!more, changed))
}

/// Whether the KPI projector has never read the outbox (a rebuild is due).
#[tracing::instrument(skip_all)]
pub async fn never_projected(db: &Db) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    projection::never_built(&mut conn, CURSOR).await
}

/// The last outbox event the KPI figures include: how far they trail.
#[tracing::instrument(skip_all)]
pub async fn projected_to(db: &Db) -> Result<i64> {
    let mut conn = db.pool.acquire().await?;
    projection::cursor(&mut conn, CURSOR).await
}

/// Builds the figures from every order, 2,000 orders per transaction, then
/// points the cursor at the outbox as it was when the rebuild began (events
/// after that are applied again, which changes nothing they already did).
#[tracing::instrument(skip_all)]
pub async fn rebuild(db: &Db, clock: &Clock) -> Result<usize> {
    let start = db.max_event_seq().await?;
    let ctx = Ctx::system("kpis").with_clock(clock.clone());
    let mut after = String::new();
    let mut total = 0;
    loop {
        let ids: Vec<String> = sqlx::query_scalar(
            "select order_id from sales_order where order_id > $1 order by order_id limit 2000",
        )
        .bind(&after)
        .fetch_all(&db.pool)
        .await?;
        let Some(last) = ids.last().cloned() else {
            break;
        };
        let mut uow = db.begin(&ctx).await?;
        total += apply(&mut uow.tx, &ids).await?;
        uow.commit().await?;
        after = last;
    }
    let mut uow = db.begin(&ctx).await?;
    projection::built(&mut uow.tx, CURSOR, start).await?;
    uow.commit().await?;
    Ok(total)
}

/// `keel check`: the daily figures and the backlog recomputed from every
/// order, compared with the projection. One line per difference.
#[tracing::instrument(skip_all)]
pub async fn check(db: &Db) -> Result<Vec<String>> {
    let mut days: BTreeMap<rules::DayKey, Measures> = BTreeMap::new();
    let mut backlog: BTreeMap<rules::BacklogKey, i64> = BTreeMap::new();
    let mut after = String::new();
    let mut conn = db.pool.acquire().await?;
    loop {
        let rows = sqlx::query(&format!(
            "select {ORDER_COLUMNS} from sales_order o join channel c on c.channel_id = o.channel_id
             where o.order_id > $1 order by o.order_id limit 5000"
        ))
        .bind(&after)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("order_id")?;
        for r in &rows {
            let (_, inputs) = order_inputs(r)?;
            let rules::Delta {
                days: d,
                backlog: b,
            } = rules::delta(None, Some(&rules::order_fact(&inputs)));
            for (k, m) in d {
                days.entry(k).or_default().add(&m);
            }
            for (k, n) in b {
                *backlog.entry(k).or_default() += n;
            }
        }
    }
    let mut drift = Vec::new();
    let mut stored: BTreeMap<rules::DayKey, Measures> = BTreeMap::new();
    for r in sqlx::query("select * from kpi_day")
        .fetch_all(&mut *conn)
        .await?
    {
        let m = measures(&r)?;
        if !m.is_zero() {
            stored.insert(
                (
                    r.try_get("day")?,
                    r.try_get("channel")?,
                    r.try_get("warehouse")?,
                    r.try_get("currency")?,
                ),
                m,
            );
        }
    }
    for k in days.keys().chain(stored.keys()).collect::<BTreeSet<_>>() {
        let (want, have) = (
            days.get(k).copied().unwrap_or_default(),
            stored.get(k).copied().unwrap_or_default(),
        );
        if want != have {
            drift.push(format!(
                "check: KPI figures for {} {} {} {} are {have:?}; the orders give {want:?}",
                k.0, k.1, k.2, k.3
            ));
        }
    }
    let mut stored: BTreeMap<rules::BacklogKey, i64> = BTreeMap::new();
    for r in
        sqlx::query("select status, channel, warehouse, orders from kpi_backlog where orders <> 0")
            .fetch_all(&mut *conn)
            .await?
    {
        stored.insert(
            (
                r.try_get("status")?,
                r.try_get("channel")?,
                r.try_get("warehouse")?,
            ),
            r.try_get("orders")?,
        );
    }
    for k in backlog.keys().chain(stored.keys()).collect::<BTreeSet<_>>() {
        let (want, have) = (
            backlog.get(k).copied().unwrap_or(0),
            stored.get(k).copied().unwrap_or(0),
        );
        if want != have {
            drift.push(format!(
                "check: backlog {} {} {} counts {have}; the orders give {want}",
                k.0, k.1, k.2
            ));
        }
    }
    Ok(drift)
}

fn measures(r: &AnyRow) -> Result<Measures> {
    Ok(Measures {
        orders: r.try_get("orders")?,
        cancelled: r.try_get("cancelled")?,
        revenue_minor: r.try_get("revenue_minor")?,
        cogs_minor: r.try_get("cogs_minor")?,
        shipping_minor: r.try_get("shipping_minor")?,
        touches: r.try_get("touches")?,
        shipped: r.try_get("shipped")?,
        cycle_minutes: r.try_get("cycle_minutes")?,
        on_time: r.try_get("on_time")?,
        finished: r.try_get("finished")?,
    })
}

/// The board's filters.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct KpiFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub channel: Option<String>,
    pub warehouse: Option<String>,
    pub currency: Option<String>,
    /// The last event the reader has seen: the figures include it.
    pub seen: Option<String>,
}

/// Sums of `kpi_day` under a filter; money only in the board's currency.
const SUMS: &str = "cast(coalesce(sum(orders), 0) as bigint) as orders, cast(coalesce(sum(cancelled), 0) as bigint) as cancelled,
    cast(coalesce(sum(case when currency = $1 then revenue_minor else 0 end), 0) as bigint) as revenue_minor,
    cast(coalesce(sum(case when currency = $1 then cogs_minor else 0 end), 0) as bigint) as cogs_minor,
    cast(coalesce(sum(case when currency = $1 then shipping_minor else 0 end), 0) as bigint) as shipping_minor,
    cast(coalesce(sum(touches), 0) as bigint) as touches, cast(coalesce(sum(shipped), 0) as bigint) as shipped,
    cast(coalesce(sum(cycle_minutes), 0) as bigint) as cycle_minutes, cast(coalesce(sum(on_time), 0) as bigint) as on_time,
    cast(coalesce(sum(finished), 0) as bigint) as finished";

/// The channel and warehouse filters and the actor's scope over a KPI
/// table's `channel` and `warehouse` columns. With a currency, that is `$1`,
/// which `SUMS` reads.
fn kpi_filters(ctx: &Ctx, scope: &Scope, currency: Option<&str>) -> Filters {
    let mut f = Filters::default();
    if let Some(c) = currency {
        let first = f.arg(c);
        debug_assert_eq!(first, "$1", "SUMS reads the currency as $1");
    }
    f.eq("channel", scope.channel.as_deref());
    f.eq("warehouse", scope.warehouse.as_deref());
    f.scope(&ctx.actor.scope.channels, &["channel"], false);
    f.scope(&ctx.actor.scope.warehouses, &["warehouse"], false);
    f
}

/// `sql` with `{}` replaced by the filters' where clause, run.
async fn rows(conn: &mut AnyConnection, f: Filters, sql: &str) -> Result<Vec<AnyRow>> {
    let sql = sql.replacen("{}", &f.clause(), 1);
    Ok(f.query(&sql).fetch_all(&mut *conn).await?)
}

/// The count accuracy and stockouts of the period and the one before, and
/// the stockouts open now. They are read from their own records: they
/// number in the hundreds, not with the orders.
async fn counts_and_stockouts(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    ctx: &Ctx,
    warehouse: Option<&str>,
    period: &Period,
    inputs: &mut BoardInputs,
) -> Result<()> {
    let prev = period.previous();
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_micros()
    };
    let day_of = |t: i64| {
        chrono::DateTime::<Utc>::from_timestamp_micros(t)
            .unwrap_or_default()
            .date_naive()
    };
    let mut count_sql = "select c.submitted_at, cast(count(*) as bigint) as lines,
            cast(sum(case when l.counted = l.expected then 1 else 0 end) as bigint) as accurate
         from cycle_count c join cycle_count_line l on l.count_id = c.count_id join warehouse w on w.warehouse_id = c.warehouse_id
         where c.submitted_at is not null and c.submitted_at >= $1 and c.submitted_at < $2"
        .to_string();
    let mut count_args: Vec<String> = Vec::new();
    let mut wh: Vec<String> = warehouse.iter().map(|w| w.to_string()).collect();
    if warehouse.is_none() {
        wh.extend(ctx.actor.scope.warehouses.iter().cloned());
    }
    if !wh.is_empty() {
        let marks: Vec<String> = (0..wh.len()).map(|i| format!("${}", i + 3)).collect();
        count_sql.push_str(&format!(" and w.code in ({})", marks.join(", ")));
        count_args = wh;
    }
    count_sql.push_str(" group by c.count_id, c.submitted_at");
    for (p, into_days) in [(&prev, false), (period, true)] {
        let mut q = sqlx::query(&count_sql)
            .bind(start(p.from))
            .bind(start(p.to) + DAY);
        for a in &count_args {
            q = q.bind(a.clone());
        }
        for r in q.fetch_all(&mut **conn).await? {
            let c = CountFigures {
                lines: r.try_get("lines")?,
                accurate: r.try_get("accurate")?,
            };
            let slot = if into_days {
                inputs
                    .counts
                    .entry(day_of(r.try_get("submitted_at")?))
                    .or_default()
            } else {
                &mut inputs.previous_counts
            };
            slot.lines += c.lines;
            slot.accurate += c.accurate;
        }
    }
    for r in sqlx::query(
        "select opened_at from exception_item where queue = 'stockouts' and reason = 'stockout' and opened_at >= $1 and opened_at < $2",
    )
    .bind(start(prev.from))
    .bind(start(period.to) + DAY)
    .fetch_all(&mut **conn)
    .await?
    {
        let d = day_of(r.try_get("opened_at")?);
        if d < period.from {
            inputs.previous_stockouts += 1;
        } else {
            *inputs.stockouts.entry(d).or_default() += 1;
        }
    }
    inputs.stockouts_open = sqlx::query_scalar(
        "select cast(count(*) as bigint) from exception_item where queue = 'stockouts' and reason = 'stockout' and status in ('open', 'snoozed')",
    )
    .fetch_one(&mut **conn)
    .await?;

    Ok(())
}

/// A board filter as read: every field checked, blanks left out.
struct Asked {
    period: Period,
    channel: Option<String>,
    warehouse: Option<String>,
    currency: Option<Currency>,
    seen: Option<i64>,
}

/// Reads the board's filter against the channels and warehouses that exist,
/// naming every field that is wrong. No I/O.
fn read_filter(
    f: &KpiFilter,
    today: NaiveDate,
    channels: &[String],
    warehouses: &[String],
) -> std::result::Result<Asked, Vec<domain::FieldError>> {
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut errors = Vec::new();
    let period = Period::parse(
        text(&f.from).as_deref().unwrap_or(""),
        text(&f.to).as_deref().unwrap_or(""),
        today,
    )
    .map_err(|mut e| errors.append(&mut e))
    .ok();
    let channel = text(&f.channel).map(|c| c.to_uppercase());
    if let Some(c) = &channel {
        if !channels.contains(c) {
            errors.push(domain::FieldError::new(
                "channel",
                format!("there is no channel {c}"),
            ));
        }
    }
    let warehouse = text(&f.warehouse).map(|w| w.to_uppercase());
    if let Some(w) = &warehouse {
        if !warehouses.contains(w) {
            errors.push(domain::FieldError::new(
                "warehouse",
                format!("there is no warehouse {w}"),
            ));
        }
    }
    let currency = match text(&f.currency)
        .map(|c| Currency::parse(&c.to_uppercase()))
        .transpose()
    {
        Ok(c) => c,
        Err(e) => {
            errors.push(domain::FieldError::new("currency", e.to_string()));
            None
        }
    };
    let seen = match text(&f.seen).map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(v)) if v >= 0 => Some(v),
        Some(_) => {
            errors.push(domain::FieldError::new(
                "seen",
                "use an event seq, a whole number",
            ));
            None
        }
    };
    match period.filter(|_| errors.is_empty()) {
        Some(period) => Ok(Asked {
            period,
            channel,
            warehouse,
            currency,
            seen,
        }),
        None => Err(errors),
    }
}

/// The KPI board for a period, channel and warehouse. Long by design: one
/// read of the projections (the period, its comparison, the trend and the
/// open work) in a single connection, each a query; the figures themselves
/// are the domain's `kpi::board`.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn board(db: &Db, ctx: &Ctx, f: &KpiFilter) -> Result<KpiBoard> {
    ctx.require(Permission::KpisRead)?;
    let today = chrono::DateTime::<Utc>::from_timestamp_micros(ctx.now())
        .unwrap_or_default()
        .date_naive();
    let channels: Vec<String> = sqlx::query_scalar("select code from channel order by code")
        .fetch_all(&db.pool)
        .await?;
    let warehouses = crate::inventory::warehouses::warehouse_codes(db).await?;
    let Asked {
        period,
        channel,
        warehouse,
        currency,
        seen,
    } = read_filter(f, today, &channels, &warehouses).map_err(Error::Invalid)?;
    let mut conn = db.pool.acquire().await?;
    if let Some(seen) = seen {
        if seen > projection::cursor(&mut conn, CURSOR).await? {
            // Read your writes: the reader saw an event the worker hasn't applied yet.
            project(db, &ctx.clock).await?;
        }
    }
    let as_of_seq = projection::cursor(&mut conn, CURSOR).await?;
    let scope = Scope {
        channel: channel.clone(),
        warehouse: warehouse.clone(),
    };
    // The currency with the most orders in the period, unless one was asked for.
    let currencies: Vec<(String, i64)> = sqlx::query_as(
        "select currency, cast(sum(orders) as bigint) from kpi_day where day >= $1 and day <= $2 group by currency order by 2 desc, 1",
    )
    .bind(period.from.to_string())
    .bind(period.to.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let currency = match currency {
        Some(c) => c,
        None => Currency::parse(currencies.first().map_or("USD", |(c, _)| c.as_str()))
            .map_err(|e| Error::Internal(e.to_string()))?,
    };
    let code = currency.code().to_string();

    // `$1` is the currency (SUMS reads it), then the scope, then the days.
    let base = kpi_filters(ctx, &scope, Some(&code));
    let days = |from: &str, to: Option<&str>| {
        let mut f = base.clone();
        let p = f.arg(from);
        match to {
            Some(to) => {
                let q = f.arg(to);
                f.and(format!("day >= {p} and day <= {q}"));
            }
            None => f.and(format!("day > {p}")),
        }
        f
    };
    let (from, to) = (period.from.to_string(), period.to.to_string());
    let mut inputs = BoardInputs::default();
    for r in rows(
        &mut conn,
        days(&from, Some(&to)),
        &format!("select day, {SUMS} from kpi_day where {{}} group by day"),
    )
    .await?
    {
        let day: String = r.try_get("day")?;
        if let Ok(d) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") {
            inputs.days.insert(d, measures(&r)?);
        }
    }
    for r in rows(
        &mut conn,
        days(&from, Some(&to)),
        &format!("select channel, {SUMS} from kpi_day where {{}} group by channel"),
    )
    .await?
    {
        inputs
            .by_channel
            .insert(r.try_get("channel")?, measures(&r)?);
    }
    let prev = period.previous();
    let (prev_from, prev_to) = (prev.from.to_string(), prev.to.to_string());
    if let Some(r) = rows(
        &mut conn,
        days(&prev_from, Some(&prev_to)),
        &format!("select {SUMS} from kpi_day where {{}}"),
    )
    .await?
    .first()
    {
        inputs.previous = measures(r)?;
    }
    if let Some(r) = rows(
        &mut conn,
        days(&to, None),
        &format!("select {SUMS} from kpi_day where {{}}"),
    )
    .await?
    .first()
    {
        let m = measures(r)?;
        inputs.net_since_period = m.orders - m.finished;
    }
    for r in rows(
        &mut conn,
        kpi_filters(ctx, &scope, None),
        "select status, cast(sum(orders) as bigint) as orders from kpi_backlog where {} group by status",
    )
    .await?
    {
        inputs.backlog.insert(r.try_get("status")?, r.try_get("orders")?);
    }

    counts_and_stockouts(&mut conn, ctx, warehouse.as_deref(), &period, &mut inputs).await?;

    let mut currency_codes: Vec<String> = currencies.into_iter().map(|(c, _)| c).collect();
    if !currency_codes.contains(&code) {
        currency_codes.push(code.clone());
    }
    Ok(KpiBoard {
        from,
        to,
        previous_from: prev.from.to_string(),
        previous_to: prev.to.to_string(),
        kpis: rules::board(&period, &scope, currency, &inputs),
        channel,
        warehouse,
        currency: code,
        currencies: currency_codes,
        channels,
        warehouses,
        as_of_seq,
    })
}
