//! Invoices (issue 9): the billing profile, the draft → issued → paid /
//! void lifecycle with its refusals, immutability once issued, credit
//! notes, billable usage, and numbers without gaps when issues race.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use calos_core::audit::AuditEntry;
use calos_core::invoice::{
    BillTo, BillableUsage, BillingProfile, InvoiceDocument, InvoiceKind, InvoiceMonth,
    InvoiceStatus, Line, LineKind, NewInvoice, NumberFormat, TaxRate,
};
use calos_core::money::Currency;
use calos_core::plan::{default_plans, UsageType};
use calos_core::telemetry::{EventType, TelemetryEvent, UsageRecord};

use super::support::{
    all_audit, assert_conflict, assert_not_found, create, days, hours, install, license, now,
    seed_plans,
};
use crate::{
    CreditNoteTerms, IngestBatch, IngestEvent, InvoiceQuery, IssueTerms, MeteringTerms, Store,
};

const A: &str = "invoice-install-a";

fn profile() -> BillingProfile {
    serde_json::from_value(json!({
        "legalName": "Vendor Ltd",
        "address": "1 Main St\nSpringfield",
        "taxId": "GB123",
        "email": "billing@vendor.example",
        "bank": { "accountHolder": "Vendor Ltd", "iban": "GB33BUKB20201555555555" },
        "currency": "USD",
        "taxRates": [{ "name": "VAT", "basisPoints": 2000 }],
        "logoPngBase64": null,
        "footer": "Thank you"
    }))
    .expect("profile")
}

fn audit(action: &str) -> AuditEntry {
    super::support::audit(action, "invoice", "")
}

fn draft(install_id: &str, month: &str, amount: i64) -> NewInvoice {
    let line = Line {
        kind: LineKind::Base,
        description: "Pro plan, monthly".to_owned(),
        quantity: 1,
        unit: "month".to_owned(),
        unit_price_minor: Some(amount),
        detail: None,
        amount_minor: amount,
        plan: Some("pro".to_owned()),
    };
    let bill_to = BillTo {
        name: "Ann".to_owned(),
        company: Some("Acme".to_owned()),
        email: "ann@example.com".to_owned(),
    };
    let rates = vec![TaxRate {
        name: "VAT".to_owned(),
        basis_points: 2_000,
    }];
    NewInvoice {
        kind: InvoiceKind::Invoice,
        install_id: install(install_id),
        customer_id: 0,
        month: InvoiceMonth::parse(month).expect("month"),
        currency: Currency::usd(),
        document: InvoiceDocument::new(bill_to, vec![line], rates, 30).expect("document"),
        credits_invoice_id: None,
    }
}

fn terms(at: DateTime<Utc>) -> IssueTerms {
    IssueTerms {
        issued_at: at,
        due_date: (at + Duration::days(30)).date_naive(),
        number_format: NumberFormat::default_invoice(),
        vendor: profile().snapshot(),
    }
}

async fn customer_of(store: &Arc<dyn Store>, id: &str) -> i64 {
    store
        .get_license(&install(id))
        .await
        .expect("get")
        .expect("license")
        .customer_id
}

/// A draft of `install_id` for `month`, with the install's customer.
async fn stored_draft(store: &Arc<dyn Store>, install_id: &str, month: &str) -> i64 {
    let mut new = draft(install_id, month, 2_900);
    new.customer_id = customer_of(store, install_id).await;
    store
        .create_invoice(&new, now(), &audit("invoice.generate"))
        .await
        .expect("create draft")
        .id
}

