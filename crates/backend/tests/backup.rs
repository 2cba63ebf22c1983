//! Backups on both databases (#19, operations): one taken while orders pour
//! in restores into a new database that `keel check` finds clean, and one
//! taken at rest restores equal to its source, table by table and sum by sum.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use backend::{
    backup,
    db::Backend,
    governance::audit_chain,
    inventory, orders, store_test,
    testing::{
        fixtures::{channel, item, receive, sys, warehouse, web_order},
        fresh_pg_database, pg_admin_url,
    },
    Db,
};

/// What "equal" means: every table's row count and the ledger's sums.
async fn fingerprint(db: &Db) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in [
        "sales_order",
        "order_line",
        "stock_movement",
        "stock_level",
        "reservation",
        "event",
        "audit_log",
        "app_user",
        "product",
        "warehouse",
        "channel",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select cast(count(*) as bigint) from {table}"))
            .fetch_one(&db.pool)
            .await
            .unwrap();
        out.push((table.to_string(), n));
    }
    for (name, sql) in [
        (
            "moved units",
            "select cast(coalesce(sum(quantity), 0) as bigint) from stock_movement",
        ),
        (
            "order totals",
            "select cast(coalesce(sum(total_minor), 0) as bigint) from sales_order",
        ),
        (
            "last event",
            "select cast(coalesce(max(seq), 0) as bigint) from event",
        ),
    ] {
        out.push((
            name.to_string(),
            sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap(),
        ));
    }
    out
}

/// A new, empty database of the same kind, its URL and how to drop it.
async fn new_target(
    db: &Db,
    dir: &std::path::Path,
    name: &str,
) -> (
    String,
    Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
) {
    match db.backend {
        Backend::Sqlite => (format!("sqlite://{}/{name}.db", dir.display()), None),
        Backend::Postgres => {
            let (url, drop) = fresh_pg_database(&pg_admin_url().unwrap()).await;
            (url, Some(Box::pin(drop)))
        }
    }
}

async fn assert_clean(db: &Db) {
    assert!(inventory::check::check(db).await.unwrap().is_empty());
    assert!(orders::check::check(db).await.unwrap().is_empty());
    assert!(backend::governance::check_event_sequence(db)
        .await
        .unwrap()
        .is_empty());
    let chain = audit_chain::check_chain(db).await.unwrap();
    assert!(chain.drift.is_empty(), "{:?}", chain.drift);
}

store_test!(
    a_backup_of_a_busy_database_restores_clean_and_one_at_rest_restores_equal,
    |db: Db| async move {
        let dir =
            std::env::temp_dir().join(format!("keel-backup-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        warehouse(&db, "CENTRAL").await;
        channel(&db, ("WEB", "web", "USD"), &["CENTRAL"], None).await;
        item(&db, "A", "4.00").await;
        receive(&db, "CENTRAL", "A", 10_000).await;
        audit_chain::seal(&db).await.unwrap();

        // Busy: orders keep coming while the backup is taken.
        let writer = {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..60 {
                    orders::capture(
                        &db,
                        &sys(),
                        web_order(&format!("B-{i}"), &[("A", 1)]),
                        None,
                        None,
                    )
                    .await
                    .unwrap();
                }
            })
        };
        tokio::task::yield_now().await;
        let busy = dir.join("busy.backup");
        backup::backup(&db, &busy).await.unwrap();
        writer.await.unwrap();
        let (url, drop) = new_target(&db, &dir, "busy").await;
        backup::restore(&url, &busy).await.unwrap();
        let restored = Db::connect(&url).await.unwrap();
        restored.migrate().await.unwrap();
        assert_clean(&restored).await;
        restored.close().await;
        if let Some(d) = drop {
            d.await;
        }

        // At rest: equal to its source.
        audit_chain::seal(&db).await.unwrap();
        let rest = dir.join("rest.backup");
        backup::backup(&db, &rest).await.unwrap();
        // Never over an existing file, nor into a database that has Keel in it.
        assert!(backup::backup(&db, &rest).await.is_err());
        assert!(backup::restore(db.url(), &rest).await.is_err());
        let (url, drop) = new_target(&db, &dir, "rest").await;
        backup::restore(&url, &rest).await.unwrap();
        let restored = Db::connect(&url).await.unwrap();
        restored.migrate().await.unwrap();
        assert_clean(&restored).await;
        assert_eq!(fingerprint(&restored).await, fingerprint(&db).await);
        assert_eq!(
            audit_chain::check_chain(&restored).await.unwrap().head,
            audit_chain::check_chain(&db).await.unwrap().head
        );
        restored.close().await;
        if let Some(d) = drop {
            d.await;
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
);
