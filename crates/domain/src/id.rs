//! Typed identifiers. An `Id<Order>` and an `Id<User>` cannot be swapped by
//! accident, yet both serialize as a plain UUID string. New ids are UUIDv7, so
//! they sort by creation time, which keeps keyset pagination and B-tree inserts cheap.

use std::{fmt, marker::PhantomData, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

pub struct Id<T> {
    uuid: Uuid,
    kind: PhantomData<fn() -> T>,
}

impl<T> Id<T> {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self {
            uuid,
            kind: PhantomData,
        }
    }

    pub fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// Parses the canonical hyphenated form; anything else is rejected so that
    /// an id has exactly one spelling in URLs, logs and the database.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let uuid = Uuid::try_parse(s).map_err(|_| IdError {
            input: s.chars().take(64).collect(),
        })?;
        if uuid.hyphenated().to_string() != s {
            return Err(IdError {
                input: s.chars().take(64).collect(),
            });
        }
        Ok(Self::from_uuid(uuid))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not an id: expected a lowercase hyphenated UUID")]
pub struct IdError {
    pub input: String,
}

impl<T> Default for Id<T> {
    fn default() -> Self {
        Self::new()
    }
}
impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<T> Eq for Id<T> {}
impl<T> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.uuid.cmp(&other.uuid)
    }
}
impl<T> std::hash::Hash for Id<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state)
    }
}
impl<T> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.uuid.hyphenated().fmt(f)
    }
}
impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.uuid.hyphenated())
    }
}
impl<T> FromStr for Id<T> {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl<T> Serialize for Id<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.uuid.hyphenated())
    }
}
impl<'de, T> Deserialize<'de> for Id<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct Order;

    #[test]
    fn new_ids_are_version_7_and_increase() {
        let a = Id::<Order>::new();
        let b = Id::<Order>::new();
        assert_eq!(a.uuid().get_version_num(), 7);
        assert!(b >= a);
    }

    #[test]
    fn non_canonical_spellings_are_rejected() {
        assert!(Id::<Order>::parse("0190A1B2-0000-7000-8000-000000000000").is_err());
        assert!(Id::<Order>::parse("0190a1b200007000800000000000000").is_err());
        assert!(Id::<Order>::parse("").is_err());
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let id = Id::<Order>::parse("0190a1b2-0000-7000-8000-000000000001").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"0190a1b2-0000-7000-8000-000000000001\""
        );
        let back: Id<Order> =
            serde_json::from_str("\"0190a1b2-0000-7000-8000-000000000001\"").unwrap();
        assert_eq!(back, id);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(bytes in any::<[u8; 16]>()) {
            let id = Id::<Order>::from_uuid(Uuid::from_bytes(bytes));
            prop_assert_eq!(Id::<Order>::parse(&id.to_string()).unwrap(), id);
        }
    }
}
