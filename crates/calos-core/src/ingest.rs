//! Validation of telemetry as deployments send it: one raw JSON event in,
//! an accepted [`TelemetryEvent`] (plus the [`UsageRecord`] it meters, if
//! any) or the reason it was refused. Each event is judged on its own so a
//! bad event never costs the good ones in the same batch.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use crate::ids::InstallId;
use crate::money::Currency;
use crate::plan::UsageType;
use crate::telemetry::{EventType, TelemetryEvent, UsageRecord};

/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 1_000;
/// Largest request body of one batch, in bytes (1 MiB).
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Largest `props` object of one event, as compact JSON (8 KiB).
pub const MAX_PROPS_BYTES: usize = 8 * 1024;
/// How far ahead of the server's clock an event may be (device clocks drift).
pub const MAX_FUTURE_SKEW: Duration = Duration::hours(1);
/// Largest quantity one `usage` event may carry.
pub const MAX_USAGE_QUANTITY: i64 = 1_000_000;
/// Longest duration accepted (one day); anything longer is a client bug.
pub const MAX_DURATION_MS: f64 = 86_400_000.0;

const FIELDS: [&str; 16] = [
    "eventId",
    "type",
    "feature",
    "user",
    "session",
    "ts",
    "userAgent",
    "endpoint",
    "durationMs",
    "status",
    "error",
    "meter",
    "quantity",
    "amountMinor",
    "currency",
    "props",
];

/// What the ingest rules need besides the event itself.
#[derive(Debug, Clone)]
pub struct IngestContext {
    pub install_id: InstallId,
    pub now: DateTime<Utc>,
    /// Raw events are kept this long; older ones are refused.
    pub retention: Duration,
    /// The plan's currency: money usage in any other currency is refused.
    pub currency: Currency,
}

/// Why one event was refused. `code()` is stable for clients to switch on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    NotAnObject,
    UnknownField(String),
    InvalidEventId(String),
    UnknownType(String),
    InvalidField {
        field: &'static str,
        message: String,
    },
    InvalidTimestamp(String),
    TimestampInFuture,
    TimestampTooOld {
        retention_days: i64,
    },
    InvalidDuration(String),
    PropsTooLarge {
        bytes: usize,
    },
    PropsNotFlat(String),
    InvalidUsage(String),
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NotAnObject => "not_an_object",
            Reason::UnknownField(_) => "unknown_field",
            Reason::InvalidEventId(_) => "invalid_event_id",
            Reason::UnknownType(_) => "unknown_type",
            Reason::InvalidField { .. } => "invalid_field",
            Reason::InvalidTimestamp(_) => "invalid_timestamp",
            Reason::TimestampInFuture => "timestamp_in_future",
            Reason::TimestampTooOld { .. } => "timestamp_too_old",
            Reason::InvalidDuration(_) => "invalid_duration",
            Reason::PropsTooLarge { .. } => "props_too_large",
            Reason::PropsNotFlat(_) => "props_not_flat",
            Reason::InvalidUsage(_) => "invalid_usage",
        }
    }
}

impl fmt::Display for Reason {
    /// `code: explanation`, the `reason` string of a rejected event.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        match self {
            Reason::NotAnObject => f.write_str("an event must be a JSON object"),
            Reason::UnknownField(name) => write!(f, "unknown field {name:?}"),
            Reason::InvalidEventId(m) => f.write_str(m),
            Reason::UnknownType(t) => write!(
                f,
                "unknown event type {t:?} (page_view, feature_used, api_call, usage, session_start, session_end, error, custom)"
            ),
            Reason::InvalidField { field, message } => write!(f, "{field} {message}"),
            Reason::InvalidTimestamp(m) => write!(f, "ts {m}"),
            Reason::TimestampInFuture => write!(
                f,
                "ts is more than {} minutes in the future",
                MAX_FUTURE_SKEW.num_minutes()
            ),
            Reason::TimestampTooOld { retention_days } => write!(
                f,
                "ts is older than the {retention_days}-day retention window"
            ),
            Reason::InvalidDuration(m) => write!(f, "durationMs {m}"),
            Reason::PropsTooLarge { bytes } => write!(
                f,
                "props is {bytes} bytes, over the {MAX_PROPS_BYTES}-byte limit"
            ),
            Reason::PropsNotFlat(key) => write!(
                f,
                "props must be flat: {key:?} holds an object or array"
            ),
            Reason::InvalidUsage(m) => f.write_str(m),
        }
    }
}

