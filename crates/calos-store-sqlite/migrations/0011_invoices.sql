-- Issue 9: invoices, credit notes, their number counters and the vendor's
-- billing profile. Times are unix microseconds, days 'YYYY-MM-DD'.

CREATE TABLE billing_profile (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    profile_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- One row per number series (and year, for formats showing the year); the
-- issuing transaction takes the next value, so numbers have no gaps.
CREATE TABLE invoice_counters (
    scope TEXT PRIMARY KEY NOT NULL,
    last_value INTEGER NOT NULL
) STRICT;

CREATE TABLE invoices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    number TEXT UNIQUE,
    install_id TEXT NOT NULL REFERENCES licenses (install_id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    month TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
    currency TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    document_json TEXT NOT NULL,
    issued_at INTEGER,
    due_date TEXT,
    paid_on TEXT,
    payment_reference TEXT,
    voided_at INTEGER,
    void_reason TEXT,
    credits_invoice_id INTEGER REFERENCES invoices (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (status = 'draft' OR kind = 'credit_note' OR number IS NOT NULL OR status = 'void')
) STRICT;

-- At most one live invoice per install and month: generating twice (or
-- concurrently) cannot make a second draft.
CREATE UNIQUE INDEX invoices_one_live_per_month
    ON invoices (install_id, month) WHERE kind = 'invoice' AND status <> 'void';
CREATE INDEX invoices_month_idx ON invoices (month, id);

-- Issued invoices are immutable: only the payment and void fields (and the
-- status moving on) may change; nothing issued is ever deleted.
CREATE TRIGGER invoices_issued_immutable
BEFORE UPDATE OF number, document_json, total_minor, install_id, customer_id, month, currency, kind, issued_at, due_date
ON invoices
WHEN OLD.status <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'issued invoices are immutable');
END;

CREATE TRIGGER invoices_issued_not_deleted
BEFORE DELETE ON invoices
WHEN OLD.status <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'issued invoices cannot be deleted');
END;
