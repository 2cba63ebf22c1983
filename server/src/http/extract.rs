//! Request extractors with precise errors: JSON bodies that report which field
//! is wrong, the caller's context, and the Idempotency-Key header.

use app::ssr::RequestCtx;
use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header::CONTENT_TYPE, request::Parts, StatusCode},
};
use backend::{Ctx, Idempotency};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The largest request body Keel accepts.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The longest a request body may take to arrive: a full one over a slow
/// mobile link takes seconds, not half a minute.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Catalogue files are bigger than API bodies: 100,000 rows fit in 32 MiB.
pub const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

/// A JSON body, parsed strictly, with its raw bytes kept for idempotency hashing.
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
    /// The method and whole path (`POST /api/v1/deliveries/DL-1/scans`),
    /// which an idempotency key is bound to with the body.
    pub target: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let target = target(req.method(), req.uri(), req.extensions());
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as Content-Type: application/json",
            ));
        }
        let raw = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("the body is larger than {} bytes", BODY_LIMIT),
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "unreadable_body",
                    rejection.body_text(),
                )
            }
        })?;
        let value = parse_json(&raw)?;
        Ok(Self { value, raw, target })
    }
}

/// `METHOD /whole/path` of a request, before any router nesting took its
/// prefix off.
pub fn target(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    extensions: &axum::http::Extensions,
) -> String {
    let path = extensions
        .get::<axum::extract::OriginalUri>()
        .map(|o| o.0.path().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    format!("{method} {path}")
}

/// Parses JSON strictly, naming the offending field path on a type or shape error.
pub fn parse_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(raw);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            );
        }
        let message = strip_position(&inner.to_string());
        // The path names the offending field, unknown fields included; "." is the whole body.
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("{field}: {message}"),
        )
        .field(field, message)
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The use-case context of the caller, as the auth layer resolved it.
pub struct Caller(pub Ctx);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let req = parts
            .extensions
            .get::<RequestCtx>()
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "request context missing",
                )
            })?;
        Ok(Caller(Ctx::new(req.actor, req.request_id)))
    }
}

/// Reads an optional `Idempotency-Key` header and binds it to this request:
/// its target (method and path, so the record it acts on) and its body. The
/// caller is bound when the key is claimed.
pub fn idempotency(
    headers: &axum::http::HeaderMap,
    target: &str,
    raw: &[u8],
) -> Result<Option<Idempotency>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v.to_str().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    "Idempotency-Key must be visible ASCII",
                )
            })?;
            Idempotency::new(key, target, raw)
                .map(Some)
                .map_err(ApiError::from)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Line {
        sku: String,
        quantity: i64,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        lines: Vec<Line>,
    }

    #[test]
    fn wrong_types_name_the_field_path() {
        let err = parse_json::<Body>(br#"{"lines":[{"sku":"A","quantity":"two"}]}"#).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            err.fields.contains_key("lines[0].quantity"),
            "{:?}",
            err.fields
        );
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = parse_json::<Body>(br#"{"lines":[],"colour":"red"}"#).unwrap_err();
        assert!(err.fields.contains_key("colour"), "{:?}", err.fields);
        let nested =
            parse_json::<Body>(br#"{"lines":[{"sku":"A","quantity":1,"x":1}]}"#).unwrap_err();
        assert!(
            nested.fields.contains_key("lines[0].x"),
            "{:?}",
            nested.fields
        );
    }

    #[test]
    fn malformed_json_is_a_400() {
        let err = parse_json::<Body>(b"{\"lines\": [").unwrap_err();
        assert_eq!(
            (err.status, err.code.as_str()),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
        let trailing = parse_json::<Body>(b"{\"lines\": []} extra").unwrap_err();
        assert_eq!(trailing.code, "malformed_json");
    }
}
