//! The use-case context: who acts, for which request, and what time it is.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use domain::governance::{can, Permission, Role, Scope};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    Token,
    System,
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Token => "token",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<String>,
    pub name: String,
    pub role: Option<Role>,
    pub scope: Scope,
}

impl Actor {
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            id: None,
            name: "anonymous".into(),
            role: None,
            scope: Scope::default(),
        }
    }

    /// A trusted in-process actor (the CLI, the seeder, scheduled jobs). It is
    /// named, so the audit log still says which part of Keel acted.
    pub fn system(name: &str) -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            name: name.into(),
            role: None,
            scope: Scope::default(),
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.kind != ActorKind::Anonymous
    }

    pub fn may(&self, permission: Permission) -> bool {
        match self.kind {
            ActorKind::System => true,
            ActorKind::Anonymous => false,
            ActorKind::User | ActorKind::Token => self.role.is_some_and(|r| can(r, permission)),
        }
    }
}

/// Time as the use cases see it. Tests fix it; production reads the system clock.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    pub fn fixed(micros: i64) -> Self {
        Clock::Fixed(Arc::new(AtomicI64::new(micros)))
    }

    /// Microseconds since the epoch, UTC.
    pub fn now(&self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp_micros(),
            Clock::Fixed(t) => t.load(Ordering::SeqCst),
        }
    }

    pub fn advance_secs(&self, secs: i64) {
        if let Clock::Fixed(t) = self {
            t.fetch_add(secs * 1_000_000, Ordering::SeqCst);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub request_id: Option<String>,
    pub clock: Clock,
}

impl Ctx {
    pub fn new(actor: Actor, request_id: Option<String>) -> Self {
        Self {
            actor,
            request_id,
            clock: Clock::System,
        }
    }

    pub fn system(name: &str) -> Self {
        Self::new(Actor::system(name), None)
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The one authorization gate: unauthenticated is 401, a role without the
    /// permission is 403.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if !self.actor.is_authenticated() {
            return Err(Error::Unauthenticated);
        }
        if !self.actor.may(permission) {
            return Err(Error::Forbidden { permission });
        }
        Ok(())
    }
}
