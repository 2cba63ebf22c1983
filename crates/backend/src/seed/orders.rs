//! A year of Northwind's order history, and today's open orders.
//!
//! History (everything before the last two days) is imported as finished
//! business: delivered, closed or cancelled orders whose stock left before the
//! opening stock count, so it reserves and moves nothing. It follows the
//! retail calendar: a winter lull, a spring sale, a summer camping season,
//! Amazon's July event and the Black Friday to Christmas peak, with more web
//! orders at weekends and B2B orders on weekdays.
//!
//! Today's orders go through capture like any other, so they reserve stock,
//! and a handful are held for each reason the workbench shows.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use domain::{
    events::Event,
    orders::{Address, AmountIn, CustomerIn, LineIn, OrderIn, ShippingIn, StatedTotals},
};

use crate::{ctx::Ctx, db::Db, error::Result, seed::catalog::Lcg, uow::Change};

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Ethan", "Harper", "Aiden", "Evelyn", "Kenji", "Zara", "Omar",
    "Chloe", "Ravi", "Grace", "Tomás", "Hannah", "Wei", "Nora", "Kwame", "Lucia", "Finn",
];
const LAST: &[&str] = &[
    "Smith", "Johnson", "Garcia", "Brown", "Miller", "Davis", "Martinez", "Lopez", "Wilson",
    "Anderson", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker",
    "Nakamura", "Okafor",
];
/// (city, state, postcode prefix)
const PLACES: &[(&str, &str, &str)] = &[
    ("Portland", "OR", "972"),
    ("Denver", "CO", "802"),
    ("Austin", "TX", "787"),
    ("Brooklyn", "NY", "112"),
    ("Chicago", "IL", "606"),
    ("Seattle", "WA", "981"),
    ("Boulder", "CO", "803"),
    ("Atlanta", "GA", "303"),
    ("Minneapolis", "MN", "554"),
    ("Salt Lake City", "UT", "841"),
    ("Asheville", "NC", "288"),
    ("Burlington", "VT", "054"),
    ("Bend", "OR", "977"),
    ("Boise", "ID", "837"),
    ("Columbus", "OH", "432"),
];
const STREETS: &[&str] = &[
    "Maple Ave",
    "Oak St",
    "Pine Rd",
    "Cedar Ln",
    "Elm St",
    "Lakeview Dr",
    "Summit Way",
    "River Rd",
    "Birch Ct",
    "Ridge Blvd",
];
/// Sales tax by state, as the seeded tax rules state it.
pub const TAX_RULES: &[(&str, &str, &str, &str)] = &[
    ("US", "CO", "0.029", "Colorado state sales tax"),
    ("US", "GA", "0.04", "Georgia state sales tax"),
    ("US", "IL", "0.0625", "Illinois state sales tax"),
    ("US", "MN", "0.06875", "Minnesota state sales tax"),
    ("US", "NC", "0.0475", "North Carolina state sales tax"),
    ("US", "NY", "0.04", "New York state sales tax"),
    ("US", "OH", "0.0575", "Ohio state sales tax"),
    ("US", "TX", "0.0625", "Texas state sales tax"),
    ("US", "UT", "0.0485", "Utah state sales tax"),
    ("US", "VT", "0.06", "Vermont state sales tax"),
    ("US", "WA", "0.065", "Washington state sales tax"),
    ("US", "ID", "0.06", "Idaho state sales tax"),
];

/// (channel, share of orders in percent, typical units per line)
const MIX: &[(&str, u64, u64)] = &[
    ("WEB", 45, 1),
    ("AMAZON", 30, 1),
    ("WALMART", 15, 1),
    ("B2B", 10, 12),
];

/// How busy a day is compared with an ordinary one, in percent.
fn demand(day: NaiveDate, channel: &str) -> u64 {
    let month = day.month();
    let mut pct: u64 = match month {
        1 | 2 => 70,
        3 => 90,
        4 => 110,
        5 | 6 => 120,
        7 | 8 => 125,
        9 | 10 => 95,
        11 => 150,
        _ => 190,
    };
    // The spring sale: the second week of April.
    if month == 4 && (8..=14).contains(&day.day()) {
        pct = pct * 180 / 100;
    }
    // Amazon's July event: two days in mid-July.
    if channel == "AMAZON" && month == 7 && (15..=16).contains(&day.day()) {
        pct *= 3;
    }
    // Black Friday (the day after the fourth Thursday of November) to Cyber Monday.
    let thanksgiving = NaiveDate::from_weekday_of_month_opt(day.year(), 11, Weekday::Thu, 4);
    if let Some(t) = thanksgiving {
        let since = (day - t).num_days();
        if (1..=4).contains(&since) {
            pct *= 4;
        }
    }
    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
    match (channel, weekend) {
        ("B2B", true) => pct / 5,
        ("B2B", false) => pct * 120 / 100,
        (_, true) => pct * 125 / 100,
        _ => pct,
    }
}

