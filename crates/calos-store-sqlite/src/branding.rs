//! Brands: a license's basic branding row (`brandings`), the full brand of
//! each scope (`brand_profiles`: the vendor default and each customer) with
//! its version, and uploaded logos (`brand_logos`). The basic row and the
//! profile of a license are written together, so they never disagree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::branding::{
    BrandScope, BrandSettings, Branding, HexColor, HttpUrl, StoredBrand, UploadedLogo,
};
use calos_core::customer::DisplayText;
use calos_core::ids::InstallId;
use calos_store::{BrandingStore, LogoFile, StoreError, StoreResult};

use crate::db::{
    commit, corrupt, db_err, from_json, get, insert_audit, micros, time, to_json, write_tx,
};
use crate::SqliteStore;

type Tx = Transaction<'static, Sqlite>;

pub(crate) async fn get_one(
    pool: &SqlitePool,
    install_id: &InstallId,
) -> StoreResult<Option<Branding>> {
    let row = sqlx::query(
        "SELECT product_name, primary_color, logo_url, updated_at FROM brandings WHERE install_id = ?",
    )
    .bind(install_id.as_str())
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.map(|row| {
        Ok(Branding {
            install_id: install_id.clone(),
            product_name: DisplayText::parse("productName", &get::<String>(&row, "product_name")?)
                .map_err(|e| corrupt("product name", e))?,
            primary_color: HexColor::parse(&get::<String>(&row, "primary_color")?)
                .map_err(|e| corrupt("primary colour", e))?,
            logo_url: get(&row, "logo_url")?,
            updated_at: time(&row, "updated_at")?,
        })
    })
    .transpose()
}

pub(crate) async fn put(pool: &SqlitePool, b: &Branding, audit: &AuditEntry) -> StoreResult<()> {
    let mut tx = write_tx(pool).await?;
    // Checked first so an unknown license is `NotFound`, not a foreign-key error.
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM licenses WHERE install_id = ?")
        .bind(b.install_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound("license"));
    }
    upsert_basic(&mut tx, b).await?;
    // The full brand follows: same name, colour and logo URL, the rest kept.
    let scope = BrandScope::Install(b.install_id.clone());
    let mut settings = match load(&mut tx, &scope).await? {
        Some(stored) => stored.settings,
        None => BrandSettings::builtin(),
    };
    settings.product_name = b.product_name.clone();
    settings.primary_color = b.primary_color.clone();
    settings.logo_url = b
        .logo_url
        .as_deref()
        .and_then(|u| HttpUrl::parse_field("logoUrl", u).ok());
    upsert_profile(&mut tx, &scope, &settings, b.updated_at).await?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await
}

async fn upsert_basic(tx: &mut Tx, b: &Branding) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO brandings (install_id, product_name, primary_color, logo_url, updated_at) \
         VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (install_id) DO UPDATE SET product_name = excluded.product_name, \
         primary_color = excluded.primary_color, logo_url = excluded.logo_url, updated_at = excluded.updated_at",
    )
    .bind(b.install_id.as_str())
    .bind(b.product_name.as_str())
    .bind(b.primary_color.as_str())
    .bind(&b.logo_url)
    .bind(micros(b.updated_at))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn load(tx: &mut Tx, scope: &BrandScope) -> StoreResult<Option<StoredBrand>> {
    let row = sqlx::query(
        "SELECT p.settings_json, p.version, p.updated_at, l.content_type, l.sha256, \
         length(l.data) AS size FROM brand_profiles p LEFT JOIN brand_logos l ON l.scope = p.scope \
         WHERE p.scope = ?",
    )
    .bind(scope.key())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_err)?;
    let Some(row) = row else { return Ok(None) };
    let content_type: Option<String> = get(&row, "content_type")?;
    let logo = match content_type {
        Some(content_type) => Some(UploadedLogo {
            content_type,
            sha256: get(&row, "sha256")?,
            size: u64::try_from(get::<i64>(&row, "size")?).unwrap_or(0),
        }),
        None => None,
    };
    Ok(Some(StoredBrand {
        scope: scope.clone(),
        settings: from_json(&get::<String>(&row, "settings_json")?, "brand settings")?,
        version: u64::try_from(get::<i64>(&row, "version")?).unwrap_or(0),
        logo,
        updated_at: time(&row, "updated_at")?,
    }))
}

/// `NotFound` when a license's scope names no license.
async fn check_scope(tx: &mut Tx, scope: &BrandScope) -> StoreResult<()> {
    if let BrandScope::Install(id) = scope {
        let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM licenses WHERE install_id = ?")
            .bind(id.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound("license"));
        }
    }
    Ok(())
}

