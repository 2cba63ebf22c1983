//! Orders and channels: channel kinds and price lists here; capture, holds
//! and the order state machine in `capture`; the returns portal's proof of
//! ownership in `portal`; what erasing a customer keeps in `privacy`.

pub mod capture;
pub mod input;
pub mod portal;
pub mod privacy;
pub use capture::*;
pub use input::*;
pub use portal::*;
use serde::{Deserialize, Serialize};

use crate::{inventory::parse_code, money::Currency, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Web,
    Shopify,
    Woocommerce,
    Marketplace,
    B2b,
    Manual,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 6] = [
        Self::Web,
        Self::Shopify,
        Self::Woocommerce,
        Self::Marketplace,
        Self::B2b,
        Self::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Shopify => "shopify",
            Self::Woocommerce => "woocommerce",
            Self::Marketplace => "marketplace",
            Self::B2b => "b2b",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| format!("`{s}` is not a channel kind: use web, shopify, woocommerce, marketplace, b2b or manual"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewChannel {
    pub code: String,
    pub name: String,
    pub kind: ChannelKind,
    pub currency: Currency,
    /// Warehouse codes in priority order.
    pub warehouses: Vec<String>,
    /// The shared secret storefront webhooks are signed with.
    pub webhook_secret: Option<String>,
    /// Whether the channel's prices already include tax.
    pub prices_include_tax: bool,
}

/// `POST /api/v1/channels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    #[schemars(pattern(r"^[A-Za-z0-9-]{2,16}$"))]
    pub code: String,
    /// Defaults to the code.
    #[serde(default)]
    pub name: Option<String>,
    #[schemars(extend("enum" = ["web", "shopify", "woocommerce", "marketplace", "b2b", "manual"]))]
    pub kind: String,
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: String,
    /// Warehouse codes in priority order.
    #[serde(default)]
    pub warehouses: Vec<String>,
    /// The secret storefront webhooks are signed with; never returned.
    #[serde(default)]
    #[schemars(length(min = 8))]
    pub webhook_secret: Option<String>,
    #[serde(default)]
    pub prices_include_tax: bool,
}

impl ChannelInput {
    pub fn parse(&self) -> Result<NewChannel, Vec<FieldError>> {
        let name = self.name.clone().unwrap_or_else(|| self.code.clone());
        let mut errors = Vec::new();
        let secret = match self.webhook_secret.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) if s.len() < 8 || s.len() > 200 => {
                errors.push(FieldError::new(
                    "webhook_secret",
                    "a webhook secret is 8 to 200 characters",
                ));
                None
            }
            Some(s) => Some(s.to_string()),
        };
        match NewChannel::parse(
            &self.code,
            &name,
            &self.kind,
            &self.currency,
            &self.warehouses,
        ) {
            Ok(mut c) if errors.is_empty() => {
                c.webhook_secret = secret;
                c.prices_include_tax = self.prices_include_tax;
                Ok(c)
            }
            Ok(_) => Err(errors),
            Err(mut e) => {
                e.append(&mut errors);
                Err(e)
            }
        }
    }
}

impl NewChannel {
    pub fn parse(
        code: &str,
        name: &str,
        kind: &str,
        currency: &str,
        warehouses: &[String],
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let code = parse_code("code", code).map_err(|e| errors.push(e)).ok();
        let name = crate::inventory::parse_name("name", name)
            .map_err(|e| errors.push(e))
            .ok();
        let kind = ChannelKind::parse(kind)
            .map_err(|m| errors.push(FieldError::new("kind", m)))
            .ok();
        let currency = Currency::parse(currency)
            .map_err(|e| errors.push(FieldError::new("currency", e.to_string())))
            .ok();
        let mut codes = Vec::new();
        for (i, w) in warehouses.iter().enumerate() {
            match parse_code(&format!("warehouses[{i}]"), w) {
                Ok(c) if codes.contains(&c) => errors.push(FieldError::new(
                    format!("warehouses[{i}]"),
                    format!("{c} is listed twice"),
                )),
                Ok(c) => codes.push(c),
                Err(e) => errors.push(e),
            }
        }
        match (code, name, kind, currency) {
            (Some(code), Some(name), Some(kind), Some(currency)) if errors.is_empty() => Ok(Self {
                code,
                name,
                kind,
                currency,
                warehouses: codes,
                webhook_secret: None,
                prices_include_tax: false,
            }),
            _ => Err(errors),
        }
    }
}

