//! Generating a month's invoices: one draft per license with something to
//! bill. Idempotent: a license that already has a live (not void) invoice
//! for the month keeps it — generating again never makes a second draft,
//! also when two generations race (the store's unique index decides).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use calos_core::audit::AuditEntry;
use calos_core::ids::InstallId;
use calos_core::invoice::{
    month_lines, timeline, BillTo, BillingInput, BillingProfile, Invoice, InvoiceDocument,
    InvoiceKind, InvoiceMonth, InvoiceStatus, NewInvoice,
};
use calos_core::license::License;
use calos_core::plan::{Plan, PlanSlug};
use calos_store::{AuditQuery, InvoiceQuery, LicenseQuery, Store, StoreError};

use crate::error::{ApiError, ApiResult};

/// What one generation did, per license.
#[derive(utoipa::ToSchema)]
#[schema(as = GenerationReport)]
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub month: String,
    pub created: Vec<Invoice>,
    /// Licenses that already had a live invoice for the month.
    pub kept: Vec<Kept>,
    /// Licenses with nothing to bill, and why.
    pub skipped: Vec<Skipped>,
}

#[derive(utoipa::ToSchema)]
#[schema(as = KeptInvoice)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kept {
    pub install_id: InstallId,
    pub invoice_id: i64,
    pub status: InvoiceStatus,
}

#[derive(utoipa::ToSchema)]
#[schema(as = SkippedLicense)]
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub install_id: InstallId,
    pub reason: String,
}

const HISTORY_LIMIT: u32 = 10_000;
const PAGE: u32 = 200;

async fn all_licenses(store: &dyn Store, now: DateTime<Utc>) -> ApiResult<Vec<License>> {
    let mut out = Vec::new();
    for page in 1.. {
        let got = store
            .list_licenses(&LicenseQuery {
                page,
                per_page: PAGE,
                now,
                ..LicenseQuery::default()
            })
            .await?;
        let n = got.items.len();
        out.extend(got.items.into_iter().map(|i| i.license));
        if n < PAGE as usize || out.len() as u64 >= got.total {
            break;
        }
    }
    Ok(out)
}

/// The license's states over time from its audit history.
async fn history(store: &dyn Store, license: &License) -> ApiResult<Vec<(DateTime<Utc>, License)>> {
    let records = store
        .list_audit(&AuditQuery {
            target_type: Some("license".to_owned()),
            target_id: Some(license.install_id.to_string()),
            limit: HISTORY_LIMIT,
        })
        .await?;
    Ok(records
        .into_iter()
        .filter_map(|r| {
            let after = r.entry.after?;
            let l: License = serde_json::from_value(after).ok()?;
            Some((r.entry.at, l))
        })
        .collect())
}

/// Builds the draft of one license, or says why there is none.
async fn draft_for(
    store: &dyn Store,
    license: &License,
    month: InvoiceMonth,
    plans: &BTreeMap<PlanSlug, Plan>,
    profile: &BillingProfile,
) -> ApiResult<Result<NewInvoice, String>> {
    let states = timeline(license, &history(store, license).await?);
    let usage = store
        .billable_usage(&license.install_id, month.start(), month.end())
        .await?;
    let seats = store
        .distinct_users(
            &license.install_id,
            month.first_day(),
            month.next_first_day(),
        )
        .await?;
    let input = BillingInput {
        month,
        states: &states,
        plans,
        usage: &usage,
        seats_used: seats,
        extra_seat_price_minor: profile.extra_seat_price_minor,
    };
    let lines = match month_lines(&input) {
        Ok(lines) => lines,
        Err(why) => return Ok(Err(why.to_string())),
    };
    if lines.currency != profile.currency {
        return Ok(Err(format!(
            "plan {} is priced in {}, the billing profile invoices in {}",
            lines.plan,
            lines.currency.as_str(),
            profile.currency.as_str()
        )));
    }
    let customer = store
        .get_customer(license.customer_id)
        .await?
        .ok_or(StoreError::NotFound("customer"))?;
    let bill_to = BillTo {
        name: customer.name.as_str().to_owned(),
        company: customer.company.as_ref().map(|c| c.as_str().to_owned()),
        email: customer.email.as_str().to_owned(),
    };
    let document = InvoiceDocument::new(
        bill_to,
        lines.lines,
        profile.tax_rates.clone(),
        profile.payment_terms_days,
    )?;
    Ok(Ok(NewInvoice {
        kind: InvoiceKind::Invoice,
        install_id: license.install_id.clone(),
        customer_id: license.customer_id,
        month,
        currency: lines.currency,
        document,
        credits_invoice_id: None,
    }))
}

/// Generates `month`'s drafts for every license, or only `only`. With
/// `only`, a license with nothing to bill is an error (422) rather than a
/// skip, and an unknown install 404.
pub async fn generate(
    store: &dyn Store,
    month: InvoiceMonth,
    only: Option<&InstallId>,
    audit: &AuditEntry,
    now: DateTime<Utc>,
) -> ApiResult<Report> {
    let profile = super::profile(store).await?;
    let plans: BTreeMap<PlanSlug, Plan> = store
        .list_plans()
        .await?
        .into_iter()
        .map(|p| (p.slug.clone(), p))
        .collect();
    let licenses = match only {
        Some(id) => vec![store
            .get_license(id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("license {:?}", id.as_str())))?],
        None => all_licenses(store, now).await?,
    };
    let existing = store
        .list_invoices(&InvoiceQuery {
            month: Some(month),
            install_id: only.cloned(),
            kind: Some(InvoiceKind::Invoice),
        })
        .await?;
    let live: BTreeMap<&InstallId, &Invoice> = existing
        .iter()
        .filter(|i| i.status != InvoiceStatus::Void)
        .map(|i| (&i.install_id, i))
        .collect();
    let mut report = Report {
        month: month.to_string(),
        ..Report::default()
    };
    let mut seen = BTreeSet::new();
    for license in &licenses {
        if !seen.insert(license.install_id.clone()) {
            continue;
        }
        if let Some(inv) = live.get(&license.install_id) {
            report.kept.push(Kept {
                install_id: license.install_id.clone(),
                invoice_id: inv.id,
                status: inv.status,
            });
            continue;
        }
        let new = match draft_for(store, license, month, &plans, &profile).await? {
            Ok(new) => new,
            Err(reason) if only.is_some() => {
                return Err(ApiError::InvalidBody(format!(
                    "customer {} has no billing data for {month}: {reason}",
                    license.install_id
                )))
            }
            Err(reason) => {
                report.skipped.push(Skipped {
                    install_id: license.install_id.clone(),
                    reason,
                });
                continue;
            }
        };
        match store.create_invoice(&new, now, audit).await {
            Ok(inv) => report.created.push(inv),
            // Another generation made it a moment ago: keep that one.
            Err(StoreError::Conflict { field: "month", .. }) => {
                let current = store
                    .list_invoices(&InvoiceQuery {
                        month: Some(month),
                        install_id: Some(license.install_id.clone()),
                        kind: Some(InvoiceKind::Invoice),
                    })
                    .await?;
                if let Some(inv) = current.iter().find(|i| i.status != InvoiceStatus::Void) {
                    report.kept.push(Kept {
                        install_id: license.install_id.clone(),
                        invoice_id: inv.id,
                        status: inv.status,
                    });
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(report)
}
