//! Maps storefront payloads (Shopify's Order resource, WooCommerce's order)
//! to Keel's order wire form. Mapping never fixes figures: what the platform
//! stated goes into `totals`, so capture can compare and hold.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::orders::{Address, AmountIn, CustomerIn, LineIn, OrderIn, ShippingIn, StatedTotals};

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn amount(v: &Value, key: &str) -> Option<AmountIn> {
    match v.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(AmountIn::Text(s.clone())),
        Some(Value::Number(n)) => Some(AmountIn::Number(n.clone())),
        _ => None,
    }
}

/// A decimal text within the range capture takes
/// ([`crate::money::MAX_AMOUNT`]); otherwise the text itself, which the mapper
/// passes on for capture to refuse by its field rather than guessing a
/// figure. Bounding each figure also keeps the mapper's sums far inside
/// Decimal's range; they are checked all the same.
fn decimal(text: &str) -> Result<Decimal, String> {
    text.trim()
        .parse::<Decimal>()
        .ok()
        .filter(|d| d.abs() <= Decimal::from(crate::money::MAX_AMOUNT))
        .ok_or_else(|| text.to_string())
}

/// The exact sum of decimal texts (an empty one is zero), or the first text
/// that can't be added.
fn sum<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Decimal, String> {
    texts
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .try_fold(Decimal::ZERO, |acc, t| {
            decimal(t).and_then(|d| acc.checked_add(d).ok_or_else(|| t.to_string()))
        })
}

/// An amount as capture reads it: the figure, or the text that wasn't one.
fn figure(d: Result<Decimal, String>) -> AmountIn {
    AmountIn::Text(d.map(|d| d.to_string()).unwrap_or_else(|t| t))
}

fn full_name(v: &Value) -> String {
    let name = text(v, "name");
    if !name.trim().is_empty() {
        return name;
    }
    format!("{} {}", text(v, "first_name"), text(v, "last_name"))
        .trim()
        .to_string()
}

/// The payload is not an order we can read at all (as opposed to an order
/// with problems, which is captured and held).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

fn require_object(v: &Value) -> Result<(), Unreadable> {
    if v.is_object() {
        Ok(())
    } else {
        Err(Unreadable("the body is not a JSON object".into()))
    }
}

