//! Money: an exact decimal amount in an ISO 4217 currency.
//!
//! Invariants: the amount never has more decimal places than the currency's
//! minor unit (EUR 2, JPY 0, KWD 3), so every amount converts losslessly to the
//! integer minor units the database stores. Arithmetic never mixes currencies
//! and never overflows silently. There is no float anywhere on this path.

use std::{fmt, str::FromStr};

use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Active ISO 4217 codes with their minor units. Codes not listed are rejected,
/// because guessing the minor unit would misstate amounts by a factor of 100.
#[rustfmt::skip]
const CURRENCIES: &[(&str, u32)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("ANG", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3), ("BIF", 0),
    ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2),
    ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLF", 4), ("CLP", 0), ("CNY", 2), ("COP", 2),
    ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2),
    ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2),
    ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2),
    ("HTG", 2), ("HUF", 2), ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
    ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2),
    ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2),
    ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2),
    ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2), ("MYR", 2), ("MZN", 2),
    ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2),
    ("PEN", 2), ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2),
    ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2),
    ("SGD", 2), ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2),
    ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2), ("TRY", 2),
    ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2), ("UYI", 0), ("UYU", 2),
    ("UYW", 4), ("UZS", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAF", 0), ("XCD", 2),
    ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
];

/// An ISO 4217 currency. Holds an index into the table, so it is `Copy` and
/// can't name an unknown code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(u16);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .position(|(c, _)| *c == upper)
            .map(|i| Currency(i as u16))
            .ok_or_else(|| MoneyError::UnknownCurrency(code.chars().take(16).collect()))
    }

    pub fn code(self) -> &'static str {
        CURRENCIES[self.0 as usize].0
    }

    /// Digits after the decimal point in this currency's minor unit.
    pub fn minor_units(self) -> u32 {
        CURRENCIES[self.0 as usize].1
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("`{0}` is not a decimal amount")]
    NotANumber(String),
    #[error("{amount} has more decimal places than {currency} allows ({allowed})")]
    TooPrecise {
        amount: String,
        currency: &'static str,
        allowed: u32,
    },
    #[error("amount is out of range")]
    Overflow,
    #[error("use an amount from -{limit} to {limit}", limit = MAX_AMOUNT_TEXT)]
    OutOfRange,
    #[error("can't combine {left} with {right}")]
    CurrencyMismatch {
        left: &'static str,
        right: &'static str,
    },
}

/// The largest amount Keel takes from outside, in major units of any
/// currency, either sign: a billion. It bounds prices, discounts, shipping,
/// stated totals and an order's computed totals, so with quantities bounded
/// too a line's worth stays far inside i64 minor units. Sums are still
/// checked; the bound is what makes a refusal name the field.
pub const MAX_AMOUNT: i64 = 1_000_000_000;
/// [`MAX_AMOUNT`] as people read it.
pub const MAX_AMOUNT_TEXT: &str = "1,000,000,000";

