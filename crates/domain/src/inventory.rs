//! Inventory rules: warehouse and bin codes, the kinds of stock movement, the
//! FEFO pick plan, reservation planning across warehouses, and cycle-count
//! variance with its approval threshold.
//!
//! Invariants: a warehouse or bin code is short, upper-case and stable, because
//! it is printed on labels and typed on the floor. Quantities moved are
//! positive; the movement kind carries the direction.

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

/// A bin location code, `ZONE-AISLE-BIN` such as `A-01-03`: a zone of 1 to 4
/// letters or digits, then two numeric parts. Returns the normalised code.
pub fn parse_location_code(field: &str, input: &str) -> Result<String, FieldError> {
    let code = input.trim().to_ascii_uppercase();
    let parts: Vec<&str> = code.split('-').collect();
    let ok = parts.len() == 3
        && (1..=4).contains(&parts[0].len())
        && parts[0].chars().all(|c| c.is_ascii_alphanumeric())
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new(
            field,
            format!(
                "`{}` is not a bin code: use ZONE-AISLE-BIN, e.g. A-01-03",
                input.trim()
            ),
        ))
    }
}

/// Where a receipt without a bin lands: the receiving dock, last in pick order.
pub const RECEIVING_LOCATION: &str = "RCV-00-00";

/// The default walk order: zone, then aisle, then bin, so `A-01-02` comes
/// before `A-02-01` and every `A` bin before any `B` bin.
pub fn default_pick_sequence(code: &str) -> i64 {
    if code == RECEIVING_LOCATION {
        return 999_999_999;
    }
    let parts: Vec<&str> = code.split('-').collect();
    let zone = parts
        .first()
        .map(|z| z.bytes().fold(0i64, |acc, b| acc * 37 + i64::from(b % 37)))
        .unwrap_or(0);
    let num = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(0)
    };
    (zone % 100_000) * 1_000_000 + num(1) * 1000 + num(2)
}

/// The kinds of ledger movement. The sign of the quantity follows the kind:
/// receipts, transfers in and restocks add; shipments, transfers out and scrap
/// remove; adjustments and count corrections go either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Receipt,
    Shipment,
    TransferOut,
    TransferIn,
    Adjustment,
    CountCorrection,
    ReturnRestock,
    Scrap,
}

impl MovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MovementKind::Receipt => "receipt",
            MovementKind::Shipment => "shipment",
            MovementKind::TransferOut => "transfer_out",
            MovementKind::TransferIn => "transfer_in",
            MovementKind::Adjustment => "adjustment",
            MovementKind::CountCorrection => "count_correction",
            MovementKind::ReturnRestock => "return_restock",
            MovementKind::Scrap => "scrap",
        }
    }
}

/// Reason codes an adjustment must carry, so shrink can be analysed later.
pub const ADJUSTMENT_REASONS: [&str; 7] = [
    "damaged",
    "found",
    "lost",
    "theft",
    "expired",
    "data_correction",
    "other",
];

/// Stock of one lot in one bin, as the FEFO planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotStock {
    /// ISO date, or empty for stock without an expiry.
    pub expires_on: String,
    pub pick_sequence: i64,
    pub on_hand: i64,
}

/// First-expiry-first-out: which lots to take `quantity` from, as (index into
/// `lots`, units). Dated lots go before undated ones, earlier dates first, and
/// ties go by walk order. `None` when the lots don't hold enough.
pub fn fefo_plan(lots: &[LotStock], quantity: i64) -> Option<Vec<(usize, i64)>> {
    let mut order: Vec<usize> = (0..lots.len()).filter(|&i| lots[i].on_hand > 0).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&lots[a], &lots[b]);
        (x.expires_on.is_empty(), &x.expires_on, x.pick_sequence).cmp(&(
            y.expires_on.is_empty(),
            &y.expires_on,
            y.pick_sequence,
        ))
    });
    let mut left = quantity;
    let mut plan = Vec::new();
    for i in order {
        if left == 0 {
            break;
        }
        let take = left.min(lots[i].on_hand);
        plan.push((i, take));
        left -= take;
    }
    (left == 0).then_some(plan)
}

/// How much of one request line to try in each warehouse, in the channel's
/// priority order, given what each can spare now. The database re-checks every
/// step with a conditional update; this is only the first guess.
pub fn plan_across(quantity: i64, spare: &[i64]) -> Vec<i64> {
    let mut left = quantity;
    spare
        .iter()
        .map(|&s| {
            let take = left.min(s.max(0));
            left -= take;
            take
        })
        .collect()
}

/// A count variance above this value (in the valuation currency's minor units)
/// waits for a manager before it touches stock.
pub const COUNT_APPROVAL_THRESHOLD_MINOR: i64 = 25_000;
/// The currency cycle-count variances are valued in (at product cost).
pub const VALUATION_CURRENCY: &str = "USD";

/// The value of a count's variance: Σ |counted − expected| × unit cost.
pub fn variance_value(lines: &[(i64, i64, i64)]) -> i64 {
    lines
        .iter()
        .map(|&(expected, counted, unit_cost)| (counted - expected).abs().saturating_mul(unit_cost))
        .fold(0i64, i64::saturating_add)
}

pub fn needs_approval(variance_value_minor: i64) -> bool {
    variance_value_minor > COUNT_APPROVAL_THRESHOLD_MINOR
}

