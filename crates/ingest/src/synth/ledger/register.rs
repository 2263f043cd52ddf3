//! The rows that describe products rather than movements (accounts, loans,
//! cards, holdings, standing orders), written once the story is told so that
//! they carry final balances, closing dates and loan status.

use super::*;

impl<R: Rng> Ledger<'_, '_, R> {
    /// Accounts, loans, cards, holdings and standing orders: written once the story is told.
    pub(super) fn write_static_rows(&mut self) {
        let n = self.n();
        let last = self.last();
        let ck = self.ck;
        for a in &self.accounts {
            self.tables
                .accounts
                .row()
                .key("A", ck, Some(a.no))
                .key("C", ck, None)
                .text(a.kind.as_str())
                .date(&iso(a.opened))
                .opt_date(a.closed.map(iso).as_ref())
                .text("CNY")
                .money(a.balance)
                .opt_money(a.limit)
                .text(self.branch)
                .end();
        }
        for (i, l) in self.loans.iter().enumerate() {
            let dpd = l.unpaid.front().map(|&f| (n - 1 - f) as u32).unwrap_or(0);
            let matured = add_months(l.granted, l.months) <= last;
            let status = match (l.finished_on.is_some() || matured, dpd > 0) {
                (true, false) => LoanStatus::FinishedOk,
                (true, true) => LoanStatus::FinishedDefault,
                (false, true) => LoanStatus::RunningArrears,
                (false, false) => LoanStatus::RunningOk,
            };
            self.tables
                .loans
                .row()
                .key("L", ck, Some(i as u64 + 1))
                .key("A", ck, Some(self.accounts[l.acct].no))
                .date(&iso(l.granted))
                .money(l.principal)
                .int(i64::from(l.months))
                .money(l.payment)
                .text(status.as_str())
                .int(i64::from(dpd))
                .end();
        }
        // A debit card on the current account for most, then the credit card.
        let mut card_no = 0;
        if !self.facts.dormant || self.rng.random_bool(0.5) {
            card_no += 1;
            self.tables
                .cards
                .row()
                .key("K", ck, Some(card_no))
                .key("A", ck, Some(1))
                .key("C", ck, None)
                .text(CardType::Debit.as_str())
                .date(&iso(self.accounts[0].opened))
                .text("")
                .end();
        }
        if let Some(c) = &self.card {
            card_no += 1;
            let a = &self.accounts[c.acct];
            self.tables
                .cards
                .row()
                .key("K", ck, Some(card_no))
                .key("A", ck, Some(a.no))
                .key("C", ck, None)
                .text(c.tier.as_str())
                .date(&iso(c.issued))
                .opt_money(a.limit)
                .end();
        }
        for (i, h) in self.holdings.iter().enumerate() {
            if h.amount == 0 && h.closed == Some(h.opened) {
                continue;
            }
            self.tables
                .holdings
                .row()
                .key("H", ck, Some(i as u64 + 1))
                .key("C", ck, None)
                .text(h.product)
                .key("A", ck, Some(self.accounts[h.acct].no))
                .date(&iso(h.opened))
                .opt_date(h.closed.map(iso).as_ref())
                .opt_money((!h.product.starts_with("CC-")).then_some(h.amount))
                .end();
        }
        for (i, o) in self.orders.iter().enumerate() {
            self.tables
                .standing_orders
                .row()
                .key("S", ck, Some(i as u64 + 1))
                .key("A", ck, Some(1))
                .text(o.bank_to)
                .text(&o.account_to)
                .money(o.amount)
                .text(o.category.as_str())
                .end();
        }
    }
}
