//! Warehouse floor rules, free of I/O: which fulfilments go into a wave first,
//! what a scan means at each step of a pick, and when a pack verifies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{gs1, FieldError};

/// Orders at most in one wave, so a wave stays one agent's round.
pub const MAX_WAVE_ORDERS: i64 = 200;

/// How urgent a shipping method is: express services leave at an earlier
/// carrier cut-off, so their fulfilments are waved first.
pub fn cutoff_rank(shipping_method: &str) -> u8 {
    let m = shipping_method.to_ascii_lowercase();
    const EXPRESS: [&str; 6] = [
        "express",
        "next day",
        "next-day",
        "overnight",
        "same day",
        "priority",
    ];
    if EXPRESS.iter().any(|k| m.contains(k)) {
        0
    } else {
        1
    }
}

/// A fulfilment waiting for a wave, as the wave builder ranks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveCandidate {
    pub fulfillment_id: String,
    pub order_id: String,
    pub shipping_method: String,
    /// When the order was placed (µs): older orders are nearer their ship-by.
    pub placed_at: i64,
    pub number: String,
}

/// The candidates in wave order: earlier carrier cut-off first, then the
/// oldest order, then by number so the order is total.
pub fn wave_order(mut candidates: Vec<WaveCandidate>, max: usize) -> Vec<WaveCandidate> {
    candidates.sort_by(|a, b| {
        (cutoff_rank(&a.shipping_method), a.placed_at, &a.number).cmp(&(
            cutoff_rank(&b.shipping_method),
            b.placed_at,
            &b.number,
        ))
    });
    candidates.truncate(max);
    candidates
}

/// Hours from an order's placement to its ship-by time: express services
/// promise dispatch within a day, the others within two.
pub fn ship_by_hours(shipping_method: &str) -> i64 {
    if cutoff_rank(shipping_method) == 0 {
        24
    } else {
        48
    }
}

/// Within this many hours of its ship-by time an unshipped pick is due soon.
pub const DUE_SOON_HOURS: i64 = 4;

/// Where an unshipped fulfilment stands against its ship-by time, from the
/// minutes since the order was placed: `late`, `due_soon` or `on_time`.
pub fn ship_by_state(age_minutes: i64, shipping_method: &str) -> &'static str {
    let sla = ship_by_hours(shipping_method) * 60;
    if age_minutes >= sla {
        "late"
    } else if sla - age_minutes <= DUE_SOON_HOURS * 60 {
        "due_soon"
    } else {
        "on_time"
    }
}

/// Units an agent picks per hour: units over the time from their first to
/// their last pick in the window, counted as at least a quarter hour so a
/// handful of quick picks doesn't read as thousands an hour.
pub fn units_per_hour(units: i64, first_micros: i64, last_micros: i64) -> f64 {
    let hours = ((last_micros - first_micros) as f64 / 3_600_000_000.0).max(0.25);
    (units as f64 / hours * 10.0).round() / 10.0
}

/// Where a pick task is: the agent scans the bin, then the item, then
/// confirms the quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PickStep {
    Bin,
    Item,
    Quantity,
}

impl PickStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bin => "bin",
            Self::Item => "item",
            Self::Quantity => "quantity",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Bin, Self::Item, Self::Quantity]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// The task a scan is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickTarget {
    pub location: String,
    pub sku: String,
    pub name: String,
    /// The product's GTIN as 14 digits, if it has one.
    pub gtin14: Option<String>,
    /// The lot to take, or empty for untracked stock.
    pub lot: String,
    pub remaining: i64,
}

/// What an accepted scan does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickMove {
    /// The right bin: now scan the item.
    AtBin,
    /// The right item: now confirm how many.
    ItemOk,
    /// This many units picked.
    Picked(i64),
}

