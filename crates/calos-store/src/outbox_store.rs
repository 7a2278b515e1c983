//! The notification outbox (issue 10): notifications written in the same
//! transaction as the change that causes them, one delivery per channel
//! (e-mail, each matching webhook endpoint), claimed by delivery workers
//! with a lease so several server nodes never send one delivery at once,
//! and the webhook endpoints themselves.
//!
//! Delivery states: `pending` (due at `next_attempt_at`) → `sending`
//! (claimed until `lease_until`; a claim whose lease ran out — its node
//! died — is due again) → `sent`, `pending` again (retry with backoff),
//! `failed` (gave up) or `skipped` (nothing to deliver through, e.g. no
//! SMTP server configured). Each claim increments `attempts` and the
//! delivery's claim sequence; finishing a delivery names the claim it
//! finishes, so a node whose lease ran out cannot overwrite the outcome of
//! the node that took over. A resend starts the attempts over.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use calos_core::audit::AuditEntry;
use calos_core::notify::{EventKind, NewNotification, Subject};
use calos_core::plan::Meter;
use calos_core::InvalidValue;

use crate::{Page, StoreResult};

/// How a delivery reaches its destination.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw {
            "email" => Ok(Channel::Email),
            "webhook" => Ok(Channel::Webhook),
            other => Err(InvalidValue::new(
                "channel",
                format!("must be email or webhook, not {other:?}"),
            )),
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Sending,
    Sent,
    Failed,
    Skipped,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Sending,
        DeliveryStatus::Sent,
        DeliveryStatus::Failed,
        DeliveryStatus::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Skipped => "skipped",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                InvalidValue::new(
                    "status",
                    format!("unknown status {raw:?} (pending, sending, sent, failed, skipped)"),
                )
            })
    }
}

/// A stored notification: one event, delivered through one or more channels.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub event: EventKind,
    pub dedupe_key: Option<String>,
    pub install_id: Option<String>,
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

/// One notification on its way through one channel.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: i64,
    pub notification_id: i64,
    pub channel: Channel,
    /// The webhook endpoint, for webhook deliveries.
    pub endpoint_id: Option<i64>,
    pub status: DeliveryStatus,
    /// Attempts since it was enqueued or last resent (each claim is one).
    pub attempts: u32,
    /// Bumped by every claim and resend: the fence of [`OutboxStore::finish_delivery`].
    #[serde(skip)]
    pub claim_seq: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Where it went last: the e-mail recipients or the webhook URL.
    pub target: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A delivery with its notification, for lists and the delivery worker.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    #[serde(flatten)]
    pub delivery: Delivery,
    pub notification: Notification,
}

/// A claimed delivery: what the worker needs to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub notification: Notification,
    /// The endpoint (with its secret's salt) of a webhook delivery; `None`
    /// for e-mail.
    pub endpoint: Option<(WebhookEndpoint, Vec<u8>)>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Sent {
        target: Option<String>,
    },
    /// Failed; try again at `at`.
    Retry {
        error: String,
        at: DateTime<Utc>,
        target: Option<String>,
    },
    /// Failed for good (attempts used up, or the destination refused).
    Failed {
        error: String,
        target: Option<String>,
    },
    /// Nothing to send through (no SMTP server, no recipient, endpoint gone).
    Skipped {
        reason: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    pub channel: Option<Channel>,
    pub endpoint_id: Option<i64>,
    pub install_id: Option<String>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl DeliveryQuery {
    pub fn page(&self) -> u32 {
        self.page.max(1)
    }

    /// 1 to 200, default 50.
    pub fn per_page(&self) -> u32 {
        if self.per_page == 0 {
            50
        } else {
            self.per_page.min(200)
        }
    }

    pub fn offset(&self) -> i64 {
        i64::from(self.page() - 1) * i64::from(self.per_page())
    }
}

/// A vendor-configured webhook endpoint (its secret is never listed).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Webhook))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    /// Events it receives; empty: every event webhooks carry.
    pub events: Vec<EventKind>,
    pub enabled: bool,
    /// Private, loopback and link-local destinations allowed (set by an admin).
    pub allow_private: bool,
    pub consecutive_failures: u32,
    /// Why it was switched off automatically, if it was.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An endpoint to create, or the full new settings of one (`PUT`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub url: String,
    pub description: Option<String>,
    pub events: Vec<EventKind>,
    pub enabled: bool,
    pub allow_private: bool,
    /// A new secret salt (create, or rotate on update); `None` keeps the old one.
    pub secret_salt: Option<Vec<u8>>,
    pub now: DateTime<Utc>,
}

