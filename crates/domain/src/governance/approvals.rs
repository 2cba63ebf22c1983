//! Four eyes as data. The approval policy table says which changes need a
//! second person and above what; a change that does is held as a pending
//! change, applied only when someone else with the kind's permission
//! approves it, and never by the person who asked.
//!
//! Policies apply to people and tokens. Keel's own in-process actors (the
//! CLI, the seeder, scheduled jobs) act at once: they are how an operator
//! recovers, and they are audited by name.

use serde::{Deserialize, Serialize};

use super::{Permission, Role};

/// The kinds of change a policy can hold for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// A manual stock adjustment worth more than the threshold at cost.
    StockAdjustment,
    /// A person's role changed.
    RoleChange,
    /// A channel price that departs from the catalogue's by more than the
    /// threshold percentage, either way.
    PriceOverride,
    /// A channel's safety buffer, or its warehouses in priority order (its
    /// sourcing rule).
    ChannelChange,
}

impl ApprovalKind {
    pub const ALL: [ApprovalKind; 4] = [
        ApprovalKind::StockAdjustment,
        ApprovalKind::RoleChange,
        ApprovalKind::PriceOverride,
        ApprovalKind::ChannelChange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::StockAdjustment => "stock_adjustment",
            ApprovalKind::RoleChange => "role_change",
            ApprovalKind::PriceOverride => "price_override",
            ApprovalKind::ChannelChange => "channel_change",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            ApprovalKind::StockAdjustment => "Stock adjustment",
            ApprovalKind::RoleChange => "Role change",
            ApprovalKind::PriceOverride => "Price override",
            ApprovalKind::ChannelChange => "Channel or sourcing rule",
        }
    }

    /// Who may approve (or reject) a change of this kind: the permission
    /// the change itself needs, held by someone else.
    pub fn approver_permission(self) -> Permission {
        match self {
            ApprovalKind::StockAdjustment => Permission::InventoryApprove,
            ApprovalKind::RoleChange => Permission::UsersManage,
            ApprovalKind::PriceOverride => Permission::CatalogWrite,
            ApprovalKind::ChannelChange => Permission::ChannelsManage,
        }
    }

    /// The kinds' names, for a message that lists them.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

/// One row of the policy table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub kind: ApprovalKind,
    pub active: bool,
    /// For stock adjustments: the value at cost, in minor units, above which
    /// an adjustment waits for approval.
    pub threshold_minor: Option<i64>,
    /// For price overrides: how far, in percent of the catalogue price, a
    /// channel price may depart before it waits for approval.
    #[serde(default)]
    pub threshold_percent: Option<i64>,
}

/// The largest threshold a policy takes: ten million in major units.
pub const MAX_THRESHOLD_MINOR: i64 = 1_000_000_000;

/// The largest percentage a price-override policy takes.
pub const MAX_THRESHOLD_PERCENT: i64 = 1_000;

impl Policy {
    /// Whether an adjustment of `units` at `unit_cost_minor` each needs a
    /// second person. Checked arithmetic: a value too large to hold is over
    /// any threshold.
    pub fn holds_adjustment(&self, units: i64, unit_cost_minor: i64) -> bool {
        if !self.active || self.kind != ApprovalKind::StockAdjustment {
            return false;
        }
        let value = units
            .checked_abs()
            .and_then(|u| u.checked_mul(unit_cost_minor.max(0)));
        match value {
            Some(v) => v > self.threshold_minor.unwrap_or(0),
            None => true,
        }
    }

    /// Whether moving a person from one role to another needs a second person.
    pub fn holds_role_change(&self, from: Role, to: Role) -> bool {
        self.active && self.kind == ApprovalKind::RoleChange && from != to
    }

    /// Whether setting a channel price of `new_minor` (none: the catalogue's
    /// applies again) against the catalogue's `catalogue_minor` in the same
    /// currency needs a second person. A price with no catalogue price to
    /// compare with is an override of any size.
    pub fn holds_price(&self, catalogue_minor: Option<i64>, new_minor: Option<i64>) -> bool {
        if !self.active || self.kind != ApprovalKind::PriceOverride {
            return false;
        }
        let Some(new) = new_minor else {
            return false;
        };
        match catalogue_minor {
            Some(base) if base > 0 => {
                // In i128: a price times 100 can't overflow it.
                let departure = (i128::from(new) - i128::from(base)).abs() * 100;
                departure > i128::from(self.threshold_percent.unwrap_or(0)) * i128::from(base)
            }
            _ => true,
        }
    }

    /// Whether a change to a channel's buffer or sourcing rule needs a
    /// second person.
    pub fn holds_channel_change(&self) -> bool {
        self.active && self.kind == ApprovalKind::ChannelChange
    }

    /// A percentage as typed into the policy form or API, checked.
    pub fn check_percent(threshold_percent: Option<i64>) -> Result<Option<i64>, String> {
        match threshold_percent {
            Some(t) if !(0..=MAX_THRESHOLD_PERCENT).contains(&t) => Err(format!(
                "use 0 to {MAX_THRESHOLD_PERCENT} (percent of the catalogue price)"
            )),
            other => Ok(other),
        }
    }

