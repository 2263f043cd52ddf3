//! Test doubles that listen on 127.0.0.1 (feature `testkit`): an SMTP sink
//! and a gateway sink, for tests of this crate and end-to-end tests of the
//! dispatcher.
//!
//! Both bind port 0, record what they receive, have knobs to fail or reject,
//! and stop when dropped. Must never be used outside tests: no TLS, no
//! authentication, everything kept in memory.

mod gateway_sink;
mod mime;
mod smtp_sink;

use std::sync::{Mutex, MutexGuard};

pub use gateway_sink::{GatewayRequest, GatewaySink, SINK_TOLERANCE_SECS};
pub use smtp_sink::{ReceivedMail, SmtpSink};

/// Locks a sink's state; a panic in another test thread does not make the
/// recorded data unreadable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