/// Inventory accuracy: the share of counted lines whose count matched the
/// system, in percent with one decimal. `None` before anything was counted.
pub fn accuracy_percent(lines_counted: i64, lines_exact: i64) -> Option<f64> {
    (lines_counted > 0).then(|| (lines_exact as f64 * 1000.0 / lines_counted as f64).round() / 10.0)
}

/// An ISO expiry date (YYYY-MM-DD), or empty.
pub fn parse_expiry(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| FieldError::new(field, format!("`{s}` is not a date like 2027-03-31")))
}

/// A lot or batch code as printed on the case.
pub fn parse_lot(field: &str, input: &str) -> Result<String, FieldError> {
    let s = input.trim();
    if s.chars().count() > 40 || s.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            "use at most 40 printable characters",
        ));
    }
    Ok(s.to_string())
}

/// A reorder point: 0 (none) to 1,000,000 available units.
pub fn parse_reorder_point(field: &str, n: i64) -> Result<i64, FieldError> {
    if (0..=1_000_000).contains(&n) {
        Ok(n)
    } else {
        Err(FieldError::new(
            field,
            "use a whole number from 0 (no reorder point) to 1,000,000",
        ))
    }
}

/// The most units one movement may add or remove.
pub const MAX_MOVEMENT: i64 = 1_000_000;

/// A change to stock, as a manual adjustment gives it: ±1,000,000 units at
/// most, never 0. A range test, not `abs()`, which overflows on `i64::MIN`.
pub fn parse_change(field: &str, n: i64) -> Result<i64, FieldError> {
    if n != 0 && (-MAX_MOVEMENT..=MAX_MOVEMENT).contains(&n) {
        Ok(n)
    } else {
        Err(FieldError::new(
            field,
            "use a whole number from -1,000,000 to 1,000,000, not 0",
        ))
    }
}

/// A positive whole quantity for one line of a request.
pub fn parse_quantity(field: &str, n: i64) -> Result<i64, FieldError> {
    if (1..=MAX_MOVEMENT).contains(&n) {
        Ok(n)
    } else {
        Err(FieldError::new(
            field,
            "use a whole number from 1 to 1,000,000",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_in_range_either_way_and_i64_min_is_not_abs() {
        for n in [1, -1, MAX_MOVEMENT, -MAX_MOVEMENT] {
            assert_eq!(parse_change("quantity", n), Ok(n));
        }
        for n in [0, i64::MIN, i64::MAX, MAX_MOVEMENT + 1, -MAX_MOVEMENT - 1] {
            assert_eq!(
                parse_change("quantity", n).unwrap_err().field,
                "quantity",
                "{n}"
            );
        }
    }

    #[test]
    fn location_codes_are_zone_aisle_bin() {
        assert_eq!(parse_location_code("l", " a-01-03 ").unwrap(), "A-01-03");
        for bad in ["A-01", "A01-03-04-05", "ABCDE-01-01", "A-x1-01", ""] {
            assert!(parse_location_code("l", bad).is_err(), "{bad}");
        }
        assert!(default_pick_sequence("A-01-02") < default_pick_sequence("A-02-01"));
        assert!(default_pick_sequence("A-09-99") < default_pick_sequence("B-01-01"));
        assert!(default_pick_sequence("Z-99-99") < default_pick_sequence(RECEIVING_LOCATION));
    }

    fn lot(expires_on: &str, seq: i64, on_hand: i64) -> LotStock {
        LotStock {
            expires_on: expires_on.into(),
            pick_sequence: seq,
            on_hand,
        }
    }

    #[test]
    fn fefo_takes_the_earliest_expiry_first_and_undated_last() {
        let lots = [
            lot("", 1, 10),
            lot("2027-05-01", 5, 3),
            lot("2027-01-01", 9, 2),
            lot("2027-01-01", 2, 1),
        ];
        assert_eq!(fefo_plan(&lots, 5), Some(vec![(3, 1), (2, 2), (1, 2)]));
        assert_eq!(fefo_plan(&lots, 16).map(|p| p.len()), Some(4));
        assert_eq!(fefo_plan(&lots, 16).unwrap().last(), Some(&(0, 10)));
        assert_eq!(fefo_plan(&lots, 17), None);
    }

    #[test]
    fn reservation_plans_fill_warehouses_in_priority_order() {
        assert_eq!(plan_across(5, &[3, 10, 4]), vec![3, 2, 0]);
        assert_eq!(plan_across(5, &[-2, 1]), vec![0, 1]);
    }

    #[test]
    fn variance_value_and_approval() {
        assert_eq!(variance_value(&[(10, 7, 500), (2, 4, 100)]), 1700);
        assert!(!needs_approval(COUNT_APPROVAL_THRESHOLD_MINOR));
        assert!(needs_approval(COUNT_APPROVAL_THRESHOLD_MINOR + 1));
        assert_eq!(accuracy_percent(3, 2), Some(66.7));
        assert_eq!(accuracy_percent(0, 0), None);
    }

    #[test]
    fn expiry_and_quantity_rules() {
        assert_eq!(parse_expiry("e", "2027-3-1").unwrap(), "2027-03-01");
        assert!(parse_expiry("e", "31/03/2027").is_err());
        assert!(parse_quantity("q", 0).is_err());
        assert_eq!(parse_quantity("q", 3), Ok(3));
    }

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