    /// A threshold as typed into the policy form or API, checked.
    pub fn check_threshold(threshold_minor: Option<i64>) -> Result<Option<i64>, String> {
        match threshold_minor {
            Some(t) if !(0..=MAX_THRESHOLD_MINOR).contains(&t) => Err(format!(
                "use 0 to {MAX_THRESHOLD_MINOR} (minor units, at cost)"
            )),
            other => Ok(other),
        }
    }
}

/// Whether `approver` may decide on a change `requested_by` asked for, which
/// is `status` now.
pub fn may_decide(status: &str, requested_by: &str, approver: &str) -> Result<(), Refusal> {
    if status != "pending" {
        return Err(Refusal::NotPending(status.to_string()));
    }
    super::second_person(Some(requested_by), approver).map_err(Refusal::SelfApproval)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Already applied or rejected.
    NotPending(String),
    /// The approver asked for the change.
    SelfApproval(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adjustments(threshold: i64) -> Policy {
        Policy {
            kind: ApprovalKind::StockAdjustment,
            active: true,
            threshold_minor: Some(threshold),
            threshold_percent: None,
        }
    }

    #[test]
    fn an_adjustment_waits_above_its_value_at_cost_either_way() {
        let p = adjustments(50_000);
        assert!(
            !p.holds_adjustment(10, 5_000),
            "exactly the threshold passes"
        );
        assert!(p.holds_adjustment(11, 5_000));
        assert!(
            p.holds_adjustment(-11, 5_000),
            "a write-off counts like a find"
        );
        assert!(
            p.holds_adjustment(i64::MIN, 1),
            "an overflowing value is held"
        );
        assert!(p.holds_adjustment(2, i64::MAX));
        let off = Policy {
            active: false,
            ..adjustments(0)
        };
        assert!(!off.holds_adjustment(1_000, 1_000));
    }

    #[test]
    fn a_role_change_waits_only_when_the_role_changes() {
        let p = Policy {
            kind: ApprovalKind::RoleChange,
            active: true,
            threshold_minor: None,
            threshold_percent: None,
        };
        assert!(p.holds_role_change(Role::Warehouse, Role::Admin));
        assert!(!p.holds_role_change(Role::Manager, Role::Manager));
        assert!(!adjustments(0).holds_role_change(Role::Warehouse, Role::Admin));
    }

    #[test]
    fn a_price_waits_when_it_departs_from_the_catalogue_by_more_than_the_percentage() {
        let p = Policy {
            kind: ApprovalKind::PriceOverride,
            active: true,
            threshold_minor: None,
            threshold_percent: Some(20),
        };
        assert!(
            !p.holds_price(Some(1_000), Some(800)),
            "exactly 20% below passes"
        );
        assert!(
            !p.holds_price(Some(1_000), Some(1_200)),
            "exactly 20% above passes"
        );
        assert!(p.holds_price(Some(1_000), Some(799)));
        assert!(p.holds_price(Some(1_000), Some(1_201)));
        assert!(
            p.holds_price(None, Some(1_000)),
            "no catalogue price to compare"
        );
        assert!(p.holds_price(Some(1), Some(i64::MAX)), "no overflow");
        assert!(!p.holds_price(Some(1_000), None), "removing an override");
        assert!(!Policy {
            active: false,
            ..p.clone()
        }
        .holds_price(None, Some(1)));
        assert!(!adjustments(0).holds_price(None, Some(1)));
        assert!(Policy::check_percent(Some(1_001)).is_err());
        assert!(Policy::check_percent(Some(-1)).is_err());
        assert_eq!(Policy::check_percent(Some(20)), Ok(Some(20)));
    }

    #[test]
    fn channel_changes_wait_while_their_policy_is_on() {
        let p = Policy {
            kind: ApprovalKind::ChannelChange,
            active: true,
            threshold_minor: None,
            threshold_percent: None,
        };
        assert!(p.holds_channel_change());
        assert!(!Policy { active: false, ..p }.holds_channel_change());
        assert!(!adjustments(0).holds_channel_change());
    }

    #[test]
    fn only_someone_else_decides_and_only_once() {
        assert_eq!(
            may_decide("pending", "ann@example.com", "bo@example.com"),
            Ok(())
        );
        assert!(matches!(
            may_decide("pending", "ann@example.com", "ann@example.com"),
            Err(Refusal::SelfApproval(_))
        ));
        assert_eq!(
            may_decide("applied", "ann@example.com", "bo@example.com"),
            Err(Refusal::NotPending("applied".into()))
        );
    }

    #[test]
    fn kinds_and_thresholds_read_back() {
        for k in ApprovalKind::ALL {
            assert_eq!(ApprovalKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ApprovalKind::parse("refund"), None);
        assert!(Policy::check_threshold(Some(-1)).is_err());
        assert!(Policy::check_threshold(Some(MAX_THRESHOLD_MINOR + 1)).is_err());
        assert_eq!(Policy::check_threshold(Some(0)), Ok(Some(0)));
    }
}
