//! Store tests for receiving, on SQLite and PostgreSQL: an announced
//! delivery received by scan and put away into bins (with refusals that
//! change nothing), a lot from a GS1 barcode, a blind receipt that sources
//! a backorder, idempotent scans, closing with what came short, and input
//! that is refused whole.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::Conflict;
use backend::{
    catalog,
    fulfillment::ScanInput,
    inventory::{self, LocationInput},
    orders as capture, orders,
    receiving::{self, DeliveryInput, DeliveryLineInput},
    store_test,
    testing::fixtures::{assert_no_drift, channel, item, sys, warehouse, web_order},
    Db, Error, Idempotency,
};
use domain::{
    catalog::{PriceInput, ProductInput},
    views::{Delivery, ScanOutcome},
};

/// EAST with bins A-01-01 and B-01-01; items A and B, and M, lot-tracked
/// with a GTIN.
async fn dock(db: &Db) {
    warehouse(db, "EAST").await;
    inventory::create_location(
        db,
        &sys(),
        "EAST",
        LocationInput {
            code: "B-01-01".into(),
            pick_sequence: None,
        },
    )
    .await
    .unwrap();
    channel(db, ("WEB", "web", "USD"), &["EAST"], None).await;
    item(db, "A", "4.00").await;
    item(db, "B", "6.00").await;
    catalog::create_product(
        db,
        &sys(),
        ProductInput {
            sku: "M".into(),
            name: "Milk powder".into(),
            gtin: Some("5901234123457".into()),
            track_lots: Some(true),
            prices: vec![PriceInput {
                currency: "USD".into(),
                cost: "3.00".into(),
                price: "10.00".into(),
            }],
            ..Default::default()
        },
        None,
    )
    .await
    .unwrap();
}

fn announced(lines: &[(&str, i64)]) -> DeliveryInput {
    DeliveryInput {
        warehouse: "EAST".into(),
        supplier: Some("Acme Supply".into()),
        reference: Some("ASN-7781".into()),
        expected_on: Some("2026-11-30".into()),
        lines: lines
            .iter()
            .map(|(sku, quantity)| DeliveryLineInput {
                sku: sku.to_string(),
                quantity: *quantity,
            })
            .collect(),
    }
}

async fn scan(db: &Db, id: &str, code: &str) -> ScanOutcome<Delivery> {
    receiving::receive_scan(db, &sys(), id, ScanInput { code: code.into() }, None)
        .await
        .unwrap()
}

async fn accept(db: &Db, id: &str, code: &str) -> String {
    let out = scan(db, id, code).await;
    assert!(out.accepted, "{code} was refused: {}", out.message);
    out.message
}

async fn refuse(db: &Db, id: &str, code: &str) -> String {
    let before = receiving::get_delivery(db, &sys(), id).await.unwrap();
    let out = scan(db, id, code).await;
    assert!(!out.accepted, "{code} was accepted: {}", out.message);
    assert_eq!(out.state, before, "a refused scan changed the delivery");
    out.message
}

/// (bin, lot, on hand) of a SKU, by bin.
async fn bins(db: &Db, sku: &str) -> Vec<(String, String, i64)> {
    let mut out: Vec<(String, String, i64)> = inventory::bins_of(db, &sys(), sku)
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.location, b.lot, b.on_hand))
        .collect();
    out.sort();
    out
}

