//! The notification outbox ([`OutboxStore`]) on PostgreSQL. Claims take due
//! rows `FOR UPDATE SKIP LOCKED`, so any number of server nodes claim at
//! once without waiting on each other and never get the same delivery.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::notify::{self, EventKind, NewNotification, Subject};
use calos_core::plan::Meter;
use calos_store::{
    Channel, ClaimedDelivery, Delivery, DeliveryOutcome, DeliveryQuery, DeliveryStatus,
    DeliveryView, MeterTotal, Notification, OutboxStore, Page, StoreError, StoreResult,
    WebhookEndpoint, WebhookSettings,
};

use crate::error::{corrupt, DbResultExt};
use crate::rows::{from_json, to_json};
use crate::PostgresStore;

const DELIVERY_COLUMNS: &str = "d.id, d.notification_id, d.channel, d.endpoint_id, d.status, \
     d.attempts, d.claim_seq, d.next_attempt_at, d.lease_until, d.last_error, d.target, \
     d.sent_at, d.created_at, n.event, n.dedupe_key, n.install_id, n.data, \
     n.created_at AS n_created_at";

const ENDPOINT_COLUMNS: &str = "id, url, description, events, enabled, allow_private, \
     consecutive_failures, disabled_reason, created_at, updated_at";

/// Stores `new` and plans its deliveries inside the caller's transaction;
/// `None` when its deduplication key is taken.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewNotification,
) -> StoreResult<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO notifications (event, dedupe_key, install_id, data, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
    )
    .bind(new.event.as_str())
    .bind(&new.dedupe_key)
    .bind(&new.install_id)
    .bind(&new.data)
    .bind(new.created_at)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let Some(id) = id else { return Ok(None) };
    insert_delivery(tx, id, Channel::Email, None, new.created_at).await?;
    if new.event.goes_to_webhooks() {
        let rows = sqlx::query("SELECT id, events FROM webhook_endpoints WHERE enabled")
            .fetch_all(&mut **tx)
            .await
            .db()?;
        for row in rows {
            let events: Vec<EventKind> = from_json("webhook events", row.try_get("events").db()?)?;
            if notify::webhook::wants(&events, new.event) {
                let endpoint: i64 = row.try_get("id").db()?;
                insert_delivery(tx, id, Channel::Webhook, Some(endpoint), new.created_at).await?;
            }
        }
    }
    Ok(Some(id))
}

async fn insert_delivery(
    tx: &mut Transaction<'_, Postgres>,
    notification_id: i64,
    channel: Channel,
    endpoint_id: Option<i64>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO notification_deliveries (notification_id, channel, endpoint_id, status,
                                              next_attempt_at, created_at)
         VALUES ($1, $2, $3, 'pending', $4, $4)",
    )
    .bind(notification_id)
    .bind(channel.as_str())
    .bind(endpoint_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// Enqueues the notification an audited change announces, if any, in the
/// change's own transaction (before the audit append, which stays last).
pub(crate) async fn enqueue_for_audit(
    tx: &mut Transaction<'_, Postgres>,
    entry: &AuditEntry,
) -> StoreResult<()> {
    if notify::change::event_for_action(&entry.target_type, &entry.action).is_none() {
        return Ok(());
    }
    let Some(install_id) = notify::change::subject_install(entry) else {
        return Ok(());
    };
    let row = sqlx::query(
        "SELECT l.install_id, l.plan_slug, c.name, c.email, c.company FROM licenses l
         JOIN customers c ON c.id = l.customer_id WHERE l.install_id = $1",
    )
    .bind(install_id)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let Some(row) = row else { return Ok(()) };
    if let Some(new) = notify::change::from_audit(entry, &subject(&row)?) {
        enqueue(tx, &new).await?;
    }
    Ok(())
}

fn subject(row: &PgRow) -> StoreResult<Subject> {
    Ok(Subject {
        install_id: row.try_get("install_id").db()?,
        customer_name: row.try_get("name").db()?,
        customer_email: row.try_get("email").db()?,
        company: row.try_get("company").db()?,
        plan: row.try_get("plan_slug").db()?,
    })
}

fn non_negative(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

fn endpoint(row: &PgRow) -> StoreResult<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: row.try_get("id").db()?,
        url: row.try_get("url").db()?,
        description: row.try_get("description").db()?,
        events: from_json("webhook events", row.try_get("events").db()?)?,
        enabled: row.try_get("enabled").db()?,
        allow_private: row.try_get("allow_private").db()?,
        consecutive_failures: non_negative(row.try_get("consecutive_failures").db()?),
        disabled_reason: row.try_get("disabled_reason").db()?,
        created_at: row.try_get("created_at").db()?,
        updated_at: row.try_get("updated_at").db()?,
    })
}

