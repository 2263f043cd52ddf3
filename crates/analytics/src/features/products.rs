//! The smaller per-customer tables: loans, cards, card statements, service
//! cases, interactions and survey answers, each folded chunk by chunk into
//! arrays indexed by dense customer (or account) number.

use super::book::CustomerIndex;
use super::txn::NO_DAY;
use crate::window::{add_months, AsOf};
use rapport_domain::{CaseKind, SurveyKind};
use rapport_store::{
    CardChunk, CardStatementChunk, CaseChunk, HoldingChunk, InteractionChunk, LoanChunk,
    SurveyResponseChunk,
};
use std::sync::Arc;

/// The latest dated value of something, ties broken by the larger source key.
#[derive(Debug, Clone)]
pub(crate) struct Latest {
    pub day: i32,
    pub value: i64,
    pub key: String,
}

impl Default for Latest {
    fn default() -> Self {
        Latest {
            day: NO_DAY,
            value: 0,
            key: String::new(),
        }
    }
}

impl Latest {
    fn offer(&mut self, day: i32, key: &str, value: i64) {
        if day > self.day || (day == self.day && key > self.key.as_str()) {
            self.day = day;
            self.value = value;
            self.key.clear();
            self.key.push_str(key);
        }
    }
    pub fn get(&self) -> Option<i64> {
        (self.day != NO_DAY).then_some(self.value)
    }
}

fn max_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.max(b)))
}

/// Per-customer (and per-account) results of the smaller tables.
pub(crate) struct SmallTableFacts {
    book: Arc<CustomerIndex>,
    w: AsOf,
    /// Sum of monthly_payment of the loans active at D (minor units), per customer.
    pub active_loan_payment: Vec<i64>,
    pub active_loans: Vec<u32>,
    /// Max days past due over loans granted before D and recent statements, per customer.
    pub max_days_past_due: Vec<Option<i64>>,
    /// Cards held, issued before D (or undated), per customer.
    pub cards_held: Vec<u32>,
    /// Largest credit limit of a card (issued before D or undated) on each account.
    pub card_limit: Vec<Option<i64>>,
    /// Latest statement (month before D) bill per account.
    pub latest_bill: Vec<Latest>,
    pub complaints_90: Vec<u32>,
    pub interactions_90: Vec<u32>,
    pub last_nps: Vec<Latest>,
    /// Amount of the product holdings open at D (minor units), per customer.
    pub holdings_open: Vec<i64>,
    /// Whether loans' `days_past_due` (a point-in-time column of the
    /// extract) may be used at D; false when D is before the extract's date.
    pub loan_arrears_visible: bool,
}

impl SmallTableFacts {
    pub fn new(book: Arc<CustomerIndex>, w: AsOf) -> Self {
        let (nc, na) = (book.customer_count(), book.account_count());
        SmallTableFacts {
            book,
            w,
            active_loan_payment: vec![0; nc],
            active_loans: vec![0; nc],
            max_days_past_due: vec![None; nc],
            cards_held: vec![0; nc],
            card_limit: vec![None; na],
            latest_bill: vec![Latest::default(); na],
            complaints_90: vec![0; nc],
            interactions_90: vec![0; nc],
            last_nps: vec![Latest::default(); nc],
            holdings_open: vec![0; nc],
            loan_arrears_visible: true,
        }
    }

    /// Loans (expected: granted before D). A loan is active at D when
    /// granted_on < D < granted_on + duration_months.
    pub fn add_loans(&mut self, c: &LoanChunk) {
        for r in 0..c.len() {
            let granted = c.granted_on[r];
            if granted >= self.w.day {
                continue;
            }
            let months = u32::try_from(c.duration_months[r]).unwrap_or(0);
            let active = add_months(granted, months).is_some_and(|end| self.w.day < end);
            let (payment, dpd) = (c.monthly_payment[r], c.days_past_due[r]);
            let owners = self.book.owners_or(c.account_id[r], c.customer_id[r]);
            owners.for_each(|i| {
                if self.loan_arrears_visible {
                    self.max_days_past_due[i] = max_opt(self.max_days_past_due[i], dpd);
                }
                if active {
                    self.active_loan_payment[i] += payment;
                    self.active_loans[i] += 1;
                }
            });
        }
    }

