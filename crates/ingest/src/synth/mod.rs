//! The synthetic bank: a deterministic generator of a realistic Chinese
//! retail bank in canonical CSV (docs/FORMATS.md), for demos, tests,
//! benchmarks and validating the early-warning models.
//!
//! What it makes: branches in ~40 real cities, a product shelf, staff,
//! customers with Chinese names, valid resident ID numbers, incomes by city
//! tier and age; their accounts, cards, loans, holdings, standing orders and
//! daily transactions shaped by paydays, weekends, the seasons, Spring
//! Festival and National Day; complaints, contacts, survey answers and
//! consents. A few per cent of customers are planted into distress or
//! attrition; `ground_truth.csv` says who and from which day.
//!
//! Like a real bank's extracts the files are dirty (see `dirt`): spellings the
//! cleaner must normalise, invalid-but-loadable customer fields that are
//! flagged, a few rows that must be quarantined, all listed in
//! `planted_dirt.csv`; and a second source system, the CRM, is written to
//! `crm/` (see `crm`) with `crm/expected_merges.csv` as the ground truth of
//! identity resolution.
//!
//! How: every customer is drawn from their own ChaCha8 stream (key = seed,
//! stream = customer index), so output depends only on the configuration —
//! never on thread count or chunk size. Worker threads render chunks of
//! customers into byte buffers; the calling thread writes them to the files
//! in chunk order. Memory is bounded by the number of chunks in flight.
//!
//! Never touches the store: loading is the importer's job.

mod calendar;
mod catalog;
mod crm;
mod dirt;
mod geo;
mod ledger;
mod people;
mod rows;
mod service;

pub use calendar::{mid_autumn, spring_festival};

use calendar::{offset, Calendar, N_SPEND};
use chrono::NaiveDate;
use crm::{CrmKeys, CrmTables, Known, Link};
use dirt::{IdStyle, LedgerTail, Planted, Schedule};
use geo::{BranchNetwork, CITIES};
use ledger::{Fate, LedgerTables};
use people::{IncomeKind, Person};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_domain::ResidentId;
use rows::Rows;
use serde::{Deserialize, Serialize};
use service::ServiceTables;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Condvar, Mutex};
use std::time::Instant;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenConfig {
    pub customers: u64,
    pub seed: u64,
    /// First day of the history.
    pub start: NaiveDate,
    /// Day after the last day of the history (exclusive).
    pub end: NaiveDate,
    /// The source name the files are meant to be imported under.
    pub source: String,
}

impl Default for GenConfig {
    /// 20,000 customers over two full years (so that year-over-year holiday baselines exist).
    fn default() -> Self {
        GenConfig {
            customers: 20_000,
            seed: 42,
            start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default(),
            end: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            source: "synth".into(),
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Serialize)]
pub struct GenSummary {
    /// (kind, path, data rows) for every file written.
    pub files: Vec<(String, PathBuf, u64)>,
    /// Core customers (not counting planted bad customer rows).
    pub customers: u64,
    /// Transactions that load (transactions.csv holds these plus the planted bad rows).
    pub transactions: u64,
    /// Customers planted into distress.
    pub distressed: u64,
    /// Customers planted into attrition.
    pub churned: u64,
    /// Customer fields planted invalid-but-loadable (flagged and stored as
    /// missing on import): ID numbers with a typo, short mobiles, malformed
    /// e-mails. One line each in `planted_dirt.csv`.
    pub flagged_fields: u64,
    /// Rows planted to be quarantined on import, over all files (one line each
    /// in `planted_dirt.csv`). They are extra rows: `customers` and
    /// `transactions` do not count them.
    pub quarantine_rows: u64,
    /// Rows written in a non-canonical but accepted spelling (other date
    /// formats, grouped amounts, stray spaces, phone and gender codes …).
    pub reformatted_rows: u64,
    /// Customer records of the CRM (`crm/customers.csv`).
    pub crm_customers: u64,
    /// CRM records expected to join a core customer (`crm/expected_merges.csv`
    /// rows whose rule is not `none`).
    pub expected_merges: u64,
    pub elapsed_secs: f64,
}

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("invalid generator configuration: {0}")]
    Config(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a generator worker thread failed")]
    Worker,
}

/// Customers rendered together by one worker.
const CHUNK_CUSTOMERS: u64 = 1_000;
/// Spending transactions per customer per day at average activity and intensity.
const SPEND_PER_DAY: f64 = 0.042;
/// Share of eligible (salaried or self-employed) customers planted into distress.
const DISTRESS_SHARE_OF_WORKERS: f64 = 0.05;
/// Share of all customers planted into attrition.
const ATTRITION_SHARE: f64 = 0.031;

