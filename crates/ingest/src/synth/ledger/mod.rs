//! One customer's money, day by day: accounts, cards, loans, standing orders
//! and holdings, and every transaction with its running balance.
//!
//! The simulation is driven by the customer's own RNG and the shared
//! calendar. Income arrives on paydays, obligations are debited on their due
//! days, discretionary spending follows the calendar's weekly and yearly
//! rhythm. Planted fates bend that flow: distress (income falls then stops,
//! balances drain, card utilisation rises, loan instalments are missed) and
//! attrition (activity dwindles, money moves to another bank, accounts close).
//!
//! Balances are only ever changed through `post`, which writes the
//! transaction row, so every `balance_after` is the account's true running
//! balance and the final balance in accounts.csv is the last one written.

mod opening;
mod payments;
mod register;
mod spending;
mod trouble;

use super::calendar::{iso, offset, shift, Spend, N_SPEND};
use super::geo::CITIES;
use super::people::{IncomeKind, Person};
use super::rows::Rows;
use super::World;
use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use rapport_domain::{AccountType, CardType, Channel, LoanStatus, TxnCategory};
use std::collections::VecDeque;

/// What the generator planted in a customer's story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Healthy,
    /// Slides into financial distress from this window day.
    Distress {
        start: usize,
    },
    /// Starts leaving the bank on this window day.
    Attrition {
        start: usize,
    },
}

/// Harmless events that look a little like trouble (so that validation is not trivial).
#[derive(Debug, Clone, Copy, Default)]
struct Quirks {
    /// Salary pauses for a job change: [from, to).
    job_gap: Option<(usize, usize)>,
    /// A one-off large transfer out (a flat's down payment).
    big_payment: Option<usize>,
    /// Pays only part of the card bill, habitually.
    revolver: bool,
}

/// What service data and the ground truth need to know about the ledger's story.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub open_day: usize,
    /// First window day on which a loan instalment went unpaid.
    pub first_missed: Option<usize>,
    /// First due day on which the card's minimum payment was missed.
    pub card_first_missed: Option<usize>,
    /// Day all money was moved to another bank.
    pub move_day: Option<usize>,
    /// Day the accounts were closed.
    pub close_day: Option<usize>,
    pub has_investments: bool,
    pub dormant: bool,
    pub uses_app: bool,
}

/// The output tables the ledger writes to.
pub struct LedgerTables<'a> {
    pub accounts: &'a mut Rows,
    pub transactions: &'a mut Rows,
    pub holdings: &'a mut Rows,
    pub loans: &'a mut Rows,
    pub cards: &'a mut Rows,
    pub card_statements: &'a mut Rows,
    pub standing_orders: &'a mut Rows,
}

