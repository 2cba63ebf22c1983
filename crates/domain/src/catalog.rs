//! Catalogue rules: what a valid product, variant and bundle is, how a bundle's
//! availability follows from its components, and how a catalogue CSV row maps
//! onto a product.
//!
//! Invariants: a SKU and a GTIN each name at most one product; a bundle holds no
//! stock of its own and lists each component once, never itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{money::Currency, FieldError, Gtin, Money, Sku};

pub const TAX_CATEGORIES: [&str; 4] = ["standard", "reduced", "zero", "exempt"];
pub const UNITS: [&str; 6] = ["each", "pair", "pack", "set", "kg", "m"];

/// Millimetres.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimensions {
    #[schemars(range(min = 1, max = 10_000))]
    pub length: i64,
    #[schemars(range(min = 1, max = 10_000))]
    pub width: i64,
    #[schemars(range(min = 1, max = 10_000))]
    pub height: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: String,
    /// A decimal string in the currency, e.g. `9.00`.
    pub cost: String,
    /// A decimal string in the currency, e.g. `24.00`.
    pub price: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentInput {
    pub sku: String,
    #[schemars(range(min = 1, max = 1000))]
    pub quantity: i64,
}

/// A product as clients send it (`POST /api/v1/products`, forms, CSV rows).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    #[schemars(length(max = 64))]
    pub sku: String,
    #[schemars(length(max = 120))]
    pub name: String,
    /// GTIN-8/12/13/14; the check digit is verified.
    #[serde(default)]
    pub gtin: Option<String>,
    /// The style code variants share, e.g. `TEE-CLASSIC` for every size and colour.
    #[serde(default)]
    pub group: Option<String>,
    /// Variant options such as `{"size": "M", "colour": "Navy"}`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[serde(default)]
    #[schemars(extend("enum" = ["each", "pair", "pack", "set", "kg", "m"]))]
    pub unit: Option<String>,
    #[serde(default)]
    #[schemars(range(min = 0, max = 1_000_000))]
    pub weight_g: Option<i64>,
    #[serde(default)]
    pub dimensions_mm: Option<Dimensions>,
    #[serde(default)]
    #[schemars(extend("enum" = ["standard", "reduced", "zero", "exempt"]))]
    pub tax_category: Option<String>,
    #[serde(default)]
    pub track_lots: Option<bool>,
    /// Implies `track_lots`.
    /// Each unit has its own serial number (received as a lot of one).
    #[serde(default)]
    pub track_serials: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub prices: Vec<PriceInput>,
    /// Present and non-empty for a bundle or kit.
    #[serde(default)]
    pub components: Vec<ComponentInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub currency: String,
    pub cost: Money,
    pub price: Money,
}

/// A validated product. Fields are what gets stored; `components` is empty for
/// a stock-holding item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewProduct {
    pub sku: Sku,
    pub name: String,
    pub gtin: Option<Gtin>,
    pub group: Option<String>,
    pub options: BTreeMap<String, String>,
    pub unit: String,
    pub weight_g: Option<i64>,
    pub dimensions_mm: Option<Dimensions>,
    pub tax_category: String,
    pub track_lots: bool,
    pub track_serials: bool,
    pub active: bool,
    pub prices: Vec<Price>,
    pub components: Vec<(Sku, i64)>,
}

impl NewProduct {
    pub fn is_bundle(&self) -> bool {
        !self.components.is_empty()
    }

