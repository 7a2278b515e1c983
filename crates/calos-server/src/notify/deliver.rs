//! Delivering claimed outbox rows: one e-mail or one webhook each, and the
//! outcome written back (sent, retry with exponential backoff, failed,
//! skipped). Delivery is at least once: a node that dies after sending but
//! before recording it leaves a claim whose lease runs out, and the row is
//! sent again — with the same delivery id (`X-Calos-Delivery`, and the
//! e-mail's Message-ID) for the receiver to drop the repeat.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use calos_core::ids::InstallId;
use calos_core::notify::recipients::{recipients, Audience};
use calos_core::notify::{backoff, message, webhook as envelope, EventKind, NewNotification};
use calos_store::{Channel, ClaimedDelivery, DeliveryOutcome, Store, StoreResult};

use super::email::{self, Look, Mailer};
use super::secret::WebhookSecrets;
use super::{webhook, NotifyConfig};

/// Deliveries claimed per round (sent concurrently).
const BATCH: u32 = 16;

/// Sends what the outbox holds.
pub struct Deliverer {
    store: Arc<dyn Store>,
    config: NotifyConfig,
    mailer: Option<Mailer>,
    secrets: WebhookSecrets,
}

impl Deliverer {
    pub fn new(
        store: Arc<dyn Store>,
        config: NotifyConfig,
        mailer: Option<Mailer>,
        secrets: WebhookSecrets,
    ) -> Self {
        Self {
            store,
            config,
            mailer,
            secrets,
        }
    }

    /// How long a claim is held: longer than one attempt can take (connect
    /// and send are each bounded by the delivery timeout). A node that dies
    /// leaves its claims to others after this.
    fn lease(&self) -> chrono::Duration {
        let attempt = self.config.delivery_timeout * 2 + std::time::Duration::from_secs(5);
        chrono::Duration::from_std(attempt).unwrap_or(chrono::Duration::minutes(5))
    }

    /// Claims and delivers one batch; returns how many were claimed.
    pub async fn round(&self) -> StoreResult<usize> {
        let claimed = self
            .store
            .claim_deliveries(Utc::now(), self.lease(), BATCH)
            .await?;
        let n = claimed.len();
        let results = futures::future::join_all(claimed.into_iter().map(|c| self.deliver(c))).await;
        for r in results {
            r?;
        }
        Ok(n)
    }

    async fn deliver(&self, c: ClaimedDelivery) -> StoreResult<()> {
        let outcome = match c.delivery.channel {
            Channel::Email => self.email(&c).await?,
            Channel::Webhook => self.webhook(&c).await?,
        };
        let now = Utc::now();
        let recorded = self
            .store
            .finish_delivery(c.delivery.id, c.delivery.claim_seq, &outcome, now)
            .await?;
        if !recorded {
            tracing::info!(
                delivery = c.delivery.id,
                "delivery was re-claimed or resent meanwhile"
            );
        }
        Ok(())
    }

    /// Retry later, or give up when the attempts are used up.
    fn failed(
        &self,
        attempts: u32,
        error: String,
        retry: bool,
        target: Option<String>,
    ) -> DeliveryOutcome {
        if retry && backoff::retries_left(attempts, self.config.max_attempts) {
            let delay =
                backoff::retry_delay(attempts, self.config.retry_base, self.config.retry_cap);
            let at = Utc::now()
                + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
            DeliveryOutcome::Retry { error, at, target }
        } else {
            DeliveryOutcome::Failed { error, target }
        }
    }

    async fn email(&self, c: &ClaimedDelivery) -> StoreResult<DeliveryOutcome> {
        let Some(mailer) = &self.mailer else {
            return Ok(DeliveryOutcome::Skipped {
                reason: "SMTP_URL is not set: e-mail notifications are off".to_owned(),
            });
        };
        let n = &c.notification;
        let vendor = self.vendor_addresses(n.install_id.as_deref()).await?;
        let subscribers = self.store.notify_subscribers().await?;
        let contact = n.data["customer"]["email"].as_str();
        let to = recipients(
            n.event,
            &Audience {
                vendor: &vendor,
                subscribers: &subscribers,
                customer_contact: contact,
                customer_events: &self.config.customer_events,
            },
        );
        if to.is_empty() {
            return Ok(DeliveryOutcome::Skipped {
                reason: "no recipient: set CALOS_NOTIFY_EMAIL or give an admin an e-mail"
                    .to_owned(),
            });
        }
        let look = self.look(n.install_id.as_deref()).await?;
        let content = message::compose(n.event, &n.data, &look.product);
        let target = Some(to.join(", "));
        let rendered = match email::render(&content, &look, n.event.as_str(), n.id) {
            Ok(r) => r,
            Err(e) => {
                return Ok(DeliveryOutcome::Failed {
                    error: format!("cannot render the e-mail: {e}"),
                    target,
                })
            }
        };
        Ok(match mailer.send(&to, &rendered, c.delivery.id).await {
            Ok(()) => DeliveryOutcome::Sent { target },
            Err(e) => self.failed(c.delivery.attempts, e.message, !e.permanent, target),
        })
    }

