//! Store tests for #19's defects found from outside, on SQLite and
//! PostgreSQL: numbers from outside stay in their ranges and change nothing
//! when they don't, an order's reservation changes only through the order,
//! and the checker sees an order whose reservation disagrees with it.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    analytics::{self, ExceptionFilter},
    db::Backend,
    inventory::{self, AdjustmentInput},
    orders, store_test,
    testing::fixtures::{assert_no_drift, channel, item, receive, sys, warehouse, web_order},
    Actor, ActorKind, Clock, Conflict, Ctx, Db, Error,
};
use domain::{
    analytics::Thresholds,
    governance::{Role, Scope},
    orders::AmountIn,
};

fn agent_of(warehouse: &str) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some("user-eli".into()),
            name: "Eli Park".into(),
            role: Some(Role::Manager),
            scope: Scope {
                warehouses: vec![warehouse.into()],
                channels: vec![],
            },
        },
        None,
    )
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

async fn shop(db: &Db) {
    warehouse(db, "EAST").await;
    warehouse(db, "CENTRAL").await;
    channel(db, ("WEB", "web", "USD"), &["CENTRAL", "EAST"], None).await;
    item(db, "A", "4.00").await;
    receive(db, "CENTRAL", "A", 50).await;
}

fn adjustment(quantity: i64) -> AdjustmentInput {
    AdjustmentInput {
        warehouse: "CENTRAL".into(),
        sku: "A".into(),
        quantity,
        reason: "found".into(),
        location: None,
        lot: None,
        expires_on: None,
        kind: None,
        note: None,
    }
}

store_test!(
    quantities_and_amounts_beyond_their_ranges_are_refused_and_write_nothing,
    |db: Db| async move {
        shop(&db).await;
        let movements = count(&db, "select count(*) from stock_movement").await;
        // `abs()` of i64::MIN passed the old range check, and SQLite stored
        // a REAL in the ledger.
        for q in [i64::MIN, i64::MAX, 1_000_001, -1_000_001, 0] {
            match inventory::adjust(&db, &sys(), adjustment(q), None).await {
                Err(Error::Invalid(f)) => assert_eq!(f[0].field, "quantity", "{q}"),
                other => panic!("{q}: {other:?}"),
            }
        }
        assert_eq!(
            count(&db, "select count(*) from stock_movement").await,
            movements
        );
        inventory::adjust(&db, &sys(), adjustment(-1_000), None)
            .await
            .expect_err("never below zero");
        let added = inventory::adjust(&db, &sys(), adjustment(1_000_000), None).await;
        assert!(added.is_ok(), "{added:?}");

        // A price of 92233720368547758.07 × 2 wrapped to a negative total.
        let mut o = web_order("BIG-1", &[("A", 2)]);
        o.lines[0].unit_price = Some(AmountIn::Text("92233720368547758.07".into()));
        match orders::capture(&db, &sys(), o, None, None).await {
            Err(Error::Invalid(f)) => {
                assert_eq!(f[0].field, "lines[0].unit_price");
                assert_eq!(
                    f[0].message,
                    "use an amount from -1,000,000,000 to 1,000,000,000"
                );
            }
            other => panic!("{other:?}"),
        }
        // Each line in range, the order beyond what one order may hold.
        let mut o = web_order("BIG-2", &[("A", 100_000), ("A", 100_000)]);
        for l in &mut o.lines {
            l.unit_price = Some(AmountIn::Text("999999999.99".into()));
        }
        match orders::capture(&db, &sys(), o, None, None).await {
            Err(Error::Invalid(f)) => assert_eq!(f[0].field, "lines"),
            other => panic!("{other:?}"),
        }
        assert_eq!(count(&db, "select count(*) from sales_order").await, 0);
        assert_no_drift(&db).await;
    }
);

