//! The key that opens the grader's brake: only the grader may hold a query or see one held.
//!
//! The race brake (the private `hold` module) tells when the grader is replaying a race. If
//! an exercise could see it (by asking its own `/__workbook/stats` over loopback), it could
//! behave only while a race is being checked. So the brake answers only requests that carry
//! the key the grader handed to this process, and to nobody else: the grader writes it on the
//! service's standard input, and [`crate::run`] reads it before any exercise code runs. It is
//! never in the environment, a file or an argument, where exercise code could read it; it is
//! kept in a private static no exercise code can name. Without the key, the brake's paths are
//! `404` and `/__workbook/stats` shows no query held, as in ordinary use.
//!
//! A service started by hand (standard input a terminal, or nothing) has no key: its brake is
//! open to whoever asks, as before.

use std::io::{BufRead, IsTerminal};
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::HeaderMap;

/// The header the grader sends the key in.
pub use crate::stats::GRADER_KEY_HEADER as HEADER;

static KEY: OnceLock<Option<String>> = OnceLock::new();

/// How long start-up waits for the key on a standard input that is not a terminal (a pipe
/// nobody writes to must not stop the service from starting).
const WAIT_FOR_KEY: Duration = Duration::from_secs(2);

/// Reads the key from standard input, once, before any exercise code runs: the first line,
/// when standard input is not a terminal. An empty line, none, or none within
/// [`WAIT_FOR_KEY`] leaves the brake open.
pub fn read_from_stdin() {
    KEY.get_or_init(|| {
        if std::io::stdin().is_terminal() {
            return None;
        }
        let (sent, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            let _ = sent.send(line);
        });
        let line = received.recv_timeout(WAIT_FOR_KEY).ok()?;
        let key = line.trim();
        (!key.is_empty()).then(|| key.to_owned())
    });
}

/// Whether a request with `headers` may use the brake: it carries the key, or there is none.
pub fn admits(headers: &HeaderMap) -> bool {
    match KEY.get().and_then(Option::as_deref) {
        None => true,
        Some(key) => headers.get(HEADER).is_some_and(|sent| sent.as_bytes() == key.as_bytes()),
    }
}

#[cfg(test)]
pub fn set_for_tests(key: &str) {
    let _ = KEY.set(Some(key.to_owned()));
}
