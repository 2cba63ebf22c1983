//! Privacy: what about a customer is personal, when they may be erased, and
//! how a record is rewritten so that it no longer names them while its money,
//! stock and tax facts stay as they were.
//!
//! Erasure pseudonymises: the customer keeps an id (so their orders still
//! add up in reports) but loses every detail that identifies a person. Free
//! text written about the order (notes, hold details, fraud reasons) may
//! quote the customer, so it is erased too, and any other text has the
//! customer's own identifiers cut out of it.

use serde_json::Value;

use super::{Address, OrderStatus};

/// What an erased value reads as.
pub const ERASED: &str = "[erased]";

/// The name an erased customer goes by.
pub const ERASED_NAME: &str = "Erased customer";

/// Keys whose values are personal, or free text that may quote a person,
/// wherever they appear in a record of the customer's orders (audit rows,
/// event payloads). Country and region stay: tax is owed by destination.
const PERSONAL_KEYS: &[&str] = &[
    "name",
    "email",
    "customer_email",
    "customer_name",
    "phone",
    "company",
    "line1",
    "line2",
    "address1",
    "address2",
    "city",
    "postcode",
    "zip",
    "note",
    "detail",
    "body",
    "remote",
];

/// Identifiers shorter than this are left alone when cut out of free text:
/// a two-letter fragment would erase words that aren't about anyone.
const MIN_IDENTIFIER: usize = 3;

/// Whether an order in this state stops its customer being erased: Keel
/// still needs the address to ship it. Shipped, delivered, closed and
/// cancelled orders need nothing more from the customer.
pub fn blocks_erasure(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Received | OrderStatus::Confirmed | OrderStatus::InFulfilment
    )
}

/// The address an erased customer's order keeps: its country and region
/// (tax by destination and the figures by country depend on them), nothing
/// that finds a person.
pub fn erased_address(a: &Address) -> Address {
    let blank = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            ERASED.to_string()
        }
    };
    Address {
        name: blank(&a.name),
        line1: blank(&a.line1),
        line2: blank(&a.line2),
        city: blank(&a.city),
        region: a.region.clone(),
        postcode: String::new(),
        country: a.country.clone(),
        phone: blank(&a.phone),
    }
}

/// The email an erased customer is stored under: unique per customer, on a
/// reserved domain (RFC 2606) so nothing is ever sent to it.
pub fn erased_email(customer_id: &str) -> String {
    format!("erased-{customer_id}@erased.invalid")
}

/// The strings that identify one customer, to be cut out of any text about
/// their orders.
#[derive(Debug, Clone, Default)]
pub struct Identifiers(Vec<String>);

