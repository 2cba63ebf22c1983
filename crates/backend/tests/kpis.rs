//! Store tests for the KPI board, on SQLite and PostgreSQL: on seeded
//! orders (history with ship times, orders shipped on time and late through
//! the floor, a cancellation by a person, an open backlog, a cycle count and
//! a stockout) every KPI equals an independent SQL recomputation from the
//! records; the projection agrees with `check`, a rebuild gives the same
//! board, and bad filters are refused field by field.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    analytics::{self, ExceptionFilter},
    fulfillment::{
        self as floor, MeasureInput, PackScanInput, PackageTracking, ScanInput, ShipInput,
        WaveInput,
    },
    inventory::{self, CountInput, CountScan},
    kpi::{self, KpiFilter},
    orders as capture, orders, store_test,
    testing::fixtures::{channel, item, receive, sys, warehouse, web_order},
    Actor, ActorKind, Clock, Ctx, Db, Error,
};
use domain::{analytics::Thresholds, views::KpiBoard};
use rust_decimal::{Decimal, RoundingStrategy};
use sqlx::Row;

/// 2026-11-20 09:00 UTC.
const T0: i64 = 1_795_165_200_000_000;
const HOUR: i64 = 3_600;
const DAY_US: i64 = 86_400_000_000;

fn at(clock: &Clock) -> Ctx {
    sys().with_clock(clock.clone())
}

fn manager(clock: &Clock) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some("user-maya".into()),
            name: "Maya Patel".into(),
            role: Some(domain::governance::Role::Manager),
            scope: Default::default(),
        },
        None,
    )
    .with_clock(clock.clone())
}

async fn place(db: &Db, clock: &Clock, ext: &str, method: &str, lines: &[(&str, i64)]) -> String {
    let mut o = web_order(ext, lines);
    o.shipping.method = method.into();
    capture::capture(db, &at(clock), o, None, None)
        .await
        .unwrap()
        .order
        .id
}

/// Picks, packs and ships the next wave of one order at the clock's time.
async fn ship_next(db: &Db, clock: &Clock) {
    let ctx = at(clock);
    let wave = floor::build_wave(
        db,
        &ctx,
        WaveInput {
            warehouse: "EAST".into(),
            max_orders: Some(1),
            express_only: false,
        },
        None,
    )
    .await
    .unwrap();
    // The wave moved its order into fulfilment: the backlog follows.
    kpi::project(db, clock).await.unwrap();
    assert_eq!(kpi::check(db).await.unwrap(), Vec::<String>::new());
    for t in &wave.tasks {
        for code in [t.location.clone(), t.sku.clone(), t.quantity.to_string()] {
            let out = floor::pick_scan(db, &ctx, &wave.id, ScanInput { code: code.clone() }, None)
                .await
                .unwrap();
            assert!(out.accepted, "{code}: {}", out.message);
        }
    }
    for f in floor::get_wave(db, &ctx, &wave.id)
        .await
        .unwrap()
        .fulfillments
    {
        for t in wave.tasks.iter().filter(|t| t.fulfillment_id == f.id) {
            for _ in 0..t.quantity {
                floor::pack_scan(
                    db,
                    &ctx,
                    &f.id,
                    PackScanInput {
                        code: t.sku.clone(),
                        package: None,
                    },
                    None,
                )
                .await
                .unwrap();
            }
        }
        floor::measure_package(
            db,
            &ctx,
            &f.id,
            1,
            MeasureInput {
                weight_g: 500,
                length_mm: 300,
                width_mm: 200,
                height_mm: 100,
            },
        )
        .await
        .unwrap();
        floor::ship(
            db,
            &ctx,
            &f.id,
            ShipInput {
                carrier: "UPS".into(),
                service: "Ground".into(),
                packages: vec![PackageTracking {
                    package: 1,
                    tracking: format!("1Z{}", &f.id[f.id.len() - 10..]),
                }],
            },
            None,
        )
        .await
        .unwrap();
    }
}

