//! Every bad input the issue lists gets the right status and JSON error, and
//! leaves what is stored unchanged (customer list and audit log compared
//! before and after).

use serde_json::{json, Value};

use crate::client::{Api, Resp};
use crate::helpers::TestApp;

mod bodies;
mod values;

pub const CREATE: &str = "/api/enterprise/create-license";

/// Sends `req` and asserts the error and that nothing stored changed.
pub async fn rejected(
    app: &TestApp,
    admin: &Api,
    status: u16,
    code: &str,
    req: impl std::future::Future<Output = Resp>,
) -> Resp {
    let before = app.snapshot(admin).await;
    let resp = req.await;
    resp.assert_error(status, code);
    assert_eq!(
        app.snapshot(admin).await,
        before,
        "a rejected request changed stored data"
    );
    resp
}

pub fn valid_body() -> Value {
    json!({ "customer": { "name": "Acme Ops", "email": "ops@acme.example", "company": "Acme" }, "tier": "pro" })
}

/// Some existing data, so "nothing changed" is not trivially true.
pub async fn seeded(app: &TestApp) -> Api {
    let admin = app.admin().await;
    app.create_license(&admin, "pro", json!({})).await;
    admin
}
