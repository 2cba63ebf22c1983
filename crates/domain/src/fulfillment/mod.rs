//! Sourcing: which warehouse ships which units of an order, and why.
//!
//! Invariants:
//! - A plan never takes more of a product from a warehouse than is spare
//!   there; `plan` consumes what it takes from the [`Spare`] it is given, so
//!   orders planned one after another never double-count stock.
//! - Every unit of every line is either in exactly one shipment or
//!   backordered.
//! - The choice is deterministic: the same needs, priority and stock give the
//!   same plan, with the same words.
//!
//! The rules, in order: only the channel's warehouses, in its priority order;
//! ship complete from one warehouse when possible; otherwise the fewest
//! warehouses that ship everything that can ship; otherwise backorder the
//! rest. Ties go to the warehouses earlier in the priority list.

pub mod floor;
pub use floor::*;
use std::collections::BTreeMap;

/// One product a line takes: an item takes itself once, a bundle each of its
/// components `per_unit` times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub product_id: String,
    pub per_unit: i64,
}

/// Units of one order line still to source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub line_no: i64,
    pub sku: String,
    pub units: i64,
    pub parts: Vec<Part>,
}

/// Spare units (on hand − reserved − the channel's buffer) per product and
/// warehouse code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spare(BTreeMap<String, BTreeMap<String, i64>>);

impl Spare {
    pub fn set(&mut self, product_id: &str, warehouse: &str, units: i64) {
        self.0
            .entry(product_id.to_string())
            .or_default()
            .insert(warehouse.to_string(), units);
    }

    pub fn get(&self, product_id: &str, warehouse: &str) -> i64 {
        self.0
            .get(product_id)
            .and_then(|w| w.get(warehouse))
            .copied()
            .unwrap_or(0)
            .max(0)
    }

    fn take(&mut self, product_id: &str, warehouse: &str, units: i64) {
        *self
            .0
            .entry(product_id.to_string())
            .or_default()
            .entry(warehouse.to_string())
            .or_insert(0) -= units;
    }

    fn take_line(&mut self, need: &Need, warehouse: &str, units: i64) {
        for p in &need.parts {
            self.take(&p.product_id, warehouse, p.per_unit * units);
        }
    }
}

/// Stock as a trial fill sees it: the spare less what the trial has taken,
/// without copying the whole spare for every combination tried.
struct Trial<'s, 'n> {
    base: &'s Spare,
    buffer: i64,
    used: Vec<(&'n str, usize, i64)>,
}

impl<'n> Trial<'_, 'n> {
    fn left(&self, product_id: &str, w: usize, warehouse: &str) -> i64 {
        let used: i64 = self
            .used
            .iter()
            .filter(|(p, wi, _)| *wi == w && *p == product_id)
            .map(|u| u.2)
            .sum();
        self.base.get(product_id, warehouse) - self.buffer - used
    }

    fn line_units(&self, need: &Need, w: usize, warehouse: &str) -> i64 {
        line_units(need, |p| self.left(p, w, warehouse))
    }

    fn take_line(&mut self, need: &'n Need, w: usize, units: i64) {
        for p in &need.parts {
            self.used.push((&p.product_id, w, p.per_unit * units));
        }
    }
}

/// Whole units of a line that the stock `left` gives.
fn line_units(need: &Need, left: impl Fn(&str) -> i64) -> i64 {
    need.parts
        .iter()
        .map(|p| {
            if p.per_unit <= 0 {
                0
            } else {
                left(&p.product_id).max(0) / p.per_unit
            }
        })
        .min()
        .unwrap_or(0)
}

/// Units of one line a shipment carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub line_no: i64,
    pub sku: String,
    pub units: i64,
}

/// What one warehouse ships, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shipment {
    pub warehouse: String,
    pub lines: Vec<Take>,
    pub reason: String,
}

/// Units of a line no warehouse could give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backorder {
    pub line_no: i64,
    pub sku: String,
    pub units: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub shipments: Vec<Shipment>,
    pub backorders: Vec<Backorder>,
}

impl Plan {
    pub fn shipped_units(&self) -> i64 {
        self.shipments
            .iter()
            .flat_map(|s| &s.lines)
            .map(|t| t.units)
            .sum()
    }

    pub fn backordered_units(&self) -> i64 {
        self.backorders.iter().map(|b| b.units).sum()
    }

