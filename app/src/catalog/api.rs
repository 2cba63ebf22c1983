//! Server functions for the catalogue: the product list, one product with
//! its stock, and catalogue imports. Each calls one use case and holds no
//! rules.

use crate::problem::Problem;
use domain::views::Page;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything the product page shows, in one round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductView {
    pub product: domain::views::Product,
    pub stock: domain::views::Stock,
    pub bins: Vec<domain::views::BinStock>,
    /// ATP for every channel the viewer may see.
    pub channels: Vec<domain::views::Availability>,
    pub movements: Page<domain::views::Movement>,
    pub can_edit: bool,
    pub can_move_stock: bool,
}

#[server(prefix = "/sfn", endpoint = "products_page")]
pub async fn products_page(
    filter: domain::views::ProductFilter,
) -> Result<Page<domain::views::ProductRow>, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    backend::catalog::list_products(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}

#[server(prefix = "/sfn", endpoint = "product_detail")]
pub async fn product_detail(sku: String, cursor: Option<String>) -> Result<ProductView, Problem> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let fail = crate::ssr::fail;
    let product = backend::catalog::get_product(&db, &ctx, &sku)
        .await
        .map_err(fail)?;
    let stock = backend::inventory::stock(&db, &ctx, &sku)
        .await
        .map_err(fail)?;
    let bins = backend::inventory::bins_of(&db, &ctx, &sku)
        .await
        .map_err(fail)?;
    let mut channels = Vec::new();
    for c in backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(fail)?
    {
        channels.push(
            backend::inventory::availability(&db, &ctx, &c.code, &sku)
                .await
                .map_err(fail)?,
        );
    }
    let movements = backend::inventory::movements(&db, &ctx, &sku, Some(25), cursor.as_deref())
        .await
        .map_err(fail)?;
    Ok(ProductView {
        product,
        stock,
        bins,
        channels,
        movements,
        can_edit: ctx.actor.may(Permission::CatalogWrite),
        can_move_stock: ctx.actor.may(Permission::InventoryWrite),
    })
}

/// A catalogue import as its page shows it: the job, and while it is staged
/// the preview of what it will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportView {
    pub job: domain::views::ImportJob,
    pub preview: Option<domain::views::ImportPreview>,
}

#[server(prefix = "/sfn", endpoint = "import_status")]
pub async fn import_status(id: String) -> Result<ImportView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let job = backend::catalog::get_import(&db, &ctx, &id)
        .await
        .map_err(crate::ssr::fail)?;
    let preview = if job.status == "staged" {
        backend::catalog::staged_preview(&db, &ctx, &id)
            .await
            .map_err(crate::ssr::fail)?
    } else {
        None
    };
    Ok(ImportView { job, preview })
}
