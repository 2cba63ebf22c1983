//! Order capture rules: the wire form an order arrives in, its parsed and
//! validated form, totals, holds, fraud scoring and the order state machine.
//!
//! Invariants:
//! - Totals are exact: every amount is integer minor units in the order's
//!   currency, and tax rounds half away from zero once per line.
//! - Keel never corrects what a channel sent. When the channel's totals
//!   disagree with the lines, the order is captured and held, with both
//!   figures in the hold's words.
//! - Holds are orthogonal to status: an order is confirmed only once it has
//!   no open hold, and a held order never reaches the warehouse.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::input::{Address, AmountIn, CustomerIn, OrderIn, MAX_LINES};
use crate::{
    money::{Currency, Money},
    text::Email,
    FieldError,
};

/// Where an order is in its life. Holds are separate (see [`HoldReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    Confirmed,
    InFulfilment,
    Shipped,
    Delivered,
    Closed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} can't become {to}")]
pub struct TransitionError {
    pub from: OrderStatus,
    pub to: OrderStatus,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        Self::Received,
        Self::Confirmed,
        Self::InFulfilment,
        Self::Shipped,
        Self::Delivered,
        Self::Closed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Confirmed => "confirmed",
            Self::InFulfilment => "in_fulfilment",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// The one forward path, plus cancellation before anything has shipped.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Received, Confirmed)
                | (Confirmed, InFulfilment)
                | (InFulfilment, Shipped)
                | (Shipped, Delivered)
                | (Delivered, Closed)
                | (Received | Confirmed | InFulfilment, Cancelled)
        )
    }

    pub fn transition(self, next: OrderStatus) -> Result<OrderStatus, TransitionError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(TransitionError {
                from: self,
                to: next,
            })
        }
    }

    /// Lines, address and holds can change only before the warehouse starts.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Received | Self::Confirmed)
    }
}

/// Why units of an order line can't be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineCancelError {
    #[error("order is {0}; its lines can't be cancelled once the warehouse has started")]
    NotEditable(OrderStatus),
    #[error("cancel at least one unit")]
    Nothing,
    #[error("only {open} units of this line are still open")]
    TooMany { open: i64 },
}

/// What cancelling `requested` units of a line leaves: the units still open
/// on that line, and whether any unit is open on the order at all (when none
/// is, the cancellation is the whole order's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCancel {
    pub line_open: i64,
    pub order_open: i64,
}

/// Checks a cancellation of `requested` units of line `line` against the
/// order's status and every line's open units (ordered minus cancelled).
pub fn cancel_line(
    status: OrderStatus,
    open: &[i64],
    line: usize,
    requested: i64,
) -> Result<LineCancel, LineCancelError> {
    if !status.is_editable() {
        return Err(LineCancelError::NotEditable(status));
    }
    let line_open = open.get(line).copied().unwrap_or(0);
    if requested < 1 {
        return Err(LineCancelError::Nothing);
    }
    if requested > line_open {
        return Err(LineCancelError::TooMany { open: line_open });
    }
    Ok(LineCancel {
        line_open: line_open - requested,
        order_open: open.iter().sum::<i64>() - requested,
    })
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

/// Why an order waits for a person. Each hold carries its own words as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    PaymentPending,
    PaymentFailed,
    FraudReview,
    InvalidAddress,
    TotalsMismatch,
    UnknownItem,
    Manual,
}

impl HoldReason {
    pub const ALL: [HoldReason; 7] = [
        Self::PaymentPending,
        Self::PaymentFailed,
        Self::FraudReview,
        Self::InvalidAddress,
        Self::TotalsMismatch,
        Self::UnknownItem,
        Self::Manual,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentPending => "payment_pending",
            Self::PaymentFailed => "payment_failed",
            Self::FraudReview => "fraud_review",
            Self::InvalidAddress => "invalid_address",
            Self::TotalsMismatch => "totals_mismatch",
            Self::UnknownItem => "unknown_item",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// The name a person reads in lists and filters.
    pub fn label(self) -> &'static str {
        match self {
            Self::PaymentPending => "Payment pending",
            Self::PaymentFailed => "Payment failed",
            Self::FraudReview => "Fraud review",
            Self::InvalidAddress => "Invalid address",
            Self::TotalsMismatch => "Totals don't add up",
            Self::UnknownItem => "Unknown item",
            Self::Manual => "Held by hand",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Paid,
    Authorized,
    Pending,
    Failed,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] = [Self::Paid, Self::Authorized, Self::Pending, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paid => "paid",
            Self::Authorized => "authorized",
            Self::Pending => "pending",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| {
                format!("`{s}` is not a payment status: use paid, authorized, pending or failed")
            })
    }
}

