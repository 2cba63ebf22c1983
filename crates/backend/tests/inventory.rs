//! Store tests for the catalogue and the stock ledger, on SQLite and
//! PostgreSQL: oversell under contention (two instances sharing the
//! database), kits against their components, a randomized ledger property,
//! lots, transfers, counts and the catalogue import.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::Conflict;
use std::sync::Arc;

use backend::{
    catalog,
    inventory::{
        self, AdjustmentInput, CountInput, CountScan, ReceiptInput, ReceiptLineInput,
        ReservationInput, ReservationLineInput, TransferInput, TransferReceipt,
    },
    orders, store_test, Db, Error,
};
use domain::{catalog::ProductInput, orders::NewChannel};
use proptest::{
    prelude::*,
    strategy::ValueTree,
    test_runner::{Config, TestRunner},
};

use backend::testing::fixtures::{assert_no_drift, item, kit, receive, sys, warehouse};

fn one(reference: &str, sku: &str, quantity: i64) -> ReservationInput {
    ReservationInput {
        reference: reference.into(),
        channel: None,
        lines: vec![ReservationLineInput {
            sku: sku.into(),
            quantity,
        }],
    }
}

store_test!(
    three_hundred_buyers_for_ten_units_get_exactly_ten,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        warehouse(&db, "WEST").await;
        item(&db, "HOT-1", "1.00").await;
        receive(&db, "EAST", "HOT-1", 6).await;
        receive(&db, "WEST", "HOT-1", 4).await;
        // Two handles with their own pools: two `keel serve` instances.
        let instances = Arc::new([db.clone(), db.another_instance().await.unwrap()]);
        let mut tasks = Vec::new();
        for i in 0..300 {
            let instances = instances.clone();
            tasks.push(tokio::spawn(async move {
                inventory::reserve(
                    &instances[i % 2],
                    &sys(),
                    one(&format!("ORD-{i}"), "HOT-1", 1),
                    None,
                )
                .await
            }));
        }
        let (mut ok, mut refused) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(Error::InsufficientStock {
                    requested,
                    available,
                    ref sku,
                    ..
                }) => {
                    assert_eq!((sku.as_str(), requested, available), ("HOT-1", 1, 0));
                    refused += 1;
                }
                Err(other) => panic!("unexpected error: {other:?}"),
            }
        }
        assert_eq!((ok, refused), (10, 290));
        let stock = inventory::stock(&db, &sys(), "HOT-1").await.unwrap();
        assert_eq!(
            (stock.on_hand, stock.reserved, stock.available),
            (10, 10, 0)
        );
        assert_no_drift(&db).await;
        instances[1].close().await;
    }
);

store_test!(
    kits_and_their_components_never_take_more_than_exists,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        item(&db, "PART-A", "1.00").await;
        item(&db, "PART-B", "1.00").await;
        kit(&db, "KIT-AB", &[("PART-A", 2), ("PART-B", 1)]).await;
        receive(&db, "EAST", "PART-A", 10).await;
        receive(&db, "EAST", "PART-B", 6).await;
        assert_eq!(
            inventory::stock(&db, &sys(), "KIT-AB")
                .await
                .unwrap()
                .available,
            5
        );
        let instances = Arc::new([db.clone(), db.another_instance().await.unwrap()]);
        let mut tasks = Vec::new();
        for i in 0..120 {
            let instances = instances.clone();
            let sku = ["KIT-AB", "PART-A", "PART-B"][i % 3];
            tasks.push(tokio::spawn(async move {
                (
                    sku,
                    inventory::reserve(
                        &instances[i % 2],
                        &sys(),
                        one(&format!("R-{i}"), sku, 1),
                        None,
                    )
                    .await,
                )
            }));
        }
        let (mut kits, mut a, mut b) = (0, 0, 0);
        for t in tasks {
            match t.await.unwrap() {
                ("KIT-AB", Ok(_)) => kits += 1,
                ("PART-A", Ok(_)) => a += 1,
                (_, Ok(_)) => b += 1,
                (_, Err(Error::InsufficientStock { .. })) => {}
                (_, Err(other)) => panic!("unexpected error: {other:?}"),
            }
        }
        assert!(2 * kits + a <= 10, "A oversold: {kits} kits + {a}");
        assert!(kits + b <= 6, "B oversold: {kits} kits + {b}");
        // 40 single-unit requests each for A and B outnumber their stock, so a
        // refusal proves the part was gone: both end fully reserved.
        assert_eq!(
            (2 * kits + a, kits + b),
            (10, 6),
            "kits {kits}, A {a}, B {b}"
        );
        let a_stock = inventory::stock(&db, &sys(), "PART-A").await.unwrap();
        assert_eq!(a_stock.reserved, 2 * kits + a);
        assert_no_drift(&db).await;
        instances[1].close().await;
    }
);

