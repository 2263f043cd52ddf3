//! Scheduled money movements: loan instalments (and their arrears), card
//! statements and repayments, standing orders, the monthly move of spending
//! money to a wallet, sweeps into savings and investment purchases.

use super::spending::WALLETS;
use super::trouble::OTHER_BANKS;
use super::*;

impl<R: Rng> Ledger<'_, '_, R> {
    pub(super) fn buy_investment(&mut self, d: usize, h: usize) {
        let Some(inv) = self.investment else { return };
        let amount = self.holdings[h].amount;
        if self.troubled(d)
            || self.leaving(d)
            || !self.ensure_funds(d, amount + self.reserve(d), false)
        {
            self.holdings[h].amount = 0;
            self.holdings[h].closed = Some(self.holdings[h].opened);
            return;
        }
        self.post(
            d,
            0,
            -amount,
            Channel::Mobile,
            TxnCategory::Investment,
            self.holdings[h].product,
        );
        self.post(
            d,
            inv,
            amount,
            Channel::Mobile,
            TxnCategory::Investment,
            self.holdings[h].product,
        );
    }

    pub(super) fn loan_due(&mut self, d: usize, i: usize) {
        if self.loans[i].finished_on.is_some() {
            return;
        }
        self.loans[i].unpaid.push_back(d);
        if self.leaving(d) && self.facts.move_day.is_some_and(|m| d >= m) {
            // Left the bank but still repays: money comes in from the new bank.
            let short = self.loans[i].payment * self.loans[i].unpaid.len() as i64
                - self.accounts[0].balance;
            if short > 0 {
                let bank = *pick(self.rng, OTHER_BANKS);
                self.post(
                    d,
                    0,
                    round_yuan(short, 100),
                    Channel::Online,
                    TxnCategory::TransferIn,
                    bank,
                );
            }
        } else {
            let need = self.loans[i].payment * self.loans[i].unpaid.len() as i64;
            self.ensure_funds(d, need, true);
        }
        self.collect_arrears(d);
        if !self.loans[i].unpaid.is_empty() && self.facts.first_missed.is_none() {
            self.facts.first_missed = Some(d);
        }
    }

    /// Debits overdue and due instalments while the current account can pay them.
    pub(super) fn collect_arrears(&mut self, d: usize) {
        for i in 0..self.loans.len() {
            while let Some(&_due) = self.loans[i].unpaid.front() {
                let l = &self.loans[i];
                let interest = (l.outstanding as f64 * l.rate_month).round() as i64;
                let last_one = l.paid + 1 >= l.months;
                let payment = if last_one {
                    l.outstanding + interest
                } else {
                    l.payment
                };
                if self.accounts[0].balance < payment {
                    break;
                }
                let cp = match l.kind {
                    LoanKind::Mortgage => "个人住房贷款还款",
                    LoanKind::Consumer => "个人消费贷款还款",
                };
                self.post(
                    d,
                    0,
                    -payment,
                    Channel::Batch,
                    TxnCategory::LoanRepayment,
                    cp,
                );
                let l = &mut self.loans[i];
                l.unpaid.pop_front();
                l.paid += 1;
                l.outstanding -= (payment - interest).clamp(0, l.outstanding);
                let acct = l.acct;
                let outstanding = l.outstanding;
                if l.paid >= l.months {
                    let date = self.world.cal.days[d].date;
                    l.finished_on = Some(date);
                    l.outstanding = 0;
                    self.accounts[acct].closed = Some(date);
                    for h in &mut self.holdings {
                        if h.acct == acct {
                            h.closed = Some(date);
                        }
                    }
                }
                self.accounts[acct].balance =
                    -outstanding.max(0) * i64::from(self.loans[i].finished_on.is_none());
            }
        }
    }

    pub(super) fn card_statement(&mut self, d: usize) {
        let Some(mut c) = self.card.take() else {
            return;
        };
        if !self.is_open(c.acct, d) {
            self.card = Some(c);
            return;
        }
        if c.carried > 0 {
            let interest = (c.carried as f64 * 0.015).round() as i64;
            self.post(
                d,
                c.acct,
                -interest,
                Channel::Batch,
                TxnCategory::Interest,
                "信用卡循环利息",
            );
        }
        let bill = (-self.accounts[c.acct].balance).max(0);
        let min = if bill == 0 {
            0
        } else {
            (bill / 10).max(bill.min(10_000))
        };
        let date = self.world.cal.days[d].date;
        let month_first = NaiveDate::from_ymd_opt(date.year(), date.month(), 1).unwrap_or(date);
        c.pending = (bill > 0).then_some(Statement {
            month_first,
            bill,
            min,
            paid: 0,
        });
        self.card = Some(c);
    }

