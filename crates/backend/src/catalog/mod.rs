//! Catalogue use cases: products, variants, bundles and prices
//! (`products`), and the CSV import and export (`import`, `products`).
//!
//! Invariants: SKU and GTIN are unique; a bundle's components are stock-holding
//! items (no bundles of bundles), and a product that holds stock can't become a
//! bundle. Every create and edit writes its audit row and event in the same
//! transaction; an import does so per product, in batches.

pub mod import;
pub mod products;

pub use import::{
    begin_import, get_import, prepare_import, preview_import, stage_import, staged_preview,
    PreparedImport, IMPORT_MAX_ROWS,
};
pub(crate) use import::{fail_job, import_job};
pub use products::{
    create_product, export_csv, get_product, list_products, update_product, ProductUpdate,
};
