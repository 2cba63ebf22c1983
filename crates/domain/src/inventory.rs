//! Inventory: warehouses for now; the stock ledger and reservations follow (#3).
//!
//! Invariant: a warehouse code is short, upper-case and stable, because it is
//! printed on labels and typed on the floor.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// Validated input for a new warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWarehouse {
    pub code: String,
    pub name: String,
}

pub fn parse_code(field: &str, input: &str) -> Result<String, FieldError> {
    let code = input.trim().to_ascii_uppercase();
    if code.len() < 2 || code.len() > 16 {
        return Err(FieldError::new(field, "use 2 to 16 characters"));
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(FieldError::new(field, "use only letters, digits and -"));
    }
    Ok(code)
}

pub fn parse_name(field: &str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "enter a name"));
    }
    if name.chars().count() > 120 {
        return Err(FieldError::new(field, "use at most 120 characters"));
    }
    Ok(name.to_string())
}

impl NewWarehouse {
    /// Checks every field and reports all problems at once.
    pub fn parse(code: &str, name: &str) -> Result<Self, Vec<FieldError>> {
        match (parse_code("code", code), parse_name("name", name)) {
            (Ok(code), Ok(name)) => Ok(Self { code, name }),
            (c, n) => Err([c.err(), n.err()].into_iter().flatten().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_cased_and_bounded() {
        assert_eq!(
            NewWarehouse::parse(" west ", "West DC").unwrap().code,
            "WEST"
        );
        let errs = NewWarehouse::parse("w", "").unwrap_err();
        assert_eq!(
            errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            vec!["code", "name"]
        );
        assert!(NewWarehouse::parse("WE ST", "x").is_err());
    }
}