    pub(super) fn card_due(&mut self, d: usize) {
        let Some(mut c) = self.card.take() else {
            return;
        };
        let Some(mut st) = c.pending.take() else {
            self.card = Some(c);
            return;
        };
        let stage2 = self.troubled(d) && d >= self.job_loss;
        let wanted = if stage2 {
            if self.rng.random_bool(0.5) {
                st.min
            } else {
                0
            }
        } else if self.troubled(d) || self.quirks.revolver {
            if self.rng.random_bool(0.7) {
                st.min.max(st.bill / 4)
            } else {
                st.bill
            }
        } else {
            st.bill
        };
        if wanted > 0 {
            self.ensure_funds(d, wanted, !self.troubled(d));
        }
        let pay = wanted.min(self.accounts[0].balance.max(0));
        if pay > 0 {
            self.post(
                d,
                0,
                -pay,
                Channel::Batch,
                TxnCategory::TransferOut,
                "信用卡还款",
            );
            self.post(
                d,
                c.acct,
                pay,
                Channel::Batch,
                TxnCategory::TransferIn,
                "本行借记卡还款",
            );
        }
        st.paid = pay;
        c.carried = st.bill - pay;
        let status: i64 = if pay >= st.bill {
            c.streak = 0;
            -1
        } else if pay >= st.min {
            c.streak = 0;
            0
        } else {
            if c.streak == 0 {
                c.streak_first_due = d;
            }
            self.facts.card_first_missed.get_or_insert(d);
            c.streak += 1;
            let fee = ((st.min - pay) as f64 * 0.05).round() as i64;
            self.post(
                d,
                c.acct,
                -fee.max(100),
                Channel::Batch,
                TxnCategory::Fee,
                "信用卡违约金",
            );
            i64::from(c.streak)
        };
        let dpd = if c.streak > 0 {
            (d - c.streak_first_due) as i64 + 1
        } else {
            0
        };
        self.statement_seq += 1;
        let acct_no = self.accounts[c.acct].no;
        self.tables
            .card_statements
            .row()
            .key("B", self.ck, Some(self.statement_seq))
            .key("A", self.ck, Some(acct_no))
            .date(&iso(st.month_first))
            .money(st.bill)
            .money(st.paid)
            .int(status)
            .int(dpd)
            .end();
        self.card = Some(c);
    }

    pub(super) fn standing_order(&mut self, d: usize, i: usize) {
        if self.leaving(d) && self.facts.move_day.is_some_and(|m| d >= m) {
            return;
        }
        let amount = self.orders[i].amount;
        if !self.troubled(d) {
            self.ensure_funds(d, amount, false);
        }
        if self.accounts[0].balance >= amount {
            let o = &self.orders[i];
            let (category, cp) = (o.category, o.counterparty.clone());
            self.post(d, 0, -amount, Channel::Batch, category, &cp);
        }
    }

    /// The month's spending money leaves for a wallet, or in cash for the elderly.
    pub(super) fn top_up(&mut self, d: usize) {
        let planned = (self.monthly_topup as f64 * lognormal(self.rng, 0.2)) as i64;
        let (planned, available) = if self.troubled(d) {
            // Still spending as before while the money lasts.
            (planned, self.accounts[0].balance)
        } else if self.leaving(d) {
            (
                (planned as f64 * self.spend_factor(d)) as i64,
                self.accounts[0].balance - self.reserve(d),
            )
        } else {
            (planned, self.accounts[0].balance - self.reserve(d))
        };
        let amount = round_yuan(planned.min(available), 100);
        if amount > available || amount < 10_000 {
            return;
        }
        if self.person.occupation.income == IncomeKind::Pension && self.person.age >= 65 {
            let ch = if self.rng.random_bool(0.6) {
                Channel::Branch
            } else {
                Channel::Atm
            };
            self.post(d, 0, -amount, ch, TxnCategory::CashWithdrawal, "柜台取现");
        } else {
            let cp = *pick(self.rng, WALLETS);
            self.post(d, 0, -amount, Channel::Mobile, TxnCategory::TransferOut, cp);
        }
    }

    pub(super) fn sweep(&mut self, d: usize) {
        let Some(s) = self.savings.filter(|&s| self.is_open(s, d)) else {
            return;
        };
        if self.troubled(d) || self.leaving(d) {
            return;
        }
        let net = self.person.monthly_net;
        let keep = net * 3 / 2 + self.reserve(d);
        let excess = self.accounts[0].balance - keep;
        if excess >= (net / 2).max(100_000) {
            let amount = (excess / 10_000) * 10_000;
            self.transfer(d, 0, s, amount, "转入储蓄账户", "活期转入");
        }
    }
}
