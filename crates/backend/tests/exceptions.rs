//! Store tests for the exception queues, on SQLite and PostgreSQL: a failed
//! payment, a stockout, a stuck order and a pick past ship-by each reach
//! their queue with owner, age, SLA and link; items close when their
//! condition ends; people assign, snooze and resolve them under the rules
//! and the audit log; the projection applies each event once even with two
//! instances, and `check` agrees with a full recomputation.

use backend::{
    analytics::{self, ExceptionFilter, Projected},
    capture,
    governance::{self, AuditFilter, NewUser},
    orders, store_test,
    testing::fixtures::{assert_no_drift, channel, item, receive, sys, warehouse, web_order},
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
    analytics::list(
        db,
        &clocked(clock),
        &ExceptionFilter {
            queue: Some(queue.into()),
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
            "update projection_cursor set seq = 0",
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
    }
);