/// One accepted event, with the usage it meters (`usage` events, and one
/// API request per `api_call`).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidEvent {
    pub event: TelemetryEvent,
    pub usage: Option<UsageRecord>,
}

/// The client-made id of a raw event, if it has a string one (for echoing in
/// a rejection even when the rest is bad).
pub fn event_id_of(raw: &Value) -> Option<String> {
    raw.get("eventId")
        .and_then(Value::as_str)
        .map(|s| s.chars().take(128).collect())
}

/// Judges one raw event.
pub fn validate(raw: &Value, ctx: &IngestContext) -> Result<ValidEvent, Reason> {
    let obj = raw.as_object().ok_or(Reason::NotAnObject)?;
    if let Some(unknown) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Reason::UnknownField(unknown.chars().take(64).collect()));
    }
    let event_id = match obj.get("eventId") {
        Some(Value::String(s)) if valid_id(s) => s.clone(),
        Some(Value::String(_)) => {
            return Err(Reason::InvalidEventId(
                "eventId must be 1-128 printable ASCII characters".into(),
            ))
        }
        _ => return Err(Reason::InvalidEventId("eventId is required".into())),
    };
    let raw_type = match obj.get("type") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(Reason::UnknownType(String::new())),
    };
    let event_type = EventType::parse(raw_type)
        .map_err(|_| Reason::UnknownType(raw_type.chars().take(64).collect()))?;
    let ts = timestamp(obj, ctx)?;
    let duration_ms = duration(obj.get("durationMs"))?;
    let status = match obj.get("status") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if (100..=599).contains(&n) => u16::try_from(n).ok(),
            _ => return Err(invalid("status", "must be an HTTP status from 100 to 599")),
        },
    };
    let props = props(obj.get("props"))?;
    let event = TelemetryEvent {
        install_id: ctx.install_id.clone(),
        event_id,
        event_type,
        feature: text(obj, "feature", 64)?,
        user: text(obj, "user", 128)?,
        session: text(obj, "session", 128)?,
        ts,
        user_agent: text(obj, "userAgent", 512)?,
        endpoint: text(obj, "endpoint", 512)?,
        duration_ms,
        status,
        error: text(obj, "error", 1024)?,
        props,
    };
    let usage = usage(obj, &event, ctx)?;
    Ok(ValidEvent { event, usage })
}

/// The outcome of judging a whole batch: accepted events (first occurrence
/// of each id), how many repeated an id already in the batch, and each
/// refusal with its position.
#[derive(Debug, Default)]
pub struct BatchVerdict {
    pub valid: Vec<ValidEvent>,
    pub duplicates_in_batch: u64,
    pub rejected: Vec<(usize, Option<String>, Reason)>,
}

pub fn validate_batch(events: &[Value], ctx: &IngestContext) -> BatchVerdict {
    let mut verdict = BatchVerdict::default();
    let mut seen = HashSet::with_capacity(events.len());
    for (index, raw) in events.iter().enumerate() {
        match validate(raw, ctx) {
            Ok(valid) => {
                if seen.insert(valid.event.event_id.clone()) {
                    verdict.valid.push(valid);
                } else {
                    verdict.duplicates_in_batch += 1;
                }
            }
            Err(reason) => verdict.rejected.push((index, event_id_of(raw), reason)),
        }
    }
    verdict
}