pub async fn invoices_lifecycle_and_immutability(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "Ann",
        "ann@example.com",
        license(A, "pro", t - days(90)),
    )
    .await;

    // Billing profile: absent, then stored as given, then replaced.
    assert!(store.billing_profile().await.expect("profile").is_none());
    store
        .put_billing_profile(
            &profile(),
            &super::support::audit("billing_profile.update", "billing_profile", "1"),
        )
        .await
        .expect("put profile");
    let mut changed = profile();
    changed.payment_terms_days = 14;
    store
        .put_billing_profile(
            &changed,
            &super::support::audit("billing_profile.update", "billing_profile", "1"),
        )
        .await
        .expect("replace profile");
    assert_eq!(store.billing_profile().await.expect("get"), Some(changed));

    // A draft; a second live invoice for the same install and month is refused.
    let mut new = draft(A, "2026-09", 2_900);
    new.customer_id = customer_of(&store, A).await;
    let created = store
        .create_invoice(&new, t, &audit("invoice.generate"))
        .await
        .expect("create");
    assert_eq!(
        (created.status, created.number.clone()),
        (InvoiceStatus::Draft, None)
    );
    assert_eq!(created.document, new.document);
    assert_eq!(created.created_at, t);
    let audits_before = all_audit(&store).await.len();
    assert_conflict(
        store
            .create_invoice(&new, t, &audit("invoice.generate"))
            .await,
        "month",
    );
    assert_eq!(
        all_audit(&store).await.len(),
        audits_before,
        "a refusal writes no audit"
    );
    let mut stranger = draft("invoice-install-zz", "2026-09", 1);
    stranger.customer_id = new.customer_id;
    assert_not_found(
        store
            .create_invoice(&stranger, t, &audit("invoice.generate"))
            .await,
    );

    // Drafts are editable.
    let discounted = created
        .document
        .with_discount(900, Some("loyal".into()))
        .expect("discount");
    let edited = store
        .update_draft(
            created.id,
            &discounted,
            t + hours(1),
            &audit("invoice.update"),
        )
        .await
        .expect("edit draft");
    assert_eq!(edited.document.totals.total_minor, 2_400);
    assert_eq!(edited.updated_at, t + hours(1));

    // Issue: number, vendor snapshot, due date; afterwards immutable.
    let issued = store
        .issue_invoice(created.id, &terms(t), &audit("invoice.issue"))
        .await
        .expect("issue");
    let year = t.format("%Y").to_string();
    assert_eq!(
        issued.number.as_deref(),
        Some(format!("INV-{year}-00001").as_str())
    );
    assert_eq!(issued.status, InvoiceStatus::Issued);
    assert_eq!(issued.due_date, Some((t + Duration::days(30)).date_naive()));
    assert_eq!(issued.document.vendor, Some(profile().snapshot()));
    assert_eq!(issued.issued_at, Some(t));
    let audits_before = all_audit(&store).await.len();
    assert_conflict(
        store
            .update_draft(created.id, &created.document, t, &audit("invoice.update"))
            .await,
        "status",
    );
    assert_conflict(
        store
            .issue_invoice(created.id, &terms(t), &audit("invoice.issue"))
            .await,
        "status",
    );
    assert_eq!(all_audit(&store).await.len(), audits_before);
    assert_eq!(
        store.get_invoice(created.id).await.expect("get"),
        Some(issued.clone())
    );

    // Paid; a paid invoice can be neither paid again nor voided.
    let paid = store
        .pay_invoice(
            created.id,
            t.date_naive(),
            "WIRE-42",
            t + hours(2),
            &audit("invoice.pay"),
        )
        .await
        .expect("pay");
    assert_eq!(
        (paid.status, paid.paid_on, paid.payment_reference.as_deref()),
        (InvoiceStatus::Paid, Some(t.date_naive()), Some("WIRE-42"))
    );
    assert_eq!(paid.number, issued.number, "the number never changes");
    assert_conflict(
        store
            .pay_invoice(created.id, t.date_naive(), "x", t, &audit("invoice.pay"))
            .await,
        "status",
    );
    assert_conflict(
        store
            .void_invoice(created.id, "x", t, None, &audit("invoice.void"))
            .await,
        "status",
    );

    // A draft voids without a credit note and frees its month.
    let second = stored_draft(&store, A, "2026-10").await;
    let (voided, credit) = store
        .void_invoice(second, "made by mistake", t, None, &audit("invoice.void"))
        .await
        .expect("void draft");
    assert_eq!(
        (voided.status, voided.void_reason.as_deref(), credit),
        (InvoiceStatus::Void, Some("made by mistake"), None)
    );
    assert_conflict(
        store
            .pay_invoice(second, t.date_naive(), "x", t, &audit("invoice.pay"))
            .await,
        "status",
    );

    // An issued invoice voids with a credit note cancelling it.
    let third = stored_draft(&store, A, "2026-10").await;
    let third_issued = store
        .issue_invoice(third, &terms(t), &audit("invoice.issue"))
        .await
        .expect("issue");
    assert_eq!(
        third_issued.number.as_deref(),
        Some(format!("INV-{year}-00002").as_str()),
        "voided drafts use no number"
    );
    let credit_terms = CreditNoteTerms {
        number_format: NumberFormat::default_credit_note(),
        document: third_issued.document.negated(),
    };
    assert!(
        store
            .void_invoice(third, "wrong", t, None, &audit("invoice.void"))
            .await
            .is_err(),
        "an issued invoice needs its credit note"
    );
    let (third_void, credit) = store
        .void_invoice(
            third,
            "wrong amount",
            t + hours(3),
            Some(&credit_terms),
            &audit("invoice.void"),
        )
        .await
        .expect("void issued");
    let credit = credit.expect("credit note");
    assert_eq!(third_void.status, InvoiceStatus::Void);
    assert_eq!(third_void.number, third_issued.number);
    assert_eq!(credit.kind, InvoiceKind::CreditNote);
    assert_eq!(credit.status, InvoiceStatus::Issued);
    assert_eq!(
        credit.number.as_deref(),
        Some(format!("CN-{year}-00001").as_str())
    );
    assert_eq!(credit.credits_invoice_id, Some(third));
    assert_eq!(credit.total_minor(), -third_issued.total_minor());
    assert_conflict(
        store
            .void_invoice(credit.id, "x", t, None, &audit("invoice.void"))
            .await,
        "kind",
    );

    // Listing filters by month, install and kind, by id.
    let all = store
        .list_invoices(&InvoiceQuery::default())
        .await
        .expect("list");
    assert_eq!(
        all.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![created.id, second, third, credit.id]
    );
    let october = store
        .list_invoices(&InvoiceQuery {
            month: Some(InvoiceMonth::parse("2026-10").expect("month")),
            kind: Some(InvoiceKind::Invoice),
            ..InvoiceQuery::default()
        })
        .await
        .expect("list october");
    assert_eq!(
        october.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![second, third]
    );
    let none = store
        .list_invoices(&InvoiceQuery {
            install_id: Some(install("invoice-install-zz")),
            ..InvoiceQuery::default()
        })
        .await
        .expect("list other");
    assert!(none.is_empty());

    // Unknown ids.
    assert_eq!(store.get_invoice(999_999).await.expect("get"), None);
    assert_not_found(
        store
            .issue_invoice(999_999, &terms(t), &audit("invoice.issue"))
            .await,
    );
    assert_not_found(
        store
            .pay_invoice(999_999, t.date_naive(), "x", t, &audit("invoice.pay"))
            .await,
    );

    // Every change was audited against its invoice, with the number once assigned.
    let records = all_audit(&store).await;
    let issue_record = records
        .iter()
        .find(|r| r.entry.action == "invoice.issue" && r.entry.target_id == created.id.to_string())
        .expect("issue audited");
    assert_eq!(issue_record.entry.target_type, "invoice");
    assert_eq!(
        issue_record.entry.after.as_ref().expect("after")["number"],
        json!(format!("INV-{year}-00001"))
    );
    assert_eq!(
        issue_record.entry.before.as_ref().expect("before")["status"],
        json!("draft")
    );
    assert!(records
        .iter()
        .any(|r| r.entry.action == "invoice.credit_note"
            && r.entry.target_id == credit.id.to_string()));
}

