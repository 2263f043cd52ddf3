//! The CSV row path (reader, structural checks, cleaning) never panics, and
//! always accounts for every row: read = valid + rejected. No store needed.

use proptest::prelude::*;
use rapport_ingest::{check_csv, CsvKind};

fn kind() -> impl Strategy<Value = CsvKind> {
    proptest::sample::select(CsvKind::ALL.to_vec())
}

fn check(kind: CsvKind, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    if let Ok(r) = check_csv(kind, std::io::Cursor::new(bytes), "prop.csv", "core", "86") {
        prop_assert_eq!(r.read, r.valid + r.rejected);
        prop_assert_eq!(r.by_reason.values().sum::<u64>(), r.rejected);
    }
    Ok(())
}

/// Field text that reaches the value parsers: digits, separators, dates, CJK, quotes.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,20}",
        "[-+ ,.()¥0-9]{0,12}",
        "[0-9]{2,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}",
        "[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日",
        "[a-zA-Z_@. ]{0,15}",
        "[0-9X]{17,19}",
        "\\PC{0,10}",
        Just("\"".to_string()),
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(kind in kind(), bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(kind, bytes)?;
    }

    #[test]
    fn arbitrary_bytes_under_a_valid_header_never_panic(
        kind in kind(),
        body in proptest::collection::vec(any::<u8>(), 0..800),
    ) {
        let mut bytes = kind.columns().join(",").into_bytes();
        bytes.push(b'\n');
        bytes.extend(body);
        check(kind, bytes)?;
    }

    #[test]
    fn arbitrary_field_values_never_panic(
        kind in kind(),
        rows in proptest::collection::vec(proptest::collection::vec(field(), 0..14), 0..12),
    ) {
        let mut text = kind.columns().join(",");
        for r in rows {
            text.push('\n');
            text.push_str(&r.join(","));
        }
        check(kind, text.into_bytes())?;
    }
}
