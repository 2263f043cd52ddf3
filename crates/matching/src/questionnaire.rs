//! The risk-tolerance questionnaire (风险承受能力评估问卷): ten questions with
//! scored answers, the total mapped to C1–C5. The suitability rule
//! ([`crate::suitability`]) reads the tolerance it gives.
//!
//! The shape is the usual one of Chinese banks' questionnaires under the
//! investor-suitability rules (适当性管理): the customer's situation (age,
//! income, share of assets to invest, obligations), knowledge and experience
//! (years investing, products held), objectives (horizon, goal) and attitude
//! to loss (largest loss accepted, reaction to a fall). Each answer scores 1
//! (most conservative) to 5; the total (10–50) gives the tolerance:
//!
//! | total | tolerance |
//! |---|---|
//! | 10–17 | C1 conservative 保守型 |
//! | 18–25 | C2 cautious 稳健型 |
//! | 26–33 | C3 balanced 平衡型 |
//! | 34–41 | C4 growth 成长型 |
//! | 42–50 | C5 aggressive 进取型 |
//!
//! One answer decides alone: a customer who accepts no loss of principal
//! (question `loss`, option a) is C1 whatever the total — no product that
//! may lose principal suits them.
//!
//! Pure: no IO, no clock. docs/MATCHING.md describes it for staff.

use rapport_domain::RiskTolerance;
use serde::Serialize;
use std::collections::BTreeMap;

/// The version recorded with every assessment.
pub const QUESTIONNAIRE_VERSION: &str = "rapport-risk-2026";

/// One answer option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Choice {
    /// `a`, `b`, …
    pub letter: char,
    pub en: &'static str,
    pub zh: &'static str,
    pub score: i64,
}

/// One question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Question {
    pub id: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
    pub choices: &'static [Choice],
}

const fn c(letter: char, score: i64, en: &'static str, zh: &'static str) -> Choice {
    Choice {
        letter,
        en,
        zh,
        score,
    }
}

/// The questions, in the order answers are given.
pub const QUESTIONS: [Question; 10] = [
    Question {
        id: "age",
        en: "Your age",
        zh: "您的年龄",
        choices: &[
            c('a', 1, "65 or over", "65岁及以上"),
            c('b', 2, "56 to 64", "56至64岁"),
            c('c', 3, "46 to 55", "46至55岁"),
            c('d', 4, "18 to 30", "18至30岁"),
            c('e', 5, "31 to 45", "31至45岁"),
        ],
    },
    Question {
        id: "income",
        en: "Your household's annual income",
        zh: "您的家庭年收入",
        choices: &[
            c('a', 1, "under 100,000 yuan", "10万元以下"),
            c('b', 2, "100,000 to 300,000 yuan", "10万至30万元"),
            c('c', 3, "300,000 to 500,000 yuan", "30万至50万元"),
            c('d', 4, "500,000 to 1,000,000 yuan", "50万至100万元"),
            c('e', 5, "over 1,000,000 yuan", "100万元以上"),
        ],
    },
    Question {
        id: "investable_share",
        en: "The share of your financial assets you would invest",
        zh: "您计划用于投资的资产占家庭金融资产的比例",
        choices: &[
            c('a', 1, "under 10%", "10%以下"),
            c('b', 2, "10% to 25%", "10%至25%"),
            c('c', 3, "25% to 40%", "25%至40%"),
            c('d', 4, "40% to 60%", "40%至60%"),
            c('e', 5, "over 60%", "60%以上"),
        ],
    },
    Question {
        id: "experience",
        en: "Years of investing in funds, stocks or wealth products",
        zh: "您投资基金、股票或理财产品的年限",
        choices: &[
            c('a', 1, "none", "没有经验"),
            c('b', 2, "under 2 years", "2年以下"),
            c('c', 3, "2 to 5 years", "2至5年"),
            c('d', 4, "5 to 10 years", "5至10年"),
            c('e', 5, "over 10 years", "10年以上"),
        ],
    },
    Question {
        id: "products",
        en: "The riskiest products you have held",
        zh: "您持有过的风险最高的产品",
        choices: &[
            c('a', 1, "deposits only", "仅存款"),
            c(
                'b',
                2,
                "bonds, money-market funds, fixed-income wealth products",
                "债券、货币基金、固收类理财",
            ),
            c('c', 3, "mixed funds", "混合型基金"),
            c('d', 4, "stocks or equity funds", "股票或股票型基金"),
            c(
                'e',
                5,
                "futures, options or structured products",
                "期货、期权或结构性产品",
            ),
        ],
    },
    Question {
        id: "horizon",
        en: "How long you can leave the money invested",
        zh: "您的资金可投资的期限",
        choices: &[
            c('a', 1, "under 1 year", "1年以内"),
            c('b', 2, "1 to 2 years", "1至2年"),
            c('c', 3, "2 to 3 years", "2至3年"),
            c('d', 4, "3 to 5 years", "3至5年"),
            c('e', 5, "over 5 years", "5年以上"),
        ],
    },
    Question {
        id: "goal",
        en: "Your main goal",
        zh: "您的主要投资目标",
        choices: &[
            c('a', 1, "keep the principal safe", "保本保息"),
            c('b', 2, "a steady income", "稳定收益"),
            c('c', 3, "balanced growth", "稳健增长"),
            c('d', 4, "growth, accepting swings", "较高增长，可接受波动"),
            c('e', 5, "the highest return", "追求最高收益"),
        ],
    },
    Question {
        id: "loss",
        en: "The largest loss of principal you can accept",
        zh: "您能承受的最大本金损失",
        choices: &[
            c('a', 1, "no loss at all", "不能承受任何本金损失"),
            c('b', 2, "up to 5%", "5%以内"),
            c('c', 3, "5% to 15%", "5%至15%"),
            c('d', 4, "15% to 30%", "15%至30%"),
            c('e', 5, "over 30%", "30%以上"),
        ],
    },
    Question {
        id: "drawdown",
        en: "If your investment fell 20% in a month, you would",
        zh: "若您的投资一个月内下跌20%，您会",
        choices: &[
            c('a', 1, "sell everything", "全部卖出"),
            c('b', 2, "sell part", "卖出一部分"),
            c('c', 3, "hold and wait", "继续持有"),
            c('d', 4, "buy a little more", "少量加仓"),
            c('e', 5, "buy much more", "大量加仓"),
        ],
    },
    Question {
        id: "obligations",
        en: "Your debts and coming expenses",
        zh: "您的负债和近期大额支出",
        choices: &[
            c(
                'a',
                1,
                "large debts; income barely covers them",
                "负债较重，收入仅够偿还",
            ),
            c(
                'b',
                2,
                "sizeable debts or a large expense within a year",
                "负债较多或一年内有大额支出",
            ),
            c(
                'c',
                3,
                "some debts, covered by income",
                "有一定负债，收入可覆盖",
            ),
            c(
                'd',
                4,
                "small debts, some savings set aside",
                "负债较少，有一定储备",
            ),
            c('e', 5, "no debts, ample reserves", "无负债，储备充足"),
        ],
    },
];