#[derive(Debug, Clone)]
struct Account {
    no: u64,
    kind: AccountType,
    opened: NaiveDate,
    closed: Option<NaiveDate>,
    balance: i64,
    limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoanKind {
    Mortgage,
    Consumer,
}

#[derive(Debug, Clone)]
struct Loan {
    acct: usize,
    kind: LoanKind,
    granted: NaiveDate,
    principal: i64,
    months: u32,
    payment: i64,
    rate_month: f64,
    outstanding: i64,
    /// Instalments paid so far (including those before the window).
    paid: u32,
    due_dom: u32,
    /// Due days of instalments not yet paid, oldest first.
    unpaid: VecDeque<usize>,
    finished_on: Option<NaiveDate>,
    disbursed_in_window: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Statement {
    month_first: NaiveDate,
    bill: i64,
    min: i64,
    paid: i64,
}

#[derive(Debug, Clone)]
struct Card {
    acct: usize,
    tier: CardType,
    issued: NaiveDate,
    stmt_dom: u32,
    pending: Option<Statement>,
    /// Unpaid part of the previous statement (charged interest at the next one).
    carried: i64,
    streak: u32,
    streak_first_due: usize,
    annual_fee: Option<i64>,
}

#[derive(Debug, Clone)]
struct StandingOrder {
    amount: i64,
    dom: u32,
    category: TxnCategory,
    counterparty: String,
    bank_to: &'static str,
    account_to: String,
}

#[derive(Debug, Clone)]
struct Holding {
    product: &'static str,
    acct: usize,
    opened: NaiveDate,
    closed: Option<NaiveDate>,
    amount: i64,
    /// Window day of the purchase transaction, when inside the window.
    bought_on: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
struct TermDeposit {
    acct: usize,
    months: u32,
    rate: f64,
}

/// Things that happen on a fixed day, sorted before the day loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Salary,
    Bonus,
    Pension,
    Allowance,
    BusinessIncome,
    Support,
    InvestmentBuy(u8),
    LoanDue(u8),
    CardStatement,
    CardDue,
    StandingOrder(u8),
    TopUp,
    Sweep,
    SavingsInterest,
    DepositMaturity(u8),
    SmsFee,
    CardAnnualFee,
}

fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn yuan(y: f64) -> i64 {
    (y * 100.0).round() as i64
}

fn round_yuan(minor: i64, unit_yuan: i64) -> i64 {
    let unit = unit_yuan * 100;
    ((minor + unit / 2) / unit).max(1) * unit
}

fn lognormal<R: Rng>(rng: &mut R, sigma: f64) -> f64 {
    // Mean one.
    LogNormal::new(-sigma * sigma / 2.0, sigma)
        .map(|d| d.sample(rng))
        .unwrap_or(1.0)
}

/// A Poisson draw by inversion (fast for the small rates used here).
pub fn poisson<R: Rng>(rng: &mut R, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    let u: f64 = rng.random();
    let mut p = (-lambda).exp();
    let mut cdf = p;
    let mut k = 0;
    while u > cdf && k < 60 {
        k += 1;
        p *= lambda / f64::from(k);
        cdf += p;
    }
    k
}

fn annuity(principal: i64, rate_month: f64, months: u32) -> i64 {
    if rate_month <= 0.0 {
        return principal / i64::from(months.max(1));
    }
    let p = principal as f64;
    (p * rate_month / (1.0 - (1.0 + rate_month).powi(-(months as i32)))).round() as i64
}

fn months_between(from: NaiveDate, to_year: i32, to_month: u32) -> i64 {
    i64::from(to_year - from.year()) * 12 + i64::from(to_month) - i64::from(from.month())
}

fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(months))
        .unwrap_or(d)
}

/// The simulation state of one customer.
struct Ledger<'w, 't, R: Rng> {
    world: &'w World,
    rng: &'t mut R,
    tables: LedgerTables<'t>,
    ck: &'t str,
    /// The customer's home branch code, which also keeps their accounts.
    branch: &'t str,
    person: &'t Person,
    fate: Fate,
    quirks: Quirks,
    accounts: Vec<Account>,
    savings: Option<usize>,
    investment: Option<usize>,
    deposits: Vec<TermDeposit>,
    loans: Vec<Loan>,
    card: Option<Card>,
    orders: Vec<StandingOrder>,
    holdings: Vec<Holding>,
    employer: String,
    family: String,
    txn_seq: u64,
    statement_seq: u64,
    lambda: f64,
    /// Multiplier on category mean amounts.
    ticket_scale: f64,
    /// Mean wallet top-up in fen (absorbs the rest of the budget).
    /// The month's spending moved out in one go after payday, in fen.
    monthly_topup: i64,
    card_share: f64,
    payday: u32,
    sms_fee: bool,
    saver: bool,
    facts: Facts,
    /// Distress: the day salary stops altogether.
    job_loss: usize,
    /// Attrition: the day payroll moves away.
    payroll_moves: usize,
    closed: bool,
}

