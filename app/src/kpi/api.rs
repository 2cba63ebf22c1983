//! The KPI board's server function. It calls one use case and holds no rules.

use crate::problem::Problem;
use domain::views::KpiBoard;
use leptos::prelude::*;

#[server(prefix = "/sfn", endpoint = "kpis_page")]
pub async fn kpis_page(
    from: String,
    to: String,
    channel: String,
    warehouse: String,
    currency: String,
    seen: i64,
) -> Result<KpiBoard, Problem> {
    let (db, ctx) = crate::ssr::context().await?;
    let opt = |s: String| (!s.trim().is_empty()).then_some(s);
    let filter = backend::kpi::KpiFilter {
        from: opt(from),
        to: opt(to),
        channel: opt(channel),
        warehouse: opt(warehouse),
        currency: opt(currency),
        seen: (seen > 0).then(|| seen.to_string()),
    };
    backend::kpi::board(&db, &ctx, &filter)
        .await
        .map_err(crate::ssr::fail)
}
