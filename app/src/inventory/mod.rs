//! Stock that moves: cycle counts and their approvals, and transfers.

pub mod api;
pub mod pages;