/// `PUT /api/v1/channels/{code}/prices`: a channel's own prices, which win
/// over the catalogue price in the channel's currency. `price: null` removes
/// the channel's price for the SKU (the catalogue price applies again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceListInput {
    #[schemars(length(min = 1, max = 1000))]
    pub prices: Vec<PriceEntryInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceEntryInput {
    pub sku: String,
    /// A decimal in the channel's currency; null removes the channel's price, and the catalogue price applies again.
    pub price: Option<String>,
}

/// One validated change to a price list: the minor units, or `None` to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceChange {
    pub sku: String,
    pub price_minor: Option<i64>,
}

/// Changes per request: a price list is sent in parts, not as a file.
pub const MAX_PRICE_CHANGES: usize = 1000;

impl PriceListInput {
    /// Checks every entry in the channel's currency; all problems at once.
    pub fn parse(&self, currency: Currency) -> Result<Vec<PriceChange>, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.prices.is_empty() || self.prices.len() > MAX_PRICE_CHANGES {
            errors.push(FieldError::new(
                "prices",
                format!("send from 1 to {MAX_PRICE_CHANGES} prices"),
            ));
        }
        let mut changes: Vec<PriceChange> = Vec::new();
        for (i, e) in self.prices.iter().enumerate() {
            let sku = e.sku.trim().to_string();
            if sku.is_empty() {
                errors.push(FieldError::new(format!("prices[{i}].sku"), "is required"));
                continue;
            }
            if changes.iter().any(|c| c.sku == sku) {
                errors.push(FieldError::new(
                    format!("prices[{i}].sku"),
                    format!("{sku} appears twice; send one price per SKU"),
                ));
                continue;
            }
            let price_minor = match e.price.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(text) => match crate::Money::parse(text, currency) {
                    Ok(m) if m.minor() < 0 => {
                        errors.push(FieldError::new(
                            format!("prices[{i}].price"),
                            "can't be negative",
                        ));
                        continue;
                    }
                    Ok(m) => Some(m.minor()),
                    Err(err) => {
                        errors.push(FieldError::new(
                            format!("prices[{i}].price"),
                            err.to_string(),
                        ));
                        continue;
                    }
                },
            };
            changes.push(PriceChange { sku, price_minor });
        }
        if errors.is_empty() {
            Ok(changes)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_input_is_checked_field_by_field() {
        let ok = NewChannel::parse(
            "web",
            "Web store",
            "web",
            "usd",
            &["west".into(), "EAST".into()],
        )
        .unwrap();
        assert_eq!(ok.warehouses, vec!["WEST", "EAST"]);
        let errs =
            NewChannel::parse("w", "", "fax", "XXX", &["WEST".into(), "west".into()]).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["code", "name", "kind", "currency", "warehouses[1]"]
        );
    }

    #[test]
    fn a_price_list_change_is_checked_entry_by_entry_in_the_channel_currency() {
        let entry = |sku: &str, price: Option<&str>| PriceEntryInput {
            sku: sku.into(),
            price: price.map(String::from),
        };
        let usd = Currency::parse("USD").unwrap();
        let ok = PriceListInput {
            prices: vec![entry(" A-1 ", Some("12.50")), entry("B-2", None)],
        }
        .parse(usd)
        .unwrap();
        assert_eq!(
            ok,
            vec![
                PriceChange {
                    sku: "A-1".into(),
                    price_minor: Some(1250)
                },
                PriceChange {
                    sku: "B-2".into(),
                    price_minor: None
                },
            ]
        );
        let errs = PriceListInput {
            prices: vec![
                entry("", Some("1")),
                entry("A", Some("1.234")),
                entry("B", Some("-1")),
                entry("C", Some("ten")),
                entry("D", Some("1")),
                entry("D ", Some("2")),
            ],
        }
        .parse(usd)
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "prices[0].sku",
                "prices[1].price",
                "prices[2].price",
                "prices[3].price",
                "prices[5].sku"
            ]
        );
        assert!(PriceListInput { prices: vec![] }.parse(usd).is_err());
    }
}
