//! Roles, permissions and scopes.
//!
//! The permission table is data: `GRANTS` lists, for each permission, the roles
//! that hold it. `can` is the one pure check every door goes through, so the
//! table can be tested as a matrix and read by a person. A scope narrows a
//! user to some warehouses or channels; an empty scope list means "all".

pub mod approvals;

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Warehouse,
    Finance,
    Support,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Warehouse,
        Role::Finance,
        Role::Support,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Warehouse => "warehouse",
            Role::Finance => "finance",
            Role::Support => "support",
        }
    }

    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a role: use one of admin, manager, warehouse, finance, support"
                )
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Manager => "Operations manager",
            Role::Warehouse => "Warehouse agent",
            Role::Finance => "Finance",
            Role::Support => "Customer support",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    /// Open the command center and its dashboards.
    CommandView,
    /// Use the warehouse floor app.
    FloorUse,
    /// Read the audit log.
    AuditRead,
    /// Read the event feed and its live stream.
    EventsRead,
    /// Create users, change roles and scopes, disable accounts.
    UsersManage,
    /// Issue and revoke API tokens.
    TokensManage,
    /// Read orders.
    OrdersRead,
    /// Create and change orders.
    OrdersWrite,
    /// Read warehouses, stock and reservations.
    InventoryRead,
    /// Receive, adjust, transfer and reserve stock; manage warehouses.
    InventoryWrite,
    /// Read and change channels and their secrets.
    ChannelsManage,
    /// Create and edit products, bundles and prices; import the catalogue.
    CatalogWrite,
    /// Approve cycle-count variances above the value threshold.
    InventoryApprove,
    /// See the exception queues.
    ExceptionsRead,
    /// Assign, snooze and resolve exceptions (of one's own role's queues,
    /// or assigned to oneself, unless a manager: see `analytics::may_work`).
    ExceptionsWork,
    /// See the KPI board.
    KpisRead,
    /// Open a warehouse: site setup, not a floor task.
    WarehousesManage,
    /// Look after one's own account (change one's own password): everyone.
    AccountOwn,
    /// Export everything about a customer, and erase them on request.
    PrivacyManage,
}

use Permission::*;
use Role::*;

/// The permission table. Adding a permission means adding a row here, and the
/// matrix test makes sure no row is forgotten.
pub const GRANTS: &[(Permission, &[Role])] = &[
    (CommandView, &[Admin, Manager, Finance, Support]),
    (FloorUse, &[Admin, Manager, Warehouse]),
    (AuditRead, &[Admin, Manager]),
    (EventsRead, &[Admin, Manager, Finance, Support]),
    (UsersManage, &[Admin]),
    (TokensManage, &[Admin]),
    (OrdersRead, &[Admin, Manager, Warehouse, Finance, Support]),
    (OrdersWrite, &[Admin, Manager, Support]),
    (
        InventoryRead,
        &[Admin, Manager, Warehouse, Finance, Support],
    ),
    (InventoryWrite, &[Admin, Manager, Warehouse]),
    (ChannelsManage, &[Admin]),
    (CatalogWrite, &[Admin, Manager]),
    (InventoryApprove, &[Admin, Manager]),
    (
        ExceptionsRead,
        &[Admin, Manager, Warehouse, Finance, Support],
    ),
    (
        ExceptionsWork,
        &[Admin, Manager, Warehouse, Finance, Support],
    ),
    (KpisRead, &[Admin, Manager, Finance, Support]),
    (WarehousesManage, &[Admin, Manager]),
    (AccountOwn, &[Admin, Manager, Warehouse, Finance, Support]),
    (PrivacyManage, &[Admin]),
];

