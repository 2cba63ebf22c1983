//! Four eyes for price overrides and for channel and sourcing-rule changes,
//! on both databases: off, they apply at once; on, a change past the policy
//! is held whole, its requester can't approve it, another person's approval
//! applies it once and a rejection applies nothing; Keel's own actors act at
//! once.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    approvals::decide,
    governance::{approvals, Outcome},
    orders, price_list, store_test,
    testing::fixtures::{assert_no_drift, channel, item, person, sys, warehouse},
    Conflict, Db, Error,
};
use domain::governance::{approvals::ApprovalKind, Role};
use domain::orders::{PriceEntryInput, PriceListInput};

fn price(sku: &str, price: &str) -> PriceListInput {
    PriceListInput {
        prices: vec![PriceEntryInput {
            sku: sku.into(),
            price: Some(price.into()),
        }],
    }
}

async fn scalar(db: &Db, sql: &str) -> Option<i64> {
    sqlx::query_scalar(sql)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
}

fn conflict<T: std::fmt::Debug>(r: backend::Result<T>) -> Conflict {
    match r {
        Err(Error::Conflict { code, .. }) => code,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn setup(db: &Db) {
    warehouse(db, "EAST").await;
    warehouse(db, "WEST").await;
    channel(db, ("B2B", "b2b", "USD"), &["EAST"], None).await;
    // The catalogue sells A at 10.00.
    item(db, "A", "4.00").await;
}

store_test!(
    a_price_far_from_the_catalogue_waits_for_someone_else,
    |db: Db| async move {
        setup(&db).await;
        let (maya, avery) = (
            person("maya@example.com", Role::Manager),
            person("avery@example.com", Role::Admin),
        );
        let own = "select price_minor from channel_price";
        // Off by default: any price applies at once.
        let applied = price_list::set(&db, &maya, "B2B", &price("A", "7.00"))
            .await
            .unwrap();
        assert!(matches!(applied, Outcome::Applied(_)), "{applied:?}");
        assert_eq!(scalar(&db, own).await, Some(700));

        approvals::set_policy(
            &db,
            &avery,
            ApprovalKind::PriceOverride,
            true,
            None,
            Some(20),
        )
        .await
        .unwrap();
        // Within 20% of 10.00: applied.
        let near = price_list::set(&db, &maya, "B2B", &price("A", "8.50"))
            .await
            .unwrap();
        assert!(matches!(near, Outcome::Applied(_)), "{near:?}");
        assert_eq!(scalar(&db, own).await, Some(850));

        let Outcome::Held(held) = price_list::set(&db, &maya, "B2B", &price("A", "5.00"))
            .await
            .unwrap()
        else {
            panic!("a price half the catalogue's went through without a second person")
        };
        assert_eq!(
            held.summary,
            "B2B prices: A 5.00 (catalogue 10.00), more than 20% from the catalogue"
        );
        assert_eq!(
            scalar(&db, own).await,
            Some(850),
            "nothing changes before approval"
        );
        assert_eq!(
            conflict(decide(&db, &maya, &held.id, true, "").await),
            Conflict::SelfApproval
        );
        decide(&db, &avery, &held.id, true, "trade deal")
            .await
            .unwrap();
        assert_eq!(scalar(&db, own).await, Some(500));
        assert_eq!(
            conflict(decide(&db, &avery, &held.id, true, "").await),
            Conflict::ChangeNotPending
        );
        // Keel's own actors act at once.
        let by_keel = price_list::set(&db, &sys(), "B2B", &price("A", "1.00"))
            .await
            .unwrap();
        assert!(matches!(by_keel, Outcome::Applied(_)), "{by_keel:?}");
        // A percentage out of range is refused.
        assert!(matches!(
            approvals::set_policy(
                &db,
                &avery,
                ApprovalKind::PriceOverride,
                true,
                None,
                Some(1_001)
            )
            .await,
            Err(Error::Invalid(_))
        ));
        assert_no_drift(&db).await;
    }
);

store_test!(
    channel_and_sourcing_rule_changes_wait_while_their_policy_is_on,
    |db: Db| async move {
        setup(&db).await;
        let (avery, sofia) = (
            person("avery@example.com", Role::Admin),
            person("sofia@example.com", Role::Admin),
        );
        let buffer = "select safety_buffer from channel where code = 'B2B'";
        let off = orders::set_safety_buffer(&db, &avery, "B2B", 1)
            .await
            .unwrap();
        assert!(matches!(off, Outcome::Applied(_)), "{off:?}");
        assert_eq!(scalar(&db, buffer).await, Some(1));

        approvals::set_policy(&db, &avery, ApprovalKind::ChannelChange, true, None, None)
            .await
            .unwrap();
        let Outcome::Held(held) = orders::set_safety_buffer(&db, &avery, "B2B", 3)
            .await
            .unwrap()
        else {
            panic!("a buffer change went through without a second person")
        };
        assert_eq!(held.summary, "B2B: safety buffer 1 → 3 units");
        assert_eq!(scalar(&db, buffer).await, Some(1));
        assert_eq!(
            conflict(decide(&db, &avery, &held.id, true, "").await),
            Conflict::SelfApproval
        );
        decide(&db, &sofia, &held.id, true, "").await.unwrap();
        assert_eq!(scalar(&db, buffer).await, Some(3));

        // The sourcing rule: held, then rejected, so nothing changes.
        let Outcome::Held(rule) =
            orders::set_warehouses(&db, &avery, "B2B", &["WEST".into(), "EAST".into()])
                .await
                .unwrap()
        else {
            panic!("a sourcing rule change went through without a second person")
        };
        assert_eq!(rule.summary, "B2B: ships from WEST, EAST (was EAST)");
        decide(&db, &sofia, &rule.id, false, "not yet")
            .await
            .unwrap();
        let channels = orders::list_channels(&db, &sys()).await.unwrap();
        let b2b = channels.iter().find(|c| c.code == "B2B").unwrap();
        assert_eq!(b2b.warehouses, ["EAST"]);
        // The same list as now is no change, and waits for nobody.
        let same = orders::set_warehouses(&db, &avery, "B2B", &["EAST".into()])
            .await
            .unwrap();
        assert!(matches!(same, Outcome::Applied(_)), "{same:?}");
        let by_keel = orders::set_safety_buffer(&db, &sys(), "B2B", 0)
            .await
            .unwrap();
        assert!(matches!(by_keel, Outcome::Applied(_)), "{by_keel:?}");
        let events: Vec<String> = sqlx::query_scalar(
            "select event_type from event where entity = 'channel' order by seq",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(
            events,
            [
                "channel.created",
                "channel.buffer_changed",
                "channel.buffer_changed",
                "channel.buffer_changed"
            ]
        );
        assert_no_drift(&db).await;
    }
);
