//! Channel price lists: a channel's own price per product, in its currency.
//!
//! Invariant: the price an order line without a unit price is charged is the
//! channel's price for the product, else the catalogue price in the channel's
//! currency; a line with neither is refused, never priced at zero.

use std::collections::HashMap;

use domain::{
    governance::{approvals::ApprovalKind, Permission},
    orders::PriceListInput,
    views::{ChannelPrice, Page, PriceFilter, PriceListChanged},
    Currency, FieldError, Money,
};
use sqlx::{AnyConnection, Row};

use domain::events::Event;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    governance::approvals::{self, Outcome, PendingChange},
    page_limit, rfc3339,
    uow::{Change, Uow},
};

/// Rows per statement when a price list changes: sqlx binds SQLite
/// parameters in time quadratic in their number, so statements stay short.
const ROWS_PER_STATEMENT: usize = 100;

struct ChannelRef {
    id: String,
    currency: Currency,
}

async fn channel(conn: &mut AnyConnection, ctx: &Ctx, code: &str) -> Result<ChannelRef> {
    if !ctx.actor.scope.allows_channel(code) {
        return Err(Error::OutOfScope {
            what: format!("channel {code}"),
        });
    }
    let (id, currency): (String, String) =
        sqlx::query_as("select channel_id, currency from channel where code = $1")
            .bind(code)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| Error::NotFound {
                entity: "channel",
                key: code.to_string(),
            })?;
    let currency = Currency::parse(&currency).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(ChannelRef { id, currency })
}

/// The channel's products with their prices, by SKU, keyset-paginated.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, code = %code))]
pub async fn list(
    db: &Db,
    ctx: &Ctx,
    code: &str,
    filter: &PriceFilter,
) -> Result<Page<ChannelPrice>> {
    ctx.require(Permission::OrdersRead)?;
    let mut conn = db.pool.acquire().await?;
    let ch = channel(&mut conn, ctx, code).await?;
    let limit = page_limit(filter.limit);
    let q = crate::sql::contains(filter.q.as_deref());
    let mut f = crate::sql::Filters::default();
    let (channel_id, currency) = (f.arg(ch.id.as_str()), f.arg(ch.currency.code()));
    f.and("p.active = 1");
    f.like_any(&["lower(p.sku)", "lower(p.name)"], q);
    if filter.own.unwrap_or(false) {
        f.and("cp.price_minor is not null");
    }
    if let Some(c) = filter.cursor.as_deref().filter(|c| !c.is_empty()) {
        let p = f.arg(c);
        f.and(format!("p.sku > {p}"));
    }
    let n = f.arg(limit + 1);
    let sql = format!(
        "select p.sku, p.name, cp.price_minor as own, pp.price_minor as catalogue, cp.updated_at, cp.updated_by
         from product p
         left join channel_price cp on cp.product_id = p.product_id and cp.channel_id = {channel_id}
         left join product_price pp on pp.product_id = p.product_id and pp.currency = {currency}
         where {} order by p.sku limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&mut *conn).await?;
    let money = |m: Option<i64>| m.map(|m| Money::from_minor(m, ch.currency));
    let mut items = Vec::with_capacity(rows.len());
    for row in rows.iter().take(limit as usize) {
        let own: Option<i64> = row.try_get("own")?;
        let catalogue: Option<i64> = row.try_get("catalogue")?;
        items.push(ChannelPrice {
            sku: row.try_get("sku")?,
            name: row.try_get("name")?,
            price: money(own.or(catalogue)),
            channel_price: money(own),
            catalogue_price: money(catalogue),
            updated_at: row.try_get::<Option<i64>, _>("updated_at")?.map(rfc3339),
            updated_by: row.try_get("updated_by")?,
        });
    }
    let next_cursor = (rows.len() as i64 > limit)
        .then(|| items.last().map(|i| i.sku.clone()))
        .flatten();
    Ok(Page { items, next_cursor })
}

