//! Part-of-name search without a scan of every customer (migration 0023).
//!
//! `customer_name_gram` holds, per customer, the grams of the lowered name:
//! the two characters starting at each position, the last position giving
//! the last character alone (triggers keep it true on every write of a
//! name). A customer's lowered name contains a text `p` exactly when:
//!
//! - `p` is one character: a gram of the name begins with it (a range of
//!   the primary key; both stores sort the column bytewise, i.e. by code
//!   point);
//! - `p` is two characters: `p` is one of its grams;
//! - `p` is longer: every bigram of `p` is one of its grams, and the name
//!   passes the `LIKE` (the grams only narrow the candidates).
//!
//! The grams are lowered by the database (`lower()`), the search text by the
//! caller; the `LIKE` the search has always used compares the same two, so
//! the candidates always include every name the `LIKE` accepts.

use crate::statement::Stmt;

/// Bigrams of a long search text looked up (first, middle and last): more
/// lookups cost more than the few extra candidates they remove, which the
/// `LIKE` rejects anyway.
const MAX_GRAMS: usize = 3;

/// The `SELECT` of the ids of the customers whose `LOWER(name)` contains
/// `lowered` (a search text already lowered, not empty); `like` is the
/// placeholder of its escaped `%…%` pattern, used on texts longer than two
/// characters.
pub(crate) fn name_part_ids(st: &mut Stmt, lowered: &str, like: &str) -> String {
    let chars: Vec<char> = lowered.chars().collect();
    match chars.len() {
        0 => "SELECT id FROM customer WHERE FALSE".to_string(),
        1 => {
            let c = chars[0];
            let from = st.param(c.to_string());
            match next_char(c) {
                Some(n) => format!(
                    "SELECT customer_id FROM customer_name_gram WHERE gram >= {from} AND gram < {}",
                    st.param(n.to_string())
                ),
                None => {
                    format!("SELECT customer_id FROM customer_name_gram WHERE gram >= {from}")
                }
            }
        }
        2 => format!(
            "SELECT customer_id FROM customer_name_gram WHERE gram = {}",
            st.param(lowered.to_string())
        ),
        n => {
            let bigrams = n - 1;
            let mut picked: Vec<String> = [0, bigrams / 2, bigrams - 1]
                .into_iter()
                .map(|i| chars[i..i + 2].iter().collect::<String>())
                .collect();
            picked.dedup();
            picked.sort();
            picked.dedup();
            picked.truncate(MAX_GRAMS);
            let mut sql = String::from("SELECT g0.customer_id FROM customer_name_gram g0 ");
            let mut cond = Vec::new();
            for (i, g) in picked.iter().enumerate() {
                let p = st.param(g.clone());
                if i == 0 {
                    cond.push(format!("g0.gram = {p}"));
                } else {
                    sql.push_str(&format!(
                        "JOIN customer_name_gram g{i} ON g{i}.gram = {p} \
                         AND g{i}.customer_id = g0.customer_id "
                    ));
                }
            }
            format!(
                "{sql}JOIN customer n ON n.id = g0.customer_id WHERE {} \
                 AND LOWER(n.name) LIKE {like} ESCAPE '\\'",
                cond.join(" AND ")
            )
        }
    }
}

/// The character after `c` in code-point order (the end of the range of
/// grams beginning with `c`), skipping the surrogates no string holds.
fn next_char(c: char) -> Option<char> {
    match c as u32 {
        0xD7FF => char::from_u32(0xE000),
        n => char::from_u32(n + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::next_char;

    #[test]
    fn the_next_character_skips_the_surrogates_and_ends_at_the_last() {
        assert_eq!(next_char('a'), Some('b'));
        assert_eq!(next_char('王'), char::from_u32('王' as u32 + 1));
        assert_eq!(next_char('\u{D7FF}'), Some('\u{E000}'));
        assert_eq!(next_char(char::MAX), None);
    }
}
