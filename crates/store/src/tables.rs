//! The registry of tables: one entry per table of the schema saying what the
//! table is to the rest of the store — whether and how its rows belong to one
//! customer, whether the data-subject export includes them, whether the whole
//! table may be exported as CSV, which [`EntityCounts`] field counts it, and
//! what erasing a customer does to it.
//!
//! The data-subject export and erasure (`customers.rs`), the entity counts and
//! the table export (`report_queries.rs`) all read this one list, and a test
//! compares it with the schema of a freshly migrated store, so a migration
//! that adds a table must add it here and decide about each of these.
//!
//! [`EntityCounts`]: crate::EntityCounts

/// How the rows of a table belong to one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// Not about one customer (reference data, bookkeeping, staff, sessions).
    Nobody,
    /// The customer table itself: one row per customer, keyed by `id`.
    Customer,
    /// The column holding the customer's id.
    Column(&'static str),
    /// Through a parent table: `fk` holds the `id` of a `parent` row, and the
    /// parent's [`Owner::Column`] names the customer.
    Parent {
        parent: &'static str,
        fk: &'static str,
    },
}

/// Whether the data-subject export (`Store::export_customer`) includes a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubjectExport {
    /// Not included; for a table with an [`Owner`], the reason why.
    No(&'static str),
    /// The customer's rows, in the order the database returns them.
    Rows,
    /// The customer's rows in `id` order.
    RowsById,
}

/// What erasing a customer (`Store::erase_customer`) does to a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Erasure {
    /// Nothing: the rows hold nothing personal, or are kept by law.
    Kept,
    /// The customer row: personal fields cleared by `erase_customer` itself
    /// (the SQL differs per dialect: `erase_customer_row_sql`).
    CustomerRow,
    /// These updates of the customer's rows, in order.
    Anonymise(&'static [Clear]),
}

/// One `UPDATE {table} SET {set} WHERE {owner column} = $1 [AND {only}]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Clear {
    pub(crate) set: &'static str,
    /// Extra condition, so that erasing twice changes nothing the second time.
    pub(crate) only: Option<&'static str>,
    /// Which total of the `ErasureReport` the changed rows add to.
    pub(crate) tally: Option<Tally>,
}

/// The totals of an `ErasureReport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tally {
    /// `interaction_notes_cleared`.
    Notes,
    /// `case_descriptions_cleared`.
    CaseTexts,
    /// `survey_answers_cleared`.
    SurveyAnswers,
}

/// One table of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) owner: Owner,
    pub(crate) subject_export: SubjectExport,
    /// `Store::export_table_csv` may dump the whole table.
    pub(crate) exportable: bool,
    /// The [`crate::EntityCounts`] field holding its number of rows.
    pub(crate) counted_as: Option<&'static str>,
    pub(crate) erasure: Erasure,
}

impl Table {
    /// A table about no customer, not exported, not counted: the default.
    const fn internal(name: &'static str) -> Self {
        Table {
            name,
            owner: Owner::Nobody,
            subject_export: SubjectExport::No("not about one customer"),
            exportable: false,
            counted_as: None,
            erasure: Erasure::Kept,
        }
    }

    /// A table keyed by `customer_id`, part of the data-subject export and
    /// kept as it is by erasure.
    const fn of_customer(name: &'static str) -> Self {
        Table {
            name,
            owner: Owner::Column("customer_id"),
            subject_export: SubjectExport::Rows,
            exportable: false,
            counted_as: None,
            erasure: Erasure::Kept,
        }
    }

    /// Also dumped whole by the table export and counted under `field`.
    const fn reported(self, field: &'static str) -> Self {
        Table {
            exportable: true,
            counted_as: Some(field),
            ..self
        }
    }

    const fn anonymised(self, clears: &'static [Clear]) -> Self {
        Table {
            erasure: Erasure::Anonymise(clears),
            ..self
        }
    }

    const fn subject_export(self, how: SubjectExport) -> Self {
        Table {
            subject_export: how,
            ..self
        }
    }
}

const fn clear(set: &'static str, only: Option<&'static str>, tally: Option<Tally>) -> Clear {
    Clear { set, only, tally }
}