/// The output files, in the importer's dependency order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Branches,
    Products,
    StaffUsers,
    Customers,
    Accounts,
    Transactions,
    Holdings,
    Loans,
    Cards,
    CardStatements,
    StandingOrders,
    Interactions,
    Cases,
    SurveyResponses,
    Consents,
    GroundTruth,
    PlantedDirt,
    CrmCustomers,
    CrmConsents,
    CrmInteractions,
    CrmExpectedMerges,
}

impl Kind {
    const ALL: [Kind; 21] = [
        Kind::Branches,
        Kind::Products,
        Kind::StaffUsers,
        Kind::Customers,
        Kind::Accounts,
        Kind::Transactions,
        Kind::Holdings,
        Kind::Loans,
        Kind::Cards,
        Kind::CardStatements,
        Kind::StandingOrders,
        Kind::Interactions,
        Kind::Cases,
        Kind::SurveyResponses,
        Kind::Consents,
        Kind::GroundTruth,
        Kind::PlantedDirt,
        Kind::CrmCustomers,
        Kind::CrmConsents,
        Kind::CrmInteractions,
        Kind::CrmExpectedMerges,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Branches => "branches",
            Kind::Products => "products",
            Kind::StaffUsers => "staff_users",
            Kind::Customers => "customers",
            Kind::Accounts => "accounts",
            Kind::Transactions => "transactions",
            Kind::Holdings => "holdings",
            Kind::Loans => "loans",
            Kind::Cards => "cards",
            Kind::CardStatements => "card_statements",
            Kind::StandingOrders => "standing_orders",
            Kind::Interactions => "interactions",
            Kind::Cases => "cases",
            Kind::SurveyResponses => "survey_responses",
            Kind::Consents => "consents",
            Kind::GroundTruth => "ground_truth",
            Kind::PlantedDirt => "planted_dirt",
            Kind::CrmCustomers => "crm/customers",
            Kind::CrmConsents => "crm/consents",
            Kind::CrmInteractions => "crm/interactions",
            Kind::CrmExpectedMerges => "crm/expected_merges",
        }
    }

    /// The header row, column for column as docs/FORMATS.md lists them.
    fn header(self) -> &'static str {
        match self {
            Kind::Branches => "code,name,city,region",
            Kind::Products => "code,name,category,risk_level",
            Kind::StaffUsers => "username,display_name,role,branch",
            Kind::Customers => "source_key,name,gender,birth_date,id_number,phone,email,city,occupation,annual_income,risk_tolerance,risk_assessed_on,branch",
            Kind::Accounts => "source_key,customer_key,type,opened_on,closed_on,currency,balance,credit_limit,branch",
            Kind::Transactions => "source_key,account_key,booked_on,amount,balance_after,channel,category,counterparty",
            Kind::Holdings => "source_key,customer_key,product_code,account_key,opened_on,closed_on,amount",
            Kind::Loans => "source_key,account_key,granted_on,amount,duration_months,monthly_payment,status,days_past_due",
            Kind::Cards => "source_key,account_key,customer_key,type,issued_on,credit_limit",
            Kind::CardStatements => "source_key,account_key,statement_month,bill_amount,paid_amount,repayment_status,days_past_due",
            Kind::StandingOrders => "source_key,account_key,bank_to,account_to,amount,category",
            Kind::Interactions => "source_key,customer_key,occurred_on,channel,kind,outcome,note",
            Kind::Cases => "source_key,customer_key,opened_on,kind,category,severity,status,description,closed_on",
            Kind::SurveyResponses => "source_key,customer_key,survey,kind,answered_on,question,score,answer_text",
            Kind::Consents => "source_key,customer_key,channel,purpose,granted,recorded_on,revoked_on",
            Kind::GroundTruth => "customer_key,event,start_date",
            Kind::PlantedDirt => "file,line,source_key,field,reason,action",
            Kind::CrmCustomers => crm::CUSTOMERS_HEADER,
            Kind::CrmConsents => crm::CONSENTS_HEADER,
            Kind::CrmInteractions => crm::INTERACTIONS_HEADER,
            Kind::CrmExpectedMerges => crm::EXPECTED_HEADER,
        }
    }
}

/// Everything shared read-only by the workers.
pub(crate) struct World {
    pub cal: Calendar,
    pub net: BranchNetwork,
    /// Mean share of each spending category over the window.
    pub mix: [f64; N_SPEND],
    pub mean_intensity: f64,
    /// Spending transactions per day for an average customer on an average day.
    pub spend_rate: f64,
    pub seed: u64,
    pub key_width: usize,
    pub end: NaiveDate,
    pub schedule: Schedule,
    pub crm_keys: CrmKeys,
}

