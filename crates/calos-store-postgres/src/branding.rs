//! Brands: a license's basic branding row (`brandings`), the full brand of
//! each scope (`brand_profiles`: the vendor default and each customer) with
//! its version, and uploaded logos (`brand_logos`). The basic row and the
//! profile of a license are written together, so they never disagree.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::branding::{
    BrandScope, BrandSettings, Branding, HexColor, HttpUrl, StoredBrand, UploadedLogo,
};
use calos_core::customer::DisplayText;
use calos_core::ids::InstallId;
use calos_store::{BrandingStore, LogoFile, StoreError, StoreResult};

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::{rows, PostgresStore};

type Tx = Transaction<'static, Postgres>;

pub(crate) async fn get_branding(
    pool: &PgPool,
    install_id: &InstallId,
) -> StoreResult<Option<Branding>> {
    let row = sqlx::query(
        "SELECT install_id, product_name, primary_color, logo_url, updated_at
         FROM brandings WHERE install_id = $1",
    )
    .bind(install_id.as_str())
    .fetch_optional(pool)
    .await
    .db()?;
    let Some(row) = row else { return Ok(None) };
    let install: String = row.try_get("install_id").db()?;
    let name: String = row.try_get("product_name").db()?;
    let color: String = row.try_get("primary_color").db()?;
    Ok(Some(Branding {
        install_id: rows::install_id(&install)?,
        product_name: DisplayText::parse("productName", &name)
            .map_err(|e| corrupt("branding product name", e))?,
        primary_color: HexColor::parse(&color).map_err(|e| corrupt("branding colour", e))?,
        logo_url: row.try_get("logo_url").db()?,
        updated_at: row.try_get("updated_at").db()?,
    }))
}

pub(crate) async fn put_branding(
    pool: &PgPool,
    branding: &Branding,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await.db()?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM licenses WHERE install_id = $1)")
            .bind(branding.install_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .db()?;
    if !exists {
        return Err(StoreError::NotFound("license"));
    }
    upsert_basic(&mut tx, branding).await?;
    // The full brand follows: same name, colour and logo URL, the rest kept.
    let scope = BrandScope::Install(branding.install_id.clone());
    let mut settings = match load(&mut tx, &scope).await? {
        Some(stored) => stored.settings,
        None => BrandSettings::builtin(),
    };
    settings.product_name = branding.product_name.clone();
    settings.primary_color = branding.primary_color.clone();
    settings.logo_url = branding
        .logo_url
        .as_deref()
        .and_then(|u| HttpUrl::parse_field("logoUrl", u).ok());
    upsert_profile(&mut tx, &scope, &settings, branding.updated_at).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()
}

async fn upsert_basic(tx: &mut Tx, branding: &Branding) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO brandings (install_id, product_name, primary_color, logo_url, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (install_id) DO UPDATE SET product_name = EXCLUDED.product_name,
             primary_color = EXCLUDED.primary_color, logo_url = EXCLUDED.logo_url,
             updated_at = EXCLUDED.updated_at",
    )
    .bind(branding.install_id.as_str())
    .bind(branding.product_name.as_str())
    .bind(branding.primary_color.as_str())
    .bind(&branding.logo_url)
    .bind(branding.updated_at)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

async fn load(tx: &mut Tx, scope: &BrandScope) -> StoreResult<Option<StoredBrand>> {
    let row = sqlx::query(
        "SELECT p.settings, p.version, p.updated_at, l.content_type, l.sha256,
                octet_length(l.data)::BIGINT AS size
         FROM brand_profiles p LEFT JOIN brand_logos l ON l.scope = p.scope
         WHERE p.scope = $1",
    )
    .bind(scope.key())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let Some(row) = row else { return Ok(None) };
    let content_type: Option<String> = row.try_get("content_type").db()?;
    let logo = match content_type {
        Some(content_type) => Some(UploadedLogo {
            content_type,
            sha256: row.try_get("sha256").db()?,
            size: u64::try_from(row.try_get::<i64, _>("size").db()?).unwrap_or(0),
        }),
        None => None,
    };
    Ok(Some(StoredBrand {
        scope: scope.clone(),
        settings: rows::from_json("brand settings", row.try_get("settings").db()?)?,
        version: u64::try_from(row.try_get::<i64, _>("version").db()?).unwrap_or(0),
        logo,
        updated_at: row.try_get("updated_at").db()?,
    }))
}

