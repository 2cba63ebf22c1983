//! Orders: the workbench and one order, price lists, order-report imports,
//! and the customers' portal lookup.

pub mod api;
pub mod import;
pub mod pages;
pub mod portal;
pub mod prices;
