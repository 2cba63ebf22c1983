//! Store tests for data Keel wrote itself that no longer reads back, on
//! SQLite and PostgreSQL. Such data is never quietly taken as empty: the use
//! case fails with an error naming the record, and `keel check` names it too.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    orders::{self, channels},
    store_test,
    testing::fixtures::{channel, item, receive, sys, warehouse, web_order},
    Db, Error,
};

/// A channel whose stored sourcing rule is not a JSON list.
async fn broken_channel(db: &Db) {
    warehouse(db, "EAST").await;
    channel(db, ("WEB", "web", "USD"), &["EAST"], None).await;
    item(db, "A", "4.00").await;
    receive(db, "EAST", "A", 5).await;
    sqlx::query("update channel set warehouses_json = 'EAST' where code = 'WEB'")
        .execute(&db.pool)
        .await
        .unwrap();
}

store_test!(
    a_channel_whose_warehouse_list_does_not_parse_refuses_orders_instead_of_backordering_them,
    |db: Db| async move {
        broken_channel(&db).await;
        let err = orders::capture::capture(&db, &sys(), web_order("W-1", &[("A", 1)]), None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Internal(m) if m.contains("channel WEB") && m.contains("keel check")),
            "{err:?}"
        );
        let listed = orders::list_orders(&db, &sys(), &Default::default())
            .await
            .unwrap();
        assert!(listed.items.is_empty(), "no order was captured");
        assert!(channels::list_channels(&db, &sys()).await.is_err());
    }
);

store_test!(
    keel_check_names_a_channel_whose_warehouse_list_does_not_parse,
    |db: Db| async move {
        broken_channel(&db).await;
        let findings = channels::check(&db).await.unwrap();
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(findings[0].contains("channel WEB"), "{findings:?}");
        sqlx::query("update channel set warehouses_json = '[\"EAST\"]' where code = 'WEB'")
            .execute(&db.pool)
            .await
            .unwrap();
        assert!(channels::check(&db).await.unwrap().is_empty());
    }
);
