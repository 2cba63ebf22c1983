use super::*;

const NOW: i64 = 1_800_000_000_000_000;

fn order(status: &str) -> OrderFacts {
    OrderFacts {
        order_id: "o1".into(),
        number: "SO-1".into(),
        status: status.into(),
        placed_at: NOW - 2 * HOUR,
        last_progress_at: NOW - 2 * HOUR,
        shipping_method: "Standard".into(),
        channel: "WEB".into(),
        warehouse: Some("WEST".into()),
        backordered_units: 0,
        holds: vec![],
        fulfillments: vec![FulfillmentFact {
            id: "f1".into(),
            seq: 1,
            status: "open".into(),
            warehouse: "WEST".into(),
        }],
    }
}

fn hold(reason: &str, placed_at: i64) -> HoldFact {
    HoldFact {
        reason: reason.into(),
        detail: String::new(),
        placed_at,
    }
}

fn queues(w: &[Wanted]) -> Vec<(Queue, &str)> {
    w.iter().map(|w| (w.queue, w.reason.as_str())).collect()
}

#[test]
fn a_healthy_young_order_needs_nobody() {
    assert!(order_exceptions(&order("confirmed"), &Thresholds::default(), NOW).is_empty());
}

#[test]
fn a_failed_payment_goes_to_finance_at_once_with_a_four_hour_clock() {
    let mut o = order("received");
    o.holds.push(hold("payment_failed", NOW - HOUR));
    let w = order_exceptions(&o, &Thresholds::default(), NOW);
    assert_eq!(queues(&w), vec![(Queue::Payment, "payment_failed")]);
    assert_eq!(w[0].owner, Role::Finance);
    assert_eq!(w[0].opened_at, NOW - HOUR);
    assert_eq!(w[0].sla_due_at, NOW + 3 * HOUR);
    assert_eq!(w[0].link, "/command/orders/o1");
}

#[test]
fn a_pending_payment_is_a_problem_only_after_the_payment_window() {
    let mut o = order("received");
    o.holds.push(hold("payment_pending", NOW - 59 * MINUTE));
    let t = Thresholds::default();
    assert!(order_exceptions(&o, &t, NOW).is_empty());
    let w = order_exceptions(&o, &t, NOW + MINUTE);
    assert_eq!(queues(&w), vec![(Queue::Payment, "payment_pending")]);
    assert_eq!(w[0].opened_at, NOW + MINUTE);
}

#[test]
fn other_holds_queue_by_reason_with_their_owner() {
    let mut o = order("received");
    o.holds.push(hold("fraud_review", NOW));
    o.holds.push(hold("invalid_address", NOW));
    let w = order_exceptions(&o, &Thresholds::default(), NOW);
    assert_eq!(
        queues(&w),
        vec![
            (Queue::Holds, "fraud_review"),
            (Queue::Holds, "invalid_address")
        ]
    );
    assert_eq!(w[0].owner, Role::Manager);
    assert_eq!(w[1].owner, Role::Support);
    assert!(w[1].detail.starts_with("Invalid address"));
    let mut o = order("received");
    o.holds.push(HoldFact {
        reason: "totals_mismatch".into(),
        detail: "totals don't add up: the order comes to 9.00".into(),
        placed_at: NOW,
    });
    let w = order_exceptions(&o, &Thresholds::default(), NOW);
    assert_eq!(w[0].detail, "Totals don't add up: the order comes to 9.00");
}

#[test]
fn an_open_order_without_progress_is_stuck_from_the_configured_age() {
    let mut o = order("confirmed");
    o.last_progress_at = NOW - 24 * HOUR;
    o.placed_at = NOW - HOUR; // not late: ship-by is 48 h from placing
    o.backordered_units = 3;
    let w = order_exceptions(&o, &Thresholds::default(), NOW);
    assert_eq!(queues(&w), vec![(Queue::Stuck, "no_progress")]);
    assert_eq!(
        w[0].detail,
        "Confirmed and unchanged for over 24 h; 3 units wait for stock"
    );
    assert_eq!(w[0].opened_at, NOW);
    let short = Thresholds {
        stuck_after_hours: 48,
        ..Thresholds::default()
    };
    assert!(order_exceptions(&o, &short, NOW).is_empty());
    // A held order is in its hold's queue, not also stuck.
    o.holds.push(hold("manual", NOW - 30 * HOUR));
    assert_eq!(
        queues(&order_exceptions(&o, &Thresholds::default(), NOW)),
        vec![(Queue::Holds, "manual")]
    );
}

