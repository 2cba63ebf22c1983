//! Orders and channels: capture from every door, the order list and its
//! saved views, holds, changes by people, the portal's lookup, and privacy
//! requests (export and erasure).
//!
//! Invariants:
//! - An order exists once per (channel, external id). A replay, concurrent or
//!   late, returns the order first captured and writes nothing.
//! - The order, its customer, its holds, its reservation, the audit rows and
//!   the events commit together or not at all.
//! - Stock is reserved with the conditional updates of `inventory`; when it
//!   can't be, the order is still captured, its lines backordered.
//! - A change names the version it was made against; a stale one is refused.
//! - A channel ships only from warehouses that exist; a portal visitor sees
//!   an order only with its number plus matching email or postcode.

pub use domain::views::{
    BulkAction, BulkResult, Channel, Order, OrderFilter, OrderSummary, SavedView,
};

mod answer;
pub mod bulk;
pub mod capture;
pub mod changes;
pub mod channels;
pub mod check;
pub mod edit;
pub mod history;
pub mod holds;
pub mod portal;
pub mod privacy;
pub mod read;
pub mod views;

pub use bulk::*;
pub use capture::*;
pub use changes::*;
pub use channels::*;
pub use history::*;
pub use holds::*;
pub use portal::*;
pub use read::*;
pub use views::*;
