//! Privacy requests (#19): everything Keel holds about a customer as one
//! JSON document, and erasure on request.
//!
//! Invariants:
//! - Only a caller with `privacy.manage` over the whole business may ask: a
//!   customer's orders span channels and warehouses.
//! - A customer is named by their email in the request body, never in a
//!   path, so it stays out of access logs.
//! - Erasure is one transaction: the customer, their address book, their
//!   orders' personal fields, notes, hold details, exception details, event
//!   payloads and audit rows are rewritten, with the erasure's own audit row
//!   and event, or nothing is. Money, quantities, stock, status, country and
//!   region stay, so totals, stock ledgers and tax still reconcile.
//! - Rewritten audit rows keep their place in the hash chain (see
//!   `governance::audit_chain::redact`), and the erasure's audit row lists
//!   them without naming the customer.
//! - A customer with an order still to ship is refused (`orders_open`): the
//!   warehouse needs the address.

use domain::events::Event;
use domain::governance::Permission;
use domain::orders::privacy::{
    blocks_erasure, erased_address, erased_email, Identifiers, ERASED, ERASED_NAME,
};
use domain::orders::{Address, OrderStatus};
use domain::text::Email;
use domain::views::{CustomerExport, Erasure, ExportedCustomer, PortalVisit};
use sqlx::Row;

use crate::{
    ctx::Ctx,
    db::Db,
    error::{Conflict, Error, Result},
    governance::{audit_chain, require_whole_business},
    rfc3339,
    uow::{Change, Uow},
};

/// The shape of an export, so a reader can tell versions apart.
pub const EXPORT_FORMAT: &str = "keel.customer-export/1";

/// Reasons are for the audit log: short, and never a copy of the request.
const MAX_REASON: usize = 500;

struct Customer {
    id: String,
    email: String,
    name: String,
    phone: String,
    orders_count: i64,
    first_order_at: Option<i64>,
    last_order_at: Option<i64>,
    created_at: i64,
    erased_at: Option<i64>,
}

fn parse_email(email: &str) -> Result<Email> {
    Email::parse(email).map_err(|m| Error::invalid("email", &m))
}

async fn find(conn: &mut sqlx::AnyConnection, email: &Email) -> Result<Customer> {
    let row = sqlx::query(
        "select customer_id, email, name, phone, orders_count, first_order_at, last_order_at,
                created_at, erased_at
         from customer where email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(&mut *conn)
    .await?
    // The 404 names no address: the answer may be logged or shown.
    .ok_or_else(|| Error::NotFound {
        entity: "customer",
        key: "with that email".into(),
    })?;
    Ok(Customer {
        id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        phone: row.try_get("phone")?,
        orders_count: row.try_get("orders_count")?,
        first_order_at: row.try_get("first_order_at")?,
        last_order_at: row.try_get("last_order_at")?,
        created_at: row.try_get("created_at")?,
        erased_at: row.try_get("erased_at")?,
    })
}

/// The customer's orders, oldest first: (id, number, status).
async fn orders_of(
    conn: &mut sqlx::AnyConnection,
    c: &Customer,
) -> Result<Vec<(String, String, String)>> {
    let rows = sqlx::query(
        "select order_id, number, status from sales_order
         where customer_id = $1 or customer_email = $2 order by placed_at, order_id",
    )
    .bind(&c.id)
    .bind(&c.email)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
        .collect()
}

async fn addresses_of(conn: &mut sqlx::AnyConnection, customer_id: &str) -> Result<Vec<Address>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "select address_json from customer_address where customer_id = $1 order by created_at, address_id",
    )
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|json| crate::sql::stored_json("a customer's address", json))
        .collect()
}

/// Everything about the customer with this email, as one document; the
/// export itself is audited (who asked, how many orders) and announced.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn export(db: &Db, ctx: &Ctx, email: &str) -> Result<CustomerExport> {
    require_whole_business(ctx, Permission::PrivacyManage)?;
    let email = parse_email(email)?;
    let mut conn = db.pool.acquire().await?;
    let c = find(&mut conn, &email).await?;
    let order_ids = orders_of(&mut conn, &c).await?;
    let addresses = addresses_of(&mut conn, &c.id).await?;
    let mut portal_sessions = Vec::new();
    for (id, number, _) in &order_ids {
        let rows = sqlx::query(
            "select created_at, expires_at from portal_session where order_id = $1 order by created_at",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            portal_sessions.push(PortalVisit {
                order: number.clone(),
                opened_at: rfc3339(r.try_get("created_at")?),
                expires_at: rfc3339(r.try_get("expires_at")?),
            });
        }
    }
    drop(conn);
    let mut orders = Vec::with_capacity(order_ids.len());
    for (id, _, _) in &order_ids {
        orders.push(super::read::load(db, ctx, id).await?);
    }
    let mut uow = db.begin(ctx).await?;
    uow.record(
        Change {
            action: "customer.export",
            entity: "customer",
            entity_id: &c.id,
            before: None,
            after: Some(serde_json::json!({"orders": orders.len()})),
        },
        Event::CustomerExported {
            customer_id: c.id.clone(),
            orders: orders.len() as i64,
        },
    )
    .await?;
    let exported_at = rfc3339(uow.now());
    uow.commit().await?;
    Ok(CustomerExport {
        format: EXPORT_FORMAT.into(),
        exported_at,
        customer: ExportedCustomer {
            id: c.id,
            email: c.email,
            name: c.name,
            phone: c.phone,
            orders_count: c.orders_count,
            first_order_at: c.first_order_at.map(rfc3339),
            last_order_at: c.last_order_at.map(rfc3339),
            created_at: rfc3339(c.created_at),
            erased_at: c.erased_at.map(rfc3339),
        },
        addresses,
        orders,
        portal_sessions,
    })
}

