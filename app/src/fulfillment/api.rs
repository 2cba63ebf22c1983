//! Server functions for fulfillment: the floor at a glance, sourcing rules
//! and their dry run. Each calls one use case and holds no rules.

use crate::problem::Problem;
use domain::views::FloorStatus;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentView {
    pub status: FloorStatus,
    pub warehouses: Vec<String>,
}

#[server(prefix = "/sfn", endpoint = "fulfillment_status")]
pub async fn fulfillment_status(
    warehouse: String,
    hours: String,
) -> Result<FulfillmentView, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let hours = match hours.trim() {
        "" => None,
        h => Some(h.parse::<i64>().map_err(|_| {
            crate::ssr::fail(backend::Error::invalid(
                "hours",
                "enter a whole number of hours",
            ))
        })?),
    };
    let filter = backend::fulfillment::StatusFilter {
        warehouse: Some(warehouse),
        hours,
    };
    let status = backend::fulfillment::status(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)?;
    let warehouses = crate::ssr::warehouse_codes(&db, &ctx).await?;
    Ok(FulfillmentView { status, warehouses })
}

/// The sourcing page: the channels with their priority lists, what waits
/// for stock, and a dry run when a proposed list is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcingView {
    pub channels: Vec<domain::views::Channel>,
    pub channel: String,
    pub warehouses: Vec<String>,
    pub backordered_orders: i64,
    /// The dry run of the proposed list, or why it could not run.
    pub run: Option<Result<domain::views::DryRun, Vec<domain::FieldError>>>,
    pub can_apply: bool,
}

#[server(prefix = "/sfn", endpoint = "sourcing_page")]
pub async fn sourcing_page(
    channel: String,
    proposed: String,
    orders: String,
) -> Result<SourcingView, Problem> {
    use domain::governance::Permission;
    let (db, ctx) = crate::ssr::context().await?;
    let channels = backend::orders::list_channels(&db, &ctx)
        .await
        .map_err(crate::ssr::fail)?;
    let chosen = channels
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(channel.trim()))
        .or(channels.first())
        .map(|c| c.code.clone())
        .unwrap_or_default();
    let warehouses = backend::inventory::warehouse_codes(&db)
        .await
        .map_err(crate::ssr::fail)?;
    let waiting = backend::orders::list_orders(
        &db,
        &ctx,
        &domain::views::OrderFilter {
            backordered: Some("true".into()),
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .map_err(crate::ssr::fail)?;
    let list: Vec<String> = proposed
        .split([',', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    let run = if list.is_empty() || chosen.is_empty() {
        None
    } else {
        Some(dry_run(&db, &ctx, &chosen, list, &orders).await?)
    };
    Ok(SourcingView {
        channels,
        channel: chosen,
        warehouses,
        backordered_orders: waiting.items.len() as i64,
        run,
        can_apply: ctx.actor.may(Permission::ChannelsManage),
    })
}

/// The dry run of a proposed list, or the field errors to show beside the
/// form: bad input is the person's to fix, anything else fails the page.
#[cfg(feature = "ssr")]
async fn dry_run(
    db: &backend::Db,
    ctx: &backend::Ctx,
    channel: &str,
    warehouses: Vec<String>,
    orders: &str,
) -> Result<Result<domain::views::DryRun, Vec<domain::FieldError>>, Problem> {
    let orders = match orders.trim() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return Ok(Err(vec![domain::FieldError::new(
                    "orders",
                    "enter a whole number of orders",
                )]))
            }
        },
    };
    let input = domain::fulfillment::RuleInput { warehouses, orders };
    match backend::fulfillment::dry_run(db, ctx, channel, &input).await {
        Ok(run) => Ok(Ok(run)),
        Err(e) if !e.fields().is_empty() => Ok(Err(e.fields())),
        Err(e) => Err(crate::ssr::fail(e)),
    }
}