/// Twelve drafts issued at once get numbers 1-12 with no gap and no
/// duplicate; two admins issuing the same draft at once: one wins.
pub async fn invoice_numbers_have_no_gaps_under_concurrency(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    let mut ids = Vec::new();
    for n in 0..12 {
        let id = format!("invoice-race-{n:02}");
        create(
            &store,
            "Racer",
            &format!("racer{n}@example.com"),
            license(&id, "pro", t - days(40)),
        )
        .await;
        ids.push(stored_draft(&store, &id, "2026-09").await);
    }
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .issue_invoice(id, &terms(t), &audit("invoice.issue"))
                .await
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        let issued = task.await.expect("join").expect("issue");
        numbers.push(issued.number.expect("number"));
    }
    numbers.sort();
    let year = t.format("%Y").to_string();
    let expected: Vec<String> = (1..=12).map(|n| format!("INV-{year}-{n:05}")).collect();
    assert_eq!(numbers, expected);

    create(
        &store,
        "Twice",
        "twice@example.com",
        license("invoice-race-twice", "pro", t - days(40)),
    )
    .await;
    let one = stored_draft(&store, "invoice-race-twice", "2026-09").await;
    let (a, b) = tokio::join!(
        {
            let store = store.clone();
            async move {
                store
                    .issue_invoice(one, &terms(t), &audit("invoice.issue"))
                    .await
            }
        },
        {
            let store = store.clone();
            async move {
                store
                    .issue_invoice(one, &terms(t), &audit("invoice.issue"))
                    .await
            }
        }
    );
    assert!(
        a.is_ok() != b.is_ok(),
        "exactly one issue wins: {a:?} / {b:?}"
    );
    let winner = a.or(b).expect("one issued");
    assert_eq!(
        winner.number.as_deref(),
        Some(format!("INV-{year}-00013").as_str())
    );
}

