//! Store tests for order capture and the order workbench, on SQLite and
//! PostgreSQL: idempotent capture under concurrency (two instances sharing
//! the database), holds and their release, backorders, cancellation, the
//! storefront webhooks with the real fixtures, and the list filters.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::Conflict;
use backend::{
    fulfillment, inventory, orders as capture,
    orders::Delivery,
    orders::{self, BulkAction, OrderFilter},
    store_test,
    testing::fixtures::{
        assert_no_drift, channel, item, receive, sys, warehouse, web_order as order,
    },
    webhooks::{self, Platform, Received},
    Actor, ActorKind, Ctx, Db, Error, Idempotency,
};
use domain::{
    fulfillment::RuleInput,
    governance::{Role, Scope},
    orders::{CustomerIn, OrderIn},
};

fn manager() -> Ctx {
    staff(Role::Manager)
}

fn staff(role: Role) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some("user-maya".into()),
            name: "Maya Patel".into(),
            role: Some(role),
            scope: Scope::default(),
        },
        None,
    )
}

/// The demo shape: two warehouses, a web channel, and stock of A and B.
async fn shop(db: &Db) {
    warehouse(db, "EAST").await;
    warehouse(db, "WEST").await;
    channel(db, ("WEB", "web", "USD"), &["EAST", "WEST"], None).await;
    item(db, "A", "4.00").await;
    item(db, "B", "6.00").await;
    receive(db, "EAST", "A", 5).await;
    receive(db, "WEST", "B", 5).await;
}

/// Capture answers with the order it built from what it wrote; it must be
/// the order as stored, field for field.
async fn same_as_stored(db: &Db, captured: &capture::Order) {
    let stored = orders::load(db, &sys(), &captured.id).await.unwrap();
    assert_eq!(
        *captured, stored,
        "the captured order differs from the stored one"
    );
}

/// `capture::capture`, checking a new order's answer against the store.
async fn capture_order(
    db: &Db,
    ctx: &Ctx,
    input: OrderIn,
    idem: Option<&Idempotency>,
    delivery: Option<&Delivery>,
) -> Result<capture::Captured, Error> {
    let c = capture::capture(db, ctx, input, idem, delivery).await?;
    if c.created {
        same_as_stored(db, &c.order).await;
    }
    Ok(c)
}

/// The workbench's "waiting for stock" list.
async fn waiting_orders(db: &Db) -> backend::Page<domain::views::OrderSummary> {
    let f = OrderFilter {
        backordered: Some("true".into()),
        ..Default::default()
    };
    orders::list_orders(db, &sys(), &f).await.unwrap()
}

async fn reserved(db: &Db, sku: &str) -> i64 {
    inventory::stock(db, &sys(), sku).await.unwrap().reserved
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

store_test!(
    a_clean_order_is_confirmed_with_its_stock_reserved_and_a_replay_changes_nothing,
    |db: Db| async move {
        shop(&db).await;
        let c = capture_order(&db, &sys(), order("W-1", &[("A", 2), ("B", 1)]), None, None)
            .await
            .unwrap();
        assert!(c.created);
        let o = c.order;
        assert_eq!((o.status.as_str(), o.holds.len()), ("confirmed", 0));
        assert_eq!(o.totals.subtotal.to_string(), "30.00 USD");
        assert_eq!(o.totals.total.to_string(), "35.00 USD");
        assert_eq!(o.customer.email, "ann@example.com");
        assert_eq!(o.reservation.as_ref().unwrap().status, "active");
        let warehouses: Vec<_> = o
            .fulfillments
            .iter()
            .map(|f| f.warehouse.as_str())
            .collect();
        assert_eq!(warehouses, vec!["EAST", "WEST"]);
        assert_eq!(
            o.fulfillments[0].reason,
            "EAST: only warehouse with A in stock"
        );
        assert_eq!(
            o.fulfillments[1].reason,
            "WEST: only warehouse with B in stock"
        );
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (2, 1));
        let events: Vec<_> = o.timeline.iter().map(|t| t.event.as_str()).collect();
        assert_eq!(
            events,
            vec![
                "inventory.reserved",
                "order.captured",
                "order.sourced",
                "order.confirmed"
            ]
        );

        // The same order again, by channel + external id or by Idempotency-Key.
        let again = capture_order(&db, &sys(), order("W-1", &[("A", 2), ("B", 1)]), None, None)
            .await
            .unwrap();
        assert!(!again.created);
        assert_eq!(again.order.id, o.id);
        let idem = Idempotency::new("key-1", "POST /api/v1/orders", b"body").unwrap();
        let first = capture_order(&db, &sys(), order("W-2", &[("A", 1)]), Some(&idem), None)
            .await
            .unwrap();
        let replay = capture_order(&db, &sys(), order("W-2", &[("A", 1)]), Some(&idem), None)
            .await
            .unwrap();
        assert_eq!((first.created, replay.created), (true, false));
        assert_eq!(replay.order.id, first.order.id);
        assert_eq!(reserved(&db, "A").await, 3);
        assert_eq!(count(&db, "select count(*) from sales_order").await, 2);
        assert_eq!(count(&db, "select count(*) from customer").await, 1);
        assert_no_drift(&db).await;
    }
);