/// The rows of one chunk of customers, one buffer per per-customer file.
#[derive(Default)]
struct Chunk {
    customers: Rows,
    accounts: Rows,
    transactions: Rows,
    holdings: Rows,
    loans: Rows,
    cards: Rows,
    card_statements: Rows,
    standing_orders: Rows,
    interactions: Rows,
    cases: Rows,
    survey_responses: Rows,
    consents: Rows,
    ground_truth: Rows,
    crm_customers: Rows,
    crm_consents: Rows,
    crm_interactions: Rows,
    crm_expected: Rows,
    /// Every valid ID number written, with where it is spelled.
    id_sites: Vec<IdSite>,
    /// What was planted, by row within this chunk.
    planted: Vec<Planted>,
    done: u64,
    distressed: u64,
    churned: u64,
    flagged: u64,
    quarantined_txns: u64,
    reformatted_customers: u64,
    expected_merges: u64,
}

impl Chunk {
    fn rows(&self, kind: Kind) -> Option<&Rows> {
        Some(match kind {
            Kind::Customers => &self.customers,
            Kind::Accounts => &self.accounts,
            Kind::Transactions => &self.transactions,
            Kind::Holdings => &self.holdings,
            Kind::Loans => &self.loans,
            Kind::Cards => &self.cards,
            Kind::CardStatements => &self.card_statements,
            Kind::StandingOrders => &self.standing_orders,
            Kind::Interactions => &self.interactions,
            Kind::Cases => &self.cases,
            Kind::SurveyResponses => &self.survey_responses,
            Kind::Consents => &self.consents,
            Kind::GroundTruth => &self.ground_truth,
            Kind::CrmCustomers => &self.crm_customers,
            Kind::CrmConsents => &self.crm_consents,
            Kind::CrmInteractions => &self.crm_interactions,
            Kind::CrmExpectedMerges => &self.crm_expected,
            Kind::Branches | Kind::Products | Kind::StaffUsers | Kind::PlantedDirt => return None,
        })
    }

    /// Rows written in a non-canonical spelling.
    fn reformatted(&self) -> u64 {
        self.reformatted_customers
            + [
                &self.accounts,
                &self.transactions,
                &self.holdings,
                &self.loans,
                &self.cards,
                &self.card_statements,
                &self.standing_orders,
                &self.interactions,
                &self.cases,
                &self.survey_responses,
                &self.consents,
            ]
            .iter()
            .map(|r| r.varied)
            .sum::<u64>()
    }
}

/// Which buffer an ID number was written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdTable {
    Customers,
    Crm,
}

/// One place an ID number is spelled.
#[derive(Debug, Clone, Copy)]
struct IdLoc {
    table: IdTable,
    at: usize,
    style: IdStyle,
}

/// One person's valid ID number and every place it is written (the core row,
/// a bad copy of it, the CRM record), so that a patch reaches them all.
#[derive(Debug, Clone, Copy, Default)]
struct IdSite {
    locs: [Option<IdLoc>; 3],
}

impl IdSite {
    fn new(table: IdTable, at: usize, style: IdStyle) -> Self {
        let mut s = IdSite::default();
        s.add(table, at, style);
        s
    }

    fn add(&mut self, table: IdTable, at: usize, style: IdStyle) {
        if let Some(slot) = self.locs.iter_mut().find(|l| l.is_none()) {
            *slot = Some(IdLoc { table, at, style });
        }
    }
}

/// The stream of the seed reserved for bank-level rows (staff names).
const BANK_STREAM: u64 = u64::MAX;

fn customer_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// The stream of planted dirt and the CRM, one per customer, apart from the
/// simulation's so that the money story does not depend on it.
fn dirt_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xD1A7_0F5E_ED00_0000);
    rng.set_stream(index);
    rng
}

/// Who is planted into trouble, and from which day.
fn draw_fate<R: Rng>(rng: &mut R, cal: &Calendar, person: &Person) -> Fate {
    let n = cal.len();
    let open = offset(cal.start, person.since).max(0) as usize;
    let lo = (open + 90).max(n / 5);
    let u: f64 = rng.random();
    let worker = matches!(
        person.occupation.income,
        IncomeKind::Salary | IncomeKind::Business
    );
    // Distress needs about four months to show (income falls, stops, money runs out, instalments are missed);
    // attrition about two and a half (activity dwindles, money moves, accounts close).
    if worker && u < DISTRESS_SHARE_OF_WORKERS && lo + 120 < n {
        Fate::Distress {
            start: rng.random_range(lo..n - 120),
        }
    } else if u > 1.0 - ATTRITION_SHARE && lo + 75 < n {
        Fate::Attrition {
            start: rng.random_range(lo..n - 75),
        }
    } else {
        Fate::Healthy
    }
}

