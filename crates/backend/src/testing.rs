//! The store-test harness: each test runs once on a fresh SQLite file and once
//! on a fresh PostgreSQL database, which is dropped afterwards.
//!
//! PostgreSQL comes from `KEEL_TEST_PG_URL` (an admin URL to an existing
//! cluster; `scripts/test.sh` starts a throwaway one). Without it the PostgreSQL
//! half is skipped with a notice, except under `CI=true`, where that fails.

use std::future::Future;

use crate::db::Db;

pub enum Target {
    Sqlite,
    Postgres,
}

/// Runs `test` against a fresh, migrated database of the given backend.
pub async fn with_db<F, Fut>(target: Target, test: F)
where
    F: FnOnce(Db) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    match target {
        Target::Sqlite => {
            let dir =
                std::env::temp_dir().join(format!("keel-test-{}", uuid::Uuid::now_v7().simple()));
            let url = format!("sqlite://{}/keel.db", dir.display());
            let db = Db::connect(&url).await.expect("open sqlite");
            db.migrate().await.expect("migrate sqlite");
            let outcome = tokio::spawn(test(db.clone())).await;
            db.close().await;
            let _ = std::fs::remove_dir_all(&dir);
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        Target::Postgres => {
            let Some(admin_url) = pg_admin_url() else {
                return;
            };
            let (url, drop_db) = fresh_pg_database(&admin_url).await;
            let db = Db::connect(&url).await.expect("open postgres");
            db.migrate().await.expect("migrate postgres");
            let outcome = tokio::spawn(test(db.clone())).await;
            db.close().await;
            drop_db.await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

/// The PostgreSQL admin URL from `KEEL_TEST_PG_URL`. Without it a test says it
/// skipped PostgreSQL and gets `None`; under `CI=true` that is a failure instead.
pub fn pg_admin_url() -> Option<String> {
    let url = std::env::var("KEEL_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI=true but KEEL_TEST_PG_URL is not set: the PostgreSQL half must run in CI"
        );
        eprintln!("SKIPPED on PostgreSQL: KEEL_TEST_PG_URL is not set");
    }
    url
}

/// Creates a database with a unique name and returns its URL plus a future that drops it.
pub async fn fresh_pg_database(admin_url: &str) -> (String, impl Future<Output = ()>) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("keel_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::AnyConnection::connect(admin_url)
        .await
        .expect("connect to the PostgreSQL admin URL");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    admin.close().await.ok();
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url)
        .to_string();
    let admin_url = admin_url.to_string();
    let drop_name = name.clone();
    let drop = async move {
        if let Ok(mut admin) = sqlx::AnyConnection::connect(&admin_url).await {
            let _ = sqlx::query(&format!("drop database if exists {drop_name} with (force)"))
                .execute(&mut admin)
                .await;
            admin.close().await.ok();
        }
    };
    (format!("{base}/{name}"), drop)
}

/// Declares a store test that runs on both backends:
/// `store_test!(name, |db| async move { ... });` expands to `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! store_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                $crate::testing::with_db($crate::testing::Target::Sqlite, $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                $crate::testing::with_db($crate::testing::Target::Postgres, $body).await;
            }
        }
    };
}

/// Small builders the store and HTTP tests share: a warehouse with one bin,
/// items and kits priced in USD, receipts into that bin, channels, and the
/// drift check.
pub mod fixtures {
    use domain::{
        catalog::{ComponentInput, PriceInput, ProductInput},
        orders::ChannelInput,
        orders::{Address, AmountIn, CustomerIn, LineIn, OrderIn, ShippingIn, StatedTotals},
    };

    use crate::{
        catalog,
        inventory::{
            self, receipts::ReceiptInput, receipts::ReceiptLineInput, warehouses::LocationInput,
            warehouses::WarehouseInput,
        },
        orders, Ctx, Db,
    };

    pub fn sys() -> Ctx {
        Ctx::system("test")
    }

    /// A signed-in person of `role` over the whole business, named by
    /// `email` (the audit log's name, and who four eyes compares).
    pub fn person(email: &str, role: domain::governance::Role) -> Ctx {
        Ctx::new(
            crate::Actor {
                kind: crate::ActorKind::User,
                id: Some(format!("user-{email}")),
                name: email.into(),
                role: Some(role),
                scope: domain::governance::Scope::default(),
            },
            None,
        )
    }

    pub async fn warehouse(db: &Db, code: &str) {
        inventory::warehouses::create_warehouse(
            db,
            &sys(),
            WarehouseInput {
                code: code.into(),
                name: format!("{code} DC"),
            },
            None,
        )
        .await
        .unwrap();
        inventory::warehouses::create_location(
            db,
            &sys(),
            code,
            LocationInput {
                code: "A-01-01".into(),
                pick_sequence: None,
            },
        )
        .await
        .unwrap();
    }

