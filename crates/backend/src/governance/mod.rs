//! Governance: staff users, sessions, API tokens, the audit log and the event feed.
//!
//! Invariants: passwords and bearer secrets are stored only as hashes (argon2
//! for passwords, SHA-256 for random 256-bit tokens); a disabled user has no
//! working session; sign-in is throttled per email and per address; every change
//! to a user or token is audited and emits an event.

use crate::error::Conflict;

pub mod approvals;
pub mod audit_chain;
mod feeds;
pub mod messages;
mod passwords;
pub use approvals::Outcome;
use domain::governance::approvals::ApprovalKind;
pub use domain::views::{ApiToken, AuditEntry, AuditFilter, EventRecord, User};
use domain::{
    events::Event,
    governance::{
        check_password, sign_in_allowed, Permission, Role, Scope, SIGN_IN_MAX_FAILURES,
        SIGN_IN_WINDOW_SECS,
    },
    Email, FieldError,
};
pub use feeds::*;
pub use passwords::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{
    ctx::{Actor, ActorKind, Ctx},
    db::Db,
    error::{on_unique, Error, Result},
    page_limit, rfc3339,
    uow::{Change, Idempotency, Uow},
    Page,
};

/// How long a staff session lasts from sign-in.
pub const SESSION_TTL_SECS: i64 = 12 * 60 * 60;
/// More failures than this from one address in the window throttle that address.
const ADDRESS_MAX_FAILURES: i64 = SIGN_IN_MAX_FAILURES * 4;

#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schemars(email)]
    pub email: String,
    pub name: String,
    #[schemars(extend("enum" = ["admin", "manager", "warehouse", "finance", "support"]))]
    pub role: String,
    #[schemars(length(min = 12))]
    pub password: String,
    #[serde(default)]
    pub scope: Scope,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[schemars(extend("enum" = ["admin", "manager", "warehouse", "finance", "support"]))]
    pub role: String,
    pub active: bool,
    #[serde(default)]
    pub scope: Scope,
    /// A stale one gets 409 version_conflict.
    /// The version the editor saw; a stale edit is refused instead of overwriting.
    pub version: i64,
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The cross-site token of a session: derived from its secret, so nothing
/// more is stored, and useless without the cookie it came from.
pub fn csrf_token(session_secret: &str) -> String {
    sha256_hex(&format!("csrf:{session_secret}"))
}

/// Whether `token` is the cross-site token of the session, compared as
/// digests so the time taken says nothing about how much matched.
pub fn csrf_token_matches(session_secret: &str, token: &str) -> bool {
    sha256_hex(&csrf_token(session_secret)) == sha256_hex(token)
}

/// A fresh random secret: 32 bytes from the OS, URL-safe hex.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Argon2 takes about 19 MiB per hash, so hashing runs a few at a time
/// (`heavy`): a burst of sign-ins queues instead of taking the memory.
async fn hash_password(password: String) -> Result<String> {
    let work = move || Ok(password_auth::generate_hash(password));
    crate::heavy::run(crate::heavy::Pool::Passwords, work).await
}

async fn verify_password(password: String, hash: String) -> Result<bool> {
    let work = move || Ok(password_auth::verify_password(password, &hash).is_ok());
    crate::heavy::run(crate::heavy::Pool::Passwords, work).await
}