/// Simulates one customer and writes all their ledger rows. Returns the facts service data needs.
pub fn simulate<R: Rng>(
    world: &World,
    rng: &mut R,
    ck: &str,
    branch: &str,
    person: &Person,
    fate: Fate,
    tables: LedgerTables<'_>,
) -> Facts {
    let n = world.cal.len();
    let open_day = offset(world.cal.start, person.since).clamp(0, n as i64) as usize;
    let mut l = Ledger {
        world,
        rng,
        tables,
        ck,
        branch,
        person,
        fate,
        quirks: Quirks::default(),
        accounts: Vec::new(),
        savings: None,
        investment: None,
        deposits: Vec::new(),
        loans: Vec::new(),
        card: None,
        orders: Vec::new(),
        holdings: Vec::new(),
        employer: String::new(),
        family: String::new(),
        txn_seq: 0,
        statement_seq: 0,
        lambda: 0.0,
        ticket_scale: 1.0,
        monthly_topup: 0,
        card_share: 0.5,
        payday: 15,
        sms_fee: false,
        saver: false,
        facts: Facts {
            open_day,
            ..Facts::default()
        },
        job_loss: usize::MAX,
        payroll_moves: usize::MAX,
        closed: false,
    };
    l.open_products();
    l.plan_budget();
    l.plan_fate();
    l.run();
    l.write_static_rows();
    l.facts
}

impl<R: Rng> Ledger<'_, '_, R> {
    fn n(&self) -> usize {
        self.world.cal.len()
    }

    fn start(&self) -> NaiveDate {
        self.world.cal.start
    }

    fn last(&self) -> NaiveDate {
        shift(self.start(), self.n() as i64 - 1)
    }

    fn troubled(&self, d: usize) -> bool {
        matches!(self.fate, Fate::Distress { start } if d >= start)
    }

    fn leaving(&self, d: usize) -> bool {
        matches!(self.fate, Fate::Attrition { start } if d >= start)
    }

    /// A random day between `lo` and `hi` (inclusive), both dates.
    fn date_between(&mut self, lo: NaiveDate, hi: NaiveDate) -> NaiveDate {
        let span = offset(lo, hi).max(0);
        shift(lo, self.rng.random_range(0..=span))
    }

    fn push_account(&mut self, kind: AccountType, opened: NaiveDate, balance: i64) -> usize {
        let no = self.accounts.len() as u64 + 1;
        self.accounts.push(Account {
            no,
            kind,
            opened,
            closed: None,
            balance,
            limit: None,
        });
        self.accounts.len() - 1
    }

    /// Window day of a date, or None when outside the window.
    fn day_of(&self, date: NaiveDate) -> Option<usize> {
        let o = offset(self.start(), date);
        (o >= 0 && (o as usize) < self.n()).then_some(o as usize)
    }

    /// Opening balance for an account opened on `opened`: `before` if it predates the window, else 0.
    fn opening(&self, opened: NaiveDate, before: i64) -> i64 {
        if opened < self.start() {
            before
        } else {
            0
        }
    }

    /// Posts a transaction: changes the balance and writes the row.
    fn post(
        &mut self,
        d: usize,
        acct: usize,
        amount: i64,
        channel: Channel,
        category: TxnCategory,
        counterparty: &str,
    ) {
        if amount == 0 {
            return;
        }
        let a = &mut self.accounts[acct];
        a.balance += amount;
        self.txn_seq += 1;
        self.tables
            .transactions
            .row()
            .key("T", self.ck, Some(self.txn_seq))
            .key("A", self.ck, Some(a.no))
            .date(&self.world.cal.days[d].iso)
            .money(amount)
            .money(a.balance)
            .text(channel.as_str())
            .text(category.as_str())
            .text(counterparty)
            .end();
    }

    /// Moves money between two of the customer's own accounts.
    fn transfer(
        &mut self,
        d: usize,
        from: usize,
        to: usize,
        amount: i64,
        cp_out: &str,
        cp_in: &str,
    ) {
        if amount <= 0 {
            return;
        }
        self.post(
            d,
            from,
            -amount,
            Channel::Mobile,
            TxnCategory::TransferOut,
            cp_out,
        );
        self.post(
            d,
            to,
            amount,
            Channel::Mobile,
            TxnCategory::TransferIn,
            cp_in,
        );
    }

    fn is_open(&self, acct: usize, d: usize) -> bool {
        let a = &self.accounts[acct];
        let day = offset(self.start(), a.opened);
        day <= d as i64 && a.closed.is_none_or(|c| offset(self.start(), c) > d as i64)
    }

