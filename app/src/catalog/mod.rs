//! Products: the list, the new-product form, the product page with its
//! stock, and catalogue imports.

pub mod api;
pub mod pages;
