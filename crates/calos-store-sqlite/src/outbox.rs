//! The notification outbox ([`OutboxStore`]) on SQLite. Every write runs in
//! a `BEGIN IMMEDIATE` transaction, which holds SQLite's single write lock:
//! a claim's select-and-update cannot interleave with another claim.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::notify::{self, EventKind, NewNotification, Subject};
use calos_core::plan::Meter;
use calos_store::{
    Channel, ClaimedDelivery, Delivery, DeliveryOutcome, DeliveryQuery, DeliveryStatus,
    DeliveryView, MeterTotal, Notification, OutboxStore, Page, StoreError, StoreResult,
    WebhookEndpoint, WebhookSettings,
};

use crate::db::{
    commit, corrupt, count, db_err, from_json, get, insert_audit, micros, opt_micros, opt_time,
    time, to_json, write_tx,
};
use crate::SqliteStore;

const DELIVERY_COLUMNS: &str = "d.id, d.notification_id, d.channel, d.endpoint_id, d.status, \
     d.attempts, d.claim_seq, d.next_attempt_at, d.lease_until, d.last_error, d.target, \
     d.sent_at, d.created_at, n.event, n.dedupe_key, n.install_id, n.data_json, \
     n.created_at AS n_created_at";

const ENDPOINT_COLUMNS: &str = "id, url, description, events_json, enabled, allow_private, \
     consecutive_failures, disabled_reason, created_at, updated_at";

/// Stores `new` and plans its deliveries inside the caller's transaction;
/// `None` when its deduplication key is taken.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'static, Sqlite>,
    new: &NewNotification,
) -> StoreResult<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO notifications (event, dedupe_key, install_id, data_json, created_at) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(new.event.as_str())
    .bind(&new.dedupe_key)
    .bind(&new.install_id)
    .bind(to_json(&new.data, "notification data")?)
    .bind(micros(new.created_at))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    let Some(id) = id else { return Ok(None) };
    let now = micros(new.created_at);
    insert_delivery(tx, id, Channel::Email, None, now).await?;
    if new.event.goes_to_webhooks() {
        let rows = sqlx::query("SELECT id, events_json FROM webhook_endpoints WHERE enabled = 1")
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
        for row in rows {
            let events: Vec<EventKind> = from_json(&get::<String>(&row, "events_json")?, "events")?;
            if notify::webhook::wants(&events, new.event) {
                insert_delivery(tx, id, Channel::Webhook, Some(get(&row, "id")?), now).await?;
            }
        }
    }
    Ok(Some(id))
}

