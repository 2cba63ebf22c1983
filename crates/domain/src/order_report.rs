//! Marketplace order reports (CSV, one row per order line): which report
//! column feeds which order field (a mapping saved per channel, guessed from
//! the header line the first time), and the grouping of rows into orders.
//!
//! Reading the file is the caller's; this module gets the header line and the
//! rows as text cells, each with its line number, so it stays pure.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::{
    orders::{Address, AmountIn, CustomerIn, LineIn, OrderIn, ShippingIn, StatedTotals},
    FieldError,
};

/// An order field a report column can feed.
pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
    /// Header names that usually hold it (lower case), first match wins.
    pub guesses: &'static [&'static str],
}

/// The fields, in the order a mapping form shows them.
pub const FIELDS: &[Field] = &[
    Field {
        key: "external_id",
        label: "Order id",
        required: true,
        guesses: &[
            "amazon-order-id",
            "order-id",
            "order_id",
            "order id",
            "order number",
            "order-number",
        ],
    },
    Field {
        key: "placed_at",
        label: "Order date",
        required: false,
        guesses: &[
            "purchase-date",
            "order-date",
            "order_date",
            "order date",
            "created_at",
            "date",
        ],
    },
    Field {
        key: "email",
        label: "Buyer email",
        required: true,
        guesses: &[
            "buyer-email",
            "buyer_email",
            "customer-email",
            "customer_email",
            "email",
        ],
    },
    Field {
        key: "customer_name",
        label: "Buyer name",
        required: false,
        guesses: &[
            "buyer-name",
            "buyer_name",
            "customer-name",
            "customer_name",
            "customer",
        ],
    },
    Field {
        key: "phone",
        label: "Phone",
        required: false,
        guesses: &["buyer-phone-number", "ship-phone-number", "phone"],
    },
    Field {
        key: "sku",
        label: "SKU",
        required: true,
        guesses: &["sku", "seller-sku", "seller_sku", "item-sku"],
    },
    Field {
        key: "product_name",
        label: "Item name",
        required: false,
        guesses: &[
            "product-name",
            "item-name",
            "product_name",
            "title",
            "product",
        ],
    },
    Field {
        key: "quantity",
        label: "Quantity",
        required: true,
        guesses: &["quantity-purchased", "quantity", "qty"],
    },
    Field {
        key: "unit_price",
        label: "Unit price",
        required: false,
        guesses: &["unit-price", "unit_price", "price"],
    },
    Field {
        key: "line_price",
        label: "Line price (unit price × quantity)",
        required: false,
        guesses: &["item-price", "item_price", "line-total", "line_total"],
    },
    Field {
        key: "line_discount",
        label: "Line discount",
        required: false,
        guesses: &["item-promotion-discount", "line-discount", "discount"],
    },
    Field {
        key: "shipping_price",
        label: "Shipping charged",
        required: false,
        guesses: &["shipping-price", "shipping_price", "shipping"],
    },
    Field {
        key: "tax",
        label: "Tax charged",
        required: false,
        guesses: &["item-tax", "item_tax", "tax"],
    },
    Field {
        key: "currency",
        label: "Currency",
        required: false,
        guesses: &["currency"],
    },
    Field {
        key: "ship_name",
        label: "Ship to: name",
        required: false,
        guesses: &["recipient-name", "ship-name", "ship_name"],
    },
    Field {
        key: "ship_line1",
        label: "Ship to: street",
        required: false,
        guesses: &["ship-address-1", "ship_address_1", "ship-address1"],
    },
    Field {
        key: "ship_line2",
        label: "Ship to: apartment, suite",
        required: false,
        guesses: &["ship-address-2", "ship_address_2", "ship-address2"],
    },
    Field {
        key: "ship_city",
        label: "Ship to: city",
        required: false,
        guesses: &["ship-city", "ship_city"],
    },
    Field {
        key: "ship_region",
        label: "Ship to: state or region",
        required: false,
        guesses: &["ship-state", "ship_state", "ship-region"],
    },
    Field {
        key: "ship_postcode",
        label: "Ship to: postcode",
        required: false,
        guesses: &["ship-postal-code", "ship_postcode", "ship-zip"],
    },
    Field {
        key: "ship_country",
        label: "Ship to: country",
        required: false,
        guesses: &["ship-country", "ship_country"],
    },
];

/// Order field key → report column header, as saved for a channel.
pub type Mapping = BTreeMap<String, String>;

/// A report row: its line in the file and its cells.
pub type Row = (i64, Vec<String>);

/// A first mapping from the report's header line.
pub fn guess(headers: &[String]) -> Mapping {
    let lower: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
    FIELDS
        .iter()
        .filter_map(|f| {
            f.guesses
                .iter()
                .find_map(|g| lower.iter().position(|h| h == g))
                .map(|i| (f.key.to_string(), headers[i].trim().to_string()))
        })
        .collect()
}