/// A hash of a password nobody has, verified against when the email is unknown,
/// so that response time doesn't reveal which accounts exist.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    let scope: String = row.try_get("scope_json")?;
    Ok(User {
        id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).map_err(Error::Internal)?,
        scope: serde_json::from_str(&scope).unwrap_or_default(),
        active: row.try_get::<i16, _>("active")? == 1,
        version: row.try_get("version")?,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

const USER_COLUMNS: &str = "user_id, email, name, role, scope_json, active, version, created_at";

/// Normalises scope codes and checks that each names a warehouse or channel that exists.
async fn checked_scope(db: &Db, scope: Scope) -> Result<Scope> {
    let warehouses = crate::inventory::warehouses::warehouse_codes(db).await?;
    let channels: Vec<String> = sqlx::query_scalar("select code from channel")
        .fetch_all(&db.pool)
        .await?;
    let mut errors = Vec::new();
    let mut check =
        |field: &str, codes: Vec<String>, known: &[String], what: &str| -> Vec<String> {
            let mut out = Vec::new();
            for code in codes {
                match domain::inventory::parse_code(field, &code) {
                    Ok(c) if known.contains(&c) => out.push(c),
                    Ok(c) => errors.push(FieldError::new(field, format!("there is no {what} {c}"))),
                    Err(e) => errors.push(e),
                }
            }
            out.sort();
            out.dedup();
            out
        };
    let scope = Scope {
        warehouses: check(
            "scope.warehouses",
            scope.warehouses,
            &warehouses,
            "warehouse",
        ),
        channels: check("scope.channels", scope.channels, &channels, "channel"),
    };
    if errors.is_empty() {
        Ok(scope)
    } else {
        Err(Error::Invalid(errors))
    }
}

fn validate_new_user(input: &NewUser) -> Result<(Email, String, Role)> {
    let mut errors = Vec::new();
    let email = Email::parse(&input.email)
        .map_err(|m| errors.push(FieldError::new("email", m)))
        .ok();
    let name = domain::inventory::parse_name("name", &input.name)
        .map_err(|e| errors.push(e))
        .ok();
    let role = Role::parse(&input.role)
        .map_err(|m| errors.push(FieldError::new("role", m)))
        .ok();
    if let Err(m) = check_password(&input.password) {
        errors.push(FieldError::new("password", m));
    }
    match (email, name, role) {
        (Some(e), Some(n), Some(r)) if errors.is_empty() => Ok((e, n, r)),
        _ => Err(Error::Invalid(errors)),
    }
}

#[tracing::instrument(skip_all, fields(email = %input.email))]
pub async fn create_user(
    db: &Db,
    ctx: &Ctx,
    input: NewUser,
    idem: Option<&Idempotency>,
) -> Result<User> {
    ctx.require(Permission::UsersManage)?;
    let (email, name, role) = validate_new_user(&input)?;
    let scope = checked_scope(db, input.scope).await?;
    let hash = hash_password(input.password).await?;
    let mut uow = db.begin(ctx).await?;
    if let Some(saved) = uow.claim_idempotency(idem).await? {
        return uow.replay(saved).await;
    }
    let id = uuid::Uuid::now_v7().to_string();
    let now = uow.now();
    let scope_json = serde_json::to_string(&scope).map_err(|e| Error::Internal(e.to_string()))?;
    sqlx::query(
        "insert into app_user (user_id, email, name, role, password_hash, scope_json, active, version, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, 1, 1, $7, $7)",
    )
    .bind(&id)
    .bind(email.as_str())
    .bind(&name)
    .bind(role.as_str())
    .bind(&hash)
    .bind(&scope_json)
    .bind(now)
    .execute(&mut *uow.tx)
    .await
    .map_err(|e| on_unique(e, "email", "a user with this email already exists"))?;
    let user = User {
        id: id.clone(),
        email: email.to_string(),
        name: name.clone(),
        role,
        scope,
        active: true,
        version: 1,
        created_at: rfc3339(now),
    };
    uow.record(
        Change {
            action: "user.create",
            entity: "user",
            entity_id: &id,
            before: None,
            after: Some(serde_json::to_value(&user).unwrap_or_default()),
        },
        Event::UserCreated {
            user_id: id.clone(),
            email: email.to_string(),
            name,
            role,
        },
    )
    .await?;
    uow.remember(&user).await?;
    uow.commit().await?;
    Ok(user)
}

/// Changes a person's role, scope or standing. A role change waits for a
/// second administrator when the `role_change` policy is on.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn update_user(
    db: &Db,
    ctx: &Ctx,
    user_id: &str,
    input: UserUpdate,
) -> Result<Outcome<User>> {
    ctx.require(Permission::UsersManage)?;
    let role = Role::parse(&input.role).map_err(|m| Error::invalid("role", m))?;
    if ctx.actor.id.as_deref() == Some(user_id) && (!input.active || role != Role::Admin) {
        return Err(Error::invalid(
            "role",
            "you can't demote or disable your own account; ask another admin",
        ));
    }
    let scope = checked_scope(db, input.scope.clone()).await?;
    let mut uow = db.begin(ctx).await?;
    let before = fetch_user(&mut uow.tx, user_id).await?;
    // A stale edit is refused now, not held for someone to approve in vain.
    if input.version != before.version {
        return Err(stale(&before));
    }
    if approvals::applies_to(ctx)
        && approvals::policy(&mut uow.tx, ApprovalKind::RoleChange)
            .await?
            .holds_role_change(before.role, role)
    {
        let summary = format!(
            "{}: {} to {}",
            before.email,
            before.role.label(),
            role.label()
        );
        let payload =
            serde_json::json!({"user_id": user_id, "update": UserUpdate { scope, ..input }});
        let held = approvals::hold(&mut uow, ApprovalKind::RoleChange, summary, payload).await?;
        uow.commit().await?;
        return Ok(Outcome::Held(Box::new(held)));
    }
    let after = apply_user_update(&mut uow, user_id, UserUpdate { scope, ..input }).await?;
    uow.commit().await?;
    Ok(Outcome::Applied(after))
}