struct Customer {
    email: String,
    name: String,
    address: Address,
}

fn customers(rng: &mut Lcg, n: usize) -> Vec<Customer> {
    (0..n)
        .map(|i| {
            let (first, last) = (*rng.pick(FIRST), *rng.pick(LAST));
            let (city, state, zip) = *rng.pick(PLACES);
            let email = format!(
                "{}.{}{}@example.com",
                first.to_lowercase().replace('á', "a"),
                last.to_lowercase(),
                i
            );
            Customer {
                email,
                name: format!("{first} {last}"),
                address: Address {
                    name: format!("{first} {last}"),
                    line1: format!("{} {}", 10 + rng.next(9000), rng.pick(STREETS)),
                    city: city.into(),
                    region: state.into(),
                    postcode: format!("{zip}{:02}", rng.next(100)),
                    country: "US".into(),
                    ..Address::default()
                },
            }
        })
        .collect()
}

pub struct OrdersReport {
    pub history: usize,
    pub open: usize,
    pub held: usize,
}

/// (sku, name, price in cents)
type Sellable = (String, String, i64);

async fn sellables(db: &Db) -> Result<Vec<Sellable>> {
    Ok(sqlx::query_as(
        "select p.sku, p.name, pp.price_minor from product p join product_price pp on pp.product_id = p.product_id and pp.currency = 'USD'
         where p.active = 1 and p.track_lots = 0 order by p.sku",
    )
    .fetch_all(&db.pool)
    .await?)
}

fn line(rng: &mut Lcg, items: &[Sellable], units: u64) -> LineIn {
    let (sku, name, price) = rng.pick(items).clone();
    LineIn {
        sku,
        name,
        quantity: 1 + rng.next(units) as i64,
        unit_price: Some(AmountIn::Text(format!(
            "{}.{:02}",
            price / 100,
            price % 100
        ))),
        discount: None,
    }
}

fn order_for(
    rng: &mut Lcg,
    items: &[Sellable],
    people: &[Customer],
    channel: &str,
    units: u64,
    external_id: String,
    placed_at: chrono::DateTime<chrono::Utc>,
) -> OrderIn {
    let c = &people[rng.next(people.len() as u64) as usize];
    let n_lines = 1 + rng.next(if units > 1 { 5 } else { 3 }) as usize;
    OrderIn {
        channel: channel.into(),
        external_id,
        currency: "USD".into(),
        customer: CustomerIn::Full {
            email: c.email.clone(),
            name: c.name.clone(),
            phone: String::new(),
        },
        lines: (0..n_lines).map(|_| line(rng, items, units)).collect(),
        shipping: ShippingIn {
            address: Some(c.address.clone()),
            price: Some(AmountIn::Text(
                if channel == "B2B" { "0.00" } else { "6.95" }.into(),
            )),
            method: if channel == "B2B" {
                "Freight"
            } else {
                "Ground"
            }
            .into(),
            flat: Address::default(),
        },
        billing_address: None,
        payment_status: "paid".into(),
        discount: None,
        prices_include_tax: false,
        totals: StatedTotals::default(),
        placed_at: Some(placed_at.to_rfc3339()),
        note: String::new(),
        tags: vec![],
    }
}

