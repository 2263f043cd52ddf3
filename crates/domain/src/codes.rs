//! Controlled vocabularies: the allowed values of coded fields.
//!
//! Every code has one canonical lower-case spelling (`as_str`) which is what
//! the store keeps and what docs/FORMATS.md lists. `parse` accepts the
//! canonical spelling plus the common aliases listed on each type, trimmed
//! and case-insensitive.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The value given does not belong to the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} {value:?}; allowed: {allowed}")]
pub struct UnknownCode {
    pub vocabulary: &'static str,
    pub value: String,
    pub allowed: &'static str,
}

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $vocab:literal, {
            $( $variant:ident => $canon:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The canonical spelling kept in the store.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $canon),+ }
            }

            /// Parses the canonical spelling or an alias (trimmed, case-insensitive).
            pub fn parse(s: &str) -> Result<Self, UnknownCode> {
                let t = s.trim();
                // ASCII input (nearly all of it): compared case-insensitively in
                // place, which is what lower-casing it first would give.
                if t.is_ascii() {
                    $(
                        if t.eq_ignore_ascii_case($canon) $(|| t.eq_ignore_ascii_case($alias))* {
                            return Ok($name::$variant);
                        }
                    )+
                }
                let t = t.to_lowercase();
                $(
                    if t == $canon $(|| t == $alias)* { return Ok($name::$variant); }
                )+
                Err(UnknownCode {
                    vocabulary: $vocab,
                    value: s.to_string(),
                    allowed: concat!($($canon, " "),+),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

code_enum!(
    /// Gender as recorded by the bank. Source systems use many codes; all map here.
    Gender, "gender", {
        Male => "m" | "male" | "man" | "1" | "男" | "mr",
        Female => "f" | "female" | "woman" | "2" | "女" | "mrs" | "ms",
    }
);

code_enum!(
    /// The kind of an account.
    AccountType, "account type", {
        Current => "current" | "checking" | "demand" | "活期",
        Savings => "savings" | "saving",
        TermDeposit => "term_deposit" | "term deposit" | "time_deposit" | "定期",
        CreditCard => "credit_card" | "credit card" | "card" | "信用卡",
        Loan => "loan" | "贷款",
        Investment => "investment" | "wealth" | "理财",
    }
);

impl AccountType {
    /// Deposit accounts hold the customer's liquid money (balance features use these).
    pub fn is_deposit(self) -> bool {
        matches!(
            self,
            AccountType::Current | AccountType::Savings | AccountType::TermDeposit
        )
    }
}

code_enum!(
    /// What a transaction was for.
    TxnCategory, "transaction category", {
        Salary => "salary" | "wage" | "payroll",
        TransferIn => "transfer_in",
        TransferOut => "transfer_out",
        CashWithdrawal => "cash_withdrawal" | "atm",
        CashDeposit => "cash_deposit",
        CardPurchase => "card_purchase" | "pos",
        LoanRepayment => "loan_repayment",
        Interest => "interest",
        Fee => "fee",
        Insurance => "insurance",
        Utilities => "utilities" | "household",
        Pension => "pension",
        Travel => "travel",
        Dining => "dining",
        Groceries => "groceries",
        Shopping => "shopping",
        Education => "education",
        Healthcare => "healthcare",
        Investment => "investment",
        Other => "other" | "",
    }
);

code_enum!(
    /// Where a transaction or interaction happened.
    Channel, "channel", {
        Branch => "branch" | "counter",
        Atm => "atm",
        Pos => "pos",
        Online => "online" | "web" | "internet",
        Mobile => "mobile" | "app",
        Phone => "phone" | "call_center",
        Wechat => "wechat",
        Batch => "batch" | "system",
        Other => "other" | "",
    }
);

code_enum!(
    /// The customer's assessed risk tolerance, C1 (conservative) to C5 (aggressive).
    RiskTolerance, "risk tolerance", {
        C1 => "c1" | "1",
        C2 => "c2" | "2",
        C3 => "c3" | "3",
        C4 => "c4" | "4",
        C5 => "c5" | "5",
    }
);

code_enum!(
    /// A customer's role on an account.
    AccountRole, "account role", {
        Owner => "owner",
        Disponent => "disponent" | "authorised" | "authorized" | "user",
    }
);

code_enum!(
    /// Where a loan stands. Berka A–D map to finished_ok, finished_default, running_ok, running_arrears.
    LoanStatus, "loan status", {
        FinishedOk => "finished_ok" | "a",
        FinishedDefault => "finished_default" | "b",
        RunningOk => "running_ok" | "c",
        RunningArrears => "running_arrears" | "d",
    }
);

impl LoanStatus {
    /// The outcome used as a label: B and D are bad.
    pub fn outcome(self) -> LoanOutcome {
        match self {
            LoanStatus::FinishedOk | LoanStatus::RunningOk => LoanOutcome::Good,
            LoanStatus::FinishedDefault | LoanStatus::RunningArrears => LoanOutcome::Bad,
        }
    }
}

code_enum!(
    /// The labelled outcome of a loan.
    LoanOutcome, "loan outcome", {
        Good => "good",
        Bad => "bad",
    }
);

code_enum!(
    /// Card product tier.
    CardType, "card type", {
        Junior => "junior",
        Classic => "classic",
        Gold => "gold",
        Platinum => "platinum",
        Debit => "debit",
        Credit => "credit",
    }
);

code_enum!(
    /// Kind of a service case.
    CaseKind, "case kind", {
        Complaint => "complaint" | "投诉",
        Inquiry => "inquiry" | "咨询",
        Request => "request" | "申请",
    }
);

code_enum!(
    /// Severity of a case.
    Severity, "severity", {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

code_enum!(
    /// Purpose a consent covers.
    ConsentPurpose, "consent purpose", {
        Service => "service",
        Marketing => "marketing",
    }
);

code_enum!(
    /// The kind of survey a response belongs to.
    SurveyKind, "survey kind", {
        Nps => "nps",
        Csat => "csat",
        Kano => "kano",
        FreeText => "free_text" | "text",
    }
);

code_enum!(
    /// A staff member's role (the security model's roles).
    StaffRole, "staff role", {
        Admin => "admin",
        Manager => "manager",
        Rm => "rm",
        Agent => "agent",
        Risk => "risk",
        Analyst => "analyst",
        Auditor => "auditor",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gender_codes_from_many_sources_unify() {
        for s in ["M", " male ", "男", "1"] {
            assert_eq!(Gender::parse(s), Ok(Gender::Male), "{s}");
        }
        for s in ["F", "Female", "女", "2"] {
            assert_eq!(Gender::parse(s), Ok(Gender::Female), "{s}");
        }
        assert!(Gender::parse("x").is_err());
    }

    #[test]
    fn every_canonical_spelling_round_trips() {
        for c in TxnCategory::ALL {
            assert_eq!(TxnCategory::parse(c.as_str()), Ok(*c));
        }
        for c in AccountType::ALL {
            assert_eq!(AccountType::parse(c.as_str()), Ok(*c));
        }
    }

    #[test]
    fn berka_loan_status_b_and_d_are_bad() {
        assert_eq!(
            LoanStatus::parse("B").map(LoanStatus::outcome),
            Ok(LoanOutcome::Bad)
        );
        assert_eq!(
            LoanStatus::parse("D").map(LoanStatus::outcome),
            Ok(LoanOutcome::Bad)
        );
        assert_eq!(
            LoanStatus::parse("A").map(LoanStatus::outcome),
            Ok(LoanOutcome::Good)
        );
        assert_eq!(
            LoanStatus::parse("C").map(LoanStatus::outcome),
            Ok(LoanOutcome::Good)
        );
    }
}
