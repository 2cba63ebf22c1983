//! Receiving rules, free of I/O: what a scan means at each step of putting
//! a delivery away. An agent scans the item (its SKU, GTIN or a GS1-128
//! with lot and expiry), the lot when the item is lot-tracked and the
//! barcode didn't carry one, then either types a quantity or scans the item
//! again once per unit, and finally scans the bin the units go into.
//!
//! Against an expected delivery only what the supplier announced is taken,
//! and never more than announced; a blind receipt takes any stocked item.

use serde::{Deserialize, Serialize};

use crate::inventory::{parse_lot, parse_quantity};

/// One announced item and how many units of it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryLineInput {
    pub sku: String,
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: i64,
}

/// Announces a delivery (`POST /api/v1/deliveries`). With no lines it opens
/// a blind receipt at the dock, which takes any stocked item. Every bad field
/// is reported at once (422) and nothing is created.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryInput {
    pub warehouse: String,
    #[serde(default)]
    #[schemars(length(max = 120))]
    pub supplier: Option<String>,
    /// The supplier's advice or purchase order number.
    #[serde(default)]
    #[schemars(length(max = 80))]
    pub reference: Option<String>,
    #[serde(default)]
    #[schemars(extend("format" = "date"))]
    pub expected_on: Option<String>,
    /// What the supplier announced. None at all opens a blind receipt, which
    /// takes any stocked item.
    #[serde(default)]
    #[schemars(length(max = 1000))]
    pub lines: Vec<DeliveryLineInput>,
}

/// What the agent scans next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiveStep {
    /// The item being received.
    Item,
    /// The lot (or serial number) printed on the case.
    Lot,
    /// A quantity, the same item again (one more unit), or the bin to put
    /// the units into.
    Put,
}

impl ReceiveStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Item => "item",
            Self::Lot => "lot",
            Self::Put => "put",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Item, Self::Lot, Self::Put]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// How a product's units are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    None,
    Lots,
    Serials,
}

/// An item a scan identified, with what the delivery expects of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedItem {
    pub sku: String,
    /// A bundle holds no stock of its own; its components are received.
    pub bundle: bool,
    pub tracking: Tracking,
    /// From a GS1 element string, when it carried them.
    pub lot: Option<String>,
    pub expires_on: Option<String>,
    /// Units still expected on this delivery (expected less received), or
    /// `None` for a blind receipt.
    pub open: Option<i64>,
    /// Whether the delivery announced this item at all (always true blind).
    pub on_delivery: bool,
}

/// What one scan turned out to be. The store looks the code up; this says
/// what it means at the current step.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scan {
    pub raw: String,
    pub item: Option<ScannedItem>,
    /// A bin of the delivery's warehouse with this code.
    pub bin: Option<String>,
    /// Why a GS1 barcode couldn't be read.
    pub unreadable: Option<String>,
}

/// The item between its scan and its putaway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub sku: String,
    pub lot: String,
    pub expires_on: String,
    pub quantity: i64,
    /// Units still expected, or `None` when blind.
    pub open: Option<i64>,
    pub serial: bool,
}

/// An accepted scan.
#[derive(Debug, Clone, PartialEq)]
pub enum ReceiveMove {
    /// An item to receive; `needs_lot` sends the agent to the lot step.
    Item {
        pending: Pending,
        needs_lot: bool,
    },
    Lot(String),
    Quantity(i64),
    /// The same item again: one more unit.
    OneMore,
    /// Put the pending units into this bin.
    PutAway(String),
}

fn over(p: &Pending, n: i64) -> Option<String> {
    match p.open {
        Some(open) if n > open => Some(format!(
            "Only {open} more of {} {} expected on this delivery; you have {n}. Count again, or receive the extra blind.",
            p.sku,
            if open == 1 { "is" } else { "are" }
        )),
        _ => None,
    }
}