    /// `bundle` when it has components, else `item`: what `product.kind` holds.
    pub fn kind(&self) -> &'static str {
        if self.is_bundle() {
            "bundle"
        } else {
            "item"
        }
    }

    /// Checks every field and reports every problem at once, each under the
    /// JSON path of the input that caused it.
    pub fn parse(input: &ProductInput) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut err = |f: &str, m: String| errors.push(FieldError::new(f, m));
        let sku = Sku::parse(&input.sku).map_err(|m| err("sku", m)).ok();
        let name = crate::inventory::parse_name("name", &input.name)
            .map_err(|e| err("name", e.message))
            .ok();
        let gtin = match input.gtin.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) => Gtin::parse(g).map_err(|e| err("gtin", e.to_string())).ok(),
        };
        let group = match input.group.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) => match Sku::parse(g) {
                Ok(g) => Some(g.as_str().to_string()),
                Err(m) => {
                    err("group", m.replace("SKU", "group code"));
                    None
                }
            },
        };
        let options = parse_options(&input.options, &mut err);
        let unit = input.unit.as_deref().map(str::trim).unwrap_or("each");
        let unit = if UNITS.contains(&unit) {
            unit.to_string()
        } else {
            err("unit", format!("use one of {}", UNITS.join(", ")));
            String::new()
        };
        check_measures(input, &mut err);
        let tax = input
            .tax_category
            .as_deref()
            .map(str::trim)
            .unwrap_or("standard");
        if !TAX_CATEGORIES.contains(&tax) {
            err(
                "tax_category",
                format!("use one of {}", TAX_CATEGORIES.join(", ")),
            );
        }
        let mut prices = parse_prices(&input.prices, &mut err);
        let components = parse_components(&input.components, sku.as_ref(), &mut err);
        let track_serials = input.track_serials.unwrap_or(false);
        // A serial is a lot of one: serial tracking implies lot tracking.
        let track_lots = input.track_lots.unwrap_or(false) || track_serials;
        if track_lots && !input.components.is_empty() {
            err(
                "track_lots",
                "a bundle has no stock of its own; track lots on its components".into(),
            );
        }
        // A missing SKU or name has recorded its error above.
        let (Some(sku), Some(name)) = (sku, name) else {
            return Err(errors);
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        prices.sort_by(|a, b| a.currency.cmp(&b.currency));
        Ok(Self {
            sku,
            name,
            gtin,
            group,
            options,
            unit,
            weight_g: input.weight_g,
            dimensions_mm: input.dimensions_mm.clone(),
            tax_category: tax.to_string(),
            track_lots,
            track_serials,
            active: input.active.unwrap_or(true),
            prices,
            components,
        })
    }
}

/// An error under its field's JSON path; the parser collects them all.
type Report<'a> = &'a mut dyn FnMut(&str, String);

/// Option names are lower-cased; each needs a name and a value.
fn parse_options(input: &BTreeMap<String, String>, err: Report) -> BTreeMap<String, String> {
    let mut options = BTreeMap::new();
    for (k, v) in input {
        let (k, v) = (k.trim().to_lowercase(), v.trim().to_string());
        if k.is_empty() || k.len() > 32 || v.is_empty() || v.chars().count() > 64 {
            err(
                &format!("options.{k}"),
                "an option needs a name (1–32 characters) and a value (1–64)".into(),
            );
        } else {
            options.insert(k, v);
        }
    }
    options
}

/// The weight and each side within what a parcel carrier takes.
fn check_measures(input: &ProductInput, err: Report) {
    if let Some(w) = input.weight_g {
        if !(0..=1_000_000).contains(&w) {
            err("weight_g", "use grams from 0 to 1,000,000".into());
        }
    }
    if let Some(d) = &input.dimensions_mm {
        for (f, v) in [
            ("length", d.length),
            ("width", d.width),
            ("height", d.height),
        ] {
            if !(1..=10_000).contains(&v) {
                err(
                    &format!("dimensions_mm.{f}"),
                    "use millimetres from 1 to 10,000".into(),
                );
            }
        }
    }
}

/// One price per currency, in that currency's minor units, never negative.
fn parse_prices(input: &[PriceInput], err: Report) -> Vec<Price> {
    let mut prices: Vec<Price> = Vec::new();
    for (i, p) in input.iter().enumerate() {
        let field = |f: &str| format!("prices[{i}].{f}");
        let Ok(currency) = Currency::parse(p.currency.trim()) else {
            err(
                &field("currency"),
                format!("`{}` is not an ISO 4217 currency code", p.currency.trim()),
            );
            continue;
        };
        if prices.iter().any(|q| q.currency == currency.code()) {
            err(
                &field("currency"),
                format!("{} is listed twice", currency.code()),
            );
            continue;
        }
        let money =
            |f: &str, v: &str, err: &mut dyn FnMut(&str, String)| match Money::parse(v, currency) {
                Ok(m) if m.minor() >= 0 => Some(m),
                Ok(_) => {
                    err(&field(f), "can't be negative".into());
                    None
                }
                Err(e) => {
                    err(&field(f), e.to_string());
                    None
                }
            };
        let cost = money("cost", &p.cost, err);
        let price = money("price", &p.price, err);
        if let (Some(cost), Some(price)) = (cost, price) {
            prices.push(Price {
                currency: currency.code().to_string(),
                cost,
                price,
            });
        }
    }
    prices
}