fn past(
    ext: &str,
    lines: &[(&str, i64)],
    placed: i64,
    status: &str,
    shipped_after_h: Option<i64>,
) -> capture::PastOrder {
    let mut o = web_order(ext, lines);
    let placed = chrono::DateTime::from_timestamp_micros(placed).unwrap();
    o.placed_at = Some(placed.to_rfc3339());
    capture::PastOrder {
        order: o,
        status: status.into(),
        shipped_at: shipped_after_h.map(|h| placed + chrono::Duration::hours(h)),
        warehouse: Some("EAST".into()),
    }
}

/// Orders across three weeks: history, shipped, cancelled, open and held.
async fn seed(db: &Db, clock: &Clock) {
    warehouse(db, "EAST").await;
    channel(db, ("WEB", "web", "USD"), &["EAST"], None).await;
    channel(db, ("B2B", "b2b", "USD"), &["EAST"], None).await;
    item(db, "A", "4.00").await;
    item(db, "B", "6.50").await;
    receive(db, "EAST", "A", 40).await;
    receive(db, "EAST", "B", 5).await;

    let day = |d: i64| T0 - d * DAY_US;
    capture::import_history(
        db,
        &sys(),
        &[
            past("H-1", &[("A", 2)], day(18), "closed", Some(20)),
            past("H-2", &[("B", 1), ("A", 1)], day(12), "closed", Some(60)),
            past("H-3", &[("A", 1)], day(12), "cancelled", None),
            past("H-4", &[("A", 3)], day(5), "delivered", Some(30)),
            // Before the period: the previous period's figures.
            past("H-5", &[("A", 1)], day(30), "closed", Some(10)),
        ],
    )
    .await
    .unwrap();
    // A minute apart, so the waves take the oldest first: express E-1, then G-1.
    let ground = place(db, clock, "G-1", "Ground", &[("A", 1)]).await;
    clock.advance_secs(60);
    let express = place(db, clock, "E-1", "Express", &[("A", 2), ("B", 1)]).await;
    clock.advance_secs(60);
    let cancelled = place(db, clock, "C-1", "Ground", &[("A", 1)]).await;
    clock.advance_secs(60);
    // More B than there is: backordered, a stockout.
    place(db, clock, "S-1", "Ground", &[("B", 10)]).await;
    clock.advance_secs(60);
    let mut held = web_order("P-1", &[("A", 1)]);
    held.payment_status = "pending".into();
    capture::capture(db, &at(clock), held, None, None)
        .await
        .unwrap();
    let mut b2b = web_order("B-1", &[("A", 5)]);
    b2b.channel = "B2B".into();
    capture::capture(db, &at(clock), b2b, None, None)
        .await
        .unwrap();
    orders::cancel_order(
        db,
        &manager(clock),
        &cancelled,
        "customer changed their mind",
    )
    .await
    .unwrap();

    // A count of bin A-01-01: A right, B one short.
    let c = inventory::open_count(
        db,
        &at(clock),
        CountInput {
            warehouse: "EAST".into(),
            location: "A-01-01".into(),
        },
    )
    .await
    .unwrap();
    let a_on_hand = inventory::stock(db, &sys(), "A").await.unwrap().on_hand;
    for (sku, n) in [("A", a_on_hand), ("B", 4)] {
        inventory::count_scan(
            db,
            &at(clock),
            &c.id,
            CountScan {
                code: sku.into(),
                quantity: Some(n),
                set: true,
            },
        )
        .await
        .unwrap();
    }
    inventory::submit_count(db, &at(clock), &c.id)
        .await
        .unwrap();

    // 30 hours on: the express order ships late, the ground one on time.
    clock.advance_secs(30 * HOUR);
    ship_next(db, clock).await;
    ship_next(db, clock).await;
    for id in [&ground, &express] {
        assert_eq!(
            orders::load(db, &sys(), id).await.unwrap().status,
            "shipped"
        );
    }
}

