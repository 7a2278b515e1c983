//! The customer list: filtering, searching, sorting, counting and paging all
//! happen in SQL, with usage figures from subqueries on indexed columns.

use chrono::Duration;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

use calos_store::{LicenseListItem, LicenseQuery, LicenseSort, Page, StoreResult};

use crate::error::DbResultExt;
use crate::rows::{self, CUSTOMER_COLUMNS, LICENSE_COLUMNS};

/// Upper bound on a page, whatever the caller asks for.
const MAX_PER_PAGE: u32 = 500;

pub(crate) async fn list_licenses(
    pool: &PgPool,
    query: &LicenseQuery,
) -> StoreResult<Page<LicenseListItem>> {
    let page = query.page.max(1);
    let per_page = query.per_page.clamp(1, MAX_PER_PAGE);
    let offset = i64::from(page - 1) * i64::from(per_page);

    // One snapshot for both the count and the page, so `total` agrees with the items.
    let mut tx = pool.begin().await.db()?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .db()?;

    let mut count = QueryBuilder::<Postgres>::new(
        "SELECT count(*) FROM licenses l JOIN customers c ON c.id = l.customer_id",
    );
    push_filters(&mut count, query);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await.db()?;

    let mut select = QueryBuilder::<Postgres>::new("SELECT ");
    select
        .push(LICENSE_COLUMNS)
        .push(", ")
        .push(CUSTOMER_COLUMNS);
    select.push(
        ", (SELECT COALESCE(SUM(u.quantity), 0)::BIGINT FROM usage_records u
            WHERE u.install_id = l.install_id AND u.usage_type = 'api_request'
              AND u.at >= l.current_period_start AND u.at < l.current_period_end)
           AS api_requests_this_period",
    );
    select
        .push(
            ", (SELECT count(*) FROM telemetry_events e
                WHERE e.install_id = l.install_id AND e.ts >= ",
        )
        .push_bind(query.now - Duration::days(30))
        .push(") AS events_last_30_days");
    select.push(" FROM licenses l JOIN customers c ON c.id = l.customer_id");
    if query.sort == LicenseSort::EventsDesc {
        // The order needs every row's event count: computed for all of them.
        push_filters(&mut select, query);
        select.push(" ORDER BY ").push(order_by(query.sort));
        select
            .push(" LIMIT ")
            .push_bind(i64::from(per_page))
            .push(" OFFSET ")
            .push_bind(offset);
    } else {
        // The page is picked first without the usage subqueries, so they run
        // for its rows only: with OFFSET in the same query they ran for every
        // skipped row too (page 100 of 50 counted 5,000 customers' events).
        select.push(" WHERE l.install_id IN (SELECT l.install_id FROM licenses l JOIN customers c ON c.id = l.customer_id");
        push_filters(&mut select, query);
        select.push(" ORDER BY ").push(order_by(query.sort));
        select
            .push(" LIMIT ")
            .push_bind(i64::from(per_page))
            .push(" OFFSET ")
            .push_bind(offset);
        select.push(") ORDER BY ").push(order_by(query.sort));
    }
    let found = select.build().fetch_all(&mut *tx).await.db()?;
    tx.commit().await.db()?;

    let mut items = Vec::with_capacity(found.len());
    for row in &found {
        items.push(LicenseListItem {
            license: rows::license(row)?,
            customer: rows::customer(row)?,
            api_requests_this_period: row.try_get("api_requests_this_period").db()?,
            events_last_30_days: row.try_get("events_last_30_days").db()?,
        });
    }
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        page,
        per_page,
    })
}

fn push_filters(qb: &mut QueryBuilder<'_, Postgres>, query: &LicenseQuery) {
    qb.push(" WHERE TRUE");
    if let Some(status) = query.status {
        qb.push(" AND l.status = ").push_bind(status.as_str());
    }
    if let Some(plan) = &query.plan {
        qb.push(" AND l.plan_slug = ")
            .push_bind(plan.as_str().to_owned());
    }
    let search = query.search.as_deref().map(str::trim).unwrap_or_default();
    if !search.is_empty() {
        let pattern = like_pattern(search);
        let bind_pattern = |qb: &mut QueryBuilder<'_, Postgres>| {
            qb.push_bind(pattern.clone()).push(r" ESCAPE '\'");
        };
        qb.push(" AND (c.name ILIKE ");
        bind_pattern(qb);
        qb.push(" OR c.email ILIKE ");
        bind_pattern(qb);
        qb.push(" OR c.company ILIKE ");
        bind_pattern(qb);
        qb.push(" OR l.install_id ILIKE ");
        bind_pattern(qb);
        qb.push(
            " OR EXISTS (SELECT 1 FROM license_domains d
                         WHERE d.install_id = l.install_id AND d.domain ILIKE ",
        );
        bind_pattern(qb);
        qb.push("))");
    }
}

/// `%text%` with LIKE's own metacharacters escaped, so a search for `50%`
/// or `a_b` matches those characters literally.
fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// Every order ends on the install id (ascending), so pages never overlap or
/// skip rows. These orders are pinned by the conformance suite so both
/// backends agree: names compare case-insensitively, never-seen licenses come
/// last in both last-seen orders, tiers go by monthly price then slug, and
/// statuses follow the lifecycle.
fn order_by(sort: LicenseSort) -> &'static str {
    match sort {
        LicenseSort::CreatedDesc => "l.created_at DESC, l.install_id",
        LicenseSort::CreatedAsc => "l.created_at ASC, l.install_id",
        LicenseSort::NameAsc => {
            r#"lower(c.name) COLLATE "C" ASC, c.name COLLATE "C" ASC, l.install_id"#
        }
        LicenseSort::NameDesc => {
            r#"lower(c.name) COLLATE "C" DESC, c.name COLLATE "C" DESC, l.install_id"#
        }
        LicenseSort::LastSeenDesc => "l.last_seen_at DESC NULLS LAST, l.install_id",
        LicenseSort::LastSeenAsc => "l.last_seen_at ASC NULLS LAST, l.install_id",
        LicenseSort::TierAsc => {
            r#"(SELECT p.price_monthly_minor FROM plans p WHERE p.slug = l.plan_slug) ASC,
               l.plan_slug COLLATE "C" ASC, l.install_id"#
        }
        LicenseSort::StatusAsc => {
            "CASE l.status WHEN 'trial' THEN 0 WHEN 'active' THEN 1 WHEN 'suspended' THEN 2
                           WHEN 'revoked' THEN 3 ELSE 4 END, l.install_id"
        }
        LicenseSort::EventsDesc => "events_last_30_days DESC, l.install_id",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_pattern_escapes_metacharacters() {
        assert_eq!(like_pattern("50%_off\\"), r"%50\%\_off\\%");
        assert_eq!(like_pattern("Zoë's"), "%Zoë's%");
    }

    #[test]
    fn every_sort_breaks_ties_on_install_id() {
        let all = [
            LicenseSort::CreatedDesc,
            LicenseSort::CreatedAsc,
            LicenseSort::NameAsc,
            LicenseSort::NameDesc,
            LicenseSort::LastSeenDesc,
            LicenseSort::LastSeenAsc,
            LicenseSort::TierAsc,
            LicenseSort::StatusAsc,
            LicenseSort::EventsDesc,
        ];
        let distinct: std::collections::HashSet<_> = all.iter().map(|s| order_by(*s)).collect();
        assert_eq!(distinct.len(), all.len());
        assert!(all.iter().all(|s| order_by(*s).contains("l.install_id")));
    }
}
