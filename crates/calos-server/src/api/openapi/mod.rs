//! The OpenAPI 3.1 document of the public and admin JSON API, generated from
//! the `#[utoipa::path]` attributes on the handlers and the `ToSchema`
//! derives on their request types. Served at `/api/openapi.json`; the
//! `/api/docs` page (see [`crate::pages`]) renders the same document.
//!
//! What every operation shares is added here once, by rule, rather than on
//! each handler: who may call it (the admin schemes on `/api/enterprise/*`
//! and `/api/auth/*` except the login steps) and the error answers, all in
//! the one error shape.

mod path_params;
pub mod schemas;

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::api::v1::branding::{INSTALL_HEADER, KEY_HEADER};
/// The admin session cookie's name and the header cookie-authenticated
/// mutations must carry.
use crate::auth::session::{COOKIE_NAME, CSRF_HEADER};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CALOS Enterprise API",
        description = "The public API deployments call (license verify, telemetry, branding, key set) and the admin JSON API (`/api/enterprise/*`, `/api/auth/*`). Every error is `{\"error\":{\"code\",\"message\"}}` with its HTTP status; 429 carries `Retry-After`."
    ),
    paths(
        document,
        crate::api::health::healthz,
        crate::api::v1::verify::verify,
        crate::api::v1::telemetry::ingest,
        crate::api::v1::jwks::jwks,
        crate::api::v1::branding::show,
        crate::api::v1::branding::logo,
        crate::api::v1::branding::theme,
        crate::auth::login::login,
        crate::auth::login::login_totp,
        crate::auth::routes::logout,
        crate::auth::routes::me,
        crate::auth::account::change_password,
        crate::auth::account::enrol,
        crate::auth::account::confirm,
        crate::auth::account::disable,
        crate::api::stats::show,
        crate::api::customers::list,
        crate::api::create_license::create,
        crate::api::revoke::revoke,
        crate::api::license_actions::update_details,
        crate::api::profile::show,
        crate::api::usage::show,
        crate::api::culture::show,
        crate::api::culture::set_timezone,
        crate::api::license_actions::update_tier,
        crate::api::license_actions::suspend,
        crate::api::license_actions::reactivate,
        crate::api::license_actions::activate,
        crate::api::license_actions::renew,
        crate::api::license_actions::extend_trial,
        crate::api::plans::list,
        crate::api::plans::put,
        crate::api::audit::list,
        crate::api::admins::list,
        crate::api::admins::create,
        crate::api::admins::set_role,
        crate::api::admins::disable,
        crate::api::admins::enable,
        crate::api::admins::reset_password,
        crate::api::tokens::list,
        crate::api::tokens::create,
        crate::api::tokens::revoke,
        crate::api::webhooks::list,
        crate::api::webhooks::create,
        crate::api::webhooks::show,
        crate::api::webhooks::replace,
        crate::api::webhooks::delete,
        crate::api::webhook_test::send,
        crate::api::account_owner::show,
        crate::api::account_owner::put,
        crate::api::notifications::list,
        crate::api::notifications::subscriptions,
        crate::api::notifications::set_subscriptions,
        crate::api::notifications::resend,
        crate::api::branding::get_default,
        crate::api::branding::put_default,
        crate::api::branding::get_customer,
        crate::api::branding::put_customer,
        crate::api::branding::put_default_logo,
        crate::api::branding::delete_default_logo,
        crate::api::branding::put_customer_logo,
        crate::api::branding::delete_customer_logo,
        crate::domains::api::list,
        crate::domains::api::add,
        crate::domains::api::remove,
        crate::domains::api::verify,
        crate::portal::admin::list,
        crate::portal::admin::invite,
        crate::api::billing_profile::show,
        crate::api::billing_profile::put,
        crate::api::invoices::list,
        crate::api::invoices::csv,
        crate::api::invoice_actions::generate,
        crate::api::invoices::show,
        crate::api::invoice_actions::edit,
        crate::api::invoices::pdf,
        crate::api::invoice_actions::issue,
        crate::api::invoice_actions::pay,
        crate::api::invoice_actions::void,
    ),
    components(schemas(schemas::ErrorBody, calos_core::protocol::LicenseClaims)),
    modifiers(&Metrics, &Shared),
    tags(
        (name = "license", description = "Deployments verify their license and get a signed verdict (Ed25519 JWS)."),
        (name = "telemetry", description = "Deployments report usage events in batches."),
        (name = "branding", description = "Brand (name, colours, logo) deployments and the portal show."),
        (name = "health", description = "Liveness for load balancers."),
        (name = "meta", description = "This document."),
        (name = "auth", description = "Admin login, sessions and the own account."),
        (name = "licenses", description = "Customers and their licenses: issue, change, revoke, usage, culture."),
        (name = "plans", description = "Plans, their limits and prices."),
        (name = "admins", description = "Admin accounts and roles."),
        (name = "tokens", description = "API tokens for scripts."),
        (name = "audit", description = "The tamper-evident audit log."),
        (name = "webhooks", description = "Signed webhook endpoints."),
        (name = "notifications", description = "The notification outbox and e-mail subscriptions."),
        (name = "domains", description = "Customers' portal domains."),
        (name = "portal", description = "Customers' portal accounts."),
        (name = "invoices", description = "Invoices: drafts, issue, payment, PDF."),
    )
)]
pub struct ApiDoc;