store_test!(
    a_request_is_all_or_nothing_and_names_the_short_line,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        item(&db, "X-1", "1.00").await;
        item(&db, "X-2", "1.00").await;
        receive(&db, "EAST", "X-1", 5).await;
        receive(&db, "EAST", "X-2", 1).await;
        let request = ReservationInput {
            reference: "ORD-9".into(),
            channel: None,
            lines: vec![
                ReservationLineInput {
                    sku: "X-1".into(),
                    quantity: 3,
                },
                ReservationLineInput {
                    sku: "X-2".into(),
                    quantity: 2,
                },
            ],
        };
        match inventory::reserve(&db, &sys(), request, None).await {
            Err(Error::InsufficientStock {
                line,
                sku,
                requested,
                available,
            }) => {
                assert_eq!((line, sku.as_str(), requested, available), (1, "X-2", 2, 1));
            }
            other => panic!("expected insufficient stock, got {other:?}"),
        }
        let x1 = inventory::stock(&db, &sys(), "X-1").await.unwrap();
        assert_eq!(x1.reserved, 0, "the first line was rolled back");
        let r = inventory::reserve(&db, &sys(), one("ORD-10", "X-1", 5), None)
            .await
            .unwrap();
        assert_eq!(r.lines[0].allocations[0].quantity, 5);
        inventory::release(&db, &sys(), &r.id).await.unwrap();
        assert!(matches!(
            inventory::release(&db, &sys(), &r.id).await,
            Err(Error::Conflict {
                code: Conflict::ReservationNotActive,
                ..
            })
        ));
        assert_eq!(
            inventory::stock(&db, &sys(), "X-1")
                .await
                .unwrap()
                .available,
            5
        );
        assert_no_drift(&db).await;
    }
);

store_test!(
    channel_atp_spans_its_warehouses_after_the_buffer,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        warehouse(&db, "WEST").await;
        item(&db, "ATP-1", "1.00").await;
        receive(&db, "EAST", "ATP-1", 7).await;
        receive(&db, "WEST", "ATP-1", 1).await;
        let channel = NewChannel::parse(
            "MKT",
            "Marketplace",
            "marketplace",
            "USD",
            &["WEST".into(), "EAST".into()],
        )
        .unwrap();
        orders::create_channel(&db, &sys(), channel, None)
            .await
            .unwrap();
        orders::set_safety_buffer(&db, &sys(), "MKT", 2)
            .await
            .unwrap();
        let atp = inventory::availability(&db, &sys(), "MKT", "ATP-1")
            .await
            .unwrap();
        assert_eq!(atp.available, 5, "{atp:?}");
        assert_eq!(atp.warehouses[0].warehouse, "WEST");
        let mut r = one("M-1", "ATP-1", 6);
        r.channel = Some("MKT".into());
        assert!(matches!(
            inventory::reserve(&db, &sys(), r.clone(), None).await,
            Err(Error::InsufficientStock { available: 5, .. })
        ));
        r.lines[0].quantity = 5;
        inventory::reserve(&db, &sys(), r, None).await.unwrap();
        assert_eq!(
            inventory::availability(&db, &sys(), "MKT", "ATP-1")
                .await
                .unwrap()
                .available,
            0
        );
        // Without a channel there is no buffer: 3 more units can still be promised.
        assert_eq!(
            inventory::stock(&db, &sys(), "ATP-1")
                .await
                .unwrap()
                .available,
            3
        );
    }
);

