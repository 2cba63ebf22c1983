//! The `keel` command line as an operator uses it, against a fresh SQLite file.

// A test fails by panicking: unwrapping is how it says what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn keel(db_url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keel"))
        .args(args)
        .env("KEEL_DATABASE_URL", db_url)
        .env("KEEL_CONFIG", "/nonexistent/keel.toml")
        .env_remove("KEEL_SEED_PASSWORD")
        .output()
        .expect("run keel");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn seed_prints_credentials_once_and_a_token_is_the_last_line() {
    let dir = std::env::temp_dir().join(format!("keel-cli-{}", uuid::Uuid::now_v7().simple()));
    let url = format!("sqlite://{}/keel.db", dir.display());

    let (ok, out, err) = keel(&url, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));

    let (ok, out, err) = keel(&url, &["seed"]);
    assert!(ok, "{err}");
    // Each account its own password, on its line (#19: one shared password
    // let any agent sign in as the admin).
    let passwords: Vec<(String, String)> = out
        .lines()
        .filter(|l| l.contains("@northwind.example"))
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells[1].to_string(), cells[2].to_string())
        })
        .collect();
    assert!(passwords.len() >= 5, "{out}");
    let (email, password) = passwords[0].clone();
    assert_eq!(email, "admin@northwind.example", "{out}");
    assert_eq!(password.len(), 20);
    let distinct: std::collections::BTreeSet<&String> = passwords.iter().map(|(_, p)| p).collect();
    assert_eq!(distinct.len(), passwords.len(), "{out}");
    let (ok, again, _) = keel(&url, &["seed"]);
    assert!(ok);
    assert!(
        again.contains("already seeded") && !again.contains(&password),
        "{again}"
    );

    let (ok, out, err) = keel(
        &url,
        &[
            "token",
            "create",
            "--name",
            "storefront",
            "--role",
            "manager",
        ],
    );
    assert!(ok, "{err}");
    let token = out.trim_end().lines().last().unwrap().to_string();
    assert!(token.starts_with("keel_"), "{out}");
    let (ok, _, err) = keel(&url, &["token", "create", "--name", "x", "--role", "owner"]);
    assert!(!ok);
    assert!(err.contains("role: `owner` is not a role"), "{err}");

    let (ok, out, err) = keel(&url, &["check"]);
    assert!(ok, "{err}");
    assert!(out.contains("no drift"), "{out}");

    // The printed credentials and token work against the API.
    let db = backend::Db::connect(&url).await.unwrap();
    let actor = backend::governance::token_actor(&db, &token)
        .await
        .unwrap()
        .expect("the token resolves");
    assert_eq!(actor.role, Some(domain::governance::Role::Manager));
    let anon = backend::Ctx::new(backend::Actor::anonymous(), None);
    assert!(backend::governance::sign_in(
        &db,
        &anon,
        "admin@northwind.example",
        &password,
        "cli-test"
    )
    .await
    .is_ok());
    // A lost password: a new one, printed once on the last line.
    let (ok, out, err) = keel(
        &url,
        &[
            "user",
            "reset-password",
            "--email",
            "admin@northwind.example",
        ],
    );
    assert!(ok, "{err}");
    let fresh = out.trim_end().lines().last().unwrap().to_string();
    assert_eq!(fresh.len(), 20, "{out}");
    for (attempt, works) in [(&password, false), (&fresh, true)] {
        let r = backend::governance::sign_in(
            &db,
            &anon,
            "admin@northwind.example",
            attempt,
            "cli-test-2",
        )
        .await;
        assert_eq!(r.is_ok(), works);
    }
    let (ok, _, err) = keel(
        &url,
        &[
            "user",
            "reset-password",
            "--email",
            "nobody@northwind.example",
        ],
    );
    assert!(!ok);
    assert!(err.contains("nobody@northwind.example"), "{err}");
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
