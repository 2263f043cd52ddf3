//! What a customer holds when the story starts: accounts, savings, term
//! deposits, investments, a credit card, loans and standing orders sized to
//! their income, age and city; their monthly budget; and the plan of any
//! planted trouble.

use super::spending::{EDUCATION, UTILITIES};
use super::trouble::OTHER_BANKS;
use super::*;

#[rustfmt::skip]
pub(super) const COMPANY_WORDS: &[&str] = &[
    "瑞丰", "恒信", "鸿达", "华创", "中盛", "天成", "博远", "金桥", "汇通", "新锐", "嘉禾", "远航", "启明", "同创", "宏图", "德润",
];

#[rustfmt::skip]
pub(super) const INDUSTRY_WORDS: &[&str] = &[
    "科技", "贸易", "建设", "物流", "电子", "医药", "餐饮管理", "信息技术", "制造", "商贸", "文化传媒", "房地产开发",
];

#[rustfmt::skip]
pub(super) const INSURERS: &[&str] = &[
    "中国人寿", "平安人寿", "太平洋人寿", "泰康人寿", "新华保险",
];

impl<R: Rng> Ledger<'_, '_, R> {
    pub(super) fn open_products(&mut self) {
        let p = self.person;
        let since = p.since;
        let distress = matches!(self.fate, Fate::Distress { .. });
        // Products are taken up before any planted trouble starts.
        let last = match self.fate {
            Fate::Distress { start } | Fate::Attrition { start } => {
                shift(self.start(), start as i64 - 1).max(since)
            }
            Fate::Healthy => self.last(),
        };
        let net = p.monthly_net as f64;
        let rng_dormant = self.fate == Fate::Healthy && self.rng.random_bool(0.07);
        self.facts.dormant = rng_dormant;
        self.facts.uses_app =
            p.age < 70 && self.rng.random_bool(if p.age < 50 { 0.9 } else { 0.6 });

        // Current account: everybody.
        // The distress-prone live from payday to payday.
        let months_in_hand = if distress {
            self.rng.random_range(0.2..0.8)
        } else {
            self.rng.random_range(0.3..2.5)
        };
        let cur_open = self.opening(since, yuan(months_in_hand * net / 100.0).max(5_000));
        self.push_account(AccountType::Current, since, cur_open);

        // Savings: a buffer that grows with age; the distress-prone have thin ones.
        if self.rng.random_bool(0.6) {
            let opened = self.date_between(since, last.min(shift(since, 400)));
            let months = (3.0 + f64::from(p.age) / 6.0) * lognormal(self.rng, 0.9);
            let months = if distress {
                months.min(self.rng.random_range(0.5..2.5))
            } else {
                months
            };
            let bal = self.opening(opened, round_yuan((net * months) as i64, 10));
            self.savings = Some(self.push_account(AccountType::Savings, opened, bal));
            self.saver = !distress && self.rng.random_bool(0.7);
        }

        // Term deposits: mostly older, better-off customers.
        let td_p = if distress {
            0.0
        } else if p.age >= 50 {
            0.3
        } else {
            0.12
        };
        if !rng_dormant && self.rng.random_bool(td_p) {
            let (code, months, rate) = *pick(
                self.rng,
                &[
                    ("TD-3M", 3u32, 0.0115),
                    ("TD-1Y", 12, 0.0145),
                    ("TD-3Y", 36, 0.0195),
                ],
            );
            let opened = self.date_between(since, last.min(shift(since, 2_000)));
            let amount =
                round_yuan((net * 12.0 * lognormal(self.rng, 0.8)) as i64, 1_000).max(1_000_000);
            // Deposits made during the window are funded from the current account (see run()).
            let acct = self.push_account(
                AccountType::TermDeposit,
                opened,
                self.opening(opened, amount),
            );
            self.deposits.push(TermDeposit { acct, months, rate });
            self.holdings.push(Holding {
                product: code,
                acct,
                opened,
                closed: None,
                amount,
                bought_on: self.day_of(opened),
            });
        }

        // Investments (wealth management, funds, insurance, gold) for the better-off.
        let inv_p = if distress {
            0.03
        } else if p.annual_income.unwrap_or(0) > 12_000_000 || p.age >= 45 {
            0.28
        } else {
            0.1
        };
        if !rng_dormant && p.risk.is_some() && self.rng.random_bool(inv_p) {
            let tol = p.risk.map(|(t, _)| t as u8 + 1).unwrap_or(1);
            let opened = self.date_between(since, last.min(shift(since, 1_500)));
            let acct = self.push_account(AccountType::Investment, opened, 0);
            self.investment = Some(acct);
            let k = self.rng.random_range(1..=3);
            let mut total = 0;
            for _ in 0..k {
                // Nearly always within the customer's tolerance; a few mis-sold.
                let max_level = if self.rng.random_bool(0.05) {
                    (tol + 1).min(5)
                } else {
                    tol
                };
                let choices: Vec<&(&str, u8)> = crate::synth::catalog::INVESTMENTS
                    .iter()
                    .filter(|(_, r)| *r <= max_level)
                    .collect();
                let Some(&&(code, _)) = (!choices.is_empty()).then(|| pick(self.rng, &choices))
                else {
                    continue;
                };
                let bought = self.date_between(opened, last);
                let amount =
                    round_yuan((net * 6.0 * lognormal(self.rng, 0.9)) as i64, 1_000).max(1_000_000);
                let in_window = self.day_of(bought);
                if in_window.is_none() {
                    total += amount;
                }
                self.holdings.push(Holding {
                    product: code,
                    acct,
                    opened: bought,
                    closed: None,
                    amount,
                    bought_on: in_window,
                });
            }
            self.accounts[acct].balance = total;
            self.facts.has_investments = true;
        }

        // Credit card.
        let income = p.annual_income.unwrap_or(0);
        let card_p = match p.occupation.income {
            _ if rng_dormant => 0.0,
            IncomeKind::Salary | IncomeKind::Business => 0.38,
            IncomeKind::Pension => 0.12,
            IncomeKind::Allowance | IncomeKind::Meagre => 0.04,
        };
        let card_p = if distress { 0.75 } else { card_p };
        if self.rng.random_bool(card_p) {
            let tier = if income >= 30_000_000 && self.rng.random_bool(0.5) {
                CardType::Platinum
            } else if income >= 12_000_000 {
                CardType::Gold
            } else {
                CardType::Classic
            };
            let limit = match tier {
                CardType::Platinum => round_yuan(
                    (income as f64 * self.rng.random_range(0.25..0.5)) as i64,
                    1_000,
                )
                .clamp(5_000_000, 30_000_000),
                CardType::Gold => round_yuan(
                    (income as f64 * self.rng.random_range(0.2..0.4)) as i64,
                    1_000,
                )
                .clamp(2_000_000, 8_000_000),
                _ => round_yuan(
                    (income.max(3_000_000) as f64 * self.rng.random_range(0.1..0.3)) as i64,
                    1_000,
                )
                .clamp(300_000, 3_000_000),
            };
            let issued = self.date_between(since, last.min(shift(since, 900)));
            let acct = self.push_account(AccountType::CreditCard, issued, 0);
            self.accounts[acct].limit = Some(limit);
            let annual_fee = match tier {
                CardType::Platinum if self.rng.random_bool(0.3) => Some(100_000),
                CardType::Gold if self.rng.random_bool(0.3) => Some(30_000),
                _ => None,
            };
            self.card = Some(Card {
                acct,
                tier,
                issued,
                stmt_dom: self.rng.random_range(1..=28),
                pending: None,
                carried: 0,
                streak: 0,
                streak_first_due: 0,
                annual_fee,
            });
            let code = match tier {
                CardType::Platinum => "CC-PLAT",
                CardType::Gold => "CC-GOLD",
                _ => "CC-CLASSIC",
            };
            self.holdings.push(Holding {
                product: code,
                acct,
                opened: issued,
                closed: None,
                amount: 0,
                bought_on: None,
            });
        }

        // Loans: mortgages for the settled working-age, consumer loans more widely.
        let working = matches!(
            p.occupation.income,
            IncomeKind::Salary | IncomeKind::Business
        );
        let mortgage_p = if working && (26..=58).contains(&p.age) {
            match CITIES[p.city].tier {
                1 => 0.17,
                _ => 0.24,
            }
        } else {
            0.0
        };
        if !rng_dormant && self.rng.random_bool(mortgage_p) {
            let earliest = since
                .max(shift(p.birth, 25 * 365))
                .max(shift(last, -12 * 365));
            let granted = self.date_between(earliest, shift(last, -20).max(earliest));
            let rate: f64 = match granted.year() {
                ..2020 => 0.049,
                2020..2022 => 0.0465,
                2022 => 0.043,
                2023 => 0.041,
                _ => 0.0375,
            };
            let months = *pick(self.rng, &[240u32, 300, 360, 360]);
            let payment_target = net * self.rng.random_range(0.22..0.42);
            let r: f64 = rate / 12.0;
            let principal = payment_target * (1.0 - (1.0 + r).powi(-(months as i32))) / r;
            let principal = round_yuan(principal as i64, 10_000).max(10_000_000);
            self.add_loan(LoanKind::Mortgage, granted, principal, months, r);
        }
        let consumer_p = if distress {
            0.55
        } else if working && (22..=60).contains(&p.age) {
            0.1
        } else {
            0.0
        };
        if !rng_dormant && self.rng.random_bool(consumer_p) {
            let earliest = since.max(shift(last, -5 * 365));
            let granted = self.date_between(earliest, shift(last, -20).max(earliest));
            let months = *pick(self.rng, &[12u32, 24, 36, 36, 60]);
            let rate: f64 = self.rng.random_range(0.055..0.14);
            let share = if distress {
                self.rng.random_range(0.15..0.3)
            } else {
                self.rng.random_range(0.06..0.2)
            };
            let r = rate / 12.0;
            let principal = net * share * (1.0 - (1.0 + r).powi(-(months as i32))) / r;
            let principal = round_yuan(principal as i64, 1_000).clamp(1_000_000, 50_000_000);
            self.add_loan(LoanKind::Consumer, granted, principal, months, r);
        }

        // Standing orders on the current account.
        if !rng_dormant {
            self.open_standing_orders();
        }
        self.sms_fee = self.rng.random_bool(0.1);
        self.payday = *pick(self.rng, &[5u32, 10, 10, 15, 15, 20, 25, 28]);
        self.employer = self.employer_name();
        // A parent or relative who sends money: same surname, an older generation's given name.
        let given = crate::synth::people::draw_given(
            self.rng,
            rapport_domain::Gender::Male,
            p.birth.year() - 28,
        );
        self.family = format!("{}{given}", p.surname);
    }

