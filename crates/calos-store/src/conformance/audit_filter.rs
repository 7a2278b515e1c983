//! `search_audit`: every filter alone and combined, the time range's
//! boundaries, paging, and filter values that are SQL or LIKE syntax.

use std::sync::Arc;

use calos_core::audit::{Actor, AuditEntry, AuditRecord};
use calos_core::auth::Role;

use super::support::{audit_at, days, now};
use crate::{AuditFilter, NewAdmin, Store};

/// Strings that would change a query built by concatenation.
const INJECTIONS: [&str; 4] = [
    "' OR '1'='1",
    "x'); DROP TABLE audit_log; --",
    "\" OR 1=1 --",
    "%' OR action LIKE '%",
];

/// Writes `entry` as the audit record of a new admin (the simplest mutation).
async fn record(store: &Arc<dyn Store>, n: usize, entry: AuditEntry) {
    let new = NewAdmin {
        username: format!("audit-filter-{n}"),
        email: None,
        role: Role::Viewer,
        password_hash: "$argon2id$unused".to_owned(),
        created_at: now(),
    };
    store
        .create_admin(&new, &entry)
        .await
        .expect("create_admin");
}

fn entry(
    at: chrono::DateTime<chrono::Utc>,
    actor: Actor,
    action: &str,
    target: (&str, &str),
) -> AuditEntry {
    let mut e = audit_at(at, action, target.0, target.1);
    e.actor = actor;
    e
}

async fn search(store: &Arc<dyn Store>, filter: AuditFilter) -> (Vec<String>, u64) {
    let filter = AuditFilter {
        per_page: if filter.per_page == 0 {
            100
        } else {
            filter.per_page
        },
        ..filter
    };
    let page = store.search_audit(&filter).await.expect("search_audit");
    assert!(page.items.len() <= filter.per_page() as usize);
    (page.items.iter().map(label).collect(), page.total)
}

/// Records are told apart by their target id.
fn label(r: &AuditRecord) -> String {
    r.entry.target_id.clone()
}

pub async fn audit_search_filters_pages_and_binds(store: Arc<dyn Store>) {
    let t = now();
    let alice = Actor::Admin {
        id: 1,
        username: "alice".to_owned(),
    };
    let odd = Actor::Admin {
        id: 2,
        username: "bob_50%".to_owned(),
    };
    let token = Actor::ApiToken {
        id: 3,
        name: "ci".to_owned(),
        admin_id: 1,
    };
    let license = |id| ("license", id);
    record(
        &store,
        1,
        entry(
            t - days(3),
            alice.clone(),
            "license.create",
            license("a-created"),
        ),
    )
    .await;
    record(
        &store,
        2,
        entry(t - days(2), token, "license.revoke", license("a-revoked")),
    )
    .await;
    record(
        &store,
        3,
        entry(t - days(1), Actor::Cli, "admin.create", ("admin", "7")),
    )
    .await;
    record(
        &store,
        4,
        entry(t, Actor::System, "licensee.odd", license("b-licensee")),
    )
    .await;
    record(
        &store,
        5,
        entry(t, odd, "api_token.create", ("api_token", "calos_at_12")),
    )
    .await;

    let all = search(&store, AuditFilter::default()).await;
    assert_eq!(
        all,
        (
            vec![
                "calos_at_12".to_owned(),
                "b-licensee".to_owned(),
                "7".to_owned(),
                "a-revoked".to_owned(),
                "a-created".to_owned(),
            ],
            5
        ),
        "newest first; the same time: the later record first"
    );

    let by = |f: AuditFilter| search(&store, f);
    let actor = |a: &str| AuditFilter {
        actor: Some(a.to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(
        by(actor("ALICE")).await,
        (vec!["a-created".to_owned()], 1),
        "case-insensitive"
    );
    assert_eq!(by(actor("token:")).await.0, vec!["a-revoked"]);
    assert_eq!(by(actor("cli")).await.0, vec!["7"]);
    assert_eq!(by(actor("%")).await.0, vec!["calos_at_12"], "% is literal");
    assert_eq!(by(actor("_")).await.0, vec!["calos_at_12"], "_ is literal");
    assert_eq!(by(actor("")).await.1, 5, "an empty filter is no filter");

    let action = |a: &str| AuditFilter {
        action: Some(a.to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(
        by(action("license")).await.0,
        vec!["a-revoked", "a-created"],
        "a group matches its dotted actions, not `licensee.…`"
    );
    assert_eq!(by(action("license.revoke")).await.0, vec!["a-revoked"]);
    assert_eq!(by(action("licensee.odd")).await.0, vec!["b-licensee"]);
    assert_eq!(by(action("license.%")).await.1, 0, "% is literal");
    assert_eq!(by(action("licens")).await.1, 0, "not a substring match");

    let target = AuditFilter {
        target_type: Some("license".to_owned()),
        target_id: Some("a-revoked".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(by(target).await.0, vec!["a-revoked"]);
    let admins = AuditFilter {
        target_type: Some("admin".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(by(admins).await.0, vec!["7"]);
    let partial_id = AuditFilter {
        target_id: Some("a-".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(by(partial_id).await.1, 0, "target ids match exactly");

    let range = AuditFilter {
        from: Some(t - days(2)),
        to: Some(t - days(1)),
        ..AuditFilter::default()
    };
    assert_eq!(
        by(range).await.0,
        vec!["a-revoked"],
        "from inclusive, to exclusive"
    );
    let since = AuditFilter {
        from: Some(t - days(1)),
        ..AuditFilter::default()
    };
    assert_eq!(by(since).await.1, 3);
    let until = AuditFilter {
        to: Some(t),
        ..AuditFilter::default()
    };
    assert_eq!(by(until).await.1, 3);

    let combined = AuditFilter {
        actor: Some("admin:".to_owned()),
        action: Some("license".to_owned()),
        from: Some(t - days(4)),
        ..AuditFilter::default()
    };
    assert_eq!(by(combined).await, (vec!["a-created".to_owned()], 1));

    // Pages of two: three pages, the last one short, then an empty page with the same total.
    let mut paged = Vec::new();
    for page in 1..=4 {
        let (items, total) = by(AuditFilter {
            page,
            per_page: 2,
            ..AuditFilter::default()
        })
        .await;
        assert_eq!(total, 5, "page {page}");
        assert_eq!(items.len(), [2, 2, 1, 0][page as usize - 1], "page {page}");
        paged.extend(items);
    }
    assert_eq!(paged, all.0, "pages neither overlap nor skip");
    let page = store
        .search_audit(&AuditFilter {
            page: 2,
            per_page: 2,
            ..AuditFilter::default()
        })
        .await
        .expect("search_audit");
    assert_eq!((page.page, page.per_page), (2, 2));

    // SQL in every text filter is a value like any other: it matches nothing
    // and changes nothing.
    for hostile in INJECTIONS {
        for filter in [
            actor(hostile),
            action(hostile),
            AuditFilter {
                target_type: Some(hostile.to_owned()),
                ..AuditFilter::default()
            },
            AuditFilter {
                target_id: Some(hostile.to_owned()),
                ..AuditFilter::default()
            },
        ] {
            assert_eq!(
                by(filter.clone()).await,
                (Vec::<String>::new(), 0),
                "{filter:?}"
            );
        }
    }
    assert_eq!(
        search(&store, AuditFilter::default()).await,
        all,
        "nothing changed"
    );
}
