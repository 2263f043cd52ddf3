//! The Rapport store: the one source of truth for every entity.
//!
//! Owns the schema (twin migration folders `migrations/sqlite` and
//! `migrations/postgres` with identical file names), the connection to either
//! backend (picked once from the database URL), and typed queries per entity.
//! Plain SQL, one text for both dialects wherever they agree (`$n`
//! placeholders; statements built from their inputs go through
//! `statement.rs`), per dialect only where the SQL truly differs; runtime
//! queries only (no live database to compile). `tables.rs` says what each
//! table of the schema is to export, erasure and the counts.
//!
//! The store has no rules about content: it never cleans, validates or decides
//! identity. Importers hand it cleaned `rapport_domain` records inside an
//! [`ImportSession`] (one database transaction per file) and it reports, per
//! row, whether the row was loaded, was already there, conflicts with what is
//! there, or references an unknown key.
//!
//! Error policy: thiserror here; `StoreError::NotFound` is its own variant.

mod access;
pub mod alert_queue;

mod admin_queries;
mod alerts;
mod backup;
mod campaign;
pub mod campaign_approval;
pub mod case_queries;
mod cases;
mod contact;
mod customers;
mod dashboard;
mod dialect;
mod error;
mod files;
pub mod generation;
pub mod governance_queries;
mod import;
mod jobs;
mod keys;
mod kpi;
mod live_batch;
mod live_txn;
mod live_writer;
mod loaders;
mod matching;
mod name_index;
mod report_queries;
mod reports;
mod risk_profile;
mod rm;
pub mod saved_views;
mod scan;
mod schema;
mod scores;
mod segments;
mod session;
mod statement;
mod survey;
pub mod survey_campaigns;
mod tables;
mod task_queries;
mod txn_copy;

pub use access::{ApiTokenRow, AuditEntry, AuditFilter, AuditRow, LoginFailures, StaffUser};
pub use admin_queries::{
    AuditQuery, ErasureRequestRow, SegmentMemberRow, SegmentOverview, StaffListRow, StaffQuery,
};
pub use alerts::{
    AlertEventRow, AlertFilter, AlertRoute, AlertRow, AlertStatus, AlertTransitionError,
    EvidenceTxn, NewAlert,
};
pub use backup::{check_sqlite_file, StoreFileCheck};
pub use campaign::{
    CampaignFigures, CampaignRow, ContactPoint, ContactTaskRow, MemberRow, NewCampaign,
    NewInvitation, NewMessage, OutboxRow,
};
pub use cases::{
    CaseChange, CaseEventRow, CaseRow, CorrectionRow, EscalationRow, ImprovementRow, NewCase,
    ReclassificationRow,
};
pub use contact::{ConsentRow, ContactDecisionRow, LoggedContactDecision, Reachability};
pub use customers::{
    BranchRow, Customer360, CustomerFilter, CustomerListRow, CustomerProfile, CustomerSort,
    ErasureReport, HealthPoint, Page, ProfileContact, ProfileFacts, ProfileLoan, ProfileTxn, RmRow,
    Scope, SearchMatch,
};
pub use dashboard::{Dashboard, ScopedAlertFilter};
pub use error::StoreError;
pub use files::{
    create_private_file, holders as store_lock_holders, lock_exclusive, lock_path, restrict_path,
    sibling, ExclusiveStoreLock,
};
pub use import::*;
pub use jobs::{JobClaim, JobRunRow, JobScheduleRow};
pub use kpi::{KpiAlert, KpiCase, KpiCustomer, KpiRows, ACCURACY_COLUMNS, CUSTOMER_IMPORT_KINDS};
pub use live_batch::{
    LiveAccountKey, LiveBatchStored, LiveBatchTxn, LiveRejectedLine, LiveRejectedRow,
};
pub use live_txn::{LiveTxnRow, NewLiveTxn};
pub use live_writer::{LiveBatch, LiveWriter};
pub use matching::{
    CustomerModelScore, LoggedDecision, ModelScoreRow, ModelVersionRow, NewModelVersion,
    NewRecommendation, OutcomeCount, ProductRow, RecommendationRow, RecommendationScope,
    SuitabilityDecisionRow,
};
pub use reports::*;
pub use risk_profile::{NewRiskAssessment, RiskAssessmentRow};
pub use rm::{ContactLogRow, NewCadenceTask, NewContactLog, RmStaffRow, TierMemberRow};
pub use scan::*;
pub use schema::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use scores::{BandMove, HealthScoreRow, ScoreRunRow};
pub use segments::{SegmentRow, SegmentSize};
pub use survey::{InvitationRow, NewSurveyAnswer, SurveyAnswerRow};
pub use tables::exportable_tables;
pub use task_queries::{DayAlert, DayCustomer, DayItems, DayRecommendation, DayTask};
pub use txn_copy::TxnWatermark;

use sqlx::{PgPool, SqlitePool};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps looked up once or more per loaded row: foldhash (seeded per process)
/// instead of SipHash, which was a tenth of the loading thread's time.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connected, migrated store. Cheap to clone (pools are shared).
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// Connects to `sqlite://PATH` (file and parent directories created, WAL mode,
    /// foreign keys on, files mode 0600, the store lock held shared until
    /// [`Store::close`]) or `postgres://…`, then runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        schema::connect(url).await
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes the pool, flushing SQLite's WAL, and releases this process's
    /// hold on the store lock (`<db>.lock`) once no open store uses it.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => {
                if p.is_closed() {
                    return;
                }
                let path = p.connect_options().get_filename().to_path_buf();
                p.close().await;
                files::release_shared(&path);
            }
            Store::Postgres(p) => p.close().await,
        }
    }
}
