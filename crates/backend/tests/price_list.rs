//! Store tests for channel price lists, on SQLite and PostgreSQL: the list
//! shows the channel's own price over the catalogue's, changes are all or
//! nothing and audited, and capture charges a line sent without a unit price
//! the list price, refusing a SKU that has none.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    orders as capture, price_list, store_test,
    testing::fixtures::{channel, item, receive, sys, warehouse},
    Actor, ActorKind, Ctx, Db, Error,
};
use domain::{
    governance::{Role, Scope},
    orders::{Address, AmountIn, CustomerIn, LineIn, OrderIn, ShippingIn, StatedTotals},
    orders::{PriceEntryInput, PriceListInput},
    views::PriceFilter,
};

fn user(role: Role) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some("user-1".into()),
            name: "Maya Patel".into(),
            role: Some(role),
            scope: Scope::default(),
        },
        None,
    )
}

fn prices(entries: &[(&str, Option<&str>)]) -> PriceListInput {
    PriceListInput {
        prices: entries
            .iter()
            .map(|(sku, price)| PriceEntryInput {
                sku: sku.to_string(),
                price: price.map(String::from),
            })
            .collect(),
    }
}

fn order(
    channel: &str,
    external_id: &str,
    currency: &str,
    lines: &[(&str, Option<&str>)],
) -> OrderIn {
    OrderIn {
        channel: channel.into(),
        external_id: external_id.into(),
        currency: currency.into(),
        customer: CustomerIn::Email("buyer@example.com".into()),
        lines: lines
            .iter()
            .map(|(sku, price)| LineIn {
                sku: sku.to_string(),
                name: String::new(),
                quantity: 2,
                unit_price: price.map(|p| AmountIn::Text(p.into())),
                discount: None,
            })
            .collect(),
        shipping: ShippingIn {
            address: Some(Address {
                name: "Buyer".into(),
                line1: "1 Main St".into(),
                city: "Austin".into(),
                region: "TX".into(),
                postcode: "78701".into(),
                country: "US".into(),
                ..Address::default()
            }),
            price: None,
            method: String::new(),
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

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

store_test!(
    a_line_without_a_unit_price_is_charged_the_channel_list_price,
    |db: Db| async move {
        warehouse(&db, "EAST").await;
        channel(&db, ("B2B", "b2b", "USD"), &["EAST"], None).await;
        channel(&db, ("EU", "b2b", "EUR"), &["EAST"], None).await;
        for sku in ["A", "B"] {
            item(&db, sku, "4.00").await;
            receive(&db, "EAST", sku, 20).await;
        }
        let manager = user(Role::Manager);

        // Before any channel price, the catalogue's (10.00 USD) applies.
        let list = price_list::list(&db, &manager, "B2B", &PriceFilter::default())
            .await
            .unwrap();
        assert_eq!(list.items.len(), 2);
        assert_eq!(list.items[0].price.unwrap().to_string(), "10.00 USD");
        assert!(list.items[0].channel_price.is_none());

        let changed = price_list::set(
            &db,
            &manager,
            "B2B",
            &prices(&[("A", Some("7.25")), ("B", None)]),
        )
        .await
        .unwrap()
        .applied()
        .unwrap();
        assert_eq!((changed.set, changed.removed), (1, 0));
        let own = price_list::list(
            &db,
            &manager,
            "B2B",
            &PriceFilter {
                own: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(own.items.len(), 1);
        assert_eq!(own.items[0].sku, "A");
        assert_eq!(own.items[0].price.unwrap().to_string(), "7.25 USD");
        assert_eq!(
            own.items[0].catalogue_price.unwrap().to_string(),
            "10.00 USD"
        );
        assert_eq!(own.items[0].updated_by.as_deref(), Some("Maya Patel"));
        let audit: (String, String) = sqlx::query_as(
            "select before_json, after_json from audit_log where action = 'channel.prices_set'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(audit.0, r#"{"prices":[{"price":null,"sku":"A"}]}"#);
        assert_eq!(audit.1, r#"{"prices":[{"price":"7.25","sku":"A"}]}"#);
        let events = "select count(*) from event where event_type = 'channel.prices_set'";
        assert_eq!(count(&db, events).await, 1);

        // Bad input names each problem and changes nothing.
        let err = price_list::set(
            &db,
            &manager,
            "B2B",
            &prices(&[("A", Some("1.999")), ("B", Some("-2"))]),
        )
        .await
        .unwrap_err();
        let Error::Invalid(fields) = err else {
            panic!("invalid input, got {err:?}")
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, vec!["prices[0].price", "prices[1].price"]);
        let err = price_list::set(
            &db,
            &manager,
            "B2B",
            &prices(&[("A", Some("1")), ("NOPE", Some("1"))]),
        )
        .await
        .unwrap_err();
        let Error::Invalid(fields) = err else {
            panic!("invalid input, got {err:?}")
        };
        assert_eq!(fields[0].field, "prices[1].sku");
        assert_eq!(fields[0].message, "there is no product NOPE");
        // Support may read a price list but not change it.
        let err = price_list::set(
            &db,
            &user(Role::Support),
            "B2B",
            &prices(&[("A", Some("1"))]),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Forbidden { .. }));
        assert_eq!(count(&db, events).await, 1);
        let own_price = "select price_minor from channel_price";
        assert_eq!(count(&db, own_price).await, 725);
        // Sending the same prices again changes nothing and records nothing.
        let same = price_list::set(&db, &manager, "B2B", &prices(&[("A", Some("7.25"))]))
            .await
            .unwrap()
            .applied()
            .unwrap();
        assert_eq!((same.set, same.removed), (0, 0));
        assert_eq!(count(&db, events).await, 1);

        // Capture: A at the channel's 7.25, B at the catalogue's 10.00, and a
        // price that was sent is kept.
        let c = capture::capture(
            &db,
            &sys(),
            order(
                "B2B",
                "PO-1",
                "USD",
                &[("A", None), ("B", None), ("B", Some("9.00"))],
            ),
            None,
            None,
        )
        .await
        .unwrap();
        let units: Vec<String> = c
            .order
            .lines
            .iter()
            .map(|l| l.unit_price.to_string())
            .collect();
        assert_eq!(units, vec!["7.25 USD", "10.00 USD", "9.00 USD"]);
        assert_eq!(c.order.totals.subtotal.to_string(), "52.50 USD");

        // EUR has no price for A anywhere: refused, naming the line; nothing written.
        let orders_before = count(&db, "select count(*) from sales_order").await;
        let err = capture::capture(
            &db,
            &sys(),
            order("EU", "PO-2", "EUR", &[("A", None)]),
            None,
            None,
        )
        .await
        .unwrap_err();
        let Error::Invalid(fields) = err else {
            panic!("invalid input, got {err:?}")
        };
        assert_eq!(fields[0].field, "lines[0].unit_price");
        assert!(fields[0]
            .message
            .contains("A has no price on channel EU's price list"));
        assert_eq!(
            count(&db, "select count(*) from sales_order").await,
            orders_before
        );

        // Removing the channel price brings back the catalogue's.
        let removed = price_list::set(&db, &manager, "B2B", &prices(&[("A", None)]))
            .await
            .unwrap()
            .applied()
            .unwrap();
        assert_eq!((removed.set, removed.removed), (0, 1));
        let c = capture::capture(
            &db,
            &sys(),
            order("B2B", "PO-3", "USD", &[("A", None)]),
            None,
            None,
        )
        .await
        .unwrap();
        assert_eq!(c.order.lines[0].unit_price.to_string(), "10.00 USD");
    }
);
