//! Passwords: an administrator sets one, the CLI resets one, and every
//! person changes their own.
//!
//! Invariants: a new password passes `check_password`; setting one ends the
//! user's other sessions, so a leaked password stops working everywhere;
//! changing one's own needs the current one, and wrong guesses at it are
//! throttled like sign-ins.

use domain::{
    events::Event,
    governance::{check_password, Permission, SIGN_IN_MAX_FAILURES, SIGN_IN_WINDOW_SECS},
};

use super::{fetch_user, hash_password, verify_password};
use crate::{
    ctx::{ActorKind, Ctx},
    db::Db,
    error::{Error, Result},
    uow::{Change, Uow},
};

/// An administrator sets a new password for a user (for example after a lost
/// password). Existing sessions of that user end.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn set_password(db: &Db, ctx: &Ctx, user_id: &str, password: String) -> Result<()> {
    ctx.require(Permission::UsersManage)?;
    check_password(&password).map_err(|m| Error::invalid("password", m))?;
    let hash = hash_password(password).await?;
    let mut uow = db.begin(ctx).await?;
    let user = fetch_user(&mut uow.tx, user_id).await?;
    replace_hash(&mut uow, user_id, hash, None).await?;
    uow.record(
        Change {
            action: "user.set_password",
            entity: "user",
            entity_id: user_id,
            before: None,
            after: Some(serde_json::json!({"email": user.email})),
        },
        Event::UserPasswordChanged {
            user_id: user_id.into(),
        },
    )
    .await?;
    uow.commit().await
}

/// Sets a new password for the user with this email (`keel user
/// reset-password`, for an administrator locked out, or a demo account's
/// password shared by mistake). Existing sessions end, as with
/// [`set_password`].
pub async fn reset_password(db: &Db, ctx: &Ctx, email: &str, password: String) -> Result<()> {
    let email = domain::text::Email::parse(email).map_err(|m| Error::invalid("email", m))?;
    let user_id: String = sqlx::query_scalar("select user_id from app_user where email = $1")
        .bind(email.as_str())
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| Error::NotFound {
            entity: "user",
            key: email.as_str().to_string(),
        })?;
    set_password(db, ctx, &user_id, password).await
}

/// A 20-character password from an unambiguous alphabet, from the OS's
/// CSPRNG: about 115 bits.
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A person changes their own password: every role may, with the current
/// password as proof (a borrowed, unlocked screen is not enough). Wrong
/// current passwords count like failed sign-ins (five in the window stop
/// it). The person's other sessions end; `keep_session` (the secret of the
/// session they changed it from) stays signed in.
#[tracing::instrument(skip_all)]
pub async fn change_own_password(
    db: &Db,
    ctx: &Ctx,
    current: &str,
    new: &str,
    keep_session: Option<&str>,
) -> Result<()> {
    ctx.require(Permission::AccountOwn)?;
    let user_id = match (&ctx.actor.kind, &ctx.actor.id) {
        (ActorKind::User, Some(id)) => id.clone(),
        // A token is not a person and has no password of its own.
        _ => {
            return Err(Error::invalid(
                "current_password",
                "only a signed-in person changes their password; an API token has none",
            ))
        }
    };
    let mut errors = Vec::new();
    if current.is_empty() {
        errors.push(domain::FieldError::new(
            "current_password",
            "enter your current password",
        ));
    }
    if let Err(m) = check_password(new) {
        errors.push(domain::FieldError::new("new_password", m));
    } else if new == current {
        errors.push(domain::FieldError::new(
            "new_password",
            "choose a password other than the current one",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let now = ctx.now();
    let key = format!("password-change|{user_id}");
    let counted =
        crate::throttle::count(db, &key, now, now - SIGN_IN_WINDOW_SECS * 1_000_000).await?;
    if counted > SIGN_IN_MAX_FAILURES {
        return Err(Error::Throttled {
            reason: "too many wrong current passwords".into(),
            retry_after_secs: SIGN_IN_WINDOW_SECS,
        });
    }
    let hash: String = sqlx::query_scalar("select password_hash from app_user where user_id = $1")
        .bind(&user_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::Unauthenticated)?;
    if !verify_password(current.to_string(), hash).await? {
        return Err(Error::invalid(
            "current_password",
            "that is not your current password",
        ));
    }
    let hash = hash_password(new.to_string()).await?;
    let mut uow = db.begin(ctx).await?;
    let user = fetch_user(&mut uow.tx, &user_id).await?;
    let ended = replace_hash(&mut uow, &user_id, hash, keep_session).await?;
    crate::throttle::clear(&mut uow.tx, &key).await?;
    uow.record(
        Change {
            action: "user.change_own_password",
            entity: "user",
            entity_id: &user_id,
            before: None,
            after: Some(serde_json::json!({"email": user.email, "other_sessions_ended": ended})),
        },
        Event::UserPasswordChanged {
            user_id: user_id.clone(),
        },
    )
    .await?;
    uow.commit().await
}

/// Stores a user's new password hash and ends their sessions, all but the one
/// whose secret is `keep`; how many ended. The caller records the change.
async fn replace_hash(
    uow: &mut Uow,
    user_id: &str,
    hash: String,
    keep: Option<&str>,
) -> Result<u64> {
    let now = uow.now();
    sqlx::query("update app_user set password_hash = $1, version = version + 1, updated_at = $2 where user_id = $3")
        .bind(hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *uow.tx)
        .await?;
    // Session ids are hashes, never empty: "" keeps none.
    let kept = keep.map(super::sha256_hex).unwrap_or_default();
    Ok(
        sqlx::query("delete from user_session where user_id = $1 and session_id <> $2")
            .bind(user_id)
            .bind(kept)
            .execute(&mut *uow.tx)
            .await?
            .rows_affected(),
    )
}