fn view(row: &PgRow) -> StoreResult<DeliveryView> {
    let channel: String = row.try_get("channel").db()?;
    let status: String = row.try_get("status").db()?;
    let event: String = row.try_get("event").db()?;
    Ok(DeliveryView {
        delivery: Delivery {
            id: row.try_get("id").db()?,
            notification_id: row.try_get("notification_id").db()?,
            channel: Channel::parse(&channel).map_err(|e| corrupt("channel", e))?,
            endpoint_id: row.try_get("endpoint_id").db()?,
            status: DeliveryStatus::parse(&status).map_err(|e| corrupt("status", e))?,
            attempts: non_negative(row.try_get("attempts").db()?),
            claim_seq: row.try_get("claim_seq").db()?,
            next_attempt_at: row.try_get("next_attempt_at").db()?,
            lease_until: row.try_get("lease_until").db()?,
            last_error: row.try_get("last_error").db()?,
            target: row.try_get("target").db()?,
            sent_at: row.try_get("sent_at").db()?,
            created_at: row.try_get("created_at").db()?,
        },
        notification: Notification {
            id: row.try_get("notification_id").db()?,
            event: EventKind::parse(&event).map_err(|e| corrupt("event", e))?,
            dedupe_key: row.try_get("dedupe_key").db()?,
            install_id: row.try_get("install_id").db()?,
            data: row.try_get("data").db()?,
            created_at: row.try_get("n_created_at").db()?,
        },
    })
}

