//! An SMTP server for tests: plaintext, no authentication, records every
//! message it accepts.

use std::collections::HashSet;
use std::io;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::{lock, mime};

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`) the sink accepted.
    pub to: Vec<String>,
    /// The message as sent after `DATA`, dot-unstuffed, CRLF line ends,
    /// without the final `.` line.
    pub data: String,
}

impl ReceivedMail {
    /// The unfolded raw value of the first header called `name` (any case),
    /// still RFC 2047 encoded.
    pub fn header(&self, name: &str) -> Option<String> {
        mime::header(mime::split(&self.data).0, name)
    }

    /// The `Subject`, with RFC 2047 encoded words decoded.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject").map(|s| mime::decode_words(&s))
    }

    /// The body of a single-part message, decoded from base64 or
    /// quoted-printable, with `\n` line ends.
    pub fn text_body(&self) -> String {
        let encoding = self.header("Content-Transfer-Encoding");
        mime::decode_body(encoding.as_deref(), mime::split(&self.data).1)
    }
}

#[derive(Default)]
struct SmtpState {
    messages: Vec<ReceivedMail>,
    rejected_recipients: HashSet<String>,
    failing_mail_commands: u32,
}

/// An SMTP server on 127.0.0.1 that accepts everything unless told
/// otherwise; stops when dropped.
///
/// Offers `8BITMIME` and `SMTPUTF8`, not `STARTTLS` and not `AUTH`.
pub struct SmtpSink {
    port: u16,
    state: Arc<Mutex<SmtpState>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl SmtpSink {
    /// Starts the sink on a free port of 127.0.0.1.
    ///
    /// # Panics
    ///
    /// If no port can be bound; use [`SmtpSink::try_start`] to handle that.
    #[allow(clippy::expect_used)] // test support: a sink that cannot start is a broken test machine
    pub async fn start() -> SmtpSink {
        SmtpSink::try_start()
            .await
            .expect("the SMTP sink binds a port on 127.0.0.1")
    }

    /// Starts the sink on a free port of 127.0.0.1.
    pub async fn try_start() -> io::Result<SmtpSink> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(SmtpState::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts the sessions.
            let mut sessions = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                sessions.spawn(session(stream, Arc::clone(&shared)));
                while sessions.try_join_next().is_some() {}
            }
        });
        Ok(SmtpSink { port, state, task })
    }

    /// The port the sink listens on (host 127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.state).messages.clone()
    }

    /// Answers `550` (permanent) to `RCPT TO` for this address (any case).
    pub fn reject_recipient(&self, addr: &str) {
        lock(&self.state)
            .rejected_recipients
            .insert(addr.trim().to_ascii_lowercase());
    }

    /// Answers `451` (transient) to the next `n` `MAIL FROM` commands.
    pub fn fail_next(&self, n: u32) {
        lock(&self.state).failing_mail_commands = n;
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address inside `FROM:<addr> PARAMS` or `TO:<addr>`.
fn path_argument(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => inner.split('>').next().unwrap_or(""),
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    Some(path.to_owned())
}

async fn reply(out: &mut OwnedWriteHalf, text: &str) -> io::Result<()> {
    out.write_all(text.as_bytes()).await?;
    out.flush().await
}

async fn session(stream: TcpStream, state: Arc<Mutex<SmtpState>>) -> io::Result<()> {
    let (read, mut out) = stream.into_split();
    let mut input = BufReader::new(read);
    reply(&mut out, "220 127.0.0.1 rapport SMTP sink ready\r\n").await?;

    let mut from: Option<String> = None;
    let mut recipients: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                reply(
                    &mut out,
                    "250-127.0.0.1 rapport SMTP sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                )
                .await?
            }
            "HELO" => reply(&mut out, "250 127.0.0.1 rapport SMTP sink\r\n").await?,
            "MAIL" => {
                let failing = {
                    let mut state = lock(&state);
                    let failing = state.failing_mail_commands > 0;
                    state.failing_mail_commands = state.failing_mail_commands.saturating_sub(1);
                    failing
                };
                if failing {
                    reply(&mut out, "451 4.3.0 Try again later\r\n").await?;
                } else if let Some(sender) = path_argument(arg, "FROM:") {
                    from = Some(sender);
                    recipients.clear();
                    reply(&mut out, "250 2.1.0 OK\r\n").await?;
                } else {
                    reply(&mut out, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n").await?;
                }
            }
            "RCPT" => match (&from, path_argument(arg, "TO:")) {
                (None, _) => reply(&mut out, "503 5.5.1 MAIL first\r\n").await?,
                (Some(_), None) => {
                    reply(&mut out, "501 5.5.4 Syntax: RCPT TO:<address>\r\n").await?
                }
                (Some(_), Some(rcpt)) => {
                    let rejected = lock(&state)
                        .rejected_recipients
                        .contains(&rcpt.to_ascii_lowercase());
                    if rejected {
                        let text = format!("550 5.1.1 <{rcpt}>: Recipient address rejected\r\n");
                        reply(&mut out, &text).await?;
                    } else {
                        recipients.push(rcpt);
                        reply(&mut out, "250 2.1.5 OK\r\n").await?;
                    }
                }
            },
            "DATA" => {
                let Some(sender) = from.take().filter(|_| !recipients.is_empty()) else {
                    reply(&mut out, "503 5.5.1 RCPT first\r\n").await?;
                    continue;
                };
                reply(&mut out, "354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let Some(data) = read_data(&mut input).await? else {
                    return Ok(());
                };
                let queued = {
                    let mut state = lock(&state);
                    state.messages.push(ReceivedMail {
                        from: sender,
                        to: std::mem::take(&mut recipients),
                        data,
                    });
                    state.messages.len()
                };
                reply(
                    &mut out,
                    &format!("250 2.0.0 OK queued as sink-{queued}\r\n"),
                )
                .await?;
            }
            "RSET" => {
                from = None;
                recipients.clear();
                reply(&mut out, "250 2.0.0 OK\r\n").await?;
            }
            "NOOP" => reply(&mut out, "250 2.0.0 OK\r\n").await?,
            "QUIT" => {
                reply(&mut out, "221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => reply(&mut out, "502 5.5.2 Command not implemented\r\n").await?,
        }
    }
}

/// Reads the message after `354` up to the `.` line; `None` if the client
/// hung up first.
async fn read_data(
    input: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> io::Result<Option<String>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).await? == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(String::from_utf8_lossy(&data).into_owned()));
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_arguments_are_read_with_or_without_brackets_and_parameters() {
        assert_eq!(
            path_argument("FROM:<a@b.c> BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@b.c")
        );
        assert_eq!(path_argument("to: x@y", "TO:").as_deref(), Some("x@y"));
        assert_eq!(path_argument("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_argument("X", "TO:"), None);
    }
}
