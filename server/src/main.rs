//! `keel`: serve | migrate | seed | check | backup | restore | user | token | bench.

use clap::{Parser, Subcommand};
use domain::governance::Scope;
use server::Config;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "keel",
    version,
    about = "Keel: the operations backbone for omnichannel retail"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate, then serve the app and API (KEEL_ADDR, default 127.0.0.1:3000).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create the demo retailer; prints the staff credentials once.
    Seed {
        /// Size multiplier for benchmarks.
        #[arg(long, default_value_t = 1)]
        scale: u32,
        /// One password for every demo account, for tests (default: each
        /// account its own random one). Also KEEL_SEED_PASSWORD.
        #[arg(long, env = "KEEL_SEED_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Recompute invariants from the ledgers and report any drift.
    Check,
    /// Back up the database while Keel serves: SQLite with VACUUM INTO,
    /// PostgreSQL with pg_dump (custom format). FILE must not exist.
    Backup { file: std::path::PathBuf },
    /// Restore a backup into the configured database, which must be new (a
    /// SQLite path that doesn't exist, or an empty PostgreSQL database).
    Restore { file: std::path::PathBuf },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Run a benchmark workload and print its figures.
    Bench {
        /// Workload: ssr, reservations, atp, ingest, orders, sourcing, waves, scans, receive, exceptions, replay or crash.
        workload: String,
        /// Requests to send (per run).
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// SKUs to generate (atp, exceptions).
        #[arg(long, default_value_t = 10_000)]
        skus: usize,
        /// Ledger rows to generate (atp, exceptions).
        #[arg(long, default_value_t = 1_000_000)]
        movements: usize,
        /// Orders to generate (orders, exceptions; default 1,000,000) or to deliver
        /// (replay and crash; default 10,000).
        #[arg(long)]
        orders: Option<usize>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Set a new password for a user (ending their sessions); prints it once.
    ResetPassword {
        #[arg(long)]
        email: String,
        /// The new password (default: a fresh random one).
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token; the token itself is the last line of output.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        /// Limit the token to these warehouse codes (comma-separated; default all).
        #[arg(long, default_value = "")]
        warehouses: String,
        /// Limit the token to these channel codes (comma-separated; default all).
        #[arg(long, default_value = "")]
        channels: String,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => fail(&format!("configuration error: {e}")),
    };
    init_tracing(&config);
    let result = match cli.command {
        Command::Serve => server::serve(config).await,
        Command::Migrate => server::open_db(&config)
            .await
            .map(|_| println!("migrations applied"))
            .map_err(|e| e.to_string()),
        Command::Seed { scale, password } => seed(&config, scale, password).await,
        Command::Check => check(&config).await,
        Command::Backup { file } => backup(&config, &file).await,
        Command::Restore { file } => restore(&config, &file).await,
        Command::User {
            command: UserCommand::ResetPassword { email, password },
        } => reset_password(&config, &email, password).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    name,
                    role,
                    warehouses,
                    channels,
                },
        } => {
            let scope = Scope {
                warehouses: Scope::parse_list(&warehouses),
                channels: Scope::parse_list(&channels),
            };
            token_create(&config, &name, &role, scope).await
        }
        Command::Bench {
            workload,
            requests,
            concurrency,
            skus,
            movements,
            orders,
        } => {
            let plan = server::bench::Plan {
                requests,
                concurrency,
                skus,
                movements,
                orders,
            };
            server::bench::run(&config, &workload, plan).await
        }
    };
    if let Err(e) = result {
        fail(&e);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("keel: {message}");
    std::process::exit(1);
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_from_env("KEEL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn seed(config: &Config, scale: u32, password: Option<String>) -> Result<(), String> {
    let db = server::open_db(config).await.map_err(|e| e.to_string())?;
    let report = backend::seed::seed(&db, password.as_deref(), scale)
        .await
        .map_err(|e| e.to_string())?;
    if !report.created {
        println!("The demo retailer is already seeded; nothing changed. (Credentials are printed only when they are created.)");
        return Ok(());
    }
    println!(
        "Seeded Northwind Outfitters: {} warehouses, {} channels, {} staff, {} products, {} units of opening stock, \
         {} orders of history, {} open orders today ({} held) and {} supplier deliveries to receive.",
        report.warehouses,
        report.channels,
        report.staff.len(),
        report.products,
        report.units,
        report.history_orders,
        report.open_orders,
        report.held_orders,
        report.deliveries
    );
    match password {
        Some(_) => println!("Staff accounts (all with the password you gave):"),
        None => println!("Staff accounts, each with its own password, shown this once (keel user reset-password sets a new one):"),
    }
    for (email, role, secret) in &report.staff {
        let shown = if password.is_some() {
            ""
        } else {
            secret.as_str()
        };
        println!("  {role:<10} {email:<42} {shown}");
    }
    Ok(())
}

async fn reset_password(
    config: &Config,
    email: &str,
    password: Option<String>,
) -> Result<(), String> {
    let db = server::open_db(config).await.map_err(|e| e.to_string())?;
    let password = password.unwrap_or_else(backend::governance::random_password);
    backend::governance::reset_password(&db, &backend::Ctx::system("cli"), email, password.clone())
        .await
        .map_err(|e| match e {
            backend::Error::Invalid(f) => domain::FieldError::one_line(&f),
            other => other.to_string(),
        })?;
    println!("New password for {email} (their sessions have ended):");
    println!("{password}");
    Ok(())
}

async fn backup(config: &Config, file: &std::path::Path) -> Result<(), String> {
    let db = server::open_db(config).await.map_err(|e| e.to_string())?;
    backend::backup::backup(&db, file)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "backup: {} written; `keel restore` it into a new database, then `keel check`",
        file.display()
    );
    Ok(())
}

