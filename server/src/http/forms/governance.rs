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

use crate::http::{auth::SESSION_COOKIE, extract::Caller, forms::common::form_error};

/// Only local paths are followed after sign-in, never another site.
fn safe_next(next: &str) -> &str {
    domain::governance::local_path(next).unwrap_or("/command")
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
    Form(form): Form<SignInForm>,
) -> Response {
    let remote = connect
        .map(|c| c.0 .0.ip().to_string())
        .unwrap_or_else(|| "local".into());
    let next = safe_next(&form.next).to_string();
    match governance::sign_in(&state.db, &ctx, &form.email, &form.password, &remote).await {
        Ok(session) => {
            let secure = if state_secure() { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
                session.secret,
                governance::SESSION_TTL_SECS
            );
            let mut res = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
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

fn state_secure() -> bool {
    crate::SECURE_COOKIES.load(std::sync::atomic::Ordering::Relaxed)
}

pub async fn sign_out(
    State(state): State<AppState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = crate::http::auth::cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = governance::sign_out(&state.db, &ctx, secret).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut res = Redirect::to("/signin").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("keel_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
    );
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
        Ok(user) => Redirect::to(&format!(
            "/command/users?notice={}",
            urlencode(&format!("Saved {}", user.email))
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
