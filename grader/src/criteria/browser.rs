//! What a check's requests look like: a browser's, not a grader's. Every request of a run
//! carries the headers of one of a few real browsers, drawn from the run's seed, so that no
//! header tells a service that the grader is asking (a request without `User-Agent` would).

use reqwest::header::{ACCEPT, ACCEPT_LANGUAGE, HeaderMap, HeaderValue, USER_AGENT};
use workbook::seed::SplitMix64;

/// Browsers as they announce themselves (current releases' strings).
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) \
     Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
     Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
];

/// What browsers accept for a page.
const ACCEPTS: &[&str] = &[
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
];

const LANGUAGES: &[&str] = &["en-GB,en;q=0.9", "en-US,en;q=0.5", "fr-FR,fr;q=0.8,en;q=0.5"];

/// The headers of the run with `seed`: one browser's, the same for every request of the run.
pub fn headers(seed: u64) -> HeaderMap {
    let mut draw = SplitMix64::new(seed ^ 0x6272_6f77);
    let mut headers = HeaderMap::new();
    let choices: [(_, &[&'static str]); 3] =
        [(USER_AGENT, USER_AGENTS), (ACCEPT, ACCEPTS), (ACCEPT_LANGUAGE, LANGUAGES)];
    for (name, values) in choices {
        let value: &&'static str = draw.pick(values);
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
}

/// An HTTP client that sends [`headers`], follows no redirect (a check looks at each answer)
/// and gives up on an answer after `timeout`.
pub fn client(seed: u64, timeout: std::time::Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(headers(seed))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a plain HTTP client builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_looks_like_one_browser_and_runs_differ() {
        assert_eq!(headers(7), headers(7), "one run, one browser");
        let browsers: std::collections::BTreeSet<String> =
            (0..40).map(|seed| headers(seed)[USER_AGENT].to_str().unwrap().to_owned()).collect();
        assert!(browsers.len() > 2, "{browsers:?}");
        assert!(browsers.iter().all(|agent| agent.starts_with("Mozilla/5.0")));
    }
}
