//! Read models of products and the catalogue's imports.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    /// `item` holds stock; `bundle` is made of `components`.
    pub kind: String,
    pub group: Option<String>,
    pub options: std::collections::BTreeMap<String, String>,
    pub gtin: Option<String>,
    pub unit: String,
    pub weight_g: Option<i64>,
    pub dimensions_mm: Option<crate::catalog::Dimensions>,
    pub tax_category: String,
    pub track_lots: bool,
    pub track_serials: bool,
    pub active: bool,
    pub prices: Vec<crate::catalog::Price>,
    pub components: Vec<Component>,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A row of the product list: enough to find the product and see its stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub kind: String,
    pub group: Option<String>,
    pub gtin: Option<String>,
    pub active: bool,
    pub on_hand: i64,
    pub available: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductFilter {
    /// SKU, name or GTIN contains (case-insensitive).
    pub q: Option<String>,
    /// `active` or `archived`.
    pub status: Option<String>,
    /// `item` or `bundle`.
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowError {
    /// The line in the file, counting the header as line 1.
    pub line: i64,
    pub sku: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJob {
    pub id: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub total_rows: i64,
    pub processed_rows: i64,
    pub created_rows: i64,
    pub updated_rows: i64,
    pub unchanged_rows: i64,
    pub failed_rows: i64,
    /// The first 500 row errors.
    pub errors: Vec<RowError>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// What an import would do, before anything is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub total_rows: i64,
    pub valid_rows: i64,
    pub errors: Vec<RowError>,
    /// The first rows as they will be read, for a person to eyeball.
    pub sample: Vec<ProductRow>,
}

impl Product {
    /// The CSV cells of the product, in `catalog::CSV_COLUMNS` order, using
    /// its first price, each safe to open in a spreadsheet
    /// (`text::spreadsheet_safe`).
    pub fn csv_row(&self) -> Vec<String> {
        self.csv_cells()
            .iter()
            .map(|c| crate::text::spreadsheet_safe(c).into_owned())
            .collect()
    }

    fn csv_cells(&self) -> Vec<String> {
        let p = self;
        let price = p.prices.first();
        let dims = p.dimensions_mm.as_ref();
        let num = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        vec![
            p.sku.clone(),
            p.name.clone(),
            p.group.clone().unwrap_or_default(),
            p.options
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";"),
            p.gtin.clone().unwrap_or_default(),
            p.unit.clone(),
            num(p.weight_g),
            num(dims.map(|d| d.length)),
            num(dims.map(|d| d.width)),
            num(dims.map(|d| d.height)),
            p.tax_category.clone(),
            price.map(|x| x.currency.clone()).unwrap_or_default(),
            price
                .map(|x| x.cost.amount().to_string())
                .unwrap_or_default(),
            price
                .map(|x| x.price.amount().to_string())
                .unwrap_or_default(),
            if p.active { "active" } else { "archived" }.to_string(),
            match (p.track_lots, p.track_serials) {
                (_, true) => "serials",
                (true, false) => "lots",
                _ => "none",
            }
            .to_string(),
            p.components
                .iter()
                .map(|c| format!("{}*{}", c.sku, c.quantity))
                .collect::<Vec<_>>()
                .join(";"),
        ]
    }
}
