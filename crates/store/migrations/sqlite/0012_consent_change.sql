-- Consents recorded in Rapport (issue 6): a customer grants or refuses a channel and purpose at
-- the counter, on the phone or through the API. Imported consents stay in `consent`; the view
-- `consent_all` is what the contact policy, reachability, the KPIs and the 360 read. Order within
-- a day: imported records first, then recorded ones in the order they were made (`seq`, `id`),
-- so a change recorded today overrides an import of the same day.

CREATE TABLE consent_change (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customer (id),
    channel      TEXT    NOT NULL,        -- phone | online | mobile | wechat
    purpose      TEXT    NOT NULL,        -- service | marketing
    granted      BOOLEAN NOT NULL,
    recorded_on  TEXT    NOT NULL,
    source       TEXT    NOT NULL,        -- cli | api | web | unsubscribe
    recorded_by  TEXT    NOT NULL,
    recorded_at  TEXT    NOT NULL,
    note         TEXT
);
CREATE INDEX consent_change_customer_idx ON consent_change (customer_id, recorded_on);

CREATE VIEW consent_all AS
    SELECT customer_id, channel, purpose, granted, recorded_on, revoked_on, source, 0 AS seq, id
    FROM consent
    UNION ALL
    SELECT customer_id, channel, purpose, granted, recorded_on, NULL AS revoked_on, source, 1 AS seq, id
    FROM consent_change;
