//! Searching the audit log: the dashboard's audit page, its CSV export and
//! `GET /api/enterprise/audit` filter by actor, action, target and time, and
//! page through the result. Every filter value is bound as a query parameter
//! by the backends, never spliced into SQL text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_core::audit::AuditRecord;

use crate::{Page, StoreResult};

/// Which audit records to return. `None` (or an empty string) means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// ASCII-case-insensitive substring of the actor's label (`admin:alice`,
    /// `token:ci`, `cli`, `system`).
    pub actor: Option<String>,
    /// An action (`license.revoke`), or a dotted group of actions: `license`
    /// matches `license` and every `license.…`.
    pub action: Option<String>,
    pub target_type: Option<String>,
    /// The exact target id: an install id, an admin id, a token prefix.
    pub target_id: Option<String>,
    /// Records at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Records strictly before this time.
    pub to: Option<DateTime<Utc>>,
    /// 1-based; 0 is read as 1.
    pub page: u32,
    /// At least 1.
    pub per_page: u32,
}

/// LIKE's own metacharacters escaped (with `\`), so user text matches literally.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl AuditFilter {
    /// `%actor%`, lower-cased and escaped, for `lower(actor_label) LIKE ? ESCAPE '\'`.
    pub fn actor_pattern(&self) -> Option<String> {
        given(&self.actor).map(|a| format!("%{}%", escape_like(&a.to_lowercase())))
    }

    /// The exact action to match.
    pub fn action_exact(&self) -> Option<&str> {
        given(&self.action)
    }

    /// `action.%`, escaped, for the actions of the group `action` names.
    pub fn action_group_pattern(&self) -> Option<String> {
        given(&self.action).map(|a| format!("{}.%", escape_like(a)))
    }

    pub fn target_type(&self) -> Option<&str> {
        given(&self.target_type)
    }

    pub fn target_id(&self) -> Option<&str> {
        given(&self.target_id)
    }

    pub fn page(&self) -> u32 {
        self.page.max(1)
    }

    pub fn per_page(&self) -> u32 {
        self.per_page.max(1)
    }

    /// Rows to skip for [`page`](Self::page).
    pub fn offset(&self) -> i64 {
        i64::from(self.page() - 1) * i64::from(self.per_page())
    }
}

#[async_trait]
pub trait AuditFilterStore: Send + Sync {
    /// One page of the audit records matching every given filter, newest
    /// first (same time: the later record first), with how many match in all.
    async fn search_audit(&self, filter: &AuditFilter) -> StoreResult<Page<AuditRecord>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_like_wildcards() {
        let f = AuditFilter {
            actor: Some("Al_i%ce\\".into()),
            action: Some("license_x".into()),
            ..AuditFilter::default()
        };
        assert_eq!(f.actor_pattern().unwrap(), "%al\\_i\\%ce\\\\%");
        assert_eq!(f.action_group_pattern().unwrap(), "license\\_x.%");
        assert_eq!(f.action_exact(), Some("license_x"));
    }

    #[test]
    fn empty_values_mean_any_and_pages_start_at_one() {
        let f = AuditFilter {
            actor: Some(String::new()),
            target_id: Some(String::new()),
            ..AuditFilter::default()
        };
        assert_eq!(f.actor_pattern(), None);
        assert_eq!(f.target_id(), None);
        assert_eq!((f.page(), f.per_page(), f.offset()), (1, 1, 0));
        let f = AuditFilter {
            page: 3,
            per_page: 50,
            ..AuditFilter::default()
        };
        assert_eq!(f.offset(), 100);
    }
}
