//! Dashboard figures on known data: revenue from the plan table (annual
//! counts 1/12 per month), trials, conversion and tiers.

use serde_json::json;

use crate::helpers::TestApp;

crate::both_backends!(stats_on_known_data, stats_on_an_empty_install);

async fn stats_on_known_data(app: &TestApp) {
    let admin = app.admin().await;
    let lic = |tier: &'static str, extra: serde_json::Value| {
        let admin = &admin;
        async move {
            app.create_license(admin, tier, extra).await["installId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    lic("pro", json!({})).await; // 29.00 a month
    lic("pro", json!({ "billingPeriod": "annual" })).await; // 312.00 a year = 26.00 a month
    lic("enterprise", json!({ "trialDays": 14 })).await; // running trial: no revenue
    lic("community", json!({})).await; // free
    let suspended = lic("enterprise", json!({ "billingPeriod": "annual" })).await;
    let converted = lic("pro", json!({ "trialDays": 14 })).await;
    let lost = lic("community", json!({ "trialDays": 7 })).await;

    let r = admin
        .post(
            &format!("/api/enterprise/customer/{suspended}/suspend"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let r = admin
        .post_empty(&format!("/api/enterprise/customer/{converted}/activate"))
        .await;
    assert_eq!(r.body["status"], "active", "{}", r.body);
    let r = admin
        .post(
            "/api/enterprise/revoke-license",
            &json!({ "installId": lost }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);

    let s = admin.get("/api/enterprise/stats").await;
    assert_eq!(s.status.as_u16(), 200, "{}", s.body);
    assert_eq!(s.body["success"], true);
    let stats = &s.body["stats"];
    assert_eq!(stats["totalCustomers"], 7);
    assert_eq!(stats["activeLicenses"], 5, "4 active + 1 trial: {stats}");
    assert_eq!(stats["paidLicenses"], 3);
    assert_eq!(stats["trials"], 1);
    assert_eq!(stats["suspended"], 1);
    assert_eq!(stats["monthlyRecurringRevenueMinor"], 2_900 + 2_600 + 2_900);
    assert_eq!(
        stats["annualRecurringRevenueMinor"],
        2_900 * 12 + 31_200 + 2_900 * 12
    );
    assert_eq!(stats["monthlyRevenue"], 84.0);
    assert_eq!(
        stats["trialConversion"], 50.0,
        "one converted, one lost, one still running"
    );
    assert_eq!(stats["currency"], "USD");
    assert_eq!(
        stats["customersPerTier"],
        json!({ "pro": 3, "enterprise": 2, "community": 1 })
    );
}

async fn stats_on_an_empty_install(app: &TestApp) {
    let s = app.token_client().await.get("/api/enterprise/stats").await;
    let stats = &s.body["stats"];
    assert_eq!(
        (
            stats["totalCustomers"].as_u64(),
            stats["monthlyRevenue"].as_f64()
        ),
        (Some(0), Some(0.0))
    );
    assert!(
        stats["trialConversion"].is_null(),
        "no finished trial: no rate (the seed showed 0%)"
    );
}