/// `NotFound` when a license's scope names no license.
async fn check_scope(tx: &mut Tx, scope: &BrandScope) -> StoreResult<()> {
    if let BrandScope::Install(id) = scope {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM licenses WHERE install_id = $1)")
                .bind(id.as_str())
                .fetch_one(&mut **tx)
                .await
                .db()?;
        if !exists {
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
        "INSERT INTO brand_profiles (scope, settings, version, updated_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (scope) DO UPDATE SET settings = EXCLUDED.settings,
             version = brand_profiles.version + 1, updated_at = EXCLUDED.updated_at",
    )
    .bind(scope.key())
    .bind(rows::to_json("brand settings", settings)?)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
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

/// Serialises brand writes of one scope, so versions never skip or repeat.
async fn lock_scope(tx: &mut Tx, scope: &BrandScope) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('brand:' || $1))")
        .bind(scope.key())
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

#[async_trait]
impl BrandingStore for PostgresStore {
    async fn get_brand(&self, scope: &BrandScope) -> StoreResult<Option<StoredBrand>> {
        let mut tx = self.pool.begin().await.db()?;
        let brand = load(&mut tx, scope).await?;
        tx.rollback().await.db()?;
        Ok(brand)
    }

    async fn put_brand(
        &self,
        scope: &BrandScope,
        settings: &BrandSettings,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<StoredBrand> {
        let mut tx = self.pool.begin().await.db()?;
        check_scope(&mut tx, scope).await?;
        lock_scope(&mut tx, scope).await?;
        write_brand(&mut tx, scope, settings, now).await?;
        insert_audit(&mut tx, audit).await?;
        let stored = loaded(&mut tx, scope).await?;
        tx.commit().await.db()?;
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
        let mut tx = self.pool.begin().await.db()?;
        check_scope(&mut tx, scope).await?;
        lock_scope(&mut tx, scope).await?;
        let mut settings = match load(&mut tx, scope).await? {
            Some(stored) => stored.settings,
            None => base.clone(),
        };
        settings.logo_url = None;
        write_brand(&mut tx, scope, &settings, now).await?;
        sqlx::query(
            "INSERT INTO brand_logos (scope, content_type, sha256, data, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (scope) DO UPDATE SET content_type = EXCLUDED.content_type,
                 sha256 = EXCLUDED.sha256, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at",
        )
        .bind(scope.key())
        .bind(&logo.content_type)
        .bind(&logo.sha256)
        .bind(&logo.data)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        insert_audit(&mut tx, audit).await?;
        let stored = loaded(&mut tx, scope).await?;
        tx.commit().await.db()?;
        Ok(stored)
    }

    async fn delete_brand_logo(
        &self,
        scope: &BrandScope,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<StoredBrand>> {
        let mut tx = self.pool.begin().await.db()?;
        lock_scope(&mut tx, scope).await?;
        let Some(current) = load(&mut tx, scope).await? else {
            return Ok(None);
        };
        if current.logo.is_some() {
            sqlx::query("DELETE FROM brand_logos WHERE scope = $1")
                .bind(scope.key())
                .execute(&mut *tx)
                .await
                .db()?;
            write_brand(&mut tx, scope, &current.settings, now).await?;
            insert_audit(&mut tx, audit).await?;
        }
        let stored = loaded(&mut tx, scope).await?;
        tx.commit().await.db()?;
        Ok(Some(stored))
    }

    async fn get_brand_logo(
        &self,
        scope: &BrandScope,
        sha256: &str,
    ) -> StoreResult<Option<LogoFile>> {
        let row = sqlx::query(
            "SELECT content_type, sha256, data FROM brand_logos WHERE scope = $1 AND sha256 = $2",
        )
        .bind(scope.key())
        .bind(sha256)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.map(|row| {
            Ok(LogoFile {
                content_type: row.try_get("content_type").db()?,
                sha256: row.try_get("sha256").db()?,
                data: row.try_get("data").db()?,
            })
        })
        .transpose()
    }

    async fn brand_version(&self, install_id: &InstallId) -> StoreResult<u64> {
        let sum: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(version), 0)::BIGINT FROM brand_profiles WHERE scope IN ($1, $2)",
        )
        .bind(install_id.as_str())
        .bind(BrandScope::DEFAULT_KEY)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok(u64::try_from(sum).unwrap_or(0))
    }
}