/// Sets and removes channel prices, all or nothing. One audit row lists each
/// changed SKU's price before and after, and one `channel.prices_set` event
/// says how many changed; a request that changes nothing records nothing.
/// While the price-override policy is on, a request with a price that
/// departs from the catalogue's by more than its percentage waits, whole,
/// for a second person.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, code = %code))]
pub async fn set(
    db: &Db,
    ctx: &Ctx,
    code: &str,
    input: &PriceListInput,
) -> Result<Outcome<PriceListChanged>> {
    ctx.require(Permission::CatalogWrite)?;
    let mut uow = db.begin(ctx).await?;
    let outcome = set_in(&mut uow, code, input, true).await?;
    uow.commit().await?;
    Ok(outcome)
}

/// A price list change as held for approval.
#[derive(serde::Serialize, serde::Deserialize)]
struct HeldPrices {
    channel: String,
    input: PriceListInput,
}

/// Applies a held price list change in the approver's unit of work, checked
/// against the store as it is now.
pub(crate) async fn apply_held(uow: &mut Uow, payload: &serde_json::Value) -> Result<()> {
    let held: HeldPrices = serde_json::from_value(payload.clone())
        .map_err(|e| Error::Internal(format!("a held price change can't be read: {e}")))?;
    set_in(uow, &held.channel, &held.input, false)
        .await
        .map(drop)
}

async fn set_in(
    uow: &mut Uow,
    code: &str,
    input: &PriceListInput,
    check_policy: bool,
) -> Result<Outcome<PriceListChanged>> {
    let ctx = uow.ctx.clone();
    let ctx = &ctx;
    let ch = channel(&mut uow.tx, ctx, code).await?;
    let changes = input.parse(ch.currency).map_err(Error::Invalid)?;
    let sql = format!(
        "select p.sku, p.product_id, cp.price_minor from product p
         left join channel_price cp on cp.product_id = p.product_id and cp.channel_id = $1
         where p.sku in ({})",
        crate::sql::params(2, changes.len())
    );
    let mut q = sqlx::query_as::<_, (String, String, Option<i64>)>(&sql).bind(&ch.id);
    for c in &changes {
        q = q.bind(&c.sku);
    }
    let known: HashMap<String, (String, Option<i64>)> = q
        .fetch_all(&mut *uow.tx)
        .await?
        .into_iter()
        .map(|(sku, id, before)| (sku, (id, before)))
        .collect();
    let unknown: Vec<FieldError> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !known.contains_key(&c.sku))
        .map(|(i, c)| {
            FieldError::new(
                format!("prices[{i}].sku"),
                format!("there is no product {}", c.sku),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Invalid(unknown));
    }
    let now = uow.now();
    let by = ctx.actor.name.clone();
    let (mut before_list, mut after_list) = (Vec::new(), Vec::new());
    let text = |m: Option<i64>| m.map(|m| Money::from_minor(m, ch.currency).amount().to_string());
    // Only what differs is written: upserts as multi-row inserts, removals as
    // one delete per chunk.
    let mut upserts: Vec<(&str, i64)> = Vec::new();
    let mut removals: Vec<&str> = Vec::new();
    for c in &changes {
        let (product_id, before) = &known[&c.sku];
        if *before == c.price_minor {
            continue;
        }
        match c.price_minor {
            Some(price) => upserts.push((product_id, price)),
            None => removals.push(product_id),
        }
        before_list.push(serde_json::json!({"sku": c.sku, "price": text(*before)}));
        after_list.push(serde_json::json!({"sku": c.sku, "price": text(c.price_minor)}));
    }
    if check_policy {
        if let Some(held) = hold_overrides(uow, code, &ch, &upserts, input).await? {
            return Ok(Outcome::Held(Box::new(held)));
        }
    }
    for chunk in upserts.chunks(ROWS_PER_STATEMENT) {
        let sql = crate::sql::values_rows(
            "insert into channel_price (channel_id, product_id, price_minor, updated_at, updated_by) values ",
            5,
            chunk.len(),
        ) + " on conflict (channel_id, product_id) do update set price_minor = excluded.price_minor,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by";
        let mut q = sqlx::query(&sql);
        for (product_id, price) in chunk {
            q = q
                .bind(&ch.id)
                .bind(*product_id)
                .bind(*price)
                .bind(now)
                .bind(&by);
        }
        q.execute(&mut *uow.tx).await?;
    }
    for chunk in removals.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "delete from channel_price where channel_id = $1 and product_id in ({})",
            crate::sql::params(2, chunk.len())
        );
        let mut q = sqlx::query(&sql).bind(&ch.id);
        for product_id in chunk {
            q = q.bind(*product_id);
        }
        q.execute(&mut *uow.tx).await?;
    }
    let (set, removed) = (upserts.len() as i64, removals.len() as i64);
    if set + removed > 0 {
        uow.record(
            Change {
                action: "channel.prices_set",
                entity: "channel",
                entity_id: &ch.id,
                before: Some(serde_json::json!({ "prices": before_list })),
                after: Some(serde_json::json!({ "prices": after_list })),
            },
            Event::ChannelPricesSet {
                channel_id: ch.id.clone(),
                code: code.to_string(),
                set,
                removed,
            },
        )
        .await?;
    }
    Ok(Outcome::Applied(PriceListChanged {
        channel: code.to_string(),
        set,
        removed,
    }))
}

