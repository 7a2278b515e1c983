//! The vendor's account owner of a customer (issue 10):
//! `GET`/`PUT /api/enterprise/customers/{installId}/owner`, and the
//! `accountOwner` of `create-license`. The owner is a vendor admin
//! (`{"adminId": 3}`) or a plain address (`{"email": "…"}`); it receives
//! that customer's vendor-side notifications instead of the vendor address.
//! `{}` (or both null) clears it. Changing it is audited (`customer.owner`).

use axum::extract::{Path, State};
use axum::Json as JsonResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use calos_core::auth::Permission;
use calos_core::customer::{CustomerId, Email};
use calos_core::InvalidValue;
use calos_store::{AccountOwner, OwnerChoice};

use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::ApiResult;
use crate::extract::Json;

/// An owner as the API takes it: an admin id or an e-mail, not both.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = AccountOwnerChoice)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OwnerBody {
    admin_id: Option<i64>,
    email: Option<String>,
}

/// Checks an owner body: the admin must exist and be enabled, the e-mail
/// must parse; `None` clears. Bad owners are 422 `invalid_field`.
pub async fn parse_owner(state: &AppState, body: &OwnerBody) -> ApiResult<Option<OwnerChoice>> {
    let email = body
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    match (body.admin_id, email) {
        (Some(_), Some(_)) => {
            Err(InvalidValue::new("accountOwner", "give either adminId or email, not both").into())
        }
        (Some(id), None) => match state.store.get_admin(id).await? {
            Some(admin) if !admin.disabled => Ok(Some(OwnerChoice::Admin(admin.id))),
            Some(_) => Err(InvalidValue::new(
                "adminId",
                format!("admin {id} is disabled and cannot own customers"),
            )
            .into()),
            None => Err(InvalidValue::new("adminId", format!("no admin has id {id}")).into()),
        },
        (None, Some(raw)) => Ok(Some(OwnerChoice::Email(Email::parse(raw).map_err(
            |_| {
                InvalidValue::new(
                    "email",
                    "the owner must be an e-mail address like name@example.com",
                )
            },
        )?))),
        (None, None) => Ok(None),
    }
}

/// Sets a customer's owner, audited as `customer.owner` with the owner
/// before and after.
pub async fn set_owner(
    state: &AppState,
    user: &AdminUser,
    customer_id: CustomerId,
    owner: Option<&OwnerChoice>,
) -> ApiResult<Option<AccountOwner>> {
    let before = state.store.account_owner(customer_id).await?;
    let audit = user.audit(
        "customer.owner",
        "customer",
        &customer_id.to_string(),
        Some(owner_json(before.as_ref())),
        Some(owner.map_or(Value::Null, choice_json)),
    );
    Ok(state
        .store
        .set_account_owner(customer_id, owner, &audit)
        .await?)
}

/// An owner as chosen, for audit records.
pub fn choice_json(owner: &OwnerChoice) -> Value {
    match owner {
        OwnerChoice::Admin(id) => json!({ "adminId": id }),
        OwnerChoice::Email(e) => json!({ "email": e.as_str() }),
    }
}

fn owner_json(owner: Option<&AccountOwner>) -> Value {
    serde_json::to_value(owner).unwrap_or(Value::Null)
}

async fn customer_of(state: &AppState, raw_id: &str) -> ApiResult<CustomerId> {
    let install_id = mutate::parse_install_id(raw_id)?;
    Ok(mutate::load(state, &install_id).await?.customer_id)
}

#[utoipa::path(
    get,
    path = "/api/enterprise/customers/{install_id}/owner",
    operation_id = "getAccountOwner",
    tag = "licenses",
    summary = "The vendor's account owner of a customer",
    params(("install_id" = String, Path, description = "The install id of one of the customer's licenses")),
    responses((status = 200, description = "The owner, or null", body = crate::api::openapi::schemas::AccountOwnerResult))
)]
pub async fn show(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::Read)?;
    let customer_id = customer_of(&state, &raw_id).await?;
    let owner = state.store.account_owner(customer_id).await?;
    Ok(JsonResponse(json!({
        "success": true,
        "customerId": customer_id,
        "owner": owner_json(owner.as_ref()),
    })))
}

#[utoipa::path(
    put,
    path = "/api/enterprise/customers/{install_id}/owner",
    operation_id = "putAccountOwner",
    tag = "licenses",
    summary = "Set or clear the vendor's account owner of a customer",
    params(("install_id" = String, Path, description = "The install id of one of the customer's licenses")),
    request_body = OwnerBody,
    responses((status = 200, description = "The new owner, or null", body = crate::api::openapi::schemas::AccountOwnerResult))
)]
pub async fn put(
    user: AdminUser,
    State(state): State<AppState>,
    Path(raw_id): Path<String>,
    Json(body): Json<OwnerBody>,
) -> ApiResult<JsonResponse<Value>> {
    user.require(Permission::CreateLicense)?;
    let customer_id = customer_of(&state, &raw_id).await?;
    let choice = parse_owner(&state, &body).await?;
    let owner = set_owner(&state, &user, customer_id, choice.as_ref()).await?;
    tracing::info!(customer = customer_id, "account owner changed");
    Ok(JsonResponse(json!({
        "success": true,
        "customerId": customer_id,
        "owner": owner_json(owner.as_ref()),
    })))
}
