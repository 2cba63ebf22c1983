//! Read models of people, their tokens, the audit trail and the event feed.

use crate::governance::{Role, Scope};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub active: bool,
    pub version: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub occurred_at: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub request_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A change held for a second person (`governance::approvals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingChange {
    pub id: String,
    /// `stock_adjustment`, `role_change`.
    pub kind: String,
    /// What it does, in words.
    pub summary: String,
    /// The request as it will be applied.
    pub payload: serde_json::Value,
    pub requested_by: String,
    pub requested_at: String,
    /// `pending`, `applied` or `rejected`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PendingFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One field an audited change touched, as people read it: its path in the
/// record (`address.city`, `lines[0].quantity`) and its value before and
/// after; `None` where the field was absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl AuditEntry {
    /// The fields that differ between `before` and `after`, in path order.
    /// A change with no before (a creation) lists every field it set; one
    /// with no after (a removal) every field it had.
    pub fn changes(&self) -> Vec<FieldChange> {
        let mut before = std::collections::BTreeMap::new();
        let mut after = std::collections::BTreeMap::new();
        if let Some(v) = &self.before {
            flatten(String::new(), v, &mut before);
        }
        if let Some(v) = &self.after {
            flatten(String::new(), v, &mut after);
        }
        let fields: std::collections::BTreeSet<&String> =
            before.keys().chain(after.keys()).collect();
        fields
            .into_iter()
            .filter(|f| before.get(*f) != after.get(*f))
            .map(|f| FieldChange {
                field: f.clone(),
                before: before.get(f).cloned(),
                after: after.get(f).cloned(),
            })
            .collect()
    }
}

/// Leaf values by path. An empty object or list is a leaf of its own, so
/// emptying one still shows.
fn flatten(
    path: String,
    v: &serde_json::Value,
    out: &mut std::collections::BTreeMap<String, String>,
) {
    use serde_json::Value;
    let name = |path: &str| {
        if path.is_empty() {
            "value".to_string()
        } else {
            path.to_string()
        }
    };
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                flatten(p, child, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, child) in items.iter().enumerate() {
                flatten(format!("{}[{i}]", name(&path)), child, out);
            }
        }
        Value::String(s) => {
            out.insert(name(&path), s.clone());
        }
        Value::Null => {
            out.insert(name(&path), "none".into());
        }
        other => {
            out.insert(name(&path), other.to_string());
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Matches the actor's id exactly or their name (email) as a substring.
    pub actor: Option<String>,
    /// RFC 3339 instants or dates (YYYY-MM-DD), inclusive from, exclusive to.
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub v: i32,
    pub entity: String,
    pub entity_id: String,
    pub actor_kind: String,
    pub actor_name: String,
    pub occurred_at: String,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    pub created_at: String,
    pub revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(before: Option<serde_json::Value>, after: Option<serde_json::Value>) -> AuditEntry {
        AuditEntry {
            id: "a".into(),
            occurred_at: String::new(),
            actor_kind: "user".into(),
            actor_id: None,
            actor_name: "ann".into(),
            request_id: None,
            action: "x".into(),
            entity: "order".into(),
            entity_id: "1".into(),
            before,
            after,
        }
    }

    fn change(field: &str, before: Option<&str>, after: Option<&str>) -> FieldChange {
        FieldChange {
            field: field.into(),
            before: before.map(String::from),
            after: after.map(String::from),
        }
    }

    #[test]
    fn only_the_fields_that_differ_by_their_path() {
        let e = entry(
            Some(
                json!({"status": "open", "address": {"city": "Austin", "postcode": "78701"}, "tags": ["a"], "total": 10}),
            ),
            Some(
                json!({"status": "held", "address": {"city": "Boston", "postcode": "78701"}, "tags": [], "note": null, "total": 10}),
            ),
        );
        assert_eq!(
            e.changes(),
            vec![
                change("address.city", Some("Austin"), Some("Boston")),
                change("note", None, Some("none")),
                change("status", Some("open"), Some("held")),
                change("tags", None, Some("[]")),
                change("tags[0]", Some("a"), None),
            ]
        );
    }

    #[test]
    fn a_creation_lists_what_it_set_and_a_bare_value_is_named() {
        let e = entry(None, Some(json!({"role": "manager", "active": true})));
        assert_eq!(
            e.changes(),
            vec![
                change("active", None, Some("true")),
                change("role", None, Some("manager")),
            ]
        );
        assert_eq!(
            entry(Some(json!(3)), Some(json!(4))).changes(),
            vec![change("value", Some("3"), Some("4"))]
        );
        assert!(entry(None, None).changes().is_empty());
        assert!(entry(Some(json!({"a": 1})), Some(json!({"a": 1})))
            .changes()
            .is_empty());
    }
}