    /// Makes sure the current account holds `need`, drawing on savings, then
    /// (when `deep`) investments and term deposits. Returns whether it does.
    fn ensure_funds(&mut self, d: usize, need: i64, deep: bool) -> bool {
        if self.accounts[0].balance >= need {
            return true;
        }
        let buffer = if self.troubled(d) {
            0
        } else {
            self.person.monthly_net / 2
        };
        if let Some(s) = self.savings.filter(|&s| self.is_open(s, d)) {
            let avail = self.accounts[s].balance;
            if avail > 0 {
                let want = round_yuan(need - self.accounts[0].balance + buffer, 100).min(avail);
                self.transfer(d, s, 0, want, "转至活期账户", "储蓄账户转入");
            }
        }
        if self.accounts[0].balance >= need || !deep {
            return self.accounts[0].balance >= need;
        }
        // Redeem investments, then break term deposits.
        if let Some(inv) = self.investment.filter(|&i| self.is_open(i, d)) {
            let date = self.world.cal.days[d].date;
            for h in 0..self.holdings.len() {
                if self.accounts[0].balance >= need {
                    break;
                }
                let hd = &self.holdings[h];
                let held = hd.acct == inv
                    && hd.closed.is_none()
                    && hd.opened <= date
                    && hd.bought_on.is_none_or(|b| b < d);
                if held {
                    let amount = hd.amount.min(self.accounts[inv].balance);
                    self.holdings[h].closed = Some(date);
                    self.post(
                        d,
                        inv,
                        -amount,
                        Channel::Mobile,
                        TxnCategory::Investment,
                        "理财赎回",
                    );
                    self.post(
                        d,
                        0,
                        amount,
                        Channel::Mobile,
                        TxnCategory::Investment,
                        "理财赎回到账",
                    );
                }
            }
        }
        for i in 0..self.deposits.len() {
            if self.accounts[0].balance >= need {
                break;
            }
            let acct = self.deposits[i].acct;
            if self.is_open(acct, d) && self.accounts[acct].balance > 0 {
                self.break_deposit(d, i);
            }
        }
        self.accounts[0].balance >= need
    }

    fn break_deposit(&mut self, d: usize, i: usize) {
        let acct = self.deposits[i].acct;
        let amount = self.accounts[acct].balance;
        self.transfer(d, acct, 0, amount, "定期提前支取", "定期提前支取");
        let date = self.world.cal.days[d].date;
        self.accounts[acct].closed = Some(date);
        for h in &mut self.holdings {
            if h.acct == acct && h.closed.is_none() {
                h.closed = Some(date);
            }
        }
    }

    /// The instalments and standing orders due in the next month, kept in reserve by healthy customers.
    fn reserve(&self, d: usize) -> i64 {
        if self.troubled(d) {
            return 0;
        }
        self.loans
            .iter()
            .filter(|l| l.finished_on.is_none())
            .map(|l| l.payment)
            .sum::<i64>()
            + self.orders.iter().map(|o| o.amount).sum::<i64>() / 2
    }

