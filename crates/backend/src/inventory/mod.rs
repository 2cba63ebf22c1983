//! Inventory use cases: warehouses and bins, the movement ledger with its
//! balances, reservations, transfers and cycle counts.
//!
//! Invariants (each re-derived from the ledger by [`check`]):
//! - the ledger (`stock_movement`) is insert-only; a bin balance is the sum of
//!   its movements, and a warehouse's on-hand is the sum of its bin balances;
//! - `reserved` is the sum of live reservation allocations and never exceeds
//!   what could be promised: every reservation is a conditional
//!   `UPDATE … WHERE on_hand - reserved - buffer >= n` with a rows-affected
//!   check, never a read followed by a write;
//! - a user scoped to some warehouses sees and moves stock only there.

pub mod adjustments;
pub mod check;
pub mod counts;
pub mod ledger;
pub mod receipts;
pub mod reservations;
pub mod stock;
pub mod transfers;
pub mod warehouses;

pub use adjustments::*;
pub use check::*;
pub use counts::*;
pub use domain::views::{Scanned, Warehouse};
pub use ledger::*;
pub use receipts::*;
pub use reservations::*;
pub use stock::*;
pub use transfers::*;
pub use warehouses::*;
