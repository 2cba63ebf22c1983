//! Privacy requests on both databases: an export holds everything about the
//! customer; an erasure refuses while an order still needs the address, then
//! forgets the person everywhere Keel wrote them (orders, notes, holds, event
//! payloads, audit rows) while money, stock and the audit chain still check;
//! a rewritten audit row can't be changed again unseen.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    governance::audit_chain,
    inventory,
    orders::{self, privacy},
    store_test,
    testing::fixtures::{
        assert_no_drift, channel, item, receive, ship_oldest, sys, warehouse, web_order,
    },
    Actor, ActorKind, Conflict, Ctx, Db, Error,
};
use domain::governance::{Role, Scope};
use domain::orders::Address;

fn person(role: Role, scope: Scope) -> Ctx {
    Ctx::new(
        Actor {
            kind: ActorKind::User,
            id: Some(format!("user-{role:?}")),
            name: format!("{role:?} on duty"),
            role: Some(role),
            scope,
        },
        None,
    )
}

fn admin() -> Ctx {
    person(Role::Admin, Scope::default())
}

/// What identifies Ann Lee anywhere (the fixture's customer).
const ANN: [&str; 5] = [
    "Ann Lee",
    "ann@example.com",
    "1 Main St",
    "78701",
    "Ann rang",
];

/// Every stored text about orders and people, for a search by content.
const TEXT_COLUMNS: &[(&str, &str)] = &[
    ("customer", "email"),
    ("customer", "name"),
    ("customer_address", "address_json"),
    ("sales_order", "customer_email"),
    ("sales_order", "customer_name"),
    ("sales_order", "ship_to_json"),
    ("sales_order", "bill_to_json"),
    ("sales_order", "ship_postcode"),
    ("sales_order", "note"),
    ("sales_order", "fraud_reasons_json"),
    ("order_note", "body"),
    ("order_hold", "detail"),
    ("order_hold", "release_note"),
    ("audit_log", "before_json"),
    ("audit_log", "after_json"),
    ("event", "payload"),
];

/// The (table, column) pairs where `needle` is still written.
async fn where_written(db: &Db, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column) in TEXT_COLUMNS {
        let n: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where lower({column}) like $1"
        ))
        .bind(format!("%{}%", needle.to_lowercase()))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if n > 0 {
            found.push(format!("{table}.{column} ({n})"));
        }
    }
    found
}

