//! `calos invoice generate|list|issue|pay|void`: the dashboard's invoice
//! actions on the server itself (audited as the CLI).

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use clap::Subcommand;

use calos_core::audit::{Actor, AuditEntry};
use calos_core::ids::InstallId;
use calos_core::invoice::usage::format_minor;
use calos_core::invoice::{Invoice, InvoiceMonth, ShownStatus};
use calos_store::InvoiceQuery;

use super::{print_json, Output};
use crate::config::Config;
use crate::invoices::view::InvoiceView;
use crate::invoices::{generate, lifecycle};
use crate::store::open_store;

#[derive(Debug, Subcommand)]
pub enum InvoiceCommand {
    /// Make the month's draft invoices (again: existing ones are kept, nothing doubles).
    Generate {
        /// The month to bill, YYYY-MM (not in the future).
        #[arg(long)]
        month: String,
        /// Only this customer (install id); fails when it has nothing to bill.
        #[arg(long, value_name = "INSTALL_ID")]
        customer: Option<String>,
    },
    /// Invoices and credit notes, optionally of one month and status.
    List {
        #[arg(long)]
        month: Option<String>,
        /// draft, issued, overdue, paid or void.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Issue a draft: assigns the next number; the invoice cannot change afterwards.
    Issue { id: i64 },
    /// Record the payment of an issued invoice.
    Pay {
        id: i64,
        #[arg(long)]
        reference: String,
        /// YYYY-MM-DD (default today).
        #[arg(long)]
        paid_on: Option<String>,
    },
    /// Void an invoice; an issued one gets a credit note.
    Void {
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: Actor::Cli,
        action: action.to_owned(),
        target_type: "invoice".to_owned(),
        target_id: String::new(),
        before: None,
        after: None,
        ip: None,
    }
}

fn line(inv: &Invoice) -> String {
    format!(
        "#{:<5} {:<16} {:<12} {:<8} {:<36} {:>14} {}",
        inv.id,
        inv.number.as_deref().unwrap_or("(draft)"),
        inv.kind.as_str(),
        inv.shown_status(Utc::now().date_naive()).as_str(),
        inv.install_id.as_str(),
        format_minor(inv.total_minor()),
        inv.currency.as_str()
    )
}

pub async fn run(config: &Config, command: InvoiceCommand) -> anyhow::Result<()> {
    let store = open_store(&config.database_url).await?;
    let store = store.as_ref();
    let now = Utc::now();
    match command {
        InvoiceCommand::Generate { month, customer } => {
            let month = InvoiceMonth::parse_not_future(&month, now)?;
            let only = customer
                .map(|c| InstallId::parse(c.trim()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let report =
                generate::generate(store, month, only.as_ref(), &audit("invoice.generate"), now)
                    .await?;
            for inv in &report.created {
                println!("created {}", line(inv));
            }
            for k in &report.kept {
                println!(
                    "kept    #{:<5} {} ({}): already invoiced for {month}",
                    k.invoice_id,
                    k.install_id,
                    k.status.as_str()
                );
            }
            for s in &report.skipped {
                println!("skipped {}: {}", s.install_id, s.reason);
            }
            println!(
                "{month}: {} created, {} already there, {} not billable",
                report.created.len(),
                report.kept.len(),
                report.skipped.len()
            );
        }
        InvoiceCommand::List {
            month,
            status,
            output,
        } => {
            let month = month.map(|m| InvoiceMonth::parse(&m)).transpose()?;
            let status = status.map(|s| ShownStatus::parse(&s)).transpose()?;
            let today = now.date_naive();
            let invoices: Vec<Invoice> = store
                .list_invoices(&InvoiceQuery {
                    month,
                    ..InvoiceQuery::default()
                })
                .await?
                .into_iter()
                .filter(|i| status.is_none_or(|s| i.shown_status(today) == s))
                .collect();
            match output {
                Output::Json => print_json(
                    &invoices
                        .iter()
                        .map(|i| InvoiceView::summary(i, today))
                        .collect::<Vec<_>>(),
                )?,
                Output::Table => {
                    for inv in &invoices {
                        println!("{}", line(inv));
                    }
                    println!("{} invoice(s)", invoices.len());
                }
            }
        }
        InvoiceCommand::Issue { id } => {
            let inv = lifecycle::issue(store, id, &audit("invoice.issue"), now).await?;
            println!("issued  {}", line(&inv));
        }
        InvoiceCommand::Pay {
            id,
            reference,
            paid_on,
        } => {
            let paid_on = match paid_on {
                Some(raw) => NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                    .context("--paid-on must be YYYY-MM-DD")?,
                None => now.date_naive(),
            };
            let inv =
                lifecycle::pay(store, id, paid_on, &reference, &audit("invoice.pay"), now).await?;
            println!("paid    {}", line(&inv));
        }
        InvoiceCommand::Void { id, reason } => {
            let (inv, credit) =
                lifecycle::void(store, id, &reason, &audit("invoice.void"), now).await?;
            println!("voided  {}", line(&inv));
            if let Some(c) = credit {
                println!("credit  {}", line(&c));
            }
        }
    }
    Ok(())
}
