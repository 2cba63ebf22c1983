//! The demo catalogue: Northwind's apparel styles in sizes and colours,
//! accessories, lot-tracked consumables with expiry dates, and a few kits;
//! bins in every warehouse; and opening stock received into them.
//! Deterministic: the same seed gives the same catalogue and quantities.

use std::collections::BTreeMap;

use domain::catalog::{ComponentInput, PriceInput, ProductInput};

use crate::{
    catalog::create_product,
    ctx::Ctx,
    db::Db,
    error::Result,
    inventory::{
        self, counts::CountInput, counts::CountScan, receipts::ReceiptInput,
        receipts::ReceiptLineInput, warehouses::LocationInput,
    },
    orders::channels::set_safety_buffer,
};

/// (group, name, price, cost, weight g, sizes, colours)
type Style = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    &'static [&'static str],
    &'static [&'static str],
);
const STYLES: &[Style] = &[
    (
        "TEE-CLASSIC",
        "Classic crew tee",
        "24.00",
        "7.40",
        180,
        &["S", "M", "L", "XL"],
        &["Navy", "Heather", "Black"],
    ),
    (
        "TEE-MERINO",
        "Merino trail tee",
        "68.00",
        "22.10",
        150,
        &["S", "M", "L", "XL"],
        &["Slate", "Moss"],
    ),
    (
        "HOOD-FLEECE",
        "Fleece hoodie",
        "79.00",
        "24.50",
        620,
        &["S", "M", "L", "XL"],
        &["Navy", "Charcoal", "Rust"],
    ),
    (
        "JKT-RAIN",
        "Packable rain jacket",
        "129.00",
        "41.00",
        310,
        &["S", "M", "L", "XL"],
        &["Yellow", "Black"],
    ),
    (
        "JKT-DOWN",
        "Down puffer jacket",
        "189.00",
        "63.00",
        420,
        &["S", "M", "L", "XL"],
        &["Black", "Olive"],
    ),
    (
        "PANT-HIKE",
        "Convertible hiking pant",
        "84.00",
        "26.00",
        390,
        &["30", "32", "34", "36"],
        &["Khaki", "Graphite"],
    ),
    (
        "SHORT-TRAIL",
        "Trail short",
        "49.00",
        "14.20",
        210,
        &["S", "M", "L", "XL"],
        &["Navy", "Sand"],
    ),
    (
        "SOCK-WOOL",
        "Wool hiking socks",
        "18.00",
        "4.90",
        90,
        &["S", "M", "L"],
        &["Grey", "Forest"],
    ),
    (
        "CAP-LOGO",
        "Logo trucker cap",
        "28.00",
        "6.10",
        110,
        &["OS"],
        &["Navy", "Orange", "Black"],
    ),
    (
        "BEANIE-RIB",
        "Ribbed beanie",
        "26.00",
        "5.80",
        80,
        &["OS"],
        &["Rust", "Charcoal", "Cream"],
    ),
    (
        "FLANNEL-SHIRT",
        "Brushed flannel shirt",
        "64.00",
        "19.30",
        340,
        &["S", "M", "L", "XL"],
        &["Red check", "Blue check"],
    ),
    (
        "LEGGING-RUN",
        "Running legging",
        "58.00",
        "15.70",
        200,
        &["XS", "S", "M", "L"],
        &["Black", "Plum"],
    ),
    (
        "VEST-INSUL",
        "Insulated vest",
        "99.00",
        "31.00",
        330,
        &["S", "M", "L", "XL"],
        &["Black", "Teal"],
    ),
    (
        "BASE-TOP",
        "Thermal base layer top",
        "54.00",
        "16.40",
        190,
        &["S", "M", "L", "XL"],
        &["Black", "Blue"],
    ),
    (
        "GLOVE-TOUCH",
        "Touchscreen gloves",
        "32.00",
        "8.20",
        70,
        &["S", "M", "L"],
        &["Black", "Grey"],
    ),
    (
        "BOOT-HIKE",
        "Waterproof hiking boot",
        "159.00",
        "58.00",
        1150,
        &["8", "9", "10", "11"],
        &["Brown", "Grey"],
    ),
    (
        "SANDAL-RIVER",
        "River sandal",
        "69.00",
        "21.00",
        480,
        &["8", "9", "10", "11"],
        &["Black", "Tan"],
    ),
    (
        "PONCHO",
        "Festival poncho",
        "22.00",
        "5.10",
        160,
        &["OS"],
        &["Clear", "Green"],
    ),
    (
        "POLO-PIQUE",
        "Pique polo",
        "44.00",
        "12.60",
        230,
        &["XS", "S", "M", "L", "XL"],
        &["White", "Navy", "Sage"],
    ),
    (
        "TANK-RUN",
        "Running tank",
        "34.00",
        "9.10",
        110,
        &["XS", "S", "M", "L", "XL"],
        &["Coral", "Black", "Sky"],
    ),
    (
        "ANORAK-WIND",
        "Windproof anorak",
        "109.00",
        "34.00",
        280,
        &["XS", "S", "M", "L", "XL"],
        &["Olive", "Navy", "Red"],
    ),
    (
        "CREW-KNIT",
        "Cotton crew knit",
        "72.00",
        "21.50",
        420,
        &["XS", "S", "M", "L", "XL"],
        &["Oat", "Navy", "Forest"],
    ),
    (
        "CHINO-STRETCH",
        "Stretch chino",
        "68.00",
        "19.90",
        380,
        &["28", "30", "32", "34", "36"],
        &["Khaki", "Navy", "Black"],
    ),
    (
        "SKIRT-TRAIL",
        "Trail skort",
        "54.00",
        "15.30",
        200,
        &["XS", "S", "M", "L", "XL"],
        &["Black", "Teal", "Plum"],
    ),
];