async fn money(db: &Db) -> (i64, i64) {
    let row: (i64, i64) = sqlx::query_as(
        "select cast(sum(total_minor) as bigint), cast(sum(tax_minor) as bigint) from sales_order",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    row
}

fn conflict<T: std::fmt::Debug>(r: backend::Result<T>) -> Conflict {
    match r {
        Err(Error::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// Ann's shipped order (with a note) and her unpaid one, whose address
/// she changed: the ids.
async fn ann(db: &Db) -> (String, String) {
    warehouse(db, "EAST").await;
    channel(db, ("WEB", "web", "USD"), &["EAST"], None).await;
    item(db, "A", "4.00").await;
    receive(db, "EAST", "A", 10).await;
    let shipped = orders::capture(db, &sys(), web_order("P-1", &[("A", 2)]), None, None)
        .await
        .unwrap()
        .order;
    orders::add_note(
        db,
        &admin(),
        &shipped.id,
        "Ann rang: leave it with the neighbour",
    )
    .await
    .unwrap();
    ship_oldest(db, "EAST").await;
    let mut unpaid = web_order("P-2", &[("A", 1)]);
    unpaid.payment_status = "pending".into();
    let unpaid = orders::capture(db, &sys(), unpaid, None, None)
        .await
        .unwrap()
        .order;
    let moved = Address {
        name: "Ann Lee".into(),
        line1: "1 Main St".into(),
        line2: "Apt 4".into(),
        city: "Austin".into(),
        region: "TX".into(),
        postcode: "78701".into(),
        country: "US".into(),
        phone: String::new(),
    };
    orders::change_address(db, &admin(), &unpaid.id, moved, None)
        .await
        .unwrap();
    // A hold's detail travels in its event's payload.
    orders::place_hold(db, &admin(), &unpaid.id, "Ann rang to ask us to wait")
        .await
        .unwrap();
    (shipped.id, unpaid.id)
}

store_test!(
    an_export_holds_every_order_and_address,
    |db: Db| async move {
        let (shipped, unpaid) = ann(&db).await;
        let export = privacy::export(&db, &admin(), " ANN@example.com ")
            .await
            .unwrap();
        assert_eq!(export.format, "keel.customer-export/1");
        assert_eq!(export.customer.email, "ann@example.com");
        assert_eq!(export.customer.name, "Ann Lee");
        assert_eq!(export.customer.erased_at, None);
        let ids: Vec<&str> = export.orders.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, [shipped.as_str(), unpaid.as_str()]);
        assert_eq!(export.orders[0].status, "shipped");
        assert_eq!(
            export.orders[0].notes[0].body,
            "Ann rang: leave it with the neighbour"
        );
        assert_eq!(export.orders[1].ship_to.line2, "Apt 4");
        assert!(!export.addresses.is_empty());
        assert!(export
            .addresses
            .iter()
            .all(|a| a.line1 == "1 Main St" && a.postcode == "78701"));
        // The export is itself audited, without the address it was asked for.
        let (after,): (String,) = sqlx::query_as(
            "select after_json from audit_log where action = 'customer.export' and entity_id = $1",
        )
        .bind(&export.customer.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(after, r#"{"orders":2}"#);
        assert_no_drift(&db).await;
    }
);

store_test!(
    an_erasure_forgets_the_person_and_keeps_the_books,
    |db: Db| async move {
        let (shipped, unpaid) = ann(&db).await;
        let before = money(&db).await;
        let stock = inventory::stock(&db, &sys(), "A").await.unwrap();

        // The unpaid order still needs the address: refused, naming it.
        let refused = privacy::erase(&db, &admin(), "ann@example.com", "request 42").await;
        match &refused {
            Err(Error::Conflict { code, message }) => {
                assert_eq!(*code, Conflict::OrdersOpen);
                assert!(message.contains("SO-"), "{message}");
            }
            other => panic!("expected orders_open, got {other:?}"),
        }
        assert!(!where_written(&db, "1 Main St").await.is_empty());

        orders::cancel_order(&db, &admin(), &unpaid, "customer asked")
            .await
            .unwrap();
        let erased = privacy::erase(&db, &admin(), "ann@example.com", "request 42")
            .await
            .unwrap();
        assert_eq!(erased.orders, 2);
        // The address change, the note and the manual hold at least; the
        // hold's event.
        assert!(erased.audit_rows >= 3, "{erased:?}");
        assert!(erased.events >= 1, "{erased:?}");

        for needle in ANN {
            assert_eq!(
                where_written(&db, needle).await,
                Vec::<String>::new(),
                "{needle:?} is still written"
            );
        }
        let addresses: i64 = sqlx::query_scalar("select count(*) from customer_address")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(addresses, 0);

        // The orders are still there, with their money, country and region.
        let order = orders::load(&db, &sys(), &shipped).await.unwrap();
        assert_eq!(order.customer.name, "Erased customer");
        assert_eq!(
            order.customer.email,
            format!("erased-{}@erased.invalid", erased.customer_id)
        );
        assert_eq!(
            (
                order.ship_to.country.as_str(),
                order.ship_to.region.as_str()
            ),
            ("US", "TX")
        );
        assert_eq!(order.ship_to.line1, "[erased]");
        assert_eq!(order.notes[0].body, "[erased]");
        assert_eq!(order.status, "shipped");
        assert_eq!(money(&db).await, before);
        let after = inventory::stock(&db, &sys(), "A").await.unwrap();
        assert_eq!(after.on_hand, stock.on_hand);
        assert_no_drift(&db).await;

        // Once only; and the email no longer finds anyone.
        assert_eq!(
            conflict(privacy::erase(&db, &admin(), &order.customer.email, "again").await),
            Conflict::AlreadyErased
        );
        assert!(matches!(
            privacy::export(&db, &admin(), "ann@example.com").await,
            Err(Error::NotFound { .. })
        ));
        let events: Vec<String> = sqlx::query_scalar(
            "select event_type from event where entity = 'customer' order by seq",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(events, ["customer.erased"]);
    }
);

store_test!(
    a_rewritten_audit_row_changed_again_is_found,
    |db: Db| async move {
        let (_, unpaid) = ann(&db).await;
        orders::cancel_order(&db, &admin(), &unpaid, "customer asked")
            .await
            .unwrap();
        privacy::erase(&db, &admin(), "ann@example.com", "request 42")
            .await
            .unwrap();
        audit_chain::seal(&db).await.unwrap();
        assert!(audit_chain::check_chain(&db)
            .await
            .unwrap()
            .drift
            .is_empty());

        // Someone puts the address back into a rewritten row.
        let rewritten: String = sqlx::query_scalar(
            "select audit_id from audit_log where erased_by is not null and action = 'order.change_address'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        sqlx::query(
            "update audit_log set after_json = '{\"line1\":\"1 Main St\"}' where audit_id = $1",
        )
        .bind(&rewritten)
        .execute(&db.pool)
        .await
        .unwrap();
        let drift = audit_chain::check_chain(&db).await.unwrap().drift;
        assert_eq!(
            drift,
            [format!(
                "audit chain: audit row {rewritten} was changed after an erasure rewrote it"
            )]
        );

        // Or passes an ordinary row off as rewritten, keeping its digest.
        let plain: String = sqlx::query_scalar(
            "select audit_id from audit_log where action = 'order.cancel' and erased_by is null",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        sqlx::query(
            "update audit_log set before_sha = 'x', after_sha = 'y', after_json = '{}' where audit_id = $1",
        )
        .bind(&plain)
        .execute(&db.pool)
        .await
        .unwrap();
        let drift = audit_chain::check_chain(&db).await.unwrap().drift;
        assert!(
            drift
                .iter()
                .any(|d| d.contains("was changed after it was sealed")),
            "{drift:#?}"
        );
        assert!(
            drift.iter().any(|d| d
                == &format!(
                    "audit chain: audit row {plain} was rewritten, and no erasure lists it"
                )),
            "{drift:#?}"
        );
    }
);

store_test!(
    only_a_whole_business_privacy_manager_may_ask,
    |db: Db| async move {
        ann(&db).await;
        let manager = person(Role::Manager, Scope::default());
        assert!(matches!(
            privacy::export(&db, &manager, "ann@example.com").await,
            Err(Error::Forbidden { .. })
        ));
        let scoped = person(
            Role::Admin,
            Scope {
                channels: vec!["WEB".into()],
                ..Scope::default()
            },
        );
        assert!(matches!(
            privacy::erase(&db, &scoped, "ann@example.com", "request 42").await,
            Err(Error::OutOfScope { .. })
        ));
        for (email, reason, field) in [
            ("not-an-email", "request 42", "email"),
            ("ann@example.com", "  ", "reason"),
            ("ann@example.com", &"x".repeat(501), "reason"),
        ] {
            match privacy::erase(&db, &admin(), email, reason).await {
                Err(Error::Invalid(errors)) => assert_eq!(errors[0].field, field),
                other => panic!("expected {field} to be refused, got {other:?}"),
            }
        }
        assert!(matches!(
            privacy::export(&db, &admin(), "nobody@example.com").await,
            Err(Error::NotFound { .. })
        ));
        // Nothing was erased or exported by any of it.
        let n: i64 = sqlx::query_scalar("select count(*) from audit_log where entity = 'customer'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        assert!(!where_written(&db, "1 Main St").await.is_empty());
    }
);