fn render_customer(world: &World, index: u64, chunk: &mut Chunk) {
    let mut rng = customer_rng(world.seed, index);
    let mut dirt = dirt_rng(world.seed, index);
    let ck = rows::customer_digits(index, world.key_width);
    let person = people::draw_person(&mut rng, &world.net, world.cal.start, world.end);
    let fate = draw_fate(&mut rng, &world.cal, &person);
    let branch = world.net.branch_of(person.city, person.district);

    for rows in [
        &mut chunk.accounts,
        &mut chunk.transactions,
        &mut chunk.holdings,
        &mut chunk.loans,
        &mut chunk.cards,
        &mut chunk.card_statements,
        &mut chunk.standing_orders,
        &mut chunk.interactions,
        &mut chunk.cases,
        &mut chunk.survey_responses,
        &mut chunk.consents,
    ] {
        rows.vary(dirt.random());
    }
    let (accounts_from, accounts_before) = (chunk.accounts.byte_len(), chunk.accounts.count);
    let (txns_from, txns_before) = (chunk.transactions.byte_len(), chunk.transactions.count);

    let facts = ledger::simulate(
        world,
        &mut rng,
        &ck,
        &branch.code,
        &person,
        fate,
        LedgerTables {
            accounts: &mut chunk.accounts,
            transactions: &mut chunk.transactions,
            holdings: &mut chunk.holdings,
            loans: &mut chunk.loans,
            cards: &mut chunk.cards,
            card_statements: &mut chunk.card_statements,
            standing_orders: &mut chunk.standing_orders,
        },
    );
    service::render(
        world,
        &mut rng,
        &ck,
        &person,
        fate,
        &facts,
        ServiceTables {
            interactions: &mut chunk.interactions,
            cases: &mut chunk.cases,
            survey_responses: &mut chunk.survey_responses,
            consents: &mut chunk.consents,
        },
    );

    // The customer's row, spelled as the core system's extract spells it.
    let schedule = &world.schedule;
    let namesake = dirt::slot(index, schedule.namesakes, dirt::NAMESAKE_EVERY).is_some();
    let face = dirt::draw_face(&mut dirt, &person, index, namesake);
    let key = format!("C{ck}");
    let row = dirt::CustomerRow {
        key: &key,
        person: &person,
        face: &face,
        city: CITIES[person.city].name,
        branch: &branch.code,
    };
    let row_index = chunk.customers.count;
    let id_at = dirt::write_customer(&mut chunk.customers, &row);
    chunk.reformatted_customers += u64::from(face.varied);
    for (field, reason) in face.flags() {
        chunk.flagged += 1;
        chunk.planted.push(Planted {
            kind: Kind::Customers,
            row: row_index,
            key: key.clone(),
            field,
            reason,
            quarantine: false,
        });
    }
    let mut site = face
        .id_valid
        .then(|| IdSite::new(IdTable::Customers, id_at, IdStyle::Plain));
    if let Some(ordinal) = dirt::slot(index, schedule.customers, dirt::CUSTOMER_BAD_ROW_EVERY) {
        let (at, planted) = dirt::write_bad_customer(
            &mut chunk.customers,
            &mut dirt,
            ordinal,
            &row,
            world.cal.start,
        );
        if let Some(s) = site.as_mut() {
            s.add(IdTable::Customers, at, IdStyle::Plain);
        }
        chunk.planted.push(planted);
    }

    // Bad account and transaction rows, after the customer's own.
    let account_slot = dirt::slot(index, schedule.accounts, dirt::ACCOUNT_BAD_ROW_EVERY);
    let txn_slot = dirt::slot(index, schedule.transactions, dirt::TXN_BAD_ROW_EVERY);
    if account_slot.is_some() || txn_slot.is_some() {
        let accounts = dirt::first_and_last_line(&chunk.accounts.buf, accounts_from);
        let txns = dirt::first_and_last_line(&chunk.transactions.buf, txns_from);
        let tail = LedgerTail {
            ck: &ck,
            branch: &branch.code,
            first_account: accounts.map(|l| dirt::split_line(l.0)).unwrap_or_default(),
            last_txn: txns.map(|l| dirt::split_line(l.1)),
            accounts: chunk.accounts.count - accounts_before,
            transactions: chunk.transactions.count - txns_before,
            day: world.cal.days[dirt.random_range(0..world.cal.len())].date,
        };
        if let Some(ordinal) = account_slot.filter(|_| tail.accounts > 0) {
            let p = dirt::write_bad_account(&mut chunk.accounts, &mut dirt, ordinal, &tail);
            chunk.planted.push(p);
        }
        if let Some(ordinal) = txn_slot.filter(|_| tail.accounts > 0) {
            let p = dirt::write_bad_txn(&mut chunk.transactions, &mut dirt, ordinal, &tail);
            chunk.planted.push(p);
            chunk.quarantined_txns += 1;
        }
    }

    match fate {
        Fate::Distress { start } => {
            chunk.distressed += 1;
            chunk
                .ground_truth
                .row()
                .key("C", &ck, None)
                .text("distress")
                .date(&world.cal.days[start].iso)
                .end();
        }
        Fate::Attrition { start } => {
            chunk.churned += 1;
            chunk
                .ground_truth
                .row()
                .key("C", &ck, None)
                .text("attrition")
                .date(&world.cal.days[start].iso)
                .end();
        }
        Fate::Healthy => {}
    }

    // The CRM: what it knows of this customer, and perhaps a prospect.
    let link = if namesake {
        Some(Link::Namesake)
    } else if dirt.random_bool(crm::KNOWN_SHARE) {
        let by_id = dirt.random_bool(crm::BY_ID_SHARE);
        match (by_id, face.id_valid, face.phone_valid) {
            (true, true, _) | (false, true, false) => Some(Link::SameId),
            (_, _, true) => Some(if dirt.random_bool(0.5) {
                Link::SamePhoneNameAndBirthDate
            } else {
                Link::SamePhoneAndName
            }),
            _ => None,
        }
    } else {
        None
    };
    let mut crm_tables = CrmTables {
        customers: &mut chunk.crm_customers,
        consents: &mut chunk.crm_consents,
        interactions: &mut chunk.crm_interactions,
        expected: &mut chunk.crm_expected,
    };
    let mut fresh = Vec::new();
    if let Some(link) = link {
        let known = Known {
            index,
            core_key: &key,
            person: &person,
            branch: &branch.code,
        };
        let (same, new) = crm::write_known(
            world,
            &world.crm_keys,
            &mut dirt,
            &known,
            link,
            &mut crm_tables,
        );
        if let (Some(s), Some((at, style))) = (site.as_mut(), same) {
            s.add(IdTable::Crm, at, style);
        }
        fresh.extend(new);
        chunk.expected_merges += u64::from(link.merges());
    }
    if dirt.random_bool(crm::PROSPECT_SHARE) {
        fresh.extend(crm::write_prospect(
            world,
            &world.crm_keys,
            &world.net,
            &mut dirt,
            index,
            &mut crm_tables,
        ));
    }
    chunk.id_sites.extend(site);
    chunk.id_sites.extend(
        fresh
            .into_iter()
            .map(|(at, style)| IdSite::new(IdTable::Crm, at, style)),
    );
    chunk.done += 1;
}

