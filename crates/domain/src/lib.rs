//! Keel's domain: pure types and rules with no I/O.
//!
//! Everything here compiles for wasm32 as well, so forms in the browser validate
//! with exactly the code the server runs. Types that can be invalid have private
//! fields and a fallible `parse`: once a value exists, it is valid.

pub mod analytics;
pub mod catalog;
pub mod channel_payloads;
pub mod events;
pub mod fulfillment;
pub mod governance;
pub mod gs1;
pub mod gtin;
pub mod inventory;
pub mod kpi;
pub mod label;
pub mod money;
pub mod order_report;
pub mod orders;
pub mod receiving;
pub mod text;
pub mod views;

pub use gtin::Gtin;
pub use money::{Currency, Money};
pub use text::{Email, Qty, Sku};

/// A field-level validation failure: which input field, and why, in words a
/// person can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Several field errors as one line, `field: message; field: message`,
    /// where there is no form to show them beside (an import row, a banner,
    /// an incident).
    pub fn one_line(errors: &[FieldError]) -> String {
        errors
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
