//! The branding answer of `GET /api/v1/branding`, shared by the server that
//! sends it and the SDK that reads it (one definition, so they cannot drift).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::BrandingLevel;

/// What a deployment or a portal of one install shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrandView {
    pub install_id: String,
    pub level: BrandingLevel,
    /// Changes whenever anything below may have: compare before re-rendering.
    pub version: u64,
    pub product_name: String,
    pub primary_color: String,
    pub secondary_color: Option<String>,
    /// An http(s) URL, or a path on the server for an uploaded logo (the
    /// SDK makes it absolute).
    pub logo_url: Option<String>,
    pub support_email: Option<String>,
    pub support_url: Option<String>,
    pub footer_text: Option<String>,
    /// `minimal` and `full`: the line the product must show.
    pub powered_by: Option<String>,
    /// Custom properties to set on `:root` (`--brand-primary`, …), colours included.
    pub css_variables: BTreeMap<String, String>,
    /// The same as one `:root{…}` rule, ready for a `<style>` element or stylesheet.
    pub css_text: String,
}

impl BrandView {
    /// Whether the product must show the vendor's "Powered by" line.
    pub fn shows_powered_by(&self) -> bool {
        self.level != BrandingLevel::None
    }
}
