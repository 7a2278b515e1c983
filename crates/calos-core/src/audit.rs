//! Audit records: who changed what, when, and the state before and after.

pub mod chain;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who made a change.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Admin {
        id: i64,
        username: String,
    },
    ApiToken {
        id: i64,
        name: String,
        admin_id: i64,
    },
    /// A `calos` CLI command run on the server itself.
    Cli,
    /// Background work, such as a trial running out.
    System,
}

impl Actor {
    /// A short readable label (`admin:alice`, `token:ci`, `cli`, `system`).
    pub fn label(&self) -> String {
        match self {
            Actor::Admin { username, .. } => format!("admin:{username}"),
            Actor::ApiToken { name, .. } => format!("token:{name}"),
            Actor::Cli => "cli".to_owned(),
            Actor::System => "system".to_owned(),
        }
    }

    /// The admin account behind the actor, if any.
    pub fn admin_id(&self) -> Option<i64> {
        match self {
            Actor::Admin { id, .. } => Some(*id),
            Actor::ApiToken { admin_id, .. } => Some(*admin_id),
            Actor::Cli | Actor::System => None,
        }
    }
}

/// One change to record, written in the same transaction as the change.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// Dotted action name such as `license.revoke`.
    pub action: String,
    /// What was changed: `license`, `customer`, `plan`, `admin`, `api_token`.
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
}

/// A stored audit entry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub id: i64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_labels() {
        assert_eq!(
            Actor::Admin {
                id: 1,
                username: "alice".into()
            }
            .label(),
            "admin:alice"
        );
        assert_eq!(
            Actor::ApiToken {
                id: 2,
                name: "ci".into(),
                admin_id: 1
            }
            .label(),
            "token:ci"
        );
        assert_eq!(Actor::System.label(), "system");
        assert_eq!(Actor::Cli.admin_id(), None);
        assert_eq!(
            Actor::ApiToken {
                id: 2,
                name: "ci".into(),
                admin_id: 7
            }
            .admin_id(),
            Some(7)
        );
    }
}
