use crate::orders::input::{LineIn, ShippingIn, StatedTotals};

#[test]
fn a_line_cancels_only_open_units_before_the_warehouse_starts() {
    use OrderStatus::*;
    assert_eq!(
        cancel_line(Confirmed, &[3, 2], 0, 1),
        Ok(LineCancel {
            line_open: 2,
            order_open: 4
        })
    );
    assert_eq!(
        cancel_line(Received, &[3, 2], 1, 2).map(|c| c.line_open),
        Ok(0)
    );
    // The last open units: the order as a whole is cancelled.
    assert_eq!(
        cancel_line(Confirmed, &[0, 2], 1, 2).map(|c| c.order_open),
        Ok(0)
    );
    assert_eq!(
        cancel_line(Confirmed, &[3, 2], 1, 3),
        Err(LineCancelError::TooMany { open: 2 })
    );
    assert_eq!(
        cancel_line(Confirmed, &[3], 0, 0),
        Err(LineCancelError::Nothing)
    );
    assert_eq!(
        cancel_line(Confirmed, &[3], 4, 1),
        Err(LineCancelError::TooMany { open: 0 })
    );
    for status in [InFulfilment, Shipped, Delivered, Closed, Cancelled] {
        assert_eq!(
            cancel_line(status, &[3], 0, 1),
            Err(LineCancelError::NotEditable(status))
        );
    }
    assert_eq!(
        LineCancelError::NotEditable(InFulfilment).to_string(),
        "order is in fulfilment; its lines can't be cancelled once the warehouse has started"
    );
}

use super::*;

fn order(lines: &[(&str, i64, &str)]) -> OrderIn {
    OrderIn {
        channel: "WEB".into(),
        external_id: "A-1".into(),
        currency: "USD".into(),
        customer: CustomerIn::Email("ann@example.com".into()),
        lines: lines
            .iter()
            .map(|(sku, q, p)| LineIn {
                sku: sku.to_string(),
                name: String::new(),
                quantity: *q,
                unit_price: Some(AmountIn::Text(p.to_string())),
                discount: None,
            })
            .collect(),
        shipping: ShippingIn {
            address: Some(Address {
                name: "Ann Lee".into(),
                line1: "1 Main St".into(),
                city: "Austin".into(),
                region: "TX".into(),
                postcode: "78701".into(),
                country: "us".into(),
                ..Address::default()
            }),
            price: Some(AmountIn::Text("5.00".into())),
            method: "Ground".into(),
            flat: Address::default(),
        },
        billing_address: None,
        payment_status: "paid".into(),
        discount: None,
        prices_include_tax: false,
        totals: StatedTotals::default(),
        placed_at: None,
        note: String::new(),
        tags: vec![],
    }
}

#[test]
fn every_status_transition_is_either_allowed_or_a_typed_error() {
    use OrderStatus::*;
    let allowed = [
        (Received, Confirmed),
        (Confirmed, InFulfilment),
        (InFulfilment, Shipped),
        (Shipped, Delivered),
        (Delivered, Closed),
        (Received, Cancelled),
        (Confirmed, Cancelled),
        (InFulfilment, Cancelled),
    ];
    for from in OrderStatus::ALL {
        for to in OrderStatus::ALL {
            let ok = allowed.contains(&(from, to));
            assert_eq!(from.transition(to).is_ok(), ok, "{from} → {to}");
            if !ok {
                assert_eq!(
                    from.transition(to).unwrap_err().to_string(),
                    format!("an order that is {from} can't become {to}")
                );
            }
        }
    }
    assert_eq!(OrderStatus::parse("in_fulfilment"), Some(InFulfilment));
    assert_eq!(
        HoldReason::parse("totals_mismatch"),
        Some(HoldReason::TotalsMismatch)
    );
}

#[test]
fn amounts_beyond_a_billion_are_refused_on_their_field() {
    // #19: 92233720368547758.07 × 2 wrapped to a negative total.
    let e = NewOrder::parse(&order(&[("A", 2, "92233720368547758.07")])).unwrap_err();
    assert_eq!(e[0].field, "lines[0].unit_price");
    assert_eq!(
        e[0].message,
        "use an amount from -1,000,000,000 to 1,000,000,000"
    );
    let mut input = order(&[("A", 1, "1.00")]);
    input.shipping.price = Some(AmountIn::Text("1000000000.01".into()));
    let e = NewOrder::parse(&input).unwrap_err();
    assert_eq!(e[0].field, "shipping.price");
}

