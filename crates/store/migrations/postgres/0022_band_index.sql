-- The customer list filtered by a rare health band (0.2 % of a million
-- customers are at risk) reads the band's scored customers from this index
-- instead of walking the customer table.

CREATE INDEX health_score_as_of_band_idx ON health_score (as_of, band, customer_id);