impl Identifiers {
    /// The customer's email, name and phone, and every part of every address
    /// they used that finds them (not country or region).
    pub fn of<'a>(
        email: &str,
        name: &str,
        phone: &str,
        addresses: impl IntoIterator<Item = &'a Address>,
    ) -> Self {
        let mut all: Vec<String> = vec![email.into(), name.into(), phone.into()];
        for a in addresses {
            all.extend([
                a.name.clone(),
                a.line1.clone(),
                a.line2.clone(),
                a.city.clone(),
                a.postcode.clone(),
                a.phone.clone(),
            ]);
        }
        let mut all: Vec<String> = all
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| s.chars().count() >= MIN_IDENTIFIER)
            .collect();
        // Longest first, so "Ana María López" goes before "Ana María" can
        // leave "López" behind.
        all.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        all.dedup();
        Self(all)
    }

    /// `text` with every identifier replaced by [`ERASED`].
    pub fn redact_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for id in &self.0 {
            if out.contains(id.as_str()) {
                out = out.replace(id.as_str(), ERASED);
            }
        }
        out
    }

    /// Rewrites a JSON record in place: the values of personal keys become
    /// [`ERASED`] and the customer's identifiers are cut out of every other
    /// string. Whether anything changed.
    pub fn redact_json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => {
                let redacted = self.redact_text(s);
                let changed = redacted != *s;
                *s = redacted;
                changed
            }
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, v| self.redact_json(v) | changed),
            Value::Object(map) => {
                let mut changed = false;
                for (key, v) in map.iter_mut() {
                    if PERSONAL_KEYS.contains(&key.as_str()) {
                        if let Value::String(s) = v {
                            if !s.is_empty() && s != ERASED {
                                *s = ERASED.into();
                                changed = true;
                            }
                            continue;
                        }
                    }
                    changed |= self.redact_json(v);
                }
                changed
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn address() -> Address {
        Address {
            name: "Ana María López".into(),
            line1: "Calle Mayor 5".into(),
            line2: String::new(),
            city: "Madrid".into(),
            region: "MD".into(),
            postcode: "28013".into(),
            country: "ES".into(),
            phone: "+34 600 000 000".into(),
        }
    }

    fn ids() -> Identifiers {
        Identifiers::of("ana@example.es", "Ana María López", "", [&address()])
    }

    #[test]
    fn open_orders_block_erasure_and_finished_ones_do_not() {
        let blocking: Vec<_> = OrderStatus::ALL
            .into_iter()
            .filter(|s| blocks_erasure(*s))
            .collect();
        assert_eq!(
            blocking,
            [
                OrderStatus::Received,
                OrderStatus::Confirmed,
                OrderStatus::InFulfilment
            ]
        );
    }

    #[test]
    fn an_erased_address_keeps_country_and_region_only() {
        let a = erased_address(&address());
        assert_eq!((a.country.as_str(), a.region.as_str()), ("ES", "MD"));
        assert_eq!(a.name, ERASED);
        assert_eq!(a.line1, ERASED);
        assert_eq!(a.line2, "", "an empty line stays empty");
        assert_eq!(a.postcode, "");
        assert_eq!(a.phone, ERASED);
    }

    #[test]
    fn erased_emails_are_unique_and_undeliverable() {
        assert_eq!(erased_email("c1"), "erased-c1@erased.invalid");
        assert_ne!(erased_email("c1"), erased_email("c2"));
    }

    #[test]
    fn identifiers_are_cut_out_of_free_text() {
        let text = "+30: 4 earlier orders from ana@example.es in the last 24 hours";
        assert_eq!(
            ids().redact_text(text),
            "+30: 4 earlier orders from [erased] in the last 24 hours"
        );
        // The longest identifier goes first, so no part of the name is left.
        assert_eq!(
            ids().redact_text("call Ana María López in Madrid"),
            "call [erased] in [erased]"
        );
        assert_eq!(ids().redact_text("nothing personal"), "nothing personal");
    }

    #[test]
    fn short_fragments_are_not_identifiers() {
        let ids = Identifiers::of("a@b.co", "Al", "", []);
        assert_eq!(ids.redact_text("Also Al"), "Also Al");
        assert_eq!(ids.redact_text("mail a@b.co"), "mail [erased]");
    }

    #[test]
    fn json_records_lose_personal_keys_and_identifiers() {
        let mut audit = json!({
            "name": "Ana María López", "line1": "Calle Mayor 5", "city": "Madrid",
            "postcode": "28013", "country": "ES", "region": "MD",
            "reason": "fraud_review",
            "history": [{"text": "from ana@example.es"}],
            "total": 12,
        });
        assert!(ids().redact_json(&mut audit));
        assert_eq!(
            audit,
            json!({
                "name": ERASED, "line1": ERASED, "city": ERASED, "postcode": ERASED,
                "country": "ES", "region": "MD", "reason": "fraud_review",
                "history": [{"text": "from [erased]"}], "total": 12,
            })
        );
        // Redacting again changes nothing.
        assert!(!ids().redact_json(&mut audit));
        let mut plain = json!({"status": "shipped", "detail": ""});
        assert!(!ids().redact_json(&mut plain));
    }
}
