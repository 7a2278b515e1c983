-- Issue 9: invoices, credit notes, their number counters and the vendor's
-- billing profile.

CREATE TABLE billing_profile (
    id           SMALLINT PRIMARY KEY CHECK (id = 1),
    profile_json JSONB NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- One row per number series (and year, for formats showing the year); the
-- issuing transaction's upsert locks the row until commit, so concurrent
-- issues get consecutive numbers and a rollback leaves no gap.
CREATE TABLE invoice_counters (
    scope      TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE invoices (
    id                 BIGSERIAL PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    number             TEXT CONSTRAINT invoices_number_key UNIQUE,
    install_id         TEXT NOT NULL REFERENCES licenses (install_id),
    customer_id        BIGINT NOT NULL REFERENCES customers (id),
    month              TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
    currency           TEXT NOT NULL,
    total_minor        BIGINT NOT NULL,
    document_json      JSONB NOT NULL,
    issued_at          TIMESTAMPTZ,
    due_date           DATE,
    paid_on            DATE,
    payment_reference  TEXT,
    voided_at          TIMESTAMPTZ,
    void_reason        TEXT,
    credits_invoice_id BIGINT REFERENCES invoices (id),
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    CHECK (status = 'draft' OR kind = 'credit_note' OR number IS NOT NULL OR status = 'void')
);

CREATE UNIQUE INDEX invoices_one_live_per_month
    ON invoices (install_id, month) WHERE kind = 'invoice' AND status <> 'void';
CREATE INDEX invoices_month_idx ON invoices (month, id);

-- Issued invoices are immutable: only the payment and void fields (and the
-- status moving on) may change; nothing issued is ever deleted.
CREATE FUNCTION invoices_guard_issued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'issued invoices cannot be deleted';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        NEW.number IS DISTINCT FROM OLD.number
        OR NEW.document_json IS DISTINCT FROM OLD.document_json
        OR NEW.total_minor IS DISTINCT FROM OLD.total_minor
        OR NEW.install_id IS DISTINCT FROM OLD.install_id
        OR NEW.customer_id IS DISTINCT FROM OLD.customer_id
        OR NEW.month IS DISTINCT FROM OLD.month
        OR NEW.currency IS DISTINCT FROM OLD.currency
        OR NEW.kind IS DISTINCT FROM OLD.kind
        OR NEW.issued_at IS DISTINCT FROM OLD.issued_at
        OR NEW.due_date IS DISTINCT FROM OLD.due_date
    ) THEN
        RAISE EXCEPTION 'issued invoices are immutable';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER invoices_issued_immutable
    BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_guard_issued();