async fn upsert_profile(
    tx: &mut Tx,
    scope: &BrandScope,
    settings: &BrandSettings,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO brand_profiles (scope, settings_json, version, updated_at) VALUES (?, ?, 1, ?) \
         ON CONFLICT (scope) DO UPDATE SET settings_json = excluded.settings_json, \
         version = brand_profiles.version + 1, updated_at = excluded.updated_at",
    )
    .bind(scope.key())
    .bind(to_json(settings, "brand settings")?)
    .bind(micros(now))
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Stores the full brand and, for a license, its basic row.
async fn write_brand(
    tx: &mut Tx,
    scope: &BrandScope,
    settings: &BrandSettings,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    upsert_profile(tx, scope, settings, now).await?;
    if let BrandScope::Install(id) = scope {
        upsert_basic(
            tx,
            &Branding {
                install_id: id.clone(),
                product_name: settings.product_name.clone(),
                primary_color: settings.primary_color.clone(),
                logo_url: settings.logo_url.as_ref().map(|u| u.to_string()),
                updated_at: now,
            },
        )
        .await?;
    }
    Ok(())
}

async fn loaded(tx: &mut Tx, scope: &BrandScope) -> StoreResult<StoredBrand> {
    load(tx, scope)
        .await?
        .ok_or_else(|| StoreError::Backend("a brand just written is missing".to_owned()))
}

#[async_trait]
impl BrandingStore for SqliteStore {
    async fn get_brand(&self, scope: &BrandScope) -> StoreResult<Option<StoredBrand>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let brand = load(&mut tx, scope).await?;
        tx.rollback().await.map_err(db_err)?;
        Ok(brand)
    }

    async fn put_brand(
        &self,
        scope: &BrandScope,
        settings: &BrandSettings,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<StoredBrand> {
        let mut tx = write_tx(&self.pool).await?;
        check_scope(&mut tx, scope).await?;
        write_brand(&mut tx, scope, settings, now).await?;
        insert_audit(&mut tx, audit).await?;
        let stored = loaded(&mut tx, scope).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn put_brand_logo(
        &self,
        scope: &BrandScope,
        logo: &LogoFile,
        base: &BrandSettings,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<StoredBrand> {
        let mut tx = write_tx(&self.pool).await?;
        check_scope(&mut tx, scope).await?;
        let mut settings = match load(&mut tx, scope).await? {
            Some(stored) => stored.settings,
            None => base.clone(),
        };
        settings.logo_url = None;
        write_brand(&mut tx, scope, &settings, now).await?;
        sqlx::query(
            "INSERT INTO brand_logos (scope, content_type, sha256, data, updated_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (scope) DO UPDATE SET content_type = excluded.content_type, \
             sha256 = excluded.sha256, data = excluded.data, updated_at = excluded.updated_at",
        )
        .bind(scope.key())
        .bind(&logo.content_type)
        .bind(&logo.sha256)
        .bind(&logo.data)
        .bind(micros(now))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, audit).await?;
        let stored = loaded(&mut tx, scope).await?;
        commit(tx).await?;
        Ok(stored)
    }

    async fn delete_brand_logo(
        &self,
        scope: &BrandScope,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<StoredBrand>> {
        let mut tx = write_tx(&self.pool).await?;
        let Some(current) = load(&mut tx, scope).await? else {
            return Ok(None);
        };
        if current.logo.is_some() {
            sqlx::query("DELETE FROM brand_logos WHERE scope = ?")
                .bind(scope.key())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            write_brand(&mut tx, scope, &current.settings, now).await?;
            insert_audit(&mut tx, audit).await?;
        }
        let stored = loaded(&mut tx, scope).await?;
        commit(tx).await?;
        Ok(Some(stored))
    }

    async fn get_brand_logo(
        &self,
        scope: &BrandScope,
        sha256: &str,
    ) -> StoreResult<Option<LogoFile>> {
        let row = sqlx::query(
            "SELECT content_type, sha256, data FROM brand_logos WHERE scope = ? AND sha256 = ?",
        )
        .bind(scope.key())
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|row| {
            Ok(LogoFile {
                content_type: get(&row, "content_type")?,
                sha256: get(&row, "sha256")?,
                data: get(&row, "data")?,
            })
        })
        .transpose()
    }

    async fn brand_version(&self, install_id: &InstallId) -> StoreResult<u64> {
        let sum: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(version), 0) FROM brand_profiles WHERE scope IN (?, ?)",
        )
        .bind(install_id.as_str())
        .bind(BrandScope::DEFAULT_KEY)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u64::try_from(sum).unwrap_or(0))
    }
}
