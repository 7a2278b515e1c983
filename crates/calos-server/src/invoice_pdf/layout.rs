//! Where everything goes on the page: the invoice as a list of A4 pages of
//! drawing operations (points, origin top-left, y down, text at baseline).

use calos_core::invoice::usage::format_minor;
use calos_core::invoice::{Invoice, InvoiceKind, InvoiceStatus, VendorSnapshot};

use super::metrics::{width, wrap};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 48.0;
const RIGHT: f32 = PAGE_W - MARGIN;
/// Rows stop here; below is the footer.
const BODY_BOTTOM: f32 = PAGE_H - 72.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const INK: Rgb = Rgb(33, 37, 41);
pub const MUTED: Rgb = Rgb(108, 117, 125);
pub const ACCENT: Rgb = Rgb(29, 78, 216);
const BAND: Rgb = Rgb(238, 242, 247);
const RULE: Rgb = Rgb(214, 219, 225);

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: Rgb,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    Logo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub ops: Vec<Op>,
}

/// Amount with thousands separators and the currency: `1,234.56 USD`.
pub fn money(minor: i64, currency: &str) -> String {
    let plain = format_minor(minor);
    let (sign, rest) = plain
        .strip_prefix('-')
        .map_or(("", plain.as_str()), |r| ("-", r));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac} {currency}")
}

struct Pen {
    pages: Vec<Page>,
}

impl Pen {
    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: Rgb, text: &str) {
        if text.is_empty() {
            return;
        }
        self.page().ops.push(Op::Text {
            x,
            y,
            size,
            bold,
            color,
            text: text.to_owned(),
        });
    }

    /// Text ending at `right`.
    fn right(&mut self, right: f32, y: f32, size: f32, bold: bool, color: Rgb, text: &str) {
        let x = right - width(text, size, bold);
        self.text(x, y, size, bold, color, text);
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        self.page().ops.push(Op::Rect { x, y, w, h, color });
    }
}

fn title(invoice: &Invoice) -> &'static str {
    match (invoice.kind, invoice.status) {
        (InvoiceKind::CreditNote, _) => "CREDIT NOTE",
        (_, InvoiceStatus::Draft) => "DRAFT INVOICE",
        _ => "INVOICE",
    }
}

fn long_month(invoice: &Invoice) -> String {
    invoice.month.first_day().format("%B %Y").to_string()
}

