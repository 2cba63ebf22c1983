//! The one error every server function returns. It crosses the wire as data,
//! not as a sentence, so a page can put field errors beside their fields and
//! tell "the network is down" from "the server said no" without reading text.

use domain::FieldError;
use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Problem {
    /// Input a person can fix, field by field.
    Invalid(Vec<FieldError>),
    /// Refused by the state of what it touches: the stable wire code (as in
    /// the REST error shape) and the sentence for people.
    Conflict {
        code: String,
        message: String,
    },
    NotFound(String),
    /// Signed out, lacking the permission, or outside the actor's scope.
    Denied(String),
    /// Our side failed. The cause is logged on the server and never sent.
    Internal,
    /// No answer: the network or the server is down. Work queued offline
    /// stays queued on this one.
    Unreachable(String),
    /// An answer that couldn't be read, or a request that couldn't be sent.
    Transport(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Invalid(fields) => f.write_str(&FieldError::one_line(fields)),
            Problem::Conflict { message, .. }
            | Problem::NotFound(message)
            | Problem::Denied(message) => f.write_str(message),
            Problem::Internal => {
                f.write_str("something went wrong on our side; it has been logged")
            }
            Problem::Unreachable(_) => {
                f.write_str("the server can't be reached; check the connection and try again")
            }
            Problem::Transport(detail) => write!(f, "the request failed: {detail}"),
        }
    }
}

impl std::error::Error for Problem {}

impl FromServerFnError for Problem {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        client_error_status(&value);
        match value {
            ServerFnErrorErr::Request(detail) => Problem::Unreachable(detail),
            other => Problem::Transport(other.to_string()),
        }
    }
}

/// On the server, arguments that can't be read are the caller's fault: a
/// 400, or a 413 when the body passed its limit, never the 500 that would
/// let anyone raise the server-error count.
#[cfg(feature = "ssr")]
fn client_error_status(e: &ServerFnErrorErr) {
    use http::StatusCode;
    let status = match e {
        ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m)
            if m.contains("length limit") =>
        {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        ServerFnErrorErr::Args(_)
        | ServerFnErrorErr::MissingArg(_)
        | ServerFnErrorErr::Deserialization(_) => StatusCode::BAD_REQUEST,
        _ => return,
    };
    if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_survives_the_wire_and_keeps_its_fields() {
        let p = Problem::Invalid(vec![FieldError::new("price", "enter an amount")]);
        let back = <Problem as FromServerFnError>::de(p.ser());
        assert_eq!(back, p);
    }

    #[test]
    fn no_answer_is_told_apart_from_a_refusal() {
        let p = Problem::from_server_fn_error(ServerFnErrorErr::Request("offline".into()));
        assert!(matches!(p, Problem::Unreachable(_)));
    }
}
