//! `keel bench <workload>`: generates its own data in a throwaway database (or
//! uses `KEEL_DATABASE_URL` when it points at PostgreSQL), runs a bounded load
//! over loopback, and prints throughput, latency percentiles, CPU time per
//! request and peak RSS.

mod api;
mod exceptions;
mod fulfillment;
mod harness;
mod plan;
mod replay;

pub use harness::Plan;
pub use plan::run;