async fn restore(config: &Config, file: &std::path::Path) -> Result<(), String> {
    backend::backup::restore(&config.database_url, file)
        .await
        .map_err(|e| e.to_string())?;
    // Migrations the backup predates are applied now.
    server::open_db(config).await.map_err(|e| e.to_string())?;
    println!(
        "restore: {} restored; run `keel check` before serving",
        file.display()
    );
    Ok(())
}

async fn check(config: &Config) -> Result<(), String> {
    let db = server::open_db(config).await.map_err(|e| e.to_string())?;
    let mut drift = Vec::new();
    // A checker that can't finish (a row it can't read) is drift too, named
    // with its error, and the other checkers still run.
    let mut take = |name: &str, found: Result<Vec<String>, backend::Error>| match found {
        Ok(d) => drift.extend(d),
        Err(e) => drift.push(format!("{name}: could not finish: {e}")),
    };
    take(
        "event sequence",
        backend::governance::check_event_sequence(&db).await,
    );
    take(
        "stock",
        backend::inventory::check(&db)
            .await
            .map(|d| d.iter().map(|d| d.to_string()).collect()),
    );
    take("orders", backend::orders::check::check(&db).await);
    // Rows recorded since the background sealer last ran are sealed first,
    // so the whole log is verified.
    let mut head = String::new();
    take(
        "audit chain",
        match backend::governance::audit_chain::seal(&db).await {
            Ok(_) => backend::governance::audit_chain::check_chain(&db)
                .await
                .map(|r| {
                    head = format!("{} rows, head {}", r.sealed, r.head);
                    r.drift
                }),
            Err(e) => Err(e),
        },
    );
    take("channels", backend::orders::channels::check(&db).await);
    take(
        "exception queues",
        backend::analytics::check(&db, &backend::Clock::System, &config.thresholds()).await,
    );
    // The figures are compared once every committed event is applied, so a
    // projector that simply hasn't run yet is not reported as drift.
    take(
        "kpi figures",
        match backend::kpi::project(&db, &backend::Clock::System).await {
            Ok(_) => backend::kpi::check(&db).await,
            Err(e) => Err(e),
        },
    );
    if drift.is_empty() {
        println!("check: audit chain of {head} (record the head elsewhere to tell a rewritten log from this one)");
        println!("check: no drift (event sequence; audit chain; orders against their reservations; channel sourcing rules; bin balances, warehouse on-hand and reserved against the ledger; exception queues and KPI figures against a full recomputation)");
        Ok(())
    } else {
        for d in &drift {
            println!("drift: {d}");
        }
        Err(format!("{} invariant(s) drifted", drift.len()))
    }
}

async fn token_create(config: &Config, name: &str, role: &str, scope: Scope) -> Result<(), String> {
    let db = server::open_db(config).await.map_err(|e| e.to_string())?;
    let ctx = backend::Ctx::system("cli");
    let issued = backend::governance::create_token(&db, &ctx, name, role, scope)
        .await
        .map_err(|e| match e {
            backend::Error::Invalid(f) => f
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })?;
    println!(
        "Created token {} ({}, role {}). Store it now; it is not shown again:",
        issued.token.id, issued.token.name, issued.token.role
    );
    println!("{}", issued.secret);
    Ok(())
}
