//! One error type for every use case. Variants carry data so that each door can
//! render them precisely: the REST layer maps them to status codes and the error
//! shape, forms show field errors next to their inputs. Database causes are never
//! shown to clients; the server logs them with the request id.

use domain::{governance::Permission, FieldError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sign in first")]
    Unauthenticated,
    /// A webhook whose signature or required headers don't check out.
    #[error("{0}")]
    BadSignature(String),
    #[error("your role lacks the {permission} permission")]
    Forbidden { permission: Permission },
    /// The actor's scope doesn't include this warehouse or channel.
    #[error("you are not assigned to {what}")]
    OutOfScope { what: String },
    #[error("{entity} {key} was not found")]
    NotFound { entity: &'static str, key: String },
    #[error("the input is not valid")]
    Invalid(Vec<FieldError>),
    #[error("{message}")]
    Conflict { code: Conflict, message: String },
    /// A reservation line asked for more than can be promised. `line` is the
    /// index of the request line, for the `lines[i].quantity` field.
    #[error("not enough stock of {sku}: requested {requested}, available {available}")]
    InsufficientStock {
        line: usize,
        sku: String,
        requested: i64,
        available: i64,
    },
    /// Too many at once or in a row; `reason` says of what.
    #[error("{reason}; try again in {retry_after_secs} s")]
    Throttled {
        reason: String,
        retry_after_secs: i64,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a write was refused by the state of what it touches. The variant, not
/// a string, is what code matches on; `code()` is its stable wire spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    // Any record
    /// Someone changed the record since it was read.
    VersionConflict,
    /// The record's status doesn't allow this step.
    InvalidTransition,
    // Orders
    /// A concurrent capture of the same channel order won the race.
    CaptureConflict,
    /// The hold was already released.
    HoldNotActive,
    /// The hold clears itself (payment, stock); a person can't release it.
    HoldNotReleasable,
    // Inventory
    /// Not enough units to take.
    InsufficientStock,
    /// The reservation was released or consumed.
    ReservationNotActive,
    /// The reservation holds an order's stock: it changes only through the
    /// order (cancel it or its lines, or ship it).
    ReservationOfOrder,
    /// Stock moved while the request was planned; try again.
    StockChanged,
    /// The bin's units changed under the request.
    BinChanged,
    /// The transfer has not left, or has already arrived.
    TransferNotInTransit,
    /// The count was already submitted.
    CountNotOpen,
    /// The count is not waiting for a decision.
    CountNotPending,
    /// The person who made a change can't also approve it.
    SelfApproval,
    /// The held change was already applied or rejected.
    ChangeNotPending,
    // Fulfillment
    /// The wave is complete or cancelled.
    WaveNotOpen,
    /// No sourced units are waiting for a wave.
    NothingToPick,
    /// The pick task was done or changed by someone else.
    TaskChanged,
    /// A bundle's components can't all be picked.
    ShortBundle,
    /// The bins hold fewer units than are reserved there.
    BinsShort,
    /// The pack scan no longer matches the fulfilment.
    ScanChanged,
    /// Not every unit is scanned into a package yet.
    PackNotVerified,
    /// The fulfilment is not picked, or already shipped.
    NotPackable,
    // Receiving
    /// The delivery is closed to receiving.
    DeliveryClosed,
    /// More units than were announced.
    OverReceipt,
    // Order-report imports
    /// The import has already started.
    ImportAlreadyStarted,
    // Privacy
    /// The customer has orders still to ship, which need their address.
    OrdersOpen,
    /// The customer was already erased.
    AlreadyErased,
    // Exception queues
    /// The exception belongs to another person's queue.
    NotYourQueue,
    /// The exception is already resolved.
    ExceptionClosed,
}

impl Conflict {
    /// The machine-readable code clients switch on.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::VersionConflict => "version_conflict",
            Conflict::InvalidTransition => "invalid_transition",
            Conflict::CaptureConflict => "capture_conflict",
            Conflict::HoldNotActive => "hold_not_active",
            Conflict::HoldNotReleasable => "hold_not_releasable",
            Conflict::InsufficientStock => "insufficient_stock",
            Conflict::ReservationNotActive => "reservation_not_active",
            Conflict::ReservationOfOrder => "reservation_of_order",
            Conflict::StockChanged => "stock_changed",
            Conflict::BinChanged => "bin_changed",
            Conflict::TransferNotInTransit => "transfer_not_in_transit",
            Conflict::CountNotOpen => "count_not_open",
            Conflict::CountNotPending => "count_not_pending",
            Conflict::SelfApproval => "self_approval",
            Conflict::OrdersOpen => "orders_open",
            Conflict::AlreadyErased => "already_erased",
            Conflict::ChangeNotPending => "change_not_pending",
            Conflict::WaveNotOpen => "wave_not_open",
            Conflict::NothingToPick => "nothing_to_pick",
            Conflict::TaskChanged => "task_changed",
            Conflict::ShortBundle => "short_bundle",
            Conflict::BinsShort => "bins_short",
            Conflict::ScanChanged => "scan_changed",
            Conflict::PackNotVerified => "pack_not_verified",
            Conflict::NotPackable => "not_packable",
            Conflict::DeliveryClosed => "delivery_closed",
            Conflict::OverReceipt => "over_receipt",
            Conflict::ImportAlreadyStarted => "import_already_started",
            Conflict::NotYourQueue => "not_your_queue",
            Conflict::ExceptionClosed => "exception_closed",
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Lets a caller compare a conflict with its wire code.
impl PartialEq<&str> for Conflict {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    /// The same error with each field named under `prefix` (`orders[3]` turns
    /// `lines` into `orders[3].lines`), for a use case that checks many
    /// records in one request; other errors pass through.
    pub fn within(self, prefix: &str) -> Self {
        match self {
            Error::Invalid(fields) => Error::Invalid(
                fields
                    .into_iter()
                    .map(|f| FieldError::new(format!("{prefix}.{}", f.field), f.message))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The HTTP status every door answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            Error::Unauthenticated | Error::BadSignature(_) => 401,
            Error::Forbidden { .. } | Error::OutOfScope { .. } => 403,
            Error::NotFound { .. } => 404,
            Error::Invalid(_) => 422,
            Error::Conflict { .. } | Error::InsufficientStock { .. } => 409,
            Error::Throttled { .. } => 429,
            Error::Database(_) if self.is_unavailable() => 503,
            Error::Database(_) | Error::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated => "unauthenticated",
            Error::BadSignature(_) => "invalid_signature",
            Error::Forbidden { .. } | Error::OutOfScope { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::Invalid(_) => "invalid_input",
            Error::Conflict { code, .. } => code.code(),
            Error::InsufficientStock { .. } => "insufficient_stock",
            Error::Throttled { .. } => "too_many_requests",
            Error::Database(_) if self.is_unavailable() => "unavailable",
            Error::Database(_) | Error::Internal(_) => "internal",
        }
    }

    /// A stored record this version can't read (a value of the wrong type,
    /// a NULL where one is required) or an invariant found broken: retrying
    /// won't help, and it concerns a record, not the database being away.
    pub fn is_unreadable(&self) -> bool {
        matches!(
            self,
            Error::Database(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_))
                | Error::Internal(_)
        )
    }

    /// The database is away or can't take writes: unreachable, restarting,
    /// out of connections, a full disk, a read-only file. Nothing was
    /// changed and the same request can succeed once it is back, so every
    /// door answers 503 with `Retry-After` instead of 500.
    pub fn is_unavailable(&self) -> bool {
        let Error::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|c| unavailable_code(&c)),
            _ => false,
        }
    }

    /// A failure that a fresh attempt of the whole transaction can succeed at:
    /// a PostgreSQL deadlock or serialization failure, or SQLite reporting the
    /// database busy past its timeout.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::Database(db)) => {
                matches!(
                    db.code().as_deref(),
                    Some("40P01" | "40001" | "5" | "517" | "6")
                )
            }
            _ => false,
        }
    }

    /// The field errors to show beside a form's inputs.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            Error::Invalid(fields) => fields.clone(),
            Error::InsufficientStock {
                line,
                requested,
                available,
                ..
            } => vec![FieldError::new(
                format!("lines[{line}].quantity"),
                format!("requested {requested}, only {available} available"),
            )],
            _ => Vec::new(),
        }
    }
}

