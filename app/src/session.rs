//! Who is signed in, as every surface shows it.

use crate::problem::Problem;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in person as the UI shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub name: String,
    pub role: String,
    pub can_audit: bool,
    pub can_manage_users: bool,
    pub can_privacy: bool,
}

#[server(prefix = "/sfn", endpoint = "me")]
pub async fn me() -> Result<Option<Viewer>, Problem> {
    use domain::governance::Permission;
    let (_, ctx) = crate::ssr::context().await?;
    let actor = ctx.actor;
    Ok(actor.is_authenticated().then(|| Viewer {
        name: actor.name.clone(),
        role: actor
            .role
            .map(|r| r.label().to_string())
            .unwrap_or_else(|| "system".into()),
        can_audit: actor.may(Permission::AuditRead),
        can_manage_users: actor.may(Permission::UsersManage),
        can_privacy: actor.may(Permission::PrivacyManage),
    }))
}
