//! Planted trouble and harmless look-alikes: the income of the distressed
//! falls then stops after a shock empties their buffers; leavers let activity
//! dwindle, move their money to another bank and close every account.

use super::*;

#[rustfmt::skip]
pub(super) const OTHER_BANKS: &[&str] = &[
    "招商银行", "工商银行", "建设银行", "农业银行", "中国银行", "平安银行", "兴业银行", "浦发银行", "中信银行", "微众银行", "网商银行",
];

impl<R: Rng> Ledger<'_, '_, R> {
    pub(super) fn salary_factor(&self, d: usize) -> f64 {
        if let Some((a, b)) = self.quirks.job_gap {
            if (a..b).contains(&d) {
                return 0.0;
            }
            if d >= b {
                return 1.08;
            }
        }
        match self.fate {
            Fate::Distress { .. } if d >= self.job_loss => 0.0,
            Fate::Distress { start } if d >= start => 0.55,
            Fate::Attrition { .. } if d >= self.payroll_moves => 0.0,
            _ => 1.0,
        }
    }

    pub(super) fn spend_factor(&self, d: usize) -> f64 {
        match self.fate {
            Fate::Distress { .. } if d >= self.job_loss => 0.85,
            Fate::Attrition { start } if d >= start => {
                let into = (d - start) as f64;
                (1.0 - into / 60.0).max(0.12)
            }
            _ => 1.0,
        }
    }

    /// Planted and quirky one-off events.
    pub(super) fn life_events(&mut self, d: usize) {
        if self.quirks.big_payment == Some(d) {
            let total = self.accounts[0].balance
                + self.savings.map(|s| self.accounts[s].balance).unwrap_or(0);
            let amount = round_yuan(
                (total as f64 * self.rng.random_range(0.3..0.7)) as i64,
                1_000,
            );
            if amount > 0 && self.ensure_funds(d, amount, false) {
                self.post(
                    d,
                    0,
                    -amount,
                    Channel::Branch,
                    TxnCategory::TransferOut,
                    "购房首付款",
                );
            }
        }
        if self.fate == (Fate::Distress { start: d }) {
            self.shock(d);
        }
        if self.facts.move_day == Some(d) {
            self.move_money_out(d);
        }
        if self.facts.close_day == Some(d) {
            self.close_everything(d);
        }
        // The distressed sometimes get help from family.
        if self.troubled(d) && d >= self.job_loss && self.rng.random_bool(0.01) {
            let amount = round_yuan(
                (self.person.monthly_net as f64 * self.rng.random_range(0.1..0.4)) as i64,
                100,
            );
            let cp = std::mem::take(&mut self.family);
            self.inflow(d, amount, Channel::Wechat, TxnCategory::TransferIn, &cp);
            self.family = cp;
        }
    }

    /// Distress often starts with a blow that empties the buffers: a hospital
    /// bill, a failed business, a relative in need.
    pub(super) fn shock(&mut self, d: usize) {
        let keep = (self.person.monthly_net as f64 * self.rng.random_range(0.2..0.9)) as i64;
        let liquid = self.accounts[0].balance
            + self
                .savings
                .map(|s| self.accounts[s].balance.max(0))
                .unwrap_or(0);
        let amount = round_yuan(liquid - keep, 100);
        if liquid - keep < 100_000 || !self.ensure_funds(d, amount, false) {
            return;
        }
        let (category, channel, cp) = *pick(
            self.rng,
            &[
                (TxnCategory::Healthcare, Channel::Pos, "医院住院费用"),
                (TxnCategory::TransferOut, Channel::Mobile, "亲属借款"),
                (TxnCategory::TransferOut, Channel::Branch, "经营亏损垫付"),
                (TxnCategory::TransferOut, Channel::Mobile, "民间借贷还款"),
            ],
        );
        self.post(d, 0, -amount, channel, category, cp);
    }

