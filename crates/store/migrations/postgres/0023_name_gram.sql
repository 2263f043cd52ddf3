-- Part-of-name search at a million customers (issue 18): a search for part
-- of a name (`LOWER(name) LIKE '%q%'`) read every customer. This table holds,
-- per customer, the grams of the lowered name: the substring of two
-- characters starting at each position (the last position gives the last
-- character alone, so a one-character name stores itself and every character
-- of a name begins one gram). A search of two characters or more reads the
-- customers holding its bigrams from the primary key (and checks the LIKE on
-- them); a search of one character reads the grams beginning with it (a
-- range of the key: the column sorts bytewise, COLLATE "C"). Chinese names of
-- two characters are one bigram, so this works where pg_trgm's trigrams do not.
--
-- Triggers keep it true on every path that writes a name (imports, merges,
-- erasure, edits, deletes), whatever code runs the statement; inserts once per
-- statement (an import's COPY), updates and deletes per changed row.

CREATE TABLE customer_name_gram (
    gram        TEXT COLLATE "C" NOT NULL,
    customer_id BIGINT           NOT NULL,
    PRIMARY KEY (gram, customer_id)
);

-- The grams of a name (none for NULL).
CREATE FUNCTION customer_name_grams(name TEXT) RETURNS SETOF TEXT
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT DISTINCT substr(lower(name), i, 2) FROM generate_series(1, length(name)) AS i
$$;

CREATE FUNCTION customer_name_gram_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_name_gram (gram, customer_id)
    SELECT g, n.id FROM new_rows n CROSS JOIN LATERAL customer_name_grams(n.name) AS g
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE FUNCTION customer_name_gram_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customer_name_gram
    WHERE customer_id = OLD.id AND gram IN (SELECT customer_name_grams(OLD.name));
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO customer_name_gram (gram, customer_id)
        SELECT g, NEW.id FROM customer_name_grams(NEW.name) AS g
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER customer_name_gram_insert AFTER INSERT ON customer
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION customer_name_gram_insert();
CREATE TRIGGER customer_name_gram_update AFTER UPDATE OF id, name ON customer
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.id <> NEW.id)
    EXECUTE FUNCTION customer_name_gram_change();
CREATE TRIGGER customer_name_gram_delete AFTER DELETE ON customer
    FOR EACH ROW EXECUTE FUNCTION customer_name_gram_change();

-- The grams of the customers already stored, in one statement.
INSERT INTO customer_name_gram (gram, customer_id)
SELECT g, c.id FROM customer c CROSS JOIN LATERAL customer_name_grams(c.name) AS g;