/// (sku, name, price, cost, weight g)
const ACCESSORIES: &[(&str, &str, &str, &str, i64)] = &[
    (
        "BTL-STEEL-750",
        "Insulated steel bottle 750 ml",
        "34.00",
        "9.80",
        380,
    ),
    ("BTL-SOFT-500", "Soft flask 500 ml", "24.00", "6.20", 40),
    ("MUG-ENAMEL", "Enamel camp mug", "16.00", "3.90", 210),
    (
        "STOVE-POCKET",
        "Pocket canister stove",
        "59.00",
        "18.50",
        95,
    ),
    ("POT-TI-900", "Titanium pot 900 ml", "64.00", "21.00", 140),
    ("SPORK-TI", "Titanium spork", "12.00", "2.60", 18),
    ("LAMP-HEAD-300", "Headlamp 300 lm", "39.00", "11.40", 85),
    ("LANTERN-SOLAR", "Solar lantern", "45.00", "13.80", 260),
    ("PACK-DAY-22", "Daypack 22 L", "89.00", "27.00", 780),
    ("PACK-HIKE-45", "Hiking pack 45 L", "179.00", "58.00", 1450),
    ("BAG-DRY-10", "Dry bag 10 L", "26.00", "6.70", 110),
    ("BAG-SLEEP-5C", "Sleeping bag 5 °C", "139.00", "44.00", 1100),
    (
        "PAD-SLEEP",
        "Inflatable sleeping pad",
        "99.00",
        "30.00",
        520,
    ),
    ("TENT-2P", "Two-person tent", "289.00", "96.00", 1900),
    (
        "TARP-3X3",
        "Ultralight tarp 3 x 3 m",
        "119.00",
        "36.00",
        480,
    ),
    ("POLE-TREK", "Trekking poles (pair)", "89.00", "25.00", 510),
    ("KNIFE-FOLD", "Folding knife", "42.00", "11.90", 120),
    ("TOWEL-QUICK", "Quick-dry towel", "29.00", "7.20", 230),
    ("HAMMOCK", "Camping hammock", "69.00", "19.80", 560),
    ("COMPASS", "Baseplate compass", "27.00", "7.60", 40),
    ("CHAIR-CAMP", "Folding camp chair", "79.00", "24.00", 950),
    ("COOLER-SOFT", "Soft cooler 20 L", "99.00", "31.00", 900),
];

/// Lot-tracked: (sku, name, price, cost, weight g, months to expiry)
const CONSUMABLES: &[(&str, &str, &str, &str, i64, u32)] = &[
    (
        "GAS-230",
        "Isobutane canister 230 g",
        "8.50",
        "3.10",
        370,
        60,
    ),
    (
        "GAS-450",
        "Isobutane canister 450 g",
        "12.50",
        "4.60",
        650,
        60,
    ),
    (
        "SUN-SPF50",
        "Mineral sunscreen SPF 50",
        "16.00",
        "4.20",
        120,
        18,
    ),
    ("BAR-TRAIL", "Trail bar, 12 pack", "21.00", "8.40", 720, 9),
    (
        "MEAL-CHILI",
        "Freeze-dried chili meal",
        "11.00",
        "4.10",
        150,
        30,
    ),
    (
        "MEAL-PASTA",
        "Freeze-dried pasta meal",
        "11.00",
        "4.10",
        150,
        30,
    ),
    (
        "REPEL-DEET",
        "Insect repellent 30%",
        "9.00",
        "2.70",
        110,
        24,
    ),
    (
        "TABS-PURIFY",
        "Water purification tablets",
        "14.00",
        "3.60",
        30,
        36,
    ),
    ("KIT-FIRSTAID", "First-aid refill", "19.00", "6.30", 180, 24),
    (
        "WAX-PROOF",
        "Boot waterproofing wax",
        "13.00",
        "3.40",
        90,
        36,
    ),
];