    pub(super) fn move_money_out(&mut self, d: usize) {
        // Pull everything liquid into the current account.
        if let Some(s) = self.savings.filter(|&s| self.is_open(s, d)) {
            let bal = self.accounts[s].balance;
            self.transfer(d, s, 0, bal, "转至活期账户", "储蓄账户转入");
        }
        let liquid_need = i64::MAX / 4;
        self.ensure_funds(d, liquid_need, true);
        // Pay off the card and stop using it.
        if let Some(c) = &mut self.card {
            c.carried = 0;
            c.pending = None;
            let acct = c.acct;
            let owed = (-self.accounts[acct].balance).max(0);
            let pay = owed.min(self.accounts[0].balance.max(0));
            if pay > 0 {
                self.post(
                    d,
                    0,
                    -pay,
                    Channel::Mobile,
                    TxnCategory::TransferOut,
                    "信用卡还款",
                );
                self.post(
                    d,
                    acct,
                    pay,
                    Channel::Mobile,
                    TxnCategory::TransferIn,
                    "本行借记卡还款",
                );
            }
        }
        let keep = self
            .loans
            .iter()
            .filter(|l| l.finished_on.is_none())
            .map(|l| l.payment)
            .sum::<i64>()
            * 2
            + yuan(self.rng.random_range(20.0..300.0));
        let amount = self.accounts[0].balance - keep;
        if amount > 0 {
            let bank = *pick(self.rng, OTHER_BANKS);
            self.post(
                d,
                0,
                -amount,
                Channel::Online,
                TxnCategory::TransferOut,
                bank,
            );
        }
    }

    pub(super) fn close_everything(&mut self, d: usize) {
        let date = self.world.cal.days[d].date;
        let bank = *pick(self.rng, OTHER_BANKS);
        // Loans are refinanced elsewhere: the new bank pays off what is left.
        for i in 0..self.loans.len() {
            if self.loans[i].finished_on.is_some() {
                continue;
            }
            let l = &self.loans[i];
            let owed = l.outstanding + l.payment * l.unpaid.len() as i64;
            self.post(d, 0, owed, Channel::Online, TxnCategory::TransferIn, bank);
            self.post(
                d,
                0,
                -owed,
                Channel::Batch,
                TxnCategory::LoanRepayment,
                "贷款提前结清",
            );
            let l = &mut self.loans[i];
            l.unpaid.clear();
            l.outstanding = 0;
            l.finished_on = Some(date);
            let acct = l.acct;
            self.accounts[acct].balance = 0;
        }
        if let Some(c) = &self.card {
            let acct = c.acct;
            let owed = (-self.accounts[acct].balance).max(0);
            if owed > 0 {
                self.post(d, 0, owed, Channel::Online, TxnCategory::TransferIn, bank);
                self.post(
                    d,
                    0,
                    -owed,
                    Channel::Mobile,
                    TxnCategory::TransferOut,
                    "信用卡还款",
                );
                self.post(
                    d,
                    acct,
                    owed,
                    Channel::Mobile,
                    TxnCategory::TransferIn,
                    "本行借记卡还款",
                );
            }
            let credit = self.accounts[acct].balance;
            if credit > 0 {
                self.post(
                    d,
                    acct,
                    -credit,
                    Channel::Mobile,
                    TxnCategory::TransferOut,
                    "溢缴款退回",
                );
                self.post(
                    d,
                    0,
                    credit,
                    Channel::Mobile,
                    TxnCategory::TransferIn,
                    "溢缴款退回",
                );
            }
        }
        for a in 1..self.accounts.len() {
            let bal = self.accounts[a].balance;
            if bal > 0 && self.accounts[a].kind != AccountType::CreditCard && self.is_open(a, d) {
                self.transfer(d, a, 0, bal, "销户转出", "销户转入");
            }
        }
        let rest = self.accounts[0].balance;
        if rest > 0 {
            self.post(d, 0, -rest, Channel::Branch, TxnCategory::TransferOut, bank);
        }
        for a in &mut self.accounts {
            if a.closed.is_none() {
                a.closed = Some(date.max(a.opened));
            }
        }
        for h in &mut self.holdings {
            if h.closed.is_none() {
                h.closed = Some(date.max(h.opened));
            }
        }
        self.closed = true;
    }
}