/// A held role change, applied in the approver's transaction.
pub(crate) async fn apply_held_user_update(
    uow: &mut Uow,
    payload: &serde_json::Value,
) -> Result<()> {
    let user_id = payload["user_id"]
        .as_str()
        .ok_or_else(|| Error::Internal("a held user update names no user".into()))?
        .to_string();
    let update: UserUpdate = serde_json::from_value(payload["update"].clone())
        .map_err(|e| Error::Internal(format!("a held user update can't be read: {e}")))?;
    apply_user_update(uow, &user_id, update).await.map(|_| ())
}

fn stale(user: &User) -> Error {
    Error::Conflict {
        code: Conflict::VersionConflict,
        message: format!(
            "{} was changed by someone else (now version {}); reload and try again",
            user.email, user.version
        ),
    }
}

/// The update itself: checked against the version the editor saw.
async fn apply_user_update(uow: &mut Uow, user_id: &str, input: UserUpdate) -> Result<User> {
    let role = Role::parse(&input.role).map_err(|m| Error::invalid("role", m))?;
    let before = fetch_user(&mut uow.tx, user_id).await?;
    let now = uow.now();
    let scope_json =
        serde_json::to_string(&input.scope).map_err(|e| Error::Internal(e.to_string()))?;
    let updated = sqlx::query(
        "update app_user set role = $1, active = $2, scope_json = $3, version = version + 1, updated_at = $4
         where user_id = $5 and version = $6",
    )
    .bind(role.as_str())
    .bind(if input.active { 1i16 } else { 0i16 })
    .bind(&scope_json)
    .bind(now)
    .bind(user_id)
    .bind(input.version)
    .execute(&mut *uow.tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(stale(&before));
    }
    if !input.active {
        sqlx::query("delete from user_session where user_id = $1")
            .bind(user_id)
            .execute(&mut *uow.tx)
            .await?;
    }
    let after = fetch_user(&mut uow.tx, user_id).await?;
    uow.record(
        Change {
            action: "user.update",
            entity: "user",
            entity_id: user_id,
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&after).ok(),
        },
        Event::UserUpdated {
            user_id: user_id.into(),
            role: after.role,
            active: after.active,
            scope: after.scope.clone(),
        },
    )
    .await?;
    Ok(after)
}

