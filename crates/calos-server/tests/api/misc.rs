//! Health, request ids, unknown routes, plans and the audit endpoint.

use serde_json::json;

use crate::helpers::TestApp;

crate::both_backends!(
    healthz_names_the_store,
    responses_carry_a_request_id,
    unknown_routes_and_methods_get_json_errors,
    plans_are_listed_and_editable,
    bad_plan_edits_are_rejected,
    audit_query_is_validated,
);

async fn healthz_names_the_store(app: &TestApp) {
    let r = app.anon().get("/healthz").await;
    assert_eq!(r.status.as_u16(), 200);
    assert_eq!(
        r.body,
        json!({ "status": "ok", "store": app.store().backend() })
    );
}

async fn responses_carry_a_request_id(app: &TestApp) {
    let r = app.anon().get("/api/enterprise/stats").await;
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let given = app
        .anon()
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-123");
}

async fn unknown_routes_and_methods_get_json_errors(app: &TestApp) {
    let admin = app.admin().await;
    admin
        .get("/api/enterprise/nope")
        .await
        .assert_error(404, "not_found");
    admin
        .get("/api/enterprise/create-license")
        .await
        .assert_error(405, "method_not_allowed");
}

async fn plans_are_listed_and_editable(app: &TestApp) {
    let admin = app.admin().await;
    let list = admin.get("/api/enterprise/plans").await;
    let plans = list.body["plans"].as_array().unwrap();
    let slugs: Vec<&str> = plans.iter().map(|p| p["slug"].as_str().unwrap()).collect();
    for slug in [
        "development",
        "community",
        "pro",
        "enterprise",
        "self_hosted",
    ] {
        assert!(slugs.contains(&slug), "{slugs:?}");
    }
    let mut pro = plans.iter().find(|p| p["slug"] == "pro").unwrap().clone();
    assert_eq!(
        (
            pro["priceMonthlyMinor"].as_i64(),
            pro["priceAnnualMinor"].as_i64()
        ),
        (Some(2_900), Some(31_200))
    );
    pro.as_object_mut().unwrap().remove("entitledFeatures");
    pro["priceMonthlyMinor"] = json!(3_500);
    let put = admin.put("/api/enterprise/plans/pro", &pro).await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.body);
    assert_eq!(put.body["created"], false);
    // Revenue follows the edited price table.
    app.create_license(&admin, "pro", json!({})).await;
    let stats = admin.get("/api/enterprise/stats").await;
    assert_eq!(stats.body["stats"]["monthlyRecurringRevenueMinor"], 3_500);
    let audit = admin
        .get("/api/enterprise/audit?targetType=plan&targetId=pro")
        .await;
    let rec = &audit.body["audit"][0];
    assert_eq!(rec["action"], "plan.update");
    assert_eq!(
        (
            rec["before"]["priceMonthlyMinor"].as_i64(),
            rec["after"]["priceMonthlyMinor"].as_i64()
        ),
        (Some(2_900), Some(3_500))
    );
}

async fn bad_plan_edits_are_rejected(app: &TestApp) {
    let admin = app.admin().await;
    let list = admin.get("/api/enterprise/plans").await;
    let mut pro = list.body["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "pro")
        .unwrap()
        .clone();
    pro.as_object_mut().unwrap().remove("entitledFeatures");
    let before = app.snapshot(&admin).await;
    admin
        .put("/api/enterprise/plans/enterprise", &pro)
        .await
        .assert_error(422, "invalid_field");
    let mut negative = pro.clone();
    negative["priceMonthlyMinor"] = json!(-1);
    admin
        .put("/api/enterprise/plans/pro", &negative)
        .await
        .assert_error(422, "invalid_field");
    let mut extra = pro.clone();
    extra["bogus"] = json!(true);
    admin
        .put("/api/enterprise/plans/pro", &extra)
        .await
        .assert_error(422, "invalid_body");
    assert_eq!(app.snapshot(&admin).await, before);
    let after = admin.get("/api/enterprise/plans").await;
    assert_eq!(after.body, list.body);
}

async fn audit_query_is_validated(app: &TestApp) {
    let admin = app.admin().await;
    admin
        .get("/api/enterprise/audit?limit=0")
        .await
        .assert_error(400, "invalid_query");
    admin
        .get("/api/enterprise/audit?limit=lots")
        .await
        .assert_error(400, "invalid_query");
    app.create_license(&admin, "pro", json!({})).await;
    app.create_license(&admin, "pro", json!({})).await;
    let one = admin.get("/api/enterprise/audit?limit=1").await;
    assert_eq!(one.body["audit"].as_array().unwrap().len(), 1);
}
