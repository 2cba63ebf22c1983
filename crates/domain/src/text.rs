//! Small validated values that arrive as text or numbers from the outside:
//! SKUs, email addresses and quantities. Each has a fallible `parse` and no
//! public constructor, so an invalid one can't exist past the edge.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! string_newtype_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(serde::de::Error::custom)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// A stock-keeping unit code as channels send it. Case is preserved because
/// storefronts treat `Bar3` and `BAR3` as different products.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("a SKU can't be empty".into());
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(format!("a SKU is at most {} characters", Self::MAX_LEN));
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-_./+#".contains(*c)))
        {
            return Err(format!(
                "`{bad}` isn't allowed in a SKU: use letters, digits and - _ . / + #"
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype_serde!(Sku);

/// An email address, normalised to lower case so one customer or user is one
/// identity across channels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err("enter an email address".into());
        }
        if s.len() > 254 {
            return Err("an email address is at most 254 characters".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err("an email address needs an @".into());
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err("the part before @ must be 1 to 64 characters with no second @".into());
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(
                "the part before @ can't start or end with a dot or have two in a row".into(),
            );
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("an email address can't contain spaces".into());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !domain_ok {
            return Err(format!("`{domain}` isn't a valid domain"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
string_newtype_serde!(Email);

/// A whole, non-negative count of units. The upper bound keeps every sum of
/// quantities far from i64 overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Qty(i64);

impl Qty {
    pub const MAX: i64 = 1_000_000_000;

    pub fn parse(n: i64) -> Result<Self, String> {
        if n < 0 {
            return Err(format!("quantity can't be negative (got {n})"));
        }
        if n > Self::MAX {
            return Err(format!("quantity can't exceed {}", Self::MAX));
        }
        Ok(Self(n))
    }

    /// A quantity that must be at least one, as on an order line or a reservation.
    pub fn parse_positive(n: i64) -> Result<Self, String> {
        if n == 0 {
            return Err("quantity must be at least 1".into());
        }
        Self::parse(n)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Qty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        Qty::parse(n).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A cell as a spreadsheet may open it safely: text that a spreadsheet would
/// run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a leading `'`, which spreadsheets show as text. Plain
/// numbers (`-1.50`) stay as they are. [`from_spreadsheet`] undoes it, so an
/// export imports back unchanged.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.parse::<rust_decimal::Decimal>().is_ok();
    if risky && !number {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A cell read back from a spreadsheet: the `'` [`spreadsheet_safe`] put
/// before a formula character comes off; anything else is as written.
pub fn from_spreadsheet(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_defused_for_spreadsheets_and_come_back_unchanged() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-1+1", "'-1+1"),
            ("\tTab", "'\tTab"),
            ("-1.50", "-1.50"),
            ("Mug, blue", "Mug, blue"),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(spreadsheet_safe(cell), safe, "{cell}");
            assert_eq!(from_spreadsheet(&spreadsheet_safe(cell)), cell, "{cell}");
        }
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn skus_keep_case_and_reject_spaces() {
        assert_eq!(Sku::parse(" Bar3 ").unwrap().as_str(), "Bar3");
        assert_eq!(
            Sku::parse("IPOD2008GREEN").unwrap().as_str(),
            "IPOD2008GREEN"
        );
        assert!(Sku::parse("").unwrap_err().contains("empty"));
        assert!(Sku::parse("A B").unwrap_err().contains("` `"));
        assert!(Sku::parse(&"X".repeat(65)).unwrap_err().contains("64"));
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse(" Jon@Doe.CA ").unwrap().as_str(), "jon@doe.ca");
        for bad in [
            "",
            "jon",
            "jon@",
            "@doe.ca",
            "jon@doe",
            "jo n@doe.ca",
            "jon@-doe.ca",
            "a..b@x.io",
            "jon@doe..ca",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn quantities_are_bounded() {
        assert_eq!(Qty::parse(0).unwrap().get(), 0);
        assert!(Qty::parse(-1).unwrap_err().contains("negative"));
        assert!(Qty::parse_positive(0).unwrap_err().contains("at least 1"));
        assert!(Qty::parse(Qty::MAX + 1).is_err());
        assert!(serde_json::from_str::<Qty>("-3").is_err());
        assert!(serde_json::from_str::<Qty>("1.5").is_err());
    }

    proptest! {
        #[test]
        fn any_valid_sku_round_trips(s in "[A-Za-z0-9._/+#-]{1,64}") {
            let sku = Sku::parse(&s).unwrap();
            prop_assert_eq!(sku.as_str(), s.as_str());
            let json = serde_json::to_string(&sku).unwrap();
            prop_assert_eq!(serde_json::from_str::<Sku>(&json).unwrap(), sku);
        }

        #[test]
        fn parsed_emails_are_idempotent(local in "[a-z0-9]{1,20}", domain in "[a-z]{1,10}\\.[a-z]{2,5}") {
            let e = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
        }

        #[test]
        fn emails_never_contain_whitespace(s in "\\PC{0,40}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert!(!e.as_str().chars().any(char::is_whitespace));
                prop_assert!(e.as_str().contains('@'));
            }
        }
    }
}
