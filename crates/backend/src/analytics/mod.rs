//! Exception queues: the projection, its maintenance from the event stream,
//! and the people's side (list, assign, snooze, resolve).
//!
//! Invariants:
//! - The projector reads the outbox after `projection_cursor('exceptions')`
//!   and advances the cursor with a conditional update in the same
//!   transaction as the items it changes, so each event is applied once even
//!   with several instances; a loser of that update does nothing.
//! - It never copies an event into an item. It collects the records the
//!   events touched and re-evaluates them from their current rows through
//!   the pure rules (`domain::analytics`), so applying an event twice, or
//!   re-evaluating any record at any time, changes nothing.
//! - Conditions that become true with time alone (a pending payment past its
//!   window, an order with no progress, a pick past ship-by) are found by
//!   `sweep`, which re-evaluates only the records that can meet them: held
//!   orders, open orders old enough, and records with a live item.
//! - `check` recomputes every item from every record and reports where the
//!   projection differs.

pub mod gather;
pub mod projector;
pub mod queue;
pub mod work;

pub use projector::*;
pub use queue::*;
pub use work::*;
