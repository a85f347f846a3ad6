//! Single-flight: at most one computation per key at a time in this process.
//!
//! When a popular entry expires, every request that arrives before it is stored again would
//! compute it. A [`Flights`] table hands out one lock per key: the first caller computes, the
//! others wait for it and then find the value in the cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

// ANCHOR: todo_flights
/// One async lock per key that is being computed right now.
#[derive(Clone, Default)]
pub struct Flights {
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Held while computing a key; dropping it lets the next caller in.
pub struct Flight {
    guard: Option<OwnedMutexGuard<()>>,
    key: String,
    flights: Flights,
}

impl Flights {
    // ANCHOR: join
    /// Waits until no other task of this process is computing `key`, then claims it.
    pub async fn join(&self, key: &str) -> Flight {
        let lock = {
            let mut locks = self.locks.lock().expect("the flights table is never poisoned");
            locks.entry(key.to_owned()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        Flight { guard: Some(guard), key: key.to_owned(), flights: self.clone() }
    }
    // ANCHOR_END: join
}

impl Drop for Flight {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self.flights.locks.lock().expect("the flights table is never poisoned");
        // Forget the lock when nobody else holds or waits for it, so the table stays small.
        if locks.get(&self.key).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            locks.remove(&self.key);
        }
    }
}
// ANCHOR_END: todo_flights
