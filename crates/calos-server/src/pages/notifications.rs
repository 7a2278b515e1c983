//! `/admin/notifications`: the outbox — every notification delivery with
//! its state, attempts and last error, filterable by state and channel, with
//! a resend button — and, for owners and admins, the webhook endpoints
//! (create with the secret shown once, enable or disable, delete).
//! `notifications.js` talks to `/api/enterprise/notifications…` and
//! `/api/enterprise/webhooks…`.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use calos_core::auth::Permission;
use calos_core::notify::EventKind;
use calos_store::{DeliveryQuery, DeliveryStatus, DeliveryView, Page, WebhookEndpoint};

use super::admins::require;
use super::format::date_time;
use super::render::{describe_store_error, html};
use super::session::PageAdmin;
use crate::app::AppState;
use crate::extract::Query;

const PER_PAGE: u32 = 50;

struct Row {
    id: i64,
    event: &'static str,
    customer: String,
    install_id: String,
    channel: &'static str,
    target: String,
    status: &'static str,
    attempts: u32,
    when: String,
    next: String,
    last_error: String,
}

struct Hook {
    id: i64,
    url: String,
    description: String,
    events: String,
    enabled: bool,
    allow_private: bool,
    failures: u32,
    disabled_reason: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    username: String,
    csrf: String,
    rows: Vec<Row>,
    total: u64,
    page: u32,
    pages: u32,
    status: String,
    channel: String,
    statuses: Vec<&'static str>,
    events: Vec<&'static str>,
    hooks: Vec<Hook>,
    may_manage: bool,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    status: Option<String>,
    channel: Option<String>,
    page: Option<u32>,
}

fn row(v: &DeliveryView) -> Row {
    let d = &v.delivery;
    let n = &v.notification;
    Row {
        id: d.id,
        event: n.event.as_str(),
        customer: n.data["customer"]["name"]
            .as_str()
            .or_else(|| n.data["url"].as_str())
            .unwrap_or("")
            .to_owned(),
        install_id: n.install_id.clone().unwrap_or_default(),
        channel: d.channel.as_str(),
        target: d.target.clone().unwrap_or_default(),
        status: d.status.as_str(),
        attempts: d.attempts,
        when: date_time(n.created_at),
        next: if d.status == DeliveryStatus::Pending {
            date_time(d.next_attempt_at)
        } else {
            String::new()
        },
        last_error: d.last_error.clone().unwrap_or_default(),
    }
}

fn hook(e: &WebhookEndpoint) -> Hook {
    Hook {
        id: e.id,
        url: e.url.clone(),
        description: e.description.clone().unwrap_or_default(),
        events: if e.events.is_empty() {
            "all events".to_owned()
        } else {
            e.events
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
        enabled: e.enabled,
        allow_private: e.allow_private,
        failures: e.consecutive_failures,
        disabled_reason: e.disabled_reason.clone().unwrap_or_default(),
    }
}

pub async fn page(
    user: PageAdmin,
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Response {
    if let Err(forbidden) = require(&user, Permission::Read, "see notifications") {
        return forbidden;
    }
    let may_manage = user.may(Permission::ManageAdmins);
    let status = params.status.clone().unwrap_or_default();
    let channel = params.channel.clone().unwrap_or_default();
    let q = crate::api::notifications::query(&crate::api::notifications::ListParams::from_page(
        &status,
        &channel,
        params.page.unwrap_or(1),
        PER_PAGE,
    ));
    let (listed, hooks) = match q {
        Ok(q) => load(&state, &q, may_manage).await,
        Err(e) => (Err(e.to_string()), Vec::new()),
    };
    let (rows, total, error) = match listed {
        Ok(p) => (p.items.iter().map(row).collect(), p.total, None),
        Err(e) => (Vec::new(), 0, Some(e)),
    };
    let page = params.page.unwrap_or(1).max(1);
    html(
        StatusCode::OK,
        &NotificationsPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            rows,
            total,
            page,
            pages: u32::try_from(total.div_ceil(u64::from(PER_PAGE)))
                .unwrap_or(u32::MAX)
                .max(1),
            status,
            channel,
            statuses: DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect(),
            events: EventKind::ALL
                .iter()
                .filter(|e| e.goes_to_webhooks())
                .map(|e| e.as_str())
                .collect(),
            hooks,
            may_manage,
            error,
        },
    )
}

async fn load(
    state: &AppState,
    q: &DeliveryQuery,
    may_manage: bool,
) -> (Result<Page<DeliveryView>, String>, Vec<Hook>) {
    let listed = state.store.list_deliveries(q).await.map_err(|e| {
        tracing::error!(error = %e, "notifications page: listing deliveries failed");
        format!("Failed to load notifications: {}", describe_store_error(&e))
    });
    let hooks = if may_manage {
        match state.store.list_webhooks().await {
            Ok(list) => list.iter().map(hook).collect(),
            Err(e) => {
                tracing::error!(error = %e, "notifications page: listing webhooks failed");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    (listed, hooks)
}