/// Every table of the schema (views excluded). The data-subject export lists
/// the customer's tables in this order.
pub(crate) const TABLES: &[Table] = &[
    Table {
        owner: Owner::Customer,
        subject_export: SubjectExport::RowsById,
        erasure: Erasure::CustomerRow,
        ..Table::internal("customer")
    }
    .reported("customers"),
    // Source keys are the bank's own identifiers, kept to honour retention and
    // to recognise the same record when it is imported again.
    Table::of_customer("customer_source_key").reported("customer_source_keys"),
    Table::of_customer("account").reported("accounts"),
    Table::of_customer("account_role").reported("account_roles"),
    Table::of_customer("txn").reported("transactions"),
    // Transactions posted to the live feed, kept like imported ones.
    Table::of_customer("live_txn").subject_export(SubjectExport::RowsById),
    Table::of_customer("holding").reported("holdings"),
    Table::of_customer("loan").reported("loans"),
    Table::of_customer("card").reported("cards"),
    Table::of_customer("standing_order").reported("standing_orders"),
    Table::of_customer("card_statement").reported("card_statements"),
    Table::of_customer("outcome").reported("outcomes"),
    Table::of_customer("interaction")
        .reported("interactions")
        .anonymised(&[clear(
            "note = NULL",
            Some("note IS NOT NULL"),
            Some(Tally::Notes),
        )]),
    Table::of_customer("service_case")
        .reported("cases")
        .anonymised(&[clear(
            "description = NULL",
            Some("description IS NOT NULL"),
            Some(Tally::CaseTexts),
        )]),
    Table::of_customer("survey_response")
        .reported("survey_responses")
        .anonymised(&[clear(
            "answer_text = NULL",
            Some("answer_text IS NOT NULL"),
            Some(Tally::SurveyAnswers),
        )]),
    // Proof of consent is kept.
    Table::of_customer("consent").reported("consents"),
    Table::of_customer("health_score"),
    Table::of_customer("segment_membership"),
    Table::of_customer("rm_assignment"),
    Table::of_customer("contact_preference"),
    Table::of_customer("contact_decision"),
    Table::of_customer("campaign_member"),
    // Queued messages are not sent any more; sent ones lose address and text.
    Table::of_customer("outbox_message").anonymised(&[
        clear(
            "status = 'cancelled', last_error = 'customer erased'",
            Some("status = 'queued'"),
            None,
        ),
        clear(
            "address = '', subject = NULL, body = '[erased]', response = NULL",
            Some("body <> '[erased]'"),
            None,
        ),
    ]),
    Table::of_customer("contact_task").anonymised(&[clear("script = '[erased]'", None, None)]),
    Table::of_customer("survey_invitation"),
    Table::of_customer("survey_answer").anonymised(&[clear(
        "answer_text = NULL",
        Some("answer_text IS NOT NULL"),
        Some(Tally::SurveyAnswers),
    )]),
    Table::of_customer("support_case").anonymised(&[clear(
        "subject = '[erased]', description = '[erased]', \
         resolution = CASE WHEN resolution IS NULL THEN NULL ELSE '[erased]' END",
        Some("description <> '[erased]'"),
        Some(Tally::CaseTexts),
    )]),
    Table::of_customer("recommendation"),
    Table::of_customer("contact_log").anonymised(&[clear(
        "note = NULL",
        Some("note IS NOT NULL"),
        Some(Tally::Notes),
    )]),
    Table::of_customer("consent_change").anonymised(&[clear("note = NULL", None, None)]),
    Table::of_customer("alert").subject_export(SubjectExport::RowsById),
    Table {
        owner: Owner::Parent {
            parent: "alert",
            fk: "alert_id",
        },
        subject_export: SubjectExport::RowsById,
        ..Table::internal("alert_event")
    },
    Table::of_customer("audit_log").subject_export(SubjectExport::RowsById),
    Table {
        owner: Owner::Parent {
            parent: "support_case",
            fk: "case_id",
        },
        subject_export: SubjectExport::RowsById,
        ..Table::internal("case_event")
    },
    // Customer-keyed tables the data-subject export leaves out.
    Table::of_customer("customer_merge")
        .reported("merges")
        .subject_export(SubjectExport::No(
            "merge bookkeeping: the customer row and its source keys are exported",
        )),
    Table::of_customer("model_score").subject_export(SubjectExport::No(
        "model output, not yet part of the data-subject export",
    )),
    Table::of_customer("suitability_decision").subject_export(SubjectExport::No(
        "suitability log, not yet part of the data-subject export",
    )),
    // Reference data and import bookkeeping, exported and counted.
    Table::internal("import_file").reported("imports"),
    Table::internal("branch").reported("branches"),
    Table::internal("product").reported("products"),
    Table::internal("staff_user").reported("staff_users"),
    Table::internal("quarantine").reported("quarantined"),
    Table {
        counted_as: Some("flagged_fields"),
        ..Table::internal("field_flag")
    },
    // Internal to the application.
    Table::internal("score_run"),
    Table::internal("segment"),
    Table::internal("web_session"),
    Table::internal("api_token"),
    Table::internal("login_attempt"),
    Table::internal("job_schedule"),
    Table::internal("job_run"),
    Table::internal("model_version"),
    Table::internal("model_activation"),
    Table::internal("recommendation_outcome"),
    Table::internal("campaign"),
    Table::internal("outbox_event"),
    Table::internal("case_pause"),
    Table::internal("case_escalation"),
    Table::internal("improvement_item"),
    Table::internal("rm_capacity"),
];

