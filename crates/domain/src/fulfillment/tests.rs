use super::*;

fn need(line_no: i64, sku: &str, units: i64) -> Need {
    Need {
        line_no,
        sku: sku.into(),
        units,
        parts: vec![Part {
            product_id: sku.into(),
            per_unit: 1,
        }],
    }
}

fn stock(rows: &[(&str, &str, i64)]) -> Spare {
    let mut s = Spare::default();
    for (p, w, n) in rows {
        s.set(p, w, *n);
    }
    s
}

fn wh(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn summary(p: &Plan) -> Vec<(String, Vec<(String, i64)>)> {
    p.shipments
        .iter()
        .map(|s| {
            (
                s.warehouse.clone(),
                s.lines.iter().map(|t| (t.sku.clone(), t.units)).collect(),
            )
        })
        .collect()
}

#[test]
fn items_in_different_warehouses_split_and_the_missing_one_is_backordered() {
    let mut spare = stock(&[("A", "EAST", 5), ("B", "WEST", 5)]);
    let p = plan(
        "web",
        &wh(&["EAST", "WEST"]),
        &[need(0, "A", 1), need(1, "B", 2), need(2, "C", 1)],
        &mut spare,
        0,
    );
    assert_eq!(
        summary(&p),
        vec![
            ("EAST".into(), vec![("A".into(), 1)]),
            ("WEST".into(), vec![("B".into(), 2)])
        ]
    );
    assert_eq!(
        p.shipments[0].reason,
        "EAST: only warehouse with A in stock"
    );
    assert_eq!(
        p.shipments[1].reason,
        "WEST: only warehouse with B in stock"
    );
    assert_eq!(p.backorders.len(), 1);
    assert_eq!(
        p.backorders[0].reason,
        "C: in stock nowhere in web's warehouses"
    );
    assert_eq!((p.backorders[0].line_no, p.backorders[0].units), (2, 1));
    assert_eq!((spare.get("A", "EAST"), spare.get("B", "WEST")), (4, 3));
}

#[test]
fn the_shortcut_for_a_stocked_first_warehouse_matches_the_planner() {
    let needs = [need(0, "A", 2), need(1, "B", 1), need(2, "C", 0)];
    let priority = wh(&["EAST", "WEST"]);
    let mut spare = stock(&[("A", "EAST", 5), ("B", "EAST", 5), ("B", "WEST", 5)]);
    assert_eq!(
        whole_from_first("web", &priority, &needs),
        plan("web", &priority, &needs, &mut spare, 0)
    );
}

#[test]
fn the_first_warehouse_ships_everything_it_can() {
    let mut spare = stock(&[("A", "EAST", 5), ("B", "EAST", 5), ("A", "WEST", 5)]);
    let p = plan(
        "web",
        &wh(&["EAST", "WEST"]),
        &[need(0, "A", 2), need(1, "B", 1)],
        &mut spare,
        0,
    );
    assert_eq!(
        summary(&p),
        vec![("EAST".into(), vec![("A".into(), 2), ("B".into(), 1)])]
    );
    assert_eq!(
        p.shipments[0].reason,
        "EAST: first in web's priority, ships complete"
    );
}

#[test]
fn a_later_warehouse_that_ships_complete_beats_a_split() {
    let mut spare = stock(&[("A", "EAST", 5), ("A", "WEST", 5), ("B", "WEST", 5)]);
    let p = plan(
        "web",
        &wh(&["EAST", "WEST"]),
        &[need(0, "A", 1), need(1, "B", 1)],
        &mut spare,
        0,
    );
    assert_eq!(
        summary(&p),
        vec![("WEST".into(), vec![("A".into(), 1), ("B".into(), 1)])]
    );
    assert_eq!(
        p.shipments[0].reason,
        "WEST: the first warehouse that ships complete (EAST is short of B)"
    );
    assert_eq!(spare.get("A", "EAST"), 5);
}

#[test]
fn the_fewest_warehouses_win_over_priority_order() {
    // Greedy by priority would use all three; NORTH and SOUTH cover it.
    let mut spare = stock(&[
        ("A", "EAST", 1),
        ("A", "NORTH", 1),
        ("B", "NORTH", 1),
        ("C", "SOUTH", 1),
    ]);
    let p = plan(
        "web",
        &wh(&["EAST", "NORTH", "SOUTH"]),
        &[need(0, "A", 1), need(1, "B", 1), need(2, "C", 1)],
        &mut spare,
        0,
    );
    assert_eq!(p.shipments.len(), 2);
    assert_eq!(
        summary(&p),
        vec![
            ("NORTH".into(), vec![("A".into(), 1), ("B".into(), 1)]),
            ("SOUTH".into(), vec![("C".into(), 1)])
        ]
    );
    assert_eq!(
        p.shipments[0].reason,
        "NORTH: only warehouse with B in stock; ships A to keep the order to 2 shipments"
    );
    assert_eq!(
        p.shipments[1].reason,
        "SOUTH: only warehouse with C in stock"
    );
}

#[test]
fn a_line_larger_than_any_one_warehouse_splits_and_backorders_the_rest() {
    let mut spare = stock(&[("A", "EAST", 2), ("A", "WEST", 3)]);
    let p = plan(
        "web",
        &wh(&["EAST", "WEST"]),
        &[need(0, "A", 7)],
        &mut spare,
        0,
    );
    assert_eq!(
        summary(&p),
        vec![
            ("EAST".into(), vec![("A".into(), 2)]),
            ("WEST".into(), vec![("A".into(), 3)])
        ]
    );
    assert_eq!(p.backorders[0].units, 2);
    assert_eq!(p.backorders[0].reason, "A: 2 short across web's warehouses");
    assert_eq!(
        p.shipments[0].reason,
        "EAST: first in web's priority with A in stock"
    );
    assert_eq!(
        p.shipments[1].reason,
        "WEST: the rest of A (EAST had too few)"
    );
    assert_eq!((spare.get("A", "EAST"), spare.get("A", "WEST")), (0, 0));
}

#[test]
fn a_bundle_ships_whole_units_from_one_warehouse() {
    let bundle = Need {
        line_no: 0,
        sku: "KIT".into(),
        units: 2,
        parts: vec![
            Part {
                product_id: "P1".into(),
                per_unit: 1,
            },
            Part {
                product_id: "P2".into(),
                per_unit: 2,
            },
        ],
    };
    // EAST has P2 for only one kit; WEST for both.
    let mut spare = stock(&[
        ("P1", "EAST", 9),
        ("P2", "EAST", 3),
        ("P1", "WEST", 2),
        ("P2", "WEST", 4),
    ]);
    let p = plan("web", &wh(&["EAST", "WEST"]), &[bundle], &mut spare, 0);
    assert_eq!(summary(&p), vec![("WEST".into(), vec![("KIT".into(), 2)])]);
    assert_eq!((spare.get("P1", "WEST"), spare.get("P2", "WEST")), (0, 0));
    assert_eq!(spare.get("P2", "EAST"), 3);
}

#[test]
fn the_channels_buffer_is_left_in_every_warehouse() {
    let mut spare = stock(&[("A", "EAST", 3), ("A", "WEST", 2)]);
    let p = plan(
        "web",
        &wh(&["EAST", "WEST"]),
        &[need(0, "A", 2)],
        &mut spare,
        2,
    );
    assert_eq!(summary(&p), vec![("EAST".into(), vec![("A".into(), 1)])]);
    assert_eq!(p.backordered_units(), 1);
    assert_eq!(spare.get("A", "EAST"), 2);
}

#[test]
fn orders_planned_in_turn_never_take_the_same_unit_twice() {
    let mut spare = stock(&[("A", "EAST", 3)]);
    let priority = wh(&["EAST"]);
    let mut shipped = 0;
    let mut short = 0;
    for _ in 0..5 {
        let p = plan("web", &priority, &[need(0, "A", 1)], &mut spare, 0);
        shipped += p.shipped_units();
        short += p.backordered_units();
    }
    assert_eq!((shipped, short), (3, 2));
    assert_eq!(spare.get("A", "EAST"), 0);
}

#[test]
fn nothing_to_source_plans_nothing_and_a_channel_without_warehouses_backorders() {
    let mut spare = stock(&[("A", "EAST", 3)]);
    assert_eq!(
        plan("web", &wh(&["EAST"]), &[need(0, "A", 0)], &mut spare, 0),
        Plan::default()
    );
    let p = plan("web", &[], &[need(0, "A", 1)], &mut spare, 0);
    assert!(p.shipments.is_empty());
    assert_eq!(p.backordered_units(), 1);
}

#[test]
fn the_same_input_gives_the_same_plan() {
    let spare = stock(&[
        ("A", "EAST", 1),
        ("A", "WEST", 1),
        ("B", "WEST", 1),
        ("B", "EAST", 1),
    ]);
    let needs = [need(0, "A", 1), need(1, "B", 1)];
    let a = plan("web", &wh(&["EAST", "WEST"]), &needs, &mut spare.clone(), 0);
    let b = plan("web", &wh(&["EAST", "WEST"]), &needs, &mut spare.clone(), 0);
    assert_eq!(a, b);
    assert_eq!(a.shipments[0].warehouse, "EAST");
}

#[test]
fn every_unit_is_shipped_or_backordered_and_stock_never_goes_negative() {
    // A small exhaustive sweep over stock and demand.
    for a_east in 0..3 {
        for a_west in 0..3 {
            for b_west in 0..3 {
                for qa in 1..4 {
                    for qb in 1..3 {
                        let mut spare = stock(&[
                            ("A", "EAST", a_east),
                            ("A", "WEST", a_west),
                            ("B", "WEST", b_west),
                        ]);
                        let needs = [need(0, "A", qa), need(1, "B", qb)];
                        let p = plan("web", &wh(&["EAST", "WEST"]), &needs, &mut spare, 0);
                        assert_eq!(p.shipped_units() + p.backordered_units(), qa + qb);
                        assert_eq!(p.shipped_units(), qa.min(a_east + a_west) + qb.min(b_west));
                        for (p_, w) in [("A", "EAST"), ("A", "WEST"), ("B", "WEST")] {
                            assert!(spare.0[p_][w] >= 0);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_rule_is_a_list_of_distinct_codes_and_a_bounded_order_count() {
    let ok = RuleInput {
        warehouses: vec![" west ".into(), "EAST".into()],
        orders: None,
    }
    .parse()
    .unwrap();
    assert_eq!(
        ok,
        Rule {
            warehouses: wh(&["WEST", "EAST"]),
            orders: 500
        }
    );
    let bad = RuleInput {
        warehouses: vec!["WEST".into(), "west".into(), " ".into()],
        orders: Some(0),
    }
    .parse()
    .unwrap_err();
    let fields: Vec<_> = bad
        .iter()
        .map(|e| (e.field.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("warehouses[1]", "WEST is listed twice"),
            ("warehouses[2]", "name a warehouse code"),
            ("orders", "try the rule on 1 to 5000 orders"),
        ]
    );
    let none = RuleInput::default().parse().unwrap_err();
    assert_eq!(none[0].field, "warehouses");
}

#[test]
fn a_simulation_compares_rules_on_the_same_orders() {
    let spare = stock(&[("A", "EAST", 2), ("B", "WEST", 2), ("A", "WEST", 2)]);
    let orders = vec![vec![need(0, "A", 1), need(1, "B", 1)]; 3];
    let east_first = simulate("web", &wh(&["EAST", "WEST"]), 0, &orders, spare.clone());
    let west_only = simulate("web", &wh(&["WEST"]), 0, &orders, spare);
    // WEST ships the first two complete either way; the third splits
    // (EAST's A, nothing left of B) or waits.
    assert_eq!(
        (east_first.split_orders, east_first.backordered_units),
        (0, 1)
    );
    assert_eq!(
        (west_only.split_orders, west_only.backordered_units),
        (0, 2)
    );
    assert_eq!(
        east_first.units_by_warehouse,
        vec![("WEST".to_string(), 4), ("EAST".to_string(), 1)]
    );
}

#[test]
fn stats_count_splits_and_backorders() {
    let mut stats = SourcingStats::default();
    let mut spare = stock(&[("A", "EAST", 1), ("B", "WEST", 1)]);
    let needs = [need(0, "A", 1), need(1, "B", 1)];
    let p = plan("web", &wh(&["EAST", "WEST"]), &needs, &mut spare, 0);
    stats.add(&needs, &p);
    let p = plan("web", &wh(&["EAST", "WEST"]), &needs, &mut spare, 0);
    stats.add(&needs, &p);
    assert_eq!(
        (
            stats.orders,
            stats.lines,
            stats.split_orders,
            stats.backordered_orders,
            stats.backordered_units
        ),
        (2, 4, 1, 1, 2)
    );
    assert_eq!(stats.split_rate(), 50.0);
    assert_eq!(
        stats.units_by_warehouse,
        vec![("EAST".to_string(), 1), ("WEST".to_string(), 1)]
    );
}