    pub(super) fn add_loan(
        &mut self,
        kind: LoanKind,
        granted: NaiveDate,
        principal: i64,
        months: u32,
        rate_month: f64,
    ) {
        let payment = annuity(principal, rate_month, months);
        let maturity = add_months(granted, months);
        let acct = self.push_account(AccountType::Loan, granted, 0);
        // Instalments that fell due before the window were paid on time.
        let start = self.start();
        let due_dom = granted.day().min(28);
        let mut before = months_between(granted, start.year(), start.month());
        if before > 0 && start.day() <= due_dom {
            before -= 1;
        }
        let before = before.clamp(0, i64::from(months)) as u32;
        let mut outstanding = principal;
        for _ in 0..before {
            let interest = (outstanding as f64 * rate_month).round() as i64;
            outstanding -= (payment - interest).min(outstanding);
        }
        let finished_on = (before >= months).then_some(maturity);
        let disbursed_in_window = if kind == LoanKind::Consumer {
            self.day_of(granted)
        } else {
            None
        };
        self.accounts[acct].balance = if granted < start { -outstanding } else { 0 };
        if finished_on.is_some() {
            self.accounts[acct].closed = Some(maturity);
            self.accounts[acct].balance = 0;
            outstanding = 0;
        }
        self.loans.push(Loan {
            acct,
            kind,
            granted,
            principal,
            months,
            payment,
            rate_month,
            outstanding,
            paid: before,
            due_dom,
            unpaid: VecDeque::new(),
            finished_on,
            disbursed_in_window,
        });
        let code = match kind {
            LoanKind::Mortgage => "LN-MORT",
            LoanKind::Consumer => "LN-CONS",
        };
        self.holdings.push(Holding {
            product: code,
            acct,
            opened: granted,
            closed: finished_on,
            amount: principal,
            bought_on: None,
        });
    }