/// Seconds a caller waits before trying again while the database is away.
pub const UNAVAILABLE_RETRY_SECS: i64 = 10;

/// Whether a database error code says the database is away or can't write.
/// PostgreSQL: connection exceptions (class 08), insufficient resources (53:
/// disk full, out of memory, too many connections), shutdown and start-up
/// (57P01-57P03), a read-only transaction (25006, a standby). SQLite, by
/// primary code: READONLY (8), IOERR (10), FULL (13), CANTOPEN (14).
fn unavailable_code(code: &str) -> bool {
    // SQLite's codes, extended ones included, have at most four digits.
    if code.len() == 5 {
        return code.starts_with("08")
            || code.starts_with("53")
            || matches!(code, "57P01" | "57P02" | "57P03" | "25006");
    }
    code.parse::<u32>()
        .is_ok_and(|n| matches!(n & 0xff, 8 | 10 | 13 | 14))
}

impl From<Vec<FieldError>> for Error {
    fn from(errors: Vec<FieldError>) -> Self {
        Error::Invalid(errors)
    }
}

impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        Error::Invalid(vec![error])
    }
}

/// Turns a unique-constraint violation into a field error or conflict a person
/// can act on; any other database error passes through unchanged.
pub fn on_unique(err: sqlx::Error, field: &str, message: &str) -> Error {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::invalid(field, message),
        _ => Error::Database(err),
    }
}

#[cfg(test)]
mod tests {
    use super::unavailable_code;

    #[test]
    fn the_database_being_away_is_told_from_a_bad_request() {
        for away in [
            "08006", "08001", "53100", "53300", "57P01", "57P03", "25006", "13", "8", "1032", "10",
            "266", "14",
        ] {
            assert!(unavailable_code(away), "{away}");
        }
        for not in ["23505", "40001", "22003", "19", "2067", "5", "517", "1"] {
            assert!(!unavailable_code(not), "{not}");
        }
    }
}
