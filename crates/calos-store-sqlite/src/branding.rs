//! A license's branding.

use sqlx::SqlitePool;

use calos_core::audit::AuditEntry;
use calos_core::branding::{Branding, HexColor};
use calos_core::customer::DisplayText;
use calos_core::ids::InstallId;
use calos_store::{StoreError, StoreResult};

use crate::db::{commit, corrupt, db_err, get, insert_audit, micros, time, write_tx};

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
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await
}
