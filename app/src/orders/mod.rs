//! Orders: the workbench and one order, price lists, order-report imports,
//! the customers' portal lookup, and privacy requests.

pub mod api;
pub mod import;
pub mod pages;
pub mod portal;
pub mod prices;
pub mod privacy;
