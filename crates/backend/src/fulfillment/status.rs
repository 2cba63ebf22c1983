//! What the floor is doing: unshipped fulfilments against their ship-by time,
//! open waves, and units per hour by agent.

use super::waves::{query_waves, WaveFilter};
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    rfc3339,
};
use domain::{
    fulfillment::{self as rules},
    governance::Permission,
    views::{AgentRate, AgingPick, FloorStatus},
};
use serde::Deserialize;
use sqlx::Row;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StatusFilter {
    pub warehouse: Option<String>,
    /// Hours of picking the agent rates cover (1 to 168, default 8).
    pub hours: Option<i64>,
}

/// Unshipped fulfilments read for the aging counts, at most.
const AGING_ROWS: i64 = 20_000;

/// The floor as a manager watches it: every unshipped fulfilment against its
/// ship-by time (counted; the 50 oldest listed), the open waves, and the
/// units each agent picked per hour over the last hours.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn status(db: &Db, ctx: &Ctx, filter: &StatusFilter) -> Result<FloorStatus> {
    ctx.require(Permission::OrdersRead)?;
    let hours = filter.hours.unwrap_or(8);
    if !(1..=168).contains(&hours) {
        return Err(Error::invalid("hours", "use 1 to 168 hours"));
    }
    let warehouse = match filter
        .warehouse
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        Some(w) => {
            let code = domain::inventory::parse_code("warehouse", w)
                .map_err(|e| Error::Invalid(vec![e]))?;
            crate::refs::in_scope(ctx, &code)?;
            Some(code)
        }
        None => None,
    };
    let scope = &ctx.actor.scope.warehouses;
    let now = ctx.now();
    let mut f = crate::sql::Filters::default();
    f.and("f.status in ('open', 'picking', 'picked')");
    f.eq("w.code", warehouse.as_deref());
    f.scope(scope, &["w.code"], false);
    let n = f.arg(AGING_ROWS);
    let sql = format!(
        "select f.fulfillment_id, f.seq, f.status, o.order_id, o.number, o.shipping_method, o.placed_at, w.code
         from fulfillment f join sales_order o on o.order_id = f.order_id join warehouse w on w.warehouse_id = f.warehouse_id
         where {} order by o.placed_at, f.fulfillment_id limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let (mut late, mut due_soon, mut on_time) = (0, 0, 0);
    let mut aging = Vec::new();
    for r in &rows {
        let method: String = r.try_get("shipping_method")?;
        let placed: i64 = r.try_get("placed_at")?;
        let age_minutes = (now - placed).max(0) / 60_000_000;
        let state = rules::ship_by_state(age_minutes, &method);
        match state {
            "late" => late += 1,
            "due_soon" => due_soon += 1,
            _ => on_time += 1,
        }
        if aging.len() < 50 {
            let number: String = r.try_get("number")?;
            let seq: i64 = r.try_get("seq")?;
            aging.push(AgingPick {
                fulfillment_id: r.try_get("fulfillment_id")?,
                label: format!("{number}-{seq}"),
                order_id: r.try_get("order_id")?,
                warehouse: r.try_get("code")?,
                status: r.try_get("status")?,
                ship_by: rfc3339(placed + rules::ship_by_hours(&method) * 3_600_000_000),
                shipping_method: method,
                placed_at: rfc3339(placed),
                age_minutes,
                state: state.into(),
            });
        }
    }
    let waves = query_waves(
        db,
        ctx,
        &WaveFilter {
            warehouse: warehouse.clone(),
            status: Some("open".into()),
            limit: Some(100),
            cursor: None,
        },
    )
    .await?
    .items;
    let since = now - hours * 3_600_000_000;
    let mut f = crate::sql::Filters::default();
    let p = f.arg(since);
    f.and(format!("t.picked_at >= {p} and t.picked > 0"));
    f.eq("w.code", warehouse.as_deref());
    f.scope(scope, &["w.code"], false);
    // Agents are recorded by their sign-in (the email); the list shows the
    // names people know them by.
    let sql = format!(
        "select coalesce(max(u.name), t.picked_by) as picked_by, cast(sum(t.picked) as bigint) as units, count(*) as tasks,
                min(t.picked_at) as first_at, max(t.picked_at) as last_at
         from pick_task t join location l on l.location_id = t.location_id join warehouse w on w.warehouse_id = l.warehouse_id
         left join app_user u on u.email = t.picked_by
         where {} group by t.picked_by order by units desc, t.picked_by",
        f.clause()
    );
    let agents = f
        .query(&sql)
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            let units: i64 = r.try_get("units")?;
            Ok(AgentRate {
                agent: r
                    .try_get::<Option<String>, _>("picked_by")?
                    .unwrap_or_default(),
                units,
                tasks: r.try_get("tasks")?,
                units_per_hour: rules::units_per_hour(
                    units,
                    r.try_get("first_at")?,
                    r.try_get("last_at")?,
                ),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(FloorStatus {
        warehouse,
        late,
        due_soon,
        on_time,
        aging,
        waves,
        agents,
        window_hours: hours,
    })
}
