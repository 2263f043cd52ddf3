//! Just enough MIME decoding to read back what lettre wrote: header lookup
//! with unfolding, RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`),
//! and base64 / quoted-printable bodies. Assumes UTF-8 throughout.

use base64::Engine;

/// Splits a message into its header block and its body.
pub(crate) fn split(data: &str) -> (&str, &str) {
    if let Some(at) = data.find("\r\n\r\n") {
        (&data[..at], &data[at + 4..])
    } else if let Some(at) = data.find("\n\n") {
        (&data[..at], &data[at + 2..])
    } else {
        (data, "")
    }
}

/// The unfolded raw value of the first header called `name` (any case).
pub(crate) fn header(headers: &str, name: &str) -> Option<String> {
    let mut found: Option<String> = None;
    for line in headers.split('\n') {
        let line = line.trim_end_matches('\r');
        let continues = line.starts_with([' ', '\t']);
        match (&mut found, continues) {
            (Some(value), true) => value.push_str(line),
            (Some(_), false) => break,
            (None, false) => {
                if let Some((n, v)) = line.split_once(':') {
                    if n.trim().eq_ignore_ascii_case(name) {
                        found = Some(v.trim_start().to_owned());
                    }
                }
            }
            (None, true) => {}
        }
    }
    found.map(|v| v.trim().to_owned())
}

/// Decodes RFC 2047 encoded words; whitespace between two encoded words is
/// dropped, as the RFC says.
pub(crate) fn decode_words(value: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let (before, candidate) = rest.split_at(start);
        match encoded_word(candidate) {
            Some((bytes, used)) => {
                if !(after_word && before.chars().all(char::is_whitespace)) {
                    out.extend_from_slice(before.as_bytes());
                }
                out.extend_from_slice(&bytes);
                rest = &candidate[used..];
                after_word = true;
            }
            None => {
                out.extend_from_slice(before.as_bytes());
                out.extend_from_slice(b"=?");
                rest = &candidate[2..];
                after_word = false;
            }
        }
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes `=?charset?B|Q?text?=` at the start of `s`: the bytes and the
/// length consumed.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let text = &inner[..end];
    if text.contains(char::is_whitespace) {
        return None;
    }
    let bytes = if encoding.eq_ignore_ascii_case("b") {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?
    } else if encoding.eq_ignore_ascii_case("q") {
        quoted_printable(&text.replace('_', " "))
    } else {
        return None;
    };
    let used = s.len() - inner.len() + end + 2;
    Some((bytes, used))
}

/// Decodes a body by its `Content-Transfer-Encoding`.
pub(crate) fn decode_body(transfer_encoding: Option<&str>, body: &str) -> String {
    let encoding = transfer_encoding
        .unwrap_or("7bit")
        .trim()
        .to_ascii_lowercase();
    let bytes = match encoding.as_str() {
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_else(|_| body.as_bytes().to_vec())
        }
        "quoted-printable" => quoted_printable(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

/// Quoted-printable: `=XX` is a byte, `=` at the end of a line joins lines.
fn quoted_printable(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let next = &bytes[i + 1..];
        if next.starts_with(b"\r\n") {
            i += 3;
        } else if next.starts_with(b"\n") {
            i += 2;
        } else if let Some(byte) = next
            .get(..2)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(b'=');
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjacent_encoded_words_join_even_across_a_split_character() {
        // "你好" is E4 BD A0 E5 A5 BD; split after the first byte of 好.
        let value = "=?utf-8?b?5L2g5Q==?=\r\n =?utf-8?b?pb0=?= world";
        assert_eq!(decode_words(value), "你好 world");
    }

    #[test]
    fn q_encoding_and_plain_text_decode() {
        assert_eq!(
            decode_words("=?UTF-8?Q?caf=C3=A9_au_lait?="),
            "café au lait"
        );
        assert_eq!(decode_words("plain =? not a word"), "plain =? not a word");
    }

    #[test]
    fn folded_headers_unfold() {
        let headers = "From: a@b\r\nSubject: one\r\n two\r\nTo: c@d";
        assert_eq!(header(headers, "subject").as_deref(), Some("one two"));
        assert_eq!(header(headers, "to").as_deref(), Some("c@d"));
        assert_eq!(header(headers, "cc"), None);
    }

    #[test]
    fn quoted_printable_bodies_decode() {
        assert_eq!(
            decode_body(Some("quoted-printable"), "=E4=BD=A0=\r\n=E5=A5=BD\r\nok"),
            "你好\nok"
        );
        assert_eq!(decode_body(Some("base64"), "5L2g5aW9\r\n"), "你好");
        assert_eq!(decode_body(None, "plain"), "plain");
    }
}