async fn view_by_id<'e, E>(executor: E, id: i64) -> StoreResult<Option<DeliveryView>>
where
    E: sqlx::PgExecutor<'e>,
{
    let row = sqlx::query(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries d
         JOIN notifications n ON n.id = d.notification_id WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
    .db()?;
    row.as_ref().map(view).transpose()
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn enqueue_notification(&self, new: &NewNotification) -> StoreResult<Option<i64>> {
        let mut tx = self.pool.begin().await.db()?;
        let id = enqueue(&mut tx, new).await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedDelivery>> {
        let mut tx = self.pool.begin().await.db()?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE notification_deliveries d SET status = 'sending', lease_until = $1,
                    attempts = d.attempts + 1, claim_seq = d.claim_seq + 1
             FROM (SELECT id FROM notification_deliveries
                   WHERE (status = 'pending' AND next_attempt_at <= $2)
                      OR (status = 'sending' AND lease_until <= $2)
                   ORDER BY next_attempt_at, id LIMIT $3
                   FOR UPDATE SKIP LOCKED) due
             WHERE d.id = due.id
             RETURNING d.id",
        )
        .bind(now + lease)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries d
             JOIN notifications n ON n.id = d.notification_id
             WHERE d.id = ANY($1) ORDER BY d.next_attempt_at, d.id"
        ))
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let endpoint_ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<Option<i64>, _>("endpoint_id").ok().flatten())
            .collect();
        let endpoints = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS}, secret_salt FROM webhook_endpoints WHERE id = ANY($1)"
        ))
        .bind(&endpoint_ids)
        .fetch_all(&mut *tx)
        .await
        .db()?
        .iter()
        .map(|r| Ok((endpoint(r)?, r.try_get::<Vec<u8>, _>("secret_salt").db()?)))
        .collect::<StoreResult<Vec<_>>>()?;
        tx.commit().await.db()?;
        rows.iter()
            .map(|row| {
                let v = view(row)?;
                let endpoint = v
                    .delivery
                    .endpoint_id
                    .and_then(|id| endpoints.iter().find(|(e, _)| e.id == id).cloned());
                Ok(ClaimedDelivery {
                    delivery: v.delivery,
                    notification: v.notification,
                    endpoint,
                })
            })
            .collect()
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
        let done = sqlx::query(
            "UPDATE notification_deliveries SET status = $1,
                    next_attempt_at = COALESCE($2, next_attempt_at), lease_until = NULL,
                    last_error = $3, target = COALESCE($4, target), sent_at = $5
             WHERE id = $6 AND status = 'sending' AND claim_seq = $7",
        )
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(target)
        .bind(sent_at)
        .bind(id)
        .bind(claim_seq)
        .execute(&self.pool)
        .await
        .db()?
        .rows_affected();
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
        if success {
            sqlx::query("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = $1")
                .bind(endpoint_id)
                .execute(&self.pool)
                .await
                .db()?;
            return Ok(None);
        }
        // One statement: the row lock makes concurrent failures count one by
        // one, and only the update that crosses the limit switches it off.
        let row = sqlx::query(&format!(
            "UPDATE webhook_endpoints w SET
                consecutive_failures = w.consecutive_failures + 1,
                enabled = w.enabled AND w.consecutive_failures + 1 < $2,
                disabled_reason = CASE WHEN w.enabled AND w.consecutive_failures + 1 >= $2
                                       THEN $3 ELSE w.disabled_reason END,
                updated_at = CASE WHEN w.enabled AND w.consecutive_failures + 1 >= $2
                                  THEN $4 ELSE w.updated_at END
             FROM (SELECT id, enabled AS was_enabled FROM webhook_endpoints
                   WHERE id = $1 FOR UPDATE) old
             WHERE w.id = old.id
             RETURNING old.was_enabled, {}",
            ENDPOINT_COLUMNS
                .split(", ")
                .map(|c| format!("w.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(endpoint_id)
        .bind(i32::try_from(disable_after.max(1)).unwrap_or(i32::MAX))
        .bind(reason)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let Some(row) = row else { return Ok(None) };
        let was_enabled: bool = row.try_get("was_enabled").db()?;
        let e = endpoint(&row)?;
        Ok((was_enabled && !e.enabled).then_some(e))
    }

    async fn list_deliveries(&self, q: &DeliveryQuery) -> StoreResult<Page<DeliveryView>> {
        let filter = "WHERE ($1::text IS NULL OR d.status = $1)
               AND ($2::text IS NULL OR d.channel = $2)
               AND ($3::bigint IS NULL OR d.endpoint_id = $3)
               AND ($4::text IS NULL OR n.install_id = $4)";
        let status = q.status.map(DeliveryStatus::as_str);
        let channel = q.channel.map(Channel::as_str);
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM notification_deliveries d
             JOIN notifications n ON n.id = d.notification_id {filter}"
        ))
        .bind(status)
        .bind(channel)
        .bind(q.endpoint_id)
        .bind(&q.install_id)
        .fetch_one(&self.pool)
        .await
        .db()?;
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries d
             JOIN notifications n ON n.id = d.notification_id {filter}
             ORDER BY d.id DESC LIMIT $5 OFFSET $6"
        ))
        .bind(status)
        .bind(channel)
        .bind(q.endpoint_id)
        .bind(&q.install_id)
        .bind(i64::from(q.per_page()))
        .bind(q.offset())
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(Page {
            items: rows.iter().map(view).collect::<StoreResult<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
            page: q.page(),
            per_page: q.per_page(),
        })
    }

    async fn get_delivery(&self, id: i64) -> StoreResult<Option<DeliveryView>> {
        view_by_id(&self.pool, id).await
    }

    async fn resend_delivery(
        &self,
        id: i64,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<DeliveryView> {
        let mut tx = self.pool.begin().await.db()?;
        let changed = sqlx::query(
            "UPDATE notification_deliveries SET status = 'pending', next_attempt_at = $1,
                    lease_until = NULL, attempts = 0, claim_seq = claim_seq + 1
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound("notification"));
        }
        let v = view_by_id(&mut *tx, id)
            .await?
            .ok_or(StoreError::NotFound("notification"))?;
        crate::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
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
        let mut tx = self.pool.begin().await.db()?;
        let row = sqlx::query(&format!(
            "INSERT INTO webhook_endpoints (url, description, events, enabled, allow_private,
                                            secret_salt, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&s.url)
        .bind(&s.description)
        .bind(to_json("webhook events", &s.events)?)
        .bind(s.enabled)
        .bind(s.allow_private)
        .bind(salt)
        .bind(s.now)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let created = endpoint(&row)?;
        let mut audit = audit.clone();
        audit.target_id = created.id.to_string();
        crate::audit::insert_audit(&mut tx, &audit).await?;
        tx.commit().await.db()?;
        Ok(created)
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<WebhookEndpoint>> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(endpoint).collect()
    }

    async fn get_webhook(&self, id: i64) -> StoreResult<Option<WebhookEndpoint>> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(endpoint).transpose()
    }

    async fn update_webhook(
        &self,
        id: i64,
        s: &WebhookSettings,
        audit: &AuditEntry,
    ) -> StoreResult<WebhookEndpoint> {
        let mut tx = self.pool.begin().await.db()?;
        let row = sqlx::query(&format!(
            "UPDATE webhook_endpoints SET url = $1, description = $2, events = $3,
                    consecutive_failures = CASE WHEN $4 AND NOT enabled THEN 0
                                                ELSE consecutive_failures END,
                    disabled_reason = CASE WHEN $4 THEN NULL ELSE disabled_reason END,
                    enabled = $4, allow_private = $5,
                    secret_salt = COALESCE($6, secret_salt), updated_at = $7
             WHERE id = $8 RETURNING {ENDPOINT_COLUMNS}"
        ))
        .bind(&s.url)
        .bind(&s.description)
        .bind(to_json("webhook events", &s.events)?)
        .bind(s.enabled)
        .bind(s.allow_private)
        .bind(&s.secret_salt)
        .bind(s.now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or(StoreError::NotFound("webhook endpoint"))?;
        let updated = endpoint(&row)?;
        crate::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()?;
        Ok(updated)
    }

    async fn delete_webhook(&self, id: i64, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.db()?;
        let gone = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .db()?
            .rows_affected();
        if gone == 0 {
            return Err(StoreError::NotFound("webhook endpoint"));
        }
        crate::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn current_meter_totals(&self) -> StoreResult<Vec<MeterTotal>> {
        let rows = sqlx::query(
            "SELECT l.install_id, l.plan_slug, c.name, c.email, c.company, t.meter,
                    t.period_start, t.quantity
             FROM licenses l
             JOIN customers c ON c.id = l.customer_id
             JOIN usage_period_totals t ON t.install_id = l.install_id
                                       AND t.period_start = l.current_period_start
             WHERE l.status IN ('trial', 'active')
             ORDER BY l.install_id COLLATE \"C\", t.meter COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                let meter: String = row.try_get("meter").db()?;
                Ok(MeterTotal {
                    subject: subject(row)?,
                    meter: Meter::parse(&meter).map_err(|e| corrupt("meter", e))?,
                    period_start: row.try_get("period_start").db()?,
                    quantity: row.try_get("quantity").db()?,
                })
            })
            .collect()
    }

    async fn notify_subscriptions(&self, admin_id: i64) -> StoreResult<Vec<EventKind>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT event FROM notify_subscriptions WHERE admin_id = $1 ORDER BY event COLLATE \"C\"",
        )
        .bind(admin_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
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
        let mut tx = self.pool.begin().await.db()?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM admins WHERE id = $1")
            .bind(admin_id)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if exists.is_none() {
            return Err(StoreError::NotFound("admin"));
        }
        sqlx::query("DELETE FROM notify_subscriptions WHERE admin_id = $1")
            .bind(admin_id)
            .execute(&mut *tx)
            .await
            .db()?;
        let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        sqlx::query(
            "INSERT INTO notify_subscriptions (admin_id, event)
             SELECT $1, e FROM UNNEST($2::text[]) AS e ON CONFLICT DO NOTHING",
        )
        .bind(admin_id)
        .bind(&names)
        .execute(&mut *tx)
        .await
        .db()?;
        crate::audit::insert_audit(&mut tx, audit).await?;
        tx.commit().await.db()
    }

    async fn notify_subscribers(&self) -> StoreResult<Vec<(String, Vec<EventKind>)>> {
        let rows = sqlx::query(
            "SELECT a.email, s.event FROM notify_subscriptions s JOIN admins a ON a.id = s.admin_id
             WHERE NOT a.disabled AND a.email IS NOT NULL AND a.email <> ''
             ORDER BY a.id, s.event COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut out: Vec<(String, Vec<EventKind>)> = Vec::new();
        for row in &rows {
            let email: String = row.try_get("email").db()?;
            let event: String = row.try_get("event").db()?;
            let event = EventKind::parse(&event).map_err(|e| corrupt("event", e))?;
            match out.last_mut() {
                Some((last, events)) if *last == email => events.push(event),
                _ => out.push((email, vec![event])),
            }
        }
        Ok(out)
    }
}
