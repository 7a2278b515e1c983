//! The audit log, branding and hostile text.

use std::sync::Arc;

use calos_core::branding::{Branding, HexColor};
use calos_core::customer::{DisplayText, Email, NewCustomer};
use calos_core::plan::default_plans;
use serde_json::json;

use super::support::{
    all_audit, assert_not_found, audit, audit_at, audit_of, create, domain, hours, install,
    license, new_license, notes, now, seed_plans, slug, text,
};
use crate::{AuditQuery, CustomerRef, LicenseQuery, Store};

/// `list_audit` filters by target type and id, returns newest first (ties by
/// id, newest first) and honours `limit`.
pub async fn audit_list_filters_limits_and_orders(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut plan = default_plans().remove(1);
    let plan_edit = audit_at(t, "plan.update", "plan", "community");
    store.put_plan(&plan, &plan_edit).await.expect("put");
    plan.trial_days = 3;
    let plan_edit_same_time = audit_at(t, "plan.update", "plan", "community");
    store
        .put_plan(&plan, &plan_edit_same_time)
        .await
        .expect("put");

    let l = license("audit-install-01", "pro", t);
    let install_id = l.install_id.clone();
    let created = audit_at(
        t + hours(1),
        "license.create",
        "license",
        "audit-install-01",
    );
    let (_, stored) = store
        .create_license(
            &new_license(
                CustomerRef::New(super::support::new_customer("A", "a@example.com", None)),
                l,
            ),
            &created,
        )
        .await
        .expect("create");
    let mut next = stored.clone();
    next.notes = notes("edited");
    let mut updated = audit_at(
        t + hours(3),
        "license.update",
        "license",
        "audit-install-01",
    );
    updated.actor = calos_core::audit::Actor::ApiToken {
        id: 4,
        name: "ci".to_owned(),
        admin_id: 1,
    };
    updated.before = None;
    updated.ip = None;
    store.update_license(&next, &updated).await.expect("update");
    let other = audit_at(
        t + hours(2),
        "license.create",
        "license",
        "audit-install-02",
    );
    create_with_audit(&store, "audit-install-02", &other).await;

    let everything = all_audit(&store).await;
    let entries: Vec<_> = everything.iter().map(|r| r.entry.clone()).collect();
    assert_eq!(
        entries,
        vec![
            updated.clone(),
            other.clone(),
            created.clone(),
            plan_edit_same_time,
            plan_edit
        ]
    );
    let ids: std::collections::BTreeSet<i64> = everything.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 5, "each record has its own id");

    let licenses = store
        .list_audit(&AuditQuery {
            target_type: Some("license".to_owned()),
            target_id: None,
            limit: 100,
        })
        .await
        .expect("by type");
    assert_eq!(licenses.len(), 3);
    let by_id = store
        .list_audit(&AuditQuery {
            target_type: None,
            target_id: Some(install_id.as_str().to_owned()),
            limit: 100,
        })
        .await
        .expect("by id");
    assert_eq!(
        by_id.iter().map(|r| &r.entry).collect::<Vec<_>>(),
        [&updated, &created]
    );
    assert_eq!(
        audit_of(&store, "plan", "audit-install-01").await,
        Vec::new(),
        "type and id combine"
    );
    let newest = store
        .list_audit(&AuditQuery {
            limit: 1,
            ..AuditQuery::default()
        })
        .await
        .expect("limit");
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].entry, updated);
}

async fn create_with_audit(
    store: &Arc<dyn Store>,
    install_id: &str,
    entry: &calos_core::audit::AuditEntry,
) {
    let l = license(install_id, "pro", now());
    let customer = super::support::new_customer("B", &format!("{install_id}@example.com"), None);
    store
        .create_license(&new_license(CustomerRef::New(customer), l), entry)
        .await
        .expect("create");
}

