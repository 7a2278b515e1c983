-- Issue 5, speed: the distinct-user counts the culture analyzer reads, kept
-- at ingest so they cost the same for a customer with thousands of users a
-- day as for one with eight. Both are folded from the daily memberships
-- (`daily_users`, kept forever), in the ingest transaction that inserts
-- them; the INSERT ... SELECT statements below are the rebuild
-- `CultureStore::rebuild_culture_totals` runs (there per install): here
-- they fold the memberships that exist already.

-- Distinct users per install and UTC day: the memberships of the day.
CREATE TABLE culture_day_users (
    install_id TEXT NOT NULL CONSTRAINT culture_day_users_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    day        DATE NOT NULL,
    users      BIGINT NOT NULL,
    PRIMARY KEY (install_id, day)
);

-- The last UTC day each user of an install was seen on. While no user was
-- seen after the end of a window, "seen in the window" is "last seen on or
-- after its first day", an index range of the recent users only.
CREATE TABLE culture_users (
    install_id TEXT NOT NULL CONSTRAINT culture_users_install_id_fkey
               REFERENCES licenses (install_id) ON DELETE CASCADE,
    user_hash  TEXT NOT NULL,
    last_day   DATE NOT NULL,
    PRIMARY KEY (install_id, user_hash)
);

CREATE INDEX culture_users_last_day_idx ON culture_users (install_id, last_day);

INSERT INTO culture_day_users (install_id, day, users)
SELECT install_id, day, count(*) FROM daily_users GROUP BY install_id, day;

INSERT INTO culture_users (install_id, user_hash, last_day)
SELECT install_id, user_hash, max(day) FROM daily_users GROUP BY install_id, user_hash;