/// A drill-down link's query, checked to open the page expected.
fn query_of(link: &str, page: &str) -> std::collections::HashMap<String, String> {
    let (path, query) = link.split_once('?').unwrap_or((link, ""));
    assert_eq!(path, page, "{link}");
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn dec(v: Option<&str>) -> Option<Decimal> {
    v.map(|v| v.parse().unwrap())
}

fn value(b: &KpiBoard, key: &str) -> Option<Decimal> {
    dec(b
        .kpis
        .iter()
        .find(|k| k.key == key)
        .unwrap()
        .value
        .as_deref())
}

fn previous(b: &KpiBoard, key: &str) -> Option<Decimal> {
    dec(b
        .kpis
        .iter()
        .find(|k| k.key == key)
        .unwrap()
        .previous
        .as_deref())
}

fn r2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

async fn scalar(db: &Db, sql: &str, from: i64, to: i64) -> i64 {
    sqlx::query(sql)
        .bind(from)
        .bind(to)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get::<Option<i64>, _>(0)
        .unwrap()
        .unwrap_or(0)
}

/// Every KPI straight from the records, without the projection.
async fn assert_board_matches_records(db: &Db, b: &KpiBoard, from: i64, to: i64) {
    let placed = "from sales_order o where o.placed_at >= $1 and o.placed_at < $2";
    let orders = scalar(
        db,
        &format!("select cast(count(*) as bigint) {placed}"),
        from,
        to,
    )
    .await;
    let revenue = scalar(db, &format!("select cast(sum(total_minor - tax_minor) as bigint) {placed} and status <> 'cancelled'"), from, to).await;
    let shipping = scalar(
        db,
        &format!("select cast(sum(shipping_minor) as bigint) {placed} and status <> 'cancelled'"),
        from,
        to,
    )
    .await;
    let cogs = scalar(
        db,
        "select cast(sum((l.quantity - l.cancelled_quantity) * p.cost_minor) as bigint)
         from sales_order o join order_line l on l.order_id = o.order_id
         join product_price p on p.product_id = l.product_id and p.currency = o.currency
         where o.placed_at >= $1 and o.placed_at < $2 and o.status <> 'cancelled'",
        from,
        to,
    )
    .await;
    let touches = scalar(
        db,
        &format!("select cast(sum(manual_touches) as bigint) {placed}"),
        from,
        to,
    )
    .await;
    let shipped_where = "from sales_order where shipped_at >= $1 and shipped_at < $2 and status in ('shipped', 'delivered', 'closed')";
    let shipped = scalar(
        db,
        &format!("select cast(count(*) as bigint) {shipped_where}"),
        from,
        to,
    )
    .await;
    let minutes = scalar(
        db,
        &format!("select cast(sum((shipped_at - placed_at) / 60000000) as bigint) {shipped_where}"),
        from,
        to,
    )
    .await;
    let on_time = scalar(
        db,
        &format!("select cast(count(*) as bigint) {shipped_where} and shipped_late = 0"),
        from,
        to,
    )
    .await;
    let counted = "from cycle_count c join cycle_count_line l on l.count_id = c.count_id where c.submitted_at >= $1 and c.submitted_at < $2";
    let lines = scalar(
        db,
        &format!("select cast(count(*) as bigint) {counted}"),
        from,
        to,
    )
    .await;
    let accurate = scalar(
        db,
        &format!("select cast(count(*) as bigint) {counted} and l.counted = l.expected"),
        from,
        to,
    )
    .await;
    let stockouts = scalar(db, "select cast(count(*) as bigint) from exception_item where queue = 'stockouts' and reason = 'stockout' and opened_at >= $1 and opened_at < $2", from, to).await;
    let cents = |m: i64| Decimal::new(m, 2);

    assert!(
        orders > 0 && shipped > 0 && lines > 0,
        "the seed covers every KPI"
    );
    assert_eq!(value(b, "orders"), Some(Decimal::from(orders)));
    assert_eq!(value(b, "revenue"), Some(cents(revenue)));
    assert_eq!(
        value(b, "gross_margin"),
        Some(cents(revenue - cogs - shipping))
    );
    assert_eq!(
        value(b, "manual_touches"),
        Some(r2(Decimal::from(touches) / Decimal::from(orders)))
    );
    assert_eq!(
        value(b, "cycle_time"),
        Some(r2(Decimal::from(minutes) / Decimal::from(shipped * 60)))
    );
    assert_eq!(
        value(b, "on_time"),
        Some(r2(Decimal::from(on_time * 100) / Decimal::from(shipped)))
    );
    assert_eq!(
        value(b, "inventory_accuracy"),
        Some(r2(Decimal::from(accurate * 100) / Decimal::from(lines)))
    );
    assert_eq!(value(b, "stockouts"), Some(Decimal::from(stockouts)));
    let open: i64 = sqlx::query_scalar("select cast(count(*) as bigint) from sales_order where status in ('received', 'confirmed', 'in_fulfilment')")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    // The period ends today, so its last day's backlog is the one now.
    assert_eq!(value(b, "backlog"), Some(Decimal::from(open)));
    let by_status: i64 = b
        .kpis
        .iter()
        .find(|k| k.key == "backlog")
        .unwrap()
        .breakdown
        .iter()
        .map(|p| p.value.parse::<i64>().unwrap())
        .sum();
    assert_eq!(by_status, open);
}

fn filter(from: &str, to: &str) -> KpiFilter {
    KpiFilter {
        from: Some(from.into()),
        to: Some(to.into()),
        ..Default::default()
    }
}

async fn board(db: &Db, clock: &Clock, f: &KpiFilter) -> KpiBoard {
    kpi::board(db, &manager(clock), f).await.unwrap()
}

fn day_start(d: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
}

store_test!(
    every_kpi_equals_a_recomputation_from_the_records,
    |db: Db| async move {
        let clock = Clock::fixed(T0);
        seed(&db, &clock).await;
        analytics::project(&db, &clock, &Thresholds::default())
            .await
            .unwrap();
        let changed = kpi::project(&db, &clock).await.unwrap();
        assert!(changed > 0);
        assert_eq!(kpi::check(&db).await.unwrap(), Vec::<String>::new());

        // Three weeks to today (2026-11-21, after the 30 hours).
        let b = board(&db, &clock, &filter("2026-11-01", "2026-11-21")).await;
        assert_eq!(
            (b.previous_from.as_str(), b.previous_to.as_str()),
            ("2026-10-11", "2026-10-31")
        );
        assert_board_matches_records(&db, &b, day_start("2026-11-01"), day_start("2026-11-22"))
            .await;
        // The previous period holds H-5 alone: one order, shipped on time in 10 h.
        assert_eq!(previous(&b, "orders"), Some(Decimal::from(1)));
        assert_eq!(previous(&b, "cycle_time"), Some(Decimal::new(1000, 2)));
        assert_eq!(previous(&b, "on_time"), Some(Decimal::new(10000, 2)));
        // Hand-checked: H-1 (20 h), H-2 (60 h, late), H-4 (30 h), G-1 (30 h
        // 4 min) and E-1 (30 h 3 min; express, late): 10,207 minutes over 5
        // orders is 34.02 h, and 3 of 5 on time.
        assert_eq!(value(&b, "cycle_time"), Some(Decimal::new(3402, 2)));
        assert_eq!(value(&b, "on_time"), Some(Decimal::new(6000, 2)));
        // A right, B one short.
        assert_eq!(value(&b, "inventory_accuracy"), Some(Decimal::new(5000, 2)));
        // The cancellation was a person's: one touch.
        assert_eq!(
            b.kpis
                .iter()
                .find(|k| k.key == "orders")
                .unwrap()
                .breakdown
                .iter()
                .map(|p| (p.label.as_str(), p.value.as_str()))
                .collect::<Vec<_>>(),
            [("B2B", "1"), ("WEB", "9")]
        );

        // One channel: the same recomputation over its orders only.
        let web = board(
            &db,
            &clock,
            &KpiFilter {
                channel: Some("b2b".into()),
                ..filter("2026-11-01", "2026-11-21")
            },
        )
        .await;
        assert_eq!(web.channel.as_deref(), Some("B2B"));
        assert_eq!(value(&web, "orders"), Some(Decimal::from(1)));
        assert_eq!(value(&web, "revenue"), Some(Decimal::new(5500, 2)));
        assert_eq!(value(&web, "backlog"), Some(Decimal::from(1)));
        let link = web
            .kpis
            .iter()
            .find(|k| k.key == "orders")
            .unwrap()
            .link
            .clone()
            .unwrap();
        assert_eq!(
            link,
            "/command/orders?channel=B2B&from=2026-11-01&to=2026-11-21"
        );

        // The day the two floor shipments left: its point links to them.
        let cycle = b.kpis.iter().find(|k| k.key == "cycle_time").unwrap();
        let day = cycle.series.iter().find(|p| p.day == "2026-11-21").unwrap();
        assert_eq!(day.display, "30.1 h");
        assert_eq!(
            day.link.as_deref(),
            Some("/command/orders?shipped_from=2026-11-21&shipped_to=2026-11-21")
        );
        let listed = orders::list_orders(
            &db,
            &sys(),
            &domain::views::OrderFilter {
                shipped_from: Some("2026-11-21".into()),
                shipped_to: Some("2026-11-21".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(listed.items.len(), 2);
        let late = orders::list_orders(
            &db,
            &sys(),
            &domain::views::OrderFilter {
                shipped_from: Some("2026-11-01".into()),
                shipped_to: Some("2026-11-21".into()),
                shipped: Some("late".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut numbers: Vec<_> = late.items.iter().map(|o| o.external_id.clone()).collect();
        numbers.sort();
        assert_eq!(numbers, ["E-1", "H-2"]);

        // Stockouts and inventory accuracy open their own lists, filtered
        // to what each number and each day's point counted.
        let stockouts = b.kpis.iter().find(|k| k.key == "stockouts").unwrap();
        assert_eq!(stockouts.value.as_deref(), Some("1"));
        let listed_stockouts = |link: &str| {
            let q = query_of(link, "/command/exceptions");
            let db = db.clone();
            async move {
                analytics::list(
                    &db,
                    &sys(),
                    &ExceptionFilter {
                        queue: q.get("queue").cloned(),
                        status: q.get("status").cloned(),
                        reason: q.get("reason").cloned(),
                        opened_from: q.get("opened_from").cloned(),
                        opened_to: q.get("opened_to").cloned(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .items
            }
        };
        let all = listed_stockouts(stockouts.link.as_deref().unwrap()).await;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].entity_ref, "B");
        for point in &stockouts.series {
            let listed = listed_stockouts(point.link.as_deref().unwrap()).await;
            assert_eq!(
                Some(listed.len().to_string()),
                point.value.clone(),
                "{}",
                point.day
            );
        }

        let accuracy = b
            .kpis
            .iter()
            .find(|k| k.key == "inventory_accuracy")
            .unwrap();
        let listed_counts = |link: &str| {
            let q = query_of(link, "/command/counts");
            let db = db.clone();
            async move {
                inventory::list_counts(
                    &db,
                    &sys(),
                    &inventory::CountFilter {
                        warehouse: q.get("warehouse").cloned(),
                        submitted_from: q.get("submitted_from").cloned(),
                        submitted_to: q.get("submitted_to").cloned(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .items
            }
        };
        let lines = |counts: &[domain::views::CycleCount]| -> usize {
            counts.iter().map(|c| c.lines.len()).sum()
        };
        assert_eq!(
            lines(&listed_counts(accuracy.link.as_deref().unwrap()).await).to_string(),
            accuracy.breakdown[0].value
        );
        let counted: Vec<_> = accuracy
            .series
            .iter()
            .filter(|p| p.link.is_some())
            .collect();
        assert_eq!(counted.len(), 1, "one day had a count");
        assert_eq!(
            lines(&listed_counts(counted[0].link.as_deref().unwrap()).await),
            2
        );
        let before = listed_counts(&format!(
            "/command/counts?submitted_from=2026-11-01&submitted_to={}",
            (chrono::NaiveDate::parse_from_str(&counted[0].day, "%Y-%m-%d").unwrap()
                - chrono::Days::new(1))
        ))
        .await;
        assert!(
            before.is_empty(),
            "the count was submitted on {}",
            counted[0].day
        );

        // Applying the same events again, or rebuilding from the records,
        // changes nothing.
        sqlx::query("update projection_cursor set seq = 0, built = 0 where name = 'kpis'")
            .execute(&db.pool)
            .await
            .unwrap();
        assert_eq!(kpi::project(&db, &clock).await.unwrap(), 0);
        for t in ["kpi_order", "kpi_day", "kpi_backlog"] {
            sqlx::query(&format!("delete from {t}"))
                .execute(&db.pool)
                .await
                .unwrap();
        }
        kpi::rebuild(&db, &clock).await.unwrap();
        assert_eq!(kpi::check(&db).await.unwrap(), Vec::<String>::new());
        let again = board(&db, &clock, &filter("2026-11-01", "2026-11-21")).await;
        assert_eq!(again.kpis, b.kpis);

        // Resolving the stockout leaves it counted, and still behind the number.
        analytics::resolve(
            &db,
            &manager(&clock),
            &all[0].id,
            "reordered from the supplier",
        )
        .await
        .unwrap();
        assert_eq!(
            listed_stockouts(stockouts.link.as_deref().unwrap())
                .await
                .len(),
            1
        );
        let open_now = analytics::list(
            &db,
            &sys(),
            &ExceptionFilter {
                queue: Some("stockouts".into()),
                reason: Some("stockout".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(open_now.items.is_empty());
    }
);

store_test!(
    bad_filters_are_refused_field_by_field,
    |db: Db| async move {
        let clock = Clock::fixed(T0);
        warehouse(&db, "EAST").await;
        channel(&db, ("WEB", "web", "USD"), &["EAST"], None).await;
        let bad = kpi::board(
            &db,
            &manager(&clock),
            &KpiFilter {
                from: Some("2026-02-30".into()),
                channel: Some("NOPE".into()),
                warehouse: Some("MOON".into()),
                currency: Some("XX".into()),
                seen: Some("-4".into()),
                ..Default::default()
            },
        )
        .await;
        let Err(Error::Invalid(errors)) = bad else {
            panic!("expected field errors, got {bad:?}");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["from", "channel", "warehouse", "currency", "seen"]);
        assert_eq!(errors[1].message, "there is no channel NOPE");
        let long = kpi::board(&db, &manager(&clock), &filter("2024-01-01", "2026-01-01")).await;
        assert!(
            matches!(long, Err(Error::Invalid(e)) if e[0].message.contains("at most 366 days"))
        );
        // A warehouse agent has no board.
        let agent = Ctx::new(
            Actor {
                kind: ActorKind::User,
                id: Some("user-sam".into()),
                name: "Sam".into(),
                role: Some(domain::governance::Role::Warehouse),
                scope: Default::default(),
            },
            None,
        );
        assert!(matches!(
            kpi::board(&db, &agent, &KpiFilter::default()).await,
            Err(Error::Forbidden { .. })
        ));
        // An empty database reads as nothing measured, not zero.
        let empty = board(&db, &clock, &KpiFilter::default()).await;
        assert_eq!(value(&empty, "cycle_time"), None);
        assert_eq!(value(&empty, "orders"), Some(Decimal::ZERO));
    }
);

store_test!(
    the_lists_behind_the_numbers_refuse_bad_days_field_by_field,
    |db: Db| async move {
        let bad = |e: Error| -> Vec<String> {
            e.fields()
                .into_iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect()
        };
        let e = analytics::list(
            &db,
            &sys(),
            &ExceptionFilter {
                status: Some("any".into()),
                opened_from: Some("yesterday".into()),
                opened_to: Some("2026-13-01".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(
            bad(e),
            [
                "opened_from: `yesterday` is not a date like 2026-11-26",
                "opened_to: `2026-13-01` is not a date like 2026-11-26"
            ]
        );
        let e = inventory::list_counts(
            &db,
            &sys(),
            &inventory::CountFilter {
                submitted_from: Some("2026-11-20".into()),
                submitted_to: Some("2026-11-19".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
        assert_eq!(bad(e), ["submitted_to: is before submitted_from"]);
        // A single day is a range, and blanks mean no bound.
        for (from, to) in [("2026-11-20", "2026-11-20"), ("", " ")] {
            inventory::list_counts(
                &db,
                &sys(),
                &inventory::CountFilter {
                    submitted_from: Some(from.into()),
                    submitted_to: Some(to.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
    }
);
