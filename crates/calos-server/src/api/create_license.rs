//! `POST /api/enterprise/create-license`: a new license (and customer, when
//! one is described). The license key is returned here once and stored only
//! as a keyed hash.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as JsonResponse;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use calos_core::auth::Permission;
use calos_core::customer::{parse_domains, DisplayText, Email, NewCustomer, Notes};
use calos_core::ids::{InstallId, LicenseKey};
use calos_core::license::{parse_trial_days, BillingPeriod, License, LicenseTerms};
use calos_core::plan::{Plan, PlanSlug};
use calos_core::InvalidValue;
use calos_store::{CustomerRef, NewLicense};

use super::mutate;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;

#[derive(utoipa::ToSchema)]
#[schema(as = NewLicense)]
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateBody {
    user_id: Option<i64>,
    customer: Option<CustomerBody>,
    tier: String,
    billing_period: Option<String>,
    trial_days: Option<i64>,
    notes: Option<String>,
    domains: Option<Vec<String>>,
    /// The vendor's account owner of the customer (see `account_owner`).
    account_owner: Option<super::account_owner::OwnerBody>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = NewCustomer)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    name: String,
    email: String,
    company: Option<String>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = CreatedLicense)]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    success: bool,
    install_id: String,
    license_key: String,
    customer_id: i64,
    tier: String,
    billing_period: &'static str,
    status: &'static str,
    trial_ends_at: Option<DateTime<Utc>>,
    period_ends_at: DateTime<Utc>,
    /// Ready to paste into the deployment's environment.
    config: String,
}

#[utoipa::path(
    post,
    path = "/api/enterprise/create-license",
    operation_id = "createLicense",
    tag = "licenses",
    summary = "Issue a license (the key is shown once)",
    request_body = CreateBody,
    responses((status = 201, description = "Created; the license key is in the answer, once", body = Created))
)]
pub async fn create(
    user: AdminUser,
    State(state): State<AppState>,
    Json(body): Json<CreateBody>,
) -> ApiResult<(StatusCode, JsonResponse<Created>)> {
    user.require(Permission::CreateLicense)?;
    let plan = find_plan(&state, &body.tier).await?;
    let customer = parse_customer(&state, body.user_id, body.customer).await?;
    let billing_period = match body.billing_period.as_deref().map(str::trim) {
        None | Some("") => BillingPeriod::Monthly,
        Some(raw) => BillingPeriod::parse(raw)?,
    };
    let trial_days = parse_trial_days(body.trial_days.unwrap_or(0))?;
    let notes = Notes::parse(body.notes.as_deref().unwrap_or_default())?;
    let domains = parse_domains(
        &body.domains.unwrap_or_default(),
        mutate::domain_cap(Some(&plan)),
    )?;
    // Checked before anything is written, so a bad owner creates nothing.
    let owner = match &body.account_owner {
        Some(o) => super::account_owner::parse_owner(&state, o).await?,
        None => None,
    };

    let mut id_bytes = [0u8; 16];
    let mut key_bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    rand::rngs::OsRng.fill_bytes(&mut key_bytes);
    let install_id = InstallId::from_random_bytes(id_bytes);
    let key = LicenseKey::from_random_bytes(key_bytes);

    let license = License::create(
        LicenseTerms {
            install_id: install_id.clone(),
            customer_id: match &customer {
                CustomerRef::Existing(id) => *id,
                // Replaced by the store with the new customer's id.
                CustomerRef::New(_) => 0,
            },
            plan: plan.slug.clone(),
            billing_period,
            trial_days,
            notes,
            domains,
        },
        Utc::now(),
    );
    // The owner is part of what was created, so the one audit record says so.
    let mut after = serde_json::to_value(&license).ok();
    if let (Some(serde_json::Value::Object(fields)), Some(owner)) = (&mut after, &owner) {
        fields.insert(
            "accountOwner".into(),
            super::account_owner::choice_json(owner),
        );
    }
    let audit = user.audit(
        "license.create",
        "license",
        install_id.as_str(),
        None,
        after,
    );
    let new = NewLicense {
        customer,
        license,
        key_hash: state.hasher.hash(&key),
        // Stored in the license's transaction: `license.created` already
        // goes to this owner, for a new customer too.
        owner,
    };
    let (customer, license) = state.store.create_license(&new, &audit).await?;
    tracing::info!(install_id = %install_id, tier = %plan.slug, "license created");
    Ok((
        StatusCode::CREATED,
        JsonResponse(Created {
            success: true,
            config: format!(
                "CALOS_INSTALL_ID={install_id}\nCALOS_LICENSE_KEY={}",
                key.expose()
            ),
            install_id: install_id.to_string(),
            license_key: key.expose().to_owned(),
            customer_id: customer.id,
            tier: license.plan.to_string(),
            billing_period: license.billing_period.as_str(),
            status: license.status.as_str(),
            trial_ends_at: license.trial_ends_at,
            period_ends_at: license.current_period_end,
        }),
    ))
}

/// The plan named by `tier`; anything that is not a stored plan is 422 `unknown_tier`.
pub async fn find_plan(state: &AppState, raw: &str) -> ApiResult<Plan> {
    let unknown = || ApiError::UnknownTier(raw.to_owned());
    let slug = PlanSlug::parse(raw.trim()).map_err(|_| unknown())?;
    state.store.get_plan(&slug).await?.ok_or_else(unknown)
}

async fn parse_customer(
    state: &AppState,
    user_id: Option<i64>,
    customer: Option<CustomerBody>,
) -> ApiResult<CustomerRef> {
    match (user_id, customer) {
        (Some(id), None) => {
            state
                .store
                .get_customer(id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("customer {id}")))?;
            Ok(CustomerRef::Existing(id))
        }
        (None, Some(c)) => {
            let company = match c.company.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(raw) => Some(DisplayText::parse("company", raw)?),
            };
            Ok(CustomerRef::New(NewCustomer {
                name: DisplayText::parse("name", &c.name)?,
                email: Email::parse(&c.email)?,
                company,
            }))
        }
        (Some(_), Some(_)) => {
            Err(InvalidValue::new("customer", "give either userId or customer, not both").into())
        }
        (None, None) => Err(InvalidValue::new(
            "customer",
            "give userId (an existing customer) or customer {name, email, company}",
        )
        .into()),
    }
}
