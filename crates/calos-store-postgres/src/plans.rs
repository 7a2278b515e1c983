//! Plans: seeded once, then edited by admins.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};

use calos_core::audit::AuditEntry;
use calos_core::money::Currency;
use calos_core::plan::{Plan, PlanSlug};
use calos_store::StoreResult;

use crate::audit::insert_audit;
use crate::error::{corrupt, DbResultExt};
use crate::rows::{from_json, to_json};

const PLAN_COLUMNS: &str = "slug, name, currency, price_monthly_minor, price_annual_minor,
    trial_days, verification_interval_hours, limits_json, features_json, usage_prices_json";

pub(crate) async fn ensure_plans(pool: &PgPool, plans: &[Plan]) -> StoreResult<u64> {
    let now = Utc::now();
    let mut tx = pool.begin().await.db()?;
    let mut inserted = 0;
    for plan in plans {
        inserted += upsert(&mut tx, plan, now, false).await?;
    }
    tx.commit().await.db()?;
    Ok(inserted)
}

pub(crate) async fn list_plans(pool: &PgPool) -> StoreResult<Vec<Plan>> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM plans ORDER BY slug COLLATE \"C\"");
    let rows = sqlx::query(&sql).fetch_all(pool).await.db()?;
    rows.iter().map(plan).collect()
}

pub(crate) async fn get_plan(pool: &PgPool, slug: &PlanSlug) -> StoreResult<Option<Plan>> {
    let sql = format!("SELECT {PLAN_COLUMNS} FROM plans WHERE slug = $1");
    let row = sqlx::query(&sql)
        .bind(slug.as_str())
        .fetch_optional(pool)
        .await
        .db()?;
    row.as_ref().map(plan).transpose()
}

pub(crate) async fn put_plan(pool: &PgPool, plan: &Plan, audit: &AuditEntry) -> StoreResult<()> {
    let mut tx = pool.begin().await.db()?;
    upsert(&mut tx, plan, audit.at, true).await?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.db()
}

/// Inserts `plan`; when the slug exists, replaces it (`replace`) or leaves it
/// alone. Returns the number of rows written.
async fn upsert(
    tx: &mut Transaction<'_, Postgres>,
    plan: &Plan,
    now: DateTime<Utc>,
    replace: bool,
) -> StoreResult<u64> {
    let on_conflict = if replace {
        "DO UPDATE SET name = EXCLUDED.name, currency = EXCLUDED.currency,
            price_monthly_minor = EXCLUDED.price_monthly_minor,
            price_annual_minor = EXCLUDED.price_annual_minor,
            trial_days = EXCLUDED.trial_days,
            verification_interval_hours = EXCLUDED.verification_interval_hours,
            limits_json = EXCLUDED.limits_json, features_json = EXCLUDED.features_json,
            usage_prices_json = EXCLUDED.usage_prices_json, updated_at = EXCLUDED.updated_at"
    } else {
        "DO NOTHING"
    };
    let sql = format!(
        "INSERT INTO plans ({PLAN_COLUMNS}, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
         ON CONFLICT (slug) {on_conflict}"
    );
    let done = sqlx::query(&sql)
        .bind(plan.slug.as_str())
        .bind(&plan.name)
        .bind(plan.currency.as_str())
        .bind(plan.price_monthly_minor)
        .bind(plan.price_annual_minor)
        .bind(i64::from(plan.trial_days))
        .bind(i64::from(plan.verification_interval_hours))
        .bind(to_json("plan limits", &plan.limits)?)
        .bind(to_json("plan features", &plan.features)?)
        .bind(to_json("plan usage prices", &plan.usage_prices)?)
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(done.rows_affected())
}

fn plan(row: &PgRow) -> StoreResult<Plan> {
    let slug: String = row.try_get("slug").db()?;
    let currency: String = row.try_get("currency").db()?;
    let trial_days: i64 = row.try_get("trial_days").db()?;
    let hours: i64 = row.try_get("verification_interval_hours").db()?;
    Ok(Plan {
        slug: PlanSlug::parse(&slug).map_err(|e| corrupt("plan slug", e))?,
        name: row.try_get("name").db()?,
        currency: Currency::parse(&currency).map_err(|e| corrupt("plan currency", e))?,
        price_monthly_minor: row.try_get("price_monthly_minor").db()?,
        price_annual_minor: row.try_get("price_annual_minor").db()?,
        trial_days: u32::try_from(trial_days).map_err(|e| corrupt("plan trial days", e))?,
        verification_interval_hours: u32::try_from(hours)
            .map_err(|e| corrupt("plan verification interval", e))?,
        limits: from_json("plan limits", row.try_get("limits_json").db()?)?,
        features: from_json("plan features", row.try_get("features_json").db()?)?,
        usage_prices: from_json("plan usage prices", row.try_get("usage_prices_json").db()?)?,
    })
}