fn render_chunk(world: &World, first: u64, last: u64) -> Chunk {
    let n = last - first;
    let mut chunk = Chunk {
        transactions: Rows::with_capacity((n * 110 * 90) as usize),
        accounts: Rows::with_capacity((n * 3 * 70) as usize),
        customers: Rows::with_capacity((n * 160) as usize),
        ..Chunk::default()
    };
    for i in first..last {
        render_customer(world, i, &mut chunk);
    }
    chunk
}

/// Every valid ID number written so far (as the number of its first 17 digits).
///
/// Two people drawn independently can get the same region, birth date and
/// sequence number (about 3 in 10,000 at a million customers); the import
/// would then merge two different people. The writer, which sees chunks in
/// order, gives the later one the next free sequence number of the same
/// gender, patching every place the number is written (the core row, a bad
/// copy of it, the CRM record) in place, so the output stays deterministic
/// and the CRM keeps agreeing with the core. CRM namesakes and prospects are
/// registered too. Costs about 16 bytes per person.
#[derive(Default)]
struct IdRegister {
    seen: HashSet<u64>,
}

impl IdRegister {
    fn make_unique(&mut self, chunk: &mut Chunk) {
        for i in 0..chunk.id_sites.len() {
            let site = chunk.id_sites[i];
            let Some(first) = site.locs[0] else {
                continue;
            };
            let Some(mut number) = chunk.id_bytes(first).and_then(dirt::id_body) else {
                continue;
            };
            if self.seen.insert(number) {
                continue;
            }
            // Same region and birth date: step the 3-digit sequence by 2 (keeps the gender).
            let base = number - number % 1000;
            let mut seq = number % 1000;
            for _ in 0..500 {
                seq = (seq + 2) % 1000;
                if !self.seen.contains(&(base + seq)) {
                    break;
                }
            }
            number = base + seq;
            self.seen.insert(number);
            let body = format!("{number:017}");
            let check = ResidentId::check_char(&body).unwrap_or('0');
            let id = format!("{body}{check}");
            for loc in site.locs.iter().flatten() {
                let styled = dirt::styled_id(&id, loc.style);
                let buf = match loc.table {
                    IdTable::Customers => &mut chunk.customers.buf,
                    IdTable::Crm => &mut chunk.crm_customers.buf,
                };
                if let Some(field) = buf.get_mut(loc.at..loc.at + styled.len()) {
                    field.copy_from_slice(styled.as_bytes());
                }
            }
        }
    }
}