/// The question whose first option caps the tolerance at C1.
const NO_LOSS_QUESTION: &str = "loss";

/// The lowest total of each tolerance (C1 from the minimum).
const THRESHOLDS: [(i64, RiskTolerance); 4] = [
    (42, RiskTolerance::C5),
    (34, RiskTolerance::C4),
    (26, RiskTolerance::C3),
    (18, RiskTolerance::C2),
];

/// A scored questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scored {
    pub questionnaire: &'static str,
    /// Question id → option letter, in question order.
    pub answers: BTreeMap<String, String>,
    pub score: i64,
    pub tolerance: RiskTolerance,
    /// Why: the total and its band, or the answer that capped it.
    pub reason_en: String,
    pub reason_zh: String,
}

/// Why answers are refused (the message names the question in both languages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en} / {zh}")]
pub struct AnswerError {
    pub en: String,
    pub zh: String,
}

/// The answers given as letters in question order (`a,c,b,…`; spaces,
/// commas or nothing between them; case ignored), or as `id=letter` pairs
/// (`age=d,income=c,…`) in any order.
pub fn parse_answers(text: &str) -> Result<Vec<char>, AnswerError> {
    let parts: Vec<&str> = text
        .split(|ch: char| ch == ',' || ch == ';' || ch.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    if parts.iter().any(|p| p.contains('=')) {
        let mut by_id: BTreeMap<&str, char> = BTreeMap::new();
        for p in &parts {
            let Some((id, letter)) = p.split_once('=') else {
                return Err(AnswerError {
                    en: format!("{p:?}: give every answer as question=letter"),
                    zh: format!("{p:?}：请按“题号=选项”填写每个答案"),
                });
            };
            let id = id.trim();
            let Some(q) = QUESTIONS.iter().find(|q| q.id.eq_ignore_ascii_case(id)) else {
                return Err(unknown_question(id));
            };
            let mut chars = letter.trim().chars();
            let (Some(l), None) = (chars.next(), chars.next()) else {
                return Err(bad_option(q, letter));
            };
            if by_id.insert(q.id, l.to_ascii_lowercase()).is_some() {
                return Err(AnswerError {
                    en: format!("question {} is answered twice", q.id),
                    zh: format!("第{}题（{}）重复作答", position(q.id), q.zh),
                });
            }
        }
        return Ok(QUESTIONS
            .iter()
            .map(|q| by_id.get(q.id).copied().unwrap_or(' '))
            .collect());
    }
    let letters: Vec<char> = if parts.len() == 1 {
        parts[0].chars().collect()
    } else {
        let mut out = Vec::with_capacity(parts.len());
        for p in &parts {
            let mut chars = p.chars();
            match (chars.next(), chars.next()) {
                (Some(l), None) => out.push(l),
                _ => {
                    return Err(AnswerError {
                        en: format!("{p:?} is not one option letter"),
                        zh: format!("{p:?} 不是一个选项字母"),
                    })
                }
            }
        }
        out
    };
    Ok(letters
        .into_iter()
        .map(|l| l.to_ascii_lowercase())
        .collect())
}

fn position(id: &str) -> usize {
    QUESTIONS
        .iter()
        .position(|q| q.id == id)
        .map_or(0, |i| i + 1)
}

fn unknown_question(id: &str) -> AnswerError {
    let ids = QUESTIONS
        .iter()
        .map(|q| q.id)
        .collect::<Vec<_>>()
        .join(", ");
    AnswerError {
        en: format!("{id:?} is not a question of the questionnaire ({ids})"),
        zh: format!("问卷中没有题目 {id:?}（{ids}）"),
    }
}

fn bad_option(q: &Question, given: &str) -> AnswerError {
    let letters: String = q.choices.iter().map(|c| c.letter).collect();
    AnswerError {
        en: format!(
            "question {} ({}): {given:?} is not one of the options {letters}",
            position(q.id),
            q.en
        ),
        zh: format!(
            "第{}题（{}）：{given:?} 不是选项 {letters} 之一",
            position(q.id),
            q.zh
        ),
    }
}

/// Scores one letter per question, in question order. Every question must
/// be answered with one of its options.
pub fn score(letters: &[char]) -> Result<Scored, AnswerError> {
    if letters.len() != QUESTIONS.len() {
        return Err(AnswerError {
            en: format!(
                "the questionnaire has {} questions; {} answers were given",
                QUESTIONS.len(),
                letters.len()
            ),
            zh: format!("问卷共{}题，实际作答{}题", QUESTIONS.len(), letters.len()),
        });
    }
    let mut total = 0;
    let mut answers = BTreeMap::new();
    let mut no_loss = false;
    for (q, &l) in QUESTIONS.iter().zip(letters) {
        if l == ' ' {
            return Err(AnswerError {
                en: format!("question {} ({}) is not answered", position(q.id), q.en),
                zh: format!("第{}题（{}）未作答", position(q.id), q.zh),
            });
        }
        let Some(choice) = q.choices.iter().find(|c| c.letter == l) else {
            return Err(bad_option(q, &l.to_string()));
        };
        total += choice.score;
        answers.insert(q.id.to_string(), l.to_string());
        if q.id == NO_LOSS_QUESTION && choice.score == 1 {
            no_loss = true;
        }
    }
    let by_total = THRESHOLDS
        .iter()
        .find(|(min, _)| total >= *min)
        .map_or(RiskTolerance::C1, |(_, t)| *t);
    let (tolerance, reason_en, reason_zh) = if no_loss && by_total != RiskTolerance::C1 {
        (
            RiskTolerance::C1,
            format!(
                "C1: the customer accepts no loss of principal (total {total} would give {})",
                label(by_total).0
            ),
            format!(
                "C1：客户不能承受任何本金损失（总分{total}本对应{}）",
                label(by_total).0
            ),
        )
    } else {
        let (code, en, zh) = label(by_total);
        (
            by_total,
            format!("{code} ({en}): total score {total} of 50"),
            format!("{code}（{zh}）：总分{total}分（满分50分）"),
        )
    };
    Ok(Scored {
        questionnaire: QUESTIONNAIRE_VERSION,
        answers,
        score: total,
        tolerance,
        reason_en,
        reason_zh,
    })
}

/// The code and the English and Chinese names of a tolerance.
pub fn label(t: RiskTolerance) -> (&'static str, &'static str, &'static str) {
    match t {
        RiskTolerance::C1 => ("C1", "conservative", "保守型"),
        RiskTolerance::C2 => ("C2", "cautious", "稳健型"),
        RiskTolerance::C3 => ("C3", "balanced", "平衡型"),
        RiskTolerance::C4 => ("C4", "growth", "成长型"),
        RiskTolerance::C5 => ("C5", "aggressive", "进取型"),
    }
}

/// The letters of stored answers (question id → letter) in question order,
/// for re-scoring a recorded questionnaire.
pub fn letters_of(answers: &BTreeMap<String, String>) -> Vec<char> {
    QUESTIONS
        .iter()
        .map(|q| {
            answers
                .get(q.id)
                .and_then(|l| l.chars().next())
                .unwrap_or(' ')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_question_has_five_options_scored_one_to_five() {
        for q in QUESTIONS {
            let scores: Vec<i64> = q.choices.iter().map(|c| c.score).collect();
            assert_eq!(scores, vec![1, 2, 3, 4, 5], "{}", q.id);
            let letters: String = q.choices.iter().map(|c| c.letter).collect();
            assert_eq!(letters, "abcde", "{}", q.id);
        }
    }

    #[test]
    fn the_totals_map_to_the_bands_of_the_table() {
        let cases = [
            ("aaaaaaaaaa", 10, RiskTolerance::C1),
            ("bbbbbbbbba", 19, RiskTolerance::C2), // loss=b
            ("cccccccccc", 30, RiskTolerance::C3),
            ("dddddddddd", 40, RiskTolerance::C4),
            ("eeeeeeeeee", 50, RiskTolerance::C5),
            ("bbbbbbbaaa", 17, RiskTolerance::C1),
        ];
        for (text, total, t) in cases {
            let letters = parse_answers(text).unwrap_or_default();
            let s = score(&letters);
            let Ok(s) = s else { panic!("{text}: {s:?}") };
            assert_eq!((s.score, s.tolerance), (total, t), "{text}");
        }
    }

    #[test]
    fn accepting_no_loss_caps_at_c1_whatever_the_total() {
        // loss is question 8: everything e except loss = a.
        let s = score(&parse_answers("e,e,e,e,e,e,e,a,e,e").unwrap_or_default());
        let Ok(s) = s else { panic!("{s:?}") };
        assert_eq!(s.score, 46);
        assert_eq!(s.tolerance, RiskTolerance::C1);
        assert!(s.reason_en.contains("no loss"), "{}", s.reason_en);
        assert!(s.reason_zh.contains("本金损失"), "{}", s.reason_zh);
    }

    #[test]
    fn answers_by_question_id_in_any_order_score_the_same() {
        let by_id = parse_answers(
            "obligations=c, age=d, income=c, investable_share=b, experience=c, products=d, \
             horizon=c, goal=c, loss=c, drawdown=c",
        )
        .unwrap_or_default();
        let in_order = parse_answers("d c b c d c c c c c").unwrap_or_default();
        assert_eq!(by_id, in_order);
        assert_eq!(score(&by_id).map(|s| s.score), Ok(31));
    }

    #[test]
    fn bad_answers_are_refused_naming_the_question_in_both_languages() {
        let short = score(&parse_answers("abc").unwrap_or_default());
        assert!(matches!(&short, Err(e) if e.en.contains("10 questions") && e.zh.contains("10题")));
        let bad = score(&parse_answers("aaaaaaaaaz").unwrap_or_default());
        assert!(
            matches!(&bad, Err(e) if e.en.contains("question 10") && e.zh.contains("第10题")),
            "{bad:?}"
        );
        assert!(parse_answers("age=a,age=b").is_err());
        assert!(parse_answers("colour=a").is_err());
        let missing = score(&parse_answers("age=a").unwrap_or_default());
        assert!(
            matches!(&missing, Err(e) if e.en.contains("not answered")),
            "{missing:?}"
        );
    }

    proptest! {
        #[test]
        fn any_complete_answer_sheet_scores_within_bounds_and_monotone(
            picks in proptest::collection::vec(0usize..5, 10),
            bump in 0usize..10,
        ) {
            let letters: Vec<char> = picks.iter().map(|&i| (b'a' + i as u8) as char).collect();
            let s = score(&letters).map_err(|e| TestCaseError::fail(e.en))?;
            prop_assert!((10..=50).contains(&s.score));
            prop_assert_eq!(letters_of(&s.answers), letters.clone());
            // One answer more aggressive never lowers the tolerance, unless it
            // is the no-loss answer being left (which can only raise it).
            if picks[bump] < 4 {
                let mut more = letters.clone();
                more[bump] = (b'a' + picks[bump] as u8 + 1) as char;
                let t = score(&more).map_err(|e| TestCaseError::fail(e.en))?;
                prop_assert!(
                    crate::suitability::tolerance_level(t.tolerance)
                        >= crate::suitability::tolerance_level(s.tolerance)
                );
            }
        }
    }
}