/// Checks a mapping against the report's header line: every required field
/// and a price are mapped, to columns the file has, and no field is unknown.
pub fn check(mapping: &Mapping, headers: &[String]) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    for (key, column) in mapping {
        if !FIELDS.iter().any(|f| f.key == key) {
            errors.push(FieldError::new(key, "is not an order field"));
        } else if !headers.iter().any(|h| h.trim() == column.trim()) {
            errors.push(FieldError::new(
                key,
                format!("the file has no column `{column}`"),
            ));
        }
    }
    for f in FIELDS.iter().filter(|f| f.required) {
        if !mapping.contains_key(f.key) {
            errors.push(FieldError::new(
                f.key,
                format!(
                    "choose the column that holds the {}",
                    f.label.to_lowercase()
                ),
            ));
        }
    }
    if !mapping.contains_key("unit_price") && !mapping.contains_key("line_price") {
        errors.push(FieldError::new(
            "unit_price",
            "choose the column that holds the unit price or the line price",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// An order read from the report, with the lines of the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOrder {
    pub lines: Vec<i64>,
    pub order: OrderIn,
}

/// A row that can't become part of an order; the order it belongs to is
/// left out whole, because part of an order is not the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: i64,
    pub external_id: String,
    pub message: String,
}

/// Groups report rows into orders for `channel`, whose currency is the
/// default. Rows of one order need not be adjacent; the order of first
/// appearance is kept.
pub fn orders(
    channel: &str,
    currency: &str,
    mapping: &Mapping,
    headers: &[String],
    rows: &[Row],
) -> (Vec<ReportOrder>, Vec<RowProblem>) {
    let index: BTreeMap<&str, usize> = mapping
        .iter()
        .filter_map(|(k, c)| {
            headers
                .iter()
                .position(|h| h.trim() == c.trim())
                .map(|i| (k.as_str(), i))
        })
        .collect();
    let mut groups: Vec<(String, Vec<&Row>)> = Vec::new();
    let mut problems = Vec::new();
    for row in rows {
        let id = cell(&index, &row.1, "external_id");
        if id.is_empty() {
            problems.push(RowProblem {
                line: row.0,
                external_id: String::new(),
                message: "no order id".into(),
            });
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == id) {
            Some(g) => g.1.push(row),
            None => groups.push((id, vec![row])),
        }
    }
    let mut found = Vec::new();
    for (id, group) in groups {
        match order(channel, currency, &index, &id, &group) {
            Ok(order) => found.push(ReportOrder {
                lines: group.iter().map(|r| r.0).collect(),
                order,
            }),
            Err(mut p) => problems.append(&mut p),
        }
    }
    problems.sort_by_key(|p| p.line);
    (found, problems)
}

fn cell(index: &BTreeMap<&str, usize>, row: &[String], key: &str) -> String {
    index
        .get(key)
        .and_then(|&i| row.get(i))
        .map(|c| c.trim().to_string())
        .unwrap_or_default()
}

fn decimal(text: &str) -> Option<Decimal> {
    if text.is_empty() {
        return Some(Decimal::ZERO);
    }
    text.parse::<Decimal>().ok()
}

/// A cell read as an amount (empty is zero) within the range Keel takes
/// ([`crate::money::MAX_AMOUNT`]), so the order's sums of them can't
/// overflow; the error names the column.
fn amount(
    index: &BTreeMap<&str, usize>,
    row: &[String],
    key: &str,
    what: &str,
) -> Result<Decimal, String> {
    let text = cell(index, row, key);
    let d = decimal(&text).ok_or_else(|| format!("{what} `{text}` is not an amount"))?;
    if d.abs() > Decimal::from(crate::money::MAX_AMOUNT) {
        return Err(format!(
            "{what} `{text}` is beyond {} either way",
            crate::money::MAX_AMOUNT_TEXT
        ));
    }
    Ok(d)
}

/// `sum + more`, or the sentence that says the order's column adds up
/// beyond what Decimal holds.
fn add(sum: Decimal, more: Decimal, what: &str) -> Result<Decimal, String> {
    sum.checked_add(more)
        .ok_or_else(|| format!("the order's {what} adds up beyond what one order may hold"))
}

/// One row's line: its unit price (or a line price that divides into one)
/// and its discount.
fn line_of(index: &BTreeMap<&str, usize>, row: &[String], quantity: i64) -> Result<LineIn, String> {
    let amount = |key: &str, what: &str| amount(index, row, key, what);
    let unit = match (
        cell(index, row, "unit_price"),
        cell(index, row, "line_price"),
    ) {
        (u, _) if !u.is_empty() => amount("unit_price", "unit price"),
        (_, l) if !l.is_empty() => amount("line_price", "line price").and_then(|total| {
            let unit = total / Decimal::from(quantity);
            // A line price that doesn't divide into a plain unit price is
            // not one the channel charged; capture then checks the
            // currency's own precision.
            if unit.round_dp(4) == unit {
                Ok(unit.normalize())
            } else {
                Err(format!(
                    "line price {total} over {quantity} units is not an exact unit price"
                ))
            }
        }),
        _ => Err("no price".into()),
    };
    let discount = amount("line_discount", "line discount").map(|d| d.abs());
    let (unit, discount) = (unit?, discount?);
    Ok(LineIn {
        sku: cell(index, row, "sku"),
        name: cell(index, row, "product_name"),
        quantity,
        unit_price: Some(AmountIn::Text(unit.to_string())),
        discount: (!discount.is_zero()).then(|| AmountIn::Text(discount.to_string())),
    })
}

fn order(
    channel: &str,
    default_currency: &str,
    index: &BTreeMap<&str, usize>,
    id: &str,
    rows: &[&Row],
) -> Result<OrderIn, Vec<RowProblem>> {
    let mut problems = Vec::new();
    let problem = |line: i64, message: String| RowProblem {
        line,
        external_id: id.to_string(),
        message,
    };
    // The first non-empty value of an order-level field, over its rows.
    let first = |key: &str| {
        rows.iter()
            .map(|r| cell(index, &r.1, key))
            .find(|v| !v.is_empty())
            .unwrap_or_default()
    };
    let currency = match first("currency") {
        c if c.is_empty() => default_currency.to_string(),
        c => c.to_uppercase(),
    };
    let mut lines = Vec::new();
    let (mut shipping, mut tax, mut has_tax) = (Decimal::ZERO, Decimal::ZERO, false);
    for (line, row) in rows.iter().map(|r| (r.0, &r.1)) {
        let row_currency = cell(index, row, "currency").to_uppercase();
        if !row_currency.is_empty() && row_currency != currency {
            problems.push(problem(
                line,
                format!("currency {row_currency} differs from the order's {currency}"),
            ));
        }
        let quantity = match cell(index, row, "quantity").parse::<i64>() {
            Ok(q) if q > 0 => q,
            _ => {
                problems.push(problem(
                    line,
                    format!(
                        "quantity `{}` is not a whole number of units",
                        cell(index, row, "quantity")
                    ),
                ));
                continue;
            }
        };
        match line_of(index, row, quantity) {
            Ok(l) => lines.push(l),
            Err(m) => problems.push(problem(line, m)),
        }
        let amount = |key: &str, what: &str| amount(index, row, key, what);
        match amount("shipping_price", "shipping").and_then(|s| add(shipping, s, "shipping")) {
            Ok(s) => shipping = s,
            Err(m) => problems.push(problem(line, m)),
        }
        if !cell(index, row, "tax").is_empty() {
            match amount("tax", "tax").and_then(|t| add(tax, t, "tax")) {
                Ok(t) => {
                    tax = t;
                    has_tax = true;
                }
                Err(m) => problems.push(problem(line, m)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let ship_to = Address {
        name: first("ship_name"),
        line1: first("ship_line1"),
        line2: first("ship_line2"),
        city: first("ship_city"),
        region: first("ship_region"),
        postcode: first("ship_postcode"),
        country: first("ship_country"),
        phone: first("phone"),
    };
    Ok(OrderIn {
        channel: channel.to_string(),
        external_id: id.to_string(),
        currency,
        customer: CustomerIn::Full {
            email: first("email"),
            name: first("customer_name"),
            phone: first("phone"),
        },
        lines,
        shipping: ShippingIn {
            address: Some(ship_to),
            price: Some(AmountIn::Text(shipping.to_string())),
            method: String::new(),
            flat: Address::default(),
        },
        billing_address: None,
        // A marketplace reports orders it has charged.
        payment_status: "paid".into(),
        discount: None,
        prices_include_tax: false,
        totals: StatedTotals {
            tax: has_tax.then(|| AmountIn::Text(tax.to_string())),
            ..StatedTotals::default()
        },
        placed_at: Some(first("placed_at")).filter(|t| !t.is_empty()),
        note: String::new(),
        tags: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amazon_headers() -> Vec<String> {
        "amazon-order-id,purchase-date,buyer-email,buyer-name,sku,product-name,quantity-purchased,currency,item-price,item-tax,shipping-price,item-promotion-discount,recipient-name,ship-address-1,ship-city,ship-state,ship-postal-code,ship-country"
            .split(',')
            .map(String::from)
            .collect()
    }

    fn row(line: i64, cells: &str) -> (i64, Vec<String>) {
        (line, cells.split(',').map(String::from).collect())
    }

    #[test]
    fn huge_amounts_are_a_row_problem_not_a_decimal_overflow() {
        // #19: two rows of Decimal::MAX shipping panicked adding them up.
        let h = amazon_headers();
        let max = Decimal::MAX.to_string();
        let rows = vec![
            row(2, &format!("111-1,2026-11-20T10:00:00Z,ann@example.com,Ann,MUG,Mug,1,USD,25.00,,{max},,Ann,1 Main St,Austin,TX,78701,US")),
            row(3, &format!("111-1,,,,CAP,Cap,1,USD,12.00,,{max},,,,,,,")),
        ];
        let (orders, problems) = orders("AMAZON", "USD", &guess(&h), &h, &rows);
        assert!(orders.is_empty());
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .message
                .contains("is beyond 1,000,000,000 either way"),
            "{}",
            problems[0].message
        );
        assert_eq!(
            add(Decimal::MAX, Decimal::ONE, "shipping").unwrap_err(),
            "the order's shipping adds up beyond what one order may hold"
        );
    }

    #[test]
    fn an_amazon_report_is_mapped_by_its_header_names() {
        let m = guess(&amazon_headers());
        assert_eq!(m["external_id"], "amazon-order-id");
        assert_eq!(m["line_price"], "item-price");
        assert_eq!(m["quantity"], "quantity-purchased");
        assert!(!m.contains_key("unit_price"));
        assert_eq!(check(&m, &amazon_headers()), Ok(()));
    }

    #[test]
    fn a_mapping_names_what_is_missing_or_not_in_the_file() {
        let mut m = guess(&amazon_headers());
        m.remove("sku");
        m.remove("line_price");
        m.insert("email".into(), "e-mail".into());
        let errors = check(&m, &amazon_headers()).unwrap_err();
        let text: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        assert_eq!(
            text,
            vec![
                "email: the file has no column `e-mail`",
                "sku: choose the column that holds the sku",
                "unit_price: choose the column that holds the unit price or the line price",
            ]
        );
    }

    #[test]
    fn rows_group_into_orders_and_a_bad_row_leaves_its_whole_order_out() {
        let h = amazon_headers();
        let rows = vec![
            row(2, "111-1,2026-11-20T10:00:00Z,ann@example.com,Ann Lee,MUG,Mug,2,USD,25.00,2.06,4.99,-1.00,Ann Lee,1 Main St,Austin,TX,78701,US"),
            row(3, "222-2,2026-11-20T11:00:00Z,bo@example.com,Bo Li,TEE,Tee,1,USD,18.00,,0.00,,Bo Li,2 Oak Ave,Reno,NV,89501,US"),
            row(4, "111-1,,,,CAP,Cap,1,USD,12.00,0.99,0.00,,,,,,,"),
            row(5, "333-3,2026-11-20T12:00:00Z,cy@example.com,Cy,MUG,Mug,two,USD,25.00,,,,Cy,3 Elm,Boise,ID,83702,US"),
            row(6, ",,,,MUG,Mug,1,USD,25.00,,,,,,,,,"),
            row(7, "444-4,2026-11-20T12:00:00Z,di@example.com,Di,MUG,Mug,3,USD,10.00,,,,Di,4 Ash,Boise,ID,83702,US"),
        ];
        let (orders, problems) = orders("AMAZON", "USD", &guess(&h), &h, &rows);
        assert_eq!(
            orders
                .iter()
                .map(|o| (o.order.external_id.as_str(), o.lines.clone()))
                .collect::<Vec<_>>(),
            vec![("111-1", vec![2, 4]), ("222-2", vec![3])]
        );
        let first = &orders[0].order;
        assert_eq!(first.lines.len(), 2);
        assert_eq!(
            first.lines[0].unit_price,
            Some(AmountIn::Text("12.5".into()))
        );
        assert_eq!(first.lines[0].discount, Some(AmountIn::Text("1.00".into())));
        assert_eq!(first.shipping.price, Some(AmountIn::Text("4.99".into())));
        assert_eq!(first.totals.tax, Some(AmountIn::Text("3.05".into())));
        assert_eq!(first.shipping.address.as_ref().unwrap().city, "Austin");
        assert_eq!(first.placed_at.as_deref(), Some("2026-11-20T10:00:00Z"));
        assert_eq!(orders[1].order.totals.tax, None);
        assert_eq!(
            problems,
            vec![
                RowProblem {
                    line: 5,
                    external_id: "333-3".into(),
                    message: "quantity `two` is not a whole number of units".into()
                },
                RowProblem {
                    line: 6,
                    external_id: String::new(),
                    message: "no order id".into()
                },
                RowProblem {
                    line: 7,
                    external_id: "444-4".into(),
                    message: "line price 10.00 over 3 units is not an exact unit price".into()
                },
            ]
        );
    }
}
