//! Store tests for the exception queues, on SQLite and PostgreSQL: a failed
//! payment, a stockout, a stuck order and a pick past ship-by each reach
//! their queue with owner, age, SLA and link; items close when their
//! condition ends; people assign, snooze and resolve them under the rules
//! and the audit log; the projection applies each event once even with two
//! instances, and `check` agrees with a full recomputation.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    analytics::{self, ExceptionFilter, Projected},
    governance::{self, AuditFilter, NewUser},
    inventory::{self, ReservationInput, ReservationLineInput},
    kpi, orders as capture, orders, store_test,
    testing::fixtures::{assert_no_drift, channel, item, receive, sys, warehouse, web_order},
    webhooks::{self, Platform},
    Actor, ActorKind, Clock, Ctx, Db, Error,
};
use domain::{
    analytics::Thresholds,
    governance::{Role, Scope},
    views::ExceptionItem,
};

/// 2026-11-20 09:00 UTC.
const T0: i64 = 1_795_165_200_000_000;
const HOUR: i64 = 3_600;

fn clocked(clock: &Clock) -> Ctx {
    sys().with_clock(clock.clone())
}

async fn setup(db: &Db) {
    warehouse(db, "EAST").await;
    channel(db, ("WEB", "web", "USD"), &["EAST"], None).await;
    item(db, "A", "4.00").await;
    item(db, "B", "4.00").await;
    receive(db, "EAST", "A", 10).await;
}

/// Captures a WEB order at the clock's time; returns its id.
async fn order(db: &Db, clock: &Clock, ext: &str, lines: &[(&str, i64)], payment: &str) -> String {
    let mut o = web_order(ext, lines);
    o.payment_status = payment.into();
    capture::capture(db, &clocked(clock), o, None, None)
        .await
        .unwrap()
        .order
        .id
}

async fn catch_up(db: &Db, clock: &Clock) -> Projected {
    analytics::project(db, clock, &Thresholds::default())
        .await
        .unwrap()
}

async fn sweep(db: &Db, clock: &Clock) -> Projected {
    analytics::sweep(db, clock, &Thresholds::default())
        .await
        .unwrap()
}

async fn queue(db: &Db, clock: &Clock, queue: &str) -> Vec<ExceptionItem> {
    listed(db, clock, queue, None).await
}