/// A customer's search keys: the name lower-cased with single spaces, and
/// the same starting from the last word, so "lee" and "ann" both prefix one.
pub fn name_keys(name: &str) -> (String, String) {
    let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
    let key = words.join(" ");
    let last = match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{last} {}", rest.join(" ")),
        _ => key.clone(),
    };
    (key, last)
}

/// The smallest string above every string that starts with `prefix` (in
/// code-point order), so `[prefix, bound)` is an index range.
pub fn prefix_bound(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(c) = chars.pop() {
        if let Some(next) = char::from_u32(c as u32 + 1) {
            chars.push(next);
            return chars.into_iter().collect();
        }
    }
    String::from(char::MAX)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub discount: Money,
}

impl NewLine {
    /// Quantity × unit price, in i128 so no bounded line can overflow it.
    pub fn gross(&self) -> i128 {
        i128::from(self.unit_price.minor()) * i128::from(self.quantity)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    pub email: Email,
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stated {
    pub subtotal: Option<Money>,
    pub discount: Option<Money>,
    pub tax: Option<Money>,
    pub total: Option<Money>,
}

/// A captured order after parsing: every field valid on its own. Whether it
/// can be confirmed is [`assess`]'s question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub channel: String,
    pub external_id: String,
    pub currency: Currency,
    pub customer: NewCustomer,
    pub lines: Vec<NewLine>,
    pub ship_to: Address,
    pub bill_to: Option<Address>,
    pub shipping: Money,
    pub shipping_method: String,
    pub payment: PaymentStatus,
    pub discount: Money,
    pub prices_include_tax: bool,
    pub stated: Stated,
    pub placed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub note: String,
    pub tags: Vec<String>,
}

/// Tags are short lower-case words, so filters match however they were typed.
pub fn parse_tag(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim().to_lowercase();
    if t.is_empty() || t.len() > 40 {
        return Err(FieldError::new(field, "a tag is 1 to 40 characters"));
    }
    if !t
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FieldError::new(
            field,
            format!("`{t}`: a tag has only letters, digits, - and _"),
        ));
    }
    Ok(t)
}

impl NewOrder {
    pub fn parse(input: &OrderIn) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let channel = crate::inventory::parse_code("channel", &input.channel)
            .map_err(|e| errors.push(e))
            .ok();
        let external_id = input.external_id.trim().to_string();
        if external_id.is_empty() || external_id.len() > 100 {
            errors.push(FieldError::new(
                "external_id",
                "give the channel's own order id (1 to 100 characters)",
            ));
        }
        let currency = match Currency::parse(&input.currency) {
            Ok(c) => c,
            Err(e) => {
                errors.push(FieldError::new("currency", e.to_string()));
                return Err(errors);
            }
        };
        let (email, name, phone) = match &input.customer {
            CustomerIn::Email(e) => (e.as_str(), "", ""),
            CustomerIn::Full { email, name, phone } => {
                (email.as_str(), name.as_str(), phone.as_str())
            }
        };
        let email = Email::parse(email)
            .map_err(|m| errors.push(FieldError::new("customer.email", m)))
            .ok();
        let mut amount = |field: &str, a: &Option<AmountIn>| match a {
            Some(a) => a.parse(field, currency).map(Some).unwrap_or_else(|e| {
                errors.push(e);
                None
            }),
            None => None,
        };
        let shipping = amount("shipping.price", &input.shipping.price);
        let discount = amount("discount", &input.discount);
        let stated = Stated {
            subtotal: amount("totals.subtotal", &input.totals.subtotal),
            discount: amount("totals.discount", &input.totals.discount),
            tax: amount("totals.tax", &input.totals.tax),
            total: amount("totals.total", &input.totals.total),
        };
        let lines = parse_lines(input, currency, &mut errors);
        let payment = PaymentStatus::parse(&input.payment_status)
            .map_err(|m| errors.push(FieldError::new("payment_status", m)))
            .ok();
        let placed_at = parse_placed_at(input.placed_at.as_deref(), &mut errors);
        let tags = parse_tags("tags", &input.tags, &mut errors);
        let ship_to = input
            .shipping
            .address
            .clone()
            .unwrap_or_else(|| input.shipping.flat.clone())
            .normalized();
        match (channel, email, payment) {
            (Some(channel), Some(email), Some(payment)) if errors.is_empty() => Ok(Self {
                channel,
                external_id,
                currency,
                customer: NewCustomer {
                    email,
                    name: name.trim().chars().take(200).collect(),
                    phone: phone.trim().chars().take(40).collect(),
                },
                lines,
                ship_to,
                bill_to: input.billing_address.clone().map(Address::normalized),
                shipping: shipping.unwrap_or(Money::zero(currency)),
                shipping_method: input.shipping.method.trim().chars().take(100).collect(),
                payment,
                discount: discount.unwrap_or(Money::zero(currency)),
                prices_include_tax: input.prices_include_tax,
                stated,
                placed_at,
                note: input.note.trim().chars().take(2000).collect(),
                tags,
            }),
            _ => Err(errors),
        }
    }
}

