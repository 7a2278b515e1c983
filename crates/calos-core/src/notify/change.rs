//! Changes that notify: a license change recorded in the audit log maps to
//! an event, enqueued in the same transaction as the change and its audit
//! record (so the notification exists exactly when the change does).

use serde_json::{json, Value};

use super::event::{EventKind, NewNotification, Subject};
use crate::audit::AuditEntry;

/// The event an audit action announces, if any.
pub fn event_for_action(target_type: &str, action: &str) -> Option<EventKind> {
    if target_type == "invoice" {
        return (action == "invoice.issue").then_some(EventKind::InvoiceIssued);
    }
    if target_type != "license" {
        return None;
    }
    Some(match action {
        "license.create" => EventKind::LicenseCreated,
        "license.suspend" => EventKind::LicenseSuspended,
        "license.revoke" => EventKind::LicenseRevoked,
        "license.reactivate" => EventKind::LicenseReactivated,
        "license.change_tier" => EventKind::LicenseTierChanged,
        "license.expire" => EventKind::LicenseExpired,
        _ => return None,
    })
}

/// The install whose license and customer an audited change is about: the
/// target itself for a license, the invoice's install for an invoice.
pub fn subject_install(entry: &AuditEntry) -> Option<&str> {
    match entry.target_type.as_str() {
        "invoice" => entry.after.as_ref()?.get("installId")?.as_str(),
        _ => Some(entry.target_id.as_str()),
    }
}

/// The notification for an audited change of `subject`'s license, or
/// `None` when the action announces nothing. Change events carry no
/// deduplication key: each change is its own event.
pub fn from_audit(entry: &AuditEntry, subject: &Subject) -> Option<NewNotification> {
    let event = event_for_action(&entry.target_type, &entry.action)?;
    let field = |side: &Option<Value>, name: &str| {
        side.as_ref()
            .and_then(|v| v.get(name))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let mut extra = json!({
        "status": field(&entry.after, "status"),
        "actor": entry.actor.label(),
    });
    if let Value::Object(map) = &mut extra {
        match event {
            EventKind::LicenseSuspended | EventKind::LicenseRevoked => {
                map.insert("reason".into(), field(&entry.after, "statusReason"));
            }
            EventKind::LicenseTierChanged => {
                map.insert("previousPlan".into(), field(&entry.before, "plan"));
            }
            EventKind::InvoiceIssued => {
                let after = &entry.after;
                map.insert("invoiceId".into(), field(after, "id"));
                map.insert("number".into(), field(after, "number"));
                map.insert("currency".into(), field(after, "currency"));
                map.insert("dueDate".into(), field(after, "dueDate"));
                let total = after
                    .as_ref()
                    .and_then(|a| a.pointer("/document/totals/totalMinor"))
                    .cloned()
                    .unwrap_or(Value::Null);
                map.insert("totalMinor".into(), total);
            }
            EventKind::LicenseCreated => {
                map.insert("trialEndsAt".into(), field(&entry.after, "trialEndsAt"));
                map.insert("billingPeriod".into(), field(&entry.after, "billingPeriod"));
            }
            _ => {}
        }
    }
    let mut subject = subject.clone();
    // The audit record's "after" is the license as stored: its plan is the new one.
    if let Some(plan) = entry
        .after
        .as_ref()
        .and_then(|a| a.get("plan"))
        .and_then(Value::as_str)
    {
        subject.plan = plan.to_owned();
    }
    Some(NewNotification::about(
        event, &subject, None, extra, entry.at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Actor;

    fn entry(action: &str, before: Value, after: Value) -> AuditEntry {
        AuditEntry {
            at: chrono::DateTime::UNIX_EPOCH,
            actor: Actor::Admin {
                id: 1,
                username: "alice".into(),
            },
            action: action.into(),
            target_type: "license".into(),
            target_id: "i-1".into(),
            before: Some(before),
            after: Some(after),
            ip: None,
        }
    }

    fn subject() -> Subject {
        Subject {
            install_id: "i-1".into(),
            customer_name: "Globex".into(),
            customer_email: "ops@globex.test".into(),
            company: Some("Globex Corp".into()),
            plan: "starter".into(),
        }
    }

    #[test]
    fn license_actions_map_to_events() {
        assert_eq!(
            event_for_action("license", "license.revoke"),
            Some(EventKind::LicenseRevoked)
        );
        assert_eq!(event_for_action("license", "license.update"), None);
        assert_eq!(event_for_action("plan", "license.revoke"), None);
        assert_eq!(
            event_for_action("invoice", "invoice.issue"),
            Some(EventKind::InvoiceIssued)
        );
        assert_eq!(event_for_action("invoice", "invoice.pay"), None);
    }

    #[test]
    fn revoke_carries_reason_and_actor() {
        let e = entry(
            "license.revoke",
            json!({"status": "active"}),
            json!({"status": "revoked", "statusReason": "unpaid", "plan": "starter"}),
        );
        let n = from_audit(&e, &subject()).unwrap();
        assert_eq!(n.event, EventKind::LicenseRevoked);
        assert_eq!(n.data["reason"], "unpaid");
        assert_eq!(n.data["actor"], "admin:alice");
        assert_eq!(n.data["status"], "revoked");
        assert!(n.dedupe_key.is_none());
    }

    #[test]
    fn tier_change_names_both_plans() {
        let e = entry(
            "license.change_tier",
            json!({"plan": "starter"}),
            json!({"plan": "pro", "status": "active"}),
        );
        let n = from_audit(&e, &subject()).unwrap();
        assert_eq!(n.data["previousPlan"], "starter");
        assert_eq!(n.data["plan"], "pro");
    }

    #[test]
    fn other_actions_notify_nothing() {
        let e = entry("license.update", json!({}), json!({}));
        assert!(from_audit(&e, &subject()).is_none());
    }
}
