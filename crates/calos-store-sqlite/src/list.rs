//! The customer list: SQL filters, sorts, counts and pages; usage figures come
//! from correlated subqueries on indexed columns.

use chrono::Duration;
use sqlx::sqlite::SqliteRow;
use sqlx::SqlitePool;

use calos_store::{LicenseListItem, LicenseQuery, LicenseSort, Page, StoreResult};

use crate::customers::customer_with_prefix;
use crate::db::{count, db_err, get, micros};
use crate::licenses::{license, LICENSE_COLUMNS};

/// `?1` status, `?2` plan, `?3` LIKE pattern (already lower-cased and escaped).
const FILTER: &str = "FROM licenses l \
     JOIN customers c ON c.id = l.customer_id \
     JOIN plans p ON p.slug = l.plan_slug \
     WHERE (?1 IS NULL OR l.status = ?1) \
       AND (?2 IS NULL OR l.plan_slug = ?2) \
       AND (?3 IS NULL \
            OR lower(c.name) LIKE ?3 ESCAPE '\\' \
            OR lower(c.email) LIKE ?3 ESCAPE '\\' \
            OR lower(coalesce(c.company, '')) LIKE ?3 ESCAPE '\\' \
            OR lower(l.install_id) LIKE ?3 ESCAPE '\\' \
            OR EXISTS (SELECT 1 FROM license_domains d \
                       WHERE d.install_id = l.install_id AND lower(d.domain) LIKE ?3 ESCAPE '\\'))";

/// Every order ends with the install id so pages never overlap or skip.
fn order_by(sort: LicenseSort) -> &'static str {
    match sort {
        LicenseSort::CreatedDesc => "l.created_at DESC, l.install_id",
        LicenseSort::CreatedAsc => "l.created_at ASC, l.install_id",
        LicenseSort::NameAsc => "lower(c.name) ASC, l.install_id",
        LicenseSort::NameDesc => "lower(c.name) DESC, l.install_id",
        // Never-seen licenses go last in both directions.
        LicenseSort::LastSeenDesc => "l.last_seen_at IS NULL, l.last_seen_at DESC, l.install_id",
        LicenseSort::LastSeenAsc => "l.last_seen_at IS NULL, l.last_seen_at ASC, l.install_id",
        LicenseSort::TierAsc => "p.price_monthly_minor ASC, l.plan_slug ASC, l.install_id",
        LicenseSort::StatusAsc => {
            "CASE l.status WHEN 'trial' THEN 0 WHEN 'active' THEN 1 WHEN 'suspended' THEN 2 \
             WHEN 'revoked' THEN 3 ELSE 4 END, l.install_id"
        }
        LicenseSort::EventsDesc => "events_last_30_days DESC, l.install_id",
    }
}

/// A case-insensitive substring pattern with LIKE's wildcards taken literally.
fn like_pattern(search: Option<&str>) -> Option<String> {
    let search = search.filter(|s| !s.is_empty())?.to_lowercase();
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for ch in search.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    Some(pattern)
}

pub(crate) async fn list(
    pool: &SqlitePool,
    query: &LicenseQuery,
) -> StoreResult<Page<LicenseListItem>> {
    let status = query.status.map(|s| s.as_str());
    let plan = query.plan.as_ref().map(|p| p.as_str());
    let pattern = like_pattern(query.search.as_deref());
    let per_page = query.per_page.max(1);
    let offset = i64::from(query.page.max(1) - 1) * i64::from(per_page);

    // One read transaction: the count and the page see the same snapshot.
    let mut tx = pool.begin().await.map_err(db_err)?;
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) {FILTER}"))
        .bind(status)
        .bind(plan)
        .bind(&pattern)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    let sql = format!(
        "SELECT {LICENSE_COLUMNS}, \
           c.id AS c_id, c.name AS c_name, c.email AS c_email, c.company AS c_company, \
           c.created_at AS c_created_at, \
           (SELECT coalesce(sum(u.quantity), 0) FROM usage_records u \
             WHERE u.install_id = l.install_id AND u.usage_type = 'api_request' \
               AND u.at >= l.current_period_start AND u.at < l.current_period_end) AS api_requests_this_period, \
           (SELECT count(*) FROM telemetry_events e \
             WHERE e.install_id = l.install_id AND e.ts >= ?4) AS events_last_30_days \
         {FILTER} ORDER BY {order} LIMIT ?5 OFFSET ?6",
        order = order_by(query.sort),
    );
    let rows = sqlx::query(&sql)
        .bind(status)
        .bind(plan)
        .bind(&pattern)
        .bind(micros(query.now - Duration::days(30)))
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(Page {
        items: rows.iter().map(item).collect::<StoreResult<_>>()?,
        total: count(total),
        page: query.page,
        per_page: query.per_page,
    })
}

fn item(row: &SqliteRow) -> StoreResult<LicenseListItem> {
    Ok(LicenseListItem {
        license: license(row)?,
        customer: customer_with_prefix(row, "c_")?,
        api_requests_this_period: get(row, "api_requests_this_period")?,
        events_last_30_days: get(row, "events_last_30_days")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_wildcards_and_lowercases() {
        assert_eq!(
            like_pattern(Some("100%_A\\b")).as_deref(),
            Some("%100\\%\\_a\\\\b%")
        );
        assert_eq!(like_pattern(Some("")), None);
        assert_eq!(like_pattern(None), None);
    }
}