/// A bundle's components: other SKUs, each once, 1 to 1000 of them.
fn parse_components(input: &[ComponentInput], sku: Option<&Sku>, err: Report) -> Vec<(Sku, i64)> {
    let mut components: Vec<(Sku, i64)> = Vec::new();
    for (i, c) in input.iter().enumerate() {
        match Sku::parse(&c.sku) {
            Ok(s) if Some(&s) == sku => err(
                &format!("components[{i}].sku"),
                "a bundle can't contain itself".into(),
            ),
            Ok(s) if components.iter().any(|(x, _)| *x == s) => err(
                &format!("components[{i}].sku"),
                format!("{s} is listed twice; give it one line with the total quantity"),
            ),
            Ok(s) => {
                if (1..=1000).contains(&c.quantity) {
                    components.push((s, c.quantity));
                } else {
                    err(
                        &format!("components[{i}].quantity"),
                        "use a whole number from 1 to 1000".into(),
                    );
                }
            }
            Err(m) => err(&format!("components[{i}].sku"), m),
        }
    }
    components
}

/// How many whole bundles the components make: 2×A + 1×B with 7 A and 5 B is
/// min(7/2, 5/1) = 3. Each entry is (quantity per bundle, units available);
/// a short component (negative availability) makes none.
pub fn bundle_available(components: &[(i64, i64)]) -> i64 {
    components
        .iter()
        .map(|&(per, avail)| if per > 0 { avail.max(0) / per } else { 0 })
        .min()
        .unwrap_or(0)
}

/// The catalogue CSV columns, in export order. Import accepts them in any
/// order; only `sku` and `name` are required.
pub const CSV_COLUMNS: [&str; 17] = [
    "sku",
    "name",
    "group",
    "options",
    "gtin",
    "unit",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "tax_category",
    "currency",
    "cost",
    "price",
    "status",
    "tracking",
    "components",
];