    pub(super) fn open_standing_orders(&mut self) {
        let p = self.person;
        let net = p.monthly_net as f64;
        let has_mortgage = self.loans.iter().any(|l| l.kind == LoanKind::Mortgage);
        let account_to = |rng: &mut R| format!("6222****{:04}", rng.random_range(0..10_000));
        if self.rng.random_bool(0.25) {
            let cp = pick(self.rng, &UTILITIES[..4]).to_string();
            let amount = round_yuan(yuan(self.rng.random_range(80.0..450.0)), 10);
            let account_to = account_to(self.rng);
            self.orders.push(StandingOrder {
                amount,
                dom: self.rng.random_range(3..=25),
                category: TxnCategory::Utilities,
                counterparty: cp,
                bank_to: "",
                account_to,
            });
        }
        if p.age < 60 && p.occupation.income != IncomeKind::Allowance && self.rng.random_bool(0.15)
        {
            let cp = pick(self.rng, INSURERS).to_string();
            let amount = round_yuan(yuan(self.rng.random_range(150.0..1_500.0)), 10);
            let account_to = account_to(self.rng);
            self.orders.push(StandingOrder {
                amount,
                dom: self.rng.random_range(1..=28),
                category: TxnCategory::Insurance,
                counterparty: cp,
                bank_to: "",
                account_to,
            });
        }
        if !has_mortgage
            && (22..=38).contains(&p.age)
            && CITIES[p.city].tier <= 2
            && p.occupation.income == IncomeKind::Salary
            && self.rng.random_bool(0.3)
        {
            let amount = round_yuan((net * self.rng.random_range(0.2..0.35)) as i64, 100);
            let bank = *pick(self.rng, OTHER_BANKS);
            let account_to = account_to(self.rng);
            self.orders.push(StandingOrder {
                amount,
                dom: *pick(self.rng, &[1u32, 1, 5, 10]),
                category: TxnCategory::TransferOut,
                counterparty: "房租".into(),
                bank_to: bank,
                account_to,
            });
        }
        if (28..=50).contains(&p.age) && self.rng.random_bool(0.08) {
            let amount = round_yuan(yuan(self.rng.random_range(500.0..2_000.0)), 100);
            let bank = *pick(self.rng, OTHER_BANKS);
            let account_to = account_to(self.rng);
            self.orders.push(StandingOrder {
                amount,
                dom: self.rng.random_range(1..=28),
                category: TxnCategory::TransferOut,
                counterparty: "父母生活费".into(),
                bank_to: bank,
                account_to,
            });
        }
        if (32..=50).contains(&p.age) && self.rng.random_bool(0.08) {
            let cp = pick(self.rng, &EDUCATION[..3]).to_string();
            let amount = round_yuan(yuan(self.rng.random_range(800.0..3_000.0)), 100);
            let account_to = account_to(self.rng);
            self.orders.push(StandingOrder {
                amount,
                dom: self.rng.random_range(1..=28),
                category: TxnCategory::Education,
                counterparty: cp,
                bank_to: "",
                account_to,
            });
        }
    }

