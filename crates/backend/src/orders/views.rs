//! Saved views of the order list.

use super::read::check_filter;
use crate::{
    ctx::Ctx,
    db::Db,
    error::{Error, Result},
    uow::Change,
};
use domain::views::{OrderFilter, SavedView};
use domain::{events::Event, governance::Permission};

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn saved_views(db: &Db, ctx: &Ctx) -> Result<Vec<SavedView>> {
    ctx.require(Permission::OrdersRead)?;
    let Some(user) = ctx.actor.id.clone() else {
        return Ok(Vec::new());
    };
    Ok(sqlx::query_as::<_, (String, String, String)>(
        "select view_id, name, query from saved_view where user_id = $1 order by name",
    )
    .bind(user)
    .fetch_all(&db.pool)
    .await?
    .into_iter()
    .map(|(id, name, query)| SavedView { id, name, query })
    .collect())
}

/// Saves (or replaces) a named view of the workbench for the signed-in person.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn save_view(db: &Db, ctx: &Ctx, name: &str, filter: &OrderFilter) -> Result<SavedView> {
    ctx.require(Permission::OrdersRead)?;
    let user = ctx.actor.id.clone().ok_or(Error::Unauthenticated)?;
    let name: String = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::invalid(
            "name",
            "name the view in 1 to 60 characters",
        ));
    }
    check_filter(filter)?;
    let mut f = filter.clone();
    f.cursor = None;
    f.limit = None;
    let query = serde_urlencoded::to_string(&f).map_err(|e| Error::Internal(e.to_string()))?;
    let mut uow = db.begin(ctx).await?;
    let id: String = sqlx::query_scalar(
        "insert into saved_view (view_id, user_id, name, query, created_at) values ($1, $2, $3, $4, $5)
         on conflict (user_id, name) do update set query = excluded.query returning view_id",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&user)
    .bind(&name)
    .bind(&query)
    .bind(uow.now())
    .fetch_one(&mut *uow.tx)
    .await?;
    uow.record(
        Change {
            action: "saved_view.save",
            entity: "saved_view",
            entity_id: &id,
            before: None,
            after: Some(serde_json::json!({"name": name, "query": query})),
        },
        Event::ViewSaved {
            view_id: id.clone(),
            name: name.clone(),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(SavedView { id, name, query })
}