/// The registry entry of `name`.
pub(crate) fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Tables `Store::export_table_csv` may dump.
pub fn exportable_tables() -> impl Iterator<Item = &'static str> {
    TABLES.iter().filter(|t| t.exportable).map(|t| t.name)
}

/// The query reading customer `$1`'s rows of `t` for the data-subject export,
/// or `None` when the export leaves `t` out (the customer row itself is read
/// by the export first, on its own).
pub(crate) fn subject_export_sql(t: &Table) -> Option<String> {
    let order = match t.subject_export {
        SubjectExport::No(_) => return None,
        SubjectExport::Rows => "",
        SubjectExport::RowsById => " ORDER BY id",
    };
    match t.owner {
        Owner::Nobody | Owner::Customer => None,
        Owner::Column(col) => Some(format!("SELECT * FROM {} WHERE {col} = $1{order}", t.name)),
        Owner::Parent { parent, fk } => {
            let Some(Owner::Column(col)) = table(parent).map(|p| p.owner) else {
                return None;
            };
            let order = if order.is_empty() {
                ""
            } else {
                " ORDER BY e.id"
            };
            Some(format!(
                "SELECT e.* FROM {} e JOIN {parent} p ON p.id = e.{fk} WHERE p.{col} = $1{order}",
                t.name
            ))
        }
    }
}

