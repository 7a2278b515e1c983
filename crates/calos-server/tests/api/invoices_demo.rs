//! The dashboard's MRR and ARR agree with what invoices bill, on the demo
//! data: invoices generated for the twelve months up to the current one
//! bill every active paid license its plan's price from the one plan table
//! — monthly licenses their monthly price in the current month, annual ones
//! their annual price in the month their year began — and those prices add
//! up to the stats' ARR (MRR = ARR ÷ 12, rounded half up).

use std::collections::BTreeMap;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

use calos_core::ids::LicenseKey;
use calos_core::invoice::InvoiceMonth;
use calos_server::demo;

use crate::helpers::TestApp;
use crate::invoices::{generate, set_profile};

crate::both_backends!(stats_revenue_agrees_with_invoices_on_the_demo_data);

async fn stats_revenue_agrees_with_invoices_on_the_demo_data(app: &TestApp) {
    let now = Utc::now();
    let hasher = app.state.hasher.clone();
    let hash_key = move |k: &LicenseKey| hasher.hash(k);
    demo::load(app.state.store.as_ref(), &hash_key, now, &mut |_: &str| {})
        .await
        .expect("load demo");
    let admin = app.admin().await;
    set_profile(&admin).await;

    let mut month = InvoiceMonth::of(now);
    let mut months = Vec::new();
    for _ in 0..12 {
        months.push(month);
        month = month.previous();
    }
    months.reverse();
    for m in &months {
        generate(&admin, json!({ "month": m.to_string() })).await;
    }

    // The latest base line billed to each license, oldest month first.
    let mut latest: BTreeMap<String, Value> = BTreeMap::new();
    for m in &months {
        let list = admin
            .get(&format!("/api/enterprise/invoices?month={m}"))
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        for inv in list.body["invoices"].as_array().unwrap() {
            let id = inv["id"].as_i64().unwrap();
            let detail = admin.get(&format!("/api/enterprise/invoices/{id}")).await;
            for line in detail.body["invoice"]["document"]["lines"]
                .as_array()
                .unwrap()
            {
                if line["kind"] == "base" {
                    latest.insert(inv["installId"].as_str().unwrap().to_owned(), line.clone());
                }
            }
        }
    }

    let customers = admin
        .get("/api/enterprise/customers?status=active&perPage=200")
        .await;
    assert_eq!(customers.status, StatusCode::OK, "{}", customers.body);
    let plans = admin.get("/api/enterprise/plans").await.body["plans"].clone();
    let price = |slug: &str, key: &str| -> i64 {
        plans
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["slug"] == slug)
            .unwrap()[key]
            .as_i64()
            .unwrap()
    };
    let mut arr_from_invoices = 0i64;
    let mut paid = 0;
    for c in customers.body["customers"]
        .as_array()
        .or(customers.body["items"].as_array())
        .unwrap()
    {
        let id = c["installId"].as_str().unwrap();
        let tier = c["tier"].as_str().or(c["plan"].as_str()).unwrap();
        let period = c["billingPeriod"].as_str().unwrap();
        let key = if period == "annual" {
            "priceAnnualMinor"
        } else {
            "priceMonthlyMinor"
        };
        if price(tier, key) == 0 {
            assert!(!latest.contains_key(id), "{id} on a free tier was invoiced");
            continue;
        }
        paid += 1;
        let line = latest
            .get(id)
            .unwrap_or_else(|| panic!("active paid license {id} was never invoiced"));
        assert_eq!(line["plan"], tier, "{id}: billed on its current plan");
        let unit = line["unitPriceMinor"].as_i64().unwrap();
        assert_eq!(unit, price(tier, key), "{id}: the plan table's price");
        arr_from_invoices += if period == "annual" { unit } else { unit * 12 };
    }
    assert!(paid >= 3, "the demo has paying customers ({paid})");

    let stats = admin.get("/api/enterprise/stats").await.body["stats"].clone();
    assert_eq!(
        stats["annualRecurringRevenueMinor"], arr_from_invoices,
        "{stats}"
    );
    assert_eq!(
        stats["monthlyRecurringRevenueMinor"],
        (arr_from_invoices * 2 + 12) / 24,
        "{stats}"
    );
}
