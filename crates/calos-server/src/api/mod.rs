//! The admin JSON API under `/api/enterprise`, one file per resource and
//! action. Every handler takes an [`AdminUser`](crate::auth::AdminUser)
//! first (401 before anything else), then parses, authorises, calls
//! core/store and renders.

mod account_owner;
mod admins;
pub mod audit;
mod billing_profile;
pub mod branding;
mod create_license;
mod culture;
mod customers;
pub mod health;
mod invoice_actions;
pub mod invoices;
mod license_actions;
mod mutate;
pub mod notifications;
pub mod openapi;
mod plans;
mod profile;
mod revoke;
mod stats;
mod tokens;
mod usage;
pub(crate) use mutate::{
    apply as apply_license_command, domain_cap, load as load_license, parse_install_id,
};
pub(crate) use usage::current_period;
pub mod v1;
mod views;
mod webhook_test;
mod webhooks;

use axum::routing::{get, post, put};
use axum::Router;

use crate::app::AppState;

pub fn enterprise_router() -> Router<AppState> {
    Router::new()
        .route("/stats", get(stats::show))
        .route("/customers", get(customers::list))
        .route("/create-license", post(create_license::create))
        .route("/revoke-license", post(revoke::revoke))
        .route(
            "/customer/{install_id}",
            axum::routing::patch(license_actions::update_details),
        )
        .route("/customer/{install_id}/profile", get(profile::show))
        .route("/customer/{install_id}/usage", get(usage::show))
        .route("/customer/{install_id}/culture", get(culture::show))
        .route(
            "/customer/{install_id}/timezone",
            put(culture::set_timezone),
        )
        .route(
            "/customer/{install_id}/update-tier",
            post(license_actions::update_tier),
        )
        .route(
            "/customer/{install_id}/suspend",
            post(license_actions::suspend),
        )
        .route(
            "/customer/{install_id}/reactivate",
            post(license_actions::reactivate),
        )
        .route(
            "/customer/{install_id}/activate",
            post(license_actions::activate),
        )
        .route("/customer/{install_id}/renew", post(license_actions::renew))
        .route(
            "/customer/{install_id}/extend-trial",
            post(license_actions::extend_trial),
        )
        .route("/plans", get(plans::list))
        .route("/plans/{slug}", put(plans::put))
        .route("/audit", get(audit::list))
        .route("/admins", get(admins::list).post(admins::create))
        .route("/admins/{id}/role", post(admins::set_role))
        .route("/admins/{id}/disable", post(admins::disable))
        .route("/admins/{id}/enable", post(admins::enable))
        .route("/admins/{id}/reset-password", post(admins::reset_password))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            get(webhooks::show)
                .put(webhooks::replace)
                .delete(webhooks::delete),
        )
        .route("/webhooks/{id}/test", post(webhook_test::send))
        .route("/notifications", get(notifications::list))
        .route(
            "/notifications/subscriptions",
            get(notifications::subscriptions).put(notifications::set_subscriptions),
        )
        .route("/notifications/{id}/resend", post(notifications::resend))
        .route(
            "/branding/default",
            get(branding::get_default).put(branding::put_default),
        )
        .route(
            "/customers/{install_id}/owner",
            get(account_owner::show).put(account_owner::put),
        )
        .route(
            "/customers/{install_id}/branding",
            get(branding::get_customer).put(branding::put_customer),
        )
        .route(
            "/customers/{install_id}/domains",
            get(crate::domains::api::list).post(crate::domains::api::add),
        )
        .route(
            "/customers/{install_id}/domains/{domain}",
            axum::routing::delete(crate::domains::api::remove),
        )
        .route(
            "/customers/{install_id}/domains/{domain}/verify",
            post(crate::domains::api::verify),
        )
        .route(
            "/customers/{install_id}/portal-users",
            get(crate::portal::admin::list).post(crate::portal::admin::invite),
        )
        .route(
            "/billing-profile",
            get(billing_profile::show).put(billing_profile::put),
        )
        .route("/invoices", get(invoices::list))
        .route("/invoices.csv", get(invoices::csv))
        .route("/invoices/generate", post(invoice_actions::generate))
        .route(
            "/invoices/{id}",
            get(invoices::show).patch(invoice_actions::edit),
        )
        .route("/invoices/{id}/pdf", get(invoices::pdf))
        .route("/invoices/{id}/issue", post(invoice_actions::issue))
        .route("/invoices/{id}/pay", post(invoice_actions::pay))
        .route("/invoices/{id}/void", post(invoice_actions::void))
}
