//! No input may panic a request (#19). Every parser and rule that reads text
//! or numbers from outside gets arbitrary strings, numbers and JSON: scans,
//! CSV rows, storefront payloads, order bodies, money and quantity fields.
//! Each must answer, with a value or a refusal; the properties also hold
//! that what they accept stays within its documented range.
//!
//! The test command runs a modest number of cases. For depth, set
//! proptest's own variable: `PROPTEST_CASES=200000 cargo test --release -p
//! domain --test no_panic` (docs/architecture.md, "Trust").

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use domain::{
    catalog::{self, NewProduct, ProductInput},
    channel_payloads,
    fulfillment::floor::{self, PickStep, PickTarget},
    gs1,
    gtin::Gtin,
    inventory,
    kpi::Period,
    money::{Currency, Money, MAX_AMOUNT},
    order_report,
    orders::{self, NewOrder, OrderIn},
    receiving::{self, Pending, ReceiveStep, Scan},
    text::Email,
};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// Text a scanner, a spreadsheet or an attacker sends: any Unicode, and
/// text built from the characters parsers split on (digits, separators,
/// parentheses, symbology ids, multi-byte characters at every offset).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{0,40}",
        "(\\]C1|\\]d2|\\]Q3|\\(|01|00|10|17|21)?[0-9€|()\\x1d.é-]{0,40}",
        "-?[0-9]{0,32}(\\.[0-9]{0,32})?",
        Just("92233720368547758.07".to_string()),
        Just(Decimal::MAX.to_string()),
        Just(format!("-{}", Decimal::MAX)),
        Just(i64::MIN.to_string()),
    ]
}

/// Numbers at and around every boundary, and anywhere in i64.
fn number() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -2_000_000i64..2_000_000,
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
    ]
}

/// Keys the payload mappers and order bodies read, so generated objects
/// reach their deeper paths.
const KEYS: &[&str] = &[
    "id",
    "order",
    "email",
    "currency",
    "customer",
    "line_items",
    "sku",
    "name",
    "quantity",
    "price",
    "total_discount",
    "total_discounts",
    "shipping_lines",
    "title",
    "subtotal",
    "total",
    "total_tax",
    "total_price",
    "total_line_items_price",
    "financial_status",
    "status",
    "shipping_address",
    "billing_address",
    "billing",
    "shipping",
    "shipping_total",
    "discount_total",
    "taxes_included",
    "prices_include_tax",
    "created_at",
    "date_created_gmt",
    "tags",
    "note",
    "customer_note",
    "channel",
    "external_id",
    "lines",
    "unit_price",
    "discount",
    "amount",
    "address",
    "country",
    "postcode",
    "payment_status",
    "totals",
    "tax",
    "placed_at",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..10).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// An order body with every field from outside arbitrary, shaped enough to
/// get past deserialisation and reach the rules.
fn order_body() -> impl Strategy<Value = Value> {
    let line = (text(), number(), text(), text()).prop_map(|(sku, quantity, price, discount)| {
        json!({"sku": sku, "quantity": quantity, "unit_price": price, "discount": discount})
    });
    (
        prop::collection::vec(line, 0..5),
        text(),
        text(),
        text(),
        prop::sample::select(vec!["USD", "EUR", "JPY", "KWD", "XXX", ""]),
        any::<bool>(),
    )
        .prop_map(|(lines, shipping, discount, stated, currency, inclusive)| {
            json!({
                "channel": "WEB", "external_id": "X-1", "currency": currency,
                "customer": "ann@example.com", "lines": lines,
                "shipping": {"price": shipping, "address": {"country": "US"}},
                "discount": discount, "prices_include_tax": inclusive,
                "totals": {"total": stated, "tax": stated},
            })
        })
}

/// Everything the capture rules do with a parsed order, at any tax rate.
fn assess(order: &NewOrder, rate: Decimal) {
    for rate in [None, Some(rate)] {
        if let Ok(t) = orders::totals(order, rate) {
            let limit = MAX_AMOUNT * 10_i64.pow(order.currency.minor_units());
            assert!(t.total.abs() <= limit, "total {} beyond the bound", t.total);
            orders::totals_mismatches(order, &t);
            let f = orders::fraud(
                order,
                t.total,
                orders::CustomerHistory {
                    previous_orders: 0,
                    orders_last_day: 0,
                },
            );
            orders::assess(order, &t, &f);
        }
    }
}

fn rate() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0i64..100_000).prop_map(|n| Decimal::new(n, 4)),
        Just(Decimal::MAX),
        Just(-Decimal::ONE),
        Just(Decimal::ZERO),
    ]
}

