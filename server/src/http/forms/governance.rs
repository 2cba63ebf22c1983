//! HTML form handlers: sign-in, sign-out and user administration. They follow
//! post/redirect/get, putting errors and notices in the query string, so the
//! pages work identically with JavaScript off.

use std::net::SocketAddr;

use app::{components::url::urlencode, ssr::AppState};
use axum::{
    extract::{ConnectInfo, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Extension, Form,
};
use backend::{governance, Error};
use domain::governance::Scope;
use serde::Deserialize;

use crate::http::{
    credentials::SESSION_COOKIE,
    cross_site::CSRF_COOKIE,
    extract::Caller,
    forms::common::{form_error, refused, remote, session_cookie, to},
};

/// Only local paths are followed after sign-in, never another site, and
/// without messages: Keel signs the messages of the addresses it redirects to,
/// and these words would not be its own.
fn safe_next(next: &str) -> String {
    crate::http::messages::strip_messages(
        domain::governance::local_path(next).unwrap_or("/command"),
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let remote = remote(connect, &headers);
    let next = safe_next(&form.next);
    match governance::sign_in(&state.db, &ctx, &form.email, &form.password, &remote).await {
        Ok(session) => {
            let mut res = Redirect::to(&next).into_response();
            let ttl = governance::SESSION_TTL_SECS;
            if let Some(v) = session_cookie(SESSION_COOKIE, &session.secret, ttl) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            // Readable by the session's own scripts, never sent cross-site.
            let csrf = governance::csrf_token(&session.secret);
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{CSRF_COOKIE}={csrf}; SameSite=Strict; Path=/; Max-Age={ttl}"
            )) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(err) => {
            crate::metrics()
                .sign_in_failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let message = match &err {
                Error::Invalid(fields) => fields
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_default(),
                Error::Throttled { .. } => {
                    "too many failed attempts; wait 15 minutes and try again".to_string()
                }
                other => {
                    tracing::error!(error = %other, "sign-in failed");
                    "sign-in is unavailable right now; try again shortly".to_string()
                }
            };
            Redirect::to(&format!(
                "/signin?error={}&email={}&next={}",
                urlencode(&message),
                urlencode(form.email.trim()),
                urlencode(&next)
            ))
            .into_response()
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = crate::http::credentials::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = governance::sign_out(&state.db, &ctx, secret).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut res = Redirect::to("/signin").into_response();
    for gone in [
        "keel_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0",
        "keel_csrf=; SameSite=Strict; Path=/; Max-Age=0",
    ] {
        res.headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static(gone));
    }
    res
}

#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
    #[serde(default)]
    warehouses: String,
    #[serde(default)]
    channels: String,
}

fn denied(err: &Error) -> Option<Response> {
    match err {
        Error::Unauthenticated => Some(Redirect::to("/signin?next=/command/users").into_response()),
        Error::Forbidden { .. } => Some((StatusCode::FORBIDDEN, err.to_string()).into_response()),
        _ => None,
    }
}

pub async fn create_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Form(form): Form<NewUserForm>,
) -> Response {
    let input = governance::NewUser {
        email: form.email.clone(),
        name: form.name.clone(),
        role: form.role,
        password: form.password,
        scope: Scope {
            warehouses: Scope::parse_list(&form.warehouses),
            channels: Scope::parse_list(&form.channels),
        },
    };
    match governance::create_user(&state.db, &ctx, input, None).await {
        Ok(user) => Redirect::to(&format!(
            "/command/users?notice={}",
            urlencode(&format!("Added {} as {}", user.email, user.role.label()))
        ))
        .into_response(),
        Err(err) => denied(&err).unwrap_or_else(|| {
            let mut q = format!(
                "email={}&name={}",
                urlencode(&form.email),
                urlencode(&form.name)
            );
            match err {
                Error::Invalid(fields) => fields.iter().for_each(|f| {
                    q.push_str(&format!("&error_{}={}", f.field, urlencode(&f.message)))
                }),
                other => q.push_str(&format!("&error={}", urlencode(&form_error(&ctx, other)))),
            }
            Redirect::to(&format!("/command/users?{q}")).into_response()
        }),
    }
}

#[derive(Deserialize)]
pub struct UpdateUserForm {
    role: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    warehouses: String,
    #[serde(default)]
    channels: String,
    version: i64,
}

pub async fn update_user(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    Path(id): Path<String>,
    Form(form): Form<UpdateUserForm>,
) -> Response {
    let update = governance::UserUpdate {
        role: form.role,
        active: form.active.is_some(),
        scope: Scope {
            warehouses: Scope::parse_list(&form.warehouses),
            channels: Scope::parse_list(&form.channels),
        },
        version: form.version,
    };
    match governance::update_user(&state.db, &ctx, &id, update).await {
        Ok(governance::Outcome::Applied(user)) => Redirect::to(&format!(
            "/command/users?notice={}",
            urlencode(&format!("Saved {}", user.email))
        ))
        .into_response(),
        Ok(governance::Outcome::Held(pending)) => Redirect::to(&format!(
            "/command/users?notice={}",
            urlencode(&format!(
                "Waiting for another administrator's approval: {}",
                pending.summary
            ))
        ))
        .into_response(),
        Err(err) => denied(&err).unwrap_or_else(|| {
            let message = match err {
                Error::Invalid(fields) => fields
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                other => form_error(&ctx, other),
            };
            Redirect::to(&format!("/command/users?error={}", urlencode(&message))).into_response()
        }),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// The account page's password form. Nothing typed comes back into the
/// address: passwords are never echoed.
pub async fn change_password(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    const FIELDS: [(&str, &str); 2] = [
        ("current_password", "current_password"),
        ("new_password", "new_password"),
    ];
    if form.new_password != form.confirm_password {
        let err = Error::invalid(
            "confirm_password",
            "the two new passwords differ; type it again",
        );
        return refused(
            &ctx,
            "/account",
            err,
            &[("confirm_password", "confirm_password")],
            &[],
        );
    }
    let keep = crate::http::credentials::cookie(&headers, SESSION_COOKIE);
    match governance::change_own_password(
        &state.db,
        &ctx,
        &form.current_password,
        &form.new_password,
        keep,
    )
    .await
    {
        Ok(()) => to(
            "/account",
            "notice",
            "Your password is changed. Any other sessions of yours have ended.",
        ),
        Err(Error::Unauthenticated) => Redirect::to("/signin?next=/account").into_response(),
        Err(err) => refused(&ctx, "/account", err, &FIELDS, &[]),
    }
}
