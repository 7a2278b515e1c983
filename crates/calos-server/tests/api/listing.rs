//! The customer list: filters combine, paging, sorting, 400 on unknown values.

use serde_json::{json, Value};

use crate::helpers::{Api, TestApp};

crate::both_backends!(
    filters_combine_and_blank_filters_mean_any,
    paging_splits_the_list,
    sort_by_name_both_ways,
    unknown_filter_values_are_400,
    list_items_carry_usage_and_domains,
);

async fn install_ids(admin: &Api, query: &str) -> Vec<String> {
    let r = admin
        .get(&format!("/api/enterprise/customers{query}"))
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    r.body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["installId"].as_str().unwrap().to_owned())
        .collect()
}

async fn make(app: &TestApp, admin: &Api, name: &str, tier: &str, extra: Value) -> String {
    let mut body = json!({
        "customer": { "name": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', "-")) },
        "tier": tier,
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = admin.post("/api/enterprise/create-license", &body).await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    let _ = app;
    r.body["installId"].as_str().unwrap().to_owned()
}

async fn filters_combine_and_blank_filters_mean_any(app: &TestApp) {
    let admin = app.admin().await;
    let pro_active = make(app, &admin, "Alpha", "pro", json!({})).await;
    let pro_trial = make(app, &admin, "Bravo", "pro", json!({ "trialDays": 7 })).await;
    let ent_trial = make(
        app,
        &admin,
        "Charlie",
        "enterprise",
        json!({ "trialDays": 7 }),
    )
    .await;
    let all = install_ids(&admin, "?status=&tier=").await;
    assert_eq!(all.len(), 3);
    assert_eq!(install_ids(&admin, "?tier=pro").await.len(), 2);
    assert_eq!(install_ids(&admin, "?status=trial").await.len(), 2);
    assert_eq!(
        install_ids(&admin, "?status=trial&tier=pro").await,
        vec![pro_trial.clone()]
    );
    assert_eq!(
        install_ids(&admin, "?status=active&tier=pro").await,
        vec![pro_active]
    );
    assert_eq!(
        install_ids(&admin, "?status=trial&tier=enterprise&q=charl").await,
        vec![ent_trial]
    );
    assert!(install_ids(&admin, "?status=suspended").await.is_empty());
    assert_eq!(install_ids(&admin, "?q=BRAVO").await, vec![pro_trial]);
}

async fn paging_splits_the_list(app: &TestApp) {
    let admin = app.admin().await;
    for name in ["P1", "P2", "P3", "P4", "P5"] {
        make(app, &admin, name, "community", json!({})).await;
    }
    let r = admin
        .get("/api/enterprise/customers?perPage=2&page=3&sort=name")
        .await;
    assert_eq!(
        (
            r.body["total"].as_u64(),
            r.body["page"].as_u64(),
            r.body["perPage"].as_u64()
        ),
        (Some(5), Some(3), Some(2))
    );
    assert_eq!(r.body["customers"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["customers"][0]["customer"]["name"], "P5");
    let mut seen = Vec::new();
    for page in 1..=3 {
        seen.extend(install_ids(&admin, &format!("?perPage=2&page={page}&sort=name")).await);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages neither overlap nor skip");
    assert!(install_ids(&admin, "?perPage=2&page=9").await.is_empty());
}

async fn sort_by_name_both_ways(app: &TestApp) {
    let admin = app.admin().await;
    for name in ["Mango", "apple", "Zebra"] {
        make(app, &admin, name, "community", json!({})).await;
    }
    let names = |body: &Value| -> Vec<String> {
        body["customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["customer"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let asc = admin.get("/api/enterprise/customers?sort=name").await;
    let desc = admin.get("/api/enterprise/customers?sort=-name").await;
    let mut reversed = names(&desc.body);
    reversed.reverse();
    assert_eq!(names(&asc.body), reversed);
    assert_eq!(names(&asc.body).len(), 3);
    let created = admin.get("/api/enterprise/customers?sort=created").await;
    assert_eq!(names(&created.body), ["Mango", "apple", "Zebra"]);
    for sort in [
        "-created",
        "lastSeen",
        "-lastSeen",
        "tier",
        "status",
        "-events",
    ] {
        let r = admin
            .get(&format!("/api/enterprise/customers?sort={sort}"))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.body["total"].as_u64()),
            (200, Some(3)),
            "{sort}: {}",
            r.body
        );
    }
}

async fn unknown_filter_values_are_400(app: &TestApp) {
    let admin = app.admin().await;
    make(app, &admin, "Delta", "pro", json!({})).await;
    for q in [
        "?status=paused",
        "?tier=gold",
        "?sort=price",
        "?page=0",
        "?page=abc",
        "?perPage=0",
        "?perPage=201",
        "?statuss=active",
    ] {
        admin
            .get(&format!("/api/enterprise/customers{q}"))
            .await
            .assert_error(400, "invalid_query");
    }
}

async fn list_items_carry_usage_and_domains(app: &TestApp) {
    let admin = app.admin().await;
    let id = make(
        app,
        &admin,
        "Echo",
        "community",
        json!({ "domains": ["echo.example.com"] }),
    )
    .await;
    let ent = make(app, &admin, "Foxtrot", "enterprise", json!({})).await;
    let r = admin.get("/api/enterprise/customers?sort=name").await;
    let items = r.body["customers"].as_array().unwrap();
    let echo = items
        .iter()
        .find(|c| c["installId"] == id.as_str())
        .unwrap();
    assert_eq!(echo["tier"], "community");
    assert_eq!(echo["tierName"], "Community");
    assert_eq!(echo["domains"], json!(["echo.example.com"]));
    assert_eq!(
        echo["usage"]["apiRequests"],
        json!({ "used": 0, "limit": 100, "percent": 0.0 })
    );
    assert_eq!(echo["usage"]["eventsLast30Days"], 0);
    assert!(echo["lastSeenAt"].is_null());
    assert_eq!(echo["customer"]["email"], "echo@example.com");
    let fox = items
        .iter()
        .find(|c| c["installId"] == ent.as_str())
        .unwrap();
    assert!(fox["usage"]["apiRequests"]["limit"].is_null());
    assert!(fox["usage"]["apiRequests"]["percent"].is_null());
}
