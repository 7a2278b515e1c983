//! The JSON a webhook endpoint receives, and the headers around it.
//!
//! ```json
//! {"id": "ntf_42", "type": "license.revoked", "createdAt": "2025-06-01T12:00:00Z",
//!  "data": {"installId": "…", "plan": "pro", "customer": {…}, "reason": "…"}}
//! ```
//!
//! Delivery is at least once: the same delivery may arrive again after a
//! timeout or a crash, always with the same `X-Calos-Delivery` header (the
//! outbox delivery id), which receivers use to drop repeats.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::event::EventKind;

/// The delivery id header: the idempotency key receivers dedupe on.
pub const DELIVERY_HEADER: &str = "X-Calos-Delivery";
/// The event type header.
pub const EVENT_HEADER: &str = "X-Calos-Event";

/// The body of a webhook for notification `id`.
pub fn envelope(id: i64, event: EventKind, created_at: DateTime<Utc>, data: &Value) -> Value {
    envelope_with_id(&format!("ntf_{id}"), event.as_str(), created_at, data)
}

/// The same envelope under any id and event name (a test event is
/// `test_…` / `webhook.test`, not a stored notification).
pub fn envelope_with_id(id: &str, event: &str, created_at: DateTime<Utc>, data: &Value) -> Value {
    json!({
        "id": id,
        "type": event,
        "createdAt": created_at,
        "data": data,
    })
}

/// Whether an endpoint whose filter is `events` wants `event` (an empty
/// filter means every event webhooks carry).
pub fn wants(events: &[EventKind], event: EventKind) -> bool {
    event.goes_to_webhooks() && (events.is_empty() || events.contains(&event))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_shape() {
        let body = envelope(
            42,
            EventKind::LicenseRevoked,
            DateTime::UNIX_EPOCH,
            &json!({"installId": "i-1"}),
        );
        assert_eq!(body["id"], "ntf_42");
        assert_eq!(body["type"], "license.revoked");
        assert_eq!(body["createdAt"], "1970-01-01T00:00:00Z");
        assert_eq!(body["data"]["installId"], "i-1");
    }

    #[test]
    fn filters() {
        assert!(wants(&[], EventKind::UpsellFound));
        assert!(!wants(&[], EventKind::WebhookDisabled));
        assert!(wants(
            &[EventKind::LicenseRevoked],
            EventKind::LicenseRevoked
        ));
        assert!(!wants(
            &[EventKind::LicenseRevoked],
            EventKind::LicenseCreated
        ));
    }
}
