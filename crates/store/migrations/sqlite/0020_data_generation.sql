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
    domain TEXT    PRIMARY KEY,
    n      INTEGER NOT NULL
);

INSERT INTO data_generation (domain, n) VALUES ('store', abs(random())), ('data', 1), ('work', 1);

CREATE TRIGGER gen_data_import_file_insert AFTER INSERT ON import_file BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_import_file_update AFTER UPDATE ON import_file BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_import_file_delete AFTER DELETE ON import_file BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_score_run_insert AFTER INSERT ON score_run BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_score_run_update AFTER UPDATE ON score_run BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_score_run_delete AFTER DELETE ON score_run BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_erasure_request_insert AFTER INSERT ON erasure_request BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_erasure_request_update AFTER UPDATE ON erasure_request BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_data_erasure_request_delete AFTER DELETE ON erasure_request BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'data'; END;
CREATE TRIGGER gen_work_alert_insert AFTER INSERT ON alert BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_alert_update AFTER UPDATE ON alert BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_alert_delete AFTER DELETE ON alert BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_alert_event_insert AFTER INSERT ON alert_event BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_alert_event_update AFTER UPDATE ON alert_event BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_alert_event_delete AFTER DELETE ON alert_event BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_support_case_insert AFTER INSERT ON support_case BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_support_case_update AFTER UPDATE ON support_case BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_support_case_delete AFTER DELETE ON support_case BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_event_insert AFTER INSERT ON case_event BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_event_update AFTER UPDATE ON case_event BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_event_delete AFTER DELETE ON case_event BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_pause_insert AFTER INSERT ON case_pause BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_pause_update AFTER UPDATE ON case_pause BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_pause_delete AFTER DELETE ON case_pause BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_escalation_insert AFTER INSERT ON case_escalation BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_escalation_update AFTER UPDATE ON case_escalation BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_escalation_delete AFTER DELETE ON case_escalation BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_reclassification_insert AFTER INSERT ON case_reclassification BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_reclassification_update AFTER UPDATE ON case_reclassification BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_case_reclassification_delete AFTER DELETE ON case_reclassification BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_consent_change_insert AFTER INSERT ON consent_change BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_consent_change_update AFTER UPDATE ON consent_change BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_consent_change_delete AFTER DELETE ON consent_change BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_survey_invitation_insert AFTER INSERT ON survey_invitation BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_survey_invitation_update AFTER UPDATE ON survey_invitation BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_survey_invitation_delete AFTER DELETE ON survey_invitation BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_survey_answer_insert AFTER INSERT ON survey_answer BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_survey_answer_update AFTER UPDATE ON survey_answer BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_survey_answer_delete AFTER DELETE ON survey_answer BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_insert AFTER INSERT ON campaign BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_update AFTER UPDATE ON campaign BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_delete AFTER DELETE ON campaign BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_member_insert AFTER INSERT ON campaign_member BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_member_update AFTER UPDATE ON campaign_member BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_member_delete AFTER DELETE ON campaign_member BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_approval_insert AFTER INSERT ON campaign_approval BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_approval_update AFTER UPDATE ON campaign_approval BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_campaign_approval_delete AFTER DELETE ON campaign_approval BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_task_insert AFTER INSERT ON contact_task BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_task_update AFTER UPDATE ON contact_task BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_task_delete AFTER DELETE ON contact_task BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_log_insert AFTER INSERT ON contact_log BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_log_update AFTER UPDATE ON contact_log BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_log_delete AFTER DELETE ON contact_log BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_preference_insert AFTER INSERT ON contact_preference BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_preference_update AFTER UPDATE ON contact_preference BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_contact_preference_delete AFTER DELETE ON contact_preference BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_rm_assignment_insert AFTER INSERT ON rm_assignment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_rm_assignment_update AFTER UPDATE ON rm_assignment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_rm_assignment_delete AFTER DELETE ON rm_assignment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_staff_user_insert AFTER INSERT ON staff_user BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_staff_user_update AFTER UPDATE ON staff_user BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_staff_user_delete AFTER DELETE ON staff_user BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_segment_insert AFTER INSERT ON segment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_segment_update AFTER UPDATE ON segment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_segment_delete AFTER DELETE ON segment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_risk_assessment_insert AFTER INSERT ON risk_assessment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_risk_assessment_update AFTER UPDATE ON risk_assessment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
CREATE TRIGGER gen_work_risk_assessment_delete AFTER DELETE ON risk_assessment BEGIN UPDATE data_generation SET n = n + 1 WHERE domain = 'work'; END;