async fn insert_delivery(
    tx: &mut Transaction<'static, Sqlite>,
    notification_id: i64,
    channel: Channel,
    endpoint_id: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO notification_deliveries (notification_id, channel, endpoint_id, status, \
         next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', ?, ?)",
    )
    .bind(notification_id)
    .bind(channel.as_str())
    .bind(endpoint_id)
    .bind(now)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Enqueues the notification an audited change announces, if any, in the
/// change's own transaction.
pub(crate) async fn enqueue_for_audit(
    tx: &mut Transaction<'static, Sqlite>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    if notify::change::event_for_action(&entry.target_type, &entry.action).is_none() {
        return Ok(());
    }
    let Some(install_id) = notify::change::subject_install(entry) else {
        return Ok(());
    };
    let row = sqlx::query(
        "SELECT l.install_id, l.plan_slug, c.name, c.email, c.company FROM licenses l \
         JOIN customers c ON c.id = l.customer_id WHERE l.install_id = ?",
    )
    .bind(install_id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    let Some(row) = row else { return Ok(()) };
    if let Some(new) = notify::change::from_audit(entry, &subject(&row)?) {
        enqueue(tx, &new).await?;
    }
    Ok(())
}

fn subject(row: &SqliteRow) -> StoreResult<Subject> {
    Ok(Subject {
        install_id: get(row, "install_id")?,
        customer_name: get(row, "name")?,
        customer_email: get(row, "email")?,
        company: get(row, "company")?,
        plan: get(row, "plan_slug")?,
    })
}

fn endpoint(row: &SqliteRow) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: get(row, "id")?,
        url: get(row, "url")?,
        description: get(row, "description")?,
        events: from_json(&get::<String>(row, "events_json")?, "webhook events")?,
        enabled: get(row, "enabled")?,
        allow_private: get(row, "allow_private")?,
        consecutive_failures: u32::try_from(get::<i64>(row, "consecutive_failures")?)
            .unwrap_or(u32::MAX),
        disabled_reason: get(row, "disabled_reason")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

fn view(row: &SqliteRow) -> StoreResult<DeliveryView> {
    let channel: String = get(row, "channel")?;
    let status: String = get(row, "status")?;
    let event: String = get(row, "event")?;
    Ok(DeliveryView {
        delivery: Delivery {
            id: get(row, "id")?,
            notification_id: get(row, "notification_id")?,
            channel: Channel::parse(&channel).map_err(|e| corrupt("channel", e))?,
            endpoint_id: get(row, "endpoint_id")?,
            status: DeliveryStatus::parse(&status).map_err(|e| corrupt("status", e))?,
            attempts: u32::try_from(get::<i64>(row, "attempts")?).unwrap_or(u32::MAX),
            claim_seq: get(row, "claim_seq")?,
            next_attempt_at: time(row, "next_attempt_at")?,
            lease_until: opt_time(row, "lease_until")?,
            last_error: get(row, "last_error")?,
            target: get(row, "target")?,
            sent_at: opt_time(row, "sent_at")?,
            created_at: time(row, "created_at")?,
        },
        notification: Notification {
            id: get(row, "notification_id")?,
            event: EventKind::parse(&event).map_err(|e| corrupt("event", e))?,
            dedupe_key: get(row, "dedupe_key")?,
            install_id: get(row, "install_id")?,
            data: from_json(&get::<String>(row, "data_json")?, "notification data")?,
            created_at: time(row, "n_created_at")?,
        },
    })
}

async fn view_by_id(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
) -> StoreResult<Option<DeliveryView>> {
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries d \
         JOIN notifications n ON n.id = d.notification_id WHERE d.id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    row.as_ref().map(view).transpose()
}

async fn endpoint_by_id(
    tx: &mut Transaction<'static, Sqlite>,
    id: i64,
) -> StoreResult<Option<(WebhookEndpoint, Vec<u8>)>> {
    let row = sqlx::query(&format!(
        "SELECT {ENDPOINT_COLUMNS}, secret_salt FROM webhook_endpoints WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    row.map(|r| Ok((endpoint(&r)?, get(&r, "secret_salt")?)))
        .transpose()
}

fn events_json(events: &[EventKind]) -> StoreResult<String> {
    to_json(&events, "webhook events")
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue_notification(&self, new: &NewNotification) -> StoreResult<Option<i64>> {
        let mut tx = write_tx(&self.pool).await?;
        let id = enqueue(&mut tx, new).await?;
        commit(tx).await?;
        Ok(id)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let mut tx = write_tx(&self.pool).await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE notification_deliveries SET status = 'sending', lease_until = ?1, \
             attempts = attempts + 1, claim_seq = claim_seq + 1 \
             WHERE id IN (SELECT id FROM notification_deliveries \
               WHERE (status = 'pending' AND next_attempt_at <= ?2) \
                  OR (status = 'sending' AND lease_until <= ?2) \
               ORDER BY next_attempt_at, id LIMIT ?3) \
             RETURNING id",
        )
        .bind(micros(now + lease))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(v) = view_by_id(&mut tx, id).await? else {
                continue;
            };
            let endpoint = match v.delivery.endpoint_id {
                Some(e) => endpoint_by_id(&mut tx, e).await?,
                None => None,
            };
            claimed.push(ClaimedDelivery {
                delivery: v.delivery,
                notification: v.notification,
                endpoint,
            });
        }
        commit(tx).await?;
        claimed.sort_by_key(|c| (c.delivery.next_attempt_at, c.delivery.id));
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        id: i64,
        claim_seq: i64,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (status, next, error, target, sent_at) = match outcome {
            DeliveryOutcome::Sent { target } => ("sent", None, None, target.clone(), Some(now)),
            DeliveryOutcome::Retry { error, at, target } => (
                "pending",
                Some(*at),
                Some(error.clone()),
                target.clone(),
                None,
            ),
            DeliveryOutcome::Failed { error, target } => {
                ("failed", None, Some(error.clone()), target.clone(), None)
            }
            DeliveryOutcome::Skipped { reason } => {
                ("skipped", None, Some(reason.clone()), None, None)
            }
        };
        let mut tx = write_tx(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE notification_deliveries SET status = ?, \
             next_attempt_at = COALESCE(?, next_attempt_at), lease_until = NULL, \
             last_error = ?, target = COALESCE(?, target), sent_at = ? \
             WHERE id = ? AND status = 'sending' AND claim_seq = ?",
        )
        .bind(status)
        .bind(opt_micros(next))
        .bind(error)
        .bind(target)
        .bind(opt_micros(sent_at))
        .bind(id)
        .bind(claim_seq)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        commit(tx).await?;
        Ok(done == 1)
    }

    async fn record_endpoint_attempt(
        &self,
        endpoint_id: i64,
        success: bool,
        disable_after: u32,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookEndpoint>> {
        let mut tx = write_tx(&self.pool).await?;
        if success {
            sqlx::query("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?")
                .bind(endpoint_id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            commit(tx).await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 \
             WHERE id = ?",
        )
        .bind(endpoint_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let row = sqlx::query(&format!(
            "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? \
             WHERE id = ? AND enabled = 1 AND consecutive_failures >= ? \
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(reason)
        .bind(micros(now))
        .bind(endpoint_id)
        .bind(i64::from(disable_after.max(1)))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let disabled = row.as_ref().map(endpoint).transpose()?;
        commit(tx).await?;
        Ok(disabled)
    }

    async fn list_deliveries(&self, q: &DeliveryQuery) -> StoreResult<Page<DeliveryView>> {
        let filter = "WHERE (?1 IS NULL OR d.status = ?1) AND (?2 IS NULL OR d.channel = ?2) \
             AND (?3 IS NULL OR d.endpoint_id = ?3) AND (?4 IS NULL OR n.install_id = ?4)";
        let status = q.status.map(DeliveryStatus::as_str);
        let channel = q.channel.map(Channel::as_str);
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id {filter}"
        ))
        .bind(status)
        .bind(channel)
        .bind(q.endpoint_id)
        .bind(&q.install_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id {filter} \
             ORDER BY d.id DESC LIMIT ?5 OFFSET ?6"
        ))
        .bind(status)
        .bind(channel)
        .bind(q.endpoint_id)
        .bind(&q.install_id)
        .bind(i64::from(q.per_page()))
        .bind(q.offset())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(Page {
            items: rows.iter().map(view).collect::<StoreResult<_>>()?,
            total: count(total),
            page: q.page(),
            per_page: q.per_page(),
        })
    }

    async fn get_delivery(&self, id: i64) -> StoreResult<Option<DeliveryView>> {
        let row = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries d \
             JOIN notifications n ON n.id = d.notification_id WHERE d.id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(view).transpose()
    }

    async fn resend_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<DeliveryView> {
        let mut tx = write_tx(&self.pool).await?;
        let changed = sqlx::query(
            "UPDATE notification_deliveries SET status = 'pending', next_attempt_at = ?, \
             lease_until = NULL, attempts = 0, claim_seq = claim_seq + 1 WHERE id = ?",
        )
        .bind(micros(now))
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound("notification"));
        }
        let v = view_by_id(&mut tx, id)
            .await?
            .ok_or(StoreError::NotFound("notification"))?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(v)
    }

    async fn create_webhook(
        &self,
        s: &WebhookSettings,
        audit: &AuditEntry,
    ) -> StoreResult<WebhookEndpoint> {
        let salt = s
            .secret_salt
            .clone()
            .ok_or_else(|| StoreError::Backend("a new webhook needs a secret salt".into()))?;
        let mut tx = write_tx(&self.pool).await?;
        let row = sqlx::query(&format!(
            "INSERT INTO webhook_endpoints (url, description, events_json, enabled, \
             allow_private, secret_salt, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&s.url)
        .bind(&s.description)
        .bind(events_json(&s.events)?)
        .bind(s.enabled)
        .bind(s.allow_private)
        .bind(salt)
        .bind(micros(s.now))
        .bind(micros(s.now))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let created = endpoint(&row)?;
        let mut audit = audit.clone();
        audit.target_id = created.id.to_string();
        insert_audit(&mut tx, &audit).await?;
        commit(tx).await?;
        Ok(created)
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<WebhookEndpoint>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(endpoint).collect()
    }

    async fn get_webhook(&self, id: i64) -> StoreResult<Option<WebhookEndpoint>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(endpoint).transpose()
    }

    async fn update_webhook(
        &self,
        id: i64,
        s: &WebhookSettings,
        audit: &AuditEntry,
    ) -> StoreResult<WebhookEndpoint> {
        let mut tx = write_tx(&self.pool).await?;
        let row = sqlx::query(&format!(
            "UPDATE webhook_endpoints SET url = ?1, description = ?2, events_json = ?3, \
             consecutive_failures = CASE WHEN ?4 AND enabled = 0 THEN 0 \
               ELSE consecutive_failures END, \
             disabled_reason = CASE WHEN ?4 THEN NULL ELSE disabled_reason END, \
             enabled = ?4, allow_private = ?5, secret_salt = COALESCE(?6, secret_salt), \
             updated_at = ?7 WHERE id = ?8 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&s.url)
        .bind(&s.description)
        .bind(events_json(&s.events)?)
        .bind(s.enabled)
        .bind(s.allow_private)
        .bind(&s.secret_salt)
        .bind(micros(s.now))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("webhook endpoint"))?;
        let updated = endpoint(&row)?;
        insert_audit(&mut tx, audit).await?;
        commit(tx).await?;
        Ok(updated)
    }

    async fn delete_webhook(&self, id: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound("webhook endpoint"));
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn current_meter_totals(&self) -> StoreResult<Vec<MeterTotal>> {
        let rows = sqlx::query(
            "SELECT l.install_id, l.plan_slug, c.name, c.email, c.company, t.meter, \
             t.period_start, t.quantity FROM licenses l \
             JOIN customers c ON c.id = l.customer_id \
             JOIN usage_period_totals t ON t.install_id = l.install_id \
              AND t.period_start = l.current_period_start \
             WHERE l.status IN ('trial', 'active') ORDER BY l.install_id, t.meter",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let meter: String = get(row, "meter")?;
                Ok(MeterTotal {
                    subject: subject(row)?,
                    meter: Meter::parse(&meter).map_err(|e| corrupt("meter", e))?,
                    period_start: time(row, "period_start")?,
                    quantity: get(row, "quantity")?,
                })
            })
            .collect()
    }

    async fn notify_subscriptions(&self, admin_id: i64) -> StoreResult<Vec<EventKind>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT event FROM notify_subscriptions WHERE admin_id = ? ORDER BY event",
        )
        .bind(admin_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|e| EventKind::parse(e).map_err(|err| corrupt("event", err)))
            .collect()
    }

    async fn set_notify_subscriptions(
        &self,
        admin_id: i64,
        events: &[EventKind],
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let mut tx = write_tx(&self.pool).await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM admins WHERE id = ?")
            .bind(admin_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound("admin"));
        }
        sqlx::query("DELETE FROM notify_subscriptions WHERE admin_id = ?")
            .bind(admin_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for event in events {
            sqlx::query(
                "INSERT INTO notify_subscriptions (admin_id, event) VALUES (?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(admin_id)
            .bind(event.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        insert_audit(&mut tx, audit).await?;
        commit(tx).await
    }

    async fn notify_subscribers(&self) -> StoreResult<Vec<(String, Vec<EventKind>)>> {
        let rows = sqlx::query(
            "SELECT a.email, s.event FROM notify_subscriptions s JOIN admins a ON a.id = s.admin_id \
             WHERE a.disabled = 0 AND a.email IS NOT NULL AND a.email <> '' ORDER BY a.id, s.event",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: Vec<(String, Vec<EventKind>)> = Vec::new();
        for row in &rows {
            let email: String = get(row, "email")?;
            let event: String = get(row, "event")?;
            let event = EventKind::parse(&event).map_err(|e| corrupt("event", e))?;
            match out.last_mut() {
                Some((last, events)) if *last == email => events.push(event),
                _ => out.push((email, vec![event])),
            }
        }
        Ok(out)
    }
}