#[test]
fn unshipped_fulfilments_past_ship_by_are_late_picks_for_the_warehouse() {
    let mut o = order("in_fulfilment");
    o.placed_at = NOW - 24 * HOUR;
    o.last_progress_at = NOW;
    o.shipping_method = "Express".into();
    o.fulfillments.push(FulfillmentFact {
        id: "f2".into(),
        seq: 2,
        status: "shipped".into(),
        warehouse: "EAST".into(),
    });
    let w = order_exceptions(&o, &Thresholds::default(), NOW);
    assert_eq!(queues(&w), vec![(Queue::LatePicks, "past_ship_by")]);
    assert_eq!(w[0].entity, "fulfillment");
    assert_eq!(w[0].entity_ref, "SO-1-1");
    assert_eq!(w[0].owner, Role::Warehouse);
    assert_eq!(w[0].sla_due_at, NOW);
    assert_eq!(sla_state(w[0].sla_due_at, NOW), "breached");
    // Standard service allows 48 h.
    o.shipping_method = "Standard".into();
    assert!(order_exceptions(&o, &Thresholds::default(), NOW).is_empty());
}

#[test]
fn an_order_is_next_looked_at_when_its_first_deadline_comes() {
    let t = Thresholds::default();
    // Placed 2 h ago, standard service: stuck at 22 h from now, late at 46 h.
    assert_eq!(
        next_check(&order("confirmed"), &t, NOW),
        Some(NOW + 22 * HOUR)
    );
    let mut held = order("received");
    held.holds.push(hold("payment_pending", NOW - 30 * MINUTE));
    assert_eq!(next_check(&held, &t, NOW), Some(NOW + 30 * MINUTE));
    // Once every deadline has passed, only an event can change anything.
    let mut stale = order("in_fulfilment");
    stale.placed_at = NOW - 100 * HOUR;
    stale.last_progress_at = NOW - 100 * HOUR;
    assert_eq!(next_check(&stale, &t, NOW), None);
    assert_eq!(next_check(&order("cancelled"), &t, NOW), None);
    let mut shipped = order("shipped");
    shipped.fulfillments[0].status = "shipped".into();
    assert_eq!(next_check(&shipped, &t, NOW), None);
}

#[test]
fn finished_and_cancelled_orders_have_no_exceptions() {
    for status in ["shipped", "cancelled", "closed"] {
        let mut o = order(status);
        o.last_progress_at = NOW - 100 * HOUR;
        o.fulfillments.clear();
        assert!(
            order_exceptions(&o, &Thresholds::default(), NOW).is_empty(),
            "{status}"
        );
    }
}

fn stock(backordered: i64, stocked: bool, available: i64) -> StockFacts {
    StockFacts {
        product_id: "p1".into(),
        sku: "TEE".into(),
        name: "Tee".into(),
        backordered_units: backordered,
        waiting_orders: 1,
        stocked,
        available,
        levels: vec![],
    }
}

fn level(warehouse: &str, available: i64, reorder_point: Option<i64>) -> LevelFact {
    LevelFact {
        warehouse_id: format!("w-{warehouse}"),
        warehouse: warehouse.into(),
        available,
        reorder_point,
    }
}

