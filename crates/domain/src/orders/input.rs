//! What clients send to capture an order (`POST /api/v1/orders`, and what
//! storefront payloads and order reports are mapped to), as serde reads it:
//! the address, amounts, customer, lines, shipping and stated totals. The
//! rules that check it are `capture`'s.

use serde::{Deserialize, Serialize};

use crate::{
    money::{Currency, Money},
    FieldError,
};

/// A postal address as captured. Only what shipping needs is required.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct Address {
    pub name: String,
    #[serde(alias = "address1", alias = "address_1")]
    pub line1: String,
    #[serde(alias = "address2", alias = "address_2")]
    pub line2: String,
    pub city: String,
    #[serde(alias = "state", alias = "province_code")]
    pub region: String,
    #[serde(alias = "zip", alias = "postal_code")]
    pub postcode: String,
    /// ISO 3166-1 alpha-2.
    #[serde(alias = "country_code")]
    pub country: String,
    pub phone: String,
}

impl Address {
    /// Trims every field and upper-cases the country code.
    pub fn normalized(mut self) -> Self {
        for f in [
            &mut self.name,
            &mut self.line1,
            &mut self.line2,
            &mut self.city,
            &mut self.region,
            &mut self.postcode,
            &mut self.phone,
        ] {
            *f = f.trim().chars().take(200).collect();
        }
        self.country = self.country.trim().to_ascii_uppercase();
        self
    }

    /// What a carrier would refuse, in words (a hold's detail). Empty means
    /// shippable.
    pub fn problems(&self) -> Vec<String> {
        self.field_problems("")
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    /// The same problems, each on the field that causes it (`<prefix>.city`,
    /// or `city` with an empty prefix), for a form to show beside the field.
    pub fn field_problems(&self, prefix: &str) -> Vec<FieldError> {
        let at = |field: &str| {
            if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}.{field}")
            }
        };
        let mut out = Vec::new();
        if self.name.is_empty() {
            out.push(FieldError::new(
                at("name"),
                "the recipient's name is missing",
            ));
        }
        if self.line1.is_empty() {
            out.push(FieldError::new(
                at("line1"),
                "the street address is missing",
            ));
        }
        if self.city.is_empty() {
            out.push(FieldError::new(at("city"), "the city is missing"));
        }
        if self.country.len() != 2 || !self.country.chars().all(|c| c.is_ascii_uppercase()) {
            out.push(FieldError::new(
                at("country"),
                if self.country.is_empty() {
                    "the country is missing".to_string()
                } else {
                    format!("`{}` is not a two-letter ISO country code", self.country)
                },
            ));
        }
        // Most of the world's postal systems use postcodes; the few that don't
        // (e.g. IE before Eircode, HK) are an exception a person reviews.
        if self.postcode.is_empty() {
            out.push(FieldError::new(at("postcode"), "the postcode is missing"));
        }
        out
    }

    /// Identifies the same address typed the same way, so a customer's book
    /// doesn't fill with duplicates.
    pub fn fingerprint(&self) -> String {
        [
            &self.name,
            &self.line1,
            &self.line2,
            &self.city,
            &self.region,
            &self.postcode,
            &self.country,
        ]
        .iter()
        .map(|s| {
            s.to_lowercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("|")
    }

    pub fn one_line(&self) -> String {
        [
            self.name.as_str(),
            self.line1.as_str(),
            self.line2.as_str(),
            self.city.as_str(),
            self.region.as_str(),
            self.postcode.as_str(),
            self.country.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The most lines one order may have.
pub const MAX_LINES: usize = 500;

/// An amount as integrators send it: a decimal string, or the API's money
/// object. A JSON number is refused, because it has already been through a
/// float on the sender's side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum AmountIn {
    /// A decimal string, e.g. `24.00`.
    Text(String),
    Money {
        amount: String,
        currency: String,
    },
    #[schemars(skip)]
    Number(serde_json::Number),
}

impl AmountIn {
    pub(crate) fn parse(&self, field: &str, currency: Currency) -> Result<Money, FieldError> {
        let text = match self {
            AmountIn::Text(t) => t,
            AmountIn::Money {
                amount,
                currency: c,
            } => {
                if !c.trim().eq_ignore_ascii_case(currency.code()) {
                    return Err(FieldError::new(
                        field,
                        format!("is in {c}, but the order is in {currency}"),
                    ));
                }
                amount
            }
            AmountIn::Number(n) => {
                return Err(FieldError::new(
                    field,
                    format!("send amounts as decimal strings, e.g. \"{n}\", not JSON numbers"),
                ))
            }
        };
        let m = Money::parse(text, currency).map_err(|e| FieldError::new(field, e.to_string()))?;
        if m.minor() < 0 {
            return Err(FieldError::new(field, "can't be negative"));
        }
        Ok(m)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum CustomerIn {
    /// The customer's email alone.
    Email(String),
    Full {
        email: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        phone: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LineIn {
    pub sku: String,
    #[serde(default)]
    pub name: String,
    #[schemars(range(min = 1, max = 100_000))]
    pub quantity: i64,
    /// Price per unit. Without it the line is charged the channel's list
    /// price (GET /api/v1/channels/{code}/prices); a SKU with none is refused.
    #[serde(default)]
    pub unit_price: Option<AmountIn>,
    /// Discount on the whole line (not per unit).
    #[serde(default)]
    pub discount: Option<AmountIn>,
}

/// How the order ships: the address (nested as `address`, or given flat
/// beside `price` and `method`), what shipping costs, and the method.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippingIn {
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default, alias = "amount", alias = "cost")]
    pub price: Option<AmountIn>,
    #[serde(default, alias = "title")]
    pub method: String,
    #[serde(flatten, default)]
    pub flat: Address,
}

/// What the channel says the totals are. Any of them may be absent; those
/// present are checked against the lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default)]
pub struct StatedTotals {
    pub subtotal: Option<AmountIn>,
    pub discount: Option<AmountIn>,
    /// Tax the channel charged; used instead of Keel's regional rule.
    pub tax: Option<AmountIn>,
    pub total: Option<AmountIn>,
}

/// Idempotent by channel plus external_id: a replay answers 200 with the
/// original order. Problems that a person can fix (payment, fraud score,
/// address, totals that don't add up, unknown SKUs) capture the order on hold
/// rather than refusing it. Sourcing plans the stocked units into fulfillments
/// (one per warehouse, each with its reason: the channel's priority, ship
/// complete, else the fewest warehouses) and backorders the rest on the lines;
/// backorders are sourced automatically when stock arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    pub channel: String,
    #[schemars(length(min = 1, max = 100))]
    pub external_id: String,
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: String,
    pub customer: CustomerIn,
    #[schemars(length(min = 1, max = MAX_LINES))]
    pub lines: Vec<LineIn>,
    #[serde(default)]
    pub shipping: ShippingIn,
    #[serde(default)]
    pub billing_address: Option<Address>,
    #[schemars(extend("enum" = ["paid", "authorized", "pending", "failed"]))]
    pub payment_status: String,
    /// A discount on the whole order, on top of line discounts.
    #[serde(default)]
    pub discount: Option<AmountIn>,
    #[serde(default)]
    pub prices_include_tax: bool,
    /// What the channel computed; compared with Keel's recomputation.
    #[serde(default)]
    pub totals: StatedTotals,
    /// When the customer placed it (RFC 3339); now when absent.
    #[serde(default)]
    #[schemars(extend("format" = "date-time"))]
    pub placed_at: Option<String>,
    #[serde(default)]
    #[schemars(length(max = 2000))]
    pub note: String,
    #[serde(default)]
    pub tags: Vec<String>,
}