    /// The vendor side of a notification: the account owner of the
    /// customer it is about (when it has one that can be reached), else
    /// `CALOS_NOTIFY_EMAIL`, else the first enabled admin with an e-mail.
    async fn vendor_addresses(&self, install_id: Option<&str>) -> StoreResult<Vec<String>> {
        if let Some(id) = install_id.and_then(|raw| InstallId::parse(raw).ok()) {
            let owner = self.store.account_owner_of_install(&id).await?;
            if let Some(address) = owner.and_then(|o| o.email) {
                return Ok(vec![address]);
            }
        }
        if let Some(address) = &self.config.notify_email {
            return Ok(vec![address.clone()]);
        }
        let admins = self.store.list_admins().await?;
        Ok(admins
            .into_iter()
            .filter(|a| !a.disabled)
            .find_map(|a| a.email.filter(|e| !e.trim().is_empty()))
            .into_iter()
            .collect())
    }

    /// The license's branding when it has one, else the product default.
    async fn look(&self, install_id: Option<&str>) -> StoreResult<Look> {
        let Some(id) = install_id.and_then(|raw| InstallId::parse(raw).ok()) else {
            return Ok(Look::default());
        };
        Ok(match self.store.get_branding(&id).await? {
            Some(b) => Look {
                product: b.product_name.as_str().to_owned(),
                color: b.primary_color.as_str().to_owned(),
            },
            None => Look::default(),
        })
    }

    async fn webhook(&self, c: &ClaimedDelivery) -> StoreResult<DeliveryOutcome> {
        let Some((endpoint, salt)) = &c.endpoint else {
            return Ok(DeliveryOutcome::Skipped {
                reason: "the webhook endpoint no longer exists".to_owned(),
            });
        };
        if !endpoint.enabled {
            return Ok(DeliveryOutcome::Skipped {
                reason: "the webhook endpoint is disabled".to_owned(),
            });
        }
        let n = &c.notification;
        let body = envelope::envelope(n.id, n.event, n.created_at, &n.data).to_string();
        let secret = self.secrets.secret(salt);
        let request = webhook::Request {
            url: &endpoint.url,
            allow_private: endpoint.allow_private,
            secret: &secret,
            delivery_id: c.delivery.id.to_string(),
            event: n.event.as_str(),
            body: body.into_bytes(),
            timeout: self.config.delivery_timeout,
        };
        let target = Some(endpoint.url.clone());
        let result = webhook::send(&request).await;
        let now = Utc::now();
        let reason = format!(
            "{} failed attempts in a row",
            self.config.webhook_disable_after
        );
        let switched_off = self
            .store
            .record_endpoint_attempt(
                endpoint.id,
                result.is_ok(),
                self.config.webhook_disable_after,
                &reason,
                now,
            )
            .await?;
        if let Some(off) = switched_off {
            let error = result.as_ref().err().map(|f| f.message.clone());
            self.alert_disabled(&off, error, now).await?;
        }
        Ok(match result {
            Ok(_) => DeliveryOutcome::Sent { target },
            Err(f) => self.failed(c.delivery.attempts, f.message, f.retry, target),
        })
    }

    /// Tells the vendor (by e-mail) that an endpoint was switched off.
    async fn alert_disabled(
        &self,
        endpoint: &calos_store::WebhookEndpoint,
        last_error: Option<String>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        tracing::warn!(endpoint = endpoint.id, url = %endpoint.url, "webhook endpoint switched off after failing");
        let alert = NewNotification {
            event: EventKind::WebhookDisabled,
            dedupe_key: Some(format!(
                "webhook.disabled:{}:{}",
                endpoint.id,
                endpoint.updated_at.timestamp_micros()
            )),
            install_id: None,
            data: serde_json::json!({
                "endpointId": endpoint.id,
                "url": endpoint.url,
                "failures": endpoint.consecutive_failures,
                "lastError": last_error,
            }),
            created_at: now,
        };
        self.store.enqueue_notification(&alert).await?;
        Ok(())
    }
}
