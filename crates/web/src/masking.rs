//! Masking of personal data for display: name, ID number, phone, e-mail,
//! address. Pure functions; which role sees what unmasked is decided in
//! [`crate::auth::Viewer::sees_personal_data_by_default`] and unmasking is an
//! audited action of the handlers.

/// `张三丰` → `张**`; `John Smith` → `J*** S****`.
pub fn name(s: &str) -> String {
    if s.is_ascii() {
        return s
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => format!("{f}{}", "*".repeat(c.count())),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{f}{}", "*".repeat(c.count().max(1))),
        None => String::new(),
    }
}

/// Keeps `head` leading and `tail` trailing characters, stars the rest.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(1));
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// `+8613812345678` → `+86138****5678`; `13812345678` → `138****5678`.
pub fn phone(s: &str) -> String {
    let (prefix, rest) = match s.strip_prefix("+86") {
        Some(r) => ("+86", r),
        None => ("", s),
    };
    format!("{prefix}{}", keep_ends(rest, 3, 4))
}

/// `110101199003071234` → `110***********1234`.
pub fn id_number(s: &str) -> String {
    keep_ends(s, 3, 4)
}

/// `zhang.san@example.com` → `z*********@example.com`.
pub fn email(s: &str) -> String {
    match s.split_once('@') {
        Some((user, domain)) => format!("{}@{domain}", keep_ends(user, 1, 0)),
        None => keep_ends(s, 1, 0),
    }
}

/// A birth date shows only its year.
pub fn birth_date(s: &str) -> String {
    match s.get(..4) {
        Some(y) => format!("{y}-**-**"),
        None => "****".into(),
    }
}

/// Applies `f` unless `show` is true.
pub fn maybe(value: Option<&str>, show: bool, f: fn(&str) -> String) -> Option<String> {
    value.map(|v| if show { v.to_string() } else { f(v) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_keep_only_what_identifies_nobody() {
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(name("李"), "李*");
        assert_eq!(name("John Smith"), "J*** S****");
        assert_eq!(phone("+8613812345678"), "+86138****5678");
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(id_number("110101199003071234"), "110***********1234");
        assert_eq!(email("zhang.san@example.com"), "z********@example.com");
        assert_eq!(birth_date("1990-03-07"), "1990-**-**");
        assert_eq!(phone("123"), "***");
        assert_eq!(
            maybe(Some("13812345678"), true, phone).as_deref(),
            Some("13812345678")
        );
        assert_eq!(maybe(None, false, phone), None);
    }
}