/// A queue's open items, of one reason when given.
async fn listed(db: &Db, clock: &Clock, queue: &str, reason: Option<&str>) -> Vec<ExceptionItem> {
    analytics::list(
        db,
        &clocked(clock),
        &ExceptionFilter {
            queue: Some(queue.into()),
            reason: reason.map(str::to_string),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .items
}

async fn no_projection_drift(db: &Db, clock: &Clock) {
    let drift = analytics::check(db, clock, &Thresholds::default())
        .await
        .unwrap();
    assert!(drift.is_empty(), "exception drift: {drift:#?}");
}

store_test!(
    a_failed_payment_a_stockout_a_stuck_order_and_a_late_pick_each_reach_their_queue,
    |db: Db| async move {
        setup(&db).await;
        let clock = Clock::fixed(T0);
        let failed = order(&db, &clock, "pay-1", &[("A", 1)], "failed").await;
        let waiting = order(&db, &clock, "bo-1", &[("B", 2)], "paid").await;
        let slow = order(&db, &clock, "slow-1", &[("A", 1)], "paid").await;
        let done = catch_up(&db, &clock).await;
        assert_eq!(
            done.opened, 2,
            "payment and stockout open at once: {done:?}"
        );

        let pay = queue(&db, &clock, "payment").await;
        assert_eq!(pay.len(), 1);
        assert_eq!(pay[0].entity, "order");
        assert_eq!(pay[0].entity_id, failed);
        assert_eq!(pay[0].owner, "finance");
        assert_eq!(pay[0].link, format!("/command/orders/{failed}"));
        assert_eq!(pay[0].reason, "payment_failed");
        assert_eq!(pay[0].sla_state, "on_time");
        assert_eq!(pay[0].sla_minutes_left, 240);
        assert_eq!(pay[0].channel.as_deref(), Some("WEB"));

        let out = queue(&db, &clock, "stockouts").await;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].entity_ref, "B");
        assert_eq!(
            out[0].detail,
            "Product B: 2 units on 1 order wait for stock"
        );
        assert_eq!(out[0].owner, "manager");
        assert!(queue(&db, &clock, "stuck").await.is_empty());
        assert!(queue(&db, &clock, "late_picks").await.is_empty());

        // A day on, both unheld open orders are stuck; two days on, the
        // standard order's fulfilment is past ship-by as well.
        clock.advance_secs(24 * HOUR);
        let swept = sweep(&db, &clock).await;
        assert_eq!(swept.opened, 2, "{swept:?}");
        let stuck: Vec<String> = queue(&db, &clock, "stuck")
            .await
            .into_iter()
            .map(|x| x.entity_id)
            .collect();
        assert_eq!(stuck.len(), 2);
        assert!(stuck.contains(&waiting) && stuck.contains(&slow));
        clock.advance_secs(24 * HOUR);
        sweep(&db, &clock).await;
        let late = queue(&db, &clock, "late_picks").await;
        assert_eq!(late.len(), 1, "{late:#?}");
        assert_eq!(late[0].entity, "fulfillment");
        assert!(late[0].entity_ref.ends_with("-1"));
        assert_eq!(late[0].owner, "warehouse");
        assert_eq!(late[0].warehouse.as_deref(), Some("EAST"));
        assert_eq!(late[0].sla_state, "breached");
        assert_eq!(late[0].age_minutes, 0);
        assert_eq!(late[0].link, format!("/command/orders/{slow}"));
        // The payment item has aged two days and is well past its SLA.
        let pay = queue(&db, &clock, "payment").await;
        assert_eq!(pay[0].age_minutes, 48 * 60);
        assert_eq!(pay[0].sla_state, "breached");

        // Nothing more to do, however often it runs.
        assert_eq!(sweep(&db, &clock).await, Projected::default());
        assert_eq!(catch_up(&db, &clock).await.opened, 0);
        let summary = analytics::summary(&db, &clocked(&clock)).await.unwrap();
        assert_eq!(summary.open, 5);
        assert_eq!(summary.breached, 5);
        no_projection_drift(&db, &clock).await;
        assert_no_drift(&db).await;
    }
);

store_test!(
    an_item_closes_when_its_condition_ends,
    |db: Db| async move {
        setup(&db).await;
        let clock = Clock::fixed(T0);
        let failed = order(&db, &clock, "pay-1", &[("A", 1)], "failed").await;
        let waiting = order(&db, &clock, "bo-1", &[("B", 2)], "paid").await;
        catch_up(&db, &clock).await;
        assert_eq!(queue(&db, &clock, "payment").await.len(), 1);

        let held = orders::get_order(&db, &sys(), &failed).await.unwrap();
        orders::release_hold(
            &db,
            &clocked(&clock),
            &failed,
            &held.holds[0].id,
            "paid by card",
        )
        .await
        .unwrap();
        // Stock for B arrives: the backorder is sourced and the stockout ends.
        receive(&db, "EAST", "B", 5).await;
        let done = catch_up(&db, &clock).await;
        assert_eq!(done.closed, 2, "{done:?}");
        assert!(queue(&db, &clock, "payment").await.is_empty());
        assert!(queue(&db, &clock, "stockouts").await.is_empty());
        let closed = analytics::list(
            &db,
            &clocked(&clock),
            &ExceptionFilter {
                status: Some("done".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
        assert_eq!(closed.len(), 2);
        assert!(closed
            .iter()
            .all(|x| x.status == "closed" && x.closed_by.as_deref() == Some("rule")));

        // Cancelling an order closes what it had open.
        clock.advance_secs(49 * HOUR);
        sweep(&db, &clock).await;
        assert_eq!(queue(&db, &clock, "late_picks").await.len(), 2);
        orders::cancel_order(&db, &clocked(&clock), &waiting, "customer asked")
            .await
            .unwrap();
        catch_up(&db, &clock).await;
        let late = queue(&db, &clock, "late_picks").await;
        assert_eq!(late.len(), 1);
        assert!(queue(&db, &clock, "stuck")
            .await
            .iter()
            .all(|x| x.entity_id != waiting));
        no_projection_drift(&db, &clock).await;
    }
);

fn person(user: &governance::User, role: Role) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some(user.id.clone()),
            name: user.email.clone(),
            role: Some(role),
            scope: Scope::default(),
        },
        None,
    )
}

