//! The command center's KPIs: what each order contributes to the daily
//! figures, and how the figures of a period become the numbers, comparisons,
//! trends and drill-down links a manager reads. Pure: the store sums the
//! figures; this module decides what they mean.
//!
//! Every KPI is a ratio or a sum of additive daily figures, so the dashboard
//! reads one row per day, channel, warehouse and currency however many
//! orders there are, and a changed order moves its old contribution out and
//! its new one in.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::{prelude::ToPrimitive, Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{
    money::{Currency, Money},
    views::{Kpi, KpiPart, KpiPoint},
    FieldError,
};

/// An order's row as the KPIs need it. Times are microseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderInputs {
    pub status: String,
    pub channel: String,
    pub warehouse: Option<String>,
    pub currency: String,
    pub placed_at: i64,
    pub total_minor: i64,
    pub tax_minor: i64,
    pub shipping_minor: i64,
    /// Cost of the units not cancelled, at the product's cost in the order's currency.
    pub cogs_minor: i64,
    pub manual_touches: i64,
    pub cancelled_at: Option<i64>,
    pub shipped_at: Option<i64>,
    pub shipped_late: Option<bool>,
    pub updated_at: i64,
}

/// What one order contributes, kept per order so a change can be undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFact {
    pub day: String,
    pub channel: String,
    pub warehouse: String,
    pub currency: String,
    pub status: String,
    pub cancelled: bool,
    pub revenue_minor: i64,
    pub cogs_minor: i64,
    pub shipping_minor: i64,
    pub touches: i64,
    pub shipped_day: Option<String>,
    pub cycle_minutes: i64,
    pub on_time: bool,
    pub finished_day: Option<String>,
}

/// Statuses that are still work to do: the backlog.
pub const OPEN_STATUSES: [&str; 3] = ["received", "confirmed", "in_fulfilment"];
const SHIPPED_STATUSES: [&str; 3] = ["shipped", "delivered", "closed"];

pub fn day_of(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .date_naive()
        .to_string()
}

/// The order's contribution. Revenue is what the customer pays less tax
/// (goods after discounts, plus shipping charged); a cancelled order
/// contributes its count but no money.
pub fn order_fact(o: &OrderInputs) -> OrderFact {
    let cancelled = o.status == "cancelled";
    let shipped = SHIPPED_STATUSES.contains(&o.status.as_str());
    let shipped_at = o.shipped_at.filter(|_| shipped);
    let money = |v: i64| if cancelled { 0 } else { v };
    let finished_at = if OPEN_STATUSES.contains(&o.status.as_str()) {
        None
    } else if cancelled {
        Some(o.cancelled_at.unwrap_or(o.updated_at))
    } else {
        Some(shipped_at.unwrap_or(o.updated_at))
    };
    OrderFact {
        day: day_of(o.placed_at),
        channel: o.channel.clone(),
        warehouse: o.warehouse.clone().unwrap_or_default(),
        currency: o.currency.clone(),
        status: o.status.clone(),
        cancelled,
        revenue_minor: money(o.total_minor - o.tax_minor),
        cogs_minor: money(o.cogs_minor),
        shipping_minor: money(o.shipping_minor),
        touches: o.manual_touches,
        shipped_day: shipped_at.map(day_of),
        cycle_minutes: shipped_at.map_or(0, |s| (s - o.placed_at).max(0) / 60_000_000),
        on_time: shipped_at.is_some() && o.shipped_late == Some(false),
        finished_day: finished_at.map(day_of),
    }
}

/// The additive figures of one day (and channel, warehouse, currency).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measures {
    pub orders: i64,
    pub cancelled: i64,
    pub revenue_minor: i64,
    pub cogs_minor: i64,
    pub shipping_minor: i64,
    pub touches: i64,
    pub shipped: i64,
    pub cycle_minutes: i64,
    pub on_time: i64,
    pub finished: i64,
}

impl Measures {
    fn combine(&mut self, o: &Measures, sign: i64) {
        self.orders += sign * o.orders;
        self.cancelled += sign * o.cancelled;
        self.revenue_minor += sign * o.revenue_minor;
        self.cogs_minor += sign * o.cogs_minor;
        self.shipping_minor += sign * o.shipping_minor;
        self.touches += sign * o.touches;
        self.shipped += sign * o.shipped;
        self.cycle_minutes += sign * o.cycle_minutes;
        self.on_time += sign * o.on_time;
        self.finished += sign * o.finished;
    }