#[test]
fn low_stock_is_a_warehouse_at_or_below_its_reorder_point() {
    let mut s = stock(0, true, 13);
    s.levels = vec![
        level("EAST", 10, Some(10)),
        level("WEST", 3, None),
        level("NORTH", 11, Some(10)),
    ];
    let w = low_stock_exceptions(&s, NOW);
    assert_eq!(w.len(), 1, "only EAST is at its point; WEST has none set");
    assert_eq!(w[0].queue, Queue::Stockouts);
    assert_eq!(w[0].entity_id, "p1/w-EAST");
    assert_eq!(w[0].entity_ref, "TEE at EAST");
    assert_eq!(w[0].detail, "Tee: 10 available at EAST, reorder point 10");
    assert_eq!(w[0].warehouse.as_deref(), Some("EAST"));
    assert_eq!(w[0].owner, Role::Manager);
    assert_eq!(w[0].sla_due_at, NOW + 48 * HOUR);
    // Out of stock everywhere: the stockout speaks for it, once.
    let mut s = stock(0, true, 0);
    s.levels = vec![level("EAST", 0, Some(10))];
    assert!(low_stock_exceptions(&s, NOW).is_empty());
    assert!(stock_exception(&s, NOW).is_some());
}

fn incident(kind: &str, resolved: bool) -> IncidentFacts {
    IncidentFacts {
        incident_id: "i1".into(),
        kind: kind.into(),
        subject_ref: if kind == "oversell_refused" {
            "TEE"
        } else {
            "WEB"
        }
        .into(),
        channel: Some("WEB".into()),
        occurrences: 3,
        first_at: NOW - HOUR,
        last_detail: "asked 5, 2 available".into(),
        resolved,
    }
}

#[test]
fn incidents_wait_for_a_person_in_the_queue_of_their_kind() {
    let w = incident_exception(&incident("oversell_refused", false)).unwrap();
    assert_eq!(w.queue, Queue::Oversells);
    assert_eq!(w.owner, Role::Manager);
    assert_eq!(w.detail, "Refused 3 times; last: asked 5, 2 available");
    assert_eq!(w.link, "/command/products/TEE");
    assert_eq!(w.opened_at, NOW - HOUR);
    assert_eq!(w.sla_due_at, NOW + 7 * HOUR);
    let w = incident_exception(&incident("webhook_rejected", false)).unwrap();
    assert_eq!(w.queue, Queue::Integration);
    assert_eq!(w.owner, Role::Admin);
    assert_eq!(
        w.detail,
        "Webhook deliveries to WEB rejected 3 times; last: asked 5, 2 available"
    );
    assert_eq!(w.link, "/command/audit?entity=incident&entity_id=i1");
    assert!(incident_exception(&incident("webhook_rejected", true)).is_none());
}

#[test]
fn stockouts_are_waiting_customers_or_nothing_left_to_sell() {
    let w = stock_exception(&stock(4, true, 0), NOW).unwrap();
    assert_eq!(w.detail, "Tee: 4 units on 1 order wait for stock");
    assert_eq!(w.link, "/command/products/TEE");
    assert_eq!(
        stock_exception(&stock(0, true, 0), NOW).unwrap().detail,
        "Tee: None left to sell in any warehouse"
    );
    assert!(stock_exception(&stock(0, true, 5), NOW).is_none());
    // Never stocked and nobody waiting: not yet a stockout.
    assert!(stock_exception(&stock(0, false, 0), NOW).is_none());
}

#[test]
fn imports_with_rows_left_out_go_to_the_administrator() {
    let mut i = ImportFacts {
        job_id: "0190abcd-job".into(),
        kind: "orders".into(),
        status: "done".into(),
        total_rows: 10,
        failed_rows: 2,
        finished_at: Some(NOW),
    };
    let w = import_exception(&i).unwrap();
    assert_eq!(w.detail, "Order report: 2 of 10 rows left out");
    assert_eq!(w.link, "/command/orders/import/0190abcd-job");
    assert_eq!(w.owner, Role::Admin);
    i.failed_rows = 0;
    assert!(import_exception(&i).is_none());
    i.failed_rows = 2;
    i.status = "running".into();
    assert!(import_exception(&i).is_none());
}

fn existing(id: &str, reason: &str, status: &str, cleared: bool) -> Existing {
    Existing {
        id: id.into(),
        queue: Queue::Holds,
        entity_id: "o1".into(),
        reason: reason.into(),
        status: status.into(),
        cleared,
        detail: "Invalid address".into(),
    }
}

