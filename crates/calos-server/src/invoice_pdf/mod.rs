//! Invoice and credit-note PDFs, drawn in Rust with krilla and an embedded
//! font (DejaVu Sans, from the `dejavu` crate, Bitstream Vera licence): no browser or system
//! tool at run time. [`layout`] places everything on A4 pages as plain
//! drawing operations (so the layout is testable without a PDF);
//! [`draw`] turns them into the PDF.

mod draw;
mod layout;
mod metrics;

use calos_core::invoice::{Invoice, VendorSnapshot};

pub use layout::Page;

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("the logo is not a readable PNG: {0}")]
    Logo(String),
    #[error("writing the PDF failed: {0}")]
    Write(String),
}

/// The PDF of `invoice`, with the vendor's details (`vendor`: the snapshot
/// taken when it was issued, or the current profile for a draft) and logo.
pub fn render(
    invoice: &Invoice,
    vendor: &VendorSnapshot,
    logo_png: Option<&[u8]>,
) -> Result<Vec<u8>, PdfError> {
    let logo = logo_png.map(draw::logo_size).transpose()?;
    let pages = layout::pages(invoice, vendor, logo);
    draw::pdf(&pages, logo_png)
}

/// Checks that a logo can be drawn (a PNG krilla decodes).
/// Pixels are decoded only when the PDF is written, so this writes a page
/// with the logo on it.
pub fn check_logo(png: &[u8]) -> Result<(), calos_core::InvalidValue> {
    let invalid = |e: PdfError| calos_core::InvalidValue::new("logoPngBase64", e.to_string());
    let (w, h) = draw::logo_size(png).map_err(invalid)?;
    let page = Page {
        ops: vec![layout::Op::Logo {
            x: 0.0,
            y: 0.0,
            w,
            h,
        }],
    };
    draw::pdf(&[page], Some(png))
        .map(|_| ())
        .map_err(|e| match e {
            PdfError::Write(why) => invalid(PdfError::Logo(why)),
            other => invalid(other),
        })
}

/// A download name for the PDF (`INV-2026-00001.pdf`, `draft-12.pdf`).
pub fn file_name(invoice: &Invoice) -> String {
    let stem = invoice.number.as_deref().map_or_else(
        || format!("draft-{}", invoice.id),
        |n| {
            n.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        },
    );
    format!("{stem}.pdf")
}

#[cfg(test)]
mod tests;
