//! The demo retailer: "Northwind Outfitters", a mid-market omnichannel apparel
//! and outdoor retailer with its own web store, two marketplaces, a B2B portal
//! and three warehouses, plus staff in every role. Deterministic, and safe to
//! run twice: a second run changes nothing.

pub mod bench;
mod catalog;
mod orders;

use crate::receiving::{DeliveryInput, DeliveryLineInput};
use domain::{governance::Scope, orders::NewChannel};

use crate::{
    ctx::Ctx,
    db::Db,
    error::Result,
    governance::{create_user, NewUser},
    inventory::{warehouses::create_warehouse, warehouses::WarehouseInput},
    orders::channels::create_channel,
};

pub const ADMIN_EMAIL: &str = "admin@northwind.example";

#[derive(Debug, Clone)]
pub struct SeedReport {
    /// False when the database was already seeded.
    pub created: bool,
    /// (email, role, password) of every staff account created.
    pub staff: Vec<(String, String, String)>,
    pub warehouses: usize,
    pub channels: usize,
    pub products: usize,
    /// Units of opening stock received across the warehouses.
    pub units: i64,
    /// Finished orders of the past year, imported as history.
    pub history_orders: usize,
    /// Today's open orders, captured with stock reserved, and how many are held.
    pub open_orders: usize,
    pub held_orders: usize,
    /// Supplier deliveries announced for the coming days, to receive.
    pub deliveries: usize,
}

const WAREHOUSES: &[(&str, &str)] = &[
    ("EAST", "East Coast DC, Allentown PA"),
    ("CENTRAL", "Central DC, Columbus OH"),
    ("WEST", "West Coast DC, Reno NV"),
];

const CHANNELS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "WEB",
        "Northwind web store",
        "web",
        "USD",
        &["EAST", "CENTRAL", "WEST"],
    ),
    (
        "AMAZON",
        "Amazon US marketplace",
        "marketplace",
        "USD",
        &["CENTRAL", "EAST", "WEST"],
    ),
    (
        "WALMART",
        "Walmart marketplace",
        "marketplace",
        "USD",
        &["CENTRAL", "WEST"],
    ),
    (
        "B2B",
        "Wholesale portal",
        "b2b",
        "USD",
        &["EAST", "CENTRAL"],
    ),
];

/// (email, name, role, warehouse scope)
const STAFF: &[(&str, &str, &str, &[&str])] = &[
    (ADMIN_EMAIL, "Avery Admin", "admin", &[]),
    // A second administrator: a role change waits for one other than the
    // person who asked (the role_change approval policy).
    ("sofia.marin@northwind.example", "Sofia Marin", "admin", &[]),
    ("maya.patel@northwind.example", "Maya Patel", "manager", &[]),
    ("sam.okafor@northwind.example", "Sam Okafor", "finance", &[]),
    (
        "lena.fischer@northwind.example",
        "Lena Fischer",
        "support",
        &[],
    ),
];

/// Seeds the demo retailer. Each staff account gets its own random password
/// unless `shared` gives one for all (tests and benchmarks sign in with it);
/// one shared password would let any agent sign in as the admin. `scale`
/// sizes the floor team (two agents per warehouse at scale 1) and the order
/// volume (about 20 orders a day at scale 1).
pub async fn seed(db: &Db, shared: Option<&str>, scale: u32) -> Result<SeedReport> {
    let ctx = Ctx::system("seed");
    let already: i64 = sqlx::query_scalar("select cast(count(*) as bigint) from app_user")
        .fetch_one(&db.pool)
        .await?;
    if already > 0 {
        return Ok(SeedReport {
            created: false,
            staff: vec![],
            warehouses: 0,
            channels: 0,
            products: 0,
            units: 0,
            history_orders: 0,
            open_orders: 0,
            held_orders: 0,
            deliveries: 0,
        });
    }
    for (code, name) in WAREHOUSES {
        create_warehouse(
            db,
            &ctx,
            WarehouseInput {
                code: (*code).into(),
                name: (*name).into(),
            },
            None,
        )
        .await?;
    }
    for (code, name, kind, currency, warehouses) in CHANNELS {
        let warehouses: Vec<String> = warehouses.iter().map(|w| w.to_string()).collect();
        let new = NewChannel::parse(code, name, kind, currency, &warehouses)?;
        create_channel(db, &ctx, new, None).await?;
    }
    let mut staff: Vec<(String, String, String, Scope)> = STAFF
        .iter()
        .map(|(e, n, r, w)| {
            (
                e.to_string(),
                n.to_string(),
                r.to_string(),
                Scope {
                    warehouses: w.iter().map(|s| s.to_string()).collect(),
                    channels: vec![],
                },
            )
        })
        .collect();
    const FIRST: [&str; 6] = ["Jordan", "Priya", "Diego", "Mei", "Tomasz", "Aisha"];
    const LAST: [&str; 6] = ["Reyes", "Nguyen", "Kowalski", "Haddad", "Brennan", "Osei"];
    let mut n = 0;
    for (code, _) in WAREHOUSES {
        for _ in 0..(2 * scale.max(1)) {
            let (first, last) = (
                FIRST[n % FIRST.len()],
                LAST[(n / FIRST.len() + n) % LAST.len()],
            );
            let email = format!(
                "{}.{}{}@northwind.example",
                first.to_lowercase(),
                last.to_lowercase(),
                if n >= 6 { n.to_string() } else { String::new() }
            );
            staff.push((
                email,
                format!("{first} {last}"),
                "warehouse".into(),
                Scope {
                    warehouses: vec![code.to_string()],
                    channels: vec![],
                },
            ));
            n += 1;
        }
    }
    let mut created = Vec::new();
    for (email, name, role, scope) in staff {
        let password = shared.map_or_else(crate::governance::random_password, str::to_string);
        create_user(
            db,
            &ctx,
            NewUser {
                email: email.clone(),
                name,
                role: role.clone(),
                password: password.clone(),
                scope,
            },
            None,
        )
        .await?;
        created.push((email, role, password));
    }
    let codes: Vec<&str> = WAREHOUSES.iter().map(|(c, _)| *c).collect();
    let today = chrono::DateTime::from_timestamp_micros(ctx.now())
        .unwrap_or_default()
        .date_naive();
    let catalog = catalog::seed_catalog(db, &ctx, &codes, today).await?;
    trade_prices(db, &ctx).await?;
    let orders = orders::seed_orders(db, &ctx, scale, ctx.now()).await?;
    let deliveries = seed_deliveries(db, &ctx, today).await?;
    seed_reorder_points(db, &ctx).await?;
    Ok(SeedReport {
        created: true,
        staff: created,
        warehouses: WAREHOUSES.len(),
        channels: CHANNELS.len(),
        products: catalog.products,
        units: catalog.units,
        history_orders: orders.history,
        open_orders: orders.open,
        held_orders: orders.held,
        deliveries,
    })
}

