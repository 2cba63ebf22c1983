use super::*;

const H: i64 = 3_600_000_000;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(day: &str, hour: i64) -> i64 {
    date(day)
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros()
        + hour * H
}

fn order(status: &str) -> OrderInputs {
    OrderInputs {
        status: status.into(),
        channel: "WEB".into(),
        warehouse: Some("EAST".into()),
        currency: "USD".into(),
        placed_at: at("2026-11-02", 9),
        total_minor: 11_000,
        tax_minor: 1_000,
        shipping_minor: 700,
        cogs_minor: 4_000,
        manual_touches: 2,
        cancelled_at: None,
        shipped_at: None,
        shipped_late: None,
        updated_at: at("2026-11-02", 9),
    }
}

#[test]
fn a_shipped_order_counts_its_money_when_placed_and_its_cycle_when_shipped() {
    let f = order_fact(&OrderInputs {
        shipped_at: Some(at("2026-11-03", 15)),
        shipped_late: Some(false),
        ..order("shipped")
    });
    assert_eq!(f.day, "2026-11-02");
    assert_eq!(f.revenue_minor, 10_000);
    assert_eq!(f.shipped_day.as_deref(), Some("2026-11-03"));
    assert_eq!(f.finished_day.as_deref(), Some("2026-11-03"));
    assert_eq!(f.cycle_minutes, 30 * 60);
    assert!(f.on_time);
    let Delta { days, backlog } = delta(None, Some(&f));
    assert!(backlog.is_empty());
    assert_eq!(days.len(), 2);
    assert_eq!(days[0].1.orders, 1);
    assert_eq!(days[0].1.margin_minor(), 10_000 - 4_000 - 700);
    assert_eq!(days[1].1.shipped, 1);
    assert_eq!(days[1].1.finished, 1);
}

#[test]
fn a_cancelled_order_counts_but_brings_no_money_and_leaves_the_backlog() {
    let f = order_fact(&OrderInputs {
        cancelled_at: Some(at("2026-11-04", 1)),
        ..order("cancelled")
    });
    assert!(f.cancelled);
    assert_eq!((f.revenue_minor, f.cogs_minor, f.shipping_minor), (0, 0, 0));
    assert_eq!(f.finished_day.as_deref(), Some("2026-11-04"));
    assert_eq!(f.shipped_day, None);
}

#[test]
fn a_change_moves_the_old_contribution_out_and_an_unchanged_order_writes_nothing() {
    let open = order_fact(&order("confirmed"));
    let Delta { days, backlog } = delta(None, Some(&open));
    assert_eq!(days.len(), 1);
    assert_eq!(
        backlog,
        vec![(("confirmed".into(), "WEB".into(), "EAST".into()), 1)]
    );
    assert_eq!(delta(Some(&open), Some(&open)), Delta::default());
    let shipped = order_fact(&OrderInputs {
        shipped_at: Some(at("2026-11-05", 9)),
        shipped_late: Some(true),
        ..order("shipped")
    });
    let Delta { days, backlog } = delta(Some(&open), Some(&shipped));
    // The placement day is unchanged; only the shipping day moves.
    assert_eq!(days.len(), 1);
    assert_eq!(days[0].0 .0, "2026-11-05");
    assert_eq!(
        (days[0].1.shipped, days[0].1.on_time, days[0].1.finished),
        (1, 0, 1)
    );
    assert_eq!(
        backlog,
        vec![(("confirmed".into(), "WEB".into(), "EAST".into()), -1)]
    );
}

#[test]
fn periods_default_to_four_weeks_and_refuse_what_cannot_be_read() {
    let today = date("2026-11-27");
    let p = Period::parse("", "", today).unwrap();
    assert_eq!((p.from, p.to, p.days()), (date("2026-10-31"), today, 28));
    assert_eq!(p.previous().to, date("2026-10-30"));
    assert_eq!(p.previous().days(), 28);
    let e = Period::parse("2026-13-01", "", today).unwrap_err();
    assert_eq!(e[0].field, "from");
    assert!(e[0].message.contains("YYYY-MM-DD"));
    assert_eq!(
        Period::parse("2026-11-10", "2026-11-01", today).unwrap_err()[0].message,
        "the period starts after it ends"
    );
    assert!(Period::parse("2024-01-01", "2026-01-01", today).is_err());
}

#[test]
fn the_board_computes_rates_against_the_previous_period_and_rolls_the_backlog_back() {
    let period = Period::parse("2026-11-01", "2026-11-03", date("2026-11-27")).unwrap();
    let mut i = BoardInputs::default();
    i.days.insert(
        date("2026-11-01"),
        Measures {
            orders: 4,
            revenue_minor: 40_000,
            cogs_minor: 10_000,
            shipping_minor: 2_000,
            touches: 2,
            ..Measures::default()
        },
    );
    i.days.insert(
        date("2026-11-02"),
        Measures {
            orders: 2,
            shipped: 4,
            cycle_minutes: 4 * 20 * 60,
            on_time: 3,
            finished: 4,
            ..Measures::default()
        },
    );
    i.previous = Measures {
        orders: 5,
        shipped: 2,
        on_time: 2,
        cycle_minutes: 2 * 30 * 60,
        revenue_minor: 50_000,
        ..Measures::default()
    };
    i.backlog.insert("confirmed".into(), 3);
    i.net_since_period = 1;
    let scope = Scope {
        channel: Some("WEB".into()),
        warehouse: None,
    };
    let b = board(&period, &scope, Currency::parse("USD").unwrap(), &i);
    let k = |key: &str| b.iter().find(|k| k.key == key).unwrap().clone();
    let cycle = k("cycle_time");
    assert_eq!(cycle.value.as_deref(), Some("20.00"));
    assert_eq!(cycle.display, "20.0 h");
    assert_eq!(cycle.change.as_deref(), Some("-33.3%"));
    assert_eq!(cycle.better, Some(true));
    assert_eq!(
        cycle.series[1].link.as_deref(),
        Some("/command/orders?channel=WEB&shipped_from=2026-11-02&shipped_to=2026-11-02")
    );
    let on_time = k("on_time");
    assert_eq!(on_time.display, "75.0%");
    assert_eq!(on_time.change.as_deref(), Some("-25.0 pts"));
    assert_eq!(on_time.better, Some(false));
    assert_eq!(k("orders").value.as_deref(), Some("6"));
    assert_eq!(k("revenue").display, "400.00 USD");
    assert_eq!(k("gross_margin").value.as_deref(), Some("280.00"));
    assert_eq!(k("manual_touches").display, "0.33");
    // Open now 3; one more placed than finished after the 3rd: 2 at its
    // end, 2 at the end of the 2nd, which finished two more than it took.
    let backlog = k("backlog");
    let ends: Vec<_> = backlog
        .series
        .iter()
        .map(|p| p.value.clone().unwrap())
        .collect();
    assert_eq!(ends, vec!["4", "2", "2"]);
    assert_eq!(backlog.value.as_deref(), Some("2"));
    assert_eq!(backlog.previous.as_deref(), Some("0"));
    assert_eq!(k("inventory_accuracy").value, None);
    assert_eq!(k("inventory_accuracy").change, None);
    // Against a previous period of none, the difference itself.
    assert_eq!(k("backlog").change, Some("+2".into()));
    assert_eq!(
        k("return_time").pending.as_deref(),
        Some("Filled in when returns land.")
    );
}
