-- List pages at a million customers (issue 18): the customer list sorted by
-- name or health score reads an index in order and stops after one page, and
-- a search for a whole name or e-mail (matched without regard to case) is an
-- index lookup instead of a scan of every customer.

CREATE INDEX customer_name_idx ON customer (name, id);
CREATE INDEX customer_lower_name_idx ON customer (LOWER(name));
CREATE INDEX customer_lower_email_idx ON customer (LOWER(email));
CREATE INDEX health_score_as_of_score_idx ON health_score (as_of, score, customer_id);
CREATE INDEX audit_log_actor_name_idx ON audit_log (actor, at);
CREATE INDEX staff_user_display_name_idx ON staff_user (display_name, id);