impl Chunk {
    /// The bytes of an ID number as spelled at `loc`.
    fn id_bytes(&self, loc: IdLoc) -> Option<&[u8]> {
        let len = match loc.style {
            IdStyle::Spaced => 20,
            IdStyle::Plain | IdStyle::Lower => 18,
        };
        let buf = match loc.table {
            IdTable::Customers => &self.customers.buf,
            IdTable::Crm => &self.crm_customers.buf,
        };
        buf.get(loc.at..loc.at + len)
    }
}

/// Hands out chunk numbers no further than `window` ahead of the last one written.
struct Gate {
    state: Mutex<GateState>,
    cv: Condvar,
    total: u64,
    window: u64,
}

struct GateState {
    next: u64,
    written: u64,
    aborted: bool,
}

impl Gate {
    fn claim(&self) -> Option<u64> {
        let mut s = self.state.lock().ok()?;
        loop {
            if s.aborted || s.next >= self.total {
                return None;
            }
            if s.next < s.written + self.window {
                s.next += 1;
                return Some(s.next - 1);
            }
            s = self.cv.wait(s).ok()?;
        }
    }

    fn set_written(&self, written: u64) {
        if let Ok(mut s) = self.state.lock() {
            s.written = written;
        }
        self.cv.notify_all();
    }

    fn abort(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.aborted = true;
        }
        self.cv.notify_all();
    }
}

/// Aborts the gate if a worker unwinds, so that the others stop waiting.
struct AbortOnPanic<'a>(&'a Gate);

impl Drop for AbortOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.abort();
        }
    }
}

struct Outputs {
    files: Vec<(Kind, PathBuf, BufWriter<File>, u64)>,
}

impl Outputs {
    fn create(dir: &Path) -> Result<Self, GenError> {
        let crm = dir.join("crm");
        std::fs::create_dir_all(&crm).map_err(|source| GenError::Io { path: crm, source })?;
        let mut files = Vec::new();
        for kind in Kind::ALL {
            let path = dir.join(format!("{}.csv", kind.name()));
            let file = File::create(&path).map_err(|source| GenError::Io {
                path: path.clone(),
                source,
            })?;
            let cap = if kind == Kind::Transactions {
                8 << 20
            } else {
                1 << 20
            };
            let mut w = BufWriter::with_capacity(cap, file);
            writeln!(w, "{}", kind.header()).map_err(|source| GenError::Io {
                path: path.clone(),
                source,
            })?;
            files.push((kind, path, w, 0));
        }
        Ok(Outputs { files })
    }

    fn write(&mut self, kind: Kind, rows: &Rows) -> Result<(), GenError> {
        if let Some((_, path, w, count)) = self.files.iter_mut().find(|f| f.0 == kind) {
            w.write_all(&rows.buf).map_err(|source| GenError::Io {
                path: path.clone(),
                source,
            })?;
            *count += rows.count;
        }
        Ok(())
    }

    /// Data rows written so far to the file of `kind`.
    fn count(&self, kind: Kind) -> u64 {
        self.files.iter().find(|f| f.0 == kind).map_or(0, |f| f.3)
    }

    /// Writes a chunk, and the lines of `planted_dirt.csv` for what it planted
    /// (every generated row is one physical line, the header line 1).
    fn write_chunk(&mut self, chunk: &Chunk) -> Result<(), GenError> {
        let mut manifest = Rows::default();
        for p in &chunk.planted {
            let line = 2 + self.count(p.kind) + p.row;
            manifest
                .styled(rows::Style::Plain)
                .raw(p.kind.name())
                .int(line as i64)
                .raw(&p.key)
                .raw(p.field)
                .raw(p.reason)
                .raw(if p.quarantine { "quarantine" } else { "flag" })
                .end();
        }
        for kind in Kind::ALL {
            if let Some(rows) = chunk.rows(kind) {
                self.write(kind, rows)?;
            }
        }
        self.write(Kind::PlantedDirt, &manifest)
    }