#[test]
fn an_order_is_placed_in_a_year_of_online_retail() {
    for (at, ok) in [
        ("0001-01-01T00:00:00Z", false),
        ("9999-12-31T23:59:59Z", false),
        ("1994-12-31T23:59:59Z", false),
        ("1995-01-01T00:00:00Z", true),
        ("2026-11-26T09:30:00+01:00", true),
        ("2100-01-01T00:00:00Z", false),
    ] {
        let mut input = order(&[("A", 1, "1.00")]);
        input.placed_at = Some(at.into());
        match NewOrder::parse(&input) {
            Ok(o) => assert!(ok, "{at} accepted as {:?}", o.placed_at),
            Err(e) => {
                assert!(!ok, "{at}: {e:?}");
                assert_eq!(e[0].field, "placed_at");
            }
        }
    }
}

#[test]
fn totals_beyond_what_an_order_may_hold_are_an_error_not_a_wrap_or_panic() {
    // Each line in range; together far beyond i64 minor units once taxed.
    let lines: Vec<_> = (0..MAX_LINES)
        .map(|_| ("A", 100_000, "1000000000"))
        .collect();
    let o = NewOrder::parse(&order(&lines)).unwrap();
    let e = totals(&o, Some(Decimal::new(20, 2))).unwrap_err();
    assert_eq!(e.field, "lines");
    assert!(
        e.message
            .contains("subtotal would be beyond 1,000,000,000 USD"),
        "{}",
        e.message
    );
    // A rate too large for Decimal is the same refusal, not a panic.
    let o = NewOrder::parse(&order(&[("A", 1, "900000000")])).unwrap();
    assert_eq!(totals(&o, Some(Decimal::MAX)).unwrap_err().field, "lines");
    let mut inclusive = o.clone();
    inclusive.prices_include_tax = true;
    assert!(totals(&inclusive, Some(-Decimal::ONE)).is_err());
    // Just under the bound is fine and exact.
    let o = NewOrder::parse(&order(&[("A", 1, "999999995.00")])).unwrap();
    assert_eq!(totals(&o, None).unwrap().total, 100_000_000_000);
}

#[test]
fn totals_are_exact_with_exclusive_and_inclusive_tax() {
    let mut input = order(&[("A", 3, "19.99"), ("B", 1, "0.10")]);
    input.discount = Some(AmountIn::Text("1.00".into()));
    let o = NewOrder::parse(&input).unwrap();
    assert_eq!(o.ship_to.country, "US");
    let t = totals(&o, Some(Decimal::new(825, 4))).unwrap();
    // 59.97 + 0.10 = 60.07. The 1.00 discount is shared by value: A takes
    // 0.998… → 1.00 and B the remaining 0.00. Tax: A 58.97 × 8.25% =
    // 4.865… → 4.87; B 0.10 × 8.25% = 0.00825 → 0.01.
    assert_eq!(
        t,
        Totals {
            subtotal: 6007,
            discount: 100,
            shipping: 500,
            tax: 488,
            total: 6007 - 100 + 500 + 488
        }
    );
    let mut inclusive = input.clone();
    inclusive.prices_include_tax = true;
    inclusive.discount = None;
    let o = NewOrder::parse(&inclusive).unwrap();
    let t = totals(&o, Some(Decimal::new(20, 2))).unwrap();
    // 59.97 incl. 20%: 59.97 − 49.975 = 9.995 → 10.00; 0.10 → 0.0167 → 0.02.
    assert_eq!((t.tax, t.total), (1002, 6007 + 500));
}

#[test]
fn stated_tax_wins_over_rules_and_bad_totals_name_both_figures() {
    let mut input = order(&[("IPOD", 3, "199.00")]);
    input.shipping.price = Some(AmountIn::Text("0.00".into()));
    input.totals = StatedTotals {
        subtotal: Some(AmountIn::Text("398.00".into())),
        discount: None,
        tax: Some(AmountIn::Text("11.94".into())),
        total: Some(AmountIn::Text("409.94".into())),
    };
    let o = NewOrder::parse(&input).unwrap();
    let t = totals(&o, Some(Decimal::new(6, 2))).unwrap();
    assert_eq!((t.subtotal, t.tax, t.total), (59700, 1194, 60894));
    let holds = assess(
        &o,
        &t,
        &FraudAssessment {
            score: 0,
            reasons: vec![],
        },
    );
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].reason, HoldReason::TotalsMismatch);
    assert_eq!(
        holds[0].detail,
        "totals don't add up: the lines come to 597.00 (3 × 199.00) but the channel says the subtotal is 398.00; \
         the order comes to 608.94 but the channel says the total is 409.94"
    );
}