impl Permission {
    pub const ALL: [Permission; 19] = [
        CommandView,
        FloorUse,
        AuditRead,
        EventsRead,
        UsersManage,
        TokensManage,
        OrdersRead,
        OrdersWrite,
        InventoryRead,
        InventoryWrite,
        ChannelsManage,
        CatalogWrite,
        InventoryApprove,
        ExceptionsRead,
        ExceptionsWork,
        KpisRead,
        WarehousesManage,
        AccountOwn,
        PrivacyManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandView => "command.view",
            FloorUse => "floor.use",
            AuditRead => "audit.read",
            EventsRead => "events.read",
            UsersManage => "users.manage",
            TokensManage => "tokens.manage",
            OrdersRead => "orders.read",
            OrdersWrite => "orders.write",
            InventoryRead => "inventory.read",
            InventoryWrite => "inventory.write",
            ChannelsManage => "channels.manage",
            CatalogWrite => "catalog.write",
            InventoryApprove => "inventory.approve",
            ExceptionsRead => "exceptions.read",
            ExceptionsWork => "exceptions.work",
            KpisRead => "kpis.read",
            WarehousesManage => "warehouses.manage",
            AccountOwn => "account.own",
            PrivacyManage => "privacy.manage",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Four eyes: whoever made a change that needs approval (`made_by`) can't be
/// the one who approves it. Names are the audit log's actor names.
pub fn second_person(made_by: Option<&str>, approver: &str) -> Result<(), String> {
    match made_by {
        Some(who) if who.trim().eq_ignore_ascii_case(approver.trim()) => Err(format!(
            "{approver} made this change, so another person with the approval permission decides on it"
        )),
        _ => Ok(()),
    }
}

/// Whether `role` holds `permission` according to `GRANTS`.
pub fn can(role: Role, permission: Permission) -> bool {
    GRANTS
        .iter()
        .any(|(p, roles)| *p == permission && roles.contains(&role))
}

/// The warehouses and channels a user may act on. Empty means unrestricted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scope {
    #[serde(default)]
    pub warehouses: Vec<String>,
    #[serde(default)]
    pub channels: Vec<String>,
}

impl Scope {
    pub fn allows_warehouse(&self, code: &str) -> bool {
        self.warehouses.is_empty() || self.warehouses.iter().any(|w| w == code)
    }

    pub fn allows_channel(&self, code: &str) -> bool {
        self.channels.is_empty() || self.channels.iter().any(|c| c == code)
    }

    /// Every warehouse and every channel: what the whole-business feeds and
    /// deciding on held changes need.
    pub fn is_unrestricted(&self) -> bool {
        self.warehouses.is_empty() && self.channels.is_empty()
    }

    /// Parses a comma-separated list as typed into a form; blanks are dropped.
    pub fn parse_list(input: &str) -> Vec<String> {
        let mut list: Vec<String> = input
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        list.sort();
        list.dedup();
        list
    }
}

/// `next` when it is a path on this site to go to after signing in: it
/// starts with one `/`, and every character is visible ASCII other than a
/// backslash. Browsers drop tabs and line breaks from a URL and read `\` as
/// `/`, so `/%09/evil.example` or `/\\evil.example` would leave the site; a
/// CR or LF would also break the `Location` header.
pub fn local_path(next: &str) -> Option<&str> {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    local.then_some(next)
}

/// Password rules for staff accounts. Length is what matters; composition rules
/// only push people towards predictable patterns.
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 12 {
        return Err(format!("use at least 12 characters (this one has {n})"));
    }
    if n > 256 {
        return Err("use at most 256 characters".into());
    }
    Ok(())
}

/// Failed sign-ins allowed in the window before an account (or address) is throttled.
pub const SIGN_IN_MAX_FAILURES: i64 = 5;
/// The throttle window in seconds.
pub const SIGN_IN_WINDOW_SECS: i64 = 15 * 60;

