//! Fulfillment in the command center: the floor at a glance and the
//! channels' sourcing rules. The floor's own screens are in `floor`.

pub mod api;
pub mod pages;
pub mod sourcing;