/// Checks one scan against the step. A refusal says what was wrong and what
/// to scan instead; it changes nothing.
pub fn receive_scan(
    step: ReceiveStep,
    pending: Option<&Pending>,
    scan: &Scan,
    today: &str,
) -> Result<ReceiveMove, String> {
    let raw = scan.raw.trim();
    if raw.is_empty() {
        return Err("Nothing was scanned.".into());
    }
    if let Some(why) = &scan.unreadable {
        return Err(format!(
            "That barcode can't be read ({why}). Scan it again."
        ));
    }
    match (step, pending) {
        (ReceiveStep::Item, _) | (_, None) => {
            let Some(item) = &scan.item else {
                return Err(if scan.bin.is_some() {
                    format!("{raw} is a bin. Scan the item first, then the bin it goes into.")
                } else {
                    format!("Unknown item {raw}. Scan the item's barcode, or type its SKU.")
                });
            };
            start(item, today)
        }
        (ReceiveStep::Lot, Some(p)) => {
            if scan.item.is_some() || scan.bin.is_some() {
                return Err(format!(
                    "Scan or type the {} printed on the case of {}.",
                    if p.serial { "serial number" } else { "lot" },
                    p.sku
                ));
            }
            let lot = parse_lot("lot", raw).map_err(|e| e.message)?;
            Ok(ReceiveMove::Lot(lot))
        }
        (ReceiveStep::Put, Some(p)) => {
            if let Some(bin) = &scan.bin {
                return Ok(ReceiveMove::PutAway(bin.clone()));
            }
            if let Some(item) = &scan.item {
                let same_lot = item.lot.as_deref().is_none_or(|l| l == p.lot);
                if item.sku != p.sku || !same_lot {
                    return Err(format!(
                        "Put away the {} × {} first: scan the bin they go into.",
                        p.quantity, p.sku
                    ));
                }
                if p.serial {
                    return Err(format!(
                        "{} is serial-tracked: one unit per serial number. Scan the bin for this one first.",
                        p.sku
                    ));
                }
                return match over(p, p.quantity + 1) {
                    Some(why) => Err(why),
                    None => Ok(ReceiveMove::OneMore),
                };
            }
            match raw.parse::<i64>() {
                Ok(1) if p.serial => Ok(ReceiveMove::Quantity(1)),
                Ok(_) if p.serial => Err(format!(
                    "{} is serial-tracked: one unit per serial number.",
                    p.sku
                )),
                Ok(n) => {
                    let n = parse_quantity("quantity", n).map_err(|e| {
                        format!(
                            "{} Type how many you have.",
                            e.message.trim_end_matches('.')
                        )
                    })?;
                    match over(p, n) {
                        Some(why) => Err(why),
                        None => Ok(ReceiveMove::Quantity(n)),
                    }
                }
                Err(_) => Err(format!(
                    "Unknown bin {raw}. Scan the label of the bin the {} × {} go into.",
                    p.quantity, p.sku
                )),
            }
        }
    }
}

fn start(item: &ScannedItem, today: &str) -> Result<ReceiveMove, String> {
    if item.bundle {
        return Err(format!(
            "{} is a bundle and holds no stock. Receive its components.",
            item.sku
        ));
    }
    if !item.on_delivery {
        return Err(format!(
            "{} is not on this delivery. Set it aside and tell your lead, or receive it blind.",
            item.sku
        ));
    }
    if item.open == Some(0) {
        return Err(format!(
            "Every unit of {} expected on this delivery is received already. Set the extra aside, or receive it blind.",
            item.sku
        ));
    }
    if let Some(exp) = &item.expires_on {
        if exp.as_str() < today {
            return Err(format!(
                "This case of {} expired on {exp}. Don't put it away; set it aside for your lead.",
                item.sku
            ));
        }
    }
    let lot = match item.tracking {
        Tracking::None => String::new(),
        Tracking::Lots | Tracking::Serials => item.lot.clone().unwrap_or_default(),
    };
    let serial = item.tracking == Tracking::Serials;
    Ok(ReceiveMove::Item {
        needs_lot: item.tracking != Tracking::None && lot.is_empty(),
        pending: Pending {
            sku: item.sku.clone(),
            lot,
            expires_on: item.expires_on.clone().unwrap_or_default(),
            quantity: 1,
            open: item.open,
            serial,
        },
    })
}

