//! The one mapping from use-case errors to HTTP: status, the JSON error shape
//! `{"error": {"code", "message", "fields"}}`, and logging. A 5xx is always a
//! bug; its cause is logged with the request id and never sent.

use std::collections::BTreeMap;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use backend::Error;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    /// Seconds until a refused caller may try again (`Retry-After`).
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            fields: BTreeMap::new(),
            retry_after: None,
        }
    }

    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.fields.insert(field.into(), message.into());
        self
    }
}

pub fn status_of(err: &Error) -> StatusCode {
    StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let status = status_of(&err);
        if err.is_unavailable() {
            tracing::warn!(error = %err, "the database is unavailable");
            let mut api = ApiError::new(
                status,
                "unavailable",
                "Keel can't reach its database right now; nothing was changed, try again shortly",
            );
            api.retry_after = Some(backend::error::UNAVAILABLE_RETRY_SECS);
            return api;
        }
        if status.is_server_error() {
            tracing::error!(error = %err, "request failed");
            return ApiError::new(
                status,
                "internal",
                "something went wrong on our side; it has been logged",
            );
        }
        let mut api = ApiError::new(status, err.code(), err.to_string());
        if let Error::Throttled {
            retry_after_secs, ..
        } = err
        {
            api.retry_after = Some(retry_after_secs);
        }
        api.fields = err
            .fields()
            .into_iter()
            .map(|f| (f.field, f.message))
            .collect();
        if let Error::Invalid(fields) = err {
            api.message = match fields.as_slice() {
                [one] => format!("{}: {}", one.field, one.message),
                _ => format!("{} fields are not valid", fields.len()),
            };
            api.fields = fields.into_iter().map(|f| (f.field, f.message)).collect();
        }
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({"error": {"code": self.code, "message": self.message, "fields": self.fields}});
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}
