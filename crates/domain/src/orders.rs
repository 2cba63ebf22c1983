//! Orders and channels: channel kinds and the returns-portal lookup for now;
//! capture, holds and the order state machine follow (#4).
//!
//! Invariant: a customer proves ownership of an order with its number plus the
//! email or shipping postcode on it, never with the number alone.

use serde::{Deserialize, Serialize};

use crate::{inventory::parse_code, money::Currency, text::Email, FieldError};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelInput {
    pub code: String,
    /// Defaults to the code.
    #[serde(default)]
    pub name: Option<String>,
    pub kind: String,
    pub currency: String,
    #[serde(default)]
    pub warehouses: Vec<String>,
    #[serde(default)]
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

/// How a portal visitor proves the order is theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Email(Email),
    Postcode(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLookup {
    pub number: String,
    pub proof: Proof,
}

/// Postcodes are compared without spaces and case, as people type them both ways.
pub fn normalize_postcode(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

impl PortalLookup {
    pub fn parse(number: &str, contact: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let number = number.trim().trim_start_matches('#').to_string();
        if number.is_empty() {
            errors.push(FieldError::new(
                "order",
                "enter your order number, as shown in your confirmation email",
            ));
        } else if number.len() > 40
            || !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            errors.push(FieldError::new(
                "order",
                "an order number has only letters, digits and -",
            ));
        }
        let contact = contact.trim();
        let proof = if contact.is_empty() {
            errors.push(FieldError::new(
                "contact",
                "enter the email address or postcode used on the order",
            ));
            None
        } else if contact.contains('@') {
            match Email::parse(contact) {
                Ok(e) => Some(Proof::Email(e)),
                Err(m) => {
                    errors.push(FieldError::new("contact", m));
                    None
                }
            }
        } else {
            let pc = normalize_postcode(contact);
            if pc.len() < 3
                || pc.len() > 10
                || !pc.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                errors.push(FieldError::new(
                    "contact",
                    "that is neither an email address nor a postcode",
                ));
                None
            } else {
                Some(Proof::Postcode(pc))
            }
        };
        match proof {
            Some(proof) if errors.is_empty() => Ok(Self { number, proof }),
            _ => Err(errors),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_accepts_email_or_postcode() {
        let l = PortalLookup::parse(" #1001 ", "Jon@Doe.ca").unwrap();
        assert_eq!(l.number, "1001");
        assert_eq!(l.proof, Proof::Email(Email::parse("jon@doe.ca").unwrap()));
        let p = PortalLookup::parse("KEEL-1", "sw1a 1aa").unwrap();
        assert_eq!(p.proof, Proof::Postcode("SW1A1AA".into()));
    }

    #[test]
    fn lookup_names_each_missing_field() {
        let errs = PortalLookup::parse("", "").unwrap_err();
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            vec!["order", "contact"]
        );
        let errs = PortalLookup::parse("1001", "x").unwrap_err();
        assert!(errs[0].message.contains("neither"));
        assert!(PortalLookup::parse("10 01", "jon@doe.ca").is_err());
    }

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
}
