//! The admin web pages: server-rendered with askama (auto-escaping), assets
//! embedded in the binary, charts drawn on the server as SVG. Page JavaScript
//! only adds interactions (dialogs, copy buttons, live filter) and talks to
//! the JSON admin API like any other client.
//!
//! Seed URLs are kept (`/enterprise-dashboard.html`, `/culture-profile.html`)
//! next to the clean `/admin/...` ones.

mod account;
mod account_owner;
mod admins;
mod api_docs;
mod assets;
mod audit;
mod branding;
mod chart_routes;
mod dashboard;
mod export;
mod filters;
mod format;
mod headers;
mod health_filter;
mod invoices;
mod login;
mod notifications;
mod profile;
mod render;
mod session;
mod tokens;
mod trend;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use export::neutralise_formula;
pub use headers::with_page_headers;
pub use render::html;

/// Page and asset routes, with the security headers every page response carries.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/admin") }))
        .route("/login", get(login::page))
        .route("/admin/login", get(login::page))
        .route("/admin/account", get(account::page))
        .route("/logout", post(login::logout))
        .route("/admin", get(dashboard::page))
        .route("/enterprise-dashboard.html", get(dashboard::page))
        .route("/admin/fragments/customers", get(dashboard::table_fragment))
        .route("/admin/customers.csv", get(export::customers_csv))
        .route("/admin/charts/revenue.svg", get(chart_routes::revenue))
        .route("/admin/customers/{install_id}", get(profile::page))
        .route(
            "/admin/customers/{install_id}/charts/{kind}",
            get(chart_routes::customer_chart),
        )
        .route("/culture-profile.html", get(profile::seed_page))
        .route("/admin/branding", get(branding::default_page))
        .route(
            "/admin/customers/{install_id}/branding",
            get(branding::customer_page),
        )
        .route("/admin/admins", get(admins::page))
        .route("/admin/tokens", get(tokens::page))
        .route("/admin/audit", get(audit::page))
        .route("/admin/audit.csv", get(audit::csv))
        .route("/admin/invoices", get(invoices::page))
        .route("/admin/billing-profile", get(invoices::billing_page))
        .route("/admin/notifications", get(notifications::page))
        .route("/api/docs", get(api_docs::page))
        .route("/assets/{*path}", get(assets::serve))
        .layer(axum::middleware::from_fn(headers::security_headers))
}
