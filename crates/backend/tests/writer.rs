//! Store tests for write transactions: on SQLite they share commits (group
//! commit on one writer connection); on PostgreSQL they are plain pooled
//! transactions. Either way an acknowledged write is visible to everyone, and
//! a unit of work that fails or is dropped takes only its own work with it.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use backend::{store_test, Db};

store_test!(
    concurrent_writes_are_visible_once_acknowledged_and_failures_undo_only_themselves,
    |db: Db| async move {
        let mut tasks = Vec::new();
        for i in 0..120i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let name = format!("writer-test-{i}");
                let mut tx = db.write_tx().await.unwrap();
                sqlx::query("insert into sequence_counter (name, value) values ($1, $2)")
                    .bind(&name)
                    .bind(i)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                match i % 3 {
                    0 => {
                        tx.commit().await.unwrap();
                        // Acknowledged means visible on every other connection.
                        let seen: Option<i64> = sqlx::query_scalar(
                            "select value from sequence_counter where name = $1",
                        )
                        .bind(&name)
                        .fetch_optional(&db.pool)
                        .await
                        .unwrap();
                        assert_eq!(seen, Some(i), "{name} was acknowledged but is not visible");
                    }
                    1 => {
                        // A statement fails; the unit gives up and is dropped.
                        let again = sqlx::query(
                            "insert into sequence_counter (name, value) values ($1, 0)",
                        )
                        .bind(&name)
                        .execute(&mut *tx)
                        .await;
                        assert!(again.is_err(), "a duplicate key must fail");
                        drop(tx);
                    }
                    // Dropped without an error (a request that was cancelled).
                    _ => drop(tx),
                }
            }));
        }
        // A member waiting for a batch that nobody commits would hang: fail instead.
        tokio::time::timeout(Duration::from_secs(60), async {
            for t in tasks {
                t.await.unwrap();
            }
        })
        .await
        .expect("every unit of work ends");
        let names: Vec<String> = sqlx::query_scalar(
            "select name from sequence_counter where name like 'writer-test-%' order by value",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        let expected: Vec<String> = (0..120)
            .filter(|i| i % 3 == 0)
            .map(|i| format!("writer-test-{i}"))
            .collect();
        assert_eq!(names, expected);
    }
);

// The writer's turn exists only on SQLite (one writer connection shares its
// commits); a PostgreSQL unit of work takes a pooled connection and may be
// ready on its first poll, so there is nothing to wait for or to cancel.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_unit_of_work_cancelled_while_waiting_for_its_turn_leaves_no_one_waiting_for_it() {
    backend::testing::with_db(backend::testing::Target::Sqlite, |db: Db| async move {
        let mut tx = db.write_tx().await.unwrap();
        sqlx::query("insert into sequence_counter (name, value) values ('writer-cancelled', 1)")
            .execute(&mut *tx)
            .await
            .unwrap();
        // A request that gives up while another unit holds the turn: polled
        // once (it queues), then dropped.
        tokio::select! {
            biased;
            _ = db.write_tx() => panic!("the turn is taken; this unit must wait"),
            _ = std::future::ready(()) => {}
        }
        // Nobody waits now, so the holder commits its batch itself instead of
        // handing it on to the unit that left.
        tokio::time::timeout(Duration::from_secs(10), tx.commit())
            .await
            .expect("the commit waited for a unit of work that was cancelled")
            .unwrap();
        let seen: Option<i64> = sqlx::query_scalar(
            "select value from sequence_counter where name = 'writer-cancelled'",
        )
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        assert_eq!(seen, Some(1));
    })
    .await;
}