async fn new_user(db: &Db, email: &str, role: &str) -> governance::User {
    governance::create_user(
        db,
        &sys(),
        NewUser {
            email: email.into(),
            name: format!("{role} person"),
            role: role.into(),
            password: "correct horse battery staple".into(),
            scope: Scope::default(),
        },
        None,
    )
    .await
    .unwrap()
}

store_test!(
    people_assign_snooze_and_resolve_items_under_the_rules,
    |db: Db| async move {
        setup(&db).await;
        let clock = Clock::fixed(T0);
        let failed = order(&db, &clock, "pay-1", &[("A", 1)], "failed").await;
        catch_up(&db, &clock).await;
        let id = queue(&db, &clock, "payment").await[0].id.clone();
        let support = new_user(&db, "sam@example.com", "support").await;
        let finance = new_user(&db, "fay@example.com", "finance").await;
        let sam = person(&support, Role::Support).with_clock(clock.clone());
        let fay = person(&finance, Role::Finance).with_clock(clock.clone());

        // Support doesn't own payment problems.
        let before = analytics::get(&db, &sam, &id).await.unwrap();
        match analytics::resolve(&db, &sam, &id, "done it").await {
            Err(Error::Conflict { code, message }) => {
                assert_eq!(code, "not_your_queue");
                assert!(message.contains("Finance"), "{message}");
            }
            other => panic!("expected not_your_queue, got {other:?}"),
        }
        // Bad input names the field and changes nothing.
        match analytics::snooze(&db, &fay, &id, 0, "").await {
            Err(Error::Invalid(f)) => assert_eq!(
                f.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
                ["hours", "reason"]
            ),
            other => panic!("expected invalid, got {other:?}"),
        }
        match analytics::assign(&db, &fay, &id, Some("nobody@example.com")).await {
            Err(Error::Invalid(f)) => assert_eq!(f[0].field, "assignee"),
            other => panic!("expected invalid, got {other:?}"),
        }
        assert_eq!(analytics::get(&db, &sam, &id).await.unwrap(), before);

        // Finance hands it to Sam, who may then work it.
        let x = analytics::assign(&db, &fay, &id, Some("SAM@example.com"))
            .await
            .unwrap();
        assert_eq!(x.owner, "sam@example.com");
        assert_eq!(x.assignee_name.as_deref(), Some("support person"));
        let mine = analytics::list(
            &db,
            &sam,
            &ExceptionFilter {
                owner: Some("me".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(mine.items.len(), 1);

        let x = analytics::snooze(&db, &sam, &id, 2, "customer calls back at noon")
            .await
            .unwrap();
        assert_eq!(x.status, "snoozed");
        assert!(queue(&db, &clock, "payment").await.is_empty());
        let summary = analytics::summary(&db, &clocked(&clock)).await.unwrap();
        assert_eq!((summary.open, summary.queues[0].snoozed), (0, 1));
        clock.advance_secs(2 * HOUR);
        assert_eq!(
            queue(&db, &clock, "payment").await.len(),
            1,
            "the snooze ran out"
        );

        let x = analytics::resolve(&db, &sam, &id, "Customer paid by bank transfer")
            .await
            .unwrap();
        assert_eq!(x.status, "resolved");
        assert_eq!(
            x.resolution.as_deref(),
            Some("Customer paid by bank transfer")
        );
        match analytics::resolve(&db, &sam, &id, "again").await {
            Err(Error::Conflict { code, .. }) => assert_eq!(code, "exception_closed"),
            other => panic!("expected exception_closed, got {other:?}"),
        }
        // The hold is still on, yet the item stays resolved.
        orders::add_note(&db, &clocked(&clock), &failed, "chased")
            .await
            .unwrap();
        catch_up(&db, &clock).await;
        sweep(&db, &clock).await;
        assert!(queue(&db, &clock, "payment").await.is_empty());
        no_projection_drift(&db, &clock).await;

        // Every step is in the audit log with before and after.
        let audit = governance::list_audit(
            &db,
            &sys(),
            &AuditFilter {
                entity: Some("exception".into()),
                entity_id: Some(id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        for a in [
            "exception.open",
            "exception.assign",
            "exception.snooze",
            "exception.resolve",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        let resolved = audit
            .iter()
            .find(|a| a.action == "exception.resolve")
            .unwrap();
        assert_eq!(resolved.actor_name, "sam@example.com");
        assert_eq!(resolved.after.as_ref().unwrap()["status"], "resolved");

        // Released and held again: a new episode opens a new item.
        let o = orders::get_order(&db, &sys(), &failed).await.unwrap();
        orders::release_hold(&db, &clocked(&clock), &failed, &o.holds[0].id, "paid")
            .await
            .unwrap();
        catch_up(&db, &clock).await;
        orders::place_hold(&db, &clocked(&clock), &failed, "address check")
            .await
            .unwrap();
        catch_up(&db, &clock).await;
        let holds = queue(&db, &clock, "holds").await;
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].reason, "manual");
        assert_eq!(holds[0].owner, "support");
    }
);

store_test!(
    two_instances_projecting_at_once_apply_each_event_once,
    |db: Db| async move {
        setup(&db).await;
        let clock = Clock::fixed(T0);
        for i in 0..30 {
            let payment = if i % 3 == 0 { "failed" } else { "paid" };
            order(&db, &clock, &format!("o-{i}"), &[("A", 1)], payment).await;
        }
        let other = db.another_instance().await.unwrap();
        let t = Thresholds::default();
        let (a, b) = tokio::join!(
            analytics::project(&db, &clock, &t),
            analytics::project(&other, &clock, &t)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        // Ten failed payments, and A (10 in stock, 20 paid orders) out.
        assert_eq!(a.opened + b.opened, 11, "{a:?} {b:?}");
        assert_eq!(queue(&db, &clock, "payment").await.len(), 10);
        // Pages of four, with every filter a request can carry, walk the
        // ten items once each, oldest first.
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = analytics::list(
                &db,
                &clocked(&clock),
                &ExceptionFilter {
                    queue: Some("payment".into()),
                    owner: Some("finance".into()),
                    channel: Some("web".into()),
                    reason: Some("payment_failed".into()),
                    limit: Some(4),
                    cursor: cursor.clone(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            seen.extend(page.items.into_iter().map(|x| (x.opened_at, x.id)));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((seen.len(), &seen), (10, &sorted));
        assert_eq!(queue(&db, &clock, "stockouts").await.len(), 1);
        no_projection_drift(&db, &clock).await;
        other.close().await;
    }
);

async fn live_keys(db: &Db, clock: &Clock) -> Vec<(String, String, String)> {
    let mut keys: Vec<_> = analytics::list(db, &clocked(clock), &ExceptionFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|x| (x.queue, x.entity_id, x.reason))
        .collect();
    keys.sort();
    keys
}

store_test!(
    a_rebuild_from_the_records_matches_what_the_events_built,
    |db: Db| async move {
        setup(&db).await;
        let clock = Clock::fixed(T0);
        order(&db, &clock, "pay-1", &[("A", 1)], "failed").await;
        order(&db, &clock, "bo-1", &[("B", 2)], "paid").await;
        order(&db, &clock, "slow-1", &[("A", 1)], "paid").await;
        assert!(analytics::never_projected(&db).await.unwrap());
        catch_up(&db, &clock).await;
        assert!(!analytics::never_projected(&db).await.unwrap());
        clock.advance_secs(49 * HOUR);
        sweep(&db, &clock).await;
        let built = live_keys(&db, &clock).await;
        assert_eq!(built.len(), 5, "{built:#?}");

        // As after the upgrade that added the queues: no items, no timers,
        // the cursor at the start.
        for sql in [
            "delete from exception_item",
            "delete from exception_timer",
            "update projection_cursor set seq = 0, built = 0",
        ] {
            sqlx::query(sql).execute(&db.pool).await.unwrap();
        }
        let done = analytics::rebuild(&db, &clock, &Thresholds::default())
            .await
            .unwrap();
        assert_eq!(done.opened, 5);
        assert_eq!(live_keys(&db, &clock).await, built);
        // The cursor moved past every event, so nothing is applied twice.
        assert_eq!(catch_up(&db, &clock).await.opened, 0);
        no_projection_drift(&db, &clock).await;

        // Records loaded without events (a bulk load): the rebuilds find the
        // outbox empty and leave the cursors at 0, yet count as built, so
        // `keel serve` doesn't rebuild again on every start.
        for sql in [
            "delete from event",
            "update projection_cursor set seq = 0, built = 0",
        ] {
            sqlx::query(sql).execute(&db.pool).await.unwrap();
        }
        assert!(analytics::never_projected(&db).await.unwrap());
        assert!(kpi::never_projected(&db).await.unwrap());
        analytics::rebuild(&db, &clock, &Thresholds::default())
            .await
            .unwrap();
        kpi::rebuild(&db, &clock).await.unwrap();
        assert!(!analytics::never_projected(&db).await.unwrap());
        assert!(!kpi::never_projected(&db).await.unwrap());
    }
);

async fn reserve(db: &Db, reference: &str, sku: &str, quantity: i64) -> Result<(), Error> {
    inventory::reserve(
        db,
        &sys(),
        ReservationInput {
            reference: reference.into(),
            channel: Some("web".into()),
            lines: vec![ReservationLineInput {
                sku: sku.into(),
                quantity,
            }],
        },
        None,
    )
    .await
    .map(|_| ())
}

async fn resolve(db: &Db, id: &str) {
    analytics::resolve(db, &sys(), id, "Reordered from the supplier")
        .await
        .unwrap();
}

store_test!(
    low_stock_and_refused_oversells_reach_their_queues_and_incidents_wait_for_a_person,
    |db: Db| async move {
        setup(&db).await;
        let clock = Clock::fixed(T0);
        // Ten of A at EAST, reorder at 8: not low yet.
        let stock = inventory::set_reorder_point(&db, &sys(), "A", "east", 8)
            .await
            .unwrap();
        assert_eq!(stock.warehouses[0].reorder_point, Some(8));
        catch_up(&db, &clock).await;
        assert!(listed(&db, &clock, "stockouts", Some("low_stock"))
            .await
            .is_empty());

        // A reservation takes A to 7 available: low at EAST.
        reserve(&db, "R-1", "A", 3).await.unwrap();
        catch_up(&db, &clock).await;
        let low = listed(&db, &clock, "stockouts", Some("low_stock")).await;
        assert_eq!(low.len(), 1, "{low:#?}");
        assert_eq!(low[0].entity, "stock");
        assert_eq!(low[0].entity_ref, "A at EAST");
        assert_eq!(
            low[0].detail,
            "Product A: 7 available at EAST, reorder point 8"
        );
        assert_eq!(low[0].warehouse.as_deref(), Some("EAST"));
        assert_eq!(low[0].owner, "manager");
        assert_eq!(low[0].link, "/command/products/A");
        assert!(listed(&db, &clock, "stockouts", Some("stockout"))
            .await
            .is_empty());

        // Asking for more than is left is refused, and the refusal counted:
        // the attempts add to one incident, which is one item.
        let err = reserve(&db, "R-2", "A", 20).await.unwrap_err();
        assert!(matches!(err, Error::InsufficientStock { .. }), "{err:?}");
        assert_eq!(err.status_code(), 409);
        catch_up(&db, &clock).await;
        let refused = queue(&db, &clock, "oversells").await;
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].entity, "incident");
        assert_eq!(refused[0].entity_ref, "A");
        assert_eq!(refused[0].reason, "oversell_refused");
        assert_eq!(
            refused[0].detail,
            "Refused once; last: 20 asked for R-2, 7 available"
        );
        assert_eq!(refused[0].channel.as_deref(), Some("WEB"));
        assert_eq!(refused[0].owner, "manager");
        let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
        assert_eq!(
            at(&refused[0].sla_due_at) - at(&refused[0].opened_at),
            chrono::Duration::hours(8)
        );
        // Two more at the same moment (two instances on PostgreSQL): both
        // counted on the same incident, nothing lost.
        let other = db.another_instance().await.unwrap();
        let (a, b) = tokio::join!(reserve(&db, "R-3", "A", 9), reserve(&other, "R-4", "A", 8));
        assert!(a.is_err() && b.is_err());
        other.close().await;
        catch_up(&db, &clock).await;
        let refused = queue(&db, &clock, "oversells").await;
        assert_eq!(refused.len(), 1, "{refused:#?}");
        assert!(
            refused[0].detail.starts_with("Refused 3 times; last: "),
            "{}",
            refused[0].detail
        );
        // Each attempt is in the audit log: who asked, and the count after.
        let audit = governance::list_audit(
            &db,
            &sys(),
            &AuditFilter {
                entity: Some("incident".into()),
                entity_id: Some(refused[0].entity_id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
        assert_eq!(audit.len(), 3);
        assert!(audit
            .iter()
            .all(|a| a.action == "incident.record" && a.actor_name == "test"));
        // Nothing in the records ends an incident: new stock doesn't close it.
        receive(&db, "EAST", "A", 50).await;
        catch_up(&db, &clock).await;
        assert_eq!(queue(&db, &clock, "oversells").await.len(), 1);
        // The receipt lifted A above its reorder point: low stock closed.
        assert!(listed(&db, &clock, "stockouts", Some("low_stock"))
            .await
            .is_empty());

        // A person resolves it; the next refusal opens a new incident.
        resolve(&db, &refused[0].id).await;
        catch_up(&db, &clock).await;
        assert!(queue(&db, &clock, "oversells").await.is_empty());
        reserve(&db, "R-5", "A", 100).await.unwrap_err();
        catch_up(&db, &clock).await;
        let again = queue(&db, &clock, "oversells").await;
        assert_eq!(again.len(), 1);
        assert_ne!(again[0].entity_id, refused[0].entity_id);
        assert!(again[0]
            .detail
            .starts_with("Refused once; last: 100 asked for R-5"));

        // A reorder point above what is left, then removed.
        inventory::set_reorder_point(&db, &sys(), "A", "EAST", 60)
            .await
            .unwrap();
        catch_up(&db, &clock).await;
        assert_eq!(
            listed(&db, &clock, "stockouts", Some("low_stock"))
                .await
                .len(),
            1
        );
        no_projection_drift(&db, &clock).await;
        inventory::set_reorder_point(&db, &sys(), "A", "EAST", 0)
            .await
            .unwrap();
        catch_up(&db, &clock).await;
        assert!(listed(&db, &clock, "stockouts", Some("low_stock"))
            .await
            .is_empty());

        // Bad input changes nothing.
        for (sku, wh, units, field) in [
            ("A", "EAST", -1, "units"),
            ("NOPE", "EAST", 5, "sku"),
            ("A", "MARS", 5, "warehouse"),
        ] {
            let err = inventory::set_reorder_point(&db, &sys(), sku, wh, units)
                .await
                .unwrap_err();
            assert_eq!(err.fields()[0].field, field, "{err:?}");
        }
        let err = analytics::list(
            &db,
            &sys(),
            &ExceptionFilter {
                reason: Some("low stock; drop".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(err.fields()[0].field, "reason");
        no_projection_drift(&db, &clock).await;
    }
);

store_test!(
    rejected_webhooks_reach_the_integration_queue_for_known_channels_only,
    |db: Db| async move {
        setup(&db).await;
        channel(
            &db,
            ("SHOP", "shopify", "USD"),
            &["EAST"],
            Some("shpss_secret"),
        )
        .await;
        let clock = Clock::fixed(T0);
        let body = br#"{"id": 1}"#;
        let forged = webhooks::sign(b"a guess", body);
        let headers = move |name: &str| -> Option<String> {
            match name {
                "X-Shopify-Hmac-Sha256" => Some(forged.clone()),
                "X-Shopify-Topic" => Some("orders/create".into()),
                "X-Shopify-Shop-Domain" => Some("keel-demo.myshopify.com".into()),
                "X-Shopify-API-Version" => Some("2024-10".into()),
                "X-Shopify-Webhook-Id" => Some("d-1".into()),
                _ => None,
            }
        };
        for _ in 0..2 {
            let err = webhooks::receive(&db, Platform::Shopify, "shop", &headers, body)
                .await
                .unwrap_err();
            assert_eq!(err.status_code(), 401);
        }
        // A channel that doesn't exist is not recorded: made-up names can't
        // grow the incidents. It answers like any unverified delivery, so the
        // answer doesn't tell which channels exist.
        let err = webhooks::receive(&db, Platform::Shopify, "NOPE", &headers, body)
            .await
            .unwrap_err();
        assert_eq!(err.status_code(), 401);
        catch_up(&db, &clock).await;
        let failed = queue(&db, &clock, "integration").await;
        assert_eq!(failed.len(), 1, "{failed:#?}");
        assert_eq!(failed[0].reason, "webhook_rejected");
        assert_eq!(failed[0].entity_ref, "SHOP");
        assert_eq!(failed[0].owner, "admin");
        assert_eq!(
            failed[0].detail,
            "Webhook deliveries to SHOP rejected 2 times; last: shopify X-Shopify-Hmac-Sha256 does not match the body under channel SHOP's secret"
        );
        assert_eq!(
            failed[0].link,
            format!(
                "/command/audit?entity=incident&entity_id={}",
                failed[0].entity_id
            )
        );
        let audit = governance::list_audit(
            &db,
            &sys(),
            &AuditFilter {
                entity: Some("incident".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .items;
        assert_eq!(audit.len(), 2);
        assert_eq!(audit[0].actor_name, "webhook to channel SHOP, unverified");
        let count: i64 = sqlx::query_scalar("select cast(count(*) as bigint) from sales_order")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(count, 0, "a rejected delivery captures nothing");
        // Resolving it resolves the incident, audited.
        resolve(&db, &failed[0].id).await;
        let resolved: Option<i64> = sqlx::query_scalar("select resolved_at from incident")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert!(resolved.is_some());
        catch_up(&db, &clock).await;
        assert!(queue(&db, &clock, "integration").await.is_empty());
        no_projection_drift(&db, &clock).await;
        // A rebuild finds the same (nothing open, the incident resolved).
        sqlx::query("delete from exception_item")
            .execute(&db.pool)
            .await
            .unwrap();
        analytics::rebuild(&db, &clock, &Thresholds::default())
            .await
            .unwrap();
        assert!(queue(&db, &clock, "integration").await.is_empty());
    }
);