/// Erases the customer with this email: see the module's invariants.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn erase(db: &Db, ctx: &Ctx, email: &str, reason: &str) -> Result<Erasure> {
    require_whole_business(ctx, Permission::PrivacyManage)?;
    let email = parse_email(email)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(Error::invalid(
            "reason",
            "say why, in 1 to 500 characters (the request's reference, say)",
        ));
    }
    // Seal what is recorded so far, so the rows rewritten below are already
    // in the chain with the digests of what they said.
    audit_chain::seal(db).await?;
    let mut uow = db.begin(ctx).await?;
    let c = find(&mut uow.tx, &email).await?;
    if c.erased_at.is_some() {
        return Err(Error::Conflict {
            code: Conflict::AlreadyErased,
            message: "this customer was already erased".into(),
        });
    }
    let orders = orders_of(&mut uow.tx, &c).await?;
    let open: Vec<&str> = orders
        .iter()
        .filter(|(_, _, s)| OrderStatus::parse(s).is_none_or(blocks_erasure))
        .map(|(_, n, _)| n.as_str())
        .collect();
    if !open.is_empty() {
        return Err(Error::Conflict {
            code: Conflict::OrdersOpen,
            message: format!(
                "the customer has orders still to ship ({}); ship or cancel them first, since the warehouse needs the address",
                open.join(", ")
            ),
        });
    }
    let order_ids: Vec<String> = orders.into_iter().map(|(id, _, _)| id).collect();
    let texts = order_texts(&mut uow, &order_ids).await?;
    let ids = identifiers(&mut uow, &c, &texts).await?;
    let erasure = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    erase_customer(&mut uow, &c, now).await?;
    for order in &texts {
        erase_order(&mut uow, order, &c, &ids, now).await?;
    }
    let events = erase_events(&mut uow, &order_ids, &ids).await?;
    let rewrite = |v: &mut serde_json::Value| ids.redact_json(v);
    let mut rows =
        audit_chain::redact(&mut uow.tx, &erasure, "order", &order_ids, &rewrite).await?;
    rows.extend(
        audit_chain::redact(
            &mut uow.tx,
            &erasure,
            "customer",
            std::slice::from_ref(&c.id),
            &rewrite,
        )
        .await?,
    );
    let report = Erasure {
        id: erasure.clone(),
        customer_id: c.id.clone(),
        orders: order_ids.len() as i64,
        audit_rows: rows.len() as i64,
        events,
        erased_at: rfc3339(now),
    };
    uow.record(
        Change {
            action: audit_chain::ERASURE_ACTION,
            entity: "customer",
            entity_id: &c.id,
            before: None,
            after: Some(serde_json::json!({
                "erasure": erasure,
                "reason": ids.redact_text(reason),
                "orders": report.orders,
                "events": events,
                "audit_rows": rows,
            })),
        },
        Event::CustomerErased {
            customer_id: c.id.clone(),
            orders: report.orders,
            audit_rows: report.audit_rows,
            events,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(report)
}

/// The personal text of one order, read once for both finding the
/// customer's identifiers and rewriting it.
struct OrderText {
    id: String,
    ship_to: String,
    bill_to: Option<String>,
    note: String,
    fraud_reasons: String,
}

async fn order_texts(uow: &mut Uow, order_ids: &[String]) -> Result<Vec<OrderText>> {
    let mut out = Vec::with_capacity(order_ids.len());
    for id in order_ids {
        let row = sqlx::query(
            "select ship_to_json, bill_to_json, note, fraud_reasons_json from sales_order where order_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *uow.tx)
        .await?;
        out.push(OrderText {
            id: id.clone(),
            ship_to: row.try_get("ship_to_json")?,
            bill_to: row.try_get("bill_to_json")?,
            note: row.try_get("note")?,
            fraud_reasons: row.try_get("fraud_reasons_json")?,
        });
    }
    Ok(out)
}

/// What identifies the customer: their own details and every address on
/// their orders or in their address book.
async fn identifiers(uow: &mut Uow, c: &Customer, orders: &[OrderText]) -> Result<Identifiers> {
    let mut addresses = addresses_of(&mut uow.tx, &c.id).await?;
    for o in orders {
        for json in std::iter::once(&o.ship_to).chain(&o.bill_to) {
            if let Ok(a) = serde_json::from_str::<Address>(json) {
                addresses.push(a);
            }
        }
    }
    Ok(Identifiers::of(&c.email, &c.name, &c.phone, &addresses))
}

async fn erase_customer(uow: &mut Uow, c: &Customer, now: i64) -> Result<()> {
    sqlx::query("delete from customer_address where customer_id = $1")
        .bind(&c.id)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query(
        "update customer set email = $2, name = $3, phone = '', name_key = '', last_key = '',
         erased_at = $4, updated_at = $4, version = version + 1 where customer_id = $1",
    )
    .bind(&c.id)
    .bind(erased_email(&c.id))
    .bind(ERASED_NAME)
    .bind(now)
    .execute(&mut *uow.tx)
    .await?;
    Ok(())
}

/// Rewrites one order's personal fields and free text; its money, lines,
/// status, country and region stay.
async fn erase_order(
    uow: &mut Uow,
    order: &OrderText,
    c: &Customer,
    ids: &Identifiers,
    now: i64,
) -> Result<()> {
    let id = order.id.as_str();
    let address = |json: &String| -> String {
        match serde_json::from_str::<Address>(json) {
            Ok(a) => serde_json::to_string(&erased_address(&a)).unwrap_or_else(|_| "{}".into()),
            Err(_) => "{}".into(),
        }
    };
    let ship_to = address(&order.ship_to);
    let bill_to = order.bill_to.as_ref().map(address);
    let note = &order.note;
    let mut reasons: serde_json::Value =
        serde_json::from_str(&order.fraud_reasons).unwrap_or_default();
    ids.redact_json(&mut reasons);
    sqlx::query(
        "update sales_order set customer_email = $2, customer_name = $3, ship_to_json = $4,
         bill_to_json = $5, ship_postcode = '', note = $6, fraud_reasons_json = $7,
         updated_at = $8, version = version + 1 where order_id = $1",
    )
    .bind(id)
    .bind(erased_email(&c.id))
    .bind(ERASED_NAME)
    .bind(ship_to)
    .bind(bill_to)
    .bind(if note.is_empty() { "" } else { ERASED })
    .bind(reasons.to_string())
    .bind(now)
    .execute(&mut *uow.tx)
    .await?;
    sqlx::query("update order_note set body = $2 where order_id = $1")
        .bind(id)
        .bind(ERASED)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("delete from portal_session where order_id = $1")
        .bind(id)
        .execute(&mut *uow.tx)
        .await?;
    // Hold details and exception details quote the order's facts; a manual
    // hold's detail and a release note are whatever a person typed.
    let holds = sqlx::query(
        "select hold_id, reason, detail, release_note from order_hold where order_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    for h in holds {
        let reason: String = h.try_get("reason")?;
        let detail: String = h.try_get("detail")?;
        let note: Option<String> = h.try_get("release_note")?;
        let detail = if reason == "manual" && !detail.is_empty() {
            ERASED.to_string()
        } else {
            ids.redact_text(&detail)
        };
        sqlx::query("update order_hold set detail = $2, release_note = $3 where hold_id = $1")
            .bind(h.try_get::<String, _>("hold_id")?)
            .bind(detail)
            .bind(note.filter(|n| !n.is_empty()).map(|_| ERASED.to_string()))
            .execute(&mut *uow.tx)
            .await?;
    }
    let items = sqlx::query(
        "select exception_id, detail from exception_item where entity = 'order' and entity_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *uow.tx)
    .await?;
    for x in items {
        let detail: String = x.try_get("detail")?;
        let redacted = ids.redact_text(&detail);
        if redacted != detail {
            sqlx::query("update exception_item set detail = $2 where exception_id = $1")
                .bind(x.try_get::<String, _>("exception_id")?)
                .bind(redacted)
                .execute(&mut *uow.tx)
                .await?;
        }
    }
    Ok(())
}

/// Rewrites the payloads of the orders' events that name the customer; how
/// many it rewrote.
async fn erase_events(uow: &mut Uow, order_ids: &[String], ids: &Identifiers) -> Result<i64> {
    let mut rewritten = 0;
    for id in order_ids {
        let rows =
            sqlx::query("select seq, payload from event where entity = 'order' and entity_id = $1")
                .bind(id)
                .fetch_all(&mut *uow.tx)
                .await?;
        for r in rows {
            let payload: String = r.try_get("payload")?;
            let mut value: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            if ids.redact_json(&mut value) {
                sqlx::query("update event set payload = $2 where seq = $1")
                    .bind(r.try_get::<i64, _>("seq")?)
                    .bind(value.to_string())
                    .execute(&mut *uow.tx)
                    .await?;
                rewritten += 1;
            }
        }
    }
    Ok(rewritten)
}
