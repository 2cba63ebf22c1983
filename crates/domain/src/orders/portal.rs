//! The returns portal's proof of ownership and its limits.
//!
//! Invariants: an order number alone proves nothing, because numbers are
//! sequential. The proof is what a shopper has at hand: the email on the
//! order, or the shipping postcode plus the order's total or the day it was
//! placed. Lookups are counted per order and per address before the proof is
//! checked, so guessing is throttled whether or not the order exists. A proven
//! lookup opens a short portal session for that one order.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

use crate::{
    money::{Money, MAX_AMOUNT},
    text::Email,
    FieldError,
};

/// How long a portal session lasts: long enough to start a return, short
/// enough that a shared phone doesn't keep the order open for the next person.
pub const PORTAL_SESSION_SECS: i64 = 30 * 60;
/// The window the limits below count in.
pub const PORTAL_WINDOW_SECS: i64 = 15 * 60;
/// Failed proofs for one order number in the window before it is locked. A
/// shopper mistyping a postcode gets several tries; a guesser gets no more.
pub const PORTAL_MAX_PER_ORDER: i64 = 5;
/// Lookups from one address in the window, proven or not: walking the
/// sequential numbers from one place stops here.
pub const PORTAL_MAX_PER_ADDRESS: i64 = 20;

/// With a postcode, the second thing the shopper knows about the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Total(Decimal),
    Date(NaiveDate),
}

/// How a portal visitor proves the order is theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Email(Email),
    Postcode { postcode: String, detail: Detail },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLookup {
    pub number: String,
    pub proof: Proof,
}

/// What Keel holds about an order that a proof is checked against.
#[derive(Debug, Clone)]
pub struct OrderFacts {
    pub email: String,
    pub postcode: String,
    pub total: Money,
    pub placed_at: DateTime<Utc>,
}

/// Postcodes are compared without spaces and case, as people type them both ways.
pub fn normalize_postcode(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

impl Proof {
    /// Whether the proof holds for the order. An order without an email or
    /// postcode can't be proven by that one.
    pub fn holds(&self, order: &OrderFacts) -> bool {
        match self {
            Proof::Email(e) => !order.email.is_empty() && e.as_str() == order.email.to_lowercase(),
            Proof::Postcode { postcode, detail } => {
                let postcode_matches = !order.postcode.trim().is_empty()
                    && *postcode == normalize_postcode(&order.postcode);
                postcode_matches
                    && match detail {
                        Detail::Total(t) => *t == order.total.amount(),
                        // The shopper knows the day in their own time zone,
                        // which can be a day either side of the UTC date.
                        Detail::Date(d) => {
                            let utc = order.placed_at.date_naive();
                            [
                                utc.checked_sub_days(Days::new(1)),
                                Some(utc),
                                utc.checked_add_days(Days::new(1)),
                            ]
                            .contains(&Some(*d))
                        }
                    }
            }
        }
    }
}

/// Reads the total or date typed beside a postcode: `2026-03-12`,
/// `12.03.2026`, or an amount such as `59.90`, `$59.90` or `59,90`.
fn parse_detail(text: &str) -> Result<Detail, &'static str> {
    const HOW: &str =
        "enter the order total (such as 59.90) or the date you ordered (such as 2026-03-12)";
    let text = text.trim();
    if text.is_empty() {
        return Err("with a postcode, also enter the order total or the date you ordered");
    }
    if text.len() > 32 {
        return Err(HOW);
    }
    for format in ["%Y-%m-%d", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(text, format) {
            return Ok(Detail::Date(d));
        }
    }
    let amount: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == ',')
        .collect();
    let rest_is_symbols = text.chars().all(|c| {
        c.is_ascii_digit() || c == '.' || c == ',' || c.is_whitespace() || !c.is_alphanumeric()
    });
    // `59,90` is a decimal comma; `1,059.90` has a thousands comma.
    let amount = if amount.contains('.') {
        amount.replace(',', "")
    } else {
        amount.replace(',', ".")
    };
    match Decimal::from_str(&amount) {
        Ok(d) if rest_is_symbols && d <= Decimal::from(MAX_AMOUNT) => {
            Ok(Detail::Total(d.normalize()))
        }
        _ => Err(HOW),
    }
}

impl PortalLookup {
    /// Reads the portal form: the order number, the email or postcode, and
    /// (with a postcode) the total or date.
    pub fn parse(number: &str, contact: &str, detail: &str) -> Result<Self, Vec<FieldError>> {
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
                match parse_detail(detail) {
                    Ok(detail) => Some(Proof::Postcode {
                        postcode: pc,
                        detail,
                    }),
                    Err(m) => {
                        errors.push(FieldError::new("detail", m));
                        None
                    }
                }
            }
        };
        match proof {
            Some(proof) if errors.is_empty() => Ok(Self { number, proof }),
            _ => Err(errors),
        }
    }
}

