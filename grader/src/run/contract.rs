//! The contract between the grader and an exercise: the environment a service is started with.
//!
//! Values that a lazy solution might hard-code (Redis port and database, key prefix, timeouts)
//! are drawn from the run's seed, so only code that reads its configuration passes.

use workbook::seed::SplitMix64;

/// The settings of one grading run, derived from its seed.
#[derive(Debug, Clone)]
pub struct Contract {
    pub seed: u64,
    pub redis_db: u8,
    pub key_prefix: String,
    pub key_version: u32,
    /// `CACHE_DEFAULT_TIMEOUT`, in seconds.
    pub default_timeout: u64,
    /// `SESSION_TTL`, in seconds.
    pub session_ttl: u64,
    /// `WORKBOOK_TASKS`.
    pub tasks: usize,
    /// `WORKBOOK_QUERY_DELAY_MS`: every query is this slow. Set per exercise from
    /// the criteria registry (`ExerciseSpec::query_delay_ms`).
    pub query_delay_ms: u64,
}

impl Contract {
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        Self {
            seed,
            redis_db: rng.between(1, 15) as u8,
            key_prefix: format!("wb{:06x}", rng.next_u64() & 0xff_ffff),
            key_version: rng.between(2, 9) as u32,
            default_timeout: rng.between(400, 900),
            session_ttl: rng.between(1200, 7200),
            tasks: 200,
            query_delay_ms: 0,
        }
    }

    /// `prefix:version:key`, the full Redis key of a cache key.
    pub fn full_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.key_prefix, self.key_version, key)
    }

    /// The pattern of every key under the prefix, e.g. for `SCAN`: the service's keys.
    pub fn key_pattern(&self) -> String {
        format!("{}:*", self.key_prefix)
    }

    /// The environment of a service: nothing is inherited but `PATH`, and nothing is set that
    /// a service run by hand as the book says would lack (not even `RUST_LOG`: the workbook
    /// logs at `info` by default).
    pub fn environment(
        &self,
        redis_base_url: &str,
        port: u16,
        database_url: &str,
    ) -> Vec<(String, String)> {
        [
            ("WORKBOOK_BIND", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", database_url.to_owned()),
            ("WORKBOOK_SEED", self.seed.to_string()),
            ("WORKBOOK_TASKS", self.tasks.to_string()),
            ("WORKBOOK_QUERY_DELAY_MS", self.query_delay_ms.to_string()),
            ("REDIS_URL", format!("{redis_base_url}/{}", self.redis_db)),
            ("CACHE_KEY_PREFIX", self.key_prefix.clone()),
            ("CACHE_KEY_VERSION", self.key_version.to_string()),
            ("CACHE_DEFAULT_TIMEOUT", self.default_timeout.to_string()),
            ("SESSION_TTL", self.session_ttl.to_string()),
            ("PATH", std::env::var("PATH").unwrap_or_default()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_settings() {
        let (a, b) = (Contract::from_seed(42), Contract::from_seed(42));
        assert_eq!(
            (a.key_prefix, a.redis_db, a.session_ttl),
            (b.key_prefix, b.redis_db, b.session_ttl)
        );
    }

    #[test]
    fn settings_avoid_the_usual_defaults() {
        for seed in 0..200 {
            let contract = Contract::from_seed(seed);
            assert_ne!(contract.redis_db, 0, "database 0 is everybody's default");
            assert_ne!(contract.key_version, 1, "version 1 is the default");
            assert_ne!(contract.default_timeout, 300, "300 s is Django's default");
        }
    }
}
