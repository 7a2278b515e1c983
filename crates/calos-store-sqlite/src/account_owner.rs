//! Customers' account owners ([`AccountOwnerStore`]) on SQLite: two
//! columns of `customers`, resolved through `admins`.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::customer::CustomerId;
use calos_core::ids::InstallId;
use calos_store::{
    resolve_owner, AccountOwner, AccountOwnerStore, OwnerChoice, StoreError, StoreResult,
};

use crate::db::{commit, db_err, get, insert_audit, write_tx};
use crate::SqliteStore;

const OWNER_COLUMNS: &str = "c.id AS customer_id, c.owner_admin_id, a.username, \
     a.email AS admin_email, COALESCE(a.disabled, 0) AS admin_disabled, c.owner_email";

fn owner_from(row: &SqliteRow) -> StoreResult<Option<AccountOwner>> {
    Ok(resolve_owner(
        get(row, "customer_id")?,
        get(row, "owner_admin_id")?,
        get(row, "username")?,
        get(row, "admin_email")?,
        get::<i64>(row, "admin_disabled")? != 0,
        get(row, "owner_email")?,
    ))
}

async fn owner_of_customer<'e, E>(executor: E, id: CustomerId) -> StoreResult<Option<AccountOwner>>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let row = sqlx::query(&format!(
        "SELECT {OWNER_COLUMNS} FROM customers c \
         LEFT JOIN admins a ON a.id = c.owner_admin_id WHERE c.id = ?"
    ))
    .bind(id)
    .fetch_optional(executor)
    .await
    .map_err(db_err)?
    .ok_or(StoreError::NotFound("customer"))?;
    owner_from(&row)
}

#[async_trait]
impl AccountOwnerStore for SqliteStore {
    async fn account_owner(&self, customer_id: CustomerId) -> StoreResult<Option<AccountOwner>> {
        owner_of_customer(&self.pool, customer_id).await
    }

    async fn account_owner_of_install(
        &self,
        install_id: &InstallId,
    ) -> StoreResult<Option<AccountOwner>> {
        let row = sqlx::query(&format!(
            "SELECT {OWNER_COLUMNS} FROM licenses l JOIN customers c ON c.id = l.customer_id \
             LEFT JOIN admins a ON a.id = c.owner_admin_id WHERE l.install_id = ?"
        ))
        .bind(install_id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
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
        let mut tx = write_tx(&self.pool).await?;
        write_owner(&mut tx, customer_id, owner).await?;
        insert_audit(&mut tx, audit).await?;
        let owner = owner_of_customer(&mut *tx, customer_id).await?;
        commit(tx).await?;
        Ok(owner)
    }
}

/// Stores `owner` (or none) on a customer inside `tx`. `NotFound` for an
/// unknown customer or admin.
pub(crate) async fn write_owner(
    tx: &mut Transaction<'static, Sqlite>,
    customer_id: CustomerId,
    owner: Option<&OwnerChoice>,
) -> StoreResult<()> {
    let (admin_id, email) = match owner {
        None => (None, None),
        Some(OwnerChoice::Admin(id)) => {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM admins WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_err)?;
            if exists.is_none() {
                return Err(StoreError::NotFound("admin"));
            }
            (Some(*id), None)
        }
        Some(OwnerChoice::Email(e)) => (None, Some(e.as_str().to_owned())),
    };
    let done = sqlx::query("UPDATE customers SET owner_admin_id = ?, owner_email = ? WHERE id = ?")
        .bind(admin_id)
        .bind(email)
        .bind(customer_id)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("customer"));
    }
    Ok(())
}
