//! Customers: read by id or e-mail; created together with their first license.

use sqlx::{PgPool, Postgres, Transaction};

use calos_core::customer::{Customer, CustomerId, Email, NewCustomer};
use calos_store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};

use crate::error::DbResultExt;
use crate::rows::{self, CUSTOMER_COLUMNS};

pub(crate) async fn get_customer(pool: &PgPool, id: CustomerId) -> StoreResult<Option<Customer>> {
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await.db()?;
    row.as_ref().map(rows::customer).transpose()
}

pub(crate) async fn find_customer_by_email(
    pool: &PgPool,
    email: &Email,
) -> StoreResult<Option<Customer>> {
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.email = $1");
    let row = sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
        .db()?;
    row.as_ref().map(rows::customer).transpose()
}

pub(crate) async fn count_customers(pool: &PgPool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
        .fetch_one(pool)
        .await
        .db()?;
    Ok(n.unsigned_abs())
}

/// Inserts a customer in the caller's transaction. `Conflict("email")` when taken.
pub(crate) async fn insert_customer(
    tx: &mut Transaction<'_, Postgres>,
    new: &NewCustomer,
    created_at: DateTime<Utc>,
) -> StoreResult<Customer> {
    let sql = format!(
        "INSERT INTO customers AS c (name, email, company, created_at) VALUES ($1, $2, $3, $4)
         RETURNING {CUSTOMER_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new.name.as_str())
        .bind(new.email.as_str())
        .bind(new.company.as_ref().map(|c| c.as_str()))
        .bind(created_at)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| match crate::error::map(e) {
            StoreError::Conflict { field: "email", .. } => StoreError::conflict(
                "email",
                format!(
                    "a customer with e-mail {} already exists",
                    new.email.as_str()
                ),
            ),
            other => other,
        })?;
    rows::customer(&row)
}

/// The customer with `id`, read in the caller's transaction and locked against
/// deletion until it ends.
pub(crate) async fn customer_in_tx(
    tx: &mut Transaction<'_, Postgres>,
    id: CustomerId,
) -> StoreResult<Customer> {
    let sql = format!("SELECT {CUSTOMER_COLUMNS} FROM customers c WHERE c.id = $1 FOR SHARE");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .db()?
        .ok_or(StoreError::NotFound("customer"))?;
    rows::customer(&row)
}
