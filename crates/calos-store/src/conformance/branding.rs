//! Brands (issue 8): default and per-customer brands with versions, uploaded
//! logos, the basic branding row kept in step, refusals.

use std::collections::BTreeMap;
use std::sync::Arc;

use calos_core::branding::{BrandScope, BrandSettings, HexColor, HttpUrl, RawBrandSettings};

use super::support::{
    all_audit, assert_not_found, audit, create, hours, install, license, now, seed_plans,
};
use crate::{LogoFile, Store};

fn settings(name: &str, color: &str) -> BrandSettings {
    BrandSettings::parse(&RawBrandSettings {
        product_name: name.to_owned(),
        primary_color: color.to_owned(),
        support_url: Some("https://help.acme.example/?q='x'".to_owned()),
        css_variables: BTreeMap::from([("--brand-radius".to_owned(), "4px".to_owned())]),
        ..Default::default()
    })
    .expect("valid brand")
}

fn logo(bytes: &[u8], sha: &str) -> LogoFile {
    LogoFile {
        content_type: "image/png".to_owned(),
        sha256: sha.to_owned(),
        data: bytes.to_vec(),
    }
}

/// Brands are created at version 1 and every change (settings, logo upload,
/// logo removal) raises the version; the install sees the sum of its own and
/// the default's versions; the basic branding row follows; an unknown
/// license is `NotFound` with nothing written.
pub async fn brands_version_logos_and_refusal(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let (_, l) = create(
        &store,
        "Acme",
        "acme@example.com",
        license("brand-v-0001", "pro", t),
    )
    .await;
    let scope = BrandScope::Install(l.install_id.clone());
    assert_eq!(store.get_brand(&scope).await.expect("get"), None);
    assert_eq!(
        store.get_brand(&BrandScope::Default).await.expect("get"),
        None
    );
    assert_eq!(
        store.brand_version(&l.install_id).await.expect("version"),
        0
    );

    let default = store
        .put_brand(
            &BrandScope::Default,
            &settings("Vendor", "#000000"),
            t,
            &audit("branding.default", "branding", "_default"),
        )
        .await
        .expect("default");
    assert_eq!(default.version, 1);
    assert_eq!(default.scope, BrandScope::Default);

    let own = settings("Acme «ERP» 株式会社", "#112233");
    let stored = store
        .put_brand(
            &scope,
            &own,
            t,
            &audit("branding.update", "license", l.install_id.as_str()),
        )
        .await
        .expect("put");
    assert_eq!(
        (stored.version, &stored.settings, &stored.logo),
        (1, &own, &None)
    );
    assert_eq!(
        store.get_brand(&scope).await.expect("get"),
        Some(stored.clone())
    );
    assert_eq!(
        store.brand_version(&l.install_id).await.expect("version"),
        2
    );
    let basic = store
        .get_branding(&l.install_id)
        .await
        .expect("basic")
        .expect("basic row");
    assert_eq!(basic.product_name.as_str(), "Acme «ERP» 株式会社");
    assert_eq!(basic.primary_color.as_str(), "#112233");

    // A logo upload clears the logo URL (the upload is what shows) and bumps.
    let mut with_url = own.clone();
    with_url.logo_url =
        Some(HttpUrl::parse_field("logoUrl", "https://cdn.acme.example/l.png").expect("url"));
    store
        .put_brand(
            &scope,
            &with_url,
            t + hours(1),
            &audit("branding.update", "license", l.install_id.as_str()),
        )
        .await
        .expect("put");
    let bytes = b"\x89PNG\r\n\x1a\n\x00\x01\x02\xff";
    let up = store
        .put_brand_logo(
            &scope,
            &logo(bytes, "aa11"),
            &BrandSettings::builtin(),
            t + hours(2),
            &audit("branding.logo", "license", l.install_id.as_str()),
        )
        .await
        .expect("logo");
    assert_eq!(up.version, 3);
    assert_eq!(up.settings.logo_url, None);
    assert_eq!(up.settings.product_name, own.product_name);
    let meta = up.logo.clone().expect("logo meta");
    assert_eq!(
        (meta.content_type.as_str(), meta.sha256.as_str(), meta.size),
        ("image/png", "aa11", bytes.len() as u64)
    );
    let file = store
        .get_brand_logo(&scope, "aa11")
        .await
        .expect("logo")
        .expect("stored");
    assert_eq!(file.data, bytes.to_vec());
    assert_eq!(
        store.get_brand_logo(&scope, "stale").await.expect("logo"),
        None
    );

    // A scope without a brand gets `base` with the logo.
    let base = settings("Base", "#445566");
    let d2 = store
        .put_brand_logo(
            &BrandScope::Default,
            &logo(b"\x89PNGx", "bb22"),
            &base,
            t,
            &audit("branding.logo", "branding", "_default"),
        )
        .await
        .expect("default logo");
    assert_eq!(
        (d2.version, d2.settings.product_name.as_str()),
        (2, "Vendor")
    );

    let removed = store
        .delete_brand_logo(
            &scope,
            t + hours(3),
            &audit("branding.logo.delete", "license", l.install_id.as_str()),
        )
        .await
        .expect("delete")
        .expect("brand");
    assert_eq!((removed.version, removed.logo), (4, None));
    assert_eq!(
        store.get_brand_logo(&scope, "aa11").await.expect("logo"),
        None
    );
    assert_eq!(
        store.brand_version(&l.install_id).await.expect("version"),
        6
    );

    let ghost = BrandScope::Install(install("ghost-brand-01"));
    let audits = all_audit(&store).await.len();
    assert_not_found(
        store
            .put_brand(
                &ghost,
                &own,
                t,
                &audit("branding.update", "license", "ghost-brand-01"),
            )
            .await,
    );
    assert_not_found(
        store
            .put_brand_logo(
                &ghost,
                &logo(bytes, "cc33"),
                &own,
                t,
                &audit("branding.logo", "license", "ghost-brand-01"),
            )
            .await,
    );
    assert_eq!(
        store
            .delete_brand_logo(&ghost, t, &audit("x", "license", "ghost-brand-01"))
            .await
            .expect("delete"),
        None
    );
    assert_eq!(
        all_audit(&store).await.len(),
        audits,
        "refusals write no audit record"
    );

    // The basic branding API moves the full brand too.
    let mut basic = basic;
    basic.primary_color = HexColor::parse("#abcdef").expect("colour");
    store
        .put_branding(
            &basic,
            &audit("branding.update", "license", l.install_id.as_str()),
        )
        .await
        .expect("basic put");
    let after = store.get_brand(&scope).await.expect("get").expect("brand");
    assert_eq!(
        (after.version, after.settings.primary_color.as_str()),
        (5, "#abcdef")
    );
    assert_eq!(
        after.settings.css_variables, own.css_variables,
        "the rest is kept"
    );
}