    pub async fn item(db: &Db, sku: &str, cost: &str) {
        catalog::create_product(
            db,
            &sys(),
            ProductInput {
                sku: sku.into(),
                name: format!("Product {sku}"),
                prices: vec![PriceInput {
                    currency: "USD".into(),
                    cost: cost.into(),
                    price: "10.00".into(),
                }],
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    }

    pub async fn kit(db: &Db, sku: &str, parts: &[(&str, i64)]) {
        catalog::create_product(
            db,
            &sys(),
            ProductInput {
                sku: sku.into(),
                name: format!("Kit {sku}"),
                components: parts
                    .iter()
                    .map(|(s, q)| ComponentInput {
                        sku: (*s).into(),
                        quantity: *q,
                    })
                    .collect(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    }

    pub async fn receive(db: &Db, wh: &str, sku: &str, qty: i64) {
        receive_into(db, wh, sku, qty, "A-01-01").await;
    }

    /// A receipt of `qty` units of `sku` into one bin.
    pub async fn receive_into(db: &Db, wh: &str, sku: &str, qty: i64, bin: &str) {
        inventory::receipts::receive(
            db,
            &sys(),
            ReceiptInput {
                warehouse: wh.into(),
                reference: None,
                lines: vec![ReceiptLineInput {
                    sku: sku.into(),
                    quantity: qty,
                    location: Some(bin.into()),
                    lot: None,
                    expires_on: None,
                }],
            },
            None,
        )
        .await
        .unwrap();
    }

    /// A paid WEB order from Ann Lee in Austin, TX, shipped Ground, at 10.00
    /// a unit.
    pub fn web_order(external_id: &str, lines: &[(&str, i64)]) -> OrderIn {
        OrderIn {
            channel: "WEB".into(),
            external_id: external_id.into(),
            currency: "USD".into(),
            customer: CustomerIn::Full {
                email: "Ann@Example.com".into(),
                name: "Ann Lee".into(),
                phone: String::new(),
            },
            lines: lines
                .iter()
                .map(|(sku, q)| LineIn {
                    sku: sku.to_string(),
                    name: format!("Product {sku}"),
                    quantity: *q,
                    unit_price: Some(AmountIn::Text("10.00".into())),
                    discount: None,
                })
                .collect(),
            shipping: ShippingIn {
                address: Some(Address {
                    name: "Ann Lee".into(),
                    line1: "1 Main St".into(),
                    city: "Austin".into(),
                    region: "TX".into(),
                    postcode: "78701".into(),
                    country: "US".into(),
                    ..Address::default()
                }),
                price: Some(AmountIn::Text("5.00".into())),
                method: "Ground".into(),
                flat: Address::default(),
            },
            billing_address: None,
            payment_status: "paid".into(),
            discount: None,
            prices_include_tax: false,
            totals: StatedTotals::default(),
            placed_at: None,
            note: String::new(),
            tags: vec![],
        }
    }

    /// A channel selling in `currency` from `warehouses`, in priority order.
    pub async fn channel(
        db: &Db,
        (code, kind, currency): (&str, &str, &str),
        warehouses: &[&str],
        webhook_secret: Option<&str>,
    ) {
        let input = ChannelInput {
            code: code.into(),
            name: None,
            kind: kind.into(),
            currency: currency.into(),
            warehouses: warehouses.iter().map(|w| w.to_string()).collect(),
            webhook_secret: webhook_secret.map(String::from),
            prices_include_tax: false,
        };
        orders::channels::create_channel(db, &sys(), input.parse().unwrap(), None)
            .await
            .unwrap();
    }

    pub async fn assert_no_drift(db: &Db) {
        let drift = inventory::check::check(db).await.unwrap();
        assert!(drift.is_empty(), "keel check found drift: {drift:#?}");
        let drift = orders::check::check(db).await.unwrap();
        assert!(drift.is_empty(), "keel check found drift: {drift:#?}");
        crate::governance::audit_chain::seal(db).await.unwrap();
        let chain = crate::governance::audit_chain::check_chain(db)
            .await
            .unwrap();
        assert!(
            chain.drift.is_empty(),
            "keel check found drift: {:#?}",
            chain.drift
        );
    }

    /// Builds a wave of the oldest open fulfilment in `warehouse`, picks it,
    /// packs it into one measured package and ships it by UPS Ground; the
    /// wave's id.
    pub async fn ship_oldest(db: &Db, warehouse: &str) -> String {
        use crate::fulfillment::{
            self as floor, MeasureInput, PackScanInput, PackageTracking, ScanInput, ShipInput,
            WaveInput,
        };
        let ctx = sys();
        let wave = floor::build_wave(
            db,
            &ctx,
            WaveInput {
                warehouse: warehouse.into(),
                max_orders: Some(1),
                express_only: false,
            },
            None,
        )
        .await
        .unwrap();
        for t in &wave.tasks {
            for code in [t.location.clone(), t.sku.clone(), t.quantity.to_string()] {
                let out =
                    floor::pick_scan(db, &ctx, &wave.id, ScanInput { code: code.clone() }, None)
                        .await
                        .unwrap();
                assert!(out.accepted, "{code}: {}", out.message);
            }
        }
        for t in &wave.tasks {
            for _ in 0..t.quantity {
                let pack = PackScanInput {
                    code: t.sku.clone(),
                    package: None,
                };
                floor::pack_scan(db, &ctx, &t.fulfillment_id, pack, None)
                    .await
                    .unwrap();
            }
            let size = MeasureInput {
                weight_g: 500,
                length_mm: 300,
                width_mm: 200,
                height_mm: 100,
            };
            floor::measure_package(db, &ctx, &t.fulfillment_id, 1, size)
                .await
                .unwrap();
            let tracking = format!("1Z{}", &t.fulfillment_id[t.fulfillment_id.len() - 10..]);
            let ship = ShipInput {
                carrier: "UPS".into(),
                service: "Ground".into(),
                packages: vec![PackageTracking {
                    package: 1,
                    tracking,
                }],
            };
            floor::ship(db, &ctx, &t.fulfillment_id, ship, None)
                .await
                .unwrap();
        }
        wave.id
    }
}
