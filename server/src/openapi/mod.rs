//! The OpenAPI 3.1 document for `/api/v1`, generated from `ROUTES`. The
//! authorization matrix test walks the same table, so a documented route that
//! skips its permission check fails the build.

pub mod document;
pub mod routes;
pub mod schemas;

pub use document::*;
pub use routes::*;
