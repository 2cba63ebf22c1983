//! Channels: their warehouses in priority order and their safety buffers;
//! changing either can wait for a second person (the channel-change policy).

use crate::{
    ctx::Ctx,
    db::Db,
    error::{on_unique, Error, Result},
    governance::approvals::{self, Outcome, PendingChange},
    inventory::warehouses::warehouse_codes,
    uow::{Change, Idempotency, Uow},
};
use domain::views::Channel;
use domain::{
    events::Event,
    governance::{approvals::ApprovalKind, Permission},
    orders::NewChannel,
};
use sqlx::{AnyConnection, Row};

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn create_channel(
    db: &Db,
    ctx: &Ctx,
    new: NewChannel,
    idem: Option<&Idempotency>,
) -> Result<Channel> {
    ctx.require(Permission::ChannelsManage)?;
    let known = warehouse_codes(db).await?;
    crate::refs::check_listed(&new.warehouses, &known, "warehouse")?;
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

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
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
        let warehouses =
            crate::refs::stored_warehouses(&code, &row.try_get::<String, _>("warehouses_json")?)?;
        out.push(Channel {
            id: row.try_get("channel_id")?,
            code,
            name: row.try_get("name")?,
            kind: row.try_get("kind")?,
            currency: row.try_get("currency")?,
            warehouses,
            safety_buffer: row.try_get("safety_buffer")?,
            has_webhook_secret: row
                .try_get::<Option<String>, _>("webhook_secret")?
                .is_some(),
            prices_include_tax: row.try_get::<i16, _>("prices_include_tax")? == 1,
        });
    }
    Ok(out)
}

/// A change to a channel that a policy can hold for a second person: as
/// asked for, and as applied on approval.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
enum ChannelChange {
    SafetyBuffer {
        channel: String,
        safety_buffer: i64,
    },
    Warehouses {
        channel: String,
        warehouses: Vec<String>,
    },
}

/// Sets the units per SKU and warehouse that a channel may not sell, so a
/// marketplace that reports stock late can't take the last units. Held for
/// a second person while the channel-change policy is on.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, code = %code))]
pub async fn set_safety_buffer(
    db: &Db,
    ctx: &Ctx,
    code: &str,
    buffer: i64,
) -> Result<Outcome<Channel>> {
    ctx.require(Permission::ChannelsManage)?;
    if !(0..=10_000).contains(&buffer) {
        return Err(Error::invalid(
            "safety_buffer",
            "use a whole number from 0 to 10,000",
        ));
    }
    let mut uow = db.begin(ctx).await?;
    let row = channel_row(&mut uow.tx, ctx, code, "safety_buffer").await?;
    let id: String = row.try_get("channel_id")?;
    let before: i64 = row.try_get("safety_buffer")?;
    let change = ChannelChange::SafetyBuffer {
        channel: code.to_string(),
        safety_buffer: buffer,
    };
    let summary = format!("{code}: safety buffer {before} → {buffer} units");
    if let Some(held) = hold_if_policy(&mut uow, summary, &change).await? {
        uow.commit().await?;
        return Ok(Outcome::Held(Box::new(held)));
    }
    apply_buffer(&mut uow, &id, code, before, buffer).await?;
    uow.commit().await?;
    channel_view(db, ctx, &id, code).await.map(Outcome::Applied)
}

async fn apply_buffer(uow: &mut Uow, id: &str, code: &str, before: i64, buffer: i64) -> Result<()> {
    sqlx::query("update channel set safety_buffer = $2, version = version + 1, updated_at = $3 where channel_id = $1")
        .bind(id)
        .bind(buffer)
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "channel.safety_buffer",
            entity: "channel",
            entity_id: id,
            before: Some(serde_json::json!({"safety_buffer": before})),
            after: Some(serde_json::json!({"safety_buffer": buffer})),
        },
        Event::ChannelBufferChanged {
            channel_id: id.to_string(),
            code: code.to_string(),
            safety_buffer: buffer,
        },
    )
    .await
}

/// Sets the channel's warehouses in priority order: its sourcing rule for
/// the orders that come next (orders already sourced keep their plan). Held
/// for a second person while the channel-change policy is on.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name, code = %code))]
pub async fn set_warehouses(
    db: &Db,
    ctx: &Ctx,
    code: &str,
    warehouses: &[String],
) -> Result<Outcome<Channel>> {
    ctx.require(Permission::ChannelsManage)?;
    let mut uow = db.begin(ctx).await?;
    let (id, before, rule) = checked_warehouses(&mut uow, code, warehouses).await?;
    if before != rule {
        let change = ChannelChange::Warehouses {
            channel: code.to_string(),
            warehouses: rule.clone(),
        };
        let summary = format!(
            "{code}: ships from {} (was {})",
            rule.join(", "),
            before.join(", ")
        );
        if let Some(held) = hold_if_policy(&mut uow, summary, &change).await? {
            uow.commit().await?;
            return Ok(Outcome::Held(Box::new(held)));
        }
        apply_warehouses(&mut uow, &id, code, &before, &rule).await?;
    }
    uow.commit().await?;
    channel_view(db, ctx, &id, code).await.map(Outcome::Applied)
}

