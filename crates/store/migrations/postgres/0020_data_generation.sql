-- Data generations (issue 18, page times): a counter per domain that every
-- write to it raises, so a report computed once can be kept until the data it
-- was computed from changes — in every process sharing the store (several
-- `serve` and `worker` processes on one PostgreSQL see the same counters).
--
--   store  a random number drawn once per store: it tells two stores apart in a
--          process that opens several (it never changes).
--   data   the bulk data: raised once per import (its `import_file` row is
--          written when it starts and when it completes) and once per scoring run
--          (`score_run`), and when a customer's personal data is erased — never
--          per transaction or per score, so loading 100M rows costs nothing more.
--   work   the operational records staff and jobs write one at a time: alerts and
--          their steps, cases, consent changes, survey answers, campaigns and
--          their contacts, RM assignments, staff, segments, risk assessments. (An erasure raises `data` only.)
-- Reads (sign-ins, audited reads such as a 360 view or an unmask) raise nothing.

CREATE TABLE data_generation (
    domain TEXT   PRIMARY KEY,
    n      BIGINT NOT NULL
);

INSERT INTO data_generation (domain, n) VALUES ('store', floor(random() * 9000000000000000000)::BIGINT), ('data', 1), ('work', 1);

-- Once per statement, whatever the number of rows it wrote.
CREATE FUNCTION bump_data_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE data_generation SET n = n + 1 WHERE domain = TG_ARGV[0];
    RETURN NULL;
END;
$$;

CREATE TRIGGER gen_data_import_file AFTER INSERT OR UPDATE OR DELETE ON import_file FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('data');
CREATE TRIGGER gen_data_score_run AFTER INSERT OR UPDATE OR DELETE ON score_run FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('data');
CREATE TRIGGER gen_data_erasure_request AFTER INSERT OR UPDATE OR DELETE ON erasure_request FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('data');
CREATE TRIGGER gen_work_alert AFTER INSERT OR UPDATE OR DELETE ON alert FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_alert_event AFTER INSERT OR UPDATE OR DELETE ON alert_event FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_support_case AFTER INSERT OR UPDATE OR DELETE ON support_case FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_case_event AFTER INSERT OR UPDATE OR DELETE ON case_event FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_case_pause AFTER INSERT OR UPDATE OR DELETE ON case_pause FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_case_escalation AFTER INSERT OR UPDATE OR DELETE ON case_escalation FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_case_reclassification AFTER INSERT OR UPDATE OR DELETE ON case_reclassification FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_consent_change AFTER INSERT OR UPDATE OR DELETE ON consent_change FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_survey_invitation AFTER INSERT OR UPDATE OR DELETE ON survey_invitation FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_survey_answer AFTER INSERT OR UPDATE OR DELETE ON survey_answer FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_campaign AFTER INSERT OR UPDATE OR DELETE ON campaign FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_campaign_member AFTER INSERT OR UPDATE OR DELETE ON campaign_member FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_campaign_approval AFTER INSERT OR UPDATE OR DELETE ON campaign_approval FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_contact_task AFTER INSERT OR UPDATE OR DELETE ON contact_task FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_contact_log AFTER INSERT OR UPDATE OR DELETE ON contact_log FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_contact_preference AFTER INSERT OR UPDATE OR DELETE ON contact_preference FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_rm_assignment AFTER INSERT OR UPDATE OR DELETE ON rm_assignment FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_staff_user AFTER INSERT OR UPDATE OR DELETE ON staff_user FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_segment AFTER INSERT OR UPDATE OR DELETE ON segment FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
CREATE TRIGGER gen_work_risk_assessment AFTER INSERT OR UPDATE OR DELETE ON risk_assessment FOR EACH STATEMENT EXECUTE FUNCTION bump_data_generation('work');