store_test!(
    lots_ship_first_expiry_first_and_transfers_pass_through_transit,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        warehouse(&db, "WEST").await;
        catalog::create_product(
            &db,
            &sys(),
            ProductInput {
                sku: "GAS".into(),
                name: "Gas".into(),
                track_lots: Some(true),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
        let line = |lot: &str, exp: &str, q| ReceiptLineInput {
            sku: "GAS".into(),
            quantity: q,
            location: Some("A-01-01".into()),
            lot: Some(lot.into()),
            expires_on: Some(exp.into()),
        };
        let missing_lot = inventory::receive(
            &db,
            &sys(),
            ReceiptInput {
                warehouse: "EAST".into(),
                reference: None,
                lines: vec![line("", "", 1)],
            },
            None,
        )
        .await;
        assert!(
            matches!(missing_lot, Err(Error::Invalid(ref f)) if f[0].field == "lines[0].lot"),
            "{missing_lot:?}"
        );
        inventory::receive(
            &db,
            &sys(),
            ReceiptInput {
                warehouse: "EAST".into(),
                reference: Some("PO-1".into()),
                lines: vec![line("LATE", "2028-01-01", 5), line("SOON", "2027-02-01", 3)],
            },
            None,
        )
        .await
        .unwrap();
        let r = inventory::reserve(&db, &sys(), one("O-1", "GAS", 4), None)
            .await
            .unwrap();
        inventory::consume(&db, &sys(), &r.id).await.unwrap();
        let bins = inventory::bins_of(&db, &sys(), "GAS").await.unwrap();
        assert_eq!(bins.len(), 1, "SOON is used up first: {bins:?}");
        assert_eq!((bins[0].lot.as_str(), bins[0].on_hand), ("LATE", 4));

        let t = inventory::create_transfer(
            &db,
            &sys(),
            TransferInput {
                from: "EAST".into(),
                to: "WEST".into(),
                lines: vec![inventory::TransferLineInput {
                    sku: "GAS".into(),
                    quantity: 3,
                    location: None,
                    lot: None,
                }],
            },
            None,
        )
        .await
        .unwrap();
        let s = inventory::stock(&db, &sys(), "GAS").await.unwrap();
        assert_eq!((s.on_hand, s.in_transit), (1, 3));
        inventory::receive_transfer(&db, &sys(), &t.id, TransferReceipt::default())
            .await
            .unwrap();
        assert!(matches!(
            inventory::receive_transfer(&db, &sys(), &t.id, TransferReceipt::default()).await,
            Err(Error::Conflict { .. })
        ));
        let s = inventory::stock(&db, &sys(), "GAS").await.unwrap();
        assert_eq!((s.on_hand, s.in_transit), (4, 0));
        let list = |status: &str| inventory::TransferFilter {
            status: Some(status.into()),
            limit: None,
            cursor: None,
        };
        let received = inventory::list_transfers(&db, &sys(), &list("received"))
            .await
            .unwrap();
        assert_eq!(
            received
                .items
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>(),
            [t.id.as_str()]
        );
        assert!(inventory::list_transfers(&db, &sys(), &list("in_transit"))
            .await
            .unwrap()
            .items
            .is_empty());
        let west = inventory::bins_of(&db, &sys(), "GAS").await.unwrap();
        assert!(west
            .iter()
            .any(|b| b.warehouse == "WEST" && b.lot == "LATE" && b.location == "RCV-00-00"));
        let history = inventory::movements(&db, &sys(), "GAS", Some(50), None)
            .await
            .unwrap();
        let kinds: Vec<&str> = history.items.iter().map(|m| m.kind.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "transfer_in",
                "transfer_out",
                "shipment",
                "shipment",
                "receipt",
                "receipt"
            ]
        );
        assert_no_drift(&db).await;
    }
);

store_test!(
    adjustments_keep_reserved_units_and_need_a_reason,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        item(&db, "ADJ", "1.00").await;
        receive(&db, "EAST", "ADJ", 5).await;
        inventory::reserve(&db, &sys(), one("O", "ADJ", 4), None)
            .await
            .unwrap();
        let input = |q: i64, reason: &str| AdjustmentInput {
            warehouse: "EAST".into(),
            sku: "ADJ".into(),
            quantity: q,
            reason: reason.into(),
            location: Some("A-01-01".into()),
            lot: None,
            expires_on: None,
            kind: None,
            note: None,
        };
        let bad = inventory::adjust(&db, &sys(), input(-1, "because"), None).await;
        assert!(matches!(bad, Err(Error::Invalid(ref f)) if f[0].field == "reason"));
        let err = inventory::adjust(&db, &sys(), input(-2, "damaged"), None)
            .await
            .unwrap_err();
        assert!(err.fields()[0].message.contains("1 unreserved"), "{err:?}");
        inventory::adjust(&db, &sys(), input(-1, "damaged"), None)
            .await
            .unwrap();
        inventory::adjust(&db, &sys(), input(3, "found"), None)
            .await
            .unwrap();
        let s = inventory::stock(&db, &sys(), "ADJ").await.unwrap();
        assert_eq!((s.on_hand, s.reserved, s.available), (7, 4, 3));
        assert_no_drift(&db).await;
    }
);