/// An amount in integer minor units plus its currency. Keeping minor units as the
/// representation makes equality exact and storage lossless.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::from_minor(0, currency)
    }

    /// Parses a decimal string from outside, such as `"12.34"`, within
    /// [`MAX_AMOUNT`]. Trailing zeros beyond the minor unit are fine
    /// (`"12.340"` EUR); significant extra digits are not.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        match Self::parse_any(amount, currency) {
            Ok(m) => m.within_limit(),
            Err(MoneyError::Overflow) => Err(MoneyError::OutOfRange),
            Err(e) => Err(e),
        }
    }

    /// This amount, or [`MoneyError::OutOfRange`] when it is beyond
    /// [`MAX_AMOUNT`] either side of zero.
    pub fn within_limit(self) -> Result<Self, MoneyError> {
        let limit = u64::try_from(MAX_AMOUNT)
            .ok()
            .and_then(|l| l.checked_mul(10_u64.pow(self.currency.minor_units())));
        match limit {
            Some(limit) if self.minor.unsigned_abs() <= limit => Ok(self),
            _ => Err(MoneyError::OutOfRange),
        }
    }

    /// Parses any amount an i64 of minor units holds: the wire form of
    /// Keel's own figures (a sum may pass [`MAX_AMOUNT`]).
    fn parse_any(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let trimmed = amount.trim();
        // Only plain decimal notation: exponents and separators are ambiguous across locales.
        let digits = trimmed.strip_prefix('-').unwrap_or(trimmed);
        let plain = !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.matches('.').count() <= 1
            && !digits.starts_with('.')
            && !digits.ends_with('.');
        if !plain {
            return Err(MoneyError::NotANumber(trimmed.chars().take(32).collect()));
        }
        let decimal = Decimal::from_str(trimmed)
            .map_err(|_| MoneyError::NotANumber(trimmed.chars().take(32).collect()))?;
        Self::from_decimal(decimal, currency)
    }

    pub fn from_decimal(decimal: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        let allowed = currency.minor_units();
        if decimal.normalize().scale() > allowed {
            return Err(MoneyError::TooPrecise {
                amount: decimal.to_string(),
                currency: currency.code(),
                allowed,
            });
        }
        let factor = Decimal::from(10_i64.pow(allowed));
        let minor = decimal
            .checked_mul(factor)
            .and_then(|m| m.to_i64())
            .ok_or(MoneyError::Overflow)?;
        Ok(Self { minor, currency })
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn amount(self) -> Decimal {
        Decimal::new(self.minor, self.currency.minor_units())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self {
            minor,
            currency: self.currency,
        })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self {
            minor,
            currency: self.currency,
        })
    }

    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        let minor = self
            .minor
            .checked_mul(quantity)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self {
            minor,
            currency: self.currency,
        })
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency.code(),
                right: other.currency.code(),
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount(), self.currency)
    }
}
impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The wire shape: `{"amount": "12.34", "currency": "EUR"}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyWire {
    amount: String,
    currency: String,
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.amount().to_string(),
            currency: self.currency.code().to_string(),
        }
        .serialize(s)
    }
}
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(d)?;
        let currency = Currency::parse(&wire.currency).map_err(serde::de::Error::custom)?;
        Money::parse_any(&wire.amount, currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(cur("EUR").minor_units(), 2);
        assert_eq!(cur("JPY").minor_units(), 0);
        assert_eq!(cur("KWD").minor_units(), 3);
        assert_eq!(cur("CLF").minor_units(), 4);
        assert_eq!(cur("usd").code(), "USD");
    }

    #[test]
    fn unknown_codes_are_rejected() {
        assert_eq!(
            Currency::parse("XYZ"),
            Err(MoneyError::UnknownCurrency("XYZ".into()))
        );
        assert!(Currency::parse("").is_err());
    }

    #[test]
    fn every_table_code_is_three_uppercase_letters_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for (code, _) in CURRENCIES {
            assert!(
                code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()),
                "{code}"
            );
            assert!(seen.insert(code), "duplicate {code}");
        }
    }

    #[test]
    fn parses_to_exact_minor_units() {
        assert_eq!(Money::parse("12.34", cur("EUR")).unwrap().minor(), 1234);
        assert_eq!(Money::parse("12.340", cur("EUR")).unwrap().minor(), 1234);
        assert_eq!(Money::parse("500", cur("JPY")).unwrap().minor(), 500);
        assert_eq!(Money::parse("1.234", cur("KWD")).unwrap().minor(), 1234);
        assert_eq!(Money::parse("-0.01", cur("USD")).unwrap().minor(), -1);
    }

    #[test]
    fn too_many_decimals_is_an_error_not_a_rounding() {
        assert_eq!(
            Money::parse("12.345", cur("EUR")),
            Err(MoneyError::TooPrecise {
                amount: "12.345".into(),
                currency: "EUR",
                allowed: 2
            })
        );
        assert!(Money::parse("1.5", cur("JPY")).is_err());
        assert!(Money::parse("twelve", cur("EUR")).is_err());
        assert!(Money::parse("1e3", cur("EUR")).is_err());
    }

    #[test]
    fn wire_format_is_a_decimal_string_with_the_currency() {
        let m = Money::parse("12.3", cur("EUR")).unwrap();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"amount":"12.30","currency":"EUR"}"#
        );
        let jpy = Money::parse("500", cur("JPY")).unwrap();
        assert_eq!(
            serde_json::to_string(&jpy).unwrap(),
            r#"{"amount":"500","currency":"JPY"}"#
        );
        let back: Money = serde_json::from_str(r#"{"amount":"0.10","currency":"KWD"}"#).unwrap();
        assert_eq!(back.minor(), 100);
        assert!(serde_json::from_str::<Money>(r#"{"amount":12.3,"currency":"EUR"}"#).is_err());
    }

    #[test]
    fn mixing_currencies_is_refused() {
        let e = Money::from_minor(1, cur("EUR"));
        let u = Money::from_minor(1, cur("USD"));
        assert_eq!(
            e.checked_add(u),
            Err(MoneyError::CurrencyMismatch {
                left: "EUR",
                right: "USD"
            })
        );
    }

    #[test]
    fn overflow_is_reported() {
        let big = Money::from_minor(i64::MAX, cur("EUR"));
        assert_eq!(
            big.checked_add(Money::from_minor(1, cur("EUR"))),
            Err(MoneyError::Overflow)
        );
        assert_eq!(big.checked_mul(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn amounts_from_outside_stay_within_a_billion() {
        let eur = cur("EUR");
        assert_eq!(
            Money::parse("1000000000", eur).unwrap().minor(),
            100_000_000_000
        );
        assert_eq!(
            Money::parse("-1000000000.00", eur).unwrap().minor(),
            -100_000_000_000
        );
        for text in ["1000000000.01", "92233720368547758.07", "-1000000001"] {
            assert_eq!(
                Money::parse(text, eur),
                Err(MoneyError::OutOfRange),
                "{text}"
            );
        }
        assert_eq!(
            Money::parse("99999999999999999999999", eur),
            Err(MoneyError::OutOfRange)
        );
        let kwd = Money::parse("1000000000.000", cur("KWD")).unwrap();
        assert_eq!(kwd.minor(), 1_000_000_000_000);
        assert_eq!(
            Money::from_minor(i64::MIN, eur).within_limit(),
            Err(MoneyError::OutOfRange)
        );
        // Keel's own sums may pass the bound and still travel.
        let sum = Money::from_minor(i64::MAX, eur);
        let back: Money = serde_json::from_value(serde_json::to_value(sum).unwrap()).unwrap();
        assert_eq!(back, sum);
    }

    proptest! {
        #[test]
        fn minor_units_round_trip_through_the_wire(minor in -1_000_000_000_000i64..1_000_000_000_000, idx in 0usize..CURRENCIES.len()) {
            let currency = Currency(idx as u16);
            let m = Money::from_minor(minor, currency);
            let json = serde_json::to_string(&m).unwrap();
            let back: Money = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, m);
        }

        #[test]
        fn sums_of_parts_reconcile_to_the_cent(parts in proptest::collection::vec(-10_000_000i64..10_000_000, 0..50)) {
            let eur = cur("EUR");
            let total = parts.iter().try_fold(Money::zero(eur), |acc, p| acc.checked_add(Money::from_minor(*p, eur))).unwrap();
            prop_assert_eq!(total.minor(), parts.iter().sum::<i64>());
            let text_total: Decimal = parts.iter().map(|p| Money::from_minor(*p, eur).amount()).sum();
            prop_assert_eq!(total.amount(), text_total);
        }
    }
}
