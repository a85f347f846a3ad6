//! What the grader hands this process and nobody else: the key that opens the race brake, and
//! how slow the database is to be.
//!
//! Both would tell an exercise when it is being checked. The race brake (the private `hold`
//! module) shows when the grader replays a race; a slow database shows when it compares a hit
//! with a miss. If an exercise could see either (its own `/__workbook/stats` over loopback, an
//! environment variable), it could behave only then. So the grader writes them on the
//! service's standard input, and [`crate::run`] reads them before any exercise code runs: never
//! in the environment, a file or an argument, and kept in private statics no exercise code can
//! name.
//!
//! The input is a few lines: the key first, then settings as `name=value`
//! (`query_delay_ms=100`). Without the key, the brake's paths are `404` and
//! `/__workbook/stats` shows no query held, as in ordinary use.
//!
//! A service started by hand (standard input a terminal, or nothing) has no key: its brake is
//! open to whoever asks, and `WORKBOOK_QUERY_DELAY_MS` slows its database as before.

use std::io::{IsTerminal, Read};
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::HeaderMap;

/// The header the grader sends the key in.
pub use crate::stats::GRADER_KEY_HEADER as HEADER;

/// How long start-up waits for the input on a standard input that is not a terminal (a pipe
/// nobody writes to must not stop the service from starting).
const WAIT_FOR_INPUT: Duration = Duration::from_secs(2);

/// The most of standard input read: a key and a setting or two.
const MAX_INPUT_BYTES: u64 = 4096;

/// What the grader handed over.
#[derive(Debug, Default, PartialEq, Eq)]
struct Handed {
    key: Option<String>,
    query_delay: Duration,
}

static HANDED: OnceLock<Handed> = OnceLock::new();

/// Reads what the grader hands over from standard input, once, before any exercise code runs:
/// only when standard input is not a terminal, and for [`WAIT_FOR_INPUT`] at most.
pub fn read_from_stdin() {
    HANDED.get_or_init(|| {
        if std::io::stdin().is_terminal() {
            return Handed::default();
        }
        let (sent, received) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::stdin().lock().take(MAX_INPUT_BYTES).read_to_string(&mut text);
            let _ = sent.send(text);
        });
        received.recv_timeout(WAIT_FOR_INPUT).map(|text| parse(&text)).unwrap_or_default()
    });
}

/// The key on the first line, then `name=value` settings; what is not understood is ignored.
fn parse(text: &str) -> Handed {
    let mut lines = text.lines().map(str::trim);
    let key = lines.next().filter(|key| !key.is_empty()).map(str::to_owned);
    let mut handed = Handed { key, ..Handed::default() };
    for line in lines {
        if let Some(ms) = line.strip_prefix("query_delay_ms=").and_then(|ms| ms.parse().ok()) {
            handed.query_delay = Duration::from_millis(ms);
        }
    }
    handed
}

/// Whether a request with `headers` may use the brake: it carries the key, or there is none.
pub fn admits(headers: &HeaderMap) -> bool {
    match HANDED.get().and_then(|handed| handed.key.as_deref()) {
        None => true,
        Some(key) => headers.get(HEADER).is_some_and(|sent| sent.as_bytes() == key.as_bytes()),
    }
}

/// The pause the grader asked for before every query (zero when it asked for none).
pub fn query_delay() -> Duration {
    HANDED.get().map_or(Duration::ZERO, |handed| handed.query_delay)
}

#[cfg(test)]
pub fn set_for_tests(key: &str) {
    let _ = HANDED.set(Handed { key: Some(key.to_owned()), query_delay: Duration::ZERO });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_first_and_settings_follow() {
        let handed = parse("s3cret\nquery_delay_ms=100\nsomething=else\n");
        assert_eq!(handed.key.as_deref(), Some("s3cret"));
        assert_eq!(handed.query_delay, Duration::from_millis(100));
        assert_eq!(parse(""), Handed::default());
        assert_eq!(parse("\n").key, None);
    }
}
