//! Read models of the KPI board.

use serde::{Deserialize, Serialize};

/// One KPI on the board: its number for the period and the one before,
/// its daily trend, a breakdown, and where each figure drills down to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpi {
    pub key: String,
    pub label: String,
    /// What is counted and how, in words.
    pub definition: String,
    /// `hours`, `percent`, `count`, `per_order` or `money`.
    pub unit: String,
    /// The period's value as a decimal string; none when nothing was measured.
    pub value: Option<String>,
    pub display: String,
    pub previous: Option<String>,
    pub previous_display: String,
    /// `+12.5%` against the previous period (`+1.2 pts` for rates).
    pub change: Option<String>,
    /// Whether the change is for the better; none when unchanged.
    pub better: Option<bool>,
    /// The records behind the number.
    pub link: Option<String>,
    pub series: Vec<KpiPoint>,
    pub breakdown: Vec<KpiPart>,
    /// Whether the channel and warehouse filters apply to this KPI.
    pub by_channel: bool,
    pub by_warehouse: bool,
    /// Set for a KPI whose records arrive with a later capability.
    pub pending: Option<String>,
}

/// A day of a KPI's trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiPoint {
    pub day: String,
    pub value: Option<String>,
    pub display: String,
    pub link: Option<String>,
}

/// A line of a KPI's breakdown (a channel, a status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiPart {
    pub label: String,
    pub value: String,
    pub link: Option<String>,
}

/// The KPI board for a period and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiBoard {
    pub from: String,
    pub to: String,
    pub previous_from: String,
    pub previous_to: String,
    pub channel: Option<String>,
    pub warehouse: Option<String>,
    /// Money figures are in this currency; orders in others are left out of them.
    pub currency: String,
    pub currencies: Vec<String>,
    pub channels: Vec<String>,
    pub warehouses: Vec<String>,
    pub kpis: Vec<Kpi>,
    /// The last event the figures include.
    pub as_of_seq: i64,
}