    pub fn add(&mut self, o: &Measures) {
        self.combine(o, 1);
    }

    pub fn is_zero(&self) -> bool {
        *self == Measures::default()
    }

    /// Revenue less the cost of goods and shipping.
    pub fn margin_minor(&self) -> i64 {
        self.revenue_minor - self.cogs_minor - self.shipping_minor
    }
}

/// Where a day's figures are kept: day, channel, warehouse, currency.
pub type DayKey = (String, String, String, String);
/// Where an open order is counted: status, channel, warehouse.
pub type BacklogKey = (String, String, String);

fn contributions(f: &OrderFact) -> (BTreeMap<DayKey, Measures>, Option<BacklogKey>) {
    let key = |day: &str| {
        (
            day.to_string(),
            f.channel.clone(),
            f.warehouse.clone(),
            f.currency.clone(),
        )
    };
    let mut out: BTreeMap<DayKey, Measures> = BTreeMap::new();
    out.entry(key(&f.day)).or_default().add(&Measures {
        orders: 1,
        cancelled: i64::from(f.cancelled),
        revenue_minor: f.revenue_minor,
        cogs_minor: f.cogs_minor,
        shipping_minor: f.shipping_minor,
        touches: f.touches,
        ..Measures::default()
    });
    if let Some(d) = &f.shipped_day {
        out.entry(key(d)).or_default().add(&Measures {
            shipped: 1,
            cycle_minutes: f.cycle_minutes,
            on_time: i64::from(f.on_time),
            ..Measures::default()
        });
    }
    if let Some(d) = &f.finished_day {
        out.entry(key(d)).or_default().add(&Measures {
            finished: 1,
            ..Measures::default()
        });
    }
    let backlog = OPEN_STATUSES
        .contains(&f.status.as_str())
        .then(|| (f.status.clone(), f.channel.clone(), f.warehouse.clone()));
    (out, backlog)
}

/// Changes to the daily figures and to the backlog counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delta {
    pub days: Vec<(DayKey, Measures)>,
    pub backlog: Vec<(BacklogKey, i64)>,
}

/// What changes in the daily figures and the backlog when an order's
/// contribution goes from `old` to `new`: the old one out, the new one in.
/// Keys whose figures cancel out are left out, so an unchanged order
/// writes nothing.
pub fn delta(old: Option<&OrderFact>, new: Option<&OrderFact>) -> Delta {
    let mut days: BTreeMap<DayKey, Measures> = BTreeMap::new();
    let mut backlog: BTreeMap<BacklogKey, i64> = BTreeMap::new();
    for (fact, sign) in [(old, -1), (new, 1)] {
        let Some(f) = fact else { continue };
        let (d, b) = contributions(f);
        for (k, m) in d {
            days.entry(k).or_default().combine(&m, sign);
        }
        if let Some(b) = b {
            *backlog.entry(b).or_default() += sign;
        }
    }
    Delta {
        days: days.into_iter().filter(|(_, m)| !m.is_zero()).collect(),
        backlog: backlog.into_iter().filter(|(_, n)| *n != 0).collect(),
    }
}

/// The period a board covers, and the one before it of the same length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The longest period a board shows day by day.
pub const MAX_DAYS: i64 = 366;
/// The default period: the last four weeks, today included.
pub const DEFAULT_DAYS: i64 = 28;

impl Period {
    /// Reads `from` and `to` (YYYY-MM-DD, either may be blank), defaulting
    /// to the four weeks up to `today`.
    pub fn parse(from: &str, to: &str, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut day = |field: &str, v: &str| {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new(
                        field,
                        format!("`{v}` is not a date; use YYYY-MM-DD"),
                    ));
                    None
                }
            }
        };
        let (f, t) = (day("from", from), day("to", to));
        if !errors.is_empty() {
            return Err(errors);
        }
        let to = t.unwrap_or(today);
        let from = f.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
        if from > to {
            return Err(vec![FieldError::new(
                "from",
                "the period starts after it ends",
            )]);
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(vec![FieldError::new(
                "from",
                format!("a board covers at most {MAX_DAYS} days; pick a shorter period"),
            )]);
        }
        Ok(Self { from, to })
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    pub fn previous(&self) -> Period {
        let to = self.from - Duration::days(1);
        Period {
            from: to - Duration::days(self.days() - 1),
            to,
        }
    }

    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        (0..self.days()).map(move |i| self.from + Duration::days(i))
    }
}