/// Seeds the history and today's orders. `scale` multiplies the volume
/// (about 20 orders a day at scale 1). Long by design: a script of the
/// demo's history, day by day.
pub async fn seed_orders(db: &Db, ctx: &Ctx, scale: u32, now_micros: i64) -> Result<OrdersReport> {
    let mut uow = db.begin(ctx).await?;
    for (country, region, rate, name) in TAX_RULES {
        sqlx::query("insert into tax_rule (country, region, rate, name) values ($1, $2, $3, $4) on conflict (country, region) do nothing")
            .bind(country)
            .bind(region)
            .bind(rate)
            .bind(name)
            .execute(&mut *uow.tx)
            .await?;
    }
    uow.record(
        Change {
            action: "tax_rule.seed",
            entity: "tax_rule",
            entity_id: "US",
            before: None,
            after: Some(serde_json::json!({"rules": TAX_RULES.len()})),
        },
        Event::TaxRulesSet {
            country: "US".into(),
            rules: TAX_RULES.len() as i64,
        },
    )
    .await?;
    uow.commit().await?;

    let items = sellables(db).await?;
    let mut rng = Lcg(0x0de5_eed0);
    let people = customers(&mut rng, 2500 * scale.max(1) as usize);
    let now = chrono::DateTime::from_timestamp_micros(now_micros).unwrap_or_default();
    let today = now.date_naive();
    let base = 20 * u64::from(scale.max(1));

    let mut history = Vec::new();
    let mut serial = 0u64;
    for back in (2..=365).rev() {
        let day = today - Duration::days(back);
        for (channel, share, units) in MIX {
            let expected = base * share * demand(day, channel) / 100 / 100;
            // ±20% day-to-day noise around the expected count.
            let n = expected * (80 + rng.next(41)) / 100;
            for _ in 0..n {
                serial += 1;
                let at = day.and_hms_opt(7, 0, 0).unwrap_or_default().and_utc()
                    + Duration::seconds(rng.next(15 * 3600) as i64);
                let o = order_for(
                    &mut rng,
                    &items,
                    &people,
                    channel,
                    *units,
                    format!("{channel}-H{serial:07}"),
                    at,
                );
                let status = match rng.next(100) {
                    0..=2 => "cancelled",
                    _ if back <= 6 => "delivered",
                    _ => "closed",
                };
                // Most orders leave within a day and a half; about one in
                // twelve misses its ship-by time, more of them in December.
                let late = rng.next(100) < if day.month() == 12 { 15 } else { 8 };
                let hours = if late {
                    50 + rng.next(30)
                } else {
                    3 + rng.next(20)
                };
                let shipped = (status != "cancelled").then(|| at + Duration::hours(hours as i64));
                // West of the Rockies ships from Reno, the middle from
                // Columbus, the rest from Allentown (B2B has no Allentown stock).
                let warehouse = match o.shipping.address.as_ref().map(|a| a.region.as_str()) {
                    Some("CA" | "WA" | "OR" | "NV" | "AZ" | "UT" | "ID" | "CO") => "WEST",
                    Some("TX" | "IL" | "MO" | "KS" | "MN" | "OH" | "MI" | "WI") => "CENTRAL",
                    _ if *channel == "B2B" => "CENTRAL",
                    _ => "EAST",
                };
                history.push(crate::orders::capture::PastOrder {
                    order: o,
                    status: status.into(),
                    shipped_at: shipped,
                    warehouse: Some(warehouse.into()),
                });
            }
        }
    }
    let imported = crate::orders::history::import_history(db, ctx, &history).await?;

    // Today's open orders: confirmed with stock reserved, some held, one
    // partly backordered.
    let mut open = 0;
    let mut held = 0;
    let hour = |h: i64| now - Duration::hours(h);
    for i in 0..(36 * scale.max(1) as usize) {
        let (channel, _, units) = MIX[i % MIX.len()];
        let mut o = order_for(
            &mut rng,
            &items,
            &people,
            channel,
            units,
            format!("{channel}-{:06}", 500_000 + i),
            hour(1 + (i as i64 % 40)),
        );
        // The same handful of problems a real day brings.
        match i {
            0 | 9 => o.payment_status = "pending".into(),
            4 => o.payment_status = "failed".into(),
            13 => {
                o.billing_address = Some(Address {
                    country: "NG".into(),
                    ..o.shipping.address.clone().unwrap_or_default()
                });
                o.customer = CustomerIn::Full {
                    email: "first.timer@example.net".into(),
                    name: "Casey First".into(),
                    phone: String::new(),
                };
                o.lines = vec![LineIn {
                    quantity: 6,
                    ..line(&mut rng, &items[..items.len().min(40)], 1)
                }];
                o.lines[0].unit_price = Some(AmountIn::Text("249.00".into()));
            }
            17 => {
                if let Some(a) = o.shipping.address.as_mut() {
                    a.postcode.clear();
                    a.line1 = "Pickup at the depot".into();
                }
            }
            21 => {
                o.totals.total = Some(AmountIn::Text("1.00".into()));
            }
            // More than the warehouses hold: what there is ships, the rest
            // waits as a backorder.
            25 => o.lines[0].quantity = 5_000,
            _ => {}
        }
        let c = crate::orders::capture::capture(db, ctx, o, None, None).await?;
        open += 1;
        held += usize::from(!c.order.holds.is_empty());
    }
    Ok(OrdersReport {
        history: imported,
        open,
        held,
    })
}