    /// Units of a line in each warehouse, for the reservation's allocations.
    pub fn takes(&self) -> impl Iterator<Item = (&str, &Take)> {
        self.shipments
            .iter()
            .flat_map(|s| s.lines.iter().map(move |t| (s.warehouse.as_str(), t)))
    }
}

/// Above this many warehouses the search over combinations would cost more
/// than it saves; the plan then uses the priority order alone (dropping the
/// warehouses it did not need).
const MAX_SEARCHED_WAREHOUSES: usize = 10;

/// Sources `needs` from the channel's warehouses (`priority`, first
/// preferred), leaving the channel's safety `buffer` of every product in each
/// warehouse, and takes what it plans out of `spare`.
pub fn plan(
    channel: &str,
    priority: &[String],
    needs: &[Need],
    spare: &mut Spare,
    buffer: i64,
) -> Plan {
    let needs: Vec<&Need> = needs.iter().filter(|n| n.units > 0).collect();
    if needs.is_empty() {
        return Plan::default();
    }
    let all: Vec<usize> = (0..priority.len()).collect();
    let (target, _) = fill(&needs, priority, &all, spare, buffer);
    let chosen = if priority.len() <= MAX_SEARCHED_WAREHOUSES {
        best_subset(&needs, priority, spare, buffer, target)
    } else {
        all
    };
    let (_, takes) = fill(&needs, priority, &chosen, spare, buffer);
    // The words describe the stock as it was before this plan takes from it.
    let before: &Spare = spare;
    let mut shipments: Vec<Shipment> = Vec::new();
    for &w in &chosen {
        let lines: Vec<Take> = takes
            .iter()
            .filter(|(wi, _, _)| *wi == w)
            .map(|(_, n, units)| Take {
                line_no: n.line_no,
                sku: n.sku.clone(),
                units: *units,
            })
            .collect();
        if !lines.is_empty() {
            shipments.push(Shipment {
                warehouse: priority[w].clone(),
                lines,
                reason: String::new(),
            });
        }
    }
    let mut backorders = Vec::new();
    for n in &needs {
        let got: i64 = takes
            .iter()
            .filter(|(_, t, _)| t.line_no == n.line_no)
            .map(|t| t.2)
            .sum();
        if got < n.units {
            let anywhere: i64 = priority
                .iter()
                .map(|w| stock_units(before, buffer, n, w))
                .sum();
            backorders.push(Backorder {
                line_no: n.line_no,
                sku: n.sku.clone(),
                units: n.units - got,
                reason: if anywhere + got == 0 {
                    format!("{}: in stock nowhere in {channel}'s warehouses", n.sku)
                } else {
                    format!(
                        "{}: {} short across {channel}'s warehouses",
                        n.sku,
                        n.units - got
                    )
                },
            });
        }
    }
    let complete = backorders.is_empty() && shipments.len() == 1;
    let count = shipments.len();
    // Which warehouses carry each line, in the shipments' order: a line split
    // over several is explained by the ones before.
    let mut carriers: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for s in &shipments {
        for t in &s.lines {
            carriers
                .entry(t.line_no)
                .or_default()
                .push(s.warehouse.clone());
        }
    }
    for s in &mut shipments {
        s.reason = reason(
            channel,
            priority,
            &needs,
            (before, buffer),
            s,
            complete,
            (count, &carriers),
        );
    }
    for (w, n, units) in &takes {
        spare.take_line(n, &priority[*w], *units);
    }
    Plan {
        shipments,
        backorders,
    }
}

/// The plan when the first warehouse in priority has every unit, for a
/// caller that has already taken them there: what `plan` would choose.
pub fn whole_from_first(channel: &str, priority: &[String], needs: &[Need]) -> Plan {
    let lines: Vec<Take> = needs
        .iter()
        .filter(|n| n.units > 0)
        .map(|n| Take {
            line_no: n.line_no,
            sku: n.sku.clone(),
            units: n.units,
        })
        .collect();
    match priority.first() {
        Some(w) if !lines.is_empty() => Plan {
            shipments: vec![Shipment {
                warehouse: w.clone(),
                lines,
                reason: format!("{w}: first in {channel}'s priority, ships complete"),
            }],
            backorders: Vec::new(),
        },
        _ => Plan::default(),
    }
}

/// The fewest warehouses (earliest in priority on a tie) that ship `target`
/// units, the most any combination ships.
fn best_subset(
    needs: &[&Need],
    priority: &[String],
    spare: &Spare,
    buffer: i64,
    target: i64,
) -> Vec<usize> {
    let k = priority.len();
    for size in 1..=k {
        let mut found = None;
        combinations(k, size, &mut |subset| {
            if found.is_none() && fill(needs, priority, subset, spare, buffer).0 == target {
                found = Some(subset.to_vec());
            }
        });
        if let Some(s) = found {
            return s;
        }
    }
    (0..k).collect()
}