async fn fetch_user(conn: &mut sqlx::AnyConnection, user_id: &str) -> Result<User> {
    let row = sqlx::query(&format!(
        "select {USER_COLUMNS} from app_user where user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| Error::NotFound {
        entity: "user",
        key: user_id.into(),
    })?;
    user_from_row(&row)
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn get_user(db: &Db, ctx: &Ctx, user_id: &str) -> Result<User> {
    ctx.require(Permission::UsersManage)?;
    let mut conn = db.pool.acquire().await?;
    fetch_user(&mut conn, user_id).await
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Users ordered by email, keyset-paginated.
#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn list_users(db: &Db, ctx: &Ctx, filter: &UserFilter) -> Result<Page<User>> {
    ctx.require(Permission::UsersManage)?;
    let limit = page_limit(filter.limit);
    let role = match filter.role.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(
            Role::parse(r)
                .map_err(|m| Error::invalid("role", m))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let q = crate::sql::contains(filter.q.as_deref());
    let mut f = crate::sql::Filters::default();
    f.eq("role", role);
    f.like_any(&["lower(email)", "lower(name)"], q);
    if let Some(c) = filter.cursor.clone().filter(|c| !c.is_empty()) {
        let p = f.arg(c);
        f.and(format!("email > {p}"));
    }
    let n = f.arg(limit + 1);
    let sql = format!(
        "select {USER_COLUMNS} from app_user where {} order by email limit {n}",
        f.clause()
    );
    let rows = f.query(&sql).fetch_all(&db.pool).await?;
    let mut items = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|u| u.email.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// A signed-in session: the secret goes into the cookie, only its hash is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub user: User,
    pub expires_at: i64,
}

#[tracing::instrument(skip_all, fields(remote = %remote))]
pub async fn sign_in(
    db: &Db,
    ctx: &Ctx,
    email: &str,
    password: &str,
    remote: &str,
) -> Result<NewSession> {
    let email = Email::parse(email).map_err(|m| Error::invalid("email", m))?;
    if password.is_empty() {
        return Err(Error::invalid("password", "enter your password"));
    }
    let now = ctx.now();
    let window_start = now - SIGN_IN_WINDOW_SECS * 1_000_000;
    // Spraying from one address over many accounts, from the attempts log.
    let by_remote: i64 = sqlx::query_scalar(
        "select cast(count(*) as bigint) from sign_in_attempt where succeeded = 0 and created_at > $1 and remote = $2",
    )
    .bind(window_start)
    .bind(remote)
    .fetch_one(&db.pool)
    .await?;
    let key = format!("{}|{remote}", email.as_str());
    let counted = crate::throttle::count(db, &key, now, window_start).await?;
    if !sign_in_allowed(counted - 1) || by_remote >= ADDRESS_MAX_FAILURES {
        return Err(Error::Throttled {
            reason: "too many failed attempts".into(),
            retry_after_secs: SIGN_IN_WINDOW_SECS,
        });
    }

    let row = sqlx::query("select user_id, password_hash, active from app_user where email = $1")
        .bind(email.as_str())
        .fetch_optional(&db.pool)
        .await?;
    let (user_id, ok) = match row {
        Some(row) => {
            let hash: String = row.try_get("password_hash")?;
            let active = row.try_get::<i16, _>("active")? == 1;
            let id: String = row.try_get("user_id")?;
            (
                Some(id),
                verify_password(password.to_string(), hash).await? && active,
            )
        }
        None => {
            let dummy = match DUMMY_HASH.get() {
                Some(h) => h.clone(),
                None => {
                    let h = hash_password(random_secret()).await?;
                    DUMMY_HASH.get_or_init(|| h).clone()
                }
            };
            verify_password(password.to_string(), dummy).await?;
            (None, false)
        }
    };

    let mut tx = db.write_tx().await?;
    sqlx::query("insert into sign_in_attempt (attempt_id, email, remote, succeeded, created_at) values ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(email.as_str())
        .bind(remote)
        .bind(if ok { 1i16 } else { 0i16 })
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        // The failed attempt must be stored even though sign-in fails: it is
        // the record of who tried, and it throttles spraying from one address.
        tx.commit().await?;
        return Err(Error::Invalid(vec![FieldError::new(
            "password",
            "the email or password is wrong",
        )]));
    };
    crate::throttle::clear(&mut tx, &key).await?;
    tx.commit().await?;

    let secret = random_secret();
    let expires_at = now + SESSION_TTL_SECS * 1_000_000;
    let mut user_ctx = ctx.clone();
    let mut uow = db.begin(ctx).await?;
    let user = fetch_user(&mut uow.tx, &user_id).await?;
    user_ctx.actor = Actor {
        kind: ActorKind::User,
        id: Some(user.id.clone()),
        name: user.email.clone(),
        role: Some(user.role),
        scope: user.scope.clone(),
    };
    uow.ctx = user_ctx;
    // Expired sessions of this user go at their next sign-in, so the table stays
    // proportional to live sessions without a sweeper job.
    sqlx::query("delete from user_session where user_id = $1 and expires_at <= $2")
        .bind(&user_id)
        .bind(now)
        .execute(&mut *uow.tx)
        .await?;
    sqlx::query("insert into user_session (session_id, user_id, created_at, expires_at) values ($1, $2, $3, $4)")
        .bind(sha256_hex(&secret))
        .bind(&user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *uow.tx)
        .await?;
    uow.record(
        Change {
            action: "user.sign_in",
            entity: "user",
            entity_id: &user_id,
            before: None,
            after: Some(serde_json::json!({"remote": remote})),
        },
        Event::UserSignedIn {
            user_id: user_id.clone(),
        },
    )
    .await?;
    uow.commit().await?;
    Ok(NewSession {
        secret,
        user,
        expires_at,
    })
}

/// Resolves a session cookie to its actor; expired sessions and disabled users resolve to nothing.
#[tracing::instrument(skip_all)]
pub async fn session_actor(db: &Db, secret: &str, now: i64) -> Result<Option<Actor>> {
    let row = sqlx::query(
        "select u.user_id, u.email, u.name, u.role, u.scope_json from user_session s join app_user u on u.user_id = s.user_id
         where s.session_id = $1 and s.expires_at > $2 and u.active = 1",
    )
    .bind(sha256_hex(secret))
    .bind(now)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|row| -> Result<Actor> {
        let role: String = row.try_get("role")?;
        let scope: String = row.try_get("scope_json")?;
        Ok(Actor {
            kind: ActorKind::User,
            id: Some(row.try_get("user_id")?),
            name: row.try_get("email")?,
            role: Some(Role::parse(&role).map_err(Error::Internal)?),
            scope: serde_json::from_str(&scope).unwrap_or_default(),
        })
    })
    .transpose()
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn sign_out(db: &Db, ctx: &Ctx, secret: &str) -> Result<()> {
    let Some(user_id) = ctx
        .actor
        .id
        .clone()
        .filter(|_| ctx.actor.kind == ActorKind::User)
    else {
        return Ok(());
    };
    let mut uow = db.begin(ctx).await?;
    let deleted = sqlx::query("delete from user_session where session_id = $1")
        .bind(sha256_hex(secret))
        .execute(&mut *uow.tx)
        .await?;
    if deleted.rows_affected() > 0 {
        uow.record(
            Change {
                action: "user.sign_out",
                entity: "user",
                entity_id: &user_id,
                before: None,
                after: None,
            },
            Event::UserSignedOut {
                user_id: user_id.clone(),
            },
        )
        .await?;
    }
    uow.commit().await
}

/// A new token; `secret` is shown once and never stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

pub const TOKEN_PREFIX: &str = "keel_";

#[tracing::instrument(skip_all, fields(name = %name))]
pub async fn create_token(
    db: &Db,
    ctx: &Ctx,
    name: &str,
    role: &str,
    scope: Scope,
) -> Result<IssuedToken> {
    ctx.require(Permission::TokensManage)?;
    let name = domain::inventory::parse_name("name", name)?;
    let role = Role::parse(role).map_err(|m| Error::invalid("role", m))?;
    let scope = checked_scope(db, scope).await?;
    let secret = format!("{TOKEN_PREFIX}{}", random_secret());
    let id = uuid::Uuid::now_v7().to_string();
    let mut uow = db.begin(ctx).await?;
    let now = uow.now();
    let owner: Option<String> = match (&ctx.actor.kind, ctx.actor.id.as_deref()) {
        (ActorKind::User, Some(user)) => Some(user.to_string()),
        (ActorKind::Token, Some(token)) => {
            sqlx::query_scalar("select owner_user_id from api_token where token_id = $1")
                .bind(token)
                .fetch_optional(&mut *uow.tx)
                .await?
                .flatten()
        }
        _ => None,
    };
    sqlx::query(
        "insert into api_token (token_id, name, role, token_hash, scope_json, created_by, created_at, owner_user_id) values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(&name)
    .bind(role.as_str())
    .bind(sha256_hex(&secret))
    .bind(serde_json::to_string(&scope).unwrap_or_else(|_| "{}".into()))
    .bind(ctx.actor.name.clone())
    .bind(now)
    .bind(owner)
    .execute(&mut *uow.tx)
    .await?;
    let token = ApiToken {
        id: id.clone(),
        name: name.clone(),
        role,
        scope,
        created_at: rfc3339(now),
        revoked: false,
    };
    uow.record(
        Change {
            action: "api_token.create",
            entity: "api_token",
            entity_id: &id,
            before: None,
            after: serde_json::to_value(&token).ok(),
        },
        Event::ApiTokenCreated {
            token_id: id.clone(),
            name,
            role,
        },
    )
    .await?;
    uow.commit().await?;
    Ok(IssuedToken { token, secret })
}

#[tracing::instrument(skip_all, fields(actor = %ctx.actor.name))]
pub async fn revoke_token(db: &Db, ctx: &Ctx, token_id: &str) -> Result<()> {
    ctx.require(Permission::TokensManage)?;
    let mut uow = db.begin(ctx).await?;
    let now = uow.now();
    let done = sqlx::query(
        "update api_token set revoked_at = $1 where token_id = $2 and revoked_at is null",
    )
    .bind(now)
    .bind(token_id)
    .execute(&mut *uow.tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "active token",
            key: token_id.into(),
        });
    }
    uow.record(
        Change {
            action: "api_token.revoke",
            entity: "api_token",
            entity_id: token_id,
            before: None,
            after: Some(serde_json::json!({"revoked_at": rfc3339(now)})),
        },
        Event::ApiTokenRevoked {
            token_id: token_id.into(),
        },
    )
    .await?;
    uow.commit().await
}

/// Resolves a bearer secret to its actor; revoked tokens resolve to nothing.
#[tracing::instrument(skip_all)]
pub async fn token_actor(db: &Db, secret: &str) -> Result<Option<Actor>> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    // A token stops working with its owner: a disabled user's tokens are
    // refused like revoked ones.
    let row = sqlx::query(
        "select t.token_id, t.name, t.role, t.scope_json from api_token t left join app_user u on u.user_id = t.owner_user_id
         where t.token_hash = $1 and t.revoked_at is null and (t.owner_user_id is null or u.active = 1)",
    )
        .bind(sha256_hex(secret))
        .fetch_optional(&db.pool)
        .await?;
    row.map(|row| -> Result<Actor> {
        let role: String = row.try_get("role")?;
        let scope: String = row.try_get("scope_json")?;
        let name: String = row.try_get("name")?;
        Ok(Actor {
            kind: ActorKind::Token,
            id: Some(row.try_get("token_id")?),
            name: format!("token:{name}"),
            role: Some(Role::parse(&role).map_err(Error::Internal)?),
            scope: serde_json::from_str(&scope).unwrap_or_default(),
        })
    })
    .transpose()
}

/// What `keel check` verifies for this context: the event sequence has no gaps
/// and the counter agrees with the outbox.
#[tracing::instrument(skip_all)]
pub async fn check_event_sequence(db: &Db) -> Result<Vec<String>> {
    let (count, max, counter): (i64, i64, i64) = sqlx::query_as(
        "select cast(count(*) as bigint), cast(coalesce(max(seq), 0) as bigint),
                (select value from sequence_counter where name = 'event') from event",
    )
    .fetch_one(&db.pool)
    .await?;
    let mut drift = Vec::new();
    if count != max {
        drift.push(format!(
            "event: {count} rows but the highest seq is {max}; {} sequence numbers are missing",
            max - count
        ));
    }
    if counter != max {
        drift.push(format!(
            "sequence_counter 'event' is {counter} but the highest event seq is {max}"
        ));
    }
    Ok(drift)
}
