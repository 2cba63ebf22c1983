//! The returns portal: a shopper proves an order is theirs and gets a short
//! session that sees that one order.
//!
//! Invariants: every lookup is counted per order number and per address
//! before anything is read, so a guesser is throttled the same whether the
//! order exists or not; an unproven lookup answers "no match" and reveals
//! nothing; a portal session reads only its own order, and only until it
//! expires.

use chrono::DateTime;
use domain::events::Event;
use domain::orders::{
    portal_lookup_allowed, OrderFacts, PortalLookup, PORTAL_SESSION_SECS, PORTAL_WINDOW_SECS,
};
use domain::views::{PortalLine, PortalOrder, PortalShipment};
use sqlx::Row;

use crate::{
    ctx::{Actor, ActorKind, Ctx},
    db::Db,
    error::{Error, Result},
    governance::{random_secret, sha256_hex},
    rfc3339,
    uow::Change,
};

/// A proven lookup: the secret goes into the portal cookie, only its hash is stored.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub secret: String,
    pub expires_at: i64,
}

/// Checks a lookup and, when the proof holds, opens a portal session for the
/// order. `Ok(None)` is "no such order with that proof", whichever part was
/// wrong. Throttled lookups are `Error::Throttled`.
#[tracing::instrument(skip_all, fields(remote = %remote))]
pub async fn open_portal_session(
    db: &Db,
    ctx: &Ctx,
    lookup: &PortalLookup,
    remote: &str,
) -> Result<Option<PortalSession>> {
    let now = ctx.now();
    let window_start = now - PORTAL_WINDOW_SECS * 1_000_000;
    let order_key = format!("portal-order|{}", lookup.number.to_uppercase());
    let address_key = format!("portal-address|{remote}");
    let for_order = crate::throttle::count(db, &order_key, now, window_start).await?;
    let from_address = crate::throttle::count(db, &address_key, now, window_start).await?;
    if !portal_lookup_allowed(for_order, from_address) {
        return Err(Error::Throttled {
            reason: "too many order lookups".into(),
            retry_after_secs: PORTAL_WINDOW_SECS,
        });
    }
    let row = sqlx::query(
        "select order_id, customer_email, ship_postcode, currency, total_minor, placed_at
         from sales_order where number = $1",
    )
    .bind(&lookup.number)
    .fetch_optional(&db.pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let currency: String = row.try_get("currency")?;
    let currency =
        domain::Currency::parse(&currency).map_err(|e| Error::Internal(e.to_string()))?;
    let placed_at: i64 = row.try_get("placed_at")?;
    let facts = OrderFacts {
        email: row.try_get("customer_email")?,
        postcode: row.try_get("ship_postcode")?,
        total: domain::Money::from_minor(row.try_get("total_minor")?, currency),
        placed_at: DateTime::from_timestamp_micros(placed_at).unwrap_or_default(),
    };
    if !lookup.proof.holds(&facts) {
        return Ok(None);
    }
    let order_id: String = row.try_get("order_id")?;
    let secret = random_secret();
    let expires_at = now + PORTAL_SESSION_SECS * 1_000_000;
    // The visitor is named by the order they proved, so the audit log says
    // who opened it without storing what they typed.
    let mut visitor = ctx.clone();
    visitor.actor = Actor {
        kind: ActorKind::Anonymous,
        id: None,
        name: format!("portal visitor of {}", lookup.number),
        ..Actor::anonymous()
    };
    let mut uow = db.begin(&visitor).await?;
    crate::throttle::clear(&mut uow.tx, &order_key).await?;
    // Expired portal sessions go as new ones open, so the table stays the
    // size of the live ones without a sweeper.
    sqlx::query("delete from portal_session where expires_at <= $1")
        .bind(now)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("insert into portal_session (session_id, order_id, created_at, expires_at) values ($1, $2, $3, $4)")
        .bind(sha256_hex(&secret))
        .bind(&order_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "portal.session_opened",
            entity: "order",
            entity_id: &order_id,
            before: None,
            after: Some(serde_json::json!({"remote": remote, "expires_at": rfc3339(expires_at)})),
        },
        Event::PortalSessionOpened {
            order_id: order_id.clone(),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(Some(PortalSession { secret, expires_at }))
}

/// The order a live portal session sees; `NotFound` once it has expired or
/// when the secret is unknown, which the portal shows as "find your order again".
#[tracing::instrument(skip_all)]
pub async fn portal_order(db: &Db, secret: &str, now: i64) -> Result<PortalOrder> {
    let gone = || Error::NotFound {
        entity: "portal session",
        key: "this browser's".into(),
    };
    let row = sqlx::query(
        "select o.order_id, o.number, o.status, o.currency, o.total_minor, o.placed_at, s.expires_at
         from portal_session s join sales_order o on o.order_id = s.order_id
         where s.session_id = $1 and s.expires_at > $2",
    )
    .bind(sha256_hex(secret))
    .bind(now)
    .fetch_optional(&db.pool)
    .await?
    .ok_or_else(gone)?;
    let order_id: String = row.try_get("order_id")?;
    let currency: String = row.try_get("currency")?;
    let currency =
        domain::Currency::parse(&currency).map_err(|e| Error::Internal(e.to_string()))?;
    let lines = sqlx::query(
        "select sku, name, quantity, cancelled_quantity, shipped_quantity from order_line
         where order_id = $1 order by line_no",
    )
    .bind(&order_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(PortalLine {
            sku: r.try_get("sku")?,
            name: r.try_get("name")?,
            quantity: r.try_get("quantity")?,
            cancelled: r.try_get("cancelled_quantity")?,
            shipped: r.try_get("shipped_quantity")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let mut shipments: Vec<PortalShipment> = Vec::new();
    let rows = sqlx::query(
        "select s.number, s.carrier, s.service, s.shipped_at, p.tracking
         from shipment s left join package p on p.fulfillment_id = s.fulfillment_id
         where s.order_id = $1 order by s.shipped_at, s.number, p.seq",
    )
    .bind(&order_id)
    .fetch_all(&db.pool)
    .await?;
    for r in rows {
        let number: String = r.try_get("number")?;
        let tracking: Option<String> = r.try_get("tracking")?;
        if shipments.last().map(|s| &s.number) != Some(&number) {
            shipments.push(PortalShipment {
                number,
                carrier: r.try_get("carrier")?,
                service: r.try_get("service")?,
                shipped_at: rfc3339(r.try_get("shipped_at")?),
                tracking: Vec::new(),
            });
        }
        if let (Some(t), Some(s)) = (tracking, shipments.last_mut()) {
            s.tracking.push(t);
        }
    }
    Ok(PortalOrder {
        number: row.try_get("number")?,
        status: row.try_get("status")?,
        placed_at: rfc3339(row.try_get("placed_at")?),
        total: domain::Money::from_minor(row.try_get("total_minor")?, currency),
        lines,
        shipments,
        session_expires_at: rfc3339(row.try_get("expires_at")?),
    })
}

/// Ends a portal session ("done" on a shared phone). An unknown or expired
/// secret is already ended, so that is no error.
pub async fn close_portal_session(db: &Db, ctx: &Ctx, secret: &str) -> Result<()> {
    let id = sha256_hex(secret);
    let mut uow = db.begin(ctx).await?;
    let order_id: Option<String> =
        sqlx::query_scalar("select order_id from portal_session where session_id = $1")
            .bind(&id)
            .fetch_optional(&mut *uow.tx)
            .await?;
    let Some(order_id) = order_id else {
        return Ok(());
    };
    sqlx::query("delete from portal_session where session_id = $1")
        .bind(&id)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "portal.session_closed",
            entity: "order",
            entity_id: &order_id,
            before: None,
            after: None,
        },
        Event::PortalSessionClosed {
            order_id: order_id.clone(),
        },
    )
    .await?;
    uow.commit().await
}