fn usage_event(
    n: u32,
    usage_type: UsageType,
    quantity: i64,
    amount: Option<i64>,
    ts: DateTime<Utc>,
) -> IngestEvent {
    IngestEvent {
        event: TelemetryEvent {
            install_id: install(A),
            event_id: format!("inv-use-{n}"),
            event_type: EventType::Usage,
            feature: None,
            user: None,
            session: None,
            ts,
            user_agent: None,
            endpoint: None,
            duration_ms: None,
            status: None,
            error: None,
            props: serde_json::Map::new(),
        },
        usage: Some(UsageRecord {
            install_id: install(A),
            usage_type,
            quantity,
            amount_minor: amount,
            at: ts,
        }),
    }
}

/// Billable usage is what ingest metered as billable, within the window,
/// with the amount of a partly billable record taken pro rata.
pub async fn billable_usage_sums_what_ingest_metered(store: Arc<dyn Store>) {
    seed_plans(&store).await;
    let t = now();
    create(
        &store,
        "Ann",
        "ann@example.com",
        license(A, "community", t - days(60)),
    )
    .await;
    let community = default_plans()
        .into_iter()
        .find(|p| p.slug.as_str() == "community")
        .expect("community");
    let batch = IngestBatch {
        install_id: install(A),
        // Community: 100 POS transactions (both channels), 5 transcripts.
        events: vec![
            usage_event(1, UsageType::PosInPerson, 60, Some(60_000), t - hours(5)),
            usage_event(2, UsageType::PosOnline, 60, Some(60_000), t - hours(4)),
            usage_event(3, UsageType::Transcript, 4, None, t - hours(3)),
            usage_event(4, UsageType::Transcript, 3, None, t - hours(2)),
            usage_event(5, UsageType::ApiRequest, 50, None, t - hours(2)),
        ],
        terms: MeteringTerms {
            period_start: t - days(10),
            period_end: t + days(20),
            limits: community.limits,
            prices: community.usage_prices,
            closed_before: None,
        },
    };
    store.ingest(&batch).await.expect("ingest");
    let got = store
        .billable_usage(&install(A), t - days(1), t + hours(1))
        .await
        .expect("billable usage");
    assert_eq!(
        got,
        vec![
            // 40 of the 60 online transactions were free: 20/60 of 600.00.
            BillableUsage {
                usage_type: UsageType::PosOnline,
                billable_quantity: 20,
                billable_amount_minor: 20_000
            },
            BillableUsage {
                usage_type: UsageType::Transcript,
                billable_quantity: 2,
                billable_amount_minor: 0
            },
        ]
    );
    let before = store
        .billable_usage(&install(A), t - days(1), t - hours(3))
        .await
        .expect("earlier window");
    assert_eq!(before.len(), 1, "the window bounds the records: {before:?}");
    assert!(store
        .billable_usage(&install("invoice-install-zz"), t - days(1), t)
        .await
        .expect("unknown install")
        .is_empty());
}
