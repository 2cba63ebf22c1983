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

/// Ada, an administrator who signs in with "correct horse battery".
async fn ada(db: &Db) -> backend::governance::User {
    let input = backend::governance::NewUser {
        email: "ada@northwind.example".into(),
        name: "Ada".into(),
        role: "admin".into(),
        password: "correct horse battery".into(),
        scope: Scope::default(),
    };
    backend::governance::create_user(db, &sys(), input, None)
        .await
        .unwrap()
}

store_test!(
    a_token_stops_working_with_the_person_who_issued_it,
    |db: Db| async move {
        let sys = sys();
        let admin = ada(&db).await;
        let as_ada = Ctx::new(
            Actor {
                kind: ActorKind::User,
                id: Some(admin.id.clone()),
                name: "Ada".into(),
                role: Some(Role::Admin),
                scope: Scope::default(),
            },
            None,
        );
        let issued =
            backend::governance::create_token(&db, &as_ada, "ci", "admin", Scope::default())
                .await
                .unwrap();
        // A token made with that token is hers too.
        let via_token = backend::governance::token_actor(&db, &issued.secret)
            .await
            .unwrap()
            .unwrap();
        let second = backend::governance::create_token(
            &db,
            &Ctx::new(via_token, None),
            "ci-2",
            "admin",
            Scope::default(),
        )
        .await
        .unwrap();
        let cli = backend::governance::create_token(&db, &sys, "ops", "admin", Scope::default())
            .await
            .unwrap();
        backend::governance::update_user(
            &db,
            &sys,
            &admin.id,
            backend::governance::UserUpdate {
                role: "admin".into(),
                active: false,
                scope: Scope::default(),
                version: admin.version,
            },
        )
        .await
        .unwrap();
        // #19: a disabled admin's token still created admin users.
        for secret in [&issued.secret, &second.secret] {
            assert!(backend::governance::token_actor(&db, secret)
                .await
                .unwrap()
                .is_none());
        }
        assert!(backend::governance::token_actor(&db, &cli.secret)
            .await
            .unwrap()
            .is_some());
    }
);

store_test!(
    one_person_runs_at_most_two_imports_at_once,
    |db: Db| async move {
        let ctx = sys();
        let csv = "sku,name\nMUG,Mug\n";
        let mut staged = Vec::new();
        for _ in 0..3 {
            staged.push(
                backend::catalog::stage_import(&db, &ctx, csv)
                    .await
                    .unwrap(),
            );
        }
        let first = backend::catalog::begin_import(&db, &ctx, &staged[0].id)
            .await
            .unwrap();
        backend::catalog::begin_import(&db, &ctx, &staged[1].id)
            .await
            .unwrap();
        match backend::catalog::begin_import(&db, &ctx, &staged[2].id).await {
            Err(Error::Throttled {
                retry_after_secs,
                reason,
            }) => {
                assert_eq!(retry_after_secs, 30);
                assert!(reason.contains("2 imports running"), "{reason}");
            }
            other => panic!("{:?}", other.map(|p| p.job)),
        }
        // Once one ends, the third starts; a started one is not claimed twice.
        first.run().await.unwrap();
        backend::catalog::begin_import(&db, &ctx, &staged[2].id)
            .await
            .unwrap();
        assert!(matches!(
            backend::catalog::begin_import(&db, &ctx, &staged[0].id)
                .await
                .map(|p| p.job),
            Err(Error::Conflict { .. })
        ));
    }
);

store_test!(
    sign_in_stops_at_five_failures_per_account_and_address_even_in_parallel,
    |db: Db| async move {
        ada(&db).await;
        // #19: 38 of 40 parallel wrong passwords were checked.
        let tries: Vec<_> = (0..40)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    let ctx = Ctx::new(Actor::anonymous(), None);
                    backend::governance::sign_in(
                        &db,
                        &ctx,
                        "ada@northwind.example",
                        "wrong password!",
                        "10.0.0.66",
                    )
                    .await
                })
            })
            .collect();
        let (mut checked, mut throttled) = (0, 0);
        for t in tries {
            match t.await.unwrap() {
                Err(Error::Invalid(_)) => checked += 1,
                Err(Error::Throttled { .. }) => throttled += 1,
                other => panic!("{:?}", other.map(|s| s.user.email)),
            }
        }
        assert_eq!((checked, throttled), (5, 35));
        let anon = Ctx::new(Actor::anonymous(), None);
        // The right password from that address waits out the window too...
        assert!(matches!(
            backend::governance::sign_in(
                &db,
                &anon,
                "ada@northwind.example",
                "correct horse battery",
                "10.0.0.66"
            )
            .await,
            Err(Error::Throttled { .. })
        ));
        // ...but failures from one address don't lock the person out elsewhere.
        backend::governance::sign_in(
            &db,
            &anon,
            "ada@northwind.example",
            "correct horse battery",
            "10.0.0.7",
        )
        .await
        .unwrap();
    }
);