/// Whether a scanned code is this product: its SKU (exactly, SKUs are case
/// sensitive), its GTIN in any length, or a GS1 element string carrying it.
/// A lot-tracked pick must scan the lot; an expired unit is refused.
pub fn match_item(target: &PickTarget, code: &str, today: &str) -> Result<(), String> {
    let wrong = || {
        format!(
            "Wrong item: {code} is not {} ({}). Put it back and scan {}.",
            target.sku, target.name, target.sku
        )
    };
    if code == target.sku {
        return if target.lot.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} is lot-tracked: scan the GS1 barcode that carries lot {}.",
                target.sku, target.lot
            ))
        };
    }
    match gs1::parse(code) {
        Some(Ok(g)) => {
            if g.gtin.is_none() || g.gtin != target.gtin14 {
                return Err(wrong());
            }
            if let Some(exp) = &g.expires_on {
                if exp.as_str() < today {
                    return Err(format!(
                        "This unit expired on {exp}. Set it aside and scan another."
                    ));
                }
            }
            if !target.lot.is_empty() && g.lot.as_deref() != Some(target.lot.as_str()) {
                return Err(format!(
                    "Wrong lot {}: pick lot {} of {}.",
                    g.lot.as_deref().unwrap_or("(none)"),
                    target.lot,
                    target.sku
                ));
            }
            Ok(())
        }
        Some(Err(why)) => Err(format!(
            "That barcode can't be read ({why}). Scan it again."
        )),
        None => match crate::Gtin::parse(code) {
            Ok(g) if Some(g.to_gtin14()) == target.gtin14 && target.lot.is_empty() => Ok(()),
            Ok(g) if Some(g.to_gtin14()) == target.gtin14 => Err(format!(
                "{} is lot-tracked: scan the GS1 barcode that carries lot {}.",
                target.sku, target.lot
            )),
            _ => Err(wrong()),
        },
    }
}

/// Checks one scan against the task at its step. A refusal says what was
/// wrong and what to scan instead; it changes nothing.
pub fn pick_scan(
    step: PickStep,
    target: &PickTarget,
    code: &str,
    today: &str,
) -> Result<PickMove, String> {
    let code = code.trim();
    if code.is_empty() {
        return Err("Nothing was scanned.".into());
    }
    match step {
        PickStep::Bin => {
            if code.eq_ignore_ascii_case(&target.location) {
                Ok(PickMove::AtBin)
            } else if match_item(target, code, today).is_ok() {
                Err(format!(
                    "Scan the bin label {} first, then the item.",
                    target.location
                ))
            } else {
                Err(format!(
                    "Wrong bin: you scanned {code}. Go to bin {}.",
                    target.location
                ))
            }
        }
        PickStep::Item => match_item(target, code, today).map(|()| PickMove::ItemOk),
        PickStep::Quantity => match code.parse::<i64>() {
            Ok(n) if n >= 1 && n <= target.remaining => Ok(PickMove::Picked(n)),
            Ok(n) if n > target.remaining => Err(format!(
                "Only {} to pick here; you entered {n}. Put back the extra.",
                target.remaining
            )),
            Ok(_) => Err(
                "Enter how many you picked (at least 1). If the bin is short, use Short pick."
                    .into(),
            ),
            Err(_) if match_item(target, code, today).is_ok() => Err(format!(
                "Item already scanned. Type how many you picked ({} to pick) and press Enter.",
                target.remaining
            )),
            Err(_) => Err(format!(
                "Type how many you picked ({} to pick) and press Enter.",
                target.remaining
            )),
        },
    }
}

/// Why a pick came up short: the agent chooses one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortReason {
    NotInBin,
    Damaged,
    WrongItemInBin,
    Expired,
}