/// The document, built once (it never changes while the binary runs).
pub fn openapi() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapiDocument",
    tag = "meta",
    summary = "This OpenAPI 3.1 document",
    responses((status = 200, description = "The document", body = Object))
)]
pub async fn document() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let body = JSON.get_or_init(|| {
        openapi()
            .to_pretty_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    ([(header::CONTENT_TYPE, "application/json")], body.as_str()).into_response()
}

/// Names of the security schemes.
pub const ADMIN_TOKEN: &str = "adminToken";
pub const ADMIN_SESSION: &str = "adminSession";
pub const INSTALL_ID: &str = "installId";
pub const INSTALL_KEY: &str = "installKey";

/// Routes under the admin prefixes that take no admin: the login steps.
const UNAUTHENTICATED_ADMIN_ROUTES: [&str; 2] = ["/api/auth/login", "/api/auth/login/totp"];

/// Whether `path` needs an authenticated admin.
pub fn needs_admin(path: &str) -> bool {
    (path.starts_with("/api/enterprise/") || path.starts_with("/api/auth/") || path == "/metrics")
        && !UNAUTHENTICATED_ADMIN_ROUTES.contains(&path)
}

/// `GET /metrics` (`crate::metrics::route`), added here rather than on its
/// handlers: on the main port it needs an admin (`scrape_admin`); with
/// `metrics_addr` set it moves, unauthenticated, to that address
/// (`scrape_open`) and the main port has no such route.
struct Metrics;

impl Modify for Metrics {
    fn modify(&self, doc: &mut Document) {
        let ok = ResponseBuilder::new()
            .description("Request rates and latencies per route, verify verdicts, ingest, outbox depth, cache and pool use, in the Prometheus text exposition format 0.0.4")
            .content(
                METRICS_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            )
            .build();
        let op = OperationBuilder::new()
            .operation_id(Some("metrics"))
            .tag("health")
            .summary(Some("Prometheus metrics (text exposition format)"))
            .response("200", ok)
            .build();
        doc.paths
            .add_path_operation("/metrics", vec![HttpMethod::Get], op);
    }
}

/// The media type `/metrics` answers with (its `charset=utf-8` aside).
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

struct Shared;

impl Modify for Shared {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            ADMIN_TOKEN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("calos_at_…")
                    .description(Some("An API token (`calos token create`, or the API tokens page), acting with its admin's role or a narrower one."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            ADMIN_SESSION,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                COOKIE_NAME,
                &format!("The session cookie `POST /api/auth/login` sets. Requests other than GET also need the session's CSRF token in the `{CSRF_HEADER}` header."),
            ))),
        );
        components.add_security_scheme(
            INSTALL_ID,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                INSTALL_HEADER,
                "A deployment's install id (public). Verify and telemetry carry it in the body as `installId`.",
            ))),
        );
        components.add_security_scheme(
            INSTALL_KEY,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                KEY_HEADER,
                "The deployment's license key (secret, shown once when the license is issued). Verify and telemetry carry it in the body as `licenseKey`.",
            ))),
        );
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                if needs_admin(path) {
                    op.security = Some(vec![
                        SecurityRequirement::new(ADMIN_TOKEN, Vec::<String>::new()),
                        SecurityRequirement::new(ADMIN_SESSION, Vec::<String>::new()),
                    ]);
                } else if path == "/api/v1/branding" {
                    op.security = Some(vec![SecurityRequirement::default()
                        .add(INSTALL_ID, Vec::<String>::new())
                        .add(INSTALL_KEY, Vec::<String>::new())]);
                }
                add_errors(op, path, method, needs_admin(path));
                path_params::constrain(op);
            }
        }
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// The error answers an operation can give, in the shared error shape.
fn add_errors(op: &mut Operation, path: &str, method: &str, admin: bool) {
    let mut statuses: Vec<(&str, &str)> = vec![
        ("400", "Malformed JSON or query (`malformed_json`, `invalid_query`)"),
        ("404", "No such resource (`not_found`)"),
        ("422", "A field is invalid (`invalid_field`, `invalid_body`, `unknown_tier`)"),
        ("429", "Too many requests (`rate_limited`); see `Retry-After`"),
        ("503", "The database is unavailable (`database_unavailable`) or the request took too long (`timeout`)"),
    ];
    if admin {
        statuses.push(("401", "No valid session or API token (`unauthenticated`)"));
        statuses.push((
            "403",
            "The role may not do this (`forbidden`), or a missing CSRF token (`csrf`)",
        ));
    } else if path.starts_with("/api/") {
        statuses.push(("401", "Wrong credentials (`unauthenticated`)"));
        statuses.push(("403", "Refused (`forbidden`)"));
    }
    if method != "get" {
        statuses.push((
            "409",
            "Conflicts with the current state (`conflict`, `license_state`)",
        ));
        statuses.push(("413", "The body is too large (`body_too_large`)"));
        statuses.push((
            "415",
            "Not `Content-Type: application/json` (`unsupported_media_type`)",
        ));
        statuses.push((
            "507",
            "The database's disk is full; nothing was stored (`storage_full`)",
        ));
    }
    for (status, description) in statuses {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}