/// Maps one CSV record (column name → cell) onto a product input. `options`
/// are `size=M;colour=Navy`, `components` are `SKU*2;SKU2*1`, `status` is
/// `active` or `archived`, `tracking` is `none`, `lots` or `serials`.
pub fn product_from_csv(cell: impl Fn(&str) -> String) -> Result<ProductInput, Vec<FieldError>> {
    let mut errors = Vec::new();
    let int = |col: &str, errors: &mut Vec<FieldError>| -> Option<i64> {
        let v = cell(col);
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        v.parse::<i64>()
            .map_err(|_| errors.push(FieldError::new(col, format!("`{v}` is not a whole number"))))
            .ok()
    };
    let weight_g = int("weight_g", &mut errors);
    let (l, w, h) = (
        int("length_mm", &mut errors),
        int("width_mm", &mut errors),
        int("height_mm", &mut errors),
    );
    let dimensions_mm = match (l, w, h) {
        (None, None, None) => None,
        (Some(length), Some(width), Some(height)) => Some(Dimensions {
            length,
            width,
            height,
        }),
        _ => {
            errors.push(FieldError::new(
                "length_mm",
                "give all three dimensions or none",
            ));
            None
        }
    };
    let mut options = BTreeMap::new();
    for pair in cell("options").split(';').filter(|p| !p.trim().is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) => {
                options.insert(k.trim().to_string(), v.trim().to_string());
            }
            None => errors.push(FieldError::new(
                "options",
                format!("`{}` should be name=value", pair.trim()),
            )),
        }
    }
    let mut components = Vec::new();
    for part in cell("components")
        .split(';')
        .filter(|p| !p.trim().is_empty())
    {
        let (sku, qty) = part.split_once('*').unwrap_or((part, "1"));
        match qty.trim().parse::<i64>() {
            Ok(quantity) => components.push(ComponentInput {
                sku: sku.trim().to_string(),
                quantity,
            }),
            Err(_) => errors.push(FieldError::new(
                "components",
                format!("`{}` should be SKU*quantity", part.trim()),
            )),
        }
    }
    let active = match cell("status").trim() {
        "" | "active" => true,
        "archived" => false,
        other => {
            errors.push(FieldError::new(
                "status",
                format!("`{other}` should be active or archived"),
            ));
            true
        }
    };
    let (currency, cost, price) = (cell("currency"), cell("cost"), cell("price"));
    let prices = if currency.trim().is_empty() && cost.trim().is_empty() && price.trim().is_empty()
    {
        Vec::new()
    } else {
        vec![PriceInput {
            currency,
            cost: if cost.trim().is_empty() {
                "0".into()
            } else {
                cost
            },
            price,
        }]
    };
    let tracking = cell("tracking").trim().to_lowercase();
    if !matches!(tracking.as_str(), "" | "none" | "lots" | "serials") {
        errors.push(FieldError::new(
            "tracking",
            format!("`{tracking}` should be none, lots or serials"),
        ));
    }
    let opt = |col: &str| Some(cell(col)).filter(|v| !v.trim().is_empty());
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ProductInput {
        sku: cell("sku"),
        name: cell("name"),
        gtin: opt("gtin"),
        group: opt("group"),
        options,
        unit: opt("unit"),
        weight_g,
        dimensions_mm,
        tax_category: opt("tax_category"),
        track_lots: Some(matches!(tracking.as_str(), "lots" | "serials")),
        track_serials: Some(tracking == "serials"),
        active: Some(active),
        prices,
        components,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(sku: &str) -> ProductInput {
        ProductInput {
            sku: sku.into(),
            name: "Classic tee".into(),
            ..Default::default()
        }
    }

    #[test]
    fn bundle_availability_is_the_scarcest_component() {
        assert_eq!(bundle_available(&[(2, 7), (1, 5)]), 3);
        assert_eq!(bundle_available(&[(2, 7), (1, 0)]), 0);
        assert_eq!(bundle_available(&[(3, -2)]), 0);
        assert_eq!(bundle_available(&[]), 0);
    }

    #[test]
    fn a_valid_product_parses_with_defaults() {
        let p = NewProduct::parse(&input("TEE-M")).unwrap();
        assert_eq!(
            (p.unit.as_str(), p.tax_category.as_str(), p.active),
            ("each", "standard", true)
        );
        assert!(!p.is_bundle());
    }

    #[test]
    fn every_problem_is_reported_under_its_field() {
        let mut i = input("bad sku");
        i.name = "".into();
        i.gtin = Some("4006381333932".into());
        i.prices = vec![PriceInput {
            currency: "USD".into(),
            cost: "1.234".into(),
            price: "-1".into(),
        }];
        i.components = vec![ComponentInput {
            sku: "A".into(),
            quantity: 0,
        }];
        let errs = NewProduct::parse(&i).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "sku",
                "name",
                "gtin",
                "prices[0].cost",
                "prices[0].price",
                "components[0].quantity"
            ]
        );
        assert!(errs[2].message.contains("expected 1, got 2"), "{errs:?}");
    }

    #[test]
    fn a_bundle_cannot_contain_itself_or_repeat_a_component() {
        let mut i = input("KIT");
        i.components = vec![
            ComponentInput {
                sku: "KIT".into(),
                quantity: 1,
            },
            ComponentInput {
                sku: "A".into(),
                quantity: 1,
            },
            ComponentInput {
                sku: "A".into(),
                quantity: 2,
            },
        ];
        let errs = NewProduct::parse(&i).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs[0].message.contains("itself"));
        assert!(errs[1].message.contains("twice"));
    }

    #[test]
    fn csv_rows_map_onto_inputs() {
        let row: BTreeMap<&str, &str> = [
            ("sku", "TEE-NAVY-M"),
            ("name", "Tee"),
            ("options", "size=M; colour=Navy"),
            ("currency", "USD"),
            ("price", "19.99"),
            ("components", ""),
            ("status", "archived"),
        ]
        .into();
        let cell = |c: &str| row.get(c).unwrap_or(&"").to_string();
        let i = product_from_csv(cell).unwrap();
        assert_eq!(i.options.get("colour").map(String::as_str), Some("Navy"));
        assert_eq!(i.active, Some(false));
        let p = NewProduct::parse(&i).unwrap();
        assert_eq!(p.prices[0].price.minor(), 1999);
        assert_eq!(p.prices[0].cost.minor(), 0);

        let bad: BTreeMap<&str, &str> = [("sku", "X"), ("weight_g", "heavy")].into();
        let errs = product_from_csv(|c| bad.get(c).unwrap_or(&"").to_string()).unwrap_err();
        assert_eq!(errs[0].field, "weight_g");
    }
}