impl ShortReason {
    pub const ALL: [ShortReason; 4] = [
        Self::NotInBin,
        Self::Damaged,
        Self::WrongItemInBin,
        Self::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotInBin => "not_in_bin",
            Self::Damaged => "damaged",
            Self::WrongItemInBin => "wrong_item_in_bin",
            Self::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotInBin => "Not in the bin",
            Self::Damaged => "Damaged",
            Self::WrongItemInBin => "Another item is in the bin",
            Self::Expired => "Expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// Whether the bin is taken to hold none of the item beyond what was
    /// picked: missing, mixed up or expired stock says the whole bin's count
    /// is wrong, while a damaged unit says nothing about the others.
    pub fn empties_bin(self) -> bool {
        !matches!(self, Self::Damaged)
    }
}

/// One package as packing has it so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackState {
    pub seq: i64,
    /// Units per fulfilment line number.
    pub units: BTreeMap<i64, i64>,
    pub weight_g: Option<i64>,
    /// Length, width and height in millimetres.
    pub dims_mm: Option<(i64, i64, i64)>,
}

/// Heaviest parcel a label is produced for (70 kg, the common carrier limit).
pub const MAX_PACKAGE_WEIGHT_G: i64 = 70_000;
/// Longest side accepted (2.7 m).
pub const MAX_PACKAGE_SIDE_MM: i64 = 2_700;

