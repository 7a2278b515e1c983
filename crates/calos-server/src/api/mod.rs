//! The admin JSON API under `/api/enterprise`, one file per resource and
//! action. Every handler takes an [`AdminUser`](crate::auth::AdminUser)
//! first (401 before anything else), then parses, authorises, calls
//! core/store and renders.

mod admins;
mod audit;
mod create_license;
mod culture;
mod customers;
pub mod health;
mod license_actions;
mod mutate;
mod plans;
mod profile;
mod revoke;
mod stats;
mod tokens;
mod usage;
pub mod v1;
mod views;

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
        .route("/admins/{id}/reset-password", post(admins::reset_password))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
}
