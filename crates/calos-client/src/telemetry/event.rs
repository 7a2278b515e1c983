//! Events a host application tracks, built with a small builder and turned
//! into the wire shape (with a fresh `eventId`) when queued.

use calos_core::plan::Meter;
use calos_core::protocol::WireEvent;
use chrono::{DateTime, SecondsFormat, Utc};

use super::user::HashedUser;

/// The event types the server accepts (the protocol's own list).
pub use calos_core::telemetry::EventType;

/// One event to track. The user is a [`HashedUser`] so a raw id or e-mail
/// cannot be sent by mistake.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    kind: EventType,
    at: Option<DateTime<Utc>>,
    wire: WireEvent,
}

impl Event {
    pub fn new(kind: EventType) -> Self {
        Self {
            kind,
            at: None,
            wire: WireEvent {
                event_id: String::new(),
                event_type: kind.as_str().to_owned(),
                feature: None,
                user: None,
                session: None,
                ts: String::new(),
                user_agent: None,
                endpoint: None,
                duration_ms: None,
                status: None,
                error: None,
                meter: None,
                quantity: None,
                amount_minor: None,
                currency: None,
                props: serde_json::Map::new(),
            },
        }
    }

    /// A `feature_used` event for `feature`.
    pub fn feature_used(feature: &str) -> Self {
        Self::new(EventType::FeatureUsed).feature(feature)
    }

    /// A `usage` event: `quantity` units of `meter`.
    pub fn usage(meter: Meter, quantity: i64) -> Self {
        let mut e = Self::new(EventType::Usage);
        e.wire.meter = Some(meter.as_str().to_owned());
        e.wire.quantity = Some(quantity);
        e
    }

    pub fn kind(&self) -> EventType {
        self.kind
    }

    pub fn feature(mut self, feature: &str) -> Self {
        self.wire.feature = Some(feature.to_owned());
        self
    }

    pub fn user(mut self, user: &HashedUser) -> Self {
        self.wire.user = Some(user.as_str().to_owned());
        self
    }

    pub fn session(mut self, session: &str) -> Self {
        self.wire.session = Some(session.to_owned());
        self
    }

    pub fn user_agent(mut self, ua: &str) -> Self {
        self.wire.user_agent = Some(ua.to_owned());
        self
    }

    pub fn endpoint(mut self, endpoint: &str) -> Self {
        self.wire.endpoint = Some(endpoint.to_owned());
        self
    }

    pub fn duration_ms(mut self, ms: f64) -> Self {
        self.wire.duration_ms = Some(ms);
        self
    }

    pub fn status(mut self, status: u16) -> Self {
        self.wire.status = Some(status);
        self
    }

    pub fn error(mut self, error: &str) -> Self {
        self.wire.error = Some(error.to_owned());
        self
    }

    /// For money meters: the amount in minor units and its currency.
    pub fn amount(mut self, amount_minor: i64, currency: &str) -> Self {
        self.wire.amount_minor = Some(amount_minor);
        self.wire.currency = Some(currency.to_owned());
        self
    }

    /// A small flat property.
    pub fn prop(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.wire.props.insert(key.to_owned(), value.into());
        self
    }

    /// When it happened (default: when tracked).
    pub fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = Some(at);
        self
    }

    /// The wire form with a fresh random `eventId`; a retry re-sends this
    /// same id, so the server counts it once.
    pub(crate) fn into_wire(self, now: DateTime<Utc>) -> WireEvent {
        let mut wire = self.wire;
        wire.event_id = uuid::Uuid::new_v4().to_string();
        wire.ts = self
            .at
            .unwrap_or(now)
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        wire
    }
}