    fn schedule(&mut self) -> Vec<(usize, Event)> {
        let world = self.world;
        let cal = &world.cal;
        let n = cal.len();
        let open = self.facts.open_day;
        let mut ev: Vec<(usize, Event)> = Vec::with_capacity(128);
        let income = self.person.occupation.income;
        let dormant = self.facts.dormant;
        for m in &cal.months {
            let Some(pay) = cal
                .day_in_month(m, self.payday)
                .map(|d| cal.business_on_or_before(d))
            else {
                continue;
            };
            if !dormant {
                match income {
                    IncomeKind::Salary => ev.push((pay, Event::Salary)),
                    IncomeKind::Pension => ev.push((pay, Event::Pension)),
                    IncomeKind::Allowance => ev.push((pay, Event::Allowance)),
                    IncomeKind::Business => {
                        for _ in 0..2 {
                            let dom = self.rng.random_range(1..=m.len);
                            if let Some(d) = cal.day_in_month(m, dom) {
                                ev.push((d, Event::BusinessIncome));
                            }
                        }
                    }
                    IncomeKind::Meagre => {
                        let dom = self.rng.random_range(1..=m.len);
                        if let Some(d) = cal.day_in_month(m, dom) {
                            ev.push((d, Event::Support));
                        }
                    }
                }
                if self.monthly_topup > 0 {
                    ev.push(((pay + self.rng.random_range(1..6)).min(n - 1), Event::TopUp));
                }
                if self.saver {
                    ev.push(((pay + 6).min(n - 1), Event::Sweep));
                }
            }
            for (i, o) in self.orders.iter().enumerate() {
                if let Some(d) = cal.day_in_month(m, o.dom) {
                    ev.push((d, Event::StandingOrder(i as u8)));
                }
            }
            for (i, l) in self.loans.iter().enumerate() {
                if l.finished_on.is_some() {
                    continue;
                }
                let k = months_between(l.granted, m.year, m.month);
                if (1..=i64::from(l.months)).contains(&k) {
                    if let Some(d) = cal.day_in_month(m, l.due_dom) {
                        if k > i64::from(l.paid) {
                            ev.push((d, Event::LoanDue(i as u8)));
                        }
                    }
                }
            }
            if let Some(c) = &self.card {
                if let Some(d) = cal.day_in_month(m, c.stmt_dom) {
                    ev.push((d, Event::CardStatement));
                    if d + 20 < n {
                        ev.push((d + 20, Event::CardDue));
                    }
                }
                if let Some(fee) = c.annual_fee {
                    if m.month == c.issued.month() && fee > 0 {
                        if let Some(d) = cal.day_in_month(m, c.issued.day()) {
                            ev.push((d, Event::CardAnnualFee));
                        }
                    }
                }
            }
            if self.savings.is_some() && matches!(m.month, 3 | 6 | 9 | 12) {
                if let Some(d) = cal.day_in_month(m, 21) {
                    ev.push((d, Event::SavingsInterest));
                }
            }
            if self.sms_fee {
                if let Some(d) = cal.day_in_month(m, 25) {
                    ev.push((d, Event::SmsFee));
                }
            }
            if self.person.occupation.bonus
                && income == IncomeKind::Salary
                && !dormant
                && m.month == 1
            {
                let sf = super::calendar::spring_festival(m.year);
                let target = sf
                    .map(|s| shift(s, -10))
                    .unwrap_or_else(|| shift(cal.start, m.first + 19));
                if let Some(d) = self.day_of(target) {
                    ev.push((cal.business_on_or_before(d), Event::Bonus));
                }
            }
        }
        for (i, td) in self.deposits.iter().enumerate() {
            let opened = self.accounts[td.acct].opened;
            let mut k = 1;
            loop {
                let due = add_months(opened, td.months * k);
                if let Some(d) = self.day_of(due) {
                    ev.push((d, Event::DepositMaturity(i as u8)));
                } else if due >= cal.start {
                    break;
                }
                k += 1;
                if k > 400 {
                    break;
                }
            }
        }
        for (i, h) in self.holdings.iter().enumerate() {
            if let Some(d) = h.bought_on {
                if self.investment == Some(h.acct) {
                    ev.push((d, Event::InvestmentBuy(i as u8)));
                }
            }
        }
        ev.retain(|(d, _)| *d >= open);
        ev.sort_unstable();
        ev
    }

    fn run(&mut self) {
        let n = self.n();
        let open = self.facts.open_day;
        if open >= n {
            return;
        }
        let events = self.schedule();
        let mut next = 0;
        // Money arriving with accounts opened inside the window.
        let cur_opened = self.day_of(self.accounts[0].opened);
        for d in open..n {
            if self.closed {
                break;
            }
            if Some(d) == cur_opened {
                let amount = round_yuan(self.person.monthly_net.max(100_000), 100);
                self.post(
                    d,
                    0,
                    amount,
                    Channel::Branch,
                    TxnCategory::CashDeposit,
                    "开户存入",
                );
            }
            self.open_in_window(d);
            while next < events.len() && events[next].0 == d {
                let e = events[next].1;
                next += 1;
                self.handle(d, e);
            }
            self.life_events(d);
            if self.closed {
                break;
            }
            self.spend_day(d);
        }
    }

