//! `/admin/branding` (the vendor-wide default) and
//! `/admin/customers/{installId}/branding` (one customer's brand): a form
//! with a live preview. `branding.js` loads the brand from the JSON API,
//! previews every change as it is typed (CSS custom properties and
//! `textContent`, no inline code) and saves through the same API.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;

use super::render::html;
use super::session::PageAdmin;
use crate::api::parse_install_id;

#[derive(Template)]
#[template(path = "branding.html")]
struct BrandingPage {
    username: String,
    csrf: String,
    heading: String,
    /// The brand's JSON API path; the logo upload is `{api}/logo`.
    api: String,
    install_id: String,
}

fn render(user: PageAdmin, heading: String, api: String, install_id: String) -> Response {
    html(
        StatusCode::OK,
        &BrandingPage {
            username: user.admin.username.clone(),
            csrf: user.csrf.clone(),
            heading,
            api,
            install_id,
        },
    )
}

pub async fn default_page(user: PageAdmin) -> Response {
    render(
        user,
        "Default branding".to_owned(),
        "/api/enterprise/branding/default".to_owned(),
        String::new(),
    )
}

pub async fn customer_page(user: PageAdmin, Path(raw_id): Path<String>) -> Response {
    match parse_install_id(&raw_id) {
        Ok(id) => render(
            user,
            format!("Branding of {id}"),
            format!("/api/enterprise/customers/{id}/branding"),
            id.to_string(),
        ),
        Err(_) => super::render::error_page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such customer.",
        ),
    }
}