/// The lines: 1 to `MAX_LINES` of them, each with a quantity in range, a
/// unit price and a discount no more than the line is worth.
fn parse_lines(input: &OrderIn, currency: Currency, errors: &mut Vec<FieldError>) -> Vec<NewLine> {
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "an order needs at least one line"));
    }
    if input.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("an order has at most {MAX_LINES} lines"),
        ));
    }
    let mut lines = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        if !(1..=100_000).contains(&l.quantity) {
            errors.push(FieldError::new(
                format!("lines[{i}].quantity"),
                "use a whole number from 1 to 100,000",
            ));
        }
        let field = format!("lines[{i}].unit_price");
        let price = match &l.unit_price {
            Some(p) => p.parse(&field, currency).map_err(|e| errors.push(e)).ok(),
            None => {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "{} has no price on channel {}'s price list or in the catalogue in {currency}; send unit_price",
                        l.sku.trim(),
                        input.channel.trim()
                    ),
                ));
                None
            }
        };
        let disc = match &l.discount {
            Some(d) => d
                .parse(&format!("lines[{i}].discount"), currency)
                .map_err(|e| errors.push(e))
                .ok(),
            None => Some(Money::zero(currency)),
        };
        if let (Some(p), Some(d)) = (price, disc) {
            if i128::from(d.minor()) > i128::from(p.minor()) * i128::from(l.quantity) {
                errors.push(FieldError::new(
                    format!("lines[{i}].discount"),
                    "is more than the line is worth",
                ));
            }
            lines.push(NewLine {
                sku: l.sku.trim().to_string(),
                name: l.name.trim().chars().take(200).collect(),
                quantity: l.quantity,
                unit_price: p,
                discount: d,
            });
        }
    }
    lines
}

/// The years an order may say it was placed in: online retail's, with room
/// for a channel's clock and a retailer's oldest history. Year 1 or 9999 is
/// a bad field, not an order, and would skew every figure by date.
pub const PLACED_YEARS: std::ops::RangeInclusive<i32> = 1995..=2099;

/// When the channel says the order was placed, as an RFC 3339 instant in
/// [`PLACED_YEARS`].
fn parse_placed_at(
    placed_at: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::Datelike;
    let t = placed_at.map(str::trim).filter(|t| !t.is_empty())?;
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(t) else {
        errors.push(FieldError::new(
            "placed_at",
            format!("`{t}` is not an RFC 3339 instant, e.g. 2026-11-26T09:30:00Z"),
        ));
        return None;
    };
    let at = at.with_timezone(&chrono::Utc);
    if !PLACED_YEARS.contains(&at.year()) {
        errors.push(FieldError::new(
            "placed_at",
            format!(
                "`{t}` is not a date an order was placed: use a year from {} to {}",
                PLACED_YEARS.start(),
                PLACED_YEARS.end()
            ),
        ));
        return None;
    }
    Some(at)
}

