//! Storage for brands (issue 8): the vendor-wide default and each customer's
//! brand, their versions, and uploaded logos (bytes in the database, so every
//! server node serves them). A license's basic [`Branding`] row
//! (`Store::get_branding`) is kept in step with its brand in the same
//! transaction, both ways.
//!
//! [`Branding`]: calos_core::branding::Branding

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use calos_core::audit::AuditEntry;
use calos_core::branding::{BrandScope, BrandSettings, StoredBrand};
use calos_core::ids::InstallId;

use crate::StoreResult;

/// An uploaded logo, already checked (type sniffed, size limited, SVG safe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoFile {
    pub content_type: String,
    /// Hex SHA-256 of `data`.
    pub sha256: String,
    pub data: Vec<u8>,
}

#[async_trait]
pub trait BrandingStore {
    /// The brand stored for `scope`, if one was ever set.
    async fn get_brand(&self, scope: &BrandScope) -> StoreResult<Option<StoredBrand>>;

    /// Creates or replaces the brand of `scope`; its version goes up by one
    /// (a new brand starts at 1). `NotFound` for an unknown license.
    async fn put_brand(
        &self,
        scope: &BrandScope,
        settings: &BrandSettings,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<StoredBrand>;

    /// Stores `logo` as the brand's uploaded logo (replacing any) and clears
    /// the brand's logo URL, so the upload is what shows; the version goes up.
    /// A scope without a brand yet gets `base` as its settings. `NotFound`
    /// for an unknown license.
    async fn put_brand_logo(
        &self,
        scope: &BrandScope,
        logo: &LogoFile,
        base: &BrandSettings,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<StoredBrand>;

    /// Removes the uploaded logo; the version goes up when there was one.
    /// `None` when the scope has no brand.
    async fn delete_brand_logo(
        &self,
        scope: &BrandScope,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<StoredBrand>>;

    /// The uploaded logo of `scope` when its hash is `sha256` (a stale URL
    /// finds nothing).
    async fn get_brand_logo(
        &self,
        scope: &BrandScope,
        sha256: &str,
    ) -> StoreResult<Option<LogoFile>>;

    /// The branding version a deployment of `install_id` sees: its own
    /// brand's version plus the default's (0 for one never set). Both only
    /// grow, so the sum changes whenever what the install shows may have.
    async fn brand_version(&self, install_id: &InstallId) -> StoreResult<u64>;
}