/// Branding is created, replaced and read back; an unknown license is `NotFound`.
pub async fn branding_put_get_and_refusal(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let (_, l) = create(
        &store,
        "Demo",
        "demo@example.com",
        license("brand-install-01", "pro", t),
    )
    .await;
    assert_eq!(store.get_branding(&l.install_id).await.expect("get"), None);

    let mut brand = Branding {
        install_id: l.install_id.clone(),
        product_name: text("Demo Corp"),
        primary_color: HexColor::parse("#667eea").expect("colour"),
        logo_url: Some("https://demo.calos.sh/logo.svg?v=1&x='y'".to_owned()),
        updated_at: t,
    };
    let first = audit("branding.update", "license", "brand-install-01");
    store.put_branding(&brand, &first).await.expect("put");
    assert_eq!(
        store.get_branding(&l.install_id).await.expect("get"),
        Some(brand.clone())
    );

    brand.product_name = text("Démo «Corp» 株式会社");
    brand.primary_color = HexColor::parse("#00ff7f").expect("colour");
    brand.logo_url = None;
    brand.updated_at = t + hours(1);
    store
        .put_branding(
            &brand,
            &audit("branding.update", "license", "brand-install-01"),
        )
        .await
        .expect("replace");
    assert_eq!(
        store.get_branding(&l.install_id).await.expect("get"),
        Some(brand.clone())
    );

    let audits = all_audit(&store).await.len();
    let ghost = Branding {
        install_id: install("ghost-install-001"),
        ..brand
    };
    assert_not_found(
        store
            .put_branding(
                &ghost,
                &audit("branding.update", "license", "ghost-install-001"),
            )
            .await,
    );
    assert_eq!(
        store.get_branding(&ghost.install_id).await.expect("get"),
        None
    );
    assert_eq!(
        all_audit(&store).await.len(),
        audits,
        "the refused change wrote no audit record"
    );
    assert_eq!(
        audit_of(&store, "license", "brand-install-01").await.len(),
        3
    );
}

/// Quotes, SQL comments, backslashes, HTML and non-Latin scripts survive
/// every column they can reach, and no statement is ever built from them.
pub async fn unicode_and_sql_metacharacters_round_trip(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let hostile = "Zoë's Café'; DROP TABLE customers;-- 株式会社";
    let company = "\"Quoted\" & <b>bold</b> \\ back\\slash %_ Ünïcödé 🎉";
    let note = "line 1: '); DELETE FROM licenses; --\nline 2: 🚀 Ωμέγα\t\"tab\"\r\nend \\";

    let mut l = license("hostile-install-1", "pro", t);
    l.notes = notes(note);
    l.status_reason = Some(hostile.to_owned());
    l.domains = vec![domain("xn--caf-dma.example.com")];
    let customer = NewCustomer {
        name: text(hostile),
        email: Email::parse("zoe+o'brien@example.com").expect("email"),
        company: Some(DisplayText::parse("company", company).expect("company")),
    };
    let mut entry = audit("license.create", "license", "hostile-install-1");
    entry.after = Some(json!({ "name": hostile, "notes": note, "company": company }));
    entry.action = "license.create'; --".to_owned();
    let (c, created) = store
        .create_license(&new_license(CustomerRef::New(customer), l.clone()), &entry)
        .await
        .expect("create");
    assert_eq!(c.name.as_str(), hostile);
    assert_eq!(c.company.as_ref().map(|x| x.as_str()), Some(company));
    assert_eq!(
        store.get_customer(c.id).await.expect("get"),
        Some(c.clone())
    );
    assert_eq!(
        store
            .find_customer_by_email(&Email::parse("zoe+o'brien@example.com").expect("email"))
            .await
            .expect("find"),
        Some(c.clone())
    );
    let stored = store
        .get_license(&l.install_id)
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored, created);
    assert_eq!(stored.notes.as_str(), note);
    assert_eq!(stored.status_reason.as_deref(), Some(hostile));
    assert_eq!(
        audit_of(&store, "license", "hostile-install-1").await[0].entry,
        entry
    );

    for search in [
        "café'; DROP",
        "株式会社",
        "<b>bold</b>",
        "back\\slash %_",
        "O'BRIEN",
    ] {
        let page = store
            .list_licenses(&LicenseQuery {
                search: Some(search.to_owned()),
                page: 1,
                per_page: 10,
                now: t,
                ..LicenseQuery::default()
            })
            .await
            .expect("search");
        assert_eq!(page.total, 1, "search {search:?}");
        assert_eq!(page.items[0].customer, c);
    }

    let mut plan = default_plans().remove(2);
    plan.slug = slug("zoe_special");
    plan.name = hostile.to_owned();
    store
        .put_plan(&plan, &audit("plan.create", "plan", "zoe_special"))
        .await
        .expect("put plan");
    assert_eq!(
        store.get_plan(&plan.slug).await.expect("get plan"),
        Some(plan)
    );

    // The tables the payloads name are all still there.
    assert_eq!(store.count_customers().await.expect("count"), 1);
    assert_eq!(store.list_plans().await.expect("plans").len(), 6);
}
