//! Admin roles and what each may do. The server checks permissions in one
//! place (its `AdminUser` extractor) against this table.

use serde::{Deserialize, Serialize};

use crate::InvalidValue;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Sales,
    Support,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Sales,
        Role::Support,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Sales => "sales",
            Role::Support => "support",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| InvalidValue::new("role", format!("unknown role {raw:?}")))
    }

    /// Roles are nested: each may do everything the ones after it in
    /// [`Role::ALL`] may (sales ⊇ support ⊇ viewer), so a lower rank is wider.
    fn rank(self) -> usize {
        Self::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or(Self::ALL.len())
    }

    /// The narrower of two roles: what a role-scoped API token acts as.
    pub fn at_most(self, cap: Role) -> Role {
        if cap.rank() > self.rank() {
            cap
        } else {
            self
        }
    }

    /// Whether this role may do what `permission` names.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner | Role::Admin => true,
            Role::Sales => matches!(permission, Read | CreateLicense | ChangeTier | EditNotes),
            Role::Support => matches!(permission, Read | EditNotes),
            Role::Viewer => matches!(permission, Read),
        }
    }
}

/// Everything the admin API distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read customers, licenses, stats, plans, audit.
    Read,
    CreateLicense,
    ChangeTier,
    /// Suspend, reactivate, activate, renew, extend trials, edit domains.
    ManageLicense,
    Revoke,
    EditNotes,
    ManagePlans,
    ManageAdmins,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_admin_may_do_everything() {
        for p in [
            Permission::Revoke,
            Permission::ManageAdmins,
            Permission::ManagePlans,
        ] {
            assert!(Role::Owner.allows(p) && Role::Admin.allows(p));
        }
    }

    #[test]
    fn sales_cannot_revoke_or_manage_admins() {
        assert!(Role::Sales.allows(Permission::CreateLicense));
        assert!(Role::Sales.allows(Permission::ChangeTier));
        assert!(!Role::Sales.allows(Permission::Revoke));
        assert!(!Role::Sales.allows(Permission::ManageAdmins));
    }

    #[test]
    fn support_and_viewer_are_read_mostly() {
        assert!(Role::Support.allows(Permission::EditNotes));
        assert!(!Role::Support.allows(Permission::CreateLicense));
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::Viewer.allows(Permission::EditNotes));
    }

    #[test]
    fn roles_are_nested_and_at_most_narrows() {
        let all = [
            Permission::Read,
            Permission::CreateLicense,
            Permission::ChangeTier,
            Permission::ManageLicense,
            Permission::Revoke,
            Permission::EditNotes,
            Permission::ManagePlans,
            Permission::ManageAdmins,
        ];
        for w in Role::ALL.windows(2) {
            for p in all {
                assert!(!w[1].allows(p) || w[0].allows(p), "{:?} ⊇ {:?}", w[0], w[1]);
            }
        }
        assert_eq!(Role::Owner.at_most(Role::Support), Role::Support);
        assert_eq!(Role::Viewer.at_most(Role::Admin), Role::Viewer);
        assert_eq!(Role::Sales.at_most(Role::Sales), Role::Sales);
    }

    #[test]
    fn role_parse() {
        assert_eq!(Role::parse("sales"), Ok(Role::Sales));
        assert!(Role::parse("root").is_err());
    }
}