/// Whether a further sign-in attempt is allowed after `recent_failures` in the window.
pub fn sign_in_allowed(recent_failures: i64) -> bool {
    recent_failures < SIGN_IN_MAX_FAILURES
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_maker_of_a_change_is_not_its_approver() {
        let refused =
            super::second_person(Some("ann@example.com"), "Ann@Example.com ").unwrap_err();
        assert!(refused.contains("another person"), "{refused}");
        assert_eq!(
            super::second_person(Some("ann@example.com"), "bo@example.com"),
            Ok(())
        );
        // Nobody recorded as its maker (a count with no scans): nothing to compare.
        assert_eq!(super::second_person(None, "bo@example.com"), Ok(()));
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        for ok in [
            "/command",
            "/command/orders?status=open&tag=vip",
            "/floor/pick/W-1",
        ] {
            assert_eq!(local_path(ok), Some(ok));
        }
        for bad in [
            "",
            "command",
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "/command\r\nSet-Cookie: x=1",
            "https://evil.example",
            "/ space",
            "/é",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    use super::*;

    /// The whole matrix, spelled out: a change to `GRANTS` must change this too,
    /// which makes every widening of access a deliberate, reviewed edit.
    #[test]
    fn permission_matrix() {
        let expected: &[(Permission, [bool; 5])] = &[
            //                 admin  manager warehouse finance support
            (CommandView, [true, true, false, true, true]),
            (FloorUse, [true, true, true, false, false]),
            (AuditRead, [true, true, false, false, false]),
            (EventsRead, [true, true, false, true, true]),
            (UsersManage, [true, false, false, false, false]),
            (TokensManage, [true, false, false, false, false]),
            (OrdersRead, [true, true, true, true, true]),
            (OrdersWrite, [true, true, false, false, true]),
            (InventoryRead, [true, true, true, true, true]),
            (InventoryWrite, [true, true, true, false, false]),
            (ChannelsManage, [true, false, false, false, false]),
            (CatalogWrite, [true, true, false, false, false]),
            (InventoryApprove, [true, true, false, false, false]),
            (ExceptionsRead, [true, true, true, true, true]),
            (ExceptionsWork, [true, true, true, true, true]),
            (KpisRead, [true, true, false, true, true]),
            (WarehousesManage, [true, true, false, false, false]),
            (AccountOwn, [true, true, true, true, true]),
            (PrivacyManage, [true, false, false, false, false]),
        ];
        assert_eq!(
            expected.len(),
            Permission::ALL.len(),
            "every permission has a matrix row"
        );
        for (permission, row) in expected {
            for (role, allowed) in Role::ALL.iter().zip(row) {
                assert_eq!(can(*role, *permission), *allowed, "{role} / {permission}");
            }
        }
    }

    #[test]
    fn every_permission_has_exactly_one_grant_row() {
        for p in Permission::ALL {
            assert_eq!(GRANTS.iter().filter(|(g, _)| *g == p).count(), 1, "{p}");
        }
    }

    #[test]
    fn admin_holds_everything() {
        assert!(Permission::ALL.iter().all(|p| can(Admin, *p)));
    }

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert!(Role::parse("root").unwrap_err().contains("not a role"));
    }

    #[test]
    fn empty_scope_allows_all_and_a_list_narrows() {
        let all = Scope::default();
        assert!(all.allows_warehouse("WEST"));
        let west = Scope {
            warehouses: vec!["WEST".into()],
            channels: vec![],
        };
        assert!(west.allows_warehouse("WEST"));
        assert!(!west.allows_warehouse("EAST"));
        assert!(west.allows_channel("WEB"));
        assert_eq!(Scope::parse_list(" EAST, ,WEST,EAST"), vec!["EAST", "WEST"]);
    }

    #[test]
    fn passwords_need_length() {
        assert!(check_password("short").unwrap_err().contains("12"));
        assert!(check_password("correct horse battery").is_ok());
    }

    #[test]
    fn sign_in_is_throttled_after_five_failures() {
        assert!(sign_in_allowed(4));
        assert!(!sign_in_allowed(5));
    }
}
