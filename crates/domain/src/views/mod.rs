//! Read models: the plain data that use cases return and that travels to the
//! browser as server-function results and API responses. No rules live here.

pub mod catalog;
pub mod exceptions;
pub mod fulfillment;
pub mod governance;
pub mod inventory;
pub mod kpi;
pub mod orders;
pub mod page;
pub mod privacy;
pub mod receiving;

pub use catalog::*;
pub use exceptions::*;
pub use fulfillment::*;
pub use governance::*;
pub use inventory::*;
pub use kpi::*;
pub use orders::*;
pub use page::*;
pub use privacy::*;
pub use receiving::*;