    /// Cards; only those issued before D (or with no issue date) count.
    pub fn add_cards(&mut self, c: &CardChunk) {
        for r in 0..c.len() {
            if c.issued_on[r].is_some_and(|d| d >= self.w.day) {
                continue;
            }
            if let Some(i) = self.book.customer_index.get(c.customer_id[r]) {
                self.cards_held[i as usize] += 1;
            }
            if let (Some(a), Some(limit)) = (
                self.book.account_index.get(c.account_id[r]),
                c.credit_limit[r],
            ) {
                let slot = &mut self.card_limit[a as usize];
                *slot = max_opt(*slot, limit);
            }
        }
    }

    /// Card statements (expected: months before D).
    pub fn add_card_statements(&mut self, c: &CardStatementChunk) {
        for r in 0..c.len() {
            let month = c.statement_month[r];
            if month >= self.w.day {
                continue;
            }
            if let Some(a) = self.book.account_index.get(c.account_id[r]) {
                self.latest_bill[a as usize].offer(month, c.source_key.get(r), c.bill_amount[r]);
            }
            if month >= self.w.d365 {
                let dpd = c.days_past_due[r];
                let owners = self.book.owners_or(c.account_id[r], c.customer_id[r]);
                owners.for_each(|i| {
                    self.max_days_past_due[i] = max_opt(self.max_days_past_due[i], dpd);
                });
            }
        }
    }

    /// Service cases (expected: opened in [D-90, D)).
    pub fn add_cases(&mut self, c: &CaseChunk) {
        let complaint: Vec<bool> = c
            .kind
            .values()
            .iter()
            .map(|v| v == CaseKind::Complaint.as_str())
            .collect();
        for r in 0..c.len() {
            let day = c.opened_on[r];
            if day < self.w.d90 || day >= self.w.day {
                continue;
            }
            let is_complaint = c
                .kind
                .codes
                .get(r)
                .and_then(|&k| complaint.get(k as usize).copied())
                .unwrap_or(false);
            if let (true, Some(i)) = (is_complaint, self.book.customer_index.get(c.customer_id[r]))
            {
                self.complaints_90[i as usize] += 1;
            }
        }
    }

    /// Interactions (expected: occurred in [D-90, D)).
    pub fn add_interactions(&mut self, c: &InteractionChunk) {
        for r in 0..c.len() {
            let day = c.occurred_on[r];
            if day < self.w.d90 || day >= self.w.day {
                continue;
            }
            if let Some(i) = self.book.customer_index.get(c.customer_id[r]) {
                self.interactions_90[i as usize] += 1;
            }
        }
    }

    /// Survey answers (expected: answered before D); keeps the latest NPS score.
    pub fn add_survey_responses(&mut self, c: &SurveyResponseChunk) {
        let nps: Vec<bool> = c
            .kind
            .values()
            .iter()
            .map(|v| v == SurveyKind::Nps.as_str())
            .collect();
        for r in 0..c.len() {
            let day = c.answered_on[r];
            let is_nps = c
                .kind
                .codes
                .get(r)
                .and_then(|&k| nps.get(k as usize).copied())
                .unwrap_or(false);
            let (Some(score), true, true) = (c.score[r], is_nps, day < self.w.day) else {
                continue;
            };
            if let Some(i) = self.book.customer_index.get(c.customer_id[r]) {
                self.last_nps[i as usize].offer(day, c.source_key.get(r), score);
            }
        }
    }

    /// Product holdings; one counts when open at D: opened before D (or
    /// undated) and not closed before D (as for accounts).
    pub fn add_holdings(&mut self, c: &HoldingChunk) {
        for r in 0..c.len() {
            let opened = c.opened_on[r].is_none_or(|o| o < self.w.day);
            let open = opened && c.closed_on[r].is_none_or(|x| x >= self.w.day);
            let (true, Some(amount)) = (open, c.amount[r]) else {
                continue;
            };
            if let Some(i) = self.book.customer_index.get(c.customer_id[r]) {
                self.holdings_open[i as usize] += amount;
            }
        }
    }
}