    /// Term deposits and consumer loans that start inside the window.
    fn open_in_window(&mut self, d: usize) {
        for i in 0..self.deposits.len() {
            let acct = self.deposits[i].acct;
            if self.day_of(self.accounts[acct].opened) == Some(d)
                && self.accounts[acct].closed.is_none()
            {
                let amount = self
                    .holdings
                    .iter()
                    .find(|h| h.acct == acct)
                    .map(|h| h.amount)
                    .unwrap_or(0);
                if self.ensure_funds(d, amount, false) {
                    self.transfer(d, 0, acct, amount, "存入定期", "定期存款开户");
                } else {
                    // Not enough money after all: the deposit was never opened.
                    self.accounts[acct].closed = Some(self.accounts[acct].opened);
                    for h in &mut self.holdings {
                        if h.acct == acct {
                            h.closed = h.closed.or(Some(h.opened));
                            h.amount = 0;
                        }
                    }
                }
            }
        }
        for i in 0..self.loans.len() {
            if self.loans[i].disbursed_in_window == Some(d) {
                let (acct, amount) = (self.loans[i].acct, self.loans[i].principal);
                self.post(
                    d,
                    0,
                    amount,
                    Channel::Batch,
                    TxnCategory::TransferIn,
                    "个人消费贷款放款",
                );
                self.accounts[acct].balance = -amount;
            } else if self.loans[i].disbursed_in_window.is_none()
                && self.day_of(self.loans[i].granted) == Some(d)
            {
                // A mortgage is paid to the developer; only the loan account shows it.
                let acct = self.loans[i].acct;
                self.accounts[acct].balance = -self.loans[i].principal;
            }
        }
    }

    fn inflow(&mut self, d: usize, amount: i64, channel: Channel, category: TxnCategory, cp: &str) {
        if amount <= 0 {
            return;
        }
        self.post(d, 0, amount, channel, category, cp);
        self.collect_arrears(d);
    }

