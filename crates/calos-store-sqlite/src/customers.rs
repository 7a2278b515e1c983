//! Customers: read here, created together with their first license.

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqliteExecutor, SqlitePool, Transaction};

use calos_core::customer::{Customer, CustomerId, DisplayText, Email, NewCustomer};
use calos_store::StoreResult;

use crate::db::{corrupt, count, db_err, get, micros, time};

const SELECT: &str = "SELECT id, name, email, company, created_at FROM customers";

pub(crate) async fn get_by_id<'e>(
    exec: impl SqliteExecutor<'e>,
    id: CustomerId,
) -> StoreResult<Option<Customer>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = ?"))
        .bind(id)
        .fetch_optional(exec)
        .await
        .map_err(db_err)?;
    row.as_ref().map(customer).transpose()
}

pub(crate) async fn find_by_email(
    pool: &SqlitePool,
    email: &Email,
) -> StoreResult<Option<Customer>> {
    let row = sqlx::query(&format!("{SELECT} WHERE email = ?"))
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(customer).transpose()
}

pub(crate) async fn count_all(pool: &SqlitePool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(pool)
        .await
        .map_err(db_err)?;
    Ok(count(n))
}

/// Inserts a customer inside the caller's transaction; a taken e-mail is `Conflict("email")`.
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    new: &NewCustomer,
    created_at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Customer> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO customers (name, email, company, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(new.name.as_str())
    .bind(new.email.as_str())
    .bind(new.company.as_ref().map(DisplayText::as_str))
    .bind(micros(created_at))
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(Customer {
        id,
        name: new.name.clone(),
        email: new.email.clone(),
        company: new.company.clone(),
        created_at,
    })
}

/// A customer from columns named `{prefix}id`, `{prefix}name`, ….
pub(crate) fn customer_with_prefix(row: &SqliteRow, prefix: &str) -> StoreResult<Customer> {
    let col = |name: &str| format!("{prefix}{name}");
    let text = |field: &'static str, raw: &str| {
        DisplayText::parse(field, raw).map_err(|e| corrupt(field, e))
    };
    Ok(Customer {
        id: get(row, &col("id"))?,
        name: text("customer name", &get::<String>(row, &col("name"))?)?,
        email: Email::parse(&get::<String>(row, &col("email"))?)
            .map_err(|e| corrupt("customer email", e))?,
        company: get::<Option<String>>(row, &col("company"))?
            .map(|c| text("customer company", &c))
            .transpose()?,
        created_at: time(row, &col("created_at"))?,
    })
}

fn customer(row: &SqliteRow) -> StoreResult<Customer> {
    customer_with_prefix(row, "")
}
