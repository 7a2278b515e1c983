//! `calos license list` and `calos plans list`.

use anyhow::Context;
use chrono::Utc;
use serde_json::json;

use calos_core::license::LicenseStatus;
use calos_core::plan::PlanSlug;
use calos_store::{LicenseQuery, LicenseSort};

use super::{print_json, Output};
use crate::config::Config;
use crate::store::open_store;

const PAGE: u32 = 200;

pub async fn licenses(
    config: &Config,
    status: Option<String>,
    tier: Option<String>,
    output: Output,
) -> anyhow::Result<()> {
    let status = status
        .map(|s| LicenseStatus::parse(&s))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan = tier
        .map(|t| PlanSlug::parse(&t))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open_store(&config.database_url).await?;
    if let Some(slug) = &plan {
        if store.get_plan(slug).await?.is_none() {
            anyhow::bail!("unknown tier {:?}", slug.as_str());
        }
    }
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let query = LicenseQuery {
            status,
            plan: plan.clone(),
            search: None,
            page,
            per_page: PAGE,
            sort: LicenseSort::CreatedAsc,
            now: Utc::now(),
        };
        let result = store
            .list_licenses(&query)
            .await
            .context("cannot list licenses")?;
        let done = result.items.len() < PAGE as usize || u64::from(page * PAGE) >= result.total;
        items.extend(result.items);
        if done {
            break;
        }
        page += 1;
    }
    match output {
        Output::Json => {
            let rows: Vec<_> = items
                .iter()
                .map(|i| {
                    json!({
                        "installId": i.license.install_id,
                        "customer": i.customer,
                        "tier": i.license.plan,
                        "status": i.license.status,
                        "billingPeriod": i.license.billing_period,
                        "domains": i.license.domains,
                        "createdAt": i.license.created_at,
                        "currentPeriodEnd": i.license.current_period_end,
                        "trialEndsAt": i.license.trial_ends_at,
                        "apiRequestsThisPeriod": i.api_requests_this_period,
                        "eventsLast30Days": i.events_last_30_days,
                    })
                })
                .collect();
            print_json(&rows)?;
        }
        Output::Table => {
            println!(
                "{:<34} {:<12} {:<10} {:<8} CUSTOMER",
                "INSTALL ID", "TIER", "STATUS", "PERIOD"
            );
            for i in &items {
                println!(
                    "{:<34} {:<12} {:<10} {:<8} {} <{}>",
                    i.license.install_id,
                    i.license.plan,
                    i.license.status.as_str(),
                    i.license.billing_period.as_str(),
                    i.customer.name,
                    i.customer.email.as_str()
                );
            }
            println!("{} license(s)", items.len());
        }
    }
    Ok(())
}

pub async fn plans(config: &Config, output: Output) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let plans = store.list_plans().await?;
    match output {
        Output::Json => print_json(&plans)?,
        Output::Table => {
            println!(
                "{:<14} {:<14} {:>10} {:>10} {:>6}",
                "SLUG", "NAME", "MONTHLY", "ANNUAL", "TRIAL"
            );
            for p in plans {
                println!(
                    "{:<14} {:<14} {:>10} {:>10} {:>6}",
                    p.slug,
                    p.name,
                    money(p.price_monthly_minor, p.currency.as_str()),
                    money(p.price_annual_minor, p.currency.as_str()),
                    format!("{}d", p.trial_days)
                );
            }
        }
    }
    Ok(())
}

fn money(minor: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs())
}
