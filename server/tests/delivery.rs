//! Issue #4's delivery-robustness runs, at a small scale, through the `keel`
//! binary as an operator runs them: `keel bench replay` (three channels, every
//! order delivered three times, 5% out of order) and `keel bench crash` (a
//! `keel serve` child killed with SIGKILL half-way, restarted, everything
//! redelivered). Each run checks the database itself and exits non-zero when
//! an order is lost, duplicated or reserved twice; these tests hold it to that
//! on SQLite and on PostgreSQL.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use backend::testing::{fresh_pg_database, pg_admin_url};

/// Runs `keel bench <workload> --orders 300`; `database` is a PostgreSQL URL,
/// or `None` for the bench's own throwaway SQLite file.
fn bench(workload: &str, database: Option<&str>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keel"));
    cmd.args(["bench", workload, "--orders", "300", "--concurrency", "8"])
        .env("KEEL_CONFIG", "/nonexistent/keel.toml")
        .env("KEEL_LOG", "error");
    match database {
        Some(url) => cmd.env("KEEL_DATABASE_URL", url),
        None => cmd.env_remove("KEEL_DATABASE_URL"),
    };
    let out = cmd.output().expect("run keel bench");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "keel bench {workload} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn assert_replay(out: &str) {
    assert!(out.contains("answers: 600 × 200, 300 × 201"), "{out}");
    assert!(
        out.contains(
            "orders 300 (expected 300), duplicated external ids 0, acknowledged but missing 0"
        ),
        "{out}"
    );
    assert!(out.contains("reservations 300 for 300 reserved orders; units reserved 600, units on those orders 600"), "{out}");
    assert!(out.contains("keel check: 0 drift rows"), "{out}");
}

fn assert_crash(out: &str) {
    assert!(out.contains("server killed: signal: 9 (SIGKILL)"), "{out}");
    // The kill lands at the 150th acknowledgement; a few more may be answered
    // before the process is gone.
    let acked: usize = out
        .split("before the kill: ")
        .nth(1)
        .and_then(|r| r.split(" × 201").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!((150..300).contains(&acked), "{out}");
    assert!(
        out.contains(
            "orders 300 (expected 300), duplicated external ids 0, acknowledged but missing 0"
        ),
        "{out}"
    );
    assert!(out.contains("keel check: 0 drift rows"), "{out}");
}

#[test]
fn replayed_out_of_order_deliveries_make_one_order_each_on_sqlite() {
    assert_replay(&bench("replay", None));
}

#[test]
fn a_killed_server_loses_and_duplicates_nothing_on_sqlite() {
    assert_crash(&bench("crash", None));
}

/// Runs the workload on a fresh PostgreSQL database, when there is a cluster.
async fn on_postgres(workload: &'static str) -> Option<String> {
    let admin = pg_admin_url()?;
    let (url, drop_db) = fresh_pg_database(&admin).await;
    let out = tokio::task::spawn_blocking(move || bench(workload, Some(&url)))
        .await
        .unwrap();
    drop_db.await;
    Some(out)
}

#[tokio::test]
async fn replayed_out_of_order_deliveries_make_one_order_each_on_postgres() {
    if let Some(out) = on_postgres("replay").await {
        assert_replay(&out);
    }
}

#[tokio::test]
async fn a_killed_server_loses_and_duplicates_nothing_on_postgres() {
    if let Some(out) = on_postgres("crash").await {
        assert_crash(&out);
    }
}