    fn finish(self) -> Result<Vec<(String, PathBuf, u64)>, GenError> {
        let mut out = Vec::new();
        for (kind, path, mut w, count) in self.files {
            w.flush().map_err(|source| GenError::Io {
                path: path.clone(),
                source,
            })?;
            out.push((kind.name().to_string(), path, count));
        }
        Ok(out)
    }
}

fn validate(cfg: &GenConfig) -> Result<(), GenError> {
    if cfg.end <= cfg.start {
        return Err(GenError::Config(format!(
            "end {} must be after start {}",
            cfg.end, cfg.start
        )));
    }
    if offset(cfg.start, cfg.end) > 366 * 30 {
        return Err(GenError::Config(
            "the window may span at most 30 years".into(),
        ));
    }
    if cfg.start < NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(cfg.start) {
        return Err(GenError::Config(format!(
            "start {} is before 1990",
            cfg.start
        )));
    }
    Ok(())
}

impl World {
    fn new(cfg: &GenConfig) -> Self {
        let cal = Calendar::new(cfg.start, cfg.end);
        let mix = ledger::mean_mix(&cal);
        let mean_intensity = cal.mean_intensity();
        World {
            mix,
            mean_intensity,
            spend_rate: SPEND_PER_DAY / mean_intensity,
            net: BranchNetwork::new(),
            seed: cfg.seed,
            schedule: Schedule::new(cfg.seed),
            crm_keys: CrmKeys::new(cfg.seed, cfg.customers),
            key_width: cfg.customers.max(1).to_string().len().max(7),
            end: cfg.end,
            cal,
        }
    }
}