/// A reorder point wherever an item is stocked: a quarter of what the
/// warehouse holds, at least 5 and at most 50 (the common rule of thumb for
/// a demo without a sales forecast). Open orders have already reserved
/// units, so the items they drew down show under low stock.
async fn seed_reorder_points(db: &Db, ctx: &Ctx) -> Result<()> {
    let levels: Vec<(String, String, i64)> = sqlx::query_as(
        "select p.sku, w.code, s.on_hand from stock_level s
         join product p on p.product_id = s.product_id join warehouse w on w.warehouse_id = s.warehouse_id
         where s.on_hand > 0 order by p.sku, w.code",
    )
    .fetch_all(&db.pool)
    .await?;
    for (sku, warehouse, on_hand) in levels {
        let point = (on_hand / 4).clamp(5, 50);
        crate::inventory::stock::set_reorder_point(db, ctx, &sku, &warehouse, point).await?;
    }
    Ok(())
}

/// One supplier delivery announced per warehouse, due today and the next
/// two days, of products that hold stock (not bundles, not serial-tracked:
/// serials are received one unit at a time, which a demo needn't show).
async fn seed_deliveries(db: &Db, ctx: &Ctx, today: chrono::NaiveDate) -> Result<usize> {
    const SUPPLIERS: [&str; 3] = [
        "Pacific Textile Co.",
        "Harbor Home Goods",
        "Summit Outdoor Supply",
    ];
    let skus: Vec<String> = sqlx::query_scalar(
        "select sku from product where kind <> 'bundle' and track_lots < 2 order by sku",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut n = 0;
    for (i, (code, _)) in WAREHOUSES.iter().enumerate() {
        let lines: Vec<DeliveryLineInput> = skus
            .iter()
            .skip(i * 7)
            .step_by(5)
            .take(4)
            .enumerate()
            .map(|(j, sku)| DeliveryLineInput {
                sku: sku.clone(),
                quantity: 12 * (j as i64 + 1),
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        crate::receiving::create_delivery(
            db,
            ctx,
            DeliveryInput {
                warehouse: code.to_string(),
                supplier: Some(SUPPLIERS[i % SUPPLIERS.len()].into()),
                reference: Some(format!("ASN-{}-{:03}", today.format("%Y%m%d"), i + 1)),
                expected_on: Some((today + chrono::Days::new(i as u64)).to_string()),
                lines,
            },
            None,
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

/// The B2B channel's trade prices: 15% off the catalogue price for every
/// fourth product, so its price list has both kinds of entry.
async fn trade_prices(db: &Db, ctx: &Ctx) -> Result<()> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select p.sku, pp.price_minor from product p
         join product_price pp on pp.product_id = p.product_id and pp.currency = 'USD'
         where p.active = 1 order by p.sku",
    )
    .fetch_all(&db.pool)
    .await?;
    let usd = domain::Currency::parse("USD").map_err(|e| crate::Error::Internal(e.to_string()))?;
    let entries: Vec<domain::orders::PriceEntryInput> = rows
        .into_iter()
        .step_by(4)
        .map(|(sku, minor)| domain::orders::PriceEntryInput {
            sku,
            price: Some(
                domain::Money::from_minor(minor * 85 / 100, usd)
                    .amount()
                    .to_string(),
            ),
        })
        .collect();
    for chunk in entries.chunks(domain::orders::MAX_PRICE_CHANGES) {
        let input = domain::orders::PriceListInput {
            prices: chunk.to_vec(),
        };
        crate::price_list::set(db, ctx, "B2B", &input).await?;
    }
    Ok(())
}
