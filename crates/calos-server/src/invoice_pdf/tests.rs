use chrono::{NaiveDate, TimeZone, Utc};

use calos_core::ids::InstallId;
use calos_core::invoice::{
    BillTo, Invoice, InvoiceDocument, InvoiceKind, InvoiceMonth, InvoiceStatus, Line, LineKind,
    TaxRate, VendorSnapshot,
};
use calos_core::money::Currency;

use super::*;

fn vendor() -> VendorSnapshot {
    VendorSnapshot {
        legal_name: "Vendor GmbH".into(),
        address: "Hauptstraße 1\n10115 Berlin".into(),
        tax_id: Some("DE123456789".into()),
        email: Some("billing@vendor.example".into()),
        payment_lines: vec![
            "Account holder: Vendor GmbH".into(),
            "IBAN: DE89370400440532013000".into(),
        ],
        footer: Some("Vendor GmbH · Amtsgericht Berlin".into()),
    }
}

fn invoice(lines: usize) -> Invoice {
    let line = |i: usize| Line {
        kind: LineKind::Overage,
        description: format!(
            "Usage line {i} with a description long enough to wrap onto a second line of the table"
        ),
        quantity: 3,
        unit: "units".into(),
        unit_price_minor: Some(1_000),
        detail: Some("3 × 10.00".into()),
        amount_minor: 3_000,
        plan: None,
    };
    let doc = InvoiceDocument::new(
        BillTo {
            name: "Ann Example".into(),
            company: Some("Acme Ltd".into()),
            email: "ann@acme.example".into(),
        },
        (0..lines).map(line).collect(),
        vec![TaxRate {
            name: "VAT".into(),
            basis_points: 1_900,
        }],
        30,
    )
    .unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    Invoice {
        id: 7,
        kind: InvoiceKind::Invoice,
        number: Some("INV-2026-00042".into()),
        install_id: InstallId::parse("pdf-test-install-01").unwrap(),
        customer_id: 1,
        month: InvoiceMonth::parse("2026-10").unwrap(),
        status: InvoiceStatus::Issued,
        currency: Currency::usd(),
        document: doc,
        issued_at: Some(at),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 2),
        paid_on: None,
        payment_reference: None,
        voided_at: None,
        void_reason: None,
        credits_invoice_id: None,
        created_at: at,
        updated_at: at,
    }
}

fn text_of(pdf: &[u8]) -> (usize, String) {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    (pages.len(), text)
}

#[test]
fn one_page_invoice_shows_its_number_total_and_wire_details() {
    let inv = invoice(2);
    // 2 × 30.00 = 60.00; VAT 19% = 11.40; total 71.40
    assert_eq!(inv.total_minor(), 7_140);
    let pdf = render(&inv, &vendor(), None).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let (pages, text) = text_of(&pdf);
    assert_eq!(pages, 1);
    for needle in [
        "INV-2026-00042",
        "71.40 USD",
        "DE89370400440532013000",
        "Ann Example",
        "2 December 2026",
        "Hauptstraße 1",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn long_invoices_continue_on_more_pages_with_the_total_on_the_last() {
    let inv = invoice(40);
    let pdf = render(&inv, &vendor(), None).unwrap();
    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    let last = doc.extract_text(&[*pages.last().unwrap()]).unwrap();
    assert!(
        last.contains(&layout::money(inv.total_minor(), "USD")),
        "{last}"
    );
    assert!(last.contains(&format!("Page {} of {}", pages.len(), pages.len())));
}

#[test]
fn a_logo_is_drawn_and_a_broken_one_refused() {
    // A 2 × 1 RGB PNG.
    let png = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x7b,
        0x40, 0xe8, 0xdd, 0x00, 0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x90,
        0xf5, 0xbb, 0xf1, 0xff, 0xff, 0x7f, 0x00, 0x0b, 0x95, 0x04, 0x41, 0xef, 0x81, 0x83, 0x4f,
        0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];
    let pdf = render(&invoice(1), &vendor(), Some(&png)).unwrap();
    assert!(
        String::from_utf8_lossy(&pdf).contains("/Image"),
        "the logo is an image XObject"
    );
    assert!(render(&invoice(1), &vendor(), Some(b"\x89PNG\r\n\x1a\nnot really")).is_err());
    // A PNG whose header reads but whose pixels are corrupt is refused up front.
    let mut corrupt = png;
    corrupt[45] ^= 0xff;
    assert!(check_logo(&corrupt).is_err());
    assert!(check_logo(&png).is_ok());
}

#[test]
fn money_groups_thousands() {
    assert_eq!(layout::money(123_456_789, "USD"), "1,234,567.89 USD");
    assert_eq!(layout::money(-5, "EUR"), "-0.05 EUR");
    assert_eq!(file_name(&invoice(1)), "INV-2026-00042.pdf");
}
