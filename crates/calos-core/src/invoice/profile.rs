//! The vendor's billing profile: who issues the invoices and how they are
//! paid. One per installation of CALOS, edited by owners and admins.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::money::Currency;
use crate::InvalidValue;

use super::document::VendorSnapshot;
use super::number::NumberFormat;
use super::totals::TaxRate;

/// Largest logo accepted, decoded.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const MAX_TAX_RATES: usize = 5;

/// Where the customer wires the money. At least an IBAN or an account number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BankDetails {
    pub account_holder: String,
    pub bank_name: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub account_number: Option<String>,
    pub routing_number: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BillingProfile {
    pub legal_name: String,
    /// Postal address, lines separated by newlines.
    pub address: String,
    pub tax_id: Option<String>,
    pub email: Option<String>,
    pub bank: BankDetails,
    #[serde(default = "NumberFormat::default_invoice")]
    pub invoice_number_format: NumberFormat,
    #[serde(default = "NumberFormat::default_credit_note")]
    pub credit_note_number_format: NumberFormat,
    /// Days from issue to due date (net-30 by default).
    #[serde(default = "default_terms")]
    pub payment_terms_days: u32,
    pub currency: Currency,
    #[serde(default)]
    pub tax_rates: Vec<TaxRate>,
    /// Monthly price of one seat above a plan's `seats` limit (0: not billed).
    #[serde(default)]
    pub extra_seat_price_minor: i64,
    /// A PNG logo, base64.
    pub logo_png_base64: Option<String>,
    /// A line printed at the bottom of every invoice.
    pub footer: Option<String>,
}

fn default_terms() -> u32 {
    30
}

fn line(field: &'static str, value: &str, max: usize, multi: bool) -> Result<(), InvalidValue> {
    let bad_char = value
        .chars()
        .any(|c| c.is_control() && !(multi && (c == '\n' || c == '\r')));
    if value.trim().is_empty() || value.chars().count() > max || bad_char {
        return Err(InvalidValue::new(
            field,
            format!("must be 1-{max} characters without control characters"),
        ));
    }
    Ok(())
}

fn optional(field: &'static str, value: &Option<String>, max: usize) -> Result<(), InvalidValue> {
    match value {
        Some(v) => line(field, v, max, false),
        None => Ok(()),
    }
}