proptest! {
    #[test]
    fn scans_answer_and_never_panic(code in text(), n in number()) {
        if let Some(Ok(g)) = gs1::parse(&code) {
            if let Some(gtin) = g.gtin {
                prop_assert_eq!(gtin.len(), 14);
            }
        }
        let _ = Gtin::parse(&code);
        let target = PickTarget {
            location: "A-01-01".into(),
            sku: "MUG".into(),
            name: "Mug".into(),
            gtin14: Some("04006381333931".into()),
            lot: String::new(),
            remaining: n,
        };
        for step in [PickStep::Bin, PickStep::Item, PickStep::Quantity] {
            if let Ok(floor::PickMove::Picked(k)) = floor::pick_scan(step, &target, &code, "2026-12-04") {
                prop_assert!(k >= 1 && k <= n);
            }
        }
        let pending = Pending {
            sku: "MUG".into(),
            lot: String::new(),
            expires_on: String::new(),
            quantity: n.clamp(0, inventory::MAX_MOVEMENT),
            open: Some(n),
            serial: false,
        };
        let scan = Scan { raw: code.clone(), item: None, bin: None, unreadable: None };
        for step in [ReceiveStep::Item, ReceiveStep::Lot, ReceiveStep::Put] {
            if let Ok(receiving::ReceiveMove::Quantity(k)) =
                receiving::receive_scan(step, Some(&pending), &scan, "2026-12-04")
            {
                prop_assert!((1..=inventory::MAX_MOVEMENT).contains(&k));
            }
        }
    }

    #[test]
    fn fields_from_forms_answer_and_stay_in_range(s in text(), n in number(), m in number()) {
        for code in ["EUR", "JPY", "KWD", "CLF"] {
            let c = Currency::parse(code).unwrap();
            if let Ok(money) = Money::parse(&s, c) {
                prop_assert!(money.within_limit().is_ok());
            }
        }
        let _ = Currency::parse(&s);
        let _ = Email::parse(&s);
        let _ = inventory::parse_code("code", &s);
        let _ = inventory::parse_location_code("location", &s);
        let _ = inventory::parse_lot("lot", &s);
        let _ = inventory::parse_expiry("expires_on", &s);
        let _ = orders::parse_tag("tag", &s);
        let _ = orders::PortalLookup::parse(&s, &s, &s);
        let _ = orders::PortalLookup::parse("SO-1", "80202", &s);
        let _ = domain::label::parse_tracking("tracking", &s);
        let _ = Period::parse(&s, &s, NaiveDate::from_ymd_opt(2026, 12, 4).unwrap());
        if let Ok(q) = inventory::parse_change("quantity", n) {
            prop_assert!(q != 0 && q.abs() <= inventory::MAX_MOVEMENT);
        }
        if let Ok(q) = inventory::parse_quantity("quantity", n) {
            prop_assert!((1..=inventory::MAX_MOVEMENT).contains(&q));
        }
        let _ = inventory::parse_reorder_point("units", n);
        let _ = floor::check_measures(n, (m, n, m));
        let _ = domain::text::Qty::parse(n);
        let _ = domain::text::Qty::parse_positive(m);
    }

    #[test]
    fn order_bodies_are_parsed_and_totalled_or_refused(body in order_body(), rate in rate()) {
        if let Ok(input) = serde_json::from_value::<OrderIn>(body) {
            if let Ok(order) = NewOrder::parse(&input) {
                assess(&order, rate);
            }
        }
    }

    #[test]
    fn storefront_payloads_map_or_are_unreadable(v in json(), rate in rate()) {
        for mapped in [
            channel_payloads::shopify_order("WEB", &v),
            channel_payloads::woocommerce_order("WOO", &v),
        ] {
            if let Ok(Ok(order)) = mapped.map(|o| NewOrder::parse(&o)) {
                assess(&order, rate);
            }
        }
        let _ = serde_json::from_value::<OrderIn>(v.clone());
        if let Ok(p) = serde_json::from_value::<ProductInput>(v) {
            let _ = NewProduct::parse(&p);
        }
    }

    #[test]
    fn csv_rows_are_read_or_refused(
        headers in prop::collection::vec(text(), 0..8),
        rows in prop::collection::vec(prop::collection::vec(text(), 0..10), 0..6),
    ) {
        let mapping = order_report::guess(&headers);
        let _ = order_report::check(&mapping, &headers);
        let numbered: Vec<order_report::Row> =
            rows.iter().cloned().enumerate().map(|(i, r)| (i as i64 + 2, r)).collect();
        let (parsed, _) = order_report::orders("AMAZON", "USD", &mapping, &headers, &numbered);
        for o in parsed {
            if let Ok(order) = NewOrder::parse(&o.order) {
                assess(&order, Decimal::new(20, 2));
            }
        }
        // The Amazon layout itself, every cell arbitrary.
        let amazon: Vec<String> = "amazon-order-id,purchase-date,buyer-email,buyer-name,sku,product-name,quantity-purchased,currency,item-price,item-tax,shipping-price,item-promotion-discount,recipient-name,ship-address-1,ship-city,ship-state,ship-postal-code,ship-country"
            .split(',').map(String::from).collect();
        let m = order_report::guess(&amazon);
        let same_id: Vec<order_report::Row> = numbered
            .into_iter()
            .map(|(i, mut r)| { r.insert(0, "111-1".into()); (i, r) })
            .collect();
        let _ = order_report::orders("AMAZON", "USD", &m, &amazon, &same_id);
        for r in &rows {
            let cell = |c: &str| {
                let i = catalog::CSV_COLUMNS.iter().position(|x| *x == c).unwrap_or(0);
                r.get(i).cloned().unwrap_or_default()
            };
            if let Ok(p) = catalog::product_from_csv(cell) {
                let _ = NewProduct::parse(&p);
            }
        }
    }
}
