//! Invoice maths and rules (issue 9), pure: which lines a license's month
//! bills (base price prorated by days, annual tier changes, overage at the
//! plan's usage prices, extra seats), totals with discount and tax in
//! integer minor units, invoice numbers, the lifecycle and the vendor's
//! billing profile. Storage and HTTP only carry the results.

pub mod access;
mod base;
pub mod document;
pub mod generate;
pub mod month;
pub mod number;
pub mod profile;
pub mod timeline;
pub mod totals;
pub mod usage;

pub use base::base_lines;
pub use document::{
    BillTo, Invoice, InvoiceDocument, InvoiceKind, InvoiceStatus, NewInvoice, ShownStatus,
    VendorSnapshot,
};
pub use generate::{month_lines, BillingInput, MonthLines, NotBillable};
pub use month::InvoiceMonth;
pub use number::NumberFormat;
pub use profile::{BankDetails, BillingProfile};
pub use timeline::{timeline, LicenseState};
pub use totals::{compute_totals, Line, LineKind, TaxLine, TaxRate, Totals};
pub use usage::BillableUsage;

#[cfg(test)]
mod tests;
