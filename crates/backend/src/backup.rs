//! Backups while Keel serves, and restoring one elsewhere.
//!
//! - SQLite: `VACUUM INTO` writes a consistent copy from one read
//!   transaction while writers go on; restore checks the copy (integrity,
//!   Keel's migrations) and moves it into place atomically.
//! - PostgreSQL: `pg_dump --format=custom` (one snapshot, writers go on) and
//!   `pg_restore` into an empty database. Both come with PostgreSQL's client
//!   package (Debian: `postgresql-client`).
//!
//! Invariant: a restore never overwrites a database that holds Keel's
//! tables; restore into a new one and point Keel at it.

use std::path::Path;

use crate::{
    db::{Backend, Db},
    error::{Error, Result},
};

fn fail(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

/// Writes a backup of `db` to `file`, which must not exist yet.
pub async fn backup(db: &Db, file: &Path) -> Result<()> {
    if file.exists() {
        return Err(fail(
            "backup",
            format!("{} exists; choose a new file", file.display()),
        ));
    }
    match db.backend {
        Backend::Sqlite => {
            let target = file
                .to_str()
                .ok_or_else(|| fail("backup", "the file name is not UTF-8"))?;
            sqlx::query("VACUUM INTO $1")
                .bind(target)
                .execute(&db.pool)
                .await?;
            Ok(())
        }
        Backend::Postgres => {
            run(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--file",
                    &file.to_string_lossy(),
                    "--dbname",
                    db.url(),
                ],
            )
            .await
        }
    }
}

/// Restores `file` into the database at `url`, which must hold no Keel
/// tables yet (a new SQLite path, or an empty PostgreSQL database).
pub async fn restore(url: &str, file: &Path) -> Result<()> {
    if !file.is_file() {
        return Err(fail("restore", format!("{} is not a file", file.display())));
    }
    match Backend::from_url(url)? {
        Backend::Sqlite => restore_sqlite(url, file).await,
        Backend::Postgres => {
            let db = Db::connect(url).await?;
            let taken: Option<String> =
                sqlx::query_scalar("select cast(to_regclass('public.audit_log') as text)")
                    .fetch_one(&db.pool)
                    .await?;
            db.close().await;
            if taken.is_some() {
                return Err(fail(
                    "restore",
                    "the target database already holds Keel's tables; restore into an empty database",
                ));
            }
            run(
                "pg_restore",
                &[
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    url,
                    &file.to_string_lossy(),
                ],
            )
            .await
        }
    }
}

async fn restore_sqlite(url: &str, file: &Path) -> Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = Path::new(path.split_once('?').map_or(path, |(p, _)| p));
    if path.exists() {
        return Err(fail(
            "restore",
            format!(
                "{} exists; restore to a new path and point Keel at it",
                path.display()
            ),
        ));
    }
    // The copy is checked before it goes anywhere: a SQLite file whose pages
    // are intact and that Keel's migrations made.
    // One plain read-only connection: Keel's pool would switch the file to
    // WAL, which a read-only open can't.
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let check_url = format!("sqlite://{}?mode=ro", file.display());
    let mut copy = sqlx::AnyConnection::connect(&check_url).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?;
    let migrations: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations")
        .fetch_one(&mut copy)
        .await
        .map_err(|e| fail("restore", format!("not a Keel database ({e})")))?;
    copy.close().await?;
    if integrity != "ok" || migrations == 0 {
        return Err(fail(
            "restore",
            format!("the backup is damaged: {integrity}"),
        ));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| fail("restore", e))?;
    }
    // Copied beside the target, synced, then renamed: a crash leaves either
    // nothing or the whole database, never half of one.
    let partial = path.with_extension("restoring");
    std::fs::copy(file, &partial).map_err(|e| fail("restore", e))?;
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| fail("restore", e))?;
    std::fs::rename(&partial, path).map_err(|e| fail("restore", e))?;
    Ok(())
}

/// Runs a PostgreSQL client tool; its own error output is the message.
async fn run(tool: &'static str, args: &[&str]) -> Result<()> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out =
        tokio::task::spawn_blocking(move || std::process::Command::new(tool).args(&args).output())
            .await
            .map_err(|e| fail(tool, e))?
            .map_err(|e| {
                fail(
                    tool,
                    format!("{e} (install PostgreSQL's client tools: postgresql-client)"),
                )
            })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(tool, String::from_utf8_lossy(&out.stderr).trim()))
    }
}