/// Tags, lower-cased, each once; an error names its place in the list
/// (`tags[2]`).
pub fn parse_tags(field: &str, input: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut tags = Vec::new();
    for (i, t) in input.iter().enumerate() {
        match parse_tag(&format!("{field}[{i}]"), t) {
            Ok(t) if !tags.contains(&t) => tags.push(t),
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    tags
}

/// An order's totals in minor units of its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Σ quantity × unit price.
    pub subtotal: i64,
    /// Line discounts plus the order discount.
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    /// What the customer pays: with exclusive prices, subtotal − discount +
    /// shipping + tax; with inclusive prices the tax is already in the lines.
    pub total: i64,
}

/// Computes totals. Tax comes from the channel when it stated one, else from
/// `rate` (the region's rule), applied per line after its share of discounts.
/// Sums run in i128 and each figure must come back within
/// [`crate::money::MAX_AMOUNT`], so no order of bounded lines can overflow a
/// total; one beyond it is refused on `lines`.
pub fn totals(order: &NewOrder, rate: Option<Decimal>) -> Result<Totals, FieldError> {
    let c = order.currency;
    let subtotal: i128 = order.lines.iter().map(NewLine::gross).sum();
    let line_discounts: i128 = order
        .lines
        .iter()
        .map(|l| i128::from(l.discount.minor()))
        .sum();
    let discount = line_discounts + i128::from(order.discount.minor());
    let tax = match (order.stated.tax, rate) {
        (Some(t), _) => i128::from(t.minor()),
        (None, Some(rate)) => computed_tax(order, rate).ok_or_else(|| beyond("tax", c))?,
        (None, None) => 0,
    };
    let shipping = i128::from(order.shipping.minor());
    let total = subtotal - discount + shipping + if order.prices_include_tax { 0 } else { tax };
    Ok(Totals {
        subtotal: bounded("subtotal", subtotal, c)?,
        discount: bounded("discount", discount, c)?,
        shipping: bounded("shipping", shipping, c)?,
        tax: bounded("tax", tax, c)?,
        total: bounded("total", total, c)?,
    })
}

fn beyond(what: &str, currency: Currency) -> FieldError {
    FieldError::new(
        "lines",
        format!(
            "the order's {what} would be beyond {} {currency} either way, the most one order may hold",
            crate::money::MAX_AMOUNT_TEXT
        ),
    )
}

fn bounded(what: &str, minor: i128, currency: Currency) -> Result<i64, FieldError> {
    i64::try_from(minor)
        .ok()
        .and_then(|m| Money::from_minor(m, currency).within_limit().ok())
        .map(Money::minor)
        .ok_or_else(|| beyond(what, currency))
}

/// `n / d` rounded half away from zero; `d` is never 0 here.
fn div_round(n: i128, d: i128) -> i128 {
    let (q, r) = (n / d, n % d);
    if 2 * r.abs() >= d.abs() && r != 0 {
        q + n.signum() * d.signum()
    } else {
        q
    }
}

/// Tax per line, rounded half away from zero, on the line's net amount (its
/// gross less its own discount and a pro-rata share of the order discount).
/// `None` when a rate is so large the tax leaves Decimal's range.
fn computed_tax(order: &NewOrder, rate: Decimal) -> Option<i128> {
    let net_of = |l: &NewLine| l.gross() - i128::from(l.discount.minor());
    let gross: i128 = order.lines.iter().map(net_of).sum();
    let order_discount = i128::from(order.discount.minor());
    let mut order_discount_left = order_discount;
    let mut tax = 0;
    let n = order.lines.len();
    for (i, l) in order.lines.iter().enumerate() {
        let net_before = net_of(l);
        // The last line takes the remainder so the shares add up exactly.
        let share = if i + 1 == n || gross == 0 {
            order_discount_left
        } else {
            div_round(order_discount * net_before, gross)
        };
        order_discount_left -= share;
        let net = Decimal::try_from_i128_with_scale(net_before - share, 0).ok()?;
        let t = if order.prices_include_tax {
            net.checked_sub(net.checked_div(Decimal::ONE.checked_add(rate)?)?)?
        } else {
            net.checked_mul(rate)?
        };
        let t: i128 = t
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
            .try_into()
            .ok()?;
        tax += t;
    }
    Some(tax)
}

fn show(minor: i64, currency: Currency) -> String {
    Money::from_minor(minor, currency).amount().to_string()
}

/// Compares the recomputed totals with what the channel stated. Each
/// disagreement is a sentence naming both figures; none means they agree.
pub fn totals_mismatches(order: &NewOrder, t: &Totals) -> Vec<String> {
    let c = order.currency;
    let mut out = Vec::new();
    if let Some(s) = order.stated.subtotal {
        if s.minor() != t.subtotal {
            let sum = order
                .lines
                .iter()
                .map(|l| format!("{} × {}", l.quantity, l.unit_price.amount()))
                .collect::<Vec<_>>()
                .join(" + ");
            out.push(format!(
                "the lines come to {} ({sum}) but the channel says the subtotal is {}",
                show(t.subtotal, c),
                s.amount()
            ));
        }
    }
    if let Some(d) = order.stated.discount {
        if d.minor() != t.discount {
            out.push(format!(
                "the discounts come to {} but the channel says {}",
                show(t.discount, c),
                d.amount()
            ));
        }
    }
    if let Some(total) = order.stated.total {
        if total.minor() != t.total {
            out.push(format!(
                "the order comes to {} but the channel says the total is {}",
                show(t.total, c),
                total.amount()
            ));
        }
    }
    out
}

/// What the fraud rules know about the customer beyond this order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerHistory {
    /// Orders from this email before this one, ever.
    pub previous_orders: i64,
    /// Orders from this email in the 24 hours before this one.
    pub orders_last_day: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FraudAssessment {
    pub score: i64,
    pub reasons: Vec<String>,
}

/// A first order at or above this (in major units of the order's currency)
/// counts as high value. One number for every currency is crude; per-currency
/// thresholds belong in settings once governance has them.
pub const HIGH_VALUE_FIRST_ORDER: i64 = 1_000;
/// Orders from one email within 24 hours that count as velocity.
pub const VELOCITY_ORDERS: i64 = 3;
/// A score at or above this holds the order for review.
pub const FRAUD_REVIEW_SCORE: i64 = 60;

/// Explainable fraud rules: each adds points and says why in words.
pub fn fraud(order: &NewOrder, total: i64, history: CustomerHistory) -> FraudAssessment {
    let mut score = 0;
    let mut reasons = Vec::new();
    if let Some(bill) = &order.bill_to {
        if !bill.country.is_empty()
            && !order.ship_to.country.is_empty()
            && bill.country != order.ship_to.country
        {
            score += 35;
            reasons.push(format!(
                "+35: billing country {} differs from shipping country {}",
                bill.country, order.ship_to.country
            ));
        }
    }
    let threshold = HIGH_VALUE_FIRST_ORDER * 10_i64.pow(order.currency.minor_units());
    if history.previous_orders == 0 && total >= threshold {
        score += 40;
        reasons.push(format!(
            "+40: a first order worth {} {} (high value is {} or more)",
            show(total, order.currency),
            order.currency,
            HIGH_VALUE_FIRST_ORDER
        ));
    }
    if history.orders_last_day >= VELOCITY_ORDERS {
        score += 30;
        reasons.push(format!(
            "+30: {} earlier orders from {} in the last 24 hours",
            history.orders_last_day, order.customer.email
        ));
    }
    FraudAssessment { score, reasons }
}

/// A reason an order can't be confirmed yet, with its words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub reason: HoldReason,
    pub detail: String,
}

