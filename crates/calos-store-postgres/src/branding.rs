//! A license's branding: one row per install, replaced as a whole.

use sqlx::{PgPool, Row};

use calos_core::audit::AuditEntry;
use calos_core::branding::{Branding, HexColor};
use calos_core::customer::DisplayText;
use calos_core::ids::InstallId;
use calos_store::{StoreError, StoreResult};

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::rows;

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
    .execute(&mut *tx)
    .await
    .db()?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()
}
