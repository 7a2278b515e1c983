-- The audit log's hash chain (see calos_core::audit::chain). Records written
-- before this migration keep NULL links and are reported as unchained.
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;

-- The log is append-only: the database itself refuses changes and deletions
-- (a superuser can still drop the trigger, which `calos audit verify` catches).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