/// What the agent is told after an accepted scan that didn't put anything
/// away yet.
pub fn prompt(step: ReceiveStep, p: &Pending) -> String {
    match step {
        ReceiveStep::Item => "Scan the next item.".into(),
        ReceiveStep::Lot => format!(
            "{} confirmed. Scan or type the {} on the case.",
            p.sku,
            if p.serial { "serial number" } else { "lot" }
        ),
        ReceiveStep::Put if p.serial => format!(
            "{} serial {} confirmed. Scan the bin it goes into.",
            p.sku, p.lot
        ),
        ReceiveStep::Put => format!(
            "{} × {} ready. Type the quantity or scan each unit, then scan the bin.",
            p.quantity, p.sku
        ),
    }
}

/// Units short and over on a delivery when it is closed, per line as
/// (expected, received).
pub fn discrepancy(lines: &[(i64, i64)]) -> (i64, i64) {
    lines.iter().fold((0, 0), |(short, extra), &(e, r)| {
        (short + (e - r).max(0), extra + (r - e).max(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: &str = "2026-11-27";

    fn item(sku: &str, open: Option<i64>) -> ScannedItem {
        ScannedItem {
            sku: sku.into(),
            bundle: false,
            tracking: Tracking::None,
            lot: None,
            expires_on: None,
            open,
            on_delivery: true,
        }
    }

    fn scan_item(i: ScannedItem) -> Scan {
        Scan {
            raw: i.sku.clone(),
            item: Some(i),
            ..Default::default()
        }
    }

    fn scan_text(raw: &str) -> Scan {
        Scan {
            raw: raw.into(),
            ..Default::default()
        }
    }

    fn scan_bin(code: &str) -> Scan {
        Scan {
            raw: code.into(),
            bin: Some(code.into()),
            ..Default::default()
        }
    }

    fn pending(open: Option<i64>) -> Pending {
        Pending {
            sku: "A".into(),
            lot: String::new(),
            expires_on: String::new(),
            quantity: 1,
            open,
            serial: false,
        }
    }

    #[test]
    fn an_item_on_the_delivery_starts_a_putaway_of_one() {
        let mv = receive_scan(
            ReceiveStep::Item,
            None,
            &scan_item(item("A", Some(5))),
            TODAY,
        );
        assert_eq!(
            mv,
            Ok(ReceiveMove::Item {
                pending: pending(Some(5)),
                needs_lot: false
            })
        );
    }

    #[test]
    fn items_not_announced_or_already_received_are_refused() {
        let mut stray = item("Z", None);
        stray.on_delivery = false;
        let e = receive_scan(ReceiveStep::Item, None, &scan_item(stray), TODAY).unwrap_err();
        assert!(e.contains("Z is not on this delivery"), "{e}");
        let e = receive_scan(
            ReceiveStep::Item,
            None,
            &scan_item(item("A", Some(0))),
            TODAY,
        )
        .unwrap_err();
        assert!(e.contains("Every unit of A"), "{e}");
        let e = receive_scan(ReceiveStep::Item, None, &scan_bin("A-01-01"), TODAY).unwrap_err();
        assert!(e.contains("A-01-01 is a bin"), "{e}");
        let e = receive_scan(ReceiveStep::Item, None, &scan_text("NOPE"), TODAY).unwrap_err();
        assert!(e.contains("Unknown item NOPE"), "{e}");
    }

    #[test]
    fn a_bundle_is_received_as_its_components() {
        let mut kit = item("KIT", None);
        kit.bundle = true;
        let e = receive_scan(ReceiveStep::Item, None, &scan_item(kit), TODAY).unwrap_err();
        assert_eq!(
            e,
            "KIT is a bundle and holds no stock. Receive its components."
        );
    }

    #[test]
    fn expired_cases_are_refused_and_gs1_lots_skip_the_lot_step() {
        let mut lotted = item("M", None);
        lotted.tracking = Tracking::Lots;
        lotted.expires_on = Some("2026-11-26".into());
        lotted.lot = Some("L1".into());
        let e =
            receive_scan(ReceiveStep::Item, None, &scan_item(lotted.clone()), TODAY).unwrap_err();
        assert!(e.contains("expired on 2026-11-26"), "{e}");
        lotted.expires_on = Some("2027-01-31".into());
        match receive_scan(ReceiveStep::Item, None, &scan_item(lotted.clone()), TODAY) {
            Ok(ReceiveMove::Item { pending, needs_lot }) => {
                assert!(!needs_lot);
                assert_eq!(
                    (pending.lot.as_str(), pending.expires_on.as_str()),
                    ("L1", "2027-01-31")
                );
            }
            other => panic!("{other:?}"),
        }
        lotted.lot = None;
        assert!(matches!(
            receive_scan(ReceiveStep::Item, None, &scan_item(lotted), TODAY),
            Ok(ReceiveMove::Item {
                needs_lot: true,
                ..
            })
        ));
    }

    #[test]
    fn the_lot_step_takes_text_but_not_an_item_or_bin() {
        let p = pending(None);
        assert_eq!(
            receive_scan(ReceiveStep::Lot, Some(&p), &scan_text("LOT-77"), TODAY),
            Ok(ReceiveMove::Lot("LOT-77".into()))
        );
        let e = receive_scan(ReceiveStep::Lot, Some(&p), &scan_bin("A-01-01"), TODAY).unwrap_err();
        assert!(e.contains("lot printed on the case of A"), "{e}");
    }

    #[test]
    fn quantities_and_repeat_scans_stop_at_what_is_expected() {
        let mut p = pending(Some(3));
        assert_eq!(
            receive_scan(ReceiveStep::Put, Some(&p), &scan_text("3"), TODAY),
            Ok(ReceiveMove::Quantity(3))
        );
        let e = receive_scan(ReceiveStep::Put, Some(&p), &scan_text("4"), TODAY).unwrap_err();
        assert!(e.starts_with("Only 3 more of A are expected"), "{e}");
        assert!(receive_scan(ReceiveStep::Put, Some(&p), &scan_text("0"), TODAY).is_err());
        assert_eq!(
            receive_scan(
                ReceiveStep::Put,
                Some(&p),
                &scan_item(item("A", Some(3))),
                TODAY
            ),
            Ok(ReceiveMove::OneMore)
        );
        p.quantity = 3;
        let e = receive_scan(
            ReceiveStep::Put,
            Some(&p),
            &scan_item(item("A", Some(3))),
            TODAY,
        )
        .unwrap_err();
        assert!(e.contains("Only 3 more"), "{e}");
        let e = receive_scan(
            ReceiveStep::Put,
            Some(&p),
            &scan_item(item("B", None)),
            TODAY,
        )
        .unwrap_err();
        assert!(e.contains("Put away the 3 × A first"), "{e}");
        // Blind: no ceiling.
        let blind = pending(None);
        assert_eq!(
            receive_scan(ReceiveStep::Put, Some(&blind), &scan_text("500"), TODAY),
            Ok(ReceiveMove::Quantity(500))
        );
    }

    #[test]
    fn a_bin_puts_away_and_an_unknown_code_says_so() {
        let p = pending(None);
        assert_eq!(
            receive_scan(ReceiveStep::Put, Some(&p), &scan_bin("B-02-03"), TODAY),
            Ok(ReceiveMove::PutAway("B-02-03".into()))
        );
        let e = receive_scan(ReceiveStep::Put, Some(&p), &scan_text("X-99"), TODAY).unwrap_err();
        assert!(e.contains("Unknown bin X-99"), "{e}");
    }

    #[test]
    fn serials_go_one_at_a_time() {
        let mut p = pending(None);
        p.serial = true;
        p.lot = "SN1".into();
        assert!(receive_scan(ReceiveStep::Put, Some(&p), &scan_text("2"), TODAY).is_err());
        assert_eq!(
            receive_scan(ReceiveStep::Put, Some(&p), &scan_text("1"), TODAY),
            Ok(ReceiveMove::Quantity(1))
        );
        assert!(receive_scan(
            ReceiveStep::Put,
            Some(&p),
            &scan_item(item("A", None)),
            TODAY
        )
        .unwrap_err()
        .contains("serial-tracked"));
    }

    #[test]
    fn discrepancies_count_short_and_extra_units() {
        assert_eq!(discrepancy(&[(10, 8), (5, 5), (0, 3)]), (2, 3));
    }
}
