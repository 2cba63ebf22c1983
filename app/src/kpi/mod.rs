//! The KPI board and the dashboard's KPI strip.

pub mod api;
pub mod pages;