/// Shopify `orders/create` (the REST Order resource).
pub fn shopify_order(channel: &str, v: &Value) -> Result<OrderIn, Unreadable> {
    require_object(v)?;
    // Some API versions wrap the resource as {"order": {…}}.
    let v = v.get("order").filter(|o| o.is_object()).unwrap_or(v);
    let id = text(v, "id");
    if id.is_empty() {
        return Err(Unreadable("the order has no id".into()));
    }
    let customer = v.get("customer").cloned().unwrap_or(Value::Null);
    let email = [
        text(v, "email"),
        text(v, "contact_email"),
        text(&customer, "email"),
    ]
    .into_iter()
    .find(|e| !e.trim().is_empty())
    .unwrap_or_default();
    let address = |key: &str| {
        v.get(key).filter(|a| a.is_object()).map(|a| Address {
            name: full_name(a),
            line1: text(a, "address1"),
            line2: text(a, "address2"),
            city: text(a, "city"),
            region: text(a, "province_code"),
            postcode: text(a, "zip"),
            country: text(a, "country_code"),
            phone: text(a, "phone"),
        })
    };
    let lines = v
        .get("line_items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|l| LineIn {
                    sku: text(l, "sku"),
                    name: text(l, "name"),
                    quantity: l.get("quantity").and_then(Value::as_i64).unwrap_or(0),
                    unit_price: amount(l, "price"),
                    discount: amount(l, "total_discount")
                        .filter(|d| *d != AmountIn::Text("0.00".into())),
                })
                .collect()
        })
        .unwrap_or_default();
    // Shipping is the sum of the shipping lines, kept exact as a decimal.
    let shipping_lines: Vec<&Value> = v
        .get("shipping_lines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    let prices: Vec<String> = shipping_lines.iter().map(|s| text(s, "price")).collect();
    let shipping = sum(prices.iter().map(String::as_str));
    let method = shipping_lines
        .iter()
        .map(|s| text(s, "title"))
        .find(|t| !t.is_empty())
        .unwrap_or_default();
    // Line discounts are already in total_discounts; the order-level part is
    // the rest, so the two aren't counted twice.
    let line_discounts: Vec<String> = v
        .get("line_items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| text(l, "total_discount"))
        .collect();
    let total_discounts = text(v, "total_discounts");
    let order_discount = match (
        decimal(&total_discounts),
        sum(line_discounts.iter().map(String::as_str)),
    ) {
        (Ok(total), Ok(lines)) => total
            .checked_sub(lines)
            .filter(|d| !d.is_zero())
            .map(|d| AmountIn::Text(d.to_string())),
        (Err(_), _) if total_discounts.trim().is_empty() => None,
        (Err(t), _) | (_, Err(t)) => Some(AmountIn::Text(t)),
    };
    let payment = match text(v, "financial_status").as_str() {
        "paid" | "partially_refunded" | "refunded" => "paid",
        "authorized" | "partially_paid" => "authorized",
        "voided" => "failed",
        _ => "pending",
    };
    Ok(OrderIn {
        channel: channel.to_string(),
        external_id: id,
        currency: text(v, "currency"),
        customer: CustomerIn::Full {
            email,
            name: full_name(&customer),
            phone: text(&customer, "phone"),
        },
        lines,
        shipping: ShippingIn {
            address: address("shipping_address"),
            price: Some(figure(shipping)),
            method,
            flat: Address::default(),
        },
        billing_address: address("billing_address"),
        payment_status: payment.into(),
        discount: order_discount,
        prices_include_tax: v
            .get("taxes_included")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        totals: StatedTotals {
            subtotal: amount(v, "total_line_items_price"),
            discount: amount(v, "total_discounts"),
            tax: amount(v, "total_tax"),
            total: amount(v, "total_price"),
        },
        placed_at: Some(text(v, "created_at")).filter(|t| !t.is_empty()),
        note: text(v, "note"),
        tags: text(v, "tags")
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// WooCommerce `order.created` (the REST v3 order).
pub fn woocommerce_order(channel: &str, v: &Value) -> Result<OrderIn, Unreadable> {
    require_object(v)?;
    let id = text(v, "id");
    if id.is_empty() {
        return Err(Unreadable("the order has no id".into()));
    }
    let billing = v.get("billing").cloned().unwrap_or(Value::Null);
    let address = |a: &Value| Address {
        name: full_name(a),
        line1: text(a, "address_1"),
        line2: text(a, "address_2"),
        city: text(a, "city"),
        region: text(a, "state"),
        postcode: text(a, "postcode"),
        country: text(a, "country"),
        phone: text(a, "phone"),
    };
    let lines = v
        .get("line_items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|l| {
                    let quantity = l.get("quantity").and_then(Value::as_i64).unwrap_or(0);
                    // `price` is a JSON number in Woo's payload; the line's
                    // `subtotal` string over the quantity is the exact unit price.
                    let (subtotal, total) = (text(l, "subtotal"), text(l, "total"));
                    let subtotal = (!subtotal.trim().is_empty()).then(|| decimal(&subtotal));
                    let unit = match &subtotal {
                        Some(Ok(s)) if quantity > 0 => {
                            AmountIn::Text((s / Decimal::from(quantity)).normalize().to_string())
                        }
                        Some(Err(t)) => AmountIn::Text(t.clone()),
                        _ => amount(l, "price").unwrap_or(AmountIn::Text(String::new())),
                    };
                    let discount = match (subtotal, decimal(&total)) {
                        (Some(Ok(s)), Ok(t)) if s > t => {
                            Some(figure(s.checked_sub(t).ok_or(total)))
                        }
                        _ => None,
                    };
                    LineIn {
                        sku: text(l, "sku"),
                        name: text(l, "name"),
                        quantity,
                        unit_price: Some(unit),
                        discount,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let payment = match text(v, "status").as_str() {
        "processing" | "completed" => "paid",
        "failed" | "cancelled" => "failed",
        _ => "pending",
    };
    let placed_at = text(v, "date_created_gmt");
    Ok(OrderIn {
        channel: channel.to_string(),
        external_id: id,
        currency: text(v, "currency"),
        customer: CustomerIn::Full {
            email: text(&billing, "email"),
            name: full_name(&billing),
            phone: text(&billing, "phone"),
        },
        lines,
        shipping: ShippingIn {
            address: v.get("shipping").filter(|a| a.is_object()).map(address),
            price: amount(v, "shipping_total"),
            method: v
                .get("shipping_lines")
                .and_then(Value::as_array)
                .and_then(|s| s.first())
                .map(|s| text(s, "method_title"))
                .unwrap_or_default(),
            flat: Address::default(),
        },
        billing_address: Some(address(&billing)),
        payment_status: payment.into(),
        discount: None,
        prices_include_tax: v
            .get("prices_include_tax")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        totals: StatedTotals {
            subtotal: None,
            discount: amount(v, "discount_total"),
            tax: amount(v, "total_tax"),
            total: amount(v, "total"),
        },
        // WooCommerce's GMT stamps carry no zone marker.
        placed_at: Some(placed_at).filter(|t| !t.is_empty()).map(|t| {
            if t.ends_with('Z') {
                t
            } else {
                format!("{t}Z")
            }
        }),
        note: text(v, "customer_note"),
        tags: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::NewOrder;
    use serde_json::json;

    #[test]
    fn huge_figures_reach_capture_as_refusals_not_a_decimal_overflow() {
        // #19: two shipping lines of Decimal::MAX panicked adding them up.
        let max = Decimal::MAX.to_string();
        let v = json!({
            "id": 1, "currency": "USD", "email": "ann@example.com",
            "line_items": [{"sku": "MUG", "quantity": 1, "price": "1.00", "total_discount": max}],
            "shipping_lines": [{"price": max, "title": "Ground"}, {"price": max}],
            "total_discounts": format!("-{max}"),
        });
        let order = shopify_order("WEB", &v).unwrap();
        assert_eq!(order.shipping.price, Some(AmountIn::Text(max.clone())));
        assert_eq!(order.shipping.method, "Ground");
        let fields: Vec<String> = NewOrder::parse(&order)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(fields.contains(&"shipping.price".to_string()), "{fields:?}");
        assert!(fields.contains(&"discount".to_string()), "{fields:?}");

        let v = json!({
            "id": 2, "currency": "USD", "billing": {"email": "ann@example.com"},
            "line_items": [{"sku": "MUG", "quantity": 2, "subtotal": max, "total": format!("-{max}")}],
        });
        let order = woocommerce_order("WOO", &v).unwrap();
        assert_eq!(order.lines[0].unit_price, Some(AmountIn::Text(max)));
        assert_eq!(order.lines[0].discount, None);
    }

    #[test]
    fn shipping_lines_add_up_exactly_and_an_unreadable_one_is_named() {
        let v = json!({"id": 1, "shipping_lines": [{"price": "4.99"}, {"price": "0.01"}, {"price": ""}]});
        let order = shopify_order("WEB", &v).unwrap();
        assert_eq!(order.shipping.price, Some(AmountIn::Text("5.00".into())));
        let v = json!({"id": 1, "shipping_lines": [{"price": "4.99"}, {"price": "free"}]});
        let order = shopify_order("WEB", &v).unwrap();
        assert_eq!(order.shipping.price, Some(AmountIn::Text("free".into())));
    }
}