/// Calls `f` with every `size`-subset of `0..k` in lexicographic order, so the
/// first subsets are the ones earliest in the priority list.
fn combinations(k: usize, size: usize, f: &mut dyn FnMut(&[usize])) {
    fn go(start: usize, k: usize, left: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
        if left == 0 {
            f(cur);
            return;
        }
        for i in start..=k - left {
            cur.push(i);
            go(i + 1, k, left - 1, cur, f);
            cur.pop();
        }
    }
    go(0, k, size, &mut Vec::with_capacity(size), f);
}

/// What the warehouses in `subset` ship: each line whole from the first one
/// that has all of it, else split over them in priority order. Returns the
/// units shipped and (warehouse index, line, units).
fn fill<'a>(
    needs: &[&'a Need],
    priority: &[String],
    subset: &[usize],
    spare: &Spare,
    buffer: i64,
) -> (i64, Vec<(usize, &'a Need, i64)>) {
    let mut left = Trial {
        base: spare,
        buffer,
        used: Vec::new(),
    };
    let mut takes = Vec::new();
    let mut shipped = 0;
    for n in needs {
        if let Some(&w) = subset
            .iter()
            .find(|&&w| left.line_units(n, w, &priority[w]) >= n.units)
        {
            left.take_line(n, w, n.units);
            takes.push((w, *n, n.units));
            shipped += n.units;
            continue;
        }
        let mut rest = n.units;
        for &w in subset {
            let units = rest.min(left.line_units(n, w, &priority[w]));
            if units > 0 {
                left.take_line(n, w, units);
                takes.push((w, *n, units));
                shipped += units;
                rest -= units;
            }
        }
    }
    (shipped, takes)
}

fn stock_units(spare: &Spare, buffer: i64, need: &Need, warehouse: &str) -> i64 {
    line_units(need, |p| spare.get(p, warehouse) - buffer)
}

/// Why this warehouse ships these lines, in words a warehouse lead reads.
fn reason(
    channel: &str,
    priority: &[String],
    needs: &[&Need],
    (before, buffer): (&Spare, i64),
    s: &Shipment,
    complete: bool,
    (shipments, carriers): (usize, &BTreeMap<i64, Vec<String>>),
) -> String {
    let w = &s.warehouse;
    let rank = priority.iter().position(|p| p == w).unwrap_or(0);
    if complete {
        if rank == 0 {
            return format!("{w}: first in {channel}'s priority, ships complete");
        }
        let short: Vec<String> = priority[..rank]
            .iter()
            .map(|p| {
                let missing: Vec<&str> = needs
                    .iter()
                    .filter(|n| stock_units(before, buffer, n, p) < n.units)
                    .map(|n| n.sku.as_str())
                    .collect();
                format!("{p} is short of {}", missing.join(", "))
            })
            .collect();
        return format!(
            "{w}: the first warehouse that ships complete ({})",
            short.join("; ")
        );
    }
    let mut only = Vec::new();
    let mut first = Vec::new();
    let mut grouped = Vec::new();
    let mut rest = Vec::new();
    for t in &s.lines {
        let Some(n) = needs.iter().find(|n| n.line_no == t.line_no) else {
            continue;
        };
        let earlier: Vec<&str> = carriers
            .get(&t.line_no)
            .map(|ws| {
                ws.iter()
                    .take_while(|c| *c != w)
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default();
        if !earlier.is_empty() {
            rest.push(format!(
                "the rest of {} ({} had too few)",
                t.sku,
                earlier.join(", ")
            ));
            continue;
        }
        let stocked: Vec<&String> = priority
            .iter()
            .filter(|p| stock_units(before, buffer, n, p) > 0)
            .collect();
        if stocked.len() == 1 {
            only.push(t.sku.as_str());
        } else if stocked.first() == Some(&w) {
            first.push(t.sku.as_str());
        } else {
            grouped.push(t.sku.as_str());
        }
    }
    let mut parts = Vec::new();
    if !only.is_empty() {
        parts.push(format!("only warehouse with {} in stock", only.join(", ")));
    }
    if !first.is_empty() {
        parts.push(format!(
            "first in {channel}'s priority with {} in stock",
            first.join(", ")
        ));
    }
    if !grouped.is_empty() {
        parts.push(format!(
            "ships {} to keep the order to {shipments} shipment{}",
            grouped.join(", "),
            if shipments == 1 { "" } else { "s" }
        ));
    }
    parts.extend(rest);
    format!("{w}: {}", parts.join("; "))
}

/// What a sourcing rule does to a run of orders: the dry run's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourcingStats {
    pub orders: i64,
    pub lines: i64,
    pub shipments: i64,
    /// Orders shipped from more than one warehouse.
    pub split_orders: i64,
    /// Orders with any unit backordered.
    pub backordered_orders: i64,
    pub backordered_units: i64,
    /// Units per warehouse, in the rule's priority order.
    pub units_by_warehouse: Vec<(String, i64)>,
}

impl SourcingStats {
    pub fn add(&mut self, needs: &[Need], plan: &Plan) {
        self.orders += 1;
        self.lines += needs.iter().filter(|n| n.units > 0).count() as i64;
        self.shipments += plan.shipments.len() as i64;
        self.split_orders += i64::from(plan.shipments.len() > 1);
        self.backordered_orders += i64::from(!plan.backorders.is_empty());
        self.backordered_units += plan.backordered_units();
        for s in &plan.shipments {
            let units: i64 = s.lines.iter().map(|t| t.units).sum();
            match self
                .units_by_warehouse
                .iter_mut()
                .find(|(w, _)| *w == s.warehouse)
            {
                Some(e) => e.1 += units,
                None => self.units_by_warehouse.push((s.warehouse.clone(), units)),
            }
        }
    }

    /// Split orders per hundred orders, to one decimal.
    pub fn split_rate(&self) -> f64 {
        if self.orders == 0 {
            0.0
        } else {
            (self.split_orders * 1000 / self.orders) as f64 / 10.0
        }
    }
}

/// Plans `orders` (each its needs, oldest first) in turn from `spare` under
/// one priority list: what the dry run reports for a rule.
pub fn simulate(
    channel: &str,
    priority: &[String],
    buffer: i64,
    orders: &[Vec<Need>],
    mut spare: Spare,
) -> SourcingStats {
    let mut stats = SourcingStats::default();
    for needs in orders {
        let p = plan(channel, priority, needs, &mut spare, buffer);
        stats.add(needs, &p);
    }
    stats
}

/// The most orders a dry run replays.
pub const MAX_DRY_RUN_ORDERS: i64 = 5_000;

/// A proposed sourcing rule: the channel's warehouses in priority order, and
/// how many of its latest orders to try it on.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// The proposed priority, first preferred.
    #[schemars(length(min = 1, max = 20))]
    pub warehouses: Vec<String>,
    /// How many of the channel's latest orders to replay (default 500).
    #[serde(default)]
    #[schemars(range(min = 1, max = 5000))]
    pub orders: Option<i64>,
}

/// A rule that parsed: warehouse codes (trimmed, upper case, no repeats) and
/// the number of orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub warehouses: Vec<String>,
    pub orders: i64,
}

