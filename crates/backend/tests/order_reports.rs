//! Store tests for marketplace order report imports, on SQLite and
//! PostgreSQL: the mapping guessed and saved per channel, the preview that
//! writes nothing, row problems by line, and an import that captures each
//! order once (a second import of the same report is all replays).

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::Conflict;
use backend::{
    order_import, orders, store_test,
    testing::fixtures::{assert_no_drift, channel, item, receive, sys, warehouse},
    Db, Error,
};

const REPORT: &str = "amazon-order-id,purchase-date,buyer-email,buyer-name,sku,product-name,quantity-purchased,currency,item-price,item-tax,shipping-price,recipient-name,ship-address-1,ship-city,ship-state,ship-postal-code,ship-country
111-1,2026-11-20T10:00:00Z,ann@example.com,Ann Lee,A,Item A,2,USD,20.00,1.65,4.99,Ann Lee,1 Main St,Austin,TX,78701,US
222-2,2026-11-20T11:00:00Z,bo@example.com,Bo Li,B,Item B,1,USD,15.00,,0.00,Bo Li,2 Oak Ave,Reno,NV,89501,US
111-1,,,,B,Item B,1,USD,15.00,1.24,0.00,,,,,,
333-3,2026-11-20T12:00:00Z,cy@example.com,Cy,A,Item A,many,USD,10.00,,,Cy,3 Elm,Boise,ID,83702,US
";

async fn amazon(db: &Db) {
    warehouse(db, "EAST").await;
    item(db, "A", "4.00").await;
    item(db, "B", "6.00").await;
    receive(db, "EAST", "A", 10).await;
    receive(db, "EAST", "B", 10).await;
    channel(db, ("AMZ", "marketplace", "USD"), &["EAST"], None).await;
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

store_test!(
    a_report_is_previewed_then_imported_once_with_bad_rows_reported_by_line,
    |db: Db| async move {
        amazon(&db).await;
        let p = order_import::preview(&db, &sys(), "amz", REPORT, None)
            .await
            .unwrap();
        assert!(!p.mapping_saved);
        assert!(p.mapping_errors.is_empty(), "{:?}", p.mapping_errors);
        assert_eq!(
            p.orders
                .iter()
                .map(|o| (o.order.external_id.as_str(), o.lines.clone()))
                .collect::<Vec<_>>(),
            vec![("111-1", vec![2, 4]), ("222-2", vec![3])]
        );
        assert_eq!(p.problems.len(), 1);
        assert_eq!(
            (
                p.problems[0].line,
                p.problems[0].sku.as_str(),
                p.problems[0].message.as_str()
            ),
            (5, "333-3", "quantity `many` is not a whole number of units")
        );
        assert_eq!(count(&db, "select count(*) from sales_order").await, 0);

        // A mapping naming a column the file lacks is staged (to be fixed on
        // its page) but can't start, and isn't saved as the channel's.
        let mut wrong = p.mapping.clone();
        wrong.insert("email".into(), "e-mail".into());
        let (job, _) = order_import::stage(&db, &sys(), "AMZ", REPORT, Some(wrong))
            .await
            .unwrap();
        let refused = order_import::begin(&db, &sys(), &job.id).await;
        assert!(
            matches!(&refused, Err(Error::Invalid(f)) if f[0].field == "mapping.email"),
            "{:?}",
            refused.err()
        );
        let shown = order_import::staged_preview(&db, &sys(), &job.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            shown.mapping_errors[0].message,
            "the file has no column `e-mail`"
        );
        assert!(order_import::preview(&db, &sys(), "AMZ", REPORT, None)
            .await
            .unwrap()
            .mapping_errors
            .is_empty());
        let fixed = order_import::remap(&db, &sys(), &job.id, p.mapping.clone())
            .await
            .unwrap();
        assert!(fixed.mapping_errors.is_empty());
        let job = order_import::get_job(&db, &sys(), &job.id).await.unwrap();
        assert_eq!(
            (job.status.as_str(), job.total_rows, job.errors.len()),
            ("staged", 2, 1)
        );
        assert_eq!(count(&db, "select count(*) from sales_order").await, 0);
        let done = order_import::begin(&db, &sys(), &job.id)
            .await
            .unwrap()
            .run()
            .await
            .unwrap();
        assert_eq!(
            (
                done.status.as_str(),
                done.processed_rows,
                done.created_rows,
                done.failed_rows
            ),
            ("done", 2, 2, 0)
        );
        let again = order_import::begin(&db, &sys(), &job.id).await;
        assert!(matches!(
            again,
            Err(Error::Conflict {
                code: Conflict::ImportAlreadyStarted,
                ..
            })
        ));

        let o = orders::get_order(&db, &sys(), "SO-100001").await.unwrap();
        assert_eq!(
            (o.channel.as_str(), o.lines.len(), o.status.as_str()),
            ("AMZ", 2, "confirmed")
        );
        assert_eq!(o.lines[0].unit_price.to_string(), "10.00 USD");

        // The mapping is now the channel's; the same report again is replays.
        let p = order_import::preview(&db, &sys(), "AMZ", REPORT, None)
            .await
            .unwrap();
        assert!(p.mapping_saved);
        let (job, _) = order_import::stage(&db, &sys(), "AMZ", REPORT, None)
            .await
            .unwrap();
        let done = order_import::begin(&db, &sys(), &job.id)
            .await
            .unwrap()
            .run()
            .await
            .unwrap();
        assert_eq!((done.created_rows, done.unchanged_rows), (0, 2));
        assert_eq!(count(&db, "select count(*) from sales_order").await, 2);
        assert_eq!(
            count(
                &db,
                "select count(*) from event where event_type = 'channel.report_mapping_set'"
            )
            .await,
            1
        );
        assert_no_drift(&db).await;
    }
);