/// The holds that follow from the order itself (payment, address, totals and
/// fraud). Stock holds come from reserving, which needs the database.
pub fn assess(order: &NewOrder, totals: &Totals, fraud: &FraudAssessment) -> Vec<Hold> {
    let mut holds = Vec::new();
    match order.payment {
        PaymentStatus::Pending => holds.push(Hold {
            reason: HoldReason::PaymentPending,
            detail: "the payment has not been captured or authorized yet".into(),
        }),
        PaymentStatus::Failed => holds.push(Hold {
            reason: HoldReason::PaymentFailed,
            detail: "the channel reports the payment failed".into(),
        }),
        PaymentStatus::Paid | PaymentStatus::Authorized => {}
    }
    if fraud.score >= FRAUD_REVIEW_SCORE {
        holds.push(Hold {
            reason: HoldReason::FraudReview,
            detail: format!(
                "fraud score {} (review at {FRAUD_REVIEW_SCORE}): {}",
                fraud.score,
                fraud.reasons.join("; ")
            ),
        });
    }
    let problems = order.ship_to.problems();
    if !problems.is_empty() {
        holds.push(Hold {
            reason: HoldReason::InvalidAddress,
            detail: format!("shipping address: {}", problems.join("; ")),
        });
    }
    let mismatches = totals_mismatches(order, totals);
    if !mismatches.is_empty() {
        holds.push(Hold {
            reason: HoldReason::TotalsMismatch,
            detail: format!("totals don't add up: {}", mismatches.join("; ")),
        });
    }
    holds
}

/// An order's number from its place in the order sequence: `SO-1042`.
pub fn order_number(serial: i64) -> String {
    format!("SO-{serial}")
}

/// The place in the order sequence an order number stands for.
pub fn order_serial(number: &str) -> Option<i64> {
    number.strip_prefix("SO-")?.parse().ok()
}

#[cfg(test)]
mod tests;