store_test!(
    counts_post_small_variances_and_hold_large_ones_for_approval,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        item(&db, "CHEAP", "1.00").await;
        item(&db, "DEAR", "100.00").await;
        receive(&db, "EAST", "CHEAP", 10).await;
        receive(&db, "EAST", "DEAR", 10).await;
        let admin = sys();
        let open = || {
            inventory::open_count(
                &db,
                &admin,
                CountInput {
                    warehouse: "EAST".into(),
                    location: "A-01-01".into(),
                },
            )
        };
        let c = open().await.unwrap();
        assert_eq!(
            open().await.unwrap().id,
            c.id,
            "scanning the bin again resumes the open count"
        );
        // The tablet may post before its warehouse field loads: an agent
        // scoped to one warehouse counts there, anyone else must say which.
        let bin_only = || CountInput {
            warehouse: " ".into(),
            location: "A-01-01".into(),
        };
        let mut agent = sys();
        agent.actor.scope.warehouses = vec!["EAST".into()];
        let resumed = inventory::open_count(&db, &agent, bin_only())
            .await
            .unwrap();
        assert_eq!(resumed.id, c.id);
        let err = inventory::open_count(&db, &admin, bin_only())
            .await
            .unwrap_err();
        assert_eq!(err.fields()[0].field, "warehouse", "{err:?}");
        for _ in 0..9 {
            inventory::count_scan(
                &db,
                &sys(),
                &c.id,
                CountScan {
                    code: "CHEAP".into(),
                    quantity: None,
                    set: false,
                },
            )
            .await
            .unwrap();
        }
        inventory::count_scan(
            &db,
            &sys(),
            &c.id,
            CountScan {
                code: "DEAR".into(),
                quantity: Some(10),
                set: true,
            },
        )
        .await
        .unwrap();
        let bad = inventory::count_scan(
            &db,
            &sys(),
            &c.id,
            CountScan {
                code: "NOPE".into(),
                quantity: None,
                set: false,
            },
        )
        .await;
        assert!(matches!(bad, Err(Error::Invalid(_))));
        let done = inventory::submit_count(&db, &sys(), &c.id).await.unwrap();
        assert_eq!((done.status.as_str(), done.variance_units), ("posted", -1));
        assert_eq!(
            inventory::stock(&db, &sys(), "CHEAP")
                .await
                .unwrap()
                .on_hand,
            9
        );

        let c = open().await.unwrap();
        inventory::count_scan(
            &db,
            &sys(),
            &c.id,
            CountScan {
                code: "CHEAP".into(),
                quantity: Some(9),
                set: true,
            },
        )
        .await
        .unwrap();
        inventory::count_scan(
            &db,
            &sys(),
            &c.id,
            CountScan {
                code: "DEAR".into(),
                quantity: Some(5),
                set: true,
            },
        )
        .await
        .unwrap();
        let held = inventory::submit_count(&db, &sys(), &c.id).await.unwrap();
        assert_eq!(held.status, "pending_approval");
        assert_eq!(held.variance_value.minor(), 50_000);
        assert_eq!(
            inventory::stock(&db, &sys(), "DEAR").await.unwrap().on_hand,
            10,
            "nothing moves before approval"
        );
        // Four eyes: whoever counted can't approve their own count.
        match inventory::decide_count(&db, &sys(), &c.id, true).await {
            Err(backend::Error::Conflict { code, message }) => {
                assert_eq!(code, Conflict::SelfApproval);
                assert!(message.contains(&c.number), "{message}");
            }
            other => panic!("self-approval went through: {other:?}"),
        }
        let approver = backend::Ctx::system("approver");
        let approved = inventory::decide_count(&db, &approver, &c.id, true)
            .await
            .unwrap();
        assert_eq!(approved.status, "posted");
        assert_eq!(
            inventory::stock(&db, &sys(), "DEAR").await.unwrap().on_hand,
            5
        );
        let acc = inventory::accuracy(&db, &sys(), 30).await.unwrap();
        assert_eq!((acc.lines_counted, acc.lines_exact), (4, 2));
        assert_no_drift(&db).await;
    }
);

