//! The customer's branding for the vendor's product: `GET /api/v1/branding`
//! with the install's credentials (as headers, never in the URL), parsed into
//! [`Branding`] with the CSS variables ready to inject. The level decides
//! what the product shows: `none` the customer's brand only, `minimal` with
//! a small "Powered by" line, `full` the vendor's own brand.

use crate::client::Client;
use crate::error::CallError;

/// Limit of a branding answer.
pub const BRANDING_LIMIT: usize = 64 * 1024;

/// What the product renders: the server's answer, as the protocol defines it.
pub use calos_core::branding::BrandView as Branding;

impl Client {
    /// Fetches the install's branding from the server. The level is the one
    /// in the last signed verdict when there is one (see `start`).
    pub async fn branding(&self) -> Result<Branding, CallError> {
        let inner = &self.inner;
        let body = inner
            .http
            .get_with_headers(
                "/api/v1/branding",
                &[
                    ("x-calos-install-id", inner.cfg.install_id.as_str()),
                    ("x-calos-license-key", inner.cfg.license_key.as_str()),
                ],
                BRANDING_LIMIT,
            )
            .await?;
        let mut branding: Branding =
            serde_json::from_slice(&body).map_err(|e| CallError::BadBody(e.to_string()))?;
        // The level in the signed verdict wins over the unsigned answer: a
        // proxy in between cannot turn white-label on.
        let signed = crate::client::lock(&inner.license)
            .held
            .as_ref()
            .and_then(|claims| claims.branding_level);
        if let Some(level) = signed {
            branding.level = level;
        }
        if let Some(path) = branding.logo_url.as_deref().filter(|u| u.starts_with('/')) {
            branding.logo_url = Some(format!("{}{path}", inner.http.base()));
        }
        Ok(branding)
    }
}
