//! What every form handler shares: the caller's address, session cookies,
//! messages for people, redirects back with a notice or an error, and uploads.

use app::components::url::urlencode;
use axum::{
    extract::{ConnectInfo, Multipart},
    http::{HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
    Extension,
};
use backend::{Ctx, Error};
use domain::FieldError;
use std::net::{IpAddr, SocketAddr};

/// The caller's address, for throttles that count per address: the peer,
/// or, when the peer is a trusted proxy, the address it forwarded for.
pub(crate) fn remote(
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> String {
    let Some(peer) = connect.map(|c| c.0 .0.ip()) else {
        return "local".into();
    };
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let trusted = crate::TRUSTED_PROXIES
        .read()
        .map(|t| t.clone())
        .unwrap_or_default();
    client_address(peer, &forwarded, &trusted).to_string()
}

/// Walks `X-Forwarded-For` from the right (the entry the nearest proxy
/// added) past the trusted proxies; the first other address is the client.
/// Entries left of it were written by the client and prove nothing.
fn client_address(peer: IpAddr, forwarded: &str, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded.rsplit(',') {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted.contains(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// A session cookie: HttpOnly, SameSite=Lax, and Secure behind TLS.
pub(crate) fn session_cookie(name: &str, secret: &str, max_age_secs: i64) -> Option<HeaderValue> {
    let secure = if crate::SECURE_COOKIES.load(std::sync::atomic::Ordering::Relaxed) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={secret}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

pub(crate) fn form_error(ctx: &Ctx, err: Error) -> String {
    match err {
        e if e.is_unavailable() => {
            tracing::warn!(error = %e, request_id = ?ctx.request_id, "the database is unavailable");
            "Keel can't reach its database right now; nothing was changed. Try again in a minute."
                .into()
        }
        Error::Database(_) | Error::Internal(_) => {
            tracing::error!(error = %err, request_id = ?ctx.request_id, "form submission failed");
            "something went wrong on our side; it has been logged".into()
        }
        other => other.to_string(),
    }
}

/// One line for a notice or error banner: field errors joined, internal
/// causes logged and replaced by a plain apology.
pub(crate) fn message(ctx: &Ctx, err: Error) -> String {
    let fields = err.fields();
    if fields.is_empty() {
        form_error(ctx, err)
    } else {
        domain::FieldError::one_line(&fields)
    }
}

/// The messages alone, for a form with one input (a scan field): there is
/// no other field the message could be about, so its name would be noise.
pub(crate) fn sentence(ctx: &Ctx, err: Error) -> String {
    let fields = err.fields();
    if fields.is_empty() {
        form_error(ctx, err)
    } else {
        fields
            .into_iter()
            .map(|f| f.message)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Back to `path` saying the change waits for a second person.
pub(crate) fn waiting(
    path: &str,
    held: &backend::governance::approvals::PendingChange,
) -> Response {
    to(
        path,
        "notice",
        &format!("Waiting for a second person's approval: {}", held.summary),
    )
}

pub(crate) fn to(path: &str, key: &str, text: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{key}={}", urlencode(text))).into_response()
}

/// Reads an upload form: its text fields by name, and the `file` field as
/// UTF-8 text; the error is the sentence to show beside the form.
pub async fn read_upload(
    multipart: &mut Multipart,
) -> Result<(std::collections::HashMap<String, String>, String), String> {
    let (mut fields, mut text) = (std::collections::HashMap::new(), None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(bytes) => match String::from_utf8(bytes.to_vec()) {
                    Ok(t) => text = Some(t),
                    Err(_) => {
                        return Err("the file is not UTF-8 text; save the CSV as UTF-8".into())
                    }
                },
                Err(e) => return Err(format!("the upload failed: {e}")),
            },
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                match field.text().await {
                    Ok(value) => fields.insert(name, value),
                    Err(e) => {
                        return Err(format!("the form's {name} field could not be read: {e}"))
                    }
                };
            }
            Ok(None) => break,
            Err(e) => return Err(format!("the upload failed: {e}")),
        }
    }
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => Ok((fields, t)),
        None => Err("choose a CSV file to upload".into()),
    }
}

/// Where a start button lands: the job's page, with the reason when the job
/// didn't start.
pub fn started(ctx: &backend::Ctx, page: &str, r: backend::Result<()>) -> Response {
    match r {
        Ok(()) => Redirect::to(page).into_response(),
        Err(err) => to(page, "error", &message(ctx, err)),
    }
}

/// A form's text field read as a whole number; its range is the use case's.
pub(crate) fn whole(field: &str, text: &str) -> Result<i64, FieldError> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| FieldError::new(field, "enter a whole number"))
}

/// Whether a use case's field error is about the form field `from`: the
/// field itself, or an entry of it when it is a list (`add[1]` of `add`).
fn names(from: &str, field: &str) -> bool {
    field
        .strip_prefix(from)
        .is_some_and(|rest| rest.is_empty() || (rest.starts_with('[') && rest.ends_with(']')))
}

/// Back to the form at `path` after the use case refused it. Each field error
/// goes beside its field as `error_<form field>`, named as the form names it:
/// `fields` maps every field the form has from the use case's name to the
/// form's (`prices[0].price` to `price`; a list's entries go with it). What
/// the person typed comes back as `value_<form field>` so nothing has to be
/// typed again. An error about a field the form doesn't have, or about no
/// field, is the page's `error`.
pub(crate) fn refused(
    ctx: &Ctx,
    path: &str,
    err: Error,
    fields: &[(&str, &str)],
    typed: &[(&str, &str)],
) -> Response {
    let errors = err.fields();
    if errors.is_empty() {
        return to(path, "error", &message(ctx, err));
    }
    // Several errors can land on one field (two tags of one list): they
    // are joined, in order, so none is lost.
    let mut beside: Vec<(&str, Vec<String>)> = Vec::new();
    let mut elsewhere = Vec::new();
    for e in errors {
        match fields.iter().find(|(from, _)| names(from, &e.field)) {
            Some((_, name)) => match beside.iter_mut().find(|(n, _)| n == name) {
                Some((_, messages)) => messages.push(e.message),
                None => beside.push((name, vec![e.message])),
            },
            None => elsewhere.push(e),
        }
    }
    let mut q: Vec<String> = beside
        .iter()
        .map(|(name, messages)| {
            format!(
                "error_{}={}",
                urlencode(name),
                urlencode(&messages.join("; "))
            )
        })
        .collect();
    if !elsewhere.is_empty() {
        q.push(format!(
            "error={}",
            urlencode(&FieldError::one_line(&elsewhere))
        ));
    }
    for (name, value) in typed {
        q.push(format!("value_{name}={}", urlencode(value)));
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{}", q.join("&"))).into_response()
}

#[cfg(test)]
mod tests {
    use super::client_address;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| unreachable!("{s}"))
    }

    #[test]
    fn forwarded_addresses_count_only_through_trusted_proxies() {
        let proxy = [ip("10.0.0.1")];
        // Straight from the internet: the peer, whatever it claims.
        assert_eq!(
            client_address(ip("203.0.113.9"), "1.2.3.4", &proxy),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it added, not the client's own claims.
        assert_eq!(
            client_address(ip("10.0.0.1"), "1.2.3.4, 198.51.100.7", &proxy),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(ip("10.0.0.1"), "198.51.100.7", &proxy),
            ip("198.51.100.7")
        );
        // A proxy that added nothing readable: the proxy itself.
        assert_eq!(client_address(ip("10.0.0.1"), "", &proxy), ip("10.0.0.1"));
        assert_eq!(
            client_address(ip("10.0.0.1"), "junk", &proxy),
            ip("10.0.0.1")
        );
        // Two trusted hops.
        let two = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(
            client_address(ip("10.0.0.1"), "198.51.100.7, 10.0.0.2", &two),
            ip("198.51.100.7")
        );
    }
}