#[test]
fn bad_input_names_every_field() {
    let mut input = order(&[("A", 0, "1.001"), ("B", 1, "x")]);
    input.customer = CustomerIn::Email("nope".into());
    input.payment_status = "maybe".into();
    input.lines[1].discount = Some(AmountIn::Number(serde_json::Number::from(3)));
    input.placed_at = Some("yesterday".into());
    input.tags = vec!["vip!".into()];
    let errs = NewOrder::parse(&input).unwrap_err();
    let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            "customer.email",
            "lines[0].quantity",
            "lines[0].unit_price",
            "lines[1].unit_price",
            "lines[1].discount",
            "payment_status",
            "placed_at",
            "tags[0]"
        ]
    );
    assert!(errs[4].message.contains("decimal strings"));
    let mut other = order(&[("A", 1, "1.00")]);
    other.shipping.price = Some(AmountIn::Money {
        amount: "5.00".into(),
        currency: "EUR".into(),
    });
    let errs = NewOrder::parse(&other).unwrap_err();
    assert_eq!(errs[0].message, "is in EUR, but the order is in USD");
}

#[test]
fn payment_address_and_fraud_give_named_holds() {
    let mut input = order(&[("A", 1, "1500.00")]);
    input.payment_status = "pending".into();
    input.billing_address = Some(Address {
        country: "FR".into(),
        ..Address::default()
    });
    input.shipping.address.as_mut().unwrap().line1 = " ".into();
    let o = NewOrder::parse(&input).unwrap();
    let t = totals(&o, None).unwrap();
    let f = fraud(
        &o,
        t.total,
        CustomerHistory {
            previous_orders: 0,
            orders_last_day: 0,
        },
    );
    assert_eq!(f.score, 75);
    assert_eq!(
        f.reasons,
        vec![
            "+35: billing country FR differs from shipping country US",
            "+40: a first order worth 1505.00 USD (high value is 1000 or more)"
        ]
    );
    let reasons: Vec<_> = assess(&o, &t, &f).into_iter().map(|h| h.reason).collect();
    assert_eq!(
        reasons,
        vec![
            HoldReason::PaymentPending,
            HoldReason::FraudReview,
            HoldReason::InvalidAddress
        ]
    );
    let returning = fraud(
        &o,
        t.total,
        CustomerHistory {
            previous_orders: 4,
            orders_last_day: 3,
        },
    );
    assert_eq!(returning.score, 65, "{:?}", returning.reasons);
}

#[test]
fn a_flat_shipping_address_is_read_like_a_nested_one() {
    let input: OrderIn = serde_json::from_value(serde_json::json!({
        "channel": "WEB", "external_id": "F-1", "currency": "USD", "customer": "ann@example.com",
        "lines": [{"sku": "A", "quantity": 1, "unit_price": {"amount": "2.50", "currency": "USD"}}],
        "shipping": {"name": "Ann Lee", "address1": "1 Main St", "city": "Austin", "zip": "78701", "country_code": "us", "amount": "4.00"},
        "payment_status": "paid"
    }))
    .unwrap();
    let o = NewOrder::parse(&input).unwrap();
    assert_eq!(o.ship_to.line1, "1 Main St");
    assert_eq!(o.ship_to.country, "US");
    assert_eq!(
        (o.shipping.minor(), o.lines[0].unit_price.minor()),
        (400, 250)
    );
    assert!(o.ship_to.problems().is_empty());
}

#[test]
fn names_are_searchable_from_either_end() {
    assert_eq!(
        name_keys(" Ann  Marie LEE "),
        ("ann marie lee".into(), "lee ann marie".into())
    );
    assert_eq!(name_keys("Cher"), ("cher".into(), "cher".into()));
    assert_eq!(prefix_bound("lee"), "lef");
    assert!("lee ann".as_bytes() < prefix_bound("lee").as_bytes());
}

#[test]
fn addresses_match_however_they_were_typed() {
    let a = Address {
        name: "Ann  Lee".into(),
        line1: "1 Main St".into(),
        ..Address::default()
    };
    let b = Address {
        name: "ann lee".into(),
        line1: "1  MAIN st".into(),
        ..Address::default()
    };
    assert_eq!(a.fingerprint(), b.fingerprint());
}

#[test]
fn an_address_names_each_field_that_keeps_it_from_shipping() {
    let a = Address {
        name: "Ann Lee".into(),
        line1: "".into(),
        city: "".into(),
        postcode: "80202".into(),
        country: "USA".into(),
        ..Address::default()
    };
    let fields: Vec<(String, String)> = a
        .field_problems("address")
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "address.line1".to_string(),
                "the street address is missing".to_string()
            ),
            (
                "address.city".to_string(),
                "the city is missing".to_string()
            ),
            (
                "address.country".to_string(),
                "`USA` is not a two-letter ISO country code".to_string()
            ),
        ]
    );
    // The hold's words are the same problems.
    assert_eq!(
        a.problems(),
        fields.into_iter().map(|(_, m)| m).collect::<Vec<_>>()
    );
    assert_eq!(a.field_problems("")[0].field, "line1");
}