/// Checks a package's measurements: `weight_g` and `dimensions` (the three
/// sides as one) each refused with its range.
pub fn check_measures(weight_g: i64, dims: (i64, i64, i64)) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if !(1..=MAX_PACKAGE_WEIGHT_G).contains(&weight_g) {
        errors.push(FieldError::new(
            "weight_g",
            format!("weight must be 1 to {MAX_PACKAGE_WEIGHT_G} g"),
        ));
    }
    let (l, w, h) = dims;
    if [l, w, h]
        .iter()
        .any(|d| !(1..=MAX_PACKAGE_SIDE_MM).contains(d))
    {
        errors.push(FieldError::new(
            "dimensions",
            format!("each side must be 1 to {MAX_PACKAGE_SIDE_MM} mm"),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Every reason the pack does not verify yet, in words; empty when it does.
/// `picked` maps line numbers to (SKU, units picked).
pub fn pack_problems(picked: &BTreeMap<i64, (String, i64)>, packages: &[PackState]) -> Vec<String> {
    let mut problems = Vec::new();
    if packages.is_empty() {
        problems.push("No package yet: scan the first item.".to_string());
    }
    for (line, (sku, units)) in picked {
        let packed: i64 = packages
            .iter()
            .map(|p| p.units.get(line).copied().unwrap_or(0))
            .sum();
        if packed < *units {
            problems.push(format!("{} of {sku} not packed yet", units - packed));
        } else if packed > *units {
            problems.push(format!("{} more {sku} packed than picked", packed - units));
        }
    }
    for p in packages {
        if p.units.values().sum::<i64>() == 0 {
            problems.push(format!("Package {} is empty", p.seq));
        }
        if p.weight_g.is_none() {
            problems.push(format!("Package {} needs its weight", p.seq));
        }
        if p.dims_mm.is_none() {
            problems.push(format!("Package {} needs its dimensions", p.seq));
        }
    }
    problems
}

/// How many more units of a line may go into packages.
pub fn pack_room(picked: &BTreeMap<i64, (String, i64)>, packages: &[PackState], line: i64) -> i64 {
    let packed: i64 = packages
        .iter()
        .map(|p| p.units.get(&line).copied().unwrap_or(0))
        .sum();
    picked.get(&line).map(|(_, u)| *u).unwrap_or(0) - packed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> PickTarget {
        PickTarget {
            location: "A-01-03".into(),
            sku: "TEE-M".into(),
            name: "Tee, medium".into(),
            gtin14: Some("05901234123457".into()),
            lot: String::new(),
            remaining: 3,
        }
    }

    #[test]
    fn a_pick_goes_bin_then_item_then_quantity() {
        let t = target();
        assert_eq!(
            pick_scan(PickStep::Bin, &t, "a-01-03", "2026-11-27"),
            Ok(PickMove::AtBin)
        );
        assert_eq!(
            pick_scan(PickStep::Item, &t, "TEE-M", "2026-11-27"),
            Ok(PickMove::ItemOk)
        );
        assert_eq!(
            pick_scan(PickStep::Item, &t, "5901234123457", "2026-11-27"),
            Ok(PickMove::ItemOk)
        );
        assert_eq!(
            pick_scan(
                PickStep::Item,
                &t,
                "]C1010590123412345715210526",
                "2020-01-01"
            ),
            Ok(PickMove::ItemOk)
        );
        assert_eq!(
            pick_scan(PickStep::Quantity, &t, "3", "2026-11-27"),
            Ok(PickMove::Picked(3))
        );
        assert_eq!(
            pick_scan(PickStep::Quantity, &t, "2", "2026-11-27"),
            Ok(PickMove::Picked(2))
        );
    }

    #[test]
    fn wrong_scans_are_refused_with_what_to_do() {
        let t = target();
        let e = pick_scan(PickStep::Bin, &t, "B-02-01", "2026-11-27").unwrap_err();
        assert_eq!(e, "Wrong bin: you scanned B-02-01. Go to bin A-01-03.");
        let e = pick_scan(PickStep::Bin, &t, "TEE-M", "2026-11-27").unwrap_err();
        assert!(e.contains("Scan the bin label A-01-03 first"), "{e}");
        let e = pick_scan(PickStep::Item, &t, "TEE-L", "2026-11-27").unwrap_err();
        assert!(e.starts_with("Wrong item: TEE-L is not TEE-M"), "{e}");
        // SKUs are case sensitive.
        assert!(pick_scan(PickStep::Item, &t, "tee-m", "2026-11-27").is_err());
        let e = pick_scan(PickStep::Quantity, &t, "4", "2026-11-27").unwrap_err();
        assert!(e.contains("Only 3 to pick"), "{e}");
        assert!(pick_scan(PickStep::Quantity, &t, "0", "2026-11-27").is_err());
        let e = pick_scan(PickStep::Quantity, &t, "TEE-M", "2026-11-27").unwrap_err();
        assert!(e.contains("Type how many"), "{e}");
        assert!(pick_scan(PickStep::Item, &t, "  ", "2026-11-27").is_err());
    }

    #[test]
    fn lot_tracked_picks_need_the_right_lot_and_an_unexpired_unit() {
        let t = PickTarget {
            lot: "L7".into(),
            ..target()
        };
        assert!(pick_scan(PickStep::Item, &t, "TEE-M", "2026-11-27")
            .unwrap_err()
            .contains("lot-tracked"));
        assert!(pick_scan(PickStep::Item, &t, "5901234123457", "2026-11-27")
            .unwrap_err()
            .contains("lot-tracked"));
        let ok = "(01)05901234123457(17)271231(10)L7";
        assert_eq!(
            pick_scan(PickStep::Item, &t, ok, "2026-11-27"),
            Ok(PickMove::ItemOk)
        );
        let other_lot = "(01)05901234123457(17)271231(10)L8";
        assert!(pick_scan(PickStep::Item, &t, other_lot, "2026-11-27")
            .unwrap_err()
            .starts_with("Wrong lot L8"));
        let expired = "(01)05901234123457(17)251231(10)L7";
        assert!(pick_scan(PickStep::Item, &t, expired, "2026-11-27")
            .unwrap_err()
            .contains("expired on 2025-12-31"));
        let unreadable = "(01)05901234123458(10)L7";
        assert!(pick_scan(PickStep::Item, &t, unreadable, "2026-11-27")
            .unwrap_err()
            .contains("can't be read"));
    }

    #[test]
    fn waves_take_express_first_then_the_oldest() {
        let c = |id: &str, m: &str, at: i64| WaveCandidate {
            fulfillment_id: id.into(),
            order_id: id.into(),
            shipping_method: m.into(),
            placed_at: at,
            number: id.into(),
        };
        let out = wave_order(
            vec![
                c("a", "Ground", 1),
                c("b", "Express", 5),
                c("c", "Ground", 0),
                c("d", "Next Day Air", 9),
            ],
            3,
        );
        let ids: Vec<_> = out.iter().map(|c| c.fulfillment_id.as_str()).collect();
        assert_eq!(ids, ["b", "d", "c"]);
    }

    #[test]
    fn a_pack_verifies_only_when_every_unit_is_packed_and_measured() {
        let picked: BTreeMap<i64, (String, i64)> =
            [(1, ("A".to_string(), 2)), (2, ("B".to_string(), 1))]
                .into_iter()
                .collect();
        assert_eq!(
            pack_problems(&picked, &[]),
            [
                "No package yet: scan the first item.",
                "2 of A not packed yet",
                "1 of B not packed yet"
            ]
        );
        let mut p1 = PackState {
            seq: 1,
            units: [(1, 2)].into_iter().collect(),
            ..PackState::default()
        };
        assert_eq!(
            pack_problems(&picked, std::slice::from_ref(&p1)),
            [
                "1 of B not packed yet",
                "Package 1 needs its weight",
                "Package 1 needs its dimensions"
            ]
        );
        assert_eq!(pack_room(&picked, std::slice::from_ref(&p1), 1), 0);
        assert_eq!(pack_room(&picked, std::slice::from_ref(&p1), 2), 1);
        p1.weight_g = Some(900);
        p1.dims_mm = Some((300, 200, 100));
        let p2 = PackState {
            seq: 2,
            units: [(2, 1)].into_iter().collect(),
            weight_g: Some(200),
            dims_mm: Some((100, 100, 50)),
        };
        assert!(pack_problems(&picked, &[p1.clone(), p2]).is_empty());
        let empty = PackState {
            seq: 3,
            ..PackState::default()
        };
        assert!(pack_problems(&picked, &[p1, empty]).contains(&"Package 3 is empty".to_string()));
    }

    #[test]
    fn measures_must_be_plausible() {
        assert!(check_measures(500, (300, 200, 100)).is_ok());
        assert!(check_measures(0, (300, 200, 100)).is_err());
        assert!(check_measures(80_000, (300, 200, 100)).is_err());
        assert!(check_measures(500, (300, 0, 100)).is_err());
    }

    #[test]
    fn each_refused_measure_names_its_field_for_the_form() {
        let errors = check_measures(0, (300, 9_000, 100)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["weight_g", "dimensions"]);
        assert_eq!(errors[0].message, "weight must be 1 to 70000 g");
        assert_eq!(errors[1].message, "each side must be 1 to 2700 mm");
        assert_eq!(
            check_measures(500, (0, 0, 0)).unwrap_err().len(),
            1,
            "the sides share one message"
        );
    }

    #[test]
    fn picks_are_late_after_their_service_promise_and_due_soon_in_its_last_hours() {
        assert_eq!(ship_by_hours("Ground"), 48);
        assert_eq!(ship_by_hours("UPS Next Day Air"), 24);
        assert_eq!(ship_by_state(0, "Ground"), "on_time");
        assert_eq!(ship_by_state(43 * 60, "Ground"), "on_time");
        assert_eq!(ship_by_state(44 * 60, "Ground"), "due_soon");
        assert_eq!(ship_by_state(48 * 60, "Ground"), "late");
        assert_eq!(ship_by_state(20 * 60, "Express"), "due_soon");
        assert_eq!(ship_by_state(25 * 60, "Express"), "late");
    }

    #[test]
    fn units_per_hour_counts_at_least_a_quarter_hour() {
        let hour = 3_600_000_000;
        assert_eq!(units_per_hour(120, 0, 2 * hour), 60.0);
        assert_eq!(units_per_hour(5, 0, 60_000_000), 20.0);
        assert_eq!(units_per_hour(0, 0, 0), 0.0);
        assert_eq!(units_per_hour(10, 0, 3 * hour), 3.3);
    }

    #[test]
    fn short_reasons_round_trip() {
        for r in ShortReason::ALL {
            assert_eq!(ShortReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(ShortReason::parse("lost"), None);
    }
}