/// Cycle counts submitted on a day: lines counted, and those that matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CountFigures {
    pub lines: i64,
    pub accurate: i64,
}

/// Everything a board is computed from, already summed by the store.
#[derive(Debug, Clone, Default)]
pub struct BoardInputs {
    /// The period's figures per day (days without activity absent).
    pub days: BTreeMap<NaiveDate, Measures>,
    /// The previous period's figures, summed.
    pub previous: Measures,
    /// The period's figures per channel, summed.
    pub by_channel: BTreeMap<String, Measures>,
    /// Orders open now, by status.
    pub backlog: BTreeMap<String, i64>,
    /// Orders placed minus orders finished after the period ended (to
    /// roll the backlog back to each day's end).
    pub net_since_period: i64,
    /// Cycle-count lines submitted per day, and in the previous period.
    pub counts: BTreeMap<NaiveDate, CountFigures>,
    pub previous_counts: CountFigures,
    /// Stockouts that began on each day, and in the previous period.
    pub stockouts: BTreeMap<NaiveDate, i64>,
    pub previous_stockouts: i64,
    /// Products out of stock now.
    pub stockouts_open: i64,
}

/// The filters a board was asked for, carried into every drill-down link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub channel: Option<String>,
    pub warehouse: Option<String>,
}

fn workbench(scope: &Scope, extra: &[(&str, String)]) -> String {
    let mut q: Vec<String> = Vec::new();
    if let Some(c) = &scope.channel {
        q.push(format!("channel={c}"));
    }
    if let Some(w) = &scope.warehouse {
        q.push(format!("warehouse={w}"));
    }
    q.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
    format!("/command/orders?{}", q.join("&"))
}

fn placed(scope: &Scope, from: NaiveDate, to: NaiveDate) -> String {
    workbench(scope, &[("from", from.to_string()), ("to", to.to_string())])
}

fn shipped(scope: &Scope, from: NaiveDate, to: NaiveDate, late: Option<&str>) -> String {
    let mut extra = vec![
        ("shipped_from", from.to_string()),
        ("shipped_to", to.to_string()),
    ];
    if let Some(l) = late {
        extra.push(("shipped", l.to_string()));
    }
    workbench(scope, &extra)
}

/// The cycle counts submitted in the days given, in the board's warehouse.
fn count_list(scope: &Scope, from: NaiveDate, to: NaiveDate) -> String {
    let mut q = format!("/command/counts?submitted_from={from}&submitted_to={to}");
    if let Some(w) = &scope.warehouse {
        q.push_str(&format!("&warehouse={w}"));
    }
    q
}

/// The stockouts that began in the days given, whatever became of them
/// since: the exception items the board counted.
fn stockout_list(from: NaiveDate, to: NaiveDate) -> String {
    format!(
        "/command/exceptions?queue=stockouts&reason=stockout&status=any&opened_from={from}&opened_to={to}"
    )
}

fn ratio(num: i64, den: i64, scale: i64) -> Option<Decimal> {
    (den != 0).then(|| Decimal::from(num) * Decimal::from(scale) / Decimal::from(den))
}

/// Rounded half away from zero and written with exactly `dp` decimals.
fn round_dp(v: Decimal, dp: u32) -> Decimal {
    let mut r = v.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r
}

fn round1(d: Decimal) -> Decimal {
    round_dp(d, 1)
}

fn round2(d: Decimal) -> Decimal {
    round_dp(d, 2)
}

/// How a KPI's number reads.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Hours,
    Percent,
    Count,
    PerOrder,
    Money(Currency),
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Hours => "hours",
            Unit::Percent => "percent",
            Unit::Count => "count",
            Unit::PerOrder => "per_order",
            Unit::Money(_) => "money",
        }
    }

    fn show(self, v: Decimal) -> String {
        match self {
            Unit::Hours => format!("{} h", round1(v)),
            Unit::Percent => format!("{}%", round1(v)),
            Unit::Count => round_dp(v, 0).to_string(),
            Unit::PerOrder => format!("{}", round2(v)),
            Unit::Money(c) => {
                let minor = (v * Decimal::from(10i64.pow(c.minor_units())))
                    .round()
                    .to_i64()
                    .unwrap_or_default();
                Money::from_minor(minor, c).to_string()
            }
        }
    }

    fn value(self, v: Decimal) -> String {
        match self {
            Unit::Money(c) => round_dp(v, c.minor_units()).to_string(),
            Unit::Count => round_dp(v, 0).to_string(),
            _ => round2(v).to_string(),
        }
    }
}

