//! Plans: seeded once, then edited by admins.

use chrono::Utc;
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqlitePool, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::money::Currency;
use calos_core::plan::{Plan, PlanSlug};
use calos_store::StoreResult;

use crate::db::{commit, corrupt, db_err, from_json, get, insert_audit, micros, to_json, write_tx};

const COLUMNS: &str = "slug, name, currency, price_monthly_minor, price_annual_minor, trial_days, \
     verification_interval_hours, limits_json, features_json, usage_prices_json";

/// Inserts `plan`; with `replace` an existing plan of that slug is overwritten,
/// without it left alone. Returns whether a row was written.
async fn write(
    tx: &mut Transaction<'static, Sqlite>,
    plan: &Plan,
    replace: bool,
) -> StoreResult<bool> {
    let on_conflict = if replace {
        "ON CONFLICT (slug) DO UPDATE SET name = excluded.name, currency = excluded.currency, \
         price_monthly_minor = excluded.price_monthly_minor, price_annual_minor = excluded.price_annual_minor, \
         trial_days = excluded.trial_days, verification_interval_hours = excluded.verification_interval_hours, \
         limits_json = excluded.limits_json, features_json = excluded.features_json, \
         usage_prices_json = excluded.usage_prices_json, updated_at = excluded.updated_at"
    } else {
        "ON CONFLICT (slug) DO NOTHING"
    };
    let sql = format!(
        "INSERT INTO plans ({COLUMNS}, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {on_conflict}"
    );
    let now = micros(Utc::now());
    let done = sqlx::query(&sql)
        .bind(plan.slug.as_str())
        .bind(&plan.name)
        .bind(plan.currency.as_str())
        .bind(plan.price_monthly_minor)
        .bind(plan.price_annual_minor)
        .bind(i64::from(plan.trial_days))
        .bind(i64::from(plan.verification_interval_hours))
        .bind(to_json(&plan.limits, "plan limits")?)
        .bind(to_json(&plan.features, "plan features")?)
        .bind(to_json(&plan.usage_prices, "plan usage prices")?)
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn ensure(pool: &SqlitePool, plans: &[Plan]) -> StoreResult<u64> {
    let mut tx = write_tx(pool).await?;
    let mut inserted = 0;
    for plan in plans {
        if write(&mut tx, plan, false).await? {
            inserted += 1;
        }
    }
    commit(tx).await?;
    Ok(inserted)
}

pub(crate) async fn put(pool: &SqlitePool, plan: &Plan, audit: &AuditEntry) -> StoreResult<()> {
    let mut tx = write_tx(pool).await?;
    write(&mut tx, plan, true).await?;
    insert_audit(&mut tx, audit).await?;
    commit(tx).await
}

pub(crate) async fn list(pool: &SqlitePool) -> StoreResult<Vec<Plan>> {
    let sql = format!("SELECT {COLUMNS} FROM plans ORDER BY price_monthly_minor, slug");
    let rows = sqlx::query(&sql).fetch_all(pool).await.map_err(db_err)?;
    rows.iter().map(plan).collect()
}

pub(crate) async fn get_one(pool: &SqlitePool, slug: &PlanSlug) -> StoreResult<Option<Plan>> {
    let sql = format!("SELECT {COLUMNS} FROM plans WHERE slug = ?");
    let row = sqlx::query(&sql)
        .bind(slug.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.as_ref().map(plan).transpose()
}

fn plan(row: &SqliteRow) -> StoreResult<Plan> {
    let small = |column: &str| -> StoreResult<u32> {
        let v: i64 = get(row, column)?;
        u32::try_from(v).map_err(|e| corrupt(column, e))
    };
    Ok(Plan {
        slug: PlanSlug::parse(&get::<String>(row, "slug")?).map_err(|e| corrupt("plan slug", e))?,
        name: get(row, "name")?,
        currency: Currency::parse(&get::<String>(row, "currency")?)
            .map_err(|e| corrupt("currency", e))?,
        price_monthly_minor: get(row, "price_monthly_minor")?,
        price_annual_minor: get(row, "price_annual_minor")?,
        trial_days: small("trial_days")?,
        verification_interval_hours: small("verification_interval_hours")?,
        limits: from_json(&get::<String>(row, "limits_json")?, "plan limits")?,
        features: from_json(&get::<String>(row, "features_json")?, "plan features")?,
        usage_prices: from_json(
            &get::<String>(row, "usage_prices_json")?,
            "plan usage prices",
        )?,
    })
}
