-- Lookups the web application makes per request: a customer by any of its source keys
-- (the unique index leads with the source, so a key alone scanned the table).
CREATE INDEX customer_source_key_key_idx ON customer_source_key (source_key);