/// `+12.5%` against the previous period, or the change in points for a rate.
fn change(unit: Unit, now: Option<Decimal>, before: Option<Decimal>) -> Option<String> {
    let (n, b) = (now?, before?);
    match unit {
        Unit::Percent => Some(format!("{:+} pts", round1(n - b))),
        // Nothing to take a percentage of: the difference itself.
        _ if b.is_zero() => Some(format!(
            "{}{}",
            if n > b { "+" } else { "" },
            unit.show(n - b)
        )),
        _ => Some(format!(
            "{:+}%",
            round1((n - b) * Decimal::from(100) / b.abs())
        )),
    }
}

struct Spec {
    key: &'static str,
    label: &'static str,
    definition: &'static str,
    unit: Unit,
    higher_is_better: Option<bool>,
    /// Whether the channel filter applies.
    by_channel: bool,
    /// Whether the warehouse filter applies.
    by_warehouse: bool,
}

fn kpi(
    s: Spec,
    value: Option<Decimal>,
    previous: Option<Decimal>,
    link: Option<String>,
    series: Vec<(NaiveDate, Option<Decimal>, Option<String>)>,
    breakdown: Vec<KpiPart>,
) -> Kpi {
    let better = match (value, previous, s.higher_is_better) {
        (Some(v), Some(p), Some(up)) if v != p => Some((v > p) == up),
        _ => None,
    };
    Kpi {
        key: s.key.into(),
        label: s.label.into(),
        definition: s.definition.into(),
        unit: s.unit.name().into(),
        value: value.map(|v| s.unit.value(v)),
        display: value.map_or_else(|| "—".into(), |v| s.unit.show(v)),
        previous: previous.map(|v| s.unit.value(v)),
        previous_display: previous.map_or_else(|| "—".into(), |v| s.unit.show(v)),
        change: change(s.unit, value, previous),
        better,
        link,
        series: series
            .into_iter()
            .map(|(day, v, link)| KpiPoint {
                day: day.to_string(),
                value: v.map(|v| s.unit.value(v)),
                display: v.map_or_else(|| "—".into(), |v| s.unit.show(v)),
                link,
            })
            .collect(),
        breakdown,
        by_channel: s.by_channel,
        by_warehouse: s.by_warehouse,
        pending: None,
    }
}

fn sum<'a>(it: impl Iterator<Item = &'a Measures>) -> Measures {
    let mut m = Measures::default();
    for x in it {
        m.add(x);
    }
    m
}

