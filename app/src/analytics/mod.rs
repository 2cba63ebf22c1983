//! The exception queues: the page, its live counts and the dashboard tiles.

pub mod api;
pub mod pages;