fn invalid(field: &'static str, message: &str) -> Reason {
    Reason::InvalidField {
        field,
        message: message.to_owned(),
    }
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic())
}

/// An optional string of at most `max` characters, without control
/// characters; an empty string counts as absent.
fn text(
    obj: &Map<String, Value>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, Reason> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => {
            if s.chars().count() > max {
                Err(invalid(field, &format!("must be at most {max} characters")))
            } else if s.chars().any(char::is_control) {
                Err(invalid(field, "must not contain control characters"))
            } else {
                Ok(Some(s.clone()))
            }
        }
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

fn timestamp(obj: &Map<String, Value>, ctx: &IngestContext) -> Result<DateTime<Utc>, Reason> {
    let raw = match obj.get("ts") {
        Some(Value::String(s)) => s,
        Some(_) => {
            return Err(Reason::InvalidTimestamp(
                "must be an RFC 3339 string".into(),
            ))
        }
        None => return Err(Reason::InvalidTimestamp("is required".into())),
    };
    let ts = DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            Reason::InvalidTimestamp(format!("{:?} is not an RFC 3339 time", truncate(raw)))
        })?
        .with_timezone(&Utc);
    if ts > ctx.now + MAX_FUTURE_SKEW {
        return Err(Reason::TimestampInFuture);
    }
    if ts < ctx.now - ctx.retention {
        return Err(Reason::TimestampTooOld {
            retention_days: ctx.retention.num_days(),
        });
    }
    Ok(ts)
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A duration in milliseconds: a finite, non-negative number (fractions are
/// rounded). JSON itself cannot carry NaN, so a NaN arrives as a string.
fn duration(v: Option<&Value>) -> Result<Option<u32>, Reason> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let ms = n
                .as_f64()
                .ok_or_else(|| Reason::InvalidDuration("must be a number".into()))?;
            if !ms.is_finite() {
                Err(Reason::InvalidDuration("must be a finite number".into()))
            } else if ms < 0.0 {
                Err(Reason::InvalidDuration("must not be negative".into()))
            } else if ms > MAX_DURATION_MS {
                Err(Reason::InvalidDuration("must be at most one day".into()))
            } else {
                // In range 0..=86_400_000 after the checks above.
                Ok(Some(ms.round() as u32))
            }
        }
        Some(other) => Err(Reason::InvalidDuration(format!(
            "must be a number, not {}",
            truncate(&other.to_string())
        ))),
    }
}

fn props(v: Option<&Value>) -> Result<Map<String, Value>, Reason> {
    let map = match v {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(invalid("props", "must be an object")),
    };
    if let Some((key, _)) = map.iter().find(|(_, v)| v.is_object() || v.is_array()) {
        return Err(Reason::PropsNotFlat(key.chars().take(64).collect()));
    }
    let bytes = serde_json::to_vec(map)
        .map(|b| b.len())
        .unwrap_or(usize::MAX);
    if bytes > MAX_PROPS_BYTES {
        return Err(Reason::PropsTooLarge { bytes });
    }
    Ok(map.clone())
}

