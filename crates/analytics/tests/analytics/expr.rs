//! The rule expression language: grammar, SQL-like null semantics, static
//! checks with positions, and a parser that never panics on any input.

use proptest::prelude::*;
use rapport_analytics::expr::{Env, Expr, ExprError, Value, VarType, MAX_NESTING};
use std::collections::HashMap;

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Vars(HashMap<&'static str, Value>);

impl Env for Vars {
    fn get(&self, name: &str) -> Option<Value> {
        self.0.get(name).cloned()
    }
}

fn customer() -> Vars {
    Vars(HashMap::from([
        ("age_years", Value::Num(58.0)),
        ("aum", Value::Num(750_000.0)),
        ("band", Value::Str("watch".into())),
        ("tier", Value::Str("affluent".into())),
        ("credit_utilisation", Value::Null),
        ("balance_now", Value::Num(-120.5)),
        ("zero", Value::Num(0.0)),
        ("flag", Value::Bool(true)),
    ]))
}

fn known(name: &str) -> Option<VarType> {
    match name {
        "band" | "tier" => Some(VarType::Str),
        "flag" => Some(VarType::Bool),
        "age_years" | "aum" | "credit_utilisation" | "balance_now" | "zero" => Some(VarType::Num),
        _ => None,
    }
}

fn eval(src: &str) -> Result<Value, ExprError> {
    Ok(Expr::parse(src)?.eval(&customer()))
}

fn parse_error(src: &str) -> Result<ExprError, String> {
    match Expr::parse(src) {
        Ok(e) => Err(format!("{src:?} parsed as {e:?}")),
        Err(e) => Ok(e),
    }
}

fn check_error(src: &str) -> Result<ExprError, Box<dyn std::error::Error>> {
    match Expr::parse(src)?.check(&known) {
        Ok(()) => Err(format!("{src:?} passed the check").into()),
        Err(e) => Ok(e),
    }
}

#[test]
fn the_segment_example_from_the_issue_matches_an_affluent_older_customer() -> TestResult {
    let e = Expr::parse(r#"age_years >= 55 and aum >= 500000 and band != "at_risk""#)?;
    e.check(&known)?;
    assert!(e.matches(&customer()));
    assert_eq!(e.variables(), vec!["age_years", "aum", "band"]);
    assert_eq!(
        e.source(),
        r#"age_years >= 55 and aum >= 500000 and band != "at_risk""#
    );
    Ok(())
}

#[test]
fn numbers_accept_underscores_fractions_and_exponents() -> TestResult {
    assert_eq!(eval("500_000")?, Value::Num(500_000.0));
    assert_eq!(eval("0.9")?, Value::Num(0.9));
    assert_eq!(eval("1e6")?, Value::Num(1e6));
    assert_eq!(eval("2.5E-3")?, Value::Num(0.0025));
    assert_eq!(eval(".5")?, Value::Num(0.5));
    Ok(())
}

#[test]
fn arithmetic_follows_precedence_and_unary_minus() -> TestResult {
    assert_eq!(eval("1 + 2 * 3")?, Value::Num(7.0));
    assert_eq!(eval("(1 + 2) * 3")?, Value::Num(9.0));
    assert_eq!(eval("10 - 4 - 3")?, Value::Num(3.0));
    assert_eq!(eval("-2 * -3")?, Value::Num(6.0));
    assert_eq!(eval("-balance_now")?, Value::Num(120.5));
    assert_eq!(eval("8 / 2 / 2")?, Value::Num(2.0));
    Ok(())
}

#[test]
fn boolean_operators_bind_not_then_and_then_or() -> TestResult {
    assert_eq!(eval("true or false and false")?, Value::Bool(true));
    assert_eq!(eval("not false and false")?, Value::Bool(false));
    assert_eq!(eval("not (1 > 2)")?, Value::Bool(true));
    assert_eq!(eval("flag == true")?, Value::Bool(true));
    Ok(())
}

#[test]
fn strings_compare_and_unescape_quotes() -> TestResult {
    assert_eq!(eval(r#""a\"b" == "a\"b""#)?, Value::Bool(true));
    assert_eq!(eval(r#""say \"hi\"""#)?, Value::Str("say \"hi\"".into()));
    assert_eq!(eval(r#""abc" < "abd""#)?, Value::Bool(true));
    assert_eq!(eval(r#"band == "watch""#)?, Value::Bool(true));
    Ok(())
}

#[test]
fn in_and_not_in_test_list_membership() -> TestResult {
    assert_eq!(
        eval(r#"tier in ["affluent", "high_net_worth"]"#)?,
        Value::Bool(true)
    );
    assert_eq!(
        eval(r#"tier not in ["affluent", "high_net_worth"]"#)?,
        Value::Bool(false)
    );
    assert_eq!(eval(r#"band in ["healthy"]"#)?, Value::Bool(false));
    assert_eq!(eval("age_years in [57, 58, 59,]")?, Value::Bool(true));
    assert_eq!(eval("credit_utilisation in [1, 2]")?, Value::Null);
    assert_eq!(eval("credit_utilisation not in [1, 2]")?, Value::Null);
    assert_eq!(eval("1 in []")?, Value::Bool(false));
    Ok(())
}

#[test]
fn functions_abs_min_max_coalesce() -> TestResult {
    assert_eq!(eval("abs(balance_now)")?, Value::Num(120.5));
    assert_eq!(eval("min(3, age_years)")?, Value::Num(3.0));
    assert_eq!(eval("max(3, age_years)")?, Value::Num(58.0));
    assert_eq!(
        eval("coalesce(credit_utilisation, missing, 0.5)")?,
        Value::Num(0.5)
    );
    assert_eq!(eval("coalesce(credit_utilisation)")?, Value::Null);
    assert_eq!(eval("max(credit_utilisation, 1)")?, Value::Null);
    Ok(())
}

#[test]
fn a_comparison_with_null_never_matches_even_negated() -> TestResult {
    let env = customer();
    for src in [
        "credit_utilisation > 0.9",
        "credit_utilisation <= 0.9",
        "credit_utilisation != 0.9",
        "not (credit_utilisation > 0.9)",
        "unknown_variable == 1",
        "credit_utilisation > 0.9 or false",
    ] {
        let e = Expr::parse(src)?;
        assert!(!e.matches(&env), "{src} matched");
        assert_eq!(e.eval(&env), Value::Null, "{src}");
    }
    // Three-valued logic: a known answer wins over an unknown one.
    assert_eq!(
        eval("credit_utilisation > 0.9 and false")?,
        Value::Bool(false)
    );
    assert_eq!(eval("credit_utilisation > 0.9 or true")?, Value::Bool(true));
    Ok(())
}

#[test]
fn equality_with_null_tests_whether_a_value_is_missing() -> TestResult {
    assert_eq!(eval("credit_utilisation == null")?, Value::Bool(true));
    assert_eq!(eval("null == credit_utilisation")?, Value::Bool(true));
    assert_eq!(eval("credit_utilisation != null")?, Value::Bool(false));
    assert_eq!(eval("aum == null")?, Value::Bool(false));
    assert_eq!(eval("aum != null")?, Value::Bool(true));
    assert_eq!(eval("not_a_variable == null")?, Value::Bool(true));
    Ok(())
}

#[test]
fn division_by_zero_and_type_mismatches_give_null_at_runtime() -> TestResult {
    assert_eq!(eval("aum / zero")?, Value::Null);
    assert_eq!(eval("aum / 0")?, Value::Null);
    assert_eq!(eval(r#"band + 1"#)?, Value::Null);
    assert_eq!(eval(r#"band < 3"#)?, Value::Null);
    assert_eq!(eval("not aum")?, Value::Null);
    assert_eq!(eval("true < false")?, Value::Null);
    assert_eq!(eval("1e308 * 10")?, Value::Null);
    Ok(())
}

#[test]
fn variables_are_distinct_in_order_of_first_use() -> TestResult {
    let e = Expr::parse("b > 1 and a > b or c == a and coalesce(d, b) > 0")?;
    assert_eq!(e.variables(), vec!["b", "a", "c", "d"]);
    Ok(())
}

#[test]
fn evaluation_by_slots_agrees_with_evaluation_by_name() -> TestResult {
    let e = Expr::parse(r#"aum >= 500000 and band != "at_risk""#)?;
    let slots = [Value::Num(600_000.0), Value::Str("healthy".into())];
    assert_eq!(e.eval_slots(&slots), Value::Bool(true));
    assert_eq!(e.eval_slots(&slots[..1]), Value::Null);
    Ok(())
}

#[test]
fn a_keyword_where_a_value_belongs_names_column_and_expectation() -> TestResult {
    let e = parse_error("age_years >= and aum > 1")?;
    assert_eq!(e.column, 14);
    assert_eq!(e.offset, 13);
    assert_eq!(e.to_string(), "column 14: expected a value, found `and`");
    Ok(())
}

#[test]
fn the_column_counts_characters_not_bytes() -> TestResult {
    let e = parse_error(r#"band == "wätch" and"#)?;
    assert_eq!(e.offset, 20);
    assert_eq!(e.column, 20);
    assert_eq!(e.found, "the end of the expression");
    assert_eq!(e.expected, "a value");
    Ok(())
}

#[test]
fn every_parse_error_names_its_position_and_what_was_expected() -> TestResult {
    let cases: &[(&str, usize, &str)] = &[
        ("(aum > 1", 9, "`)` to close the parenthesis"),
        ("aum = 1", 5, "`==` to compare"),
        ("aum ! 1", 5, "`!=` or `not`"),
        (
            r#"band == "open"#,
            14,
            "`\"` to close the string opened at column 9",
        ),
        (r#""a\q""#, 3, "an escape"),
        ("aum > 1 1", 9, "an operator"),
        ("1 < 2 < 3", 7, "`and`, `or` or the end of the expression"),
        ("tier in \"a\"", 9, "`[` to open the list after `in`"),
        ("tier in [\"a\" \"b\"]", 14, "`,` or `]` in the list"),
        (
            "frobnicate(aum)",
            1,
            "a function (abs, min, max, coalesce, in_segment)",
        ),
        ("min(aum)", 8, "2 arguments to `min`"),
        ("abs(aum, 1)", 11, "1 argument to `abs`"),
        ("abs(aum 1)", 9, "`,` or `)` in the arguments"),
        ("1e", 3, "the digits of the exponent"),
        ("12abc", 3, "an operator or a space after the number"),
        (
            "aum # 2",
            5,
            "a value, a variable, an operator or a parenthesis",
        ),
        ("", 1, "a value"),
    ];
    for (src, column, expected) in cases {
        let e = parse_error(src)?;
        assert_eq!(e.column, *column, "{src}: {e}");
        assert!(
            e.expected.starts_with(expected) || e.expected.contains(expected),
            "{src}: expected {:?}, got {e}",
            expected
        );
        assert!(!e.found.is_empty(), "{src}");
        assert!(e
            .to_string()
            .starts_with(&format!("column {column}: expected ")));
    }
    Ok(())
}

#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_stack_overflow() -> TestResult {
    let ok = format!(
        "{}1{}",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    assert_eq!(eval(&ok)?, Value::Num(1.0));
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse_error(&deep)?;
    assert!(e.expected.contains("levels of nesting"), "{e}");
    let nots = format!("{}true", "not ".repeat(10_000));
    assert!(parse_error(&nots)?.expected.contains("levels of nesting"));
    let minus = format!("{}1", "-".repeat(10_000));
    assert!(parse_error(&minus)?.expected.contains("levels of nesting"));
    let chain = vec!["aum"; 10_000].join(" + ");
    assert!(parse_error(&chain)?.expected.contains("shorter expression"));
    Ok(())
}

#[test]
fn the_check_reports_an_unknown_variable_where_it_is_used() -> TestResult {
    let e = check_error("aum > 1 and balanec_now < 0")?;
    assert_eq!(e.column, 13);
    assert_eq!(e.found, "unknown variable `balanec_now`");
    assert!(e.expected.starts_with("a known variable"));
    Ok(())
}

#[test]
fn the_check_reports_type_mismatches_with_their_position() -> TestResult {
    let e = check_error(r#"band > 3"#)?;
    assert_eq!((e.column, e.found.as_str()), (8, "a number"));
    assert_eq!(e.expected, "a string to compare with a string");
    let e = check_error(r#"aum + band > 3"#)?;
    assert_eq!((e.column, e.found.as_str()), (7, "a string"));
    assert_eq!(e.expected, "a number on the right of `+`");
    let e = check_error("aum and flag")?;
    assert_eq!((e.column, e.found.as_str()), (1, "a number"));
    let e = check_error(r#"tier in ["mass", 3]"#)?;
    assert_eq!((e.column, e.found.as_str()), (18, "a number"));
    let e = check_error("aum * 2")?;
    assert_eq!(e.expected, "a condition (true or false)");
    let e = check_error("flag < true")?;
    assert_eq!(e.found, "booleans");
    let e = check_error(r#"coalesce(aum, "x") > 1"#)?;
    assert_eq!((e.column, e.found.as_str()), (15, "a string"));
    Ok(())
}

#[test]
fn the_check_accepts_well_typed_conditions_including_null_tests() -> TestResult {
    for src in [
        "credit_utilisation == null or credit_utilisation > 0.9",
        r#"band in ["watch", "at_risk"] and not flag"#,
        "coalesce(credit_utilisation, 0) > max(0.5, abs(balance_now) / 1000)",
        "-aum < 0",
        "null",
    ] {
        Expr::parse(src)?.check(&known)?;
    }
    assert_eq!(
        Expr::parse("aum * 2")?.check_value(&known)?,
        Some(VarType::Num)
    );
    Ok(())
}

const FRAGMENTS: &[&str] = &[
    "aum", "band", "1", "0", "1_000", "2.5", "1e3", "\"x\"", "\"", "\\", "true", "false", "null",
    "and", "or", "not", "in", "==", "!=", "<", "<=", ">", ">=", "=", "!", "+", "-", "*", "/", "(",
    ")", "[", "]", ",", "abs", "min", "max", "coalesce", "é", " ", ".", "e",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn the_parser_never_panics_on_arbitrary_text(src in "\\PC{0,80}") {
        if let Ok(e) = Expr::parse(&src) {
            let _ = e.check(&known);
            let _ = e.eval(&customer());
        } else if let Err(err) = Expr::parse(&src) {
            prop_assert!(err.offset <= src.len());
            prop_assert!(err.column >= 1 && err.column <= src.chars().count() + 1);
            prop_assert!(!err.expected.is_empty() && !err.found.is_empty());
        }
    }

    #[test]
    fn the_parser_never_panics_on_random_token_sequences(
        picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..40)
    ) {
        let src: String = picks
            .iter()
            .filter_map(|&i| FRAGMENTS.get(i))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        match Expr::parse(&src) {
            Ok(e) => {
                let _ = e.check(&known);
                let _ = e.eval(&customer());
                prop_assert_eq!(e.source(), src.as_str());
            }
            Err(err) => {
                prop_assert!(err.offset <= src.len());
                prop_assert!(!err.expected.is_empty() && !err.found.is_empty());
            }
        }
    }
}