fn wanted(reason: &str) -> Vec<Wanted> {
    let mut o = order("received");
    o.holds.push(hold(reason, NOW));
    order_exceptions(&o, &Thresholds::default(), NOW)
}

#[test]
fn reconcile_opens_what_is_missing_and_closes_what_ended() {
    let a = reconcile(wanted("invalid_address"), &[]);
    assert!(matches!(&a[..], [Action::Open(w)] if w.reason == "invalid_address"));
    // Already open with the same words: nothing to do.
    assert!(reconcile(
        wanted("invalid_address"),
        &[existing("x", "invalid_address", "open", false)]
    )
    .is_empty());
    // The hold was released: the live item closes, snoozed or not.
    assert_eq!(
        reconcile(
            vec![],
            &[existing("x", "invalid_address", "snoozed", false)]
        ),
        vec![Action::Close { id: "x".into() }]
    );
}

#[test]
fn reconcile_refreshes_the_words_of_a_live_item() {
    let mut e = existing("x", "invalid_address", "open", false);
    e.detail = "old words".into();
    assert_eq!(
        reconcile(wanted("invalid_address"), &[e]),
        vec![Action::Refresh {
            id: "x".into(),
            detail: "Invalid address".into()
        }]
    );
}

#[test]
fn a_resolved_item_stays_resolved_until_its_condition_clears() {
    let resolved = existing("x", "invalid_address", "resolved", false);
    assert!(reconcile(wanted("invalid_address"), std::slice::from_ref(&resolved)).is_empty());
    assert_eq!(
        reconcile(vec![], &[resolved]),
        vec![Action::Clear { id: "x".into() }]
    );
    // Once cleared, the same condition opens a new item.
    let cleared = existing("x", "invalid_address", "resolved", true);
    assert!(matches!(
        &reconcile(wanted("invalid_address"), &[cleared])[..],
        [Action::Open(_)]
    ));
}

#[test]
fn reconcile_is_idempotent() {
    let w = wanted("fraud_review");
    let first = reconcile(w.clone(), &[]);
    let Action::Open(opened) = &first[0] else {
        panic!("expected an open")
    };
    let now_existing = Existing {
        id: "new".into(),
        queue: opened.queue,
        entity_id: opened.entity_id.clone(),
        reason: opened.reason.clone(),
        status: "open".into(),
        cleared: false,
        detail: opened.detail.clone(),
    };
    assert!(reconcile(w, &[now_existing]).is_empty());
}

#[test]
fn who_may_work_an_item() {
    assert!(may_work(Role::Manager, Some("u"), Role::Finance, None));
    assert!(may_work(Role::Finance, Some("u"), Role::Finance, None));
    assert!(!may_work(Role::Support, Some("u"), Role::Finance, None));
    assert!(may_work(Role::Support, Some("u"), Role::Finance, Some("u")));
    assert!(!may_work(Role::Support, None, Role::Finance, None));
}

#[test]
fn snoozes_and_resolutions_say_why() {
    assert_eq!(
        parse_snooze(4, " waiting on bank ").unwrap().1,
        "waiting on bank"
    );
    let errors = parse_snooze(0, "x").unwrap_err();
    assert_eq!(
        errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
        ["hours", "reason"]
    );
    assert!(parse_snooze(169, "long enough").is_err());
    assert_eq!(parse_resolution("  ok ").unwrap_err().field, "note");
    assert_eq!(
        parse_resolution("Called the customer").unwrap(),
        "Called the customer"
    );
}

#[test]
fn figures_stop_at_the_cap() {
    assert_eq!(figure(999), "999");
    assert_eq!(figure(COUNT_CAP), "1000+");
}

#[test]
fn queues_parse_from_their_names() {
    for q in Queue::ALL {
        assert_eq!(Queue::parse(q.as_str()).unwrap(), q);
    }
    assert_eq!(Queue::parse("nope").unwrap_err().field, "queue");
}