store_test!(
    concurrent_deliveries_of_one_order_through_two_instances_create_it_once,
    |db: Db| async move {
        shop(&db).await;
        let other = db.another_instance().await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let db = if i % 2 == 0 {
                db.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                let delivery = Delivery {
                    id: format!("delivery-{}", i % 3),
                    topic: "orders/create".into(),
                };
                capture_order(
                    &db,
                    &sys(),
                    order("W-9", &[("A", 1), ("B", 1)]),
                    None,
                    Some(&delivery),
                )
                .await
                .map(|c| (c.order.id, c.created))
            }));
        }
        let mut ids = Vec::new();
        let mut created = 0;
        for t in tasks {
            let (id, new) = t.await.unwrap().unwrap();
            created += i32::from(new);
            ids.push(id);
        }
        ids.dedup();
        assert_eq!((ids.len(), created), (1, 1));
        assert_eq!(count(&db, "select count(*) from sales_order").await, 1);
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (1, 1));
        assert_eq!(count(&db, "select count(*) from webhook_delivery").await, 3);
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_held_order_waits_and_a_person_releases_it_with_the_timeline_saying_who,
    |db: Db| async move {
        shop(&db).await;
        let mut pending = order("W-3", &[("A", 1)]);
        pending.payment_status = "pending".into();
        let o = capture_order(&db, &sys(), pending, None, None)
            .await
            .unwrap()
            .order;
        assert_eq!(o.status, "received");
        assert_eq!(o.holds.len(), 1);
        assert_eq!(o.holds[0].reason, "payment_pending");
        assert_eq!(o.holds[0].label, "Payment pending");
        // A held order still keeps its stock, so it can't be sold twice.
        assert_eq!(reserved(&db, "A").await, 1);
        let held = orders::list_orders(
            &db,
            &sys(),
            &OrderFilter {
                hold: Some("payment_pending".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(held.items.len(), 1);
        assert_eq!(held.items[0].holds, vec!["payment_pending"]);

        let released = orders::release_hold(
            &db,
            &manager(),
            &o.id,
            &o.holds[0].id,
            "paid by bank transfer",
        )
        .await
        .unwrap();
        assert_eq!(released.status, "confirmed");
        assert!(released.holds.is_empty());
        assert_eq!(released.manual_touches, 1);
        let last: Vec<_> = released.timeline.iter().rev().take(2).collect();
        assert_eq!(last[1].event, "order.hold_released");
        assert_eq!(last[1].actor, "Maya Patel");
        assert_eq!(last[1].actor_kind, "user");
        assert_eq!(
            last[1].summary,
            "Released hold: Payment pending. Note: paid by bank transfer"
        );
        assert_eq!(last[0].event, "order.confirmed");
        let again = orders::release_hold(&db, &manager(), &o.id, &o.holds[0].id, "").await;
        assert!(
            matches!(
                again,
                Err(Error::Conflict {
                    code: Conflict::HoldNotActive,
                    ..
                })
            ),
            "{again:?}"
        );
        let audit = count(&db, "select count(*) from audit_log where action = 'order.release_hold' and actor_name = 'Maya Patel'").await;
        assert_eq!(audit, 1);
    }
);

store_test!(
    a_three_line_order_splits_by_stock_backorders_the_missing_item_and_sources_it_when_a_receipt_lands,
    |db: Db| async move {
        shop(&db).await;
        item(&db, "C", "2.00").await;
        let o = capture_order(
            &db,
            &sys(),
            order("W-4", &[("A", 3), ("B", 2), ("C", 1)]),
            None,
            None,
        )
        .await
        .unwrap()
        .order;
        // Nothing holds it: what is in stock goes to the warehouses now.
        assert_eq!((o.status.as_str(), o.holds.len()), ("confirmed", 0));
        let plan: Vec<_> = o
            .fulfillments
            .iter()
            .map(|f| {
                (
                    f.seq,
                    f.warehouse.as_str(),
                    f.status.as_str(),
                    f.lines.iter().map(|l| (l.line_no, l.sku.as_str(), l.quantity)).collect::<Vec<_>>(),
                    f.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(
            plan,
            vec![
                (1, "EAST", "open", vec![(0, "A", 3)], "EAST: only warehouse with A in stock"),
                (2, "WEST", "open", vec![(1, "B", 2)], "WEST: only warehouse with B in stock"),
            ]
        );
        let waiting: Vec<_> = o.lines.iter().map(|l| l.backordered_quantity).collect();
        assert_eq!(waiting, vec![0, 0, 1]);
        assert!(o
            .timeline
            .iter()
            .any(|t| t.summary.contains("Backordered: C: in stock nowhere in WEB's warehouses")));
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (3, 2));
        let backorders = waiting_orders(&db).await;
        assert_eq!(backorders.items.len(), 1);

        // A receipt of C in EAST sources it, in the receipt's transaction,
        // into the EAST fulfilment that has not started.
        receive(&db, "EAST", "C", 4).await;
        let o = orders::load(&db, &sys(), &o.id).await.unwrap();
        let waiting: Vec<_> = o.lines.iter().map(|l| l.backordered_quantity).collect();
        assert_eq!(waiting, vec![0, 0, 0]);
        assert_eq!(o.fulfillments.len(), 2);
        let east: Vec<_> = o.fulfillments[0].lines.iter().map(|l| (l.sku.as_str(), l.quantity)).collect();
        assert_eq!(east, vec![("A", 3), ("C", 1)]);
        assert_eq!(reserved(&db, "C").await, 1);
        let r = o.reservation.as_ref().unwrap();
        assert_eq!(r.lines[2].quantity, 1);
        assert_eq!(r.lines[2].allocations[0].warehouse, "EAST");
        assert!(o.timeline.iter().any(|t| t.event == "order.sourced"
            && t.summary == "Sourced: EAST: first in WEB's priority, ships complete"));
        assert_eq!(
            count(&db, "select count(*) from audit_log where action = 'order.source'").await,
            2
        );
        let backorders = waiting_orders(&db).await;
        assert!(backorders.items.is_empty());
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_short_line_ships_what_there_is_and_the_oldest_order_gets_new_stock_first,
    |db: Db| async move {
        shop(&db).await;
        let first = capture_order(&db, &sys(), order("W-5", &[("B", 7)]), None, None)
            .await
            .unwrap()
            .order;
        let second = capture_order(&db, &sys(), order("W-6", &[("B", 1)]), None, None)
            .await
            .unwrap()
            .order;
        assert_eq!(first.lines[0].backordered_quantity, 2);
        assert_eq!(first.fulfillments[0].lines[0].quantity, 5);
        assert_eq!(
            first.fulfillments[0].reason,
            "WEST: only warehouse with B in stock"
        );
        assert!(second.fulfillments.is_empty());
        assert_eq!(second.lines[0].backordered_quantity, 1);
        // Two units arrive: both go to the older order.
        receive(&db, "EAST", "B", 2).await;
        let first = orders::load(&db, &sys(), &first.id).await.unwrap();
        let second = orders::load(&db, &sys(), &second.id).await.unwrap();
        assert_eq!(first.lines[0].backordered_quantity, 0);
        let split: Vec<_> = first
            .fulfillments
            .iter()
            .map(|f| (f.warehouse.as_str(), f.lines[0].quantity))
            .collect();
        assert_eq!(split, vec![("WEST", 5), ("EAST", 2)]);
        assert_eq!(second.lines[0].backordered_quantity, 1);
        // Cancelling the older order frees its units for the next one.
        orders::cancel_order(&db, &manager(), &first.id, "customer changed their mind")
            .await
            .unwrap();
        let first = orders::load(&db, &sys(), &first.id).await.unwrap();
        assert!(first.fulfillments.iter().all(|f| f.status == "cancelled"));
        let second = orders::load(&db, &sys(), &second.id).await.unwrap();
        assert_eq!(second.lines[0].backordered_quantity, 0);
        assert_eq!(second.fulfillments.len(), 1);
        assert_eq!(reserved(&db, "B").await, 1);
        assert_no_drift(&db).await;
    }
);

store_test!(
    cancelling_releases_the_stock_and_a_second_cancel_is_a_typed_error,
    |db: Db| async move {
        shop(&db).await;
        let o = capture_order(&db, &sys(), order("W-5", &[("A", 2)]), None, None)
            .await
            .unwrap()
            .order;
        assert_eq!(reserved(&db, "A").await, 2);
        let bad = orders::cancel_order(&db, &manager(), &o.id, " ").await;
        assert!(matches!(bad, Err(Error::Invalid(_))));
        let c = orders::cancel_order(&db, &manager(), &o.id, "customer changed their mind")
            .await
            .unwrap();
        assert_eq!(c.status, "cancelled");
        assert_eq!(c.lines[0].cancelled_quantity, 2);
        assert_eq!(reserved(&db, "A").await, 0);
        let again = orders::cancel_order(&db, &manager(), &o.id, "twice")
            .await
            .unwrap_err();
        assert_eq!(
            again.to_string(),
            "an order that is cancelled can't become cancelled"
        );
        assert_eq!(again.status_code(), 409);
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_bad_address_holds_and_correcting_it_releases_the_hold_by_rule,
    |db: Db| async move {
        shop(&db).await;
        let mut o = order("W-6", &[("A", 1)]);
        o.shipping.address.as_mut().unwrap().postcode = String::new();
        let o = capture_order(&db, &sys(), o, None, None)
            .await
            .unwrap()
            .order;
        assert_eq!(o.holds[0].reason, "invalid_address");
        assert_eq!(
            o.holds[0].detail,
            "shipping address: the postcode is missing"
        );
        let mut fixed = o.ship_to.clone();
        fixed.postcode = "78701".into();
        let stale =
            orders::change_address(&db, &manager(), &o.id, fixed.clone(), Some(o.version + 1))
                .await;
        assert!(matches!(
            stale,
            Err(Error::Conflict {
                code: Conflict::VersionConflict,
                ..
            })
        ));
        let done = orders::change_address(&db, &manager(), &o.id, fixed, Some(o.version))
            .await
            .unwrap();
        assert_eq!((done.status.as_str(), done.holds.len()), ("confirmed", 0));
        assert_eq!(done.manual_touches, 1);
        let tagged = orders::tag(&db, &manager(), &o.id, &["VIP".into()], &[])
            .await
            .unwrap();
        assert_eq!(tagged.tags, vec!["vip"]);
        let noted = orders::add_note(&db, &manager(), &o.id, "call before delivery")
            .await
            .unwrap();
        assert_eq!(noted.notes[0].author, "Maya Patel");
        assert_eq!(noted.manual_touches, 3);
    }
);

store_test!(
    storefront_webhooks_verify_the_signature_and_capture_once,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        channel(
            &db,
            ("SHOP", "shopify", "USD"),
            &["EAST"],
            Some("shpss_test_secret"),
        )
        .await;
        for sku in ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"] {
            item(&db, sku, "100.00").await;
            receive(&db, "EAST", sku, 3).await;
        }
        let body = br#"{"id": 820982911946154508, "email": "jon@doe.ca", "currency": "USD", "financial_status": "paid",
            "created_at": "2026-11-20T10:00:00-05:00", "total_line_items_price": "398.00", "total_price": "409.94", "total_tax": "11.94", "total_discounts": "0.00",
            "line_items": [{"sku": "IPOD2008GREEN", "name": "IPod Nano", "quantity": 1, "price": "199.00"},
                           {"sku": "IPOD2008RED", "name": "IPod Nano", "quantity": 1, "price": "199.00"},
                           {"sku": "IPOD2008BLACK", "name": "IPod Nano", "quantity": 1, "price": "199.00"}],
            "shipping_lines": [{"title": "Free Shipping", "price": "0.00"}],
            "shipping_address": {"first_name": "Jon", "last_name": "Doe", "address1": "123 Elm St", "city": "Ottawa", "province_code": "ON", "zip": "K2P 1L4", "country_code": "CA"}}"#;
        let signature = webhooks::sign(b"shpss_test_secret", body);
        let headers = |sig: String, id: &'static str| {
            move |name: &str| -> Option<String> {
                match name {
                    "X-Shopify-Hmac-Sha256" => Some(sig.clone()),
                    "X-Shopify-Topic" => Some("orders/create".into()),
                    "X-Shopify-Shop-Domain" => Some("keel-demo.myshopify.com".into()),
                    "X-Shopify-API-Version" => Some("2024-10".into()),
                    "X-Shopify-Webhook-Id" => Some(id.into()),
                    _ => None,
                }
            }
        };
        let wrong = webhooks::sign(b"not the secret", body);
        let err = webhooks::receive(&db, Platform::Shopify, "shop", &headers(wrong, "d-1"), body)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::BadSignature(_)));
        assert_eq!(err.status_code(), 401);
        let mut altered = body.to_vec();
        altered[10] = b'1';
        let err = webhooks::receive(
            &db,
            Platform::Shopify,
            "shop",
            &headers(signature.clone(), "d-1"),
            &altered,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::BadSignature(_)));
        let no_id = |name: &str| {
            if name == "X-Shopify-Webhook-Id" {
                None
            } else {
                headers(signature.clone(), "d-1")(name)
            }
        };
        let err = webhooks::receive(&db, Platform::Shopify, "SHOP", &no_id, body)
            .await
            .unwrap_err();
        // The sender hears only that it isn't verified; the why is the incident's.
        assert_eq!(err.to_string(), webhooks::UNVERIFIED);
        assert_eq!(count(&db, "select count(*) from sales_order").await, 0);
        assert_eq!(count(&db, "select count(*) from webhook_delivery").await, 0);

        let Received::Order(first) = webhooks::receive(
            &db,
            Platform::Shopify,
            "SHOP",
            &headers(signature.clone(), "d-1"),
            body,
        )
        .await
        .unwrap() else {
            panic!("an order delivery")
        };
        assert!(first.created);
        same_as_stored(&db, &first.order).await;
        // 3 × 199.00 is 597.00, not the 398.00 the payload states: held, not corrected.
        assert_eq!(first.order.status, "received");
        assert_eq!(first.order.holds[0].reason, "totals_mismatch");
        assert_eq!(first.order.holds[0].label, "Totals don't add up");
        assert_eq!(first.order.totals.subtotal.to_string(), "597.00 USD");
        assert_eq!(first.order.timeline[1].actor, "channel SHOP");
        for id in ["d-1", "d-2"] {
            let Received::Order(again) = webhooks::receive(
                &db,
                Platform::Shopify,
                "SHOP",
                &headers(signature.clone(), id),
                body,
            )
            .await
            .unwrap() else {
                panic!("an order delivery")
            };
            assert!(!again.created);
            assert_eq!(again.order.id, first.order.id);
        }
        assert_eq!(reserved(&db, "IPOD2008RED").await, 1);
        let other_topic = |name: &str| {
            if name == "X-Shopify-Topic" {
                Some("products/create".into())
            } else {
                headers(signature.clone(), "d-3")(name)
            }
        };
        assert!(matches!(
            webhooks::receive(&db, Platform::Shopify, "SHOP", &other_topic, body)
                .await
                .unwrap(),
            Received::Ignored { .. }
        ));
        assert_eq!(count(&db, "select count(*) from sales_order").await, 1);
        assert_no_drift(&db).await;
    }
);