/// Kits: (sku, name, price, components)
type Kit = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, i64)],
);
const KITS: &[Kit] = &[
    (
        "KIT-CAMP-COOK",
        "Camp cook kit",
        "89.00",
        &[
            ("STOVE-POCKET", 1),
            ("POT-TI-900", 1),
            ("SPORK-TI", 1),
            ("GAS-230", 2),
        ],
    ),
    (
        "KIT-HYDRATE",
        "Hydration pair",
        "49.00",
        &[("BTL-STEEL-750", 1), ("BTL-SOFT-500", 1)],
    ),
    (
        "KIT-NIGHT",
        "Night-out kit",
        "199.00",
        &[("BAG-SLEEP-5C", 1), ("PAD-SLEEP", 1), ("LAMP-HEAD-300", 1)],
    ),
    (
        "KIT-TEE-3PK",
        "Classic tee 3-pack, navy M",
        "59.00",
        &[("TEE-CLASSIC-NAVY-M", 3)],
    ),
    (
        "KIT-SOCK-2PK",
        "Wool sock 2-pack, grey M",
        "32.00",
        &[("SOCK-WOOL-GREY-M", 2)],
    ),
    (
        "KIT-TRAIL-FUEL",
        "Trail fuel box",
        "39.00",
        &[("BAR-TRAIL", 1), ("MEAL-CHILI", 1), ("MEAL-PASTA", 1)],
    ),
];

/// A deterministic generator, so every seeded database is the same. The
/// order seeder draws from it too.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next(items.len() as u64) as usize]
    }
}

/// A valid GTIN-13 under the GS1 example company prefix 0614141.
fn gtin(n: usize) -> String {
    let payload = format!("0614141{n:05}");
    let check = domain::gtin::check_digit(&payload).unwrap_or(0);
    format!("{payload}{check}")
}

fn product(sku: &str, name: &str, price: &str, cost: &str, weight: i64) -> ProductInput {
    ProductInput {
        sku: sku.into(),
        name: name.into(),
        weight_g: Some(weight),
        prices: vec![PriceInput {
            currency: "USD".into(),
            cost: cost.into(),
            price: price.into(),
        }],
        ..Default::default()
    }
}

pub struct CatalogReport {
    pub products: usize,
    pub units: i64,
}

