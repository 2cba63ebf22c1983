//! The command center's home (KPIs, exception tiles, the live event feed),
//! the audit viewer and user administration.

pub mod account;
pub mod api;
pub mod approvals;
pub mod pages;