store_test!(
    check_reports_drift_with_the_rows_involved,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        item(&db, "DRIFT", "1.00").await;
        receive(&db, "EAST", "DRIFT", 5).await;
        assert_no_drift(&db).await;
        sqlx::query("update stock_level set on_hand = 7, reserved = 1")
            .execute(&db.pool)
            .await
            .unwrap();
        let drift = inventory::check(&db).await.unwrap();
        let lines: Vec<String> = drift.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "warehouse on-hand vs bins: DRIFT in EAST: expected 5, recorded 7",
                "reserved vs live reservations: DRIFT in EAST: expected 0, recorded 1",
            ]
        );
    }
);

/// One step of the randomized ledger test.
#[derive(Debug, Clone)]
enum Op {
    Receive {
        sku: usize,
        wh: usize,
        qty: i64,
    },
    Reserve {
        lines: Vec<(usize, i64)>,
        channel: bool,
    },
    Release(usize),
    Ship(usize),
    Transfer {
        sku: usize,
        from: usize,
        qty: i64,
    },
    Arrive(usize),
    Adjust {
        sku: usize,
        wh: usize,
        delta: i64,
    },
    Count {
        sku: usize,
        wh: usize,
        counted: i64,
    },
}

const SKUS: [&str; 4] = ["P-A", "P-B", "P-C", "P-KIT"];
const WHS: [&str; 2] = ["EAST", "WEST"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..2usize, 1..20i64).prop_map(|(sku, wh, qty)| Op::Receive { sku, wh, qty }),
        (
            proptest::collection::vec((0..4usize, 1..6i64), 1..3),
            any::<bool>()
        )
            .prop_map(|(lines, channel)| Op::Reserve { lines, channel }),
        (0..50usize).prop_map(Op::Release),
        (0..50usize).prop_map(Op::Ship),
        (0..3usize, 0..2usize, 1..8i64).prop_map(|(sku, from, qty)| Op::Transfer {
            sku,
            from,
            qty
        }),
        (0..20usize).prop_map(Op::Arrive),
        (0..3usize, 0..2usize, -6..6i64).prop_map(|(sku, wh, delta)| Op::Adjust { sku, wh, delta }),
        (0..3usize, 0..2usize, 0..25i64).prop_map(|(sku, wh, counted)| Op::Count {
            sku,
            wh,
            counted
        }),
    ]
}