/// The board's KPIs, in the order the dashboard shows them. Long by design:
/// one block per KPI (its definition, figures and drill-down links), read
/// top to bottom like the dashboard.
pub fn board(period: &Period, scope: &Scope, currency: Currency, i: &BoardInputs) -> Vec<Kpi> {
    let total = sum(i.days.values());
    let at = |d: NaiveDate| i.days.get(&d).copied().unwrap_or_default();
    let money = |minor: i64| Decimal::new(minor, currency.minor_units());
    let per_day = |f: &dyn Fn(&Measures) -> Option<Decimal>, link: &dyn Fn(NaiveDate) -> String| {
        period
            .each_day()
            .map(|d| (d, f(&at(d)), Some(link(d))))
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();

    // Order cycle time: placement to the last units shipping.
    let cycle = |m: &Measures| ratio(m.cycle_minutes, m.shipped * 60, 1);
    out.push(kpi(
        Spec {
            key: "cycle_time",
            label: "Order cycle time",
            definition: "Average hours from an order's capture to its last units shipping, over the orders that finished shipping in the period.",
            unit: Unit::Hours,
            higher_is_better: Some(false),
            by_channel: true,
            by_warehouse: true,
        },
        cycle(&total),
        cycle(&i.previous),
        Some(shipped(scope, period.from, period.to, None)),
        per_day(&cycle, &|d| shipped(scope, d, d, None)),
        Vec::new(),
    ));

    // On-time shipment rate.
    let on_time = |m: &Measures| ratio(m.on_time, m.shipped, 100);
    out.push(kpi(
        Spec {
            key: "on_time",
            label: "On-time shipment rate",
            definition: "Share of the orders that finished shipping in the period whose last units left by the ship-by time (24 h after capture for express services, 48 h for the others).",
            unit: Unit::Percent,
            higher_is_better: Some(true),
            by_channel: true,
            by_warehouse: true,
        },
        on_time(&total),
        on_time(&i.previous),
        Some(shipped(scope, period.from, period.to, Some("late"))),
        per_day(&on_time, &|d| shipped(scope, d, d, Some("late"))),
        vec![
            KpiPart {
                label: "Shipped on time".into(),
                value: total.on_time.to_string(),
                link: Some(shipped(scope, period.from, period.to, Some("on_time"))),
            },
            KpiPart {
                label: "Shipped late".into(),
                value: (total.shipped - total.on_time).to_string(),
                link: Some(shipped(scope, period.from, period.to, Some("late"))),
            },
        ],
    ));

    // Inventory accuracy from cycle counts.
    let counts: CountFigures =
        i.counts
            .values()
            .fold(CountFigures::default(), |a, c| CountFigures {
                lines: a.lines + c.lines,
                accurate: a.accurate + c.accurate,
            });
    out.push(kpi(
        Spec {
            key: "inventory_accuracy",
            label: "Inventory accuracy",
            definition: "Share of the bin and product lines counted in the period (cycle counts submitted) whose count matched the quantity the system expected.",
            unit: Unit::Percent,
            higher_is_better: Some(true),
            by_channel: false,
            by_warehouse: true,
        },
        ratio(counts.accurate, counts.lines, 100),
        ratio(i.previous_counts.accurate, i.previous_counts.lines, 100),
        Some(count_list(scope, period.from, period.to)),
        period
            .each_day()
            .map(|d| {
                let c = i.counts.get(&d).copied().unwrap_or_default();
                // A day without counts has no figure, so nothing to open.
                let link = (c.lines > 0).then(|| count_list(scope, d, d));
                (d, ratio(c.accurate, c.lines, 100), link)
            })
            .collect(),
        vec![KpiPart {
            label: "Lines counted".into(),
            value: counts.lines.to_string(),
            link: Some(count_list(scope, period.from, period.to)),
        }],
    ));

    // Manual touches per order.
    let touches = |m: &Measures| ratio(m.touches, m.orders, 1);
    out.push(kpi(
        Spec {
            key: "manual_touches",
            label: "Manual touches per order",
            definition: "Changes people made by hand (hold releases, edits, cancellations, notes on the order) to the orders placed in the period, per order placed.",
            unit: Unit::PerOrder,
            higher_is_better: Some(false),
            by_channel: true,
            by_warehouse: true,
        },
        touches(&total),
        touches(&i.previous),
        Some(placed(scope, period.from, period.to)),
        per_day(&touches, &|d| placed(scope, d, d)),
        Vec::new(),
    ));

    // Gross margin, overall and by channel.
    let margin = |m: &Measures| (m.orders > 0).then(|| money(m.margin_minor()));
    out.push(kpi(
        Spec {
            key: "gross_margin",
            label: "Gross margin",
            definition: "Revenue (what customers pay less tax, cancelled orders excluded) minus the cost of the goods at the product's cost price, minus shipping. Until carriers bill postage into Keel, shipping counts at what the customer was charged for it.",
            unit: Unit::Money(currency),
            higher_is_better: Some(true),
            by_channel: true,
            by_warehouse: true,
        },
        margin(&total),
        margin(&i.previous),
        Some(placed(scope, period.from, period.to)),
        per_day(&margin, &|d| placed(scope, d, d)),
        i.by_channel
            .iter()
            .map(|(c, m)| {
                let pct = ratio(m.margin_minor(), m.revenue_minor, 100)
                    .map_or_else(String::new, |p| format!(" ({}%)", round1(p)));
                KpiPart {
                    label: c.clone(),
                    value: format!("{}{pct}", Unit::Money(currency).show(money(m.margin_minor()))),
                    link: Some(placed(
                        &Scope {
                            channel: Some(c.clone()),
                            warehouse: scope.warehouse.clone(),
                        },
                        period.from,
                        period.to,
                    )),
                }
            })
            .collect(),
    ));

    // Orders and revenue by channel.
    let by_channel = |show: &dyn Fn(&Measures) -> String| {
        i.by_channel
            .iter()
            .map(|(c, m)| KpiPart {
                label: c.clone(),
                value: show(m),
                link: Some(placed(
                    &Scope {
                        channel: Some(c.clone()),
                        warehouse: scope.warehouse.clone(),
                    },
                    period.from,
                    period.to,
                )),
            })
            .collect::<Vec<_>>()
    };
    let orders = |m: &Measures| Some(Decimal::from(m.orders));
    out.push(kpi(
        Spec {
            key: "orders",
            label: "Orders",
            definition: "Orders captured in the period, cancelled ones included, by the day they were placed.",
            unit: Unit::Count,
            higher_is_better: Some(true),
            by_channel: true,
            by_warehouse: true,
        },
        orders(&total),
        orders(&i.previous),
        Some(placed(scope, period.from, period.to)),
        per_day(&orders, &|d| placed(scope, d, d)),
        by_channel(&|m| m.orders.to_string()),
    ));
    let revenue = |m: &Measures| Some(money(m.revenue_minor));
    out.push(kpi(
        Spec {
            key: "revenue",
            label: "Revenue",
            definition: "What customers pay for the orders placed in the period, less tax: goods after discounts plus shipping charged. Cancelled orders are excluded.",
            unit: Unit::Money(currency),
            higher_is_better: Some(true),
            by_channel: true,
            by_warehouse: true,
        },
        revenue(&total),
        revenue(&i.previous),
        Some(placed(scope, period.from, period.to)),
        per_day(&revenue, &|d| placed(scope, d, d)),
        by_channel(&|m| Unit::Money(currency).show(money(m.revenue_minor))),
    ));

    // Backlog: open orders now by status, rolled back day by day.
    let open_now: i64 = i.backlog.values().sum();
    let mut end_of_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut open = open_now - i.net_since_period;
    for d in period.each_day().collect::<Vec<_>>().into_iter().rev() {
        end_of_day.insert(d, open);
        let m = at(d);
        open -= m.orders - m.finished;
    }
    let open_before = open;
    let status_link = |s: &str| workbench(scope, &[("status", s.to_string())]);
    out.push(kpi(
        Spec {
            key: "backlog",
            label: "Backlog",
            definition: "Orders not yet shipped or cancelled (received, confirmed or in fulfilment), now by status; the trend is the count at the end of each day.",
            unit: Unit::Count,
            higher_is_better: Some(false),
            by_channel: true,
            by_warehouse: true,
        },
        Some(Decimal::from(end_of_day.get(&period.to).copied().unwrap_or(open_now))),
        Some(Decimal::from(open_before)),
        Some(status_link("open")),
        period
            .each_day()
            .map(|d| (d, end_of_day.get(&d).map(|v| Decimal::from(*v)), None))
            .collect(),
        OPEN_STATUSES
            .iter()
            .map(|s| KpiPart {
                label: s.replace('_', " "),
                value: i.backlog.get(*s).copied().unwrap_or(0).to_string(),
                link: Some(status_link(s)),
            })
            .collect(),
    ));

    // Stockouts.
    out.push(kpi(
        Spec {
            key: "stockouts",
            label: "Stockouts",
            definition: "Products that ran out in the period: none left to sell in any warehouse, or units waiting for stock. The breakdown shows how many are out now.",
            unit: Unit::Count,
            higher_is_better: Some(false),
            by_channel: false,
            by_warehouse: false,
        },
        Some(Decimal::from(i.stockouts.values().sum::<i64>())),
        Some(Decimal::from(i.previous_stockouts)),
        Some(stockout_list(period.from, period.to)),
        period
            .each_day()
            .map(|d| {
                let n = i.stockouts.get(&d).copied().unwrap_or(0);
                (d, Some(Decimal::from(n)), Some(stockout_list(d, d)))
            })
            .collect(),
        vec![KpiPart {
            label: "Out of stock now".into(),
            value: i.stockouts_open.to_string(),
            link: Some("/command/exceptions?queue=stockouts&reason=stockout".into()),
        }],
    ));

    for (key, label, definition, when) in [
        (
            "return_time",
            "Return processing time",
            "Hours from a return's arrival at the warehouse to its refund.",
            "Filled in when returns land.",
        ),
        (
            "ticket_time",
            "Ticket resolution time",
            "Hours from a customer's ticket to its resolution.",
            "Filled in when customer service lands.",
        ),
    ] {
        let mut k = kpi(
            Spec {
                key,
                label,
                definition,
                unit: Unit::Hours,
                higher_is_better: Some(false),
                by_channel: true,
                by_warehouse: true,
            },
            None,
            None,
            None,
            Vec::new(),
            Vec::new(),
        );
        k.pending = Some(when.into());
        out.push(k);
    }
    out
}

#[cfg(test)]
mod tests;
