//! What a benchmark run is asked for, and which workload runs.

use super::api::{atp, ingest, order_list, reservations, ssr};
use super::exceptions::exceptions;
use super::fulfillment::{receive, scans, sourcing, waves};
use super::harness::Plan;
use crate::Config;

pub async fn run(config: &Config, workload: &str, plan: Plan) -> Result<(), String> {
    let concurrency = plan.concurrency.max(1);
    match workload {
        "ssr" => ssr(config, plan.requests, concurrency).await,
        "reservations" => reservations(config, plan.requests, concurrency).await,
        "atp" => atp(config, &plan).await,
        "ingest" => ingest(config, plan.requests).await,
        "orders" => order_list(config, &plan).await,
        "sourcing" => sourcing(config, &plan).await,
        "waves" => waves(config, &plan).await,
        "scans" => scans(config, &plan).await,
        "receive" => receive(config, &plan).await,
        "exceptions" => exceptions(config, &plan).await,
        "replay" => {
            super::replay::replay(config, plan.orders.unwrap_or(10_000), concurrency).await
        }
        "crash" => {
            super::replay::crash(config, plan.orders.unwrap_or(10_000), concurrency).await
        }
        other => Err(format!(
            "unknown workload `{other}`; available: ssr, reservations, atp, ingest, orders, sourcing, waves, scans, receive, exceptions, replay, crash"
        )),
    }
}
