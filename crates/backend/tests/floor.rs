//! Store tests for the warehouse floor, on SQLite and PostgreSQL: a wave in
//! bin order, picking by scan with refusals, a short pick, packing that
//! blocks the label until it verifies, shipping that consumes the
//! reservation, labels, idempotent scans, cancellation, and waves built at
//! once.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::Conflict;
use backend::{
    catalog,
    fulfillment::{
        self as floor, MeasureInput, PackScanInput, PackageTracking, ScanInput, ShipInput,
        ShortInput, WaveInput,
    },
    inventory::{self, LocationInput},
    orders as capture, orders, store_test,
    testing::fixtures::{assert_no_drift, channel, item, receive_into, sys, warehouse, web_order},
    Ctx, Db, Error, Idempotency,
};
use domain::{
    catalog::{PriceInput, ProductInput},
    views::{ScanOutcome, Wave},
};

/// EAST with three bins walked in order A-01-01, B-01-01, C-01-01, and
/// stock of A (in C-01-01, walked last), B (A-01-01) and G, which has a GTIN
/// (B-01-01).
async fn floor_shop(db: &Db) {
    warehouse(db, "EAST").await;
    warehouse(db, "WEST").await;
    // Default walk order: zone A, then B, then C.
    for code in ["B-01-01", "C-01-01"] {
        inventory::create_location(
            db,
            &sys(),
            "EAST",
            LocationInput {
                code: code.into(),
                pick_sequence: None,
            },
        )
        .await
        .unwrap();
    }
    channel(db, ("WEB", "web", "USD"), &["EAST", "WEST"], None).await;
    item(db, "A", "4.00").await;
    item(db, "B", "6.00").await;
    catalog::create_product(
        db,
        &sys(),
        ProductInput {
            sku: "G".into(),
            name: "Product G".into(),
            gtin: Some("5901234123457".into()),
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
    put(db, "EAST", "A", 5, "C-01-01").await;
    put(db, "EAST", "B", 5, "A-01-01").await;
    put(db, "EAST", "G", 5, "B-01-01").await;
}

async fn put(db: &Db, wh: &str, sku: &str, qty: i64, bin: &str) {
    receive_into(db, wh, sku, qty, bin).await;
}

async fn place(db: &Db, external_id: &str, method: &str, lines: &[(&str, i64)]) -> String {
    let mut input = web_order(external_id, lines);
    input.shipping.method = method.into();
    capture::capture(db, &sys(), input, None, None)
        .await
        .unwrap()
        .order
        .id
}

fn wave_input(max: i64) -> WaveInput {
    WaveInput {
        warehouse: "EAST".into(),
        max_orders: Some(max),
        express_only: false,
    }
}

async fn scan(db: &Db, wave: &str, code: &str) -> ScanOutcome<Wave> {
    floor::pick_scan(db, &sys(), wave, ScanInput { code: code.into() }, None)
        .await
        .unwrap()
}

async fn accept(db: &Db, wave: &str, code: &str) -> Wave {
    let out = scan(db, wave, code).await;
    assert!(out.accepted, "{code} was refused: {}", out.message);
    out.state
}

async fn refuse(db: &Db, wave: &str, code: &str) -> String {
    let before = floor::get_wave(db, &sys(), wave).await.unwrap();
    let out = scan(db, wave, code).await;
    assert!(!out.accepted, "{code} was accepted");
    assert_eq!(out.state, before, "a refused scan changed the wave");
    assert_eq!(floor::get_wave(db, &sys(), wave).await.unwrap(), before);
    out.message
}

async fn pack(
    db: &Db,
    fid: &str,
    code: &str,
    package: Option<i64>,
) -> ScanOutcome<domain::views::PackView> {
    floor::pack_scan(
        db,
        &sys(),
        fid,
        PackScanInput {
            code: code.into(),
            package,
        },
        None,
    )
    .await
    .unwrap()
}

fn measures(weight_g: i64) -> MeasureInput {
    MeasureInput {
        weight_g,
        length_mm: 300,
        width_mm: 200,
        height_mm: 100,
    }
}

fn ship_input(tracking: &[(i64, &str)]) -> ShipInput {
    ShipInput {
        carrier: "UPS".into(),
        service: "Ground".into(),
        packages: tracking
            .iter()
            .map(|(p, t)| PackageTracking {
                package: *p,
                tracking: t.to_string(),
            })
            .collect(),
    }
}

async fn level(db: &Db, sku: &str) -> (i64, i64) {
    let s = inventory::stock(db, &sys(), sku).await.unwrap();
    (s.on_hand, s.reserved)
}

store_test!(
    a_three_line_order_is_picked_packed_and_shipped_by_scans,
    |db: Db| async move {
        floor_shop(&db).await;
        let order_id = place(&db, "F-1", "Ground", &[("A", 2), ("B", 1), ("G", 1)]).await;
        let wave = floor::build_wave(&db, &sys(), wave_input(10), None)
            .await
            .unwrap();
        let walk: Vec<(&str, &str, i64)> = wave
            .tasks
            .iter()
            .map(|t| (t.location.as_str(), t.sku.as_str(), t.quantity))
            .collect();
        assert_eq!(
            walk,
            [
                ("A-01-01", "B", 1),
                ("B-01-01", "G", 1),
                ("C-01-01", "A", 2)
            ]
        );
        let order = orders::load(&db, &sys(), &order_id).await.unwrap();
        assert_eq!(order.status, "in_fulfilment");
        assert_eq!(order.fulfillments[0].status, "picking");
        let w = wave.id.as_str();

        // B from A-01-01, with a wrong bin and a wrong item refused first.
        let m = refuse(&db, w, "C-01-01").await;
        assert_eq!(m, "Wrong bin: you scanned C-01-01. Go to bin A-01-01.");
        accept(&db, w, "a-01-01").await;
        let m = refuse(&db, w, "A").await;
        assert!(m.starts_with("Wrong item: A is not B"), "{m}");
        accept(&db, w, "B").await;
        let m = refuse(&db, w, "2").await;
        assert!(m.contains("Only 1 to pick"), "{m}");
        accept(&db, w, "1").await;
        // G by its GTIN inside a GS1-128 scan.
        accept(&db, w, "B-01-01").await;
        accept(&db, w, "]C1010590123412345715991231").await;
        accept(&db, w, "1").await;
        // A in two goes: 1, then the other.
        accept(&db, w, "C-01-01").await;
        accept(&db, w, "A").await;
        let w1 = accept(&db, w, "1").await;
        assert_eq!(w1.tasks[2].picked, 1);
        assert_eq!(w1.tasks[2].step, "quantity");
        let done = accept(&db, w, "1").await;
        assert_eq!(done.status, "done");
        assert_eq!(done.picked_units, 4);
        assert!(done.tasks.iter().all(|t| t.status == "picked"));
        assert_eq!(done.fulfillments[0].status, "picked");
        // Nothing moved yet: the units are still in the bins, reserved.
        assert_eq!(level(&db, "A").await, (5, 2));

        // Packing: the label is blocked until every unit is packed and measured.
        let fid = done.fulfillments[0].id.clone();
        let blocked = floor::ship(
            &db,
            &sys(),
            &fid,
            ship_input(&[(1, "1Z999AA10123456784")]),
            None,
        )
        .await;
        match blocked {
            Err(Error::Conflict {
                code: Conflict::PackNotVerified,
                message,
            }) => {
                assert!(message.contains("No package yet"), "{message}")
            }
            other => panic!("expected pack_not_verified, got {other:?}"),
        }
        let out = pack(&db, &fid, "Z", None).await;
        assert!(
            !out.accepted && out.message.contains("Z is not in"),
            "{}",
            out.message
        );
        assert!(pack(&db, &fid, "A", None).await.accepted);
        assert!(pack(&db, &fid, "A", None).await.accepted);
        let over = pack(&db, &fid, "A", None).await;
        assert!(
            !over.accepted && over.message.contains("All 2 of A are packed already"),
            "{}",
            over.message
        );
        assert!(pack(&db, &fid, "B", Some(2)).await.accepted);
        let view = pack(&db, &fid, "5901234123457", Some(2)).await.state;
        assert_eq!(
            view.problems,
            [
                "Package 1 needs its weight",
                "Package 1 needs its dimensions",
                "Package 2 needs its weight",
                "Package 2 needs its dimensions"
            ]
        );
        floor::measure_package(&db, &sys(), &fid, 1, measures(900))
            .await
            .unwrap();
        let bad = floor::measure_package(&db, &sys(), &fid, 2, measures(0)).await;
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
        let view = floor::measure_package(&db, &sys(), &fid, 2, measures(400))
            .await
            .unwrap();
        assert!(view.verified, "{:?}", view.problems);
        // One tracking number per package.
        let missing = floor::ship(
            &db,
            &sys(),
            &fid,
            ship_input(&[(1, "1Z999AA10123456784")]),
            None,
        )
        .await;
        assert!(matches!(missing, Err(Error::Invalid(_))), "{missing:?}");

        let key = Idempotency::new("ship-F-1", "ship F-1", b"ship").unwrap();
        let input = ship_input(&[(1, "1Z999AA10123456784"), (2, "1Z999AA10123456795")]);
        let shipment = floor::ship(&db, &sys(), &fid, input.clone(), Some(&key))
            .await
            .unwrap();
        let again = floor::ship(&db, &sys(), &fid, input, Some(&key))
            .await
            .unwrap();
        assert_eq!(
            shipment, again,
            "a replayed ship answers the first shipment"
        );
        assert_eq!(shipment.packages.len(), 2);
        assert_eq!(level(&db, "A").await, (3, 0));
        assert_eq!(level(&db, "B").await, (4, 0));
        assert_eq!(level(&db, "G").await, (4, 0));
        let order = orders::load(&db, &sys(), &order_id).await.unwrap();
        assert_eq!(order.status, "shipped");
        assert_eq!(
            order
                .lines
                .iter()
                .map(|l| l.shipped_quantity)
                .collect::<Vec<_>>(),
            [2, 1, 1]
        );
        assert_eq!(order.fulfillments[0].status, "shipped");
        assert!(order.timeline.iter().any(|t| t.event == "order.shipped"));
        assert_eq!(order.reservation.as_ref().unwrap().status, "consumed");
        let moves = inventory::movements(&db, &sys(), "A", None, None)
            .await
            .unwrap();
        let shipped: Vec<(i64, Option<&str>)> = moves
            .items
            .iter()
            .filter(|m| m.kind == "shipment")
            .map(|m| (m.quantity, m.location.as_deref()))
            .collect();
        assert_eq!(shipped, [(-2, Some("C-01-01"))]);

        let (_, zpl) = floor::label(&db, &sys(), &shipment.id, floor::LabelFormat::Zpl)
            .await
            .unwrap();
        let zpl = String::from_utf8(zpl).unwrap();
        assert_eq!(zpl.matches("^XA").count(), 2);
        assert!(zpl.contains("^BCN,220,Y,N,N^FD1Z999AA10123456784^FS"));
        assert!(zpl.contains("^BCN,220,Y,N,N^FD1Z999AA10123456795^FS"));
        assert!(zpl.contains("Ann Lee") && zpl.contains("Austin TX 78701"));
        let (_, pdf) = floor::label(&db, &sys(), &shipment.id, floor::LabelFormat::Pdf)
            .await
            .unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4"));
        // A shipped fulfilment packs no more.
        let late = floor::pack_scan(
            &db,
            &sys(),
            &fid,
            PackScanInput {
                code: "A".into(),
                package: None,
            },
            None,
        )
        .await;
        assert!(
            matches!(
                late,
                Err(Error::Conflict {
                    code: Conflict::NotPackable,
                    ..
                })
            ),
            "{late:?}"
        );
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_replayed_scan_answers_as_before_and_picks_nothing_twice,
    |db: Db| async move {
        floor_shop(&db).await;
        place(&db, "F-2", "Ground", &[("A", 3)]).await;
        let wave = floor::build_wave(&db, &sys(), wave_input(10), None)
            .await
            .unwrap();
        let w = wave.id.as_str();
        let send = |code: &'static str, key: &'static str| {
            let db = db.clone();
            let w = w.to_string();
            async move {
                let k = Idempotency::new(key, "pick-scan", code.as_bytes()).unwrap();
                floor::pick_scan(&db, &sys(), &w, ScanInput { code: code.into() }, Some(&k))
                    .await
                    .unwrap()
            }
        };
        send("C-01-01", "s1").await;
        send("A", "s2").await;
        let first = send("2", "s3").await;
        // The device lost the answer and sends its queue again.
        assert_eq!(
            send("C-01-01", "s1").await.message,
            "Bin C-01-01 confirmed. Scan the item: A (Product A)."
        );
        assert!(send("A", "s2").await.accepted);
        let replay = send("2", "s3").await;
        assert_eq!(replay, first);
        let now = floor::get_wave(&db, &sys(), w).await.unwrap();
        assert_eq!(now.tasks[0].picked, 2, "the replay picked again");
        let last = send("1", "s4").await;
        assert!(last.accepted);
        assert_eq!(last.state.status, "done");
        assert_no_drift(&db).await;
    }
);

store_test!(
    a_short_pick_writes_off_the_bin_opens_a_count_and_sources_the_rest_elsewhere,
    |db: Db| async move {
        floor_shop(&db).await;
        put(&db, "WEST", "A", 5, "A-01-01").await;
        let order_id = place(&db, "F-3", "Ground", &[("A", 3)]).await;
        let wave = floor::build_wave(&db, &sys(), wave_input(10), None)
            .await
            .unwrap();
        let w = wave.id.as_str();
        accept(&db, w, "C-01-01").await;
        accept(&db, w, "A").await;
        let bad = floor::short_pick(
            &db,
            &sys(),
            w,
            ShortInput {
                picked: 3,
                reason: "damaged".into(),
            },
            None,
        )
        .await;
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
        let bad = floor::short_pick(
            &db,
            &sys(),
            w,
            ShortInput {
                picked: 1,
                reason: "lost".into(),
            },
            None,
        )
        .await;
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
        let out = floor::short_pick(
            &db,
            &sys(),
            w,
            ShortInput {
                picked: 1,
                reason: "not_in_bin".into(),
            },
            None,
        )
        .await
        .unwrap();
        assert!(
            out.message.starts_with("Short 2 × A at C-01-01: count CC-"),
            "{}",
            out.message
        );
        assert!(out.message.ends_with("sourced again."), "{}", out.message);
        assert_eq!(out.state.status, "done");
        assert_eq!(
            (out.state.tasks[0].picked, out.state.tasks[0].short),
            (1, 2)
        );
        assert_eq!(
            out.state.tasks[0].short_reason.as_deref(),
            Some("not_in_bin")
        );
        // The bin was taken for empty beyond the one unit picked: EAST wrote
        // off the rest, and WEST now holds the two for the order.
        let stock = inventory::stock(&db, &sys(), "A").await.unwrap();
        let east = stock
            .warehouses
            .iter()
            .find(|w| w.warehouse == "EAST")
            .unwrap();
        let west = stock
            .warehouses
            .iter()
            .find(|w| w.warehouse == "WEST")
            .unwrap();
        assert_eq!((east.on_hand, east.reserved), (1, 1));
        assert_eq!((west.on_hand, west.reserved), (5, 2));
        let counts = inventory::list_counts(&db, &sys(), &Default::default())
            .await
            .unwrap();
        assert_eq!(counts.items.len(), 1);
        assert_eq!(
            (
                counts.items[0].location.as_str(),
                counts.items[0].status.as_str()
            ),
            ("C-01-01", "open")
        );
        let order = orders::load(&db, &sys(), &order_id).await.unwrap();
        assert_eq!(order.status, "in_fulfilment");
        assert_eq!(order.lines[0].backordered_quantity, 0);
        let f: Vec<(&str, &str, i64)> = order
            .fulfillments
            .iter()
            .map(|f| {
                (
                    f.warehouse.as_str(),
                    f.status.as_str(),
                    f.lines.iter().map(|l| l.quantity).sum(),
                )
            })
            .collect();
        assert_eq!(f, [("EAST", "picked", 1), ("WEST", "open", 2)]);
        assert_no_drift(&db).await;

        // The EAST part ships alone; the order stays open for WEST's.
        let fid = order.fulfillments[0].id.clone();
        pack(&db, &fid, "A", None).await;
        floor::measure_package(&db, &sys(), &fid, 1, measures(300))
            .await
            .unwrap();
        floor::ship(&db, &sys(), &fid, ship_input(&[(1, "TRACK-0001")]), None)
            .await
            .unwrap();
        let order = orders::load(&db, &sys(), &order_id).await.unwrap();
        assert_eq!(order.status, "in_fulfilment");
        assert_eq!(order.lines[0].shipped_quantity, 1);
        assert_no_drift(&db).await;
        // Shipped units make the order uncancellable.
        let cancel = orders::cancel_order(&db, &manager(), &order_id, "customer asked").await;
        assert!(
            matches!(
                cancel,
                Err(Error::Conflict {
                    code: Conflict::InvalidTransition,
                    ..
                })
            ),
            "{cancel:?}"
        );
    }
);

fn manager() -> Ctx {
    Ctx::new(
        backend::Actor {
            kind: backend::ActorKind::User,
            id: Some("user-maya".into()),
            name: "Maya Patel".into(),
            role: Some(domain::governance::Role::Manager),
            scope: Default::default(),
        },
        None,
    )
}

store_test!(
    cancelling_an_order_in_a_wave_cancels_its_tasks_and_frees_its_stock,
    |db: Db| async move {
        floor_shop(&db).await;
        let order_id = place(&db, "F-4", "Ground", &[("A", 2)]).await;
        let wave = floor::build_wave(&db, &sys(), wave_input(10), None)
            .await
            .unwrap();
        accept(&db, &wave.id, "C-01-01").await;
        orders::cancel_order(&db, &manager(), &order_id, "customer asked")
            .await
            .unwrap();
        let after = floor::get_wave(&db, &sys(), &wave.id).await.unwrap();
        assert_eq!(after.status, "done");
        assert_eq!(after.tasks[0].status, "cancelled");
        assert_eq!(level(&db, "A").await, (5, 0));
        let late =
            floor::pick_scan(&db, &sys(), &wave.id, ScanInput { code: "A".into() }, None).await;
        assert!(
            matches!(
                late,
                Err(Error::Conflict {
                    code: Conflict::WaveNotOpen,
                    ..
                })
            ),
            "{late:?}"
        );
        assert_no_drift(&db).await;
    }
);

store_test!(
    waves_take_express_first_and_waves_built_at_once_never_share_an_order_or_a_unit,
    |db: Db| async move {
        floor_shop(&db).await;
        put(&db, "EAST", "A", 4, "A-01-01").await;
        for i in 0..9 {
            place(
                &db,
                &format!("W-{i}"),
                if i == 7 { "Express" } else { "Ground" },
                &[("A", 1)],
            )
            .await;
        }
        let express = floor::build_wave(
            &db,
            &sys(),
            WaveInput {
                warehouse: "EAST".into(),
                max_orders: Some(5),
                express_only: true,
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(express.fulfillments.len(), 1);
        assert_eq!(express.fulfillments[0].shipping_method, "Express");
        // Eight Ground orders: three waves of two at once, then the rest.
        let mut handles = Vec::new();
        for _ in 0..3 {
            let db = db.clone();
            handles.push(tokio::spawn(async move {
                floor::build_wave(&db, &sys(), wave_input(2), None).await
            }));
        }
        let mut taken = Vec::new();
        for h in handles {
            match h.await.unwrap() {
                Ok(w) => taken.extend(w.fulfillments.into_iter().map(|f| f.id)),
                Err(Error::Conflict {
                    code: Conflict::NothingToPick,
                    ..
                }) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        let n = taken.len();
        taken.sort();
        taken.dedup();
        assert_eq!(taken.len(), n, "two waves took one fulfilment");
        assert_eq!(n, 6);
        let rest = floor::build_wave(&db, &sys(), wave_input(10), None)
            .await
            .unwrap();
        assert_eq!(rest.fulfillments.len(), 2);
        let none = floor::build_wave(&db, &sys(), wave_input(10), None).await;
        assert!(
            matches!(
                none,
                Err(Error::Conflict {
                    code: Conflict::NothingToPick,
                    ..
                })
            ),
            "{none:?}"
        );
        let list = floor::list_waves(&db, &sys(), &Default::default())
            .await
            .unwrap();
        assert_eq!(list.items.len(), 5);
        assert_no_drift(&db).await;
    }
);

store_test!(
    the_floor_status_counts_picks_against_ship_by_and_shows_open_waves_and_pick_rates,
    |db: Db| async move {
        floor_shop(&db).await;
        let hours_ago =
            |h: i64| Some((chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339());
        let mut old = web_order("S-OLD", &[("A", 1)]);
        old.placed_at = hours_ago(50);
        capture::capture(&db, &sys(), old, None, None)
            .await
            .unwrap();
        let mut soon = web_order("S-SOON", &[("B", 1)]);
        soon.shipping.method = "Express".into();
        soon.placed_at = hours_ago(21);
        capture::capture(&db, &sys(), soon, None, None)
            .await
            .unwrap();
        place(&db, "S-NEW", "Ground", &[("G", 1)]).await;
        // Express first, then the oldest: B (bin A-01-01), then A (C-01-01).
        let wave = floor::build_wave(&db, &sys(), wave_input(2), None)
            .await
            .unwrap();
        accept(&db, &wave.id, "A-01-01").await;
        accept(&db, &wave.id, "B").await;
        accept(&db, &wave.id, "1").await;

        let s = floor::status(&db, &sys(), &Default::default())
            .await
            .unwrap();
        assert_eq!((s.late, s.due_soon, s.on_time), (1, 1, 1));
        let states: Vec<(&str, &str)> = s
            .aging
            .iter()
            .map(|a| (a.status.as_str(), a.state.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                ("picking", "late"),
                ("picked", "due_soon"),
                ("open", "on_time")
            ]
        );
        assert_eq!(s.waves.len(), 1);
        assert_eq!((s.waves[0].picked_units, s.waves[0].units), (1, 2));
        assert_eq!(s.agents.len(), 1);
        assert_eq!(s.agents[0].agent, sys().actor.name);
        // One unit in under a quarter hour counts as a quarter hour.
        assert_eq!((s.agents[0].units, s.agents[0].units_per_hour), (1, 4.0));
        let west = floor::status(
            &db,
            &sys(),
            &floor::StatusFilter {
                warehouse: Some("WEST".into()),
                hours: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (
                west.late + west.due_soon + west.on_time,
                west.waves.len(),
                west.agents.len()
            ),
            (0, 0, 0)
        );
        let bad = floor::status(
            &db,
            &sys(),
            &floor::StatusFilter {
                warehouse: None,
                hours: Some(0),
            },
        )
        .await;
        assert!(matches!(bad, Err(Error::Invalid(_))), "{bad:?}");
    }
);