/// What an event meters: a `usage` event its meter, an `api_call` one API
/// request. Any other type must not carry usage fields.
fn usage(
    obj: &Map<String, Value>,
    event: &TelemetryEvent,
    ctx: &IngestContext,
) -> Result<Option<UsageRecord>, Reason> {
    let has_usage_fields = ["meter", "quantity", "amountMinor", "currency"]
        .iter()
        .any(|k| obj.get(*k).is_some_and(|v| !v.is_null()));
    let record = |usage_type, quantity, amount_minor| UsageRecord {
        install_id: ctx.install_id.clone(),
        usage_type,
        quantity,
        amount_minor,
        at: event.ts,
    };
    match event.event_type {
        EventType::Usage => {}
        EventType::ApiCall if !has_usage_fields => {
            return Ok(Some(record(UsageType::ApiRequest, 1, None)))
        }
        _ if has_usage_fields => {
            return Err(Reason::InvalidUsage(
                "meter, quantity, amountMinor and currency belong on usage events".into(),
            ))
        }
        _ => return Ok(None),
    }
    let meter = match obj.get("meter") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err(Reason::InvalidUsage("a usage event needs a meter".into())),
    };
    // The POS channel rides in `props.channel` (the wire event has no field for it).
    let channel = match event.props.get("channel") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(invalid(
                "props.channel",
                "must be \"in_person\" or \"online\"",
            ))
        }
    };
    let usage_type = usage_type_of(meter, channel)?;
    let quantity = match obj.get("quantity") {
        None | Some(Value::Null) => 1,
        Some(v) => match v.as_i64() {
            Some(q) if (1..=MAX_USAGE_QUANTITY).contains(&q) => q,
            _ => {
                return Err(Reason::InvalidUsage(format!(
                    "quantity must be a whole number from 1 to {MAX_USAGE_QUANTITY}"
                )))
            }
        },
    };
    let money = matches!(
        usage_type,
        UsageType::PosInPerson | UsageType::PosOnline | UsageType::Crypto
    );
    let amount = obj.get("amountMinor").filter(|v| !v.is_null());
    let currency = obj.get("currency").filter(|v| !v.is_null());
    let amount_minor = if money {
        let amount = amount
            .and_then(Value::as_i64)
            .filter(|a| *a >= 0)
            .ok_or_else(|| {
                Reason::InvalidUsage(format!(
                    "meter {meter} needs amountMinor, a whole non-negative number of minor units"
                ))
            })?;
        let code = currency
            .and_then(Value::as_str)
            .and_then(|c| Currency::parse(c).ok())
            .ok_or_else(|| Reason::InvalidUsage(format!("meter {meter} needs a currency")))?;
        if code != ctx.currency {
            return Err(Reason::InvalidUsage(format!(
                "currency {} is not the plan's currency {}",
                code.as_str(),
                ctx.currency.as_str()
            )));
        }
        Some(amount)
    } else {
        if amount.is_some() || currency.is_some() {
            return Err(Reason::InvalidUsage(format!(
                "meter {meter} does not take amountMinor or currency"
            )));
        }
        None
    };
    Ok(Some(record(usage_type, quantity, amount_minor)))
}

/// Maps a meter (or a usage type's own name) to the usage type it records.
/// Both POS channels share the `pos_transactions` meter; `props.channel` picks one.
fn usage_type_of(meter: &str, channel: Option<&str>) -> Result<UsageType, Reason> {
    let pos = |c: Option<&str>| match c {
        None | Some("in_person") => Ok(UsageType::PosInPerson),
        Some("online") => Ok(UsageType::PosOnline),
        Some(other) => Err(Reason::InvalidUsage(format!(
            "channel must be \"in_person\" or \"online\", not {:?}",
            truncate(other)
        ))),
    };
    let kind = match meter {
        "transcripts" | "transcript" => UsageType::Transcript,
        "pos_transactions" => pos(channel)?,
        "pos_in_person" => UsageType::PosInPerson,
        "pos_online" => UsageType::PosOnline,
        "crypto_charges" | "crypto" => UsageType::Crypto,
        "locations" | "location" => UsageType::Location,
        "api_requests" | "api_request" => UsageType::ApiRequest,
        "seats" | "domains" => {
            return Err(Reason::InvalidUsage(format!(
                "meter {meter} is counted by the server (distinct users, domains seen by verify), not reported"
            )))
        }
        other => {
            return Err(Reason::InvalidUsage(format!(
                "unknown meter {:?} (transcripts, pos_transactions, crypto_charges, locations, api_requests)",
                truncate(other)
            )))
        }
    };
    Ok(kind)
}

#[cfg(test)]
mod tests;
