-- Part-of-name search at a million customers (issue 18): a search for part
-- of a name (`LOWER(name) LIKE '%q%'`) read every customer. This table holds,
-- per customer, the grams of the lowered name: the substring of two
-- characters starting at each position (the last position gives the last
-- character alone, so a one-character name stores itself and every character
-- of a name begins one gram). A search of two characters or more reads the
-- customers holding its bigrams from the primary key (and checks the LIKE on
-- them); a search of one character reads the grams beginning with it. Chinese
-- names of two characters are one bigram, so this works where trigrams do not.
--
-- Triggers keep it true on every path that writes a name (imports, merges,
-- erasure, edits, deletes), whatever code runs the statement. Trigger bodies
-- cannot use WITH, so the positions 0 … length-1 of a name come from
-- json_each over '[0,0,…]' (hex(zeroblob(n)) is '00' n times).

CREATE TABLE customer_name_gram (
    gram        TEXT    NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (gram, customer_id)
) WITHOUT ROWID;

CREATE TRIGGER customer_name_gram_insert AFTER INSERT ON customer
WHEN NEW.name IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO customer_name_gram (gram, customer_id)
    SELECT DISTINCT substr(lower(NEW.name), p.key + 1, 2), NEW.id
    FROM json_each('[' || substr(replace(hex(zeroblob(length(NEW.name))), '00', ',0'), 2) || ']') p;
END;

CREATE TRIGGER customer_name_gram_update AFTER UPDATE OF id, name ON customer
WHEN OLD.name IS NOT NEW.name OR OLD.id <> NEW.id
BEGIN
    DELETE FROM customer_name_gram WHERE customer_id = OLD.id AND gram IN (
        SELECT substr(lower(OLD.name), p.key + 1, 2)
        FROM json_each('[' || substr(replace(hex(zeroblob(coalesce(length(OLD.name), 0))), '00', ',0'), 2) || ']') p
    );
    INSERT OR IGNORE INTO customer_name_gram (gram, customer_id)
    SELECT DISTINCT substr(lower(NEW.name), p.key + 1, 2), NEW.id
    FROM json_each('[' || substr(replace(hex(zeroblob(coalesce(length(NEW.name), 0))), '00', ',0'), 2) || ']') p;
END;

CREATE TRIGGER customer_name_gram_delete AFTER DELETE ON customer
WHEN OLD.name IS NOT NULL
BEGIN
    DELETE FROM customer_name_gram WHERE customer_id = OLD.id AND gram IN (
        SELECT substr(lower(OLD.name), p.key + 1, 2)
        FROM json_each('[' || substr(replace(hex(zeroblob(length(OLD.name))), '00', ',0'), 2) || ']') p
    );
END;

-- The grams of the customers already stored, in one statement, in key order.
WITH RECURSIVE pos (i) AS (
    SELECT 1
    UNION ALL
    SELECT i + 1 FROM pos WHERE i < (SELECT MAX(length(name)) FROM customer)
)
INSERT INTO customer_name_gram (gram, customer_id)
SELECT DISTINCT substr(lower(c.name), pos.i, 2), c.id
FROM customer c JOIN pos ON pos.i <= length(c.name)
WHERE c.name IS NOT NULL
ORDER BY 1, 2;
