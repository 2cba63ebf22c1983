//! CPU-heavy work runs on tokio's blocking pool, a few at a time, so large
//! requests can't take the async workers every other request needs. Before
//! #19, two 100,000-row dry runs from one support user held `/healthz` for
//! 20 s, and a burst of sign-ins took the server from 90 MB to 2 GB (argon2
//! takes about 19 MiB per hash).

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Each kind of heavy work has its own permits, one per core, so a large
/// import never makes a sign-in wait.
#[derive(Clone, Copy)]
pub(crate) enum Pool {
    /// Reading CSV files: catalogue imports, order reports.
    Files,
    /// Hashing and checking passwords.
    Passwords,
}

fn permits(pool: Pool) -> &'static Semaphore {
    static FILES: OnceLock<Semaphore> = OnceLock::new();
    static PASSWORDS: OnceLock<Semaphore> = OnceLock::new();
    let cell = match pool {
        Pool::Files => &FILES,
        Pool::Passwords => &PASSWORDS,
    };
    cell.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Semaphore::new(cores)
    })
}

/// Runs `work` off the async runtime once a permit of `pool` is free.
pub(crate) async fn run<T: Send + 'static>(
    pool: Pool,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let _permit = permits(pool)
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("the heavy-work permits are closed: {e}")))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(format!("heavy work stopped: {e}")))?
}
