//! The OpenAPI 3.1 document for `/api/v1`, generated from the route
//! declarations (`http::api::ROUTES`) that the router and the access gate
//! read too.

pub mod document;
pub mod schemas;

pub use document::document;