/// A metered meter's total in a usable license's current billing period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterTotal {
    pub subject: Subject,
    pub meter: Meter,
    pub period_start: DateTime<Utc>,
    pub quantity: i64,
}

/// Part of [`Store`](crate::Store).
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Stores a notification and plans its deliveries (one e-mail, one per
    /// enabled webhook endpoint whose filter wants the event), all due now.
    /// With a deduplication key already stored, nothing is written and
    /// `None` is returned (insert-or-ignore: safe from several nodes).
    async fn enqueue_notification(&self, new: &NewNotification) -> StoreResult<Option<i64>>;

    /// Claims up to `limit` due deliveries (pending and due, or sending with
    /// a lease that ran out), oldest due first: each becomes `sending` until
    /// `now + lease` with one more attempt. Concurrent claimers never get
    /// the same delivery.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>>;

    /// Records how the claim `claim_seq` of a delivery ended. `false`
    /// (nothing written) when the delivery is no longer that claim: its
    /// lease ran out and another claim took it, or it was resent.
    async fn finish_delivery(
        &self,
        id: i64,
        claim_seq: i64,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Counts a webhook attempt against its endpoint: success resets the
    /// consecutive failures, a failure adds one; reaching `disable_after`
    /// switches an enabled endpoint off with `reason`. Returns the endpoint
    /// when this call switched it off (so the caller alerts once).
    async fn record_endpoint_attempt(
        &self,
        endpoint_id: i64,
        success: bool,
        disable_after: u32,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookEndpoint>>;

    /// Deliveries with their notifications, newest first.
    async fn list_deliveries(&self, query: &DeliveryQuery) -> StoreResult<Page<DeliveryView>>;

    async fn get_delivery(&self, id: i64) -> StoreResult<Option<DeliveryView>>;

    /// Makes a delivery due again now (whatever its state; a running claim
    /// is fenced off). `NotFound` for an unknown id.
    async fn resend_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<DeliveryView>;

    async fn create_webhook(
        &self,
        settings: &WebhookSettings,
        audit: &AuditEntry,
    ) -> StoreResult<WebhookEndpoint>;
    /// By id.
    async fn list_webhooks(&self) -> StoreResult<Vec<WebhookEndpoint>>;
    async fn get_webhook(&self, id: i64) -> StoreResult<Option<WebhookEndpoint>>;
    /// Replaces an endpoint's settings; enabling it clears its failure count
    /// and disabled reason. `NotFound` for an unknown id.
    async fn update_webhook(
        &self,
        id: i64,
        settings: &WebhookSettings,
        audit: &AuditEntry,
    ) -> StoreResult<WebhookEndpoint>;
    /// Deletes an endpoint and its deliveries. `NotFound` for an unknown id.
    async fn delete_webhook(&self, id: i64, audit: &AuditEntry) -> StoreResult<()>;

    /// Metered totals of every trial or active license's current billing
    /// period, with the license's customer: one statement for all.
    async fn current_meter_totals(&self) -> StoreResult<Vec<MeterTotal>>;

    /// The events an admin asked to be e-mailed about.
    async fn notify_subscriptions(&self, admin_id: i64) -> StoreResult<Vec<EventKind>>;
    /// Replaces an admin's subscriptions. `NotFound` for an unknown admin.
    async fn set_notify_subscriptions(
        &self,
        admin_id: i64,
        events: &[EventKind],
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Every enabled admin with an e-mail and at least one subscription.
    async fn notify_subscribers(&self) -> StoreResult<Vec<(String, Vec<EventKind>)>>;
}