/// Lays out `invoice`; `logo` is the logo's pixel size when there is one.
pub fn pages(invoice: &Invoice, vendor: &VendorSnapshot, logo: Option<(f32, f32)>) -> Vec<Page> {
    let mut pen = Pen { pages: Vec::new() };
    let currency = invoice.currency.as_str();
    let doc = &invoice.document;

    // Logo (fitted into 170 × 56) or the vendor's name, top left.
    let mut left_y = MARGIN;
    if let Some((w, h)) = logo {
        let scale = (170.0 / w).min(56.0 / h).min(1.0);
        let (w, h) = (w * scale, h * scale);
        pen.page().ops.push(Op::Logo {
            x: MARGIN,
            y: MARGIN,
            w,
            h,
        });
        left_y += h + 18.0;
    } else {
        pen.text(MARGIN, left_y + 16.0, 16.0, true, INK, &vendor.legal_name);
        left_y += 34.0;
    }
    // Vendor details.
    if logo.is_some() {
        pen.text(MARGIN, left_y, 10.0, true, INK, &vendor.legal_name);
        left_y += 13.0;
    }
    for line in vendor.address.lines() {
        pen.text(MARGIN, left_y, 9.0, false, MUTED, line.trim());
        left_y += 12.0;
    }
    if let Some(tax) = &vendor.tax_id {
        pen.text(MARGIN, left_y, 9.0, false, MUTED, &format!("Tax ID: {tax}"));
        left_y += 12.0;
    }
    if let Some(email) = &vendor.email {
        pen.text(MARGIN, left_y, 9.0, false, MUTED, email);
        left_y += 12.0;
    }

    // Title and the invoice's facts, top right.
    pen.right(RIGHT, MARGIN + 20.0, 22.0, true, ACCENT, title(invoice));
    let mut facts: Vec<(&str, String)> = vec![(
        if invoice.kind == InvoiceKind::CreditNote {
            "Credit note no."
        } else {
            "Invoice no."
        },
        invoice
            .number
            .clone()
            .unwrap_or_else(|| "not issued yet".to_owned()),
    )];
    if let Some(at) = invoice.issued_at {
        facts.push(("Issue date", at.format("%-d %B %Y").to_string()));
    }
    if let (Some(due), InvoiceKind::Invoice) = (invoice.due_date, invoice.kind) {
        facts.push(("Due date", due.format("%-d %B %Y").to_string()));
    }
    facts.push(("Billing period", long_month(invoice)));
    facts.push(("Customer", invoice.install_id.to_string()));
    let mut right_y = MARGIN + 44.0;
    for (label, value) in &facts {
        pen.text(RIGHT - 230.0, right_y, 9.0, false, MUTED, label);
        pen.right(RIGHT, right_y, 9.0, true, INK, value);
        right_y += 14.0;
    }

    // Bill to.
    let mut y = left_y.max(right_y) + 18.0;
    pen.text(MARGIN, y, 8.0, true, MUTED, "BILL TO");
    y += 14.0;
    pen.text(MARGIN, y, 10.5, true, INK, &doc.bill_to.name);
    y += 13.0;
    if let Some(company) = &doc.bill_to.company {
        pen.text(MARGIN, y, 9.5, false, INK, company);
        y += 12.0;
    }
    pen.text(MARGIN, y, 9.5, false, MUTED, &doc.bill_to.email);
    y += 26.0;

    // Lines.
    let cols = Columns::new();
    y = table_header(&mut pen, &cols, y);
    for line in &doc.lines {
        let desc = wrap(&line.description, 9.5, false, cols.desc_width);
        let detail = line
            .detail
            .as_deref()
            .map(|d| wrap(d, 8.0, false, cols.desc_width))
            .unwrap_or_default();
        let height = desc.len() as f32 * 12.0 + detail.len() as f32 * 10.5 + 10.0;
        if y + height > BODY_BOTTOM {
            pen.pages.push(Page::default());
            y = table_header(&mut pen, &cols, MARGIN);
        }
        let mut ly = y + 14.0;
        for d in &desc {
            pen.text(cols.desc_x, ly, 9.5, false, INK, d);
            ly += 12.0;
        }
        for d in &detail {
            pen.text(cols.desc_x, ly - 1.5, 8.0, false, MUTED, d);
            ly += 10.5;
        }
        let qty = format!("{} {}", line.quantity, line.unit);
        pen.right(cols.qty_right, y + 14.0, 9.5, false, INK, &qty);
        if let Some(unit) = line.unit_price_minor {
            pen.right(
                cols.unit_right,
                y + 14.0,
                9.5,
                false,
                INK,
                &money(unit, currency),
            );
        }
        pen.right(
            cols.amount_right,
            y + 14.0,
            9.5,
            false,
            INK,
            &money(line.amount_minor, currency),
        );
        y += height;
        pen.rect(MARGIN, y - 0.5, RIGHT - MARGIN, 0.5, RULE);
    }

    // Totals.
    let t = &doc.totals;
    let mut rows: Vec<(String, i64)> = vec![("Subtotal".to_owned(), t.subtotal_minor)];
    if t.discount_minor != 0 {
        let why = doc
            .discount_reason
            .as_deref()
            .map_or_else(String::new, |r| format!(" ({r})"));
        rows.push((format!("Discount{why}"), -t.discount_minor));
    }
    for tax in &t.taxes {
        rows.push((
            format!(
                "{} {}",
                tax.name,
                calos_core::invoice::usage::format_basis_points(tax.basis_points)
            ),
            tax.amount_minor,
        ));
    }
    let needed = rows.len() as f32 * 15.0 + 40.0;
    if y + needed > BODY_BOTTOM {
        pen.pages.push(Page::default());
        y = MARGIN;
    }
    y += 18.0;
    let label_x = RIGHT - 250.0;
    for (label, amount) in &rows {
        pen.text(label_x, y, 9.5, false, MUTED, label);
        pen.right(
            cols.amount_right,
            y,
            9.5,
            false,
            INK,
            &money(*amount, currency),
        );
        y += 15.0;
    }
    pen.rect(label_x - 8.0, y - 8.0, RIGHT - label_x + 8.0, 24.0, BAND);
    let total_label = if invoice.kind == InvoiceKind::CreditNote {
        "Total credited"
    } else {
        "Total due"
    };
    pen.text(label_x, y + 8.0, 11.0, true, INK, total_label);
    pen.right(
        cols.amount_right,
        y + 8.0,
        11.0,
        true,
        INK,
        &money(t.total_minor, currency),
    );
    y += 44.0;

    // Payment, status and notes.
    let mut block: Vec<(f32, bool, Rgb, String)> = Vec::new();
    match invoice.status {
        InvoiceStatus::Void => block.push((
            10.0,
            true,
            Rgb(185, 28, 28),
            format!(
                "VOID{}",
                invoice
                    .void_reason
                    .as_deref()
                    .map_or_else(String::new, |r| format!(": {r}"))
            ),
        )),
        InvoiceStatus::Paid => block.push((
            10.0,
            true,
            Rgb(21, 128, 61),
            format!(
                "PAID{}{}",
                invoice
                    .paid_on
                    .map_or_else(String::new, |d| format!(" on {}", d.format("%-d %B %Y"))),
                invoice
                    .payment_reference
                    .as_deref()
                    .map_or_else(String::new, |r| format!(" (reference {r})"))
            ),
        )),
        _ => {}
    }
    if invoice.kind == InvoiceKind::Invoice && invoice.status != InvoiceStatus::Void {
        block.push((9.5, true, INK, "Payment by bank transfer".to_owned()));
        let due = invoice.due_date.map_or_else(
            || format!("within {} days of issue", doc.payment_terms_days),
            |d| format!("by {}", d.format("%-d %B %Y")),
        );
        block.push((
            9.0,
            false,
            INK,
            format!(
                "Please transfer {} {due} to:",
                money(t.total_minor, currency)
            ),
        ));
        for line in &vendor.payment_lines {
            block.push((9.0, false, INK, line.clone()));
        }
        if let Some(number) = &invoice.number {
            block.push((9.0, true, INK, format!("Reference: {number}")));
        }
    }
    if let Some(notes) = &doc.notes {
        block.push((9.5, true, INK, "Notes".to_owned()));
        for l in wrap(notes, 9.0, false, RIGHT - MARGIN) {
            block.push((9.0, false, MUTED, l));
        }
    }
    for (size, bold, color, text) in block {
        if y + 14.0 > BODY_BOTTOM {
            pen.pages.push(Page::default());
            y = MARGIN;
        }
        pen.text(MARGIN, y, size, bold, color, &text);
        y += size + 5.0;
    }

    // Footer on every page.
    let count = pen.pages.len();
    for (i, page) in pen.pages.iter_mut().enumerate() {
        page.ops.push(Op::Rect {
            x: MARGIN,
            y: PAGE_H - 52.0,
            w: RIGHT - MARGIN,
            h: 0.5,
            color: RULE,
        });
        if let Some(footer) = &vendor.footer {
            page.ops.push(Op::Text {
                x: MARGIN,
                y: PAGE_H - 36.0,
                size: 8.0,
                bold: false,
                color: MUTED,
                text: footer.clone(),
            });
        }
        let label = format!("Page {} of {count}", i + 1);
        page.ops.push(Op::Text {
            x: RIGHT - width(&label, 8.0, false),
            y: PAGE_H - 36.0,
            size: 8.0,
            bold: false,
            color: MUTED,
            text: label,
        });
    }
    pen.pages
}

struct Columns {
    desc_x: f32,
    desc_width: f32,
    qty_right: f32,
    unit_right: f32,
    amount_right: f32,
}

impl Columns {
    fn new() -> Self {
        Self {
            desc_x: MARGIN + 8.0,
            desc_width: 250.0,
            qty_right: MARGIN + 330.0,
            unit_right: MARGIN + 420.0,
            amount_right: RIGHT - 8.0,
        }
    }
}

fn table_header(pen: &mut Pen, cols: &Columns, y: f32) -> f32 {
    pen.rect(MARGIN, y, RIGHT - MARGIN, 20.0, BAND);
    pen.text(cols.desc_x, y + 13.5, 8.5, true, MUTED, "DESCRIPTION");
    pen.right(cols.qty_right, y + 13.5, 8.5, true, MUTED, "QTY");
    pen.right(cols.unit_right, y + 13.5, 8.5, true, MUTED, "UNIT PRICE");
    pen.right(cols.amount_right, y + 13.5, 8.5, true, MUTED, "AMOUNT");
    y + 22.0
}
