//! The seed's three example insights as the analyzer's real output over the
//! demo data loaded through ingest, read over HTTP; and the customer list's
//! health column for every demo customer.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::Value;

use calos_core::ids::LicenseKey;
use calos_server::demo;

use crate::culture::assert_interface;
use crate::helpers::{Api, TestApp};

crate::both_backends!(demo_profiles_show_the_seed_examples);

async fn culture(admin: &Api, id: &str) -> Value {
    let r = admin
        .get(&format!("/api/enterprise/customer/{id}/culture"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{id}: {}", r.body);
    assert_interface(&r.body["culture"]);
    r.body["culture"].clone()
}

fn messages(c: &Value) -> Vec<String> {
    c["upsells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.to_string())
        .collect()
}

async fn demo_profiles_show_the_seed_examples(app: &TestApp) {
    let now = Utc::now();
    let hasher = app.state.hasher.clone();
    let hash_key = move |k: &LicenseKey| hasher.hash(k);
    demo::load(app.state.store.as_ref(), &hash_key, now, &mut |_: &str| {})
        .await
        .expect("load demo");
    let all = demo::generate(now).expect("generate");
    let id = |key: &str| {
        all.iter()
            .find(|c| c.key == key)
            .unwrap()
            .license
            .install_id
            .to_string()
    };
    let admin = app.admin().await;

    // "Uses POS heavily but never touches crypto → crypto integration training."
    let harbor = culture(&admin, &id("harbor-vine")).await;
    assert_eq!(harbor["enoughData"], true);
    assert_eq!(harbor["features"][0]["name"], "pos", "{harbor}");
    assert_eq!(harbor["unusedFeatures"], serde_json::json!(["crypto"]));
    let crypto = harbor["upsells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["kind"] == "adoption" && u["evidence"]["feature"] == "crypto")
        .unwrap_or_else(|| panic!("{:?}", messages(&harbor)));
    assert!(
        crypto["message"]
            .as_str()
            .unwrap()
            .contains("crypto integration training"),
        "{crypto}"
    );

    // "Peak usage Mon–Fri 9–5, low errors, 8-person team → health excellent (about 92)."
    let lagoon = culture(&admin, &id("lagoon")).await;
    let score = lagoon["health"]["score"].as_u64().unwrap();
    assert!(score >= 85, "score {score}: {}", lagoon["health"]);
    assert_eq!(lagoon["health"]["label"], "excellent");
    let team = lagoon["teamSize"]["estimate"].as_f64().unwrap();
    assert!(
        (6.4..=9.6).contains(&team),
        "team {team}: {}",
        lagoon["teamSize"]
    );
    assert_eq!(lagoon["behavior"]["timezone"], "UTC+01:00");
    let peak: Vec<u64> = lagoon["behavior"]["peakHours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_u64().unwrap())
        .collect();
    assert!(
        !peak.is_empty() && peak.iter().all(|h| (9..17).contains(h)),
        "{peak:?}"
    );
    assert_eq!(
        lagoon["behavior"]["workingDays"],
        serde_json::json!(["Mon", "Tue", "Wed", "Thu", "Fri"])
    );

    // "95% of the API limit on the free tier, about 200 events/day → strong Pro upgrade, HIGH."
    let bright = culture(&admin, &id("brightpath")).await;
    let top = &bright["upsells"][0];
    assert_eq!(top["kind"], "tier_upgrade", "{:?}", messages(&bright));
    assert_eq!(top["priority"], "high");
    assert!(top["message"].as_str().unwrap().contains("Pro"), "{top}");
    let api = bright["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "api_requests")
        .unwrap();
    assert_eq!(api["used"], 95, "{api}");
    assert_eq!(api["percent"], 95.0);
    let per_day = bright["activity"]["eventsPerDay"].as_f64().unwrap();
    assert!((170.0..=240.0).contains(&per_day), "{per_day}");

    // The seed's own demo customer gets a sensible profile.
    let seed = culture(&admin, demo::DEMO_INSTALL_ID).await;
    assert_eq!(seed["installId"], demo::DEMO_INSTALL_ID);
    assert_eq!(seed["enoughData"], true, "{seed}");
    assert!(seed["health"]["score"].as_u64().is_some());
    assert!(!seed["insights"].as_array().unwrap().is_empty());

    // The list's health column: every demo customer, the same score as its profile.
    let list = admin.get("/api/enterprise/customers?perPage=200").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.body["customers"].as_array().unwrap();
    assert_eq!(items.len(), all.len());
    for item in items {
        let health = &item["health"];
        assert!(health["label"].is_string(), "{item}");
        assert!(health.get("score").is_some(), "{item}");
    }
    let lagoon_item = items
        .iter()
        .find(|i| i["installId"] == id("lagoon").as_str())
        .unwrap();
    assert_eq!(lagoon_item["health"]["score"], lagoon["health"]["score"]);
    assert_eq!(lagoon_item["health"]["label"], "excellent");
    let scored = items
        .iter()
        .filter(|i| i["health"]["score"].is_u64())
        .count();
    assert!(scored >= 3, "{scored} scored");
}