fn lookup(number: &str, contact: &str, detail: &str) -> domain::orders::PortalLookup {
    domain::orders::PortalLookup::parse(number, contact, detail).unwrap()
}

store_test!(
    a_proven_portal_lookup_opens_a_session_that_sees_that_order_only,
    |db: Db| async move {
        shop(&db).await;
        let capture = |id: &'static str| {
            let db = db.clone();
            async move {
                orders::capture(&db, &sys(), web_order(id, &[("A", 1)]), None, None)
                    .await
                    .unwrap()
                    .order
            }
        };
        let (a, b) = (capture("P-1").await, capture("P-2").await);
        let shopper = Ctx::new(Actor::anonymous(), None);
        let open = |l: domain::orders::PortalLookup, remote: &'static str| {
            let (db, shopper) = (db.clone(), shopper.clone());
            async move { orders::open_portal_session(&db, &shopper, &l, remote).await }
        };
        // Wrong email, unknown number, postcode with a wrong total: nothing,
        // alike, and no session.
        for l in [
            lookup(&a.number, "ann@example.org", ""),
            lookup("SO-999999", "ann@example.com", ""),
            lookup(&a.number, "78701", "1.00"),
            lookup(&a.number, "78702", &a.totals.total.amount().to_string()),
        ] {
            assert!(open(l, "10.0.0.1").await.unwrap().is_none());
        }
        assert_eq!(count(&db, "select count(*) from portal_session").await, 0);

        // The email in any case, or the postcode plus the total or the date.
        let by_email = open(lookup(&a.number, "ANN@example.com", ""), "10.0.0.1")
            .await
            .unwrap()
            .expect("the email proves it");
        let by_total = open(
            lookup(&a.number, "78 701", &a.totals.total.amount().to_string()),
            "10.0.0.1",
        )
        .await
        .unwrap()
        .expect("postcode and total prove it");
        let day = &a.placed_at[..10];
        assert!(open(lookup(&a.number, "78701", day), "10.0.0.1")
            .await
            .unwrap()
            .is_some());
        let now = sys().now();
        for s in [&by_email, &by_total] {
            let seen = orders::portal_order(&db, &s.secret, now).await.unwrap();
            assert_eq!(seen.number, a.number);
            assert_eq!(seen.total, a.totals.total);
            assert_eq!(seen.lines.len(), 1);
            assert_eq!(seen.lines[0].quantity, 1);
        }
        // Each opening is audited and an event, naming the order only.
        assert_eq!(
            count(
                &db,
                "select count(*) from event where event_type = 'portal.session_opened'"
            )
            .await,
            3
        );
        assert_eq!(
            count(
                &db,
                "select count(*) from audit_log where action = 'portal.session_opened'"
            )
            .await,
            3
        );
        // A session ends after 30 minutes, or when the shopper is done; an
        // unknown secret sees nothing.
        let later = now + (domain::orders::PORTAL_SESSION_SECS + 1) * 1_000_000;
        for (secret, at) in [(&by_email.secret, later), (&"guess".to_string(), now)] {
            let r = orders::portal_order(&db, secret, at).await;
            assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
        }
        orders::close_portal_session(&db, &shopper, &by_total.secret)
            .await
            .unwrap();
        let r = orders::portal_order(&db, &by_total.secret, now).await;
        assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");

        // Five failures lock an order number, from any address, even for
        // the right proof; other orders are unaffected.
        for i in 0..domain::orders::PORTAL_MAX_PER_ORDER {
            let remote = ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5"][i as usize];
            assert!(open(lookup(&b.number, "x@example.com", ""), remote)
                .await
                .unwrap()
                .is_none());
        }
        let r = open(lookup(&b.number, "ann@example.com", ""), "10.1.0.6").await;
        assert!(matches!(r, Err(Error::Throttled { .. })), "{r:?}");
        // Twenty lookups from one address, of any orders, lock that address.
        for i in 0..domain::orders::PORTAL_MAX_PER_ADDRESS {
            let number = format!("SO-{}", 900_000 + i);
            let _ = open(lookup(&number, "ann@example.com", ""), "10.2.0.1")
                .await
                .unwrap();
        }
        let r = open(lookup(&a.number, "ann@example.com", ""), "10.2.0.1").await;
        assert!(matches!(r, Err(Error::Throttled { .. })), "{r:?}");
        assert!(open(lookup(&a.number, "ann@example.com", ""), "10.2.0.2")
            .await
            .unwrap()
            .is_some());
        assert_no_drift(&db).await;
    }
);

