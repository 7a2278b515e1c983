//! The accountant's CSV: one row per invoice and credit note, amounts both
//! in minor units and as decimals. Text cells a spreadsheet could run as a
//! formula get a leading `'` (see [`crate::pages::neutralise_formula`]).

use chrono::NaiveDate;

use calos_core::invoice::usage::format_minor;
use calos_core::invoice::Invoice;

use crate::pages::neutralise_formula;

const HEADER: [&str; 20] = [
    "id",
    "number",
    "kind",
    "status",
    "month",
    "installId",
    "customer",
    "company",
    "email",
    "issuedAt",
    "dueDate",
    "paidOn",
    "paymentReference",
    "currency",
    "subtotal",
    "discount",
    "tax",
    "total",
    "totalMinor",
    "voidReason",
];

pub fn csv(invoices: &[Invoice], today: NaiveDate) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for inv in invoices {
        let t = &inv.document.totals;
        let text = |s: &str| neutralise_formula(s);
        w.write_record([
            inv.id.to_string(),
            inv.number.clone().unwrap_or_default(),
            inv.kind.as_str().to_owned(),
            inv.shown_status(today).as_str().to_owned(),
            inv.month.to_string(),
            inv.install_id.to_string(),
            text(&inv.document.bill_to.name),
            text(inv.document.bill_to.company.as_deref().unwrap_or_default()),
            text(&inv.document.bill_to.email),
            inv.issued_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            inv.due_date.map(|d| d.to_string()).unwrap_or_default(),
            inv.paid_on.map(|d| d.to_string()).unwrap_or_default(),
            text(inv.payment_reference.as_deref().unwrap_or_default()),
            inv.currency.as_str().to_owned(),
            format_minor(t.subtotal_minor),
            format_minor(t.discount_minor),
            format_minor(t.tax_minor),
            format_minor(t.total_minor),
            t.total_minor.to_string(),
            text(inv.void_reason.as_deref().unwrap_or_default()),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