store_test!(
    an_orders_reservation_changes_only_through_the_order,
    |db: Db| async move {
        shop(&db).await;
        let order = orders::capture(&db, &sys(), web_order("W-1", &[("A", 35)]), None, None)
            .await
            .unwrap()
            .order;
        let reservation = order.reservation.clone().unwrap().id;
        // An EAST agent doesn't see a CENTRAL reservation at all.
        for r in [
            inventory::get_reservation(&db, &agent_of("EAST"), &reservation).await,
            inventory::release(&db, &agent_of("EAST"), &reservation).await,
            inventory::consume(&db, &agent_of("EAST"), &reservation).await,
        ] {
            assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
        }
        // In scope, it is still the order's: refused, naming the order.
        for r in [
            inventory::release(&db, &agent_of("CENTRAL"), &reservation).await,
            inventory::consume(&db, &sys(), &reservation).await,
        ] {
            match r {
                Err(Error::Conflict { code, message }) => {
                    assert_eq!(code, Conflict::ReservationOfOrder);
                    assert!(message.contains(&order.number), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        let seen = inventory::get_reservation(&db, &agent_of("CENTRAL"), &reservation)
            .await
            .unwrap();
        assert_eq!(seen.status, "active");
        assert_eq!(
            inventory::stock(&db, &sys(), "A").await.unwrap().reserved,
            35
        );
        assert_no_drift(&db).await;

        // A reservation of no order is still released the direct way.
        let held = inventory::reserve(
            &db,
            &agent_of("CENTRAL"),
            inventory::ReservationInput {
                reference: "showroom".into(),
                channel: None,
                lines: vec![inventory::ReservationLineInput {
                    sku: "A".into(),
                    quantity: 5,
                }],
            },
            None,
        )
        .await
        .unwrap();
        let released = inventory::release(&db, &agent_of("CENTRAL"), &held.id)
            .await
            .unwrap();
        assert_eq!(released.status, "released");
        assert_no_drift(&db).await;
    }
);

store_test!(
    the_checker_names_an_order_whose_reservation_disagrees_with_it,
    |db: Db| async move {
        shop(&db).await;
        let order = orders::capture(&db, &sys(), web_order("W-1", &[("A", 3)]), None, None)
            .await
            .unwrap()
            .order;
        assert!(orders::check::check(&db).await.unwrap().is_empty());
        // What the old release did behind the order's back.
        sqlx::query("update reservation set status = 'released'")
            .execute(&db.pool)
            .await
            .unwrap();
        let drift = orders::check::check(&db).await.unwrap();
        assert_eq!(
            drift,
            vec![format!(
                "order vs its reservation: {} is confirmed but its reservation {} is released",
                order.number,
                order.reservation.unwrap().id
            )]
        );
    }
);

/// Makes one order unreadable as the projectors read it: a text where the
/// placed-at instant goes on SQLite, a NULL where one is required on
/// PostgreSQL (whose types won't take the text).
async fn spoil(db: &Db, number: &str) {
    if db.backend == Backend::Postgres {
        sqlx::query("alter table sales_order alter column placed_at drop not null")
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let value = if db.backend == Backend::Postgres {
        "null"
    } else {
        "'soon'"
    };
    sqlx::query(&format!(
        "update sales_order set placed_at = {value} where number = $1"
    ))
    .bind(number)
    .execute(&db.pool)
    .await
    .unwrap();
}

store_test!(
    one_unreadable_order_is_stepped_past_and_raised_while_the_queues_go_on,
    |db: Db| async move {
        shop(&db).await;
        let clock = Clock::System;
        let bad = orders::capture(&db, &sys(), web_order("W-1", &[("A", 1)]), None, None)
            .await
            .unwrap()
            .order;
        spoil(&db, &bad.number).await;
        let mut failed = web_order("W-2", &[("A", 1)]);
        failed.payment_status = "failed".into();
        let failed = orders::capture(&db, &sys(), failed, None, None)
            .await
            .unwrap()
            .order;
        let skipped = backend::SKIPPED_EVENTS.load(std::sync::atomic::Ordering::Relaxed);
        // Before #19 the batch failed on every run and nothing after it
        // reached a queue.
        analytics::project(&db, &clock, &Thresholds::default())
            .await
            .unwrap();
        let list = |queue: &str| {
            let db = db.clone();
            let queue = queue.to_string();
            async move {
                analytics::list(
                    &db,
                    &sys(),
                    &ExceptionFilter {
                        queue: Some(queue),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .items
            }
        };
        let payment = list("payment").await;
        assert_eq!(payment.len(), 1);
        assert_eq!(payment[0].entity_id, failed.id);
        let integration = list("integration").await;
        assert_eq!(integration.len(), 1, "{integration:?}");
        assert_eq!(integration[0].reason, "projection_skipped");
        assert!(
            integration[0].detail.contains("the exceptions projection"),
            "{}",
            integration[0].detail
        );
        assert!(backend::SKIPPED_EVENTS.load(std::sync::atomic::Ordering::Relaxed) > skipped);
        // The KPI projection steps past it too instead of stopping.
        backend::kpi::project(&db, &clock).await.unwrap();
    }
);