/// Generates the synthetic bank into `out_dir` (which must exist), calling
/// `progress` with the number of customers written after every chunk.
pub fn generate(
    cfg: &GenConfig,
    out_dir: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<GenSummary, GenError> {
    validate(cfg)?;
    let t0 = Instant::now();
    let world = World::new(cfg);
    let mut out = Outputs::create(out_dir)?;

    let mut bank = Rows::default();
    catalog::write_branches(&world.net, &mut bank);
    out.write(Kind::Branches, &bank)?;
    bank.clear();
    catalog::write_products(&mut bank);
    out.write(Kind::Products, &bank)?;
    bank.clear();
    let mut staff_rng = customer_rng(cfg.seed, BANK_STREAM);
    catalog::write_staff(&mut staff_rng, &world.net, &mut bank);
    out.write(Kind::StaffUsers, &bank)?;

    let total_chunks = cfg.customers.div_ceil(CHUNK_CUSTOMERS);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(2)
        .clamp(1, total_chunks.max(1));
    let gate = Gate {
        state: Mutex::new(GateState {
            next: 0,
            written: 0,
            aborted: false,
        }),
        cv: Condvar::new(),
        total: total_chunks,
        window: threads * 2 + 1,
    };
    let (mut transactions, mut distressed, mut churned, mut done) = (0u64, 0u64, 0u64, 0u64);
    let (mut flagged_fields, mut quarantine_rows, mut reformatted_rows, mut expected_merges) =
        (0u64, 0u64, 0u64, 0u64);
    let mut written = 0u64;
    let mut failure: Option<GenError> = None;

    let workers_ok = std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<(u64, Chunk)>(threads as usize * 2);
        let mut handles = Vec::new();
        for _ in 0..threads {
            let tx = tx.clone();
            let (gate, world) = (&gate, &world);
            handles.push(s.spawn(move || {
                let _guard = AbortOnPanic(gate);
                while let Some(c) = gate.claim() {
                    let first = c * CHUNK_CUSTOMERS;
                    let last = (first + CHUNK_CUSTOMERS).min(cfg.customers);
                    if tx.send((c, render_chunk(world, first, last))).is_err() {
                        break;
                    }
                }
            }));
        }
        drop(tx);
        let mut pending: BTreeMap<u64, Chunk> = BTreeMap::new();
        let mut ids = IdRegister::default();
        for (c, chunk) in rx.iter() {
            pending.insert(c, chunk);
            while let Some(mut chunk) = pending.remove(&written) {
                ids.make_unique(&mut chunk);
                if let Err(e) = out.write_chunk(&chunk) {
                    failure = Some(e);
                    gate.abort();
                    break;
                }
                transactions += chunk.transactions.count - chunk.quarantined_txns;
                flagged_fields += chunk.flagged;
                quarantine_rows += chunk.planted.iter().filter(|p| p.quarantine).count() as u64;
                reformatted_rows += chunk.reformatted();
                expected_merges += chunk.expected_merges;
                distressed += chunk.distressed;
                churned += chunk.churned;
                done += chunk.done;
                written += 1;
                gate.set_written(written);
                progress(done);
            }
            if failure.is_some() {
                break;
            }
        }
        drop(rx);
        handles.into_iter().all(|h| h.join().is_ok())
    });
    if let Some(e) = failure {
        return Err(e);
    }
    if !workers_ok || written < total_chunks {
        return Err(GenError::Worker);
    }
    let crm_customers = out.count(Kind::CrmCustomers);
    let files = out.finish()?;
    Ok(GenSummary {
        files,
        customers: done,
        transactions,
        distressed,
        churned,
        flagged_fields,
        quarantine_rows,
        reformatted_rows,
        crm_customers,
        expected_merges,
        elapsed_secs: t0.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_customer_stream_is_reproducible() {
        let mut a = customer_rng(7, 12);
        let mut b = customer_rng(7, 12);
        let mut c = customer_rng(7, 13);
        let (x, y, z): (u64, u64, u64) = (a.random(), b.random(), c.random());
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn a_repeated_id_number_gets_the_next_free_sequence_of_the_same_gender() {
        let birth = NaiveDate::from_ymd_opt(1985, 7, 9).unwrap_or_default();
        let id = ResidentId::compose(440305, birth, 999).as_str().to_string();
        let taken = ResidentId::compose(440305, birth, 1).as_str().to_string();
        let mut chunk = Chunk::default();
        for s in [&id, &taken, &id] {
            chunk.id_sites.push(IdSite::new(
                IdTable::Customers,
                chunk.customers.buf.len() + 2,
                IdStyle::Plain,
            ));
            chunk
                .customers
                .buf
                .extend_from_slice(format!("C,{s}\n").as_bytes());
        }
        IdRegister::default().make_unique(&mut chunk);
        let text = String::from_utf8_lossy(&chunk.customers.buf).to_string();
        let ids: Vec<&str> = text.lines().map(|l| &l[2..]).collect();
        assert_eq!(&ids[..2], &[id.as_str(), taken.as_str()]);
        let moved = ResidentId::parse(ids[2]);
        assert_eq!(moved.as_ref().map(|m| m.birth_date()), Ok(birth));
        assert_eq!(moved.map(|m| m.gender()), Ok(rapport_domain::Gender::Male));
        assert_eq!(&ids[2][14..17], "003", "999 → 001 (taken) → 003");
    }

    #[test]
    fn a_patched_id_number_reaches_its_crm_copies_in_their_spelling() {
        let birth = NaiveDate::from_ymd_opt(1990, 3, 4).unwrap_or_default();
        let id = ResidentId::compose(110105, birth, 998).as_str().to_string();
        let mut chunk = Chunk::default();
        // Someone else already has the number; then our customer, with a CRM copy spaced.
        chunk
            .id_sites
            .push(IdSite::new(IdTable::Customers, 0, IdStyle::Plain));
        chunk
            .customers
            .buf
            .extend_from_slice(format!("{id}\n").as_bytes());
        let core_at = chunk.customers.buf.len() + 2;
        chunk
            .customers
            .buf
            .extend_from_slice(format!("C,{id}\n").as_bytes());
        let crm_at = 4;
        let spaced = dirt::styled_id(&id, IdStyle::Spaced);
        chunk
            .crm_customers
            .buf
            .extend_from_slice(format!("CRM,{spaced},x\n").as_bytes());
        let mut site = IdSite::new(IdTable::Customers, core_at, IdStyle::Plain);
        site.add(IdTable::Crm, crm_at, IdStyle::Spaced);
        chunk.id_sites.push(site);
        IdRegister::default().make_unique(&mut chunk);
        let core = String::from_utf8_lossy(&chunk.customers.buf[core_at..core_at + 18]).to_string();
        let crm = String::from_utf8_lossy(&chunk.crm_customers.buf).to_string();
        assert_ne!(core, id);
        assert!(ResidentId::parse(&core).is_ok());
        assert_eq!(
            crm,
            format!("CRM,{},x\n", dirt::styled_id(&core, IdStyle::Spaced))
        );
    }

    #[test]
    fn a_backwards_window_is_refused() {
        let cfg = GenConfig {
            end: GenConfig::default().start,
            ..GenConfig::default()
        };
        assert!(matches!(validate(&cfg), Err(GenError::Config(_))));
    }
}