/// Applies one op; refusals (not enough stock, already released) are fine,
/// anything else is a bug.
async fn apply(db: &Db, op: &Op, reservations: &mut Vec<String>, transfers: &mut Vec<String>) {
    let ctx = sys();
    let outcome: Result<(), Error> = match op {
        Op::Receive { sku, wh, qty } => inventory::receive(
            db,
            &ctx,
            ReceiptInput {
                warehouse: WHS[*wh].into(),
                reference: None,
                lines: vec![ReceiptLineInput {
                    sku: SKUS[*sku].into(),
                    quantity: *qty,
                    location: Some("A-01-01".into()),
                    lot: (*sku == 2).then(|| format!("LOT{}", qty % 3)),
                    expires_on: (*sku == 2).then(|| format!("2027-0{}-01", qty % 3 + 1)),
                }],
            },
            None,
        )
        .await
        .map(|_| ()),
        Op::Reserve { lines, channel } => inventory::reserve(
            db,
            &ctx,
            ReservationInput {
                reference: "PROP".into(),
                channel: channel.then(|| "WEB".into()),
                lines: lines
                    .iter()
                    .map(|(s, q)| ReservationLineInput {
                        sku: SKUS[*s].into(),
                        quantity: *q,
                    })
                    .collect(),
            },
            None,
        )
        .await
        .map(|r| reservations.push(r.id)),
        Op::Release(i) | Op::Ship(i) if reservations.is_empty() => {
            let _ = i;
            Ok(())
        }
        Op::Release(i) => inventory::release(db, &ctx, &reservations[i % reservations.len()])
            .await
            .map(|_| ()),
        Op::Ship(i) => inventory::consume(db, &ctx, &reservations[i % reservations.len()])
            .await
            .map(|_| ()),
        Op::Transfer { sku, from, qty } => inventory::create_transfer(
            db,
            &ctx,
            TransferInput {
                from: WHS[*from].into(),
                to: WHS[1 - from].into(),
                lines: vec![inventory::TransferLineInput {
                    sku: SKUS[*sku].into(),
                    quantity: *qty,
                    location: None,
                    lot: None,
                }],
            },
            None,
        )
        .await
        .map(|t| transfers.push(t.id)),
        Op::Arrive(_) if transfers.is_empty() => Ok(()),
        Op::Arrive(i) => inventory::receive_transfer(
            db,
            &ctx,
            &transfers[i % transfers.len()],
            TransferReceipt {
                location: Some("A-01-01".into()),
            },
        )
        .await
        .map(|_| ()),
        Op::Adjust { delta: 0, .. } => Ok(()),
        Op::Adjust { sku, wh, delta } => inventory::adjust(
            db,
            &ctx,
            AdjustmentInput {
                warehouse: WHS[*wh].into(),
                sku: SKUS[*sku].into(),
                quantity: *delta,
                reason: if *delta > 0 { "found" } else { "damaged" }.into(),
                location: Some("A-01-01".into()),
                lot: (*sku == 2 && *delta > 0).then(|| "LOTX".into()),
                expires_on: None,
                kind: None,
                note: None,
            },
            None,
        )
        .await
        .map(|_| ()),
        Op::Count { sku, wh, counted } => {
            let c = inventory::open_count(
                db,
                &ctx,
                CountInput {
                    warehouse: WHS[*wh].into(),
                    location: "A-01-01".into(),
                },
            )
            .await
            .unwrap();
            inventory::count_scan(
                db,
                &ctx,
                &c.id,
                CountScan {
                    code: SKUS[*sku].into(),
                    quantity: Some(*counted),
                    set: true,
                },
            )
            .await
            .unwrap();
            // Other products in the bin are recounted at what the system says.
            let held = inventory::bins_of(db, &ctx, SKUS[(*sku + 1) % 3])
                .await
                .unwrap();
            let other: i64 = held
                .iter()
                .filter(|b| b.warehouse == WHS[*wh] && b.location == "A-01-01")
                .map(|b| b.on_hand)
                .sum();
            let held2 = inventory::bins_of(db, &ctx, SKUS[(*sku + 2) % 3])
                .await
                .unwrap();
            let other2: i64 = held2
                .iter()
                .filter(|b| b.warehouse == WHS[*wh] && b.location == "A-01-01")
                .map(|b| b.on_hand)
                .sum();
            for (s, n) in [
                (SKUS[(*sku + 1) % 3], other),
                (SKUS[(*sku + 2) % 3], other2),
            ] {
                inventory::count_scan(
                    db,
                    &ctx,
                    &c.id,
                    CountScan {
                        code: s.into(),
                        quantity: Some(n),
                        set: true,
                    },
                )
                .await
                .unwrap();
            }
            match inventory::submit_count(db, &ctx, &c.id).await {
                Ok(c) if c.status == "pending_approval" => {
                    inventory::decide_count(db, &backend::Ctx::system("approver"), &c.id, true)
                        .await
                        .map(|_| ())
                }
                other => other.map(|_| ()),
            }
        }
    };
    match outcome {
        Ok(())
        | Err(Error::InsufficientStock { .. })
        | Err(Error::Conflict { .. })
        | Err(Error::Invalid(_)) => {}
        Err(other) => panic!("{op:?} failed: {other:?}"),
    }
}