/// Holds the whole request for a second person when a price it sets departs
/// from the catalogue's by more than the policy allows.
async fn hold_overrides(
    uow: &mut Uow,
    code: &str,
    ch: &ChannelRef,
    upserts: &[(&str, i64)],
    input: &PriceListInput,
) -> Result<Option<PendingChange>> {
    if upserts.is_empty() || !approvals::applies_to(&uow.ctx) {
        return Ok(None);
    }
    let policy = approvals::policy(&mut uow.tx, ApprovalKind::PriceOverride).await?;
    if !policy.active {
        return Ok(None);
    }
    let mut catalogue: HashMap<String, (String, i64)> = HashMap::new();
    for chunk in upserts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "select p.product_id, p.sku, pp.price_minor from product p
             left join product_price pp on pp.product_id = p.product_id and pp.currency = $1
             where p.product_id in ({})",
            crate::sql::params(2, chunk.len())
        );
        let mut q =
            sqlx::query_as::<_, (String, String, Option<i64>)>(&sql).bind(ch.currency.code());
        for (product_id, _) in chunk {
            q = q.bind(*product_id);
        }
        for (id, sku, price) in q.fetch_all(&mut *uow.tx).await? {
            catalogue.insert(id, (sku, price.unwrap_or(0)));
        }
    }
    let money = |m: i64| Money::from_minor(m, ch.currency).amount().to_string();
    let over: Vec<String> = upserts
        .iter()
        .filter_map(|(product_id, price)| {
            let (sku, base) = catalogue.get(*product_id)?;
            let base = (*base > 0).then_some(*base);
            policy.holds_price(base, Some(*price)).then(|| match base {
                Some(b) => format!("{sku} {} (catalogue {})", money(*price), money(b)),
                None => format!("{sku} {} (no catalogue price)", money(*price)),
            })
        })
        .collect();
    if over.is_empty() {
        return Ok(None);
    }
    let shown = over.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    let more = over.len().saturating_sub(3);
    let summary = format!(
        "{code} prices: {shown}{}, more than {}% from the catalogue",
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
        policy.threshold_percent.unwrap_or(0)
    );
    let payload = serde_json::to_value(HeldPrices {
        channel: code.to_string(),
        input: input.clone(),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    approvals::hold(uow, ApprovalKind::PriceOverride, summary, payload)
        .await
        .map(Some)
}

/// The list price of each SKU on the channel (the channel's own, else the
/// catalogue's in the channel's currency), in minor units; SKUs with neither
/// are absent.
pub(crate) async fn prices_for(
    conn: &mut AnyConnection,
    channel_code: &str,
    skus: &[&str],
) -> Result<HashMap<String, (i64, Currency)>> {
    if skus.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select p.sku, coalesce(cp.price_minor, pp.price_minor) as price, c.currency
         from channel c join product p on p.sku in ({})
         left join channel_price cp on cp.product_id = p.product_id and cp.channel_id = c.channel_id
         left join product_price pp on pp.product_id = p.product_id and pp.currency = c.currency
         where c.code = $1",
        crate::sql::params(2, skus.len())
    );
    let mut q = sqlx::query_as::<_, (String, Option<i64>, String)>(&sql).bind(channel_code);
    for s in skus {
        q = q.bind(*s);
    }
    let mut out = HashMap::new();
    for (sku, price, currency) in q.fetch_all(&mut *conn).await? {
        if let (Some(p), Ok(c)) = (price, Currency::parse(&currency)) {
            out.insert(sku, (p, c));
        }
    }
    Ok(out)
}