store_test!(
    every_person_changes_their_own_password_with_the_current_one,
    |db: Db| async move {
        use backend::governance::{self as g, NewUser};
        let input = NewUser {
            email: "jo@northwind.example".into(),
            name: "Jo".into(),
            role: "warehouse".into(),
            password: "first password 1".into(),
            scope: Scope::default(),
        };
        g::create_user(&db, &sys(), input, None).await.unwrap();
        // Two sessions: the one Jo changes it from stays, the other ends.
        let here = g::sign_in(&db, &sys(), "jo@northwind.example", "first password 1", "a")
            .await
            .unwrap();
        let there = g::sign_in(&db, &sys(), "jo@northwind.example", "first password 1", "b")
            .await
            .unwrap();
        let now = sys().now();
        let jo = Ctx::new(
            g::session_actor(&db, &here.secret, now)
                .await
                .unwrap()
                .unwrap(),
            None,
        );
        let field = |r: backend::Result<()>| match r {
            Err(Error::Invalid(f)) => f.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let change = |current: &'static str, new: &'static str| {
            let (db, jo, keep) = (db.clone(), jo.clone(), here.secret.clone());
            async move { g::change_own_password(&db, &jo, current, new, Some(&keep)).await }
        };
        assert_eq!(
            field(change("", "short").await),
            ["current_password", "new_password"]
        );
        assert_eq!(
            field(change("first password 1", "first password 1").await),
            ["new_password"]
        );
        assert_eq!(
            field(change("wrong password", "second password 2").await),
            ["current_password"]
        );
        // Nobody else, and no token, changes it this way.
        let r = g::change_own_password(
            &db,
            &Ctx::new(Actor::anonymous(), None),
            "a",
            "second password 2",
            None,
        )
        .await;
        assert!(matches!(r, Err(Error::Unauthenticated)), "{r:?}");
        let token = g::create_token(&db, &sys(), "bot", "warehouse", Scope::default())
            .await
            .unwrap();
        let bot = Ctx::new(
            g::token_actor(&db, &token.secret).await.unwrap().unwrap(),
            None,
        );
        assert_eq!(
            field(g::change_own_password(&db, &bot, "x", "second password 2", None).await),
            ["current_password"]
        );

        change("first password 1", "second password 2")
            .await
            .unwrap();
        assert!(g::session_actor(&db, &here.secret, now)
            .await
            .unwrap()
            .is_some());
        assert!(g::session_actor(&db, &there.secret, now)
            .await
            .unwrap()
            .is_none());
        assert!(
            g::sign_in(&db, &sys(), "jo@northwind.example", "first password 1", "c")
                .await
                .is_err()
        );
        g::sign_in(
            &db,
            &sys(),
            "jo@northwind.example",
            "second password 2",
            "c",
        )
        .await
        .unwrap();
        assert_eq!(
            count(
                &db,
                "select count(*) from audit_log where action = 'user.change_own_password'"
            )
            .await,
            1
        );

        // Guessing the current password stops after five wrong ones.
        for _ in 0..5 {
            change("wrong password", "third password 3")
                .await
                .unwrap_err();
        }
        let r = change("second password 2", "third password 3").await;
        assert!(matches!(r, Err(Error::Throttled { .. })), "{r:?}");
    }
);

store_test!(
    the_checker_names_the_first_audit_row_changed_or_removed_after_sealing,
    |db: Db| async move {
        use backend::governance::audit_chain::{check_chain, seal};
        shop(&db).await;
        let first = seal(&db).await.unwrap();
        assert!(first > 0);
        // Rows recorded later extend the chain; nothing is sealed twice.
        orders::capture(&db, &sys(), web_order("A-1", &[("A", 1)]), None, None)
            .await
            .unwrap();
        let later = seal(&db).await.unwrap();
        assert!(later > 0);
        assert_eq!(seal(&db).await.unwrap(), 0);
        let clean = check_chain(&db).await.unwrap();
        assert!(clean.drift.is_empty(), "{:?}", clean.drift);
        assert_eq!(clean.sealed as u64, first + later);

        // Someone with the database's password edits who did what.
        let victim: (String, i64) =
            sqlx::query_as("select audit_id, chain_no from audit_log where chain_no = 3")
                .fetch_one(&db.pool)
                .await
                .unwrap();
        sqlx::query("update audit_log set actor_name = 'someone else' where audit_id = $1")
            .bind(&victim.0)
            .execute(&db.pool)
            .await
            .unwrap();
        let found = check_chain(&db).await.unwrap().drift;
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains(&victim.0) && found[0].contains("row 3"),
            "{found:?}"
        );

        // Or removes a row outright.
        sqlx::query("delete from audit_log where audit_id = $1")
            .bind(&victim.0)
            .execute(&db.pool)
            .await
            .unwrap();
        let found = check_chain(&db).await.unwrap().drift;
        assert!(found[0].contains("row 3 is missing"), "{found:?}");
    }
);

#[tokio::test]
async fn sqlite_commits_are_durable_unless_normal_is_chosen() {
    let dir = std::env::temp_dir().join(format!("keel-durability-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/keel.db", dir.display());
    for (durability, level) in [(None, 2), (Some(backend::Durability::Normal), 1)] {
        let db = match durability {
            None => Db::connect(&url).await.unwrap(),
            Some(d) => Db::connect_with(&url, d).await.unwrap(),
        };
        // 2 is FULL: the log is synced at every commit; 1 is NORMAL.
        let got: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(got, level);
        db.close().await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
