//! Fulfillment: an order's units planned per warehouse by sourcing, then
//! waved, picked by scan, packed into measured packages and shipped with
//! labels. Backordered units are sourced again as stock arrives.
//!
//! Invariants:
//! - Every open unit of a live order's line is in one open fulfilment or
//!   backordered on the line; `sales_order.backordered_units` is the sum of
//!   its lines' `backordered_quantity`.
//! - An open fulfilment's units are held in its warehouse by the order's
//!   reservation (reservation line i is order line i).
//! - Backorders are sourced oldest order first, in the same transaction as
//!   the stock that lets them ship, so a receipt can't be promised twice.
//! - A fulfilment in a wave (`picking` or `picked`) has pick tasks whose
//!   units, less what was shorted, equal its lines' units (components for
//!   bundles). Units stay in their bins on the ledger, held by the order's
//!   reservation, until the shipment takes them.
//! - A bin's units promised to unshipped tasks never exceed what it holds:
//!   waves take bins FEFO from what earlier waves left.
//! - A label exists only for a shipment, and a shipment only for a pack
//!   that verified: every picked unit in a package, every package weighed
//!   and measured.
//! - Every scan is idempotent by its key (`Idempotency-Key`), so a device
//!   replaying its offline queue can't pick or pack a unit twice.

pub mod labels;
pub mod pack;
pub mod pick;
pub mod records;
pub mod ship;
pub mod sourcing;
pub mod status;
pub mod steps;
pub mod waves;

pub use labels::*;
pub use pack::*;
pub use pick::*;
pub use ship::*;
pub use sourcing::*;
pub use status::*;
pub use waves::*;