impl BillingProfile {
    /// Blank optional fields become `None`; then every rule is checked.
    pub fn normalised(mut self) -> Result<Self, InvalidValue> {
        let blank_to_none = |v: &mut Option<String>| {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            } else if let Some(s) = v {
                *s = s.trim().to_owned();
            }
        };
        for v in [
            &mut self.tax_id,
            &mut self.email,
            &mut self.footer,
            &mut self.logo_png_base64,
            &mut self.bank.bank_name,
            &mut self.bank.iban,
            &mut self.bank.bic,
            &mut self.bank.account_number,
            &mut self.bank.routing_number,
        ] {
            blank_to_none(v);
        }
        self.legal_name = self.legal_name.trim().to_owned();
        self.address = self.address.trim().to_owned();
        self.bank.account_holder = self.bank.account_holder.trim().to_owned();
        self.validate()?;
        Ok(self)
    }

    pub fn validate(&self) -> Result<(), InvalidValue> {
        line("legalName", &self.legal_name, 200, false)?;
        line("address", &self.address, 1000, true)?;
        optional("taxId", &self.tax_id, 60)?;
        optional("email", &self.email, 254)?;
        optional("footer", &self.footer, 300)?;
        line("bank.accountHolder", &self.bank.account_holder, 200, false)?;
        optional("bank.bankName", &self.bank.bank_name, 200)?;
        optional("bank.iban", &self.bank.iban, 42)?;
        optional("bank.bic", &self.bank.bic, 11)?;
        optional("bank.accountNumber", &self.bank.account_number, 40)?;
        optional("bank.routingNumber", &self.bank.routing_number, 40)?;
        if self.bank.iban.is_none() && self.bank.account_number.is_none() {
            return Err(InvalidValue::new(
                "bank",
                "give an IBAN or an account number for wire transfers",
            ));
        }
        if self.payment_terms_days > 365 {
            return Err(InvalidValue::new(
                "paymentTermsDays",
                "must be 0 to 365 days",
            ));
        }
        if self.tax_rates.len() > MAX_TAX_RATES {
            return Err(InvalidValue::new(
                "taxRates",
                format!("at most {MAX_TAX_RATES} tax rates"),
            ));
        }
        for rate in &self.tax_rates {
            rate.validate()?;
        }
        if self.extra_seat_price_minor < 0 {
            return Err(InvalidValue::new(
                "extraSeatPriceMinor",
                "must not be negative",
            ));
        }
        if self.logo_png_base64.is_some() {
            self.logo_png()?;
        }
        Ok(())
    }

    /// The decoded logo, checked to be a PNG of at most [`MAX_LOGO_BYTES`].
    pub fn logo_png(&self) -> Result<Option<Vec<u8>>, InvalidValue> {
        let Some(text) = &self.logo_png_base64 else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| InvalidValue::new("logoPngBase64", "must be base64"))?;
        if bytes.len() > MAX_LOGO_BYTES || !bytes.starts_with(PNG_SIGNATURE) {
            return Err(InvalidValue::new(
                "logoPngBase64",
                format!(
                    "must be a PNG image of at most {} KiB",
                    MAX_LOGO_BYTES / 1024
                ),
            ));
        }
        Ok(Some(bytes))
    }

    /// The wire instructions, one printable line each.
    pub fn payment_lines(&self) -> Vec<String> {
        let b = &self.bank;
        let mut out = vec![format!("Account holder: {}", b.account_holder)];
        let fields = [
            ("Bank", &b.bank_name),
            ("IBAN", &b.iban),
            ("BIC / SWIFT", &b.bic),
            ("Account number", &b.account_number),
            ("Routing number", &b.routing_number),
        ];
        for (label, value) in fields {
            if let Some(v) = value {
                out.push(format!("{label}: {v}"));
            }
        }
        out
    }

    pub fn snapshot(&self) -> VendorSnapshot {
        VendorSnapshot {
            legal_name: self.legal_name.clone(),
            address: self.address.clone(),
            tax_id: self.tax_id.clone(),
            email: self.email.clone(),
            payment_lines: self.payment_lines(),
            footer: self.footer.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn profile() -> BillingProfile {
        serde_json::from_value(serde_json::json!({
            "legalName": "Vendor GmbH",
            "address": "Hauptstr. 1\n10115 Berlin",
            "taxId": "DE123456789",
            "email": null,
            "bank": { "accountHolder": "Vendor GmbH", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX" },
            "currency": "EUR",
            "taxRates": [{ "name": "VAT", "basisPoints": 1900 }],
            "logoPngBase64": null,
            "footer": null
        }))
        .unwrap()
    }

    #[test]
    fn defaults_are_net_30_and_the_documented_format() {
        let p = profile().normalised().unwrap();
        assert_eq!(p.payment_terms_days, 30);
        assert_eq!(p.invoice_number_format.as_str(), "INV-{YYYY}-{SEQ:05}");
        assert_eq!(p.payment_lines()[1], "IBAN: DE89370400440532013000");
    }

    #[test]
    fn refuses_what_an_invoice_cannot_carry() {
        let mut p = profile();
        p.bank.iban = None;
        assert_eq!(p.validate().unwrap_err().field, "bank");
        let mut p = profile();
        p.tax_rates[0].basis_points = -1;
        assert_eq!(p.validate().unwrap_err().field, "taxRates");
        let mut p = profile();
        p.legal_name = " ".into();
        assert_eq!(p.validate().unwrap_err().field, "legalName");
        let mut p = profile();
        p.logo_png_base64 = Some(base64::engine::general_purpose::STANDARD.encode(b"GIF89a"));
        assert_eq!(p.validate().unwrap_err().field, "logoPngBase64");
        let mut p = profile();
        p.extra_seat_price_minor = -5;
        assert!(p.validate().is_err());
    }
}