/// Seeds the demo catalogue, its bins and opening stock. Long by design: a
/// script of the demo's data, step by step, with no decisions of its own.
pub async fn seed_catalog(
    db: &Db,
    ctx: &Ctx,
    warehouses: &[&str],
    today: chrono::NaiveDate,
) -> Result<CatalogReport> {
    let mut rng = Lcg(0x5eed_0001);
    let mut n = 0usize;
    // zone → (sku, lot-tracked)
    let mut zones: BTreeMap<&str, Vec<(String, bool)>> = BTreeMap::new();
    for (group, name, price, cost, weight, sizes, colours) in STYLES {
        for colour in *colours {
            for size in *sizes {
                n += 1;
                let colour_code: String = colour
                    .split_whitespace()
                    .map(|w| w.to_uppercase())
                    .collect::<Vec<_>>()
                    .join("");
                let sku = format!("{group}-{colour_code}-{size}");
                let mut p = product(
                    &sku,
                    &format!("{name}, {colour}, {size}"),
                    price,
                    cost,
                    *weight,
                );
                p.group = Some((*group).into());
                p.options = [
                    ("colour".to_string(), colour.to_string()),
                    ("size".to_string(), size.to_string()),
                ]
                .into();
                p.gtin = Some(gtin(n));
                create_product(db, ctx, p, None).await?;
                zones.entry("A").or_default().push((sku, false));
            }
        }
    }
    for (sku, name, price, cost, weight) in ACCESSORIES {
        n += 1;
        let mut p = product(sku, name, price, cost, *weight);
        p.gtin = Some(gtin(n));
        create_product(db, ctx, p, None).await?;
        zones.entry("B").or_default().push((sku.to_string(), false));
    }
    for (sku, name, price, cost, weight, _) in CONSUMABLES {
        n += 1;
        let mut p = product(sku, name, price, cost, *weight);
        p.gtin = Some(gtin(n));
        p.track_lots = Some(true);
        p.tax_category = Some("reduced".into());
        create_product(db, ctx, p, None).await?;
        zones.entry("C").or_default().push((sku.to_string(), true));
    }
    // Serial-tracked: each unit is received under its own serial number.
    n += 1;
    let mut watch = product("WATCH-GPS", "GPS adventure watch", "349.00", "142.00", 60);
    watch.gtin = Some(gtin(n));
    watch.track_serials = Some(true);
    create_product(db, ctx, watch, None).await?;
    for (sku, name, price, components) in KITS {
        let mut p = product(sku, name, price, "0", 0);
        p.weight_g = None;
        p.components = components
            .iter()
            .map(|(s, q)| ComponentInput {
                sku: (*s).into(),
                quantity: *q,
            })
            .collect();
        create_product(db, ctx, p, None).await?;
    }
    let products = n + KITS.len();

    let mut units = 0;
    for wh in warehouses {
        // Zones A–C, aisles 01–04, bins 01–06, walked in code order.
        for zone in ["A", "B", "C"] {
            for aisle in 1..=4 {
                for b in 1..=6 {
                    inventory::warehouses::create_location(
                        db,
                        ctx,
                        wh,
                        LocationInput {
                            code: format!("{zone}-{aisle:02}-{b:02}"),
                            pick_sequence: None,
                        },
                    )
                    .await?;
                }
            }
        }
        for (zone, skus) in &zones {
            let mut lines = Vec::new();
            for (i, (sku, lots)) in skus.iter().enumerate() {
                let bin = format!("{zone}-{:02}-{:02}", i / 6 % 4 + 1, i % 6 + 1);
                let qty = 4 + rng.next(57) as i64;
                if *lots {
                    let months = CONSUMABLES
                        .iter()
                        .find(|c| c.0 == sku)
                        .map(|c| c.5)
                        .unwrap_or(12);
                    for (k, share) in [(0u32, qty / 3 + 1), (1, qty - qty / 3)] {
                        let expiry = today + chrono::Months::new(months / (2 - k) + 1);
                        lines.push(ReceiptLineInput {
                            sku: sku.clone(),
                            quantity: share.max(1),
                            location: Some(bin.clone()),
                            lot: Some(format!("L{}{:03}", expiry.format("%y%m"), i + k as usize)),
                            expires_on: Some(expiry.format("%Y-%m-%d").to_string()),
                        });
                        units += share.max(1);
                    }
                } else {
                    lines.push(ReceiptLineInput {
                        sku: sku.clone(),
                        quantity: qty,
                        location: Some(bin),
                        lot: None,
                        expires_on: None,
                    });
                    units += qty;
                }
            }
            inventory::receipts::receive(
                db,
                ctx,
                ReceiptInput {
                    warehouse: (*wh).into(),
                    reference: Some(format!("OPENING-{wh}-{zone}")),
                    lines,
                },
                None,
            )
            .await?;
        }
    }
    for wh in warehouses {
        let lines = (1..=4)
            .map(|k| ReceiptLineInput {
                sku: "WATCH-GPS".into(),
                quantity: 1,
                location: Some("B-04-06".into()),
                lot: Some(format!("GW{wh}{k:04}")),
                expires_on: None,
            })
            .collect();
        inventory::receipts::receive(
            db,
            ctx,
            ReceiptInput {
                warehouse: (*wh).into(),
                reference: Some(format!("OPENING-{wh}-SERIALS")),
                lines,
            },
            None,
        )
        .await?;
        units += 4;
    }
    for (channel, buffer) in [("AMAZON", 2), ("WALMART", 3)] {
        set_safety_buffer(db, ctx, channel, buffer).await?;
    }
    // One count that found a large shortfall, waiting for a manager.
    if let Some(wh) = warehouses.first() {
        let count = inventory::counts::open_count(
            db,
            ctx,
            CountInput {
                warehouse: (*wh).into(),
                location: "B-03-02".into(),
            },
        )
        .await?;
        inventory::counts::count_scan(
            db,
            ctx,
            &count.id,
            CountScan {
                code: "TENT-2P".into(),
                quantity: Some(1),
                set: true,
            },
        )
        .await?;
        inventory::counts::submit_count(db, ctx, &count.id).await?;
    }
    Ok(CatalogReport { products, units })
}