/// The updates erasure runs on `t`, each with the total it adds to.
pub(crate) fn erasure_sql(t: &Table) -> Vec<(String, Option<Tally>)> {
    let (Erasure::Anonymise(clears), Owner::Column(col)) = (t.erasure, t.owner) else {
        return Vec::new();
    };
    clears
        .iter()
        .map(|c| {
            let only = c.only.map(|o| format!(" AND {o}")).unwrap_or_default();
            (
                format!("UPDATE {} SET {} WHERE {col} = $1{only}", t.name, c.set),
                c.tally,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use std::collections::{BTreeMap, BTreeSet};

    /// Tables of a migrated database that are not the application's.
    const NOT_REGISTERED: &[&str] = &["_sqlx_migrations"];

    #[test]
    fn every_table_is_registered_once() {
        let mut seen = BTreeSet::new();
        for t in TABLES {
            assert!(seen.insert(t.name), "{} registered twice", t.name);
        }
    }

    #[test]
    fn the_counted_tables_fill_every_field_of_the_entity_counts_once() {
        let fields: BTreeSet<String> = match serde_json::to_value(crate::EntityCounts::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            other => panic!("EntityCounts serialises as {other:?}"),
        };
        let counted: Vec<String> = TABLES
            .iter()
            .filter_map(|t| t.counted_as.map(str::to_string))
            .collect();
        assert_eq!(counted.len(), fields.len(), "{counted:?}");
        assert_eq!(counted.into_iter().collect::<BTreeSet<_>>(), fields);
    }

    #[test]
    fn tables_left_out_of_the_subject_export_say_why() {
        for t in TABLES {
            let exported = subject_export_sql(t).is_some();
            match (t.owner, t.subject_export) {
                (Owner::Nobody, how) => {
                    assert!(matches!(how, SubjectExport::No(_)), "{}", t.name)
                }
                (Owner::Customer, _) => assert!(!exported, "{}", t.name),
                (_, SubjectExport::No(why)) => assert!(!why.is_empty(), "{}", t.name),
                _ => assert!(exported, "{}", t.name),
            }
            if let Erasure::Anonymise(_) = t.erasure {
                assert!(!erasure_sql(t).is_empty(), "{}", t.name);
            }
        }
    }

    #[test]
    fn the_subject_export_reads_children_through_their_parent() {
        let sql = table("alert_event").and_then(subject_export_sql);
        assert_eq!(
            sql.as_deref(),
            Some(
                "SELECT e.* FROM alert_event e JOIN alert p ON p.id = e.alert_id \
                 WHERE p.customer_id = $1 ORDER BY e.id"
            )
        );
        let sql = table("txn").and_then(subject_export_sql);
        assert_eq!(
            sql.as_deref(),
            Some("SELECT * FROM txn WHERE customer_id = $1")
        );
    }

    /// The tables of a migrated store (not views), each with its columns.
    async fn schema(store: &Store) -> BTreeMap<String, BTreeSet<String>> {
        let pairs: Vec<(String, String)> = match store {
            Store::Sqlite(p) => sqlx::query_as(
                "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(p)
            .await
            .unwrap_or_default(),
            Store::Postgres(p) => sqlx::query_as(
                "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema \
                 AND t.table_name = c.table_name \
                 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
            )
            .fetch_all(p)
            .await
            .unwrap_or_default(),
        };
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (table, column) in pairs {
            if !NOT_REGISTERED.contains(&table.as_str()) {
                out.entry(table).or_default().insert(column);
            }
        }
        out
    }

    /// A new migration cannot add a table, or a customer column, without the
    /// registry saying what it is.
    async fn the_registry_matches_the_schema_of(store: &Store) {
        let schema = schema(store).await;
        assert!(schema.contains_key("customer"), "{schema:?}");
        let tables: BTreeSet<&str> = schema.keys().map(String::as_str).collect();
        let registered: BTreeSet<&str> = TABLES.iter().map(|t| t.name).collect();
        assert_eq!(
            tables.difference(&registered).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "tables of the schema missing from the registry"
        );
        assert_eq!(
            registered.difference(&tables).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "registered tables missing from the schema"
        );
        let none = BTreeSet::new();
        for t in TABLES {
            let cols = schema.get(t.name).unwrap_or(&none);
            match t.owner {
                Owner::Nobody => assert!(
                    !cols.contains("customer_id"),
                    "{} has a customer_id column: say how it belongs to the customer",
                    t.name
                ),
                Owner::Customer => assert!(cols.contains("id"), "{}", t.name),
                Owner::Column(c) => assert!(cols.contains(c), "{}.{c}", t.name),
                Owner::Parent { parent, fk } => {
                    assert!(cols.contains(fk), "{}.{fk}", t.name);
                    assert!(
                        matches!(table(parent).map(|p| p.owner), Some(Owner::Column(_))),
                        "{}: parent {parent}",
                        t.name
                    );
                }
            }
            if t.exportable || matches!(t.subject_export, SubjectExport::RowsById) {
                assert!(cols.contains("id"), "{} is read in id order", t.name);
            }
        }
    }

    async fn exec(store: &Store, sql: &str) {
        let done = match store {
            Store::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
            Store::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        };
        assert!(done.is_ok(), "{done:?}");
    }

    /// Every statement the registry makes runs on the migrated schema, the
    /// export has the same sections as before the registry, and erasure
    /// clears and counts what it did before.
    async fn export_and_erasure_on(store: &Store) {
        exec(
            store,
            "INSERT INTO import_file (id, kind, source, path, sha256, status) VALUES \
               (1, 'interactions', 's', 'i.csv', 'x', 'complete'); \
             INSERT INTO customer (id, name) VALUES (1, 'A'), (2, 'B'); \
             INSERT INTO interaction (source, source_key, customer_id, occurred_on, channel, \
               kind, note, fingerprint, import_id) VALUES \
               ('s', 'i1', 1, '2025-01-01', 'phone', 'call', 'private', 0, 1), \
               ('s', 'i2', 1, '2025-01-02', 'phone', 'call', NULL, 0, 1), \
               ('s', 'i3', 2, '2025-01-02', 'phone', 'call', 'kept', 0, 1); \
             INSERT INTO service_case (source, source_key, customer_id, opened_on, kind, \
               severity, status, description, fingerprint, import_id) VALUES \
               ('s', 'c1', 1, '2025-01-01', 'complaint', 'low', 'open', 'text', 0, 1); \
             INSERT INTO survey_response (source, source_key, customer_id, survey, kind, \
               answered_on, question, answer_text, fingerprint, import_id) VALUES \
               ('s', 'r1', 1, 'nps', 'nps', '2025-01-01', 'q', 'free text', 0, 1); \
             INSERT INTO contact_log (customer_id, staff, kind, outcome, note, at, recorded_at) \
               VALUES (1, 'rm', 'call', 'reached', 'said things', '2025-01-01T00:00:00Z', \
               '2025-01-01T00:00:00Z');",
        )
        .await;
        let export = store.export_customer(1).await;
        let Ok(serde_json::Value::Object(export)) = export else {
            panic!("{export:?}");
        };
        for t in TABLES {
            let listed = export.contains_key(t.name);
            assert_eq!(
                listed,
                t.owner == Owner::Customer || subject_export_sql(t).is_some(),
                "{}",
                t.name
            );
        }
        let rows = |t: &str| export.get(t).and_then(|v| v.as_array()).map(Vec::len);
        assert_eq!(
            (
                rows("interaction"),
                rows("service_case"),
                rows("contact_log")
            ),
            (Some(2), Some(1), Some(1))
        );
        let mut sections: Vec<&str> = export.keys().map(String::as_str).collect();
        sections.sort_unstable();
        let mut want = vec![
            "customer",
            "customer_source_key",
            "account",
            "account_role",
            "txn",
            "live_txn",
            "holding",
            "loan",
            "card",
            "standing_order",
            "card_statement",
            "outcome",
            "interaction",
            "service_case",
            "survey_response",
            "consent",
            "health_score",
            "segment_membership",
            "rm_assignment",
            "contact_preference",
            "contact_decision",
            "campaign_member",
            "outbox_message",
            "contact_task",
            "survey_invitation",
            "survey_answer",
            "support_case",
            "recommendation",
            "contact_log",
            "consent_change",
            "alert",
            "alert_event",
            "audit_log",
            "case_event",
        ];
        want.sort_unstable();
        assert_eq!(sections, want);
        let erased = store.erase_customer(1, chrono::Utc::now()).await;
        let Ok(report) = erased else {
            panic!("{erased:?}");
        };
        assert!(report.erased_now);
        assert_eq!(
            (
                report.interaction_notes_cleared,
                report.case_descriptions_cleared,
                report.survey_answers_cleared
            ),
            (2, 1, 1)
        );
        let again = store.erase_customer(1, chrono::Utc::now()).await;
        let Ok(again) = again else {
            panic!("{again:?}");
        };
        assert!(!again.erased_now);
        assert_eq!(
            (
                again.interaction_notes_cleared,
                again.case_descriptions_cleared,
                again.survey_answers_cleared
            ),
            (0, 0, 0)
        );
        let kept = store.export_customer(2).await;
        let note = kept
            .ok()
            .and_then(|e| e.get("interaction")?.get(0)?.get("note").cloned());
        assert_eq!(note, Some(serde_json::Value::from("kept")));
    }

    #[tokio::test]
    async fn the_registry_matches_the_migrated_schema_on_sqlite() {
        let store = Store::connect("sqlite::memory:").await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        the_registry_matches_the_schema_of(&store).await;
        store.close().await;
    }

    #[tokio::test]
    async fn export_and_erasure_follow_the_registry_on_sqlite() {
        let store = Store::connect("sqlite::memory:").await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        export_and_erasure_on(&store).await;
        store.close().await;
    }

    /// Both checks on a fresh PostgreSQL database when `RAPPORT_TEST_PG`
    /// names a server (an admin URL), like the integration tests.
    #[tokio::test]
    async fn the_registry_and_its_statements_hold_on_postgres() {
        let Ok(admin_url) = std::env::var("RAPPORT_TEST_PG") else {
            eprintln!("RAPPORT_TEST_PG not set: PostgreSQL registry test skipped");
            return;
        };
        let name = format!("rapport_tables_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&admin_url).await;
        let Ok(admin) = admin else {
            panic!("{admin:?}");
        };
        let created = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await;
        assert!(created.is_ok(), "{created:?}");
        let base = admin_url.rsplit_once('/').map_or("", |(b, _)| b);
        let store = Store::connect(&format!("{base}/{name}")).await;
        let Ok(store) = store else {
            panic!("{store:?}");
        };
        the_registry_matches_the_schema_of(&store).await;
        export_and_erasure_on(&store).await;
        store.close().await;
        let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&admin)
            .await;
        assert!(dropped.is_ok(), "{dropped:?}");
        admin.close().await;
    }
}
