//! Orders and channels. Channels and the order list and portal lookup exist now;
//! capture, holds and the state machine follow (#4).
//!
//! Invariant: a channel ships only from warehouses that exist; a portal visitor
//! sees an order only with its number plus matching email or postcode.

pub use domain::views::{Channel, OrderSummary};
use domain::{
    events::Event,
    governance::Permission,
    orders::{normalize_postcode, NewChannel, PortalLookup, Proof},
    FieldError,
};
use serde::Deserialize;
use sqlx::Row;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{on_unique, Error, Result},
    inventory::warehouse_codes,
    page_limit, rfc3339,
    uow::Change,
    Page,
};

pub async fn create_channel(db: &Db, ctx: &Ctx, new: NewChannel) -> Result<Channel> {
    ctx.require(Permission::ChannelsManage)?;
    let known = warehouse_codes(db).await?;
    let unknown: Vec<FieldError> = new
        .warehouses
        .iter()
        .enumerate()
        .filter(|(_, w)| !known.contains(w))
        .map(|(i, w)| {
            FieldError::new(
                format!("warehouses[{i}]"),
                format!("there is no warehouse {w}"),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Error::Invalid(unknown));
    }
    let mut uow = db.begin(ctx).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    let warehouses_json =
        serde_json::to_string(&new.warehouses).map_err(|e| Error::Internal(e.to_string()))?;
    sqlx::query(
        "insert into channel (channel_id, code, name, kind, currency, warehouses_json, active, version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, 1, 1, $7, $7)",
    )
    .bind(&id)
    .bind(&new.code)
    .bind(&new.name)
    .bind(new.kind.as_str())
    .bind(new.currency.code())
    .bind(warehouses_json)
    .bind(now)
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
    uow.commit().await?;
    Ok(channel)
}

pub async fn list_channels(db: &Db, ctx: &Ctx) -> Result<Vec<Channel>> {
    ctx.require(Permission::OrdersRead)?;
    let rows = sqlx::query(
        "select channel_id, code, name, kind, currency, warehouses_json, safety_buffer from channel order by code",
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
    let row = sqlx::query("select channel_id, safety_buffer from channel where code = $1")
        .bind(code)
        .fetch_optional(&mut *uow.tx)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "channel",
            key: code.to_string(),
        })?;
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
    list_channels(db, ctx)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| Error::NotFound {
            entity: "channel",
            key: code.to_string(),
        })
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderFilter {
    pub status: Option<String>,
    pub channel: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

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
    })
}

/// Orders newest first, keyset-paginated on (placed_at, id).
pub async fn list_orders(db: &Db, ctx: &Ctx, filter: &OrderFilter) -> Result<Page<OrderSummary>> {
    ctx.require(Permission::OrdersRead)?;
    let limit = page_limit(filter.limit);
    let (cursor_at, cursor_id) = crate::parse_time_cursor(filter.cursor.as_deref())?;
    let rows = sqlx::query(
        "select o.order_id, o.number, c.code as channel_code, o.external_id, o.status, o.currency, o.total_minor, o.placed_at
         from sales_order o join channel c on c.channel_id = o.channel_id
         where ($1 is null or o.status = $1)
           and ($2 is null or c.code = $2)
           and ($3 is null or o.placed_at < $3 or (o.placed_at = $3 and o.order_id < $4))
         order by o.placed_at desc, o.order_id desc limit $5",
    )
    .bind(filter.status.clone().filter(|s| !s.is_empty()))
    .bind(filter.channel.clone().filter(|s| !s.is_empty()))
    .bind(cursor_at)
    .bind(cursor_id)
    .bind(limit + 1)
    .fetch_all(&db.pool)
    .await?;
    let mut items = Vec::new();
    let mut keys = Vec::new();
    for row in &rows {
        let summary = order_from_row(row)?;
        if ctx.actor.scope.allows_channel(&summary.channel) {
            keys.push(format!(
                "{}_{}",
                row.try_get::<i64, _>("placed_at")?,
                summary.id
            ));
            items.push(summary);
        }
    }
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        keys.get(limit as usize - 1).cloned()
    } else {
        None
    };
    Ok(Page { items, next_cursor })
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