store_test!(
    an_announced_delivery_is_received_by_scan_and_put_away,
    |db: Db| async move {
        dock(&db).await;
        let d = receiving::create_delivery(&db, &sys(), announced(&[("A", 5), ("M", 4)]), None)
            .await
            .unwrap();
        assert_eq!(d.summary.status, "expected");
        assert_eq!((d.summary.units_expected, d.summary.units_received), (9, 0));
        let id = d.summary.id.as_str();

        assert!(refuse(&db, id, "B")
            .await
            .contains("B is not on this delivery"));
        assert!(refuse(&db, id, "A-01-01").await.contains("is a bin"));
        accept(&db, id, "A").await;
        assert!(refuse(&db, id, "9").await.starts_with("Only 5 more of A"));
        accept(&db, id, "3").await;
        let put = accept(&db, id, "a-01-01").await;
        assert_eq!(
            put,
            "Put 3 × A into A-01-01. 3 of 5 received. Scan the next item."
        );
        // Scanning each unit: two more, then a third is one too many.
        accept(&db, id, "A").await;
        accept(&db, id, "A").await;
        assert!(refuse(&db, id, "A").await.starts_with("Only 2 more of A"));
        assert!(refuse(&db, id, "Z-09-09")
            .await
            .contains("Unknown bin Z-09-09"));
        accept(&db, id, "B-01-01").await;
        assert!(refuse(&db, id, "A").await.contains("Every unit of A"));

        // M is lot-tracked: a GS1 barcode carries lot and expiry; a plain
        // SKU scan asks for the lot.
        accept(&db, id, "M").await;
        let pending = receiving::get_delivery(&db, &sys(), id)
            .await
            .unwrap()
            .pending
            .unwrap();
        assert_eq!((pending.step.as_str(), pending.quantity), ("lot", 1));
        receiving::clear_scan(&db, &sys(), id).await.unwrap();
        assert!(receiving::get_delivery(&db, &sys(), id)
            .await
            .unwrap()
            .pending
            .is_none());
        assert!(refuse(&db, id, "(01)05901234123457(17)251231(10)L6")
            .await
            .contains("expired on 2025-12-31"));
        accept(&db, id, "(01)05901234123457(17)271231(10)L7").await;
        accept(&db, id, "4").await;
        accept(&db, id, "B-01-01").await;

        let after = receiving::get_delivery(&db, &sys(), id).await.unwrap();
        assert_eq!(after.summary.status, "receiving");
        assert_eq!(
            (after.summary.units_expected, after.summary.units_received),
            (9, 9)
        );
        assert_eq!(
            after
                .puts
                .iter()
                .map(|p| (
                    p.sku.as_str(),
                    p.quantity,
                    p.location.as_str(),
                    p.lot.as_str()
                ))
                .collect::<Vec<_>>(),
            [
                ("M", 4, "B-01-01", "L7"),
                ("A", 2, "B-01-01", ""),
                ("A", 3, "A-01-01", "")
            ]
        );
        assert_eq!(
            bins(&db, "A").await,
            [
                ("A-01-01".into(), "".into(), 3),
                ("B-01-01".into(), "".into(), 2)
            ]
        );
        assert_eq!(bins(&db, "M").await, [("B-01-01".into(), "L7".into(), 4)]);
        let m = inventory::movements(&db, &sys(), "M", None, None)
            .await
            .unwrap();
        assert_eq!(
            m.items[0].reference.as_deref(),
            Some(after.summary.number.as_str())
        );

        let closed = receiving::close_delivery(&db, &sys(), id, None)
            .await
            .unwrap();
        assert_eq!(closed.summary.status, "closed");
        assert!(closed.closed_at.is_some());
        let late =
            receiving::receive_scan(&db, &sys(), id, ScanInput { code: "A".into() }, None).await;
        assert!(
            matches!(
                late,
                Err(Error::Conflict {
                    code: Conflict::DeliveryClosed,
                    ..
                })
            ),
            "{late:?}"
        );
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_blind_receipt_takes_any_item_and_sources_the_backorder_waiting_for_it,
    |db: Db| async move {
        dock(&db).await;
        let order = capture::capture(&db, &sys(), web_order("R-1", &[("B", 2)]), None, None)
            .await
            .unwrap()
            .order;
        assert_eq!(order.lines[0].backordered_quantity, 2);
        let d = receiving::create_delivery(&db, &sys(), announced(&[]), None)
            .await
            .unwrap();
        assert!(d.summary.blind);
        assert_eq!(d.summary.status, "receiving");
        let id = d.summary.id.as_str();
        accept(&db, id, "B").await;
        accept(&db, id, "12").await;
        assert_eq!(
            accept(&db, id, "B-01-01").await,
            "Put 12 × B into B-01-01. Scan the next item."
        );
        let after = receiving::get_delivery(&db, &sys(), id).await.unwrap();
        assert_eq!(
            after
                .lines
                .iter()
                .map(|l| (l.sku.as_str(), l.expected, l.received))
                .collect::<Vec<_>>(),
            [("B", 0, 12)]
        );
        let order = orders::get_order(&db, &sys(), &order.id).await.unwrap();
        assert_eq!(order.lines[0].backordered_quantity, 0);
        assert_eq!(order.fulfillments.len(), 1);
        assert_eq!(
            inventory::stock(&db, &sys(), "B").await.unwrap().reserved,
            2
        );
        let closed = receiving::close_delivery(&db, &sys(), id, None)
            .await
            .unwrap();
        assert_eq!(closed.summary.units_received, 12);
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_replayed_scan_puts_away_once_and_bad_input_creates_nothing,
    |db: Db| async move {
        dock(&db).await;
        let d = receiving::create_delivery(&db, &sys(), announced(&[("A", 5)]), None)
            .await
            .unwrap();
        let id = d.summary.id.as_str();
        accept(&db, id, "A").await;
        accept(&db, id, "5").await;
        let key = Idempotency::new("dock-scan-1", "receive-scan", b"A-01-01").unwrap();
        let first = receiving::receive_scan(
            &db,
            &sys(),
            id,
            ScanInput {
                code: "A-01-01".into(),
            },
            Some(&key),
        )
        .await
        .unwrap();
        let again = receiving::receive_scan(
            &db,
            &sys(),
            id,
            ScanInput {
                code: "A-01-01".into(),
            },
            Some(&key),
        )
        .await
        .unwrap();
        assert_eq!(first, again);
        assert_eq!(inventory::stock(&db, &sys(), "A").await.unwrap().on_hand, 5);
        assert_eq!(
            receiving::get_delivery(&db, &sys(), id)
                .await
                .unwrap()
                .puts
                .len(),
            1
        );

        let mut bad = announced(&[("A", 1), ("A", 2), ("NOPE", 1), ("B", 0)]);
        bad.expected_on = Some("30/11/2026".into());
        let err = receiving::create_delivery(&db, &sys(), bad, None)
            .await
            .unwrap_err();
        let Error::Invalid(fields) = err else {
            panic!("{err:?}")
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "lines[1].sku",
                "lines[2].sku",
                "lines[3].quantity",
                "expected_on"
            ]
        );
        let all = receiving::list_deliveries(&db, &sys(), &Default::default())
            .await
            .unwrap();
        assert_eq!(all.items.len(), 1);
        let open = receiving::list_deliveries(
            &db,
            &sys(),
            &receiving::DeliveryFilter {
                status: Some("open".into()),
                q: Some("acme".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(open.items.len(), 1);
        let bad_status = receiving::list_deliveries(
            &db,
            &sys(),
            &receiving::DeliveryFilter {
                status: Some("lost".into()),
                ..Default::default()
            },
        )
        .await;
        assert!(matches!(bad_status, Err(Error::Invalid(_))));
        assert_no_drift(&db).await;
    }
);
