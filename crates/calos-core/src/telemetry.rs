//! Telemetry events and metered usage as stored. Parsing and validation of
//! what deployments send belongs to the ingest path; these are the accepted forms.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::InstallId;
use crate::plan::UsageType;
use crate::InvalidValue;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    PageView,
    FeatureUsed,
    ApiCall,
    Usage,
    SessionStart,
    SessionEnd,
    Error,
    Custom,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::PageView,
        EventType::FeatureUsed,
        EventType::ApiCall,
        EventType::Usage,
        EventType::SessionStart,
        EventType::SessionEnd,
        EventType::Error,
        EventType::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PageView => "page_view",
            EventType::FeatureUsed => "feature_used",
            EventType::ApiCall => "api_call",
            EventType::Usage => "usage",
            EventType::SessionStart => "session_start",
            EventType::SessionEnd => "session_end",
            EventType::Error => "error",
            EventType::Custom => "custom",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == raw)
            .ok_or_else(|| InvalidValue::new("type", format!("unknown event type {raw:?}")))
    }
}

/// One accepted telemetry event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryEvent {
    pub install_id: InstallId,
    /// Client-made id: a retried batch never counts twice.
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub feature: Option<String>,
    /// Opaque user id, hashed by the SDK.
    pub user: Option<String>,
    pub session: Option<String>,
    pub ts: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub endpoint: Option<String>,
    pub duration_ms: Option<u32>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub props: serde_json::Map<String, serde_json::Value>,
}

/// One metered usage record (a transcript made, a POS sale, API requests).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageRecord {
    pub install_id: InstallId,
    pub usage_type: UsageType,
    pub quantity: i64,
    /// Money amount for POS and crypto usage, in minor units.
    pub amount_minor: Option<i64>,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_round_trips() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Ok(t));
        }
        assert!(EventType::parse("forum_post").is_err());
    }
}
