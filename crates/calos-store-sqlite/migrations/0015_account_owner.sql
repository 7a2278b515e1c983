-- The vendor's account owner of each customer (issue 10): the vendor admin
-- who looks after it, or a plain e-mail address when the owner has no admin
-- account. The owner receives the customer's vendor-side notifications.
-- At most one of the two is set; neither means "no owner" (the vendor
-- address CALOS_NOTIFY_EMAIL, or the first admin, receives them instead).
ALTER TABLE customers ADD COLUMN owner_admin_id INTEGER REFERENCES admins (id);
ALTER TABLE customers ADD COLUMN owner_email TEXT
    CHECK (owner_email IS NULL OR owner_admin_id IS NULL);
