//! The customer portal: a branded place where a customer's own admins
//! (portal accounts, separate from vendor admins, invited by the vendor) see
//! their license, limits and usage, instances and invoices, and download an
//! offline license token. Invoices are listed once issued (never drafts),
//! with their PDFs from the invoicing module's renderer. Served at the customer's domain `/` (see
//! [`crate::domains::router`]) and at `/portal/{installId}` on any host —
//! except another customer's domain. Everything is scoped to one install:
//! a session of one customer is nobody at another's routes.

pub mod admin;
mod dashboard;
mod invoices;
mod login;
mod render;
mod scope;
pub mod session;
mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::app::AppState;

pub use dashboard::home_for_customer_host;
pub use render::{error as error_page, neutral_page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/{install_id}", get(dashboard::home))
        .route("/portal/{install_id}/login", post(login::login))
        .route("/portal/{install_id}/logout", post(login::logout))
        .route(
            "/portal/{install_id}/set-password",
            get(login::set_password_page).post(login::set_password),
        )
        .route("/portal/{install_id}/license-token", get(token::download))
        .route(
            "/portal/{install_id}/invoices/{invoice_id}/pdf",
            get(invoices::pdf),
        )
        .layer(axum::middleware::from_fn(render::portal_headers))
}