    fn handle(&mut self, d: usize, e: Event) {
        let net = self.person.monthly_net;
        match e {
            Event::Salary => {
                let f = self.salary_factor(d) * self.rng.random_range(0.97..1.03);
                let amount = (net as f64 * f).round() as i64;
                let cp = std::mem::take(&mut self.employer);
                self.inflow(d, amount, Channel::Batch, TxnCategory::Salary, &cp);
                self.employer = cp;
            }
            Event::Bonus => {
                if self.salary_factor(d) >= 1.0 && self.rng.random_bool(0.75) {
                    let amount =
                        round_yuan((net as f64 * self.rng.random_range(0.8..3.0)) as i64, 100);
                    let cp = std::mem::take(&mut self.employer);
                    self.inflow(d, amount, Channel::Batch, TxnCategory::Salary, &cp);
                    self.employer = cp;
                }
            }
            Event::Pension => {
                let f = if self.leaving(d) && d >= self.payroll_moves {
                    0.0
                } else {
                    1.0
                };
                let amount = (net as f64 * f).round() as i64;
                let cp = format!("{}市社会保险基金管理中心", CITIES[self.person.city].name);
                self.inflow(d, amount, Channel::Batch, TxnCategory::Pension, &cp);
            }
            Event::Allowance => {
                let f = if self.leaving(d) && d >= self.payroll_moves {
                    0.0
                } else {
                    1.0
                };
                let amount = round_yuan((net as f64 * f) as i64, 100);
                let cp = std::mem::take(&mut self.family);
                self.inflow(
                    d,
                    if f > 0.0 { amount } else { 0 },
                    Channel::Mobile,
                    TxnCategory::TransferIn,
                    &cp,
                );
                self.family = cp;
            }
            Event::BusinessIncome => {
                let f = self
                    .salary_factor(d)
                    .max(if self.troubled(d) { 0.12 } else { 0.0 });
                let amount =
                    round_yuan((net as f64 * 0.5 * f * lognormal(self.rng, 0.5)) as i64, 1);
                if amount > 100 {
                    if self.rng.random_bool(0.3) {
                        self.inflow(
                            d,
                            amount,
                            Channel::Branch,
                            TxnCategory::CashDeposit,
                            "现金存入",
                        );
                    } else {
                        let cp = *pick(self.rng, &["经营收入", "支付宝提现", "微信提现", "货款"]);
                        self.inflow(d, amount, Channel::Mobile, TxnCategory::TransferIn, cp);
                    }
                }
            }
            Event::Support => {
                let f = if self.troubled(d) { 0.5 } else { 1.0 };
                let amount = round_yuan(
                    (net as f64 * f * self.rng.random_range(0.6..1.4)) as i64,
                    100,
                );
                let cp = std::mem::take(&mut self.family);
                self.inflow(d, amount, Channel::Wechat, TxnCategory::TransferIn, &cp);
                self.family = cp;
            }
            Event::InvestmentBuy(i) => self.buy_investment(d, usize::from(i)),
            Event::LoanDue(i) => self.loan_due(d, usize::from(i)),
            Event::CardStatement => self.card_statement(d),
            Event::CardDue => self.card_due(d),
            Event::StandingOrder(i) => self.standing_order(d, usize::from(i)),
            Event::TopUp => self.top_up(d),
            Event::Sweep => self.sweep(d),
            Event::SavingsInterest => {
                if let Some(s) = self.savings.filter(|&s| self.is_open(s, d)) {
                    let interest =
                        (self.accounts[s].balance.max(0) as f64 * 0.01 * 0.25).round() as i64;
                    self.post(
                        d,
                        s,
                        interest,
                        Channel::Batch,
                        TxnCategory::Interest,
                        "结息",
                    );
                }
            }
            Event::DepositMaturity(i) => {
                let td = self.deposits[usize::from(i)];
                if self.is_open(td.acct, d) {
                    let bal = self.accounts[td.acct].balance.max(0);
                    let interest =
                        (bal as f64 * td.rate * f64::from(td.months) / 12.0).round() as i64;
                    self.post(
                        d,
                        td.acct,
                        interest,
                        Channel::Batch,
                        TxnCategory::Interest,
                        "定期到期自动转存",
                    );
                }
            }
            Event::SmsFee => {
                if self.accounts[0].balance >= 200 && !self.leaving(d) {
                    self.post(
                        d,
                        0,
                        -200,
                        Channel::Batch,
                        TxnCategory::Fee,
                        "短信通知服务费",
                    );
                }
            }
            Event::CardAnnualFee => {
                if let Some(c) = &self.card {
                    let (acct, fee) = (c.acct, c.annual_fee.unwrap_or(0));
                    if self.is_open(acct, d) && !self.leaving(d) {
                        self.post(
                            d,
                            acct,
                            -fee,
                            Channel::Batch,
                            TxnCategory::Fee,
                            "信用卡年费",
                        );
                    }
                }
            }
        }
    }
}

/// Mean share of each spending category over the window, weighted by intensity.
pub fn mean_mix(cal: &super::calendar::Calendar) -> [f64; N_SPEND] {
    let mut mix = [0f64; N_SPEND];
    let mut total = 0.0;
    for day in &cal.days {
        let mut prev = 0f32;
        for (i, m) in mix.iter_mut().enumerate() {
            let share = f64::from(day.cumulative[i] - prev);
            prev = day.cumulative[i];
            *m += share * f64::from(day.intensity);
        }
        total += f64::from(day.intensity);
    }
    if total > 0.0 {
        for m in &mut mix {
            *m /= total;
        }
    }
    mix
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn poisson_draws_have_the_right_mean() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 200_000;
        let total: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, 0.3))).sum();
        let mean = total as f64 / f64::from(n);
        assert!((mean - 0.3).abs() < 0.01, "{mean}");
    }

    #[test]
    fn an_annuity_repays_the_principal() {
        let p = 100_000_000;
        let r = 0.04 / 12.0;
        let pay = annuity(p, r, 360);
        let mut out = p as f64;
        for _ in 0..360 {
            out = out * (1.0 + r) - pay as f64;
        }
        assert!(out.abs() < 1_000.0, "{out}");
    }
}