/// The channel's id, its warehouses now, and the new list checked against
/// the warehouses that exist.
async fn checked_warehouses(
    uow: &mut Uow,
    code: &str,
    warehouses: &[String],
) -> Result<(String, Vec<String>, Vec<String>)> {
    let rule = domain::fulfillment::RuleInput {
        warehouses: warehouses.to_vec(),
        orders: None,
    }
    .parse()
    .map_err(Error::Invalid)?;
    let ctx = uow.ctx.clone();
    let row = channel_row(&mut uow.tx, &ctx, code, "warehouses_json").await?;
    let id: String = row.try_get("channel_id")?;
    let before =
        crate::refs::stored_warehouses(code, &row.try_get::<String, _>("warehouses_json")?)?;
    let known = crate::refs::warehouse_codes_in(&mut uow.tx).await?;
    crate::refs::check_listed(&rule.warehouses, &known, "active warehouse")?;
    Ok((id, before, rule.warehouses))
}

async fn apply_warehouses(
    uow: &mut Uow,
    id: &str,
    code: &str,
    before: &[String],
    rule: &[String],
) -> Result<()> {
    sqlx::query("update channel set warehouses_json = $2, version = version + 1, updated_at = $3 where channel_id = $1")
        .bind(id)
        .bind(serde_json::to_string(rule).unwrap_or_default())
        .bind(uow.now())
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "channel.warehouses",
            entity: "channel",
            entity_id: id,
            before: Some(serde_json::json!({"warehouses": before})),
            after: Some(serde_json::json!({"warehouses": rule})),
        },
        Event::ChannelWarehousesChanged {
            channel_id: id.to_string(),
            code: code.to_string(),
            warehouses: rule.to_vec(),
        },
    )
    .await
}

/// Holds `change` for a second person when the channel-change policy is on
/// for this caller; the pending change, or `None` to apply it now.
async fn hold_if_policy(
    uow: &mut Uow,
    summary: String,
    change: &ChannelChange,
) -> Result<Option<PendingChange>> {
    if !approvals::applies_to(&uow.ctx)
        || !approvals::policy(&mut uow.tx, ApprovalKind::ChannelChange)
            .await?
            .holds_channel_change()
    {
        return Ok(None);
    }
    let payload = serde_json::to_value(change).map_err(|e| Error::Internal(e.to_string()))?;
    approvals::hold(uow, ApprovalKind::ChannelChange, summary, payload)
        .await
        .map(Some)
}

/// Applies a held channel change in the approver's unit of work, checked
/// against the store as it is now.
pub(crate) async fn apply_held(uow: &mut Uow, payload: &serde_json::Value) -> Result<()> {
    let change: ChannelChange = serde_json::from_value(payload.clone())
        .map_err(|e| Error::Internal(format!("a held channel change can't be read: {e}")))?;
    match change {
        ChannelChange::SafetyBuffer {
            channel,
            safety_buffer,
        } => {
            let ctx = uow.ctx.clone();
            let row = channel_row(&mut uow.tx, &ctx, &channel, "safety_buffer").await?;
            let id: String = row.try_get("channel_id")?;
            let before: i64 = row.try_get("safety_buffer")?;
            apply_buffer(uow, &id, &channel, before, safety_buffer).await
        }
        ChannelChange::Warehouses {
            channel,
            warehouses,
        } => {
            let (id, before, rule) = checked_warehouses(uow, &channel, &warehouses).await?;
            if before == rule {
                return Ok(());
            }
            apply_warehouses(uow, &id, &channel, &before, &rule).await
        }
    }
}

/// The channel's id and one more column, by code, inside a unit of work.
/// The channel a change is for, which must be within the caller's channels.
async fn channel_row(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    code: &str,
    column: &str,
) -> Result<sqlx::any::AnyRow> {
    if !ctx.actor.scope.allows_channel(code) {
        return Err(Error::OutOfScope {
            what: format!("channel {code}"),
        });
    }
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

/// `keel check`: every channel's stored sourcing rule parses. A channel
/// whose list doesn't refuses to capture and source rather than quietly
/// backordering everything; this names it so someone sets its warehouses.
#[tracing::instrument(skip_all)]
pub async fn check(db: &Db) -> Result<Vec<String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("select code, warehouses_json from channel order by code")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .iter()
        .filter_map(|(code, json)| crate::refs::stored_warehouses(code, json).err())
        .map(|e| format!("channel warehouses: {e}"))
        .collect())
}
