//! GS1 identification keys with the standard mod-10 check digit: GTIN-8, -12
//! (UPC-A), -13 (EAN) and -14. A scanned or typed barcode is accepted only when
//! its check digit is right; the error names the digit that was expected.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gtin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GtinError {
    #[error("a GTIN has only digits; found `{0}`")]
    NotDigits(char),
    #[error("a GTIN has 8, 12, 13 or 14 digits; this one has {0}")]
    BadLength(usize),
    #[error("check digit is wrong: expected {expected}, got {got}")]
    CheckDigit { expected: u8, got: u8 },
}

/// The GS1 check digit for a payload of any length: digits are weighted 3, 1,
/// 3, … from the right, and the check digit brings the sum to a multiple of 10.
pub fn check_digit(payload: &str) -> Result<u8, GtinError> {
    let mut sum = 0u32;
    for (i, c) in payload.chars().rev().enumerate() {
        let d = c.to_digit(10).ok_or(GtinError::NotDigits(c))?;
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Ok(((10 - sum % 10) % 10) as u8)
}

impl Gtin {
    pub fn parse(input: &str) -> Result<Self, GtinError> {
        let s = input.trim();
        if let Some(c) = s.chars().find(|c| !c.is_ascii_digit()) {
            return Err(GtinError::NotDigits(c));
        }
        if !matches!(s.len(), 8 | 12 | 13 | 14) {
            return Err(GtinError::BadLength(s.len()));
        }
        let (payload, last) = s.split_at(s.len() - 1);
        let expected = check_digit(payload)?;
        let got = last.as_bytes()[0] - b'0';
        if expected != got {
            return Err(GtinError::CheckDigit { expected, got });
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 14-digit form, left-padded with zeros, under which GS1 treats
    /// GTIN-8/12/13/14 as one key space. Two spellings of one product compare equal here.
    pub fn to_gtin14(&self) -> String {
        format!("{:0>14}", self.0)
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl Serialize for Gtin {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}
impl<'de> Deserialize<'de> for Gtin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Gtin::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_each_gtin_length() {
        for ok in [
            "96385074",
            "614141000036",
            "5901234123457",
            "98765432109213",
        ] {
            assert!(Gtin::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn wrong_check_digit_names_the_expected_one() {
        let err = Gtin::parse("5901234123458").unwrap_err();
        assert_eq!(
            err,
            GtinError::CheckDigit {
                expected: 7,
                got: 8
            }
        );
        assert_eq!(err.to_string(), "check digit is wrong: expected 7, got 8");
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(Gtin::parse("123").unwrap_err(), GtinError::BadLength(3));
        assert_eq!(
            Gtin::parse("59012341234X7").unwrap_err(),
            GtinError::NotDigits('X')
        );
    }

    #[test]
    fn gtin14_form_pads_with_zeros() {
        assert_eq!(
            Gtin::parse("614141000036").unwrap().to_gtin14(),
            "00614141000036"
        );
    }

    proptest! {
        #[test]
        fn appending_the_check_digit_always_validates(payload in "[0-9]{12}") {
            let cd = check_digit(&payload).unwrap();
            let code = format!("{payload}{cd}");
            prop_assert!(Gtin::parse(&code).is_ok());
        }

        #[test]
        fn any_single_digit_error_is_caught(payload in "[0-9]{12}", pos in 0usize..13, delta in 1u8..10) {
            let cd = check_digit(&payload).unwrap();
            let mut digits: Vec<u8> = format!("{payload}{cd}").bytes().map(|b| b - b'0').collect();
            digits[pos] = (digits[pos] + delta) % 10;
            let code: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(Gtin::parse(&code).is_err());
        }
    }
}
