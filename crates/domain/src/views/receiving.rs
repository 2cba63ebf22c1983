//! Read models of supplier deliveries as the dock receives them.

use serde::{Deserialize, Serialize};

/// An expected delivery (or a blind receipt) as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliverySummary {
    pub id: String,
    pub number: String,
    pub warehouse: String,
    pub supplier: String,
    pub reference: Option<String>,
    /// `YYYY-MM-DD`, or empty when not announced.
    pub expected_on: String,
    /// Opened at the dock without an announcement: any item is taken.
    pub blind: bool,
    /// expected | receiving | closed
    pub status: String,
    pub units_expected: i64,
    pub units_received: i64,
    pub created_at: String,
}

/// One announced item of a delivery, or one item received blind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub sku: String,
    pub name: String,
    /// 0 on a blind receipt.
    pub expected: i64,
    pub received: i64,
}

/// Units put into a bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryPut {
    pub sku: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
    pub location: String,
    pub put_by: String,
    pub put_at: String,
}

/// The item the signed-in agent scanned and hasn't put away yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingReceipt {
    /// lot | put: what the agent scans next.
    pub step: String,
    pub sku: String,
    pub name: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
    /// The bin of this warehouse that holds most of the item, if any does.
    pub suggested_bin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    #[serde(flatten)]
    pub summary: DeliverySummary,
    pub lines: Vec<DeliveryLine>,
    /// Putaways, newest first.
    pub puts: Vec<DeliveryPut>,
    pub pending: Option<PendingReceipt>,
    pub closed_at: Option<String>,
}

impl DeliveryLine {
    /// Announced units not received yet.
    pub fn open(&self) -> i64 {
        (self.expected - self.received).max(0)
    }
}

impl Delivery {
    /// Announced units that never came; a blind receipt announced none.
    pub fn units_short(&self) -> i64 {
        if self.summary.blind {
            return 0;
        }
        let counts: Vec<(i64, i64)> = self
            .lines
            .iter()
            .map(|l| (l.expected, l.received))
            .collect();
        crate::receiving::discrepancy(&counts).0
    }
}
