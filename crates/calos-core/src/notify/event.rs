//! The kinds of events the outbox carries, and the notification a trigger
//! or a change produces.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::InvalidValue;

/// What happened. The string form is the webhook event `type` and what a
/// webhook endpoint's event filter lists.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "license.created")]
    LicenseCreated,
    #[serde(rename = "license.suspended")]
    LicenseSuspended,
    #[serde(rename = "license.revoked")]
    LicenseRevoked,
    #[serde(rename = "license.reactivated")]
    LicenseReactivated,
    #[serde(rename = "license.tier_changed")]
    LicenseTierChanged,
    #[serde(rename = "license.expired")]
    LicenseExpired,
    #[serde(rename = "license.expiring")]
    LicenseExpiring,
    #[serde(rename = "trial.ending")]
    TrialEnding,
    #[serde(rename = "usage.limit_reached")]
    UsageLimitReached,
    #[serde(rename = "upsell.found")]
    UpsellFound,
    #[serde(rename = "deployment.silent")]
    DeploymentSilent,
    #[serde(rename = "health.dropped")]
    HealthDropped,
    #[serde(rename = "invoice.issued")]
    InvoiceIssued,
    /// A webhook endpoint kept failing and was switched off (vendor alert).
    #[serde(rename = "webhook.disabled")]
    WebhookDisabled,
}

impl EventKind {
    pub const ALL: [EventKind; 14] = [
        EventKind::LicenseCreated,
        EventKind::LicenseSuspended,
        EventKind::LicenseRevoked,
        EventKind::LicenseReactivated,
        EventKind::LicenseTierChanged,
        EventKind::LicenseExpired,
        EventKind::LicenseExpiring,
        EventKind::TrialEnding,
        EventKind::UsageLimitReached,
        EventKind::UpsellFound,
        EventKind::DeploymentSilent,
        EventKind::HealthDropped,
        EventKind::InvoiceIssued,
        EventKind::WebhookDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::LicenseCreated => "license.created",
            EventKind::LicenseSuspended => "license.suspended",
            EventKind::LicenseRevoked => "license.revoked",
            EventKind::LicenseReactivated => "license.reactivated",
            EventKind::LicenseTierChanged => "license.tier_changed",
            EventKind::LicenseExpired => "license.expired",
            EventKind::LicenseExpiring => "license.expiring",
            EventKind::TrialEnding => "trial.ending",
            EventKind::UsageLimitReached => "usage.limit_reached",
            EventKind::UpsellFound => "upsell.found",
            EventKind::DeploymentSilent => "deployment.silent",
            EventKind::HealthDropped => "health.dropped",
            EventKind::InvoiceIssued => "invoice.issued",
            EventKind::WebhookDisabled => "webhook.disabled",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == raw)
            .ok_or_else(|| InvalidValue::new("events", format!("unknown event {raw:?}")))
    }

    /// Whether webhooks carry this event. The endpoint-disabled alert goes
    /// by e-mail only: the failing endpoints are the ones it is about.
    pub fn goes_to_webhooks(self) -> bool {
        self != EventKind::WebhookDisabled
    }
}

/// Who a notification is about: the license and its customer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub install_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub company: Option<String>,
    pub plan: String,
}

impl Subject {
    /// The subject's part of an event's `data`.
    pub fn to_json(&self) -> Value {
        json!({
            "installId": self.install_id,
            "plan": self.plan,
            "customer": {
                "name": self.customer_name,
                "email": self.customer_email,
                "company": self.company,
            },
        })
    }
}

/// A notification to put in the outbox. With a `dedupe_key`, the outbox
/// keeps only the first notification under that key.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub event: EventKind,
    pub dedupe_key: Option<String>,
    pub install_id: Option<String>,
    /// The event's `data` (webhook body) and the e-mail's facts.
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

impl NewNotification {
    /// A notification about `subject`, with `extra` fields merged into its data.
    pub fn about(
        event: EventKind,
        subject: &Subject,
        dedupe_key: Option<String>,
        extra: Value,
        now: DateTime<Utc>,
    ) -> Self {
        let mut data = subject.to_json();
        if let (Value::Object(target), Value::Object(fields)) = (&mut data, extra) {
            target.extend(fields);
        }
        NewNotification {
            event,
            dedupe_key,
            install_id: Some(subject.install_id.clone()),
            data,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for e in EventKind::ALL {
            assert_eq!(EventKind::parse(e.as_str()).unwrap(), e);
            assert_eq!(serde_json::to_value(e).unwrap(), json!(e.as_str()));
        }
        assert!(EventKind::parse("license.exploded").is_err());
    }

    #[test]
    fn about_merges_subject_and_extra_fields() {
        let s = Subject {
            install_id: "i-1".into(),
            customer_name: "Globex".into(),
            customer_email: "ops@globex.test".into(),
            company: None,
            plan: "pro".into(),
        };
        let n = NewNotification::about(
            EventKind::LicenseRevoked,
            &s,
            None,
            json!({"reason": "unpaid"}),
            chrono::DateTime::UNIX_EPOCH,
        );
        assert_eq!(n.data["installId"], "i-1");
        assert_eq!(n.data["customer"]["name"], "Globex");
        assert_eq!(n.data["reason"], "unpaid");
        assert_eq!(n.install_id.as_deref(), Some("i-1"));
    }
}