store_test!(
    any_sequence_of_operations_keeps_the_ledger_invariants,
    |db: Db| async move {
        for wh in WHS {
            warehouse(&db, wh).await;
        }
        item(&db, "P-A", "3.00").await;
        item(&db, "P-B", "40.00").await;
        catalog::create_product(
            &db,
            &sys(),
            ProductInput {
                sku: "P-C".into(),
                name: "Lotted".into(),
                track_lots: Some(true),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
        kit(&db, "P-KIT", &[("P-A", 2), ("P-B", 1)]).await;
        let channel =
            NewChannel::parse("WEB", "Web", "web", "USD", &["WEST".into(), "EAST".into()]).unwrap();
        orders::create_channel(&db, &sys(), channel, None)
            .await
            .unwrap();
        orders::set_safety_buffer(&db, &sys(), "WEB", 1)
            .await
            .unwrap();

        let cases: u32 = std::env::var("KEEL_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(24);
        let mut runner = TestRunner::new(Config {
            cases,
            ..Config::default()
        });
        let strategy = proptest::collection::vec(op(), 5..30);
        let (mut reservations, mut transfers) = (Vec::new(), Vec::new());
        for case in 0..cases {
            let ops = strategy.new_tree(&mut runner).unwrap().current();
            for op in &ops {
                apply(&db, op, &mut reservations, &mut transfers).await;
            }
            let drift = inventory::check(&db).await.unwrap();
            assert!(drift.is_empty(), "case {case}: {ops:#?}\ndrift: {drift:#?}");
            let levels: Vec<(i64, i64)> =
                sqlx::query_as("select on_hand, reserved from stock_level")
                    .fetch_all(&db.pool)
                    .await
                    .unwrap();
            assert!(
                levels.iter().all(|(o, r)| *o >= 0 && *r >= 0),
                "case {case}: negative level {levels:?}"
            );
        }
        // The sequences really exercised the ledger, not just refusals.
        let kinds: Vec<String> =
            sqlx::query_scalar("select distinct kind from stock_movement order by kind")
                .fetch_all(&db.pool)
                .await
                .unwrap();
        assert_eq!(
            kinds,
            [
                "adjustment",
                "count_correction",
                "receipt",
                "shipment",
                "transfer_in",
                "transfer_out"
            ],
            "with {cases} cases"
        );
        let released: i64 = sqlx::query_scalar(
            "select cast(count(*) as bigint) from reservation where status = 'released'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(released > 0);
    }
);

store_test!(
    a_ten_thousand_row_catalogue_imports_with_its_bad_rows_reported,
    |db: Db| async move {
        let mut csv = String::from("sku,name,group,options,gtin,currency,cost,price,components\n");
        for i in 0..10_000 {
            let payload = format!("0614142{i:05}");
            let check = domain::gtin::check_digit(&payload).unwrap();
            csv.push_str(&format!(
                "IMP-{i:05},Imported product {i},IMP,size=M,{payload}{check},USD,1.25,9.99,\n"
            ));
        }
        // Bad rows at known lines (the header is line 1, IMP-00000 is line 2).
        csv.push_str("IMP-BAD-GTIN,Bad barcode,,,4006381333932,USD,1,2,\n"); // line 10002
        csv.push_str("IMP-NO-NAME,,,,,USD,1,2,\n"); // 10003
        csv.push_str("IMP-BAD-PRICE,Bad price,,,,USD,1,12.345,\n"); // 10004
        csv.push_str("IMP-00007,Duplicate,,,,USD,1,2,\n"); // 10005
        csv.push_str("IMP-KIT,Kit of nothing,,,,USD,0,5,NOPE*2\n"); // 10006
        csv.push_str("IMP-KIT2,Good kit,,,,USD,0,15,IMP-00001*2;IMP-00002*1\n"); // 10007

        let preview = catalog::preview_import(&db, &sys(), &csv).await.unwrap();
        assert_eq!((preview.total_rows, preview.valid_rows), (10_006, 10_002));
        assert_eq!(count(&db, "product").await, 0, "a preview writes nothing");

        let prepared = catalog::prepare_import(&db, &sys(), &csv).await.unwrap();
        assert_eq!(prepared.job.status, "running");
        let job = prepared.run().await.unwrap();
        assert_eq!(job.status, "done");
        assert_eq!((job.total_rows, job.processed_rows), (10_006, 10_006));
        assert_eq!((job.created_rows, job.failed_rows), (10_001, 5));
        let reported: Vec<(i64, &str)> = job
            .errors
            .iter()
            .map(|e| (e.line, e.message.as_str()))
            .collect();
        assert_eq!(
            reported.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![10_002, 10_003, 10_004, 10_005, 10_006]
        );
        assert!(reported[0].1.contains("expected 1, got 2"), "{reported:?}");
        assert!(reported[1].1.starts_with("name:"), "{reported:?}");
        assert!(reported[2].1.contains("prices[0].price"), "{reported:?}");
        assert!(
            reported[3].1.contains("already appeared on line 9"),
            "{reported:?}"
        );
        assert!(
            reported[4].1.contains("there is no product NOPE"),
            "{reported:?}"
        );
        assert_eq!(count(&db, "product").await, 10_001);
        assert_eq!(
            inventory::stock(&db, &sys(), "IMP-KIT2")
                .await
                .unwrap()
                .kind,
            "bundle"
        );

        // The same file again: nothing changes, nothing is audited twice.
        let audits = count(&db, "audit_log").await;
        let again = catalog::prepare_import(&db, &sys(), &csv)
            .await
            .unwrap()
            .run()
            .await
            .unwrap();
        assert_eq!(
            (again.created_rows, again.updated_rows, again.unchanged_rows),
            (0, 0, 10_001)
        );
        assert_eq!(
            count(&db, "audit_log").await,
            audits + 1,
            "only the import itself is audited"
        );

        let exported = catalog::export_csv(&db, &sys()).await.unwrap();
        assert_eq!(exported.lines().count(), 10_002);
        let round = catalog::prepare_import(&db, &sys(), &exported)
            .await
            .unwrap()
            .run()
            .await
            .unwrap();
        assert_eq!(
            (round.unchanged_rows, round.failed_rows),
            (10_001, 0),
            "{:?}",
            round.errors.first()
        );
    }
);

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select cast(count(*) as bigint) from {table}"))
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

store_test!(
    serial_numbers_are_units_of_one_and_never_in_stock_twice,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        warehouse(&db, "WEST").await;
        catalog::create_product(
            &db,
            &sys(),
            ProductInput {
                sku: "WATCH".into(),
                name: "Watch".into(),
                track_serials: Some(true),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
        let line = |serial: &str, quantity: i64| ReceiptLineInput {
            sku: "WATCH".into(),
            quantity,
            location: None,
            lot: Some(serial.into()),
            expires_on: None,
        };
        let receipt = |lines| ReceiptInput {
            warehouse: "EAST".into(),
            reference: None,
            lines,
        };
        let fields = |r: Result<inventory::Receipt, Error>| match r {
            Err(Error::Invalid(f)) => f.into_iter().map(|f| f.field).collect::<Vec<_>>(),
            other => panic!("expected invalid input, got {other:?}"),
        };
        assert_eq!(
            fields(inventory::receive(&db, &sys(), receipt(vec![line("SN1", 2)]), None).await),
            ["lines[0].quantity"]
        );
        assert_eq!(
            fields(inventory::receive(&db, &sys(), receipt(vec![line("", 1)]), None).await),
            ["lines[0].lot"]
        );
        assert_eq!(
            fields(
                inventory::receive(
                    &db,
                    &sys(),
                    receipt(vec![line("SN1", 1), line("SN1", 1)]),
                    None
                )
                .await
            ),
            ["lines[1].lot"]
        );
        inventory::receive(
            &db,
            &sys(),
            receipt(vec![line("SN1", 1), line("SN2", 1)]),
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            fields(inventory::receive(&db, &sys(), receipt(vec![line("SN2", 1)]), None).await),
            ["lines[0].lot"]
        );
        // In transit it is still in stock; once shipped, the serial may come back (a return).
        inventory::create_transfer(
            &db,
            &sys(),
            TransferInput {
                from: "EAST".into(),
                to: "WEST".into(),
                lines: vec![inventory::TransferLineInput {
                    sku: "WATCH".into(),
                    quantity: 1,
                    location: None,
                    lot: Some("SN2".into()),
                }],
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            fields(inventory::receive(&db, &sys(), receipt(vec![line("SN2", 1)]), None).await),
            ["lines[0].lot"]
        );
        let r = inventory::reserve(&db, &sys(), one("O-1", "WATCH", 1), None)
            .await
            .unwrap();
        inventory::consume(&db, &sys(), &r.id).await.unwrap();
        inventory::receive(&db, &sys(), receipt(vec![line("SN1", 1)]), None)
            .await
            .unwrap();
        assert!(
            catalog::get_product(&db, &sys(), "WATCH")
                .await
                .unwrap()
                .track_serials
        );
        assert_no_drift(&db).await;
    }
);