store_test!(
    the_workbench_filters_search_and_pages_through_orders,
    |db: Db| async move {
        shop(&db).await;
        channel(&db, ("AMZ", "marketplace", "USD"), &["WEST"], None).await;
        for i in 0..7 {
            let mut o = order(&format!("E-{i}"), &[("A", 1)]);
            if i % 2 == 1 {
                o.channel = "AMZ".into();
                o.lines[0].sku = "B".into();
            }
            if i == 3 {
                o.payment_status = "failed".into();
            }
            o.customer = CustomerIn::Full {
                email: format!("c{i}@example.com"),
                name: format!("Customer Number{i}"),
                phone: String::new(),
            };
            o.placed_at = Some(format!("2026-11-0{}T12:00:00Z", i + 1));
            o.tags = if i < 2 { vec!["promo".into()] } else { vec![] };
            capture_order(&db, &sys(), o, None, None).await.unwrap();
        }
        let list = |f: OrderFilter| {
            let db = db.clone();
            async move { orders::list_orders(&db, &sys(), &f).await.unwrap() }
        };
        let all = list(OrderFilter::default()).await;
        assert_eq!(all.items.len(), 7);
        assert_eq!(all.items[0].external_id, "E-6", "newest first");
        let amz = list(OrderFilter {
            channel: Some("amz".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(amz.items.len(), 3);
        let held = list(OrderFilter {
            hold: Some("any".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(
            held.items
                .iter()
                .map(|o| o.external_id.as_str())
                .collect::<Vec<_>>(),
            vec!["E-3"]
        );
        assert_eq!(held.items[0].holds, vec!["payment_failed"]);
        let by_date = list(OrderFilter {
            from: Some("2026-11-02".into()),
            to: Some("2026-11-03".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(by_date.items.len(), 2);
        let promo = list(OrderFilter {
            tag: Some("PROMO".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(promo.items.len(), 2);
        let west = list(OrderFilter {
            warehouse: Some("west".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(west.items.len(), 2, "E-3 failed payment reserves nothing");
        let by_name = list(OrderFilter {
            q: Some("number4".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(by_name.items[0].external_id, "E-4");
        let by_email = list(OrderFilter {
            q: Some("C5@example.com".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(by_email.items[0].external_id, "E-5");
        let by_number = list(OrderFilter {
            q: Some(format!("#{}", all.items[2].number.to_lowercase())),
            ..Default::default()
        })
        .await;
        assert_eq!(by_number.items[0].id, all.items[2].id);
        // A marketplace id keeps its capitals (#20): found as typed, or in
        // lower case.
        for typed in ["E-6", "e-6", " #E-6 "] {
            let by_id = list(OrderFilter {
                q: Some(typed.into()),
                ..Default::default()
            })
            .await;
            let ids: Vec<&str> = by_id.items.iter().map(|o| o.external_id.as_str()).collect();
            assert_eq!(ids, ["E-6"], "{typed:?}");
        }
        let value = list(OrderFilter {
            min_total: Some("15.00".into()),
            max_total: Some("15.00".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(value.items.len(), 7);

        let first = list(OrderFilter {
            limit: Some(3),
            ..Default::default()
        })
        .await;
        let second = list(OrderFilter {
            limit: Some(3),
            cursor: first.next_cursor.clone(),
            ..Default::default()
        })
        .await;
        let third = list(OrderFilter {
            limit: Some(3),
            cursor: second.next_cursor.clone(),
            ..Default::default()
        })
        .await;
        assert_eq!(
            (first.items.len(), second.items.len(), third.items.len()),
            (3, 3, 1)
        );
        assert!(third.next_cursor.is_none());
        assert_eq!(second.items[0].external_id, "E-3");

        let bad = orders::list_orders(
            &db,
            &sys(),
            &OrderFilter {
                status: Some("lost".into()),
                hold: Some("why".into()),
                from: Some("yesterday".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        let fields: Vec<_> = bad.fields().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, vec!["status", "hold", "from"]);

        // A person scoped to AMZ sees only its orders.
        let mut scoped = manager();
        scoped.actor.scope.channels = vec!["AMZ".into()];
        let mine = orders::list_orders(&db, &scoped, &OrderFilter::default())
            .await
            .unwrap();
        assert_eq!(mine.items.len(), 3);
        let web_order = &all.items[0].id;
        // Out of scope reads as absent: a 403 would tell the order exists.
        assert!(matches!(
            orders::get_order(&db, &scoped, web_order).await,
            Err(Error::NotFound { .. })
        ));

        // Bulk: tag three, one of which is unknown.
        let ids = vec![
            all.items[0].id.clone(),
            all.items[1].id.clone(),
            "nope".into(),
        ];
        let results = orders::bulk(
            &db,
            &manager(),
            &ids,
            &BulkAction::Tag {
                tag: "checked".into(),
            },
        )
        .await
        .unwrap();
        assert_eq!(
            results.iter().map(|r| r.ok).collect::<Vec<_>>(),
            vec![true, true, false]
        );
        assert_eq!(results[2].message, "order nope was not found");

        let view = orders::save_view(
            &db,
            &manager(),
            "Held AMZ",
            &OrderFilter {
                hold: Some("any".into()),
                channel: Some("AMZ".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(view.query, "hold=any&channel=AMZ");
        assert_eq!(
            orders::saved_views(&db, &manager()).await.unwrap(),
            vec![view]
        );
    }
);

store_test!(
    cancelling_units_of_a_line_releases_their_stock_and_the_last_units_cancel_the_order,
    |db: Db| async move {
        shop(&db).await;
        let o = capture_order(
            &db,
            &sys(),
            order("W-20", &[("A", 3), ("B", 2)]),
            None,
            None,
        )
        .await
        .unwrap()
        .order;
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (3, 2));
        let first_reservation = o.reservation.clone().unwrap().id;

        // Refused: too many, none, no reason, no such line. Nothing changes.
        let too_many = orders::cancel_line(&db, &manager(), &o.id, 1, 3, "customer asked").await;
        assert!(
            matches!(&too_many, Err(Error::Invalid(f)) if f[0].field == "quantity" && f[0].message == "only 2 units of this line are still open"),
            "{too_many:?}"
        );
        assert!(orders::cancel_line(&db, &manager(), &o.id, 1, 0, "x")
            .await
            .is_err());
        assert!(orders::cancel_line(&db, &manager(), &o.id, 1, 1, " ")
            .await
            .is_err());
        assert!(matches!(
            orders::cancel_line(&db, &manager(), &o.id, 7, 1, "x").await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (3, 2));

        // Two of three A: their units go back, B stays reserved.
        let o = orders::cancel_line(&db, &manager(), &o.id, 0, 2, "customer asked")
            .await
            .unwrap();
        assert_eq!(o.status, "confirmed");
        assert_eq!(
            (o.lines[0].cancelled_quantity, o.lines[1].cancelled_quantity),
            (2, 0)
        );
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (1, 2));
        let r = o.reservation.clone().unwrap();
        assert_ne!(r.id, first_reservation);
        assert_eq!(
            r.lines
                .iter()
                .map(|l| (l.sku.as_str(), l.quantity))
                .collect::<Vec<_>>(),
            vec![("A", 1), ("B", 2)]
        );
        // The captured totals stay as the channel charged them.
        assert_eq!(o.totals.total.to_string(), "55.00 USD");
        let last = o.timeline.last().unwrap();
        assert_eq!(
            (
                last.event.as_str(),
                last.actor.as_str(),
                last.summary.as_str()
            ),
            (
                "order.line_cancelled",
                "Maya Patel",
                "Cancelled 2 × A: customer asked"
            )
        );
        // The first reservation's events stay on the timeline.
        assert!(o.timeline.iter().any(|t| t.event == "inventory.released"));
        assert_eq!(
            o.timeline
                .iter()
                .filter(|t| t.event == "inventory.reserved")
                .count(),
            2
        );
        assert_eq!(o.manual_touches, 1);

        // B entirely, then the last A: the order is cancelled, nothing reserved.
        let o = orders::cancel_line(&db, &manager(), &o.id, 1, 2, "out of season")
            .await
            .unwrap();
        assert_eq!(o.reservation.as_ref().unwrap().lines[1].quantity, 0);
        let o = orders::cancel_line(&db, &manager(), &o.id, 0, 1, "customer asked")
            .await
            .unwrap();
        assert_eq!(o.status, "cancelled");
        assert_eq!((reserved(&db, "A").await, reserved(&db, "B").await), (0, 0));
        let refused = orders::cancel_line(&db, &manager(), &o.id, 0, 1, "again").await;
        assert!(
            matches!(
                &refused,
                Err(Error::Conflict {
                    code: Conflict::InvalidTransition,
                    ..
                })
            ),
            "{refused:?}"
        );
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_dry_run_compares_a_new_warehouse_priority_on_recent_orders_and_applying_it_changes_later_sourcing,
    |db: Db| async move {
        shop(&db).await;
        receive(&db, "WEST", "A", 5).await;
        // A in both, B only in WEST: with EAST first, A+B orders split.
        for i in 0..3 {
            capture_order(&db, &sys(), order(&format!("D-{i}"), &[("A", 1), ("B", 1)]), None, None)
                .await
                .unwrap();
        }
        let proposed = RuleInput {
            warehouses: vec!["west".into(), "EAST".into()],
            orders: Some(10),
        };
        let before_events = count(&db, "select count(*) from event").await;
        let run = fulfillment::dry_run(&db, &manager(), "WEB", &proposed).await.unwrap();
        assert_eq!(run.orders, 3);
        assert_eq!(run.current_warehouses, vec!["EAST", "WEST"]);
        assert_eq!(run.proposed_warehouses, vec!["WEST", "EAST"]);
        // Under either list the planner finds WEST ships complete: the
        // current rule already avoids the split, and so does the proposed.
        assert_eq!((run.current.split_orders, run.proposed.split_orders), (0, 0));
        assert_eq!(run.current.units_by_warehouse, vec![("WEST".to_string(), 6)]);
        // Only EAST: A ships, B waits.
        let east_only = RuleInput {
            warehouses: vec!["EAST".into()],
            orders: None,
        };
        let run = fulfillment::dry_run(&db, &manager(), "WEB", &east_only).await.unwrap();
        assert_eq!((run.proposed.backordered_orders, run.proposed.backordered_units), (3, 3));
        assert_eq!(count(&db, "select count(*) from event").await, before_events, "a dry run writes nothing");
        let bad = fulfillment::dry_run(
            &db,
            &manager(),
            "WEB",
            &RuleInput {
                warehouses: vec!["NORTH".into()],
                orders: Some(10),
            },
        )
        .await;
        assert!(
            matches!(&bad, Err(Error::Invalid(f)) if f[0].field == "warehouses[0]" && f[0].message == "there is no active warehouse NORTH"),
            "{bad:?}"
        );
        assert!(matches!(
            fulfillment::dry_run(&db, &manager(), "NOPE", &east_only).await,
            Err(Error::NotFound { .. })
        ));

        // Applying EAST only: the next order's B waits; A comes from EAST.
        // Channel settings are an administrator's.
        let refused = orders::set_warehouses(&db, &manager(), "WEB", &["EAST".into()]).await;
        assert!(matches!(refused, Err(Error::Forbidden { .. })), "{refused:?}");
        let admin = staff(Role::Admin);
        let ch = orders::set_warehouses(&db, &admin, "WEB", &["east".into()])
            .await
            .unwrap()
            .applied()
            .unwrap();
        assert_eq!(ch.warehouses, vec!["EAST"]);
        assert_eq!(count(&db, "select count(*) from event where event_type = 'channel.warehouses_changed'").await, 1);
        let o = capture_order(&db, &sys(), order("D-9", &[("A", 1), ("B", 1)]), None, None)
            .await
            .unwrap()
            .order;
        assert_eq!(o.fulfillments.len(), 1);
        assert_eq!(o.fulfillments[0].warehouse, "EAST");
        assert_eq!(o.lines[1].backordered_quantity, 1);
        // Back to both: sourcing the waiting lines now takes B from WEST.
        orders::set_warehouses(&db, &admin, "WEB", &["EAST".into(), "WEST".into()]).await.unwrap();
        let run = fulfillment::source_waiting(&db, &manager()).await.unwrap();
        assert_eq!((run.orders, run.units, run.still_backordered), (1, 1, 0));
        let o = orders::load(&db, &sys(), &o.id).await.unwrap();
        assert_eq!(o.lines[1].backordered_quantity, 0);
        assert_eq!(o.fulfillments[1].warehouse, "WEST");
        assert_no_drift(&db).await;
    }
);

store_test!(
    receipts_cancellations_and_sourcing_running_at_once_keep_every_unit_accounted_for,
    |db: Db| async move {
        shop(&db).await;
        // Twelve orders wait for B (WEST has 5): the oldest five get it now.
        let mut ids = Vec::new();
        for i in 0..12 {
            let o = capture_order(
                &db,
                &sys(),
                order(&format!("RACE-{i}"), &[("A", 1), ("B", 1)]),
                None,
                None,
            )
            .await
            .unwrap()
            .order;
            ids.push(o.id);
        }
        let mut tasks = Vec::new();
        for i in 0..4 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                receive(&db, if i % 2 == 0 { "EAST" } else { "WEST" }, "B", 1).await;
            }));
        }
        for id in &ids[..6] {
            let (db, id) = (db.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                orders::cancel_order(&db, &manager(), &id, "race")
                    .await
                    .unwrap();
            }));
        }
        {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                fulfillment::source_waiting(&db, &manager()).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_no_drift(&db).await;
        // 5 + 4 units of B, six orders cancelled: the six left all have B.
        let mut waiting = 0;
        for id in &ids[6..] {
            let o = orders::load(&db, &sys(), id).await.unwrap();
            waiting += o.lines[1].backordered_quantity;
        }
        assert_eq!(waiting, 0);
        assert_eq!(reserved(&db, "B").await, 6);
    }
);