impl RuleInput {
    /// Checks the list's shape; whether each warehouse exists is the
    /// store's to say.
    pub fn parse(&self) -> Result<Rule, Vec<crate::FieldError>> {
        let mut errors = Vec::new();
        let mut warehouses: Vec<String> = Vec::new();
        for (i, w) in self.warehouses.iter().enumerate() {
            let code = w.trim().to_uppercase();
            if code.is_empty() {
                errors.push(crate::FieldError::new(
                    format!("warehouses[{i}]"),
                    "name a warehouse code",
                ));
            } else if warehouses.contains(&code) {
                errors.push(crate::FieldError::new(
                    format!("warehouses[{i}]"),
                    format!("{code} is listed twice"),
                ));
            } else {
                warehouses.push(code);
            }
        }
        if self.warehouses.is_empty() {
            errors.push(crate::FieldError::new(
                "warehouses",
                "list at least one warehouse, first preferred",
            ));
        } else if self.warehouses.len() > 20 {
            errors.push(crate::FieldError::new(
                "warehouses",
                "a channel ships from at most 20 warehouses",
            ));
        }
        let orders = self.orders.unwrap_or(500);
        if !(1..=MAX_DRY_RUN_ORDERS).contains(&orders) {
            errors.push(crate::FieldError::new(
                "orders",
                format!("try the rule on 1 to {MAX_DRY_RUN_ORDERS} orders"),
            ));
        }
        if errors.is_empty() {
            Ok(Rule { warehouses, orders })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests;