    pub(super) fn employer_name(&mut self) -> String {
        let city = CITIES[self.person.city].name;
        match self.person.occupation.label {
            "公务员" => format!("{city}市财政局"),
            "教师" => format!(
                "{city}市第{}中学",
                ["一", "二", "三", "五", "七", "八"][self.rng.random_range(0..6)]
            ),
            "医生" | "护士" => format!("{city}市人民医院"),
            _ => format!(
                "{city}{}{}有限公司",
                pick(self.rng, COMPANY_WORDS),
                pick(self.rng, INDUSTRY_WORDS)
            ),
        }
    }

    /// Spending rate and ticket sizes so that a month's spending fits the budget.
    pub(super) fn plan_budget(&mut self) {
        let p = self.person;
        let w = self.world;
        let net = p.monthly_net as f64;
        let obligations: f64 = self
            .loans
            .iter()
            .filter(|l| l.finished_on.is_none())
            .map(|l| l.payment as f64)
            .sum::<f64>()
            + self.orders.iter().map(|o| o.amount as f64).sum::<f64>();
        // Most spend well under their income; the distress-prone spend all of it.
        let ratio = if matches!(self.fate, Fate::Distress { .. }) {
            self.rng.random_range(0.92..1.02)
        } else {
            self.rng.random_range(0.5..0.88)
        };
        let budget = (net * ratio - obligations).max(net * 0.2);

        let age_factor = match p.age {
            ..30 => 1.25,
            30..50 => 1.1,
            50..65 => 0.85,
            _ => 0.6,
        };
        let activity = if self.facts.dormant {
            0.05
        } else {
            lognormal(self.rng, 0.45) * age_factor
        };
        self.lambda = w.spend_rate * activity;

        // Purchases on the account keep realistic ticket sizes (scaled mildly by
        // budget); one monthly move to a wallet (Alipay, WeChat) or, for the
        // elderly, a cash withdrawal carries the rest of the month's spending.
        self.ticket_scale = (budget / 450_000.0).sqrt().clamp(0.35, 3.0);
        let monthly_count = self.lambda * 30.44 * w.mean_intensity;
        let direct_mean: f64 = Spend::ALL
            .iter()
            .enumerate()
            .map(|(i, s)| w.mix[i] * s.mean_yuan() * 100.0)
            .sum::<f64>()
            * self.ticket_scale;
        let direct = monthly_count * direct_mean;
        let rest = if direct > budget * 0.9 {
            self.ticket_scale *= budget * 0.9 / direct.max(1.0);
            budget * 0.1
        } else {
            budget - direct
        };
        self.monthly_topup = if self.facts.dormant || rest < 30_000.0 {
            0
        } else {
            round_yuan(rest as i64, 100)
        };
        self.card_share = if self.rng.random_bool(0.2) { 0.8 } else { 0.45 };
    }

    pub(super) fn plan_fate(&mut self) {
        let n = self.n();
        match self.fate {
            Fate::Distress { start } => {
                self.job_loss = start + self.rng.random_range(30..75);
            }
            Fate::Attrition { start } => {
                self.payroll_moves = start + self.rng.random_range(15..60);
                let mv = start + self.rng.random_range(25..75);
                self.facts.move_day = (mv < n).then_some(mv);
                let close = mv + self.rng.random_range(10..60);
                self.facts.close_day = (close < n).then_some(close);
            }
            Fate::Healthy => {
                if !self.facts.dormant && n > 120 {
                    let lo = self.facts.open_day + 30;
                    if lo + 60 < n && self.rng.random_bool(0.025) {
                        let g = self.rng.random_range(lo..n - 30);
                        self.quirks.job_gap = Some((g, g + self.rng.random_range(25..70)));
                    }
                    if lo + 30 < n && self.rng.random_bool(0.015) {
                        self.quirks.big_payment = Some(self.rng.random_range(lo..n - 10));
                    }
                }
                self.quirks.revolver = self.rng.random_bool(0.12);
            }
        }
    }
}