/// Whether another lookup may go ahead, given the attempts counted so far in
/// the window (this one included) for the order and for the address.
pub fn portal_lookup_allowed(for_order: i64, from_address: i64) -> bool {
    for_order <= PORTAL_MAX_PER_ORDER && from_address <= PORTAL_MAX_PER_ADDRESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;
    use chrono::TimeZone;

    fn facts() -> OrderFacts {
        OrderFacts {
            email: "Jon@Doe.ca".into(),
            postcode: "sw1a 1aa".into(),
            total: Money::from_minor(5990, Currency::parse("GBP").unwrap()),
            placed_at: Utc.with_ymd_and_hms(2026, 3, 12, 23, 30, 0).unwrap(),
        }
    }

    fn proof(number: &str, contact: &str, detail: &str) -> Proof {
        PortalLookup::parse(number, contact, detail).unwrap().proof
    }

    #[test]
    fn lookup_accepts_email_or_postcode_with_total_or_date() {
        let l = PortalLookup::parse(" #1001 ", "Jon@Doe.ca", "").unwrap();
        assert_eq!(l.number, "1001");
        assert_eq!(l.proof, Proof::Email(Email::parse("jon@doe.ca").unwrap()));
        assert_eq!(
            proof("KEEL-1", "sw1a 1aa", "£59.90"),
            Proof::Postcode {
                postcode: "SW1A1AA".into(),
                detail: Detail::Total(Decimal::new(599, 1))
            }
        );
        assert_eq!(
            proof("KEEL-1", "sw1a 1aa", "12.03.2026"),
            Proof::Postcode {
                postcode: "SW1A1AA".into(),
                detail: Detail::Date(NaiveDate::from_ymd_opt(2026, 3, 12).unwrap())
            }
        );
        assert!(matches!(
            proof("1", "80202", "1,059.90"),
            Proof::Postcode { detail: Detail::Total(t), .. } if t == Decimal::new(105990, 2)
        ));
        assert!(matches!(
            proof("1", "80202", "59,90 €"),
            Proof::Postcode { detail: Detail::Total(t), .. } if t == Decimal::new(599, 1)
        ));
    }

    #[test]
    fn lookup_names_each_missing_field() {
        let errs = PortalLookup::parse("", "", "").unwrap_err();
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            vec!["order", "contact"]
        );
        let errs = PortalLookup::parse("1001", "x", "").unwrap_err();
        assert!(errs[0].message.contains("neither"));
        assert!(PortalLookup::parse("10 01", "jon@doe.ca", "").is_err());
        // A postcode alone is guessable from a city: it needs a second detail.
        let errs = PortalLookup::parse("1001", "80202", "").unwrap_err();
        assert_eq!(errs[0].field, "detail");
        let errs = PortalLookup::parse("1001", "80202", "soon").unwrap_err();
        assert!(errs[0].message.contains("order total"));
        assert!(PortalLookup::parse("1001", "80202", "1e9999").is_err());
        assert!(PortalLookup::parse("1001", "80202", "99999999999").is_err());
    }

    #[test]
    fn proof_holds_only_with_both_parts_right() {
        let order = facts();
        assert!(proof("1", "jon@doe.ca", "").holds(&order));
        assert!(!proof("1", "jo@doe.ca", "").holds(&order));
        assert!(proof("1", "SW1A1AA", "59.90").holds(&order));
        assert!(proof("1", "SW1A1AA", "59.9").holds(&order));
        assert!(!proof("1", "SW1A1AA", "59.91").holds(&order));
        assert!(!proof("1", "SW1A1AB", "59.90").holds(&order));
        // The UTC day, and a day either side for the shopper's own time zone.
        for day in ["2026-03-11", "2026-03-12", "2026-03-13"] {
            assert!(proof("1", "SW1A1AA", day).holds(&order), "{day}");
        }
        assert!(!proof("1", "SW1A1AA", "2026-03-14").holds(&order));
        // An order without a postcode or email can't be proven by it.
        let bare = OrderFacts {
            email: String::new(),
            postcode: " ".into(),
            ..facts()
        };
        assert!(!proof("1", "SW1A1AA", "59.90").holds(&bare));
    }

    #[test]
    fn limits_count_the_attempt_being_made() {
        assert!(portal_lookup_allowed(PORTAL_MAX_PER_ORDER, 1));
        assert!(!portal_lookup_allowed(PORTAL_MAX_PER_ORDER + 1, 1));
        assert!(!portal_lookup_allowed(1, PORTAL_MAX_PER_ADDRESS + 1));
    }
}
