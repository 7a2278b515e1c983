//! Customers' account owners: none at first, an admin (followed to its
//! current e-mail, nobody while it is disabled), a plain address, cleared;
//! found through a license too; unknown customers and admins refused with
//! nothing written; each change audited in its transaction; an owner given
//! with a new license stored in the license's transaction.

use std::sync::Arc;

use calos_core::auth::Role;

use super::support::{
    all_audit, assert_not_found, audit, create, email, install, license, new_customer, new_license,
    now, seed_plans,
};
use crate::{CustomerRef, OwnerChoice, Store};

pub async fn account_owner_set_resolve_and_refuse(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let (customer, lic) = create(
        &store,
        "Owned Co",
        "ops@owned.example.com",
        license("owner-install-000001", "pro", now()),
    )
    .await;
    assert_eq!(store.account_owner(customer.id).await.expect("owner"), None);
    assert_eq!(
        store
            .account_owner_of_install(&lic.install_id)
            .await
            .expect("owner of install"),
        None
    );
    assert_eq!(
        store
            .account_owner_of_install(&install("owner-install-unknown"))
            .await
            .expect("unknown install"),
        None
    );

    let admin = store
        .create_admin(
            &crate::NewAdmin {
                username: "carol".to_owned(),
                email: Some("carol@vendor.example.com".to_owned()),
                role: Role::Sales,
                password_hash: "$argon2id$unused".to_owned(),
                created_at: now(),
            },
            &audit("admin.create", "admin", "carol"),
        )
        .await
        .expect("admin");
    let before = all_audit(&store).await.len();
    let set = store
        .set_account_owner(
            customer.id,
            Some(&OwnerChoice::Admin(admin.id)),
            &audit("customer.owner", "customer", &customer.id.to_string()),
        )
        .await
        .expect("set admin owner")
        .expect("an owner");
    assert_eq!(set.customer_id, customer.id);
    assert_eq!(set.admin_id, Some(admin.id));
    assert_eq!(set.admin_username.as_deref(), Some("carol"));
    assert_eq!(set.email.as_deref(), Some("carol@vendor.example.com"));
    assert!(!set.admin_disabled);
    assert_eq!(all_audit(&store).await.len(), before + 1, "audited");
    assert_eq!(
        store
            .account_owner_of_install(&lic.install_id)
            .await
            .expect("owner of install"),
        Some(set.clone())
    );

    // A disabled owner receives nothing: the vendor address takes over.
    store
        .set_admin_disabled(admin.id, true, &audit("admin.disable", "admin", "carol"))
        .await
        .expect("disable");
    let off = store
        .account_owner(customer.id)
        .await
        .expect("owner")
        .expect("still set");
    assert!(off.admin_disabled);
    assert_eq!(off.email, None);

    let by_mail = store
        .set_account_owner(
            customer.id,
            Some(&OwnerChoice::Email(email("Dave@Vendor.example.com"))),
            &audit("customer.owner", "customer", &customer.id.to_string()),
        )
        .await
        .expect("set e-mail owner")
        .expect("an owner");
    assert_eq!(by_mail.admin_id, None);
    assert_eq!(by_mail.email.as_deref(), Some("dave@vendor.example.com"));

    // Refusals write nothing.
    let before = all_audit(&store).await.len();
    assert_not_found(
        store
            .set_account_owner(
                customer.id,
                Some(&OwnerChoice::Admin(987_654)),
                &audit("customer.owner", "customer", "x"),
            )
            .await,
    );
    assert_not_found(
        store
            .set_account_owner(987_654, None, &audit("customer.owner", "customer", "x"))
            .await,
    );
    assert_not_found(store.account_owner(987_654).await);
    assert_eq!(all_audit(&store).await.len(), before, "nothing audited");
    assert_eq!(
        store.account_owner(customer.id).await.expect("owner"),
        Some(by_mail)
    );

    let cleared = store
        .set_account_owner(
            customer.id,
            None,
            &audit("customer.owner", "customer", &customer.id.to_string()),
        )
        .await
        .expect("clear");
    assert_eq!(cleared, None);
    assert_eq!(store.account_owner(customer.id).await.expect("owner"), None);

    // An owner given with a new customer's license is stored with it.
    let mut owned = new_license(
        CustomerRef::New(new_customer("Born Owned", "ops@born.example.com", None)),
        license("owner-install-000002", "pro", now()),
    );
    owned.owner = Some(OwnerChoice::Email(email("erin@vendor.example.com")));
    let (born, _) = store
        .create_license(
            &owned,
            &audit("license.create", "license", "owner-install-000002"),
        )
        .await
        .expect("create with owner");
    let born_owner = store
        .account_owner(born.id)
        .await
        .expect("owner")
        .expect("set at creation");
    assert_eq!(born_owner.email.as_deref(), Some("erin@vendor.example.com"));

    // An unknown owning admin refuses the whole license.
    let mut refused = new_license(
        CustomerRef::New(new_customer("Never Co", "ops@never.example.com", None)),
        license("owner-install-000003", "pro", now()),
    );
    refused.owner = Some(OwnerChoice::Admin(987_654));
    let before = all_audit(&store).await.len();
    assert_not_found(
        store
            .create_license(
                &refused,
                &audit("license.create", "license", "owner-install-000003"),
            )
            .await,
    );
    assert_eq!(all_audit(&store).await.len(), before, "nothing audited");
    assert!(store
        .get_license(&install("owner-install-000003"))
        .await
        .expect("get")
        .is_none());
}
