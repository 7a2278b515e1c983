//! Customers' account owners ([`AccountOwnerStore`]) on PostgreSQL: two
//! columns of `customers`, resolved through `admins`.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::customer::CustomerId;
use calos_core::ids::InstallId;
use calos_store::{
    resolve_owner, AccountOwner, AccountOwnerStore, OwnerChoice, StoreError, StoreResult,
};

use crate::error::DbResultExt;
use crate::PostgresStore;

const OWNER_COLUMNS: &str = "c.id AS customer_id, c.owner_admin_id, a.username, \
     a.email AS admin_email, COALESCE(a.disabled, FALSE) AS admin_disabled, c.owner_email";

fn owner_from(row: &PgRow) -> StoreResult<Option<AccountOwner>> {
    Ok(resolve_owner(
        row.try_get("customer_id").db()?,
        row.try_get("owner_admin_id").db()?,
        row.try_get("username").db()?,
        row.try_get("admin_email").db()?,
        row.try_get("admin_disabled").db()?,
        row.try_get("owner_email").db()?,
    ))
}

async fn owner_of_customer<'e, E>(executor: E, id: CustomerId) -> StoreResult<Option<AccountOwner>>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    let row = sqlx::query(&format!(
        "SELECT {OWNER_COLUMNS} FROM customers c \
         LEFT JOIN admins a ON a.id = c.owner_admin_id WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
    .db()?
    .ok_or(StoreError::NotFound("customer"))?;
    owner_from(&row)
}

#[async_trait]
impl AccountOwnerStore for PostgresStore {
    async fn account_owner(&self, customer_id: CustomerId) -> StoreResult<Option<AccountOwner>> {
        owner_of_customer(&self.pool, customer_id).await
    }

    async fn account_owner_of_install(
        &self,
        install_id: &InstallId,
    ) -> StoreResult<Option<AccountOwner>> {
        let row = sqlx::query(&format!(
            "SELECT {OWNER_COLUMNS} FROM licenses l JOIN customers c ON c.id = l.customer_id \
             LEFT JOIN admins a ON a.id = c.owner_admin_id WHERE l.install_id = $1"
        ))
        .bind(install_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        match row {
            Some(row) => owner_from(&row),
            None => Ok(None),
        }
    }

    async fn set_account_owner(
        &self,
        customer_id: CustomerId,
        owner: Option<&OwnerChoice>,
        audit: &AuditEntry,
    ) -> StoreResult<Option<AccountOwner>> {
        let mut tx = self.pool.begin().await.db()?;
        write_owner(&mut tx, customer_id, owner).await?;
        crate::audit::insert_audit(&mut tx, audit).await?;
        let owner = owner_of_customer(&mut *tx, customer_id).await?;
        tx.commit().await.db()?;
        Ok(owner)
    }
}

/// Stores `owner` (or none) on a customer inside `tx`. `NotFound` for an
/// unknown customer or admin.
pub(crate) async fn write_owner(
    tx: &mut Transaction<'static, Postgres>,
    customer_id: CustomerId,
    owner: Option<&OwnerChoice>,
) -> StoreResult<()> {
    let (admin_id, email) = match owner {
        None => (None, None),
        Some(OwnerChoice::Admin(id)) => {
            // FOR SHARE: the admin cannot vanish before the update commits.
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM admins WHERE id = $1 FOR SHARE")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await
                    .db()?;
            if exists.is_none() {
                return Err(StoreError::NotFound("admin"));
            }
            (Some(*id), None)
        }
        Some(OwnerChoice::Email(e)) => (None, Some(e.as_str().to_owned())),
    };
    let done =
        sqlx::query("UPDATE customers SET owner_admin_id = $1, owner_email = $2 WHERE id = $3")
            .bind(admin_id)
            .bind(email)
            .bind(customer_id)
            .execute(&mut **tx)
            .await
            .db()?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("customer"));
    }
    Ok(())
}
