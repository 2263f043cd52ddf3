//! Erasure leaves nothing that identifies the person (issue 16, finding 7):
//! a customer with rows in every table about a customer — free text quoting
//! their name, ID number, phone and e-mail, a rejected import row holding
//! them, a message sent to them — is erased; then no text column of any
//! table holds any of the four, while another customer's rows are intact.
//! The data-subject export, before the erasure, lists a non-empty section
//! for every table that refers to the customer. On SQLite always and on
//! PostgreSQL when `RAPPORT_TEST_PG` names a server URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rapport_store::Store;
use rapport_testkit::TestDb;
use serde_json::Value;

const NAME: &str = "Zhao Lingyun";
const ID_NUMBER: &str = "110105199001011234";
const PHONE_DIGITS: &str = "13912345678";
const EMAIL: &str = "zhao.lingyun@example.cn";

async fn exec(store: &Store, sql: &str) {
    match store {
        Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

/// Customer 1 (the one erased) with a row in every table about a customer;
/// customer 2 (a bystander) with a note and a rejected import row.
async fn seed(store: &Store) {
    // What staff and customers typed, quoting every identifier.
    let said = "Zhao Lingyun called from 139 1234 5678, ID 110105199001011234, \
                mail zhao.lingyun@example.cn";
    let sql = format!(
        "INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES
           (1, 'customers', 'core', 'c.csv', 'a', 'complete'),
           (2, 'interactions', 'crm', 'i.csv', 'b', 'complete');
         INSERT INTO branch (id, code, name) VALUES (1, 'BJ01', 'Beijing');
         INSERT INTO staff_user (id, username, display_name, role, branch_id)
           VALUES (1, 'rm1', 'RM One', 'rm', 1);
         INSERT INTO customer (id, name, gender, birth_date, id_number, phone, email, city,
           occupation, annual_income, branch_id, attributes) VALUES
           (1, 'Zhao Lingyun', 'F', '1990-06-15', '110105199001011234', '+8613912345678',
            'zhao.lingyun@example.cn', 'Beijing', 'Owner of Zhao Lingyun Studio', 100, 1,
            '{{\"wechat\": \"Zhao Lingyun\"}}'),
           (2, 'Qian Bo', 'M', '1985-12-12', '320102198512120011', '+8613700001111',
            'qian.bo@example.cn', 'Nanjing', 'Teacher', 90, 1, '{{}}');
         INSERT INTO customer_source_key (id, source, source_key, customer_id, fingerprint, import_id)
           VALUES (1, 'core', 'C1', 1, 0, 1), (2, 'crm', 'K77', 1, 0, 2), (3, 'core', 'C2', 2, 0, 1);
         INSERT INTO account (id, source, source_key, customer_id, account_type, currency, fingerprint, import_id)
           VALUES (1, 'core', 'A1', 1, 'current', 'CNY', 0, 1), (2, 'core', 'A2', 2, 'current', 'CNY', 0, 1);
         INSERT INTO account_role (source, source_key, account_id, customer_id, role, fingerprint, import_id)
           VALUES ('core', 'R1', 1, 1, 'owner', 0, 1);
         INSERT INTO txn (source, source_key, account_id, customer_id, booked_on, amount, channel,
           category, counterparty, fingerprint, import_id)
           VALUES ('core', 'T1', 1, 1, '2025-01-05', -1000, 'online', 'transfer', 'Shop Ltd', 0, 1);
         INSERT INTO live_txn (source, source_key, account_id, customer_id, booked_on, amount,
           category, channel, received_by, received_at)
           VALUES ('core', 'LIVE-1', 1, 1, '2025-01-06', -2000, 'atm_withdrawal', 'atm', 'feed',
           '2025-01-06T10:00:00Z');
         INSERT INTO product (id, code, name, category, risk_level, fingerprint)
           VALUES (1, 'P1', 'Fund', 'fund', 3, 0);
         INSERT INTO holding (source, source_key, customer_id, product_id, fingerprint, import_id)
           VALUES ('core', 'H1', 1, 1, 0, 1);
         INSERT INTO loan (source, source_key, account_id, customer_id, granted_on, amount,
           duration_months, monthly_payment, status, outcome, days_past_due, fingerprint, import_id)
           VALUES ('core', 'L1', 1, 1, '2024-01-01', 100000, 12, 9000, 'A', 'good', 0, 0, 1);
         INSERT INTO card (source, source_key, account_id, customer_id, card_type, fingerprint, import_id)
           VALUES ('core', 'K1', 1, 1, 'gold', 0, 1);
         INSERT INTO standing_order (source, source_key, account_id, customer_id, amount, category,
           fingerprint, import_id) VALUES ('core', 'S1', 1, 1, 500, 'rent', 0, 1);
         INSERT INTO card_statement (source, source_key, account_id, customer_id, statement_month,
           bill_amount, paid_amount, repayment_status, days_past_due, fingerprint, import_id)
           VALUES ('core', 'CS1', 1, 1, '2025-01-01', 100, 100, 0, 0, 0, 1);
         INSERT INTO outcome (source, source_key, customer_id, customer_key, label, value,
           fingerprint, import_id) VALUES ('core', 'O1', 1, 'C1', 'churn', 0, 0, 1);
         INSERT INTO interaction (source, source_key, customer_id, occurred_on, channel, kind,
           note, fingerprint, import_id) VALUES
           ('crm', 'I1', 1, '2025-01-02', 'phone', 'call', '{said}', 0, 2),
           ('crm', 'I2', 2, '2025-01-02', 'phone', 'call', 'bystander note', 0, 2);
         INSERT INTO service_case (source, source_key, customer_id, opened_on, kind, severity,
           status, description, fingerprint, import_id)
           VALUES ('crm', 'SC1', 1, '2025-01-03', 'complaint', 'low', 'open', '{said}', 0, 2);
         INSERT INTO survey_response (source, source_key, customer_id, survey, kind, answered_on,
           question, answer_text, fingerprint, import_id)
           VALUES ('crm', 'SR1', 1, 'nps', 'nps', '2025-01-04', 'q', '{said}', 0, 2);
         INSERT INTO consent (source, source_key, customer_id, channel, purpose, granted,
           recorded_on, fingerprint, import_id)
           VALUES ('core', 'CO1', 1, 'phone', 'service', TRUE, '2025-01-01', 0, 1);
         INSERT INTO score_run (id, as_of, started_at, scorecard)
           VALUES (1, '2025-01-31', '2025-02-01T00:00:00Z', 'sc');
         INSERT INTO health_score (as_of, customer_id, run_id, score, band, factors)
           VALUES ('2025-01-31', 1, 1, 55.0, 'watch', '[]');
         INSERT INTO segment (id, code, kind, name, definition, updated_at)
           VALUES (1, 'tier:gold', 'tier', 'Gold', '{{}}', '2025-01-01T00:00:00Z');
         INSERT INTO segment_membership (as_of, segment_id, customer_id) VALUES ('2025-01-31', 1, 1);
         INSERT INTO rm_assignment (customer_id, staff_user_id, assigned_at)
           VALUES (1, 1, '2025-01-01T00:00:00Z');
         INSERT INTO contact_preference (customer_id, do_not_disturb, reason, updated_at, updated_by)
           VALUES (1, TRUE, '{said}', '2025-01-01T00:00:00Z', 'rm1');
         INSERT INTO contact_decision (customer_id, channel, purpose, send_at, decided_at, allowed,
           code, reason, context, decided_by) VALUES (1, 'sms', 'marketing',
           '2025-01-01T10:00:00', '2025-01-01T02:00:00Z', TRUE, 'ok', 'consent given', 'check', 'rm1');
         INSERT INTO campaign (id, key, name_en, name_zh, purpose, spec, status, created_at, created_by)
           VALUES (1, 'spring', 'Spring', 'Spring', 'marketing', 'spec', 'launched',
           '2025-01-01T00:00:00Z', 'rm1');
         INSERT INTO campaign_member (campaign_id, customer_id, arm, channel)
           VALUES (1, 1, 'treatment', 'sms');
         INSERT INTO outbox_message (id, campaign_id, customer_id, channel, purpose, idempotency_key,
           address, lang, subject, body, status, scheduled_at, window_end, next_attempt_at,
           last_error, queued_at, response) VALUES
           (1, 1, 1, 'email', 'marketing', 'm1', 'zhao.lingyun@example.cn', 'en',
            'Dear Zhao Lingyun', 'Dear Zhao Lingyun, your offer', 'responded',
            '2025-01-01T09:00:00', '2025-01-01T20:00:00', '2025-01-01T09:00:00',
            'mailbox zhao.lingyun@example.cn was full', '2025-01-01T00:00:00Z', '{said}'),
           (2, 1, 1, 'sms', 'marketing', 'm2', '+8613912345678', 'en', NULL,
            'Zhao Lingyun, reply Y', 'queued', '2025-01-01T09:00:00', '2025-01-01T20:00:00',
            '2025-01-01T09:00:00', NULL, '2025-01-01T00:00:00Z', NULL);
         INSERT INTO outbox_event (message_id, at, status, attempt, detail)
           VALUES (1, '2025-01-01T09:00:00Z', 'failed', 1, 'rejected zhao.lingyun@example.cn');
         INSERT INTO contact_task (kind, customer_id, message_id, campaign_id, assignee, due_at,
           script, video_link, status, created_at) VALUES ('call', 1, 1, 1, 'rm1',
           '2025-01-02T09:00:00', 'Call Zhao Lingyun on 13912345678',
           'https://meet.example/Zhao Lingyun', 'open', '2025-01-01T00:00:00Z');
         INSERT INTO survey_invitation (id, token_sha256, survey, customer_id, created_at, expires_at)
           VALUES (1, 'h1', 'nps', 1, '2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z');
         INSERT INTO survey_answer (invitation_id, customer_id, survey, question_id, kind,
           answer_text, answered_at)
           VALUES (1, 1, 'nps', 'q3', 'free_text', '{said}', '2025-01-02T00:00:00Z');
         INSERT INTO support_case (id, customer_id, intake, kind, category, severity, state,
           subject, description, assignee, opened_at, resolution, created_by, created_at)
           VALUES (1, 1, 'web', 'complaint', 'fees', 'high', 'resolved',
           'Zhao Lingyun complains', '{said}', 'rm1', '2025-01-02T09:00:00',
           'refund sent to zhao.lingyun@example.cn', 'rm1', '2025-01-02T01:00:00Z');
         INSERT INTO case_event (case_id, at, actor, action, from_state, to_state, detail)
           VALUES (1, '2025-01-02T09:00:00', 'rm1', 'open', NULL, 'new',
           'high fees via web; customer phone 139-1234-5678');
         INSERT INTO case_pause (case_id, from_at) VALUES (1, '2025-01-02T10:00:00');
         INSERT INTO case_escalation (case_id, target, level, due, raised_at, escalated_to, reason)
           VALUES (1, 'resolution', 'warning', '2025-01-05T09:00:00', '2025-01-04T09:00:00Z',
           'supervisor', 'resolution due soon');
         INSERT INTO recommendation (id, customer_id, as_of, generated_at, rank, action,
           product_code, priority, detail, status, status_at) VALUES (1, 1, '2025-01-31',
           '2025-02-01T00:00:00Z', 1, 'sale', 'P1', 0.5, '{{}}', 'declined', '2025-02-02T00:00:00Z');
         INSERT INTO recommendation_outcome (recommendation_id, outcome, recorded_at, recorded_by,
           channel, note) VALUES (1, 'declined', '2025-02-02T00:00:00Z', 'rm1', 'phone', '{said}');
         INSERT INTO contact_log (customer_id, staff, kind, outcome, note, at, recorded_at)
           VALUES (1, 'rm1', 'call', 'reached', '{said}', '2025-01-02T09:00:00',
           '2025-01-02T01:00:00Z');
         INSERT INTO consent_change (customer_id, channel, purpose, granted, recorded_on, source,
           recorded_by, recorded_at, note) VALUES (1, 'phone', 'marketing', FALSE, '2025-01-03',
           'web', 'rm1', '2025-01-03T01:00:00Z', '{said}');
         INSERT INTO alert (id, customer_id, rule, severity, raised_on, raised_at, origin, message,
           evidence, assignee_id, status, disposition, updated_at) VALUES (1, 1, 'balance_drop',
           'high', '2025-01-10', '2025-01-10T00:00:00Z', 'batch', 'Balance fell by 80%', '{{}}', 1,
           'closed', 'Spoke to Zhao Lingyun on 13912345678: moving abroad', '2025-01-11T00:00:00Z');
         INSERT INTO alert_event (alert_id, at, actor, from_status, to_status, note)
           VALUES (1, '2025-01-11T00:00:00Z', 'rm1', 'new', 'closed', '{said}');
         INSERT INTO audit_log (at, actor_id, actor, role, action, entity, entity_id, customer_id,
           detail) VALUES ('2025-01-11T00:00:00Z', 1, 'rm1', 'rm', 'customer.view', 'customer',
           'C1', 1, '{{\"via\": \"web\"}}');
         INSERT INTO customer_merge (customer_id, source, source_key, rule, explanation, import_id)
           VALUES (1, 'crm', 'K77', 'same_id_number',
           'source crm key K77 joined customer 1: same valid ID number 110105199001011234', 2);
         INSERT INTO model_version (id, kind, version, algorithm, trained_at, trained_by, source,
           metrics, artefact, active) VALUES (1, 'churn', 1, 'scorecard', '2025-01-01T00:00:00Z',
           'admin', '{{}}', '{{}}', 'x', TRUE);
         INSERT INTO model_score (model_id, customer_id, as_of, probability, reasons)
           VALUES (1, 1, '2025-01-31', 0.3, '[]');
         INSERT INTO suitability_decision (customer_id, product_code, context, decided_at, allowed,
           code, product_risk, tolerance, reason, decided_by) VALUES (1, 'P1', 'offer',
           '2025-01-05T00:00:00Z', TRUE, 'ok', 3, 'balanced', 'risk within tolerance', 'rm1');
         INSERT INTO risk_assessment (customer_id, source, questionnaire, answers, score,
           tolerance, assessed_on, recorded_by, recorded_at) VALUES (1, 'rapport',
           'rapport-risk-2026', '{{\"age\":\"d\"}}', 31, 'c3', '2025-01-05', 'rm1',
           '2025-01-05T00:00:00Z');
         INSERT INTO field_flag (entity, entity_id, field, reason, import_id)
           VALUES ('customer', 1, 'email', 'email_invalid', 1);
         INSERT INTO quarantine (import_id, line, field, reason, detail, raw) VALUES
           (1, 5, 'birth_date', 'date_invalid', 'birth_date of 110105199001011234 is not a date',
            'C1b,Zhao Lingyun,F,1990-13-01,110105199001011234,139-1234-5678,'),
           (2, 3, 'occurred_on', 'date_invalid', 'not a date', 'I9,K77,2025-02-30,phone,call,,fees'),
           (2, 4, 'occurred_on', 'date_invalid', 'not a date', 'I10,K770,2025-02-30,phone,call,,x'),
           (1, 6, 'birth_date', 'date_invalid', 'not a date',
            'C2b,Qian Bo,M,1985-13-12,320102198512120011,13700001111,');"
    );
    exec(store, &sql).await;
}

/// Every (table, column) of the migrated schema, views excluded.
async fn columns(store: &Store) -> Vec<(String, String)> {
    match store {
        Store::Sqlite(p) => sqlx::query_as(
            "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_as(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             JOIN information_schema.tables t ON t.table_schema = c.table_schema \
             AND t.table_name = c.table_name WHERE c.table_schema = current_schema() \
             AND t.table_type = 'BASE TABLE' AND c.table_name <> '_sqlx_migrations'",
        )
        .fetch_all(p)
        .await
        .unwrap(),
    }
}

/// Every place (table.column = value) where one of `needles` occurs (case
/// insensitive; a phone's digits anywhere among a value's digits).
async fn occurrences(store: &Store, needles: &[&str], phone_digits: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (table, column) in columns(store).await {
        let sql = format!("SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\"");
        let values: Vec<Option<String>> = match store {
            Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
            Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_all(p).await.unwrap(),
        };
        for v in values.into_iter().flatten() {
            let lower = v.to_lowercase();
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            if needles.iter().any(|n| lower.contains(&n.to_lowercase()))
                || digits.contains(phone_digits)
            {
                found.push(format!("{table}.{column} = {v}"));
            }
        }
    }
    found
}

async fn story(store: &Store) {
    seed(store).await;
    let subject = [NAME, ID_NUMBER, EMAIL];
    let before = occurrences(store, &subject, PHONE_DIGITS).await;
    assert!(before.len() > 30, "{before:#?}");

    // The export lists every table that refers to the customer, each with
    // the rows seeded above.
    let export = store.export_customer(1).await.unwrap();
    let Value::Object(export) = export else {
        panic!("{export:?}")
    };
    let referring: Vec<String> = columns(store)
        .await
        .into_iter()
        .filter(|(_, c)| c == "customer_id")
        .map(|(t, _)| t)
        .chain(
            [
                "customer",
                "alert_event",
                "case_event",
                "case_pause",
                "case_escalation",
                "outbox_event",
                "recommendation_outcome",
                "field_flag",
                "quarantine",
            ]
            .map(String::from),
        )
        .collect();
    for t in &referring {
        let rows = match export.get(t) {
            Some(Value::Array(rows)) => rows.len(),
            Some(Value::Object(_)) => 1,
            _ => 0,
        };
        assert!(rows > 0, "{t}: {rows} rows in the export");
    }
    let quarantined = export["quarantine"].as_array().unwrap();
    let lines: Vec<i64> = quarantined
        .iter()
        .filter_map(|r| r.get("line")?.as_i64())
        .collect();
    assert_eq!(
        lines,
        vec![5, 3],
        "the rows quoting the ID number and key K77"
    );

    let report = store.erase_customer(1, chrono::Utc::now()).await.unwrap();
    assert!(report.erased_now);
    for (table, rows) in [
        ("customer", 1),
        ("quarantine", 2),
        ("interaction", 1),
        ("case_event", 1),
        ("support_case", 1),
        ("outbox_message", 3),
        ("outbox_event", 1),
        ("alert", 1),
        ("alert_event", 1),
        ("recommendation_outcome", 1),
        ("customer_merge", 1),
        ("contact_preference", 1),
        ("contact_task", 2),
    ] {
        assert_eq!(report.tables.get(table), Some(&rows), "{table}: {report:?}");
    }

    let after = occurrences(store, &subject, PHONE_DIGITS).await;
    assert!(after.is_empty(), "left after erasure: {after:#?}");

    // The bystander is untouched, the kept records are still there.
    let bystander = occurrences(store, &["Qian Bo", "320102198512120011"], "13700001111").await;
    assert!(
        bystander.iter().any(|p| p.starts_with("quarantine.raw")),
        "{bystander:#?}"
    );
    assert!(bystander.iter().any(|p| p.starts_with("customer.name")));
    let kept = store.export_customer(2).await.unwrap();
    assert_eq!(
        kept["interaction"][0]["note"],
        Value::from("bystander note")
    );
    let erased = store.export_customer(1).await.unwrap();
    assert_eq!(erased["txn"].as_array().map(Vec::len), Some(1));
    assert_eq!(erased["quarantine"].as_array().map(Vec::len), Some(0));
    let k770 = store.export_customer(2).await.unwrap();
    assert_eq!(k770["quarantine"].as_array().map(Vec::len), Some(1));

    // Erasing again changes nothing.
    let again = store.erase_customer(1, chrono::Utc::now()).await.unwrap();
    assert!(!again.erased_now);
    assert!(again.tables.is_empty(), "{again:?}");
}

#[tokio::test]
async fn erasure_leaves_no_identifier_on_sqlite() {
    let db = TestDb::sqlite().await;
    story(&db.store).await;
    db.drop().await;
}

#[tokio::test]
async fn erasure_leaves_no_identifier_on_postgres() {
    let Some(db) = TestDb::postgres("erasure").await else {
        return;
    };
    story(&db.store).await;
    db.drop().await;
}
